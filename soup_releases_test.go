package cookienormalizer

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The releases of libsoup read a field the scan rejects apart (see
// soupRelease): 3.2 stops at a HTAB or a byte over 0x7f, 3.4 and later
// read on and stop only at a ',' in an attribute's name; 3.2 and 3.4
// refuse a field whose last Domain is over 1024 bytes, 3.6.5 skips that
// Domain. These tests pin the model; the browser suite checks it against
// WebKitGTK on libsoup 3.2 and, swapped in by hand, 3.6.5
// (docs/verification.md).

// TestScanSoupStops: where each release stops, and whether it refuses
// the field for a long Domain.
func TestScanSoupStops(t *testing.T) {
	for _, tc := range []struct {
		v                  string
		stop, commaStop    int // -1: len(v)
		refused32, refused bool
	}{
		{"a=v; Path=/\t; Max-Age=60", 11, -1, false, false},
		{"a=v; Z=caf\u00e9; Max-Age=0", 10, -1, false, false},
		// libsoup reads an attribute's name up to the ',' (a Secure there
		// counts), then stops.
		{"a=v; x,y=1; Max-Age=0", 6, 6, false, false},
		{"a=v; P\tx=1; a,b; Max-Age=0", 6, 13, false, false},
		{"a=v; a,b; P\tx=1", 6, 6, false, false},
		// 3.2 skips a HTAB in the white space before a name or a value
		// (the scan then rejects nothing).
		{"a=v;\tMax-Age=0; X=\t1", -1, -1, false, false},
		{"a=1; Max-Age=0; Max-Age=\t5", -1, -1, false, false},
		{"\ta=\tv; X=1 \t", 11, -1, false, false},
		// Only the first '=' of a segment starts a value.
		{"a=v; X=b=\tc; Max-Age=0", 9, -1, false, false},
		// The Domain after 3.2's stop: only 3.4 reads it.
		{"a=; Max-Age=0\t; Domain=" + longDomain, 13, -1, false, true},
		// After the ',': no release reads it.
		{"a=; x,y; Domain=" + longDomain, 5, 5, false, false},
		{"a=; Domain=\t" + longDomain, -1, -1, true, true},
		// The last Domain with a value decides; a bare one is passed over.
		{"a=; Domain=" + longDomain + "; Domain", -1, -1, true, true},
		{"a=; Domain=" + longDomain + "; Domain=", -1, -1, false, false},
		{"a=; Domain=" + longDomain + "; X=p\tq; Domain=example.com", 1116, -1, true, false},
		// A later short Domain replaces a long one 3.2 did not read.
		{"a=; X=p\tq; Domain=" + longDomain + "; Domain=example.com", 7, -1, false, false},
	} {
		for _, kinds := range []kindMask{0, lifetimeKinds | attributeKinds} {
			var f setCookie
			if !f.scan(tc.v, kinds, 0) {
				t.Fatalf("%.40q: not a cookie", tc.v)
			}
			stop, commaStop := tc.stop, tc.commaStop
			if stop < 0 {
				stop = len(tc.v)
			}
			if commaStop < 0 {
				commaStop = len(tc.v)
			}
			if f.stop != stop || f.commaStop != commaStop || f.soupRefused != tc.refused32 || f.soupLongDomain != tc.refused {
				t.Errorf("%.60q (kinds %b): stop %d, commaStop %d, soupRefused %v, soupLongDomain %v; want %d, %d, %v, %v",
					tc.v, kinds, f.stop, f.commaStop, f.soupRefused, f.soupLongDomain, stop, commaStop, tc.refused32, tc.refused)
			}
		}
	}
}

// TestUnreadReadingsReleases: which engines keep and which refuse a field
// the scan rejects, each release of libsoup on its own.
func TestUnreadReadingsReleases(t *testing.T) {
	const (
		chromium = 1 << byChromium
		firefox  = 1 << byFirefox
		rfc      = 1 << byRFC
	)
	s32, s34, s365 := soup32.bit(), soup34.bit(), soup365.bit()
	for _, tc := range []struct {
		name           string
		v              string
		keeps, refuses uint8
		known          bool
	}{
		{"3.2 stops at the HTAB before the Expires that 3.4 and later honour (the last of Max-Age and Expires)",
			"a=; Path=/x; Max-Age=0\t; Expires=Sun, 01 Jan 2040 00:00:00 GMT", s34 | s365, 0, true},
		{"the same at a byte over 0x7f",
			"a=; Path=/x; Max-Age=0; Z=caf\u00e9; Expires=Sun, 01 Jan 2040 00:00:00 GMT", s34 | s365, 0, true},
		{"a ',' in an attribute's name stops every release",
			"a=; Path=/x; Max-Age=0; x,y; Expires=Sun, 01 Jan 2040 00:00:00 GMT", 0, 0, true},
		{"a long Domain: 3.2 and 3.4 refuse the field, 3.6.5 skips the Domain and honours the Expires after the Max-Age",
			"a=v; Domain=" + longDomain + "; Max-Age=0; Expires=Sun, 01 Jan 2040 00:00:00 GMT", s365, s32 | s34, true},
		{"3.4 and later cannot be read (a date libsoup may parse) but Chromium surely deletes: they count as keeping",
			"a=v; Max-Age=0\t; Expires=garbage; Path=/rd/x", s34 | s365, 0, true},
		{"3.4 and later cannot be read and no engine surely deletes: not known",
			"a=v; Max-Age=60\t; Expires=garbage", 0, 0, false},
		{"a __Host- name without Path: 3.4 and later refuse it unless the default path is /, not known here: both",
			"__Host-a=; Secure; F\to=1; Max-Age=0", s32 | s34 | s365, chromium | s34 | s365, true},
		{"SameSite=None without Secure: Chromium, Firefox, 3.4 and later refuse it; 3.2 reads a deletion",
			"a=; Max-Age=0; SameSite=None; X=\u00e9", 0, chromium | firefox | s34 | s365, true},
		{"libsoup keeps the last SameSite of None or Strict: a later Lax leaves None, refused without Secure",
			"a=v; SameSite=None; SameSite=Lax; X=\u00e9; Max-Age=0", s32, s34 | s365, true},
		{"a later Strict replaces None",
			"a=v; SameSite=None; SameSite=Strict; X=\u00e9; Max-Age=0", s32, 0, true},
		{"a __Host- name with an IP Domain: 3.4 and later put no '.' before it, and store it (3.2 stops before the Max-Age)",
			"__Host-a=; Secure; Path=/; Domain=127.0.0.1; X=\u00e9; Max-Age=0", s32, chromium | firefox, true},
		{"a __Host- name with a Domain: 3.4 and later refuse it",
			"__Host-a=; Secure; Path=/; Domain=example.com; X=\u00e9; Max-Age=0", s32, chromium | firefox | s34 | s365, true},
		{"a __Secure- name without Secure: every engine but 3.2 refuses it",
			"__Secure-a=v; X=\u00e9; Max-Age=0", s32, chromium | firefox | s34 | s365, true},
		{"3.6.5 alone skips the long Max-Age and honours the past Expires before it: it alone deletes",
			"a=v; X=\u00e9; Max-Age=3600; Expires=Thu, 01 Jan 2026 00:00:00 GMT; Max-Age=" + strings.Repeat("0", 1100) + "5",
			chromium | firefox | rfc | s32 | s34, 0, true},
		{"past a C int, 3.2 and 3.4 cut the Max-Age to 0; 3.6 caps it at a year first",
			"a=1; Max-Age=4294967296; X=\u00e9", chromium | firefox | rfc | s365, 0, true},
		{"libsoup reads Secure from a name cut at a ',': 3.4 and later store the deletion Chromium and Firefox refuse",
			"a=1; SameSite=None; X=\u00e9; Max-Age=0; Secure,x", s32, chromium | firefox, true},
		{"3.4 and later know nothing of Partitioned: they store the deletion Chromium and Firefox refuse",
			"a=1; Partitioned; X=\u00e9; Max-Age=0", s32, chromium | firefox, true},
		{"every engine keeps it",
			"a=v; Max-Age=60\t; Max-Age=120", chromium | firefox | rfc | s32 | s34 | s365, 0, true},
	} {
		var f setCookie
		if !f.scan(tc.v, lifetimeKinds, 0) {
			t.Fatalf("%s: not a cookie", tc.name)
		}
		now := clock{now: func() time.Time { return testClock }}
		keeps, refuses, known := unreadReadings(&f, testClock.Unix(), &now)
		if known != tc.known || known && (keeps != tc.keeps || refuses != tc.refuses) {
			t.Errorf("%s:\n%.80q: keeps %08b, refuses %08b, known %v; want %08b, %08b, %v", tc.name, tc.v, keeps, refuses, known, tc.keeps, tc.refuses, tc.known)
		}
	}
}

// TestCascadeLibsoupReleases: a log-out the module passes unchanged that
// libsoup 3.4 and later (or 3.6.5) read as a set gets a deletion where
// they store it, so that the cascade leaves no engine holding that
// member alone.
func TestCascadeLibsoupReleases(t *testing.T) {
	d := func(name, attrs string) string {
		return name + "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0" + attrs
	}
	long := "a=v; Domain=" + longDomain + "; Max-Age=0; Expires=Sun, 01 Jan 2040 00:00:00 GMT"
	for _, tc := range []struct {
		name, path string
		in         string
		want       []string
	}{
		{"past a HTAB: a deletion at /x for 3.4 and later", "",
			"a=; Path=/x; Max-Age=0\t; Expires=Sun, 01 Jan 2040 00:00:00 GMT",
			[]string{d("a", "; Path=/x"), d("b", "; Path=/x")}},
		{"past a HTAB, under a path policy: the placed deletion, then the keepers' place", "/",
			"a=; Path=/x; Max-Age=0\t; Expires=Sun, 01 Jan 2040 00:00:00 GMT",
			[]string{d("a", "; Path=/"), d("a", "; Path=/x"), d("b", "; Path=/"), d("b", "; Path=/x")}},
		{"past a byte over 0x7f: the same", "",
			"a=; Path=/x; Max-Age=0; Z=caf\u00e9; Expires=Sun, 01 Jan 2040 00:00:00 GMT",
			[]string{d("a", "; Path=/x"), d("b", "; Path=/x")}},
		{"a long Domain: the member's own deletion for 3.2 and 3.4, which keep theirs, and a host-only one at the default path for 3.6.5", "",
			long, []string{d("a", ""), d("a", "; Path=/x"), d("b", ""), d("b", "; Path=/x")}},
		{"past a C int: Chromium keeps it at /p, 3.6 at /x (it stops at the ','), where 3.2 and 3.4 delete it", "",
			"a=1; Max-Age=4294967296; x,y=1; Path=/p",
			[]string{d("a", "; Path=/p"), d("a", "; Path=/x"), d("b", "; Path=/p"), d("b", "; Path=/x")}},
		{"every engine deletes, libsoup 3.2 at /y (it skips the HTAB before the name, stops at the one after the 0), the others at /z: both places", "",
			"a=;\tPath=/y; Max-Age=0\t; Path=/z",
			[]string{d("a", "; Path=/z"), d("a", "; Path=/y"), d("b", "; Path=/z"), d("b", "; Path=/y")}},
		{"3.2 deletes at /x (it stops at the HTAB), 3.4 and later refuse it at /q (SameSite=None without Secure): nothing at /q", "",
			"a=; Max-Age=0; X=p\tq; Path=/q; SameSite=None; x,y; Path=/z",
			[]string{d("a", "; Path=/z; SameSite=None"), d("a", "; Path=/z; Secure; SameSite=None"), d("a", "; Path=/x"),
				d("b", "; Path=/z; SameSite=None"), d("b", "; Path=/z; Secure; SameSite=None"), d("b", "; Path=/x")}},
		{"libsoup drops a Path that does not start with '/': 3.2 deletes at the default path /x", "",
			"a=; Path=x; Max-Age=0\t; Path=/z",
			[]string{d("a", "; Path=/z"), d("a", "; Path=/x"), d("b", "; Path=/z"), d("b", "; Path=/x")}},
		{"and an empty one", "",
			"a=; Path=; Max-Age=0\t; Path=/z",
			[]string{d("a", "; Path=/z"), d("a", "; Path=/x"), d("b", "; Path=/z"), d("b", "; Path=/x")}},
		{"libsoup passes over a Path without a '=': 3.2 deletes at /y", "",
			"a=; Path=/y; Path; Max-Age=0\t; Path=/z",
			[]string{d("a", "; Path=/z"), d("a", "; Path=/y"), d("b", "; Path=/z"), d("b", "; Path=/y")}},
		{"a HTAB 3.2 skips: every engine keeps the cookie, nothing cascades", "",
			"a=1; Max-Age=0;\tMax-Age=5", nil},
		{"the same before a value", "",
			"a=1; Max-Age=0; Max-Age=\t5", nil},
		{"a log-out only 3.4 and later take (Partitioned without Secure): the cascade, and deletions where 3.2 stores it", "",
			"a=1; Partitioned; X=\u00e9; Max-Age=0",
			[]string{d("a", "; Partitioned"), d("a", "; Secure; Partitioned"), d("a", "; Path=/x; Partitioned"), d("a", "; Path=/x; Secure; Partitioned"),
				d("b", "; Partitioned"), d("b", "; Secure; Partitioned"), d("b", "; Path=/x; Partitioned")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := testNormalizer(t, Group{Cookies: []string{"a", "b"}, OnDelete: "cascade", Path: tc.path}.rule())
			in := []string{tc.in}
			out := n.rewriteResponse(slices.Clone(in), testDate, &request{https: true, cookies: []string{"a=1; b=2"}, from: requestFor("/x/logout")}, nil)
			if !slices.Equal(out[1:], tc.want) || out[0] != tc.in {
				t.Errorf("got\n %q\nwant the field, then\n %q", out, tc.want)
			}
		})
	}
	if strings.Contains(long, "\t") {
		t.Fatal("the long Domain row must have no other reason to be rejected")
	}
}

// TestWebkitReadSkipsLeadingSpace: libsoup 3.2 skips the white space
// before a name or a value as g_ascii_isspace has it, a form feed too:
// `a=1;\fPath=/`, which Chromium and Firefox refuse for its control
// byte, is a=1 at / there; libsoup 3.4 and later skip only spaces and
// HTABs, and store it at the default path. The cascade after b's
// log-out deletes a at both.
func TestWebkitReadSkipsLeadingSpace(t *testing.T) {
	for _, tc := range []struct{ v, read string }{
		{"a=1;\fPath=/", "a=1; Path=/"},
		{"a=\r1; \nPath=/x\f; Max-Age=0", "a= 1;  Path=/x"},
		{"a=1; Path=/\x01; Max-Age=0", "a=1; Path=/"},
	} {
		if got := webkitRead(tc.v); got != tc.read {
			t.Errorf("webkitRead(%q) = %q, want %q", tc.v, got, tc.read)
		}
	}
	n := testNormalizer(t, Group{Cookies: []string{"a", "b"}, OnDelete: "cascade"}.rule())
	in := []string{"b=; Max-Age=0", "a=1;\fPath=/"}
	out := n.rewriteResponse(slices.Clone(in), testDate, &request{https: true, cookies: []string{"a=1; b=2"}, from: requestFor("/x/logout")}, nil)
	want := []string{del("a", ""), del("a", "; Path=/")}
	if !slices.Equal(out[len(in):], want) {
		t.Errorf("appended %q, want %q", out[len(in):], want)
	}
}

// TestSoupRefusesForAttrs: the cookie jar checks of libsoup 3.4 and later
// (soup-cookie-jar.c), on the part of a field a release reads.
func TestSoupRefusesForAttrs(t *testing.T) {
	longPath := "/" + strings.Repeat("p", 1100)
	for _, tc := range []struct {
		v              string
		s              soupRelease
		refused, known bool
	}{
		{"a=v; SameSite=None", soup34, true, true},
		{"a=v; SameSite=None; Secure", soup34, false, true},
		// A flag counts whatever its value.
		{"a=v; SameSite=None; Secure=" + strings.Repeat("x", 1100), soup365, false, true},
		{"a=v; SameSite; SameSite=None; SameSite", soup34, true, true},
		{"__Secure-a=v", soup365, true, true},
		{"__Host-a=v; Secure; Path=/", soup34, false, true},
		// 3.4 reads a Path over 1024 bytes, 3.6.5 skips it.
		{"__Host-a=v; Secure; Path=/; Path=" + longPath, soup34, true, true},
		{"__Host-a=v; Secure; Path=/; Path=" + longPath, soup365, false, true},
		// A Path not starting with '/' is none: the default path.
		{"__Host-a=v; Secure; Path=/; Path=rel", soup34, true, false},
		{"__Host-a=v; Secure", soup34, true, false},
		// A Domain without a '=' is passed over.
		{"__Host-a=v; Secure; Path=/; Domain=example.com; Domain", soup34, true, true},
		{"__Host-a=v; Secure; Path=/; Domain=example.com; Domain=", soup34, false, true},
		{"__Host-a=v; Secure; Path=/; Domain=127.0.0.1", soup34, false, true},
		{"__Host-a=v; Secure; Path=/; Domain=.127.0.0.1", soup34, true, true},
	} {
		var f setCookie
		if !f.scan(tc.v, lifetimeKinds|attributeKinds, 0) {
			t.Fatalf("%.60q: not a cookie", tc.v)
		}
		if refused, known := soupRefusesForAttrs(&f, tc.s); refused != tc.refused || known != tc.known {
			t.Errorf("%.70q (release %d): refused %v, known %v; want %v, %v", tc.v, tc.s, refused, known, tc.refused, tc.known)
		}
	}
}

// TestCascadeWithheldOncePerResponse: a log-out whose cascade the module
// withholds (libsoup 3.2 reads its Path apart, with a byte over 0x7f in
// it: no deletion can be written there) is reported once for the
// response, not again on a later pass over the same response (a field
// added before the first body byte); a response that sets the other
// member reports nothing (it is no log-out of the group).
func TestCascadeWithheldOncePerResponse(t *testing.T) {
	n := testNormalizer(t, Group{Cookies: []string{"a", "b"}, OnDelete: "cascade"}.rule())
	req := &request{https: true, cookies: []string{"a=1; b=2"}, from: requestFor("/x/logout")}
	var obs recordingObserver
	out := n.rewriteResponse([]string{"a=; Max-Age=0; Path=/caf\u00e9"}, testDate, req, &obs)
	out = n.rewriteResponse(append(out, "theme=dark"), testDate, req, &obs)
	want := recordingObserver{"a #1 passed invalid", "a #1 cascade withheld", "a #1 passed invalid"}
	if !slices.Equal(obs, want) || len(out) != 2 {
		t.Errorf("observed %q (fields %q), want %q and the two fields", obs, out, want)
	}
	obs = nil
	n.rewriteResponse([]string{"a=; Max-Age=0; Path=/caf\u00e9", "b=v"}, testDate, &request{https: true, from: requestFor("/x/logout")}, &obs)
	if want := (recordingObserver{"a #1 passed invalid", "b #1 unchanged"}); !slices.Equal(obs, want) {
		t.Errorf("with b set: observed %q, want %q", obs, want)
	}
}

// TestUnreadReadingsSoupClock: libsoup counts an Expires from its own
// clock, Chromium and Firefox from the response's Date. Under a Date 8 h
// fast, an Expires an hour past the proxy's clock is a deletion in
// Chromium and Firefox and an hour in every libsoup release (3.2 reads
// it before the byte over 0x7f).
func TestUnreadReadingsSoupClock(t *testing.T) {
	var f setCookie
	if !f.scan("a=v; Expires=Tue, 24 Nov 2026 14:00:00 GMT; X=\u00e9", lifetimeKinds, 0) {
		t.Fatal("not a cookie")
	}
	now := clock{now: func() time.Time { return testClock }}
	keeps, refuses, known := unreadReadings(&f, testClock.Add(8*time.Hour).Unix(), &now)
	if want := soupReleases; !known || keeps != want || refuses != 0 {
		t.Errorf("keeps %08b, refuses %08b, known %v; want %08b, 0, true", keeps, refuses, known, want)
	}
}
