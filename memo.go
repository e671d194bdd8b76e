package cookienormalizer

import (
	"strings"
	"sync/atomic"
)

// This file remembers how a group rewrote a field's attributes, so that
// the next field with the same attributes costs a comparison instead of a
// scan. An app sets a cookie with the same attributes on every response
// ("; Max-Age=43200; Path=/; HttpOnly"), only the value changes; and the
// rewrite of such a field is the name=value pair as sent followed by what
// the group's policies make of those attributes, which depends on nothing
// else but the response's base time.
//
// The memo is consulted only where that holds (see memoSplit): the pair
// holds no control byte, its name no ',' (see setCookie.rejected), and it
// is within the browsers' size limit, its last
// byte is not a space or a tab (which the rebuild would trim once the
// attributes after it are gone), the name has no __Host- or __Secure-
// prefix (whose rules read the name), and the group is not a `like`
// group (which reads another field). An outcome is remembered only when
// it did not read the proxy's clock (an Expires read against it) and the
// field was not rejected.

// memoSlots is the number of tails remembered per group: an app sets a
// group's few cookies with a few distinct tails, all read at one base
// time (the response's Date, to the second).
const memoSlots = 4

// tailMemo is one group's memo. Its slots are replaced whole, atomically:
// a response reads an entry or another, never a mix.
type tailMemo struct {
	slots [memoSlots]atomic.Pointer[memoEntry]
	next  atomic.Uint32 // the slot to replace when none is free
}

// memoEntry is the outcome of one rewrite: the attributes as received
// (tail, from the field's first ';'), at base time base, became out, with
// that action and effect on the cookie (set or deleted: a field browsers
// refuse is not remembered, being passed invalid).
type memoEntry struct {
	tail, out string
	base      int64
	act       action
	effect    memberState
}

// memoSplit returns where the attributes of v, a field of cookie name,
// start (its first ';', or len(v)), and whether the memo of a group of
// rule r may stand in for rewriting v.
func memoSplit(r *rule, v, name string) (int, bool) {
	if r.expiry == expireLike || len(v) > maxValueLen || len(name) >= 2 && name[0] == '_' && name[1] == '_' {
		return 0, false
	}
	p := strings.IndexByte(v, ';')
	if p < 0 {
		p = len(v)
	}
	// p > 0: v starts with a name.
	if p > maxNameValueLen || v[p-1] == ' ' || v[p-1] == '\t' || hasOddByte(v[:p]) || strings.IndexByte(name, ',') >= 0 {
		return 0, false
	}
	return p, true
}

// lookup returns the entry for tail at base time base, or nil. It reads
// every slot: a length and a base compared per slot cost less than hashing
// the tail.
func (m *tailMemo) lookup(tail string, base int64) *memoEntry {
	for i := range m.slots {
		if e := m.slots[i].Load(); e != nil && e.base == base && len(e.tail) == len(tail) && e.tail == tail {
			return e
		}
	}
	return nil
}

// store remembers that tail, at base, became out: in an empty slot or one
// of an earlier base time if there is one, else in the next slot in turn.
// It copies both (one allocation), so that the entry does not keep the
// response's fields, and the cookie values in them, alive. Requests that
// missed the same tail at once store it once: another's copy would push
// out the group's other tails (most likely at the turn of a second, when
// every slot is of an earlier base time). A slot is claimed with a
// compare-and-swap, so that two stores do not take the same free slot.
func (m *tailMemo) store(tail, out string, base int64, act action, effect memberState) {
	if m.lookup(tail, base) != nil {
		return
	}
	var b strings.Builder // a copy even when one of them is empty
	b.Grow(len(tail) + len(out))
	b.WriteString(tail)
	b.WriteString(out)
	both := b.String()
	e := &memoEntry{tail: both[:len(tail)], out: both[len(tail):], base: base, act: act, effect: effect}
	for i := range m.slots {
		if old := m.slots[i].Load(); (old == nil || old.base != base) && m.slots[i].CompareAndSwap(old, e) {
			return
		}
	}
	m.slots[m.next.Add(1)%memoSlots].Store(e)
}
