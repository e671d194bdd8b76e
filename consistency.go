package cookienormalizer

import (
	"fmt"
	"strings"
)

// This file keeps a group's cookies together beyond their expiry: a log-out
// that deletes one member deletes them all (on_delete cascade), and a
// request whose jar holds only some members gets those deleted
// (on_partial expire), so that a browser which restored half of a log-in
// is logged out cleanly. Only exact names take part: a pattern cannot say
// which cookies to delete. It runs once per response, after the rewrite.

// maxConsistencyMembers bounds the exact names that take part in
// consistency rules, across all groups, so that the per-response state
// fits in fixed arrays on the stack.
const maxConsistencyMembers = 64

// consistencyGroup is a group with on_delete or on_partial.
type consistencyGroup struct {
	rule    int      // index of the group's rule
	members []string // its exact names, in config order
	first   int      // index of members[0] in the per-response state
	cascade bool
	partial bool
}

// consistency holds the compiled consistency rules.
type consistency struct {
	groups []consistencyGroup
	// member maps a member's name to its index in the per-response state
	// (consistencyGroup.first + its position).
	member map[string]int
	// owner maps a state index to its group in groups.
	owner []int
	// partial is true when some group reads the request's Cookie header.
	partial bool
}

// newConsistency compiles the consistency rules of rules. members[i] lists
// the exact names of rule i that take part (nil for a group without rules).
func newConsistency(rules []rule, m *cookieMatcher) (*consistency, error) {
	c := &consistency{member: map[string]int{}}
	for i, r := range rules {
		if !r.cascade && !r.partial {
			continue
		}
		cg := consistencyGroup{rule: i, first: len(c.owner), cascade: r.cascade, partial: r.partial}
		for _, p := range r.patterns {
			// A name an earlier group claims is that group's cookie.
			if !exactPattern(p) || m.match(p) != i {
				continue
			}
			if _, dup := c.member[p]; dup {
				continue
			}
			if len(c.owner) == maxConsistencyMembers {
				return nil, fmt.Errorf("group %s: on_delete and on_partial take at most %d exact cookie names in all", groupName(r.label, i), maxConsistencyMembers)
			}
			c.member[p] = len(c.owner)
			c.owner = append(c.owner, len(c.groups))
			cg.members = append(cg.members, p)
		}
		if len(cg.members) == 0 {
			return nil, fmt.Errorf("group %s: on_delete and on_partial need at least one exact cookie name in the group (patterns cannot say which cookies to delete)", groupName(r.label, i))
		}
		c.partial = c.partial || r.partial
		c.groups = append(c.groups, cg)
	}
	if len(c.groups) == 0 {
		return nil, nil
	}
	return c, nil
}

// request is what consistency reads of the request.
type request struct {
	cookies []string // the Cookie header fields (HTTP/2 may send several)
	https   bool
}

// memberState is what a response does to a member.
type memberState uint8

const (
	untouched memberState = iota
	memberSet
	memberDeleted
)

// deletionPrefix starts every deletion the module adds: an Expires in the
// past for old clients and Max-Age=0 for the rest, Max-Age last (libsoup
// honours the last of the two).
const deletionSuffix = "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"

// apply appends the deletions the rules call for to values and reports
// each to obs; with reportOnly it appends nothing and reports what it would
// have appended. base and now are the rewrite's base time and clock.
func (c *consistency) apply(n *normalizer, values []string, req *request, base, now int64, reportOnly bool, obs observer) []string {
	var (
		state   [maxConsistencyMembers]memberState
		lastDel [maxConsistencyMembers]int // index of the member's last field, when deleted
		f       setCookie
	)
	// The last field of a name is the state the browser ends in.
	for i, v := range values {
		name, ok := cookieName(v)
		if !ok {
			continue
		}
		m, ok := c.member[name]
		if !ok {
			continue
		}
		state[m] = memberSet
		if f.scan(v) && !f.rejected {
			if e := readExpiry(&f, base, now); e.deletion {
				state[m], lastDel[m] = memberDeleted, i
			}
		}
	}
	var present uint64
	if c.partial && req != nil {
		present = c.present(req.cookies)
	}
	for gi := range c.groups {
		cg := &c.groups[gi]
		var anySet, anyDeleted bool
		deleted := -1
		for k := range cg.members {
			switch state[cg.first+k] {
			case memberSet:
				anySet = true
			case memberDeleted:
				anyDeleted, deleted = true, lastDel[cg.first+k]
			}
		}
		r := &n.rules[cg.rule]
		switch {
		case cg.cascade && anyDeleted && !anySet:
			attrs := deletionAttrsFrom(&f, values[deleted])
			for k, name := range cg.members {
				if state[cg.first+k] == untouched {
					values = c.add(values, name, attrs, cg.rule, actionCascaded, reportOnly, obs)
				}
			}
		case cg.partial && !anySet && !anyDeleted:
			all := uint64(1)<<len(cg.members) - 1
			mine := present >> cg.first & all
			if mine == 0 || mine == all {
				continue
			}
			attrs := r.attrs.deletionAttrs(req.https)
			for k, name := range cg.members {
				if mine&(1<<k) != 0 {
					values = c.add(values, name, attrs, cg.rule, actionPartialExpired, reportOnly, obs)
				}
			}
		}
	}
	return values
}

// add appends a deletion of name, unless reportOnly, and reports it.
func (c *consistency) add(values []string, name string, attrs deletionAttrs, group int, act action, reportOnly bool, obs observer) []string {
	if !reportOnly {
		values = append(values, attrs.field(name))
	}
	if obs != nil {
		obs.observe(name, group, act)
	}
	return values
}

// present returns the members the request's Cookie header carries, as bits
// by state index. It allocates nothing: names are looked up by substring.
func (c *consistency) present(cookies []string) uint64 {
	var bits uint64
	for _, h := range cookies {
		for len(h) > 0 {
			pair := h
			if i := strings.IndexByte(h, ';'); i >= 0 {
				pair, h = h[:i], h[i+1:]
			} else {
				h = ""
			}
			name, _, _ := strings.Cut(pair, "=")
			if m, ok := c.member[trimSpace(name)]; ok {
				bits |= 1 << m
			}
		}
	}
	return bits
}

// deletionAttrs are the attributes a deletion needs to match the cookie it
// removes: browsers delete the cookie with the same name, Domain and Path
// (RFC 6265bis §5.7), and a Secure or Partitioned one only from a field
// that says so.
type deletionAttrs struct {
	path, domain        string
	secure, partitioned bool
}

// deletionAttrsFrom reads the attributes of a deleted member's field, v
// (already rewritten by the group's attribute policies); f is scratch.
func deletionAttrsFrom(f *setCookie, v string) deletionAttrs {
	var d deletionAttrs
	f.scan(v)
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		switch {
		case a.oversized():
		case isAttr(a.name, "path"):
			d.path = a.value
		case isAttr(a.name, "domain"):
			d.domain = a.value
		case isAttr(a.name, "secure"):
			d.secure = true
		case isAttr(a.name, "partitioned"):
			d.partitioned = true
		}
	}
	return d
}

// deletionAttrs are the attributes of a deletion for a cookie the request
// carried: the request does not say where it was set, so the group's path
// and domain policies when set, else Path=/ and no Domain; Secure from the
// group's policy, else on HTTPS requests.
func (p *attrPolicy) deletionAttrs(https bool) deletionAttrs {
	d := deletionAttrs{path: "/", secure: https}
	if p.path.set {
		d.path = p.path.value
	}
	if p.domain.set {
		d.domain = p.domain.value
	}
	switch p.secure {
	case flagOn:
		d.secure = true
	case flagOff:
		d.secure = false
	}
	d.partitioned = p.partitioned == flagOn
	return d
}

// field writes the deletion of name. A __Host- name always gets Path=/ and
// Secure and no Domain, a __Secure- name always Secure, or browsers would
// reject the deletion (RFC 6265bis §4.1.3).
func (d deletionAttrs) field(name string) string {
	switch {
	case hasPrefixFold(name, prefixHost):
		d.path, d.domain, d.secure = "/", "", true
	case hasPrefixFold(name, prefixSecure):
		d.secure = true
	}
	var b strings.Builder
	b.Grow(len(name) + len(deletionSuffix) + len(d.path) + len(d.domain) + 40)
	b.WriteString(name)
	b.WriteString(deletionSuffix)
	if d.path != "" {
		b.WriteString("; Path=")
		b.WriteString(d.path)
	}
	if d.domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(d.domain)
	}
	if d.secure {
		b.WriteString("; Secure")
	}
	if d.partitioned {
		b.WriteString("; Partitioned")
	}
	return b.String()
}
