package cookienormalizer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
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

// TestInGuardedSubrouteWalk: the module is found inside the routes of a
// subroute with error routes of its own, or after one (Caddy compiles a
// subroute's routes with the rest of the chain as their next handler),
// through subroutes, their error routes and invoked named routes; not
// inside a subroute without error routes, nor inside a subroute's error
// routes alone (an error there goes to the routes around it), nor before
// a guarded subroute.
func TestInGuardedSubrouteWalk(t *testing.T) {
	h := &Handler{}
	holding := caddyhttp.Route{Handlers: []caddyhttp.MiddlewareHandler{&Handler{}, h}}
	errorsOf := func(routes ...caddyhttp.Route) *caddyhttp.HTTPErrorConfig {
		return &caddyhttp.HTTPErrorConfig{Routes: routes}
	}
	page := caddyhttp.Route{Handlers: []caddyhttp.MiddlewareHandler{&Handler{}}}
	sub := func(errs *caddyhttp.HTTPErrorConfig, routes ...caddyhttp.Route) caddyhttp.Route {
		return caddyhttp.Route{Handlers: []caddyhttp.MiddlewareHandler{&caddyhttp.Subroute{Routes: routes, Errors: errs}}}
	}
	invoke := func(name string) caddyhttp.Route {
		return caddyhttp.Route{Handlers: []caddyhttp.MiddlewareHandler{&caddyhttp.Invoke{Name: name}}}
	}
	for _, tc := range []struct {
		name   string
		routes caddyhttp.RouteList
		named  map[string]*caddyhttp.Route
		want   bool
	}{
		{"in a subroute with error routes", caddyhttp.RouteList{sub(errorsOf(page), holding)}, nil, true},
		{"deeper, inside a subroute without", caddyhttp.RouteList{sub(errorsOf(page), sub(nil, holding))}, nil, true},
		{"inside a guarded one, deeper", caddyhttp.RouteList{sub(nil, sub(errorsOf(page), holding))}, nil, true},
		{"in an invoked named route", caddyhttp.RouteList{sub(errorsOf(page), invoke("app"))}, map[string]*caddyhttp.Route{"app": &holding}, true},
		{"a named route invoking a guarded subroute", caddyhttp.RouteList{invoke("app")}, map[string]*caddyhttp.Route{"app": new(sub(errorsOf(page), holding))}, true},
		{"in the error routes of one inside a guarded one", caddyhttp.RouteList{sub(errorsOf(page), sub(errorsOf(holding), page))}, nil, true},
		{"in a guarded one inside error routes", caddyhttp.RouteList{sub(errorsOf(sub(errorsOf(page), holding)), page)}, nil, true},
		{"in a subroute without error routes", caddyhttp.RouteList{sub(nil, holding)}, nil, false},
		{"in a subroute with empty error routes (Caddy runs them: the rest of the chain)", caddyhttp.RouteList{sub(errorsOf(), holding)}, nil, true},
		{"in a route after a guarded subroute", caddyhttp.RouteList{sub(errorsOf(page), page), holding}, nil, true},
		{"after a guarded subroute in the same route", caddyhttp.RouteList{{Handlers: []caddyhttp.MiddlewareHandler{sub(errorsOf(page), page).Handlers[0], &Handler{}, h}}}, nil, true},
		{"after a subroute holding a guarded one", caddyhttp.RouteList{sub(nil, sub(errorsOf(page), page)), holding}, nil, true},
		{"inside a subroute, after a guarded one", caddyhttp.RouteList{sub(nil, sub(errorsOf(page), page), holding)}, nil, true},
		{"in a named route invoked after a guarded subroute", caddyhttp.RouteList{sub(errorsOf(page), page), invoke("app")}, map[string]*caddyhttp.Route{"app": &holding}, true},
		{"after a named route holding a guarded subroute", caddyhttp.RouteList{invoke("g"), holding}, map[string]*caddyhttp.Route{"g": new(sub(errorsOf(page), page))}, true},
		{"a named route invoked before, then inside a guarded subroute", caddyhttp.RouteList{invoke("app"), sub(errorsOf(page), invoke("app"))}, map[string]*caddyhttp.Route{"app": &holding}, true},
		{"before a guarded subroute", caddyhttp.RouteList{holding, sub(errorsOf(page), page)}, nil, false},
		{"after a subroute without error routes", caddyhttp.RouteList{sub(nil, page), holding}, nil, false},
		{"in a subroute's error routes only", caddyhttp.RouteList{sub(errorsOf(holding), page)}, nil, false},
	} {
		srv := &caddyhttp.Server{Routes: tc.routes, NamedRoutes: tc.named}
		r := httptest.NewRequest("GET", "/", nil)
		r = r.WithContext(context.WithValue(r.Context(), caddyhttp.ServerCtxKey, srv))
		if got := inGuardedSubroute(r, h); got != tc.want {
			t.Errorf("%s: inGuardedSubroute = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSubrouteErrorRoutes: a route inside a subroute with error routes
// of its own (JSON only), or after one whose own routes fall through (a
// vars handler: Caddy runs the rest of the chain inside the subroute),
// fails (reverse_proxy to a closed port: 502) on a server without
// handle_errors: the subroute's error routes answer, and the failed
// route's module appends nothing, as under the server's error routes
// (each case compared with the same routes there). The request carries
// half of the group: an error route with a module of its own expires it;
// a page without one gets no deletion.
func TestSubrouteErrorRoutes(t *testing.T) {
	cn := `{"handler":"cookie_normalizer","groups":[{"label":"login","cookies":["session_id","user_id"],"on_delete":"cascade","on_partial":"expire"}]}`
	const (
		inside = `{"handle": [{"handler": "subroute", "routes": [{"handle": [%[1]s, %[2]s]}], "errors": {"routes": [{"handle": [%[3]s]}]}}]}`
		after  = `{"handle": [{"handler": "subroute", "routes": [{"handle": [{"handler": "vars", "x": "1"}]}], "errors": {"routes": [{"handle": [%[3]s]}]}}]}, {"handle": [%[1]s, %[2]s]}`
	)
	page := `{"handler": "static_response", "status_code": 200, "body": "maintenance"}`
	for _, tc := range []struct {
		name, siteRoutes, errRoute string
		want                       dirResult
	}{
		{"an error page with a module", inside, cn + `, {"handler": "static_response", "status_code": 503, "body": "sorry"}`,
			dirResult{status: 503, setCookie: []string{"session_id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"}, cacheControl: []string{"private"}, body: "sorry"}},
		{"a page without one", inside, page, dirResult{status: 200, body: "maintenance"}},
		{"a page without one, the route after the subroute", after, page, dirResult{status: 200, body: "maintenance"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			down, site, control := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
			proxy := fmt.Sprintf(`{"handler":"reverse_proxy","upstreams":[{"dial":%q}]}`, down)
			routes := fmt.Sprintf(tc.siteRoutes, cn, proxy, tc.errRoute)
			cfg := fmt.Sprintf(`{
				"admin": {"disabled": true, "config": {"persist": false}},
				"logging": {"logs": {"default": {"level": "ERROR"}}},
				"apps": {
					"tls": {"disable_storage_clean": true},
					"http": {"servers": {
						"sub": {"listen": [%[1]q], "automatic_https": {"disable": true}, "routes": [%[6]s]},
						"server": {"listen": [%[2]q], "automatic_https": {"disable": true},
							"routes": [{"handle": [%[3]s, %[4]s]}], "errors": {"routes": [{"handle": [%[5]s]}]}}
					}}
				}
			}`, site, control, cn, proxy, tc.errRoute, routes)
			testcaddy.LoadJSON(t, []byte(cfg))
			c := &http.Client{}
			for _, addr := range []string{control, site} {
				if got := dirDo(t, c, "GET", "http://"+addr+"/page", dirHalfJar, nil); !sameResult(got, tc.want) || got.body != tc.want.body {
					t.Errorf("%s: %s\nwant %s", addr, got, tc.want)
				}
			}
		})
	}
}
