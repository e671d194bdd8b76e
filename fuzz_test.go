package cookienormalizer

import (
	"strings"
	"testing"
	"time"
)

// fuzzSeeds are Set-Cookie values from the SPEC examples and the edge cases
// of the table tests.
var fuzzSeeds = []string{
	"session_id=abc; Max-Age=43200; Path=/; HttpOnly; Secure; SameSite=Lax",
	"user_id__insecure=42; Path=/; Secure",
	"session_id=; Max-Age=0; Path=/",
	"session_id=x; expires=Thu, 01-Jan-1970 00:00:01 GMT; Path=/",
	"a=1; Max-Age=100; max-age=90000; Expires=Wed, 09 Jun 2021 10:18:14 GMT",
	`a="x, y"; Path=/; Priority=High`,
	"a=1; Max-Age=abc",
	"a = 1 ;  max-age = 100 ;\tPath=/ ; Secure",
	"a=1; Path=/;",
	"a=1; Max-Age=99999999999999999999999999",
	"a; Max-Age=5",
	"=1; Max-Age=5",
	"a=1\x01; Max-Age=5",
	"a=1; Max-Age=-1",
	"b=1; Expires=Tue, 24 Nov 2026 18:00:00 GMT; Expires=Thu, 26 Nov 2026 12:00:00 GMT",
}

// maxGrowth bounds what a rewrite adds to a value:
// "; Max-Age=1099511627776; Expires=Fri, 31 Dec 9999 23:59:59 GMT" is 62
// bytes.
const maxGrowth = 64

func FuzzRewrite(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, "l=1; Max-Age=600", uint8(i), uint32(43200), testDate)
	}
	for i, v := range loadDateVectors(f) {
		f.Add("a=1; Expires="+v.Test, "l=1; Expires="+v.Test, uint8(i), uint32(3600), testDate)
	}
	f.Fuzz(func(t *testing.T, value, leader string, mode uint8, secs uint32, date string) {
		// Names from a to m match; the rest must pass byte for byte.
		const pattern = "~^[a-m]"
		seconds := 1 + int64(secs)%(800*86400)
		var r rule
		switch mode % 4 {
		case 0:
			r = session(pattern)
		case 1:
			r = fixed(seconds, pattern)
		case 2:
			r = capped(seconds, pattern)
		case 3:
			r = like("l", pattern)
		}
		n := testNormalizer(t, r)
		in := []string{leader, value}
		once := rewriteAll(n, in, date)
		twice := rewriteAll(n, once, date)
		if !equalStrings(once, twice) {
			t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", in, once, twice)
		}
		base := n.responseTime(date)
		for i := range in {
			checkRewriteInvariants(t, n, in[i], once[i], base)
		}
	})
}

func checkRewriteInvariants(t *testing.T, n *normalizer, in, out string, base time.Time) {
	t.Helper()
	name, isCookie := cookieName(in)
	if !isCookie || n.matcher.match(name) < 0 {
		if out != in {
			t.Fatalf("unmatched value changed:\n in  %q\n out %q", in, out)
		}
		return
	}
	if parseExpiry(in, base).deletion() && out != in {
		t.Fatalf("deletion changed:\n in  %q\n out %q", in, out)
	}
	if out == in {
		return
	}
	nv := strings.TrimRight(in[:attrStart(in)], " \t")
	if !strings.HasPrefix(out, nv) {
		t.Fatalf("name=value bytes changed:\n in  %q\n out %q", in, out)
	}
	var maxAges, expires int
	for pos := attrStart(out); pos < len(out); {
		_, end, attr, _, _ := nextAttribute(out, pos)
		pos = end
		switch {
		case strings.EqualFold(attr, "max-age"):
			maxAges++
		case strings.EqualFold(attr, "expires"):
			expires++
		}
	}
	if maxAges > 1 || expires > 1 {
		t.Fatalf("%d Max-Age and %d Expires in %q", maxAges, expires, out)
	}
	for _, c := range "\r\n\x00" {
		if strings.ContainsRune(out, c) && !strings.ContainsRune(in, c) {
			t.Fatalf("%q appeared in %q", c, out)
		}
	}
	if len(out) > len(in)+maxGrowth {
		t.Fatalf("grew by %d bytes: %q", len(out)-len(in), out)
	}
}

func FuzzParseCookieDate(f *testing.F) {
	for _, v := range loadDateVectors(f) {
		f.Add(v.Test)
	}
	f.Add("Wed, 09-Jun-2021 10:18:14 GMT")
	f.Add("1:2:3 1 jan 70")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseCookieDate(s)
		if !ok {
			return
		}
		if y := got.Year(); y < 1601 || y > 9999 {
			t.Fatalf("parseCookieDate(%q) = year %d", s, y)
		}
		if got.Location() != time.UTC || got.Nanosecond() != 0 {
			t.Fatalf("parseCookieDate(%q) = %v, want whole seconds in UTC", s, got)
		}
		// What we write as Expires parses back to the same instant.
		again, ok := parseCookieDate(got.Format(imfFixdate))
		if !ok || !again.Equal(got) {
			t.Fatalf("parseCookieDate(%q) = %v, which does not round-trip: %v %v", s, got, again, ok)
		}
	})
}
