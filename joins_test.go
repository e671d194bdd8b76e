package cookienormalizer

import "testing"

func TestFieldJoinsFlush(t *testing.T) {
	values := []string{"a=1; Path=/", "theme=dark", "b=2; Max-Age=5", "c=3"}
	var j fieldJoins
	for _, f := range []struct {
		index, cut int
		tail       string
	}{{0, 3, "; Path=/; Max-Age=60"}, {2, 3, "; Max-Age=60"}, {3, 3, ""}} {
		if !j.add(f.index, f.cut, f.tail) {
			t.Fatalf("add(%d, %d, %q) refused with %d recorded", f.index, f.cut, f.tail, j.n)
		}
	}
	j.flush(values)
	want := []string{"a=1; Path=/; Max-Age=60", "theme=dark", "b=2; Max-Age=60", "c=3"}
	if !equalStrings(values, want) {
		t.Errorf("flush:\n got  %q\n want %q", values, want)
	}
	if j.n != 0 || j.at[0] != (fieldJoin{}) {
		t.Errorf("flush left %d recorded, first %+v", j.n, j.at[0])
	}
	// Nothing recorded: nothing changes.
	j.flush(values)
	if !equalStrings(values, want) {
		t.Errorf("empty flush changed the fields to %q", values)
	}
}

func TestFieldJoinsFull(t *testing.T) {
	var j fieldJoins
	for i := range maxJoins {
		if !j.add(i, 1, "x") {
			t.Fatalf("add %d of %d refused", i+1, maxJoins)
		}
	}
	if j.add(maxJoins, 1, "x") {
		t.Errorf("add %d of %d accepted", maxJoins+1, maxJoins)
	}
	var none *fieldJoins
	if none.add(0, 1, "x") {
		t.Error("a nil fieldJoins accepted a field")
	}
	none.flush([]string{"a=1"}) // must not panic
}
