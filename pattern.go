package cookienormalizer

import (
	"fmt"
	"regexp"
	"strings"
)

// cookieMatcher finds the group for a cookie name: the first group, in
// configuration order, with a pattern that matches it. Exact names sit in
// one map, so the cost of a lookup does not grow with the number of names;
// only groups with a glob or a regular expression are scanned, and only
// those that come before the group the map found.
type cookieMatcher struct {
	exact nameIndex   // name -> its entry in names
	names []exactName // the exact names, in the order first listed
	wild  []wildGroup // groups with globs or regexps, in group order
	n     int         // number of groups
}

// exactName is what the matcher knows of an exact name: the first group
// listing it, and its index as a consistency member (-1 if it is none), so
// that one lookup answers both.
type exactName struct {
	group, member int
}

type wildGroup struct {
	index   int
	globs   []string
	regexps []*regexp.Regexp
}

// newCookieMatcher compiles the patterns of each group. patterns[i] holds
// the patterns of group i.
func newCookieMatcher(patterns [][]string) (*cookieMatcher, error) {
	m := &cookieMatcher{n: len(patterns)}
	for i, ps := range patterns {
		w := wildGroup{index: i}
		for _, p := range ps {
			switch {
			case strings.HasPrefix(p, "~"):
				re, err := regexp.Compile(p[1:])
				if err != nil {
					return nil, patternError{group: i, err: fmt.Errorf("compiling pattern %q: %v", p, err)}
				}
				w.regexps = append(w.regexps, re)
			case strings.Contains(p, "*"):
				w.globs = append(w.globs, p)
			case p == "":
				return nil, patternError{group: i, err: fmt.Errorf("empty cookie pattern")}
			default:
				if m.exact.add(p, len(m.names)) {
					m.names = append(m.names, exactName{group: i, member: -1})
				}
			}
		}
		if len(w.globs) > 0 || len(w.regexps) > 0 {
			m.wild = append(m.wild, w)
		}
	}
	m.exact.freeze()
	return m, nil
}

// emptyPattern reports whether p names no cookie: "" or a "~" with no
// regular expression after it.
func emptyPattern(p string) bool { return p == "" || p == "~" }

// patternError is a pattern that does not compile, in group number group.
type patternError struct {
	group int
	err   error
}

func (e patternError) Error() string { return e.err.Error() }

// match returns the index of the group for name, or -1.
//
// The map lookup with a substring key does not allocate; neither do
// globMatch and regexp.MatchString.
func (m *cookieMatcher) match(name string) int {
	g, _ := m.matchMember(name)
	return g
}

// matchMember is match, and also returns name's index as a consistency
// member of that group (-1 if it is none; see setMember).
func (m *cookieMatcher) matchMember(name string) (group, member int) {
	limit, member := m.n, -1
	k, ok := m.exact.lookup(name)
	if ok {
		limit, member = m.names[k].group, m.names[k].member
	}
	for i := range m.wild {
		w := &m.wild[i]
		if w.index >= limit {
			break
		}
		if w.matches(name) {
			return w.index, -1
		}
	}
	if ok {
		return limit, member
	}
	return -1, -1
}

// setMember records that exact name, which the first group listing it
// matches, is consistency member index of that group. A name an earlier
// group's glob or regular expression claims is matched by that group, not
// as the member.
func (m *cookieMatcher) setMember(name string, index int) {
	if k, ok := m.exact.lookup(name); ok {
		m.names[k].member = index
	}
}

func (w *wildGroup) matches(name string) bool {
	for _, g := range w.globs {
		if globMatch(g, name) {
			return true
		}
	}
	for _, re := range w.regexps {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// globMatch reports whether name matches pattern, where '*' matches any run
// of bytes (also an empty one) and every other byte matches itself. It runs
// in O(len(pattern)·len(name)) at worst, backtracking only to the last star.
func globMatch(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			mark++
			p, n = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// exactPattern reports whether p names one cookie exactly: neither a
// regular expression nor a glob.
func exactPattern(p string) bool {
	return !strings.HasPrefix(p, "~") && !strings.Contains(p, "*") && p != ""
}
