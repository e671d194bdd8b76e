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

// TestRefusedPlaceReportOnly: under a path policy, the app's log-out of
// a member the module passes unchanged (a byte over 0x7f) gets a deletion
// placed at the policy's place, which is where WebKitGTK stores the
// member's earlier field only it keeps: no other deletion is needed
// there, and report_only, which appends neither, counts what the applied
// module does.
func TestRefusedPlaceReportOnly(t *testing.T) {
	g := Group{Cookies: []string{"a", "b", "c"}, OnDelete: "cascade", Path: "/rd"}
	for _, in := range [][]string{
		{"a=; Max-Age=0", "b=v; Path=/rd; X=\x01", "b=; Max-Age=0; X=caf\u00e9"},
		{"a=; Max-Age=0", "b=v; Path=/rd; SameSite=None", "b=; Max-Age=0; SameSite=None; X=caf\u00e9"},
	} {
		var applied, reported recordingObserver
		n := testNormalizer(t, g.rule())
		out := n.rewriteResponse(slices.Clone(in), testDate, &request{https: true, from: requestFor("/x")}, &applied)
		if c := countNamed(out[len(in):], "b"); c != 1 {
			t.Errorf("%q: got %q: %d fields for b appended, want one (the placed deletion)", in, out, c)
		}
		n = testNormalizer(t, g.rule())
		n.reportOnly = true
		n.rewriteResponse(slices.Clone(in), testDate, &request{https: true, from: requestFor("/x")}, &reported)
		if !slices.Equal(applied, reported) {
			t.Errorf("%q:\n applied     %q\n report_only %q", in, applied, reported)
		}
	}
}

// countNamed returns how many of values are fields for name.
func countNamed(values []string, name string) int {
	n := 0
	for _, v := range values {
		if got, ok := cookieName(v); ok && got == name {
			n++
		}
	}
	return n
}
