package cookienormalizer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestLastStoredMatchesLastField: the index placeDeletions builds after a
// few questions gives the answers lastField gives by walking back: the
// last field for a name that browsers store and the one before it, over
// responses of many names, repeated names, fields browsers refuse (a
// control byte) and fields with no name.
func TestLastStoredMatchesLastField(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 200 {
		values := make([]string, rng.IntN(60))
		for i := range values {
			name := "c" + strconv.Itoa(rng.IntN(12))
			switch rng.IntN(6) {
			case 0:
				values[i] = name + "=a\x01b; Path=/" // refused
			case 1:
				values[i] = "no-equals-sign"
			case 2:
				values[i] = name + "=; Max-Age=0\t; Path=/x"
			default:
				values[i] = name + "=v" + strconv.Itoa(i)
			}
		}
		var s lastStored
		for q := range 3 * lastStoredWalks {
			name := "c" + strconv.Itoa(q%14) // c12, c13: in no field
			last, before := s.lastTwo(values, name)
			wantLast, wantBefore := lastField(values, name), -1
			if wantLast > 0 {
				wantBefore = lastField(values[:wantLast], name)
			}
			if last != wantLast || before != wantBefore {
				t.Fatalf("round %d, question %d (%s, index built: %t): got %d, %d, want %d, %d\nvalues %q",
					round, q, name, s.index != nil, last, before, wantLast, wantBefore, values)
			}
		}
		if s.index == nil {
			t.Fatalf("round %d: no index after %d questions", round, 3*lastStoredWalks)
		}
	}
}

// TestPlacedManyUnchangedFields: a response with many fields the module
// passes unchanged under a path policy (a tab after Max-Age=0, which
// libsoup reads as a deletion and the others as a cookie set at /app),
// each for its own name: every one gets its placed deletion, in order,
// and every other field goes out as the app sent it.
func TestPlacedManyUnchangedFields(t *testing.T) {
	h, err := hostileHandler(t, "cookie_normalizer {\n\tgroup {\n\t\tcookies c*\n\t\tpath /\n\t}\n}")
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var app, want, placed []string
	for i := range n {
		name := fmt.Sprintf("c%d", i)
		tab := name + "=; Max-Age=0\t; Max-Age=3600; Path=/app"
		app = append(app, tab, "u"+strconv.Itoa(i)+"=1")
		want = append(want, tab, "u"+strconv.Itoa(i)+"=1")
		placed = append(placed, name+"=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")
	}
	want = append(want, placed...)
	got := jarSimServePath(t, h, "/app/page", "", testClock.Unix(), app...)
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("field %d: got %q, want %q (%d fields, want %d)", i, got[i], want[i], len(got), len(want))
			}
		}
		t.Fatalf("got %d fields, want %d", len(got), len(want))
	}
}
