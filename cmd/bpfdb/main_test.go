package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// suiteDir is the bpf_conformance suite, outside the repository.
const suiteDir = "../../../shared/conformance/bpf_conformance"

// runCLI runs a command line in-process.
func runCLI(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// TestConformanceSuite runs every file of the suite through bpfdb bpf test:
// one PASS line per file and "313 passed, 0 failed".
func TestConformanceSuite(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(suiteDir, "*.data"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("conformance suite not found at %s (it lives in ../shared, outside the repository)", suiteDir)
	}
	// Every file passes, and every file also passes the verifier.
	for _, flags := range [][]string{nil, {"--verify"}} {
		args := append(append([]string{"bpf", "test"}, flags...), files...)
		stdout, stderr, code := runCLI(args...)
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if got, want := lines[len(lines)-1], "313 passed, 0 failed"; got != want || code != 0 || stderr != "" {
			t.Errorf("%v: final line %q, exit %d, stderr %q; want %q, exit 0, no stderr", flags, got, code, stderr, want)
		}
		if len(lines) != len(files)+1 {
			t.Fatalf("%v: %d lines for %d files", flags, len(lines), len(files))
		}
		for i, f := range files {
			if want := "PASS " + f; lines[i] != want {
				t.Errorf("%v: line %d: %q, want %q", flags, i+1, lines[i], want)
			}
		}
	}
}

// fastBench shrinks the benchmark shape for the test: one batch of runs
// lasting a microsecond or more, so a program costs a few runs.
func fastBench(t *testing.T) {
	target, batches := batchTarget, benchBatches
	batchTarget, benchBatches = time.Microsecond, 1
	t.Cleanup(func() { batchTarget, benchBatches = target, batches })
}

// benchLine is the format of bench's output: the name, a tab, the median
// in ns (a decimal number).
var benchLine = regexp.MustCompile(`^([^\t]+)\t([0-9]+(?:\.[0-9]+)?)(\tunverified)?$`)

// checkBench checks bench's output format and returns the names in order.
// It cannot check the timings; only that they are positive numbers.
func checkBench(t *testing.T, stdout string) []string {
	t.Helper()
	var names []string
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		m := benchLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("bench line %q is not NAME<TAB>NS", l)
			continue
		}
		if ns, err := strconv.ParseFloat(m[2], 64); err != nil || ns <= 0 {
			t.Errorf("bench line %q: median %q is not a positive number", l, m[2])
		}
		names = append(names, m[1])
	}
	return names
}

func TestBench(t *testing.T) {
	fastBench(t)
	start := time.Now()
	stdout, stderr, code := runCLI("bpf", "bench", "--mem", "0500000000000000"+"0200000000000000",
		"testdata/pass.data", "testdata/env.data", "../../ebpf/testdata/calls.o")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	// An ELF object with several programs gives a line per program,
	// FILE:PROG.
	want := []string{"testdata/pass.data", "testdata/env.data",
		"../../ebpf/testdata/calls.o:prog_chain", "../../ebpf/testdata/calls.o:prog_leaf", "../../ebpf/testdata/calls.o:prog_mixed"}
	if got := checkBench(t, stdout); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("bench names %q, want %q", got, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("bench of five tiny programs took %v with the test's batch shape", d)
	}

	// --prog picks one; its label still names it, as the object has
	// several. An object with one program is labelled by its file alone.
	stdout, stderr, code = runCLI("bpf", "bench", "--prog", "prog_leaf", "--mem", "0500000000000000", "../../ebpf/testdata/calls.o")
	if got := checkBench(t, stdout); code != 0 || stderr != "" || len(got) != 1 || got[0] != "../../ebpf/testdata/calls.o:prog_leaf" {
		t.Errorf("bench --prog: names %q, exit %d, stderr %q", got, code, stderr)
	}
	stdout, stderr, code = runCLI("bpf", "bench", "--mem", "01000000", "../../ebpf/testdata/globals.o")
	if got := checkBench(t, stdout); code != 0 || stderr != "" || len(got) != 1 || got[0] != "../../ebpf/testdata/globals.o" {
		t.Errorf("bench --prog: names %q, exit %d, stderr %q", got, code, stderr)
	}
}

// TestBenchBuiltin runs bench without files: the five embedded programs,
// in file name order. loop1m takes some 30ms a run, so this test runs it
// only a few times.
func TestBenchBuiltin(t *testing.T) {
	fastBench(t)
	stdout, stderr, code := runCLI("bpf", "bench")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := []string{"fnv1a64.data", "helper_call.data", "loop1m.data", "murmur64.data", "ret.data"}
	if got := checkBench(t, stdout); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("bench names %q, want %q", got, want)
	}
	// Every program is timed verified (loop1m too: the verifier widens
	// its loop); a program the verifier rejected would be timed
	// unverified, its line saying so.
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if strings.HasSuffix(l, "\tunverified") {
			t.Errorf("bench line %q: timed unverified", l)
		}
	}
}

// TestMedian checks median against programs of known relative cost:
// loop1m (a million iterations) must take longer per run than ten runs of
// ret (two instructions). (Not helper_call: under the JIT its test helper
// runs inline, a hundred iterations cost about what five entries do.) A weak check, but one that a broken batch
// count (timing nothing, or dividing by the wrong n) fails. It uses a median
// of five batches of 100µs, so one slow batch cannot flip the comparison.
func TestMedian(t *testing.T) {
	target, batches := batchTarget, benchBatches
	batchTarget, benchBatches = 100*time.Microsecond, 5
	t.Cleanup(func() { batchTarget, benchBatches = target, batches })
	ns := func(file string) float64 {
		t.Helper()
		progs, err := loadFile(file, bpfFlags{budget: cliBudget}, true)
		if err != nil {
			t.Fatal(err)
		}
		m, err := median(progs[0])
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ret, loop := ns("benchprogs/ret.data"), ns("benchprogs/loop1m.data")
	if !(ret > 0 && loop > 10*ret) {
		t.Errorf("median: ret %.1f ns, loop1m %.1f ns; want 0 < 10*ret < loop1m", ret, loop)
	}
}

// TestELFObjectsCovered checks that testdata/elf.txt runs every ELF object
// of ../../ebpf/testdata, so that a new object gets a CLI case too.
func TestELFObjectsCovered(t *testing.T) {
	objs, err := filepath.Glob("../../ebpf/testdata/*.o")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatal("no ELF objects in ../../ebpf/testdata")
	}
	script, err := os.ReadFile("testdata/elf.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if !regexp.MustCompile(`(?m)^bpfdb bpf run .*` + regexp.QuoteMeta(o) + `$`).Match(script) {
			t.Errorf("testdata/elf.txt does not run %s", o)
		}
	}
}
