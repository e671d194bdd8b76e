package cookienormalizer

import (
	"slices"
	"strings"
	"testing"
)

// Flags with a value over 1024 bytes. Chromium ignores such an attribute
// (RFC 6265bis §5.6); Firefox and libsoup read the flag whatever its
// value. So `d=new; Max-Age=3600; Partitioned=<1100 bytes>` is refused by
// Firefox (Partitioned without Secure) and stored by Chromium, and
// `d=new; Max-Age=3600; SameSite=None; Secure=<1100 bytes>` the other way
// round (measured: the engine matrix's partitioned-1100-insecure and
// none-secure-1100 rows).

var flagValue1100 = strings.Repeat("x", 1100)

// TestScanLongFlags: the scan notes each flag written with a value over
// 1024 bytes, whatever kinds the caller asks for, and only flags.
func TestScanLongFlags(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want kindMask
	}{
		{"a=1; Secure=" + flagValue1100, 1 << attrSecure},
		{"a=1; httponly = " + flagValue1100 + " ", 1 << attrHTTPOnly},
		{"a=1; PARTITIONED=" + flagValue1100 + "; Secure", 1 << attrPartitioned},
		{"a=1; Secure=" + flagValue1100 + "; Partitioned=" + flagValue1100, 1<<attrSecure | 1<<attrPartitioned},
		{"a=1; Secure=" + strings.Repeat("x", 1024), 0}, // within the limit: read by all
		{"a=1; Secure; X=" + flagValue1100, 0},
		{"a=1; Path=/" + flagValue1100, 0},
		{"a=1; Securex=" + flagValue1100, 0},
		{"a=1; Secure" + strings.Repeat(" ", 1100) + "; HttpOnly", 0}, // no value
		{"a=" + flagValue1100 + "; Secure" + strings.Repeat(" ", 1100) + "; HttpOnly", 0},
	} {
		for _, kinds := range []kindMask{0, lifetimeKinds, attributeKinds, lifetimeKinds | attributeKinds} {
			var f setCookie
			if !f.scan(tc.v, kinds, 0) {
				t.Fatalf("%.40q: not a cookie", tc.v)
			}
			if f.longFlags != tc.want {
				t.Errorf("%.40q (kinds %b): longFlags %b, want %b", tc.v, kinds, f.longFlags, tc.want)
			}
			if f.rejected {
				t.Errorf("%.40q: rejected; every engine reads its lifetime alike", tc.v)
			}
		}
	}
}

// TestLongFlagPolicies: `secure off` keeps Secure on a field Firefox
// reads as Partitioned (it would refuse it without Secure: a log-out
// would delete nothing there), unless `partitioned off` removes that
// Partitioned too; a `like` leader with such a flag leads nothing; the
// expiry policies still rewrite such a field (its flags are kept as
// sent, so every engine stores or refuses it as before).
func TestLongFlagPolicies(t *testing.T) {
	long := "Partitioned=" + flagValue1100
	for _, tc := range []struct {
		name     string
		r        rule
		in, want []string
	}{
		{"secure off beside a long Partitioned", attrRule(Group{Cookies: []string{"sid"}, Secure: off()}),
			[]string{"sid=; Max-Age=0; Path=/; Secure; " + long}, nil},
		{"secure off beside a Partitioned and a long one", attrRule(Group{Cookies: []string{"sid"}, Secure: off()}),
			[]string{"sid=; Max-Age=0; Path=/; Secure; Partitioned; " + long}, nil},
		{"secure off and partitioned off", attrRule(Group{Cookies: []string{"sid"}, Secure: off(), Partitioned: off()}),
			[]string{"sid=; Max-Age=0; Path=/; Secure; " + long}, []string{"sid=; Max-Age=0; Path=/"}},
		{"secure off beside a long HttpOnly", attrRule(Group{Cookies: []string{"sid"}, Secure: off()}),
			[]string{"sid=; Max-Age=0; Path=/; Secure; HttpOnly=" + flagValue1100}, []string{"sid=; Max-Age=0; Path=/; HttpOnly=" + flagValue1100}},
		{"a leader Firefox refuses", like("lead", "a"),
			[]string{"lead=1; Max-Age=60; " + long, "a=1; Max-Age=5"}, nil},
		{"a leader with a long HttpOnly", like("lead", "a"),
			[]string{"lead=1; Max-Age=60; HttpOnly=" + flagValue1100, "a=1; Max-Age=5"}, nil},
		{"control: a leader with a Partitioned browsers read alike", like("lead", "a"),
			[]string{"lead=1; Max-Age=60; Secure; Partitioned", "a=1; Max-Age=5"},
			[]string{"lead=1; Max-Age=60; Secure; Partitioned", "a=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"}},
		{"a leader another group's policies would send without it", likeLead(Group{Cookies: []string{"a"}, Partitioned: off()}),
			[]string{"lead=1; Max-Age=60; " + long, "a=1; Max-Age=5"}, nil},
		{"a leader its own group sends without the long flag", likeLead(Group{Cookies: []string{"lead", "a"}, Partitioned: off()}),
			[]string{"lead=1; Max-Age=60; " + long, "a=1; Max-Age=5"},
			[]string{"lead=1; Max-Age=60", "a=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"}},
		{"a leader its own group sends with it", likeLead(Group{Cookies: []string{"lead", "a"}, Secure: on()}),
			[]string{"lead=1; Max-Age=60; " + long, "a=1; Max-Age=5"},
			[]string{"lead=1; Max-Age=60; " + long + "; Secure", "a=1; Max-Age=5; Secure"}},
		{"a fixed lifetime keeps the flags as sent", fixed(43200, "d"),
			[]string{"d=new; Max-Age=3600; " + long}, []string{"d=new; " + long + "; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = tc.in
			}
			if got := rewriteAll(testNormalizer(t, tc.r), tc.in, testDate); !slices.Equal(got, want) {
				t.Errorf("got  %.150q\nwant %.150q", got, want)
			}
		})
	}
}

// likeLead is g with `expire like lead` (the leader in g when g names it).
func likeLead(g Group) rule {
	r := g.rule()
	r.expiry, r.like = expireLike, "lead"
	return r
}
