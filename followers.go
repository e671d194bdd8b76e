package cookienormalizer

import (
	"slices"
	"unsafe"
)

// This file keeps what a final rewrite did to `expire like` followers, so
// that a later rewrite of the same response can start them again from
// the fields the handler wrote.
//
// A follower's rewrite depends on another field, its leader, unlike every
// other policy, which reads only the field itself: so a follower the
// first rewrite gave its leader's lifetime does not read as the handler's
// field to a second rewrite. The header map can be rewritten twice: a
// field the handler adds after WriteHeader still reaches the client when
// a writer below serialises the header map at the first body byte
// (HTTP/3, Caddy's encode), and the module rewrites the map again then.
// If that field logs the leader out, the leader the browser keeps leads
// nothing, and the follower must go out as the handler wrote it, not
// with the lifetime of a leader the browser no longer holds.

// followedField is one follower a final rewrite changed: values[index]
// was orig as the handler wrote it, and the rewrite made it out. (index
// finds the field again within that rewrite, whose `like` passes may run
// twice; undo finds it by identity, as the string out itself, since the
// handler may have removed fields before it since.)
type followedField struct {
	index     int
	orig, out string
}

// followerLog is the followers the last final rewrite of a response
// changed. It lives in the pooled response writer; a nil *followerLog
// records nothing. The first few go in an array of its own, which no
// pointer of its own points into (a log that pointed into itself would
// leak: escape analysis would move it, and what points to it, to the
// heap).
type followerLog struct {
	n    int // recorded in at
	at   [4]followedField
	more []followedField // beyond at (allocates; rare)
	// where finds a record in more by its index, once more is long (a
	// response of thousands of follower fields): a scan of more for each
	// would cost time in the square of the fields.
	where map[int]int
	// keepers are the fields the passes over the response leave as they
	// are (see request.keepFrom), kept here because every pass of a
	// final rewrite reads this log (a pointer to the request in the pass
	// would make a request on the stack escape to the heap). forget
	// leaves them: the writer drops them on release.
	keepers []string
}

// keeper reports whether v is one of l.keepers, the very string.
func (l *followerLog) keeper(v string) bool {
	for _, k := range l.keepers {
		if sameString(k, v) {
			return true
		}
	}
	return false
}

// note records that the rewrite made values[index], orig, into out. A
// field rewritten twice in one rewrite (a `like` pass run again after
// the consistency rules appended a leader) keeps its first orig. Out of
// line: it runs only when a follower changes, and run's frame is on the
// deepest stack of a request.
//
//go:noinline
func (l *followerLog) note(index int, orig, out string) {
	for k := range l.at[:l.n] {
		if f := &l.at[k]; f.index == index {
			f.out = out
			return
		}
	}
	if l.where != nil {
		if k, ok := l.where[index]; ok {
			l.more[k].out = out
			return
		}
	} else {
		for k := range l.more {
			if f := &l.more[k]; f.index == index {
				f.out = out
				return
			}
		}
	}
	f := followedField{index: index, orig: orig, out: out}
	switch {
	case l.n < len(l.at):
		l.at[l.n] = f
		l.n++
		return
	case l.where != nil:
		l.where[index] = len(l.more)
	case len(l.more) == followerScanMax:
		l.where = make(map[int]int, 2*followerScanMax)
		for k := range l.more {
			l.where[l.more[k].index] = k
		}
		l.where[index] = len(l.more)
	}
	l.more = append(l.more, f)
}

// followerScanMax is how many records past at note scans before it
// indexes them (see followerLog.where).
const followerScanMax = 32

// undo puts back, in values, each follower the last final rewrite changed
// and that is still there as that rewrite left it, and forgets them: the
// rewrite about to run records them again. A follower is found by
// identity, not by value: the string the rewrite built and put in the
// header map, which no field the handler wrote can be (an app's own field
// may read the same, as a follower of a session leader becomes a session
// cookie like its sibling, and must not be taken for it). They are looked
// for in order, each after the one before: the handler may have removed
// fields since (a middleware that filters Set-Cookie), which moves the
// followers after them, but a handler that adds or removes fields keeps
// the others in their order. A field the handler replaced is the
// handler's, and stays. Out of line: it runs only when the header map is
// rewritten again (startBody, rewriteLate, resumeRewrite).
//
//go:noinline
func (l *followerLog) undo(values []string) {
	fields := l.at[:l.n]
	if l.more != nil {
		fields = append(slices.Clone(fields), l.more...)
	}
	// In the fields' order: the passes record a chain's groups one depth
	// after the other.
	slices.SortFunc(fields, func(a, b followedField) int { return a.index - b.index })
	if len(fields) > followerScanMax {
		undoIndexed(fields, values)
		l.forget()
		return
	}
	from := 0
	for _, f := range fields {
		for j := from; j < len(values); j++ {
			if sameString(values[j], f.out) {
				values[j], from = f.orig, j+1
				break
			}
		}
	}
	l.forget()
}

// undoIndexed is undo's search for many followers: the positions of each
// string in values, by its memory, found in one pass, so that a follower
// the handler replaced (not found) does not cost a scan to the end of the
// list, which for thousands would cost time in the square of the fields.
func undoIndexed(fields []followedField, values []string) {
	at := make(map[*byte][]int, len(values))
	for j, v := range values {
		if v != "" {
			p := unsafe.StringData(v)
			at[p] = append(at[p], j)
		}
	}
	from := 0
	for _, f := range fields {
		if f.out == "" {
			continue
		}
		pos := at[unsafe.StringData(f.out)]
		for k, _ := slices.BinarySearch(pos, from); k < len(pos); k++ {
			if j := pos[k]; len(values[j]) == len(f.out) {
				values[j], from = f.orig, j+1
				break
			}
		}
	}
}

// sameString reports whether a and b are the same string: the same bytes
// in the same memory, not only equal.
func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// forget drops what l recorded, and the strings it held.
func (l *followerLog) forget() {
	clear(l.at[:])
	l.n, l.more, l.where = 0, nil, nil
}
