// Package cookienormalizer is a Caddy HTTP handler that rewrites the
// Set-Cookie fields of responses so that related cookies share one expiry
// policy (a session cookie, a fixed lifetime, a cap, or the same expiry as a
// leader cookie) and the attribute policies an operator sets (Secure,
// HttpOnly, SameSite, Partitioned, Path, Domain). A group can also be kept
// consistent (a log-out of one member deletes the others; a request that
// carries only part of the group gets those cookies deleted) and given a
// sliding expiry; under report_only it changes nothing and logs and counts
// what it would have changed. It exists for legacy applications that set
// related cookies inconsistently and cannot easily be changed.
package cookienormalizer

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
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
// of each group share one expiry policy and the group's attribute
// policies. Only the attributes a policy names change; every other byte of
// a field is kept. Expiry policies never touch deletions, so log-out keeps
// working; attribute policies apply to deletions too, so that a deletion
// still matches the cookie it removes.
type Handler struct {
	// Groups of cookies with their policy. A cookie belongs to the first
	// group with a pattern that matches its name; cookies no group matches
	// pass unchanged.
	Groups []Group `json:"groups,omitempty"`

	// ReportOnly computes every decision and changes nothing: each change
	// that would have been made is logged at info level (cookie name,
	// group, action; never a value) and counted in the metrics with
	// report_only="true". For rolling the module out in front of a live
	// app.
	ReportOnly bool `json:"report_only,omitempty"`

	norm   *normalizer
	logger *zap.Logger
	// logDebug and logInfo cache whether the logger's core takes those
	// levels (fixed for a config load), so that a response does not ask
	// the logger per cookie when it would log nothing.
	logDebug, logInfo bool
	counters          counters
}

// Group is a set of cookies that share an expiry policy and attribute
// policies. A group needs cookies and at least one policy.
type Group struct {
	// Label names the group in logs and metrics. Optional; without it the
	// group is named by its first pattern.
	Label string `json:"label,omitempty"`

	// Cookies are the patterns of the cookie names in the group: an exact
	// name (case-sensitive, as browsers compare names), a glob where `*`
	// matches any run of characters (`wh_*`), or a Go regular expression
	// prefixed with `~` (`~^(session_id|user_id__insecure)$`).
	Cookies []string `json:"cookies,omitempty"`

	// Expire is the expiry policy the cookies of the group share.
	Expire *ExpiryPolicy `json:"expire,omitempty"`

	// Secure adds the Secure flag when true (if missing; an existing flag
	// keeps its bytes) and removes every Secure attribute when false. Unset:
	// left as the upstream sent it.
	Secure *bool `json:"secure,omitempty"`

	// HTTPOnly adds (true) or removes (false) the HttpOnly flag, as Secure.
	HTTPOnly *bool `json:"httponly,omitempty"`

	// Partitioned adds (true) or removes (false) the Partitioned flag (CHIPS),
	// as Secure. Browsers require Secure with it, so `true` needs Secure
	// true in the same group.
	Partitioned *bool `json:"partitioned,omitempty"`

	// SameSite is `strict`, `lax` or `none`, to set SameSite=Strict, Lax or
	// None, or `remove` to remove the attribute. `none` needs Secure true in
	// the same group: Chromium and Firefox reject SameSite=None without Secure.
	SameSite string `json:"samesite,omitempty"`

	// Path replaces the Path attribute (it must start with `/`).
	Path string `json:"path,omitempty"`

	// Domain replaces the Domain attribute, or, as `remove`, removes it so
	// that the cookie is host-only.
	Domain string `json:"domain,omitempty"`

	// OnDelete, as `cascade`: when a response deletes one of the group's
	// cookies and neither sets nor deletes the others, deletions of the
	// others are appended, with the deleted cookie's Path, Domain, Secure,
	// SameSite and Partitioned, so that a log-out clears the whole group.
	// Only exact names take part.
	OnDelete string `json:"on_delete,omitempty"`

	// OnPartial, as `expire`: when the request carries some but not all of
	// the group's cookies and the response neither sets nor deletes any of
	// them, deletions of those it carries are appended, so that a browser
	// that restored half of a log-in is logged out cleanly. The request does
	// not say where a cookie was set: the deletions carry the group's path
	// and domain policies when set, else Path=/ and no Domain, and Secure on
	// HTTPS requests (or as the group's secure policy says). Only exact
	// names take part.
	OnPartial string `json:"on_partial,omitempty"`

	// Slide re-issues the group's cookies with a fresh lifetime at most once
	// per interval while requests keep arriving, so that they track the
	// user's activity as a server's idle timeout does. It needs a fixed
	// `expire` duration (the lifetime each re-issue grants), exact cookie
	// names only, a `path` policy and a `domain` policy (`remove` for
	// cookies set without Domain): the request does not say where a cookie
	// was set. A re-issued cookie carries the group's attribute policies and
	// nothing else (the request does not say which attributes the app set):
	// give the group every attribute the app sets (secure, httponly,
	// samesite, partitioned), or a re-issue drops it.
	Slide *SlidePolicy `json:"slide,omitempty"`
}

// SlidePolicy is the sliding expiry of a group.
type SlidePolicy struct {
	// Interval is the shortest time between two re-issues: whole seconds,
	// at least one, shorter than the group's lifetime.
	Interval caddy.Duration `json:"interval,omitempty"`

	// Cookie names the stamp cookie the module keeps for the group (its
	// value is the Unix time of the last issue). Default:
	// `cn_slide_<label>`, or `cn_slide_<first cookie>` without a label.
	Cookie string `json:"cookie,omitempty"`
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
	// at least one, at most 2147483647 s (libsoup cuts a longer Max-Age to
	// 32 bits). Over 400 days is allowed but logged as a warning, since
	// Chromium and Firefox cap cookie lifetimes at 400 days.
	Duration caddy.Duration `json:"duration,omitempty"`

	// Like is the exact name of the leader cookie, for mode `like`.
	Like string `json:"like,omitempty"`
}

// Expiry modes, as written in JSON (the Caddyfile writes `fixed` as a bare
// duration).
const (
	modeSession = "session"
	modeFixed   = "fixed"
	modeMax     = "max"
	modeLike    = "like"
)

// expiryModes is the one list of expiry modes: what each is in the rewrite,
// and what it takes. The Caddyfile parser, Validate and rule read it.
var expiryModes = map[string]struct {
	kind          expiryKind
	takesDuration bool
	takesLike     bool
}{
	modeSession: {kind: expireSession},
	modeFixed:   {kind: expireFixed, takesDuration: true},
	modeMax:     {kind: expireMax, takesDuration: true},
	modeLike:    {kind: expireLike, takesLike: true},
}

// expireUsage says what `expire` takes, in messages.
const expireUsage = "session, <duration>, max <duration> or like <cookie>"

// The values of on_delete and on_partial.
const (
	onDeleteCascade = "cascade"
	onPartialExpire = "expire"
)

// SameSite values and the Domain removal, as written in JSON and the
// Caddyfile.
var sameSiteValues = map[string]string{"strict": "Strict", "lax": "Lax", "none": "None"}

const removeValue = "remove"

// browserLifetimeCap is the longest lifetime Chromium and Firefox store
// (RFC 6265bis §5.6.1 and §5.6.2 cap Max-Age and Expires at 400 days;
// WebKitGTK does not cap).
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
	h.setLogger(ctx.Logger())
	if err := h.provision(); err != nil {
		return err
	}
	if reg := ctx.GetMetricsRegistry(); reg != nil {
		cv, err := newCookiesCounter(reg)
		if err != nil {
			return fmt.Errorf("registering metrics: %v", err)
		}
		labels := make([]string, len(h.Groups))
		for i := range h.Groups {
			labels[i] = h.groupLabel(i)
		}
		h.counters = newCounters(cv, h.Groups, labels, h.ReportOnly)
	}
	return nil
}

// setLogger sets the handler's logger and the levels it takes.
func (h *Handler) setLogger(l *zap.Logger) {
	h.logger = l
	h.logDebug = l.Core().Enabled(zap.DebugLevel)
	h.logInfo = l.Core().Enabled(zap.InfoLevel)
}

// provision does the work of Provision once the logger is set. It checks
// each group before compiling it, so that a JSON config (which no
// Caddyfile check has seen) fails with the group's own error rather than
// with one of the compiled rules' that it leads to.
func (h *Handler) provision() error {
	rules := make([]rule, len(h.Groups))
	for i, g := range h.Groups {
		if err := g.validate(); err != nil {
			return fmt.Errorf("group %s: %v", groupName(g.Label, i), err)
		}
		rules[i] = g.rule()
		if g.Slide != nil {
			var missing []string
			for _, m := range []struct {
				name string
				set  bool
			}{{"secure", g.Secure != nil}, {"httponly", g.HTTPOnly != nil}, {"samesite", g.SameSite != ""}, {"partitioned", g.Partitioned != nil}} {
				if !m.set {
					missing = append(missing, m.name)
				}
			}
			if len(missing) > 0 {
				h.logger.Warn("slide re-issues cookies with the group's attribute policies only, and this group has no "+strings.Join(missing, ", ")+" policy: re-issued cookies go without those attributes; add a policy for each one the app sets",
					zap.String("group", h.groupLabel(i)))
			}
		}
		if e := g.Expire; e != nil && expiryModes[e.Mode].takesDuration && time.Duration(e.Duration) > browserLifetimeCap {
			h.logger.Warn("cookie lifetime exceeds the 400 days Chromium and Firefox store; they will cap it",
				zap.String("group", h.groupLabel(i)),
				zap.String("duration", formatDuration(time.Duration(e.Duration))))
		}
	}
	norm, err := newNormalizer(rules)
	if err != nil {
		return err
	}
	norm.reportOnly = h.ReportOnly
	h.norm = norm
	return nil
}

// Validate rejects configurations that cannot mean anything. Caddy calls
// it after Provision, which has checked each group already.
func (h *Handler) Validate() error {
	if len(h.Groups) == 0 {
		return errors.New("no cookie groups configured")
	}
	return nil
}

// validate checks the group as a whole. The Caddyfile parser calls it at
// the group's line, so its errors carry no location of their own.
func (g Group) validate() error {
	if strings.ContainsAny(g.Label, "{}") {
		// `group {host}` in a Caddyfile: the label names the group in
		// logs and metrics, and the slide stamp, as written.
		return fmt.Errorf("label %q: Caddy placeholders are not replaced here, and logs and metrics would name the group as written; give a name of your own", g.Label)
	}
	if len(g.Cookies) == 0 {
		return errors.New("no cookie patterns")
	}
	for _, p := range g.Cookies {
		if err := checkPattern(p); err != nil {
			return err
		}
	}
	if g.Expire == nil && !g.hasAttributePolicy() && g.OnDelete == "" && g.OnPartial == "" && g.Slide == nil {
		return errors.New("no policy: add expire, an attribute policy (secure, httponly, samesite, partitioned, path, domain), on_delete or on_partial")
	}
	if g.OnDelete != "" && g.OnDelete != onDeleteCascade {
		return fmt.Errorf("on_delete %q: want cascade", g.OnDelete)
	}
	if g.OnPartial != "" && g.OnPartial != onPartialExpire {
		return fmt.Errorf("on_partial %q: want expire", g.OnPartial)
	}
	if (g.OnDelete != "" || g.OnPartial != "") && !slices.ContainsFunc(g.Cookies, exactPattern) {
		policy := "on_delete"
		if g.OnDelete == "" {
			policy = "on_partial"
		}
		return &policyError{policy, errors.New("on_delete and on_partial need at least one exact cookie name in the group (patterns cannot say which cookies to delete)")}
	}
	// The expiry first: slide's checks compare its interval with the
	// lifetime, which must be valid to compare with.
	if g.Expire != nil {
		if err := g.Expire.validate(); err != nil {
			return err
		}
	}
	if g.Slide != nil {
		if err := g.validateSlide(); err != nil {
			return err
		}
	}
	if err := g.checkLikeFollowers(); err != nil {
		return err
	}
	if err := checkSameSite(g.SameSite); err != nil {
		return err
	}
	if err := checkPath(g.Path); err != nil {
		return err
	}
	if err := checkDomain(g.Domain); err != nil {
		return err
	}
	secureOn := g.Secure != nil && *g.Secure
	if g.SameSite == "none" && !secureOn {
		return &policyError{"samesite", errors.New("samesite none needs secure on in the same group: Chromium and Firefox reject SameSite=None without Secure")}
	}
	if g.Partitioned != nil && *g.Partitioned && !secureOn {
		return &policyError{"partitioned", errors.New("partitioned on needs secure on in the same group: Chromium and Firefox reject Partitioned without Secure")}
	}
	p := g.attrPolicy()
	for _, c := range g.Cookies {
		if exactPattern(c) {
			if breaks := p.prefixBreaks(c); len(breaks) > 0 {
				policy, _, _ := strings.Cut(breaks[0], " ") // "path /app": path
				return &policyError{policy, fmt.Errorf("cookie %q: %s would break its name prefix (%s)", c, strings.Join(breaks, ", "), prefixRule(c))}
			}
		}
	}
	return nil
}

// policyError is a group's config error that one of its policies causes
// (samesite none without secure on, say): a Caddyfile reports it at that
// policy's line. policy is the policy's subdirective.
type policyError struct {
	policy string
	err    error
}

func (e *policyError) Error() string { return e.err.Error() }

// prefixRule says what browsers need of a cookie named name, a prefixed
// one, for messages.
func prefixRule(name string) string {
	switch {
	case hasPrefixFold(name, prefixHostHTTP):
		return "browsers store a __Host-Http- cookie only with Secure, HttpOnly, Path=/ and no Domain"
	case hasPrefixFold(name, prefixHTTP):
		return "browsers store an __Http- cookie only with Secure and HttpOnly"
	}
	return "browsers store a __Secure- cookie only with Secure, and a __Host- cookie only with Secure, Path=/ and no Domain"
}

// validateSlide checks what sliding expiry needs.
func (g Group) validateSlide() error {
	s := g.Slide
	if err := checkLifetime(time.Duration(s.Interval)); err != nil {
		return fmt.Errorf("slide: %v", err)
	}
	if g.Expire == nil || g.Expire.Mode != modeFixed {
		return errors.New("slide needs expire <duration> in the group: the lifetime each re-issue grants")
	}
	if s.Interval >= g.Expire.Duration {
		return fmt.Errorf("slide %s: the interval must be shorter than the lifetime (expire %s)", formatDuration(time.Duration(s.Interval)), formatDuration(time.Duration(g.Expire.Duration)))
	}
	for _, c := range g.Cookies {
		if !exactPattern(c) {
			return fmt.Errorf("slide: cookie pattern %q is not an exact name (only named cookies can be re-issued)", c)
		}
	}
	if g.Path == "" || g.Path == removeValue {
		return errors.New("slide needs a path policy in the group (path /, say): the request does not say where a cookie was set")
	}
	if stamp := g.stampName(); !isToken(stamp) {
		if s.Cookie != "" {
			return fmt.Errorf("slide cookie %q: not a valid cookie name (RFC 6265 token)", stamp)
		}
		return fmt.Errorf("slide: the default stamp cookie name %q is not a valid cookie name (RFC 6265 token): name one with slide <interval> cookie <name>", stamp)
	}
	if slices.Contains(g.Cookies, g.stampName()) {
		return fmt.Errorf("slide cookie %q: is one of the group's own cookies", g.stampName())
	}
	if stamp := g.stampName(); securePrefixed(stamp) && (g.Secure == nil || !*g.Secure) {
		return fmt.Errorf("slide cookie %q: its name prefix needs secure on in the group: the stamp goes without Secure on plain HTTP, and browsers refuse such a cookie without it", stamp)
	}
	if g.Domain == "" {
		return errors.New("slide needs a domain policy in the group (domain remove where the app sets its cookies without Domain, else domain <its domain>): the request does not say whether a cookie was set with a Domain, and a re-issue with another one leaves a second copy that the app's log-out does not delete")
	}
	return nil
}

// checkLikeFollowers rejects `expire like` whose leader is the only cookie
// of its group: a leader its own group names keeps its own expiry, so
// nothing would follow it, and the policy would do nothing.
func (g Group) checkLikeFollowers() error {
	e := g.Expire
	if e == nil || e.Mode != modeLike {
		return nil
	}
	for _, c := range g.Cookies {
		if c != e.Like {
			return nil
		}
	}
	return fmt.Errorf("expire like %q: the leader is the group's only cookie and keeps its own expiry, so no cookie would follow it: add the cookies that should follow it to the group", e.Like)
}

// stampName is the slide stamp's cookie name.
func (g Group) stampName() string {
	switch {
	case g.Slide == nil:
		return ""
	case g.Slide.Cookie != "":
		return g.Slide.Cookie
	case g.Label != "":
		return "cn_slide_" + g.Label
	case len(g.Cookies) > 0:
		return "cn_slide_" + g.Cookies[0]
	}
	return "cn_slide_"
}

// hasAttributePolicy reports whether the group sets any attribute policy.
func (g Group) hasAttributePolicy() bool {
	return g.Secure != nil || g.HTTPOnly != nil || g.Partitioned != nil ||
		g.SameSite != "" || g.Path != "" || g.Domain != ""
}

func (e ExpiryPolicy) validate() error {
	m, ok := expiryModes[e.Mode]
	switch {
	case !ok:
		return fmt.Errorf("unknown expire mode %q: want %s, %s, %s or %s", e.Mode, modeSession, modeFixed, modeMax, modeLike)
	// Only JSON can give a mode what it does not take; silently ignoring
	// it would hide a mode that is not the one meant.
	case !m.takesDuration && e.Duration != 0:
		return fmt.Errorf("expire mode %q takes no duration (%s given): only modes %s and %s do", e.Mode, formatDuration(time.Duration(e.Duration)), modeFixed, modeMax)
	case !m.takesLike && e.Like != "":
		return fmt.Errorf("expire mode %q takes no like cookie (%q given): only mode %s does", e.Mode, e.Like, modeLike)
	case m.takesDuration:
		if err := checkLifetime(time.Duration(e.Duration)); err != nil {
			return fmt.Errorf("expire %s: %v", e.Mode, err)
		}
	case m.takesLike:
		if e.Like == "" {
			return errors.New("expire like: the leader cookie name is missing")
		}
		if !exactPattern(e.Like) {
			return fmt.Errorf("expire like %q: the leader must be an exact cookie name", e.Like)
		}
		if err := checkCookieName(e.Like); err != nil {
			return fmt.Errorf("expire like: %v", err)
		}
	}
	return nil
}

// checkSameSite accepts the samesite values.
func checkSameSite(v string) error {
	if _, ok := sameSiteValues[v]; ok || v == "" || v == removeValue {
		return nil
	}
	return fmt.Errorf("samesite %q: want strict, lax, none or remove", v)
}

// checkPath accepts a Path value browsers store as written: it starts with
// '/' and holds no ';', whitespace, control or non-ASCII byte, any of which
// would end or corrupt the attribute.
func checkPath(v string) error {
	if v == "" {
		return nil
	}
	if !strings.HasPrefix(v, "/") {
		return fmt.Errorf("path %q: must start with /", v)
	}
	return checkAttrValue("path", v)
}

// checkDomain accepts `remove` or a Domain value under the same byte rules
// as a path that is a domain name: labels of letters, digits, '-' and '_'
// between single dots, a leading dot allowed (browsers drop it). A port,
// a scheme, a path or an empty label would make browsers reject every
// cookie the policy rewrites.
func checkDomain(v string) error {
	if v == "" || v == removeValue {
		return nil
	}
	if err := checkAttrValue("domain", v); err != nil {
		return err
	}
	for _, label := range strings.Split(strings.TrimPrefix(v, "."), ".") {
		if label == "" || strings.IndexFunc(label, func(c rune) bool {
			return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_')
		}) >= 0 {
			return fmt.Errorf("domain %q: not a domain name (letters, digits, '-' and '_' in labels between single dots; no port, scheme or path)", v)
		}
	}
	return nil
}

// checkPattern accepts a cookie pattern: not empty, an exact name
// checkCookieName accepts, and no Caddy placeholder in a glob (the
// Caddyfile adapter expands {host} and its kin before the module sees
// them, and the module does not replace them, so such a glob would match
// no cookie the operator meant). A regular expression is compiled when
// the matcher is built.
func checkPattern(p string) error {
	switch {
	case emptyPattern(p):
		return fmt.Errorf("empty cookie pattern %q", p)
	case strings.HasPrefix(p, "~"):
	case exactPattern(p):
		return checkCookieName(p)
	case strings.ContainsAny(p, "{}"):
		return fmt.Errorf("pattern %q: Caddy placeholders are not replaced in cookie patterns", p)
	}
	return nil
}

// checkCookieName accepts an exact cookie name the module can match and
// write: no '=', ';', whitespace or control byte (they would end the name
// or corrupt a field the module appends, such as a cascaded deletion), and
// no Caddy placeholder, which is not replaced here.
func checkCookieName(name string) error {
	if strings.ContainsAny(name, "{}") {
		return fmt.Errorf("cookie %q: Caddy placeholders are not replaced in cookie names", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '=' || c == ';' || c <= ' ' || c >= 0x7f {
			return fmt.Errorf("cookie %q: a '=', ';', whitespace, control or non-ASCII byte cannot be in a cookie name", name)
		}
	}
	return nil
}

// checkAttrValue accepts a path or domain value that can go into every
// field as written: no byte that would end or corrupt the attribute, no
// Caddy placeholder (the module does not replace them, and a browser
// would reject a cookie whose Domain reads {http.request.host}, or never
// send one scoped to a path with braces), within the 1024 bytes browsers
// read.
func checkAttrValue(what, v string) error {
	if strings.ContainsAny(v, "{}") {
		return fmt.Errorf("%s %q: Caddy placeholders are not replaced here, and a '{' or '}' would go into the attribute as written; give the value itself", what, v)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == ';' || c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%s %q: a ';', whitespace, control or non-ASCII byte is not allowed", what, v)
		}
	}
	if len(v) > maxAttrValueLen {
		return fmt.Errorf("%s: longer than the %d bytes browsers read", what, maxAttrValueLen)
	}
	return nil
}

// formatDuration writes d as the Caddyfile would: whole days as "401d",
// anything else in Go's form without zero units ("12h", "1h30m").
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	// "1h0m0s" reads better as "1h", "1h30m0s" as "1h30m".
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
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
	case d > maxWrittenLifetime*time.Second:
		return fmt.Errorf("duration %s is %d s, longer than %d s (about 68 years): libsoup (WebKitGTK) cuts a longer Max-Age to 32 bits and reads a deletion or a session cookie (Chromium and Firefox keep a cookie 400 days at most anyway)", formatDuration(d), int64(d/time.Second), maxWrittenLifetime)
	}
	return nil
}

// rule translates the JSON config of the group into the rewrite's terms.
func (g Group) rule() rule {
	r := rule{label: g.Label, patterns: g.Cookies, attrs: g.attrPolicy(),
		cascade: g.OnDelete == onDeleteCascade, partial: g.OnPartial == onPartialExpire}
	if g.Slide != nil {
		r.slide, r.stamp = int64(time.Duration(g.Slide.Interval)/time.Second), g.stampName()
	}
	if e := g.Expire; e != nil {
		r.expiry = expiryModes[e.Mode].kind
		r.seconds = int64(time.Duration(e.Duration) / time.Second)
		r.like = e.Like
	}
	return r
}

// attrPolicy compiles the group's attribute policies.
func (g Group) attrPolicy() attrPolicy {
	flag := func(b *bool) flagPolicy {
		switch {
		case b == nil:
			return flagKeep
		case *b:
			return flagOn
		}
		return flagOff
	}
	value := func(name, v string) valuePolicy {
		switch v {
		case "":
			return valuePolicy{}
		case removeValue:
			return valuePolicy{remove: true}
		}
		return valuePolicy{set: true, value: v, attr: "; " + name + "=" + v}
	}
	p := attrPolicy{
		secure:      flag(g.Secure),
		httpOnly:    flag(g.HTTPOnly),
		partitioned: flag(g.Partitioned),
		path:        value("Path", g.Path),
		domain:      value("Domain", g.Domain),
	}
	if g.SameSite != "" {
		v := g.SameSite
		if canonical, ok := sameSiteValues[v]; ok {
			v = canonical
		}
		p.sameSite = value("SameSite", v)
	}
	return p
}

// ServeHTTP wraps the response writer so that the Set-Cookie fields are
// rewritten just before the headers go out.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	rw := newResponseWriter(w, r, h)
	defer rw.release()
	err := next.ServeHTTP(rw, r)
	if err != nil && !rw.sent {
		// Caddy answers the error after this handler has returned, with
		// the bare status and the header map as it stands unless error
		// routes run: the final rewrite is for that status, not
		// net/http's implicit 200.
		first, inErrorRoute := r.Context().Value(caddyhttp.ErrorCtxKey).(error)
		switch {
		case inErrorRoute && inServerErrorRoutes(r, h):
			// One of the server's error routes failed in turn: Caddy
			// runs no other, and writes the first error's status. (A
			// subroute's error routes that fail hand their error to the
			// server, which answers it as any other.)
			rw.req.status = failedErrorRouteStatus(first)
		case hasErrorRoutes(r) || inGuardedSubroute(r, h):
			rw.afterError(r)
			return err
		default:
			rw.req.status = errorStatus(err)
		}
	}
	rw.afterHandler()
	return err
}

// inServerErrorRoutes reports whether h is a handler of the server's
// error routes (handle_errors), at any depth of subroutes within them and
// of the named routes they invoke. Only called when a route failed while
// answering an error.
func inServerErrorRoutes(r *http.Request, h *Handler) bool {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil || srv.Errors == nil {
		return false
	}
	w := routeWalk{h: h, named: srv.NamedRoutes}
	return w.hold(srv.Errors.Routes)
}

// inGuardedSubroute reports whether h runs inside a subroute with error
// routes of its own (a JSON config's "errors" of a subroute handler), at
// any depth of subroutes and named routes from the server's routes:
// Caddy's subroute answers an error its routes return with those error
// routes, as a server does with handle_errors. Only called when a route
// failed, on a server without error routes.
func inGuardedSubroute(r *http.Request, h *Handler) bool {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil {
		return false
	}
	w := routeWalk{h: h, named: srv.NamedRoutes}
	found, _ := w.guarded(srv.Routes)
	return found
}

// routeWalk looks for a handler in routes, through subroutes and the
// named routes that `invoke` runs, at any depth.
type routeWalk struct {
	h     *Handler
	named map[string]*caddyhttp.Route
	// seen are the named routes already walked: they may invoke each
	// other.
	seen map[string]bool
}

// hold reports whether w.h is a handler of routes, of a subroute within
// them or of a named route they invoke.
func (w *routeWalk) hold(routes caddyhttp.RouteList) bool {
	for _, route := range routes {
		if w.holdRoute(route) {
			return true
		}
	}
	return false
}

func (w *routeWalk) holdRoute(route caddyhttp.Route) bool {
	for _, mh := range route.Handlers {
		switch m := mh.(type) {
		case *Handler:
			if m == w.h {
				return true
			}
		case *caddyhttp.Subroute:
			if w.hold(m.Routes) || m.Errors != nil && w.hold(m.Errors.Routes) {
				return true
			}
		case *caddyhttp.Invoke:
			if named := w.invoked(m); named != nil && w.holdRoute(*named) {
				return true
			}
		}
	}
	return false
}

// invoked returns the named route m invokes the first time the walk meets
// it, else nil (none by that name, or walked already: named routes may
// invoke each other).
func (w *routeWalk) invoked(m *caddyhttp.Invoke) *caddyhttp.Route {
	named := w.named[m.Name]
	if named == nil || w.seen[m.Name] {
		return nil
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	w.seen[m.Name] = true
	return named
}

// holdAnew is hold on a walk of its own: the named routes this walk has
// met already are walked again there.
func (w *routeWalk) holdAnew(routes caddyhttp.RouteList) bool {
	return (&routeWalk{h: w.h, named: w.named}).hold(routes)
}

// guarded reports whether w.h is a handler of the routes of a subroute
// with error routes, within routes (through subroutes, their error
// routes, and the named routes they invoke), or one that runs after
// such a subroute: Caddy compiles a subroute's routes (and its error
// routes) with the rest of the chain as their next handler, so an error
// from a later handler comes back through the subroute, whose error
// routes answer it. seen reports such a subroute within routes, which
// guards what runs after them too. A subroute whose routes end the chain
// for some requests (a terminal route, a handler that answers) guards
// less than that: the walk takes the conservative side, on which the
// failed route's module appends nothing.
func (w *routeWalk) guarded(routes caddyhttp.RouteList) (found, seen bool) {
	for i, route := range routes {
		found, saw := w.guardedHandlers(route.Handlers)
		if found {
			return true, true
		}
		if saw && w.holdAnew(routes[i+1:]) {
			return true, true
		}
		seen = seen || saw
	}
	return false, seen
}

// guardedHandlers is guarded for the handlers of one route.
func (w *routeWalk) guardedHandlers(handlers []caddyhttp.MiddlewareHandler) (found, seen bool) {
	for j, mh := range handlers {
		saw := false
		switch m := mh.(type) {
		case *caddyhttp.Subroute:
			hasErrors := m.Errors != nil // Caddy runs its error routes, even none
			if hasErrors && w.holdAnew(m.Routes) {
				return true, true
			}
			found, inner := w.guarded(m.Routes)
			if !found && hasErrors {
				found, _ = w.guarded(m.Errors.Routes) // the subroute guards what follows anyway
			}
			if found {
				return true, true
			}
			saw = hasErrors || inner
		case *caddyhttp.Invoke:
			if named := w.invoked(m); named != nil {
				found, inner := w.guardedHandlers(named.Handlers)
				if found {
					return true, true
				}
				saw = inner
			}
		}
		if saw && w.holdAnew(caddyhttp.RouteList{{Handlers: handlers[j+1:]}}) {
			return true, true
		}
		seen = seen || saw
	}
	return false, seen
}

// failedErrorRouteStatus is the status Caddy's server writes when an
// error route returns an error of its own: that of first, the error the
// error routes were answering, if it is a HandlerError (Caddy asserts
// its type, it does not unwrap it), else 500.
func failedErrorRouteStatus(first error) int {
	if he, ok := first.(caddyhttp.HandlerError); ok && he.StatusCode > 0 { //nolint:errorlint // as Caddy's server reads it
		return he.StatusCode
	}
	return http.StatusInternalServerError
}

// hasErrorRoutes reports whether the server answering r runs error routes
// (handle_errors) when a handler returns an error.
func hasErrorRoutes(r *http.Request) bool {
	srv, _ := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	return srv != nil && srv.Errors != nil && len(srv.Errors.Routes) > 0
}

// errorStatus is the status Caddy's server writes for err, an error a
// handler returned, when no error route writes one: the HandlerError's
// status, else 500. A status of 400 or more keeps `slide` from re-issuing
// cookies on an error page.
func errorStatus(err error) int {
	if he, ok := errors.AsType[caddyhttp.HandlerError](err); ok && he.StatusCode > 0 {
		return he.StatusCode
	}
	return http.StatusInternalServerError
}

// observe counts and logs what the rewrite did with one cookie, by name;
// cookie values are never logged. Under report_only, a change that would
// have been made is logged at info. Check first, so that nothing is built
// when the level is off.
func (h *Handler) observe(name string, group int, act action) {
	h.counters.inc(group, act)
	level, msg, on := zap.DebugLevel, "set-cookie", h.logDebug
	if h.ReportOnly && act.changes() {
		level, msg, on = zap.InfoLevel, "set-cookie (report only: not changed)", h.logInfo
	}
	if !on {
		return
	}
	if ce := h.logger.Check(level, msg); ce != nil {
		ce.Write(
			zap.String("cookie", name),
			zap.String("group", h.groupLabel(group)),
			zap.Stringer("action", act),
		)
	}
}

// groupLabel names group i in logs and metrics (see logName).
func (h *Handler) groupLabel(i int) string {
	return logName(h.Groups[i].Label, h.Groups[i].Cookies, i)
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddyfile.Unmarshaler       = (*Handler)(nil)
)
