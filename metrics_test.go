package cookienormalizer

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestMetricsShared provisions two handlers in one config load: they share
// the collector of that load's registry, and both count into it.
func TestMetricsShared(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	var handlers [2]*Handler
	for i := range handlers {
		h, err := provisionJSONWith(ctx, `{"groups":[{"label":"login","cookies":["a"],"expire":{"mode":"session"}}]}`)
		if err != nil {
			t.Fatal(err)
		}
		handlers[i] = h
	}
	for _, h := range handlers {
		h.norm.rewrite([]string{"a=1; Max-Age=5"}, testDate, h, nil)
	}
	got := countersOf(t, ctx)
	want := []string{"action=rewritten,group=login,report_only=false 2"}
	if !equalStrings(got, want) {
		t.Errorf("counters %q, want %q", got, want)
	}
}

// provisionJSONWith provisions a handler from JSON in ctx.
func provisionJSONWith(ctx caddy.Context, js string) (*Handler, error) {
	var h Handler
	if err := json.Unmarshal([]byte(js), &h); err != nil {
		return nil, err
	}
	return &h, h.Provision(ctx)
}
