package cookienormalizer

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// TestInServerErrorRoutesWalk: the module is found among a server's error
// routes through subroutes and the named routes `invoke` runs, also when
// named routes invoke each other in a loop (the walk ends), and not when
// it is only in the server's ordinary routes or a route nothing invokes.
func TestInServerErrorRoutesWalk(t *testing.T) {
	h, other := &Handler{}, &Handler{}
	invoke := func(name string) caddyhttp.Route {
		return caddyhttp.Route{Handlers: []caddyhttp.MiddlewareHandler{&caddyhttp.Invoke{Name: name}}}
	}
	holding := caddyhttp.Route{Handlers: []caddyhttp.MiddlewareHandler{other, h}}
	sub := func(routes ...caddyhttp.Route) caddyhttp.Route {
		return caddyhttp.Route{Handlers: []caddyhttp.MiddlewareHandler{&caddyhttp.Subroute{Routes: routes}}}
	}
	loopA, loopB := invoke("loop-b"), invoke("loop-a")
	for _, tc := range []struct {
		name   string
		errors caddyhttp.RouteList
		named  map[string]*caddyhttp.Route
		want   bool
	}{
		{"directly", caddyhttp.RouteList{holding}, nil, true},
		{"in a subroute", caddyhttp.RouteList{sub(sub(holding))}, nil, true},
		{"in an invoked named route", caddyhttp.RouteList{sub(invoke("page"))}, map[string]*caddyhttp.Route{"page": &holding}, true},
		{"through two named routes", caddyhttp.RouteList{invoke("a")}, map[string]*caddyhttp.Route{"a": new(sub(invoke("b"))), "b": &holding}, true},
		{"named routes in a loop, then the module", caddyhttp.RouteList{invoke("loop-a"), holding}, map[string]*caddyhttp.Route{"loop-a": &loopA, "loop-b": &loopB}, true},
		{"named routes in a loop", caddyhttp.RouteList{invoke("loop-a")}, map[string]*caddyhttp.Route{"loop-a": &loopA, "loop-b": &loopB, "page": &holding}, false},
		{"a named route nothing invokes", caddyhttp.RouteList{invoke("none")}, map[string]*caddyhttp.Route{"page": &holding}, false},
		{"another handler only", caddyhttp.RouteList{{Handlers: []caddyhttp.MiddlewareHandler{other}}}, nil, false},
	} {
		srv := &caddyhttp.Server{Errors: &caddyhttp.HTTPErrorConfig{Routes: tc.errors}, NamedRoutes: tc.named}
		r := httptest.NewRequest("GET", "/", nil)
		r = r.WithContext(context.WithValue(r.Context(), caddyhttp.ServerCtxKey, srv))
		if got := inServerErrorRoutes(r, h); got != tc.want {
			t.Errorf("%s: inServerErrorRoutes = %v, want %v", tc.name, got, tc.want)
		}
	}
}
