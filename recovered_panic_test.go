package cookienormalizer

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// A logger's core that panics in the middle of the final rewrite, and a
// handler behind the module that recovers from it and answers: what it
// sends must be what it sends when nothing panics.

// serveWithLogPanic serves write through a new Handler for config, on a
// new writer that sends the header map at WriteHeader, with the request's
// Cookie header cookie; the logger's core panics at its panicAt-th entry
// (never for 0). It returns what the writer below received, and whether
// the core panicked.
func serveWithLogPanic(t *testing.T, config, cookie string, panicAt int, write func(w http.ResponseWriter) error) historyResult {
	return serveWithLogPanicOn(t, histEarly, false, config, cookie, panicAt, nil, write)
}

// serveWithLogPanicOn is serveWithLogPanic on a writer that sends the
// header map as serialise says (and whose flushes fail with failFlush),
// after warm (unless nil) has gone through the same Handler, without a
// panic.
func serveWithLogPanicOn(t *testing.T, serialise int, failFlush bool, config, cookie string, panicAt int, warm, write func(w http.ResponseWriter) error) historyResult {
	t.Helper()
	pool := installHistoryPool(t)
	pool.drain()
	h, err := provisionJSON(t, config)
	if err != nil {
		t.Fatal(err)
	}
	core := &recordingCore{}
	h.setLogger(zap.New(core))
	h.norm.now = func() time.Time { return testClock }
	serve := func(write func(w http.ResponseWriter) error) *historyWriter {
		w := &historyWriter{header: http.Header{}, serialise: serialise, failFlush: failFlush, failHijack: true}
		next := caddyhttp.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) error {
			rw.Header().Set("Date", testDate)
			return write(rw)
		})
		req := benchRequest()
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		if err := h.ServeHTTP(w, req, next); err != nil {
			t.Fatal(err)
		}
		w.end(false)
		return w
	}
	if warm != nil {
		serve(warm)
	}
	core.reset(panicAt)
	w := serve(write)
	return historyResult{events: w.events, logPanicked: core.panicked()}
}

// TestRecoveredLogPanicSendsWhatNoPanicSends: whichever log line of the
// final rewrite the logger's core panics at, a handler that recovers and
// answers sends the bytes it sends when nothing panics. A rewrite cut
// short has recorded what it cannot finish: a group whose rules spoke
// before a later group's line panicked must speak again, since what it
// appended never reached the header map; the Cache-Control directive its
// deletions called for must not go out without them; and an `expire like`
// follower it changed in place must start again from the handler's
// field, since the handler may log the leader out before it answers.
func TestRecoveredLogPanicSendsWhatNoPanicSends(t *testing.T) {
	for _, tc := range []struct {
		name, config, cookie string
		// fields are the handler's Set-Cookie fields before WriteHeader;
		// edit is what it does to the header map once it has recovered.
		fields []string
		edit   func(h http.Header)
	}{
		{
			name:   "two partial expiries, the second group's line panics",
			config: `{"groups":[{"cookies":["a","b"],"on_partial":"expire"},{"cookies":["c","d"],"on_partial":"expire"}]}`,
			cookie: "a=1; c=1",
			fields: []string{"x=1; Path=/"},
			edit:   func(http.Header) {},
		},
		{
			name:   "two partial expiries, then the handler sets members of both groups",
			config: `{"groups":[{"cookies":["a","b"],"on_partial":"expire"},{"cookies":["c","d"],"on_partial":"expire"}]}`,
			cookie: "a=1; c=1",
			fields: []string{"x=1; Path=/"},
			edit: func(h http.Header) {
				h.Add("Set-Cookie", "a=2; Path=/")
				h.Add("Set-Cookie", "c=2; Path=/")
			},
		},
		{
			name:   "expire like followers whose leader the handler then logs out in place",
			config: `{"groups":[{"cookies":["lead"],"expire":{"mode":"fixed","duration":"1h"}},{"cookies":["f","g"],"expire":{"mode":"like","like":"lead"}}]}`,
			fields: []string{"lead=1; Path=/", "f=1; Path=/", "g=1; Path=/"},
			edit:   func(h http.Header) { h["Set-Cookie"][0] = "lead=; Max-Age=0; Path=/" },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := serveWithLogPanic(t, tc.config, tc.cookie, 0, func(w http.ResponseWriter) error {
				w.Header()["Set-Cookie"] = slices.Clone(tc.fields)
				tc.edit(w.Header())
				w.WriteHeader(http.StatusInternalServerError)
				_, err := io.WriteString(w, "recovered")
				return err
			})
			panics := 0
			for panicAt := 1; panicAt <= 8; panicAt++ {
				got := serveWithLogPanic(t, tc.config, tc.cookie, panicAt, func(w http.ResponseWriter) error {
					w.Header()["Set-Cookie"] = slices.Clone(tc.fields)
					if recoverWriteHeader(w, http.StatusOK) == nil {
						return nil // no panic at this line: nothing to compare
					}
					panics++
					tc.edit(w.Header())
					w.WriteHeader(http.StatusInternalServerError)
					_, err := io.WriteString(w, "recovered")
					return err
				})
				if got.logPanicked && !slices.Equal(got.events, want.events) {
					t.Errorf("the logger's core panicked at line %d, the handler recovered: %s", panicAt, want.diff(got))
				}
			}
			if panics < 2 {
				t.Fatalf("the logger's core panicked under %d rewrites, want at least 2: the test checked too little", panics)
			}
		})
	}
}

// recoverWrite writes p to w and recovers a panic under it.
func recoverWrite(w http.ResponseWriter, p string) (r any) {
	defer func() { r = recover() }()
	_, _ = io.WriteString(w, p)
	return nil
}

// TestRecoveredLogPanicAtFirstBodyByte: where the writer below sends the
// header map at the first body byte (Caddy's encode, HTTP/3), a field the
// handler adds after WriteHeader is rewritten there; if the logger's core
// panics in that rewrite and the handler recovers and writes again, the
// rewrite is done again (the body does not count as started until a
// rewrite completes), and the header goes out as it does when nothing
// panics.
func TestRecoveredLogPanicAtFirstBodyByte(t *testing.T) {
	const config = `{"groups":[{"cookies":["x"],"secure":true}]}`
	// A field with the same attributes first: the Handler then builds
	// the rewritten field at the end of the rewrite, which the panic cuts
	// short, instead of writing it at once.
	warm := func(w http.ResponseWriter) error {
		w.Header().Add("Set-Cookie", "x=0; Path=/")
		_, err := io.WriteString(w, "warm")
		return err
	}
	want := serveWithLogPanicOn(t, histLate, false, config, "", 0, warm, func(w http.ResponseWriter) error {
		w.WriteHeader(http.StatusOK)
		w.Header().Add("Set-Cookie", "x=1; Path=/")
		_, err := io.WriteString(w, "body")
		return err
	})
	if !strings.Contains(strings.Join(want.events, "\n"), `"x=1; Path=/; Secure"`) {
		t.Fatalf("without a panic the field went out unrewritten:%s", want)
	}
	got := serveWithLogPanicOn(t, histLate, false, config, "", 1, warm, func(w http.ResponseWriter) error {
		w.WriteHeader(http.StatusOK)
		w.Header().Add("Set-Cookie", "x=1; Path=/")
		if recoverWrite(w, "body") == nil {
			t.Fatal("the logger's core did not panic")
		}
		_, err := io.WriteString(w, "body")
		return err
	})
	if !slices.Equal(got.events, want.events) {
		t.Errorf("the logger's core panicked at the first body byte, the handler recovered: %s", want.diff(got))
	}
}

// TestRecoveredLogPanicThenFailedHijack: Hijack and a flush before the
// header is sent save the header state (saveHeader) to take their rewrite
// back if they fail; after a rewrite a panic cut short, what they save
// must be the state before it, not the marks of groups whose appended
// fields never reached the map, which a failed hijack would put back so
// that the final rewrite skipped those groups. Here the first group's
// deletion (a) is appended and logged, and the second's line panics; the
// handler recovers, tries a hijack (HTTP/2 and HTTP/3 refuse), and
// answers 500: with a's and c's deletions, as without a panic.
func TestRecoveredLogPanicThenFailedHijack(t *testing.T) {
	const config = `{"groups":[{"cookies":["a","b"],"on_partial":"expire"},{"cookies":["c","d"],"on_partial":"expire"}]}`
	answer := func(w http.ResponseWriter) error {
		if _, _, err := w.(http.Hijacker).Hijack(); err == nil {
			t.Fatal("the hijack succeeded")
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, err := io.WriteString(w, "recovered")
		return err
	}
	want := serveWithLogPanicOn(t, histEarly, false, config, "a=1; c=1", 0, nil, func(w http.ResponseWriter) error {
		w.Header().Set("Set-Cookie", "x=1; Path=/")
		return answer(w)
	})
	if !strings.Contains(want.events[0], "a=;") || !strings.Contains(want.events[0], "c=;") {
		t.Fatalf("without a panic the partial expiries did not go out:%s", want)
	}
	got := serveWithLogPanicOn(t, histEarly, false, config, "a=1; c=1", 2, nil, func(w http.ResponseWriter) error {
		w.Header().Set("Set-Cookie", "x=1; Path=/")
		if recoverWriteHeader(w, http.StatusOK) == nil {
			t.Fatal("the logger's core did not panic")
		}
		return answer(w)
	})
	if !slices.Equal(got.events, want.events) {
		t.Errorf("the logger's core panicked at the second group's line, the handler recovered, a hijack failed: %s", want.diff(got))
	}
}

// TestRecoveredLogPanicThenFailedFlush: the same through a flush that
// fails (an outer writer that cannot flush).
func TestRecoveredLogPanicThenFailedFlush(t *testing.T) {
	const config = `{"groups":[{"cookies":["a","b"],"on_partial":"expire"},{"cookies":["c","d"],"on_partial":"expire"}]}`
	answer := func(w http.ResponseWriter) error {
		if err := http.NewResponseController(w).Flush(); err == nil {
			t.Fatal("the flush succeeded")
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, err := io.WriteString(w, "recovered")
		return err
	}
	want := serveWithLogPanicOn(t, histEarly, true, config, "a=1; c=1", 0, nil, func(w http.ResponseWriter) error {
		w.Header().Set("Set-Cookie", "x=1; Path=/")
		return answer(w)
	})
	got := serveWithLogPanicOn(t, histEarly, true, config, "a=1; c=1", 2, nil, func(w http.ResponseWriter) error {
		w.Header().Set("Set-Cookie", "x=1; Path=/")
		if recoverWriteHeader(w, http.StatusOK) == nil {
			t.Fatal("the logger's core did not panic")
		}
		return answer(w)
	})
	if !slices.Equal(got.events, want.events) {
		t.Errorf("the logger's core panicked at the second group's line, the handler recovered, a flush failed: %s", want.diff(got))
	}
}

// TestRecoveredLogPanicKeepsHandlersOwnField: after a rewrite a panic
// cut short, its followers are put back in whatever fields the map holds
// then; a handler that recovers and replaces the fields with its own, one
// of which reads as the follower's rewritten output, must keep its field
// (here f=1 with an explicit lifetime, and no leader, so the follower
// rule leaves it alone): found by value, it would go out as the
// follower's old input, a session cookie.
func TestRecoveredLogPanicKeepsHandlersOwnField(t *testing.T) {
	const config = `{"groups":[{"cookies":["lead"],"expire":{"mode":"fixed","duration":"1h"}},{"cookies":["f"],"expire":{"mode":"like","like":"lead"}}]}`
	// What the follower's rewrite makes of "f=1; Path=/" with the leader
	// below (checked first).
	probe := serveWithLogPanicOn(t, histEarly, false, config, "", 0, nil, func(w http.ResponseWriter) error {
		w.Header()["Set-Cookie"] = []string{"lead=1; Path=/", "f=1; Path=/"}
		w.WriteHeader(http.StatusOK)
		return nil
	})
	const out = "f=1; Path=/; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"
	if !strings.Contains(probe.events[0], `"`+out+`"`) {
		t.Fatalf("the follower's output is not %q:%s", out, probe)
	}
	answer := func(w http.ResponseWriter) error {
		w.Header()["Set-Cookie"] = []string{out}
		w.WriteHeader(http.StatusInternalServerError)
		_, err := io.WriteString(w, "recovered")
		return err
	}
	want := serveWithLogPanicOn(t, histEarly, false, config, "", 0, nil, answer)
	panics := 0
	for panicAt := 2; panicAt <= 4; panicAt++ {
		got := serveWithLogPanicOn(t, histEarly, false, config, "", panicAt, nil, func(w http.ResponseWriter) error {
			w.Header()["Set-Cookie"] = []string{"lead=1; Path=/", "f=1; Path=/"}
			if recoverWriteHeader(w, http.StatusOK) == nil {
				return nil
			}
			panics++
			return answer(w)
		})
		if got.logPanicked && !slices.Equal(got.events, want.events) {
			t.Errorf("the logger's core panicked at line %d, the handler recovered and set its own field: %s", panicAt, want.diff(got))
		}
	}
	if panics == 0 {
		t.Fatal("the logger's core never panicked after the follower's line")
	}
}

// TestRecoveredLogPanicThenHandlerError: after a rewrite a panic cut
// short, a handler that recovers, logs the leader out in place and then
// returns an error, on a server with error routes, leaves the header map
// for the error routes as it leaves it when nothing panics: the followers
// as the handler wrote them (a leader logged out leads nothing), not with
// the lifetime the interrupted rewrite gave them.
func TestRecoveredLogPanicThenHandlerError(t *testing.T) {
	const config = `{"groups":[{"cookies":["lead"],"expire":{"mode":"fixed","duration":"1h"}},{"cookies":["f"],"expire":{"mode":"like","like":"lead"}}]}`
	fields := []string{"lead=1; Path=/", "f=1; Path=/"}
	logOut := func(h http.Header) { h["Set-Cookie"][0] = "lead=; Max-Age=0; Path=/" }
	serve := func(panicAt int, write func(w http.ResponseWriter)) (left []string, panicked bool) {
		h, err := provisionJSON(t, config)
		if err != nil {
			t.Fatal(err)
		}
		core := &recordingCore{panicAt: panicAt}
		h.setLogger(zap.New(core))
		h.norm.now = func() time.Time { return testClock }
		w := &historyWriter{header: http.Header{}, failHijack: true}
		req, _ := requestShape{errorRoutes: true}.request()
		fail := caddyhttp.Error(http.StatusBadGateway, io.ErrUnexpectedEOF)
		err = h.ServeHTTP(w, req, caddyhttp.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) error {
			rw.Header().Set("Date", testDate)
			rw.Header()["Set-Cookie"] = slices.Clone(fields)
			write(rw)
			return fail
		}))
		if err != fail { //nolint:errorlint // the handler's own error, passed on
			t.Fatalf("ServeHTTP returned %v, want the handler's error", err)
		}
		return w.header["Set-Cookie"], core.panicked()
	}
	want, _ := serve(0, func(w http.ResponseWriter) { logOut(w.Header()) })
	if !slices.Equal(want, []string{"lead=; Max-Age=0; Path=/", "f=1; Path=/"}) {
		t.Fatalf("without a panic the error routes get %q", want)
	}
	panics := 0
	for panicAt := 1; panicAt <= 4; panicAt++ {
		got, panicked := serve(panicAt, func(w http.ResponseWriter) {
			if recoverWriteHeader(w, http.StatusOK) != nil {
				panics++
			}
			logOut(w.Header())
		})
		if panicked && !slices.Equal(got, want) {
			t.Errorf("the logger's core panicked at line %d, the handler recovered and failed: the error routes get %q, want %q", panicAt, got, want)
		}
	}
	if panics < 2 {
		t.Fatalf("the logger's core panicked under %d rewrites, want at least 2", panics)
	}
}
