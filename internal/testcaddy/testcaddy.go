// Package testcaddy runs Caddy inside a test process, on free loopback
// ports, from a Caddyfile. Unlike caddytest it uses no fixed ports and no
// admin endpoint, so test packages can run at the same time, and it fails
// the test (never skips it) when Caddy does not start.
//
// The caller imports the modules it needs (the standard ones come with this
// package; the cookie_normalizer module with a blank import of the project,
// or from the package under test).
package testcaddy

import (
	"bytes"
	"encoding/json"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile" // the caddyfile adapter
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

// Globals is a global options block for tests: no admin endpoint, no
// automatic HTTPS, no config written to disk, only errors logged.
var Globals = GlobalOptions("")

// GlobalOptions returns the global options block of Globals with extra
// options (Caddyfile lines, each ending in a newline) added.
func GlobalOptions(extra string) string {
	return `{
	admin off
	persist_config off
	auto_https off
	log {
		level ERROR
	}
` + extra + `}
`
}

// running serialises Caddy instances: Caddy has one running config per
// process.
var running sync.Mutex

// Adapt turns a Caddyfile into Caddy's JSON config, as `caddy adapt` does.
// filename names the file in error messages.
func Adapt(caddyfile, filename string) ([]byte, error) {
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": filename})
	return cfg, err
}

// Start adapts caddyfile and runs it until the test ends, with the TLS
// app's storage cleaning turned off (see withoutStorageCleaning). Tests
// that call it must not run in parallel with each other.
func Start(tb testing.TB, caddyfile string) {
	tb.Helper()
	cfg, err := Adapt(caddyfile, "Caddyfile")
	if err == nil {
		cfg, err = withoutStorageCleaning(cfg)
	}
	if err != nil {
		tb.Fatalf("adapting Caddyfile: %v\n%s", err, caddyfile)
	}
	LoadJSON(tb, cfg)
}

// withoutStorageCleaning turns off the TLS app's storage cleaning, which
// the Caddyfile cannot. The http app loads the TLS app even with
// auto_https off, and the cleaning then runs in the background from the
// start: it writes into the storage directory while a test may be
// removing it, and records an instance ID in Caddy's data directory under
// the user's home (~/.local/share/caddy) whatever the storage option says.
func withoutStorageCleaning(cfg []byte) ([]byte, error) {
	var c map[string]any
	d := json.NewDecoder(bytes.NewReader(cfg))
	d.UseNumber() // durations in nanoseconds need all their digits
	if err := d.Decode(&c); err != nil {
		return nil, err
	}
	apps, _ := c["apps"].(map[string]any)
	if apps == nil {
		return cfg, nil // no apps, no TLS app
	}
	tlsApp, _ := apps["tls"].(map[string]any)
	if tlsApp == nil {
		tlsApp = map[string]any{}
		apps["tls"] = tlsApp
	}
	tlsApp["disable_storage_clean"] = true
	return json.Marshal(c)
}

// LoadJSON runs a JSON config until the test ends.
func LoadJSON(tb testing.TB, cfg []byte) {
	tb.Helper()
	running.Lock()
	if err := caddy.Load(cfg, true); err != nil {
		running.Unlock()
		tb.Fatalf("starting Caddy: %v\n%s", err, cfg)
	}
	tb.Cleanup(func() {
		defer running.Unlock()
		if err := caddy.Stop(); err != nil {
			tb.Errorf("stopping Caddy: %v", err)
		}
	})
}

// handedOut holds the addresses FreeAddr returned: a port it found free
// and closed again may be found free again by the next call, and two
// sites of one config on one address make the config ambiguous (a CI
// run met it).
var handedOut struct {
	sync.Mutex
	addrs map[string]bool
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago, and that no earlier call of this process returned.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.addrs == nil {
		handedOut.addrs = map[string]bool{}
	}
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr
		}
	}
}
