package cookienormalizer

import "testing"

// runExact runs one response through a fresh handler for g and compares the
// output with want exactly.
func runExact(t *testing.T, g Group, https bool, target string, in, want []string) {
	t.Helper()
	n := testNormalizer(t, g.rule())
	var rec recordingObserver
	got := n.rewriteResponse(append([]string(nil), in...), testDate, &request{https: https, from: requestFor(target)}, &rec)
	if !equalStrings(got, want) {
		t.Errorf("\n in:   %q\n want: %q\n got:  %q\n events: %q", in, want, got, rec)
	}
}

// A split log-out (Max-Age=3600 then an Expires in 1970: libsoup lets
// the last decide and deletes; Chromium/Firefox would read Max-Age) with
// SameSite=None and no Secure, in a group with a prefixed member, being
// the member whose place the others take. Chromium and Firefox refuse
// the field (keep b); the others are deleted at its place with Secure,
// which they take, and so must b be: its own deletion copies
// SameSite=None without Secure, which they refuse too.
func TestRefusedSplitLogOutInPrefixedGroup(t *testing.T) {
	runExact(t, Group{Cookies: []string{"__Secure-a", "b", "c"}, OnDelete: "cascade"}, true, "/app/x",
		[]string{"b=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; SameSite=None"},
		[]string{
			"b=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; SameSite=None",
			del("__Secure-a", "; Path=/; Secure; SameSite=None"),
			del("b", "; Path=/; SameSite=None"),
			del("b", "; Path=/; Secure; SameSite=None"), // the deletion Chromium and Firefox take
			del("c", "; Path=/; SameSite=None"),
			del("c", "; Path=/; Secure; SameSite=None"),
		})
}

// The same split member beside another member's log-out they take:
// they delete __Secure-a, and refuse b's field and b's own deletion,
// which copies it: b gets one they take.
func TestRefusedSplitLogOutBesideTakenLogOut(t *testing.T) {
	runExact(t, Group{Cookies: []string{"b", "__Secure-a"}, OnDelete: "cascade"}, true, "/app/x",
		[]string{"b=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; SameSite=None", "__Secure-a=; Max-Age=0; Path=/; Secure"},
		[]string{
			"b=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; SameSite=None",
			"__Secure-a=; Max-Age=0; Path=/; Secure",
			del("b", "; Path=/; SameSite=None"),
			del("b", "; Path=/; Secure; SameSite=None"),
		})
}

// The same with a partitioned split log-out without Secure.
func TestRefusedSplitPartitionedLogOut(t *testing.T) {
	runExact(t, Group{Cookies: []string{"__Secure-a", "b"}, OnDelete: "cascade"}, true, "/app/x",
		[]string{"b=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Partitioned"},
		[]string{
			"b=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Partitioned",
			del("__Secure-a", "; Path=/; Secure; Partitioned"),
			del("b", "; Path=/; Partitioned"),
			del("b", "; Path=/; Secure; Partitioned"),
		})
}

// A __Host- member set twice off the root: first valid (Path=/,
// Secure), then without Path. Chromium and Firefox refuse only the
// second and store __Host-b=v1 at /: the member is set, and a set stops
// a cascade (as with the fields in the other order).
func TestHostSetTwiceOffRoot(t *testing.T) {
	in := []string{"a=; Max-Age=0; Path=/", "__Host-b=v1; Secure; Path=/", "__Host-b=v2; Secure"}
	runExact(t, Group{Cookies: []string{"a", "__Host-b"}, OnDelete: "cascade"}, true, "/app/x", in, in)
}

// A __Host- log-out at Path=/app (its fixed deletion is at /) and an
// unprefixed log-out refused for SameSite=None: whichever member's place
// the others take (the last deleted in config order, here b), c is also
// deleted at the __Host- member's fixed place, or Chromium and Firefox,
// which delete __Host-a at /, would hold c there alone.
func TestFixPlacesOfEveryDeletedMember(t *testing.T) {
	runExact(t, Group{Cookies: []string{"__Host-a", "b", "c"}, OnDelete: "cascade"}, true, "/app/x",
		[]string{"__Host-a=; Max-Age=0; Path=/app; Secure", "b=; Max-Age=0; Path=/app; SameSite=None"},
		[]string{
			"__Host-a=; Max-Age=0; Path=/app; Secure",
			"b=; Max-Age=0; Path=/app; SameSite=None",
			del("__Host-a", "; Path=/; Secure"),
			del("b", "; Path=/app; Secure; SameSite=None"),
			del("c", "; Path=/app; SameSite=None"),
			del("c", "; Path=/; Secure"),
			del("c", "; Path=/app; Secure; SameSite=None"),
		})
}

// A log-out passed unchanged (a byte over 0x7f) that Chromium and Firefox
// refuse for SameSite=None without Secure, and WebKitGTK reads as a
// deletion up to the byte, in a group with a prefixed member: the others
// are deleted at its place with Secure, which they take, and so is the
// member (its deletion at the field's place copies the attributes they
// refuse).
func TestRefusedUnreadLogOutInPrefixedGroup(t *testing.T) {
	runExact(t, Group{Cookies: []string{"__Secure-x", "a", "b"}, OnDelete: "cascade"}, true, "/rd/x",
		[]string{"a=v3; SameSite=None; Path=/rd/; Max-Age=0; X=\u00e9"},
		[]string{
			"a=v3; SameSite=None; Path=/rd/; Max-Age=0; X=\u00e9",
			del("__Secure-x", "; Path=/rd/; Secure; SameSite=None"),
			del("a", "; Path=/rd/; SameSite=None"),
			del("a", "; Path=/rd/; Secure; SameSite=None"),
			del("b", "; Path=/rd/; SameSite=None"),
			del("b", "; Path=/rd/; Secure; SameSite=None"),
		})
}
