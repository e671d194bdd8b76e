package cookienormalizer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// The configuration surface: what the Caddyfile and JSON forms accept,
// refuse, and where their errors point. Directives go through the
// Caddyfile adapter, as `caddy adapt` and `caddy validate` run them, inside
// hostileConfigFile's site (line n of a directive is line n+1 of the file).

// adaptPrefix is what the adapter puts before a directive's error.
const adaptPrefix = "parsing caddyfile tokens for 'cookie_normalizer': "

// adaptedHandlers returns the cookie_normalizer handlers of an adapted
// config, as JSON, in the order the config holds them.
func adaptedHandlers(t *testing.T, cfg []byte) []json.RawMessage {
	t.Helper()
	var root any
	d := json.NewDecoder(bytes.NewReader(cfg))
	d.UseNumber()
	if err := d.Decode(&root); err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["handler"] == "cookie_normalizer" {
				js, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, js)
				return
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(root)
	return out
}

// loadAdaptedHandler decodes a handler's JSON as Caddy loads a module
// (its "handler" key taken out, unknown fields refused), then provisions
// and validates it.
func loadAdaptedHandler(t *testing.T, js []byte) error {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(js, &fields); err != nil {
		t.Fatal(err)
	}
	delete(fields, "handler")
	js, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	var h Handler
	if err := caddy.StrictUnmarshalJSON(js, &h); err != nil {
		return err
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := h.Provision(ctx); err != nil {
		return err
	}
	return h.Validate()
}

// TestEmptyValueRefused: a policy line whose value is an empty token
// fails at its line. An empty token is what `domain "{$APP_DOMAIN}"`
// becomes when the variable is unset, and what a generated config writes
// for a missing value; read as "no such policy" it would load a config
// that silently leaves Domain, Path or SameSite as the app sent them (or
// names the slide stamp by default though `cookie` was written), or a
// group's label, which names it in logs, metrics and the stamp. An
// unquoted `domain {$UNSET}` is a missing argument, refused likewise.
func TestEmptyValueRefused(t *testing.T) {
	const unset = "COOKIE_NORMALIZER_TEST_NEVER_SET"
	if _, ok := os.LookupEnv(unset); ok {
		t.Skipf("%s is set", unset)
	}
	for _, tc := range []struct {
		directive string
		line      string // the line that should fail, in the file
		sub       string // the subdirective the error should name
	}{
		{"cookie_normalizer a {\n\tsecure on\n\tpath \"\"\n}", "Caddyfile:4", "path"},
		{"cookie_normalizer a {\n\tsecure on\n\tdomain \"\"\n}", "Caddyfile:4", "domain"},
		{"cookie_normalizer a {\n\tsecure on\n\tsamesite \"\"\n}", "Caddyfile:4", "samesite"},
		{"cookie_normalizer a {\n\tsecure on\n\tdomain \"{$" + unset + "}\"\n}", "Caddyfile:4", "domain"},
		{"cookie_normalizer a {\n\tsecure on\n\tpath \"{$" + unset + "}\"\n}", "Caddyfile:4", "path"},
		{"cookie_normalizer a {\n\texpire 1h\n\tpath /\n\tdomain remove\n\tslide 10m cookie \"\"\n}", "Caddyfile:6", "slide"},
		{"cookie_normalizer {\n\tgroup \"{$" + unset + "}\" {\n\t\tcookies a\n\t\tsecure on\n\t}\n}", "Caddyfile:3", "group"},
		{"cookie_normalizer {\n\tgroup \"\" {\n\t\tcookies a\n\t\tsecure on\n\t}\n}", "Caddyfile:3", "group"},
	} {
		cfg, err := testcaddy.Adapt(hostileConfigFile(tc.directive), "Caddyfile")
		if err == nil {
			t.Errorf("%q: loaded as %s; want an error naming %s at %s", tc.directive, adaptedHandlers(t, cfg), tc.sub, tc.line)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, adaptPrefix+tc.sub) || !strings.HasSuffix(msg, ", at "+tc.line) {
			t.Errorf("%q: got %q, want an error about %s at %s", tc.directive, msg, tc.sub, tc.line)
		}
	}
}

// TestCookieNameErrorAtItsLine: a bad exact name is reported at the
// `cookies` line that wrote it, not at the group's line (or the
// directive's, for the short form): in a group with many `cookies` lines
// the group's line would leave the operator to search.
func TestCookieNameErrorAtItsLine(t *testing.T) {
	for _, tc := range []struct {
		directive, want string
	}{
		{
			"cookie_normalizer {\n\tgroup g {\n\t\tsecure\n\t\tsamesite lax\n\t\tcookies a\n\t\tcookies b c \"d;e\"\n\t}\n}",
			`cookie "d;e": a '=', ';', whitespace, control or non-ASCII byte cannot be in a cookie name, at Caddyfile:7`,
		},
		{
			"cookie_normalizer a {\n\tsecure\n\tcookies \"b=c\"\n}",
			`cookie "b=c": a '=', ';', whitespace, control or non-ASCII byte cannot be in a cookie name, at Caddyfile:4`,
		},
		{
			"cookie_normalizer {\n\tgroup {\n\t\tsecure on\n\t\tcookies a {http.request.host}\n\t}\n}",
			`cookie "{http.request.host}": Caddy placeholders are not replaced in cookie names, at Caddyfile:5`,
		},
	} {
		_, err := testcaddy.Adapt(hostileConfigFile(tc.directive), "Caddyfile")
		if err == nil || err.Error() != adaptPrefix+tc.want {
			t.Errorf("%q:\n got  %v\n want %s", tc.directive, err, adaptPrefix+tc.want)
		}
	}
}

// TestReportOnlyTakesNoBlock: `report_only` followed by a block, even an
// empty one, fails saying so at its line, as every group subdirective
// does ("secure: takes no block"), rather than with `unrecognized
// subdirective "{"`, a token the operator did not write as one.
func TestReportOnlyTakesNoBlock(t *testing.T) {
	for _, tc := range []struct {
		directive, want string
	}{
		{"cookie_normalizer a {\n\tsecure\n\treport_only {\n\t\ton\n\t}\n}", "report_only: takes no block, at Caddyfile:4"},
		{"cookie_normalizer a {\n\treport_only {\n\t}\n\tsecure\n}", "report_only: takes no block, at Caddyfile:3"},
		{"cookie_normalizer {\n\treport_only {\n\t}\n\tgroup {\n\t\tcookies a\n\t\tsecure\n\t}\n}", "report_only: takes no block, at Caddyfile:3"},
	} {
		_, err := testcaddy.Adapt(hostileConfigFile(tc.directive), "Caddyfile")
		if err == nil || err.Error() != adaptPrefix+tc.want {
			t.Errorf("%q:\n got  %v\n want %s", tc.directive, err, adaptPrefix+tc.want)
		}
	}
}

// TestGlobPlaceholderRefused: a glob holding a Caddy placeholder fails at
// its line, as an exact name with one does. The adapter expands the
// shorthand `{host}` to `{http.request.host}` before the module sees it,
// and the module does not replace placeholders, so `cookies {host}_*`
// would match only names that start with the literal text
// "{http.request.host}_": neither a per-host prefix (what an operator
// writing a placeholder means) nor the literal "{host}_".
func TestGlobPlaceholderRefused(t *testing.T) {
	for _, tc := range []struct {
		directive, line string
	}{
		{"cookie_normalizer {\n\tgroup {\n\t\tsecure on\n\t\tcookies {host}_*\n\t}\n}", "Caddyfile:5"},
		{"cookie_normalizer {http.request.host}_* {\n\tsecure on\n}", "Caddyfile:2"},
	} {
		cfg, err := testcaddy.Adapt(hostileConfigFile(tc.directive), "Caddyfile")
		if err == nil {
			t.Errorf("%q: loaded as %s; want a placeholder error at %s", tc.directive, adaptedHandlers(t, cfg), tc.line)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "placeholder") || !strings.HasSuffix(msg, ", at "+tc.line) {
			t.Errorf("%q: got %q, want a placeholder error at %s", tc.directive, msg, tc.line)
		}
	}
}

// TestImportLocations: an error in a directive that comes from a
// snippet (in a site block with two addresses) or from an imported file
// points at the line in the snippet or file, with the import chain, also
// for the errors found once the whole directive is read (the group's line,
// the `expire like` line).
func TestImportLocations(t *testing.T) {
	snippet := `(cn) {
	cookie_normalizer {
		group x {
			cookies a
			secure on
		}
		group x {
			cookies b
			samesite %s
		}
	}
}
http://127.0.0.1:1, http://127.0.0.1:2 {
	import cn
	respond ok
}
`
	for _, tc := range []struct {
		samesite, want string
	}{
		{"loose", `samesite "loose": want strict, lax, none or remove, at Caddyfile:9 import chain ['Caddyfile:14 (import cn)']`},
		{"lax", `group "x": another group has this label too, and logs and metrics would count the two as one, at Caddyfile:7 import chain ['Caddyfile:14 (import cn)']`},
	} {
		_, err := testcaddy.Adapt(strings.Replace(snippet, "%s", tc.samesite, 1), "Caddyfile")
		if err == nil || err.Error() != adaptPrefix+tc.want {
			t.Errorf("snippet, samesite %s:\n got  %v\n want %s", tc.samesite, err, adaptPrefix+tc.want)
		}
	}

	dir := t.TempDir()
	inc := filepath.Join(dir, "cookies.caddy")
	main := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(inc, []byte("cookie_normalizer a {\n\texpire like a\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := testcaddy.Adapt("http://127.0.0.1:1 {\n\timport cookies.caddy\n\trespond ok\n}\n", main)
	want := adaptPrefix + `expire like "a": the leader is the group's only cookie and keeps its own expiry, so no cookie would follow it: add the cookies that should follow it to the group, at ` + inc + `:2 import chain ['` + main + `:2 (import)']`
	if err == nil || err.Error() != want {
		t.Errorf("imported file:\n got  %v\n want %s", err, want)
	}
}

// TestEnvAndOrder: Caddyfile-time environment variables fill values
// and patterns (also with a default), and a global `order` line moves the
// directive although it registers its own place.
func TestEnvAndOrder(t *testing.T) {
	t.Setenv("COOKIE_NORMALIZER_TEST_DOMAIN", "example.com")
	t.Setenv("COOKIE_NORMALIZER_TEST_NAMES", "sid uid")
	cfg, err := testcaddy.Adapt(testcaddy.GlobalOptions("\torder cookie_normalizer after respond\n")+`http://127.0.0.1:1 {
	respond ok
	cookie_normalizer {$COOKIE_NORMALIZER_TEST_NAMES} {
		domain {$COOKIE_NORMALIZER_TEST_DOMAIN}
		path {$COOKIE_NORMALIZER_TEST_UNSET_PATH:/app}
	}
}
`, "Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	hs := adaptedHandlers(t, cfg)
	if want := `{"groups":[{"cookies":["sid","uid"],"domain":"example.com","path":"/app"}],"handler":"cookie_normalizer"}`; len(hs) != 1 || string(hs[0]) != want {
		t.Errorf("got %s, want %s", hs, want)
	}
	// After respond, as the order line says: respond's static_response
	// comes first in the route.
	if i, j := bytes.Index(cfg, []byte(`"static_response"`)), bytes.Index(cfg, []byte(`"cookie_normalizer"`)); i < 0 || j < 0 || i > j {
		t.Errorf("the order line did not put cookie_normalizer after respond:\n%s", cfg)
	}
}

// readmeBlocks returns the fenced blocks of README.md in the given
// language, with the line each starts on, their indentation removed.
func readmeBlocks(t *testing.T, lang string) (lines []int, blocks []string) {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cur *strings.Builder
	indent := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```"+lang:
			cur = &strings.Builder{}
			indent = line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			lines = append(lines, n)
		case cur != nil && trimmed == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(strings.TrimPrefix(line, indent) + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines, blocks
}

// TestREADMECaddyfileBlocks: every Caddyfile block of the README but
// the grammar adapts, and each cookie_normalizer handler it adapts to
// loads from its JSON as Caddy loads a module. A block of global options
// gets a site; a block of directives goes into one. (TestREADMETranscripts
// runs the two example files.) The recipes' blocks must also be what
// docs/recipes.Caddyfile runs, since the README's transcripts of them
// come from that file.
func TestREADMECaddyfileBlocks(t *testing.T) {
	recipes, err := os.ReadFile("docs/recipes.Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	flat := func(s string) string {
		var b strings.Builder
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				b.WriteString(l + "\n")
			}
		}
		return b.String()
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	recipesStart := bytes.Count(readme[:bytes.Index(readme, []byte("\n## Recipes\n"))], []byte("\n")) + 1
	recipesEnd := bytes.Count(readme[:bytes.Index(readme, []byte("\n## Coming from"))], []byte("\n")) + 1

	lines, blocks := readmeBlocks(t, "caddyfile")
	checked := 0
	for i, block := range blocks {
		if strings.Contains(block, "<policy...>") {
			continue // the grammar
		}
		var src string
		switch first := strings.TrimSpace(block); {
		case strings.HasPrefix(first, "{"):
			src = block + "http://127.0.0.1:1 {\n\trespond ok\n}\n"
		case strings.HasPrefix(first, "app.example.com {"):
			src = testcaddy.Globals + strings.Replace(block, "app.example.com", "http://127.0.0.1:1", 1)
		default:
			src = testcaddy.Globals + "http://127.0.0.1:1 {\n" + block + "\trespond ok\n}\n"
		}
		cfg, err := testcaddy.Adapt(src, "Caddyfile")
		if err != nil {
			t.Errorf("README.md:%d: %v\n%s", lines[i], err, block)
			continue
		}
		checked++
		hs := adaptedHandlers(t, cfg)
		want := 0
		for _, l := range strings.Split(block, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "cookie_normalizer ") {
				want++
			}
		}
		if len(hs) != want {
			t.Errorf("README.md:%d: %d handlers adapted, want %d", lines[i], len(hs), want)
		}
		for _, h := range hs {
			if err := loadAdaptedHandler(t, h); err != nil {
				t.Errorf("README.md:%d: the adapted handler %s does not load: %v", lines[i], h, err)
			}
		}
		if lines[i] > recipesStart && lines[i] < recipesEnd && strings.Contains(block, "cookie_normalizer") && !strings.Contains(flat(string(recipes)), flat(block)) {
			t.Errorf("README.md:%d: the recipe is not the one docs/recipes.Caddyfile runs:\n%s", lines[i], block)
		}
	}
	if checked < 10 {
		t.Errorf("checked %d README blocks, want at least 10", checked)
	}
}

// TestREADMEJSONBlock: the README's JSON handler loads, and it is the
// handler `caddy adapt` makes of Caddyfile.example, as the README says.
func TestREADMEJSONBlock(t *testing.T) {
	lines, blocks := readmeBlocks(t, "json")
	if len(blocks) != 1 {
		t.Fatalf("%d json blocks in the README, want the one handler", len(blocks))
	}
	if err := loadAdaptedHandler(t, []byte(blocks[0])); err != nil {
		t.Errorf("README.md:%d: %v", lines[0], err)
	}
	src, err := os.ReadFile("Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := testcaddy.Adapt(string(src), "Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	var readme bytes.Buffer
	if err := json.Compact(&readme, []byte(blocks[0])); err != nil {
		t.Fatal(err)
	}
	if hs := adaptedHandlers(t, cfg); len(hs) != 1 || string(hs[0]) != readme.String() {
		t.Errorf("README.md:%d shows %s; Caddyfile.example adapts to %s", lines[0], readme.String(), hs)
	}
}

// TestNamedRouteAdapterKeepsFirstDirective pins the Caddy behaviour the
// README warns of: Caddy's Caddyfile adapter (v2.11.9) keeps only the
// first handler of a named route whose directives have no matcher, so
// `cookie_normalizer` and `reverse_proxy` side by side in `&(name)`
// load as the module alone, and wrapped in `route` they load together.
// When a Caddy upgrade fails this test, the README's note is stale.
func TestNamedRouteAdapterKeepsFirstDirective(t *testing.T) {
	named := func(body string) []string {
		t.Helper()
		cfg, err := testcaddy.Adapt("&(page) {\n"+body+"\n}\nhttp://127.0.0.1:1 {\n\tinvoke page\n}\n", "Caddyfile")
		if err != nil {
			t.Fatal(err)
		}
		var root struct {
			Apps struct {
				HTTP struct {
					Servers map[string]struct {
						NamedRoutes map[string]struct {
							Handle []json.RawMessage `json:"handle"`
						} `json:"named_routes"`
					} `json:"servers"`
				} `json:"http"`
			} `json:"apps"`
		}
		if err := json.Unmarshal(cfg, &root); err != nil {
			t.Fatal(err)
		}
		var handlers []string
		for _, srv := range root.Apps.HTTP.Servers {
			for _, h := range srv.NamedRoutes["page"].Handle {
				handlers = append(handlers, string(h))
			}
		}
		return handlers
	}
	const cn = "cookie_normalizer session_id {\n\ton_delete cascade\n}"
	if got := named(cn + "\nreverse_proxy 127.0.0.1:2"); len(got) != 1 || !strings.Contains(got[0], `"handler":"cookie_normalizer"`) || strings.Contains(got[0], "reverse_proxy") {
		t.Errorf("side by side: named route handlers %v, want the module alone", got)
	}
	if got := named("route {\n" + cn + "\nreverse_proxy 127.0.0.1:2\n}"); len(got) != 1 || !strings.Contains(got[0], `"handler":"cookie_normalizer"`) || !strings.Contains(got[0], `"handler":"reverse_proxy"`) {
		t.Errorf("in route: named route handlers %v, want one subroute holding both", got)
	}
}
