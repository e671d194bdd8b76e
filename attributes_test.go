package cookienormalizer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// attrRule builds a rule from a group's JSON-side fields, as Provision does.
func attrRule(g Group) rule { return g.rule() }

func on() *bool  { b := true; return &b }
func off() *bool { b := false; return &b }

func TestRewriteAttributes(t *testing.T) {
	for i, tc := range []struct {
		name  string
		group Group
		in    []string
		want  []string
	}{
		{
			name:  "secure on adds the flag",
			group: Group{Cookies: []string{"a"}, Secure: on()},
			in:    []string{"a=1; Path=/"},
			want:  []string{"a=1; Path=/; Secure"},
		},
		{
			name:  "secure on keeps an existing flag's bytes, any case",
			group: Group{Cookies: []string{"a"}, Secure: on()},
			in:    []string{"a=1;secure ; Path=/", "a=2; SECURE", "a=3; Secure=yes"},
			want:  []string{"a=1;secure ; Path=/", "a=2; SECURE", "a=3; Secure=yes"},
		},
		{
			// Chromium and Firefox ignore an attribute whose value is over
			// 1024 bytes (RFC 6265bis §5.6), a flag too: for them the
			// cookie has no Secure, so on adds one (WebKit, which reads it,
			// gets it twice); at exactly 1024 bytes it counts.
			name:  "on adds a flag whose only occurrence has a value over 1024 bytes",
			group: Group{Cookies: []string{"a"}, Secure: on(), HTTPOnly: on(), Partitioned: on()},
			in: []string{
				"a=1; Secure=" + strings.Repeat("x", 1025) + "; HttpOnly= " + strings.Repeat("y", 1100) + " ; Partitioned=" + strings.Repeat("z", 1025),
				"a=1; Secure=" + strings.Repeat("x", 1024) + "; HttpOnly=" + strings.Repeat("y", 1024) + "; Partitioned=" + strings.Repeat("z", 1024),
			},
			want: []string{
				"a=1; Secure=" + strings.Repeat("x", 1025) + "; HttpOnly= " + strings.Repeat("y", 1100) + " ; Partitioned=" + strings.Repeat("z", 1025) + "; Secure; HttpOnly; Partitioned",
				"a=1; Secure=" + strings.Repeat("x", 1024) + "; HttpOnly=" + strings.Repeat("y", 1024) + "; Partitioned=" + strings.Repeat("z", 1024),
			},
		},
		{
			name:  "off removes a flag with a value over 1024 bytes too (WebKit reads it)",
			group: Group{Cookies: []string{"a"}, Secure: off(), HTTPOnly: off()},
			in:    []string{"a=1; Secure=" + strings.Repeat("x", 1025) + "; HttpOnly=" + strings.Repeat("y", 1025) + "; Path=/"},
			want:  []string{"a=1; Path=/"},
		},
		{
			// Browsers read the last occurrence of an attribute: it is
			// the one rewritten (or kept when it already complies), and
			// the earlier ones go.
			name:  "duplicates: the last occurrence is set, earlier ones removed",
			group: Group{Cookies: []string{"a"}, SameSite: "lax", Path: "/app", Domain: "example.com"},
			in: []string{
				"a=1; SameSite=None; SameSite=Lax",
				"a=2; Path=/x; Path=/y",
				"a=3; Domain=a.example; Domain=b.example; Path=/app",
			},
			want: []string{
				"a=1; SameSite=Lax; Path=/app; Domain=example.com",
				"a=2; Path=/app; Domain=example.com; SameSite=Lax",
				"a=3; Domain=example.com; Path=/app; SameSite=Lax",
			},
		},
		{
			name:  "httponly off and partitioned off remove every occurrence",
			group: Group{Cookies: []string{"a"}, HTTPOnly: off(), Partitioned: off()},
			in:    []string{"a=1; HttpOnly; Partitioned; Path=/; httponly; partitioned"},
			want:  []string{"a=1; Path=/"},
		},
		{
			name:  "secure off removes every occurrence with its separator",
			group: Group{Cookies: []string{"a"}, Secure: off()},
			in:    []string{"a=1; Secure; Path=/; secure"},
			want:  []string{"a=1; Path=/"},
		},
		{
			// Browsers refuse a SameSite=None or Partitioned cookie
			// without Secure: a log-out would delete nothing.
			name:  "secure off keeps Secure on SameSite=None and Partitioned fields",
			group: Group{Cookies: []string{"a"}, Secure: off()},
			in: []string{"a=; Max-Age=0; Secure; SameSite=None", "a=v; Secure; samesite=NONE", "a=v; Secure; Partitioned",
				"a=v; Secure; SameSite=None; SameSite=Lax", "a=v; Secure; SameSite=Lax; SameSite=None"},
			want: []string{"a=; Max-Age=0; Secure; SameSite=None", "a=v; Secure; samesite=NONE", "a=v; Secure; Partitioned",
				"a=v; SameSite=None; SameSite=Lax", "a=v; Secure; SameSite=Lax; SameSite=None"},
		},
		{
			name:  "secure off with a samesite or partitioned policy that makes the field storable",
			group: Group{Cookies: []string{"a"}, Secure: off(), SameSite: "lax", Partitioned: off()},
			in:    []string{"a=; Max-Age=0; Secure; SameSite=None; Partitioned"},
			want:  []string{"a=; Max-Age=0; SameSite=Lax"},
		},
		{
			name:  "httponly on and off",
			group: Group{Cookies: []string{"a"}, HTTPOnly: on()},
			in:    []string{"a=1", "a=1; httponly"},
			want:  []string{"a=1; HttpOnly", "a=1; httponly"},
		},
		{
			name:  "httponly off",
			group: Group{Cookies: []string{"a"}, HTTPOnly: off()},
			in:    []string{"a=1; HttpOnly; Path=/"},
			want:  []string{"a=1; Path=/"},
		},
		{
			name:  "partitioned on needs nothing else at rewrite",
			group: Group{Cookies: []string{"a"}, Secure: on(), Partitioned: on()},
			in:    []string{"a=1; Secure", "a=1; Partitioned"},
			want:  []string{"a=1; Secure; Partitioned", "a=1; Partitioned; Secure"},
		},
		{
			name:  "partitioned off",
			group: Group{Cookies: []string{"a"}, Partitioned: off()},
			in:    []string{"a=1; Partitioned; Secure"},
			want:  []string{"a=1; Secure"},
		},
		{
			name:  "samesite set: appended when missing",
			group: Group{Cookies: []string{"a"}, SameSite: "lax"},
			in:    []string{"a=1; Path=/"},
			want:  []string{"a=1; Path=/; SameSite=Lax"},
		},
		{
			name:  "samesite set: an equal value keeps its bytes, any case",
			group: Group{Cookies: []string{"a"}, SameSite: "lax"},
			in:    []string{"a=1; samesite=lax; Path=/"},
			want:  []string{"a=1; samesite=lax; Path=/"},
		},
		{
			name:  "samesite set: another value is rewritten where it stands",
			group: Group{Cookies: []string{"a"}, SameSite: "strict"},
			in:    []string{"a=1; SameSite=None; Path=/"},
			want:  []string{"a=1; SameSite=Strict; Path=/"},
		},
		{
			name:  "samesite set: earlier duplicates removed, the last rewritten",
			group: Group{Cookies: []string{"a"}, SameSite: "lax"},
			in:    []string{"a=1; SameSite=Strict; Path=/; SameSite=None; Secure"},
			want:  []string{"a=1; Path=/; SameSite=Lax; Secure"},
		},
		{
			name:  "samesite none with secure",
			group: Group{Cookies: []string{"a"}, SameSite: "none", Secure: on()},
			in:    []string{"a=1"},
			want:  []string{"a=1; Secure; SameSite=None"},
		},
		{
			name:  "samesite remove",
			group: Group{Cookies: []string{"a"}, SameSite: "remove"},
			in:    []string{"a=1; SameSite=Lax; Path=/; samesite=strict"},
			want:  []string{"a=1; Path=/"},
		},
		{
			name:  "path replaced where it stands; exact bytes compare",
			group: Group{Cookies: []string{"a"}, Path: "/app"},
			in:    []string{"a=1; Path=/; Secure", "a=1; path=/app", "a=1; Path=/APP"},
			want:  []string{"a=1; Path=/app; Secure", "a=1; path=/app", "a=1; Path=/app"},
		},
		{
			name:  "path appended",
			group: Group{Cookies: []string{"a"}, Path: "/"},
			in:    []string{"a=1"},
			want:  []string{"a=1; Path=/"},
		},
		{
			name:  "domain replaced, compared without case",
			group: Group{Cookies: []string{"a"}, Domain: "example.com"},
			in:    []string{"a=1; Domain=old.example; Path=/", "a=1; domain=EXAMPLE.com", "a=1"},
			want:  []string{"a=1; Domain=example.com; Path=/", "a=1; domain=EXAMPLE.com", "a=1; Domain=example.com"},
		},
		{
			name:  "domain remove makes the cookie host-only",
			group: Group{Cookies: []string{"a"}, Domain: "remove"},
			in:    []string{"a=1; Domain=.example.com; Path=/; domain=x"},
			want:  []string{"a=1; Path=/"},
		},
		{
			name:  "everything at once appends in a fixed order",
			group: Group{Cookies: []string{"a"}, Path: "/", Domain: "example.com", Secure: on(), HTTPOnly: on(), SameSite: "none", Partitioned: on()},
			in:    []string{"a=1"},
			want:  []string{"a=1; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=None; Partitioned"},
		},
		{
			name:  "attributes with a fixed lifetime: attributes first, Expires and Max-Age last",
			group: Group{Cookies: []string{"a"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9}, Secure: on(), HTTPOnly: on(), SameSite: "lax"},
			in:    []string{"a=1; Max-Age=60; Path=/"},
			want:  []string{"a=1; Path=/; Secure; HttpOnly; SameSite=Lax; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"},
		},
		{
			name:  "a deletion gets the attributes and keeps its expiry",
			group: Group{Cookies: []string{"a"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9}, Path: "/app", Secure: on()},
			in:    []string{"a=; Max-Age=0; Path=/"},
			want:  []string{"a=; Max-Age=0; Path=/app; Secure"},
		},
		{
			name:  "a deletion by Expires gets the attributes",
			group: Group{Cookies: []string{"a"}, Domain: "remove", SameSite: "lax"},
			in:    []string{"a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com"},
			want:  []string{"a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax"},
		},
		{
			name:  "attribute policies alone leave the lifetime as sent",
			group: Group{Cookies: []string{"a"}, HTTPOnly: on()},
			in:    []string{"a=1; Max-Age=60; Expires=Tue, 24 Nov 2026 12:01:00 GMT"},
			want:  []string{"a=1; Max-Age=60; Expires=Tue, 24 Nov 2026 12:01:00 GMT; HttpOnly"},
		},
		{
			name:  "unknown attributes, quoted values and odd spacing keep their bytes",
			group: Group{Cookies: []string{"a"}, Secure: on(), SameSite: "lax"},
			in:    []string{`a="x, y" ;Priority=High;  samesite = strict ;Path=/`},
			want:  []string{`a="x, y" ;Priority=High; SameSite=Lax;Path=/; Secure`},
		},
		{
			name:  "a trailing semicolon gets no second one",
			group: Group{Cookies: []string{"a"}, Secure: on()},
			in:    []string{"a=1; Path=/; "},
			want:  []string{"a=1; Path=/; Secure"},
		},
		{
			name:  "rejected fields pass unchanged",
			group: Group{Cookies: []string{"a"}, Secure: on()},
			in:    []string{"a=1\x01", "a=" + strings.Repeat("v", 4096)},
			want:  []string{"a=1\x01", "a=" + strings.Repeat("v", 4096)},
		},
		{
			name:  "unmatched cookies untouched",
			group: Group{Cookies: []string{"a"}, Secure: on()},
			in:    []string{"b=1", "not a cookie"},
			want:  []string{"b=1", "not a cookie"},
		},
		{
			name:  "pattern match: __Host- keeps Secure, Path=/ and no Domain",
			group: Group{Cookies: []string{"*"}, Secure: off(), Path: "/app", Domain: "example.com", HTTPOnly: on()},
			in:    []string{"__Host-sid=1; Secure; Path=/", "plain=1; Secure; Path=/"},
			want:  []string{"__Host-sid=1; Secure; Path=/; HttpOnly", "plain=1; Path=/app; Domain=example.com; HttpOnly"},
		},
		{
			name:  "pattern match: prefixes compare without case",
			group: Group{Cookies: []string{"*"}, Secure: off()},
			in:    []string{"__secure-x=1; Secure", "__HOST-y=1; Secure; Path=/"},
			want:  []string{"__secure-x=1; Secure", "__HOST-y=1; Secure; Path=/"},
		},
		{
			name:  "pattern match: __Secure- may take a path and a domain",
			group: Group{Cookies: []string{"~^__Secure-"}, Path: "/app", Domain: "example.com"},
			in:    []string{"__Secure-x=1; Secure"},
			want:  []string{"__Secure-x=1; Secure; Path=/app; Domain=example.com"},
		},
		{
			name:  "pattern match: __Host- with path / and domain remove is fine",
			group: Group{Cookies: []string{"*"}, Path: "/", Domain: "remove"},
			in:    []string{"__Host-sid=1; Secure; Domain=example.com"},
			want:  []string{"__Host-sid=1; Secure; Path=/"},
		},
		{
			// A rewritten field has at most one Max-Age and one Expires.
			// Without a policy for the lifetime, the last of each stays:
			// the one every engine reads, so no engine's lifetime changes.
			name:  "a field the policies rewrite loses its duplicate Max-Age and Expires, the last of each kept",
			group: Group{Cookies: []string{"a"}, Secure: on()},
			in: []string{
				"a=1; Max-Age=100; Path=/; max-age=200",
				"a=2; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Max-Age=5; expires=Thu, 02 Jan 2031 00:00:00 GMT",
				"a=3; Max-Age=abc; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Max-Age=300; Max-Age=400",
			},
			want: []string{
				"a=1; Path=/; max-age=200; Secure",
				"a=2; Max-Age=5; expires=Thu, 02 Jan 2031 00:00:00 GMT; Secure",
				"a=3; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Max-Age=400; Secure",
			},
		},
		{
			// An engine that skips the last one falls back on an earlier
			// one: '+' (RFC 6265bis and Firefox skip it, Chromium and
			// WebKit read it), a value the Max-Age syntax rejects, one
			// over 1024 bytes (WebKit alone reads it), an Expires date not
			// in the IMF-fixdate form, or before 1601 (the cookie-date
			// algorithm rejects it).
			name:  "duplicates stay when an engine might skip the last one",
			group: Group{Cookies: []string{"a"}, Secure: on()},
			in: []string{
				"a=1; Max-Age=100; Max-Age=+200",
				"a=2; Max-Age=100; Max-Age=2x",
				"a=3; Max-Age=100; Max-Age=" + strings.Repeat("0", 1030) + "200",
				"a=4; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Expires=Thu, 02-Jan-2031 00:00:00 GMT",
				"a=5; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Expires=Mon, 01 Jan 1600 00:00:00 GMT",
			},
			want: []string{
				"a=1; Max-Age=100; Max-Age=+200; Secure",
				"a=2; Max-Age=100; Max-Age=2x; Secure",
				"a=3; Max-Age=100; Max-Age=" + strings.Repeat("0", 1030) + "200; Secure",
				"a=4; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Expires=Thu, 02-Jan-2031 00:00:00 GMT; Secure",
				"a=5; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Expires=Mon, 01 Jan 1600 00:00:00 GMT; Secure",
			},
		},
		{
			// A deletion keeps its lifetime attributes as sent, and a field
			// the policies leave alone keeps all its bytes.
			name:  "duplicates stay in a deletion and in a field nothing else changes",
			group: Group{Cookies: []string{"a"}, Secure: on()},
			in:    []string{"a=; Max-Age=100; Max-Age=0", "a=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0", "a=1; Max-Age=1; Max-Age=2; Secure"},
			want:  []string{"a=; Max-Age=100; Max-Age=0; Secure", "a=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure", "a=1; Max-Age=1; Max-Age=2; Secure"},
		},
		{
			// max leaves a lifetime under its cap as it is; the attribute
			// policy's rewrite thins the duplicates all the same.
			name:  "max under the cap, with an attribute policy: duplicates thinned",
			group: Group{Cookies: []string{"a"}, Expire: &ExpiryPolicy{Mode: modeMax, Duration: 3600e9}, SameSite: "lax"},
			in:    []string{"a=1; Max-Age=100; Max-Age=200"},
			want:  []string{"a=1; Max-Age=200; SameSite=Lax"},
		},
	} {
		n := testNormalizer(t, attrRule(tc.group))
		got := rewriteAll(n, tc.in, testDate)
		if !equalStrings(got, tc.want) {
			t.Errorf("%d %s:\n in:   %q\n want: %q\n got:  %q", i, tc.name, clip(tc.in), clip(tc.want), clip(got))
			continue
		}
		if again := rewriteAll(n, got, testDate); !equalStrings(again, got) {
			t.Errorf("%d %s: not idempotent:\n once:  %q\n twice: %q", i, tc.name, clip(got), clip(again))
		}
	}
}

// clip shortens long values in failure messages.
func clip(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		if len(v) > 120 {
			v = v[:60] + "…" + v[len(v)-40:]
		}
		out[i] = v
	}
	return out
}

// TestPrefixSkipIsObserved checks that a skipped edit is reported (the
// handler logs it at debug), by name.
func TestPrefixSkipIsObserved(t *testing.T) {
	n := testNormalizer(t, attrRule(Group{Cookies: []string{"*"}, Secure: off()}))
	var obs recordingObserver
	n.rewrite([]string{"__Host-sid=1; Secure; Path=/", "b=1; Secure"}, testDate, &obs, nil)
	want := []string{"__Host-sid #1 unchanged", "__Host-sid #1 edit skipped", "b #1 rewritten"}
	if !equalStrings(obs, want) {
		t.Errorf("observed %q, want %q", obs, want)
	}
}

// TestPathPolicyReachesTabbedDeletion: a deletion some engine reads as
// one, but with a HTAB in it (libsoup stops reading there, so the module
// passes the field unchanged), must still reach the cookie where the
// group's path or domain policy put it. Measured in Chromium 156, Firefox
// 153 and WebKitGTK 2.50: after "a=old; Path=/rd" (the module's rewrite
// of "a=old; Path=/rd/x"), "a=v; Max-Age=0<HTAB>; Path=/rd/x" alone
// deletes nothing at /rd, and the log-out fails; a clean deletion at the
// policy's place is appended after it. Where an engine reads the field as
// a set, the deletion must be at another place than that engine stores
// it, or it would delete the cookie the app just set.
func TestPathPolicyReachesTabbedDeletion(t *testing.T) {
	const del = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
	path := attrRule(Group{Cookies: []string{"a"}, Path: "/rd"})
	domain := attrRule(Group{Cookies: []string{"a"}, Domain: "example.com", SameSite: "lax"})
	for i, tc := range []struct {
		rule   rule
		in     []string
		want   []string // the appended fields
		target string   // the request's target, "" for no request (see requestFor)
	}{
		{path, []string{"a=v; Max-Age=0\t; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, ""},
		{path, []string{"a=v; Path=/rd/x; Max-Age=0\t; Secure; SameSite=None"}, []string{"a=" + del + "; Path=/rd; Secure; SameSite=None"}, ""},
		// A ',' in an attribute's name: libsoup stops there too.
		{path, []string{"a=v; Max-Age=0; Path=/rd/x; x,y=1"}, []string{"a=" + del + "; Path=/rd"}, ""},
		{domain, []string{"a=v; Max-Age=0\t; Domain=app.example.com"}, []string{"a=" + del + "; Domain=example.com; SameSite=Lax"}, ""},
		// libsoup reads Max-Age=0 up to the tab, Chromium and Firefox
		// prefer Max-Age to the later Expires: a deletion everywhere,
		// though libsoup's reading of the whole field would keep it.
		{path, []string{"a=v; Max-Age=0\t; Expires=Wed, 25 Nov 2026 12:00:00 GMT; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, ""},
		// The field the randomized browser differential found (seed 3).
		{path, []string{"a=\"q;704\";  max-age = 0\t ; saMesItE=None; Path=/rd/x ; Max-Age=0\t; Expires=Sat, 27 Nov 2026 13:20:26 GMT; SECURE"},
			[]string{"a=" + del + "; Path=/rd; Secure; SameSite=None"}, ""},
		// libsoup reads Max-Age=60 up to the tab, the others the later
		// Max-Age=0: Chromium and Firefox delete, libsoup sets a=v at
		// the default-path of the request (it does not read the Path
		// after the tab). A deletion at /rd is apart from /app, where
		// libsoup stores it, but not from /rd; and with no request the
		// place is not known.
		{path, []string{"a=v; Max-Age=60\t; Max-Age=0; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, "/app/logout?next=/rd/x"},
		{path, []string{"a=v; Max-Age=60\t; Max-Age=0; Path=/rd/x"}, nil, "/rd/logout"},
		{path, []string{"a=v; Max-Age=60\t; Max-Age=0; Path=/rd/x"}, nil, ""},
		{path, []string{"a=v; Max-Age=60\t; Max-Age=0; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, "http://example.com/app/logout"},
		{path, []string{"a=v; Max-Age=60\t; Max-Age=0; Path=/rd/x"}, nil, "*"},
		// libsoup lets the past Expires decide, Chromium and Firefox the
		// Max-Age, and store a=v at /rd/x, apart from /rd.
		{path, []string{"a=v; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT\t; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, ""},
		// ... but at /rd itself it would delete what they store.
		{path, []string{"a=v; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT\t; Path=/rd"}, nil, ""},
		// The field the randomized browser differential found (seed 7):
		// libsoup deletes up to the tab, the others read Max-Age=3600.
		{path, []string{"a=v; Max-Age=0\t; Max-Age=3600; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, ""},
		// The other way round: Chromium and Firefox delete, libsoup lets
		// the future Expires it reads before the tab decide, at the
		// request's default-path.
		{path, []string{"a=v; Max-Age=0; Expires=Wed, 25 Nov 2026 12:00:00 GMT\t; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, "/"},
		{path, []string{"a=v; Max-Age=0; Expires=Wed, 25 Nov 2026 12:00:00 GMT\t; Path=/rd/x"}, nil, "/rd/"},
		// libsoup reads a Path before the tab: its own place decides.
		{path, []string{"a=v; Path=/rd; Max-Age=0; Expires=Wed, 25 Nov 2026 12:00:00 GMT\t; Path=/rd/x"}, nil, "/"},
		{path, []string{"a=v; Path=/app; Max-Age=0; Expires=Wed, 25 Nov 2026 12:00:00 GMT\t; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, "/rd/"},
		// Chromium and Firefox ignore a Path over 1024 bytes and read the
		// one before it, the placed deletion's own.
		{path, []string{"a=v; Max-Age=0\t; Max-Age=3600; Path=/rd; Path=/" + strings.Repeat("p", 1100)}, nil, ""},
		{path, []string{"a=v; Max-Age=0\t; Max-Age=3600; Path=/rd/x; Path=/" + strings.Repeat("p", 1100)}, []string{"a=" + del + "; Path=/rd"}, ""},
		// A Path the engines read their own ways (not starting with '/')
		// where an engine sets: not known.
		{path, []string{"a=v; Max-Age=0\t; Max-Age=3600; Path=rd"}, nil, "/"},
		// Under a domain policy: the deletion has a Domain, and a field
		// an engine stores host-only is apart from it at the same path;
		// one with a Domain of its own (an empty one too) is not known
		// to be.
		{domain, []string{"a=v; Max-Age=0\t; Max-Age=3600"}, []string{"a=" + del + "; Domain=example.com; SameSite=Lax"}, "/login"},
		{domain, []string{"a=v; Max-Age=0\t; Max-Age=3600"}, nil, ""},
		{domain, []string{"a=v; Max-Age=0\t; Max-Age=3600; Domain=app.example.com"}, nil, "/login"},
		{domain, []string{"a=v; Max-Age=0\t; Max-Age=3600; Domain="}, nil, "/login"},
		{domain, []string{"a=v; Max-Age=0\t; Max-Age=3600; Path=/a"}, []string{"a=" + del + "; Path=/a; Domain=example.com; SameSite=Lax"}, ""},
		// libsoup stops before the Max-Age=0 the others read.
		{path, []string{"a=v\tw; Max-Age=0; Path=/rd/x"}, nil, ""},
		// Not a deletion at all.
		{path, []string{"a=v; Max-Age=60\t; Path=/rd/x"}, nil, ""},
		// The last field for the name decides: here the app's own.
		{path, []string{"a=v; Max-Age=0\t; Path=/rd/x", "a=w; Max-Age=60; Path=/rd/x"}, nil, ""},
		// The same, the other way round: the tabbed deletion is last.
		{path, []string{"a=w; Max-Age=60; Path=/rd/x", "a=v; Max-Age=0\t; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, ""},
		// A Path or Domain the deletion would copy (the policies set no
		// other) with a tab inside its value: Chromium and Firefox read it
		// whole, libsoup up to the tab, and the copy leaves it out, so a
		// deletion would go to the request's default-path, an earlier
		// Path or no Domain: a place the app's field names in no engine,
		// where it could delete a cookie the app keeps. Nothing placed.
		{domain, []string{"a=; Max-Age=0; Path=/o\tld"}, nil, ""},
		{domain, []string{"a=; Max-Age=0; Path=/old; Path=/n\tew"}, nil, ""},
		{path, []string{"a=; Max-Age=0; Path=/rd/x; Domain=exa\tmple.com"}, nil, ""},
		// So does a Path over 1024 bytes, which Chromium and Firefox
		// ignore and libsoup reads.
		{domain, []string{"a=v; Max-Age=0\t; Path=/" + strings.Repeat("p", 1100)}, nil, ""},
		// A tab the trim takes off, or in a Path the policy replaces:
		// the place is known.
		{domain, []string{"a=; Max-Age=0; Path=/old\t"}, []string{"a=" + del + "; Path=/old; Domain=example.com; SameSite=Lax"}, ""},
		{path, []string{"a=; Max-Age=0; Path=/o\tld"}, []string{"a=" + del + "; Path=/rd"}, ""},
		{domain, []string{"a=; Max-Age=0; Domain=app.exa\tmple.com"}, []string{"a=" + del + "; Domain=example.com; SameSite=Lax"}, ""},
		// An Expires after the tab that libsoup would not know how to
		// read, were it to read on: it does not, and Chromium and Firefox
		// let the Max-Age decide. A deletion in every engine.
		{path, []string{"a=v; Max-Age=0\t; Expires=garbage; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, ""},
		{path, []string{"a=v; Max-Age=0\t; Expires=Wednesday, 25-Nov-26 12:00:00 GMT; Path=/rd/x"}, []string{"a=" + del + "; Path=/rd"}, ""},
		// But a Max-Age after the tab that Chromium reads, and how is
		// not known: nothing placed.
		{path, []string{"a=v; Max-Age=0\t; Max-Age=99999999999999999999; Path=/rd/x"}, nil, ""},
		// Nor an Expires before it that libsoup reads, and how is not
		// known, though the others delete.
		{path, []string{"a=v; Max-Age=0; Expires=garbage\t; Path=/rd/x"}, nil, ""},
		// No path or domain policy: nothing to reach.
		{attrRule(Group{Cookies: []string{"a"}, HTTPOnly: on()}), []string{"a=v; Max-Age=0\t; Path=/rd/x"}, nil, ""},
	} {
		n := testNormalizer(t, tc.rule)
		newReq := func() *request {
			if tc.target == "" {
				return nil
			}
			return &request{from: requestFor(tc.target)}
		}
		got := n.rewriteResponse(append([]string(nil), tc.in...), testDate, newReq(), nil)
		if len(got) < len(tc.in) {
			t.Errorf("%d: %q: gave %q", i, tc.in, got)
			continue
		}
		for k, v := range tc.in {
			if strings.ContainsAny(v, "\t,") && got[k] != v {
				t.Errorf("%d: the app's field %q became %q, want it unchanged", i, v, got[k])
			}
		}
		if added := got[len(tc.in):]; !slices.Equal(added, tc.want) {
			t.Errorf("%d: %q: appended %q, want %q", i, tc.in, added, tc.want)
		}
		// Idempotent: a second rewrite (another cookie_normalizer
		// around this one) appends nothing more.
		if again := n.rewriteResponse(append([]string(nil), got...), testDate, newReq(), nil); !slices.Equal(again, got) {
			t.Errorf("%d: %q: a second rewrite gave %q, want %q", i, tc.in, again, got)
		}
		// report_only appends nothing, and counts what it would have.
		if tc.want != nil {
			n.reportOnly = true
			var obs recordingObserver
			ro := n.rewriteResponse(append([]string(nil), tc.in...), testDate, newReq(), &obs)
			if !slices.Equal(ro, tc.in) {
				t.Errorf("%d: report_only gave %q, want %q", i, ro, tc.in)
			}
			if want := "a #1 deletion placed"; !slices.Contains(obs, want) {
				t.Errorf("%d: report_only observed %q, want %q among them", i, obs, want)
			}
		}
	}
}

// TestPlacedUnderUnreadDate: under a Date the module cannot read,
// Chromium's and Firefox's reading of an Expires is not known; but of the
// part before the tab only libsoup's reading counts (the others read the
// whole field), and libsoup reads an Expires on its own clock.
func TestPlacedUnderUnreadDate(t *testing.T) {
	const del = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
	n := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}, Path: "/rd"}))
	for i, tc := range []struct {
		in   string
		want []string // the appended fields
	}{
		// Chromium and Firefox: the Max-Age after the tab; libsoup: the
		// past Expires before it.
		{"a=v; Expires=Thu, 01 Jan 1970 00:00:00 GMT\t; Max-Age=0; Path=/rd/x", []string{"a=" + del + "; Path=/rd"}},
		// Chromium and Firefox: only the Expires, on the Date: not known.
		{"a=v; Expires=Thu, 01 Jan 1970 00:00:00 GMT\t; Path=/rd/x", nil},
	} {
		got := n.rewriteResponse([]string{tc.in}, "not a date", nil, nil)
		if got[0] != tc.in {
			t.Errorf("%d: the app's field %q became %q, want it unchanged", i, tc.in, got[0])
		}
		if added := got[1:]; !slices.Equal(added, tc.want) {
			t.Errorf("%d: %q: appended %q, want %q", i, tc.in, added, tc.want)
		}
	}
}

// requestFor is a request with target as its RequestURI (an absolute
// one's URL has the path; "*" has none).
func requestFor(target string) *http.Request {
	if target == "*" {
		r := httptest.NewRequest(http.MethodOptions, "/", nil)
		r.RequestURI, r.URL.Path = "*", "*"
		return r
	}
	return httptest.NewRequest(http.MethodGet, target, nil)
}

// TestRequestTarget: a field without a Path is stored at the default path
// of the target the browser sent, which Caddy's rewrite handler changes
// in RequestURI and URL; the server keeps the request as it arrived in
// the context.
func TestRequestTarget(t *testing.T) {
	rewritten := httptest.NewRequest(http.MethodGet, "/rd/page", nil)
	arrived := *httptest.NewRequest(http.MethodGet, "/app/page?x=/rd/y", nil)
	rewritten = rewritten.WithContext(context.WithValue(rewritten.Context(), caddyhttp.OriginalRequestCtxKey, arrived))
	for _, tc := range []struct {
		from       *http.Request
		want, path string
	}{
		{rewritten, "/app/page?x=/rd/y", "/app"},
		{requestFor("/a/b/c"), "/a/b/c", "/a/b"},
		{requestFor("/a"), "/a", "/"},
		{requestFor("/"), "/", "/"},
		{requestFor("https://example.com/a%2Fb/c?d"), "/a%2Fb/c", "/a%2Fb"},
		{requestFor("*"), "", ""},
		{nil, "", ""},
	} {
		r := &request{from: tc.from}
		if got := r.target(); got != tc.want {
			t.Errorf("%v: target %q, want %q", tc.from, got, tc.want)
		} else if got != "" && defaultPath(got) != tc.path {
			t.Errorf("%q: default path %q, want %q", got, defaultPath(got), tc.path)
		}
	}
}

// TestKeepsSecureOffPrefixed: `secure off` leaves Secure on a __Secure-
// or __Host- cookie (removing it would make browsers refuse the field),
// so the cookie still has it; on another name it goes.
func TestKeepsSecureOffPrefixed(t *testing.T) {
	p := attrPolicy{secure: flagOff}
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"__Secure-a=1; Secure; Path=/", true},
		{"__Host-a=1; Secure; Path=/", true},
		{"a=1; Secure; Path=/", false},
	} {
		var f setCookie
		f.scan(tc.v, attributeKinds, 0)
		if got := p.keepsSecure(&f, true); got != tc.want {
			t.Errorf("%q: keepsSecure %v, want %v", tc.v, got, tc.want)
		}
		if got := storedWithPolicies(&f, &p, securePrefixed(f.name), false); !got {
			t.Errorf("%q: storedWithPolicies %v, want true", tc.v, got)
		}
	}
}
