// Command caddy is a Caddy binary with the standard modules and the
// cookie_normalizer handler, so the demo and the tests run from a checkout
// without xcaddy: go run ./cmd/caddy run --config Caddyfile.example
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// The standard Caddy modules, as in Caddy's own cmd/caddy.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/cookie-normalizer/caddy-cookie-normalizer"
)

func main() {
	caddycmd.Main()
}
