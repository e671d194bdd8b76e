package cookienormalizer

import (
	"math/rand/v2"
	"strings"
	"testing"
)

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
// and hasControl, with byte-at-a-time ones: every byte value at every position of a
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
			if got, want := hasControl(v[i:]), anyControl(v[i:]); got != want {
				t.Fatalf("hasControl(%q) = %t; byte by byte: %t", v[i:], got, want)
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
