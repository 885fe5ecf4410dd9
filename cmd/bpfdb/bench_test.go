package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchChildEnv, set to 1, makes the test binary act as bpfdb itself
// (TestMain runs the command line it was given): bench tpch starts its
// configurations as child processes of its own executable, which in a
// test is the test binary.
const benchChildEnv = "BPFDB_TEST_AS_BPFDB"

func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

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

func TestParseConfigs(t *testing.T) {
	for _, tc := range []struct {
		list string
		jit  bool
		want string
		err  string
	}{
		{"", true, "nohooks,hooks,interpreter,jit", ""},
		{"", false, "nohooks,hooks,interpreter", ""},
		{" , ", true, "nohooks,hooks,interpreter,jit", ""},
		{"interpreter", true, "nohooks,interpreter", ""},
		{"jit,hooks", true, "nohooks,hooks,jit", ""},
		{"nohooks", true, "nohooks", ""},
		{"jit", false, "", "jit: this build cannot run hook programs as native code"},
		{"interp", true, "", `unknown configuration "interp" (hooks, interpreter or jit; nohooks always runs)`},
	} {
		got, err := parseConfigs(tc.list, tc.jit)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q (jit %v): %v, want an error with %q", tc.list, tc.jit, err, tc.err)
			}
		case err != nil || strings.Join(got, ",") != tc.want:
			t.Errorf("%q (jit %v): %q, %v; want %q", tc.list, tc.jit, got, err, tc.want)
		}
	}
}

func TestParseHooks(t *testing.T) {
	all := "hash,execute_forever,schedule_task,load,update_used_memory,allocate_new_block,unpin"
	for _, tc := range []struct {
		list, want, err string
	}{
		{"", all, ""},
		{"defaults", all, ""},
		{"hash", "hash", ""},
		{"unpin, hash,unpin", "hash,unpin", ""}, // the hooks' order, each once
		{"UpdateUsedMemory,allocate_new_block", "update_used_memory,allocate_new_block", ""},
		{" , ", "", `" , " names no hook`},
		{"hash,frob", "", `unknown hook "frob" (hooks: hash, execute_forever,`},
	} {
		got, err := parseHooks(tc.list)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error with %q", tc.list, err, tc.err)
			}
		case err != nil || strings.Join(got, ",") != tc.want:
			t.Errorf("%q: %q, %v; want %q", tc.list, got, err, tc.want)
		}
	}
}

// TestBenchFlagErrors checks that bad --configs, --hooks, --attach and
// --hook-engine values stop bench tpch, footprint and serve before any
// work, naming the value.
func TestBenchFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tpch", "--sf", "0.01", "--configs", "jot"}, `--configs: unknown configuration "jot"`},
		{[]string{"tpch", "--sf", "0.01", "--hooks", "hash,pin"}, `--hooks: unknown hook "pin"`},
		{[]string{"tpch", "--sf", "0.01", "--runs", "0"}, "--runs 0: want at least 1"},
		{[]string{"tpch", "--sf", "0.01", "--runs", "2", "--restarts", "3"}, "--restarts 3: want 1 to --runs (2)"},
		{[]string{"tpch", "--sf", "0.01", "--hooks", ","}, `--hooks: "," names no hook`},
		{[]string{"footprint", "--hook-engine", "wasm"}, `--hook-engine: unknown engine "wasm"`},
		{[]string{"serve", "--db", "x.db", "--attach", "hash,pin"}, `--attach: unknown hook "pin"`},
		{[]string{"serve", "--db", "x.db", "--attach", ","}, `--attach: "," names no hook`},
	} {
		_, stderr, code := runCLI(append([]string{"bench"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// millis returns durations of xs milliseconds.
func millis(xs ...float64) []time.Duration {
	var ds []time.Duration
	for _, x := range xs {
		ds = append(ds, time.Duration(x*float64(time.Millisecond)))
	}
	return ds
}

func TestFormatBench(t *testing.T) {
	all := []string{"hash", "execute_forever", "schedule_task", "load", "update_used_memory", "allocate_new_block", "unpin"}
	report := &benchReport{SF: 1, Runs: 3, Configs: benchConfigs, Hooks: all, CallsFrom: "jit", Queries: []*benchResult{
		{Query: "q01", Times: map[string][]time.Duration{"nohooks": millis(10, 12, 11), "hooks": millis(11, 11, 11), "interpreter": millis(20, 22, 21), "jit": millis(11, 12, 11)},
			Calls: map[string]uint64{"hash": 5, "unpin": 100}},
		{Query: "q02", Times: map[string][]time.Duration{"nohooks": millis(100), "hooks": millis(100), "interpreter": millis(110), "jit": millis(101)}},
	}}
	got := formatBench(report)
	for _, want := range []string{
		"configurations: nohooks, hooks, interpreter, jit; default programs (interpreter, jit) on: all seven hooks\n",
		"| query | nohooks | hooks | interpreter | jit | hooks % | interpreter % | jit % |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
		"| q01 | 11.0 | 11.0 | 21.0 | 11.0 | +0.0% | +90.9% | +0.0% |",
		"| q02 | 100.0 | 100.0 | 110.0 | 101.0 | +0.0% | +10.0% | +1.0% |",
		"| **total** | **111.0** | **111.0** | **131.0** | **112.0** | **+0.0%** | **+18.0%** | **+0.9%** |",
		"Fastest and slowest of the timed runs of each query (ms)\n\n| query | nohooks | hooks | interpreter | jit |\n",
		"| q01 | 10.0–12.0 | 11.0–11.0 | 20.0–22.0 | 11.0–12.0 |\n| q02 | 100.0–100.0 | 100.0–100.0 | 110.0–110.0 | 101.0–101.0 |\n",
		"(default programs, jit)",
		"| q01 | 5 | 0 | 0 | 0 | 0 | 0 | 100 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}

	// A subset: nohooks and the interpreter with one hook's program.
	report.Configs, report.Hooks, report.CallsFrom = []string{"nohooks", "interpreter"}, []string{"hash"}, "interpreter"
	got = formatBench(report)
	for _, want := range []string{
		"configurations: nohooks, interpreter; default programs (interpreter, jit) on: hash\n",
		"| query | nohooks | interpreter | interpreter % |\n|---|---:|---:|---:|\n",
		"| q01 | 11.0 | 21.0 | +90.9% |",
		"| **total** | **111.0** | **131.0** | **+18.0%** |",
		"(default programs, interpreter)\n\n| query | hash |\n|---|---:|\n| q01 | 5 |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("subset report lacks %q:\n%s", want, got)
		}
	}
	// Without a configuration that attaches, there is no invocation table.
	report.Configs, report.CallsFrom = []string{"nohooks", "hooks"}, ""
	if got = formatBench(report); strings.Contains(got, "invocations") {
		t.Errorf("report without programs has an invocation table:\n%s", got)
	}
}

// TestFormatPaired checks the overheads of each run's totals: per run,
// against nohooks and against hooks, their median and range.
func TestFormatPaired(t *testing.T) {
	report := &benchReport{SF: 1, Runs: 3, Configs: benchConfigs, Queries: []*benchResult{
		{Query: "q01", Times: map[string][]time.Duration{"nohooks": millis(10, 12, 11), "hooks": millis(11, 11, 11), "interpreter": millis(20, 22, 21), "jit": millis(11, 12, 11)}},
		{Query: "q02", Times: map[string][]time.Duration{"nohooks": millis(100, 100, 100), "hooks": millis(100, 100, 100), "interpreter": millis(110, 110, 110), "jit": millis(101, 99, 102)}},
	}}
	got := formatBench(report)
	for _, want := range []string{
		"paired run by run: median [lowest, highest] of 3 runs\n\n| | hooks | interpreter | jit |\n|---|---:|---:|---:|\n",
		"| elapsed against nohooks | +0.0% [-0.9, +0.9] | +18.0% [+17.9, +18.2] | +1.8% [-0.9, +1.8] |\n",
		"| elapsed against hooks | | +18.0% [+17.1, +18.9] | +0.9% [+0.0, +1.8] |\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "CPU against") {
		t.Errorf("paired CPU rows without CPU times:\n%s", got)
	}
	// One run: nothing to pair.
	for _, q := range report.Queries {
		for c, ds := range q.Times {
			q.Times[c] = ds[:1]
		}
	}
	if got := formatBench(report); strings.Contains(got, "paired") {
		t.Errorf("a paired table from one run:\n%s", got)
	}
}

// TestBenchTPCHTiny runs bench tpch end to end at SF 0.001 on two queries:
// nohooks (the test binary itself as an A/A baseline, so that nothing is
// built) and the interpreter with the default programs of two hooks only.
// It checks what results.json and results.md record, not the times.
func TestBenchTPCHTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads TPC-H SF 0.001 and starts two processes")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(benchChildEnv, "1")
	work, out := t.TempDir(), t.TempDir()
	stdout, stderr, code := runCLI("bench", "tpch", "--sf", "0.001", "--runs", "2", "--restarts", "2", "--threads", "1", "--queries", "1,3",
		"--configs", "interpreter", "--hooks", "unpin,hash", "--baseline", self, "--work", work, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "runs spread over 2 sets of processes\n") || !strings.Contains(stderr, "new processes (set 2)") {
		t.Errorf("the runs were not spread over two sets of processes:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if !strings.Contains(stdout, "| **total CPU** |") {
		t.Errorf("report lacks the processor time table:\n%s", stdout)
	}
	if !strings.Contains(stdout, "configurations: nohooks, interpreter; default programs (interpreter, jit) on: hash, unpin\n") {
		t.Errorf("report header does not name the configurations and hooks:\n%s", stdout)
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil || string(md) != stdout {
		t.Errorf("results.md differs from the printed report (%v)", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r benchReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if r.SF != 0.001 || r.Runs != 2 || r.Threads != 1 || !slices.Equal(r.Configs, []string{"nohooks", "interpreter"}) ||
		!slices.Equal(r.Hooks, []string{"hash", "unpin"}) || r.CallsFrom != "interpreter" || len(r.Queries) != 2 {
		t.Fatalf("results.json records sf %g, runs %d, threads %d, configs %q, hooks %q, calls from %q, %d queries",
			r.SF, r.Runs, r.Threads, r.Configs, r.Hooks, r.CallsFrom, len(r.Queries))
	}
	for _, q := range r.Queries {
		if q.Rows == 0 || len(q.Times) != 2 || len(q.Times["nohooks"]) != 2 || len(q.Times["interpreter"]) != 2 {
			t.Errorf("%s: %d rows, times %v; want rows and two times for each of nohooks and interpreter", q.Query, q.Rows, q.Times)
		}
		if len(q.CPU["nohooks"]) != 2 || len(q.CPU["interpreter"]) != 2 || q.CPU["nohooks"][0] <= 0 {
			t.Errorf("%s: processor times %v; want two (> 0) for each configuration", q.Query, q.CPU)
		}
		// Only the two hooks with a program report invocations; Unpin
		// runs whenever a query releases a block.
		if _, ok := q.Calls["hash"]; !ok || q.Calls["unpin"] == 0 || len(q.Calls) != 2 {
			t.Errorf("%s: invocations %v, want hash and unpin (unpin > 0) only", q.Query, q.Calls)
		}
	}
}

func TestParseSmaps(t *testing.T) {
	// Two anonymous executable mappings (JIT code) between the binary's
	// text, an anonymous writable mapping, the vDSO and an arena
	// reservation, none of which count.
	const smaps = `00400000-00c00000 r-xp 00000000 08:01 1234 /usr/bin/bpfdb
Size:               8192 kB
Rss:                6000 kB
7f0000000000-7f0000002000 r-xp 00000000 00:00 0
Size:                  8 kB
KernelPageSize:        4 kB
Rss:                   8 kB
7f0000002000-7f0000010000 ---p 00000000 00:00 0
Size:                 56 kB
Rss:                   0 kB
7f0000010000-7f0000011000 r-xp 00000000 00:00 0
Size:                  4 kB
Rss:                   4 kB
c000000000-c004000000 rw-p 00000000 00:00 0
Size:              65536 kB
Rss:               20000 kB
7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]
Size:                  8 kB
Rss:                   4 kB
VmFlags: rd ex mr mw me de sd
`
	got, err := parseSmaps(smaps)
	if want := (codeMappings{n: 2, size: 12 << 10, rss: 12 << 10}); err != nil || got != want {
		t.Errorf("parseSmaps: %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{
		"7f0000000000-7f0000002000 r-xp 00000000 00:00 0\nRss: many kB\n",
		"garbage line here\n",
	} {
		if _, err := parseSmaps(bad); err == nil || !strings.Contains(err.Error(), "smaps line ") {
			t.Errorf("parseSmaps(%q): %v, want an error naming the line", bad, err)
		}
	}
	// This process's own mappings parse (on Linux).
	if _, err := os.Stat("/proc/self/smaps"); err == nil {
		if _, err := execMappings(); err != nil {
			t.Errorf("execMappings: %v", err)
		}
	}
}

func TestFootprintFormat(t *testing.T) {
	r := &footprintReport{SF: 0.01, HookEngine: "jit"}
	r.add("binary", "binary (this build)", 3<<20, "")
	r.add("runtime_heap", "Go heap the seven attachments added", 1<<19, "the programs and their maps")
	r.fail("binary_nohooks", "binary (-tags nohooks)", os.ErrNotExist)
	want := "Footprint, TPC-H SF 0.01, hook programs on the jit\n\n" +
		"| what | bytes | MiB |\n|---|---:|---:|\n" +
		"| binary (this build) | 3145728 | 3.00 |\n" +
		"| **Go heap the seven attachments added** | 524288 | 0.50 |\n" +
		"| binary (-tags nohooks) | not measured: file does not exist | |\n\n" +
		"- Go heap the seven attachments added: the programs and their maps\n"
	if got := r.format(); got != want {
		t.Errorf("format:\n%s\nwant:\n%s", got, want)
	}
}
