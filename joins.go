package cookienormalizer

import "strings"

// This file builds the fields the memo answers for. Such a field's new
// value is its name=value pair as sent followed by the remembered
// attributes, a concatenation that allocates. Through the response
// writer, the rewrite records them instead (fieldJoins) and the writer
// builds them all at once when the rewrite has returned:
//
//   - one allocation for all of a response's rewritten fields, not one
//     each;
//   - the allocation runs in the writer's frame, not at the bottom of the
//     rewrite's calls. WriteHeader is called deep in reverse_proxy's stack
//     (about 14 KB into it in Caddy 2.11), and an allocation at the
//     deepest point of a request is where Go finds the goroutine's stack
//     too small after the garbage collector has shrunk it, and grows it:
//     a copy of the whole stack, on a request the module made deeper.
//
// A recorded field holds its old value until the join. So the rewrite
// joins what it recorded before anything reads the fields again: before a
// `like` pass (which reads its leader's field), and a field that deletes
// its cookie is never recorded (the consistency rules read the attributes
// of a deleted member's field).

// maxJoins is how many fields one response records; the memo joins any
// further field at once.
const maxJoins = 8

// fieldJoin says that values[index] becomes its first cut bytes followed
// by tail.
type fieldJoin struct {
	index, cut int
	tail       string
}

// fieldJoins are the fields a rewrite recorded for joining. A nil
// *fieldJoins records nothing: the memo then joins each field at once.
type fieldJoins struct {
	n  int
	at [maxJoins]fieldJoin
}

// add records that values[index] becomes values[index][:cut] + tail, and
// reports whether it did (false when j is nil or full).
func (j *fieldJoins) add(index, cut int, tail string) bool {
	if j == nil || j.n == len(j.at) {
		return false
	}
	j.at[j.n] = fieldJoin{index: index, cut: cut, tail: tail}
	j.n++
	return true
}

// flush builds the recorded fields of values, in one allocation, and
// forgets them. Most responses record none: that check inlines, the
// build does not.
func (j *fieldJoins) flush(values []string) {
	if j != nil && j.n > 0 {
		j.build(values)
	}
}

// build is flush for at least one recorded field.
func (j *fieldJoins) build(values []string) {
	size := 0
	for _, f := range j.at[:j.n] {
		size += f.cut + len(f.tail)
	}
	var b strings.Builder
	b.Grow(size)
	for _, f := range j.at[:j.n] {
		b.WriteString(values[f.index][:f.cut])
		b.WriteString(f.tail)
	}
	all := b.String()
	for k := range j.at[:j.n] {
		f := &j.at[k]
		size := f.cut + len(f.tail)
		values[f.index], all = all[:size], all[size:]
		*f = fieldJoin{} // the tail is the memo's; drop it all the same
	}
	j.n = 0
}
