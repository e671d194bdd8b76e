package cookienormalizer

import (
	"sync/atomic"
	"time"
)

// wallClock is the proxy's wall clock at the cost of one clock read:
// time.Now reads the wall clock and the monotonic clock, two calls into
// the kernel's vDSO that take tens of nanoseconds each on a VM, while
// time.Since reads the monotonic one only. So the clock keeps an anchor,
// a time.Now of at most a second ago, and gives the anchor plus the
// monotonic time since; past a second it reads time.Now again. The wall
// clock and the monotonic clock run at the same rate (NTP slews both), so
// the result is the wall clock to well under a millisecond; a step of the
// wall clock (set by hand, or a VM resumed) shows within a second, where
// time.Now would show it at once. The module reads the clock to the
// second, to judge an Expires or a slide stamp.
type wallClock struct {
	anchor atomic.Pointer[time.Time]
}

// unix returns the wall clock's Unix seconds, as time.Now().Unix() would,
// without building the time.
func (c *wallClock) unix() int64 {
	a, d := c.anchored()
	return a.Unix() + (int64(a.Nanosecond())+int64(d))/int64(time.Second)
}

// maxAnchorAge is how long an anchor serves.
const maxAnchorAge = time.Second

// anchored returns an anchor and the monotonic time since it: the kept
// one while it is under maxAnchorAge old, else a fresh time.Now, kept.
func (c *wallClock) anchored() (*time.Time, time.Duration) {
	if a := c.anchor.Load(); a != nil {
		if d := time.Since(*a); d >= 0 && d < maxAnchorAge {
			return a, d
		}
	}
	t := time.Now()
	c.anchor.Store(&t)
	return &t, 0
}
