package cookienormalizer

import (
	"slices"
	"strings"
	"testing"
)

// TestRefusedLogOuts: log-outs Chromium and Firefox refuse for their
// attributes, and __Host- sets they refuse only off the root. Each case runs one response (https) through
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
		http      bool // over plain http
		crossSite bool // a cross-site request
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
			// No prefixed member: a's log-out is refused (SameSite=None
			// without Secure), b's is taken, and c's deletion copies
			// b's (the last deleted in config order): without a
			// deletion of a they take, Chromium and Firefox would hold
			// a alone.
			name:    "a refused log-out beside one browsers take",
			members: []string{"a", "b", "c"},
			target:  "/app/x",
			in:      []string{"a=; Max-Age=0; Path=/; SameSite=None", "b=; Max-Age=0; Path=/"},
			want: []string{
				"a=; Max-Age=0; Path=/; SameSite=None",
				"b=; Max-Age=0; Path=/",
				del("a", "; Path=/; Secure; SameSite=None"),
				del("c", "; Path=/"),
				del("c", "; Path=/; Secure; SameSite=None"), // at a's place with Secure, as every deletion of the others
			},
		},
		{
			name:    "a refused partitioned log-out beside one browsers take",
			members: []string{"a", "b", "c"},
			target:  "/app/x",
			in:      []string{"a=; Max-Age=0; Path=/; Partitioned", "b=; Max-Age=0; Path=/; Secure"},
			want: []string{
				"a=; Max-Age=0; Path=/; Partitioned",
				"b=; Max-Age=0; Path=/; Secure",
				del("a", "; Path=/; Secure; Partitioned"),
				del("c", "; Path=/; Secure"),
				del("c", "; Path=/; Secure; Partitioned"), // a partitioned c, where a's was
			},
		},
		{
			// b's field only WebKitGTK stores (a control byte), at /p:
			// the deletion there, written as WebKitGTK reads it, has no
			// SameSite=None, and Chromium and Firefox take it while
			// refusing a's log-out.
			name:    "a refused log-out beside a deletion at WebKitGTK's place",
			members: []string{"b", "a"},
			target:  "/app/x",
			in:      []string{"b=v; Path=/p; X=\x01", "a=; Max-Age=0; Path=/; SameSite=None"},
			want: []string{
				"b=v; Path=/p; X=\x01",
				"a=; Max-Age=0; Path=/; SameSite=None",
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"),
				del("b", "; Path=/p"),
				del("a", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// The only log-out, refused: the app logs the user out,
			// and every engine now does.
			name:    "a refused log-out alone",
			members: []string{"a", "b"},
			target:  "/app/x",
			in:      []string{"a=; Max-Age=0; Path=/; SameSite=None"},
			want: []string{
				"a=; Max-Age=0; Path=/; SameSite=None",
				del("a", "; Path=/; Secure; SameSite=None"),
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// The app deletes a at / in a field Chromium and Firefox
			// take; its refused log-out at /app, where they may hold a
			// too, gets the deletion they take, and b is deleted at
			// both places (also where the last deletion every engine
			// takes is).
			name:    "a refused log-out after one browsers take elsewhere",
			members: []string{"a", "b"},
			target:  "/app/x",
			in:      []string{"a=; Max-Age=0; Path=/", "a=; Max-Age=0; Path=/app; SameSite=None"},
			want: []string{
				"a=; Max-Age=0; Path=/",
				"a=; Max-Age=0; Path=/app; SameSite=None",
				del("a", "; Path=/app; Secure; SameSite=None"),
				del("b", "; Path=/app; SameSite=None"),
				del("b", "; Path=/"),
				del("b", "; Path=/app; Secure; SameSite=None"),
			},
		},
		{
			// A log-out repeated at the same place, first in a field
			// every engine takes: a needs no other deletion, but the
			// others' deletions copy the last (refused), so they are
			// deleted at its place with Secure too.
			name:    "a log-out repeated with SameSite=None",
			members: []string{"a", "b", "__Secure-c"},
			target:  "/app/x",
			in:      []string{"a=; Max-Age=0; Path=/; Secure", "a=; Max-Age=0; Path=/; SameSite=None"},
			want: []string{
				"a=; Max-Age=0; Path=/; Secure",
				"a=; Max-Age=0; Path=/; SameSite=None",
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"),
				del("__Secure-c", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// a is deleted at /x in a field every engine takes, and its
			// log-out at / is refused; the others take b's place, /:
			// Chromium and Firefox would hold a alone at /.
			name:    "a refused log-out at another place than one browsers take",
			members: []string{"a", "b", "c"},
			target:  "/app/x",
			in:      []string{"a=; Max-Age=0; Path=/x", "a=; Max-Age=0; Path=/; SameSite=None", "b=; Max-Age=0; Path=/"},
			want: []string{
				"a=; Max-Age=0; Path=/x",
				"a=; Max-Age=0; Path=/; SameSite=None",
				"b=; Max-Age=0; Path=/",
				del("a", "; Path=/; Secure; SameSite=None"),
				del("c", "; Path=/"),
				del("c", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// Deleted, set again (every engine stores a=v), then a
			// refused log-out: the set undid the first deletion.
			name:    "a refused log-out after a deletion and a set",
			members: []string{"a", "b", "__Secure-c"},
			target:  "/app/x",
			in:      []string{"a=; Max-Age=0; Path=/", "a=v; Path=/; Secure", "a=; Max-Age=0; Path=/; SameSite=None", "b=; Max-Age=0; Path=/"},
			want: []string{
				"a=; Max-Age=0; Path=/",
				"a=v; Path=/; Secure",
				"a=; Max-Age=0; Path=/; SameSite=None",
				"b=; Max-Age=0; Path=/",
				del("a", "; Path=/; Secure; SameSite=None"),
				del("__Secure-c", "; Path=/; Secure"),
				del("__Secure-c", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// Between the two log-outs, a set only WebKitGTK stores (a
			// control byte), which Chromium and Firefox refuse: a is
			// deleted in them, and WebKitGTK's copy where it stores the
			// set; b's deletion copies the refused log-out, so it gets
			// one at its place with Secure.
			name:    "a log-out repeated around a set only WebKitGTK stores",
			members: []string{"a", "b"},
			target:  "/app/x",
			in:      []string{"a=; Max-Age=0; Path=/; Secure", "a=v; Path=/; X=\x01", "a=; Max-Age=0; Path=/; SameSite=None"},
			want: []string{
				"a=; Max-Age=0; Path=/; Secure",
				"a=v; Path=/; X=\x01",
				"a=; Max-Age=0; Path=/; SameSite=None",
				del("a", "; Path=/"),
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// A set without Path is at the default path, here /: it
			// undid the deletion there.
			name:    "a refused log-out after a deletion and a set without Path",
			members: []string{"a", "b"},
			target:  "/x",
			in:      []string{"a=; Max-Age=0; Path=/", "a=v", "a=; Max-Age=0; Path=/; SameSite=None"},
			want: []string{
				"a=; Max-Age=0; Path=/",
				"a=v",
				"a=; Max-Age=0; Path=/; SameSite=None",
				del("a", "; Path=/; Secure; SameSite=None"),
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// At the root Firefox stores a __Host- set without Path (at
			// /, its default path), Chromium refuses it: it undid the
			// deletion at / in Firefox, so the refused log-out at /app
			// still gets the fixed deletion at /.
			name:    "a refused __Host- log-out after a set only Firefox takes",
			members: []string{"__Host-a", "b"},
			target:  "/x",
			in:      []string{"__Host-a=; Max-Age=0; Path=/; Secure", "__Host-a=v; Secure", "__Host-a=; Max-Age=0; Path=/app; Secure"},
			want: []string{
				"__Host-a=; Max-Age=0; Path=/; Secure",
				"__Host-a=v; Secure",
				"__Host-a=; Max-Age=0; Path=/app; Secure",
				del("__Host-a", "; Path=/; Secure"),
				del("b", "; Path=/app; Secure"),
				del("b", "; Path=/; Secure"),
			},
		},
		{
			// On a cross-site request every engine refuses the first
			// deletion (no SameSite=None), so a's refused log-out at the
			// same place still needs one Chromium and Firefox take.
			name:      "a refused log-out after one refused cross-site",
			members:   []string{"a", "b"},
			target:    "/app/x",
			crossSite: true,
			in:        []string{"a=; Max-Age=0; Path=/app", "a=; Max-Age=0; Path=/app; SameSite=None"},
			want: []string{
				"a=; Max-Age=0; Path=/app",
				"a=; Max-Age=0; Path=/app; SameSite=None",
				del("a", "; Path=/app; Secure; SameSite=None"),
				del("b", "; Path=/app; SameSite=None"),
				del("b", "; Path=/app; Secure; SameSite=None"),
			},
		},
		{
			// On a cross-site request every engine refuses a deletion
			// without SameSite=None: the app's first log-out is taken,
			// the partitioned one without Secure is refused, and so
			// would be b's deletions copying it; the one at its place
			// gets Secure and SameSite=None, which every engine takes.
			name:      "a refused partitioned log-out on a cross-site request",
			members:   []string{"a", "b"},
			target:    "/app/x",
			crossSite: true,
			in:        []string{"a=; Max-Age=0; Path=/; Secure; SameSite=None; Partitioned", "a=; Max-Age=0; Path=/; Partitioned"},
			want: []string{
				"a=; Max-Age=0; Path=/; Secure; SameSite=None; Partitioned",
				"a=; Max-Age=0; Path=/; Partitioned",
				del("b", "; Path=/; Partitioned"),
				del("b", "; Path=/; Secure; SameSite=None; Partitioned"),
			},
		},
		{
			// Over plain http, a deletion with Secure is refused as
			// well (Chromium takes one on a loopback host, where it
			// takes the fix too).
			name:    "a refused log-out after one with Secure over http",
			members: []string{"a", "b"},
			target:  "/app/x",
			http:    true,
			in:      []string{"a=; Max-Age=0; Path=/app; Secure", "a=; Max-Age=0; Path=/app; SameSite=None"},
			want: []string{
				"a=; Max-Age=0; Path=/app; Secure",
				"a=; Max-Age=0; Path=/app; SameSite=None",
				del("a", "; Path=/app; Secure; SameSite=None"),
				del("b", "; Path=/app; SameSite=None"),
				del("b", "; Path=/app; Secure; SameSite=None"),
			},
		},
		{
			// Max-Age=3600 then an Expires in 1970: only libsoup reads a
			// deletion (the last of the two decides); Chromium and
			// Firefox store a=v, so the refused log-out after it needs
			// the deletion they take.
			name:    "a refused log-out after a field only libsoup reads as a deletion",
			members: []string{"a", "b"},
			target:  "/app/x",
			in:      []string{"a=v; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure", "a=; Max-Age=0; Path=/; SameSite=None"},
			want: []string{
				"a=v; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure",
				"a=; Max-Age=0; Path=/; SameSite=None",
				del("a", "; Path=/; Secure; SameSite=None"),
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// Chromium refuses a __Host- deletion without Path=/ (at the
			// root Firefox takes it): the later one at /app, refused by
			// both, still gets the fixed deletion at /.
			name:    "a refused __Host- log-out after one Chromium refuses",
			members: []string{"__Host-a", "b"},
			target:  "/x",
			in:      []string{"__Host-a=; Max-Age=0; Secure", "__Host-a=; Max-Age=0; Path=/app; Secure"},
			want: []string{
				"__Host-a=; Max-Age=0; Secure",
				"__Host-a=; Max-Age=0; Path=/app; Secure",
				del("__Host-a", "; Path=/; Secure"),
				del("b", "; Path=/app; Secure"),
				del("b", "; Path=/; Secure"),
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
		{
			// The same with the valid set over 8 KiB, which the module
			// does not read: it may be stored, and stops the cascade.
			name:      "a __Host- member set over 8 KiB, then without Path, off the root",
			members:   []string{"b", "__Host-a"},
			target:    "/app/x",
			in:        []string{"b=; Max-Age=0; Path=/", bigHostSet, "__Host-a=v2; Secure"},
			unchanged: true,
		},
		{
			// A log-out they take at /, a set at / over 8 KiB (short
			// attributes: every engine stores it, the module does not
			// read it), then a log-out at /app they refuse (a __Host-
			// name off the root, without Secure). They keep __Host-a
			// from the set: the deletion at / before it does not stand
			// for the fix, which must come.
			name:    "a refused log-out after a set the module does not read",
			members: []string{"__Host-a", "b"},
			target:  "/page",
			in:      []string{"__Host-a=; Max-Age=0; Path=/; Secure", bigHostSet, "__Host-a=; Max-Age=0; Path=/app"},
			want: []string{
				"__Host-a=; Max-Age=0; Path=/; Secure", bigHostSet, "__Host-a=; Max-Age=0; Path=/app",
				del("__Host-a", "; Path=/; Secure"),
				del("b", "; Path=/app"),
				del("b", "; Path=/; Secure"),
			},
		},
	} {
		n := testNormalizer(t, Group{Cookies: tc.members, OnDelete: "cascade"}.rule())
		var rec recordingObserver
		req := &request{https: !tc.http, crossSiteFetch: tc.crossSite, from: requestFor(tc.target)}
		got := n.rewriteResponse(append([]string(nil), tc.in...), testDate, req, &rec)
		want := tc.want
		if tc.unchanged {
			want = tc.in
		}
		if !equalStrings(got, want) {
			t.Errorf("%s:\n in:   %q\n want: %q\n got:  %q\n events: %q", tc.name, tc.in, want, got, rec)
		}
	}
}

// bigHostSet is a valid __Host- set over 8 KiB of short attributes, which
// Chromium, Firefox and WebKitGTK store and the module does not read.
var bigHostSet = "__Host-a=v; Path=/; Secure" + strings.Repeat("; x=y", 1700)

// TestRefusedLogOutsBesideWebKitFields: a refused log-out at the place of
// an earlier field of the member only WebKitGTK stores, with a deletion
// Chromium and Firefox take between the two at another place (another
// Path, a Domain, Partitioned), still gets its fix: they keep the member
// at the log-out's place while the cascade deletes the others there.
// Each case runs one response (https, request target /app/x) through a
// fresh handler with on_delete cascade and compares the appended fields
// exactly.
func TestRefusedLogOutsBesideWebKitFields(t *testing.T) {
	for _, tc := range []struct {
		name         string
		members      []string
		path         string // group path policy
		in, appended []string
	}{
		{
			// Chromium/Firefox: refuse a=v (SameSite=None w/o Secure),
			// delete a at /other only, refuse the log-out at /: a at /
			// (held before) survives; b is deleted at / (Secure copy)
			// and /other.
			// WebKitGTK: stores a=v, deletes it at /; b deleted.
			// Want: a's fix at / with Secure.
			name:    "in-between deletion at another Path",
			members: []string{"a", "b"},
			in:      []string{"a=v; Path=/; SameSite=None", "a=; Max-Age=0; Path=/other", "a=; Max-Age=0; Path=/; SameSite=None"},
			appended: []string{
				del("a", "; Path=/; Secure; SameSite=None"),
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/other"),
				del("b", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// The in-between deletion is of the partitioned a at /: the
			// unpartitioned a at / survives in Chromium and Firefox.
			name:    "in-between deletion partitioned",
			members: []string{"a", "b"},
			in:      []string{"a=v; Path=/; SameSite=None", "a=; Max-Age=0; Path=/; Secure; Partitioned", "a=; Max-Age=0; Path=/; SameSite=None"},
			appended: []string{
				del("a", "; Path=/; Secure; SameSite=None"),
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// The app sets a=v at / (every engine stores it), a=w only
			// WebKitGTK stores, deletes a at /app, logs out at / in a
			// field Chromium and Firefox refuse: they end with a=v at /
			// (just set) and b deleted at / and /app. Want a's fix.
			name:    "cookie set in the response survives in Chromium and Firefox",
			members: []string{"a", "b"},
			in:      []string{"a=v; Path=/; Secure", "a=w; Path=/; SameSite=None", "a=; Max-Age=0; Path=/app; Secure", "a=; Max-Age=0; Path=/; SameSite=None"},
			appended: []string{
				del("a", "; Path=/; Secure; SameSite=None"),
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/app; Secure"),
				del("b", "; Path=/; Secure; SameSite=None"),
			},
		},
		{
			// Prefixed: __Secure-s=v set with Secure
			// (stored by all), __Secure-s=w without Secure (WebKitGTK
			// only), deleted at Domain=example.com (a domain cookie,
			// another place), logged out host-only at / without Secure
			// (Chromium/Firefox refuse it for the prefix). They keep
			// __Secure-s=v host-only at / while b is deleted there.
			name:    "prefixed: in-between deletion at a Domain",
			members: []string{"__Secure-s", "b"},
			in:      []string{"__Secure-s=v; Path=/; Secure", "__Secure-s=w; Path=/", "__Secure-s=; Max-Age=0; Path=/; Domain=example.com; Secure", "__Secure-s=; Max-Age=0; Path=/"},
			appended: []string{
				del("__Secure-s", "; Path=/; Secure"),
				del("b", "; Path=/"),
			},
		},
		{
			// __Host- (refused for no Secure): __Host-a=v just set at /
			// (all store), =w only WebKitGTK stores, the partitioned
			// __Host-a deleted, the host-only one logged out without
			// Secure. Chromium/Firefox keep __Host-a=v alone at / (b
			// deleted there with Secure).
			name:    "__Host-: in-between deletion partitioned",
			members: []string{"__Host-a", "b"},
			in:      []string{"__Host-a=v; Path=/; Secure", "__Host-a=w; Path=/", "__Host-a=; Max-Age=0; Path=/; Secure; Partitioned", "__Host-a=; Max-Age=0; Path=/"},
			appended: []string{
				del("__Host-a", "; Path=/; Secure"),
				del("b", "; Path=/"),
				del("b", "; Path=/; Secure"),
			},
		},
		{
			// path policy /: fields without Path are sent at /. The
			// in-between deletion is of a domain cookie; the host-only a
			// at / survives in Chromium/Firefox.
			name:    "path policy, in-between deletion at a Domain",
			members: []string{"a", "b"},
			path:    "/",
			in:      []string{"a=v; SameSite=None", "a=; Max-Age=0; Domain=example.com", "a=; Max-Age=0; SameSite=None"},
			appended: []string{
				del("a", "; Path=/; Secure; SameSite=None"),
				del("b", "; Path=/; SameSite=None"),
				del("b", "; Path=/; Secure; SameSite=None"),
			},
		},
	} {
		n := testNormalizer(t, Group{Cookies: tc.members, OnDelete: "cascade", Path: tc.path}.rule())
		got := n.rewriteResponse(slices.Clone(tc.in), testDate, &request{https: true, from: requestFor("/app/x")}, nil)
		if !slices.Equal(got[len(tc.in):], tc.appended) {
			t.Errorf("%s:\n appended %q\n want     %q", tc.name, got[len(tc.in):], tc.appended)
		}
	}
}
