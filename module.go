// Package cookienormalizer is a Caddy HTTP handler that rewrites the
// Set-Cookie fields of responses so that related cookies share one expiry
// policy: a session cookie, a fixed lifetime, a cap, or the same expiry as a
// leader cookie. It exists for legacy applications that set related cookies
// with inconsistent lifetimes and cannot easily be changed.
package cookienormalizer

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

func init() {
	caddy.RegisterModule(Handler{})
	httpcaddyfile.RegisterHandlerDirective("cookie_normalizer", parseCaddyfile)
	// Before header, so that our wrapper is outside every handler that can
	// add a cookie (header, reverse_proxy, respond, file_server, templates)
	// and no global `order` line is needed.
	httpcaddyfile.RegisterDirectiveOrder("cookie_normalizer", httpcaddyfile.Before, "header")
}

// Handler rewrites the Set-Cookie fields of responses so that the cookies
// of each group share one expiry policy. Only Max-Age and Expires
// attributes change; every other byte of a field is kept. Deletions (a
// lifetime of zero or less) are never touched, so log-out keeps working.
type Handler struct {
	// Groups of cookies with their policy. A cookie belongs to the first
	// group with a pattern that matches its name; cookies no group matches
	// pass unchanged.
	Groups []Group `json:"groups,omitempty"`

	norm   *normalizer
	logger *zap.Logger
}

// Group is a set of cookies that share an expiry policy.
type Group struct {
	// Label names the group in logs. Optional.
	Label string `json:"label,omitempty"`

	// Cookies are the patterns of the cookie names in the group: an exact
	// name (case-sensitive, as browsers compare names), a glob where `*`
	// matches any run of characters (`wh_*`), or a Go regular expression
	// prefixed with `~` (`~^(session_id|user_id__insecure)$`).
	Cookies []string `json:"cookies,omitempty"`

	// Expire is the expiry policy the cookies of the group share.
	Expire *ExpiryPolicy `json:"expire,omitempty"`
}

// ExpiryPolicy says how long the cookies of a group live.
type ExpiryPolicy struct {
	// Mode is one of:
	//
	// - `session`: remove Max-Age and Expires, so the cookie ends with the
	//   browser session;
	// - `fixed`: set Max-Age to Duration and Expires to the response's Date
	//   plus Duration;
	// - `max`: as `fixed`, but only for cookies that would live longer than
	//   Duration;
	// - `like`: give the cookie the expiry of the cookie named Like in the
	//   same response, as sent to the client.
	Mode string `json:"mode,omitempty"`

	// Duration is the lifetime for modes `fixed` and `max`: whole seconds,
	// at least one. Over 400 days is allowed but logged as a warning,
	// since browsers cap cookie lifetimes at 400 days.
	Duration caddy.Duration `json:"duration,omitempty"`

	// Like is the exact name of the leader cookie, for mode `like`.
	Like string `json:"like,omitempty"`
}

// Expiry modes, as written in JSON and in the Caddyfile.
const (
	modeSession = "session"
	modeFixed   = "fixed"
	modeMax     = "max"
	modeLike    = "like"
)

// browserLifetimeCap is the longest lifetime browsers store (RFC 6265bis
// §5.6.1 and §5.6.2 cap Max-Age and Expires at 400 days).
const browserLifetimeCap = 400 * 24 * time.Hour

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cookie_normalizer",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision compiles the patterns and orders the `like` chains.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	return h.provision()
}

// provision does the work of Provision once the logger is set.
func (h *Handler) provision() error {
	rules := make([]rule, len(h.Groups))
	for i, g := range h.Groups {
		rules[i] = g.rule()
		if e := g.Expire; e != nil && time.Duration(e.Duration) > browserLifetimeCap {
			h.logger.Warn("cookie lifetime exceeds the 400 days browsers store; they will cap it",
				zap.String("group", groupName(g.Label, i)),
				zap.Duration("duration", time.Duration(e.Duration)))
		}
	}
	norm, err := newNormalizer(rules)
	if err != nil {
		return err
	}
	h.norm = norm
	return nil
}

// Validate rejects configurations that cannot mean anything.
func (h *Handler) Validate() error {
	if len(h.Groups) == 0 {
		return errors.New("no cookie groups configured")
	}
	for i, g := range h.Groups {
		if err := g.validate(); err != nil {
			return fmt.Errorf("group %s: %v", groupName(g.Label, i), err)
		}
	}
	return nil
}

func (g Group) validate() error {
	if len(g.Cookies) == 0 {
		return errors.New("no cookie patterns")
	}
	for _, p := range g.Cookies {
		if emptyPattern(p) {
			return fmt.Errorf("empty cookie pattern %q", p)
		}
	}
	if g.Expire == nil {
		return errors.New("no policy: an expire policy is required")
	}
	return g.Expire.validate()
}

func (e ExpiryPolicy) validate() error {
	switch e.Mode {
	case modeSession:
	case modeFixed, modeMax:
		if err := checkLifetime(time.Duration(e.Duration)); err != nil {
			return fmt.Errorf("expire %s: %v", e.Mode, err)
		}
	case modeLike:
		if e.Like == "" {
			return errors.New("expire like: the leader cookie name is missing")
		}
	default:
		return fmt.Errorf("unknown expire mode %q: want %s, %s, %s or %s", e.Mode, modeSession, modeFixed, modeMax, modeLike)
	}
	return nil
}

// checkLifetime accepts whole seconds, at least one: Max-Age counts
// seconds.
func checkLifetime(d time.Duration) error {
	switch {
	case d <= 0:
		return fmt.Errorf("duration %s is not positive", d)
	case d < time.Second:
		return fmt.Errorf("duration %s is shorter than 1s", d)
	case d%time.Second != 0:
		return fmt.Errorf("duration %s is not a whole number of seconds", d)
	}
	return nil
}

// rule translates the JSON config of the group into the rewrite's terms.
func (g Group) rule() rule {
	r := rule{label: g.Label, patterns: g.Cookies}
	if e := g.Expire; e != nil {
		switch e.Mode {
		case modeSession:
			r.expiry = expireSession
		case modeFixed:
			r.expiry, r.seconds = expireFixed, int64(time.Duration(e.Duration)/time.Second)
		case modeMax:
			r.expiry, r.seconds = expireMax, int64(time.Duration(e.Duration)/time.Second)
		case modeLike:
			r.expiry, r.like = expireLike, e.Like
		}
	}
	return r
}

// ServeHTTP wraps the response writer so that the Set-Cookie fields are
// rewritten just before the headers go out.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	rw := newResponseWriter(w, h)
	defer rw.release()
	err := next.ServeHTTP(rw, r)
	// A handler that set headers and wrote nothing gets net/http's implicit
	// response after it returns, unseen by any wrapper: rewrite now.
	rw.finalize()
	return err
}

// observe logs what the rewrite did with one cookie, by name; cookie values
// are never logged. Check first, so that nothing is built when debug
// logging is off.
func (h *Handler) observe(name string, group int, act action) {
	if ce := h.logger.Check(zap.DebugLevel, "set-cookie expiry"); ce != nil {
		ce.Write(
			zap.String("cookie", name),
			zap.String("group", groupName(h.Groups[group].Label, group)),
			zap.Stringer("action", act),
		)
	}
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddyfile.Unmarshaler       = (*Handler)(nil)
)
