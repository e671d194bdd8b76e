package cookienormalizer

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// fuzzLocation is how every Caddyfile error of the directive ends: the
// file and the line it is about.
var fuzzLocation = regexp.MustCompile(`, at Fuzzfile:([0-9]+)$`)

// FuzzCaddyfile feeds the directive's parser any text that Caddy's lexer
// reads as a cookie_normalizer directive. Whatever the text: the parser
// does not panic; an error names a line of the text (", at Fuzzfile:N");
// and a directive that parses is a config Caddy loads, its JSON the same
// after a round trip, so that no error is left for `caddy run` to report
// without a line (provisioning refuses only what the parser has checked).
func FuzzCaddyfile(f *testing.F) {
	for _, seed := range []string{
		"cookie_normalizer session_id user_id__insecure {\n\texpire 12h\n}",
		"cookie_normalizer a b {\n\texpire like a\n\ton_delete cascade\n\ton_partial expire\n}",
		"cookie_normalizer {\n\tgroup login {\n\t\tcookies session_id user_id\n\t\texpire max 1d\n\t\tsecure on\n\t\thttponly\n\t\tsamesite lax\n\t\tpath /\n\t\tdomain example.com\n\t}\n\tgroup {\n\t\tcookies wh_* ~^t[0-9]+$\n\t\tsamesite remove\n\t\tdomain remove\n\t}\n\treport_only\n}",
		"cookie_normalizer {\n\tgroup s {\n\t\tcookies sid uid\n\t\texpire 30m\n\t\tpath /\n\t\tdomain example.com\n\t\tsecure on\n\t\tpartitioned on\n\t\tsamesite none\n\t\tslide 5m cookie __Host-stamp\n\t}\n}",
		"cookie_normalizer a {\n\texpire session\n\treport_only {\n\t}\n}",
		"cookie_normalizer \"\" {\n\tpath \"\"\n}",
		"cookie_normalizer {\n\tgroup x {\n\t\tcookies a\n\t\tsecure\n\t}\n\tgroup x {\n\t\tcookies b\n\t\tsecure\n\t}\n}",
		"cookie_normalizer __Host-a {\n\tdomain example.com\n}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tokens, err := caddyfile.Tokenize([]byte(src), "Fuzzfile")
		if err != nil || len(tokens) == 0 || tokens[0].Text != "cookie_normalizer" {
			return
		}
		d := caddyfile.NewDispenser(tokens)
		d.Next()
		seg := d.NextSegment()
		lines := strings.Count(src, "\n") + 1
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(seg)); err != nil {
			m := fuzzLocation.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("error without a line: %q\n%s", err, src)
			}
			if n, _ := strconv.Atoi(m[1]); n < 1 || n > lines {
				t.Fatalf("error at line %s of a %d-line text: %q\n%s", m[1], lines, err, src)
			}
			return
		}
		js, err := json.Marshal(&h)
		if err != nil {
			t.Fatalf("marshalling %+v: %v", h, err)
		}
		loaded, err := provisionJSON(t, string(js))
		if err != nil {
			t.Fatalf("parsed without error, but Caddy would refuse it without a line: %v\n%s\n%s", err, src, js)
		}
		again, err := json.Marshal(loaded)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(js) {
			t.Fatalf("the JSON changed on a round trip:\n %s\n %s", js, again)
		}
	})
}
