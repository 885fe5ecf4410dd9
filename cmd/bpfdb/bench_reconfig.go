package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/extensions"
)

const reconfigUsage = `usage: bpfdb bench reconfig [--sf X] [--reps N] [--threads T] [--work DIR] [--out DIR]

Live reload against restart: for each stock policy, the time to attach or
replace it while the database is open and warm (verify, compile, swap; N
repetitions, alternating with the hook's default so that each is a
replacement), against the static path: start a new bpfdb process, open the
database and run the 22 TPC-H queries once, which brings its buffer pool
back to the warm state (the same data in memory). The database is the one
bench tpch uses (--work, made the first time). --out DIR also writes
reconfig.json (go run ./cmd/bpfdb-charts DIR draws it).
`

// benchReconfig is bpfdb bench reconfig.
func benchReconfig(args []string, stdout, stderr io.Writer) int {
	fs, sc := benchFlags("reconfig", reconfigUsage, stderr)
	reps := fs.Int("reps", 100, "attaches of each policy")
	out := fs.String("out", "", "also write reconfig.json into this directory")
	if code, ok := sc.parse(fs, args, reconfigUsage, stderr); !ok {
		return code
	}
	if *reps < 1 {
		fmt.Fprint(stderr, reconfigUsage)
		return 2
	}
	ctx := context.Background()
	s := sc.setup(stderr)
	queries := s.queries
	dbPath, err := benchDatabase(ctx, s)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench reconfig: %v\n", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench reconfig: %v\n", err)
		return 1
	}

	// The static path, twice (the first also warms the page cache).
	var restart time.Duration
	for i := range 2 {
		t0 := time.Now()
		child, err := startServe(self, dbPath, s.threads)
		if err != nil {
			fmt.Fprintf(stderr, "bpfdb bench reconfig: %v\n", err)
			return 1
		}
		for _, q := range queries {
			if _, err := child.once(q.N); err != nil {
				child.close()
				fmt.Fprintf(stderr, "bpfdb bench reconfig: restart: %v\n", err)
				return 1
			}
		}
		d := time.Since(t0)
		child.close()
		if i == 1 {
			restart = d
		}
	}

	db, err := bpfdb.Open(dbPath, bpfdb.Options{Threads: s.threads, ReadOnly: true, Logf: func(string, ...any) {}})
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench reconfig: %v\n", err)
		return 1
	}
	defer db.Close()
	for _, q := range queries { // warm, as the live path starts from a running database
		if _, err := db.Query(ctx, q.SQL); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench reconfig: %s: %v\n", q.Name(), err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "Live reload vs restart, TPC-H SF %g (%d reps per policy)\n\n", s.sf, *reps)
	fmt.Fprintf(stdout, "restart to warm state (start bpfdb, open, 22 queries once): %s\n\n", ms(restart))
	fmt.Fprintf(stdout, "| policy | median | p90 | max | restart / median |\n|---|---:|---:|---:|---:|\n")
	var medians []time.Duration
	report := reconfigReport{Restart: restart}
	for _, p := range extensions.List() {
		hook := p.Hook.String()
		var ds []time.Duration
		for i := range *reps {
			name := p.Name
			if i%2 == 1 && p.Name != "default" {
				name = "default" // so that the next attach replaces something else
			}
			runtime.Gosched()
			t0 := time.Now()
			if err := db.AttachStock(hook, name, bpfdb.AttachOptions{Transient: true}); err != nil {
				fmt.Fprintf(stderr, "bpfdb bench reconfig: %v\n", err)
				return 1
			}
			if name == p.Name {
				ds = append(ds, time.Since(t0))
			}
		}
		if err := db.DetachProgram(hook); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench reconfig: %v\n", err)
			return 1
		}
		slices.Sort(ds)
		m := ds[len(ds)/2]
		medians = append(medians, m)
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %.0f× |\n", p, us(m), us(ds[len(ds)*9/10]), us(ds[len(ds)-1]), float64(restart)/float64(m))
		report.Policies = append(report.Policies, reconfigPolicy{Policy: p.String(), Median: m, P90: ds[len(ds)*9/10], Max: ds[len(ds)-1]})
	}
	slices.Sort(medians)
	fmt.Fprintf(stdout, "\nmedian over the policies: %s; restart is %.0f× slower\n", us(medians[len(medians)/2]), float64(restart)/float64(medians[len(medians)/2]))
	if *out != "" {
		if err := writeReport(*out, "reconfig.json", report); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench reconfig: --out: %v\n", err)
			return 1
		}
	}
	return 0
}

// us prints a duration in microseconds.
func us(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d.Nanoseconds())/1000) }

const footprintUsage = `usage: bpfdb bench footprint [--sf X] [--threads T] [--work DIR]

The memory the hooks and the eBPF runtime cost: the size of this binary
and of the nohooks build (go build -tags nohooks, when the source is at
hand), and this process's resident memory (VmRSS) and Go heap idle, after
opening the database of bench tpch and running the 22 queries, and after
attaching every hook's default program (with the code and maps that
holds).
`

// benchFootprint is bpfdb bench footprint.
func benchFootprint(args []string, stdout, stderr io.Writer) int {
	fs, sc := benchFlags("footprint", footprintUsage, stderr)
	if code, ok := sc.parse(fs, args, footprintUsage, stderr); !ok {
		return code
	}
	runtime.GC()
	idleRSS, idleHeap := vmRSS(), heapInuse()
	ctx := context.Background()
	s := sc.setup(stderr)
	queries := s.queries
	dbPath, err := benchDatabase(ctx, s)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench footprint: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Footprint, TPC-H SF %g\n\n| what | bytes |\n|---|---:|\n", s.sf)
	if self, err := os.Executable(); err == nil {
		if st, err := os.Stat(self); err == nil {
			fmt.Fprintf(stdout, "| binary (this build) | %d |\n", st.Size())
		}
		if parts, err := runtimeSymbols(self); err == nil {
			var total int64
			for _, p := range runtimePackages {
				fmt.Fprintf(stdout, "| code and data of %s | %d |\n", p, parts[p])
				total += parts[p]
			}
			var objs int64
			for _, p := range extensions.List() {
				o, _ := extensions.Object(p.Hook.String(), p.Name)
				objs += int64(len(o))
			}
			fmt.Fprintf(stdout, "| embedded stock policies (%d objects) | %d |\n", len(extensions.List()), objs)
			fmt.Fprintf(stdout, "| **the extension runtime in the binary** | **%d** |\n", total+objs)
		} else {
			fmt.Fprintf(stdout, "| the extension runtime in the binary | not measured: %v |\n", err)
		}
	}
	nohooks := filepath.Join(s.work, "bpfdb-nohooks")
	if err := buildNohooks(nohooks, io.Discard); err == nil {
		if st, err := os.Stat(nohooks); err == nil {
			fmt.Fprintf(stdout, "| binary (-tags nohooks) | %d |\n", st.Size())
		}
	} else {
		fmt.Fprintf(stdout, "| binary (-tags nohooks) | not built: %v |\n", strings.TrimSpace(err.Error()))
	}
	mem := func(what string) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(stdout, "| resident (VmRSS), %s | %d |\n| Go heap in use, %s | %d |\n", what, vmRSS(), what, ms.HeapInuse)
	}
	fmt.Fprintf(stdout, "| resident (VmRSS), idle (at start) | %d |\n| Go heap in use, idle | %d |\n", idleRSS, idleHeap)
	db, err := bpfdb.Open(dbPath, bpfdb.Options{Threads: s.threads, ReadOnly: true, Logf: func(string, ...any) {}})
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench footprint: %v\n", err)
		return 1
	}
	defer db.Close()
	for _, q := range queries {
		if _, err := db.Query(ctx, q.SQL); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench footprint: %s: %v\n", q.Name(), err)
			return 1
		}
	}
	mem("after the 22 queries")
	before := heapInuse()
	for _, h := range db.Hooks() {
		if err := db.AttachStock(h.Hook, "default", bpfdb.AttachOptions{Transient: true}); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench footprint: %v\n", err)
			return 1
		}
	}
	for _, q := range queries {
		if _, err := db.Query(ctx, q.SQL); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench footprint: %s: %v\n", q.Name(), err)
			return 1
		}
	}
	mem("with the seven defaults attached")
	fmt.Fprintf(stdout, "| Go heap the seven attachments added | %d |\n", heapInuse()-before)
	return 0
}

func heapInuse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// vmRSS returns this process's resident set size from /proc, or -1.
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return -1
}

// runtimePackages are the packages of the extension runtime: the eBPF
// runtime, its ELF reader, the hook ABI and sites, the stock policies.
var runtimePackages = []string{
	"github.com/bpfdb/bpfdb/ebpf", "github.com/cilium/ebpf", "github.com/bpfdb/bpfdb/ext",
	"github.com/bpfdb/bpfdb/internal/hooks", "github.com/bpfdb/bpfdb/extensions",
}

// runtimeSymbols sums the sizes of the binary's symbols per runtime
// package (go tool nm -size), attributing each symbol to the first
// package whose path prefixes its name.
func runtimeSymbols(bin string) (map[string]int64, error) {
	out, err := exec.Command("go", "tool", "nm", "-size", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool nm: %w", err)
	}
	parts := map[string]int64{}
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		name := strings.Join(f[3:], " ")
		for _, p := range runtimePackages {
			if strings.HasPrefix(name, p+".") || strings.HasPrefix(name, p+"/") || strings.Contains(name, "("+p+".") || strings.Contains(name, "*"+p+".") {
				parts[p] += size
				break
			}
		}
	}
	return parts, nil
}

// scaleFlags are the flags every bench command has: the scale factor, the
// threads and the work directory.
type scaleFlags struct {
	sf      float64
	threads int
	work    string
}

// benchFlags returns the flag set of bench command name with the shared
// flags registered.
func benchFlags(name, usage string, stderr io.Writer) (*flag.FlagSet, *scaleFlags) {
	fs := flag.NewFlagSet("bpfdb bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	sc := &scaleFlags{}
	fs.Float64Var(&sc.sf, "sf", 1, "scale factor")
	fs.IntVar(&sc.threads, "threads", 0, "worker threads (0: GOMAXPROCS)")
	fs.StringVar(&sc.work, "work", "", "directory for the data, the database and the baseline (default: one per scale factor under the temporary directory)")
	return fs, sc
}

// parse parses a bench command's arguments into fs. It reports false,
// with the exit code, for -h (0) and for bad arguments or shared flags (2,
// after printing usage); the command checks its own flags afterwards.
func (sc *scaleFlags) parse(fs *flag.FlagSet, args []string, usage string, stderr io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() != 0 || sc.sf <= 0 || sc.threads < 0 {
		fmt.Fprint(stderr, usage)
		return 2, false
	}
	return 0, true
}

// setup returns the benchmark setup of the flags, over the 22 queries.
func (sc *scaleFlags) setup(log io.Writer) benchSetup {
	work := sc.work
	if work == "" {
		work = filepath.Join(os.TempDir(), fmt.Sprintf("bpfdb-bench-sf%g", sc.sf))
	}
	queries, _ := benchQueries("")
	return benchSetup{sf: sc.sf, threads: sc.threads, work: work, queries: queries, log: log}
}

// reconfigReport is reconfig.json: the restart time and each policy's
// attach times, in nanoseconds.
type reconfigReport struct {
	Restart  time.Duration    `json:"restart_ns"`
	Policies []reconfigPolicy `json:"policies"`
}

type reconfigPolicy struct {
	Policy string        `json:"policy"`
	Median time.Duration `json:"median_ns"`
	P90    time.Duration `json:"p90_ns"`
	Max    time.Duration `json:"max_ns"`
}

// writeReport writes v as indented JSON to dir/name.
func writeReport(dir, name string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), append(j, '\n'), 0o644)
}
