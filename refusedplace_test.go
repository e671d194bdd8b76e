package cookienormalizer

import (
	"slices"
	"testing"
)

// TestRefusedPlaceSecondPass: a second pass over a response whose
// cascade deleted a member where only WebKitGTK stores it, with a request
// of its own (another handler instance with the same groups), appends
// nothing: the deletion the first appended follows the field, at its
// place, and a deletion the first wrote as WebKitGTK reads the field
// (SameSite=None without Secure, a __Host- name off /), which Chromium
// and Firefox refuse, follows one of the member they take, so it is no
// refused log-out to fix: the deletion where WebKitGTK stores a field
// Chromium and Firefox refuse for SameSite=None or Partitioned without
// Secure is written with Secure over https (also on cross-site
// requests), which they take. Under /logout and under /app/x, whose
// default path is not /.
func TestRefusedPlaceSecondPass(t *testing.T) {
	plain := []string{"session_id", "user_id__insecure"}
	prefixed := []string{"__Secure-s", "uid", "__Host-s"}
	for _, tc := range []struct {
		members []string
		in      []string
		cross   bool // a cross-site request
	}{
		{plain, []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=v; Path=/a; X=\x01"}, false},
		{plain, []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=v; Path=/a; SameSite=None"}, false},
		{plain, []string{"user_id__insecure=; Max-Age=0; Path=/", "session_id=v; Path=/b; X=\x01", "session_id=w; Path=/c; X=\x01"}, false},
		{plain, []string{"session_id=; Max-Age=0; Path=/; SameSite=None"}, false},
		{plain, []string{"session_id=; Max-Age=0; Path=/; SameSite=None", "user_id__insecure=v; Path=/a; X=\x01"}, false},
		{plain, []string{"session_id=; Max-Age=0; Path=/; Partitioned", "user_id__insecure=; Max-Age=0; Path=/a"}, false},
		{prefixed, []string{"__Secure-s=; Max-Age=0; Path=/; Secure", "uid=v; Path=/a; X=\x01"}, false},
		{prefixed, []string{"__Secure-s=; Max-Age=0; Path=/; Secure", "uid=v; Path=/a; SameSite=None"}, false},
		{prefixed, []string{"uid=; Max-Age=0; Path=/", "__Secure-s=v; Path=/a; Secure; X=\x01"}, false},
		{prefixed, []string{"uid=; Max-Age=0; Path=/; SameSite=None"}, false},
		{prefixed, []string{"__Secure-s=; Max-Age=0; Path=/; SameSite=None"}, false},
		{prefixed, []string{"__Secure-s=; Max-Age=0; Path=/"}, false},
		{prefixed, []string{"__Host-s=; Max-Age=0; Path=/app; Secure"}, false},
		{prefixed, []string{"uid=; Max-Age=0; Path=/", "__Host-s=v; Path=/a; Secure; X=\x01"}, false},
		{[]string{"a", "b", "c"}, []string{"a=; Max-Age=0; Path=/", "a=v; Path=/; Secure", "a=; Max-Age=0; Path=/; SameSite=None"}, false},
		{[]string{"a", "b", "__Secure-c"}, []string{"a=; Max-Age=0; Path=/; Secure", "a=; Max-Age=0; Path=/; SameSite=None"}, false},
		{[]string{"a", "b", "c"}, []string{"a=; Max-Age=0; Path=/x", "a=; Max-Age=0; Path=/; SameSite=None", "b=; Max-Age=0; Path=/"}, false},
		{[]string{"a", "b"}, []string{"a=; Max-Age=0; Path=/; Secure", "a=v; Path=/; X=\x01", "a=; Max-Age=0; Path=/; SameSite=None"}, false},
		{[]string{"a", "b"}, []string{"a=; Max-Age=0; Path=/", "b=v; Path=/a; SameSite=None"}, true},
		{[]string{"a", "b"}, []string{"a=v; SameSite=None", "b=; Max-Age=0; Path=/"}, true},
		{[]string{"a", "b"}, []string{"a=; Max-Age=0; Partitioned", "b=v; Partitioned"}, true},
		{[]string{"a", "b"}, []string{"a=; Max-Age=0", "b=v; SameSite=None; Domain=example.com"}, true},
	} {
		for _, target := range []string{"/logout", "/app/x"} {
			n := testNormalizer(t, Group{Cookies: tc.members, OnDelete: "cascade"}.rule())
			first := n.rewriteResponse(slices.Clone(tc.in), testDate, &request{https: true, crossSiteFetch: tc.cross, from: requestFor(target)}, nil)
			if len(first) <= len(tc.in) {
				t.Fatalf("%s %q: the first pass appended nothing: %q", target, tc.in, first)
			}
			second := n.rewriteResponse(slices.Clone(first), testDate, &request{https: true, crossSiteFetch: tc.cross, from: requestFor(target)}, nil)
			if !slices.Equal(second, first) {
				t.Errorf("%s %q:\n first pass  %q\n second pass %q", target, tc.in, first, second)
			}
		}
	}
}

// TestRefusedPlaceReportOnly: under a path policy, the app's log-out of
// a member the module passes unchanged (a byte over 0x7f) gets a deletion
// placed at the policy's place, which is where WebKitGTK stores the
// member's earlier field only it keeps: no other deletion is needed
// there, but, where Chromium and Firefox refuse that log-out
// (SameSite=None without Secure) and take a's, the deletion of b they
// take. report_only, which appends none, counts what the applied module
// does.
func TestRefusedPlaceReportOnly(t *testing.T) {
	g := Group{Cookies: []string{"a", "b", "c"}, OnDelete: "cascade", Path: "/rd"}
	for _, tc := range []struct {
		in, b []string // b: the fields appended for b
	}{
		{[]string{"a=; Max-Age=0", "b=v; Path=/rd; X=\x01", "b=; Max-Age=0; X=caf\u00e9"},
			[]string{del("b", "; Path=/rd")}},
		{[]string{"a=; Max-Age=0", "b=v; Path=/rd; SameSite=None", "b=; Max-Age=0; SameSite=None; X=caf\u00e9"},
			[]string{del("b", "; SameSite=None; Path=/rd"), del("b", "; Path=/rd; Secure; SameSite=None")}},
	} {
		in := tc.in
		var applied, reported recordingObserver
		n := testNormalizer(t, g.rule())
		out := n.rewriteResponse(slices.Clone(in), testDate, &request{https: true, from: requestFor("/x")}, &applied)
		var b []string
		for _, v := range out[len(in):] {
			if got, ok := cookieName(v); ok && got == "b" {
				b = append(b, v)
			}
		}
		if !slices.Equal(b, tc.b) {
			t.Errorf("%q: got %q:\n appended for b %q\n want           %q", in, out, b, tc.b)
		}
		n = testNormalizer(t, g.rule())
		n.reportOnly = true
		n.rewriteResponse(slices.Clone(in), testDate, &request{https: true, from: requestFor("/x")}, &reported)
		if !slices.Equal(applied, reported) {
			t.Errorf("%q:\n applied     %q\n report_only %q", in, applied, reported)
		}
	}
}
