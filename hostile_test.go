package cookienormalizer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// These tests put a hostile upstream and hostile clients in front of a real
// Caddy with three sites: reverse_proxy with the module, the same
// reverse_proxy without it, and the module in front of a test-only handler
// that hands it the upstream's fields directly. The third is needed
// because Caddy's proxy transport (Go's HTTP/1.1 client) refuses a
// response with a control byte other than HTAB in a field (a 502 with or
// without the module), so through reverse_proxy such bytes never reach the
// module; other Caddy handlers can still set them. The module may change
// only matched, well-formed fields; it must never turn a response into a
// 5xx the bare proxy does not give, and must answer within a bounded time.
// The upstream and the client speak raw HTTP/1.1 over TCP, so that every
// byte (control bytes, invalid UTF-8, a body cut short) is the test's, not
// what a Go client or server would let through.

func init() {
	caddy.RegisterModule(hostileApp{})
	httpcaddyfile.RegisterHandlerDirective("cookie_normalizer_test_fields", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		h.Next()
		if h.NextArg() {
			return nil, h.ArgErr()
		}
		return new(hostileApp), nil
	})
}

// hostileDirect holds the responses hostileApp writes, by path. It is
// filled before Caddy starts and only read while it runs.
var hostileDirect map[string]hostileResponse

// hostileApp is a test-only Caddy handler that writes the registered
// response for the request's path: its status, its Set-Cookie fields byte
// for byte, its body; a cut response promises more body than it writes
// and aborts, as reverse_proxy does when its upstream goes away.
type hostileApp struct{}

// CaddyModule returns the Caddy module information.
func (hostileApp) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cookie_normalizer_test_fields",
		New: func() caddy.Module { return new(hostileApp) },
	}
}

// ServeHTTP writes the response registered for the path.
func (hostileApp) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	resp, ok := hostileDirect[r.URL.Path]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}
	status, _ := strconv.Atoi(strings.Fields(resp.status)[0])
	w.Header()["Set-Cookie"] = append([]string(nil), resp.cookies...)
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return nil
	}
	length := len(resp.body)
	if resp.cut {
		length += 100
	}
	w.Header().Set("Content-Length", strconv.Itoa(length))
	w.WriteHeader(status)
	io.WriteString(w, resp.body)
	if resp.cut {
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	return nil
}

// hostilePolicy rewrites the m* cookies (no clock involved, so every
// expected byte is a constant) and deletes p1 when a request carries p1
// without p2.
const hostilePolicy = `cookie_normalizer {
		group app {
			cookies m*
			expire session
			httponly on
		}
		group login {
			cookies p1 p2
			on_partial expire
		}
	}`

// hostileTimeout bounds every exchange with Caddy.
const hostileTimeout = 10 * time.Second

// hostileResponse is a raw upstream response: status line and fields as
// written, then the body; cut closes the connection after the body
// without finishing it (Content-Length promises more).
type hostileResponse struct {
	status  string
	cookies []string
	extra   string // further header lines, each ending in \r\n
	body    string
	cut     bool
}

// hostileUpstream answers each request from the response registered for
// its path, then closes the connection.
func hostileUpstream(t *testing.T, routes map[string]hostileResponse) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(hostileTimeout))
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				resp, ok := routes[req.URL.Path]
				if !ok {
					resp = hostileResponse{status: "404 Not Found"}
				}
				var b bytes.Buffer
				fmt.Fprintf(&b, "HTTP/1.1 %s\r\nConnection: close\r\n", resp.status)
				for _, c := range resp.cookies {
					b.WriteString("Set-Cookie: " + c + "\r\n")
				}
				b.WriteString(resp.extra)
				length := len(resp.body)
				if resp.cut {
					length += 100
				}
				if !strings.Contains(resp.extra, "Content-Length") {
					fmt.Fprintf(&b, "Content-Length: %d\r\n", length)
				}
				b.WriteString("\r\n")
				if req.Method != http.MethodHead {
					b.WriteString(resp.body)
				}
				conn.Write(b.Bytes())
			}()
		}
	}()
	return l.Addr().String()
}

// rawResponse is what the raw client read.
type rawResponse struct {
	status  int
	cookies []string // Set-Cookie values, exactly as on the wire
	body    string
	length  int   // Content-Length, or -1
	err     error // reading or decoding the body
	elapsed time.Duration
}

// rawGet sends one request with Connection: close and reads everything
// until Caddy closes, within hostileTimeout.
func rawGet(t *testing.T, addr, method, path string, headers ...string) rawResponse {
	t.Helper()
	start := time.Now()
	conn, err := net.DialTimeout("tcp", addr, hostileTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(start.Add(hostileTimeout))
	req := method + " " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	all, readErr := io.ReadAll(conn)
	r := rawResponse{elapsed: time.Since(start), length: -1}
	head, body, ok := bytes.Cut(all, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("%s %s: no complete response head (%v) in %q", method, path, readErr, clipBytes(all))
	}
	lines := strings.Split(string(head), "\r\n")
	if f := strings.Fields(lines[0]); len(f) >= 2 {
		r.status, _ = strconv.Atoi(f[1])
	}
	chunked := false
	for _, line := range lines[1:] {
		name, value, _ := strings.Cut(line, ":")
		switch {
		case strings.EqualFold(name, "Set-Cookie"):
			// net/http writes "Set-Cookie: " + value: one space.
			r.cookies = append(r.cookies, strings.TrimPrefix(value, " "))
		case strings.EqualFold(name, "Content-Length"):
			r.length, _ = strconv.Atoi(strings.TrimSpace(value))
		case strings.EqualFold(name, "Transfer-Encoding"):
			chunked = strings.Contains(value, "chunked")
		}
	}
	r.err = readErr
	if chunked {
		decoded, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(body)))
		body = decoded
		if err != nil {
			r.err = err
		}
	}
	r.body = string(body)
	return r
}

func clipBytes(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// hostileCase is one upstream response and what the client must receive
// through the module (want nil: what the upstream sent).
type hostileCase struct {
	path, method string
	resp         hostileResponse
	want         []string
	wantStatus   int
	wantBody     string
	cut          bool // the body ends early
}

func hostileCases() []hostileCase {
	// 1,000 fields: matched and well-formed ones are rewritten, every other
	// one passes byte for byte, in order.
	var many, manyWant []string
	for i := range 1000 {
		switch i % 4 {
		case 0:
			many = append(many, fmt.Sprintf("m%03d=v%d; Max-Age=5; Path=/", i, i))
			manyWant = append(manyWant, fmt.Sprintf("m%03d=v%d; Path=/; HttpOnly", i, i))
		case 1:
			many = append(many, fmt.Sprintf("u%03d=v%d; Max-Age=5; Path=/", i, i))
			manyWant = append(manyWant, many[i])
		case 2:
			many = append(many, fmt.Sprintf("m%03d; Max-Age=5", i)) // no '='
			manyWant = append(manyWant, many[i])
		case 3:
			many = append(many, fmt.Sprintf("=m%03d; Max-Age=5", i)) // empty name
			manyWant = append(manyWant, many[i])
		}
	}
	// The same with a control byte in every other field: Caddy's proxy
	// transport refuses it, so only the direct site shows the module.
	manyControl := append([]string(nil), many...)
	manyControlWant := append([]string(nil), manyWant...)
	for i := 1; i < len(manyControl); i += 2 {
		manyControl[i] = fmt.Sprintf("m%03d=a\x01b; Max-Age=5", i)
		manyControlWant[i] = manyControl[i]
	}
	big := strings.Repeat("x", 64<<10)
	ok := "200 OK"
	return []hostileCase{
		{path: "/many", resp: hostileResponse{status: ok, cookies: many, body: "many"}, want: manyWant, wantStatus: 200, wantBody: "many"},
		{path: "/many-control", resp: hostileResponse{status: ok, cookies: manyControl, body: "many"}, want: manyControlWant, wantStatus: 200, wantBody: "many"},
		{path: "/big", resp: hostileResponse{status: ok, cookies: []string{
			"m1=" + big + "; Max-Age=5", // over 8 KiB: browsers do not store it as sent; passes
			"u1=" + big,
			"m2=x; Max-Age=5",
			"m3=x; Path=" + big, // the field is over 8 KiB: passes
		}, body: "big"}, want: []string{
			"m1=" + big + "; Max-Age=5",
			"u1=" + big,
			"m2=x; HttpOnly",
			"m3=x; Path=" + big,
		}, wantStatus: 200, wantBody: "big"},
		{path: "/control", resp: hostileResponse{status: ok, cookies: []string{
			"m1=a\x01b; Max-Age=5",
			"m2=a\x7f; Max-Age=5",
			"m3=a\tb; Max-Age=5", // HTAB: libsoup stops reading at it; passes
			"m4=x; Path=/\x02; Max-Age=5",
			"m5=x; Max-Age=5\x1b",
			"u1=\x01",
		}, body: "control"}, want: []string{
			"m1=a\x01b; Max-Age=5",
			"m2=a\x7f; Max-Age=5",
			"m3=a\tb; Max-Age=5",
			"m4=x; Path=/\x02; Max-Age=5",
			"m5=x; Max-Age=5\x1b",
			"u1=\x01",
		}, wantStatus: 200, wantBody: "control"},
		{path: "/utf8", resp: hostileResponse{status: ok, cookies: []string{
			"m1=\xff\xfe; Max-Age=5",
			"m\xc3(=1; Max-Age=5; Path=/\xe2\x82",
			"u\xff=1; Max-Age=5",
			"\xff=1; Max-Age=5",
		}, body: "utf8"}, want: []string{
			// libsoup ends a name or value at a byte over 0x7f, as at a
			// control byte (it compares a signed char with ' '), where
			// Chromium and Firefox read on: such fields pass.
			"m1=\xff\xfe; Max-Age=5",
			"m\xc3(=1; Max-Age=5; Path=/\xe2\x82",
			"u\xff=1; Max-Age=5",
			"\xff=1; Max-Age=5",
		}, wantStatus: 200, wantBody: "utf8"},
		{path: "/noname", resp: hostileResponse{status: ok, cookies: []string{
			"m1; Max-Age=5",
			"m1",
			"; m1=2; Max-Age=5",
			"=m1; Max-Age=5",
			"=; Max-Age=5",
			"m1 ; =x",
			";;;",
		}, body: "noname"}, want: nil, wantStatus: 200, wantBody: "noname"},
		{path: "/dup", resp: hostileResponse{status: ok, cookies: []string{
			"m1=a; Max-Age=5",
			"m1=b; Max-Age=6; Path=/x",
			"m1=; Max-Age=0",
			"m1=c; HttpOnly; httponly; Max-Age=7",
		}, body: "dup"}, want: []string{
			"m1=a; HttpOnly",
			"m1=b; Path=/x; HttpOnly",
			"m1=; Max-Age=0; HttpOnly", // a deletion: expiry kept, attributes applied
			"m1=c; HttpOnly; httponly",
		}, wantStatus: 200, wantBody: "dup"},
		{path: "/cut", resp: hostileResponse{status: ok, cookies: []string{"m1=x; Max-Age=5"}, body: "partial", cut: true},
			want: []string{"m1=x; HttpOnly"}, wantStatus: 200, wantBody: "partial", cut: true},
		{path: "/5xx", resp: hostileResponse{status: "503 Service Unavailable", cookies: []string{"m1=x; Max-Age=5", "u1=y; Max-Age=5"}, body: "down"},
			want: []string{"m1=x; HttpOnly", "u1=y; Max-Age=5"}, wantStatus: 503, wantBody: "down"},
		{path: "/head", method: http.MethodHead, resp: hostileResponse{status: ok, cookies: []string{"m1=x; Max-Age=5"}, body: "head body"},
			want: []string{"m1=x; HttpOnly"}, wantStatus: 200, wantBody: ""},
		{path: "/304", resp: hostileResponse{status: "304 Not Modified", cookies: []string{"m1=x; Max-Age=5", "u1=y; Max-Age=5"}, extra: "ETag: \"1\"\r\nContent-Length: 0\r\n"},
			want: []string{"m1=x; HttpOnly", "u1=y; Max-Age=5"}, wantStatus: 304, wantBody: ""},
	}
}

// hostileCookieHeader is a 64 KiB Cookie header of 1,000 cookies that
// holds p1 but not p2, so that on_partial expire deletes p1.
func hostileCookieHeader() string {
	var b strings.Builder
	b.WriteString("Cookie: ")
	value := strings.Repeat("v", 60)
	for i := range 999 {
		fmt.Fprintf(&b, "c%03d=%s; ", i, value)
	}
	b.WriteString("p1=1")
	for b.Len() < 64<<10 {
		b.WriteString("; pad=x")
	}
	return b.String()
}

// TestHostileUpstream runs every hostile response through the three sites.
func TestHostileUpstream(t *testing.T) {
	cases := hostileCases()
	routes := map[string]hostileResponse{"/page": {status: "200 OK", body: "page"}}
	for _, c := range cases {
		routes[c.path] = c.resp
	}
	hostileDirect = routes
	upstream := hostileUpstream(t, routes)
	norm, bare, direct := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
	// Caddy's default max_header_size is 16 KiB; the 64 KiB Cookie header
	// needs more.
	testcaddy.Start(t, testcaddy.GlobalOptions("\tservers {\n\t\tprotocols h1\n\t\tmax_header_size 1MB\n\t}\n")+fmt.Sprintf(`
http://%[1]s {
	bind 127.0.0.1
	%[4]s
	reverse_proxy %[5]s
}

http://%[2]s {
	bind 127.0.0.1
	reverse_proxy %[5]s
}

http://%[3]s {
	bind 127.0.0.1
	%[4]s
	route {
		cookie_normalizer_test_fields
	}
}
`, norm, bare, direct, hostilePolicy, upstream))

	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			want := c.want
			if want == nil {
				want = c.resp.cookies
			}
			check := func(site string, got rawResponse) {
				t.Helper()
				if got.status != c.wantStatus {
					t.Errorf("%s: status %d, want %d", site, got.status, c.wantStatus)
				}
				if !equalStrings(got.cookies, want) {
					for i := range max(len(got.cookies), len(want)) {
						var g, w string
						if i < len(got.cookies) {
							g = got.cookies[i]
						}
						if i < len(want) {
							w = want[i]
						}
						if g != w {
							t.Errorf("%s: Set-Cookie #%d:\n got  %.120q\n want %.120q", site, i, g, w)
						}
					}
					t.Fatalf("%s: got %d fields, want %d", site, len(got.cookies), len(want))
				}
				if got.body != c.wantBody {
					t.Errorf("%s: body %.60q, want %.60q", site, got.body, c.wantBody)
				}
				if c.cut && got.length <= len(got.body) {
					t.Errorf("%s: Content-Length %d for a cut body of %d bytes", site, got.length, len(got.body))
				}
				// 2 s is far above what 1,000 fields cost (microseconds);
				// it catches a super-linear path, not a slow machine.
				if got.elapsed > 2*time.Second {
					t.Errorf("%s: took %s", site, got.elapsed)
				}
			}

			check("module, direct", rawGet(t, direct, method, c.path))

			got := rawGet(t, norm, method, c.path)
			ref := rawGet(t, bare, method, c.path)
			if got.status != ref.status {
				t.Fatalf("through reverse_proxy: status %d, bare proxy %d", got.status, ref.status)
			}
			if ref.status == http.StatusBadGateway {
				// Caddy's transport refused the upstream's response: the
				// module never saw it, and the client gets the same 502.
				if !hostileHasControl(c.resp.cookies) {
					t.Errorf("the bare proxy gave 502 for a response without control bytes")
				}
				return
			}
			if !equalStrings(ref.cookies, c.resp.cookies) {
				t.Fatalf("the bare proxy changed the fields")
			}
			check("module, reverse_proxy", got)
		})
	}

	t.Run("64KiB Cookie header", func(t *testing.T) {
		cookie := hostileCookieHeader()
		if len(cookie) < 64<<10 {
			t.Fatalf("Cookie header of %d bytes", len(cookie))
		}
		want := []string{"p1=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"}
		for _, site := range []string{norm, direct} {
			got := rawGet(t, site, "GET", "/page", cookie)
			if got.status != 200 || got.body != "page" || !equalStrings(got.cookies, want) {
				t.Errorf("status %d, body %q, Set-Cookie %q; want 200, page, %q", got.status, got.body, got.cookies, want)
			}
			if got.elapsed > 2*time.Second {
				t.Errorf("took %s", got.elapsed)
			}
		}
		if ref := rawGet(t, bare, "GET", "/page", cookie); ref.status != 200 || len(ref.cookies) != 0 {
			t.Errorf("bare proxy: status %d, Set-Cookie %q", ref.status, ref.cookies)
		}
	})
}

// hostileHasControl reports whether a field holds a byte Go's HTTP/1.1
// parser refuses in a field value: a control byte other than HTAB.
func hostileHasControl(fields []string) bool {
	for _, f := range fields {
		for i := 0; i < len(f); i++ {
			if isControl(f[i]) {
				return true
			}
		}
	}
	return false
}
