package cookienormalizer

import (
	"fmt"
	"slices"
	"strings"
)

// unknownSubdirective is the message for a line of a block that is no
// subdirective of it: a near miss gets the name meant (an edit or two
// away: "expires" for expire), any other word the names the block takes
// and the likely cause, a site's directive read into the block because
// its closing "}" is missing.
func unknownSubdirective(sub, where string, known []string) string {
	if near := nearest(sub, known); near != "" {
		return fmt.Sprintf("unrecognized subdirective %q%s (did you mean %s?)", sub, where, near)
	}
	sorted := slices.Sorted(slices.Values(known))
	return fmt.Sprintf("unrecognized subdirective %q%s (the block takes %s; if %s is a directive of the site, a \"}\" is missing before it)", sub, where, strings.Join(sorted, ", "), sub)
}

// nearest returns the one name of known within two edits of word (and
// closer than word is long), or "" when there is none or more than one
// at the least distance.
func nearest(word string, known []string) string {
	best, bestDist, tie := "", 0, false
	for _, k := range known {
		d := editDistance(word, k)
		switch {
		case d > 2 || d >= len(word):
		case best == "" || d < bestDist:
			best, bestDist, tie = k, d, false
		case d == bestDist:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
