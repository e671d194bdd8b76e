package testcaddy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

// TLSGlobals returns a global options block for sites served over HTTPS
// with `tls internal` certificates: Caddy's local CA lives in a directory
// that is removed when the test ends (so no test run leaves a CA behind or
// reuses one), the CA is never installed in the system trust store, and no
// plain-HTTP redirect server is started (it would bind port 80). Only
// HTTP/1.1 and HTTP/2 are served, so Caddy binds no UDP port.
//
// Clients must skip certificate verification: the CA is made afresh for
// each test and trusted by nobody.
func TLSGlobals(tb testing.TB) string {
	tb.Helper()
	return GlobalOptions(tlsOptions(tb.TempDir()))
}

func tlsOptions(storageDir string) string {
	return fmt.Sprintf(`	local_certs
	skip_install_trust
	auto_https disable_redirects
	storage file_system %s
	servers {
		protocols h1 h2
	}
`, strconv.Quote(storageDir))
}

// StartTLS runs sites (Caddyfile site blocks served with `tls internal`,
// without a global options block) under TLSGlobals until the test ends,
// and returns once addr (host:port, one of the sites' addresses) completes
// a TLS handshake.
func StartTLS(tb testing.TB, sites, addr string) {
	tb.Helper()
	Start(tb, TLSGlobals(tb)+sites)
	WaitTLS(tb, addr)
}

// tlsWait bounds WaitTLS: Caddy makes a certificate in milliseconds;
// a minute is for a machine loaded by the other packages' tests.
const tlsWait = time.Minute

// WaitTLS waits until addr (127.0.0.1:port) completes a TLS handshake with
// a certificate for its host, and fails the test after tlsWait. Caddy
// accepts connections before its `tls internal` certificate exists and
// aborts those handshakes, so a successful connect is not enough.
func WaitTLS(tb testing.TB, addr string) {
	tb.Helper()
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), tlsWait)
	defer cancel()
	for {
		err = handshake(ctx, addr, host)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("no TLS handshake with %s within %s: %v", addr, tlsWait, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func handshake(ctx context.Context, addr, host string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{
		// The CA is throwaway; the leaf's name is checked below.
		InsecureSkipVerify: true,
		ServerName:         host,
	}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return fmt.Errorf("no certificate")
	}
	return certs[0].VerifyHostname(host)
}
