package main

import (
	"math"
	"testing"
)

func TestMannWhitney(t *testing.T) {
	// Fully separated samples of 5 and 5: U = 25, p = 2 / C(10, 5).
	x := []float64{10, 11, 12, 13, 14}
	y := []float64{1, 2, 3, 4, 5}
	if got, want := mannWhitney(x, y), 2.0/252; math.Abs(got-want) > 1e-12 {
		t.Errorf("separated: p = %v, want %v", got, want)
	}
	if got := mannWhitney(x, x); got != 1 {
		t.Errorf("identical: p = %v, want 1", got)
	}
	// Interleaved samples: no evidence of a difference.
	if got := mannWhitney([]float64{1, 3, 5, 7, 9}, []float64{2, 4, 6, 8, 10}); got < 0.5 {
		t.Errorf("interleaved: p = %v, want ≥ 0.5", got)
	}
}

func TestMedianQuartiles(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3, 6}
	if got := medianOf(v); got != 3.5 {
		t.Errorf("median %v, want 3.5", got)
	}
	if q1, q3 := quartiles(v); q1 != 2 || q3 != 5 {
		t.Errorf("quartiles %v %v, want 2 5", q1, q3)
	}
}

func TestMedianInterval(t *testing.T) {
	v := make([]float64, 14)
	for i := range v {
		v[i] = float64(14 - i) // 14 down to 1
	}
	// n = 14: P(X ≤ 2) = 106/16384, twice that is 1.3 % ≤ 5 %; P(X ≤ 3)
	// = 470/16384, twice that is 5.7 %: k = 3, the 3rd and 12th values.
	if lo, hi := medianInterval(v); lo != 3 || hi != 12 {
		t.Errorf("n = 14: interval %v–%v, want 3–12", lo, hi)
	}
	// n = 6: P(X ≤ 0) = 1/64, twice that is 3.1 %: k = 1, the extremes.
	if lo, hi := medianInterval([]float64{6, 2, 4, 1, 5, 3}); lo != 1 || hi != 6 {
		t.Errorf("n = 6: interval %v–%v, want 1–6", lo, hi)
	}
	// n = 5: even the extremes leave 6.25 % out: the whole range.
	if lo, hi := medianInterval([]float64{5, 1, 4, 2, 3}); lo != 1 || hi != 5 {
		t.Errorf("n = 5: interval %v–%v, want 1–5", lo, hi)
	}
	// n = 20: P(X ≤ 5) = 21700/1048576, twice that is 4.1 %; P(X ≤ 6) =
	// 60460/1048576, twice that is 11.5 %: k = 6, the 6th and 15th values.
	w := make([]float64, 20)
	for i := range w {
		w[i] = float64(i + 1)
	}
	if lo, hi := medianInterval(w); lo != 6 || hi != 15 {
		t.Errorf("n = 20: interval %v–%v, want 6–15", lo, hi)
	}
}
