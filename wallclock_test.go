package cookienormalizer

import (
	"testing"
	"time"
)

// wallTime is the clock's reading as a time: its anchor plus the
// monotonic time since (what unix reads to the second).
func wallTime(c *wallClock) time.Time {
	a, d := c.anchored()
	return a.Add(d)
}

// TestWallClockFollowsTimeNow: the clock reads what time.Now reads, to
// well under a millisecond, whether it takes a new anchor or not.
func TestWallClockFollowsTimeNow(t *testing.T) {
	var c wallClock
	for i := range 1000 {
		before := time.Now()
		got := wallTime(&c)
		after := time.Now()
		if got.Before(before.Add(-time.Millisecond)) || got.After(after.Add(time.Millisecond)) {
			t.Fatalf("%d: the clock reads %v, not between %v and %v", i, got, before, after)
		}
	}
}

// TestWallClockReanchors: an anchor a second old or more, or one ahead of
// the monotonic clock, is replaced by a fresh time.Now.
func TestWallClockReanchors(t *testing.T) {
	for _, skew := range []time.Duration{-maxAnchorAge, -time.Hour, time.Second} {
		var c wallClock
		stale := time.Now().Add(skew)
		c.anchor.Store(&stale)
		before := time.Now()
		got := wallTime(&c)
		if d := got.Sub(before); d < -time.Millisecond || d > time.Second {
			t.Errorf("anchor %v away: the clock reads %v from time.Now", skew, d)
		}
		if a := c.anchor.Load(); a.Equal(stale) {
			t.Errorf("anchor %v away: kept", skew)
		}
	}
	// A fresh anchor is kept.
	var c wallClock
	fresh := time.Now()
	c.anchor.Store(&fresh)
	wallTime(&c)
	if a := c.anchor.Load(); a != &fresh && !a.Equal(fresh) {
		t.Errorf("a fresh anchor was replaced")
	}
}

// TestWallClockUnix: unix() reads what time.Now().Unix() reads, with
// anchors of every age up to a second (so that the anchor's nanoseconds
// plus the time since cross a second about as often as not).
func TestWallClockUnix(t *testing.T) {
	var c wallClock
	for i := range 400 {
		a := time.Now().Add(-time.Duration(i) * maxAnchorAge / 400)
		c.anchor.Store(&a)
		before := time.Now()
		got := c.unix()
		after := time.Now()
		if got < before.Unix() || got > after.Unix() {
			t.Fatalf("anchor %v old: unix() = %d, not between %d and %d", before.Sub(a), got, before.Unix(), after.Unix())
		}
	}
	c.anchor.Store(nil)
	if before, got := time.Now().Unix(), c.unix(); got < before || got > time.Now().Unix() {
		t.Fatalf("without an anchor: unix() = %d, not now (%d)", got, before)
	}
}

// TestWallClockAnchorServesASecond: the anchor is renewed once it is a
// second old, so that a step of the wall clock shows within a second,
// as the clock's comment promises; the bound is a second, not whatever
// maxAnchorAge says.
func TestWallClockAnchorServesASecond(t *testing.T) {
	var c wallClock
	stale := time.Now().Add(-1100 * time.Millisecond)
	c.anchor.Store(&stale)
	c.unix()
	if a := c.anchor.Load(); a.Equal(stale) {
		t.Errorf("an anchor 1.1s old was kept, want it renewed")
	}
}
