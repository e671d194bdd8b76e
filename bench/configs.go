package main

import (
	"fmt"
	"strings"
)

// The configurations under test. Every server binds 127.0.0.1 only.

// The proxy configurations, by name: the upstream alone as the ceiling,
// (1) to (5) in front of it, and nginx's proxy_cookie_path trick, which is
// only captured, not load-tested.
const (
	cfgUpstream     = "upstream"
	cfgPlain        = "plain"
	cfgPlainCopy    = "plain-copy"
	cfgNormalizer   = "normalizer"
	cfgHeaderRegex  = "header-regex"
	cfgHeaderFloor  = "header-floor"
	cfgNginx        = "nginx"
	cfgFull         = "full"
	cfgNginxPathHax = "nginx-cookie-path"
)

// cfgDescriptions say what each configuration does, in the tables.
var cfgDescriptions = map[string]string{
	cfgUpstream:     "the upstream alone, no proxy (the ceiling)",
	cfgPlain:        "(1) Caddy `reverse_proxy`",
	cfgPlainCopy:    "(1') the same as (1), a second site: the A/A control",
	cfgNormalizer:   "(2) Caddy `reverse_proxy` + `cookie_normalizer session_id user_id__insecure { expire 12h }`",
	cfgHeaderRegex:  "(3) Caddy `reverse_proxy` + `" + headerRegexLine + "`",
	cfgNginx:        "(4) nginx `proxy_pass` + `proxy_cookie_flags ~^(session_id|user_id__insecure)$ secure samesite=strict`",
	cfgFull:         "(5) Caddy `reverse_proxy` + the full-feature `cookie_normalizer` (expiry, attributes, both consistency rules, metrics)",
	cfgNginxPathHax: "nginx `proxy_pass` + `proxy_cookie_path / \"/; Max-Age=43200\"` (capture only)",
}

// cfgNumbers are the short names of the configurations in table cells and
// charts.
var cfgNumbers = map[string]string{
	cfgUpstream:    "upstream alone",
	cfgPlain:       "(1) reverse_proxy",
	cfgPlainCopy:   "(1') reverse_proxy, second site",
	cfgNormalizer:  "(2) expiry only",
	cfgHeaderRegex: "(3) header regex",
	cfgHeaderFloor: "(6) deferred header edit",
	cfgNginx:       "(4) nginx",
	cfgFull:        "(5) full config",
}

// normalizerDirective is configuration (2): the expiry policy alone.
const normalizerDirective = `cookie_normalizer session_id user_id__insecure {
		expire 12h
	}`

// headerFloorLine is configuration (6): Caddy's header directive deleting,
// once the response is written, a field no response has. It wraps the
// response writer as every handler that edits the response's header must,
// and does nothing else.
const headerFloorLine = `header >-X-Not-Sent`

// headerRegexLine is configuration (3): the regex replace the README compares with.
const headerRegexLine = `header >Set-Cookie "^((?:session_id|user_id__insecure)=.*)$" "$1; Max-Age=43200"`

// fullDirective is configuration (5): every feature that runs per request
// (expiry, the three attribute policies, both consistency rules; metrics
// are always on in Caddy's registry).
const fullDirective = `cookie_normalizer session_id user_id__insecure {
		expire 12h
		secure on
		httponly on
		samesite lax
		on_delete cascade
		on_partial expire
	}`

// cookieJar is the Cookie header of the requests to the jar targets: ten
// cookies of a logged-in browser, the whole group among them.
const cookieJar = "_ga=GA1.2.1234567890.1764000000; _gid=GA1.2.987654321.1764000000; theme=dark; " +
	"session_id=Zm9vYmFyYmF6cXV4LXNlc3Npb24; lang=en; csrf_token=4c1f0e3a9b7d2e61; " +
	"user_id__insecure=8f14e45fceea167a; tz=Europe%2FBerlin; consent=1; _pk_id.1=9a1f3c0e2b7d4e61"

// target is one thing wrk drives: a configuration, a path and whether the
// requests carry cookieJar.
type target struct {
	Name   string // key in the results: config, then "-jar" and "-static" as they apply
	Config string
	Port   int
	Path   string
	Jar    bool
	Server string // "upstream", "caddy" or "nginx"
	Base   string // the target its ratios are against; "" for none
}

// newTarget names a target after what it is; its ratios are against (1)
// on the same path, with or without the jar as it is.
func newTarget(config string, port int, path string, jar bool, server string) target {
	return target{Name: targetName(config, path, jar), Config: config, Port: port, Path: path, Jar: jar, Server: server,
		Base: targetName(cfgPlain, path, jar)}
}

// targetName is config, then "-jar" and "-static" as they apply.
func targetName(config, path string, jar bool) string {
	if jar {
		config += "-jar"
	}
	if path == pathStatic {
		config += "-static"
	}
	return config
}

// label names a target in a table cell or a chart: "(5) full config,
// 10-cookie jar, no Set-Cookie".
func (t target) label() string {
	l := cfgNumbers[t.Config]
	if t.Jar {
		l += ", 10-cookie jar"
	}
	if t.Path == pathStatic {
		l += ", no Set-Cookie"
	}
	return l
}

func (t target) url() string { return "http://" + hostPort(t.Port) + t.Path }

// ports are the 127.0.0.1 ports of one run.
type ports struct {
	upstream, plain, normalizer, headerRegex, plainCopy, full, nginx, nginxPathHack int
	admin                                                                           int // Caddy's admin endpoint, for CPU profiles
}

// loadBlocks are the load-tested targets, in blocks of targets that are
// compared with each other and so run back to back in every round.
func loadBlocks(p ports, nginx bool) [][]target {
	login := func(config string, port int, server string) target {
		return newTarget(config, port, pathLogin, false, server)
	}
	blocks := [][]target{
		{login(cfgUpstream, p.upstream, "upstream")},
		{login(cfgPlain, p.plain, "caddy"), login(cfgNormalizer, p.normalizer, "caddy"), login(cfgHeaderRegex, p.headerRegex, "caddy")},
	}
	if nginx {
		blocks = append(blocks, []target{login(cfgNginx, p.nginx, "nginx")})
	}
	return append(blocks,
		[]target{newTarget(cfgPlain, p.plain, pathStatic, false, "caddy"), newTarget(cfgNormalizer, p.normalizer, pathStatic, false, "caddy")},
		[]target{newTarget(cfgPlain, p.plain, pathLogin, true, "caddy"), newTarget(cfgFull, p.full, pathLogin, true, "caddy")},
		[]target{newTarget(cfgPlain, p.plain, pathStatic, true, "caddy"), newTarget(cfgFull, p.full, pathStatic, true, "caddy")},
	)
}

// controlTarget is (1') on the log-in: it takes part in the paired runs
// only, as the A/A control.
func controlTarget(p ports) target {
	return newTarget(cfgPlainCopy, p.plainCopy, pathLogin, false, "caddy")
}

// comparisons are the pairs of targets the paired runs compare, {base,
// target}. The first is the A/A control: (1') is (1) again, on its own
// port, so its ratio to (1) would be 1 without the method's own bias and
// noise.
var comparisons = [][2]string{
	{"plain", "plain-copy"},
	{"plain", "normalizer"},
	{"plain", "header-regex"},
	{"header-regex", "normalizer"},
	{"plain-static", "normalizer-static"},
	{"plain-jar", "full-jar"},
	{"plain-jar-static", "full-jar-static"},
}

// caddyfile returns the Caddyfile of the Caddy configurations, one site
// each, in one Caddy process: a site that gets no requests costs nothing,
// and one process is one PID to stop.
func caddyfile(p ports) string {
	up := hostPort(p.upstream)
	return fmt.Sprintf(`{
	admin %[9]s
	persist_config off
	auto_https off
	grace_period 2s
}

# (1) plain reverse_proxy
http://%[2]s {
	bind 127.0.0.1
	reverse_proxy %[1]s
}

# (2) reverse_proxy + cookie_normalizer, expiry only
http://%[3]s {
	bind 127.0.0.1
	%[10]s
	reverse_proxy %[1]s
}

# (3) reverse_proxy + the header directive's regex replace
http://%[4]s {
	bind 127.0.0.1
	%[5]s
	reverse_proxy %[1]s
}

# (1') the same as (1): the A/A control of the paired runs
http://%[6]s {
	bind 127.0.0.1
	reverse_proxy %[1]s
}

# (5) reverse_proxy + the full-feature cookie_normalizer
http://%[7]s {
	bind 127.0.0.1
	%[8]s
	reverse_proxy %[1]s
}
`, up, hostPort(p.plain), hostPort(p.normalizer), hostPort(p.headerRegex), headerRegexLine, hostPort(p.plainCopy),
		hostPort(p.full), fullDirective, hostPort(p.admin), normalizerDirective)
}

// nginxConf returns an nginx configuration that keeps everything in dir:
// pid file, error log, temporary files. Like Caddy, it keeps connections to
// the upstream alive, and it logs no access.
func nginxConf(dir string, p ports) string {
	r := strings.NewReplacer("{dir}", dir)
	return r.Replace(fmt.Sprintf(`# Generated by the cookie_normalizer load harness.
worker_processes auto;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;

events {
	worker_connections 1024;
}

http {
	access_log off;
	client_body_temp_path {dir}/client_body;
	proxy_temp_path {dir}/proxy;
	fastcgi_temp_path {dir}/fastcgi;
	uwsgi_temp_path {dir}/uwsgi;
	scgi_temp_path {dir}/scgi;

	upstream app {
		server %[1]s;
		keepalive 32;
	}

	# (4) proxy_pass + proxy_cookie_flags: stock nginx can change a named
	# cookie's flags, not its expiry.
	server {
		listen %[2]s;
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_cookie_flags ~^(session_id|user_id__insecure)$ secure samesite=strict;
		}
	}

	# The trick that does change the expiry in stock nginx: append Max-Age
	# to every cookie's Path=/ (any name). Captured, not load-tested.
	server {
		listen %[3]s;
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_cookie_path / "/; Max-Age=43200";
		}
	}
}
`, hostPort(p.upstream), hostPort(p.nginx), hostPort(p.nginxPathHack)))
}
