package cookienormalizer

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// memoOutcome is what one rewrite of a single field says: the field, the
// action observed, and what consistency reads of it.
type memoOutcome struct {
	out    string
	events recordingObserver
	state  memberState
}

// rewriteOne rewrites the single field v with n, as a response would.
func rewriteOne(n *normalizer, v, date string) memoOutcome {
	return rewriteOneWith(n, v, date, nil)
}

// rewriteOneWith is rewriteOne with the fields the memo answers for
// recorded in joins (if not nil) and built afterwards, as the response
// writer does.
func rewriteOneWith(n *normalizer, v, date string, joins *fieldJoins) memoOutcome {
	var (
		o     memoOutcome
		state memberStates
	)
	values := n.rewriteJoins([]string{v}, date, &o.events, &state, joins, nil)
	joins.flush(values)
	o.out, o.state = values[0], state[0]
	return o
}

// checkMemo rewrites other and then v with one normalizer, the proxy's
// clock moving by skew in between, and v alone with a fresh one at the
// later time: the outcomes for v must be the same, whether or not the memo
// stood in for the second rewrite, and whether the memo's field was built
// at once or recorded and built afterwards (fieldJoins).
func checkMemo(t *testing.T, r rule, other, v, date string, skew time.Duration) {
	t.Helper()
	for _, joins := range []*fieldJoins{nil, new(fieldJoins)} {
		clockAt := testClock
		now := func() time.Time { return clockAt }
		warm, err := newNormalizer([]rule{r})
		if err != nil {
			t.Skip(err) // a name the fuzzer made that no config could hold
		}
		warm.now = now
		rewriteOne(warm, other, date)
		clockAt = clockAt.Add(skew)
		got := rewriteOneWith(warm, v, date, joins)
		cold, _ := newNormalizer([]rule{r})
		cold.now = now
		want := rewriteOne(cold, v, date)
		if got.out != want.out || !equalStrings(got.events, want.events) || got.state != want.state {
			t.Fatalf("after %q, the rewrite of %q (joins recorded: %v) differs from a fresh one's:\n got  %q %q state %d\n want %q %q state %d",
				other, v, joins != nil, got.out, got.events, got.state, want.out, want.events, want.state)
		}
	}
}

// memberRule is r with the exact name of v's cookie as a member of an
// on_delete cascade rule, so that its state is read, when it can be one.
func memberRule(r rule, v string) rule {
	if name, ok := cookieName(v); ok && exactPattern(name) {
		r.patterns = append([]string{name}, r.patterns...)
		r.cascade = true
	}
	return r
}

// sameAttributes returns v with its name=value pair replaced by pair.
func sameAttributes(pair, v string) string {
	pair = strings.ReplaceAll(pair, ";", "")
	if p := strings.IndexByte(v, ';'); p >= 0 {
		return pair + v[p:]
	}
	return pair
}

func TestMemoStandsInForTheRewrite(t *testing.T) {
	const (
		later  = "Tue, 24 Nov 2026 12:00:01 GMT"
		noDate = ""
	)
	for _, tc := range []struct {
		name        string
		other, v    string
		date        string
		skew        time.Duration
		wantHit     bool // the memo answers for v
		wantChanged bool // the rewrite changes v
	}{
		{"same attributes, another value", "session_id=old; Max-Age=600; Path=/", "session_id=new; Max-Age=600; Path=/", testDate, 0, true, true},
		{"same attributes, another name of the group", "a=1; Path=/", "b=2; Path=/", testDate, 0, true, true},
		{"no attributes at all", "a=1", "a=2", testDate, 0, true, true},
		{"a deletion", "a=; Max-Age=0", "b=; Max-Age=0", testDate, 0, true, true},
		{"another base time", "a=1; Path=/", "a=2; Path=/", later, 0, false, true},
		{"no Date: the proxy's clock is the base", "a=1; Path=/", "a=2; Path=/", noDate, 2 * time.Second, false, true},
		{"an Expires read against the proxy's clock", "a=1; Expires=Tue, 24 Nov 2026 12:00:05 GMT", "a=2; Expires=Tue, 24 Nov 2026 12:00:05 GMT", testDate, 10 * time.Second, false, true},
		{"a __Host- name", "a=1; Path=/x", "__Host-a=2; Path=/x", testDate, 0, false, true},
		{"a pair ending in a space", "a=1; Max-Age=5", "a=2 ; Max-Age=5", testDate, 0, false, true},
		{"a control byte in the pair", "a=1; Path=/", "a=\x01; Path=/", testDate, 0, false, false},
		{"a control byte in the attributes", "a=1; Path=/\x01", "a=2; Path=/\x01", testDate, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []rule{
				fixed(3600, "~^(a|b|session_id|__Host-a)$"),
				capped(60, "~^(a|b|session_id|__Host-a)$"),
				session("~^(a|b|session_id|__Host-a)$"),
			} {
				r.attrs = Group{Secure: on(), HTTPOnly: on(), SameSite: "lax", Path: "/"}.attrPolicy()
				r = memberRule(r, tc.v)
				checkMemo(t, r, tc.other, tc.v, tc.date, tc.skew)

				// Whether the memo answers for v: an entry for its
				// attributes at its base time once other is rewritten.
				n, _ := newNormalizer([]rule{r})
				n.now = func() time.Time { return testClock }
				rewriteOne(n, tc.other, testDate)
				n.now = func() time.Time { return testClock.Add(tc.skew) }
				name, _ := cookieName(tc.v)
				clk := n.clock()
				p, ok := memoSplit(&n.rules[0], tc.v, name)
				hit := ok && n.memos[0].lookup(tc.v[p:], n.responseTime(tc.date, &clk)) != nil
				got := rewriteOne(n, tc.v, tc.date)
				if hit != tc.wantHit {
					t.Errorf("memo answered: %v, want %v", hit, tc.wantHit)
				}
				if changed := got.out != tc.v; changed != tc.wantChanged {
					t.Errorf("%q became %q: changed %v, want %v", tc.v, got.out, changed, tc.wantChanged)
				}
			}
		})
	}
}

// TestMemoConcurrent rewrites from many goroutines through one memo, with
// the base time changing under them (run with -race).
func TestMemoConcurrent(t *testing.T) {
	n := testNormalizer(t, fixed(3600, "a", "b"))
	dates := []string{testDate, "Tue, 24 Nov 2026 12:00:01 GMT", "Tue, 24 Nov 2026 12:00:02 GMT"}
	tails := []string{"; Path=/", "; Max-Age=5; Path=/", "; HttpOnly", "; Secure", "; SameSite=Lax", ""}
	want := map[[2]string]string{}
	cold := testNormalizer(t, fixed(3600, "a", "b"))
	for _, d := range dates {
		for _, tail := range tails {
			want[[2]string{d, tail}] = rewriteAll(cold, []string{"a=1" + tail}, d)[0]
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				d, tail := dates[(i/50+g)%len(dates)], tails[(i+g)%len(tails)]
				if got := rewriteAll(n, []string{"a=1" + tail}, d)[0]; got != want[[2]string{d, tail}] {
					t.Errorf("%q at %s: got %q, want %q", "a=1"+tail, d, got, want[[2]string{d, tail}])
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestMemoStoresATailOnce: requests that missed the same tail at once
// each store it (seven here, one after the other as they would finish);
// the tail takes one slot, and the group's other tails stay.
func TestMemoStoresATailOnce(t *testing.T) {
	var m tailMemo
	const base = 1795000000
	m.store("; Path=/b", "b", base, actionRewritten, memberSet)
	m.store("; Path=/c", "c", base, actionRewritten, memberSet)
	for range 7 {
		m.store("; Path=/a", "a", base, actionRewritten, memberSet)
	}
	for _, tail := range []string{"; Path=/a", "; Path=/b", "; Path=/c"} {
		if m.lookup(tail, base) == nil {
			t.Errorf("%q is no longer remembered", tail)
		}
	}
	held := 0
	for i := range m.slots {
		if e := m.slots[i].Load(); e != nil && e.tail == "; Path=/a" {
			held++
		}
	}
	if held != 1 {
		t.Errorf("%q holds %d slots, want 1", "; Path=/a", held)
	}
}

// FuzzMemo checks that the memo stands in for the rewrite exactly: a
// field rewritten after another with the same attributes comes out as on
// a normalizer that never saw them, with the same action and the same
// reading of deletion, whatever the proxy's clock did in between.
func FuzzMemo(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, "k=other", uint8(i), uint32(43200), testDate, int16(i*100))
	}
	f.Fuzz(func(t *testing.T, v, pair string, mode uint8, secs uint32, date string, skew int16) {
		r := memberRule(fuzzRule(mode, secs), v)
		checkMemo(t, r, sameAttributes(pair, v), v, date, time.Duration(skew)*time.Second)
	})
}

// TestMemoNotForCommaNames: a ',' in a name makes WebKitGTK store a
// nameless cookie, so such a field passes unchanged; the memo of another
// name's field with the same attributes must not stand in for it.
func TestMemoNotForCommaNames(t *testing.T) {
	checkMemo(t, fixed(60, "*"), "a=1; Max-Age=5; Path=/", "a,b=1; Max-Age=5; Path=/", testDate, 0)
	checkMemo(t, session("*"), "x=1; Max-Age=5", "x,y=1; Max-Age=5", testDate, 0)
}
