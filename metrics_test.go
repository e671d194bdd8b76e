package cookienormalizer

import (
	"context"
	"encoding/json"
	"slices"
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

// TestMetricsSeriesPerGroup: each group exports, from the load on, a
// series for each action it can take, and none for a consistency rule it
// does not have, nor "deletion placed" without a path or domain policy.
func TestMetricsSeriesPerGroup(t *testing.T) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if _, err := provisionJSONWith(ctx, `{"groups":[
		{"label":"plain","cookies":["a"],"expire":{"mode":"session"}},
		{"label":"consistent","cookies":["b","c"],"on_delete":"cascade","on_partial":"expire"},
		{"label":"sliding","cookies":["d"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","domain":"remove","slide":{"interval":"1m"}},
		{"label":"placed","cookies":["e"],"path":"/app"}]}`); err != nil {
		t.Fatal(err)
	}
	families, err := ctx.GetMetricsRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string][]string{}
	for _, mf := range families {
		if mf.GetName() != "caddy_http_cookie_normalizer_cookies_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			series[labels["group"]] = append(series[labels["group"]], labels["action"])
		}
	}
	rewrite := []string{"deletion kept", "passed invalid", "edit skipped", "rewritten", "unchanged"}
	for group, want := range map[string][]string{
		"plain":      rewrite,
		"consistent": append([]string{"cascaded", "cascade withheld", "partial expired"}, rewrite...),
		"sliding":    append(slices.Clone(rewrite), "deletion placed", "reissued", "stamp deleted", "stamp set"),
		"placed":     append(slices.Clone(rewrite), "deletion placed"),
	} {
		got := series[group]
		slices.Sort(got)
		slices.Sort(want)
		if !equalStrings(got, want) {
			t.Errorf("group %s exports %q, want %q", group, got, want)
		}
	}
}
