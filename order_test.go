package cookienormalizer

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// TestSeveralDirectivesOrder pins how several cookie_normalizer directives
// in one site combine. Caddy sorts handlers of the same directive by the
// specificity of their matchers (a path matcher before none), not in the
// order written; the first-sorted handler is the outer one, and the outer
// wrapper rewrites last, so its policy wins where both apply to a cookie.
// Inside `route`, the written order is kept: a cookie_normalizer written
// after respond (or reverse_proxy) never runs, since those end the chain.
func TestSeveralDirectivesOrder(t *testing.T) {
	addr := testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
http://%s {
	bind 127.0.0.1
	cookie_normalizer c {
		expire session
	}
	cookie_normalizer /app/* c {
		expire 1h
	}
	header +Set-Cookie "c=1; Max-Age=5; Path=/"
	header +Set-Cookie "r=1; Max-Age=5; Path=/"
	route /route/* {
		cookie_normalizer r {
			expire 2h
		}
		respond "route"
	}
	route /late/* {
		respond "late"
		cookie_normalizer r {
			expire 2h
		}
	}
	respond "ok"
}
`, addr))
	for i, tc := range []struct {
		path string
		want []string // %s: the Expires for the lifetime in seconds after it
		life time.Duration
	}{
		// Both apply to c: the path-matched one, written second, sorts
		// first, wraps the other, and rewrites last.
		{"/app/x", []string{"c=1; Path=/; Expires=%s; Max-Age=3600", "r=1; Max-Age=5; Path=/"}, time.Hour},
		// Only the one without a matcher applies.
		{"/other", []string{"c=1; Path=/", "r=1; Max-Age=5; Path=/"}, 0},
		// In a route, written before respond: it runs.
		{"/route/x", []string{"c=1; Path=/", "r=1; Path=/; Expires=%s; Max-Age=7200"}, 2 * time.Hour},
		// In a route, written after respond: it never runs.
		{"/late/x", []string{"c=1; Path=/", "r=1; Max-Age=5; Path=/"}, 0},
	} {
		resp, _ := getCookies(t, "http://"+addr+tc.path)
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatal(err)
		}
		want := append([]string(nil), tc.want...)
		for k, w := range want {
			if strings.Contains(w, "%s") {
				want[k] = fmt.Sprintf(w, date.Add(tc.life).UTC().Format(imfFixdate))
			}
		}
		if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, want) {
			t.Errorf("%d GET %s:\n got  %q\n want %q", i, tc.path, got, want)
		}
	}
}
