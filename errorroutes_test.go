package cookienormalizer

import (
	"context"
	"fmt"
	"io"
	"net/http"
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

// TestFailedErrorRouteStatus: when an error route fails in turn, Caddy
// writes the status of the error the routes were answering if it is a
// HandlerError (asserted, not unwrapped), else 500; the final rewrite
// reads that status (slide re-issues below 400 only).
func TestFailedErrorRouteStatus(t *testing.T) {
	for _, tc := range []struct {
		first error
		want  int
	}{
		{caddyhttp.Error(http.StatusFound, nil), http.StatusFound},
		{caddyhttp.Error(http.StatusNotFound, nil), http.StatusNotFound},
		{caddyhttp.HandlerError{}, http.StatusInternalServerError},
		{fmt.Errorf("wrapped: %w", caddyhttp.Error(http.StatusNotFound, nil)), http.StatusInternalServerError},
		{io.EOF, http.StatusInternalServerError},
	} {
		if got := failedErrorRouteStatus(tc.first); got != tc.want {
			t.Errorf("failedErrorRouteStatus(%v) = %d, want %d", tc.first, got, tc.want)
		}
	}
}

// TestInServerErrorRoutesSubrouteErrors: a handler in the error routes
// of a subroute that is itself in the server's error routes is one of
// the server's error routes.
func TestInServerErrorRoutesSubrouteErrors(t *testing.T) {
	h := new(Handler)
	inner := &caddyhttp.Subroute{Errors: &caddyhttp.HTTPErrorConfig{Routes: caddyhttp.RouteList{{Handlers: []caddyhttp.MiddlewareHandler{h}}}}}
	srv := &caddyhttp.Server{Errors: &caddyhttp.HTTPErrorConfig{Routes: caddyhttp.RouteList{{Handlers: []caddyhttp.MiddlewareHandler{inner}}}}}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(context.WithValue(req.Context(), caddyhttp.ServerCtxKey, srv))
	if !inServerErrorRoutes(req, h) {
		t.Error("a handler in a subroute's error routes within the server's error routes: not found")
	}
	if inServerErrorRoutes(req, new(Handler)) {
		t.Error("another handler: found")
	}
}
