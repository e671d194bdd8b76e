package cookienormalizer

import (
	"errors"
	"regexp"
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
//		expire session | <duration> | max <duration> | like <cookie-name>
//	}
//
//	# Long form: several groups; the first group whose pattern matches a
//	# cookie wins.
//	cookie_normalizer [<matcher>] {
//		group [<label>] {
//			cookies <pattern...>
//			expire  session | <duration> | max <duration> | like <cookie-name>
//		}
//	}
//
// A <pattern> is an exact cookie name, a glob with `*`, or a Go regular
// expression prefixed with `~`. Every error names the file and line.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	directive := d.Token()

	// likeTokens remembers where each group's `expire like` was written, so
	// that a loop found once all groups are known is reported there.
	likeTokens := map[int]caddyfile.Token{}

	var short *Group
	if args := d.RemainingArgs(); len(args) > 0 {
		if err := checkPatterns(d, args); err != nil {
			return err
		}
		short = &Group{Cookies: args}
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "expire":
			if short == nil {
				return d.Err("expire outside a group: give the cookie patterns as arguments of cookie_normalizer, or put expire in a group block")
			}
			if err := parseExpire(d, short); err != nil {
				return err
			}
			if short.Expire.Mode == modeLike {
				likeTokens[0] = d.Token()
			}
		case "group":
			if short != nil {
				return d.Err("group blocks cannot follow cookie patterns given as arguments: use either the short form or group blocks")
			}
			g, like, err := parseGroup(d)
			if err != nil {
				return err
			}
			if g.Expire.Mode == modeLike {
				likeTokens[len(h.Groups)] = like
			}
			h.Groups = append(h.Groups, g)
		default:
			return d.Errf("unrecognized subdirective %q", d.Val())
		}
	}
	if short != nil {
		if short.Expire == nil {
			return errAt(directive, "cookie_normalizer: missing expire policy: add a block with expire session, <duration>, max <duration> or like <cookie>")
		}
		h.Groups = []Group{*short}
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
		return errAt(directive, err.Error())
	}
	return nil
}

// parseGroup parses a group block. It returns the token of its `expire
// like` argument, if any.
func parseGroup(d *caddyfile.Dispenser) (Group, caddyfile.Token, error) {
	var (
		g    Group
		like caddyfile.Token
	)
	groupToken := d.Token()
	args := d.RemainingArgs()
	switch len(args) {
	case 0:
	case 1:
		g.Label = args[0]
	default:
		return g, like, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "cookies":
			patterns := d.RemainingArgs()
			if len(patterns) == 0 {
				return g, like, d.Err("cookies: expected at least one cookie pattern")
			}
			if err := checkPatterns(d, patterns); err != nil {
				return g, like, err
			}
			g.Cookies = append(g.Cookies, patterns...)
		case "expire":
			if err := parseExpire(d, &g); err != nil {
				return g, like, err
			}
			like = d.Token()
		default:
			return g, like, d.Errf("unrecognized subdirective %q in group", d.Val())
		}
	}
	if len(g.Cookies) == 0 {
		return g, like, errAt(groupToken, "group without cookies: add cookies <pattern...>")
	}
	if g.Expire == nil {
		return g, like, errAt(groupToken, "group without a policy: add expire session, <duration>, max <duration> or like <cookie>")
	}
	return g, like, nil
}

// parseExpire parses `expire session | <duration> | max <duration> | like
// <cookie>` into g.
func parseExpire(d *caddyfile.Dispenser, g *Group) error {
	if g.Expire != nil {
		return d.Err("expire: this group already has an expire policy")
	}
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.Err("expire: expected session, <duration>, max <duration> or like <cookie>")
	}
	e := &ExpiryPolicy{}
	switch args[0] {
	case modeSession:
		if len(args) != 1 {
			return d.Err("expire session: takes no further argument")
		}
		e.Mode = modeSession
	case modeMax:
		if len(args) != 2 {
			return d.Err("expire max: expected one duration, as in expire max 12h")
		}
		dur, err := parseLifetime(d, args[1])
		if err != nil {
			return err
		}
		e.Mode, e.Duration = modeMax, dur
	case modeLike:
		if len(args) != 2 {
			return d.Err("expire like: expected one cookie name, as in expire like session_id")
		}
		e.Mode, e.Like = modeLike, args[1]
	default:
		if len(args) != 1 {
			return d.Errf("expire: expected session, <duration>, max <duration> or like <cookie>, got %q", strings.Join(args, " "))
		}
		dur, err := parseLifetime(d, args[0])
		if err != nil {
			return err
		}
		e.Mode, e.Duration = modeFixed, dur
	}
	g.Expire = e
	return nil
}

// parseLifetime parses a Caddy duration (`12h`, `30m`, `7d`) and checks
// that it is whole seconds, at least one.
func parseLifetime(d *caddyfile.Dispenser, s string) (caddy.Duration, error) {
	dur, err := caddy.ParseDuration(s)
	if err != nil {
		return 0, d.Errf("expire: expected session, <duration>, max <duration> or like <cookie>; %q is not a duration: %v", s, err)
	}
	if err := checkLifetime(dur); err != nil {
		return 0, d.Errf("expire: %v", err)
	}
	return caddy.Duration(dur), nil
}

// checkPatterns rejects empty patterns and regular expressions that do not
// compile, at the line that wrote them.
func checkPatterns(d *caddyfile.Dispenser, patterns []string) error {
	for _, p := range patterns {
		switch {
		case emptyPattern(p):
			return d.Errf("empty cookie pattern %q", p)
		case strings.HasPrefix(p, "~"):
			if _, err := regexp.Compile(p[1:]); err != nil {
				return d.Errf("invalid regular expression in pattern %q: %v", p, err)
			}
		}
	}
	return nil
}

// errAt returns an error located at tok, in the dispenser's format.
func errAt(tok caddyfile.Token, msg string) error {
	d := caddyfile.NewDispenser([]caddyfile.Token{tok})
	d.Next()
	return d.Err(msg)
}
