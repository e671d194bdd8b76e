package cookienormalizer

// This file is one Set-Cookie field value: the one-pass scanner that
// records where every attribute stands, and the rebuild that applies a list
// of edits to those spans. Expiry and attribute policies both read the
// scan; only the rebuild allocates, and only the result.
//
// A value is handled as bytes, split on ';' exactly as browsers split it
// (RFC 6265bis §5.6): never on ',' (Expires holds one), never unquoted or
// re-serialised, so the name=value pair and every attribute no policy
// touches keep their exact bytes.

// Limits browsers apply while parsing a Set-Cookie value (RFC 6265bis §5.6,
// and what Chromium, Firefox and WebKit do).
const (
	// maxValueLen bounds the whole field we scan. Browsers cap a cookie's
	// name plus value at 4096 bytes and each attribute value at 1024, so a
	// longer field is not one they store as sent; the bound also keeps the
	// work per response linear and small.
	maxValueLen = 8 << 10

	// maxNameValueLen: a cookie whose name plus value is longer is ignored
	// entirely (RFC 6265bis §5.6 step 5).
	maxNameValueLen = 4096

	// maxAttrValueLen: an attribute whose value is longer is ignored (RFC
	// 6265bis §5.6, "cookie-av" processing step 6).
	maxAttrValueLen = 1024
)

// attrKind is what an attribute is, by its name (compared without regard
// to case, RFC 6265bis §5.6): classified once, while scanning.
type attrKind uint8

const (
	attrOther attrKind = iota
	attrMaxAge
	attrExpires
	attrSecure
	attrHTTPOnly
	attrPartitioned
	attrSameSite
	attrPath
	attrDomain
)

// kindMask is a set of attribute kinds: what a caller of scan needs
// recorded. Other attributes are never touched, so rebuild copies them as
// part of the bytes between the recorded ones.
type kindMask uint16

// The sets of kinds the policies read.
const (
	lifetimeKinds  kindMask = 1<<attrMaxAge | 1<<attrExpires
	attributeKinds kindMask = 1<<attrSecure | 1<<attrHTTPOnly | 1<<attrPartitioned | 1<<attrSameSite | 1<<attrPath | 1<<attrDomain
)

// kindOf classifies a trimmed attribute name among the kinds in want: the
// first letter and the length pick the one candidate to compare, so an
// attribute of no interest costs a switch, and a candidate not wanted no
// comparison.
func kindOf(name string, wanted kindMask) attrKind {
	if len(name) < 4 || len(name) > 11 {
		return attrOther
	}
	var cand string
	var kind attrKind
	switch name[0] | 0x20 { // ASCII lower case
	case 'm':
		cand, kind = "max-age", attrMaxAge
	case 'e':
		cand, kind = "expires", attrExpires
	case 'h':
		cand, kind = "httponly", attrHTTPOnly
	case 'd':
		cand, kind = "domain", attrDomain
	case 's':
		cand, kind = "secure", attrSecure
		if len(name) == 8 {
			cand, kind = "samesite", attrSameSite
		}
	case 'p':
		cand, kind = "path", attrPath
		if len(name) == 11 {
			cand, kind = "partitioned", attrPartitioned
		}
	default:
		return attrOther
	}
	if wanted&(1<<kind) != 0 && isAttr(name, cand) {
		return kind
	}
	return attrOther
}

// attr is one attribute of a scanned field. v[start:end] is its segment,
// including the ';' before it, so that removing the span removes the
// separator too; v[valStart:valEnd] is its value, trimmed. It holds
// offsets, not strings: with no pointer in it, scanning and copying
// attributes costs the garbage collector nothing.
type attr struct {
	start, end       int32
	valStart, valEnd int32
	kind             attrKind

	// Set by a policy: rebuild leaves the attribute out (drop), or writes
	// the policy's attribute of the same kind in its place (replace).
	drop, replace bool
}

// oversized reports whether browsers ignore the attribute for its length.
func (a *attr) oversized() bool { return a.valEnd-a.valStart > maxAttrValueLen }

// value returns the attribute's trimmed value in f.
func (f *setCookie) value(a *attr) string { return f.v[a.valStart:a.valEnd] }

// setCookie is one scanned Set-Cookie field value.
type setCookie struct {
	v    string
	name string // trimmed; "" when the value is not a cookie

	// rejected is true when browsers would not store the cookie at all: a
	// control byte other than HTAB (RFC 6265bis §5.6 step 1), a name plus
	// value over maxNameValueLen, or a field over maxValueLen (then not even
	// scanned). Such a value passes unchanged and never leads a like group.
	rejected bool

	// The attributes, in order: buf[:n] for the usual handful, without
	// allocating, or all of them in more past len(buf). (A slice of buf
	// kept in the struct would point into the struct itself and move every
	// setCookie to the heap.)
	n    int
	buf  [12]attr
	more []attr

	// tailBuf holds what policies append to one field; kept here, it is
	// zeroed once per response, not once per field.
	tailBuf [128]byte
}

// attrs returns the attributes of the field, in order.
func (f *setCookie) attrs() []attr {
	if f.more != nil {
		return f.more
	}
	return f.buf[:f.n]
}

// addAttr appends a to the attributes; it allocates only past len(buf).
func (f *setCookie) addAttr(a attr) {
	switch {
	case f.more == nil && f.n < len(f.buf):
		f.buf[f.n] = a
		f.n++
	case f.more == nil:
		f.more = append(append(make([]attr, 0, 2*len(f.buf)), f.buf[:]...), a)
	default:
		f.more = append(f.more, a)
	}
}

// scan parses v into f, recording the attributes of the kinds in want, and
// reports whether v is a cookie at all: a name before the first '=' of the
// name=value pair. (RFC 6265bis accepts
// nameless cookies; we leave them alone, since no pattern can name them.)
func (f *setCookie) scan(v string, want kindMask) bool {
	f.v, f.name, f.rejected, f.n, f.more = v, "", false, 0, nil
	if len(v) > maxValueLen {
		f.name, _ = cookieName(v)
		f.rejected = true
		return f.name != ""
	}
	// Each byte is read once: the pair here, the attributes below, looking
	// for control bytes on the way. Attributes are short, and
	// strings.IndexByte costs more in setup than it saves; a table makes
	// an ordinary byte cost one load and one test.
	eq, pos := -1, 0
	for ; pos < len(v); pos++ {
		if k := byteClass[v[pos]]; k != 0 {
			if k == classSemicolon {
				break
			}
			if k == classEquals {
				if eq < 0 {
					eq = pos
				}
			} else {
				f.rejected = true
			}
		}
	}
	if eq < 0 {
		return false
	}
	f.name = trimSpace(v[:eq])
	if f.name == "" {
		return false
	}
	if len(f.name)+len(trimSpace(v[eq+1:pos])) > maxNameValueLen {
		f.rejected = true
	}
	for pos < len(v) {
		end, aeq := len(v), -1
		for i := pos + 1; i < len(v); i++ {
			if k := byteClass[v[i]]; k != 0 {
				if k == classSemicolon {
					end = i
					break
				}
				if k == classEquals {
					if aeq < 0 {
						aeq = i
					}
				} else {
					f.rejected = true
				}
			}
		}
		a := attr{start: int32(pos), end: int32(end), valStart: int32(end), valEnd: int32(end)}
		nameEnd := end
		if aeq >= 0 {
			nameEnd = aeq
		}
		a.kind = kindOf(trimSpace(v[pos+1:nameEnd]), want)
		if want&(1<<a.kind) == 0 {
			pos = end
			continue
		}
		if aeq >= 0 {
			vs, ve := aeq+1, end
			for vs < ve && (v[vs] == ' ' || v[vs] == '\t') {
				vs++
			}
			for ve > vs && (v[ve-1] == ' ' || v[ve-1] == '\t') {
				ve--
			}
			a.valStart, a.valEnd = int32(vs), int32(ve)
		}
		f.addAttr(a)
		pos = end
	}
	return true
}

// cookieName returns the trimmed name of a Set-Cookie value, and false when
// the value is not a cookie: no '=' before the first ';', or an empty name.
// It is all the rewrite reads of a value no group matches.
func cookieName(v string) (string, bool) {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '=':
			name := trimSpace(v[:i])
			return name, name != ""
		case ';':
			return "", false
		}
	}
	return "", false
}

// byteClass sorts the bytes scan stops at: ';', '=' and the control bytes
// browsers reject (see isControl); every other byte is 0.
var byteClass = func() (t [256]uint8) {
	for c := range 256 {
		if isControl(byte(c)) {
			t[c] = classControl
		}
	}
	t[';'], t['='] = classSemicolon, classEquals
	return t
}()

// The byte classes of byteClass.
const (
	classSemicolon = 1 + iota
	classEquals
	classControl
)

// isControl reports whether c is a control byte other than HTAB; browsers
// reject cookies holding one (RFC 6265bis §5.6 step 1), so we pass such
// values through rather than guess.
func isControl(c byte) bool {
	return (c < 0x20 && c != '\t') || c == 0x7f
}

// trimSpace trims spaces and tabs. A loop, not strings.Trim with a cutset,
// which builds its set on every call.
func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isAttr reports whether the attribute name equals want, a lower-case
// ASCII name, ignoring case. The length check first makes the common
// mismatch (Path, Secure, SameSite) cost one comparison.
func isAttr(name, want string) bool {
	if len(name) != len(want) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// rebuild returns f.v without the attributes marked drop, with p's
// attribute of the same kind in place of those marked replace, and with
// tail
// appended (after trailing ';' and spaces, so that the appended attributes
// follow one "; "). When the result equals f.v, f.v itself is returned and
// nothing is allocated; otherwise the one allocation is the result.
func (f *setCookie) rebuild(tail []byte, p *attrPolicy) string {
	// Most cookies fit in this stack buffer.
	var stack [256]byte
	buf := stack[:0]
	v := f.v
	from := 0
	attrs := f.attrs()
	for i := range attrs {
		if a := &attrs[i]; a.drop || a.replace {
			buf = append(buf, v[from:a.start]...)
			if !a.drop {
				buf = append(buf, p.replacement(a.kind)...)
			}
			from = int(a.end)
		}
	}
	if from == 0 && len(tail) == 0 {
		return v
	}
	buf = append(buf, v[from:]...)
	if len(tail) > 0 {
		// Drop trailing whitespace and empty attributes ("a=1; Path=/;"),
		// so that a second rewrite finds exactly what the first one wrote
		// (idempotence).
		for len(buf) > 0 && (buf[len(buf)-1] == ' ' || buf[len(buf)-1] == '\t' || buf[len(buf)-1] == ';') {
			buf = buf[:len(buf)-1]
		}
		buf = append(buf, tail...)
	}
	if string(buf) == v { // compiles to a comparison, no allocation
		return v
	}
	return string(buf)
}
