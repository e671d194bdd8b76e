package cookienormalizer

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// The module's counters live in the registry of the config load that
// provisions it: Caddy makes a new registry for every load (and the admin
// API's /metrics serves the newest), so a collector kept in a package
// variable would go on counting into a registry nobody reads after a
// reload. Several cookie_normalizer handlers of one load share the
// collector: the second registration finds the first.

// metricsHelp is the one counter's help text.
const metricsHelp = "Set-Cookie fields the cookie_normalizer handler matched or added, by group and action (rewritten, unchanged, deletion kept, passed invalid, edit skipped, cascaded, partial expired, reissued, stamp set, stamp deleted, deletion placed, cascade withheld: responses, not fields); report_only=\"true\" counts what a report_only handler would have done."

// newCookiesCounter returns the counter vector registered in reg, or the
// one already there.
func newCookiesCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy",
		Subsystem: "http_cookie_normalizer",
		Name:      "cookies_total",
		Help:      metricsHelp,
	}, []string{"group", "action", "report_only"})
	if err := reg.Register(cv); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return nil, err
		}
		existing, ok := already.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, err
		}
		return existing, nil
	}
	return cv, nil
}

// counters holds one counter per group and action, resolved at provision
// so that counting a cookie is an index and an atomic add: no label
// lookup, no allocation.
type counters struct {
	byGroupAction []prometheus.Counter // [group*numActions + action]
}

// newCounters resolves the counters of every group (named as in logs)
// and each action it can take (see takes), with the handler's report_only
// label: each is exported from the load on, at zero until it counts, and
// a group without a consistency rule exports none of that rule's.
func newCounters(cv *prometheus.CounterVec, groups []Group, names []string, reportOnly bool) counters {
	c := counters{byGroupAction: make([]prometheus.Counter, len(groups)*int(numActions))}
	ro := strconv.FormatBool(reportOnly)
	for g, name := range names {
		for a := range numActions {
			if groups[g].takes(a) {
				c.byGroupAction[g*int(numActions)+int(a)] = cv.WithLabelValues(name, a.String(), ro)
			}
		}
	}
	return c
}

// takes reports whether a group can take action a: a consistency rule's
// actions only with that rule, the rewrite's always.
func (g *Group) takes(a action) bool {
	switch a {
	case actionCascaded, actionCascadeWithheld:
		return g.OnDelete == onDeleteCascade
	case actionPartialExpired:
		return g.OnPartial == onPartialExpire
	case actionReissued, actionStampSet, actionStampDeleted:
		return g.Slide != nil
	case actionDeletionPlaced:
		return g.Path != "" || g.Domain != ""
	}
	return true
}

// inc counts one cookie of group g with action a (nothing for an action
// the group cannot take, which has no counter).
func (c *counters) inc(g int, a action) {
	if c.byGroupAction != nil {
		if ctr := c.byGroupAction[g*int(numActions)+int(a)]; ctr != nil {
			ctr.Inc()
		}
	}
}
