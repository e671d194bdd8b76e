package cookienormalizer

import (
	"net/http/httptest"
	"testing"
)

func TestZZScratch(t *testing.T) {
	n := testNormalizer(t, Group{Cookies: []string{"pth_*"}, Path: "/rd"}.rule())
	for _, in := range [][]string{
		{"pth_118  =\"q;118\" ; MaX-AGe = +00; Max-Age=\u00e9; Max-Age=0x10 ; Secure;Expires = tue, 24 nov 2026 12:00:00 gmt"},
		{"pth_118  =\"q;118\" ; MaX-AGe = +00; Max-Age=\t; Max-Age=0x10 ; Secure;Expires = tue, 24 nov 2026 12:00:00 gmt"},
		{"pth_118  =\"q;118\" ; MaX-AGe = +00; Max-Age=abc; Max-Age=0x10 ; Secure;Expires = tue, 24 nov 2026 12:00:00 gmt"},
		{"pth_118  =\"q;118\" ; MaX-AGe = +00; Max-Age=\u00e9; Max-Age=0x10 ; Secure;Expires = Tue, 24 Nov 2026 12:00:00 GMT"},
		{"pth_118  =\"q;118\" ; MaX-AGe = +00; Max-Age=\u00e9"},
		{"pth_118=x; Max-Age=0; X=\t"},
	} {
		r := httptest.NewRequest("GET", "https://127.0.0.1/rd/x/set?batch=1", nil)
		out := n.rewriteResponse(in, testDate, &request{https: true, from: r, host: "127.0.0.1"}, nil)
		t.Logf("%q", out)
	}
}
