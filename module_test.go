package cookienormalizer

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

func TestValidate(t *testing.T) {
	for i, tc := range []struct {
		json string
		want string // "" for valid
	}{
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"session"}}]}`, ""},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"fixed","duration":"12h"}}]}`, ""},
		{`{}`, "no cookie groups configured"},
		{`{"groups":[{"expire":{"mode":"session"}}]}`, "group #1: no cookie patterns"},
		{`{"groups":[{"label":"x","cookies":["a"]}]}`, `group "x": no policy: add expire, an attribute policy (secure, httponly, samesite, partitioned, path, domain), on_delete or on_partial`},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"sometimes"}}]}`, `group #1: unknown expire mode "sometimes": want session, fixed, max or like`},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"fixed"}}]}`, "group #1: expire fixed: duration 0s is not positive"},
		{`{"groups":[{"label":"{http.request.host}","cookies":["a"],"secure":true}]}`, `group "{http.request.host}": label "{http.request.host}": Caddy placeholders are not replaced here, and logs and metrics would name the group as written; give a name of your own`},
		// with slide, the expiry's own error, not the interval's against
		// a lifetime that is not one
		{`{"groups":[{"label":"s","cookies":["a"],"expire":{"mode":"fixed"},"path":"/","domain":"remove","slide":{"interval":"1m"}}]}`, `group "s": expire fixed: duration 0s is not positive`},
		{`{"groups":[{"label":"s","cookies":["a"],"expire":{"mode":"fixed","duration":"-1h"},"path":"/","domain":"remove","slide":{"interval":"1m"}}]}`, `group "s": expire fixed: duration -1h0m0s is not positive`},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"max","duration":"1.5s"}}]}`, "group #1: expire max: duration 1.5s is not a whole number of seconds"},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"like"}}]}`, "group #1: expire like: the leader cookie name is missing"},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"session"}},{"cookies":["~"],"expire":{"mode":"session"}}]}`, `group #2: empty cookie pattern "~"`},
		{`{"groups":[{"cookies":["a"],"secure":true,"httponly":false,"samesite":"none","partitioned":true,"path":"/x","domain":"remove"}]}`, ""},
		{`{"groups":[{"cookies":["a"],"samesite":"Lax"}]}`, `group #1: samesite "Lax": want strict, lax, none or remove`},
		{`{"groups":[{"cookies":["a"],"samesite":"none"}]}`, "group #1: samesite none needs secure on in the same group: Chromium and Firefox reject SameSite=None without Secure"},
		{`{"groups":[{"cookies":["a"],"partitioned":true,"secure":false}]}`, "group #1: partitioned on needs secure on in the same group: Chromium and Firefox reject Partitioned without Secure"},
		{`{"groups":[{"cookies":["a"],"path":"x"}]}`, `group #1: path "x": must start with /`},
		{`{"groups":[{"cookies":["a"],"domain":"a b"}]}`, `group #1: domain "a b": a ';', whitespace, control or non-ASCII byte is not allowed`},
		{`{"groups":[{"label":"x","cookies":["a"],"secure":true},{"label":"x","cookies":["b"],"secure":true}]}`, `group "x": another group has this label too, and logs and metrics would count the two as one`},
		{`{"groups":[{"cookies":["a"],"secure":true},{"label":"a","cookies":["b"],"secure":true}]}`, `group "a": logs and metrics would name it "a", as they name group #1, and count the two as one: give one of them a label of its own`},
		{`{"groups":[{"label":"a","cookies":["b"],"secure":true},{"label":"b","cookies":["a"],"secure":true}]}`, ""},
		{`{"groups":[{"cookies":["a"],"domain":"{http.request.host}"}]}`, `group #1: domain "{http.request.host}": Caddy placeholders are not replaced here, and a '{' or '}' would go into the attribute as written; give the value itself`},
		{`{"groups":[{"cookies":["__Host-a"],"path":"/x"}]}`, `group #1: cookie "__Host-a": path /x would break its name prefix (browsers store a __Secure- cookie only with Secure, and a __Host- cookie only with Secure, Path=/ and no Domain)`},
		{`{"groups":[{"cookies":["__Host-*"],"path":"/x"}]}`, ""},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"like","like":"b*"}}]}`, `group #1: expire like "b*": the leader must be an exact cookie name`},
		// what a mode does not take is an error, not silently dropped
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"session","duration":"12h"}}]}`, `group #1: expire mode "session" takes no duration (12h given): only modes fixed and max do`},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"like","like":"b","duration":"1d"}}]}`, `group #1: expire mode "like" takes no duration (1d given): only modes fixed and max do`},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"fixed","duration":"1h","like":"b"}}]}`, `group #1: expire mode "fixed" takes no like cookie ("b" given): only mode like does`},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"session","like":"b"}}]}`, `group #1: expire mode "session" takes no like cookie ("b" given): only mode like does`},
		// a leader alone in its group has nothing to lead
		{`{"groups":[{"label":"l","cookies":["a","a"],"expire":{"mode":"like","like":"a"}}]}`, `group "l": expire like "a": the leader is the group's only cookie and keeps its own expiry, so no cookie would follow it: add the cookies that should follow it to the group`},
		{`{"groups":[{"cookies":["a","b"],"expire":{"mode":"like","like":"a"}}]}`, ""},
		{`{"groups":[{"cookies":["a*"],"expire":{"mode":"like","like":"a"}}]}`, ""},
		// slide's requirements, as the Caddyfile has them
		{`{"groups":[{"cookies":["a"],"path":"/","slide":{"interval":"1m"}}]}`, "group #1: slide needs expire <duration> in the group: the lifetime each re-issue grants"},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"max","duration":"1h"},"path":"/","slide":{"interval":"1m"}}]}`, "group #1: slide needs expire <duration> in the group: the lifetime each re-issue grants"},
		{`{"groups":[{"cookies":["a*"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","slide":{"interval":"1m"}}]}`, `group #1: slide: cookie pattern "a*" is not an exact name (only named cookies can be re-issued)`},
		{`{"groups":[{"cookies":["a","~b"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","slide":{"interval":"1m"}}]}`, `group #1: slide: cookie pattern "~b" is not an exact name (only named cookies can be re-issued)`},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"fixed","duration":"1h"},"slide":{"interval":"1m"}}]}`, "group #1: slide needs a path policy in the group (path /, say): the request does not say where a cookie was set"},
		{`{"groups":[{"label":"s","cookies":["a"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","slide":{"interval":"1h"}}]}`, `group "s": slide 1h: the interval must be shorter than the lifetime (expire 1h)`},
		{`{"groups":[{"label":"s","cookies":["a"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","slide":{"interval":"1m"}}]}`, `group "s": slide needs a domain policy in the group (domain remove where the app sets its cookies without Domain, else domain <its domain>): the request does not say whether a cookie was set with a Domain, and a re-issue with another one leaves a second copy that the app's log-out does not delete`},
		{`{"groups":[{"label":"s","cookies":["a"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","domain":"example.com","slide":{"interval":"1m"}}]}`, ""},
		// path remove is no place for slide's re-issues.
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"fixed","duration":"1h"},"path":"remove","domain":"remove","slide":{"interval":"1m"}}]}`, "group #1: slide needs a path policy in the group (path /, say): the request does not say where a cookie was set"},
		// An explicit secure off is no better than none for a __Secure- stamp.
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","domain":"remove","secure":false,"slide":{"interval":"1m","cookie":"__Secure-stamp"}}]}`, `group #1: slide cookie "__Secure-stamp": its name prefix needs secure on in the group: the stamp goes without Secure on plain HTTP, and browsers refuse such a cookie without it`},
	} {
		h, err := provisionJSON(t, tc.json)
		if err == nil {
			err = h.Validate()
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%d: unexpected error %v", i, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%d: got error %v, want %q", i, err, tc.want)
		}
	}
}

func TestProvisionErrors(t *testing.T) {
	for i, tc := range []struct{ json, want string }{
		{`{"groups":[{"cookies":["~("],"expire":{"mode":"session"}}]}`, "group #1: compiling pattern \"~(\": error parsing regexp: missing closing ): `(`"},
		{`{"groups":[{"cookies":["{http.request.host}_*"],"secure":true}]}`, `group #1: pattern "{http.request.host}_*": Caddy placeholders are not replaced in cookie patterns`},
		{`{"groups":[{"cookies":["a"],"expire":{"mode":"like","like":"a2"}},{"label":"two","cookies":["a2"],"expire":{"mode":"like","like":"a"}}]}`, `expire like "a2": the chain of like leaders loops back to group #1`},
	} {
		_, err := provisionJSON(t, tc.json)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%d: got %v, want %q", i, err, tc.want)
		}
	}
}

// provisionJSON loads a handler from its JSON config, as Caddy does.
func provisionJSON(tb testing.TB, js string) (*Handler, error) {
	tb.Helper()
	var h Handler
	if err := json.Unmarshal([]byte(js), &h); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	tb.Cleanup(cancel)
	return &h, h.Provision(ctx)
}

// TestCheckDomain: a domain policy's value must be a domain name browsers
// accept in a Domain attribute; anything else would lose every cookie the
// policy rewrites.
func TestCheckDomain(t *testing.T) {
	for _, v := range []string{"example.com", ".example.com", "app.localhost", "a-b.example_1.org", "EXAMPLE.COM", "localhost", "remove", ""} {
		if err := checkDomain(v); err != nil {
			t.Errorf("checkDomain(%q) = %v, want nil", v, err)
		}
	}
	for _, v := range []string{"example.com:8080", "https://example.com", "example.com/", "a,b", "..", ".", "example..com", "example.com.", `ex"ample.com`, "{host}", "a b"} {
		if err := checkDomain(v); err == nil {
			t.Errorf("checkDomain(%q) = nil, want an error", v)
		}
	}
}

// TestCheckCookieName: an exact name must be one the module can match and
// write into a field it appends.
func TestCheckCookieName(t *testing.T) {
	for _, v := range []string{"session_id", "__Host-sid", "user[id]", "a.b", "a-b", "sess?"} {
		if err := checkCookieName(v); err != nil {
			t.Errorf("checkCookieName(%q) = %v, want nil", v, err)
		}
	}
	for _, v := range []string{"a=b", "a;Domain=evil.example", "x y", "a\tb", "a\x7f", "{http.request.host}", "{$X}"} {
		if err := checkCookieName(v); err == nil {
			t.Errorf("checkCookieName(%q) = nil, want an error", v)
		}
	}
}

// TestAttrValueLengthBoundary: a path or domain of exactly the bytes
// browsers read is accepted; one byte more is refused.
func TestAttrValueLengthBoundary(t *testing.T) {
	atMax := "/" + strings.Repeat("a", maxAttrValueLen-1)
	if err := checkPath(atMax); err != nil {
		t.Errorf("a path of %d bytes: %v, want it accepted", len(atMax), err)
	}
	if err := checkPath(atMax + "a"); err == nil {
		t.Errorf("a path of %d bytes accepted, want an error", len(atMax)+1)
	}
}
