package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fake is a system under test that is never queried: the report only
// needs its name.
type fake string

func (f fake) name() string                                      { return string(f) }
func (f fake) query(context.Context, int) (time.Duration, error) { return 0, nil }
func (f fake) close()                                            {}

// TestReport checks the medians (the mean of the middle two for an even
// count), ratios, sums and geometric means, the table, and that
// duckdb.json holds what the table shows.
func TestReport(t *testing.T) {
	ms := func(xs ...float64) []time.Duration {
		var ds []time.Duration
		for _, x := range xs {
			ds = append(ds, time.Duration(x*float64(time.Millisecond)))
		}
		return ds
	}
	c := config{sf: 0.01, threads: 2, runs: 2, queries: []int{1, 6}}
	times := [][][]time.Duration{
		{ms(10, 20), ms(30, 50)}, // q01: duckdb 15, bpfdb 40
		{ms(4, 4), ms(2, 2)},     // q06: duckdb 4, bpfdb 2
	}
	r := newReport(c, []system{fake("duckdb"), fake("bpfdb")}, []time.Duration{time.Second, 0}, times)
	want := "TPC-H SF0.01, 2 threads, median of 2 runs after a warm-up (ms)\n\n" +
		"| query | duckdb median | min | max | bpfdb median | min | max | ratio |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|\n" +
		"| q01 | 15.0 | 10.0 | 20.0 | 40.0 | 30.0 | 50.0 | 2.67 |\n" +
		"| q06 | 4.0 | 4.0 | 4.0 | 2.0 | 2.0 | 2.0 | 0.50 |\n" +
		"| sum | 19.0 | | | 42.0 | | | 2.21 |\n" +
		"| geomean | 7.7 | | | 8.9 | | | 1.15 |\n"
	text := r.format()
	if text != want {
		t.Errorf("table:\n%s\nwant:\n%s", text, want)
	}
	dir := t.TempDir()
	if err := r.write(dir, text); err != nil {
		t.Fatal(err)
	}
	if md, err := os.ReadFile(filepath.Join(dir, "duckdb.md")); err != nil || string(md) != want {
		t.Errorf("duckdb.md: %q, %v", md, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "duckdb.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Systems, ",") != "duckdb,bpfdb" || got.Load["duckdb"] != time.Second || len(got.Queries) != 2 ||
		got.Queries[0].Median["bpfdb"] != 40*time.Millisecond || got.Queries[0].Times["duckdb"][1] != 20*time.Millisecond ||
		got.Queries[1].Ratio != 0.5 || got.GeomeanRatio != r.GeomeanRatio {
		t.Errorf("duckdb.json does not hold the report:\n%s", b)
	}

	// One system (--only): no ratio anywhere.
	one := newReport(c, []system{fake("bpfdb")}, []time.Duration{0}, [][][]time.Duration{{ms(1, 3)}, {ms(2, 2)}})
	if text := one.format(); strings.Contains(text, "ratio") || !strings.Contains(text, "| q01 | 2.0 | 1.0 | 3.0 |\n") {
		t.Errorf("one system's table:\n%s", text)
	}
	if one.Queries[0].Ratio != 0 || one.GeomeanRatio != 0 {
		t.Errorf("one system has ratios %v, %v", one.Queries[0].Ratio, one.GeomeanRatio)
	}
}
