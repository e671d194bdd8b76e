package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// capture is what one configuration sent for one request: the status line
// and the Set-Cookie field values, byte for byte as they were on the wire.
type capture struct {
	Config     string   `json:"config"`
	Path       string   `json:"path"`
	Jar        bool     `json:"jar,omitempty"` // the request carried cookieJar
	Status     string   `json:"status"`
	SetCookies []string `json:"set_cookies"`
}

// captureSetCookies sends a plain HTTP/1.1 request over a fresh connection
// and reads the response head as bytes, without net/http, which would
// canonicalise and re-split the fields. A non-empty jar is sent as the
// request's Cookie header.
func captureSetCookies(config string, port int, path, jar string) (capture, error) {
	c := capture{Config: config, Path: path, Jar: jar != ""}
	conn, err := net.DialTimeout("tcp", hostPort(port), 2*time.Second)
	if err != nil {
		return c, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + hostPort(port) + "\r\nUser-Agent: cookie-normalizer-bench\r\nConnection: close\r\n"
	if jar != "" {
		req += "Cookie: " + jar + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return c, err
	}
	br := bufio.NewReader(conn)
	for first := true; ; first = false {
		line, err := br.ReadString('\n')
		if err != nil {
			return c, fmt.Errorf("%s %s: reading the response head: %v", config, path, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if first {
			c.Status = line
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(name, "Set-Cookie") {
			c.SetCookies = append(c.SetCookies, strings.TrimLeft(value, " \t"))
		}
	}
	return c, nil
}

// checkCapture makes sure a configuration answers as configured, which also
// proves that the process we started, not some leftover sharing the port,
// is the one answering.
func checkCapture(c capture) error {
	if !strings.Contains(c.Status, " 200 ") && !strings.HasSuffix(c.Status, " 200") {
		return fmt.Errorf("%s %s: status %q, want 200", c.Config, c.Path, c.Status)
	}
	want := loginCookies
	if c.Path == pathLogout {
		want = logoutCookies
	}
	if len(c.SetCookies) != len(want) {
		return fmt.Errorf("%s %s: %d Set-Cookie fields, want %d: %q", c.Config, c.Path, len(c.SetCookies), len(want), c.SetCookies)
	}
	if c.Path != pathLogin {
		return nil
	}
	user := c.SetCookies[1]
	var ok bool
	switch c.Config {
	case cfgUpstream, cfgPlain, cfgPlainCopy, cfgHeaderFloor:
		ok = user == loginCookies[1]
	case cfgNormalizer:
		ok = strings.Contains(user, "; Max-Age=43200") && strings.Contains(user, "; Expires=")
	case cfgFull:
		ok = strings.Contains(user, "; Max-Age=43200") && strings.Contains(user, "; Expires=") && strings.Contains(user, "; HttpOnly")
	case cfgHeaderRegex:
		ok = user == loginCookies[1]+"; Max-Age=43200"
	case cfgNginx:
		ok = strings.Contains(user, "SameSite=Strict")
	case cfgNginxPathHax:
		ok = strings.Contains(user, "Max-Age=43200")
	default:
		ok = true
	}
	if !ok {
		return fmt.Errorf("%s %s: user_id__insecure came back as %q: is another server sharing the port?", c.Config, c.Path, user)
	}
	return nil
}
