package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// firefoxEngine is headless Firefox driven over WebDriver BiDi, which
// Firefox serves itself (no geckodriver): one user context (a container
// with its own cookie jar) per client, whose jar is read with
// storage.getCookies.
var firefoxEngine = engine{
	name:      "Firefox",
	open:      openFirefox,
	newClient: func(t *testing.T) cookieClient { return newFirefoxClient(t) },
}

// firefox is the one Firefox of the package, started by the first test
// that needs it and stopped by TestMain.
var firefox struct {
	once    sync.Once
	err     error
	proc    *process
	dataDir string // the profile, and Firefox's XDG directories
	bidi    *bidiConn
	version string
}

func openFirefox(t *testing.T) string {
	t.Helper()
	sharedFirefox(t)
	return firefox.version
}

// sharedFirefox starts the package's Firefox once and returns its BiDi
// session. A Firefox that is installed but does not start fails the test.
func sharedFirefox(t *testing.T) *bidiConn {
	t.Helper()
	execPath := requireProgram(t, "firefox-esr", "firefox-esr", "firefox")
	firefox.once.Do(func() { firefox.err = startFirefox(execPath) })
	if firefox.err != nil {
		t.Fatalf("starting %s: %v", execPath, firefox.err)
	}
	return firefox.bidi
}

// bidiListening is the line Firefox writes to stderr once its WebDriver
// BiDi server accepts connections; with --remote-debugging-port 0 it is
// the only place the port is given.
var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://127\.0\.0\.1:\d+)`)

func startFirefox(execPath string) error {
	dir, err := os.MkdirTemp("", "e2e-firefox-")
	if err != nil {
		return err
	}
	firefox.dataDir = dir
	profile := filepath.Join(dir, "profile")
	if err := os.Mkdir(profile, 0o700); err != nil {
		return err
	}
	listening := make(chan string, 1)
	cmd := exec.Command(execPath, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", "0")
	// Firefox writes crash-reporter state beside the profile, under the
	// XDG directories; they go to the temporary directory too.
	cmd.Env = append(os.Environ(),
		"MOZ_CRASHREPORTER_DISABLE=1",
		"XDG_CONFIG_HOME="+dir,
		"XDG_DATA_HOME="+dir,
		"XDG_CACHE_HOME="+dir,
	)
	proc, err := startProcess(cmd, func(line string) {
		if m := bidiListening.FindStringSubmatch(line); m != nil {
			select {
			case listening <- m[1]:
			default:
			}
		}
	})
	if err != nil {
		return err
	}
	firefox.proc = proc
	ctx, cancel := context.WithTimeout(context.Background(), browserStartTimeout)
	defer cancel()
	var wsURL string
	select {
	case wsURL = <-listening:
	case <-proc.exited:
		return fmt.Errorf("exited before serving WebDriver BiDi; output:\n%s", proc.out)
	case <-ctx.Done():
		return fmt.Errorf("no WebDriver BiDi within %s; output:\n%s", browserStartTimeout, proc.out)
	}
	b, err := dialBiDi(ctx, wsURL+"/session")
	if err != nil {
		return err
	}
	firefox.bidi = b
	var session struct {
		Capabilities struct {
			BrowserName    string `json:"browserName"`
			BrowserVersion string `json:"browserVersion"`
		} `json:"capabilities"`
	}
	err = b.call(ctx, "session.new", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		// Caddy's local CA is made afresh for each scenario.
		"acceptInsecureCerts": true,
		// 127.0.0.1 only, whatever the environment or the system says.
		"proxy": map[string]any{"proxyType": "direct"},
	}}}, &session)
	if err != nil {
		return err
	}
	firefox.version = session.Capabilities.BrowserName + "/" + session.Capabilities.BrowserVersion
	// Navigation statuses come from network events; subscribing once for
	// every context keeps the clients' set-up to two commands.
	return b.call(ctx, "session.subscribe", map[string]any{"events": []string{"network.responseCompleted"}}, nil)
}

// stopFirefox closes the shared Firefox, if a test started it: politely
// through BiDi, then by its PID if it lingers. Then it removes the profile.
func stopFirefox() {
	if firefox.bidi != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = firefox.bidi.call(ctx, "browser.close", map[string]any{}, nil)
		cancel()
		firefox.bidi.close()
	}
	if firefox.proc != nil {
		firefox.proc.stop(5 * time.Second)
	}
	if firefox.dataDir != "" {
		os.RemoveAll(firefox.dataDir)
	}
}

// firefoxClient is one tab in a user context of its own: Firefox keys
// cookies by host, not port, so every Caddy on 127.0.0.1 would otherwise
// share one jar.
type firefoxClient struct {
	bidi        *bidiConn
	userContext string
	context     string // the tab's browsing context
}

func newFirefoxClient(t *testing.T) *firefoxClient {
	t.Helper()
	b := sharedFirefox(t)
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	var uc struct {
		UserContext string `json:"userContext"`
	}
	if err := b.call(ctx, "browser.createUserContext", map[string]any{}, &uc); err != nil {
		t.Fatalf("creating a user context: %v", err)
	}
	c := &firefoxClient{bidi: b, userContext: uc.UserContext}
	// Removing the user context closes its tab and deletes its cookies;
	// it runs before the scenario's Caddy stops.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		if err := b.call(ctx, "browser.removeUserContext", map[string]any{"userContext": c.userContext}, nil); err != nil {
			t.Errorf("removing Firefox user context %s: %v", c.userContext, err)
		}
	})
	var tab struct {
		Context string `json:"context"`
	}
	if err := b.call(ctx, "browsingContext.create", map[string]any{"type": "tab", "userContext": c.userContext}, &tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	c.context = tab.Context
	return c
}

func (c *firefoxClient) get(ctx context.Context, url string) error {
	// The navigation's response, seen as a network event. It may arrive
	// before or after browsingContext.navigate answers.
	type response struct {
		navigation, url string
		status          int
	}
	responses := make(chan response, 16)
	stop := c.bidi.onEvent("network.responseCompleted", func(params json.RawMessage) {
		var ev struct {
			Context    string  `json:"context"`
			Navigation *string `json:"navigation"`
			Response   struct {
				URL    string `json:"url"`
				Status int    `json:"status"`
			} `json:"response"`
		}
		if json.Unmarshal(params, &ev) != nil || ev.Context != c.context || ev.Navigation == nil {
			return
		}
		select {
		case responses <- response{*ev.Navigation, ev.Response.URL, ev.Response.Status}:
		default:
		}
	})
	defer stop()
	var nav struct {
		Navigation string `json:"navigation"`
		URL        string `json:"url"`
	}
	err := c.bidi.call(ctx, "browsingContext.navigate", map[string]any{"context": c.context, "url": url, "wait": "complete"}, &nav)
	if err != nil {
		return err
	}
	// Guards against a silent upgrade, a redirect elsewhere, an error page.
	if nav.URL != url {
		return fmt.Errorf("navigated to %s, want %s", nav.URL, url)
	}
	for {
		select {
		case r := <-responses:
			if r.navigation != nav.Navigation {
				continue
			}
			if r.url != url || r.status != 200 {
				return fmt.Errorf("got %d from %s, want 200 from %s", r.status, r.url, url)
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("no response event for navigation %s to %s: %w", nav.Navigation, url, ctx.Err())
		}
	}
}

func (c *firefoxClient) cookies(ctx context.Context) ([]storedCookie, error) {
	return rootCookies(ctx, c)
}

// scopedCookies returns every cookie of the client's user context with
// where it is stored. BiDi gives a domain cookie's domain with a leading
// dot (Firefox's own spelling of its host) and a host-only cookie's
// without.
func (c *firefoxClient) scopedCookies(ctx context.Context) ([]scopedCookie, error) {
	var res struct {
		Cookies []struct {
			Name  string `json:"name"`
			Value struct {
				Type  string `json:"type"`
				Value string `json:"value"`
			} `json:"value"`
			Domain   string   `json:"domain"`
			Path     string   `json:"path"`
			HTTPOnly bool     `json:"httpOnly"`
			Secure   bool     `json:"secure"`
			SameSite string   `json:"sameSite"`
			Expiry   *float64 `json:"expiry"` // absent for a session cookie
		} `json:"cookies"`
	}
	err := c.bidi.call(ctx, "storage.getCookies", map[string]any{
		// Every cookie of the client's user context.
		"partition": map[string]any{"type": "storageKey", "userContext": c.userContext},
	}, &res)
	if err != nil {
		return nil, err
	}
	var jar []scopedCookie
	for _, ck := range res.Cookies {
		value := ck.Value.Value
		if ck.Value.Type == "base64" {
			b, err := base64.StdEncoding.DecodeString(value)
			if err != nil {
				return nil, fmt.Errorf("cookie %s: value: %v", ck.Name, err)
			}
			value = string(b)
		}
		sameSite, err := firefoxSameSite(ck.SameSite)
		if err != nil {
			return nil, fmt.Errorf("cookie %s: %v", ck.Name, err)
		}
		sc := storedCookie{
			name:  ck.Name,
			value: value,
			attrs: &storedAttrs{
				httpOnly:      ck.HTTPOnly,
				secure:        ck.Secure,
				sameSite:      sameSite,
				sameSiteKnown: true,
			},
		}
		if ck.Expiry != nil {
			sc.expires = time.Unix(int64(*ck.Expiry), 0)
		}
		jar = append(jar, scopedCookie{sc, cookieScope{
			domain:   strings.TrimPrefix(ck.Domain, "."),
			path:     ck.Path,
			hostOnly: !strings.HasPrefix(ck.Domain, "."),
		}})
	}
	return jar, nil
}

// firefoxSameSite maps BiDi's sameSite to the attribute's spelling.
// Firefox reports "default" for a cookie sent without SameSite, which is
// what checkJar calls "".
func firefoxSameSite(s string) (string, error) {
	switch s {
	case "default":
		return "", nil
	case "strict":
		return "Strict", nil
	case "lax":
		return "Lax", nil
	case "none":
		return "None", nil
	}
	return "", fmt.Errorf("unknown sameSite %q", s)
}

// bidiConn is a WebDriver BiDi session over one WebSocket: commands are
// matched to their answers by id, events go to the handlers registered
// for them.
type bidiConn struct {
	ws     *websocket.Conn
	nextID atomic.Int64

	mu       sync.Mutex
	pending  map[int64]chan bidiMessage
	handlers map[int64]bidiHandler
	err      error // set when the connection is gone
	done     chan struct{}
}

type bidiHandler struct {
	method string
	fn     func(params json.RawMessage)
}

type bidiMessage struct {
	Type    string          `json:"type"` // "success", "error" or "event"
	ID      *int64          `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

func dialBiDi(ctx context.Context, url string) (*bidiConn, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		// 127.0.0.1 only, whatever the environment says.
		HTTPClient: &http.Client{Transport: &http.Transport{Proxy: nil}},
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", url, err)
	}
	ws.SetReadLimit(16 << 20) // a browsing context tree can exceed the default 32 KiB
	b := &bidiConn{
		ws:       ws,
		pending:  map[int64]chan bidiMessage{},
		handlers: map[int64]bidiHandler{},
		done:     make(chan struct{}),
	}
	go b.readLoop()
	return b, nil
}

func (b *bidiConn) readLoop() {
	var err error
	for {
		var data []byte
		_, data, err = b.ws.Read(context.Background())
		if err != nil {
			break
		}
		var m bidiMessage
		if err = json.Unmarshal(data, &m); err != nil {
			err = fmt.Errorf("decoding %q: %w", data, err)
			break
		}
		b.mu.Lock()
		if m.Type == "event" {
			for _, h := range b.handlers {
				if h.method == m.Method {
					h.fn(m.Params)
				}
			}
		} else if m.ID != nil {
			if ch, ok := b.pending[*m.ID]; ok {
				delete(b.pending, *m.ID)
				ch <- m
			}
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.err = err
	b.mu.Unlock()
	close(b.done)
}

// call sends a command and decodes its result into result (if not nil).
func (b *bidiConn) call(ctx context.Context, method string, params any, result any) error {
	id := b.nextID.Add(1)
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	ch := make(chan bidiMessage, 1)
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return fmt.Errorf("%s: connection closed: %w", method, b.err)
	}
	b.pending[id] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
	}()
	if err := b.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Type == "error" {
			return fmt.Errorf("%s: %s: %s", method, m.Error, m.Message)
		}
		if result == nil {
			return nil
		}
		if err := json.Unmarshal(m.Result, result); err != nil {
			return fmt.Errorf("%s: decoding %s: %w", method, m.Result, err)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: connection closed: %w", method, b.err)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// onEvent calls fn with the parameters of every event named method until
// the returned function is called. fn runs on the read loop and must not
// block.
func (b *bidiConn) onEvent(method string, fn func(params json.RawMessage)) (stop func()) {
	id := b.nextID.Add(1)
	b.mu.Lock()
	b.handlers[id] = bidiHandler{method, fn}
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.handlers, id)
		b.mu.Unlock()
	}
}

func (b *bidiConn) close() {
	_ = b.ws.Close(websocket.StatusNormalClosure, "")
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
	}
}
