package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// webkitEngine is WebKitGTK's MiniBrowser driven by WebKitWebDriver over
// classic W3C WebDriver (HTTP), on a virtual X display (Xvfb). Its cookie
// store is libsoup's, not Safari's (CFNetwork).
//
// WebKitWebDriver serves one session at a time, and a session has one
// cookie jar, so the clients take turns: each starts by deleting every
// 127.0.0.1 cookie (WebKit keys cookies by host, not port) and ends the
// same way.
var webkitEngine = engine{
	name:      "WebKit",
	open:      openWebKit,
	newClient: func(t *testing.T) cookieClient { return newWebKitClient(t) },
}

// webkit is the one WebKit of the package, started by the first test that
// needs it and stopped by TestMain.
var webkit struct {
	once    sync.Once
	err     error
	xvfb    *process
	driver  *process
	dataDir string // XDG directories of the driver and the browser
	wd      *webDriver
	version string
	// home is an HTTPS page on 127.0.0.1 that sets only clearMarker: the
	// jar can only be read or cleared from a page of the cookies' host.
	home *httptest.Server

	mu     sync.Mutex
	inUse  bool   // a client holds the session's jar
	holder string // that client's test
}

func openWebKit(t *testing.T) string {
	t.Helper()
	sharedWebKit(t)
	return webkit.version
}

// sharedWebKit starts the package's Xvfb, WebKitWebDriver and WebDriver
// session once. One that is installed but does not start fails the test.
func sharedWebKit(t *testing.T) *webDriver {
	t.Helper()
	driverPath := requireProgram(t, "webkit2gtk-driver", "WebKitWebDriver")
	xvfbPath := requireProgram(t, "xvfb", "Xvfb")
	webkit.once.Do(func() {
		webkit.err = startWebKit(driverPath, xvfbPath, testcaddy.FreeAddr(t))
	})
	if webkit.err != nil {
		t.Fatalf("starting %s: %v", driverPath, webkit.err)
	}
	return webkit.wd
}

func startWebKit(driverPath, xvfbPath, addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), browserStartTimeout)
	defer cancel()
	display, err := startXvfb(ctx, xvfbPath)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "e2e-webkit-")
	if err != nil {
		return err
	}
	webkit.dataDir = dir
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(driverPath, "--port="+port, "--host=local")
	// MiniBrowser needs a display, and keeps whatever it writes out of the
	// user's home.
	cmd.Env = append(os.Environ(),
		"DISPLAY="+display,
		"XDG_DATA_HOME="+dir,
		"XDG_CACHE_HOME="+dir,
		"XDG_CONFIG_HOME="+dir,
	)
	if webkit.driver, err = startProcess(cmd, nil); err != nil {
		return err
	}
	wd := &webDriver{
		base:   "http://" + addr,
		client: &http.Client{Transport: &http.Transport{Proxy: nil}}, // 127.0.0.1 only
	}
	for {
		var status struct {
			Ready bool `json:"ready"`
		}
		if err := wd.do(ctx, http.MethodGet, "/status", nil, &status); err == nil && status.Ready {
			break
		}
		select {
		case <-webkit.driver.exited:
			return fmt.Errorf("exited before answering; output:\n%s", webkit.driver.out)
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s; output:\n%s", browserStartTimeout, webkit.driver.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	var session struct {
		SessionID    string `json:"sessionId"`
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	err = wd.do(ctx, http.MethodPost, "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		// Caddy's local CA is made afresh for each scenario.
		"acceptInsecureCerts": true,
	}}}, &session)
	if err != nil {
		return fmt.Errorf("%v; output:\n%s", err, webkit.driver.out)
	}
	wd.session = "/session/" + session.SessionID
	webkit.wd = wd
	webkit.version = "WebKitGTK/" + session.Capabilities.BrowserVersion + " (" + session.Capabilities.BrowserName + soupVersion() + ")"
	// httptest listens on 127.0.0.1 only.
	webkit.home = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", clearMarker)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "page for clearing the jar")
	}))
	return nil
}

// startXvfb starts a virtual X server on a free display and returns the
// display's name, which Xvfb writes to the file descriptor given to
// -displayfd once it accepts clients.
func startXvfb(ctx context.Context, xvfbPath string) (string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	cmd := exec.Command(xvfbPath, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x1024x24")
	cmd.ExtraFiles = []*os.File{w} // fd 3
	webkit.xvfb, err = startProcess(cmd, nil)
	w.Close()
	if err != nil {
		return "", err
	}
	number := make(chan string, 1)
	go func() {
		// Ends at EOF once Xvfb exits, if it never writes.
		line, _ := bufio.NewReader(r).ReadString('\n')
		number <- strings.TrimSpace(line)
	}()
	select {
	case n := <-number:
		if n == "" {
			return "", fmt.Errorf("no display from Xvfb; output:\n%s", webkit.xvfb.out)
		}
		return ":" + n, nil
	case <-ctx.Done():
		return "", fmt.Errorf("no display from Xvfb within %s; output:\n%s", browserStartTimeout, webkit.xvfb.out)
	}
}

// soupVersion names the libsoup WebKitGTK parses cookies with, as
// "; libsoup <version>": WEBKIT_LIBSOUP when set (a build the package
// manager does not know), else as the package manager says (Debian's
// libsoup-3.0-0); else "". Its releases read odd fields differently
// (3.6.5 skips attribute values over 1024 bytes, which 3.2 reads).
func soupVersion() string {
	if v := os.Getenv("WEBKIT_LIBSOUP"); v != "" {
		return "; libsoup " + v
	}
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "libsoup-3.0-0").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		return ""
	}
	return "; libsoup " + string(bytes.TrimSpace(out))
}

// stopWebKit ends the session (which closes MiniBrowser), then stops
// WebKitWebDriver and Xvfb by the PIDs the package started, politely
// (SIGTERM, so Xvfb removes its lock file) and then by force.
func stopWebKit() {
	if webkit.wd != nil && webkit.wd.session != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := webkit.wd.do(ctx, http.MethodDelete, webkit.wd.session, nil, nil); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: ending the WebKit session: %v\n", err)
		}
		cancel()
	}
	if webkit.home != nil {
		webkit.home.Close()
	}
	for _, p := range []*process{webkit.driver, webkit.xvfb} {
		if p != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			p.stop(5 * time.Second)
		}
	}
	if webkit.dataDir != "" {
		os.RemoveAll(webkit.dataDir)
	}
}

// webkitClient is the package's WebKit session, its jar emptied for one
// test.
type webkitClient struct {
	wd *webDriver
}

func newWebKitClient(t *testing.T) *webkitClient {
	t.Helper()
	wd := sharedWebKit(t)
	webkit.mu.Lock()
	if webkit.inUse {
		holder := webkit.holder
		webkit.mu.Unlock()
		t.Fatalf("WebKit's jar is held by %s: WebKitWebDriver serves one session, so one WebKit client at a time", holder)
	}
	webkit.inUse, webkit.holder = true, t.Name()
	webkit.mu.Unlock()
	c := &webkitClient{wd: wd}
	t.Cleanup(func() {
		if err := c.clear(); err != nil {
			t.Errorf("clearing WebKit's jar: %v", err)
		}
		webkit.mu.Lock()
		webkit.inUse = false
		webkit.mu.Unlock()
	})
	if err := c.clear(); err != nil {
		t.Fatalf("clearing WebKit's jar: %v", err)
	}
	return c
}

// clearMarker is the cookie the home page sets just before clear deletes
// the jar.
const clearMarker = "e2e_clear_marker=1; Path=/; Max-Age=600"

// clear deletes every cookie of 127.0.0.1 that a page at "/" receives,
// from such a page, and waits until the jar is empty. WebKit answers the
// deletion before its network process has carried it out, and carries it
// out later even when the jar is already empty, so an unmarked deletion
// could still be pending, and then delete the next test's first cookies.
// The home page sets clearMarker first: once it is gone, this deletion has
// happened, and once the jar is empty, no cookie that was there is left to
// delete. Cookies whatever their scope (a domain cookie too) count: a test
// that stores cookies under a longer path deletes them itself, with
// emptyPage, from a page under that path.
func (c *webkitClient) clear() error {
	// A page, a jar read and a deletion WebKit may let lapse under load
	// (see emptyPage): more than one step's time.
	ctx, cancel := context.WithTimeout(context.Background(), 4*stepTimeout)
	defer cancel()
	if err := c.get(ctx, webkit.home.URL+"/"); err != nil {
		return err
	}
	jar, err := c.scopedCookies(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(jar, func(c scopedCookie) bool { return c.name == "e2e_clear_marker" }) {
		return fmt.Errorf("the home page's marker cookie is not in the jar: %s", describeScoped(jar))
	}
	return c.emptyPage(ctx)
}

// emptyPage deletes every cookie the current page receives (WebDriver's
// Delete All Cookies is limited to those) and waits until it receives
// none.
func (c *webkitClient) emptyPage(ctx context.Context) error {
	if err := c.wd.do(ctx, http.MethodDelete, c.wd.session+"/cookie", nil, nil); err != nil {
		return err
	}
	for tries := 1; ; tries++ {
		jar, err := c.scopedCookies(ctx)
		if err != nil {
			return err
		}
		if len(jar) == 0 {
			return nil
		}
		// Under load WebKit has been seen to let a deletion lapse: ask
		// again every second until the jar is empty.
		if tries%50 == 0 {
			if err := c.wd.do(ctx, http.MethodDelete, c.wd.session+"/cookie", nil, nil); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("jar still holds %s after %d reads", describeScoped(jar), tries)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *webkitClient) get(ctx context.Context, url string) error {
	if err := c.wd.do(ctx, http.MethodPost, c.wd.session+"/url", map[string]any{"url": url}, nil); err != nil {
		return err
	}
	// Classic WebDriver gives no HTTP status, and WebKitGTK 2.50 leaves
	// Resource Timing's responseStatus undefined; if a later WebKit fills
	// it in, it is checked. Otherwise the URL guards against a redirect
	// or an error page (about:blank), and the scenarios' jar checks catch
	// a response that set or deleted nothing.
	var page struct {
		URL    string `json:"url"`
		Status *int   `json:"status"`
	}
	err := c.wd.do(ctx, http.MethodPost, c.wd.session+"/execute/sync", map[string]any{
		"script": `const nav = performance.getEntriesByType("navigation")[0];
return {url: location.href, status: nav && nav.responseStatus ? nav.responseStatus : null};`,
		"args": []any{},
	}, &page)
	if err != nil {
		return err
	}
	if page.URL != url {
		return fmt.Errorf("navigated to %s, want %s", page.URL, url)
	}
	if page.Status != nil && *page.Status != 200 {
		return fmt.Errorf("got %d from %s, want 200", *page.Status, url)
	}
	return nil
}

// cookies returns the cookies of the current page, which WebDriver limits
// it to: navigating anywhere on 127.0.0.1 shows all of them, since WebKit
// keys cookies by host and the scenarios' cookies have Path=/.
func (c *webkitClient) cookies(ctx context.Context) ([]storedCookie, error) {
	return rootCookies(ctx, c)
}

// scopedCookies returns the cookies of the current page with where they
// are stored. WebKitWebDriver gives a domain cookie's domain with a
// leading dot (libsoup's spelling) and a host-only cookie's without.
func (c *webkitClient) scopedCookies(ctx context.Context) ([]scopedCookie, error) {
	var res []struct {
		Name     string `json:"name"`
		Value    string `json:"value"`
		Domain   string `json:"domain"`
		Path     string `json:"path"`
		HTTPOnly bool   `json:"httpOnly"`
		Secure   bool   `json:"secure"`
		SameSite string `json:"sameSite"`
		Expiry   *int64 `json:"expiry"` // absent for a session cookie
	}
	if err := c.wd.do(ctx, http.MethodGet, c.wd.session+"/cookie", nil, &res); err != nil {
		return nil, err
	}
	var jar []scopedCookie
	for _, ck := range res {
		sc := storedCookie{
			name:  ck.Name,
			value: ck.Value,
			attrs: &storedAttrs{
				httpOnly: ck.HTTPOnly,
				secure:   ck.Secure,
				sameSite: ck.SameSite,
				// WebKitWebDriver reports "None" both for SameSite=None
				// and for a cookie sent without SameSite, so "None" says
				// nothing; "Lax" and "Strict" are checked.
				sameSiteKnown: ck.SameSite != "None",
			},
		}
		if ck.Expiry != nil {
			sc.expires = time.Unix(webkitExpiry(*ck.Expiry), 0)
		}
		jar = append(jar, scopedCookie{sc, cookieScope{
			domain:   strings.TrimPrefix(ck.Domain, "."),
			path:     ck.Path,
			hostOnly: !strings.HasPrefix(ck.Domain, "."),
		}})
	}
	return jar, nil
}

// webkitExpiry undoes WebKitWebDriver's 32-bit wrap of cookie expiries: it
// reports an expiry after January 2038 (beyond a signed 32-bit time_t) as
// that many seconds minus 2^32, a negative number. WebKit itself stores
// the right date and does not cap lifetimes (Chromium and Firefox cap them
// at 400 days), so a long-lived cookie reaches 2038 easily. A negative
// expiry cannot be real: it would be a date before 1970, and WebKit drops
// such a cookie as expired instead of storing it.
func webkitExpiry(sec int64) int64 {
	if sec < 0 {
		return sec + 1<<32
	}
	return sec
}

// webDriver is a classic W3C WebDriver endpoint and, once created, its
// session ("/session/{id}").
type webDriver struct {
	base    string
	client  *http.Client
	session string
}

// do sends a WebDriver command and decodes the response's "value" into
// result (if not nil).
func (wd *webDriver) do(ctx context.Context, method, path string, body, result any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, wd.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := wd.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var msg struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &msg); err != nil {
		return fmt.Errorf("%s %s: %s: decoding %q: %w", method, path, resp.Status, data, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(msg.Value, &e)
		return fmt.Errorf("%s %s: %s: %s: %s", method, path, resp.Status, e.Error, e.Message)
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(msg.Value, result); err != nil {
		return fmt.Errorf("%s %s: decoding %s: %w", method, path, msg.Value, err)
	}
	return nil
}
