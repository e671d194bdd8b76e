package cookienormalizer

import (
	"slices"
	"testing"
)

// TestRefusedPlaceSecondPass: a second pass over a response whose
// cascade deleted a member where only WebKitGTK stores it, with a request
// of its own (another handler instance with the same groups), appends
// nothing: the deletion the first appended follows the field, at its
// place.
func TestRefusedPlaceSecondPass(t *testing.T) {
	for _, in := range [][]string{
		{"session_id=; Max-Age=0; Path=/", "user_id__insecure=v; Path=/a; X=\x01"},
		{"session_id=; Max-Age=0; Path=/", "user_id__insecure=v; Path=/a; SameSite=None"},
		{"user_id__insecure=; Max-Age=0; Path=/", "session_id=v; Path=/b; X=\x01", "session_id=w; Path=/c; X=\x01"},
	} {
		n := testNormalizer(t, Group{Cookies: []string{"session_id", "user_id__insecure"}, OnDelete: "cascade"}.rule())
		first := n.rewriteResponse(slices.Clone(in), testDate, &request{https: true, from: requestFor("/logout")}, nil)
		if len(first) <= len(in) {
			t.Fatalf("%q: the first pass appended nothing: %q", in, first)
		}
		second := n.rewriteResponse(slices.Clone(first), testDate, &request{https: true, from: requestFor("/logout")}, nil)
		if !slices.Equal(second, first) {
			t.Errorf("%q:\n first pass  %q\n second pass %q", in, first, second)
		}
	}
}
