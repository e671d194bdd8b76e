package cookienormalizer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	zapobserver "go.uber.org/zap/zaptest/observer"
)

// observeConfig has two short-form groups (no label), so that logs and
// metrics name each by its first pattern.
const observeConfig = `{"groups":[
	{"cookies":["session_id","user_id__insecure"],"expire":{"mode":"fixed","duration":"12h"},"on_delete":"cascade","on_partial":"expire"},
	{"cookies":["~wh_"],"secure":false}],"report_only":%s}`

// observeResponses give every action but the slide ones: what the rewrite
// is told of each, in order, is in the comments.
var observeResponses = []struct {
	values []string
	req    *request
}{
	// rewritten, rewritten
	{[]string{"session_id=1; Max-Age=60", "user_id__insecure=2"}, nil},
	// unchanged, unchanged (testDate plus 12 hours)
	{[]string{"session_id=1; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200", "user_id__insecure=2; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"}, nil},
	// deletion kept, then user_id__insecure cascaded
	{[]string{"session_id=; Max-Age=0"}, nil},
	// session_id partial expired
	{nil, &request{cookies: []string{"theme=dark; session_id=abc"}}},
	// passed invalid (a control byte)
	{[]string{"session_id=x\x01"}, nil},
	// unchanged, and the removal of Secure skipped for the prefix
	{[]string{"__Host-wh_x=1; Secure; Path=/"}, nil},
}

// TestObserveEveryAction runs a response for each action through a
// provisioned handler, applied and report-only, and checks what the
// handler says of each: the log line (level, message, cookie, group,
// action; a would-be change of a report-only handler at info, everything
// else at debug) and the counter in the config load's registry, with the
// groups named by their first pattern.
func TestObserveEveryAction(t *testing.T) {
	for _, reportOnly := range []bool{false, true} {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		h, err := provisionJSONWith(ctx, strings.Replace(observeConfig, "%s", strconv.FormatBool(reportOnly), 1))
		if err != nil {
			t.Fatal(err)
		}
		core, logs := zapobserver.New(zapcore.DebugLevel)
		h.setLogger(zap.New(core))
		for _, r := range observeResponses {
			h.norm.rewriteResponse(append([]string(nil), r.values...), testDate, perResponse(r.req), h)
		}
		change := "set-cookie"
		if reportOnly {
			change = "set-cookie (report only: not changed)"
		}
		wantLogs := []string{
			"info " + change + " session_id session_id rewritten",
			"info " + change + " user_id__insecure session_id rewritten",
			"debug set-cookie session_id session_id unchanged",
			"debug set-cookie user_id__insecure session_id unchanged",
			"debug set-cookie session_id session_id deletion kept",
			"info " + change + " user_id__insecure session_id cascaded",
			"info " + change + " session_id session_id partial expired",
			"debug set-cookie session_id session_id passed invalid",
			"debug set-cookie __Host-wh_x ~wh_ unchanged",
			"debug set-cookie __Host-wh_x ~wh_ edit skipped",
		}
		if !reportOnly {
			for i, l := range wantLogs {
				wantLogs[i] = strings.Replace(l, "info ", "debug ", 1)
			}
		}
		checkObserved(t, ctx, logs, reportOnly, wantLogs, []string{
			"action=cascaded,group=session_id 1",
			"action=deletion kept,group=session_id 1",
			"action=edit skipped,group=~wh_ 1",
			"action=partial expired,group=session_id 1",
			"action=passed invalid,group=session_id 1",
			"action=rewritten,group=session_id 2",
			"action=unchanged,group=session_id 2",
			"action=unchanged,group=~wh_ 1",
		})
		cancel()
	}
}

// checkObserved compares what a handler logged ("level message cookie
// group action" per line, and no other field) and counted ("labels
// count", without the report_only label, which is reportOnly's) with what
// is wanted.
func checkObserved(t *testing.T, ctx caddy.Context, logs *zapobserver.ObservedLogs, reportOnly bool, wantLogs, wantCounters []string) {
	t.Helper()
	var gotLogs []string
	for _, e := range logs.All() {
		m := e.ContextMap()
		if len(m) != 3 {
			t.Errorf("report_only %v: %q has fields %v, want cookie, group and action", reportOnly, e.Message, m)
		}
		gotLogs = append(gotLogs, fmt.Sprintf("%s %s %v %v %v", e.Level, e.Message, m["cookie"], m["group"], m["action"]))
	}
	if !equalStrings(gotLogs, wantLogs) {
		t.Errorf("report_only %v: logged\n %q\nwant\n %q", reportOnly, gotLogs, wantLogs)
	}
	want := make([]string, len(wantCounters))
	for i, c := range wantCounters {
		sp := strings.LastIndexByte(c, ' ') // action labels hold spaces
		want[i] = c[:sp] + ",report_only=" + strconv.FormatBool(reportOnly) + c[sp:]
	}
	if got := countersOf(t, ctx); !equalStrings(got, want) {
		t.Errorf("report_only %v: counters\n %q\nwant\n %q", reportOnly, got, want)
	}
}

// countersOf returns the module's non-zero counters in ctx's registry as
// "label=value,... count", sorted.
func countersOf(t *testing.T, ctx caddy.Context) []string {
	t.Helper()
	families, err := ctx.GetMetricsRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range families {
		if mf.GetName() != "caddy_http_cookie_normalizer_cookies_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if v := m.GetCounter().GetValue(); v != 0 {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
				got = append(got, strings.Join(labels, ",")+" "+strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
	}
	slices.Sort(got)
	return got
}

// TestObserveSlideActions is TestObserveEveryAction for the actions of a
// slide group: a log-in sets the stamp, a request whose stamp is missing
// gets the members re-issued and a new stamp, a log-out deletes the stamp.
func TestObserveSlideActions(t *testing.T) {
	for _, reportOnly := range []bool{false, true} {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		h, err := provisionJSONWith(ctx, `{"groups":[{"label":"login","cookies":["a","b"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","domain":"remove","slide":{"interval":"1m"}}],"report_only":`+strconv.FormatBool(reportOnly)+`}`)
		if err != nil {
			t.Fatal(err)
		}
		core, logs := zapobserver.New(zapcore.DebugLevel)
		h.setLogger(zap.New(core))
		for _, r := range []struct {
			values []string
			req    request
		}{
			{[]string{"a=1", "b=2"}, request{status: 200}},                                                             // log-in
			{nil, request{cookies: []string{"a=1; b=2"}, status: 200}},                                                 // re-issue
			{[]string{"a=; Max-Age=0; Path=/"}, request{cookies: []string{"a=1; b=2; cn_slide_login=1"}, status: 200}}, // log-out (already as the path policy says)
		} {
			h.norm.rewriteResponse(append([]string(nil), r.values...), testDate, &r.req, h)
		}
		change := "debug set-cookie"
		if reportOnly {
			change = "info set-cookie (report only: not changed)"
		}
		checkObserved(t, ctx, logs, reportOnly, []string{
			change + " a login rewritten", change + " b login rewritten", change + " cn_slide_login login stamp set",
			change + " a login reissued", change + " b login reissued", change + " cn_slide_login login stamp set",
			"debug set-cookie a login deletion kept", change + " cn_slide_login login stamp deleted",
		}, []string{
			"action=deletion kept,group=login 1",
			"action=reissued,group=login 2",
			"action=rewritten,group=login 2",
			"action=stamp deleted,group=login 1",
			"action=stamp set,group=login 2",
		})
		cancel()
	}
}

// TestObserveRepeatedRewrite pins how a field is counted when the header
// map of one response is rewritten twice: a field whose first rewrite
// stands is counted again as unchanged; an `expire like` follower, which
// the second rewrite starts over from the app's field, as rewritten
// again; and a field sent in a 103 first, or rewritten for a flush that
// failed, whose final rewrite starts from the handler's field, as
// rewritten again.
func TestObserveRepeatedRewrite(t *testing.T) {
	const config = `{"groups":[
		{"label":"plain","cookies":["a"],"expire":{"mode":"session"}},
		{"label":"prefs","cookies":["pref"],"expire":{"mode":"like","like":"sid"}}]}`
	for _, tc := range []struct {
		name      string
		failFlush bool
		handler   func(w http.ResponseWriter)
		want      []string
	}{
		{
			name: "a field added after WriteHeader",
			handler: func(w http.ResponseWriter) {
				w.Header().Add("Set-Cookie", "sid=1; Max-Age=3600")
				w.Header().Add("Set-Cookie", "a=1; Max-Age=60")
				w.Header().Add("Set-Cookie", "pref=dark")
				w.WriteHeader(http.StatusOK)
				w.Header().Add("Set-Cookie", "x=1") // the leader stands
				_, _ = io.WriteString(w, "body")
			},
			want: []string{
				"action=rewritten,group=plain,report_only=false 1",
				"action=rewritten,group=prefs,report_only=false 2",
				"action=unchanged,group=plain,report_only=false 1",
			},
		},
		{
			name: "a 103 first",
			handler: func(w http.ResponseWriter) {
				w.Header().Add("Set-Cookie", "a=1; Max-Age=60")
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(http.StatusOK)
			},
			want: []string{"action=rewritten,group=plain,report_only=false 2"},
		},
		{
			name:      "a failed flush first",
			failFlush: true,
			handler: func(w http.ResponseWriter) {
				w.Header().Add("Set-Cookie", "a=1; Max-Age=60")
				if err := http.NewResponseController(w).Flush(); err == nil {
					panic("the flush did not fail")
				}
				w.WriteHeader(http.StatusOK)
			},
			want: []string{"action=rewritten,group=plain,report_only=false 2"},
		},
	} {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		h, err := provisionJSONWith(ctx, config)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		w := newLateWriter()
		w.failFlush = tc.failFlush
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
			w.Header().Set("Date", testDate)
			tc.handler(w)
			return nil
		})
		if err := h.ServeHTTP(w, benchRequest(), next); err != nil {
			t.Fatal(err)
		}
		if got := countersOf(t, ctx); !equalStrings(got, tc.want) {
			t.Errorf("%s: counters %q, want %q", tc.name, got, tc.want)
		}
		cancel()
	}
}

// TestObserveCascadeWithheld: a log-out whose cascade the module withholds
// (withheldField) is logged and counted as
// cascade withheld, at debug in both modes, since it changes nothing.
func TestObserveCascadeWithheld(t *testing.T) {
	for _, reportOnly := range []bool{false, true} {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		h, err := provisionJSONWith(ctx, withheldJSON(reportOnly))
		if err != nil {
			t.Fatal(err)
		}
		core, logs := zapobserver.New(zapcore.DebugLevel)
		h.setLogger(zap.New(core))
		req := request{cookies: []string{"a=1; b=2"}, status: 200}
		h.norm.rewriteResponse([]string{withheldField}, testDate, &req, h)
		checkObserved(t, ctx, logs, reportOnly, []string{
			"debug set-cookie a login passed invalid", "debug set-cookie a login cascade withheld",
		}, []string{
			"action=cascade withheld,group=login 1",
			"action=passed invalid,group=login 1",
		})
		cancel()
	}
}
