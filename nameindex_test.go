package cookienormalizer

import (
	"strconv"
	"testing"
)

// TestNameIndex checks both layouts of nameIndex, the few names compared
// directly and the map past maxFewNames: every name added is found with
// its first value, a name added twice keeps the first, and names that
// differ only in length or in one byte are not found.
func TestNameIndex(t *testing.T) {
	for _, n := range []int{0, 1, maxFewNames, maxFewNames + 1, 100} {
		var x nameIndex
		for i := range n {
			if !x.add("c"+strconv.Itoa(i), i) {
				t.Fatalf("n=%d: add c%d reported a duplicate", n, i)
			}
		}
		if n > 0 && x.add("c0", 99) {
			t.Fatalf("n=%d: a second add of c0 reported new", n)
		}
		x.freeze()
		for i := range n {
			if v, ok := x.lookup("c" + strconv.Itoa(i)); !ok || v != i {
				t.Fatalf("n=%d: lookup c%d = %d, %t; want %d, true", n, i, v, ok, i)
			}
		}
		for _, miss := range []string{"", "c", "C0", "c0 ", "d0", "c" + strconv.Itoa(n)} {
			if v, ok := x.lookup(miss); ok {
				t.Fatalf("n=%d: lookup %q = %d, true; want not found", n, miss, v)
			}
		}
		if got, want := x.few != nil, n > 0 && n <= maxFewNames; got != want {
			t.Fatalf("n=%d: few laid out: %t, want %t", n, got, want)
		}
	}
}
