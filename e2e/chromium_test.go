package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// chromiumEngine is headless Chromium driven over the DevTools protocol
// (chromedp): one fresh browser context (an incognito-like cookie jar) per
// client, whose jar is read with Storage.getCookies.
var chromiumEngine = engine{
	name:      "Chromium",
	open:      openChromium,
	newClient: func(t *testing.T) cookieClient { return newChromiumClient(t, sharedBrowser(t)) },
}

func openChromium(t *testing.T) string {
	t.Helper()
	sharedBrowser(t)
	return browser.version
}

// browserLifetime bounds the shared browser: chromedp kills it when its
// allocator context ends, whatever the tests are doing. TestMain stops it
// when the package's tests end; the bound only has to outlast them, and
// the package took over five minutes under -race on a slow 2-core
// machine (then every later Chromium test failed to open a tab). CI gives
// the test binary 30 minutes (-timeout 30m in .ci/run); this outlasts it.
const browserLifetime = 35 * time.Minute

// browser is the one Chromium of the package, started by the first test
// that needs it and stopped by TestMain.
var browser struct {
	once    sync.Once
	ctx     context.Context // chromedp context of the browser's first tab
	version string
	err     error
	cancel  func() // stops the browser through the handle chromedp holds
	dataDir string
}

// sharedBrowser starts the package's Chromium once and returns its chromedp
// context. A browser that is installed but does not start fails the test.
func sharedBrowser(t *testing.T) context.Context {
	t.Helper()
	execPath := requireProgram(t, "chromium", "chromium", "chromium-browser", "google-chrome")
	browser.once.Do(func() { browser.err = startBrowser(execPath) })
	if browser.err != nil {
		t.Fatalf("starting %s: %v", execPath, browser.err)
	}
	return browser.ctx
}

func startBrowser(execPath string) error {
	dir, err := os.MkdirTemp("", "e2e-chromium-")
	if err != nil {
		return err
	}
	browser.dataDir = dir
	lifetime, cancelLifetime := context.WithTimeout(context.Background(), browserLifetime)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.NoSandbox, // the tests may run as root, in a container
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.IgnoreCertErrors, // Caddy's local CA is made afresh for each scenario
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true), // 127.0.0.1 only, whatever the environment says
		chromedp.UserDataDir(dir),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(lifetime, opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	browser.ctx = ctx
	browser.cancel = func() {
		cancelBrowser()
		cancelAlloc()
		cancelLifetime()
	}
	// The browser process lives as long as the context of the first call,
	// so that call gets the browser's own context; a watchdog bounds it.
	watchdog := time.AfterFunc(browserStartTimeout, cancelBrowser)
	err = chromedp.Do(ctx)
	if !watchdog.Stop() && err == nil {
		err = fmt.Errorf("browser start took longer than %s", browserStartTimeout)
	}
	if err != nil {
		return err
	}
	vctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.CallBrowser(vctx, cdpbrowser.GetVersion, cdp.Empty{})
	if err != nil {
		return fmt.Errorf("getting the browser version: %w", err)
	}
	browser.version = v.Product
	return nil
}

// stopChromium stops the shared Chromium, if a test started it, and
// removes its profile.
func stopChromium() {
	if browser.cancel != nil {
		browser.cancel()
	}
	if browser.dataDir != "" {
		os.RemoveAll(browser.dataDir)
	}
}

// chromiumClient is one tab in its own browser context: cookies set in one
// scenario are not seen by the next (Chromium keys cookies by host, not
// port, so every Caddy on 127.0.0.1 would otherwise share one jar).
type chromiumClient struct {
	ctx context.Context // the tab's chromedp context
}

func newChromiumClient(t *testing.T, browserCtx context.Context) *chromiumClient {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	// Closes the tab and disposes of its browser context; runs before the
	// scenario's Caddy stops.
	t.Cleanup(cancel)
	// As for the browser, the tab lives as long as the context of the
	// first call.
	watchdog := time.AfterFunc(stepTimeout, cancel)
	err := chromedp.Do(ctx)
	if !watchdog.Stop() && err == nil {
		err = fmt.Errorf("opening a tab took longer than %s", stepTimeout)
	}
	if err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return &chromiumClient{ctx: ctx}
}

func (c *chromiumClient) get(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(c.ctx, timeLeft(ctx))
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		return err
	}
	if resp == nil {
		// chromedp reports no response when it saw none for the
		// navigation: seen while a page's own script was still
		// navigating the tab.
		return fmt.Errorf("no response from %s", url)
	}
	// Guards against a silent upgrade to https or a redirect elsewhere.
	if resp.URL != url || resp.Status != 200 {
		return fmt.Errorf("got %d from %s, want 200 from %s", resp.Status, resp.URL, url)
	}
	return nil
}

func (c *chromiumClient) cookies(ctx context.Context) ([]storedCookie, error) {
	return rootCookies(ctx, c)
}

// scopedCookies returns every cookie of the tab's browser context with
// where it is stored. Chromium writes a domain cookie's domain with a
// leading dot and a host-only cookie's without.
func (c *chromiumClient) scopedCookies(ctx context.Context) ([]scopedCookie, error) {
	ctx, cancel := context.WithTimeout(c.ctx, timeLeft(ctx))
	defer cancel()
	res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{
		BrowserContextID: chromedp.FromContext(c.ctx).BrowserContextID,
	})
	if err != nil {
		return nil, err
	}
	var jar []scopedCookie
	for _, ck := range res.Cookies {
		sc := storedCookie{
			name:  ck.Name,
			value: ck.Value,
			attrs: &storedAttrs{
				httpOnly:      ck.HTTPOnly,
				secure:        ck.Secure,
				sameSite:      string(ck.SameSite),
				sameSiteKnown: true,
			},
			priority: string(ck.Priority),
		}
		// Expires is epoch seconds, -1 for a session cookie.
		switch {
		case ck.Session && ck.Expires == -1:
		case !ck.Session && ck.Expires > 0:
			sec := int64(ck.Expires)
			sc.expires = time.Unix(sec, int64((ck.Expires-float64(sec))*1e9))
		default:
			return nil, fmt.Errorf("cookie %s: Session=%t but Expires=%v", ck.Name, ck.Session, ck.Expires)
		}
		jar = append(jar, scopedCookie{sc, cookieScope{
			domain:   strings.TrimPrefix(ck.Domain, "."),
			path:     ck.Path,
			hostOnly: !strings.HasPrefix(ck.Domain, "."),
		}})
	}
	return jar, nil
}

// timeLeft is the time until ctx's deadline, so that a deadline carries
// over to a context derived from another parent (the tab's).
func timeLeft(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return stepTimeout
}
