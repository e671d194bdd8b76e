package cookienormalizer

// Unit tests of expiry.go: reading a field's lifetime every engine's way.

import (
	"slices"
	"strings"
	"testing"
)

// TestParseMaxAgeDigits: parseMaxAge reads up to maxAgeDigits
// significant digits (leading zeros not counted, zeros after the first
// significant digit counted), and calls more long rather than let n
// overflow.
func TestParseMaxAgeDigits(t *testing.T) {
	for _, tc := range []struct {
		s        string
		n        int64
		ok, long bool
	}{
		{"1" + strings.Repeat("0", maxAgeDigits-1), 100000000000000000, true, false},
		{"000" + strings.Repeat("9", maxAgeDigits), 999999999999999999, true, false},
		{"1" + strings.Repeat("0", maxAgeDigits), 0, false, true},
		{"1" + strings.Repeat("0", 20), 0, false, true},
	} {
		n, ok, long := parseMaxAge(tc.s, false)
		if n != tc.n || ok != tc.ok || long != tc.long {
			t.Errorf("parseMaxAge(%q) = %d, %t, %t; want %d, %t, %t", tc.s, n, ok, long, tc.n, tc.ok, tc.long)
		}
	}
}

// TestBareMaxAgeIgnored: a Max-Age without '=' sets no lifetime in
// any engine the module models (libsoup reads a value only after '='):
// the field is a session cookie, so `fixed` gives it its lifetime and
// `session` drops the bare attribute.
func TestBareMaxAgeIgnored(t *testing.T) {
	for _, tc := range []struct {
		r        rule
		in, want string
	}{
		{fixed(3600, "a"), "a=1; Max-Age", "a=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"},
		{session("a"), "a=1; Max-Age=60; Max-Age", "a=1"},
	} {
		if got := rewriteAll(testNormalizer(t, tc.r), []string{tc.in}, testDate); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
