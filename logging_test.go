package cookienormalizer

import (
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	zapobserver "go.uber.org/zap/zaptest/observer"
)

// observedHandler provisions a handler from JSON with a logger that records
// every entry at debug level and above.
func observedHandler(t *testing.T, js string) (*Handler, *zapobserver.ObservedLogs) {
	t.Helper()
	var h Handler
	if err := json.Unmarshal([]byte(js), &h); err != nil {
		t.Fatal(err)
	}
	core, logs := zapobserver.New(zapcore.DebugLevel)
	h.setLogger(zap.New(core))
	if err := h.provision(); err != nil {
		t.Fatal(err)
	}
	return &h, logs
}

func TestWarnsAboutLifetimesOver400Days(t *testing.T) {
	_, logs := observedHandler(t, `{"groups":[
		{"label":"ok","cookies":["a"],"expire":{"mode":"fixed","duration":"400d"}},
		{"cookies":["b"],"expire":{"mode":"max","duration":"401d"}},
		{"label":"session","cookies":["c"],"expire":{"mode":"session"}}]}`)
	entries := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(entries) != 1 {
		t.Fatalf("got %d warnings, want 1 (for the second group only): %v", len(entries), entries)
	}
	fields := entries[0].ContextMap()
	// A short-form group is named by its first pattern. (A session
	// group with a duration is a config error: see TestValidate.)
	if fields["group"] != "b" || fields["duration"] != "401d" {
		t.Errorf("warning fields %v", fields)
	}
}

// TestDebugLogsNamesNotValues checks the per-cookie debug lines: name,
// group and action, and never a cookie value.
func TestDebugLogsNamesNotValues(t *testing.T) {
	h, logs := observedHandler(t, `{"groups":[{"label":"login","cookies":["session_id","user_id__insecure"],"expire":{"mode":"fixed","duration":"12h"}}]}`)
	values := []string{
		"session_id=SECRET-1; Max-Age=43200; Path=/",
		"user_id__insecure=SECRET-2; Max-Age=0",
		"theme=SECRET-3",
	}
	h.norm.rewrite(values, testDate, h, nil)
	var got []string
	for _, e := range logs.All() {
		if e.Level != zapcore.DebugLevel {
			t.Errorf("unexpected %s entry %q", e.Level, e.Message)
		}
		m := e.ContextMap()
		got = append(got, e.Message+" "+m["cookie"].(string)+" "+m["group"].(string)+" "+m["action"].(string))
		line, _ := json.Marshal(m)
		if strings.Contains(string(line), "SECRET") {
			t.Errorf("a cookie value was logged: %s", line)
		}
	}
	want := []string{
		`set-cookie session_id login rewritten`,
		`set-cookie user_id__insecure login deletion kept`,
	}
	if !equalStrings(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}

// TestReportOnlyLogsAtInfo: under report_only a change that would have
// been made is logged at info, with a logger at info level (the default
// of Caddy's logs): no debug logging is needed to see it, and a cookie
// left as it is logs nothing there.
func TestReportOnlyLogsAtInfo(t *testing.T) {
	var h Handler
	if err := json.Unmarshal([]byte(`{"report_only":true,"groups":[{"label":"login","cookies":["a","b"],"expire":{"mode":"session"}}]}`), &h); err != nil {
		t.Fatal(err)
	}
	core, logs := zapobserver.New(zapcore.InfoLevel)
	h.setLogger(zap.New(core))
	if err := h.provision(); err != nil {
		t.Fatal(err)
	}
	in := []string{"a=SECRET; Max-Age=60", "b=SECRET"}
	h.norm.rewrite(in, testDate, &h, nil)
	var got []string
	for _, e := range logs.All() {
		m := e.ContextMap()
		got = append(got, e.Level.String()+" "+e.Message+" "+m["cookie"].(string)+" "+m["group"].(string)+" "+m["action"].(string))
	}
	want := []string{"info set-cookie (report only: not changed) a login rewritten"}
	if !equalStrings(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
	if !equalStrings(in, []string{"a=SECRET; Max-Age=60", "b=SECRET"}) {
		t.Errorf("report_only changed the fields: %q", in)
	}
}

// TestLogsNeverHoldValues runs every policy (expiry, attributes, like,
// cascade, partial, a skipped prefix edit), applied and report-only, with
// debug logging, and checks that no cookie value appears anywhere in the
// output, serialised as a JSON log line would be.
func TestLogsNeverHoldValues(t *testing.T) {
	config := `{"groups":[
		{"label":"login","cookies":["session_id","user_id__insecure"],"expire":{"mode":"fixed","duration":"12h"},
		 "secure":true,"samesite":"lax","on_delete":"cascade","on_partial":"expire"},
		{"cookies":["pref"],"expire":{"mode":"like","like":"session_id"},"httponly":true},
		{"cookies":["~wh_"],"secure":false}],"report_only":%s}`
	for _, reportOnly := range []string{"false", "true"} {
		h, logs := observedHandler(t, strings.Replace(config, "%s", reportOnly, 1))
		h.ReportOnly = reportOnly == "true"
		h.norm.reportOnly = h.ReportOnly
		responses := []struct {
			values []string
			req    *request
		}{
			{[]string{"session_id=SECRET-1; Max-Age=60", "pref=SECRET-2", "__Host-wh_x=SECRET-3; Secure; Path=/", "wh_y=SECRET-4; Secure"}, nil},
			{[]string{"session_id=; Max-Age=0; Path=/"}, nil},
			{nil, &request{cookies: []string{"user_id__insecure=SECRET-5; other=SECRET-6"}}},
			{[]string{"x=SECRET-7\x01", "session_id=SECRET-8\x01"}, nil},
		}
		actions := map[string]bool{}
		for _, r := range responses {
			h.norm.rewriteResponse(r.values, testDate, r.req, h)
		}
		for _, e := range logs.All() {
			line, err := json.Marshal(append([]any{e.Message}, e.ContextMap()))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(line), "SECRET") {
				t.Errorf("report_only=%s: a cookie value was logged: %s", reportOnly, line)
			}
			actions[e.ContextMap()["action"].(string)] = true
		}
		for _, want := range []string{"rewritten", "cascaded", "partial expired", "edit skipped", "passed invalid"} {
			if !actions[want] {
				t.Errorf("report_only=%s: no %q line was logged, so the test did not cover it; logged %v", reportOnly, want, actions)
			}
		}
		if reportOnly == "true" {
			if n := len(logs.FilterLevelExact(zapcore.InfoLevel).All()); n == 0 {
				t.Errorf("report_only: no change was logged at info")
			}
		}
	}
}

// TestWarnsAboutSlideWithoutAttributes: a slide group re-issues its cookies
// with its own attribute policies only; one without secure, httponly,
// samesite or partitioned policies is warned about at start-up, naming
// what is missing.
func TestWarnsAboutSlideWithoutAttributes(t *testing.T) {
	_, logs := observedHandler(t, `{"groups":[
		{"label":"bare","cookies":["a"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","domain":"remove","slide":{"interval":"1m"}},
		{"label":"full","cookies":["b"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","secure":true,"httponly":false,"samesite":"lax","partitioned":false,"domain":"remove","slide":{"interval":"1m"}}]}`)
	entries := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(entries) != 1 || entries[0].ContextMap()["group"] != "bare" ||
		!strings.Contains(entries[0].Message, "this group has no secure, httponly, samesite, partitioned policy") {
		t.Errorf("warnings %v, want one for group bare naming secure, httponly, samesite, partitioned", entries)
	}
}
