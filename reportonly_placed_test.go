package cookienormalizer

// report_only against the applied module where a deletion is placed
// after a field passed unchanged: each decision, logged and counted,
// must be the one the applied module takes.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// parityLines serves app through a handler of cfg (with report_only
// added when reportOnly) and returns the Set-Cookie fields and the
// logged decisions but unchanged and deletion kept, as
// cookie/group/action.
func parityLines(t *testing.T, cfg string, reportOnly bool, url, cookie string, app ...string) ([]string, []string) {
	t.Helper()
	if reportOnly {
		cfg = strings.Replace(cfg, "cookie_normalizer {", "cookie_normalizer {\n\treport_only", 1)
	}
	h, err := hostileHandler(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.norm.now = func() time.Time { return testClock }
	core := &recordingCore{}
	h.setLogger(zap.New(core))
	out := serveFieldsFrom(t, h, url, "same-origin", cookie, testClock.Unix(), app...)
	var lines []string
	for _, e := range core.recorded() {
		if e.action != "" && e.action != actionUnchanged.String() && e.action != actionDeletionKept.String() {
			lines = append(lines, e.cookie+"/"+e.group+"/"+e.action)
		}
	}
	return out, lines
}

// TestReportOnlyCascadeOfPlacedHostLogOut: a __Host- member's log-out
// passed unchanged (a byte over 0x7f, or a tab) without a Path, under
// path /, on a page under /app. Chromium and Firefox refuse it (a
// __Host- name needs Path=/); WebKitGTK stops at the odd byte and stores
// a session cookie at /app. Applied, the module places a deletion at /,
// and the cascade deletes __Host-h where WebKitGTK stored it and uid at
// both places. report_only must report the same: it reported the placed
// deletion and no cascade, reading the app's field, not the deletion
// placed after it, as the member's last (refusedSetLast).
func TestReportOnlyCascadeOfPlacedHostLogOut(t *testing.T) {
	cfg := "cookie_normalizer {\n\tgroup h {\n\t\tcookies __Host-h uid\n\t\ton_delete cascade\n\t\tpath /\n\t}\n}"
	all := []string{"__Host-h/h/passed invalid", "__Host-h/h/deletion placed", "__Host-h/h/cascaded", "uid/h/cascaded", "uid/h/cascaded"}
	for _, tc := range []struct {
		logout string
		want   []string
		lines  []string
	}{
		{"__Host-h=; Secure; X=\u00e9; Max-Age=0", []string{"__Host-h=; Secure; X=\u00e9; Max-Age=0",
			"__Host-h=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure",
			"__Host-h=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app; Secure",
			"uid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure",
			"uid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app; Secure"}, all},
		{"__Host-h=p\tq; Secure; Max-Age=0", []string{"__Host-h=p\tq; Secure; Max-Age=0",
			"__Host-h=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure",
			"__Host-h=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app",
			"uid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure",
			"uid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app"}, all},
		// A HTAB before the value, which every engine skips: the field
		// is rewritten (Path=/), and the cascade deletes uid there.
		{"__Host-h=\t; Secure; Max-Age=0", []string{"__Host-h=\t; Secure; Max-Age=0; Path=/",
			"uid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure"},
			[]string{"__Host-h/h/rewritten", "uid/h/cascaded"}},
	} {
		out, applied := parityLines(t, cfg, false, "https://example.com/app/p", "__Host-h=1; uid=2", tc.logout)
		if !slices.Equal(out, tc.want) {
			t.Errorf("%q applied:\n got %q\nwant %q", tc.logout, out, tc.want)
		}
		if !slices.Equal(applied, tc.lines) {
			t.Errorf("%q applied lines %q, want %q", tc.logout, applied, tc.lines)
		}
		_, reported := parityLines(t, cfg, true, "https://example.com/app/p", "__Host-h=1; uid=2", tc.logout)
		if !slices.Equal(reported, applied) {
			t.Errorf("%q: report_only lines differ from the applied ones:\n reported %q\n applied  %q", tc.logout, reported, applied)
		}
	}
}

// TestReportOnlyCascadeBesidePlacedDeletion: a log-out passed unchanged
// (a byte over 0x7f) under path /x, then a field of the same member that
// Chromium and Firefox refuse for a control byte and WebKitGTK stores at
// /x. Applied, the deletion placed at /x comes after both and deletes
// WebKitGTK's copy too, so the cascade appends no deletion of a there.
// report_only counted one (a cascaded), taking the placed deletion for
// one before WebKitGTK's field (deletedLater).
func TestReportOnlyCascadeBesidePlacedDeletion(t *testing.T) {
	cfg := "cookie_normalizer {\n\tgroup h {\n\t\tcookies a b\n\t\ton_delete cascade\n\t\tpath /x\n\t}\n}"
	app := []string{"a=; Max-Age=0; X=\u00e9", "a=v; Path=/x; Y=\x01"}
	out, applied := parityLines(t, cfg, false, "https://example.com/app/p", "a=1; b=2", app...)
	want := []string{app[0], app[1],
		"a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/x",
		"b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/x"}
	if !slices.Equal(out, want) {
		t.Fatalf("applied:\n got %q\nwant %q", out, want)
	}
	wantLines := []string{"a/h/passed invalid", "a/h/passed invalid", "a/h/deletion placed", "b/h/cascaded"}
	if !slices.Equal(applied, wantLines) {
		t.Fatalf("applied lines %q, want %q", applied, wantLines)
	}
	rout, reported := parityLines(t, cfg, true, "https://example.com/app/p", "a=1; b=2", app...)
	if !slices.Equal(rout, app) {
		t.Errorf("report_only changed the fields: %q", rout)
	}
	if !slices.Equal(reported, applied) {
		t.Errorf("report_only lines differ from the applied ones:\n reported %q\n applied  %q", reported, applied)
	}
}
