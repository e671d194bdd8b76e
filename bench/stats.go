package main

import (
	"math"
	"slices"
)

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianInterval returns a distribution-free interval that holds the
// median of the distribution v is drawn from with at least 95 %
// probability: the k-th smallest and k-th largest of v, for the largest k
// whose two tails of the binomial distribution Bin(len(v), ½) below k
// weigh at most 5 % together. It assumes nothing of the shape of the
// distribution, which for ratios of loaded runs is anything but normal.
// With fewer than 6 values no such k exists: the interval is all of v's
// range, from its smallest to its largest.
func medianInterval(v []float64) (lo, hi float64) {
	if len(v) == 0 {
		return 0, 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	// tail is P(X ≤ k-1) for X ~ Bin(n, ½), grown one term at a time.
	k, tail, term := 0, 0.0, math.Pow(0.5, float64(n))
	for j := 0; j < n/2; j++ {
		if 2*(tail+term) > 0.05 {
			break
		}
		tail += term
		term = term * float64(n-j) / float64(j+1)
		k = j + 1
	}
	if k == 0 {
		return s[0], s[n-1]
	}
	return s[k-1], s[n-k]
}

// quartiles returns the medians of the lower and upper halves of v.
func quartiles(v []float64) (q1, q3 float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	h := len(s) / 2
	return medianOf(s[:h]), medianOf(s[len(s)-h:])
}

// mannWhitney returns the two-sided p-value of the Mann–Whitney U test
// that x and y come from the same distribution, from the exact
// distribution of U (a tie counts one half; timings rarely tie). It is
// the test benchstat applies.
func mannWhitney(x, y []float64) float64 {
	m, n := len(x), len(y)
	if m == 0 || n == 0 {
		return 1
	}
	var u float64 // pairs in which x is the larger
	for _, a := range x {
		for _, b := range y {
			switch {
			case a > b:
				u++
			case a == b:
				u += 0.5
			}
		}
	}
	// counts[k] is how many of the C(m+n, m) orderings give U = k.
	counts := uCounts(m, n)
	var total, below, above float64
	for k, c := range counts {
		total += c
		if float64(k) <= u {
			below += c
		}
		if float64(k) >= u {
			above += c
		}
	}
	return math.Min(1, 2*math.Min(below, above)/total)
}

// uCounts is the distribution of U for samples of m and n: f(m, n, u) =
// f(m-1, n, u-n) + f(m, n-1, u).
func uCounts(m, n int) []float64 {
	// f[i][j] is the distribution for samples of i and j.
	f := make([][][]float64, m+1)
	for i := range f {
		f[i] = make([][]float64, n+1)
		for j := range f[i] {
			d := make([]float64, i*j+1)
			switch {
			case i == 0 || j == 0:
				d[0] = 1
			default:
				for k, c := range f[i-1][j] {
					d[k+j] += c
				}
				for k, c := range f[i][j-1] {
					d[k] += c
				}
			}
			f[i][j] = d
		}
	}
	return f[m][n]
}
