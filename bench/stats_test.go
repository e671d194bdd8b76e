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
