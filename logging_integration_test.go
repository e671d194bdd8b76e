package cookienormalizer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// TestCaddyIntegrationModuleLog runs the README's recipe for the module's
// debug lines alone (a global log that includes only the module's logger,
// at debug) in a real Caddy whose default log stays at errors, and reads
// what it writes: one JSON line per matched cookie, from the logger
// http.handlers.cookie_normalizer, with the cookie's name, group and
// action, and no value anywhere.
func TestCaddyIntegrationModuleLog(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "cookies.log")
	site := testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.GlobalOptions(fmt.Sprintf(`	log cookies {
		output file %s
		format json
		level DEBUG
		include http.handlers.cookie_normalizer
	}
`, logFile))+fmt.Sprintf(`
http://%s {
	bind 127.0.0.1
	cookie_normalizer session_id user_id__insecure {
		expire 12h
	}
	header +Set-Cookie "session_id=SECRET-1; Max-Age=60; Path=/"
	header +Set-Cookie "theme=SECRET-2"
	respond "page"
}
`, site))
	resp, err := http.Get("http://" + site + "/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := resp.Header.Values("Set-Cookie"); len(got) != 2 || !strings.Contains(got[0], "; Max-Age=43200") {
		t.Fatalf("Set-Cookie %q: the module did not rewrite session_id", got)
	}

	f, err := os.Open(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "SECRET") {
			t.Errorf("a cookie value was logged: %s", sc.Text())
		}
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		lines = append(lines, fmt.Sprintf("%v %v %v %v %v %v", e["level"], e["logger"], e["msg"], e["cookie"], e["group"], e["action"]))
	}
	want := []string{"debug http.handlers.cookie_normalizer set-cookie session_id session_id rewritten"}
	if !equalStrings(lines, want) {
		t.Errorf("the module's log:\n %q\nwant\n %q", lines, want)
	}
}
