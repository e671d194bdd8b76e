package cookienormalizer

// Unit tests of expiry.go: reading a field's lifetime every engine's way.

import (
	"slices"
	"strings"
	"testing"
)

// TestParseMaxAgeDigits: parseMaxAge reads up to maxAgeDigits
// significant digits (leading zeros not counted, zeros after the first
// significant digit counted), and calls more long rather than let n
// overflow.
func TestParseMaxAgeDigits(t *testing.T) {
	for _, tc := range []struct {
		s        string
		n        int64
		ok, long bool
	}{
		{"1" + strings.Repeat("0", maxAgeDigits-1), 100000000000000000, true, false},
		{"000" + strings.Repeat("9", maxAgeDigits), 999999999999999999, true, false},
		{"1" + strings.Repeat("0", maxAgeDigits), 0, false, true},
		{"1" + strings.Repeat("0", 20), 0, false, true},
	} {
		n, ok, long := parseMaxAge(tc.s, false)
		if n != tc.n || ok != tc.ok || long != tc.long {
			t.Errorf("parseMaxAge(%q) = %d, %t, %t; want %d, %t, %t", tc.s, n, ok, long, tc.n, tc.ok, tc.long)
		}
	}
}

// TestBareMaxAgeIgnored: a Max-Age without '=' sets no lifetime in
// any engine the module models (libsoup reads a value only after '='):
// the field is a session cookie, so `fixed` gives it its lifetime and
// `session` drops the bare attribute.
func TestBareMaxAgeIgnored(t *testing.T) {
	for _, tc := range []struct {
		r        rule
		in, want string
	}{
		{fixed(3600, "a"), "a=1; Max-Age", "a=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"},
		{session("a"), "a=1; Max-Age=60; Max-Age", "a=1"},
	} {
		if got := rewriteAll(testNormalizer(t, tc.r), []string{tc.in}, testDate); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestLibsoupSkipsLongMaxAge: libsoup 3.6.5 and later skip a Max-Age whose
// value is over 1024 bytes, as Chromium and Firefox do, but still let the
// last of Max-Age and Expires decide; earlier releases read it. Where the
// two releases read a field apart, libsoup's reading is not known, and the
// expiry policies leave the field alone:
//
//	a=1; Max-Age=3600; Expires=<past>; Max-Age=<1100 bytes: 0…05>
//
// is a deletion in the later libsoup (the long Max-Age skipped, the past
// Expires last), 5 s in the earlier one, an hour in Chromium and Firefox;
// rewritten, it would be a live cookie everywhere. With an Expires half
// an hour away instead, the later libsoup keeps it 30 minutes, and `max
// 1d` would lengthen that to a day. A `like` leader read apart leads
// nothing. Where both releases read the field alike (no Expires after
// the long Max-Age's predecessor, or the long value is not a number),
// the policies act as before.
func TestLibsoupSkipsLongMaxAge(t *testing.T) {
	const (
		past = "Tue, 24 Nov 2026 11:00:00 GMT" // before testDate and testClock
		soon = "Tue, 24 Nov 2026 13:30:00 GMT" // 30 minutes after both
	)
	long := func(tail string) string { return strings.Repeat("0", 1100) + tail }
	for _, tc := range []struct {
		name string
		r    rule
		in   []string
		want []string // nil: in, unchanged
	}{
		{"a fixed lifetime over a deletion", fixed(43200, "a"), []string{"a=1; Max-Age=3600; Expires=" + past + "; Max-Age=" + long("5")}, nil},
		{"a fixed lifetime over a deletion (3600)", fixed(43200, "a"), []string{"a=1; Max-Age=3600; Expires=" + past + "; Max-Age=" + long("3600")}, nil},
		{"session over a deletion", session("a"), []string{"a=1; Max-Age=3600; Expires=" + past + "; Max-Age=" + long("5")}, nil},
		{"max over 30 minutes", capped(86400, "a"), []string{"a=1; Max-Age=90000; Expires=" + soon + "; Max-Age=" + long("90000")}, nil},
		{"a leader read apart", like("lead", "a"), []string{"lead=1; Max-Age=3600; Expires=" + soon + "; Max-Age=" + long("3600"), "a=1; Max-Age=5"}, nil},
		// Read alike: a long Max-Age that is no number, which no
		// release of libsoup reads (strtol does not read it whole).
		{"a long Max-Age that is no number", fixed(43200, "a"), []string{"a=1; Max-Age=3600; Max-Age=" + long("x")},
			[]string{"a=1; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = tc.in
			}
			got := rewriteAll(testNormalizer(t, tc.r), tc.in, testDate)
			if !slices.Equal(got, want) {
				t.Errorf("got  %.120q\nwant %.120q", got, want)
			}
		})
	}
}

// TestSlideBesideLongMaxAge: `sid=x; Max-Age=<1100 zeros>` is a session
// cookie in Chromium and Firefox (the long value ignored) and in libsoup
// 3.6.5 and later (skipped), and a deletion in earlier libsoup (read: 0).
// Some engine reads it as sid's log-out, so slide re-issues nothing
// beside it and deletes its stamp, as beside a log-out every engine reads
// (the same field with 1000 zeros); a fresh stamp does not matter.
func TestSlideBesideLongMaxAge(t *testing.T) {
	g := Group{Label: "login", Cookies: []string{"sid", "b"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9},
		Path: "/", Domain: "remove", Secure: on(), SameSite: "lax", HTTPOnly: off(), Partitioned: off(), Slide: &SlidePolicy{Interval: 60e9}}
	if err := g.validate(); err != nil {
		t.Fatal(err)
	}
	stampDeletion := "cn_slide_login=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure"
	for _, zeros := range []int{1000, 1100} {
		n := testNormalizer(t, g.rule())
		field := "sid=x; Max-Age=" + strings.Repeat("0", zeros)
		req := request{https: true, cookies: []string{"sid=abc; b=2; cn_slide_login=1795525170"}, status: 200} // 30 s old
		got := n.rewriteResponse([]string{field}, testDate, &req, nil)
		if want := []string{field + "; Path=/; Secure; SameSite=Lax", stampDeletion}; !slices.Equal(got, want) {
			t.Errorf("%d zeros:\n got  %q\nwant %q", zeros, clip(got), clip(want))
		}
	}
}

// TestLibsoupSkipsReading: libsoup 3.6.5 skips a Max-Age over
// 1024 bytes; a later Max-Age that strtol cannot read whole changes
// nothing in any libsoup. So in `a=1; Max-Age=<1100 zeros>; Max-Age=x`
// libsoup 3.6.5 keeps a session cookie (the long one skipped, "x"
// ignored), while libsoup 3.2 deletes (the long one read: 0). (The
// reading once copied 3.2's state into 3.6.5's at the "x".)
func TestLibsoupSkipsReading(t *testing.T) {
	zeros := strings.Repeat("0", 1100)
	for _, tc := range []struct {
		v        string
		wantKept bool // byLibsoupSkips keeps the cookie
	}{
		{"a=1; Max-Age=" + zeros, true},                                                     // control: skipped, session
		{"a=1; Max-Age=" + zeros + "; Max-Age=x", true},                                     // "x" changes nothing
		{"a=1; Max-Age=0; Max-Age=" + strings.Repeat("0", 1096) + "3600; Max-Age=x", false}, // 3.6.5: 0 (deleted)
	} {
		var f setCookie
		if !f.scan(tc.v, lifetimeKinds, 0) {
			t.Fatal("not a cookie")
		}
		var c clock
		e := readExpiry(&f, 1795525200, &c)
		if got := e.kept&(1<<byLibsoupSkips) != 0; got != tc.wantKept {
			t.Errorf("%.30q…%q: libsoup 3.6.5 keeps %v, want %v (kept %05b unknown %05b)", tc.v, tc.v[len(tc.v)-12:], got, tc.wantKept, e.kept, e.unknown)
		}
	}
}

// TestLibsoupSkipsCascade: `b=v; Path=/a; SameSite=None; Max-Age=<1100
// zeros>` is refused by Chromium and Firefox (SameSite=None without
// Secure), deleted by libsoup 3.2 and stored by libsoup 3.6.5 (the long
// Max-Age skipped): a set only WebKitGTK stores, so nothing cascades
// (refusedSetLast). A trailing `Max-Age=x` changes no engine's reading
// (no engine reads "x"); read as 3.2 reads it, it once made 3.6.5
// delete b too, and the cascade deleted a: Chromium and Firefox kept
// their old b alone, and WebKitGTK 3.6.5 b=v.
func TestLibsoupSkipsCascade(t *testing.T) {
	zeros := strings.Repeat("0", 1100)
	base := "b=v; Path=/a; SameSite=None; Max-Age=" + zeros
	run := func(bField string) []string {
		n := testNormalizer(t, Group{Cookies: []string{"a", "b"}, OnDelete: "cascade"}.rule())
		in := []string{bField}
		out := n.rewriteResponse(slices.Clone(in), testDate, &request{https: true, cookies: []string{"a=1; b=2"}, from: requestFor("/logout")}, nil)
		return out[len(in):]
	}
	want := run(base)
	got := run(base + "; Max-Age=x")
	if !slices.Equal(got, want) {
		t.Errorf("appended with a trailing Max-Age=x (read by no engine):\n got  %q\nwant %q (as without it)", got, want)
	}
}
