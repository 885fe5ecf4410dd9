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
	"runtime/debug"
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

const footprintUsage = `usage: bpfdb bench footprint [--sf X] [--threads T] [--work DIR] [--hook-engine E] [--out DIR]

The memory the hooks and the eBPF runtime cost: the size of this binary
and of the nohooks build (go build -tags nohooks, when the source is at
hand), the extension runtime's share of this binary (its packages'
symbols and the embedded stock policies), this process's resident memory
(VmRSS) and Go heap idle, after opening the database of bench tpch and
running the 22 queries, and with every hook's default program attached;
and the memory the seven attachments hold: the growth of resident memory
and of the Go heap across attaching them (programs, maps, interpreter or
JIT metadata), and the JIT's native code, which lives in executable
mappings outside the Go heap (none with --hook-engine interpreter).
Resident memory is read after returning freed heap memory to the system.
--out DIR also writes footprint.md (the table) and footprint.json (go run
./cmd/bpfdb-charts DIR draws it).
`

// footprintReport is footprint.json: named measurements with units.
type footprintReport struct {
	SF float64 `json:"sf"`
	// HookEngine is the engine the attached programs run on (jit or
	// interpreter).
	HookEngine   string        `json:"hook_engine"`
	Measurements []measurement `json:"measurements"`
	// Unmeasured are the measurements that could not be taken, with why.
	Unmeasured []unmeasured `json:"unmeasured,omitempty"`
}

// measurement is one number of bench footprint.
type measurement struct {
	Name  string `json:"name"` // stable key, e.g. "rss_idle"
	What  string `json:"what"` // the row of the printed table
	Value int64  `json:"value"`
	Unit  string `json:"unit"` // "bytes"
	// Includes says what the number counts, where the row does not.
	Includes string `json:"includes,omitempty"`
}

// unmeasured is a measurement bench footprint could not take.
type unmeasured struct {
	Name  string `json:"name"`
	What  string `json:"what"`
	Error string `json:"error"`
}

// add records a measurement in bytes.
func (r *footprintReport) add(name, what string, bytes int64, includes string) {
	r.Measurements = append(r.Measurements, measurement{Name: name, What: what, Value: bytes, Unit: "bytes", Includes: includes})
}

// fail records a measurement that could not be taken.
func (r *footprintReport) fail(name, what string, err error) {
	r.Unmeasured = append(r.Unmeasured, unmeasured{Name: name, What: what, Error: strings.TrimSpace(err.Error())})
}

// format renders the report as the Markdown table bench footprint prints,
// then a note per measurement that says what it includes.
func (r *footprintReport) format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Footprint, TPC-H SF %g, hook programs on the %s\n\n| what | bytes | MiB |\n|---|---:|---:|\n", r.SF, r.HookEngine)
	for _, m := range r.Measurements {
		what := m.What
		if m.Name == "runtime_binary" || m.Name == "runtime_rss" || m.Name == "runtime_heap" || m.Name == "runtime_jit_code" {
			what = "**" + what + "**"
		}
		fmt.Fprintf(&b, "| %s | %d | %.2f |\n", what, m.Value, float64(m.Value)/(1<<20))
	}
	for _, u := range r.Unmeasured {
		fmt.Fprintf(&b, "| %s | not measured: %s | |\n", u.What, u.Error)
	}
	b.WriteString("\n")
	for _, m := range r.Measurements {
		if m.Includes != "" {
			fmt.Fprintf(&b, "- %s: %s\n", m.What, m.Includes)
		}
	}
	return b.String()
}

// memSample is the process's memory at one moment.
type memSample struct {
	rss, heap int64
	code      codeMappings
}

// sampleMemory collects garbage twice (a sync.Pool's objects survive one
// collection), returns the freed memory to the system (so that VmRSS
// counts what is live, not what the Go runtime keeps for later) and reads
// VmRSS, the Go heap in use and the executable anonymous mappings.
func sampleMemory() (memSample, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := vmRSS()
	if err != nil {
		return memSample{}, err
	}
	code, err := execMappings()
	return memSample{rss: rss, heap: int64(ms.HeapInuse), code: code}, err
}

// benchFootprint is bpfdb bench footprint.
func benchFootprint(args []string, stdout, stderr io.Writer) int {
	fs, sc := benchFlags("footprint", footprintUsage, stderr)
	out := fs.String("out", "", "also write footprint.md and footprint.json into this directory")
	engine := fs.String("hook-engine", "auto", "how the attached programs run: auto (the JIT where supported), jit or interpreter")
	if code, ok := sc.parse(fs, args, footprintUsage, stderr); !ok {
		return code
	}
	hookEngine, err := parseEngine(*engine)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench footprint: --hook-engine: %v\n", err)
		return 2
	}
	idle, err := sampleMemory()
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench footprint: %v\n", err)
		return 1
	}
	s := sc.setup(stderr)
	s.engine = hookEngine
	if !databaseLoaded(s) {
		// Generating and loading the data leaves memory behind that is
		// no part of the footprint: make the database, then measure in a
		// fresh process.
		if _, err := benchDatabase(context.Background(), s); err != nil {
			fmt.Fprintf(stderr, "bpfdb bench footprint: %v\n", err)
			return 1
		}
		return rerun(append([]string{"bench", "footprint"}, args...), stdout, stderr)
	}
	r := &footprintReport{SF: s.sf}
	if err := measureFootprint(context.Background(), s, idle, r); err != nil {
		fmt.Fprintf(stderr, "bpfdb bench footprint: %v\n", err)
		return 1
	}
	text := r.format()
	fmt.Fprint(stdout, text)
	if *out != "" {
		err := os.MkdirAll(*out, 0o755)
		if err == nil {
			err = os.WriteFile(filepath.Join(*out, "footprint.md"), []byte(text), 0o644)
		}
		if err == nil {
			err = writeReport(*out, "footprint.json", r)
		}
		if err != nil {
			fmt.Fprintf(stderr, "bpfdb bench footprint: --out: %v\n", err)
			return 1
		}
	}
	return 0
}

// rerun runs this executable with args, passing its output through, and
// returns its exit code.
func rerun(args []string, stdout, stderr io.Writer) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bench footprint: %v\n", err)
		return 1
	}
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintf(stderr, "bpfdb bench footprint: run %s: %v\n", self, err)
		return 1
	}
	return 0
}

// measureFootprint takes bench footprint's measurements into r, over the
// database that is in the work directory already; idle is the process's
// memory at its start.
func measureFootprint(ctx context.Context, s benchSetup, idle memSample, r *footprintReport) error {
	dbPath, err := benchDatabase(ctx, s)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if st, err := os.Stat(self); err == nil {
		r.add("binary", "binary (this build)", st.Size(), "")
	} else {
		r.fail("binary", "binary (this build)", err)
	}
	nohooks := filepath.Join(s.work, "bpfdb-nohooks")
	if err := buildNohooks(nohooks, io.Discard); err != nil {
		r.fail("binary_nohooks", "binary (-tags nohooks)", fmt.Errorf("go build -tags nohooks: %w", err))
	} else if st, err := os.Stat(nohooks); err == nil {
		r.add("binary_nohooks", "binary (-tags nohooks)", st.Size(), "")
	}
	if parts, err := runtimeSymbols(self); err == nil {
		var total int64
		for _, p := range runtimePackages {
			r.add("runtime_symbols/"+p, "code and data of "+p, parts[p], "")
			total += parts[p]
		}
		var objs int64
		for _, p := range extensions.List() {
			o, _ := extensions.Object(p.Hook.String(), p.Name)
			objs += int64(len(o))
		}
		r.add("runtime_objects", fmt.Sprintf("embedded stock policies (%d objects)", len(extensions.List())), objs, "")
		r.add("runtime_binary", "the extension runtime in the binary", total+objs,
			"the sizes of the symbols of "+strings.Join(runtimePackages, ", ")+" (go tool nm -size) and the embedded stock policies' ELF objects")
	} else {
		r.fail("runtime_binary", "the extension runtime in the binary", err)
	}
	r.add("rss_idle", "resident (VmRSS), idle (at start)", idle.rss, "")
	r.add("heap_idle", "Go heap in use, idle (at start)", idle.heap, "")

	db, err := bpfdb.Open(dbPath, bpfdb.Options{Threads: s.threads, ReadOnly: true, HookEngine: s.engine, Logf: func(string, ...any) {}})
	if err != nil {
		return err
	}
	defer db.Close()
	runAll := func() error {
		for _, q := range s.queries {
			if _, err := db.Query(ctx, q.SQL); err != nil {
				return fmt.Errorf("%s: %w", q.Name(), err)
			}
		}
		return nil
	}
	if err := runAll(); err != nil {
		return err
	}
	queried, err := sampleMemory()
	if err != nil {
		return err
	}
	r.add("rss_queries", "resident (VmRSS), after the 22 queries", queried.rss, "")
	r.add("heap_queries", "Go heap in use, after the 22 queries", queried.heap, "")

	// The attachments alone: nothing else runs between the two samples.
	for _, h := range db.Hooks() {
		if err := db.AttachStock(h.Hook, "default", bpfdb.AttachOptions{Transient: true}); err != nil {
			return err
		}
	}
	r.HookEngine = db.Hooks()[0].Engine
	attached, err := sampleMemory()
	if err != nil {
		return err
	}
	r.add("runtime_rss", "resident memory the seven attachments added", attached.rss-queried.rss,
		"VmRSS after attaching minus before, both read after returning freed heap memory to the system: the programs, their maps and metadata on the Go heap, the JIT's code pages, and heap pages the Go runtime did not return")
	r.add("runtime_heap", "Go heap the seven attachments added", attached.heap-queried.heap,
		"Go heap in use after attaching minus before: the loaded programs, their maps, the interpreter's or the JIT's metadata; not the native code")
	r.add("runtime_jit_code", "the JIT's native code, resident", attached.code.rss-queried.code.rss,
		fmt.Sprintf("resident bytes of the process's anonymous executable mappings (/proc/self/smaps), which hold the JIT's code outside the Go heap, after attaching minus before (after attaching: %d such mapping(s), %d bytes mapped)", attached.code.n, attached.code.size))

	if err := runAll(); err != nil {
		return err
	}
	loaded, err := sampleMemory()
	if err != nil {
		return err
	}
	r.add("rss_attached", "resident (VmRSS), after the 22 queries with the seven defaults attached", loaded.rss, "")
	r.add("heap_attached", "Go heap in use, after the 22 queries with the seven defaults attached", loaded.heap, "")
	r.add("runtime_heap_queries", "Go heap the seven attachments held after the 22 queries", loaded.heap-queried.heap,
		"Go heap in use after the queries with programs minus after the queries without: the attachments and what their maps gathered, plus the difference between two runs of the queries")
	return nil
}

// codeMappings are anonymous executable mappings of the process.
type codeMappings struct {
	n         int   // mappings
	size, rss int64 // bytes mapped and resident
}

// execMappings sums this process's anonymous executable mappings from
// /proc/self/smaps: the JIT's code segments (the Go binary's text, the
// vDSO and shared libraries have a path and are not counted).
func execMappings() (codeMappings, error) {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return codeMappings{}, fmt.Errorf("read the mappings: %w", err)
	}
	return parseSmaps(string(b))
}

// parseSmaps sums the Size and Rss of the anonymous executable mappings
// of an smaps file (proc(5)): a header line per mapping (address range,
// permissions, offset, device, inode, path if any) followed by its
// "Field: value" lines.
func parseSmaps(smaps string) (codeMappings, error) {
	var c codeMappings
	in := false // inside an anonymous executable mapping's fields
	for i, line := range strings.Split(smaps, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") {
			if len(f) < 5 || len(f[1]) != 4 || !strings.Contains(f[0], "-") {
				return codeMappings{}, fmt.Errorf("smaps line %d: %q is neither a mapping nor a field", i+1, line)
			}
			in = f[1][2] == 'x' && f[4] == "0" && len(f) == 5
			if in {
				c.n++
			}
			continue
		}
		if !in || (f[0] != "Size:" && f[0] != "Rss:") {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || len(f) != 3 || f[2] != "kB" {
			return codeMappings{}, fmt.Errorf("smaps line %d: %q is not a size in kB", i+1, line)
		}
		if f[0] == "Size:" {
			c.size += kb << 10
		} else {
			c.rss += kb << 10
		}
	}
	return c, nil
}

// vmRSS returns this process's resident set size from /proc.
func vmRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read the resident memory: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("/proc/self/status: VmRSS %q: %w", strings.TrimSpace(v), err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("/proc/self/status has no VmRSS line")
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
