package cookienormalizer

// Unit tests of placed.go: where engines read a field's place, and the
// deletions placed there.

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPlacedSkipsStamp: the slide stamp is the module's own cookie; a
// `*` group with a path policy, which places a deletion after a tabbed
// log-out it passes unchanged, leaves a tabbed stamp deletion alone (no
// deletion placed for it), as the rewrite pass does.
func TestPlacedSkipsStamp(t *testing.T) {
	const config = `{"groups":[{"label":"login","cookies":["a","b"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","domain":"remove","slide":{"interval":"1m"}},{"cookies":["*"],"path":"/rd"}]}`
	h, err := provisionJSON(t, config)
	if err != nil {
		t.Fatal(err)
	}
	const del = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
	in := []string{"theme=v; Max-Age=0\t; Path=/rd/x", "cn_slide_login=; Max-Age=0\t; Path=/x"}
	got := h.norm.rewriteResponse(slices.Clone(in), testDate, nil, nil)
	want := append(slices.Clone(in), "theme="+del+"; Path=/rd")
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestPlacedRefusingEngineUnknown: Chromium refuses a field with a tab
// in its value (it keeps the cookie it had), so its reading of the
// field's lifetime, here not known (a signed Max-Age of 20 digits), does
// not matter: Firefox reads the past Expires (a deletion), libsoup a=v
// up to the tab at /app (the request's default-path), apart from /rd. A
// deletion is placed at /rd.
func TestPlacedRefusingEngineUnknown(t *testing.T) {
	const del = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
	n := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}, Path: "/rd"}))
	in := []string{"a=v\tw; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=+99999999999999999999; Path=/rd/x"}
	got := n.rewriteResponse(slices.Clone(in), testDate, &request{from: requestFor("/app/page")}, nil)
	if want := append(slices.Clone(in), "a="+del+"; Path=/rd"); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestPlacedPathRemovedTabbed: a tab inside a Path the policy removes
// does not make the place unknown: the deletion has no Path to copy.
func TestPlacedPathRemovedTabbed(t *testing.T) {
	const del = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
	n := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}, Domain: "example.com", Path: "remove"}))
	in := []string{"a=; Max-Age=0; Path=/o\tld"}
	got := n.rewriteResponse(slices.Clone(in), testDate, nil, nil)
	if want := append(slices.Clone(in), "a="+del+"; Domain=example.com"); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestDeletionKeepingHostPrefixWithDomain: a __Host- cookie libsoup
// stored at Path=/ with a Domain (it checks no prefix) is deleted as it
// reads, with its Domain: the prefix's Path=/, Secure and no Domain
// would be another cookie.
func TestDeletionKeepingHostPrefixWithDomain(t *testing.T) {
	p := place{path: "/", domain: "example.com", domainKind: 1}
	got, ok := p.deletionKeeping("__Host-a")
	if want := "__Host-a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Domain=example.com"; !ok || got != want {
		t.Errorf("got %q, %v; want %q", got, ok, want)
	}
}

// TestReadPlaceOneLabelDomainNoHost: a Domain naming a one-label host
// (or an IP address), with the request's host not known: engines read
// it their own ways (host-only, or a Domain cookie), so its kind is not
// known (-1).
func TestReadPlaceOneLabelDomainNoHost(t *testing.T) {
	for _, req := range []*request{nil, {host: "localhost:8080"}} {
		var f setCookie
		f.scan("a=v; Domain=localhost; Path=/", attributeKinds, 0)
		p, ok := readPlace(&f, placeSoup, req)
		if !ok || p.domainKind != -1 {
			t.Errorf("req %+v: domainKind %d, ok %v; want -1, true", req, p.domainKind, ok)
		}
	}
}

// TestReadPlaceEmptyDomainThenDomain: an empty Domain, then one with a
// value: not each Domain read has a value, so the kind is not known (-1)
// and no deletion is written for the place.
func TestReadPlaceEmptyDomainThenDomain(t *testing.T) {
	var f setCookie
	f.scan("a=v; Domain=; Domain=example.com; Path=/", attributeKinds, 0)
	p, ok := readPlace(&f, placeSoup, nil)
	if !ok || p.domainKind != -1 {
		t.Errorf("domainKind %d, ok %v; want -1, true", p.domainKind, ok)
	}
	if d, ok := p.deletion("a"); ok {
		t.Errorf("deletion %q written for an unknown Domain kind", d)
	}
}

// TestKeptPlaceDeletionsDomainApart: Chromium and Firefox read the whole
// field's Domain, libsoup (stopping at the tab) none: the places are
// apart though the paths agree, so the deletion at the policies' place
// is among those the cascade appends.
func TestKeptPlaceDeletionsDomainApart(t *testing.T) {
	n := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}, Path: "/rd", Secure: on()}))
	r := &n.rules[0]
	values := []string{"a=v; Max-Age=0\t; Max-Age=3600; Path=/rd; Domain=example.com"}
	var now clock
	base := testClock.Unix()
	now.now = func() time.Time { return testClock }
	out, ok := keptPlaceDeletions(values, "a", r, &request{from: requestFor("/rd/page")}, base, &now)
	const del = "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/rd; Domain=example.com"
	if want := (keptDeletions{del + "; Secure", del}); !ok || out != want {
		t.Errorf("got %q, %v; want %q", out, ok, want)
	}
}

// TestKeptPlaceDeletionsNoDuplicate: every engine keeps the field, and
// the whole field's place and the part before libsoup's stop are the
// same: one deletion there, not two.
func TestKeptPlaceDeletionsNoDuplicate(t *testing.T) {
	n := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}, Path: "/rd"}))
	r := &n.rules[0]
	values := []string{"a=v; Max-Age=60\t; Path=/x"}
	var now clock
	now.now = func() time.Time { return testClock }
	out, ok := keptPlaceDeletions(values, "a", r, &request{from: requestFor("/x/page")}, testClock.Unix(), &now)
	if want := (keptDeletions{"", "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/x"}); !ok || out != want {
		t.Errorf("got %q, %v; want %q", out, ok, want)
	}
}

// TestOddPlaceIgnoresOversized: a Path over 1024 bytes with a tab in it
// is not an odd place: Chromium and Firefox ignore it, and the long
// attribute is handled where places are read (see readPlace's long).
func TestOddPlaceIgnoresOversized(t *testing.T) {
	n := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}, Path: "/rd"}))
	var now clock
	now.now = func() time.Time { return testClock }
	values := []string{"a=; Max-Age=0; Path=/" + strings.Repeat("p", 1100) + "\tq"}
	if oddPlace(values, "a", &n.rules[0], nil, testClock.Unix(), &now) {
		t.Errorf("oddPlace true for a tab only in a Path over 1024 bytes")
	}
	values = []string{"a=; Max-Age=0; Path=/p\tq"}
	if !oddPlace(values, "a", &n.rules[0], nil, testClock.Unix(), &now) {
		t.Errorf("oddPlace false for a tab in a Path")
	}
}

// TestPlacedPathRemoveOnly: a group whose only place policy is
// `path remove` still moves its cookies (to the request's default-path),
// so a tabbed deletion it passes unchanged gets a deletion placed there,
// as under any other path or domain policy.
func TestPlacedPathRemoveOnly(t *testing.T) {
	const del = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
	n := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}, Path: "remove"}))
	in := []string{"a=; Max-Age=0; Path=/o\tld"}
	got := n.rewriteResponse(slices.Clone(in), testDate, &request{from: requestFor("/app/page")}, nil)
	if want := append(slices.Clone(in), "a="+del); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
