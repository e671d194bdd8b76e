package cookienormalizer

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	hnd := new(Handler)
	err := hnd.UnmarshalCaddyfile(h.Dispenser)
	return hnd, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	# Short form: one group, its cookie patterns as arguments.
//	cookie_normalizer [<matcher>] <pattern...> {
//		<policy...>
//	}
//
//	# Long form: several groups; the first group whose pattern matches a
//	# cookie wins.
//	cookie_normalizer [<matcher>] {
//		group [<label>] {
//			cookies <pattern...>
//			<policy...>
//		}
//	}
//
//	# The policies of a group (at least one):
//	expire      session | <duration> | max <duration> | like <cookie-name>
//	secure      [on|off]
//	httponly    [on|off]
//	partitioned [on|off]
//	samesite    strict|lax|none|remove
//	path        <path>
//	domain      <domain>|remove
//	on_delete   cascade
//	on_partial  expire
//	slide       <interval> [cookie <name>]
//
//	# Either form's block may also hold, once:
//	report_only
//
// A <pattern> is an exact cookie name, a glob with `*`, or a Go regular
// expression prefixed with `~`. As for every directive, a first argument of
// `*`, `/…` or `@name` is a request matcher, so "every cookie" is written
// `cookies *` in a group. The parser checks syntax; what the values mean is
// checked by the same functions Validate uses, called at the line that
// wrote them, so every error names the file and line.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	directive := d.Token()

	// likeTokens remembers where each group's `expire like` was written, and
	// groupTokens where each group starts, so that an error found once all
	// groups are known is reported there.
	likeTokens := map[int]caddyfile.Token{}
	var groupTokens []caddyfile.Token

	var short *groupParser
	if args := d.RemainingArgs(); len(args) > 0 {
		short = &groupParser{start: directive}
		if err := short.addPatterns(d, args); err != nil {
			return err
		}
	}
	for d.NextBlock(0) {
		switch sub := d.Val(); {
		case sub == "report_only":
			tok := d.Token()
			if d.NextArg() {
				return d.Errf("report_only takes no argument (its presence turns it on), got %q", d.Val())
			}
			if hasBlock(d) {
				return errAt(tok, "report_only: takes no block")
			}
			if h.ReportOnly {
				return d.Err("report_only: given twice")
			}
			h.ReportOnly = true
		case sub == "group":
			if short != nil {
				return d.Err("group blocks cannot follow cookie patterns given as arguments: use either the short form or group blocks")
			}
			g := groupParser{start: d.Token()}
			if err := g.parseBlock(d); err != nil {
				return err
			}
			if tok := g.likeLine(); tok.Text != "" {
				likeTokens[len(h.Groups)] = tok
			}
			h.Groups = append(h.Groups, g.group)
			groupTokens = append(groupTokens, g.start)
		case short != nil:
			if err := short.parseLine(d); err != nil {
				return err
			}
		case sub == "cookies":
			return d.Errf("cookies outside a group: a cookies line adds to the patterns given as arguments of cookie_normalizer, and there are none; give at least one there, or put the cookies line in a group block (a first argument of *, /... or @name is a request matcher, not a cookie pattern: write \"cookies *\" in a group)")
		case groupSubdirectives[sub]:
			return d.Errf("%s outside a group: give the cookie patterns as arguments of cookie_normalizer, or put %s in a group block with its cookies (a first argument of *, /... or @name is a request matcher, not a cookie pattern: write \"cookies *\" in a group)", sub, sub)
		default:
			return d.Err(unknownSubdirective(sub, "", directiveSubdirectives))
		}
	}
	if short != nil {
		if err := short.finish(); err != nil {
			return err
		}
		if tok := short.likeLine(); tok.Text != "" {
			likeTokens[0] = tok
		}
		h.Groups = []Group{short.group}
		groupTokens = []caddyfile.Token{short.start}
	}
	if len(h.Groups) == 0 {
		return errAt(directive, "cookie_normalizer: no cookies: give cookie patterns as arguments, or group blocks")
	}

	rules := make([]rule, len(h.Groups))
	for i, g := range h.Groups {
		rules[i] = g.rule()
	}
	if _, err := newNormalizer(rules); err != nil {
		var loop likeLoopError
		if errors.As(err, &loop) {
			return errAt(likeTokens[loop.group], err.Error())
		}
		var ge groupError
		if errors.As(err, &ge) {
			return errAt(groupTokens[ge.group], err.Error())
		}
		return errAt(directive, err.Error())
	}
	return nil
}

// groupSubdirectives are the lines of a group body; outside a group (and
// without short-form arguments) they get a message that says so.
var groupSubdirectives = map[string]bool{
	"cookies": true, "expire": true, "secure": true, "httponly": true, "partitioned": true,
	"samesite": true, "path": true, "domain": true, "on_delete": true, "on_partial": true,
	"slide": true,
}

// groupSubdirectiveNames are the lines of a group block, for messages.
var groupSubdirectiveNames = slices.Collect(maps.Keys(groupSubdirectives))

// directiveSubdirectives are the lines of the directive's block: a
// group's (the short form), group blocks and report_only.
var directiveSubdirectives = append(slices.Clone(groupSubdirectiveNames), "group", "report_only")

// groupParser parses the body of one group: the short form's block or a
// group block. It is the one parser of both forms.
type groupParser struct {
	group Group
	start caddyfile.Token // the directive or the group line, for errors about the whole group
	// lines are the policies' lines, by subdirective, for what one of
	// them breaks in the whole group (see policyError), what slide needs
	// of the group, and a `like` loop found later.
	lines map[string]caddyfile.Token
}

// likeLine is the group's `expire like` line, or the zero token.
func (p *groupParser) likeLine() caddyfile.Token {
	if e := p.group.Expire; e != nil && e.Mode == modeLike {
		return p.lines["expire"]
	}
	return caddyfile.Token{}
}

// parseBlock parses `group [<label>] { … }`, the dispenser on `group`.
func (p *groupParser) parseBlock(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	switch len(args) {
	case 0:
	case 1:
		if args[0] == "" {
			// A quoted {$VARIABLE} that is not set: loaded unlabelled, the
			// group's logs, metrics and slide stamp would take another name.
			return d.Err("group: an empty label (a quoted {$VARIABLE} that is not set gives one; {$VARIABLE:default} gives a default; leave the label out for none)")
		}
		p.group.Label = args[0]
	default:
		return d.Errf("group takes one label, got %d words: name the cookies on a `cookies` line inside the block", len(args))
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if err := p.parseLine(d); err != nil {
			return err
		}
	}
	return p.finish()
}

// parseLine parses one subdirective of a group body, the dispenser on its
// name.
func (p *groupParser) parseLine(d *caddyfile.Dispenser) error {
	sub := d.Val()
	if !groupSubdirectives[sub] {
		where := ""
		if p.start.Text == "group" {
			where = " in group"
		}
		known := directiveSubdirectives
		if where != "" {
			known = groupSubdirectiveNames
		}
		return d.Err(unknownSubdirective(sub, where, known))
	}
	if sub != "cookies" {
		if _, seen := p.lines[sub]; seen {
			article := "a"
			if strings.ContainsRune("aeiou", rune(sub[0])) {
				article = "an"
			}
			return d.Errf("%s: this group already has %s %s policy", sub, article, sub)
		}
		if p.lines == nil {
			p.lines = map[string]caddyfile.Token{}
		}
		p.lines[sub] = d.Token()
	}
	tok := d.Token()
	args := d.RemainingArgs()
	if hasBlock(d) {
		return errAt(tok, sub+": takes no block")
	}
	// An empty token is what a quoted {$VARIABLE} that is not set becomes:
	// it must not load as "no such policy". (Patterns and expire say what
	// is missing themselves.)
	if sub != "cookies" && sub != "expire" && slices.Contains(args, "") {
		return errAt(tok, sub+": an empty value (a quoted {$VARIABLE} that is not set gives one; {$VARIABLE:default} gives a default)")
	}
	g := &p.group
	var err error // from the value checks, which carry no location
	switch sub {
	case "cookies":
		if len(args) == 0 {
			return d.Err("cookies: expected at least one cookie pattern")
		}
		return p.addPatterns(d, args)
	case "expire":
		e, err := parseExpire(d, args)
		if err != nil {
			return err
		}
		g.Expire = e
		return nil
	case "secure", "httponly", "partitioned":
		on, err := parseFlag(d, sub, args)
		if err != nil {
			return err
		}
		*map[string]**bool{"secure": &g.Secure, "httponly": &g.HTTPOnly, "partitioned": &g.Partitioned}[sub] = on
		return nil
	case "samesite":
		if len(args) != 1 {
			return d.Err("samesite: expected one of strict, lax, none, remove")
		}
		// Any case, as in the Set-Cookie fields it fixes (SameSite=Lax);
		// the JSON form holds it in lower case.
		v := strings.ToLower(args[0])
		g.SameSite, err = v, checkSameSite(v)
	case "path":
		if len(args) != 1 {
			return d.Err("path: expected one path, as in path /")
		}
		g.Path, err = args[0], checkPath(args[0])
	case "domain":
		if len(args) != 1 {
			return d.Err("domain: expected one domain, or remove")
		}
		g.Domain, err = args[0], checkDomain(args[0])
	case "on_delete":
		if len(args) != 1 || args[0] != onDeleteCascade {
			return errUnexpected(d, "on_delete: expected cascade", args)
		}
		g.OnDelete = args[0]
	case "on_partial":
		if len(args) != 1 || args[0] != onPartialExpire {
			return errUnexpected(d, "on_partial: expected expire", args)
		}
		g.OnPartial = args[0]
	case "slide":
		if len(args) != 1 && (len(args) != 3 || args[1] != "cookie") {
			return d.Err("slide: expected <interval> [cookie <name>], as in slide 10m")
		}
		dur, err := caddy.ParseDuration(args[0])
		if err != nil {
			return d.Errf("slide: %q is not a duration: %v", args[0], err)
		}
		g.Slide = &SlidePolicy{Interval: caddy.Duration(dur)}
		if len(args) == 3 {
			g.Slide.Cookie = args[2]
		}
		if err := checkLifetime(dur); err != nil {
			return d.Errf("slide: %v", err)
		}
	}
	if err != nil {
		return errAt(tok, err.Error())
	}
	return nil
}

// hasBlock reports whether the line the dispenser has just read to its
// end opens a block, and steps over it. No subdirective takes a block, not
// even an empty one: the caller says so at the line rather than report the
// "{" as an unknown subdirective. An empty block is consumed by NextBlock,
// which then stands on its "}".
func hasBlock(d *caddyfile.Dispenser) bool {
	last := d.Token()
	return d.NextBlock(d.Nesting()) || closesBlock(d.Token()) && !closesBlock(last)
}

// addPatterns adds cookie patterns, checking each at its line: empty
// patterns, regular expressions that do not compile, exact names no
// browser could send, and placeholders are errors.
func (p *groupParser) addPatterns(d *caddyfile.Dispenser, patterns []string) error {
	for _, pat := range patterns {
		if err := checkPattern(pat); err != nil {
			return d.Err(err.Error())
		}
		if strings.HasPrefix(pat, "~") {
			if _, err := regexp.Compile(pat[1:]); err != nil {
				return d.Errf("invalid regular expression in pattern %q: %v", pat, err)
			}
		}
	}
	p.group.Cookies = append(p.group.Cookies, patterns...)
	return nil
}

// finish checks the whole group, with Validate's own function, and reports
// what is wrong at the group's line.
func (p *groupParser) finish() error {
	g := &p.group
	switch {
	case len(g.Cookies) == 0:
		return errAt(p.start, "group without cookies: add cookies <pattern...>")
	case g.Expire == nil && !g.hasAttributePolicy() && g.OnDelete == "" && g.OnPartial == "" && g.Slide == nil:
		msg := "group without a policy: add expire " + expireUsage + ", an attribute policy (secure, httponly, samesite, partitioned, path, domain), on_delete or on_partial"
		if p.start.Text != "group" {
			msg = "cookie_normalizer: missing policy: add a block with expire " + expireUsage + ", an attribute policy (secure, httponly, samesite, partitioned, path, domain), on_delete or on_partial"
		}
		return errAt(p.start, msg)
	}
	if g.Slide != nil {
		if err := g.validateSlide(); err != nil {
			return errAt(p.lines["slide"], err.Error())
		}
	}
	if err := g.checkLikeFollowers(); err != nil {
		return errAt(p.likeLine(), err.Error())
	}
	if err := g.validate(); err != nil {
		// At the line of the policy that breaks the group, where one
		// does; else at the group's.
		at := p.start
		var pe *policyError
		if errors.As(err, &pe) {
			if tok, ok := p.lines[pe.policy]; ok {
				at = tok
			}
		}
		return errAt(at, err.Error())
	}
	return nil
}

// parseFlag parses `<flag> [on|off]`; no argument means on.
func parseFlag(d *caddyfile.Dispenser, sub string, args []string) (*bool, error) {
	on := true
	switch {
	case len(args) == 0:
	case len(args) == 1 && args[0] == "on":
	case len(args) == 1 && args[0] == "off":
		on = false
	default:
		return nil, d.Errf("%s: expected on or off, got %q", sub, strings.Join(args, " "))
	}
	return &on, nil
}

// parseExpire parses the arguments of `expire session | <duration> | max
// <duration> | like <cookie>`.
func parseExpire(d *caddyfile.Dispenser, args []string) (*ExpiryPolicy, error) {
	if len(args) == 0 {
		return nil, d.Err("expire: expected " + expireUsage)
	}
	e := &ExpiryPolicy{}
	switch args[0] {
	case modeSession:
		if len(args) != 1 {
			return nil, d.Err("expire session: takes no further argument")
		}
		e.Mode = modeSession
	case modeMax:
		if len(args) != 2 {
			return nil, d.Err("expire max: expected one duration, as in expire max 12h")
		}
		dur, err := parseLifetime(d, args[1])
		if err != nil {
			return nil, err
		}
		e.Mode, e.Duration = modeMax, dur
	case modeLike:
		if len(args) != 2 {
			return nil, d.Err("expire like: expected one cookie name, as in expire like session_id")
		}
		e.Mode, e.Like = modeLike, args[1]
	default:
		if len(args) != 1 {
			return nil, d.Errf("expire: expected %s, got %q", expireUsage, strings.Join(args, " "))
		}
		dur, err := parseLifetime(d, args[0])
		if err != nil {
			return nil, err
		}
		e.Mode, e.Duration = modeFixed, dur
	}
	if err := e.validate(); err != nil {
		return nil, d.Err(err.Error())
	}
	return e, nil
}

// parseLifetime parses a Caddy duration (`12h`, `30m`, `7d`) and checks
// that it is whole seconds, at least one.
func parseLifetime(d *caddyfile.Dispenser, s string) (caddy.Duration, error) {
	dur, err := caddy.ParseDuration(s)
	if err != nil {
		return 0, d.Errf("expire: expected %s; %q is not a duration: %v", expireUsage, s, err)
	}
	if err := checkLifetime(dur); err != nil {
		return 0, d.Errf("expire: %v", err)
	}
	return caddy.Duration(dur), nil
}

// errUnexpected is msg at the dispenser's line, with the arguments given
// when there are any.
func errUnexpected(d *caddyfile.Dispenser, msg string, args []string) error {
	if len(args) > 0 {
		msg += fmt.Sprintf(", got %q", strings.Join(args, " "))
	}
	return d.Err(msg)
}

// closesBlock reports whether tok is a structural "}".
func closesBlock(tok caddyfile.Token) bool {
	return tok.Text == "}" && !tok.Quoted()
}

// errAt returns an error located at tok, in the dispenser's format.
func errAt(tok caddyfile.Token, msg string) error {
	d := caddyfile.NewDispenser([]caddyfile.Token{tok})
	d.Next()
	return d.Err(msg)
}
