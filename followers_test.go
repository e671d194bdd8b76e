package cookienormalizer

// Unit tests of followers.go: taking back a follower's rewrite.

import (
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// TestUndoMatchesWholeFields: undo finds a follower's rewritten field
// by its string's bytes and length both: a shorter field sharing its
// first byte (a handler's slice of it) is another field, left alone.
func TestUndoMatchesWholeFields(t *testing.T) {
	out := strings.Clone("pref=dark; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600")
	const orig = "pref=dark"
	var l followerLog
	l.note(1, orig, out)
	values := []string{out[:9], out}
	l.undo(values)
	if want := []string{out[:9], orig}; !slices.Equal(values, want) || unsafe.StringData(values[0]) != unsafe.StringData(out) {
		t.Errorf("undo: got %q, want %q", values, want)
	}
	values = []string{out[:9], out}
	undoIndexed([]followedField{{index: 1, orig: orig, out: out}}, values)
	if want := []string{out[:9], orig}; !slices.Equal(values, want) || unsafe.StringData(values[0]) != unsafe.StringData(out) {
		t.Errorf("undoIndexed: got %q, want %q", values, want)
	}
}
