package cookienormalizer

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// TestOuterDirectiveWinsOnEveryProtocol: of two cookie_normalizer
// directives on one request, the outer one rewrites last and its policy
// wins, and what it appends is not the inner one's to read. The fields
// the outer one appends at WriteHeader (here its partial expiry of a
// half jar) used to look, to the inner one, like fields its own handlers
// added before the first body byte: it rewrote the whole header map
// again there, after the outer one. HTTP/1.1 and HTTP/2 had already sent
// the header map at WriteHeader, but HTTP/3 sends it at the first body
// byte, so there the inner policy won (theme kept 1h where the outer one
// makes it a session cookie), and the inner on_delete cascade read the
// outer partial expiry as a log-out and deleted csrf too. Every protocol
// must send the same fields.
func TestOuterDirectiveWinsOnEveryProtocol(t *testing.T) {
	addr := testcaddy.FreeAddr(t)
	protoStartTLS(t, fmt.Sprintf(`
https://%s {
	bind 127.0.0.1
	tls internal
	cookie_normalizer {
		group login {
			cookies session_id user_id__insecure
			on_partial expire
		}
		group prefs {
			cookies theme
			expire session
		}
	}
	handle /theme {
		cookie_normalizer theme {
			expire 1h
		}
		header +Set-Cookie "theme=dark; Max-Age=5; Path=/"
		respond "page"
	}
	handle /cascade {
		cookie_normalizer {
			group inner {
				cookies session_id csrf
				on_delete cascade
			}
		}
		respond "page"
	}
}
`, addr), addr)
	halfJar := del("session_id", "; Path=/; Secure")
	for _, cl := range tlsClients(t) {
		for _, tc := range []struct {
			path, cookie string
			want         dirResult
		}{
			{"/theme", "session_id=a", dirResult{status: 200, setCookie: []string{"theme=dark; Path=/", halfJar}, cacheControl: []string{"private"}, body: "page"}},
			{"/theme", "session_id=a; user_id__insecure=b", dirResult{status: 200, setCookie: []string{"theme=dark; Path=/"}, body: "page"}},
			{"/cascade", "session_id=a; csrf=c", dirResult{status: 200, setCookie: []string{halfJar}, cacheControl: []string{"private"}, body: "page"}},
		} {
			got := dirDo(t, cl.c, "GET", "https://"+addr+tc.path, tc.cookie, nil)
			if !sameResult(got, tc.want) {
				t.Errorf("%s %s Cookie %q:\n got  %s\n want %s", cl.name, tc.path, tc.cookie, got, tc.want)
			}
		}
	}
}

// TestInnerDirectiveCountsItsOwnFields: a cookie_normalizer counts the
// fields the handlers inside it leave, once per response. An outer
// directive that appended fields at WriteHeader (a cascade, a partial
// expiry) made the inner one rewrite the response again at the first
// body byte and count every field a second time, the outer one's
// appended fields among them: a report_only inner directive counted the
// upstream's log-out twice and the outer cascade once more (3 for 1),
// and an inner directive whose handlers set no cookie counted the outer
// partial expiry and the cascade that followed it (2 for 0).
func TestInnerDirectiveCountsItsOwnFields(t *testing.T) {
	site, metrics := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
(login) {
	cookie_normalizer {
		group {args[0]} {
			cookies session_id user_id__insecure
			on_delete cascade
			on_partial expire
		}
	}
}
(login_report) {
	cookie_normalizer {
		report_only
		group {args[0]} {
			cookies session_id user_id__insecure
			on_delete cascade
			on_partial expire
		}
	}
}
http://%s {
	bind 127.0.0.1
	import login outer
	handle /logout {
		import login_report reported
		header +Set-Cookie "session_id=; Max-Age=0; Path=/"
		respond "bye"
	}
	handle /page {
		import login inner
		respond "page"
	}
}
http://%s {
	bind 127.0.0.1
	metrics
}
`, site, metrics))
	delUser := del("user_id__insecure", "; Path=/")
	for i, tc := range []struct {
		path, cookie string
		want         []string
	}{
		// The inner one only reports; the outer one cascades.
		{"/logout", "session_id=a; user_id__insecure=b", []string{"session_id=; Max-Age=0; Path=/", delUser}},
		// The inner one expires the half jar; the outer one reads that
		// as a log-out and cascades it (documented).
		{"/page", "session_id=a", []string{del("session_id", "; Path=/"), delUser}},
	} {
		req, err := http.NewRequest("GET", "http://"+site+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", tc.cookie)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, tc.want) {
			t.Errorf("%d GET %s Cookie %q:\n got  %q\n want %q", i, tc.path, tc.cookie, got, tc.want)
		}
	}
	series := func(group, action, reportOnly string) string {
		return fmt.Sprintf(`caddy_http_cookie_normalizer_cookies_total{action=%q,group=%q,report_only=%q}`, action, group, reportOnly)
	}
	// The upstream's log-out, once.
	wantMetric(t, metrics, series("reported", "unchanged", "true"), "1")
	wantMetric(t, metrics, series("reported", "cascaded", "true"), "1")
	// Its handlers set no cookie.
	wantMetric(t, metrics, series("inner", "unchanged", "false"), "0")
	wantMetric(t, metrics, series("inner", "partial expired", "false"), "1")
	// The outer one saw the log-out and the partial expiry, and cascaded
	// both.
	wantMetric(t, metrics, series("outer", "unchanged", "false"), "2")
	wantMetric(t, metrics, series("outer", "cascaded", "false"), "2")
}
