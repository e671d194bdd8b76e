package main

import (
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// The upstream plays the legacy application of the README, shaped like PyPI's
// log-in response: session_id for 12 hours, user_id__insecure as a session
// cookie, and a third cookie that no configuration names.
var (
	loginCookies = []string{
		"session_id=Zm9vYmFyYmF6cXV4LXNlc3Npb24; Max-Age=43200; Path=/; HttpOnly; Secure; SameSite=Lax",
		"user_id__insecure=8f14e45fceea167a; Path=/; Secure; SameSite=Lax",
		"csrf_token=4c1f0e3a9b7d2e61; Path=/; Secure; SameSite=Strict",
	}
	// The log-out deletes both cookies the two ways applications do it.
	logoutCookies = []string{
		"session_id=; Max-Age=0; Path=/",
		"user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
	}
	// A page of about the size of PyPI's small responses.
	pageBody = []byte("<!doctype html>\n<title>PyPI</title>\n" + strings.Repeat("<p>The Python Package Index helps you find and install software.</p>\n", 14))
)

// upstreamPaths are what the load test requests: the log-in (three
// Set-Cookie fields, two of them rewritten) and a page without cookies
// (what most responses are: the module must cost nothing there).
const (
	pathLogin  = "/login"
	pathLogout = "/logout"
	pathStatic = "/static"
)

// runUpstream serves the fixed responses on -addr until SIGTERM or SIGINT.
func runUpstream(args []string) {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	_ = fs.Parse(args)
	log.SetPrefix("upstream: ")

	mux := http.NewServeMux()
	respond := func(cookies []string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			h["Content-Type"] = []string{"text/html; charset=utf-8"}
			if cookies != nil {
				// net/http only reads the header map: sharing the slice
				// between requests is safe.
				h["Set-Cookie"] = cookies
			}
			_, _ = w.Write(pageBody)
		}
	}
	mux.HandleFunc(pathLogin, respond(loginCookies))
	mux.HandleFunc(pathLogout, respond(logoutCookies))
	mux.HandleFunc(pathStatic, respond(nil))

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		l.Close()
	}()
	srv := &http.Server{Handler: mux}
	if err := srv.Serve(l); err != nil && !isClosed(err) {
		log.Fatal(err)
	}
}

func isClosed(err error) bool {
	return errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed)
}
