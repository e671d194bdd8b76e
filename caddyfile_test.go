package cookienormalizer

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	for i, tc := range []struct {
		input string
		want  string // the handler's JSON
	}{
		{
			input: `cookie_normalizer session_id user_id__insecure {
				expire session
			}`,
			want: `{"groups":[{"cookies":["session_id","user_id__insecure"],"expire":{"mode":"session"}}]}`,
		},
		{
			input: `cookie_normalizer session_id {
				expire 12h
			}`,
			want: `{"groups":[{"cookies":["session_id"],"expire":{"mode":"fixed","duration":43200000000000}}]}`,
		},
		{
			// the short form's block may add patterns on cookies lines
			input: `cookie_normalizer session_id {
				cookies user_id__insecure wh_*
				expire session
			}`,
			want: `{"groups":[{"cookies":["session_id","user_id__insecure","wh_*"],"expire":{"mode":"session"}}]}`,
		},
		{
			input: `cookie_normalizer wh_* ~^sess {
				expire max 7d
			}`,
			want: `{"groups":[{"cookies":["wh_*","~^sess"],"expire":{"mode":"max","duration":604800000000000}}]}`,
		},
		{
			// samesite in any case, as Set-Cookie fields write it; the
			// JSON holds it in lower case.
			input: `cookie_normalizer a {
				samesite Lax
			}`,
			want: `{"groups":[{"cookies":["a"],"samesite":"lax"}]}`,
		},
		{
			input: `cookie_normalizer a {
				samesite NONE
				secure
			}`,
			want: `{"groups":[{"cookies":["a"],"secure":true,"samesite":"none"}]}`,
		},
		{
			input: `cookie_normalizer user_id__insecure {
				expire like session_id
			}`,
			want: `{"groups":[{"cookies":["user_id__insecure"],"expire":{"mode":"like","like":"session_id"}}]}`,
		},
		{
			input: `cookie_normalizer {
				group login {
					cookies session_id
					cookies user_id__insecure
					expire 1s
				}
				group {
					cookies *
					expire session
				}
			}`,
			want: `{"groups":[{"label":"login","cookies":["session_id","user_id__insecure"],"expire":{"mode":"fixed","duration":1000000000}},{"cookies":["*"],"expire":{"mode":"session"}}]}`,
		},
		{
			input: `cookie_normalizer {
				group a {
					cookies u
					expire like s
				}
				group b {
					cookies s
					expire like t
				}
			}`,
			want: `{"groups":[{"label":"a","cookies":["u"],"expire":{"mode":"like","like":"s"}},{"label":"b","cookies":["s"],"expire":{"mode":"like","like":"t"}}]}`,
		},
		{
			input: `cookie_normalizer * {
				secure
				httponly on
				samesite lax
			}`,
			want: `{"groups":[{"cookies":["*"],"secure":true,"httponly":true,"samesite":"lax"}]}`,
		},
		{
			input: `cookie_normalizer {
				group locked {
					cookies session_id
					cookies __Host-csrf
					expire 12h
					secure on
					httponly off
					partitioned on
					samesite none
					path /
					domain remove
				}
				group {
					cookies *
					path /app
					domain example.com
					samesite remove
					secure off
				}
			}`,
			want: `{"groups":[{"label":"locked","cookies":["session_id","__Host-csrf"],"expire":{"mode":"fixed","duration":43200000000000},"secure":true,"httponly":false,"partitioned":true,"samesite":"none","path":"/","domain":"remove"},` +
				`{"cookies":["*"],"secure":false,"samesite":"remove","path":"/app","domain":"example.com"}]}`,
		},
		{
			input: `cookie_normalizer session_id user_id__insecure {
				report_only
				on_delete cascade
				on_partial expire
			}`,
			want: `{"groups":[{"cookies":["session_id","user_id__insecure"],"on_delete":"cascade","on_partial":"expire"}],"report_only":true}`,
		},
		{
			input: `cookie_normalizer {
				report_only
				group login {
					cookies session_id user_id__insecure
					expire 12h
					on_delete cascade
				}
			}`,
			want: `{"groups":[{"label":"login","cookies":["session_id","user_id__insecure"],"expire":{"mode":"fixed","duration":43200000000000},"on_delete":"cascade"}],"report_only":true}`,
		},
		{
			input: `cookie_normalizer session_id user_id__insecure {
				expire 12h
				path /
				domain remove
				slide 10m cookie sid_stamp
			}`,
			want: `{"groups":[{"cookies":["session_id","user_id__insecure"],"expire":{"mode":"fixed","duration":43200000000000},"path":"/","domain":"remove","slide":{"interval":600000000000,"cookie":"sid_stamp"}}]}`,
		},
	} {
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input)); err != nil {
			t.Errorf("%d: unexpected error: %v\n%s", i, err, tc.input)
			continue
		}
		got, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%d:\n want %s\n got  %s", i, tc.want, got)
		}
	}
}

func TestUnmarshalCaddyfileErrors(t *testing.T) {
	for i, tc := range []struct {
		input string
		want  string
	}{
		{"cookie_normalizer", "cookie_normalizer: no cookies: give cookie patterns as arguments, or group blocks, at Testfile:1"},
		{"cookie_normalizer a", "cookie_normalizer: missing policy: add a block with expire session, <duration>, max <duration> or like <cookie>, an attribute policy (secure, httponly, samesite, partitioned, path, domain), on_delete or on_partial, at Testfile:1"},
		{"cookie_normalizer a {\n}", "cookie_normalizer: missing policy: add a block with expire session, <duration>, max <duration> or like <cookie>, an attribute policy (secure, httponly, samesite, partitioned, path, domain), on_delete or on_partial, at Testfile:1"},
		{"cookie_normalizer a {\n\texpire\n}", "expire: expected session, <duration>, max <duration> or like <cookie>, at Testfile:2"},
		{"cookie_normalizer {\n\tgroup {host} {\n\t\tcookies a\n\t\tsecure on\n\t}\n}", `label "{host}": Caddy placeholders are not replaced here, and logs and metrics would name the group as written; give a name of your own, at Testfile:2`},
		{"cookie_normalizer a {\n\texpire session now\n}", "expire session: takes no further argument, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire 1h 2h\n}", `expire: expected session, <duration>, max <duration> or like <cookie>, got "1h 2h", at Testfile:2`},
		{"cookie_normalizer a {\n\texpire max\n}", "expire max: expected one duration, as in expire max 12h, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire max 1h 2h\n}", "expire max: expected one duration, as in expire max 12h, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire like\n}", "expire like: expected one cookie name, as in expire like session_id, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire like b c\n}", "expire like: expected one cookie name, as in expire like session_id, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire forever\n}", `expire: expected session, <duration>, max <duration> or like <cookie>; "forever" is not a duration: time: invalid duration "forever", at Testfile:2`},
		{"cookie_normalizer a {\n\n\texpire 1500ms\n}", "expire: duration 1.5s is not a whole number of seconds, at Testfile:3"},
		{"cookie_normalizer a {\n\texpire 500ms\n}", "expire: duration 500ms is shorter than 1s, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire 0s\n}", "expire: duration 0s is not positive, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire max -1h\n}", "expire: duration -1h0m0s is not positive, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire session\n\texpire 1h\n}", "expire: this group already has an expire policy, at Testfile:3"},
		{"cookie_normalizer a {\n\tbogus on\n}", `unrecognized subdirective "bogus" (the block takes cookies, domain, expire, group, httponly, on_delete, on_partial, partitioned, path, report_only, samesite, secure, slide; if bogus is a directive of the site, a "}" is missing before it), at Testfile:2`},
		// A second value is not dropped.
		{"cookie_normalizer a {\n\tsecure\n\tsamesite lax strict\n}", "samesite: expected one of strict, lax, none, remove, at Testfile:3"},
		// A quoted "}" is a value: the empty block after it is a block.
		{"cookie_normalizer a {\n\tsecure\n\tcookies \"}\" {\n\t}\n}", "cookies: takes no block, at Testfile:3"},
		// A typo an edit or two away gets the name meant.
		{"cookie_normalizer a {\n\texpires 12h\n}", `unrecognized subdirective "expires" (did you mean expire?), at Testfile:2`},
		{"cookie_normalizer a {\n\treportonly\n}", `unrecognized subdirective "reportonly" (did you mean report_only?), at Testfile:2`},
		// A block left open reads the site's next directive as its own.
		// (The site's own "}" then closes the directive's block.)
		{"cookie_normalizer a {\n\texpire 12h\n\n\treverse_proxy 127.0.0.1:8081\n}", `unrecognized subdirective "reverse_proxy" (the block takes cookies, domain, expire, group, httponly, on_delete, on_partial, partitioned, path, report_only, samesite, secure, slide; if reverse_proxy is a directive of the site, a "}" is missing before it), at Testfile:4`},
		{"cookie_normalizer {\n\texpire session\n}", `expire outside a group: give the cookie patterns as arguments of cookie_normalizer, or put expire in a group block with its cookies (a first argument of *, /... or @name is a request matcher, not a cookie pattern: write "cookies *" in a group), at Testfile:2`},
		{"cookie_normalizer {\n\tcookies a\n}", `cookies outside a group: a cookies line adds to the patterns given as arguments of cookie_normalizer, and there are none; give at least one there, or put the cookies line in a group block (a first argument of *, /... or @name is a request matcher, not a cookie pattern: write "cookies *" in a group), at Testfile:2`},
		{"cookie_normalizer a {\n\texpire session {\n\t\tfoo\n\t}\n}", "expire: takes no block, at Testfile:2"},
		{"cookie_normalizer a {\n\tsecure {\n\t}\n}", "secure: takes no block, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire 1h {\n\t}\n}", "expire: takes no block, at Testfile:2"},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies a {\n\t\t}\n\t\tsecure\n\t}\n}", "cookies: takes no block, at Testfile:3"},
		{"cookie_normalizer a {\n\texpire like a\n}", `expire like "a": the leader is the group's only cookie and keeps its own expiry, so no cookie would follow it: add the cookies that should follow it to the group, at Testfile:2`},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies a\n\t\tsecure on\n\t\texpire like a\n\t\tcookies a\n\t}\n}", `expire like "a": the leader is the group's only cookie and keeps its own expiry, so no cookie would follow it: add the cookies that should follow it to the group, at Testfile:5`},
		{"cookie_normalizer a {\n\texpire like \"\"\n}", "expire like: the leader cookie name is missing, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire like b*\n}", `expire like "b*": the leader must be an exact cookie name, at Testfile:2`},
		{"cookie_normalizer a {\n\tsecure maybe\n}", `secure: expected on or off, got "maybe", at Testfile:2`},
		{"cookie_normalizer a {\n\thttponly on off\n}", `httponly: expected on or off, got "on off", at Testfile:2`},
		{"cookie_normalizer a {\n\tsecure\n\tsecure off\n}", "secure: this group already has a secure policy, at Testfile:3"},
		{"cookie_normalizer a {\n\tsamesite\n}", "samesite: expected one of strict, lax, none, remove, at Testfile:2"},
		{"cookie_normalizer a {\n\tsamesite loose\n}", `samesite "loose": want strict, lax, none or remove, at Testfile:2`},
		{"cookie_normalizer a {\n\tsamesite none\n}", "samesite none needs secure on in the same group: Chromium and Firefox reject SameSite=None without Secure, at Testfile:2"},
		{"cookie_normalizer a {\n\tsamesite none\n\tsecure off\n}", "samesite none needs secure on in the same group: Chromium and Firefox reject SameSite=None without Secure, at Testfile:2"},
		{"cookie_normalizer a {\n\texpire 1h\n\tpartitioned\n}", "partitioned on needs secure on in the same group: Chromium and Firefox reject Partitioned without Secure, at Testfile:3"},
		{"cookie_normalizer a {\n\tpath\n}", "path: expected one path, as in path /, at Testfile:2"},
		{"cookie_normalizer a {\n\tpath app\n}", `path "app": must start with /, at Testfile:2`},
		{"cookie_normalizer a {\n\tpath /a;b\n}", `path "/a;b": a ';', whitespace, control or non-ASCII byte is not allowed, at Testfile:2`},
		{"cookie_normalizer a {\n\tpath \"/a b\"\n}", `path "/a b": a ';', whitespace, control or non-ASCII byte is not allowed, at Testfile:2`},
		{"cookie_normalizer a {\n\tpath /é\n}", `path "/é": a ';', whitespace, control or non-ASCII byte is not allowed, at Testfile:2`},
		{"cookie_normalizer a {\n\tdomain\n}", "domain: expected one domain, or remove, at Testfile:2"},
		{"cookie_normalizer a {\n\tdomain ex;ample.com\n}", `domain "ex;ample.com": a ';', whitespace, control or non-ASCII byte is not allowed, at Testfile:2`},
		{"cookie_normalizer a {\n\tdomain {http.request.host}\n}", `domain "{http.request.host}": Caddy placeholders are not replaced here, and a '{' or '}' would go into the attribute as written; give the value itself, at Testfile:2`},
		{"cookie_normalizer a {\n\tpath /app/{path.0}\n}", `path "/app/{path.0}": Caddy placeholders are not replaced here, and a '{' or '}' would go into the attribute as written; give the value itself, at Testfile:2`},
		{"cookie_normalizer __Host-sid {\n\tsecure off\n}", `cookie "__Host-sid": secure off would break its name prefix (browsers store a __Secure- cookie only with Secure, and a __Host- cookie only with Secure, Path=/ and no Domain), at Testfile:2`},
		{"cookie_normalizer __Http-sid {\n\texpire 1h\n\thttponly off\n}", `cookie "__Http-sid": httponly off would break its name prefix (browsers store an __Http- cookie only with Secure and HttpOnly), at Testfile:3`},
		{"cookie_normalizer __Host-sid {\n\texpire 1h\n\tdomain example.com\n}", `cookie "__Host-sid": domain example.com would break its name prefix (browsers store a __Secure- cookie only with Secure, and a __Host- cookie only with Secure, Path=/ and no Domain), at Testfile:3`},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies a __host-sid\n\t\tpath /app\n\t\tdomain example.com\n\t}\n}", `cookie "__host-sid": path /app, domain example.com would break its name prefix (browsers store a __Secure- cookie only with Secure, and a __Host- cookie only with Secure, Path=/ and no Domain), at Testfile:4`},
		{"cookie_normalizer __Secure-x {\n\texpire 1h\n\tsecure off\n}", `cookie "__Secure-x": secure off would break its name prefix (browsers store a __Secure- cookie only with Secure, and a __Host- cookie only with Secure, Path=/ and no Domain), at Testfile:3`},
		{"cookie_normalizer a {\n\texpire session\n\tgroup {\n\t}\n}", "group blocks cannot follow cookie patterns given as arguments: use either the short form or group blocks, at Testfile:3"},
		{"cookie_normalizer ~( {\n\texpire session\n}", "invalid regular expression in pattern \"~(\": error parsing regexp: missing closing ): `(`, at Testfile:1"},
		{"cookie_normalizer ~ {\n\texpire session\n}", `empty cookie pattern "~", at Testfile:1`},
		{"cookie_normalizer {\n\tgroup {\n\t\texpire session\n\t}\n}", "group without cookies: add cookies <pattern...>, at Testfile:2"},
		{"cookie_normalizer {\n\tgroup g {\n\t\tcookies a\n\t}\n}", "group without a policy: add expire session, <duration>, max <duration> or like <cookie>, an attribute policy (secure, httponly, samesite, partitioned, path, domain), on_delete or on_partial, at Testfile:2"},
		{"cookie_normalizer {\n\tgroup a b {\n\t}\n}", "group takes one label, got 2 words: name the cookies on a `cookies` line inside the block, at Testfile:2"},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies\n\t}\n}", "cookies: expected at least one cookie pattern, at Testfile:3"},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies a ~[z\n\t}\n}", "invalid regular expression in pattern \"~[z\": error parsing regexp: missing closing ]: `[z`, at Testfile:3"},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies a\n\t\tpaths /\n\t}\n}", `unrecognized subdirective "paths" in group (did you mean path?), at Testfile:4`},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies a\n\t\treport_only\n\t}\n}", `unrecognized subdirective "report_only" in group (the block takes cookies, domain, expire, httponly, on_delete, on_partial, partitioned, path, samesite, secure, slide; if report_only is a directive of the site, a "}" is missing before it), at Testfile:4`},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies a\n\t\tsamesite lax\n\t\tsamesite strict\n\t}\n}", "samesite: this group already has a samesite policy, at Testfile:5"},
		{"cookie_normalizer {\n\tbogus\n}", `unrecognized subdirective "bogus" (the block takes cookies, domain, expire, group, httponly, on_delete, on_partial, partitioned, path, report_only, samesite, secure, slide; if bogus is a directive of the site, a "}" is missing before it), at Testfile:2`},
		{"cookie_normalizer a {\n\ton_delete\n}", "on_delete: expected cascade, at Testfile:2"},
		{"cookie_normalizer a {\n\ton_delete all\n}", `on_delete: expected cascade, got "all", at Testfile:2`},
		{"cookie_normalizer a {\n\ton_delete\n}", "on_delete: expected cascade, at Testfile:2"},
		{"cookie_normalizer a {\n\ton_partial delete\n}", `on_partial: expected expire, got "delete", at Testfile:2`},
		{"cookie_normalizer a {\n\ton_partial\n}", "on_partial: expected expire, at Testfile:2"},
		{"cookie_normalizer a* {\n\texpire 1h\n\ton_partial expire\n}", "on_delete and on_partial need at least one exact cookie name in the group (patterns cannot say which cookies to delete), at Testfile:3"},
		{"cookie_normalizer a* {\n\ton_partial expire\n\ton_delete cascade\n}", "on_delete and on_partial need at least one exact cookie name in the group (patterns cannot say which cookies to delete), at Testfile:3"},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies ~^s\n\t\ton_delete cascade\n\t}\n}", "on_delete and on_partial need at least one exact cookie name in the group (patterns cannot say which cookies to delete), at Testfile:4"},
		{"cookie_normalizer a {\n\treport_only yes\n\texpire session\n}", `report_only takes no argument (its presence turns it on), got "yes", at Testfile:2`},
		{"cookie_normalizer a {\n\treport_only\n\treport_only\n\texpire session\n}", "report_only: given twice, at Testfile:3"},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tslide\n}", "slide: expected <interval> [cookie <name>], as in slide 10m, at Testfile:4"},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tslide 5m stamp x\n}", "slide: expected <interval> [cookie <name>], as in slide 10m, at Testfile:4"},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tslide soon\n}", `slide: "soon" is not a duration: time: invalid duration "soon", at Testfile:4`},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tslide 500ms\n}", "slide: duration 500ms is shorter than 1s, at Testfile:4"},
		{"cookie_normalizer a {\n\tpath /\n\tslide 5m\n}", "slide needs expire <duration> in the group: the lifetime each re-issue grants, at Testfile:3"},
		{"cookie_normalizer a {\n\texpire max 1h\n\tpath /\n\tslide 5m\n}", "slide needs expire <duration> in the group: the lifetime each re-issue grants, at Testfile:4"},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tslide 1h\n}", "slide 1h: the interval must be shorter than the lifetime (expire 1h), at Testfile:4"},
		{"cookie_normalizer a b* {\n\texpire 1h\n\tpath /\n\tslide 5m\n}", `slide: cookie pattern "b*" is not an exact name (only named cookies can be re-issued), at Testfile:4`},
		{"cookie_normalizer a {\n\texpire 1h\n\tslide 5m\n}", "slide needs a path policy in the group (path /, say): the request does not say where a cookie was set, at Testfile:3"},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tslide 5m\n}", "slide needs a domain policy in the group (domain remove where the app sets its cookies without Domain, else domain <its domain>): the request does not say whether a cookie was set with a Domain, and a re-issue with another one leaves a second copy that the app's log-out does not delete, at Testfile:4"},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tslide 5m cookie a;b\n}", `slide cookie "a;b": not a valid cookie name (RFC 6265 token), at Testfile:4`},
		{"cookie_normalizer {\n\tgroup \"my app\" {\n\t\tcookies a\n\t\texpire 1h\n\t\tpath /\n\t\tslide 5m\n\t}\n}", `slide: the default stamp cookie name "cn_slide_my app" is not a valid cookie name (RFC 6265 token): name one with slide <interval> cookie <name>, at Testfile:6`},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tslide 5m cookie a\n}", `slide cookie "a": is one of the group's own cookies, at Testfile:4`},
		{"cookie_normalizer {\n\tgroup x {\n\t\tcookies a\n\t\tsecure on\n\t}\n\tgroup x {\n\t\tcookies b\n\t\tsecure on\n\t}\n}", `group "x": another group has this label too, and logs and metrics would count the two as one, at Testfile:6`},
		{"cookie_normalizer {\n\tgroup tracker {\n\t\tcookies session_id\n\t\tsecure on\n\t}\n\tgroup {\n\t\tcookies tracker\n\t\thttponly on\n\t}\n}", `group #2: logs and metrics would name it "tracker", as they name group "tracker", and count the two as one: give one of them a label of its own, at Testfile:6`},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies a\n\t\tsecure on\n\t}\n\tgroup {\n\t\tcookies a* b\n\t\thttponly on\n\t}\n\tgroup {\n\t\tcookies a c\n\t\thttponly on\n\t}\n}", `group #3: logs and metrics would name it "a", as they name group #1, and count the two as one: give one of them a label of its own, at Testfile:10`},
		{"cookie_normalizer \"a=b\" c {\n\ton_delete cascade\n}", `cookie "a=b": a '=', ';', whitespace, control or non-ASCII byte cannot be in a cookie name, at Testfile:1`},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies a {http.request.host}\n\t\tsecure on\n\t}\n}", `cookie "{http.request.host}": Caddy placeholders are not replaced in cookie names, at Testfile:3`},
		{"cookie_normalizer a {\n\texpire like \"b c\"\n}", `expire like: cookie "b c": a '=', ';', whitespace, control or non-ASCII byte cannot be in a cookie name, at Testfile:2`},
		{"cookie_normalizer {\n\tgroup {\n\t\tcookies sid s\u00e9\n\t\ton_delete cascade\n\t}\n}", `cookie "sé": a '=', ';', whitespace, control or non-ASCII byte cannot be in a cookie name, at Testfile:3`},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tslide 5m cookie __Secure-st\n}", `slide cookie "__Secure-st": its name prefix needs secure on in the group: the stamp goes without Secure on plain HTTP, and browsers refuse such a cookie without it, at Testfile:4`},
		{"cookie_normalizer a {\n\tdomain example.com:8080\n}", `domain "example.com:8080": not a domain name (letters, digits, '-' and '_' in labels between single dots; no port, scheme or path), at Testfile:2`},
		{"cookie_normalizer a {\n\tdomain https://example.com\n}", `domain "https://example.com": not a domain name (letters, digits, '-' and '_' in labels between single dots; no port, scheme or path), at Testfile:2`},
		{"cookie_normalizer a {\n\tdomain ..\n}", `domain "..": not a domain name (letters, digits, '-' and '_' in labels between single dots; no port, scheme or path), at Testfile:2`},
		{"cookie_normalizer {\n\tgroup all {\n\t\tcookies *\n\t\tsecure on\n\t}\n\tgroup login {\n\t\tcookies session_id user_id\n\t\ton_partial expire\n\t}\n}", `group "login": cookie "session_id" belongs to the earlier group "all" (a cookie belongs to the first group that matches it), so on_delete, on_partial and slide here would never see it: put this group first, or take the name out of the other, at Testfile:6`},
		{"cookie_normalizer {\n\tgroup g1 {\n\t\tcookies a b\n\t\ton_delete cascade\n\t}\n\tgroup g2 {\n\t\tcookies c\n\t\texpire 1h\n\t\tpath /\n\t\tdomain remove\n\t\tslide 10m cookie a\n\t}\n}", `group "g2": slide cookie "a" is a cookie of group "g1", which the stamp would overwrite: name the stamp with slide <interval> cookie <name>, at Testfile:6`},
		{
			"cookie_normalizer {\n\tgroup a {\n\t\tcookies u\n\t\texpire like s\n\t}\n\tgroup b {\n\t\tcookies s\n\t\texpire like u\n\t}\n}",
			`expire like "s": the chain of like leaders loops back to group "a", at Testfile:4`,
		},
		{
			"cookie_normalizer {\n\tgroup {\n\t\tcookies a\n\t\texpire session\n\t}\n\tgroup {\n\t\tcookies u*\n\t\texpire like s\n\t}\n\tgroup {\n\t\tcookies s\n\t\texpire like up\n\t}\n}",
			`expire like "s": the chain of like leaders loops back to group #2, at Testfile:8`,
		},
		{
			// x only leads into the loop of y and z: the error is at y's line.
			"cookie_normalizer {\n\tgroup x {\n\t\tcookies a\n\t\texpire like b\n\t}\n\tgroup y {\n\t\tcookies b\n\t\texpire like c\n\t}\n\tgroup z {\n\t\tcookies c\n\t\texpire like b\n\t}\n}",
			`expire like "c": the chain of like leaders loops back to group "y", at Testfile:8`,
		},
	} {
		var h Handler
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
		if err == nil {
			t.Errorf("%d: no error, want %q\n%s", i, tc.want, tc.input)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%d:\n want %q\n got  %q\n%s", i, tc.want, err.Error(), tc.input)
		}
	}
}

// TestAdaptErrorsNameTheFile goes through the Caddyfile adapter, as `caddy
// adapt` and `caddy validate` do, with a matcher in front.
func TestAdaptErrorsNameTheFile(t *testing.T) {
	input := testcaddy.Globals + `
http://127.0.0.1:9 {
	cookie_normalizer /app/* session_id {
		expire 12x
	}
}
`
	_, err := testcaddy.Adapt(input, "Caddyfile")
	want := `expire: expected session, <duration>, max <duration> or like <cookie>; "12x" is not a duration: time: unknown unit "x" in duration "12x", at Caddyfile:12` // Globals is 8 lines
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want an error containing %q", err, want)
	}
}

// TestJSONRoundTrip checks that a handler set up from the Caddyfile and one
// loaded from the JSON it adapts to rewrite the same way.
func TestJSONRoundTrip(t *testing.T) {
	values := []string{
		"session_id=; Max-Age=0",
		"session_id=abc; Max-Age=43200; Path=/; HttpOnly",
		"user_id__insecure=42; Path=/",
		"wh_cart=1; Expires=Wed, 09 Jun 2027 10:18:14 GMT",
		"theme=dark; Max-Age=31536000",
	}
	for i, input := range []string{
		"cookie_normalizer session_id user_id__insecure {\n expire 12h\n}",
		"cookie_normalizer user_id__insecure {\n expire like session_id\n}",
		"cookie_normalizer {\n group login {\n  cookies session_id\n  expire max 1h\n }\n group {\n  cookies user_id__insecure\n  expire like session_id\n }\n group {\n  cookies wh_* ~^the\n  expire session\n }\n}",
	} {
		var fromCaddyfile Handler
		if err := fromCaddyfile.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(fromCaddyfile)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		defer cancel()
		if err := fromCaddyfile.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		fromJSON, err := provisionJSON(t, string(js))
		if err != nil {
			t.Fatal(err)
		}
		if err := fromJSON.Validate(); err != nil {
			t.Fatal(err)
		}
		a, b := append([]string(nil), values...), append([]string(nil), values...)
		fromCaddyfile.norm.rewrite(a, testDate, nil, nil)
		fromJSON.norm.rewrite(b, testDate, nil, nil)
		if !equalStrings(a, b) {
			t.Errorf("%d: Caddyfile gives %q, its JSON %q", i, a, b)
		}
		if equalStrings(a, values) {
			t.Errorf("%d: the config rewrote nothing; the test proves nothing", i)
		}
	}
}

// TestAdaptMatcherArguments goes through the Caddyfile adapter, which
// takes a first argument of *, /... or @name as the request matcher before
// the directive sees its arguments: `*` matches every request, `@m` is the
// named matcher, and neither is a cookie pattern. With no pattern left,
// a subdirective outside a group is the error that says so.
func TestAdaptMatcherArguments(t *testing.T) {
	for i, tc := range []struct {
		site, match string
	}{
		{"\tcookie_normalizer * session_id {\n\t\texpire session\n\t}\n", ""}, // no matcher: every request
		{"\t@m path /x\n\tcookie_normalizer @m session_id {\n\t\texpire session\n\t}\n", `[{"path":["/x"]}]`},
	} {
		out, err := testcaddy.Adapt(testcaddy.Globals+"http://127.0.0.1:9 {\n"+tc.site+"}\n", "Caddyfile")
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		var cfg struct {
			Apps struct {
				HTTP struct {
					Servers map[string]struct {
						Routes []struct {
							Handle []struct {
								Routes []struct {
									Match  json.RawMessage `json:"match"`
									Handle []Handler       `json:"handle"`
								} `json:"routes"`
							} `json:"handle"`
						} `json:"routes"`
					} `json:"servers"`
				} `json:"http"`
			} `json:"apps"`
		}
		if err := json.Unmarshal(out, &cfg); err != nil {
			t.Fatal(err)
		}
		route := cfg.Apps.HTTP.Servers["srv0"].Routes[0].Handle[0].Routes[0]
		if got := string(route.Match); got != tc.match {
			t.Errorf("%d: the route matches %s, want %s", i, got, tc.match)
		}
		if len(route.Handle) != 1 || len(route.Handle[0].Groups) != 1 || !equalStrings(route.Handle[0].Groups[0].Cookies, []string{"session_id"}) {
			t.Errorf("%d: handler %+v, want one group of cookie session_id", i, route.Handle)
		}
	}
	_, err := testcaddy.Adapt(testcaddy.Globals+"http://127.0.0.1:9 {\n\tcookie_normalizer * {\n\t\texpire session\n\t}\n}\n", "Caddyfile")
	want := `expire outside a group: give the cookie patterns as arguments of cookie_normalizer, or put expire in a group block with its cookies (a first argument of *, /... or @name is a request matcher, not a cookie pattern: write "cookies *" in a group), at Caddyfile:11` // Globals is 8 lines
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error containing %q", err, want)
	}
}
