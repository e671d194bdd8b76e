package cookienormalizer

import (
	"math/bits"
	"strings"
)

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
	// maxValueLen bounds the whole field we scan: a longer one passes
	// unchanged, which keeps the work per response linear and small.
	// Browsers cap a cookie's name plus value at 4096 bytes and each
	// attribute value at 1024, but not the whole field: Chromium 156,
	// Firefox 153 and WebKitGTK 2.50 all store an 8,300-byte field of
	// short attributes (measured by hand).
	// Leaving such a field alone is safe, and no app sets a cookie with
	// eight kilobytes of attributes.
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
// recorded, or only noted as present. Other attributes are never touched,
// so rebuild copies them as part of the bytes between the recorded ones.
type kindMask uint16

// The sets of kinds the policies read.
const (
	lifetimeKinds  kindMask = 1<<attrMaxAge | 1<<attrExpires
	attributeKinds kindMask = 1<<attrSecure | 1<<attrHTTPOnly | 1<<attrPartitioned | 1<<attrSameSite | 1<<attrPath | 1<<attrDomain
)

// kindOf classifies the attribute name v[start:end] (trimmed) among the
// kinds in wanted: the first letter and the length pick the one candidate
// to compare, so an attribute of no interest costs a switch, and a
// candidate not wanted no comparison.
func kindOf(v string, start, end int, wanted kindMask) attrKind {
	n := end - start
	if n < 4 || n > 11 {
		return attrOther
	}
	var kind attrKind
	switch v[start] | 0x20 { // ASCII lower case
	case 'm':
		kind = attrMaxAge
	case 'e':
		kind = attrExpires
	case 'h':
		kind = attrHTTPOnly
	case 'd':
		kind = attrDomain
	case 's':
		kind = attrSecure
		if n == 8 {
			kind = attrSameSite
		}
	case 'p':
		kind = attrPath
		if n == 11 {
			kind = attrPartitioned
		}
	default:
		return attrOther
	}
	c := &attrNames[kind]
	if wanted&(1<<kind) == 0 || n != len(c.name) {
		return attrOther
	}
	if n <= 8 && start+8 <= len(v) {
		// The name's bytes as a word, the bytes past it cleared: letters
		// match in either case (0x20 set at their positions only), '-' as
		// itself.
		if load64(v, start)&(1<<(8*n)-1)|c.fold == c.word {
			return kind
		}
		return attrOther
	}
	if isAttr(v[start:end], c.name) {
		return kind
	}
	return attrOther
}

// attrName is the name of an attribute kind, lower case, and for names of
// at most eight bytes the same as a word for kindOf: word holds the bytes,
// fold 0x20 at each letter's position.
type attrName struct {
	name       string
	word, fold uint64
}

// attrNames are the kinds' names, by kind.
var attrNames = func() (t [attrDomain + 1]attrName) {
	for k, name := range map[attrKind]string{
		attrMaxAge: "max-age", attrExpires: "expires", attrSecure: "secure", attrHTTPOnly: "httponly",
		attrPartitioned: "partitioned", attrSameSite: "samesite", attrPath: "path", attrDomain: "domain",
	} {
		t[k].name = name
		for i := 0; i < len(name) && i < 8; i++ {
			t[k].word |= uint64(name[i]) << (8 * i)
			if 'a' <= name[i] && name[i] <= 'z' {
				t[k].fold |= 0x20 << (8 * i)
			}
		}
	}
	return t
}()

// attr is one attribute of a scanned field. v[start:end] is its segment,
// including the ';' before it, so that removing the span removes the
// separator too; v[valStart:valEnd] is its value, trimmed. It holds
// offsets, not strings: with no pointer in it, scanning and copying
// attributes costs the garbage collector nothing.
type attr struct {
	start, end       uint16 // fields over maxValueLen are not scanned
	valStart, valEnd uint16
	kind             attrKind
	// eq: the attribute has a '=' (recorded for the kinds a caller asks
	// for): libsoup reads "Max-Age=" as 0 and ignores "Max-Age".
	eq bool

	// Set by a policy: rebuild leaves the attribute out (drop), or writes
	// the policy's attribute of the same kind in its place (replace).
	drop, replace bool
}

// The offsets of attr fit in 16 bits because scan reads no field longer
// than maxValueLen (this line stops compiling if that ever grows past them).
const _ = uint16(maxValueLen)

// oversized reports whether browsers ignore the attribute for its length.
func (a *attr) oversized() bool { return a.valEnd-a.valStart > maxAttrValueLen }

// value returns the attribute's trimmed value in f.
func (f *setCookie) value(a *attr) string { return f.v[a.valStart:a.valEnd] }

// setCookie is one scanned Set-Cookie field value.
type setCookie struct {
	v    string
	name string // trimmed; "" when the value is not a cookie

	// has holds the kinds scan found among those it was asked to record
	// or note, with a value browsers read (within 1024 bytes): a flag a
	// policy only adds when missing needs no span.
	has kindMask

	// rejected is true when browsers would not store the cookie at all,
	// or would not read the same attributes of it: a control byte (RFC
	// 6265bis §5.6 step 1; for HTAB, see isControl), a ',' in the cookie's
	// name or an attribute's name (libsoup stops reading the field there,
	// as at the end of a cookie, while the others read on), a name plus
	// value over maxNameValueLen, or a field over maxValueLen (then not even
	// scanned). Such a value passes unchanged and never leads a like group.
	// It is refused, or stop is before the end.
	rejected bool
	// refused: some engine does not store the cookie as sent. Chromium
	// and Firefox refuse a control byte other than HTAB (Chromium a HTAB
	// inside too: see tabInside, kept apart) and a name plus
	// value over the limit above, where WebKitGTK stores the field cut
	// short at the control byte, or whole; a ',' in the name makes
	// WebKitGTK store a nameless cookie (measured by hand in Chromium 156,
	// Firefox 153 and WebKitGTK 2.50; Caddy's reverse_proxy answers 502 to
	// an upstream response with a control byte in a header, so such
	// fields come from other handlers). Also set for a field over
	// maxValueLen, which the module does not read.
	refused bool
	// soupRefused: libsoup (WebKitGTK) refuses the cookie, where
	// Chromium and Firefox store it: the last Domain libsoup reads (it
	// keeps the last) has a value, as far as libsoup reads it (up to
	// its stop), over 1024 bytes. Chromium and Firefox ignore that
	// attribute (a host-only cookie, unless another Domain follows);
	// libsoup reads it, and a Domain that long matches no host (measured
	// in Chromium 156, Firefox 153 and WebKitGTK 2.50: docs/engines.md,
	// the dom-1100 rows). Such a field is rejected: passed unchanged.
	soupRefused bool
	// longFlags holds the kinds of the flags (Secure, HttpOnly,
	// Partitioned) written with a value over 1024 bytes, which f.has
	// leaves out: Chromium ignores such an attribute (RFC 6265bis §5.6),
	// Firefox and libsoup read the flag whatever its value (measured in
	// Chromium 156 and Firefox 153: docs/engines.md, the
	// partitioned-1100-insecure and none-secure-1100 rows). Found whatever
	// kinds the caller asks for.
	longFlags kindMask
	// stop is where libsoup 3.2 and earlier stop reading the field,
	// where the others read on (a HTAB, a byte over 0x7f, a ',' in an
	// attribute's name), else len(v).
	stop int
	// commaStop is where every release of libsoup stops: a ',' in an
	// attribute's name, else len(v). From 3.4 on, libsoup ends a name or
	// value only at a NUL, so it reads on past a HTAB or a byte over 0x7f
	// (libsoup commit aadd3ca2; measured with 3.6.5: docs/verification.md).
	commaStop int
	// soupLongDomain is soupRefused as libsoup 3.4 to 3.6.4 read the
	// field (up to commaStop): they read a Domain over 1024 bytes, which
	// then matches no host, and refuse the field. 3.6.5 and later skip
	// such an attribute (libsoup commit 75b37dfb).
	soupLongDomain bool
	// tabInside: a HTAB inside the name, the value, an attribute's name
	// or an attribute's value, past the spaces and tabs trimmed from
	// their ends. Chromium refuses such a field and keeps the cookie it
	// had; Firefox stores it; libsoup stops reading at the HTAB (see
	// stop). Measured in Chromium 156, Firefox 153 and WebKitGTK 2.50
	// (docs/engines.md, the tab-in rows).
	tabInside bool

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

// refusedForBytes reports whether Chromium and Firefox refuse the field
// for its bytes or its name plus value (see refused): not one over
// maxValueLen, which the module does not read and browsers may store.
func (f *setCookie) refusedForBytes() bool {
	return f.refused && len(f.v) <= maxValueLen
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

// scan parses v into f, recording the attributes of the kinds in record
// and noting in f.has which kinds of record and note occur, and reports
// whether v is a cookie at all: a name before the first '=' of the
// name=value pair. (RFC 6265bis accepts nameless cookies; we leave them
// alone, since no pattern can name them.)
func (f *setCookie) scan(v string, record, note kindMask) bool {
	f.v, f.name, f.rejected, f.refused, f.soupRefused, f.stop, f.tabInside, f.n, f.more, f.has, f.longFlags = v, "", false, false, false, len(v), false, 0, nil, 0, 0
	f.commaStop, f.soupLongDomain = len(v), false
	if len(v) > maxValueLen {
		f.name, _ = cookieName(v)
		f.rejected, f.refused = true, true
		return f.name != ""
	}
	if hasOddByte(v) {
		f.stop, f.refused = controlStop(v)
	}
	pos, eq := segment(v, 0)
	if eq < 0 {
		return false
	}
	f.name = trimSpace(v[:eq])
	if f.name == "" {
		return false
	}
	if strings.IndexByte(f.name, ',') >= 0 || len(f.name)+len(trimSpace(v[eq+1:pos])) > maxNameValueLen {
		f.refused = true
	}
	// A HTAB after the stop counts too (one after a byte over 0x7f).
	tabs := f.stop < len(v) && hasTab(v[f.stop:])
	if tabs {
		f.tabInside = hasTab(f.name) || hasTab(trimSpace(v[eq+1:pos]))
	}
	for pos < len(v) {
		end, aeq := segment(v, pos+1)
		a := attr{start: uint16(pos), end: uint16(end), valStart: uint16(end), valEnd: uint16(end)}
		nameEnd := end
		if aeq >= 0 {
			nameEnd = aeq
		}
		ns, ne := trimSpan(v, pos+1, nameEnd)
		if tabs && !f.tabInside {
			f.tabInside = hasTab(v[ns:ne]) || aeq >= 0 && hasTab(trimSpace(v[aeq+1:end]))
		}
		a.kind = kindOf(v, ns, ne, record|note)
		if a.kind == attrOther && f.commaStop > pos {
			// See stop; no name a policy reads has one. libsoup has read
			// the name up to the ',' (a Secure or HttpOnly there counts).
			if c := strings.IndexByte(v[ns:ne], ','); c >= 0 {
				f.commaStop = ns + c
				f.stop = min(f.stop, f.commaStop)
			}
		}
		bit := kindMask(1) << a.kind
		if aeq >= 0 && (record|note)&bit != 0 {
			vs, ve := trimSpan(v, aeq+1, end)
			a.valStart, a.valEnd, a.eq = uint16(vs), uint16(ve), true
		}
		// Browsers ignore an attribute whose value is over 1024 bytes
		// (RFC 6265bis §5.6; WebKit reads it): it counts as present only
		// within that. attrOther's bit is in no mask a caller asks for.
		if !a.oversized() {
			f.has |= bit
		}
		// The last Domain with a '=' libsoup reads (up to its stop),
		// wanted or not: see soupRefused and soupLongDomain (libsoup
		// passes over a Domain without one). Only a segment over the
		// limit is looked at, and, after one, every Domain.
		if (end-pos > maxAttrValueLen || f.soupRefused || f.soupLongDomain) && aeq >= 0 && ne <= f.commaStop && isAttr(v[ns:ne], "domain") {
			if ne <= f.stop {
				f.soupRefused = len(trimSpace(v[aeq+1:min(end, f.stop)])) > maxAttrValueLen
			}
			f.soupLongDomain = len(trimSpace(v[aeq+1:end])) > maxAttrValueLen
		}
		if end-pos > maxAttrValueLen && aeq >= 0 {
			f.longFlags |= longFlag(v[ns:ne], v[aeq+1:end])
		}
		if record&bit == 0 {
			pos = end
			continue
		}
		f.addAttr(a)
		pos = end
	}
	f.rejected = f.refused || f.soupRefused || f.stop < len(v)
	return true
}

// longFlag returns the kind's bit when name is that of a flag (Secure,
// HttpOnly, Partitioned) and its value, trimmed, is over 1024 bytes (see
// longFlags); else 0.
func longFlag(name, value string) kindMask {
	if len(trimSpace(value)) <= maxAttrValueLen {
		return 0
	}
	for _, k := range [...]attrKind{attrSecure, attrHTTPOnly, attrPartitioned} {
		if isAttr(name, attrNames[k].name) {
			return 1 << k
		}
	}
	return 0
}

// controlStop is, for a value holding an odd byte (see isOdd), where
// libsoup 3.2 stops reading it (its first HTAB or byte over 0x7f, but
// for a HTAB in the white space it skips before a name or a value: see
// soupLeads; else len(v)), and whether browsers refuse it (a control
// byte other than HTAB, RFC 6265bis §5.6 step 1). A field whose HTABs
// are all such white space is read alike by every engine (Chromium and
// Firefox trim it too: docs/engines.md, the ma0-lead-tab rows).
func controlStop(v string) (stop int, refused bool) {
	stop = len(v)
	var lead soupLeads
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch leads := lead.next(c); {
		case c == '\t' && leads:
		case c == '\t', c > 0x7f:
			stop = min(stop, i)
		case isControl(c):
			refused = true
		}
	}
	return stop, refused
}

// soupLeads follows, byte by byte, whether libsoup 3.2 is in the white
// space before a name or a value, which it skips (g_ascii_isspace: a
// space, HTAB, LF, FF or CR): at the start of the field, after each ';',
// and after the first '=' of each segment. Elsewhere a HTAB, as any byte
// below 0x20, ends its reading (see setCookie.stop).
type soupLeads struct{ inside, eq bool }

// next reports whether c, the next byte, is such leading white space.
func (l *soupLeads) next(c byte) bool {
	switch {
	case c == ';':
		l.inside, l.eq = false, false
	case c == '=' && !l.eq:
		l.inside, l.eq = false, true
	case c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r':
		return !l.inside
	default:
		l.inside = true
	}
	return false
}

// The word-at-a-time tests (SWAR) of segment and hasOddByte: eight bytes
// of a field are loaded as one little-endian word, and zeroBytes(x^(ones*c))
// flags the bytes equal to c.
const ones, highs = 0x0101010101010101, 0x8080808080808080

// zeroBytes sets the high bit of each zero byte of y. The lowest flag is
// exact; a flag above it may be false (the borrow of a zero byte), which
// is why only the lowest is ever used as a position.
func zeroBytes(y uint64) uint64 { return (y - ones) &^ y & highs }

// segment reads v from i to the end of its segment: it returns the index
// of the next ';' (or len(v)) and of the segment's first '=' (or -1). It
// reads a word at a time and jumps to the lowest flagged byte, so that a
// segment costs a couple of word tests, not a test per byte.
func segment(v string, i int) (end, eq int) {
	eq = -1
	for ; i+8 <= len(v); i += 8 {
		x := load64(v, i)
		semi := bits.TrailingZeros64(zeroBytes(x ^ (ones * ';'))) // 64: none
		if eq < 0 {
			if e := bits.TrailingZeros64(zeroBytes(x ^ (ones * '='))); e < semi {
				eq = i + e/8
			}
		}
		if semi < 64 {
			return i + semi/8, eq
		}
	}
	for ; i < len(v); i++ {
		switch v[i] {
		case ';':
			return i, eq
		case '=':
			if eq < 0 {
				eq = i
			}
		}
	}
	return len(v), eq
}

// hasOddByte reports whether v holds a control byte (see isControl) or a
// byte over 0x7f, which libsoup reads as a control byte (see isOdd). A
// word with no byte below 0x20 and none from 0x7f up is passed over
// whole; one with some is read byte by byte.
func hasOddByte(v string) bool {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		x := load64(v, i)
		if ((x-ones*0x20)&^x|x)&highs|zeroBytes(x^(ones*0x7f)) != 0 && anyOddByte(v[i:i+8]) {
			return true
		}
	}
	return anyOddByte(v[i:])
}

// anyOddByte is hasOddByte a byte at a time.
func anyOddByte(v string) bool {
	for i := 0; i < len(v); i++ {
		if isOdd(v[i]) {
			return true
		}
	}
	return false
}

// isOdd reports whether c is a control byte (see isControl) or a byte
// over 0x7f. libsoup (WebKitGTK 2.50) ends a name or value at a byte it
// compares below ' ' as a (signed) char: a control byte, and every byte
// over 0x7f, so that the attributes after one do not count there, where
// Chromium and Firefox read on (docs/engines.md, the nonascii rows).
func isOdd(c byte) bool {
	return c < 0x20 || c >= 0x7f
}

// load64 returns the eight bytes of s from i as one little-endian word
// (the compiler makes this one load).
func load64(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
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

// isControl reports whether c is a control byte, HTAB included. Browsers
// reject cookies holding one other than HTAB (RFC 6265bis §5.6 step 1;
// Chromium one inside a name or value too, see setCookie.tabInside),
// and libsoup (WebKitGTK) stops reading a field at any byte below 0x20,
// HTAB too, so that the attributes after it do not count there but do
// elsewhere: such values pass through rather than be guessed at.
func isControl(c byte) bool {
	return c < 0x20 || c == 0x7f
}

// hasTab reports whether s holds a HTAB.
func hasTab(s string) bool {
	return strings.IndexByte(s, '\t') >= 0
}

// trimSpace trims spaces and tabs. A loop, not strings.Trim with a cutset,
// which builds its set on every call.
func trimSpace(s string) string {
	start, end := trimSpan(s, 0, len(s))
	return s[start:end]
}

// trimLeftSpace returns s without its leading spaces and tabs.
func trimLeftSpace(s string) string {
	start, _ := trimSpan(s, 0, len(s))
	return s[start:]
}

// trimSpan returns the span v[start:end] without its leading and trailing
// spaces and tabs, as offsets (scan keeps offsets, not strings).
func trimSpan(v string, start, end int) (int, int) {
	for start < end && (v[start] == ' ' || v[start] == '\t') {
		start++
	}
	for end > start && (v[end-1] == ' ' || v[end-1] == '\t') {
		end--
	}
	return start, end
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
