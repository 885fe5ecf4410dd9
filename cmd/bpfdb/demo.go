package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/tpch"
	"github.com/bpfdb/bpfdb/internal/tpch/dbgen"
)

const demoUsage = `usage: bpfdb demo [--sf X] [--dir D] [--threads N] [--phase DURATION]

The tour of bpfdb in about a minute, on a temporary database file:
generate TPC-H (SF 0.1) and load it, run the 22 queries, then, while a
workload runs (a large scan of lineitem beside a short interactive query
over orders, under a memory limit smaller than the scan), attach the stock
scan-resistant eviction policy to the Unpin hook live, show its effect and
the hook's counters, and swap the built-in policy back.

  --sf X          scale factor (default 0.1)
  --dir D         keep the generated data and database in D (default: a
                  temporary directory, removed at the end)
  --threads N     worker threads (default: GOMAXPROCS)
  --phase D       how long each phase of the live experiment runs (default 6s)
`

// The live experiment's queries and memory limit, for SF 0.1: the scan
// reads about 27 MB of lineitem's blocks, the interactive query about
// 1.3 MB of orders', and the limit holds the second but not the first.
const (
	demoScan = `SELECT count(*), sum(l_extendedprice), max(l_comment), max(l_shipinstruct), min(l_shipmode),
	min(l_receiptdate), min(l_commitdate), sum(l_tax), sum(l_partkey), sum(l_suppkey) FROM lineitem`
	demoHot = `SELECT o_orderpriority, count(*), sum(o_totalprice) FROM orders
	WHERE o_orderdate >= DATE '1996-01-01' GROUP BY 1 ORDER BY 1`
	demoMemoryLimit = "16MB"
)

func demoCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bpfdb demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, demoUsage) }
	sf := fs.Float64("sf", 0.1, "scale factor")
	dir := fs.String("dir", "", "directory for the data and the database (default: temporary)")
	threads := fs.Int("threads", 0, "worker threads (0: GOMAXPROCS)")
	phase := fs.Duration("phase", 6*time.Second, "length of each phase of the live experiment")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 || *sf <= 0 || *threads < 0 || *phase <= 0 {
		fmt.Fprint(stderr, demoUsage)
		return 2
	}
	if err := demo(stdout, *sf, *dir, *threads, *phase); err != nil {
		fmt.Fprintf(stderr, "bpfdb demo: %v\n", err)
		return 1
	}
	return 0
}

func demo(w io.Writer, sf float64, dir string, threads int, phase time.Duration) error {
	start := time.Now()
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "bpfdb-demo-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	ctx := context.Background()

	fmt.Fprintf(w, "== 1. TPC-H SF %g: generate and load into %s\n", sf, filepath.Join(dir, "demo.db"))
	g, err := dbgen.New(sf, dbgen.FormatDuckDB)
	if err != nil {
		return err
	}
	t0 := time.Now()
	data := filepath.Join(dir, "tbl")
	if err := g.WriteDir(data, threads, nil); err != nil {
		return err
	}
	fmt.Fprintf(w, "generated in %v\n", since(t0))
	path := filepath.Join(dir, "demo.db")
	os.Remove(path)
	db, err := bpfdb.Open(path, bpfdb.Options{Threads: threads, Logf: func(string, ...any) {}})
	if err != nil {
		return err
	}
	defer db.Close()
	t0 = time.Now()
	loaded, err := tpch.Load(ctx, db, data, nil)
	if err != nil {
		return err
	}
	var rows int64
	for _, l := range loaded {
		rows += l.Rows
	}
	fmt.Fprintf(w, "loaded %d rows into 8 tables in %v\n\n", rows, since(t0))

	fmt.Fprintf(w, "== 2. The 22 TPC-H queries (%d threads)\n", threads)
	var total time.Duration
	for i := range 22 {
		q, err := tpch.Get(i+1, tpch.Dates)
		if err != nil {
			return err
		}
		res, d, err := tpch.Run(ctx, db, q)
		if err != nil {
			return fmt.Errorf("%s: %w", q.Name(), err)
		}
		total += d
		fmt.Fprintf(w, "%s %5d rows %9s", q.Name(), res.Rows(), ms(d))
		if i%3 == 2 {
			fmt.Fprintln(w)
		} else {
			fmt.Fprint(w, "   │   ")
		}
	}
	fmt.Fprintf(w, "\ntotal %s\n\n", ms(total))

	fmt.Fprintf(w, "== 3. Scan-resistant eviction, attached live\n")
	fmt.Fprintf(w, "memory limit %s; a workload runs throughout: a client scans lineitem (about 27 MB of blocks),\n", demoMemoryLimit)
	fmt.Fprintf(w, "then runs an interactive query over orders (about 1.3 MB) %d times, and again, in a loop.\n", hotRuns)
	if err := db.Exec(ctx, "SET memory_limit = '"+demoMemoryLimit+"'"); err != nil {
		return err
	}
	exp := &experiment{db: db}
	exp.start(ctx)
	phases := []phaseResult{exp.measure("built-in LRU", phase)}
	t0 = time.Now()
	if err := db.AttachStock("unpin", "scan_resistant", bpfdb.AttachOptions{Transient: true}); err != nil {
		exp.stop()
		return err
	}
	attach := time.Since(t0)
	fmt.Fprintf(w, "ATTACH PROGRAM 'scan_resistant' TO HOOK unpin: verified, compiled and swapped in %v, queries running\n", attach.Round(time.Microsecond))
	phases = append(phases, exp.measure("scan_resistant", phase))
	hook := db.Hooks()[6]
	t0 = time.Now()
	if err := db.DetachProgram("unpin"); err != nil {
		exp.stop()
		return err
	}
	detach := time.Since(t0)
	fmt.Fprintf(w, "DETACH PROGRAM FROM HOOK unpin: built-in again after %v\n", detach.Round(time.Microsecond))
	phases = append(phases, exp.measure("built-in again", phase))
	if err := exp.stop(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%-16s %6s %12s %12s │ %-38s\n", "", "", "", "blocks read", "interactive query right after a scan")
	fmt.Fprintf(w, "%-16s %6s %12s %12s │ %12s %12s %12s\n", "policy", "scans", "interactive", "per cycle", "blocks read", "median", "p90")
	for _, p := range phases {
		fmt.Fprintf(w, "%-16s %6d %12d %12.1f │ %12.1f %12s %12s\n", p.name, p.scans, p.hot, p.loadsPerCycle, p.loadsPerFirst, ms(p.median), ms(p.p90))
	}
	fmt.Fprintf(w, "\nunpin hook while attached: program %s (%s), %d calls, %d handled, %d errors, %d violations, %v in programs\n",
		hook.Program, hook.Engine, hook.Calls, hook.Handled, hook.Errors, hook.Violations, hook.Time.Round(time.Microsecond))

	fmt.Fprintf(w, "\n== Summary\n")
	base, with := phases[0], phases[1]
	fmt.Fprintf(w, "after each scan the interactive query read %.1f blocks from the file with the built-in LRU and %.1f with\n",
		base.loadsPerFirst, with.loadsPerFirst)
	fmt.Fprintf(w, "scan_resistant (median %s → %s; blocks read per cycle %.0f → %.0f). The policy went in and out in\n",
		ms(base.median), ms(with.median), base.loadsPerCycle, with.loadsPerCycle)
	fmt.Fprintf(w, "%v and %v while the workload ran, and no query failed.\n", attach.Round(time.Microsecond), detach.Round(time.Microsecond))
	fmt.Fprintf(w, "demo took %v\n", since(start))
	return nil
}

// experiment is the live workload: one client, in a loop, scans lineitem
// and then runs the interactive query hotRuns times. Each interactive run
// is measured alone (nothing else runs meanwhile), so the blocks it read
// from the file are its own.
type experiment struct {
	db     *bpfdb.DB
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	runs  []hotRun // interactive runs of the current phase
	scans int
	err   error
}

// hotRuns is how often the interactive query runs between two scans.
const hotRuns = 3

// hotRun is one run of the interactive query: how long it took and how
// many blocks it read; first marks the run right after a scan.
type hotRun struct {
	d     time.Duration
	loads int64
	first bool
}

type phaseResult struct {
	name          string
	hot, scans    int
	median, p90   time.Duration // interactive runs right after a scan
	loadsPerFirst float64       // blocks read by those runs, on average
	loadsPerCycle float64       // blocks read per scan and its interactive runs
}

func (e *experiment) start(ctx context.Context) {
	ctx, e.cancel = context.WithCancel(ctx)
	e.done = make(chan struct{})
	fail := func(err error) {
		if ctx.Err() == nil {
			e.mu.Lock()
			e.err = err
			e.mu.Unlock()
		}
	}
	go func() {
		defer close(e.done)
		for ctx.Err() == nil {
			if _, err := e.db.Query(ctx, demoScan); err != nil {
				fail(err)
				return
			}
			e.mu.Lock()
			e.scans++
			e.mu.Unlock()
			for i := range hotRuns {
				loads, t0 := e.db.Memory().Loads, time.Now()
				if _, err := e.db.Query(ctx, demoHot); err != nil {
					fail(err)
					return
				}
				r := hotRun{d: time.Since(t0), loads: e.db.Memory().Loads - loads, first: i == 0}
				e.mu.Lock()
				e.runs = append(e.runs, r)
				e.mu.Unlock()
			}
		}
	}()
}

// measure runs the workload for d (after a short settling time, so that
// the phase starts from the policy's steady state) and reports it.
func (e *experiment) measure(name string, d time.Duration) phaseResult {
	time.Sleep(d / 4)
	e.mu.Lock()
	e.runs, e.scans = e.runs[:0], 0
	e.mu.Unlock()
	loads0 := e.db.Memory().Loads
	time.Sleep(d)
	loads := e.db.Memory().Loads - loads0
	e.mu.Lock()
	defer e.mu.Unlock()
	r := phaseResult{name: name, hot: len(e.runs), scans: e.scans, loadsPerCycle: float64(loads) / float64(max(e.scans, 1))}
	var firsts []time.Duration
	var firstLoads int64
	for _, run := range e.runs {
		if run.first {
			firsts = append(firsts, run.d)
			firstLoads += run.loads
		}
	}
	if len(firsts) > 0 {
		slices.Sort(firsts)
		r.median, r.p90 = firsts[len(firsts)/2], firsts[len(firsts)*9/10]
		r.loadsPerFirst = float64(firstLoads) / float64(len(firsts))
	}
	return r
}

func (e *experiment) stop() error {
	e.cancel()
	<-e.done
	return e.err
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
