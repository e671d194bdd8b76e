package cookienormalizer

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// TestCaddyIntegrationSlide runs sliding expiry through a real Caddy in
// front of an app that sets nothing on its pages: an active user's cookies
// are re-issued with Cache-Control: private, a fresh stamp stops the next
// re-issue, and a response marked for shared caches gets no Set-Cookie,
// nor does an error: one the upstream writes, the `error` directive's, or
// reverse_proxy's 502 for an upstream that does not answer (Caddy writes
// those two after the module has returned).
func TestCaddyIntegrationSlide(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=0")
		io.WriteString(w, "a page")
	})
	mux.HandleFunc("/public", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		io.WriteString(w, "a cacheable page")
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not here", http.StatusNotFound)
	})
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)

	site, dead := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
http://%s {
	bind 127.0.0.1
	cookie_normalizer {
		group login {
			cookies session_id user_id__insecure
			expire 12h
			slide 10m
			domain remove
			path /
			secure on
			samesite lax
		}
	}
	handle /boom {
		error 500
	}
	handle /dead {
		reverse_proxy %s
	}
	handle {
		reverse_proxy %s
	}
}
`, site, dead, strings.TrimPrefix(app.URL, "http://")))

	get := func(path, cookie string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+site+path, nil)
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	const jar = "session_id=abc; user_id__insecure=42"

	before := time.Now().Unix()
	resp := get("/page", jar)
	got := resp.Header.Values("Set-Cookie")
	if len(got) != 3 {
		t.Fatalf("re-issue: Set-Cookie %q, want both members and the stamp", got)
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		t.Fatal(err)
	}
	life := "; Expires=" + date.Add(12*time.Hour).UTC().Format(http.TimeFormat) + "; Max-Age=43200"
	want := []string{"session_id=abc; Path=/; Secure; SameSite=Lax" + life, "user_id__insecure=42; Path=/; Secure; SameSite=Lax" + life}
	if !equalStrings(got[:2], want) {
		t.Errorf("re-issued:\n got  %q\n want %q", got[:2], want)
	}
	stampValue, _, _ := strings.Cut(strings.TrimPrefix(got[2], "cn_slide_login="), ";")
	at, err := strconv.ParseInt(stampValue, 10, 64)
	if err != nil || at < before || at > time.Now().Unix() {
		t.Errorf("stamp %q: want the Unix time of the request", got[2])
	}
	if want := fmt.Sprintf("cn_slide_login=%d; Path=/; HttpOnly; SameSite=Lax; Secure%s", at, life); got[2] != want {
		t.Errorf("stamp:\n got  %q\n want %q", got[2], want)
	}
	if cc := resp.Header.Values("Cache-Control"); !equalStrings(cc, []string{"max-age=0, private"}) {
		t.Errorf("Cache-Control %q, want private added", cc)
	}

	// The next request carries the fresh stamp: nothing to do.
	if got := get("/page", jar+"; cn_slide_login="+stampValue).Header.Values("Set-Cookie"); got != nil {
		t.Errorf("fresh stamp: Set-Cookie %q, want none", got)
	}
	// A response a shared cache may store never carries a re-issue.
	resp = get("/public", jar)
	if got := resp.Header.Values("Set-Cookie"); got != nil {
		t.Errorf("Cache-Control public: Set-Cookie %q, want none", got)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=600" {
		t.Errorf("Cache-Control changed to %q", cc)
	}
	// Nor does an error.
	for _, tc := range []struct {
		path   string
		status int
	}{{"/missing", http.StatusNotFound}, {"/boom", http.StatusInternalServerError}, {"/dead", http.StatusBadGateway}} {
		resp := get(tc.path, jar)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if got, cc := resp.Header.Values("Set-Cookie"), resp.Header.Values("Cache-Control"); got != nil || tc.path != "/missing" && cc != nil {
			t.Errorf("%s: Set-Cookie %q, Cache-Control %q, want no Set-Cookie and the error's Cache-Control", tc.path, got, cc)
		}
	}
}
