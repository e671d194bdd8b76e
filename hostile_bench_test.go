package cookienormalizer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// hostileHandler parses a cookie_normalizer directive and provisions the
// handler, as Caddy does at load.
func hostileHandler(tb testing.TB, directive string) (*Handler, error) {
	tb.Helper()
	h := new(Handler)
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(directive)); err != nil {
		return nil, err
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	tb.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		return nil, err
	}
	// As in production: info level, so the debug line per cookie is
	// checked and skipped; output discarded.
	h.setLogger(zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.InfoLevel)))
	return h, h.Validate()
}

// hostileFields returns n Set-Cookie fields of the hostile mix: a quarter
// matched and rewritten, a quarter unmatched, a quarter without '=', a
// quarter with a control byte in a matched name's value.
func hostileFields(n int) []string {
	out := make([]string, n)
	for i := range out {
		switch i % 4 {
		case 0:
			out[i] = fmt.Sprintf("m%04d=v%d; Max-Age=5; Path=/", i, i)
		case 1:
			out[i] = fmt.Sprintf("u%04d=v%d; Max-Age=5; Path=/", i, i)
		case 2:
			out[i] = fmt.Sprintf("m%04d; Max-Age=5", i)
		default:
			out[i] = fmt.Sprintf("m%04d=a\x01b; Max-Age=5", i)
		}
	}
	return out
}

// hostileRecorder keeps only the status, and reuses its header map.
type hostileRecorder struct {
	header http.Header
	status int
}

func (r *hostileRecorder) Header() http.Header { return r.header }

func (r *hostileRecorder) WriteHeader(status int) { r.status = status }

func (r *hostileRecorder) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkHostileFields times the whole handler (wrapper, rewrite of
// every field, release) on responses of 10, 100 and 1,000 fields of the
// hostile mix under the hostile tests' policy, and reports ns/field: a
// flat ns/field is time linear in the header size. The upstream copies the
// fields into the header map on every iteration, as reverse_proxy does;
// the "copy-only" runs time that copy alone.
func BenchmarkHostileFields(b *testing.B) {
	h, err := hostileHandler(b, hostilePolicy)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	for _, n := range []int{10, 100, 1000} {
		src := hostileFields(n)
		for _, copyOnly := range []bool{false, true} {
			name := strconv.Itoa(n)
			if copyOnly {
				name += "/copy-only"
			}
			b.Run(name, func(b *testing.B) {
				rec := &hostileRecorder{header: http.Header{}}
				buf := make([]string, 0, n)
				next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
					w.Header()["Set-Cookie"] = append(buf[:0], src...)
					w.WriteHeader(http.StatusOK)
					return nil
				})
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if copyOnly {
						err = next.ServeHTTP(rec, req)
					} else {
						err = h.ServeHTTP(rec, req, next)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/field")
			})
		}
	}
}

// BenchmarkHostileCookieHeader times on_partial expire reading a 64 KiB
// Cookie header of 1,000 cookies, on a response without Set-Cookie.
func BenchmarkHostileCookieHeader(b *testing.B) {
	h, err := hostileHandler(b, hostilePolicy)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	name, value, _ := cutHeaderLine(hostileCookieHeader())
	req.Header.Set(name, value)
	rec := &hostileRecorder{header: http.Header{}}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		delete(w.Header(), "Set-Cookie")
		w.WriteHeader(http.StatusOK)
		return nil
	})
	b.ReportAllocs()
	for b.Loop() {
		if err := h.ServeHTTP(rec, req, next); err != nil {
			b.Fatal(err)
		}
	}
	if got := rec.header["Set-Cookie"]; len(got) != 1 {
		b.Fatalf("Set-Cookie %q, want the deletion of p1", got)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(value)), "ns/byte")
}

// cutHeaderLine splits "Name: value".
func cutHeaderLine(line string) (string, string, bool) {
	for i := 0; i+1 < len(line); i++ {
		if line[i] == ':' && line[i+1] == ' ' {
			return line[:i], line[i+2:], true
		}
	}
	return "", "", false
}

// BenchmarkPlacedFields times the whole handler on responses of 10, 100
// and 1,000 fields under a path policy, every other one a field the
// module passes unchanged that some engine reads as a deletion (a tab
// after Max-Age=0), each for its own name, so that each gets a placed
// deletion: a flat ns/field is time linear in the header size.
func BenchmarkPlacedFields(b *testing.B) {
	h, err := hostileHandler(b, "cookie_normalizer {\n\tgroup {\n\t\tcookies c*\n\t\tpath /\n\t}\n}")
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/app/page", nil)
	for _, n := range []int{10, 100, 1000} {
		src := make([]string, n)
		for i := range src {
			src[i] = fmt.Sprintf("c%d=v; Path=/", i)
			if i%2 == 0 {
				src[i] = fmt.Sprintf("c%d=; Max-Age=0\t; Max-Age=3600; Path=/app", i)
			}
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			rec := &hostileRecorder{header: http.Header{}}
			buf := make([]string, 0, 2*n)
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
				w.Header()["Set-Cookie"] = append(buf[:0], src...)
				w.WriteHeader(http.StatusOK)
				return nil
			})
			b.ReportAllocs()
			for b.Loop() {
				if err := h.ServeHTTP(rec, req, next); err != nil {
					b.Fatal(err)
				}
			}
			if got := len(rec.header["Set-Cookie"]); got != n+n/2 {
				b.Fatalf("%d fields, want %d (the app's and a placed deletion for every other one)", got, n+n/2)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/field")
		})
	}
}
