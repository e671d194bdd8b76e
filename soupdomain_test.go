package cookienormalizer

// A Domain over 1024 bytes: Chromium and Firefox ignore the attribute
// (RFC 6265bis §5.6) and store a host-only cookie; WebKitGTK (libsoup)
// reads it and refuses the field, since no host matches it (the engine
// matrix's dom-1100 rows, docs/engines.md). The module passes such a
// field unchanged, and a log-out of a group member gets its own deletion
// in a cascade, so that WebKitGTK does not keep that member alone.

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

var (
	longDomain  = strings.Repeat("a", 1092) + ".example" // 1100 bytes
	limitDomain = strings.Repeat("a", 1016) + ".example" // 1024 bytes
)

// TestScanSoupRefused: the scan marks the field, whatever kinds its
// caller records, only for a Domain value over 1024 bytes that libsoup
// reads (before a HTAB or a byte over 0x7f, where it stops).
func TestScanSoupRefused(t *testing.T) {
	for _, tc := range []struct {
		v                     string
		soupRefused, rejected bool
	}{
		{"d=; Max-Age=0; Domain=" + longDomain, true, true},
		{"d=v; DOMAIN=" + longDomain + "; Path=/", true, true},
		{"d=v; Domain = " + longDomain + " ", true, true},
		{"d=v; Domain=." + strings.Repeat("a", 1016) + ".example", true, true}, // 1025 bytes
		// libsoup keeps the last Domain it reads.
		{"d=v; Domain=" + longDomain + "; Domain=example.com", false, false},
		// libsoup passes over a Domain without a '=' (soup-cookie.c
		// reads Domain only with a value).
		{"d=v; Domain=" + longDomain + "; Domain", true, true},
		{"d=v; Domain=" + longDomain + "; X=1; domain=example.com", false, false},
		{"d=v; Domain=example.com; Domain=" + longDomain, true, true},
		{"d=v; Domain=" + longDomain + "; Domain=example.com; Domain=" + longDomain, true, true},
		{"d=v; Domain=" + longDomain + "; X=p\tq; Domain=example.com", true, true},
		// libsoup 3.2 skips a HTAB before a value: it reads on.
		{"d=v; Domain=" + longDomain + "; X=\t; Domain=example.com", false, false},
		{"d=v; Domain=" + limitDomain, false, false},
		{"d=v; Domain=  " + limitDomain + "        ", false, false},
		{"d=v; Domains=" + longDomain, false, false},
		{"d=v; X=" + longDomain, false, false},
		{"d=v; Path=/" + longDomain, false, false},
		{"d=v; Domain", false, false},
		{"d=" + strings.Repeat("x", 1100) + "; Domain" + strings.Repeat(" ", 1100), false, false},
		// After libsoup's stop: it does not read that Domain, and the
		// others ignore it.
		{"d=v; X=p\tq; Domain=" + longDomain, false, true},
		{"d=v; X=\t; Domain=" + longDomain, true, true},
		{"d=v; X=\u00e9; Domain=" + longDomain, false, true},
		{"d=v; Domain=" + longDomain + "; X=\t", true, true},
		// libsoup stops inside the Domain: it reads example.com.
		{"d=v; Domain=example.com\t" + longDomain, false, true},
		{"d=v; Domain=" + longDomain + "\u00e9" + longDomain, true, true},
		{"d=v; Domain=" + limitDomain + "\u00e9" + longDomain, false, true},
	} {
		for _, kinds := range []kindMask{0, lifetimeKinds, attributeKinds, lifetimeKinds | attributeKinds} {
			var f setCookie
			if !f.scan(tc.v, kinds, 0) {
				t.Fatalf("%.40q: not a cookie", tc.v)
			}
			if f.soupRefused != tc.soupRefused || f.rejected != tc.rejected || f.refused {
				t.Errorf("%.40q…%q (kinds %b): soupRefused %v rejected %v refused %v, want %v %v false", tc.v, tc.v[len(tc.v)-12:], kinds, f.soupRefused, f.rejected, f.refused, tc.soupRefused, tc.rejected)
			}
		}
	}
}

// TestSoupRefusedDomain runs such fields through the handler, applied
// and under report_only, which must log and count the same decisions.
func TestSoupRefusedDomain(t *testing.T) {
	const (
		del  = "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
		page = "https://example.com/page"
	)
	for _, tc := range []struct {
		label, cfg, url, cookie string
		app, want, lines        []string
	}{
		{
			label: "a fixed lifetime leaves the set alone",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies d\n\t\texpire 12h\n\t}\n}",
			url:   page,
			app:   []string{"d=new; Max-Age=3600; Domain=" + longDomain},
			want:  []string{"d=new; Max-Age=3600; Domain=" + longDomain},
			lines: []string{"d/g/passed invalid"},
		},
		{
			label: "a Domain of 1024 bytes is read by every engine",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies d\n\t\texpire session\n\t}\n}",
			url:   page,
			app:   []string{"d=new; Max-Age=3600; Domain=" + limitDomain},
			want:  []string{"d=new; Domain=" + limitDomain},
			lines: []string{"d/g/rewritten"},
		},
		{
			label: "a log-out cascades with the member's own deletion",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies a b\n\t\ton_delete cascade\n\t}\n}",
			url:   page,
			app:   []string{"a=; Max-Age=0; Path=/; Domain=" + longDomain},
			want:  []string{"a=; Max-Age=0; Path=/; Domain=" + longDomain, "a" + del + "; Path=/", "b" + del + "; Path=/"},
			lines: []string{"a/g/passed invalid", "a/g/cascaded", "b/g/cascaded"},
		},
		{
			label: "under a domain policy, a deletion placed at its Domain stands for it",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies a b\n\t\tdomain example.com\n\t\ton_delete cascade\n\t}\n}",
			url:   page,
			app:   []string{"a=; Max-Age=0; Domain=" + longDomain},
			want:  []string{"a=; Max-Age=0; Domain=" + longDomain, "a" + del + "; Domain=example.com", "b" + del + "; Domain=example.com"},
			lines: []string{"a/g/passed invalid", "a/g/deletion placed", "b/g/cascaded"},
		},
		{
			label: "under a path policy, the deletion placed at its Path stands for it",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies a b\n\t\tpath /rd\n\t\ton_delete cascade\n\t}\n}",
			url:   "https://example.com/rd/x/page",
			app:   []string{"a=; Max-Age=0; Path=/rd/x; Domain=" + longDomain},
			want:  []string{"a=; Max-Age=0; Path=/rd/x; Domain=" + longDomain, "a" + del + "; Path=/rd", "b" + del + "; Path=/rd"},
			lines: []string{"a/g/passed invalid", "a/g/deletion placed", "b/g/cascaded"},
		},
		{
			label: "after libsoup's stop, under a path policy",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies a b\n\t\tpath /rd\n\t\ton_delete cascade\n\t}\n}",
			url:   "https://example.com/rd/x/page",
			app:   []string{"a=; Path=/rd/x; Max-Age=0\t; Secure; Domain=" + longDomain},
			want:  []string{"a=; Path=/rd/x; Max-Age=0\t; Secure; Domain=" + longDomain, "a" + del + "; Path=/rd; Secure", "b" + del + "; Path=/rd; Secure"},
			lines: []string{"a/g/passed invalid", "a/g/deletion placed", "b/g/cascaded"},
		},
		{
			label: "a set counts as set: no cascade",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies a b\n\t\ton_delete cascade\n\t}\n}",
			url:   page,
			app:   []string{"b=; Max-Age=0", "a=v; Max-Age=60; Domain=" + longDomain},
			want:  []string{"b=; Max-Age=0", "a=v; Max-Age=60; Domain=" + longDomain},
			lines: []string{"a/g/passed invalid"},
		},
		{
			label: "a set no engine stores sets nothing: the cascade deletes it",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies __Host-a b\n\t\ton_delete cascade\n\t}\n}",
			url:   page,
			app:   []string{"b=; Max-Age=0", "__Host-a=v; Max-Age=60; Path=/; Domain=" + longDomain},
			want:  []string{"b=; Max-Age=0", "__Host-a=v; Max-Age=60; Path=/; Domain=" + longDomain, "__Host-a" + del + "; Path=/; Secure"},
			lines: []string{"__Host-a/g/passed invalid", "__Host-a/g/cascaded"},
		},
		{
			label: "a field Chromium and Firefox refuse for a control byte, whose part WebKitGTK reads has such a Domain, sets nothing",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies a b\n\t\ton_delete cascade\n\t}\n}",
			url:   page,
			app:   []string{"b=; Max-Age=0; Path=/", "a=v; Path=/; Domain=" + longDomain + "; x=\x01"},
			want:  []string{"b=; Max-Age=0; Path=/", "a=v; Path=/; Domain=" + longDomain + "; x=\x01", "a" + del + "; Path=/"},
			lines: []string{"a/g/passed invalid", "a/g/cascaded"},
		},
		{
			// libsoup keeps the last Domain and stores the field there;
			// Chromium and Firefox refuse it (a __Host- name with a
			// Domain). A deletion there would have to copy a field with
			// an attribute over 1024 bytes libsoup reads: not written,
			// so nothing cascades (withheld, for b's log-out).
			label: "a shorter Domain after it is the one libsoup keeps",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies __Host-a b\n\t\ton_delete cascade\n\t}\n}",
			url:   page,
			app:   []string{"b=; Max-Age=0; Path=/", "__Host-a=v; Secure; Path=/; Domain=" + longDomain + "; Domain=example.com"},
			want:  []string{"b=; Max-Age=0; Path=/", "__Host-a=v; Secure; Path=/; Domain=" + longDomain + "; Domain=example.com"},
			lines: []string{"b/g/cascade withheld"},
		},
		{
			label: "it leads no like group",
			cfg:   "cookie_normalizer {\n\tgroup g {\n\t\tcookies f\n\t\texpire like ldr\n\t}\n}",
			url:   page,
			app:   []string{"ldr=v; Max-Age=60; Domain=" + longDomain, "f=v; Max-Age=3600"},
			want:  []string{"ldr=v; Max-Age=60; Domain=" + longDomain, "f=v; Max-Age=3600"},
			lines: nil,
		},
	} {
		t.Run(tc.label, func(t *testing.T) {
			out, applied := parityLines(t, tc.cfg, false, tc.url, tc.cookie, tc.app...)
			if !slices.Equal(out, tc.want) {
				t.Errorf("applied:\n got %.300q\nwant %.300q", out, tc.want)
			}
			if !slices.Equal(applied, tc.lines) {
				t.Errorf("applied lines %q, want %q", applied, tc.lines)
			}
			if _, reported := parityLines(t, tc.cfg, true, tc.url, tc.cookie, tc.app...); !slices.Equal(reported, applied) {
				t.Errorf("report_only lines differ from the applied ones:\n reported %q\n applied  %q", reported, applied)
			}
		})
	}
}

// TestSlideBesideUnreadField: a member's field over 8 KiB, which the
// module does not read (every engine stores a well-formed one: here a
// log-out, a deletion everywhere), keeps slide from re-issuing the other
// members or restarting its stamp, with or without on_delete cascade
// (for which it counts as set) and whatever the stamp's age; report_only
// logs the same.
func TestSlideBesideUnreadField(t *testing.T) {
	base := "cookie_normalizer {\n\tgroup g {\n\t\tcookies a b\n\t\texpire 12h\n\t\tslide 10m\n\t\tpath /\n\t\tdomain remove\n\t\tsecure on\n\t}\n}"
	bigLogOut := "a=; Max-Age=0; Path=/" + strings.Repeat("; x=y", 1700)
	for _, tc := range []struct{ label, cfg, cookie string }{
		{"no stamp", base, "a=1; b=2"},
		{"cascade, fresh stamp", strings.Replace(base, "slide 10m", "slide 10m\n\t\ton_delete cascade", 1), "a=1; b=2; cn_slide_g=" + strconv.FormatInt(testClock.Unix()-100, 10)},
		{"both members", base, "a=1; b=2"},
	} {
		app := []string{bigLogOut}
		if tc.label == "both members" {
			app = append(app, "b=v; Path=/; Secure; Max-Age=60")
		}
		out, applied := parityLines(t, tc.cfg, false, "https://example.com/", tc.cookie, app...)
		want := slices.Clone(app)
		if len(app) == 2 {
			want[1] = "b=v; Path=/; Secure; Expires=Wed, 25 Nov 2026 01:00:00 GMT; Max-Age=43200"
		}
		if !slices.Equal(out, want) {
			t.Errorf("%s: got %.200q, want %.200q", tc.label, out, want)
		}
		if _, reported := parityLines(t, tc.cfg, true, "https://example.com/", tc.cookie, app...); !slices.Equal(reported, applied) {
			t.Errorf("%s: report_only lines %q, applied %q", tc.label, reported, applied)
		}
	}
}
