package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"
)

// TestGoCookieJar runs the scenarios with a net/http client and
// net/http/cookiejar. The jar says which cookies it holds and their values,
// but not their expiry; the expiry checked is the one the jar computes, from
// the Set-Cookie fields as net/http parsed them (Max-Age before Expires,
// see cookiejar's newEntry), which also proves Go's stricter parser reads
// the rewritten attributes. It runs over plain http, the one client that
// does: the module rewrites the same way either side of TLS, and Go, like
// Chromium and Firefox, keeps Secure cookies from a loopback http origin.
func TestGoCookieJar(t *testing.T) {
	runScenarios(t, startProxy, func(t *testing.T) cookieClient {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		tr := &http.Transport{Proxy: nil} // 127.0.0.1 only, whatever the environment says
		t.Cleanup(tr.CloseIdleConnections)
		return &goJarClient{
			client:  &http.Client{Jar: jar, Transport: tr, Timeout: stepTimeout},
			expires: map[string]time.Time{},
		}
	})
}

// goJarClient is an http.Client with a cookie jar, plus the expiry of each
// cookie name as last set.
type goJarClient struct {
	client  *http.Client
	base    *url.URL
	expires map[string]time.Time // zero for a session cookie
}

func (c *goJarClient) get(ctx context.Context, rawURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("got %s", resp.Status)
	}
	c.base = &url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: "/"}
	received := time.Now()
	for _, ck := range resp.Cookies() {
		switch {
		case ck.MaxAge > 0:
			c.expires[ck.Name] = received.Add(time.Duration(ck.MaxAge) * time.Second)
		case ck.MaxAge == 0 && !ck.Expires.IsZero():
			c.expires[ck.Name] = ck.Expires
		default: // a session cookie, or a deletion the jar drops
			c.expires[ck.Name] = time.Time{}
		}
	}
	return nil
}

func (c *goJarClient) cookies(context.Context) ([]storedCookie, error) {
	if c.base == nil {
		return nil, nil
	}
	// Go 1.23+ treats loopback as a secure origin, as Chromium and Firefox
	// do, so the Secure cookies come back for an http URL.
	var jar []storedCookie
	for _, ck := range c.client.Jar.Cookies(c.base) {
		v := ck.Value
		if ck.Quoted {
			v = `"` + v + `"` // the jar strips the quotes and remembers them
		}
		jar = append(jar, storedCookie{name: ck.Name, value: v, expires: c.expires[ck.Name]})
	}
	return jar, nil
}
