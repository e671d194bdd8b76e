package cookienormalizer

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// TestCaddyIntegrationAttributes runs the attribute policies through a real
// Caddy in front of the legacy app: a log-in gets the policies and the
// lifetime, a log-out gets the same attributes and keeps its deletion.
func TestCaddyIntegrationAttributes(t *testing.T) {
	app := legacyApp(t, nil)
	proxy := testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
http://%s {
	bind 127.0.0.1
	cookie_normalizer {
		group login {
			cookies session_id user_id__insecure
			expire 12h
			secure on
			samesite strict
			path /
		}
		group {
			cookies theme
			httponly
			domain remove
		}
	}
	reverse_proxy %s
}
`, proxy, strings.TrimPrefix(app.URL, "http://")))

	resp, _ := getCookies(t, "http://"+proxy+"/login")
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		t.Fatalf("Date header: %v", err)
	}
	expires := date.Add(12 * time.Hour).UTC().Format(http.TimeFormat)
	want := []string{
		"session_id=abc; Path=/; HttpOnly; Secure; SameSite=Strict; Expires=" + expires + "; Max-Age=43200",
		"user_id__insecure=42; Path=/; Secure; SameSite=Strict; Expires=" + expires + "; Max-Age=43200",
		"theme=dark; Max-Age=600; Path=/; HttpOnly",
	}
	if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, want) {
		t.Errorf("login Set-Cookie:\n got  %q\n want %q", got, want)
	}

	resp, _ = getCookies(t, "http://"+proxy+"/logout")
	want = []string{
		"session_id=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict",
		"user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; SameSite=Strict",
	}
	if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, want) {
		t.Errorf("logout Set-Cookie:\n got  %q\n want %q", got, want)
	}
}
