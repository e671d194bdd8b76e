package cookienormalizer

import "testing"

// TestRefusedLogOuts: log-outs Chromium and Firefox refuse for their
// attributes, in groups with a prefixed member, and __Host- sets they
// refuse only off the root. Each case runs one response (https) through
// a fresh handler for its group with on_delete cascade and compares the
// output exactly.
func TestRefusedLogOuts(t *testing.T) {
	const splitNone = "b=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; SameSite=None"
	for _, tc := range []struct {
		name      string
		members   []string
		target    string
		in, want  []string
		unchanged bool // want is in
	}{
		{
			// Max-Age=3600 then an Expires in 1970: libsoup lets the
			// last decide and deletes; Chromium and Firefox would read
			// the Max-Age, but refuse the field (SameSite=None without
			// Secure) and keep b. The others are deleted at its place
			// with Secure, which they take, and so must b be: its own
			// deletion copies SameSite=None without Secure.
			name:    "a split log-out whose place the others take",
			members: []string{"__Secure-a", "b", "c"},
			target:  "/app/x",
			in:      []string{splitNone},
			want: []string{
				splitNone,
				del("__Secure-a", "; Path=/; Secure; SameSite=None"),
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"), // the deletion Chromium and Firefox take
				del("c", "; Path=/; SameSite=None"),
				del("c", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// Beside another member's log-out they take: they delete
			// __Secure-a, and refuse b's field and b's own deletion,
			// which copies it: b gets one they take.
			name:    "a split log-out beside a log-out browsers take",
			members: []string{"b", "__Secure-a"},
			target:  "/app/x",
			in:      []string{splitNone, "__Secure-a=; Max-Age=0; Path=/; Secure"},
			want: []string{
				splitNone,
				"__Secure-a=; Max-Age=0; Path=/; Secure",
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			name:    "a partitioned split log-out without Secure",
			members: []string{"__Secure-a", "b"},
			target:  "/app/x",
			in:      []string{"b=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Partitioned"},
			want: []string{
				"b=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Partitioned",
				del("__Secure-a", "; Path=/; Secure; Partitioned"),
				del("b", "; Path=/; Partitioned"),
				del("b", "; Path=/; Secure; Partitioned"),
			},
		},
		{
			// Passed unchanged (a byte over 0x7f); WebKitGTK reads a
			// deletion up to the byte. The member's deletion at the
			// field's place copies the attributes Chromium and Firefox
			// refuse: one they take follows.
			name:    "a log-out passed unchanged",
			members: []string{"__Secure-x", "a", "b"},
			target:  "/rd/x",
			in:      []string{"a=v3; SameSite=None; Path=/rd/; Max-Age=0; X=\u00e9"},
			want: []string{
				"a=v3; SameSite=None; Path=/rd/; Max-Age=0; X=\u00e9",
				del("__Secure-x", "; Path=/rd/; Secure; SameSite=None"),
				del("a", "; Path=/rd/; SameSite=None"),
				del("a", "; Path=/rd/; Secure; SameSite=None"),
				del("b", "; Path=/rd/; SameSite=None"),
				del("b", "; Path=/rd/; Secure; SameSite=None"),
			},
		},
		{
			// A __Host- log-out at Path=/app (its fixed deletion is at
			// /) and an unprefixed one refused for SameSite=None:
			// whichever member's place the others take (the last
			// deleted in config order, here b), c is also deleted at
			// the __Host- member's fixed place, or Chromium and
			// Firefox, which delete __Host-a at /, would hold c there
			// alone.
			name:    "the fixed places of every deleted member",
			members: []string{"__Host-a", "b", "c"},
			target:  "/app/x",
			in:      []string{"__Host-a=; Max-Age=0; Path=/app; Secure", "b=; Max-Age=0; Path=/app; SameSite=None"},
			want: []string{
				"__Host-a=; Max-Age=0; Path=/app; Secure",
				"b=; Max-Age=0; Path=/app; SameSite=None",
				del("__Host-a", "; Path=/; Secure"),
				del("b", "; Path=/app; Secure; SameSite=None"),
				del("c", "; Path=/app; SameSite=None"),
				del("c", "; Path=/; Secure"),
				del("c", "; Path=/app; Secure; SameSite=None"),
			},
		},
		{
			// Set twice off the root: first valid (Path=/, Secure), then
			// without Path. Chromium and Firefox refuse only the second
			// and store __Host-b=v1 at /: the member is set, and a set
			// stops a cascade (as with the fields in the other order).
			name:      "a __Host- member set validly, then without Path, off the root",
			members:   []string{"a", "__Host-b"},
			target:    "/app/x",
			in:        []string{"a=; Max-Age=0; Path=/", "__Host-b=v1; Secure; Path=/", "__Host-b=v2; Secure"},
			unchanged: true,
		},
	} {
		n := testNormalizer(t, Group{Cookies: tc.members, OnDelete: "cascade"}.rule())
		var rec recordingObserver
		got := n.rewriteResponse(append([]string(nil), tc.in...), testDate, &request{https: true, from: requestFor(tc.target)}, &rec)
		want := tc.want
		if tc.unchanged {
			want = tc.in
		}
		if !equalStrings(got, want) {
			t.Errorf("%s:\n in:   %q\n want: %q\n got:  %q\n events: %q", tc.name, tc.in, want, got, rec)
		}
	}
}
