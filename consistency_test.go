package cookienormalizer

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// del is the deletion the module appends for name, with attrs after it.
func del(name, attrs string) string {
	return name + "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0" + attrs
}

// perResponse returns a copy of req (nil for nil) for one response: the
// passes over one response share its request, which records what they
// did (request.spoke).
func perResponse(req *request) *request {
	if req == nil {
		return nil
	}
	c := *req
	return &c
}

func TestConsistency(t *testing.T) {
	pair := []string{"session_id", "user_id__insecure"}
	cascade := Group{Cookies: pair, OnDelete: "cascade"}
	partial := Group{Cookies: pair, OnPartial: "expire"}
	for i, tc := range []struct {
		name   string
		groups []Group
		req    *request
		in     []string
		want   []string
		events []string // what the observer was told, in order
	}{
		{
			name:   "cascade: a log-out of one member deletes the other with its attributes",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=0; Path=/app; Domain=example.com; HttpOnly; Secure; Partitioned"},
			want: []string{
				"session_id=; Max-Age=0; Path=/app; Domain=example.com; HttpOnly; Secure; Partitioned",
				del("user_id__insecure", "; Path=/app; Domain=example.com; Secure; Partitioned"),
			},
			events: []string{"user_id__insecure #1 cascaded"},
		},
		{
			// Inside a third-party frame Chromium takes a deletion only
			// with SameSite=None, as the app's own deletion has.
			name:   "cascade: the deleted member's SameSite goes with the deletions",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=0; Path=/; Secure; SameSite=None; Partitioned"},
			want: []string{
				"session_id=; Max-Age=0; Path=/; Secure; SameSite=None; Partitioned",
				del("user_id__insecure", "; Path=/; Secure; SameSite=None; Partitioned"),
			},
			events: []string{"user_id__insecure #1 cascaded"},
		},
		{
			name:   "cascade: a deletion without Path deletes with no Path either",
			groups: []Group{cascade},
			in:     []string{"user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"},
			want:   []string{"user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", del("session_id", "")},
			events: []string{"session_id #1 cascaded"},
		},
		{
			name:   "cascade: both deleted, nothing added",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=0", "user_id__insecure=; Max-Age=0"},
			want:   []string{"session_id=; Max-Age=0", "user_id__insecure=; Max-Age=0"},
		},
		{
			name:   "cascade: one deleted, the other set: nothing added",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=0", "user_id__insecure=7; Max-Age=60"},
			want:   []string{"session_id=; Max-Age=0", "user_id__insecure=7; Max-Age=60"},
		},
		{
			name:   "cascade: one deleted, one set, a third untouched: nothing added (a member is set)",
			groups: []Group{{Cookies: []string{"session_id", "user_id__insecure", "csrf"}, OnDelete: "cascade"}},
			in:     []string{"session_id=; Max-Age=0", "user_id__insecure=7; Max-Age=60"},
			want:   []string{"session_id=; Max-Age=0", "user_id__insecure=7; Max-Age=60"},
		},
		{
			// Two members deleted with different attributes: the deletion
			// of the third copies the last deleted member's, in the order
			// the group names them.
			name:   "cascade: several deleted, the last in the group's order lends its attributes",
			groups: []Group{{Cookies: []string{"session_id", "user_id__insecure", "csrf"}, OnDelete: "cascade"}},
			in:     []string{"user_id__insecure=; Max-Age=0; Path=/b", "session_id=; Max-Age=0; Path=/a"},
			want:   []string{"user_id__insecure=; Max-Age=0; Path=/b", "session_id=; Max-Age=0; Path=/a", del("csrf", "; Path=/b")},
			events: []string{"csrf #1 cascaded"},
		},
		{
			// Browsers refuse a field with a control byte and keep the
			// cookie they had: the response sets nothing there, and the
			// log-out of the other member cascades to it.
			name:   "cascade: a member's field browsers refuse sets nothing: the log-out cascades",
			groups: []Group{cascade},
			req:    &request{from: requestFor("/logout")},
			in:     []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=a\x01b"},
			want:   []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=a\x01b", del("user_id__insecure", "; Path=/")},
			events: []string{"user_id__insecure #1 passed invalid", "user_id__insecure #1 cascaded"},
		},
		{
			// WebKitGTK stores that field cut short at its control byte,
			// at the default-path of the request (RFC 6265bis §5.1.4):
			// the member is deleted there too.
			name:   "cascade: a member's field browsers refuse, at another place in WebKitGTK: deleted there too",
			groups: []Group{cascade},
			req:    &request{from: requestFor("/app/logout")},
			in:     []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=a\x01b"},
			want:   []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=a\x01b", del("user_id__insecure", "; Path=/"), del("user_id__insecure", "; Path=/app")},
			events: []string{"user_id__insecure #1 passed invalid", "user_id__insecure #1 cascaded", "user_id__insecure #1 cascaded"},
		},
		{
			// Its attributes before the control byte count there.
			name:   "cascade: the place WebKitGTK reads before the control byte",
			groups: []Group{cascade},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=v; Path=/a; Secure; X=\x01; Path=/b"},
			want:   []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=v; Path=/a; Secure; X=\x01; Path=/b", del("user_id__insecure", "; Path=/"), del("user_id__insecure", "; Path=/a; Secure")},
			events: []string{"user_id__insecure #1 passed invalid", "user_id__insecure #1 cascaded", "user_id__insecure #1 cascaded"},
		},
		{
			// The app deletes the member at WebKitGTK's place itself,
			// after that field: nothing of it left there.
			name:   "cascade: a member's field only WebKitGTK stores, then the app's deletion at that place: nothing more there",
			groups: []Group{cascade},
			req:    &request{from: requestFor("/logout")},
			in:     []string{"user_id__insecure=v; Path=/a; X=\x01", "session_id=; Max-Age=0; Path=/", "user_id__insecure=; Max-Age=0; Path=/a"},
			want:   []string{"user_id__insecure=v; Path=/a; X=\x01", "session_id=; Max-Age=0; Path=/", "user_id__insecure=; Max-Age=0; Path=/a"},
			events: []string{"user_id__insecure #1 passed invalid"},
		},
		{
			// WebKitGTK reads this one, cut short, as a deletion at
			// /app: nothing of the member left there to delete.
			name:   "cascade: a member's field browsers refuse that WebKitGTK reads as a deletion: nothing more",
			groups: []Group{cascade},
			req:    &request{from: requestFor("/app/logout")},
			in:     []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=; Max-Age=0; X=\x01"},
			want:   []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=; Max-Age=0; X=\x01", del("user_id__insecure", "; Path=/")},
			events: []string{"user_id__insecure #1 passed invalid", "user_id__insecure #1 cascaded"},
		},
		{
			// A place no deletion can be written for (an empty Domain):
			// WebKitGTK would keep the member there alone.
			name:   "cascade: a member's field browsers refuse at a place no deletion reaches: no cascade",
			groups: []Group{cascade},
			req:    &request{from: requestFor("/logout")},
			in:     []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=v; Domain=; X=\x01"},
			want:   []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=v; Domain=; X=\x01"},
			events: []string{"user_id__insecure #1 passed invalid", "session_id #1 cascade withheld"},
		},
		{
			// As a field with a control byte: Chromium and Firefox
			// refuse an __Http- cookie without HttpOnly (WebKitGTK does
			// not check), and keep the one they had.
			name:   "cascade: an __Http- member set without HttpOnly sets nothing: the log-out cascades",
			groups: []Group{{Cookies: []string{"session_id", "__Http-uid"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"session_id=; Max-Age=0; Path=/", "__Http-uid=new; Path=/; Secure"},
			want:   []string{"session_id=; Max-Age=0; Path=/", "__Http-uid=new; Path=/; Secure", del("__Http-uid", "; Path=/; Secure; HttpOnly")},
			events: []string{"__Http-uid #1 cascaded"},
		},
		{
			// WebKitGTK keeps that set at /x after the log-out at /.
			name:   "cascade: an __Http- member set without HttpOnly at another place: deleted there as WebKitGTK stores it",
			groups: []Group{{Cookies: []string{"__Http-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"__Http-a=v; Path=/x; Secure", "__Http-a=; Max-Age=0; Path=/; Secure; HttpOnly"},
			want:   []string{"__Http-a=v; Path=/x; Secure", "__Http-a=; Max-Age=0; Path=/; Secure; HttpOnly", del("__Http-a", "; Path=/x; Secure"), del("b", "; Path=/; Secure")},
			events: []string{"__Http-a #1 cascaded", "b #1 cascaded"},
		},
		{
			// Chromium refuses a __Host- cookie without a Path
			// attribute; Firefox checks the prefix against the default
			// path it gives it (/ here) and stores it, as WebKitGTK
			// does: the member is set, and nothing cascades.
			name:   "cascade: a __Host- member set without Path, which Firefox stores at the default path: set, no cascade",
			groups: []Group{{Cookies: []string{"a", "__Host-b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"a=; Max-Age=0; Path=/", "__Host-b=v; Secure"},
			want:   []string{"a=; Max-Age=0; Path=/", "__Host-b=v; Secure"},
		},
		{
			// No Path under /app: Chromium and Firefox refuse this
			// __Host- field (Firefox's default path is /app), so their
			// readings of its lifetime (a deletion) do not count;
			// WebKitGTK, which checks no prefix, reads the last
			// Expires, a set at /app, where a deletion the module writes
			// for a __Host- name (at /) would not reach it: no cascade.
			name:   "cascade: a __Host- field without Path that only WebKitGTK stores, read as a deletion elsewhere: no cascade",
			groups: []Group{{Cookies: []string{"a", "__Host-b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/app/logout"), https: true},
			in:     []string{"a=; Max-Age=0; Path=/", "__Host-b=v; Secure; Max-Age=0; Expires=Wed, 01 Jan 2031 00:00:00 GMT"},
			want:   []string{"a=; Max-Age=0; Path=/", "__Host-b=v; Secure; Max-Age=0; Expires=Wed, 01 Jan 2031 00:00:00 GMT"},
			events: []string{"__Host-b #1 cascade withheld"},
		},
		{
			// Passed unchanged (a tab in an attribute name). Under
			// /app, Chromium and Firefox refuse this __Host- field
			// without Path (Firefox's default path is /app), so their
			// reading of its Max-Age (a deletion) does not count;
			// WebKitGTK reads it up to the tab, a session cookie at
			// /app: no log-out, no cascade.
			name:   "cascade: a __Host- field passed unchanged without Path that only WebKitGTK stores, a set there: no cascade",
			groups: []Group{{Cookies: []string{"a", "__Host-b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/app/logout"), https: true},
			in:     []string{"__Host-b=v; Secure; F\to=1; Max-Age=0"},
			want:   []string{"__Host-b=v; Secure; F\to=1; Max-Age=0"},
			events: []string{"__Host-b #1 passed invalid", "__Host-b #1 cascade withheld"},
		},
		{
			// The same field under /: Firefox stores it there (its
			// default path) and reads a deletion, WebKitGTK a session
			// cookie at /: the cascade deletes both members there.
			name:   "cascade: the same __Host- field in the root, which Firefox reads as a log-out: cascade",
			groups: []Group{{Cookies: []string{"a", "__Host-b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"__Host-b=v; Secure; F\to=1; Max-Age=0"},
			want:   []string{"__Host-b=v; Secure; F\to=1; Max-Age=0", del("a", "; Secure"), del("a", "; Path=/; Secure"), del("__Host-b", "; Path=/; Secure")},
			events: []string{"__Host-b #1 passed invalid", "a #1 cascaded", "a #1 cascaded", "__Host-b #1 cascaded"},
		},
		{
			// Passed unchanged (a byte over 0x7f), and refused by
			// Chromium and Firefox (a __Secure- name without Secure):
			// it sets nothing they keep, so the log-out of the other
			// member deletes it, also where WebKitGTK stores it (/caf,
			// where libsoup stops reading).
			name:   "cascade: a __Secure- member set passed unchanged without Secure sets nothing: the log-out cascades",
			groups: []Group{{Cookies: []string{"session_id", "__Secure-uid"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"session_id=; Max-Age=0; Path=/", "__Secure-uid=new; Path=/caf\u00e9"},
			want:   []string{"session_id=; Max-Age=0; Path=/", "__Secure-uid=new; Path=/caf\u00e9", del("__Secure-uid", "; Path=/; Secure"), del("__Secure-uid", "; Path=/caf")},
			events: []string{"__Secure-uid #1 passed invalid", "__Secure-uid #1 cascaded", "__Secure-uid #1 cascaded"},
		},
		{
			// Passed unchanged (a ',' in an attribute name, where
			// libsoup stops: a session cookie). Chromium refuses this
			// __Host- field without Path, so its reading of the last
			// Max-Age (+0, a deletion) does not count; Firefox stores it
			// at / and skips +0 (a Max-Age of two hours): no engine
			// logs the member out.
			name:   "cascade: a __Host- field only Chromium reads as a log-out, which it refuses: no cascade",
			groups: []Group{{Cookies: []string{"__Host-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/x"), https: true},
			in:     []string{"__Host-a=v4; a,b; max-age=7200; Max-Age=+0; Secure"},
			want:   []string{"__Host-a=v4; a,b; max-age=7200; Max-Age=+0; Secure"},
			events: []string{"__Host-a #1 passed invalid"},
		},
		{
			// A tab in the value: Chromium refuses the field, Firefox
			// reads a log-out at / (Max-Age=-1), WebKitGTK reads up to
			// the tab, a session cookie at the default path, /app,
			// checking no name prefix: the cascade deletes the member
			// there as WebKitGTK reads it (a deletion at / would not
			// reach it), and the other member at both places.
			name:   "cascade: a __Host- log-out WebKitGTK reads as a set at another Path: deleted there as it reads it",
			groups: []Group{{Cookies: []string{"__Host-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/app/x"), https: true},
			in:     []string{"__Host-a=t\tv; Max-Age=-1; Secure; Path=/"},
			want:   []string{"__Host-a=t\tv; Max-Age=-1; Secure; Path=/", del("__Host-a", "; Path=/; Secure"), del("__Host-a", "; Path=/app"), del("b", "; Path=/; Secure"), del("b", "; Path=/app")},
			events: []string{"__Host-a #1 passed invalid", "__Host-a #1 cascaded", "__Host-a #1 cascaded", "b #1 cascaded", "b #1 cascaded"},
		},
		{
			// Passed unchanged (a byte over 0x7f, where libsoup stops
			// before the Path), with an Expires without seconds that
			// not every engine is known to read: a split log-out. The
			// cascade deletes the member where libsoup may keep it, at
			// the default path /app, as libsoup reads it.
			name:   "cascade: a split __Host- log-out libsoup may keep at another Path: deleted there as it reads it",
			groups: []Group{{Cookies: []string{"__Host-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/app/x"), https: true},
			in:     []string{"__Host-a=v; Max-Age=0; Expires=Wed, 01 Jan 2031 00:00; X=\u00e9; Secure; Path=/"},
			want:   []string{"__Host-a=v; Max-Age=0; Expires=Wed, 01 Jan 2031 00:00; X=\u00e9; Secure; Path=/", del("__Host-a", "; Path=/; Secure"), del("__Host-a", "; Path=/app"), del("b", "; Path=/; Secure"), del("b", "; Path=/app")},
			events: []string{"__Host-a #1 passed invalid", "__Host-a #1 cascaded", "__Host-a #1 cascaded", "b #1 cascaded", "b #1 cascaded"},
		},
		{
			// A tab in the value: Chromium refuses the field and keeps
			// the member; Firefox reads a partitioned log-out, which
			// does not delete an unpartitioned cookie (CHIPS);
			// WebKitGTK a session cookie at /app, unpartitioned,
			// without Secure. The deletion at libsoup's place keeps
			// the prefix's Secure, so that Chromium, which checks it,
			// takes it too.
			name:   "cascade: a __Secure- log-out libsoup reads as a set: its deletion there keeps Secure",
			groups: []Group{{Cookies: []string{"__Secure-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/app/x"), https: true},
			in:     []string{"__Secure-a=t\tv; Secure; Partitioned; Max-Age=0"},
			want:   []string{"__Secure-a=t\tv; Secure; Partitioned; Max-Age=0", del("__Secure-a", "; Secure; Partitioned"), del("__Secure-a", "; Path=/app; Secure"), del("b", "; Secure; Partitioned"), del("b", "; Path=/app; Secure")},
			events: []string{"__Secure-a #1 passed invalid", "__Secure-a #1 cascaded", "__Secure-a #1 cascaded", "b #1 cascaded", "b #1 cascaded"},
		},
		{
			// Chromium and Firefox refuse the app's deletion for its
			// prefix and keep the member: one they take follows.
			name:   "cascade: a __Secure- log-out without Secure: a deletion browsers take follows",
			groups: []Group{{Cookies: []string{"__Secure-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"__Secure-a=; Max-Age=0; Path=/"},
			want:   []string{"__Secure-a=; Max-Age=0; Path=/", del("__Secure-a", "; Path=/; Secure"), del("b", "; Path=/")},
			events: []string{"__Secure-a #1 cascaded", "b #1 cascaded"},
		},
		{
			// Chromium and Firefox refuse this log-out for its prefix
			// and for SameSite=None without Secure, and so the other's
			// deletion, which copies its attributes: both are deleted
			// at the place of the deletion they take too.
			name:   "cascade: a __Secure- log-out with SameSite=None without Secure: the others are deleted where browsers take it",
			groups: []Group{{Cookies: []string{"__Secure-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"__Secure-a=; Max-Age=0; Path=/; SameSite=None"},
			want:   []string{"__Secure-a=; Max-Age=0; Path=/; SameSite=None", del("__Secure-a", "; Path=/; Secure; SameSite=None"), del("b", "; Path=/; SameSite=None"), del("b", "; Path=/; Secure; SameSite=None")},
			events: []string{"__Secure-a #1 cascaded", "b #1 cascaded", "b #1 cascaded"},
		},
		{
			// As above, for a __Host- log-out at another Path: its fixed
			// deletion is at /, and the other is deleted at the
			// log-out's place with Secure too, where Chromium and
			// Firefox take it.
			name:   "cascade: a __Host- log-out at another Path with SameSite=None without Secure: the others are deleted at its place with Secure",
			groups: []Group{{Cookies: []string{"__Host-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/app/logout"), https: true},
			in:     []string{"__Host-a=; Max-Age=0; Path=/app; SameSite=None"},
			want:   []string{"__Host-a=; Max-Age=0; Path=/app; SameSite=None", del("__Host-a", "; Path=/; Secure; SameSite=None"), del("b", "; Path=/app; SameSite=None"), del("b", "; Path=/; Secure; SameSite=None"), del("b", "; Path=/app; Secure; SameSite=None")},
			events: []string{"__Host-a #1 cascaded", "b #1 cascaded", "b #1 cascaded", "b #1 cascaded"},
		},
		{
			// Both log-outs are refused by Chromium and Firefox
			// (SameSite=None without Secure): each member gets a
			// deletion they take, not only the prefixed one.
			name:   "cascade: two log-outs browsers refuse for SameSite=None without Secure in a prefixed group: both get one they take",
			groups: []Group{{Cookies: []string{"__Secure-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"__Secure-a=; Max-Age=0; Path=/; SameSite=None", "b=; Max-Age=0; Path=/; SameSite=None"},
			want:   []string{"__Secure-a=; Max-Age=0; Path=/; SameSite=None", "b=; Max-Age=0; Path=/; SameSite=None", del("__Secure-a", "; Path=/; Secure; SameSite=None"), del("b", "; Path=/; Secure; SameSite=None")},
			events: []string{"__Secure-a #1 cascaded", "b #1 cascaded"},
		},
		{
			// The other member's deletion gets Secure from its prefix,
			// which Chromium and Firefox take: the log-out they refuse
			// gets a deletion they take too.
			name:   "cascade: an unprefixed log-out browsers refuse for SameSite=None without Secure, beside a prefixed member: one they take follows",
			groups: []Group{{Cookies: []string{"a", "__Secure-b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"a=; Max-Age=0; Path=/; SameSite=None"},
			want:   []string{"a=; Max-Age=0; Path=/; SameSite=None", del("a", "; Path=/; Secure; SameSite=None"), del("__Secure-b", "; Path=/; Secure; SameSite=None")},
			events: []string{"a #1 cascaded", "__Secure-b #1 cascaded"},
		},
		{
			// Under /app, a __Host- set without Path is refused by
			// Chromium (no Path=/) and Firefox (its default path is
			// /app): it sets nothing they keep, and the log-out of the
			// other cascades to it, at / and where WebKitGTK stores it.
			name:   "cascade: a __Host- member set without Path on a page outside the root sets nothing: the log-out cascades",
			groups: []Group{{Cookies: []string{"a", "__Host-b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/app/x"), https: true},
			in:     []string{"a=; Max-Age=0; Path=/", "__Host-b=v; Secure"},
			want:   []string{"a=; Max-Age=0; Path=/", "__Host-b=v; Secure", del("__Host-b", "; Path=/; Secure"), del("__Host-b", "; Path=/app; Secure")},
			events: []string{"__Host-b #1 cascaded", "__Host-b #1 cascaded"},
		},
		{
			// The same, passed unchanged (a byte over 0x7f).
			name:   "cascade: a __Host- member set without Path passed unchanged on a page outside the root sets nothing: the log-out cascades",
			groups: []Group{{Cookies: []string{"a", "__Host-b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/app/x"), https: true},
			in:     []string{"a=; Max-Age=0; Path=/", "__Host-b=v; Secure; X=\u00e9"},
			want:   []string{"a=; Max-Age=0; Path=/", "__Host-b=v; Secure; X=\u00e9", del("__Host-b", "; Path=/; Secure"), del("__Host-b", "; Path=/app; Secure")},
			events: []string{"__Host-b #1 passed invalid", "__Host-b #1 cascaded", "__Host-b #1 cascaded"},
		},
		{
			name:   "cascade: a __Host- log-out at another Path: a deletion at / follows",
			groups: []Group{{Cookies: []string{"__Host-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"__Host-a=; Max-Age=0; Path=/x; Secure"},
			want:   []string{"__Host-a=; Max-Age=0; Path=/x; Secure", del("__Host-a", "; Path=/; Secure"), del("b", "; Path=/x; Secure"), del("b", "; Path=/; Secure")},
			events: []string{"__Host-a #1 cascaded", "b #1 cascaded", "b #1 cascaded"},
		},
		{
			// Passed unchanged (libsoup stops at the byte over 0x7f,
			// and no deletion is placed without a path or domain
			// policy): the same deletion follows.
			name:   "cascade: a __Secure- log-out without Secure passed unchanged: a deletion browsers take follows",
			groups: []Group{{Cookies: []string{"__Secure-sid", "uid"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"__Secure-sid=; Max-Age=0; Path=/; X=caf\u00e9"},
			want:   []string{"__Secure-sid=; Max-Age=0; Path=/; X=caf\u00e9", del("__Secure-sid", "; Path=/; Secure"), del("uid", "; Path=/")},
			events: []string{"__Secure-sid #1 passed invalid", "__Secure-sid #1 cascaded", "uid #1 cascaded"},
		},
		{
			// The log-out's place is / and the last field's /a, which
			// browsers refuse (a __Host- cookie needs Path=/): the
			// others' deletions would go to /a.
			name:   "cascade: a log-out, then a set browsers refuse for its prefix: no cascade",
			groups: []Group{{Cookies: []string{"__Host-sid", "uid"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"__Host-sid=; Max-Age=0; Path=/; Secure", "__Host-sid=v; Path=/a; Secure"},
			want:   []string{"__Host-sid=; Max-Age=0; Path=/; Secure", "__Host-sid=v; Path=/a; Secure"},
			events: []string{"__Host-sid #1 cascade withheld"},
		},
		{
			// A split deletion's own deletion is at WebKitGTK's place of
			// the refused field: one deletion there.
			name:   "cascade: a split log-out beside a field only WebKitGTK stores, at one place: one deletion",
			groups: []Group{{Cookies: []string{"sid", "uid"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"sid=v; Path=/; X=\x01", "sid=v; Path=/; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT"},
			want:   []string{"sid=v; Path=/; X=\x01", "sid=v; Path=/; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT", del("sid", "; Path=/"), del("uid", "; Path=/")},
			events: []string{"sid #1 passed invalid", "sid #1 cascaded", "uid #1 cascaded"},
		},
		{
			name:   "cascade: an __Http- log-out without HttpOnly: a deletion with it follows",
			groups: []Group{{Cookies: []string{"__Http-a", "b"}, OnDelete: "cascade"}},
			req:    &request{from: requestFor("/logout"), https: true},
			in:     []string{"__Http-a=; Max-Age=0; Path=/; Secure"},
			want:   []string{"__Http-a=; Max-Age=0; Path=/; Secure", del("__Http-a", "; Path=/; Secure; HttpOnly"), del("b", "; Path=/; Secure")},
			events: []string{"__Http-a #1 cascaded", "b #1 cascaded"},
		},
		{
			name:   "cascade: a member set, then a field of it browsers refuse: still set, nothing added",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=0", "user_id__insecure=7", "user_id__insecure=a\x01b"},
			want:   []string{"session_id=; Max-Age=0", "user_id__insecure=7", "user_id__insecure=a\x01b"},
			events: []string{"user_id__insecure #1 passed invalid"},
		},
		{
			// Chromium and Firefox refuse the field; WebKitGTK stores it
			// (cut short at the control byte, or whole). A deletion of
			// session_id would leave WebKitGTK holding user_id__insecure
			// alone: nothing is appended, as without the module.
			name:   "partial: a member's field Chromium and Firefox refuse and WebKitGTK stores: no partial expiry",
			groups: []Group{partial},
			req:    &request{cookies: []string{"theme=dark; session_id=abc"}},
			in:     []string{"user_id__insecure=a\x01b"},
			want:   []string{"user_id__insecure=a\x01b"},
			events: []string{"user_id__insecure #1 passed invalid"},
		},
		{
			name:   "partial: a member's field over 4096 bytes (name and value) WebKitGTK stores: no partial expiry",
			groups: []Group{partial},
			req:    &request{cookies: []string{"theme=dark; session_id=abc"}},
			in:     []string{"user_id__insecure=" + strings.Repeat("v", 4100) + "; Path=/"},
			want:   []string{"user_id__insecure=" + strings.Repeat("v", 4100) + "; Path=/"},
			events: []string{"user_id__insecure #1 passed invalid"},
		},
		{
			// The jar holds the member Chromium and Firefox refuse a
			// field of: its deletion, after that field, decides in every
			// engine.
			name:   "partial: a refused field of a member the jar holds: the half jar is expired",
			groups: []Group{partial},
			req:    &request{from: requestFor("/page"), cookies: []string{"theme=dark; session_id=abc"}},
			in:     []string{"session_id=a\x01b"},
			want:   []string{"session_id=a\x01b", del("session_id", "; Path=/")},
			events: []string{"session_id #1 passed invalid", "session_id #1 partial expired"},
		},
		{
			// WebKitGTK stores that field at /a: deleted there too.
			name:   "partial: a refused field of a member the jar holds, at another place in WebKitGTK: deleted there too",
			groups: []Group{partial},
			req:    &request{from: requestFor("/page"), cookies: []string{"theme=dark; session_id=abc"}},
			in:     []string{"session_id=v; Path=/a; X=\x01"},
			want:   []string{"session_id=v; Path=/a; X=\x01", del("session_id", "; Path=/"), del("session_id", "; Path=/a")},
			events: []string{"session_id #1 passed invalid", "session_id #1 partial expired", "session_id #1 partial expired"},
		},
		{
			name:   "partial: a refused field at a place no deletion reaches: nothing",
			groups: []Group{partial},
			req:    &request{from: requestFor("/page"), cookies: []string{"theme=dark; session_id=abc"}},
			in:     []string{"session_id=v; Domain=; X=\x01"},
			want:   []string{"session_id=v; Domain=; X=\x01"},
			events: []string{"session_id #1 passed invalid"},
		},
		{
			name:   "partial: a field of a non-member browsers refuse: the half jar is expired",
			groups: []Group{partial},
			req:    &request{cookies: []string{"theme=dark; session_id=abc"}},
			in:     []string{"theme=a\x01b"},
			want:   []string{"theme=a\x01b", del("session_id", "; Path=/")},
			events: []string{"session_id #1 partial expired"},
		},
		{
			name:   "partial: a member deleted, then a refused field of it: a log-out, no partial expiry",
			groups: []Group{partial},
			req:    &request{cookies: []string{"theme=dark; session_id=abc"}},
			in:     []string{"session_id=; Max-Age=0; Path=/", "session_id=a\x01b"},
			want:   []string{"session_id=; Max-Age=0; Path=/", "session_id=a\x01b"},
			events: []string{"session_id #1 passed invalid"},
		},
		{
			name:   "cascade: set then deleted counts as deleted (the last field wins)",
			groups: []Group{cascade},
			in:     []string{"session_id=1; Max-Age=60", "session_id=; Max-Age=0"},
			want:   []string{"session_id=1; Max-Age=60", "session_id=; Max-Age=0", del("user_id__insecure", "")},
			events: []string{"user_id__insecure #1 cascaded"},
		},
		{
			// Browsers refuse a field with a control byte, or a name plus
			// value over 4096 bytes, and libsoup stops reading at a tab or
			// at a ',' in a name before the Max-Age=0: the cookie stays in
			// some engine, so deleting the other member would make the
			// half log-in the rule exists to prevent, unless a deletion
			// reaches it where that engine keeps it (at the default path
			// of the request's target, which these rows do not have: see
			// TestCascadeAfterPlacedSplitDeletion). And a tab in an
			// attribute after the Max-Age=0 is not copied into the
			// deletions.
			name:   "cascade: a field passed unchanged for a control byte does not cascade",
			groups: []Group{cascade},
			in:     []string{"session_id=x\x01y; Max-Age=0"},
			want:   []string{"session_id=x\x01y; Max-Age=0"},
			events: []string{"session_id #1 passed invalid"},
		},
		{
			// Every engine deletes it, libsoup at /caf (it stops at the
			// byte over 0x7f), the others at /café; a deletion the
			// module writes does not copy such a Path, so the others'
			// would go to the default path and miss them.
			name:   "cascade: a log-out passed unchanged for a byte over 0x7f in its Path does not cascade",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=0; Path=/caf\u00e9"},
			want:   []string{"session_id=; Max-Age=0; Path=/caf\u00e9"},
			events: []string{"session_id #1 passed invalid", "session_id #1 cascade withheld"},
		},
		{
			// Chromium refuses it (a HTAB inside Y's value) and keeps
			// the member it had; Firefox reads a session cookie
			// (Max-Age=+0 is invalid there); libsoup 3.2 stops at the
			// byte over 0x7f: a session cookie. libsoup 3.4 and later
			// read on, to Max-Age=+0 (strtol takes the sign): a
			// deletion. So the cascade deletes the others, and the
			// member at its place, where the other engines keep it.
			name:   "cascade: a HTAB inside after a byte over 0x7f, a log-out in libsoup 3.4 and later only: cascade",
			groups: []Group{cascade},
			in:     []string{"user_id__insecure=new; Path=/; X=\u00e9; Y=a\tb; Max-Age=+0"},
			want: []string{
				"user_id__insecure=new; Path=/; X=\u00e9; Y=a\tb; Max-Age=+0",
				del("session_id", "; Path=/"), del("user_id__insecure", "; Path=/"),
			},
			events: []string{"user_id__insecure #1 passed invalid", "session_id #1 cascaded", "user_id__insecure #1 cascaded"},
		},
		{
			// Firefox and libsoup delete it; Chromium refuses it and
			// keeps the member: deleted there too.
			name:   "cascade: a log-out Chromium refuses for a HTAB inside after a byte over 0x7f: the member deleted too",
			groups: []Group{cascade},
			in:     []string{"user_id__insecure=new; Path=/; Max-Age=0; X=\u00e9; Y=a\tb"},
			want:   []string{"user_id__insecure=new; Path=/; Max-Age=0; X=\u00e9; Y=a\tb", del("session_id", "; Path=/"), del("user_id__insecure", "; Path=/")},
			events: []string{"user_id__insecure #1 passed invalid", "session_id #1 cascaded", "user_id__insecure #1 cascaded"},
		},
		{
			// The same under a path policy: a deletion is placed after
			// the field at /rd, where the policy moved the member, but
			// the others' would go there too, not to /café.
			name:   "cascade: a log-out passed unchanged with a byte over 0x7f in its Path, a deletion placed after it: no cascade",
			groups: []Group{{Cookies: []string{"session_id", "user_id__insecure"}, OnDelete: "cascade", Path: "/rd"}},
			in:     []string{"session_id=; Max-Age=0; Path=/caf\u00e9"},
			want:   []string{"session_id=; Max-Age=0; Path=/caf\u00e9", del("session_id", "; Path=/rd")},
			events: []string{"session_id #1 passed invalid", "session_id #1 deletion placed", "session_id #1 cascade withheld"},
		},
		{
			// A set passed unchanged there gets no deletion placed after
			// it: the app's own clean log-out after it, which the policy
			// moves to /rd, is the member's last field, and cascades.
			name:   "cascade: a set passed unchanged with a byte over 0x7f in its Path, then the app's log-out: the log-out cascades",
			groups: []Group{{Cookies: []string{"session_id", "user_id__insecure"}, OnDelete: "cascade", Path: "/rd"}},
			in:     []string{"session_id=v; Path=/caf\u00e9", "session_id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"},
			want:   []string{"session_id=v; Path=/caf\u00e9", "session_id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/rd", del("user_id__insecure", "; Path=/rd")},
			events: []string{"session_id #1 passed invalid", "session_id #1 rewritten", "user_id__insecure #1 cascaded"},
		},
		{
			name:   "cascade: a log-out passed unchanged for a byte over 0x7f elsewhere cascades, at its place",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=0; Path=/a; X=\u00e9"},
			want:   []string{"session_id=; Max-Age=0; Path=/a; X=\u00e9", del("user_id__insecure", "; Path=/a")},
			events: []string{"session_id #1 passed invalid", "user_id__insecure #1 cascaded"},
		},
		{
			name:   "cascade: a field passed unchanged for a tab before the Max-Age=0 does not cascade",
			groups: []Group{cascade},
			in:     []string{"session_id=; Foo\tBar; Max-Age=0"},
			want:   []string{"session_id=; Foo\tBar; Max-Age=0"},
			events: []string{"session_id #1 passed invalid", "session_id #1 cascade withheld"},
		},
		{
			name:   "cascade: a field passed unchanged for a ',' in a name before the Max-Age=0 does not cascade",
			groups: []Group{cascade},
			in:     []string{"session_id=; a,b; Max-Age=0"},
			want:   []string{"session_id=; a,b; Max-Age=0"},
			events: []string{"session_id #1 passed invalid", "session_id #1 cascade withheld"},
		},
		{
			name:   "cascade: a field passed unchanged for a name plus value over 4096 bytes does not cascade",
			groups: []Group{cascade},
			in:     []string{"session_id=" + strings.Repeat("v", 4100) + "; Max-Age=0"},
			want:   []string{"session_id=" + strings.Repeat("v", 4100) + "; Max-Age=0"},
			events: []string{"session_id #1 passed invalid"},
		},
		{
			// Firefox and libsoup (which stops at the tab) delete;
			// Chromium refuses a field with a tab inside an attribute's
			// value and keeps the member, which gets a deletion of its
			// own where the others are deleted.
			name:   "cascade: a tab after the Max-Age=0 still cascades, without the attribute that holds it",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=0; Path=/; SameSite=La\tx"},
			want:   []string{"session_id=; Max-Age=0; Path=/; SameSite=La\tx", del("session_id", "; Path=/"), del("user_id__insecure", "; Path=/")},
			events: []string{"session_id #1 passed invalid", "session_id #1 cascaded", "user_id__insecure #1 cascaded"},
		},
		{
			// Passed unchanged (libsoup stops at the ',', after Max-Age=0),
			// but a deletion in every engine all the same.
			name:   "cascade: a log-out passed unchanged for a ',' in a name still cascades",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=0; Path=/; a,b"},
			want:   []string{"session_id=; Max-Age=0; Path=/; a,b", del("user_id__insecure", "; Path=/")},
			events: []string{"session_id #1 passed invalid", "user_id__insecure #1 cascaded"},
		},
		{
			// Chromium and Firefox keep session_id for 60 s: its own
			// deletion, appended after it, deletes it there too, so that
			// no engine keeps it alone.
			name:   "cascade: a deletion only libsoup reads as one (the last of Max-Age and Expires) cascades, with the member's own deletion",
			groups: []Group{cascade},
			in:     []string{"session_id=; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT"},
			want:   []string{"session_id=; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT", del("session_id", ""), del("user_id__insecure", "")},
			events: []string{"session_id #1 cascaded", "user_id__insecure #1 cascaded"},
		},
		{
			name: "cascade: a member of a like group, rewritten one pass after its leader",
			groups: []Group{
				{Cookies: []string{"session_id"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9}},
				{Cookies: []string{"user_id__insecure", "csrf"}, Expire: &ExpiryPolicy{Mode: modeLike, Like: "session_id"}, OnDelete: "cascade"},
			},
			in:     []string{"session_id=; Max-Age=0", "user_id__insecure=; Max-Age=0"},
			want:   []string{"session_id=; Max-Age=0", "user_id__insecure=; Max-Age=0", del("csrf", "")},
			events: []string{"csrf #2 cascaded"},
		},
		{
			name:   "cascade: a log-in adds nothing",
			groups: []Group{cascade},
			in:     []string{"session_id=1; Max-Age=60"},
			want:   []string{"session_id=1; Max-Age=60"},
		},
		{
			name:   "cascade: the group's attribute policies apply to the deleted member first",
			groups: []Group{{Cookies: pair, OnDelete: "cascade", Path: "/", Secure: on()}},
			in:     []string{"session_id=; Max-Age=0; Path=/old"},
			want:   []string{"session_id=; Max-Age=0; Path=/; Secure", del("user_id__insecure", "; Path=/; Secure")},
			events: []string{"session_id #1 rewritten", "user_id__insecure #1 cascaded"},
		},
		{
			name:   "cascade: a __Host- member is deleted with Path=/ and Secure, no Domain",
			groups: []Group{{Cookies: []string{"a", "__Host-b", "__Secure-c"}, OnDelete: "cascade"}},
			in:     []string{"a=; Max-Age=0; Path=/x; Domain=example.com"},
			want: []string{
				"a=; Max-Age=0; Path=/x; Domain=example.com",
				del("__Host-b", "; Path=/; Secure"),
				del("__Secure-c", "; Path=/x; Domain=example.com; Secure"),
			},
			events: []string{"__Host-b #1 cascaded", "__Secure-c #1 cascaded"},
		},
		{
			name:   "cascade: only exact names take part",
			groups: []Group{{Cookies: []string{"a", "b*", "~^c"}, OnDelete: "cascade"}},
			in:     []string{"a=; Max-Age=0"},
			want:   []string{"a=; Max-Age=0"},
		},
		{
			name:   "cascade: the group's domain, secure and partitioned policies replace the deleted member's",
			groups: []Group{{Cookies: pair, OnDelete: "cascade", Domain: "example.org", Secure: on(), Partitioned: on()}},
			in:     []string{"session_id=; Max-Age=0; Path=/app; Domain=example.com"},
			want: []string{
				"session_id=; Max-Age=0; Path=/app; Domain=example.org; Secure; Partitioned",
				del("user_id__insecure", "; Path=/app; Domain=example.org; Secure; Partitioned"),
			},
			events: []string{"session_id #1 rewritten", "user_id__insecure #1 cascaded"},
		},
		{
			name:   "cascade: domain remove drops the deleted member's Domain from both",
			groups: []Group{{Cookies: pair, OnDelete: "cascade", Domain: "remove"}},
			in:     []string{"session_id=; Max-Age=0; Path=/; Domain=example.com"},
			want:   []string{"session_id=; Max-Age=0; Path=/", del("user_id__insecure", "; Path=/")},
			events: []string{"session_id #1 rewritten", "user_id__insecure #1 cascaded"},
		},
		{
			name:   "cascade without on_partial: a half jar gets nothing (the Cookie header is not read)",
			groups: []Group{cascade},
			req:    &request{cookies: []string{"session_id=abc"}},
			want:   nil,
		},
		{
			name:   "partial: __Host- and __Secure- members are deleted with Secure, over HTTP too, and __Host- with Path=/",
			groups: []Group{{Cookies: []string{"a", "__Host-b", "__Secure-c"}, OnPartial: "expire"}},
			req:    &request{cookies: []string{"__Host-b=1; __Secure-c=2"}},
			want:   []string{del("__Host-b", "; Path=/; Secure"), del("__Secure-c", "; Path=/; Secure")},
			events: []string{"__Host-b #1 partial expired", "__Secure-c #1 partial expired"},
		},
		{
			name:   "partial: a __Secure- member keeps the group's path policy",
			groups: []Group{{Cookies: []string{"a", "__Secure-c"}, OnPartial: "expire", Path: "/app"}},
			req:    &request{cookies: []string{"__Secure-c=2"}},
			want:   []string{del("__Secure-c", "; Path=/app; Secure")},
			events: []string{"__Secure-c #1 partial expired"},
		},
		{
			name:   "partial: only exact names take part (a pattern's cookie neither completes nor breaks the group)",
			groups: []Group{{Cookies: []string{"a", "b*"}, OnPartial: "expire"}},
			req:    &request{cookies: []string{"a=1; bx=2"}},
			want:   nil,
		},
		{
			name:   "partial: only exact names take part (a pattern's cookie alone is no half jar)",
			groups: []Group{{Cookies: []string{"a", "c", "b*"}, OnPartial: "expire"}},
			req:    &request{cookies: []string{"bx=2"}},
			want:   nil,
		},
		{
			name:   "partial: a request with only session_id gets it deleted",
			groups: []Group{partial},
			req:    &request{cookies: []string{"theme=dark; session_id=abc"}},
			in:     nil,
			want:   []string{del("session_id", "; Path=/")},
			events: []string{"session_id #1 partial expired"},
		},
		{
			// A link from another site carries a Lax member and not a
			// Strict one: not a jar restored in half.
			name:   "partial: a cross-site request (Sec-Fetch-Site) gets no partial expiry",
			groups: []Group{partial},
			req:    &request{cookies: []string{"theme=dark; session_id=abc"}, crossSiteFetch: true},
			in:     nil,
			want:   nil,
		},
		{
			name:   "partial: a same-site or same-origin request does",
			groups: []Group{partial, {Label: "b", Cookies: []string{"a", "b"}, OnPartial: "expire"}},
			req:    &request{cookies: []string{"session_id=abc; a=1"}},
			in:     nil,
			want:   []string{del("session_id", "; Path=/"), del("a", "; Path=/")},
			events: []string{"session_id #1 partial expired", "a #2 partial expired"},
		},
		{
			name:   "partial: over HTTPS the deletion is Secure",
			groups: []Group{partial},
			req:    &request{cookies: []string{"user_id__insecure=42"}, https: true},
			in:     []string{"theme=dark"},
			want:   []string{"theme=dark", del("user_id__insecure", "; Path=/; Secure")},
			events: []string{"user_id__insecure #1 partial expired"},
		},
		{
			name:   "partial: the group's path, domain, secure and partitioned policies",
			groups: []Group{{Cookies: pair, OnPartial: "expire", Path: "/app", Domain: "example.com", Secure: on(), Partitioned: on()}},
			req:    &request{cookies: []string{"session_id=abc"}},
			want:   []string{del("session_id", "; Path=/app; Domain=example.com; Secure; Partitioned")},
			events: []string{"session_id #1 partial expired"},
		},
		{
			name:   "partial: secure off wins over HTTPS",
			groups: []Group{{Cookies: pair, OnPartial: "expire", Secure: off()}},
			req:    &request{cookies: []string{"session_id=abc"}, https: true},
			want:   []string{del("session_id", "; Path=/")},
			events: []string{"session_id #1 partial expired"},
		},
		{
			name:   "partial: members in several Cookie fields (HTTP/2) are all read",
			groups: []Group{{Cookies: []string{"a", "b", "c"}, OnPartial: "expire"}},
			req:    &request{cookies: []string{"a=1", "x=2; b=3"}},
			want:   []string{del("a", "; Path=/"), del("b", "; Path=/")},
			events: []string{"a #1 partial expired", "b #1 partial expired"},
		},
		{
			name:   "partial: a pair without '=' is a nameless cookie, not a member",
			groups: []Group{partial},
			req:    &request{cookies: []string{"session_id; user_id__insecure=42"}},
			want:   []string{del("user_id__insecure", "; Path=/")},
			events: []string{"user_id__insecure #1 partial expired"},
		},
		{
			name:   "partial: a pair without '=' does not complete the group, whatever its spaces",
			groups: []Group{{Cookies: []string{"a", "b", "c"}, OnPartial: "expire"}},
			req:    &request{cookies: []string{"a=1; b ; c=3", "b\t"}},
			want:   []string{del("a", "; Path=/"), del("c", "; Path=/")},
			events: []string{"a #1 partial expired", "c #1 partial expired"},
		},
		{
			name:   "partial: a complete jar gets nothing",
			groups: []Group{partial},
			req:    &request{cookies: []string{"session_id=abc; user_id__insecure=42"}},
			want:   nil,
		},
		{
			name:   "partial: an empty jar gets nothing",
			groups: []Group{partial},
			req:    &request{cookies: []string{"theme=dark"}},
			want:   nil,
		},
		{
			name:   "partial: a response that sets the members gets nothing appended",
			groups: []Group{partial},
			req:    &request{cookies: []string{"session_id=old"}},
			in:     []string{"session_id=new; Max-Age=60", "user_id__insecure=42"},
			want:   []string{"session_id=new; Max-Age=60", "user_id__insecure=42"},
		},
		{
			name:   "partial: a response that deletes a member gets nothing appended",
			groups: []Group{partial},
			req:    &request{cookies: []string{"session_id=old"}},
			in:     []string{"session_id=; Max-Age=0"},
			want:   []string{"session_id=; Max-Age=0"},
		},
		{
			name:   "partial: names compare exactly, spaces around pairs trimmed",
			groups: []Group{partial},
			req:    &request{cookies: []string{"Session_id=1;  session_id=2 ;user_id__insecurex=3"}},
			want:   []string{del("session_id", "; Path=/")},
			events: []string{"session_id #1 partial expired"},
		},
		{
			name:   "partial: no request, nothing",
			groups: []Group{partial},
			in:     []string{"a=1"},
			want:   []string{"a=1"},
		},
		{
			name:   "cascade and partial in one group: the log-out cascades",
			groups: []Group{{Cookies: pair, OnDelete: "cascade", OnPartial: "expire"}},
			req:    &request{cookies: []string{"session_id=abc"}},
			in:     []string{"session_id=; Max-Age=0; Path=/"},
			want:   []string{"session_id=; Max-Age=0; Path=/", del("user_id__insecure", "; Path=/")},
			events: []string{"user_id__insecure #1 cascaded"},
		},
	} {
		rules := make([]rule, len(tc.groups))
		for g := range tc.groups {
			rules[g] = tc.groups[g].rule()
		}
		n := testNormalizer(t, rules...)
		var obs recordingObserver
		req := perResponse(tc.req)
		got := n.rewriteResponse(append([]string(nil), tc.in...), testDate, req, &obs)
		if !equalStrings(got, tc.want) {
			t.Errorf("%d %s:\n in:   %q\n want: %q\n got:  %q", i, tc.name, tc.in, tc.want, got)
			continue
		}
		var changes []string
		for _, e := range obs {
			if !strings.HasSuffix(e, " unchanged") && !strings.HasSuffix(e, " deletion kept") {
				changes = append(changes, e)
			}
		}
		if !equalStrings(changes, tc.events) {
			t.Errorf("%d %s: observed %q, want %q", i, tc.name, changes, tc.events)
		}
		// A second pass over the same response (the final rewrite after
		// a field was added before the first body byte, say) adds
		// nothing.
		if again := n.rewriteResponse(append([]string(nil), got...), testDate, req, nil); !equalStrings(again, got) {
			t.Errorf("%d %s: second pass:\n got  %q\n want %q", i, tc.name, again, got)
		}
		// The input again, now that the memo has seen its attributes,
		// with the fields the memo answers for recorded and built
		// afterwards, as through the response writer.
		var (
			joins  fieldJoins
			events recordingObserver
		)
		joined := n.rewriteResponseJoins(append([]string(nil), tc.in...), testDate, perResponse(tc.req), &events, &joins, nil)
		joins.flush(joined)
		if !equalStrings(joined, tc.want) || !equalStrings(events, obs) {
			t.Errorf("%d %s: with the memo's fields joined afterwards:\n want: %q %q\n got:  %q %q", i, tc.name, tc.want, obs, joined, events)
		}
	}
}

// TestReportOnly checks that report_only computes every decision and
// changes nothing.
func TestReportOnly(t *testing.T) {
	g := Group{Cookies: []string{"session_id", "user_id__insecure"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9},
		Secure: on(), OnDelete: "cascade", OnPartial: "expire"}
	n := testNormalizer(t, g.rule())
	n.reportOnly = true
	for i, tc := range []struct {
		req    *request
		in     []string
		events []string
	}{
		{nil, []string{"session_id=1", "theme=x"}, []string{"session_id #1 rewritten"}},
		{nil, []string{"session_id=; Max-Age=0"}, []string{"session_id #1 rewritten", "user_id__insecure #1 cascaded"}},
		{&request{cookies: []string{"session_id=1"}}, nil, []string{"session_id #1 partial expired"}},
		{nil, []string{"session_id=1; Secure; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"}, []string{"session_id #1 unchanged"}},
	} {
		// Twice: the second time, the memo answers for what it saw, and
		// what it answers for is recorded for joining afterwards, as
		// through the response writer.
		for pass, joins := range []*fieldJoins{nil, new(fieldJoins)} {
			var obs recordingObserver
			in := append([]string(nil), tc.in...)
			got := n.rewriteResponseJoins(in, testDate, perResponse(tc.req), &obs, joins, nil)
			joins.flush(got)
			if !equalStrings(got, tc.in) {
				t.Errorf("%d, pass %d: report_only changed %q into %q", i, pass+1, tc.in, got)
			}
			if !equalStrings(obs, tc.events) {
				t.Errorf("%d, pass %d: observed %q, want %q", i, pass+1, obs, tc.events)
			}
		}
	}
}

func TestConsistencyConfigErrors(t *testing.T) {
	var many []string
	for i := range 65 {
		many = append(many, "c"+strings.Repeat("x", i))
	}
	for i, tc := range []struct {
		rules []rule
		want  string
	}{
		{[]rule{{patterns: []string{"a*"}, cascade: true}}, "group #1: on_delete and on_partial need at least one exact cookie name in the group (patterns cannot say which cookies to delete)"},
		// A cookie belongs to the first group that matches it: a name an
		// earlier group claims would never reach this group's rules.
		{[]rule{{patterns: []string{"a"}}, {label: "g", patterns: []string{"a", "b*"}, partial: true}}, `group "g": cookie "a" belongs to the earlier group #1 (a cookie belongs to the first group that matches it), so on_delete, on_partial and slide here would never see it: put this group first, or take the name out of the other`},
		{[]rule{{label: "all", patterns: []string{"*"}}, {patterns: []string{"session_id", "user_id"}, cascade: true}}, `group #2: cookie "session_id" belongs to the earlier group "all" (a cookie belongs to the first group that matches it), so on_delete, on_partial and slide here would never see it: put this group first, or take the name out of the other`},
		{[]rule{{patterns: []string{"b"}, cascade: true}, {patterns: []string{"a", "b"}, slide: 600, stamp: "st", seconds: 3600}}, `group #2: cookie "b" belongs to the earlier group #1 (a cookie belongs to the first group that matches it), so on_delete, on_partial and slide here would never see it: put this group first, or take the name out of the other`},
		// A stamp named like a group's cookie would overwrite it.
		{[]rule{{patterns: []string{"a", "b"}, cascade: true}, {label: "s", patterns: []string{"c"}, slide: 600, stamp: "a", seconds: 3600}}, `group "s": slide cookie "a" is a cookie of group #1, which the stamp would overwrite: name the stamp with slide <interval> cookie <name>`},
		{[]rule{{patterns: []string{"c"}, slide: 600, stamp: "st", seconds: 3600}, {label: "later", patterns: []string{"st", "d*"}}}, `group #1: slide cookie "st" is a cookie of group "later", which the stamp would overwrite: name the stamp with slide <interval> cookie <name>`},
		{[]rule{{patterns: many, partial: true}}, `cookie "c` + strings.Repeat("x", 64) + `": on_delete, on_partial and slide take at most 64 exact cookie names in one cookie_normalizer directive, across its groups`},
	} {
		_, err := newNormalizer(tc.rules)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%d: got %v, want %q", i, err, tc.want)
		}
	}
}

// TestCookieJarComparesPairStarts checks the reading of a Cookie field
// that compares each pair's start with the names against the parse it
// stands in for (splitItem's pairs): the same count and first value for
// every member and stamp, on edge cases and on every field of up to seven
// bytes over an alphabet of the bytes that matter; and, without slide
// (where it stops once every member is seen), the same members present.
func TestCookieJarComparesPairStarts(t *testing.T) {
	c := &consistency{}
	for i, name := range []string{"a", "ab", "session_id"} {
		c.member.add(name, i)
		c.owner = append(c.owner, 0)
	}
	c.stamps.add("aa", 0)
	c.member.freeze()
	c.stamps.freeze()
	if c.compileSearch(); !c.searchNames {
		t.Fatal("the names are few and plain, yet not searchable")
	}
	check := func(h string) {
		t.Helper()
		var searched, parsed cookieJar
		var ss, ps slideJar
		searched.slide, parsed.slide = &ss, &ps
		c.searchNames = true
		searched.read(c, []string{h, h})
		c.searchNames = false
		parsed.read(c, []string{h, h})
		if searched.count != parsed.count || ss != ps {
			t.Fatalf("reading %q: compared pair starts give counts %v, values %q, stamp %q ×%d; the parse %v, %q, %q ×%d",
				h, searched.count[:3], ss.value[:3], ss.stamp[0], ss.stampCount[0], parsed.count[:3], ps.value[:3], ps.stamp[0], ps.stampCount[0])
		}
		// Without slide, only whether each member is there counts, and
		// the comparison of pair starts stops once every member is.
		var present cookieJar
		c.searchNames = true
		present.read(c, []string{h, h})
		for m := range 3 {
			if (present.count[m] > 0) != (parsed.count[m] > 0) {
				t.Fatalf("reading %q without slide: member %d counted %d times, the parse %d", h, m, present.count[m], parsed.count[m])
			}
		}
	}
	for _, h := range []string{
		"", "session_id=1", " session_id = 1 ", "\tsession_id\t=1", "session_id", "x; session_id",
		"xsession_id=1", "session_idx=1", "x=session_id=1", "x=1; session_id=2; session_id=3; session_id=4",
		"session_id;session_id", "a=session_id; session_id=1", "session_id session_id=1", ";;session_id=;;",
		"session_id= a b ;session_id=2", "session_id=a=b", "session_id=\t;",
		"a=1; a=2; ab=3; session_id=4", "ab=1; a=2; session_id=3; aa=4",
	} {
		check(h)
	}
	everyString("ab;= \t", 7, check)
}

// TestCookieJarSearchesPlainNames checks that the Cookie header is
// searched only when it can stand in for the parse: few member and stamp
// names, each plain, and no stamp a member.
func TestCookieJarSearchesPlainNames(t *testing.T) {
	var many []string
	for i := range maxFewNames + 1 {
		many = append(many, "c"+strings.Repeat("x", i))
	}
	for i, tc := range []struct {
		groups []Group
		want   bool
	}{
		{[]Group{{Cookies: []string{"session_id", "user_id__insecure"}, OnPartial: "expire"}}, true},
		{[]Group{{Cookies: many, OnPartial: "expire"}}, false},
		{[]Group{{Cookies: []string{"a=b", "c"}, OnPartial: "expire"}}, false},
		{[]Group{{Cookies: []string{"a", "b"}, Slide: &SlidePolicy{Interval: 600e9}}}, true},
	} {
		rules := make([]rule, len(tc.groups))
		for g := range tc.groups {
			rules[g] = tc.groups[g].rule()
		}
		if got := testNormalizer(t, rules...).consistency.searchNames; got != tc.want {
			t.Errorf("%d: searchNames = %v, want %v", i, got, tc.want)
		}
	}
}

// TestMatchMember checks that the name match's one lookup gives each
// name's consistency member exactly as the members' own index does: a
// name that an earlier group's pattern claims (session_id, here) is no
// member, and a later group that lists a member too does not take it.
func TestMatchMember(t *testing.T) {
	rules := []rule{
		{patterns: []string{"~^sess"}},
		{patterns: []string{"user_id", "a*"}, cascade: true},
		{patterns: []string{"theme", "lang"}, partial: true},
		{patterns: []string{"lang", "tz", "session_id", "user_id"}},
		{patterns: []string{"csrf", "x*"}, slide: 600, stamp: "stamp", seconds: 3600},
	}
	n := testNormalizer(t, rules...)
	for _, name := range []string{"session_id", "user_id", "theme", "lang", "tz", "csrf", "stamp", "a", "ab", "x", "other", ""} {
		g, member := n.matcher.matchMember(name)
		if want := n.matcher.match(name); g != want {
			t.Errorf("%q: group %d, match gives %d", name, g, want)
		}
		want := -1
		if m, ok := n.consistency.member.lookup(name); ok {
			want = m
		}
		if member != want {
			t.Errorf("%q: member %d, want %d", name, member, want)
		}
	}
	if _, m := n.matcher.matchMember("theme"); m < 0 {
		t.Error("theme, listed only by an on_partial group, is no member")
	}
}

// TestServeHTTPReadsTheRequest checks what the handler takes from the
// request for the consistency rules: every Cookie field (HTTP/2 may send
// several), whether it came over TLS (the deletions of on_partial are
// Secure there), and the Cookie header not at all for a config whose
// groups do not read it.
func TestServeHTTPReadsTheRequest(t *testing.T) {
	partial, err := provisionJSON(t, `{"groups":[{"cookies":["session_id","user_id__insecure"],"on_partial":"expire"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	cascade, err := provisionJSON(t, `{"groups":[{"cookies":["session_id","user_id__insecure"],"on_delete":"cascade"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	page := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.WriteString(w, "page")
		return err
	})
	for i, tc := range []struct {
		h       *Handler
		url     string
		cookies []string
		want    []string
	}{
		{partial, "https://example.com/", []string{"theme=dark", "session_id=abc"}, []string{del("session_id", "; Path=/; Secure")}},
		{partial, "http://example.com/", []string{"theme=dark", "session_id=abc"}, []string{del("session_id", "; Path=/")}},
		{partial, "http://example.com/", []string{"session_id=abc", "theme=dark; user_id__insecure=42"}, nil},
		{partial, "http://example.com/", nil, nil},
		{cascade, "https://example.com/", []string{"session_id=abc"}, nil},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.url, nil)
		req.Header["Cookie"] = tc.cookies
		rec := httptest.NewRecorder()
		if err := tc.h.ServeHTTP(rec, req, page); err != nil {
			t.Fatal(err)
		}
		if got := rec.Result().Header.Values("Set-Cookie"); !equalStrings(got, tc.want) {
			t.Errorf("%d: %s with Cookie fields %q: Set-Cookie %q, want %q", i, tc.url, tc.cookies, got, tc.want)
		}
		rw := newResponseWriter(httptest.NewRecorder(), req, tc.h)
		if read := rw.req.cookies != nil; read != (tc.h == partial && tc.cookies != nil) {
			t.Errorf("%d: the writer took the Cookie header %q (%v) for a config with on_partial %v", i, rw.req.cookies, read, tc.h == partial)
		}
		rw.release()
	}
}

// TestPartialExpiryNotForSharedCaches: on_partial's deletions depend on
// the request's cookies, so a response a shared cache may store (public,
// s-maxage, any case; a field for CDNs alone that does not forbid it)
// gets none, and one that gets them is marked private;
// under report_only they are reported, and nothing is marked.
func TestPartialExpiryNotForSharedCaches(t *testing.T) {
	g := Group{Cookies: []string{"session_id", "user_id__insecure"}, OnPartial: "expire"}
	deletion := []string{del("session_id", "; Path=/")}
	for i, tc := range []struct {
		cacheControl []string
		reportOnly   bool
		want         []string
		wantPrivate  bool
		events       []string
	}{
		{nil, false, deletion, true, []string{"session_id #1 partial expired"}},
		{[]string{"no-cache, max-age=0"}, false, deletion, true, []string{"session_id #1 partial expired"}},
		{[]string{"private"}, false, deletion, true, []string{"session_id #1 partial expired"}},
		{[]string{"max-age=60, Public"}, false, nil, false, nil},
		{[]string{"no-transform", "S-MaxAge=600"}, false, nil, false, nil},
		{nil, true, nil, false, []string{"session_id #1 partial expired"}},
		{[]string{"public"}, true, nil, false, nil},
	} {
		n := testNormalizer(t, g.rule())
		n.reportOnly = tc.reportOnly
		req := &request{cookies: []string{"theme=dark; session_id=abc"}, header: http.Header{}}
		if tc.cacheControl != nil {
			req.header["Cache-Control"] = tc.cacheControl
		}
		var obs recordingObserver
		got := n.rewriteResponse(nil, testDate, req, &obs)
		if !equalStrings(got, tc.want) || req.private != tc.wantPrivate || !equalStrings(obs, tc.events) {
			t.Errorf("%d Cache-Control %q, report_only %t: Set-Cookie %q, private %t, observed %q; want %q, %t, %q",
				i, tc.cacheControl, tc.reportOnly, got, req.private, obs, tc.want, tc.wantPrivate, tc.events)
		}
	}
	// A cache-control field aimed at CDNs alone overrides Cache-Control
	// (and its private) for them.
	for i, tc := range []struct {
		header http.Header
		want   []string
	}{
		{http.Header{"Cdn-Cache-Control": {"max-age=600"}, "Cache-Control": {"no-store"}}, nil},
		{http.Header{"Surrogate-Control": {"max-age=600"}}, nil},
		{http.Header{"Cdn-Cache-Control": {"no-store"}}, deletion},
	} {
		n := testNormalizer(t, g.rule())
		req := &request{cookies: []string{"theme=dark; session_id=abc"}, header: tc.header}
		if got := n.rewriteResponse(nil, testDate, req, nil); !equalStrings(got, tc.want) || req.private != (tc.want != nil) {
			t.Errorf("%d %q: Set-Cookie %q, private %t; want %q", i, tc.header, got, req.private, tc.want)
		}
	}
}

// TestPartialExpirySecFetchSite goes through ServeHTTP: a request marked
// cross-site gets no partial expiry, others do, and the mark is read when
// the request arrives, as the Cookie fields are, not after a later
// handler (request_header, say) edited the request's header map.
func TestPartialExpirySecFetchSite(t *testing.T) {
	h, err := provisionJSON(t, `{"groups":[{"cookies":["session_id","user_id__insecure"],"on_partial":"expire"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		r.Header.Del("Sec-Fetch-Site")
		w.WriteHeader(http.StatusOK)
		return nil
	})
	for i, tc := range []struct {
		site string
		want []string
	}{
		{"cross-site", nil},
		{"same-site", []string{del("session_id", "; Path=/")}},
		{"same-origin", []string{del("session_id", "; Path=/")}},
		{"", []string{del("session_id", "; Path=/")}},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://example.com/page", nil)
		req.Header.Set("Cookie", "theme=dark; session_id=abc")
		if tc.site != "" {
			req.Header.Set("Sec-Fetch-Site", tc.site)
		}
		rec := httptest.NewRecorder()
		if err := h.ServeHTTP(rec, req, next); err != nil {
			t.Fatal(err)
		}
		if got := rec.Header().Values("Set-Cookie"); !equalStrings(got, tc.want) {
			t.Errorf("%d Sec-Fetch-Site %q: got %q, want %q", i, tc.site, got, tc.want)
		}
	}
}

// TestRequestReadOnArrival: the Cookie and Sec-Fetch-Site fields are
// taken as the request arrived, even when a later handler edits the
// elements of the request's slices in place, as request_header's search
// and replace does: the module must neither log out a complete jar whose
// Cookie a later handler thinned for the upstream, nor write an edited
// value back into the browser with a slide re-issue.
func TestRequestReadOnArrival(t *testing.T) {
	partial, err := provisionJSON(t, `{"groups":[{"cookies":["session_id","user_id__insecure"],"on_partial":"expire"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	slide, err := provisionJSON(t, slideConfig)
	if err != nil {
		t.Fatal(err)
	}
	// edit rewrites every element of the field's slice, in place.
	edit := func(field string, f func(string) string) caddyhttp.Handler {
		return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			for i, v := range r.Header[field] {
				r.Header[field][i] = f(v)
			}
			w.WriteHeader(http.StatusOK)
			return nil
		})
	}
	dropUser := func(v string) string { return strings.ReplaceAll(v, "user_id__insecure=42", "") }
	many := []string{"theme=dark", "session_id=abc", "lang=en", "tz=UTC", "user_id__insecure=42"}
	for i, tc := range []struct {
		name    string
		h       *Handler
		cookies []string
		site    string
		next    caddyhttp.Handler
		want    []string
	}{
		{"a complete jar thinned for the upstream: nothing", partial,
			[]string{"session_id=abc; user_id__insecure=42"}, "", edit("Cookie", dropUser), nil},
		{"the same over five Cookie fields (more than the writer's own array)", partial,
			many, "", edit("Cookie", dropUser), nil},
		{"a partial jar filled in for the upstream: still partial", partial,
			[]string{"session_id=abc"}, "", edit("Cookie", func(v string) string { return v + "; user_id__insecure=0" }),
			[]string{del("session_id", "; Path=/")}},
		{"a cross-site request marked same-origin later: still cross-site", partial,
			[]string{"session_id=abc"}, "cross-site", edit("Sec-Fetch-Site", func(string) string { return "same-origin" }), nil},
		{"a same-site request marked cross-site later: still same-site", partial,
			[]string{"session_id=abc"}, "same-site", edit("Sec-Fetch-Site", func(string) string { return "cross-site" }),
			[]string{del("session_id", "; Path=/")}},
		{"slide re-issues the values the browser sent, not the edited ones", slide,
			[]string{"a=1; b=2"}, "", edit("Cookie", func(v string) string { return strings.ReplaceAll(v, "a=1", "a=legacy-1") }),
			[]string{"a=1", "b=2", "cn_slide_login"}},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://example.com/page", nil)
		req.Header["Cookie"] = append([]string(nil), tc.cookies...)
		if tc.site != "" {
			req.Header.Set("Sec-Fetch-Site", tc.site)
		}
		rec := httptest.NewRecorder()
		if err := tc.h.ServeHTTP(rec, req, tc.next); err != nil {
			t.Fatal(err)
		}
		got := rec.Header().Values("Set-Cookie")
		if tc.h == slide {
			// The pairs the re-issue wrote, and the stamp's name.
			for j, f := range got {
				got[j], _, _ = strings.Cut(f, ";")
				if name, _ := cookieName(f); name == "cn_slide_login" {
					got[j] = name
				}
			}
		}
		if !equalStrings(got, tc.want) {
			t.Errorf("%d %s: Set-Cookie %q, want %q", i, tc.name, got, tc.want)
		}
	}
}

// TestReportOnlyLike: under report_only a `like` group reads its leader as
// the rewrite would have sent it, so that each field is reported with the
// action the applied rewrite takes: the same observations as a handler
// that applies them, and the fields unchanged. Twice, the second time
// through the memo.
func TestReportOnlyLike(t *testing.T) {
	rules := func(lead ExpiryPolicy) []rule {
		return []rule{
			Group{Cookies: []string{"session_id"}, Expire: &lead}.rule(),
			Group{Cookies: []string{"user_id__insecure"}, Expire: &ExpiryPolicy{Mode: modeLike, Like: "session_id"}}.rule(),
		}
	}
	for i, tc := range []struct {
		lead ExpiryPolicy
		in   []string
	}{
		// The leader becomes a session cookie: the follower, a session
		// cookie already, is unchanged.
		{ExpiryPolicy{Mode: modeSession}, []string{"session_id=a; Max-Age=43200", "user_id__insecure=1"}},
		// The leader gets an hour: so does the follower.
		{ExpiryPolicy{Mode: modeFixed, Duration: 3600e9}, []string{"session_id=a", "user_id__insecure=1"}},
	} {
		applied, reported := testNormalizer(t, rules(tc.lead)...), testNormalizer(t, rules(tc.lead)...)
		reported.reportOnly = true
		for pass := 1; pass <= 2; pass++ {
			var want, got recordingObserver
			applied.rewriteResponse(append([]string(nil), tc.in...), testDate, nil, &want)
			out := reported.rewriteResponse(append([]string(nil), tc.in...), testDate, nil, &got)
			if !equalStrings(got, want) {
				t.Errorf("%d, pass %d: report_only observed %q, the applied rewrite %q", i, pass, got, want)
			}
			if !equalStrings(out, tc.in) {
				t.Errorf("%d, pass %d: report_only changed %q into %q", i, pass, tc.in, out)
			}
		}
	}
}
