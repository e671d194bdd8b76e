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
	h.logger = zap.New(core)
	if err := h.provision(); err != nil {
		t.Fatal(err)
	}
	return &h, logs
}

func TestWarnsAboutLifetimesOver400Days(t *testing.T) {
	_, logs := observedHandler(t, `{"groups":[
		{"label":"ok","cookies":["a"],"expire":{"mode":"fixed","duration":"400d"}},
		{"cookies":["b"],"expire":{"mode":"max","duration":"401d"}},
		{"label":"leftover","cookies":["c"],"expire":{"mode":"session","duration":"500d"}}]}`)
	entries := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(entries) != 1 {
		t.Fatalf("got %d warnings, want 1 (for the second group only): %v", len(entries), entries)
	}
	fields := entries[0].ContextMap()
	// A short-form group is named by its first pattern; a session group's
	// leftover duration means nothing and is not warned about.
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
	h.norm.rewrite(values, testDate, h)
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
