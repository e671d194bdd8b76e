package cookienormalizer

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// Hostile configurations: each is either a Caddyfile error that names the
// line at fault, or a config that provisions in bounded time and then
// rewrites as it says. Never a panic or a hang.

// hangBound is how long parsing or provisioning one hostile config may
// take before a test calls it a hang. It is no speed check: the tests run
// under -race beside the browser suite on two cores, where a config that
// takes 1 s alone has taken 6.4 s. BenchmarkHostileProvision measures the
// cost, and the load harness judges that it grows linearly with the
// config (its ns/group within a factor 1.5 from 1,250 to 5,000 groups;
// BENCHMARKS.md). A ratio of wall-clock times in the test itself was
// tried: linear work measured 7 to 17 times for 8 times the groups, too
// noisy to tell from quadratic with a margin.
const hangBound = time.Minute

// hostileConfigFile wraps a directive in a site; the directive starts on
// line 2, so a line n of the directive is line n+1 of the file.
func hostileConfigFile(directive string) string {
	return "http://127.0.0.1:1 {\n" + directive + "\nrespond ok\n}\n"
}

// TestHostileConfigErrors adapts each config as `caddy adapt` does and
// wants the exact message, located.
func TestHostileConfigErrors(t *testing.T) {
	var loop strings.Builder
	loop.WriteString("cookie_normalizer {\n")
	const loopLen = 5000
	for i := range loopLen {
		fmt.Fprintf(&loop, "group {\ncookies c%d\nexpire like c%d\n}\n", i, (i+1)%loopLen)
	}
	loop.WriteString("}")

	var members strings.Builder
	members.WriteString("cookie_normalizer {\ngroup big {\ncookies")
	for i := range 100 {
		fmt.Fprintf(&members, " c%d", i)
	}
	members.WriteString("\non_delete cascade\n}\n}")

	unit := `expire: expected session, <duration>, max <duration> or like <cookie>; `
	for i, tc := range []struct {
		name, directive, want string
	}{
		{"one second past the largest duration", "cookie_normalizer a {\nexpire 9223372037s\n}",
			unit + `"9223372037s" is not a duration: time: invalid duration "9223372037s", at Caddyfile:3`},
		{"one day past the largest duration", "cookie_normalizer a {\nexpire 106752d\n}",
			unit + `"106752d" is not a duration: time: invalid duration "2562048h", at Caddyfile:3`},
		{"years are no unit", "cookie_normalizer a {\nexpire max 300000y\n}",
			unit + `"300000y" is not a duration: time: unknown unit "y" in duration "300000y", at Caddyfile:3`},
		{"hours past the largest duration", "cookie_normalizer a {\nexpire max 2562048h\n}",
			unit + `"2562048h" is not a duration: time: invalid duration "2562048h", at Caddyfile:3`},
		// Caddy reads the digits just before the "d" as the days
		// ("308") and puts the hours in their place: an odd message, but
		// an error at the right line.
		{"days in exponent notation", "cookie_normalizer a {\nexpire 1e308d\n}",
			unit + `"1e308d" is not a duration: time: unknown unit "e" in duration "1e7392h", at Caddyfile:3`},
		{"NaN days", "cookie_normalizer a {\nexpire NaNd\n}",
			unit + `"NaNd" is not a duration: strconv.ParseFloat: parsing "N": invalid syntax, at Caddyfile:3`},
		// libsoup cuts a Max-Age to 32 bits: one second past 2^31-1 is an
		// error, as are the largest durations Caddy reads.
		{"one second past 2^31-1", "cookie_normalizer a {\nexpire 2147483648s\n}", `expire: duration 596523h14m8s is 2147483648 s, longer than 2147483647 s (about 68 years): libsoup (WebKitGTK) cuts a longer Max-Age to 32 bits and reads a deletion or a session cookie (Chromium and Firefox keep a cookie 400 days at most anyway), at Caddyfile:3`},
		{"the largest duration in seconds", "cookie_normalizer a {\nexpire 9223372036s\n}", `expire: duration 2562047h47m16s is 9223372036 s, longer than 2147483647 s (about 68 years): libsoup (WebKitGTK) cuts a longer Max-Age to 32 bits and reads a deletion or a session cookie (Chromium and Firefox keep a cookie 400 days at most anyway), at Caddyfile:3`},
		{"the largest duration in days", "cookie_normalizer a {\nexpire max 106751d\n}", `expire: duration 106751d is 9223286400 s, longer than 2147483647 s (about 68 years): libsoup (WebKitGTK) cuts a longer Max-Age to 32 bits and reads a deletion or a session cookie (Chromium and Firefox keep a cookie 400 days at most anyway), at Caddyfile:3`},
		{"a day past the largest cap libsoup reads", "cookie_normalizer a {\nexpire max 24856d\n}", `expire: duration 24856d is 2147558400 s, longer than 2147483647 s (about 68 years): libsoup (WebKitGTK) cuts a longer Max-Age to 32 bits and reads a deletion or a session cookie (Chromium and Firefox keep a cookie 400 days at most anyway), at Caddyfile:3`},
		{"negative", "cookie_normalizer a {\nexpire -1h\n}",
			`expire: duration -1h0m0s is not positive, at Caddyfile:3`},
		{"the most negative duration", "cookie_normalizer a {\nexpire max -9223372036854775808ns\n}",
			`expire: duration -2562047h47m16.854775808s is not positive, at Caddyfile:3`},
		{"fractional seconds", "cookie_normalizer a {\nexpire 1.5s\n}",
			`expire: duration 1.5s is not a whole number of seconds, at Caddyfile:3`},
		{"nested repeats of 1000", "cookie_normalizer ~(a{1000}){1000} {\nexpire session\n}",
			`invalid regular expression in pattern "~(a{1000}){1000}": error parsing regexp: invalid repeat count: ` + "`{1000}`" + `, at Caddyfile:2`},
		{"a repeat count over 1000", "cookie_normalizer ~a{1001} {\nexpire session\n}",
			`invalid regular expression in pattern "~a{1001}": error parsing regexp: invalid repeat count: ` + "`{1001}`" + `, at Caddyfile:2`},
		{"a like loop 5,000 groups long", loop.String(),
			`expire like "c1": the chain of like leaders loops back to group #1, at Caddyfile:5`},
		{"100 members in consistency rules", members.String(),
			`cookie "c64": on_delete, on_partial and slide take at most 64 exact cookie names in one cookie_normalizer directive, across its groups, at Caddyfile:3`},
	} {
		start := time.Now()
		_, err := testcaddy.Adapt(hostileConfigFile(tc.directive), "Caddyfile")
		const prefix = "parsing caddyfile tokens for 'cookie_normalizer': "
		if err == nil || err.Error() != prefix+tc.want {
			t.Errorf("%d %s:\n got  %v\n want %s", i, tc.name, err, tc.want)
		}
		if d := time.Since(start); d > hangBound {
			t.Errorf("%d %s: took %s", i, tc.name, d)
		}
	}
}

// hostileBigConfigs are the valid hostile configs, by name.
func hostileBigConfigs() map[string]string {
	var b strings.Builder
	configs := map[string]string{}

	b.WriteString("cookie_normalizer {\ngroup globs {\ncookies")
	for i := range 5000 {
		fmt.Fprintf(&b, " g%d_*", i)
	}
	b.WriteString("\nexpire session\n}\ngroup last {\ncookies *\nhttponly on\n}\n}")
	configs["5000 globs"] = b.String()

	b.Reset()
	b.WriteString("cookie_normalizer {\ngroup exact {\ncookies")
	for i := range 10000 {
		fmt.Fprintf(&b, " e%d", i)
	}
	b.WriteString("\nexpire session\n}\n}")
	configs["10000 exact names"] = b.String()

	configs["5000 groups"] = hostileGroups(5000)

	b.Reset()
	b.WriteString("cookie_normalizer {\n")
	const chain = 5000
	for i := range chain - 1 {
		// c0 follows c1, which follows c2, …, which follows c4999.
		fmt.Fprintf(&b, "group {\ncookies c%d\nexpire like c%d\n}\n", i, i+1)
	}
	fmt.Fprintf(&b, "group {\ncookies c%d\nexpire 1h\n}\n}", chain-1)
	configs["like chain 5000 long"] = b.String()

	configs["pathological regular expressions"] = "cookie_normalizer ~(a+)+$ ~(a|aa)*b ~^(a|a?)+$ ~(x+x+)+y {\nexpire session\n}"
	configs["pathological glob"] = "cookie_normalizer *a*a*a*a*a*a*a*a*a*a*b {\nexpire session\n}"
	return configs
}

// hostileHour is what `expire 1h` appends at the tests' Date.
const hostileHour = "; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"

// hostileGroups is a config of n groups, one cookie each, with lifetimes
// of 1 s to n s.
func hostileGroups(n int) string {
	var b strings.Builder
	b.WriteString("cookie_normalizer {\n")
	for i := range n {
		fmt.Fprintf(&b, "group {\ncookies g%d\nexpire %ds\n}\n", i, i+1)
	}
	b.WriteString("}")
	return b.String()
}

// TestHostileConfigProvision provisions each valid hostile config within a
// bound, then checks one rewrite of each.
func TestHostileConfigProvision(t *testing.T) {
	const date = "Tue, 24 Nov 2026 12:00:00 GMT"
	// Under the 4096 bytes of name and value browsers store: a longer
	// field passes unchanged whatever the pattern.
	long := strings.Repeat("a", 4000)
	for name, tc := range map[string]struct {
		in, want []string
	}{
		"5000 globs": {
			[]string{"g4999_x=1; Max-Age=5", "zz=1; Max-Age=5", "g5000_x=1"},
			[]string{"g4999_x=1", "zz=1; Max-Age=5; HttpOnly", "g5000_x=1; HttpOnly"},
		},
		"10000 exact names": {
			[]string{"e9999=1; Max-Age=5", "e10000=1; Max-Age=5"},
			[]string{"e9999=1", "e10000=1; Max-Age=5"},
		},
		"5000 groups": {
			[]string{"g4999=1; Path=/", "g0=1"},
			[]string{"g4999=1; Path=/; Expires=Tue, 24 Nov 2026 13:23:20 GMT; Max-Age=5000", "g0=1; Expires=Tue, 24 Nov 2026 12:00:01 GMT; Max-Age=1"},
		},
		"like chain 5000 long": {
			// Each follower copies its own leader as sent, so the 1h of
			// c4999 runs down the chain as far as the response holds it;
			// c0's leader, c1, is absent: unchanged.
			[]string{"c0=x; Max-Age=5", "c4996=v", "c4997=w; Max-Age=1", "c4998=y", "c4999=z; Max-Age=99"},
			[]string{"c0=x; Max-Age=5", "c4996=v" + hostileHour, "c4997=w" + hostileHour, "c4998=y" + hostileHour, "c4999=z" + hostileHour},
		},
		"pathological regular expressions": {
			[]string{long + "!=1; Max-Age=5", long + "=1; Max-Age=5", "xxxxy=1; Max-Age=5"},
			[]string{long + "!=1; Max-Age=5", long + "=1", "xxxxy=1"},
		},
		"pathological glob": {
			[]string{long + "=1; Max-Age=5", long + "b=1; Max-Age=5"},
			[]string{long + "=1; Max-Age=5", long + "b=1"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			h, err := hostileHandler(t, hostileBigConfigs()[name])
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > hangBound {
				t.Errorf("parsing and provisioning took %s", d)
			}
			got := h.norm.rewrite(append([]string(nil), tc.in...), date, nil, nil)
			if !equalStrings(got, tc.want) {
				for i := range got {
					t.Errorf("#%d: got %.80q, want %.80q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestHostileDurationEdges provisions the largest lifetimes the duration
// type holds and checks the bytes they produce: Max-Age as given, Expires
// the Date plus that many seconds (in the year 2319, well within the four
// digits the format allows).
func TestHostileDurationEdges(t *testing.T) {
	const date = "Tue, 24 Nov 2026 12:00:00 GMT"
	base, err := http.ParseTime(date)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		directive string
		seconds   int64
	}{
		{"expire 2147483647s", 2147483647},
		{"expire 24855d", 24855 * 86400},
		{"expire max 24855d", 24855 * 86400},
		{"expire 596523h", 596523 * 3600},
	} {
		h, err := hostileHandler(t, "cookie_normalizer a {\n"+tc.directive+"\n}")
		if err != nil {
			t.Errorf("%s: %v", tc.directive, err)
			continue
		}
		got := h.norm.rewrite([]string{"a=1; Max-Age=5; Expires=Fri, 31 Dec 9999 23:59:59 GMT"}, date, nil, nil)
		if tc.directive == "expire max 24855d" {
			// A cap longer than the cookie's lifetime leaves it alone.
			got = h.norm.rewrite([]string{"a=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT"}, date, nil, nil)
		}
		expires := base.Add(time.Duration(tc.seconds) * time.Second).UTC().Format(http.TimeFormat)
		want := "a=1; Expires=" + expires + "; Max-Age=" + strconv.FormatInt(tc.seconds, 10)
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s: got %q, want %q", tc.directive, got, want)
		}
	}
}

// BenchmarkHostileProvision parses and provisions each valid hostile
// config, as a config load does.
func BenchmarkHostileProvision(b *testing.B) {
	configs := hostileBigConfigs()
	for _, n := range []int{1250, 2500, 5000} {
		// Provisioning time per group stays flat as groups are added.
		b.Run(fmt.Sprintf("groups/%d", n), func(b *testing.B) {
			config := hostileGroups(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := hostileHandler(b, config); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/group")
		})
	}
	for _, name := range []string{"5000 globs", "10000 exact names", "like chain 5000 long", "pathological regular expressions"} {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := hostileHandler(b, configs[name]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHostileRegexpName matches the pathological regular expressions
// and glob against cookie names of 1, 8 and 64 KiB that they do not
// match (the worst case for a backtracking engine): Go's RE2 engine and
// the glob matcher stay linear, so ns/byte stays flat as the name grows.
func BenchmarkHostileRegexpName(b *testing.B) {
	configs := hostileBigConfigs()
	for _, cfg := range []string{"pathological regular expressions", "pathological glob"} {
		h, err := hostileHandler(b, configs[cfg])
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{1 << 10, 8 << 10, 64 << 10} {
			name := strings.Repeat("a", n) + "!"
			b.Run(fmt.Sprintf("%s/%dKiB", strings.Fields(cfg)[1], n>>10), func(b *testing.B) {
				for b.Loop() {
					if g := h.norm.matcher.match(name); g >= 0 {
						b.Fatalf("matched group %d", g)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(name)), "ns/byte")
			})
		}
	}
}

// BenchmarkHostileConfigRewrite rewrites a three-field response under the
// big configs. The cost of the glob list grows with the number of globs a
// name is tried against; exact names cost one map lookup however many;
// a like chain costs one pass over the fields per link, since each link
// must see its leader as sent.
func BenchmarkHostileConfigRewrite(b *testing.B) {
	configs := hostileBigConfigs()
	const date = "Tue, 24 Nov 2026 12:00:00 GMT"
	for _, tc := range []struct {
		config string
		fields []string
	}{
		{"5000 globs", []string{"zz=1; Max-Age=5", "g4999_x=1; Max-Age=5", "g0_x=1"}},
		{"10000 exact names", []string{"e9999=1; Max-Age=5", "zz=1", "e0=1"}},
		{"5000 groups", []string{"g4999=1; Path=/", "zz=1", "g0=1"}},
		{"like chain 5000 long", []string{"c4998=y", "zz=1", "c4999=z; Max-Age=99"}},
	} {
		h, err := hostileHandler(b, configs[tc.config])
		if err != nil {
			b.Fatal(err)
		}
		values := make([]string, len(tc.fields))
		b.Run(strings.ReplaceAll(tc.config, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				copy(values, tc.fields)
				h.norm.rewrite(values, date, nil, nil)
			}
		})
	}
}

// TestBadConfigStartsNothing loads, as `caddy run --config x.json` does, a
// JSON config (which no Caddyfile check has seen) that fails when the
// module is provisioned, a like chain that loops: the load fails with the
// module's error and no site listens.
func TestBadConfigStartsNothing(t *testing.T) {
	site := testcaddy.FreeAddr(t)
	cfg := `{"admin":{"disabled":true},"logging":{"logs":{"default":{"level":"ERROR"}}},
	"apps":{"http":{"servers":{"s":{"listen":["` + site + `"],"routes":[{"handle":[
		{"handler":"cookie_normalizer","groups":[
			{"cookies":["a"],"expire":{"mode":"like","like":"b"}},
			{"cookies":["b"],"expire":{"mode":"like","like":"a"}}]},
		{"handler":"static_response","body":"up"}]}]}}}}}`
	err := caddy.Load([]byte(cfg), true)
	if err == nil {
		caddy.Stop()
		t.Fatal("a config whose like chain loops was loaded")
	}
	if want := `expire like "b": the chain of like leaders loops back to group #1`; !strings.Contains(err.Error(), want) {
		t.Errorf("load failed with %v, want the error to say %q", err, want)
	}
	if conn, err := net.DialTimeout("tcp", site, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s accepts connections after the failed load", site)
	}
}
