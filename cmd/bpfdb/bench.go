package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/tpch"
	"github.com/bpfdb/bpfdb/internal/tpch/dbgen"
)

const benchUsage = `usage: bpfdb bench <command> [flags]

commands:
  tpch --sf X [--runs N] [--restarts K] [--threads T] [--work DIR]
       [--baseline BIN] [--queries LIST] [--configs LIST] [--hooks LIST]
       [--out DIR]
                 the hooks' overhead on TPC-H: every query, one warm-up and
                 N timed runs (each right after an untimed one), in up to
                 four configurations, each a process of its own, interleaved
                 run by run: the nohooks build (--baseline BIN, or built
                 with go build -tags nohooks), hooks present with nothing
                 attached, the default programs of --hooks under the
                 interpreter, and under the JIT. --configs picks among
                 hooks, interpreter and jit (default: all three; nohooks
                 always runs, as the baseline); --hooks names the hooks
                 that get their default program (default: all seven:
                 hash, execute_forever, schedule_task, load,
                 update_used_memory, allocate_new_block, unpin), so that
                 --configs interpreter --hooks hash measures one hook's
                 share. Prints medians per query, overhead against nohooks,
                 each query's fastest and slowest run,
                 totals and geometric means, and each query's hook
                 invocations per run, and the processor time each
                 configuration's process spent (less disturbed by other
                 processes than the elapsed time), and the overhead of
                 each run's total paired run by run (against nohooks and
                 against hooks: the machine's drift cancels in a pair),
                 its median and range. --restarts K spreads
                 the runs over K sets of fresh processes, started in a
                 rotated order, so that what differs between two processes
                 of one binary (their memory layout, who started first)
                 averages out. The data and the database are made
                 in --work (default: a directory per scale factor under the
                 temporary directory) and kept for the next run. --out DIR
                 also writes results.md and results.json (go run
                 ./cmd/bpfdb-charts DIR draws them).
  reconfig [--sf X] [--reps N] [--threads T] [--work DIR] [--out DIR]
                 attaching each stock policy live (verify, compile, swap)
                 against restarting bpfdb and warming it up again
  footprint [--sf X] [--threads T] [--work DIR] [--hook-engine E] [--out DIR]
                 binary sizes with and without hooks, the extension
                 runtime's share, resident memory idle, after TPC-H, and
                 with every default program attached, and the memory the
                 attached programs hold; --out DIR also writes
                 footprint.md and footprint.json
  serve --db FILE [--threads T] [--attach defaults|HOOK,...] [--hook-engine E]
                 run TPC-H queries for bench tpch and reconfig: reads
                 "run N" (an untimed run, then a timed one) and "once N"
                 lines, answers "ok NANOSECONDS ROWS [HOOK=CALLS]..." or
                 "error MESSAGE"; --attach gives every hook (defaults) or
                 the listed hooks their default program
`

func benchCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprint(w, benchUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "tpch":
		return benchTPCH(args[1:], stdout, stderr)
	case "reconfig":
		return benchReconfig(args[1:], stdout, stderr)
	case "footprint":
		return benchFootprint(args[1:], stdout, stderr)
	case "serve":
		return benchServe(args[1:], os.Stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "bpfdb bench: unknown command %q\n%s", args[0], benchUsage)
	return 2
}

// The configurations bench tpch compares, in the order of its columns:
// the baseline first.
var benchConfigs = []string{"nohooks", "hooks", "interpreter", "jit"}

// benchReport is results.json: what was measured and how, and each query's
// measurements.
type benchReport struct {
	SF   float64 `json:"sf"`
	Runs int     `json:"runs"`
	// Restarts is the number of sets of processes the runs were spread
	// over.
	Restarts int `json:"restarts,omitempty"`
	Threads  int `json:"threads"`
	// Configs are the configurations measured, nohooks first.
	Configs []string `json:"configs"`
	// Hooks are the hooks whose default program the interpreter and jit
	// configurations attach.
	Hooks []string `json:"hooks"`
	// CallsFrom is the configuration whose hook invocations the queries'
	// hook_calls_per_run hold ("" when no configuration attaches).
	CallsFrom string         `json:"calls_from,omitempty"`
	Queries   []*benchResult `json:"queries"`
}

// benchResult is one query's measurements: per configuration, the times of
// the timed runs; per hook with a program, the invocations in one run (of
// the configuration CallsFrom names).
type benchResult struct {
	Query string                     `json:"query"`
	Rows  int                        `json:"rows"`
	Times map[string][]time.Duration `json:"times_ns"`
	// CPU is the processor time (user and system) the configuration's
	// process spent in each timed run: unlike the elapsed time, it does
	// not count the time the process waited while another one ran.
	CPU   map[string][]time.Duration `json:"cpu_ns,omitempty"`
	Calls map[string]uint64          `json:"hook_calls_per_run"`
}

func benchTPCH(args []string, stdout, stderr io.Writer) int {
	fs, sc := benchFlags("tpch", benchUsage, stderr)
	runs := fs.Int("runs", 3, "timed runs of each query in each configuration")
	restarts := fs.Int("restarts", 1, "sets of fresh processes the runs are spread over")
	baseline := fs.String("baseline", "", "the nohooks build of bpfdb (default: go build -tags nohooks)")
	only := fs.String("queries", "", "comma-separated query numbers (default: all 22)")
	configList := fs.String("configs", "", "comma-separated configurations among hooks, interpreter and jit (default: all; nohooks always runs)")
	hookList := fs.String("hooks", "", "comma-separated hooks whose default program the interpreter and jit configurations attach (default: all seven)")
	out := fs.String("out", "", "write results.md and results.json into this directory")
	if code, ok := sc.parse(fs, args, benchUsage, stderr); !ok {
		return code
	}
	queries, err := benchQueries(*only)
	if err == nil && *runs < 1 {
		err = fmt.Errorf("--runs %d: want at least 1", *runs)
	}
	if err == nil && (*restarts < 1 || *restarts > *runs) {
		err = fmt.Errorf("--restarts %d: want 1 to --runs (%d)", *restarts, *runs)
	}
	var configs, hooks []string
	if err == nil {
		configs, err = parseConfigs(*configList, bpfdb.JITSupported())
	}
	if err == nil {
		hooks, err = parseHooks(*hookList)
		if err != nil {
			err = fmt.Errorf("--hooks: %w", err)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench tpch: %v\n", err)
		fmt.Fprint(stderr, benchUsage)
		return 2
	}
	s := sc.setup(stderr)
	s.runs, s.baseline, s.queries, s.configs, s.hooks = *runs, *baseline, queries, configs, hooks
	s.restarts = *restarts
	report, err := runBenchTPCH(s)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench tpch: %v\n", err)
		return 1
	}
	text := formatBench(report)
	fmt.Fprint(stdout, text)
	if *out != "" {
		if err := writeBench(*out, text, report); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench tpch: --out: %v\n", err)
			return 1
		}
	}
	return 0
}

// parseConfigs parses --configs: the configurations to measure besides
// nohooks, which always runs. An empty list means all of them, less jit
// where the JIT is not supported; naming jit there is an error.
func parseConfigs(list string, jit bool) ([]string, error) {
	want := map[string]bool{"nohooks": true}
	named := false
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !slices.Contains(benchConfigs, f) {
			return nil, fmt.Errorf("--configs: unknown configuration %q (hooks, interpreter or jit; nohooks always runs)", f)
		}
		if f == "jit" && !jit {
			return nil, fmt.Errorf("--configs: jit: this build cannot run hook programs as native code (%s/%s)", runtime.GOOS, runtime.GOARCH)
		}
		want[f], named = true, true
	}
	if !named {
		for _, c := range benchConfigs {
			want[c] = c != "jit" || jit
		}
	}
	return slices.DeleteFunc(slices.Clone(benchConfigs), func(c string) bool { return !want[c] }), nil
}

// parseHooks parses a comma-separated list of hook names as SQL spells
// them (ext.ParseHook's spellings), or "defaults" or "" for all seven. It
// returns the SQL names in the hooks' order, each once; a list of commas
// alone is an error.
func parseHooks(list string) ([]string, error) {
	var all []string
	for _, h := range ext.Hooks() {
		all = append(all, h.String())
	}
	if l := strings.TrimSpace(list); l == "" || l == "defaults" {
		return all, nil
	}
	want := map[string]bool{}
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		h, err := ext.ParseHook(f)
		if err != nil {
			return nil, err
		}
		want[h.String()] = true
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("%q names no hook", list)
	}
	return slices.DeleteFunc(all, func(h string) bool { return !want[h] }), nil
}

// benchQueries parses --queries.
func benchQueries(list string) ([]tpch.Query, error) {
	var ns []int
	if list == "" {
		for n := 1; n <= 22; n++ {
			ns = append(ns, n)
		}
	}
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(f, "q"))
		if err != nil || n < 1 || n > 22 {
			return nil, fmt.Errorf("--queries: %q is not a query number 1 to 22", f)
		}
		ns = append(ns, n)
	}
	var qs []tpch.Query
	for _, n := range ns {
		q, err := tpch.Get(n, tpch.Dates)
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	return qs, nil
}

type benchSetup struct {
	sf            float64
	runs, threads int
	restarts      int // bench tpch: sets of processes the runs are spread over
	work          string
	baseline      string
	queries       []tpch.Query
	configs       []string         // bench tpch's configurations, nohooks first
	hooks         []string         // the hooks the interpreter and jit configurations attach
	engine        bpfdb.HookEngine // bench footprint's engine of the attached programs
	log           io.Writer
}

// runBenchTPCH prepares the data and the baseline, then measures. Every
// configuration runs in a process of its own (bench serve), the same
// binary for three of them and the nohooks build for the baseline, so
// that they differ in nothing but the configuration: with the baseline
// alone in a child process, the same binary measured 6-8% slower there
// than in the parent.
func runBenchTPCH(s benchSetup) (*benchReport, error) {
	ctx := context.Background()
	dbPath, err := benchDatabase(ctx, s)
	if err != nil {
		return nil, err
	}
	bin := s.baseline
	if bin == "" {
		bin = filepath.Join(s.work, "bpfdb-nohooks")
		fmt.Fprintf(s.log, "building the nohooks baseline: go build -tags nohooks -o %s\n", bin)
		if err := buildNohooks(bin, s.log); err != nil {
			return nil, fmt.Errorf("build the nohooks baseline (give one with --baseline BIN): %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	configs := s.configs
	report := &benchReport{SF: s.sf, Runs: s.runs, Restarts: max(1, min(s.restarts, s.runs)), Threads: s.threads, Configs: configs, Hooks: s.hooks}
	// The invocations come from the JIT configuration if it runs: the
	// default programs make the same decisions under either engine.
	for _, c := range []string{"interpreter", "jit"} {
		if slices.Contains(configs, c) {
			report.CallsFrom = c
		}
	}
	results := make([]*benchResult, len(s.queries))
	for i, q := range s.queries {
		results[i] = &benchResult{Query: q.Name(), Times: map[string][]time.Duration{}, CPU: map[string][]time.Duration{}, Calls: map[string]uint64{}}
	}
	restarts := max(1, min(s.restarts, s.runs))
	start := time.Now()
	for set := range restarts {
		// The runs this set of processes does: every restarts-th.
		var runs []int
		for r := set; r < s.runs; r += restarts {
			runs = append(runs, r)
		}
		if err := benchProcesses(s, report, results, self, bin, dbPath, set, runs, start); err != nil {
			return nil, err
		}
	}
	report.Queries = results
	return report, nil
}

// benchProcesses starts one process per configuration (set numbers the
// sets of processes of a run with --restarts), warms each query up once
// in each, then does the timed runs runs (numbered in the whole
// measurement) and stops the processes.
func benchProcesses(s benchSetup, report *benchReport, results []*benchResult, self, bin, dbPath string, set int, runs []int, start time.Time) error {
	configs := s.configs
	children := map[string]*serveChild{}
	defer func() {
		for _, c := range children {
			c.close()
		}
	}()
	// Started last to first: in an A/A test (the same binary as the
	// baseline) the first process started measured 6-9% slower than the
	// others on this machine, started last it agreed within 2%. Later
	// sets rotate the order, so that no configuration is always started
	// first.
	order := slices.Clone(configs)
	slices.Reverse(order)
	rotate := set % len(order)
	order = append(order[rotate:], order[:rotate]...)
	for _, cfg := range order {
		exe, args := self, []string{}
		switch cfg {
		case "nohooks":
			exe = bin
		case "interpreter", "jit":
			args = []string{"--attach", strings.Join(s.hooks, ","), "--hook-engine", cfg}
		}
		c, err := startServe(exe, dbPath, s.threads, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", cfg, err)
		}
		children[cfg] = c
	}
	if set == 0 {
		fmt.Fprintf(s.log, "warming up: every query once in each configuration\n")
	} else {
		fmt.Fprintf(s.log, "new processes (set %d), warming up\n", set+1)
	}
	for i, q := range s.queries {
		for _, cfg := range configs {
			r, err := children[cfg].run(q.N)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", q.Name(), cfg, err)
			}
			if results[i].Rows != 0 && r.rows != results[i].Rows {
				return fmt.Errorf("%s: %d rows under %s, %d before", q.Name(), r.rows, cfg, results[i].Rows)
			}
			results[i].Rows = r.rows
		}
	}
	for _, r := range runs {
		fmt.Fprintf(s.log, "run %d of %d (%v so far)\n", r+1, s.runs, time.Since(start).Round(time.Second))
		for i, q := range s.queries {
			// Rotate the order, so that no configuration always runs
			// right after another.
			for k := range configs {
				cfg := configs[(k+r+i)%len(configs)]
				res, err := children[cfg].run(q.N)
				if err != nil {
					return fmt.Errorf("%s (%s): %w", q.Name(), cfg, err)
				}
				results[i].Times[cfg] = append(results[i].Times[cfg], res.d)
				if res.cpu >= 0 {
					results[i].CPU[cfg] = append(results[i].CPU[cfg], res.cpu)
				}
				if cfg == report.CallsFrom {
					maps.Copy(results[i].Calls, res.calls)
				}
			}
		}
	}
	return nil
}

// buildNohooks builds bpfdb with the hook sites compiled out, from the
// module in the current directory.
func buildNohooks(bin string, log io.Writer) error {
	cmd := exec.Command("go", "build", "-tags", "nohooks", "-o", bin, "github.com/bpfdb/bpfdb/cmd/bpfdb")
	cmd.Stdout, cmd.Stderr = log, log
	return cmd.Run()
}

// databaseLoaded reports whether the work directory holds the loaded
// database (benchDatabase made it before).
func databaseLoaded(s benchSetup) bool {
	_, err := os.Stat(filepath.Join(s.work, "loaded"))
	return err == nil
}

// benchDatabase returns the database of the scale factor in the work
// directory, generating and loading it the first time.
func benchDatabase(ctx context.Context, s benchSetup) (string, error) {
	dbPath := filepath.Join(s.work, "bpfdb.db")
	done := filepath.Join(s.work, "loaded")
	if databaseLoaded(s) {
		return dbPath, nil
	}
	data := filepath.Join(s.work, "tbl")
	if err := os.MkdirAll(s.work, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(s.log, "generating TPC-H SF %g into %s\n", s.sf, data)
	g, err := dbgen.New(s.sf, dbgen.FormatDuckDB)
	if err != nil {
		return "", err
	}
	if err := g.WriteDir(data, max(s.threads, 2), nil); err != nil {
		return "", err
	}
	os.Remove(dbPath)
	fmt.Fprintf(s.log, "loading %s\n", dbPath)
	db, err := bpfdb.Open(dbPath, bpfdb.Options{Threads: s.threads})
	if err != nil {
		return "", err
	}
	if _, err := tpch.Load(ctx, db, data, nil); err != nil {
		db.Close()
		return "", err
	}
	if err := db.Close(); err != nil {
		return "", err
	}
	return dbPath, os.WriteFile(done, []byte(time.Now().Format(time.RFC3339)+"\n"), 0o644)
}

// serveChild is a bench serve process and its pipes.
type serveChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// serveRun is what one run in a bench serve process gave.
type serveRun struct {
	d     time.Duration
	cpu   time.Duration // processor time, -1 if the child did not say
	rows  int
	calls map[string]uint64 // invocations of each hook with a program
}

func startServe(bin, db string, threads int, extra ...string) (*serveChild, error) {
	args := append([]string{"bench", "serve", "--db", db, "--threads", strconv.Itoa(threads)}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	c := &serveChild{cmd: cmd, in: in, out: bufio.NewReader(out)}
	line, err := c.out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		c.close()
		return nil, fmt.Errorf("%s did not start serving: %q %v", bin, line, err)
	}
	return c, nil
}

// run runs query n in the child: an untimed run first, so that the CPU's
// caches hold this process's data whichever process ran before, then the
// timed one.
func (c *serveChild) run(n int) (serveRun, error) { return c.do("run", n) }

// once runs query n in the child once, timed.
func (c *serveChild) once(n int) (serveRun, error) { return c.do("once", n) }

func (c *serveChild) do(cmd string, n int) (serveRun, error) {
	if _, err := fmt.Fprintf(c.in, "%s %d\n", cmd, n); err != nil {
		return serveRun{}, err
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		return serveRun{}, err
	}
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "ok" {
		return serveRun{}, errors.New(strings.TrimSpace(strings.TrimPrefix(line, "error ")))
	}
	ns, err1 := strconv.ParseInt(f[1], 10, 64)
	rows, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil {
		return serveRun{}, fmt.Errorf("bad reply %q", line)
	}
	r := serveRun{d: time.Duration(ns), cpu: -1, rows: rows, calls: map[string]uint64{}}
	for _, kv := range f[3:] {
		k, v, _ := strings.Cut(kv, "=")
		n, _ := strconv.ParseUint(v, 10, 64)
		if k == "cpu" { // no hook is called cpu
			r.cpu = time.Duration(n)
			continue
		}
		r.calls[k] = n
	}
	return r, nil
}

func (c *serveChild) close() {
	fmt.Fprintln(c.in, "quit")
	c.in.Close()
	c.cmd.Wait()
}

// benchServe is bpfdb bench serve: one configuration of bench tpch.
func benchServe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bpfdb bench serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "", "database file")
	threads := fs.Int("threads", 0, "worker threads")
	attach := fs.String("attach", "", "attach the default program of every hook (\"defaults\") or of the listed ones (hash,unpin)")
	engine := fs.String("hook-engine", "auto", "how hook programs run: auto, jit or interpreter")
	if err := fs.Parse(args); err != nil || *dbPath == "" || fs.NArg() != 0 {
		fmt.Fprint(stderr, benchUsage)
		return 2
	}
	var hooks []string // nil: attach nothing
	if *attach != "" {
		var err error
		if hooks, err = parseHooks(*attach); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench serve: --attach: %v\n", err)
			return 2
		}
	}
	hookEngine, err := parseEngine(*engine)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench serve: %v\n", err)
		return 2
	}
	db, err := bpfdb.Open(*dbPath, bpfdb.Options{Threads: *threads, ReadOnly: true, HookEngine: hookEngine, Logf: func(string, ...any) {}})
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench serve: %v\n", err)
		return 1
	}
	defer db.Close()
	for _, h := range hooks {
		if err := db.AttachStock(h, "default", bpfdb.AttachOptions{Transient: true}); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench serve: %v\n", err)
			return 1
		}
	}
	fmt.Fprintln(stdout, "ready")
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 1 && f[0] == "quit":
			return 0
		case len(f) == 2 && (f[0] == "run" || f[0] == "once"):
			n, _ := strconv.Atoi(f[1])
			q, err := tpch.Get(n, tpch.Dates)
			if err == nil && f[0] == "run" {
				_, _, err = tpch.Run(context.Background(), db, q) // untimed: warms the CPU's caches
			}
			if err != nil {
				fmt.Fprintf(stdout, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
				continue
			}
			before := db.Hooks()
			runtime.GC()
			cpu0 := processCPU()
			res, d, err := tpch.Run(context.Background(), db, q)
			cpu := processCPU() - cpu0
			if err != nil {
				fmt.Fprintf(stdout, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
				continue
			}
			fmt.Fprintf(stdout, "ok %d %d", d.Nanoseconds(), res.Rows())
			if cpu0 >= 0 {
				fmt.Fprintf(stdout, " cpu=%d", cpu.Nanoseconds())
			}
			for i, h := range db.Hooks() {
				if h.Program != "" {
					fmt.Fprintf(stdout, " %s=%d", h.Hook, h.Calls-before[i].Calls)
				}
			}
			fmt.Fprintln(stdout)
		default:
			fmt.Fprintf(stdout, "error unknown command %q\n", sc.Text())
		}
	}
	return 0
}

func medianOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// formatBench renders the report as Markdown tables: a header saying
// what ran, each query's medians and overheads, and the hook invocations.
func formatBench(r *benchReport) string {
	var b strings.Builder
	configs := r.Configs
	fmt.Fprintf(&b, "TPC-H SF %g, median of %d runs per configuration (ms); overhead against the nohooks build\n", r.SF, r.Runs)
	if r.Restarts > 1 {
		fmt.Fprintf(&b, "runs spread over %d sets of processes\n", r.Restarts)
	}
	fmt.Fprintf(&b, "configurations: %s; default programs (interpreter, jit) on: %s\n\n", strings.Join(configs, ", "), hookNames(r.Hooks))
	fmt.Fprintf(&b, "| query |")
	for _, c := range configs {
		fmt.Fprintf(&b, " %s |", c)
	}
	for _, c := range configs[1:] {
		fmt.Fprintf(&b, " %s %% |", c)
	}
	b.WriteString("\n|---|")
	for range len(configs)*2 - 1 {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	totals := map[string]float64{}
	logs := map[string]float64{}
	for _, q := range r.Queries {
		fmt.Fprintf(&b, "| %s |", q.Query)
		for _, c := range configs {
			m := medianOf(q.Times[c])
			totals[c] += m.Seconds() * 1000
			logs[c] += math.Log(max(m.Seconds()*1000, 1e-6))
			fmt.Fprintf(&b, " %.1f |", m.Seconds()*1000)
		}
		base := medianOf(q.Times["nohooks"]).Seconds()
		for _, c := range configs[1:] {
			fmt.Fprintf(&b, " %s |", pct(medianOf(q.Times[c]).Seconds(), base))
		}
		b.WriteString("\n")
	}
	n := float64(len(r.Queries))
	fmt.Fprintf(&b, "| **total** |")
	for _, c := range configs {
		fmt.Fprintf(&b, " **%.1f** |", totals[c])
	}
	for _, c := range configs[1:] {
		fmt.Fprintf(&b, " **%s** |", pct(totals[c], totals["nohooks"]))
	}
	fmt.Fprintf(&b, "\n| **geomean** |")
	for _, c := range configs {
		fmt.Fprintf(&b, " **%.1f** |", math.Exp(logs[c]/n))
	}
	for _, c := range configs[1:] {
		fmt.Fprintf(&b, " **%s** |", pct(math.Exp(logs[c]/n), math.Exp(logs["nohooks"]/n)))
	}
	b.WriteString("\n")
	formatSpread(&b, r)
	formatCPU(&b, r)
	formatPaired(&b, r)
	if r.CallsFrom == "" {
		return b.String()
	}
	fmt.Fprintf(&b, "\nHook invocations per run of each query (default programs, %s)\n\n| query |", r.CallsFrom)
	for _, h := range r.Hooks {
		fmt.Fprintf(&b, " %s |", h)
	}
	b.WriteString("\n|---|")
	for range r.Hooks {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, q := range r.Queries {
		fmt.Fprintf(&b, "| %s |", q.Query)
		for _, h := range r.Hooks {
			fmt.Fprintf(&b, " %d |", q.Calls[h])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// formatSpread adds each query's fastest and slowest timed run per
// configuration, beside the medians of the main table.
func formatSpread(b *strings.Builder, r *benchReport) {
	fmt.Fprintf(b, "\nFastest and slowest of the timed runs of each query (ms)\n\n| query |")
	for _, c := range r.Configs {
		fmt.Fprintf(b, " %s |", c)
	}
	b.WriteString("\n|---|")
	for range r.Configs {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, q := range r.Queries {
		fmt.Fprintf(b, "| %s |", q.Query)
		for _, c := range r.Configs {
			ds := q.Times[c]
			if len(ds) == 0 {
				b.WriteString(" - |")
				continue
			}
			fmt.Fprintf(b, " %.1f–%.1f |", slices.Min(ds).Seconds()*1000, slices.Max(ds).Seconds()*1000)
		}
		b.WriteString("\n")
	}
}

// formatCPU adds the processor time's total and geometric mean per
// configuration, when every configuration's process reported it: the
// overhead in work done, which other processes on the machine disturb less
// than the elapsed time.
func formatCPU(b *strings.Builder, r *benchReport) {
	configs := r.Configs
	totals, logs := map[string]float64{}, map[string]float64{}
	for _, q := range r.Queries {
		for _, c := range configs {
			if len(q.CPU[c]) == 0 {
				return
			}
			m := medianOf(q.CPU[c]).Seconds() * 1000
			totals[c] += m
			logs[c] += math.Log(max(m, 1e-6))
		}
	}
	n := float64(len(r.Queries))
	fmt.Fprintf(b, "\nProcessor time (user + system) of each configuration's process, median per query (ms)\n\n| |")
	for _, c := range configs {
		fmt.Fprintf(b, " %s |", c)
	}
	for _, c := range configs[1:] {
		fmt.Fprintf(b, " %s %% |", c)
	}
	b.WriteString("\n|---|")
	for range len(configs)*2 - 1 {
		b.WriteString("---:|")
	}
	fmt.Fprintf(b, "\n| **total CPU** |")
	for _, c := range configs {
		fmt.Fprintf(b, " **%.1f** |", totals[c])
	}
	for _, c := range configs[1:] {
		fmt.Fprintf(b, " **%s** |", pct(totals[c], totals["nohooks"]))
	}
	fmt.Fprintf(b, "\n| **geomean CPU** |")
	for _, c := range configs {
		fmt.Fprintf(b, " **%.1f** |", math.Exp(logs[c]/n))
	}
	for _, c := range configs[1:] {
		fmt.Fprintf(b, " **%s** |", pct(math.Exp(logs[c]/n), math.Exp(logs["nohooks"]/n)))
	}
	b.WriteString("\n")
}

// formatPaired adds the overheads of each run's totals. A run measures
// every configuration on one query after another, so two configurations'
// totals in one run were taken seconds apart and their ratio cancels the
// machine's drift over minutes; the range over the runs says how far one
// run strays (a run's total swings with its longest queries, so the
// medians of the main table stay the estimate). Against hooks (the same
// binary with nothing attached) the ratio also leaves out what two builds
// differ in besides the hook sites (code placement).
func formatPaired(b *strings.Builder, r *benchReport) {
	runs := r.Runs
	for _, q := range r.Queries {
		for _, c := range r.Configs {
			runs = min(runs, len(q.Times[c]))
		}
	}
	if runs < 2 {
		return
	}
	totals := func(c string, cpu bool) []float64 {
		t := make([]float64, runs)
		for _, q := range r.Queries {
			ds := q.Times[c]
			if cpu {
				ds = q.CPU[c]
			}
			for i := range t {
				if i < len(ds) {
					t[i] += ds[i].Seconds()
				}
			}
		}
		return t
	}
	hasCPU := true
	for _, q := range r.Queries {
		for _, c := range r.Configs {
			hasCPU = hasCPU && len(q.CPU[c]) >= runs
		}
	}
	type row struct {
		against string
		cpu     bool
	}
	var rows []row
	for _, cpu := range []bool{false, true} {
		if cpu && !hasCPU {
			break
		}
		rows = append(rows, row{"nohooks", cpu})
		if slices.Contains(r.Configs, "hooks") && len(r.Configs) > 2 {
			rows = append(rows, row{"hooks", cpu})
		}
	}
	fmt.Fprintf(b, "\nOverhead of each run's total, paired run by run: median [lowest, highest] of %d runs\n\n| |", runs)
	for _, c := range r.Configs[1:] {
		fmt.Fprintf(b, " %s |", c)
	}
	b.WriteString("\n|---|")
	for range r.Configs[1:] {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, w := range rows {
		what := "elapsed"
		if w.cpu {
			what = "CPU"
		}
		fmt.Fprintf(b, "| %s against %s |", what, w.against)
		base := totals(w.against, w.cpu)
		for _, c := range r.Configs[1:] {
			if c == w.against {
				b.WriteString(" |")
				continue
			}
			t := totals(c, w.cpu)
			over := make([]float64, runs)
			for i := range over {
				over[i] = 100 * (t[i] - base[i]) / base[i]
			}
			slices.Sort(over)
			med := over[runs/2]
			if runs%2 == 0 {
				med = (over[runs/2-1] + over[runs/2]) / 2
			}
			fmt.Fprintf(b, " %+.1f%% [%+.1f, %+.1f] |", med, over[0], over[runs-1])
		}
		b.WriteString("\n")
	}
}

// hookNames lists hooks for the report's header: "all seven" or their
// names.
func hookNames(hooks []string) string {
	if len(hooks) == len(ext.Hooks()) {
		return "all seven hooks"
	}
	return strings.Join(hooks, ", ")
}

// pct is x's overhead over base in percent.
func pct(x, base float64) string {
	if base <= 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", 100*(x-base)/base)
}

// writeBench writes results.md (the report as printed) and results.json
// into dir.
func writeBench(dir, text string, r *benchReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(text), 0o644); err != nil {
		return err
	}
	return writeReport(dir, "results.json", r)
}
