package cookienormalizer

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// everyString calls check with every string of up to n bytes over
// alphabet (the bytes that matter to the code under test), the empty one
// first.
func everyString(alphabet string, n int, check func(string)) {
	buf := make([]byte, n)
	var walk func(k int)
	walk = func(k int) {
		check(string(buf[:k]))
		if k == n {
			return
		}
		for i := range len(alphabet) {
			buf[k] = alphabet[i]
			walk(k + 1)
		}
	}
	walk(0)
}

// segmentBytewise is segment's reference: one byte at a time.
func segmentBytewise(v string, i int) (end, eq int) {
	eq = -1
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

// TestSegmentMatchesBytewise compares the word-at-a-time readers, segment
// and hasOddByte, with byte-at-a-time ones: every byte value at every position of a
// word, next to each byte that ends or marks a segment, and random
// strings weighted towards the bytes next to the ones the word test must
// tell apart (0x1f/0x20, 0x7e/0x7f/0x80, HTAB, ':'/';'/'<', '='/'>').
func TestSegmentMatchesBytewise(t *testing.T) {
	check := func(v string) {
		t.Helper()
		for i := 0; i <= len(v); i++ {
			end, eq := segment(v, i)
			wantEnd, wantEq := segmentBytewise(v, i)
			if end != wantEnd || eq != wantEq {
				t.Fatalf("segment(%q, %d) = %d, %d; byte by byte: %d, %d", v, i, end, eq, wantEnd, wantEq)
			}
			if got, want := hasOddByte(v[i:]), anyOddByte(v[i:]); got != want {
				t.Fatalf("hasOddByte(%q) = %t; byte by byte: %t", v[i:], got, want)
			}
		}
	}
	for c := range 256 {
		for pos := range 17 {
			b := []byte(strings.Repeat("a", 20))
			b[pos] = byte(c)
			check(string(b))
			b[pos+2] = ';'
			check(string(b))
			b[pos+1] = '='
			check(string(b))
		}
	}
	edge := []byte{0x00, 0x08, 0x09, 0x0a, 0x1f, 0x20, 0x21, 0x3a, 0x3b, 0x3c, 0x3c, 0x3d, 0x3e, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff, 'a', 'Z', ' '}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = edge[r.IntN(len(edge))]
			}
		}
		check(string(b))
	}
}

// asciiKind is kindOf's reference: the name compared with every kind's,
// ASCII case folded a byte at a time.
func asciiKind(name string) attrKind {
	for k := attrMaxAge; k <= attrDomain; k++ {
		want := attrNames[k].name
		if len(name) != len(want) {
			continue
		}
		same := true
		for i := range len(name) {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			same = same && c == want[i]
		}
		if same {
			return k
		}
	}
	return attrOther
}

// TestKindOfMatchesBytewise checks kindOf, which compares names of up to
// eight bytes as one word, against a byte-at-a-time comparison: every
// kind's name in several cases, with every byte value put at each of its
// positions, both where a whole word can be read after the name and at the
// end of the field (where it cannot), and with every kind wanted or not.
func TestKindOfMatchesBytewise(t *testing.T) {
	const all = lifetimeKinds | attributeKinds
	check := func(name string) {
		t.Helper()
		for _, v := range []string{"; " + name + "=1; Path=/abcdefgh", "; " + name} {
			got := kindOf(v, 2, 2+len(name), all)
			if want := asciiKind(name); got != want {
				t.Fatalf("kindOf(%q) = %d, byte by byte %d", name, got, want)
			}
			if got != attrOther {
				if other := kindOf(v, 2, 2+len(name), all&^(1<<got)); other != attrOther {
					t.Fatalf("kindOf(%q) without its kind wanted = %d", name, other)
				}
			}
		}
	}
	for k := attrMaxAge; k <= attrDomain; k++ {
		name := attrNames[k].name
		for _, n := range []string{name, strings.ToUpper(name), strings.ToUpper(name[:1]) + name[1:], name[:len(name)-1], name + "s"} {
			check(n)
		}
		for i := range len(name) {
			for c := range 256 {
				b := []byte(name)
				b[i] = byte(c)
				check(string(b))
			}
		}
	}
}

// TestScanTabInside: which fields hold a HTAB Chromium refuses them for
// (inside the name, the value, an attribute's name or value, past the
// spaces and tabs trimmed from their ends), as measured in the browsers
// (docs/engines.md, the tab-in rows), and where libsoup stops reading.
func TestScanTabInside(t *testing.T) {
	for i, tc := range []struct {
		v         string
		tabInside bool
		stop      int
	}{
		{"d=new; Max-Age=3600", false, 19},
		{"d=new; Max-Age=3600; X=p\tq", true, 24},
		{"d=; Max-Age=0; X=p\tq", true, 18},
		{"d=n\tw; Max-Age=3600", true, 3},
		{"d=new; Max-Age=3600; F\to=1", true, 22},
		{"d\tx=new", true, 1},
		{"d=new; Max-Age=0\t; Max-Age=3600", false, 16},
		// libsoup 3.2 skips a HTAB in the white space before a name or
		// a value (its skip_lws reads g_ascii_isspace).
		{"d=new;\tPath=/", false, 13},
		{"d=\tnew; Path= \t/", false, 16},
		{"d\t=\tnew\t; Path=/", false, 1},
		{"d=new; Path=/\t", false, 13},
		{"d=new; Secure\t", false, 13},
		{"d=new; X\t=\tp ; Y=q", false, 8},
		{"d=new; X=\"p\tq\"", true, 11},
		// A byte over 0x7f stops libsoup too, and a HTAB inside after
		// it still makes Chromium refuse the field.
		{"d=n\u00e9; Max-Age=3600", false, 3},
		{"d=new; Path=/; X=\u00e9; Y=a\tb; Max-Age=+0", true, 17},
		{"d=new; X=a\tb; Y=\u00e9", true, 10},
	} {
		var f setCookie
		if !f.scan(tc.v, lifetimeKinds|attributeKinds, 0) {
			t.Fatalf("%d: %q: not a cookie", i, tc.v)
		}
		if rejected := tc.stop < len(tc.v); f.tabInside != tc.tabInside || f.stop != tc.stop || f.rejected != rejected || f.refused {
			t.Errorf("%d: %q: tabInside %t, stop %d, rejected %t, refused %t; want %t, %d, %t, false",
				i, tc.v, f.tabInside, f.stop, f.rejected, f.refused, tc.tabInside, tc.stop, rejected)
		}
	}
}

// TestScanStopStaysAtFirst: libsoup stops at the first tab; a ',' in a
// later attribute's name does not move the stop past it.
func TestScanStopStaysAtFirst(t *testing.T) {
	var f setCookie
	v := "a=v\t; x,y=1; Path=/"
	f.scan(v, attributeKinds, 0)
	if want := strings.IndexByte(v, '\t'); f.stop != want || !f.rejected {
		t.Errorf("%q: stop %d, rejected %v; want %d, true", v, f.stop, f.rejected, want)
	}
}
