package cookienormalizer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/quic-go/quic-go/http3"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// These tests run the wrapper through a real Caddy on every protocol Caddy
// serves: HTTP/1.1, HTTP/2 over h2c, HTTP/2 over TLS and HTTP/3. The
// servers differ in when they serialise the header map: net/http (HTTP/1.1
// and both HTTP/2s) snapshots it at WriteHeader, so a field added later is
// never sent; quic-go (HTTP/3) encodes it at the first body byte past its
// 4 KiB small-response buffer, at a flush, or when the handler returns, so
// a field added after WriteHeader is sent, and must be rewritten.

// The protocol tests' policy: no clock is involved, so every expected byte
// is a constant.
const (
	protoCookieA   = "a=1; Max-Age=5; Path=/"
	protoCookieB   = "b=2; Max-Age=5; Path=/"
	protoRewriteA  = "a=1; Path=/; HttpOnly"
	protoRewriteB  = "b=2; Path=/; HttpOnly"
	protoUnmatched = "z=9; Max-Age=5; Path=/"
	protoPolicy    = `cookie_normalizer a b {
		expire session
		httponly on
	}`
)

func init() {
	caddy.RegisterModule(protoApp{})
	httpcaddyfile.RegisterHandlerDirective("cookie_normalizer_test_app", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		h.Next()
		if h.NextArg() {
			return nil, h.ArgErr()
		}
		return new(protoApp), nil
	})
}

// protoApp is a test-only Caddy handler that writes the header map in the
// orders no standard Caddy handler does: it adds a cookie after
// WriteHeader, before the first body byte, after it, or before a flush.
// reverse_proxy cannot show these paths: it copies every upstream field
// before it calls WriteHeader, and adds only trailers after. The path of
// the request picks the behaviour.
type protoApp struct{}

// CaddyModule returns the Caddy module information.
func (protoApp) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cookie_normalizer_test_app",
		New: func() caddy.Module { return new(protoApp) },
	}
}

// ServeHTTP writes the response its path asks for.
func (protoApp) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	h := w.Header()
	switch strings.TrimPrefix(r.URL.Path, "/app/") {
	case "late":
		// A field between WriteHeader and the first Write.
		h.Add("Set-Cookie", protoCookieA)
		h.Add("Set-Cookie", protoUnmatched)
		w.WriteHeader(http.StatusOK)
		h.Add("Set-Cookie", protoCookieB)
		io.WriteString(w, "late body")
	case "late-flush":
		// A field between WriteHeader and a flush.
		w.WriteHeader(http.StatusOK)
		h.Add("Set-Cookie", protoCookieB)
		http.NewResponseController(w).Flush()
		io.WriteString(w, "flushed body")
	case "late-nobody":
		// A field after WriteHeader, and no body: the server sends the
		// header map when the handler returns.
		h.Add("Set-Cookie", protoCookieA)
		w.WriteHeader(http.StatusAccepted)
		h.Add("Set-Cookie", protoCookieB)
	case "after-write":
		// A field after a short first Write: quic-go still holds the body
		// in its small-response buffer and encodes the header map when the
		// handler returns.
		h.Add("Set-Cookie", protoCookieA)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "short body")
		h.Add("Set-Cookie", protoCookieB)
	case "between-writes":
		// A field between a short Write, which quic-go buffers, and a
		// long one, at which it encodes the header map and the body.
		h.Add("Set-Cookie", protoCookieA)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "short ")
		h.Add("Set-Cookie", protoCookieB)
		io.WriteString(w, strings.Repeat("y", 8<<10))
	case "big":
		// A body past quic-go's 4 KiB buffer, then a field: the header map
		// went out with the first write, so the field is never sent.
		h.Add("Set-Cookie", protoCookieA)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, strings.Repeat("x", 8<<10))
		h.Add("Set-Cookie", protoCookieB)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
	return nil
}

// protoUpstream is the Go upstream behind reverse_proxy: a streamed
// response that waits for the client between two chunks, and Set-Cookie
// as a trailer, declared or under the "Trailer:" key prefix.
type protoUpstream struct {
	srv *httptest.Server
	streamGates
}

// streamGates holds back streaming responses until the test lets them
// finish, by id.
type streamGates struct {
	mu       sync.Mutex
	releases map[string]chan struct{}
}

// release returns the channel that lets the stream with this id finish.
func (g *streamGates) release(id string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.releases == nil {
		g.releases = map[string]chan struct{}{}
	}
	c, ok := g.releases[id]
	if !ok {
		c = make(chan struct{})
		g.releases[id] = c
	}
	return c
}

func newProtoUpstream(t *testing.T) *protoUpstream {
	u := &protoUpstream{}
	mux := http.NewServeMux()
	mux.HandleFunc("/up/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", protoCookieA)
		w.Header().Add("Set-Cookie", protoUnmatched)
		io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		select {
		case <-u.release(r.URL.Query().Get("id")):
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
			t.Error("the client never read the first chunk")
		}
		io.WriteString(w, "second\n")
	})
	mux.HandleFunc("/up/trailer-declared", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "Set-Cookie")
		io.WriteString(w, "body")
		w.Header().Add("Set-Cookie", protoCookieB)
	})
	mux.HandleFunc("/up/trailer-prefix", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", protoCookieA)
		io.WriteString(w, "body")
		http.NewResponseController(w).Flush() // chunked, so a trailer can follow
		w.Header().Add(http.TrailerPrefix+"Set-Cookie", protoCookieB)
		w.Header().Add(http.TrailerPrefix+"Set-Cookie", protoUnmatched)
	})
	u.srv = httptest.NewServer(mux)
	t.Cleanup(u.srv.Close)
	return u
}

func (u *protoUpstream) addr() string { return strings.TrimPrefix(u.srv.URL, "http://") }

// protoSite is the site block of both Caddy instances: the policy in front
// of the test app and of reverse_proxy to the Go upstream, which streams
// (flush_interval -1: no buffering, a flush after every write).
func protoSite(scheme, addr, tlsLine, upstream string) string {
	return fmt.Sprintf(`
%s://%s {
	bind 127.0.0.1
	%s
	%s
	route /app/* {
		cookie_normalizer_test_app
	}
	reverse_proxy /up/* %s {
		flush_interval -1
	}
}
`, scheme, addr, tlsLine, protoPolicy, upstream)
}

// protoClient is one protocol's client and how it reaches the site.
type protoClient struct {
	name   string
	base   string
	client *http.Client
	major  int // the protocol the response must arrive in
}

// protoResult is what the client received.
type protoResult struct {
	status  int
	header  []string
	trailer []string
	body    string
}

func (c protoClient) get(t *testing.T, path string) protoResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("%s GET %s: %v", c.name, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s GET %s: reading body: %v", c.name, path, err)
	}
	if resp.ProtoMajor != c.major {
		t.Fatalf("%s GET %s: arrived over %s", c.name, path, resp.Proto)
	}
	return protoResult{resp.StatusCode, resp.Header.Values("Set-Cookie"), resp.Trailer.Values("Set-Cookie"), string(body)}
}

// protoCase is one path and what every client must receive. h3 is what
// HTTP/3 delivers where it differs from net/http's servers.
type protoCase struct {
	path string
	want protoResult
	h3   *protoResult
}

var protoCases = []protoCase{
	// net/http sends the header map as it was at WriteHeader: b, added
	// later, is dropped. HTTP/3 sends it, and it must be rewritten.
	{"/app/late", protoResult{200, []string{protoRewriteA, protoUnmatched}, nil, "late body"},
		&protoResult{200, []string{protoRewriteA, protoUnmatched, protoRewriteB}, nil, "late body"}},
	{"/app/late-flush", protoResult{200, nil, nil, "flushed body"},
		&protoResult{200, []string{protoRewriteB}, nil, "flushed body"}},
	{"/app/late-nobody", protoResult{202, []string{protoRewriteA}, nil, ""},
		&protoResult{202, []string{protoRewriteA, protoRewriteB}, nil, ""}},
	{"/app/big", protoResult{200, []string{protoRewriteA}, nil, strings.Repeat("x", 8<<10)}, nil},
	// Set-Cookie as a trailer reaches the client rewritten on every
	// protocol; the unmatched trailer field byte for byte.
	{"/up/trailer-declared", protoResult{200, nil, []string{protoRewriteB}, "body"}, nil},
	{"/up/trailer-prefix", protoResult{200, []string{protoRewriteA}, []string{protoRewriteB, protoUnmatched}, "body"}, nil},
}

// runProtoCases runs every case and the streaming check on one client.
func runProtoCases(t *testing.T, c protoClient, up *protoUpstream) {
	for _, tc := range protoCases {
		t.Run(c.name+tc.path, func(t *testing.T) {
			want := tc.want
			if c.major == 3 && tc.h3 != nil {
				want = *tc.h3
			}
			got := c.get(t, tc.path)
			if got.status != want.status || !equalStrings(got.header, want.header) ||
				!equalStrings(got.trailer, want.trailer) || got.body != want.body {
				t.Errorf("got  status %d Set-Cookie %q trailer %q body %.40q\nwant status %d Set-Cookie %q trailer %q body %.40q",
					got.status, got.header, got.trailer, got.body, want.status, want.header, want.trailer, want.body)
			}
		})
	}
	t.Run(c.name+"/up/stream", func(t *testing.T) {
		// The first chunk must reach the client before the upstream writes
		// the second: the wrapper does not buffer, and the headers it
		// rewrote went out with that chunk.
		id := c.name
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/up/stream?id="+id, nil)
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if got, want := resp.Header.Values("Set-Cookie"), []string{protoRewriteA, protoUnmatched}; !equalStrings(got, want) {
			t.Errorf("Set-Cookie %q, want %q", got, want)
		}
		br := bufio.NewReader(resp.Body)
		if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
			t.Fatalf("first chunk %q, %v", line, err)
		}
		close(up.release(id))
		if rest, err := io.ReadAll(br); err != nil || string(rest) != "second\n" {
			t.Fatalf("rest %q, %v", rest, err)
		}
	})
}

// TestProtocolsPlain runs the cases over HTTP/1.1 and HTTP/2 over h2c.
func TestProtocolsPlain(t *testing.T) {
	up := newProtoUpstream(t)
	addr := testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.GlobalOptions("\tservers {\n\t\tprotocols h1 h2c\n\t}\n")+
		protoSite("http", addr, "", up.addr()))

	h1 := &http.Transport{}
	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(h1.CloseIdleConnections)
	t.Cleanup(h2c.CloseIdleConnections)
	for _, c := range []protoClient{
		{"h1", "http://" + addr, &http.Client{Transport: h1}, 1},
		{"h2c", "http://" + addr, &http.Client{Transport: h2c}, 2},
	} {
		runProtoCases(t, c, up)
	}
}

// TestHTTP3CookieAfterShortWrite adds a cookie after a first Write that
// quic-go holds in its 4 KiB small-response buffer. quic-go encodes the
// header map only when the buffer overflows, at a flush, or when the
// handler returns, so the cookie reaches an HTTP/3 client and must be
// rewritten like every other; net/http drops it (its HTTP/2 server
// snapshots the map at WriteHeader). Two cases: the handler returns next
// (the map goes out after the handler), or a long Write follows (the map
// goes out with it): in both the cookie must arrive with the HttpOnly the
// policy adds.
func TestHTTP3CookieAfterShortWrite(t *testing.T) {
	addr := testcaddy.FreeAddr(t)
	protoStartTLS(t, protoSite("https", addr, "tls internal", "127.0.0.1:9"), addr)
	insecure := &tls.Config{InsecureSkipVerify: true}
	h2 := &http.Transport{TLSClientConfig: insecure, Protocols: new(http.Protocols)}
	h2.Protocols.SetHTTP2(true)
	h3 := &http3.Transport{TLSClientConfig: insecure}
	t.Cleanup(h2.CloseIdleConnections)
	t.Cleanup(func() { h3.Close() })
	for _, tc := range []struct {
		c          protoClient
		path, body string
		want       []string
	}{
		{protoClient{"h2", "https://" + addr, &http.Client{Transport: h2}, 2}, "/app/after-write", "short body", []string{protoRewriteA}},
		{protoClient{"h3", "https://" + addr, &http.Client{Transport: h3}, 3}, "/app/after-write", "short body", []string{protoRewriteA, protoRewriteB}},
		{protoClient{"h2", "https://" + addr, &http.Client{Transport: h2}, 2}, "/app/between-writes", "short " + strings.Repeat("y", 8<<10), []string{protoRewriteA}},
		{protoClient{"h3", "https://" + addr, &http.Client{Transport: h3}, 3}, "/app/between-writes", "short " + strings.Repeat("y", 8<<10), []string{protoRewriteA, protoRewriteB}},
	} {
		got := tc.c.get(t, tc.path)
		if got.status != 200 || got.body != tc.body || !equalStrings(got.header, tc.want) {
			t.Errorf("%s %s: got status %d Set-Cookie %q body %.20q; want 200 %q %.20q", tc.c.name, tc.path, got.status, got.header, got.body, tc.want, tc.body)
		}
	}
}

// TestProtocolsTLS runs the cases over HTTP/2 over TLS and HTTP/3, served
// by one Caddy with a `tls internal` certificate.
func TestProtocolsTLS(t *testing.T) {
	up := newProtoUpstream(t)
	addr := testcaddy.FreeAddr(t)
	protoStartTLS(t, protoSite("https", addr, "tls internal", up.addr()), addr)

	insecure := &tls.Config{InsecureSkipVerify: true} // a throwaway CA nobody trusts
	h2 := &http.Transport{TLSClientConfig: insecure, Protocols: new(http.Protocols)}
	h2.Protocols.SetHTTP2(true)
	h3 := &http3.Transport{TLSClientConfig: insecure}
	t.Cleanup(h2.CloseIdleConnections)
	t.Cleanup(func() { h3.Close() })
	for _, c := range []protoClient{
		{"h2", "https://" + addr, &http.Client{Transport: h2}, 2},
		{"h3", "https://" + addr, &http.Client{Transport: h3}, 3},
	} {
		runProtoCases(t, c, up)
	}
}

// protoStartTLS runs sites with `tls internal` over HTTP/1.1, HTTP/2 and
// HTTP/3 and returns once addr completes a TLS handshake. The local CA
// lives in a directory removed after the test and is never installed in a
// trust store; no redirect server binds port 80; the TLS app's storage
// cleaning, which the Caddyfile cannot turn off, is turned off in the JSON,
// since it writes into the storage directory while the test removes it.
func protoStartTLS(t *testing.T, sites, addr string) {
	t.Helper()
	globals := testcaddy.GlobalOptions(fmt.Sprintf(`	local_certs
	skip_install_trust
	auto_https disable_redirects
	storage file_system %s
	servers {
		protocols h1 h2 h3
	}
`, strconv.Quote(t.TempDir())))
	cfg, err := testcaddy.Adapt(globals+sites, "Caddyfile")
	if err != nil {
		t.Fatalf("adapting Caddyfile: %v\n%s", err, globals+sites)
	}
	var c map[string]any
	d := json.NewDecoder(bytes.NewReader(cfg))
	d.UseNumber()
	if err := d.Decode(&c); err != nil {
		t.Fatal(err)
	}
	apps := c["apps"].(map[string]any)
	tlsApp, _ := apps["tls"].(map[string]any)
	if tlsApp == nil {
		tlsApp = map[string]any{}
		apps["tls"] = tlsApp
	}
	tlsApp["disable_storage_clean"] = true
	if cfg, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	testcaddy.LoadJSON(t, cfg)
	protoWaitTLS(t, addr)
}

// protoWaitTLS waits, at most a minute, until addr completes a TLS handshake
// with a certificate for its host: Caddy accepts connections before its
// `tls internal` certificate exists and aborts those handshakes.
func protoWaitTLS(t *testing.T, addr string) {
	t.Helper()
	host, _, _ := net.SplitHostPort(addr)
	deadline := time.Now().Add(time.Minute)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr,
			&tls.Config{InsecureSkipVerify: true, ServerName: host})
		if err == nil {
			certs := conn.ConnectionState().PeerCertificates
			conn.Close()
			if len(certs) > 0 {
				if err = certs[0].VerifyHostname(host); err == nil {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS handshake with %s within a minute: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var _ caddyhttp.MiddlewareHandler = protoApp{}
