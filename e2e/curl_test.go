package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCurl runs the scenarios with curl's cookie engine, over HTTPS,
// reading the jar from the Netscape cookie file curl writes (-c).
//
// curl 7.88.1 (Debian 12) loses all but the last deletion of a response
// when its jar was read from a file with -b (curl/curl#10677): log-out
// would leave session_id behind even without Caddy. So instead of one curl
// per request sharing a file, each check replays the scenario's requests so
// far in one curl process, whose in-memory jar carries the cookies from
// request to request, and which writes the file when it exits.
func TestCurl(t *testing.T) {
	curl := requireProgram(t, "curl", "curl")
	runScenarios(t, startTLSProxy, func(t *testing.T) cookieClient {
		return &curlClient{curl: curl, file: filepath.Join(t.TempDir(), "cookies.txt")}
	})
}

// curlClient drives curl with a cookie file of its own.
type curlClient struct {
	curl, file string
	urls       []string // requested so far, replayed in order
}

func (c *curlClient) get(ctx context.Context, url string) error {
	c.urls = append(c.urls, url)
	if err := os.Remove(c.file); err != nil && !os.IsNotExist(err) {
		return err
	}
	args := []string{
		"--silent", "--show-error",
		"--noproxy", "*", // 127.0.0.1 only, whatever the environment says
		"--insecure", // Caddy's local CA is made afresh for each scenario
		// The time a browser's step gets.
		"--max-time", strconv.Itoa(int(stepTimeout / time.Second)),
		"--cookie-jar", c.file,
		"--write-out", "%{http_code}\n",
	}
	for _, u := range c.urls {
		args = append(args, "--output", os.DevNull, u)
	}
	// exec.CommandContext kills the process it started when ctx ends.
	cmd := exec.CommandContext(ctx, c.curl, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	if codes := strings.Fields(string(out)); len(codes) != len(c.urls) || slices.ContainsFunc(codes, func(code string) bool { return code != "200" }) {
		return fmt.Errorf("%s: status codes %q, want 200 for each of %d requests", strings.Join(cmd.Args, " "), codes, len(c.urls))
	}
	return nil
}

// cookies parses the cookie file curl wrote. Netscape format, one cookie a
// line, tab-separated: domain, include subdomains, path, secure, expiry
// (epoch seconds, 0 for a session cookie), name, value. curl marks
// HttpOnly cookies by prefixing the line with "#HttpOnly_".
func (c *curlClient) cookies(context.Context) ([]storedCookie, error) {
	f, err := os.Open(c.file)
	if os.IsNotExist(err) {
		return nil, nil // curl writes no file for an empty jar
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var jar []storedCookie
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		httpOnly := false
		if rest, ok := strings.CutPrefix(line, "#HttpOnly_"); ok {
			line, httpOnly = rest, true
		} else if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("cookie file line %q: %d fields, want 7", line, len(f))
		}
		if f[0] != "127.0.0.1" || f[2] != "/" {
			return nil, fmt.Errorf("cookie %s stored for domain %q path %q, want 127.0.0.1 and /", f[5], f[0], f[2])
		}
		expiry, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cookie file line %q: expiry: %v", line, err)
		}
		ck := storedCookie{
			name:  f[5],
			value: f[6],
			attrs: &storedAttrs{httpOnly: httpOnly, secure: f[3] == "TRUE"},
		}
		if expiry != 0 {
			ck.expires = time.Unix(expiry, 0)
		}
		jar = append(jar, ck)
	}
	return jar, sc.Err()
}
