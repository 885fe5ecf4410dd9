package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/tpch"
)

const tpchRunUsage = "usage: bpfdb tpch run --db FILE [--query N] [--form dates|interval|all] [--out DIR] [--check DIR] [--threads N] [--memory-limit SIZE] [--runs N] [--attach HOOK=POLICY]... [--hook-engine E] [--no-programs] [--cpuprofile FILE]"

// tpchRun runs bpfdb tpch run: the TPC-H queries on a loaded database,
// each --runs times, with a line of timings per query; it writes and
// checks answers on request.
func tpchRun(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("bpfdb tpch run", flag.ContinueOnError)
	fset.SetOutput(stderr)
	dbPath := fset.String("db", "", "database file that bpfdb tpch load filled")
	query := fset.Int("query", 0, "run only query N (1-22); 0 runs all")
	form := fset.String("form", "dates", "dates: constant dates; interval: the specification's DATE + INTERVAL forms (Q1, 4, 5, 6, 10, 12, 14, 15, 20); all: both")
	out := fset.String("out", "", "write each answer to DIR/qNN.csv (DIR/qNN-interval.csv for the interval form)")
	check := fset.String("check", "", "compare each answer with DIR/qNN.csv; exit 1 on a difference")
	threads := fset.Int("threads", 0, "worker threads (0: one per CPU)")
	memLimit := fset.String("memory-limit", "", "memory limit, as SET memory_limit takes it (256MB, 2GB)")
	runs := fset.Int("runs", 1, "runs of each query; best and median are reported")
	var attach attachList
	fset.Var(&attach, "attach", "attach a program for the run (not recorded): HOOK=POLICY (a stock policy) or HOOK=FILE.o; repeatable; \"defaults\" attaches every hook's default policy")
	engine := fset.String("hook-engine", "auto", "how hook programs run: auto, jit or interpreter")
	noPrograms := fset.Bool("no-programs", false, "do not attach the programs the database records")
	cpuProfile := fset.String("cpuprofile", "", "write a CPU profile of the queries' runs (go tool pprof reads it) to FILE")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() != 0 || *dbPath == "" || *query < 0 || *query > 22 || *threads < 0 || *runs < 1 {
		fmt.Fprintln(stderr, tpchRunUsage)
		return 2
	}
	queries, err := selectQueries(*query, *form)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch run: %v\n", err)
		return 2
	}
	if _, err := os.Stat(*dbPath); err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch run: --db %s: %v (bpfdb tpch load creates it)\n", *dbPath, err)
		return 2
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintf(stderr, "bpfdb tpch run: --out: %v\n", err)
			return 1
		}
	}
	hookEngine, err := parseEngine(*engine)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch run: --hook-engine: %v\n", err)
		return 2
	}
	ctx := context.Background()
	db, err := bpfdb.Open(*dbPath, bpfdb.Options{Threads: *threads, HookEngine: hookEngine, NoPrograms: *noPrograms,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "bpfdb: "+format+"\n", args...) }})
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch run: %v\n", err)
		return 1
	}
	defer db.Close()
	if err := attach.apply(db); err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch run: --attach: %v\n", err)
		return 1
	}
	if *memLimit != "" {
		if err := db.Exec(ctx, "SET memory_limit = '"+strings.ReplaceAll(*memLimit, "'", "''")+"'"); err != nil {
			fmt.Fprintf(stderr, "bpfdb tpch run: --memory-limit %s: %v\n", *memLimit, err)
			return 2
		}
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "bpfdb tpch run: --cpuprofile: %v\n", err)
			return 1
		}
		defer stop(stderr)
	}
	status := 0
	var total time.Duration
	var calls hookCalls
	fmt.Fprintf(stdout, "%-13s %7s %12s %12s  %s\n", "query", "rows", "best", "median", "check")
	for _, q := range queries {
		before := db.Hooks()
		r := runQuery(ctx, db, q, *runs, *out, *check)
		calls.add(q.Name(), *runs, before, db.Hooks())
		if r.err != nil {
			fmt.Fprintf(stdout, "%-13s %7s %12s %12s  %s\n", q.Name(), "-", "-", "-", "error")
			fmt.Fprintf(stderr, "%v\n", r.err)
			status = 1
			continue
		}
		total += r.best
		fmt.Fprintf(stdout, "%-13s %7d %12s %12s  %s\n", q.Name(), r.rows, ms(r.best), ms(r.median), r.check)
		if r.mismatch != nil {
			fmt.Fprintf(stderr, "%v\n", r.mismatch)
			status = 1
		}
	}
	fmt.Fprintf(stdout, "%-13s %7s %12s\n", "total", "", ms(total))
	if *out != "" {
		if err := writeHooks(*out, db, calls); err != nil {
			fmt.Fprintf(stderr, "bpfdb tpch run: --out: %v\n", err)
			status = 1
		}
	}
	return status
}

// attachList is --attach: HOOK=POLICY or HOOK=FILE, or "defaults".
type attachList []string

func (a *attachList) String() string { return strings.Join(*a, ",") }

func (a *attachList) Set(v string) error {
	if v != "defaults" {
		if hook, what, ok := strings.Cut(v, "="); !ok || hook == "" || what == "" {
			return fmt.Errorf("%q: want HOOK=POLICY, HOOK=FILE.o or defaults", v)
		}
	}
	*a = append(*a, v)
	return nil
}

// apply attaches the programs, transiently (the database file does not
// record them).
func (a attachList) apply(db *bpfdb.DB) error {
	opts := bpfdb.AttachOptions{Transient: true}
	for _, v := range a {
		if v == "defaults" {
			for _, h := range db.Hooks() {
				if err := db.AttachStock(h.Hook, "default", opts); err != nil {
					return err
				}
			}
			continue
		}
		hook, what, _ := strings.Cut(v, "=")
		if !strings.ContainsAny(what, "/.") {
			if err := db.AttachStock(hook, what, opts); err != nil {
				return err
			}
			continue
		}
		obj, err := os.ReadFile(what)
		if err != nil {
			return err
		}
		if err := db.AttachProgram(hook, what, obj, opts); err != nil {
			return err
		}
	}
	return nil
}

// hookCalls are the hook invocations of each query: the research
// system's "number of hook invocations" per query and hook.
type hookCalls struct {
	hooks []string
	rows  [][]string // query, runs, then calls per run for each hook
}

// add records the calls between two listings, per run of the query. A
// hook whose program changed between them counts from zero.
func (c *hookCalls) add(query string, runs int, before, after []bpfdb.HookStatus) {
	if c.hooks == nil {
		for _, h := range after {
			c.hooks = append(c.hooks, h.Hook)
		}
	}
	row := []string{query, fmt.Sprint(runs)}
	for i, h := range after {
		switch {
		case h.Program == "":
			row = append(row, "")
		case before[i].Program == h.Program && before[i].Since.Equal(h.Since):
			row = append(row, fmt.Sprint((h.Calls-before[i].Calls)/uint64(runs)))
		default:
			row = append(row, fmt.Sprint(h.Calls/uint64(runs)))
		}
	}
	c.rows = append(c.rows, row)
}

// writeHooks writes DIR/hooks.csv (bpfdb_hooks() after the run) and
// DIR/hook_calls.csv (per query, the calls of each hook in one run; empty
// where the built-in ran, which is not counted).
func writeHooks(dir string, db *bpfdb.DB, calls hookCalls) error {
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	w.Write([]string{"hook", "program", "source", "engine", "attached_since", "calls", "handled", "ns", "errors", "violations", "last_error"})
	for _, h := range db.Hooks() {
		if h.Program == "" {
			w.Write([]string{h.Hook, "built-in", "", "", "", "", "", "", "", "", ""})
			continue
		}
		w.Write([]string{h.Hook, h.Program, h.Source, h.Engine, h.Since.UTC().Format(time.RFC3339),
			fmt.Sprint(h.Calls), fmt.Sprint(h.Handled), fmt.Sprint(h.Time.Nanoseconds()), fmt.Sprint(h.Errors), fmt.Sprint(h.Violations), h.LastError})
	}
	w.Flush()
	if err := os.WriteFile(filepath.Join(dir, "hooks.csv"), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	sb.Reset()
	w = csv.NewWriter(&sb)
	w.Write(append([]string{"query", "runs"}, calls.hooks...))
	w.WriteAll(calls.rows)
	return os.WriteFile(filepath.Join(dir, "hook_calls.csv"), []byte(sb.String()), 0o644)
}

// selectQueries returns the queries --query and --form ask for.
func selectQueries(n int, form string) ([]tpch.Query, error) {
	var forms []tpch.Form
	switch form {
	case "dates":
		forms = []tpch.Form{tpch.Dates}
	case "interval":
		forms = []tpch.Form{tpch.Interval}
	case "all":
		forms = []tpch.Form{tpch.Dates, tpch.Interval}
	default:
		return nil, fmt.Errorf("--form %q: want dates, interval or all", form)
	}
	var qs []tpch.Query
	for _, f := range forms {
		for m := 1; m <= 22; m++ {
			if (n != 0 && m != n) || (f == tpch.Interval && !tpch.HasInterval(m)) {
				continue
			}
			q, err := tpch.Get(m, f)
			if err != nil {
				return nil, err
			}
			qs = append(qs, q)
		}
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("query %d has no %s form", n, form)
	}
	return qs, nil
}

// queryRun is what running one query gave.
type queryRun struct {
	rows         int
	best, median time.Duration
	check        string // "ok", "MISMATCH", "wrote" or "" (neither --out nor --check)
	err          error  // the query failed, or its answer could not be written or read
	mismatch     error  // the answer differs from the reference
}

func runQuery(ctx context.Context, db *bpfdb.DB, q tpch.Query, runs int, out, check string) queryRun {
	var times []time.Duration
	var res *bpfdb.Result
	for range runs {
		r, d, err := tpch.Run(ctx, db, q)
		if err != nil {
			return queryRun{err: err}
		}
		res = r
		times = append(times, d)
	}
	slices.Sort(times)
	r := queryRun{rows: res.Rows(), best: times[0], median: times[len(times)/2]}
	ans := tpch.FromResult(res)
	if out != "" {
		path := filepath.Join(out, q.Name()+".csv")
		if err := writeAnswer(path, ans); err != nil {
			r.err = fmt.Errorf("%s: --out: %w", q.Name(), err)
			return r
		}
		r.check = "wrote"
	}
	if check != "" {
		want, err := tpch.ReadCSV(filepath.Join(check, fmt.Sprintf("q%02d.csv", q.N)))
		if err != nil {
			r.err = fmt.Errorf("%s: --check: %w", q.Name(), err)
			return r
		}
		r.check = "ok"
		if err := q.Check(want, ans); err != nil {
			r.check, r.mismatch = "MISMATCH", err
		}
	}
	return r
}

func writeAnswer(path string, a *tpch.Answer) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := a.WriteCSV(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// ms prints a duration in milliseconds with three digits after the point.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d.Microseconds())/1000)
}

// startCPUProfile starts profiling the process's CPU time into path and
// returns the function that stops it and closes the file.
func startCPUProfile(path string) (stop func(stderr io.Writer), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func(stderr io.Writer) {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "bpfdb: --cpuprofile: %v\n", err)
		}
	}, nil
}
