package cookienormalizer

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// The legacy app's cookies, as in Caddyfile.example.
const (
	legacySession = "session_id=abc; Max-Age=43200; Path=/; HttpOnly; Secure; SameSite=Lax"
	legacyUser    = "user_id__insecure=42; Path=/; Secure; SameSite=Lax"
	legacyTheme   = "theme=dark; Max-Age=600; Path=/"
	logoutSession = "session_id=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
	logoutUser    = "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; SameSite=Lax"
)

// legacyApp is the upstream behind reverse_proxy in the integration tests.
func legacyApp(t *testing.T, release <-chan struct{}) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		for _, c := range []string{legacySession, legacyUser, legacyTheme} {
			w.Header().Add("Set-Cookie", c)
		}
		io.WriteString(w, "logged in")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", logoutSession)
		w.Header().Add("Set-Cookie", logoutUser)
		io.WriteString(w, "logged out")
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", legacyUser)
		io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
			t.Error("the client never read the first chunk")
		}
		io.WriteString(w, "second\n")
	})
	mux.HandleFunc("/early", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", "</app.css>; rel=preload")
		w.Header().Add("Set-Cookie", legacyUser)
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Set-Cookie", legacySession)
		io.WriteString(w, "final")
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		w.Header().Add("Set-Cookie", legacyUser)
		w.WriteHeader(http.StatusSwitchingProtocols)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo: " + line)
		brw.Flush()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestCaddyIntegration runs a real Caddy, configured from a Caddyfile, with
// the module in front of reverse_proxy and of Caddy's own handlers.
func TestCaddyIntegration(t *testing.T) {
	release := make(chan struct{})
	app := legacyApp(t, release)
	proxy, local := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)

	site := t.TempDir()
	index := `{{.RespHeader.Add "Set-Cookie" "t=1; Max-Age=5; Path=/"}}templated`
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "plain.txt"), []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}

	testcaddy.Start(t, testcaddy.GlobalOptions("\tservers {\n\t\tprotocols h1 h2c\n\t}\n")+fmt.Sprintf(`
http://%[1]s {
	bind 127.0.0.1
	cookie_normalizer session_id user_id__insecure {
		expire 12h
	}
	reverse_proxy %[2]s {
		flush_interval -1
	}
}

http://%[3]s {
	bind 127.0.0.1
	cookie_normalizer {
		group {
			cookies h e t f
			expire session
		}
	}
	cookie_normalizer /app/* m {
		expire 1h
	}
	handle /header {
		header +Set-Cookie "h=1; Max-Age=5; Path=/"
		respond "from respond"
	}
	handle /empty {
		header +Set-Cookie "e=1; Max-Age=5; Path=/"
	}
	handle /app/* {
		header +Set-Cookie "m=1; Path=/"
		respond "app"
	}
	handle /encoded {
		encode gzip
		header +Set-Cookie "e=2; Max-Age=5; Path=/"
		respond "{http.request.uri.query.body}"
	}
	handle /other {
		header +Set-Cookie "m=1; Path=/"
		respond "other"
	}
	handle {
		root * %[4]s
		header +Set-Cookie "f=1; Max-Age=5; Path=/"
		templates
		file_server
	}
}
`, proxy, strings.TrimPrefix(app.URL, "http://"), local, site))

	t.Run("reverse_proxy login", func(t *testing.T) {
		resp, body := getCookies(t, "http://"+proxy+"/login")
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("Date header: %v", err)
		}
		expires := date.Add(12 * time.Hour).UTC().Format(http.TimeFormat)
		want := []string{
			"session_id=abc; Path=/; HttpOnly; Secure; SameSite=Lax; Expires=" + expires + "; Max-Age=43200",
			"user_id__insecure=42; Path=/; Secure; SameSite=Lax; Expires=" + expires + "; Max-Age=43200",
			legacyTheme,
		}
		if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, want) {
			t.Errorf("Set-Cookie:\n got  %q\n want %q", got, want)
		}
		if body != "logged in" {
			t.Errorf("body %q", body)
		}
	})

	t.Run("reverse_proxy logout deletions unchanged", func(t *testing.T) {
		resp, _ := getCookies(t, "http://"+proxy+"/logout")
		if got, want := resp.Header.Values("Set-Cookie"), []string{logoutSession, logoutUser}; !equalStrings(got, want) {
			t.Errorf("Set-Cookie:\n got  %q\n want %q", got, want)
		}
	})

	t.Run("reverse_proxy streams with flushes", func(t *testing.T) {
		resp, err := http.Get("http://" + proxy + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		assertLifetime(t, resp.Header.Values("Set-Cookie"), "user_id__insecure=42; Path=/; Secure; SameSite=Lax", 43200)
		br := bufio.NewReader(resp.Body)
		if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
			t.Fatalf("first chunk %q, %v", line, err)
		}
		close(release) // the upstream waits for this before it ends the body
		if rest, err := io.ReadAll(br); err != nil || string(rest) != "second\n" {
			t.Fatalf("rest %q, %v", rest, err)
		}
	})

	t.Run("reverse_proxy 103 Early Hints", func(t *testing.T) {
		var early []string
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			if code == http.StatusEarlyHints {
				early = h.Values("Set-Cookie")
			}
			return nil
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+proxy+"/early", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		assertLifetime(t, early, "user_id__insecure=42; Path=/; Secure; SameSite=Lax", 43200)
		assertLifetime(t, resp.Header.Values("Set-Cookie"), "session_id=abc; Path=/; HttpOnly; Secure; SameSite=Lax", 43200)
	})

	t.Run("reverse_proxy WebSocket upgrade", func(t *testing.T) {
		resp, br, conn := rawUpgrade(t, proxy, "/ws")
		defer conn.Close()
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d", resp.StatusCode)
		}
		assertLifetime(t, resp.Header.Values("Set-Cookie"), "user_id__insecure=42; Path=/; Secure; SameSite=Lax", 43200)
		echoOverConn(t, conn, br)
		awaitTunnelClosed(t, br)
	})

	t.Run("HTTP/2", func(t *testing.T) {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get("http://" + proxy + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("protocol %s, want HTTP/2", resp.Proto)
		}
		got := resp.Header.Values("Set-Cookie")
		if len(got) != 3 {
			t.Fatalf("Set-Cookie %q", got)
		}
		assertLifetime(t, got[:1], "session_id=abc; Path=/; HttpOnly; Secure; SameSite=Lax", 43200)
		assertLifetime(t, got[1:2], "user_id__insecure=42; Path=/; Secure; SameSite=Lax", 43200)
	})

	t.Run("local /encoded with encode gzip inside", func(t *testing.T) {
		body := strings.Repeat("compress me ", 200)
		req, _ := http.NewRequest("GET", "http://"+local+"/encoded?body="+strings.ReplaceAll(body, " ", "+"), nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, []string{"e=2; Path=/"}) {
			t.Errorf("Set-Cookie %q", got)
		}
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(zr); err != nil || string(got) != body {
			t.Errorf("body %q, %v", got, err)
		}
	})

	for _, tc := range []struct {
		path, body string
		want       []string
	}{
		{"/header", "from respond", []string{"h=1; Path=/"}},
		{"/empty", "", []string{"e=1; Path=/"}},
		{"/app/x", "app", nil}, // checked below: m gets 1h only under /app/
		{"/other", "other", []string{"m=1; Path=/"}},
		{"/plain.txt", "a file", []string{"f=1; Path=/"}},
		{"/", "templated", []string{"f=1; Path=/", "t=1; Path=/"}},
	} {
		t.Run("local "+tc.path, func(t *testing.T) {
			resp, body := getCookies(t, "http://"+local+tc.path)
			if resp.StatusCode != http.StatusOK || body != tc.body {
				t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, tc.body)
			}
			got := resp.Header.Values("Set-Cookie")
			if tc.want == nil {
				assertLifetime(t, got, "m=1; Path=/", 3600)
				return
			}
			if !equalStrings(got, tc.want) {
				t.Errorf("Set-Cookie %q, want %q", got, tc.want)
			}
		})
	}
}

// assertLifetime checks a single rewritten cookie whose Expires comes from a
// clock the test does not control: the prefix exactly, then that Expires
// is the Max-Age after a time within the last minute.
func assertLifetime(t *testing.T, got []string, prefix string, seconds int) {
	t.Helper()
	if len(got) != 1 || !strings.HasPrefix(got[0], prefix+"; Expires=") {
		t.Fatalf("Set-Cookie %q, want one starting %q", got, prefix+"; Expires=")
	}
	date, maxAge, ok := strings.Cut(strings.TrimPrefix(got[0], prefix+"; Expires="), "; Max-Age=")
	if !ok || maxAge != strconv.Itoa(seconds) {
		t.Fatalf("Set-Cookie %q, want it to end in \"; Max-Age=%d\"", got[0], seconds)
	}
	expires, err := time.Parse(http.TimeFormat, date)
	if err != nil {
		t.Fatalf("Expires in %q: %v", got[0], err)
	}
	if base := expires.Add(-time.Duration(seconds) * time.Second); time.Since(base) > time.Minute || time.Until(base) > time.Second {
		t.Errorf("Expires %s is not Max-Age after the response time", expires)
	}
}

// TestDirectiveOrder checks that no `order` line is needed: written after
// `header` and `respond` in the site block, cookie_normalizer still runs
// before them (it is ordered before `header`), so it sees their cookie.
func TestDirectiveOrder(t *testing.T) {
	addr := testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
http://%s {
	bind 127.0.0.1
	header +Set-Cookie "late=1; Max-Age=5; Path=/"
	respond "ok"
	cookie_normalizer late {
		expire session
	}
}
`, addr))
	resp, body := getCookies(t, "http://"+addr+"/")
	if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, []string{"late=1; Path=/"}) || body != "ok" {
		t.Errorf("Set-Cookie %q, body %q; want [late=1; Path=/], ok", got, body)
	}
}
