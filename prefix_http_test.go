package cookienormalizer

import (
	"strings"
	"testing"
)

// The __Http- and __Host-Http- name prefixes: Chromium 156 and Firefox 153
// store such a cookie only with Secure and HttpOnly (a __Host-Http- one
// also with Path=/ and no Domain), and refuse a deletion without them,
// keeping the cookie it should delete; they compare the prefix without
// regard to case. WebKitGTK 2.50 does not check them. (Measured in the
// three engines.)

// TestHTTPPrefixEdits: the attribute policies never take Secure or
// HttpOnly off such a cookie (logged as edit skipped), so that a log-out
// still deletes it.
func TestHTTPPrefixEdits(t *testing.T) {
	for i, tc := range []struct {
		name string
		r    rule
		in   string
		want string
	}{
		{"httponly off on an __Http- deletion",
			rule{patterns: []string{"__Http-*"}, attrs: attrPolicy{httpOnly: flagOff}},
			"__Http-sid=; Max-Age=0; Path=/; Secure; HttpOnly", "__Http-sid=; Max-Age=0; Path=/; Secure; HttpOnly"},
		{"httponly off on a __Host-Http- deletion",
			rule{patterns: []string{"__Host-*"}, attrs: attrPolicy{httpOnly: flagOff}},
			"__Host-Http-sid=; Max-Age=0; Path=/; Secure; HttpOnly", "__Host-Http-sid=; Max-Age=0; Path=/; Secure; HttpOnly"},
		{"secure off on an __Http- deletion",
			rule{patterns: []string{"__Http-*"}, attrs: attrPolicy{secure: flagOff}},
			"__Http-sid=; Max-Age=0; Path=/; Secure; HttpOnly", "__Http-sid=; Max-Age=0; Path=/; Secure; HttpOnly"},
		{"the prefix in another case",
			rule{patterns: []string{"__http-*"}, attrs: attrPolicy{httpOnly: flagOff, secure: flagOff}},
			"__http-sid=; Max-Age=0; Path=/; Secure; HttpOnly", "__http-sid=; Max-Age=0; Path=/; Secure; HttpOnly"},
		{"httponly off with expire 12h on a live __Http- cookie: HttpOnly kept, the lifetime set",
			rule{patterns: []string{"__Http-*"}, expiry: expireFixed, seconds: 43200, attrs: attrPolicy{httpOnly: flagOff}},
			"__Http-sid=new; Path=/; Secure; HttpOnly", "__Http-sid=new; Path=/; Secure; HttpOnly; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"},
		{"httponly off still applies to other names",
			rule{patterns: []string{"*"}, attrs: attrPolicy{httpOnly: flagOff}},
			"__Httpx=1; Path=/; HttpOnly", "__Httpx=1; Path=/"},
	} {
		n := testNormalizer(t, tc.r)
		if got := rewriteAll(n, []string{tc.in}, testDate); got[0] != tc.want {
			t.Errorf("%d %s:\n in:   %q\n got:  %q\n want: %q", i, tc.name, tc.in, got[0], tc.want)
		}
	}
}

// TestHTTPPrefixConfig: a policy that would break such a name, named
// exactly, is a config error that says what browsers need.
func TestHTTPPrefixConfig(t *testing.T) {
	off := false
	for _, tc := range []struct {
		g    Group
		want string
	}{
		{Group{Cookies: []string{"__Http-sid"}, HTTPOnly: &off},
			`cookie "__Http-sid": httponly off would break its name prefix (browsers store an __Http- cookie only with Secure and HttpOnly)`},
		{Group{Cookies: []string{"__Http-sid"}, Secure: &off},
			`cookie "__Http-sid": secure off would break its name prefix (browsers store an __Http- cookie only with Secure and HttpOnly)`},
		{Group{Cookies: []string{"__Host-Http-sid"}, HTTPOnly: &off, Path: "/x"},
			`cookie "__Host-Http-sid": httponly off, path /x would break its name prefix (browsers store a __Host-Http- cookie only with Secure, HttpOnly, Path=/ and no Domain)`},
	} {
		err := tc.g.validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got error %v, want one containing %q", tc.g, err, tc.want)
		}
	}
}

// TestHTTPPrefixDeletions: the deletions the consistency rules append
// for such a member carry Secure and HttpOnly.
func TestHTTPPrefixDeletions(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"__Http-sid", "__Http-sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure; HttpOnly"},
		{"__Host-Http-sid", "__Host-Http-sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure; HttpOnly"},
	} {
		n := testNormalizer(t, rule{patterns: []string{"uid", tc.name}, cascade: true})
		out := n.rewriteResponse([]string{"uid=; Max-Age=0; Path=/"}, testDate, &request{https: true}, nil)
		if want := []string{"uid=; Max-Age=0; Path=/", tc.want}; !equalStrings(out, want) {
			t.Errorf("cascade for %s: got %q, want %q", tc.name, out, want)
		}
		n = testNormalizer(t, rule{patterns: []string{"uid", tc.name}, partial: true})
		out = n.rewriteResponse(nil, testDate, &request{https: true, cookies: []string{tc.name + "=1"}}, nil)
		if want := []string{tc.want}; !equalStrings(out, want) {
			t.Errorf("partial expiry of %s: got %q, want %q", tc.name, out, want)
		}
	}
}

// TestHTTPPrefixLeader: a leader Chromium and Firefox refuse (no HttpOnly,
// or no Secure) leads nothing; one with both leads.
func TestHTTPPrefixLeader(t *testing.T) {
	for _, tc := range []struct {
		leader string
		leads  bool
	}{
		{"__Http-s=1; Max-Age=60; Path=/", false},
		{"__Http-s=1; Max-Age=60; Path=/; Secure", false},
		{"__Http-s=1; Max-Age=60; Path=/; HttpOnly", false},
		{"__Http-s=1; Max-Age=60; Path=/; Secure; HttpOnly", true},
	} {
		in := []string{tc.leader, "u=1; Max-Age=5"}
		want := []string{tc.leader, "u=1; Max-Age=5"}
		if tc.leads {
			want[1] = "u=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"
		}
		n := testNormalizer(t, like("__Http-s", "u"))
		if got := rewriteAll(n, in, testDate); !equalStrings(got, want) {
			t.Errorf("leader %q:\n got:  %q\n want: %q", tc.leader, got, want)
		}
	}
}
