package main

import (
	"strings"
	"testing"
	"time"
)

func TestBenchQueries(t *testing.T) {
	for _, tc := range []struct {
		list string
		n    int
		err  string
	}{
		{"", 22, ""},
		{"1,3, q5", 3, ""},
		{"0", 0, `"0" is not a query number`},
		{"23", 0, `"23" is not a query number`},
		{"x", 0, `"x" is not a query number`},
	} {
		qs, err := benchQueries(tc.list)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error with %q", tc.list, err, tc.err)
			}
		case err != nil || len(qs) != tc.n:
			t.Errorf("%q: %d queries, %v; want %d", tc.list, len(qs), err, tc.n)
		}
	}
}

func TestFormatBench(t *testing.T) {
	ms := func(xs ...float64) []time.Duration {
		var ds []time.Duration
		for _, x := range xs {
			ds = append(ds, time.Duration(x*float64(time.Millisecond)))
		}
		return ds
	}
	results := []*benchResult{
		{Query: "q01", Times: map[string][]time.Duration{"nohooks": ms(10, 12, 11), "hooks": ms(11, 11, 11), "interpreter": ms(20, 22, 21), "jit": ms(11, 12, 11)},
			Calls: map[string]uint64{"hash": 5, "unpin": 100}},
		{Query: "q02", Times: map[string][]time.Duration{"nohooks": ms(100), "hooks": ms(100), "interpreter": ms(110), "jit": ms(101)}},
	}
	got := formatBench(results, 1, 3)
	for _, want := range []string{
		"| q01 | 11.0 | 11.0 | 21.0 | 11.0 | +0.0% | +90.9% | +0.0% |",
		"| q02 | 100.0 | 100.0 | 110.0 | 101.0 | +0.0% | +10.0% | +1.0% |",
		"| **total** | **111.0** | **111.0** | **131.0** | **112.0** | **+0.0%** | **+18.0%** | **+0.9%** |",
		"| q01 | 5 | 0 | 0 | 0 | 0 | 0 | 100 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}
