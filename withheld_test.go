package cookienormalizer

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// withheldConfig is a cascade group whose log-out withheldField the
// module passes unchanged and does not cascade: a byte over 0x7f in its
// Path, which libsoup 3.2 stops before, so no deletion can be written
// where it deletes.
const (
	withheldConfig = `{"groups":[{"label":"login","cookies":["a","b"],"on_delete":"cascade"}]}`
	withheldField  = "a=; Max-Age=0; Path=/caf\u00e9"
)

// withheldJSON is withheldConfig with report_only as asked.
func withheldJSON(reportOnly bool) string {
	return withheldConfig[:len(withheldConfig)-1] + `,"report_only":` + strconv.FormatBool(reportOnly) + `}`
}

// withheldServe serves one request through a handler with withheldConfig
// (report_only as asked) whose app is write, its logger panicking at the
// panicAt-th line (0: never), and returns the non-zero counters and the
// logged cookies and actions.
func withheldServe(t *testing.T, reportOnly bool, panicAt int, write func(w http.ResponseWriter) error) ([]string, []string) {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	h, err := provisionJSONWith(ctx, withheldJSON(reportOnly))
	if err != nil {
		t.Fatal(err)
	}
	core := &recordingCore{}
	h.setLogger(zap.New(core))
	core.reset(panicAt)
	w := &historyWriter{header: http.Header{}, failFlush: true, failHijack: true}
	req := benchRequest()
	req.Header.Set("Cookie", "a=1; b=2")
	next := caddyhttp.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) error {
		rw.Header().Set("Date", testDate)
		return write(rw)
	})
	if err := h.ServeHTTP(w, req, next); err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range core.recorded() {
		acts = append(acts, e.cookie+" "+e.action)
	}
	return countersOf(t, ctx), acts
}

// TestCascadeWithheldCountedOnce: the logger panics at the cascade
// withheld line and the app recovers and answers; the next pass over the
// response does not count it again (the request marks it before the
// logger runs).
func TestCascadeWithheldCountedOnce(t *testing.T) {
	for _, ro := range []bool{false, true} {
		counters, acts := withheldServe(t, ro, 2, func(w http.ResponseWriter) error {
			w.Header().Add("Set-Cookie", withheldField)
			func() {
				defer func() { _ = recover() }()
				w.WriteHeader(http.StatusOK)
			}()
			_, err := io.WriteString(w, "page")
			return err
		})
		want := "action=cascade withheld,group=login,report_only=" + strconv.FormatBool(ro) + " 1"
		if !slices.Contains(counters, want) {
			t.Errorf("report_only %v: counters %q, want %q among them (logs %q)", ro, counters, want, acts)
		}
	}
}

// TestCascadeWithheldFirstPassDecides pins the documented limit: the
// report is the first rewrite's decision. A log-out added before the
// first body byte, which rewrites the header again, then cascades, and
// that is counted too.
func TestCascadeWithheldFirstPassDecides(t *testing.T) {
	for _, ro := range []bool{false, true} {
		_, acts := placedServeWith(t, withheldConfig, ro,
			passesApp([]string{withheldField}, []string{"a=; Max-Age=0; Path=/"}))
		if !slices.Contains(acts, "a cascade withheld") || !slices.Contains(acts, "b cascaded") {
			t.Errorf("report_only %v: actions %q, want a cascade withheld, then b cascaded", ro, acts)
		}
	}
}
