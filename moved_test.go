package cookienormalizer

// Unit tests of moved.go: a field's scope, and a member set elsewhere.

import (
	"testing"
	"time"
)

// TestScopeOfNonASCIIDomain: a Domain with a byte over 0x7f is read its
// own way by each engine (punycode or not): the field's scope is not sure.
func TestScopeOfNonASCIIDomain(t *testing.T) {
	var f setCookie
	f.scan("a=v; Domain=ex\xc3\xa4mple.com; Path=/", attributeKinds, 0)
	if s := scopeOf(&f, &attrPolicy{}); s.sure {
		t.Errorf("scope %+v sure for a non-ASCII Domain", s)
	}
	f.scan("a=v; Domain=example.com; Path=/", attributeKinds, 0)
	if s := scopeOf(&f, &attrPolicy{}); !s.sure {
		t.Errorf("scope %+v not sure for an ASCII Domain", s)
	}
}

// TestSetElsewhereRefusedUnsure: a field Chromium and Firefox refuse (a
// control byte) whose lifetime is not known, between a set at / and the
// last field, a deletion at /app: WebKitGTK stores it and may read it as
// a deletion, so the member is not known to be set elsewhere.
func TestSetElsewhereRefusedUnsure(t *testing.T) {
	n := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}}))
	var now clock
	now.now = func() time.Time { return testClock }
	values := []string{"a=1; Path=/; Max-Age=3600", "a=x\x01y; Max-Age=99999999999999999999; Path=/", "a=; Max-Age=0; Path=/app"}
	if setElsewhere(values, "a", &n.rules[0], nil, testClock.Unix(), &now) {
		t.Errorf("set elsewhere despite a refused field of unknown lifetime")
	}
	values[1] = "a=x\x01y; Max-Age=60; Path=/"
	if !setElsewhere(values, "a", &n.rules[0], nil, testClock.Unix(), &now) {
		t.Errorf("not set elsewhere though the refused field sets for certain")
	}
}
