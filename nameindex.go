package cookienormalizer

// nameIndex maps exact cookie names to small integers (a group, a member's
// slot). Looking a name up is on the path of every Set-Cookie field and
// every pair of a Cookie header, so a handful of names, the usual case, are
// compared directly, a length first, which costs less than hashing; more
// names sit in a map, whose cost does not grow with their number.
type nameIndex struct {
	m   map[string]int
	few []indexedName // the entries of m, once frozen, if there are at most maxFewNames
}

// indexedName is one entry of nameIndex.few.
type indexedName struct {
	name string
	v    int
}

// maxFewNames bounds nameIndex.few: past it, the map is faster.
const maxFewNames = 8

// add records name with v and reports true, unless name is there already
// (then it keeps its first value and add reports false).
func (x *nameIndex) add(name string, v int) bool {
	if _, dup := x.m[name]; dup {
		return false
	}
	if x.m == nil {
		x.m = map[string]int{}
	}
	x.m[name] = v
	return true
}

// has reports whether name was added (before or after freeze).
func (x *nameIndex) has(name string) bool {
	_, ok := x.m[name]
	return ok
}

// freeze ends the adding: it lays out the few names for lookup.
func (x *nameIndex) freeze() {
	x.few = nil
	if len(x.m) <= maxFewNames {
		for name, v := range x.m {
			x.few = append(x.few, indexedName{name, v})
		}
	}
}

// lookup returns the value of name, once frozen.
func (x *nameIndex) lookup(name string) (int, bool) {
	if len(x.m) > maxFewNames {
		v, ok := x.m[name]
		return v, ok
	}
	for i := range x.few {
		if e := &x.few[i]; len(e.name) == len(name) && e.name == name {
			return e.v, true
		}
	}
	return 0, false
}
