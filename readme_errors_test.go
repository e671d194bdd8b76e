package cookienormalizer

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// readmeErrorConfigs are the Caddyfiles behind the example messages of
// the README's Errors section, each as a file named Caddyfile holding the
// directive alone.
var readmeErrorConfigs = []string{
	"cookie_normalizer session_id {\n\tsecure on\n\texpire 12x\n}",
	"cookie_normalizer session_id {\n\tsamesite none\n}",
	"cookie_normalizer session_id {\n\tsecure on\n\tpath /\n\tslide 10m\n}",
	"cookie_normalizer session_id {\n\tsecure on\n\texpires 12h\n}",
}

// TestREADMEErrorExamples: every message the README's Errors section
// shows is what one of readmeErrorConfigs gives, byte for byte, and each
// of those gives one the README shows; the section shows those configs
// too, in order, after the messages.
func TestREADMEErrorExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n### Errors\n")
	_, block, ok2 := strings.Cut(section, "\n```\n")
	block, _, ok3 := strings.Cut(block, "\n```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md: no code block in the Errors section")
	}
	shown := strings.Split(block, "\n")
	section, _, _ = strings.Cut(section, "\n### ")
	var configs []string
	// The blocks after the messages' (plain ones: the README's caddyfile
	// blocks must load, see TestREADMECaddyfileBlocks).
	_, rest, _ := strings.Cut(section, "\n```\n")
	_, rest, _ = strings.Cut(rest, "\n```\n")
	for {
		var cfg string
		var found bool
		if _, rest, found = strings.Cut(rest, "\n```\n"); !found {
			break
		}
		if cfg, rest, found = strings.Cut(rest, "\n```\n"); !found {
			t.Fatal("README.md: a block in the Errors section is not closed")
		}
		configs = append(configs, cfg)
	}
	if !slices.Equal(configs, readmeErrorConfigs) {
		t.Errorf("the README's Errors section shows the configs\n%q\nwant, in the order of the messages,\n%q", configs, readmeErrorConfigs)
	}
	var got []string
	for _, cfg := range readmeErrorConfigs {
		tokens, err := caddyfile.Tokenize([]byte(cfg), "Caddyfile")
		if err != nil {
			t.Fatal(err)
		}
		var h Handler
		err = h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens))
		if err == nil {
			t.Errorf("%q: no error", cfg)
			continue
		}
		got = append(got, err.Error())
		if !slices.Contains(shown, err.Error()) {
			t.Errorf("%q gives\n  %s\nwhich the README's Errors section does not show:\n%s", cfg, err, block)
		}
	}
	for _, line := range shown {
		if !slices.Contains(got, line) {
			t.Errorf("the README's Errors section shows\n  %s\nwhich none of the configs gives: %q", line, got)
		}
	}
}
