package cookienormalizer

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// markdownLink is an inline link or image, [text](target), as the
// project's documents write them (no spaces in targets, no titles).
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// markdownAnchor is an explicit anchor, <a id="…">.
var markdownAnchor = regexp.MustCompile(`<a id="([^"]+)">`)

// markdownAnchors returns the anchors a Markdown file offers, as GitHub
// renders it: each heading's slug (lower case, spaces to '-', every
// character but letters, digits, '-' and '_' dropped; a repeated slug
// gets -1, -2, …) and every <a id="…">. Fenced blocks hold no headings.
func markdownAnchors(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		for _, m := range markdownAnchor.FindAllStringSubmatch(line, -1) {
			anchors[m[1]] = true
		}
		if !strings.HasPrefix(line, "#") {
			continue
		}
		heading := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(heading) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f:
				b.WriteRune(r)
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			anchors[slug+"-"+strconv.Itoa(n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

// TestMarkdownLinks: every relative link in the project's documents
// points at a file of the checkout, and every #anchor at a heading or an
// <a id> of its file. The reference is split between the README and
// docs/, so a section moved from one to the other must take its links
// along.
func TestMarkdownLinks(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob("docs/*.md")
	files = append(files, docs...)
	if len(files) < 6 {
		t.Fatalf("found only %v", files)
	}
	anchorsOf := map[string]map[string]bool{}
	anchors := func(path string) (map[string]bool, bool) {
		if a, ok := anchorsOf[path]; ok {
			return a, true
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, false
		}
		anchorsOf[path] = markdownAnchors(string(text))
		return anchorsOf[path], true
	}
	checked := 0
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		fenced := false
		for i, line := range strings.Split(string(text), "\n") {
			if strings.HasPrefix(line, "```") {
				fenced = !fenced
			}
			if fenced {
				continue
			}
			for _, m := range markdownLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				if path == "" {
					path = file
				} else {
					path = filepath.Join(filepath.Dir(file), path)
				}
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s:%d: link %q: no file %s", file, i+1, target, path)
					continue
				}
				checked++
				if anchor == "" || !strings.HasSuffix(path, ".md") {
					continue
				}
				if a, _ := anchors(path); !a[anchor] {
					t.Errorf("%s:%d: link %q: %s has no anchor %q", file, i+1, target, path, anchor)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked %d links, want at least 50", checked)
	}
}
