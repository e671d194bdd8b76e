package cookienormalizer

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// frameworkDate is the Date of every response in testdata/frameworks.json;
// the proxy's clock reads the same instant, as it does when the upstream's
// clock is right.
const frameworkDate = "Tue, 24 Nov 2026 12:00:00 GMT"

// frameworkTable is testdata/frameworks.json: Set-Cookie fields copied
// from the serialisation code of web frameworks (each entry names the
// framework, its version and the source file the bytes come from), and
// what the module must make of them.
type frameworkTable struct {
	Frameworks []struct {
		Framework string `json:"framework"`
		Version   string `json:"version"`
		Source    string `json:"source"`
		Session   string `json:"session"`
		User      string `json:"user"`
		Cases     []struct {
			Name    string   `json:"name"`
			Policy  string   `json:"policy"`
			In      []string `json:"in"`
			Want    []string `json:"want"`
			Request *struct {
				Cookies []string `json:"cookies"`
				HTTPS   bool     `json:"https"`
			} `json:"request"`
		} `json:"cases"`
	} `json:"frameworks"`
}

// frameworkHandler provisions the directive
// `cookie_normalizer <session> <user> { <policy> }` as Caddy would, with
// the proxy's clock fixed at frameworkDate.
func frameworkHandler(t *testing.T, session, user, policy string) *Handler {
	t.Helper()
	var b strings.Builder
	b.WriteString("cookie_normalizer " + session + " " + user + " {\n")
	for line := range strings.SplitSeq(strings.ReplaceAll(policy, "{S}", session), "\n") {
		b.WriteString("\t" + line + "\n")
	}
	b.WriteString("}")
	h, err := hostileHandler(t, b.String())
	if err != nil {
		t.Fatalf("loading %q: %v", b.String(), err)
	}
	at, ok := parseHTTPDate(frameworkDate)
	if !ok {
		t.Fatalf("cannot read %q", frameworkDate)
	}
	h.norm.now = func() time.Time { return at }
	return h
}

// TestFrameworkFields runs the log-in and log-out fields of real
// frameworks through the module and checks the exact bytes that go out:
// a log-in gets the group's policy, a field any engine reads as a deletion
// stays one, a log-out of one member deletes the other with the deleted
// member's Path, Domain, Secure and SameSite, attribute names are read in
// any case, and every byte no policy names is kept. A second rewrite of
// the output (a field added before the first body byte) changes nothing.
func TestFrameworkFields(t *testing.T) {
	raw, err := os.ReadFile("testdata/frameworks.json")
	if err != nil {
		t.Fatal(err)
	}
	var table frameworkTable
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	for _, fw := range table.Frameworks {
		for _, tc := range fw.Cases {
			t.Run(fw.Framework+" "+fw.Version+"/"+tc.Name, func(t *testing.T) {
				h := frameworkHandler(t, fw.Session, fw.User, tc.Policy)
				req := &request{status: 200}
				if tc.Request != nil {
					req.cookies, req.https = tc.Request.Cookies, tc.Request.HTTPS
				}
				got := h.norm.rewriteResponse(append([]string(nil), tc.In...), frameworkDate, req, nil)
				if !equalStrings(got, tc.Want) {
					t.Fatalf("%s (%s)\npolicy: %q\nin:   %q\nwant: %q\ngot:  %q",
						fw.Framework, fw.Source, tc.Policy, tc.In, tc.Want, got)
				}
				if again := h.norm.rewriteResponse(append([]string(nil), got...), frameworkDate, req, nil); !equalStrings(again, got) {
					t.Errorf("second rewrite of the output:\nwant: %q\ngot:  %q", got, again)
				}
			})
		}
	}
}
