// Command duckdb-bench runs the 22 TPC-H queries on bpfdb and on DuckDB
// side by side, in one process, on the same generated data, and prints
// per-query times and their ratio (bpfdb / DuckDB).
//
//	go run . --sf 1 --work /tmp/tpch-bench [--runs 5] [--threads 2] [--out DIR]
//
// It generates the data with bpfdb's dbgen (unless WORK/data holds it),
// loads it into a DuckDB database file and a bpfdb database file (timing
// both loads), then for every query runs one warm-up per system and N
// timed runs, alternating the systems run by run so that machine drift
// affects both alike, and reports medians (and min, max). --out DIR also
// writes the table as duckdb.md and every time as duckdb.json, which
// go run ./cmd/bpfdb-charts DIR (from the repository's root) draws. It
// lives in a module of its own because DuckDB needs cgo; bpfdb itself
// never does.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/tpch"
	"github.com/bpfdb/bpfdb/internal/tpch/dbgen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "duckdb-bench:", err)
		os.Exit(1)
	}
}

type config struct {
	sf      float64
	work    string
	runs    int
	threads int
	queries []int
	only    string // "", "duckdb" or "bpfdb"
	memory  string
	check   bool
	out     string // directory for duckdb.md and duckdb.json, or ""
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("duckdb-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.Float64Var(&c.sf, "sf", 1, "TPC-H scale factor")
	fs.StringVar(&c.work, "work", "", "work directory: data/, duckdb.db and bpfdb.db live there (kept between runs)")
	fs.IntVar(&c.runs, "runs", 5, "timed runs per query and system (after one warm-up)")
	fs.IntVar(&c.threads, "threads", runtime.NumCPU(), "threads of both systems")
	qs := fs.String("queries", "", "comma-separated query numbers (default all 22)")
	fs.StringVar(&c.only, "only", "", "run only one system: duckdb or bpfdb")
	fs.StringVar(&c.memory, "memory-limit", "", "memory_limit of both systems (e.g. 256MB; default theirs)")
	fs.BoolVar(&c.check, "check", false, "compare bpfdb's result of every query with DuckDB's (after the warm-up) and fail on a difference")
	fs.StringVar(&c.out, "out", "", "also write duckdb.md (the table) and duckdb.json (every time) into this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.work == "" || c.sf <= 0 || c.runs < 1 || c.threads < 1 {
		return errors.New("usage: duckdb-bench --work DIR [--sf X] [--runs N] [--threads T] [--queries 1,3] [--only duckdb|bpfdb] [--out DIR]")
	}
	for n := 1; n <= 22; n++ {
		c.queries = append(c.queries, n)
	}
	if *qs != "" {
		c.queries = nil
		for _, s := range strings.Split(*qs, ",") {
			var n int
			if _, err := fmt.Sscan(s, &n); err != nil || n < 1 || n > 22 {
				return fmt.Errorf("--queries: %q is not a query number 1..22", s)
			}
			c.queries = append(c.queries, n)
		}
	}
	ctx := context.Background()
	data := filepath.Join(c.work, fmt.Sprintf("sf%g", c.sf))
	if err := generate(data, c.sf, c.threads, stderr); err != nil {
		return err
	}

	var systems []system
	var loads []time.Duration // each system's load, 0 if its file existed
	if c.only != "bpfdb" {
		d, load, err := openDuckDB(ctx, filepath.Join(c.work, fmt.Sprintf("duckdb-sf%g.db", c.sf)), data, c)
		if err != nil {
			return fmt.Errorf("duckdb: %w", err)
		}
		defer d.close()
		fmt.Fprintf(stdout, "duckdb: loaded in %s (0 = database file existed)\n", load.Round(time.Millisecond))
		systems = append(systems, d)
		loads = append(loads, load)
	}
	if c.only != "duckdb" {
		b, load, err := openBpfdb(ctx, filepath.Join(c.work, fmt.Sprintf("bpfdb-sf%g.db", c.sf)), data, c)
		if err != nil {
			return fmt.Errorf("bpfdb: %w", err)
		}
		defer b.close()
		fmt.Fprintf(stdout, "bpfdb:  loaded in %s (0 = database file existed)\n", load.Round(time.Millisecond))
		systems = append(systems, b)
		loads = append(loads, load)
	}

	times := make([][][]time.Duration, len(c.queries)) // [query][system][run]
	for qi, n := range c.queries {
		times[qi] = make([][]time.Duration, len(systems))
		for _, s := range systems {
			fmt.Fprintf(stderr, "\rq%02d warm-up %s      ", n, s.name())
			if _, err := s.query(ctx, n); err != nil {
				return fmt.Errorf("%s q%02d: %w", s.name(), n, err)
			}
		}
		if c.check && len(systems) == 2 {
			if err := check(ctx, systems[0].(*duck), systems[1].(*bp), n); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "q%02d: bpfdb's result equals DuckDB's\n", n)
		}
		for r := range c.runs {
			for si, s := range systems {
				fmt.Fprintf(stderr, "\rq%02d run %d/%d %s      ", n, r+1, c.runs, s.name())
				d, err := s.query(ctx, n)
				if err != nil {
					return fmt.Errorf("%s q%02d: %w", s.name(), n, err)
				}
				times[qi][si] = append(times[qi][si], d)
			}
		}
	}
	fmt.Fprint(stderr, "\r                                  \r")
	r := newReport(c, systems, loads, times)
	text := r.format()
	fmt.Fprint(stdout, text)
	if c.out != "" {
		if err := r.write(c.out, text); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	return nil
}

// generate writes the tables into dir unless lineitem.tbl is there.
func generate(dir string, sf float64, threads int, stderr io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, "lineitem.tbl")); err == nil {
		return nil
	}
	g, err := dbgen.New(sf, dbgen.FormatDuckDB)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "generating TPC-H SF%g into %s\n", sf, dir)
	return g.WriteDir(dir, threads, nil)
}

// system is one database under test.
type system interface {
	name() string
	query(ctx context.Context, n int) (time.Duration, error)
	close()
}

type duck struct{ db *sql.DB }

func (d *duck) name() string { return "duckdb" }
func (d *duck) close()       { d.db.Close() }

func (d *duck) query(ctx context.Context, n int) (time.Duration, error) {
	start := time.Now()
	q, err := tpch.Get(n, tpch.Dates)
	if err != nil {
		return 0, err
	}
	rows, err := d.db.QueryContext(ctx, q.SQL)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
	}
	return time.Since(start), rows.Err()
}

// answer runs query n on DuckDB and returns its result as an answer.
func (d *duck) answer(ctx context.Context, n int) (*tpch.Answer, error) {
	q, err := tpch.Get(n, tpch.Dates)
	if err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, q.SQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	a := &tpch.Answer{Columns: cols, Kinds: make([]tpch.Kind, len(cols))}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]tpch.Cell, len(cols))
		for i, v := range vals {
			row[i] = cell(v)
		}
		a.Rows = append(a.Rows, row)
	}
	return a, rows.Err()
}

// cell formats one DuckDB value as the reference answers do.
func cell(v any) tpch.Cell {
	switch v := v.(type) {
	case nil:
		return tpch.Cell{Null: true}
	case time.Time:
		return tpch.Cell{Text: v.Format("2006-01-02")}
	case float64:
		return tpch.Cell{Text: tpch.FormatDouble(v)}
	case fmt.Stringer:
		return tpch.Cell{Text: v.String()}
	}
	return tpch.Cell{Text: fmt.Sprint(v)}
}

// check compares bpfdb's result of query n with DuckDB's, by the rules of
// the reference answers (exact decimals, doubles within 1e-9, ties of the
// ORDER BY in any order).
func check(ctx context.Context, d *duck, b *bp, n int) error {
	q, err := tpch.Get(n, tpch.Dates)
	if err != nil {
		return err
	}
	want, err := d.answer(ctx, n)
	if err != nil {
		return fmt.Errorf("duckdb q%02d: %w", n, err)
	}
	res, err := b.db.Query(ctx, q.SQL)
	if err != nil {
		return fmt.Errorf("bpfdb q%02d: %w", n, err)
	}
	if err := q.Check(want, tpch.FromResult(res)); err != nil {
		return fmt.Errorf("q%02d: bpfdb differs from DuckDB: %w", n, err)
	}
	return nil
}

func openDuckDB(ctx context.Context, path, data string, c config) (*duck, time.Duration, error) {
	_, statErr := os.Stat(path)
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return nil, 0, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", c.threads)); err != nil {
		db.Close()
		return nil, 0, err
	}
	if c.memory != "" {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%s'", c.memory)); err != nil {
			db.Close()
			return nil, 0, err
		}
	}
	if statErr == nil {
		return &duck{db}, 0, nil
	}
	start := time.Now()
	for _, t := range tpch.Tables {
		if _, err := db.ExecContext(ctx, t.CreateSQL()); err != nil {
			db.Close()
			os.Remove(path)
			return nil, 0, err
		}
		file := filepath.Join(data, t.Name+".tbl")
		if _, err := db.ExecContext(ctx, fmt.Sprintf("COPY %s FROM '%s' (DELIMITER '|', HEADER false)", t.Name, file)); err != nil {
			db.Close()
			os.Remove(path)
			return nil, 0, err
		}
	}
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		db.Close()
		return nil, 0, err
	}
	return &duck{db}, time.Since(start), nil
}

type bp struct{ db *bpfdb.DB }

func (b *bp) name() string { return "bpfdb" }
func (b *bp) close()       { b.db.Close() }

func (b *bp) query(ctx context.Context, n int) (time.Duration, error) {
	q, err := tpch.Get(n, tpch.Dates)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	_, err = b.db.Query(ctx, q.SQL)
	return time.Since(start), err
}

func openBpfdb(ctx context.Context, path, data string, c config) (*bp, time.Duration, error) {
	_, statErr := os.Stat(path)
	db, err := bpfdb.Open(path, bpfdb.Options{Threads: c.threads})
	if err != nil {
		return nil, 0, err
	}
	if c.memory != "" {
		if err := db.Exec(ctx, fmt.Sprintf("SET memory_limit = '%s'", c.memory)); err != nil {
			db.Close()
			return nil, 0, err
		}
	}
	if statErr == nil {
		return &bp{db}, 0, nil
	}
	start := time.Now()
	for _, t := range tpch.Tables {
		if err := db.Exec(ctx, t.CreateSQL()); err != nil {
			db.Close()
			os.Remove(path)
			return nil, 0, err
		}
		if err := db.Exec(ctx, tpch.CopySQL(t.Name, filepath.Join(data, t.Name+".tbl"))); err != nil {
			db.Close()
			os.Remove(path)
			return nil, 0, err
		}
	}
	return &bp{db}, time.Since(start), nil
}

// report is what a run measured, and duckdb.json. Times are in
// nanoseconds; the systems are "duckdb" and "bpfdb", or one of them with
// --only.
type report struct {
	SF          float64  `json:"sf"`
	Threads     int      `json:"threads"`
	Runs        int      `json:"runs"`
	MemoryLimit string   `json:"memory_limit,omitempty"`
	Systems     []string `json:"systems"`
	// Load is each system's load time, 0 if its database file existed.
	Load    map[string]time.Duration `json:"load_ns"`
	Queries []queryTimes             `json:"queries"`
	// Sum and Geomean are each system's sum and geometric mean of the
	// queries' medians.
	Sum     map[string]time.Duration `json:"sum_of_medians_ns"`
	Geomean map[string]time.Duration `json:"geomean_ns"`
	// SumRatio and GeomeanRatio are bpfdb's over DuckDB's (0 with --only).
	SumRatio     float64 `json:"sum_ratio,omitempty"`
	GeomeanRatio float64 `json:"geomean_ratio,omitempty"`
}

// queryTimes is one query's times.
type queryTimes struct {
	Query string `json:"query"`
	// Times are each system's timed runs, in order.
	Times map[string][]time.Duration `json:"times_ns"`
	// Median is the median of each system's runs (the mean of the two
	// middle ones for an even number).
	Median map[string]time.Duration `json:"median_ns"`
	// Ratio is bpfdb's median over DuckDB's (0 with --only).
	Ratio float64 `json:"ratio,omitempty"`
}

// newReport gathers the times of the run: times[query][system][run].
func newReport(c config, systems []system, loads []time.Duration, times [][][]time.Duration) *report {
	r := &report{SF: c.sf, Threads: c.threads, Runs: c.runs, MemoryLimit: c.memory,
		Load: map[string]time.Duration{}, Sum: map[string]time.Duration{}, Geomean: map[string]time.Duration{}}
	logs := map[string]float64{}
	for si, s := range systems {
		r.Systems = append(r.Systems, s.name())
		r.Load[s.name()] = loads[si]
	}
	for qi, n := range c.queries {
		q := queryTimes{Query: fmt.Sprintf("q%02d", n), Times: map[string][]time.Duration{}, Median: map[string]time.Duration{}}
		for si, s := range r.Systems {
			m := median(times[qi][si])
			q.Times[s], q.Median[s] = times[qi][si], m
			r.Sum[s] += m
			logs[s] += math.Log(float64(m))
		}
		if len(r.Systems) == 2 {
			q.Ratio = float64(q.Median["bpfdb"]) / float64(q.Median["duckdb"])
		}
		r.Queries = append(r.Queries, q)
	}
	for _, s := range r.Systems {
		r.Geomean[s] = time.Duration(math.Exp(logs[s] / float64(len(c.queries))))
	}
	if len(r.Systems) == 2 {
		r.SumRatio = float64(r.Sum["bpfdb"]) / float64(r.Sum["duckdb"])
		r.GeomeanRatio = float64(r.Geomean["bpfdb"]) / float64(r.Geomean["duckdb"])
	}
	return r
}

// median returns the median of ts, the mean of the two middle ones for an
// even number.
func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// format renders the report as a Markdown table: per query each system's
// median, min and max, the ratio, the sum of medians and the geometric
// mean.
func (r *report) format() string {
	var w strings.Builder
	both := len(r.Systems) == 2
	fmt.Fprintf(&w, "TPC-H SF%g, %d threads, median of %d runs after a warm-up (ms)\n\n", r.SF, r.Threads, r.Runs)
	fmt.Fprintf(&w, "| query |")
	for _, s := range r.Systems {
		fmt.Fprintf(&w, " %s median | min | max |", s)
	}
	if both {
		fmt.Fprint(&w, " ratio |")
	}
	fmt.Fprint(&w, "\n|---|")
	for range r.Systems {
		fmt.Fprint(&w, "---:|---:|---:|")
	}
	if both {
		fmt.Fprint(&w, "---:|")
	}
	fmt.Fprintln(&w)
	for _, q := range r.Queries {
		fmt.Fprintf(&w, "| %s |", q.Query)
		for _, s := range r.Systems {
			fmt.Fprintf(&w, " %.1f | %.1f | %.1f |", ms(q.Median[s]), ms(slices.Min(q.Times[s])), ms(slices.Max(q.Times[s])))
		}
		if both {
			fmt.Fprintf(&w, " %.2f |", q.Ratio)
		}
		fmt.Fprintln(&w)
	}
	fmt.Fprint(&w, "| sum |")
	for _, s := range r.Systems {
		fmt.Fprintf(&w, " %.1f | | |", ms(r.Sum[s]))
	}
	if both {
		fmt.Fprintf(&w, " %.2f |", r.SumRatio)
	}
	fmt.Fprint(&w, "\n| geomean |")
	for _, s := range r.Systems {
		fmt.Fprintf(&w, " %.1f | | |", ms(r.Geomean[s]))
	}
	if both {
		fmt.Fprintf(&w, " %.2f |", r.GeomeanRatio)
	}
	fmt.Fprintln(&w)
	return w.String()
}

// write writes the table as dir/duckdb.md and the report as
// dir/duckdb.json.
func (r *report) write(dir, text string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "duckdb.md"), []byte(text), 0o644); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "duckdb.json"), append(j, '\n'), 0o644)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
