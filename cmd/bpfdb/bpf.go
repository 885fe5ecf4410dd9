package main

import (
	"bytes"
	"embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
)

//go:embed benchprogs/*.data
var benchProgs embed.FS

const bpfUsage = `usage: bpfdb bpf <command> [flags] FILE...

commands:
  run FILE           run one program once and print r0 (hex)
  test FILE...       run conformance .data files: one line per file, then
                     "N passed, M failed"; exit status 1 on any failure
  bench [FILE...]    print "NAME<TAB>MEDIAN_NS" per program: the median time
                     of one run; without files, the built-in bench programs
  disasm FILE        print the program's instructions

flags (run, test, bench):
  --engine interp|jit  execution backend (default interp)
  --budget N           instruction budget per run (default 100000000;
                       negative: unlimited)
  --prog NAME          program of an ELF object (default: its only program)
  --mem HEX            context bytes for ELF programs (run, bench)

FILE is a bpf_conformance .data file or an ELF object (clang -target bpf).
The test environment of .data files: r1 = address of a fresh writable copy of
the "-- mem" bytes (0 without them), r2 = their length; helper 1 returns
r1 + 1 and helper 5 returns r1. ELF programs get r1 = the --mem bytes, r2 =
their length, and the generic helpers (map lookup/update/delete 1-3, time 5,
log 6, random 7).
`

// cliBudget is the default budget of the command line: large enough for the
// bench programs (loop1m charges 7,000,000), small enough to stop a runaway
// loop within a second.
const cliBudget = 100_000_000

type bpfFlags struct {
	engine string
	budget int64
	prog   string
	mem    string
}

func bpfCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprint(w, bpfUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	fs := flag.NewFlagSet("bpfdb bpf "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f bpfFlags
	fs.StringVar(&f.engine, "engine", "interp", "execution backend: interp or jit")
	fs.Int64Var(&f.budget, "budget", cliBudget, "instruction budget per run (negative: unlimited)")
	fs.StringVar(&f.prog, "prog", "", "program of an ELF object")
	fs.StringVar(&f.mem, "mem", "", "context bytes (hex) for ELF programs")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if f.engine != "interp" && f.engine != "jit" {
		fmt.Fprintf(stderr, "bpfdb bpf %s: unknown engine %q (interp or jit)\n", cmd, f.engine)
		return 2
	}
	if f.engine == "jit" {
		fmt.Fprintf(stderr, "bpfdb bpf %s: the jit engine is not part of this build yet; use --engine interp\n", cmd)
		return 2
	}
	files := fs.Args()
	var err error
	switch cmd {
	case "run":
		if len(files) != 1 {
			fmt.Fprint(stderr, "usage: bpfdb bpf run [flags] FILE\n")
			return 2
		}
		err = bpfRun(files[0], f, stdout)
	case "test":
		if len(files) == 0 {
			fmt.Fprint(stderr, "usage: bpfdb bpf test [flags] FILE...\n")
			return 2
		}
		return bpfTest(files, f, stdout, stderr)
	case "bench":
		err = bpfBench(files, f, stdout)
	case "disasm":
		if len(files) != 1 {
			fmt.Fprint(stderr, "usage: bpfdb bpf disasm FILE\n")
			return 2
		}
		err = bpfDisasm(files[0], f, stdout)
	default:
		fmt.Fprintf(stderr, "bpfdb bpf: unknown command %q\n%s", cmd, bpfUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bpf %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// loaded is a program ready to run with its context.
type loaded struct {
	name string
	prog *ebpf.Program
	ctx  []byte // the run's context; copied per run for .data tests
	test *conformance.Test
}

// run runs the program once on a fresh copy of its context.
func (l *loaded) run() (uint64, error) {
	return l.prog.Run(append([]byte(nil), l.ctx...))
}

var elfMagic = []byte("\x7fELF")

// load reads a .data file or an ELF object and loads the selected programs:
// all of them when all is set, otherwise the one --prog names (or the only
// one).
func load(name string, data []byte, f bpfFlags, all bool) ([]*loaded, error) {
	if !bytes.HasPrefix(data, elfMagic) {
		t, err := conformance.Parse(name, data)
		if err != nil {
			return nil, err
		}
		p, err := conformance.Load(t, f.budget)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return []*loaded{{name: name, prog: p, ctx: t.Mem, test: t}}, nil
	}
	ctx, err := hex.DecodeString(strings.ReplaceAll(f.mem, " ", ""))
	if err != nil {
		return nil, fmt.Errorf("--mem: %w", err)
	}
	spec, err := ebpf.LoadCollectionSpec(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	names := make([]string, 0, len(spec.Programs))
	for n := range spec.Programs {
		names = append(names, n)
	}
	sort.Strings(names)
	switch {
	case f.prog != "":
		if spec.Programs[f.prog] == nil {
			return nil, fmt.Errorf("%s: no program %q (have %s)", name, f.prog, strings.Join(names, ", "))
		}
		names = []string{f.prog}
	case !all && len(names) != 1:
		return nil, fmt.Errorf("%s: %d programs (%s): choose one with --prog", name, len(names), strings.Join(names, ", "))
	}
	coll, err := ebpf.NewCollection(spec, &ebpf.CollectionOptions{Budget: f.budget})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []*loaded
	for _, n := range names {
		label := name
		if all && len(spec.Programs) > 1 {
			label = name + ":" + n
		}
		out = append(out, &loaded{name: label, prog: coll.Programs[n], ctx: ctx})
	}
	return out, nil
}

func loadFile(file string, f bpfFlags, all bool) ([]*loaded, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return load(file, data, f, all)
}

func bpfRun(file string, f bpfFlags, stdout io.Writer) error {
	progs, err := loadFile(file, f, false)
	if err != nil {
		return err
	}
	r0, err := progs[0].run()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%#x\n", r0)
	return nil
}

func bpfTest(files []string, f bpfFlags, stdout, stderr io.Writer) int {
	passed, failed := 0, 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err == nil {
			var t *conformance.Test
			t, err = conformance.Parse(file, data)
			if err == nil {
				err = conformance.Check(t, f.budget)
			}
		}
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL %s: %v\n", file, err)
			continue
		}
		passed++
		fmt.Fprintf(stdout, "PASS %s\n", file)
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func bpfBench(files []string, f bpfFlags, stdout io.Writer) error {
	var progs []*loaded
	if len(files) == 0 {
		entries, err := benchProgs.ReadDir("benchprogs")
		if err != nil {
			return err
		}
		for _, e := range entries {
			data, err := benchProgs.ReadFile(path.Join("benchprogs", e.Name()))
			if err != nil {
				return err
			}
			l, err := load(e.Name(), data, f, true)
			if err != nil {
				return err
			}
			progs = append(progs, l...)
		}
	}
	for _, file := range files {
		l, err := loadFile(file, f, true)
		if err != nil {
			return err
		}
		progs = append(progs, l...)
	}
	for _, l := range progs {
		ns, err := median(l)
		if err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
		fmt.Fprintf(stdout, "%s\t%.1f\n", l.name, ns)
	}
	return nil
}

// Benchmark shape: batches of runs long enough to time precisely, and the
// median of their per-run times.
const (
	batchTarget  = 2 * time.Millisecond
	benchBatches = 31
)

// median returns the median time of one run in ns, run by a Runner (state
// owned by the benchmark goroutine, as a worker of a pool owns it). The
// context is copied once per batch, outside the timed loop, as the bench
// programs do not change it in a way that alters later runs.
func median(l *loaded) (float64, error) {
	ctx := append([]byte(nil), l.ctx...)
	if l.test != nil && l.test.HasResult {
		r0, err := l.prog.Run(ctx)
		if err != nil {
			return 0, err
		}
		if r0 != l.test.Result {
			return 0, fmt.Errorf("result %#x, want %#x", r0, l.test.Result)
		}
	}
	r := l.prog.NewRunner()
	timeBatch := func(n int) (time.Duration, error) {
		copy(ctx, l.ctx)
		start := time.Now()
		for i := 0; i < n; i++ {
			if _, err := r.Run(ctx); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	n := 1
	for {
		d, err := timeBatch(n)
		if err != nil {
			return 0, err
		}
		if d >= batchTarget || n >= 1<<30 {
			break
		}
		n *= 2
	}
	samples := make([]float64, benchBatches)
	for i := range samples {
		d, err := timeBatch(n)
		if err != nil {
			return 0, err
		}
		samples[i] = float64(d.Nanoseconds()) / float64(n)
	}
	slices.Sort(samples)
	return samples[len(samples)/2], nil
}

func bpfDisasm(file string, f bpfFlags, stdout io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(data, elfMagic) {
		t, err := conformance.Parse(file, data)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, t.Program.String())
		return nil
	}
	spec, err := ebpf.LoadCollectionSpec(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	names := make([]string, 0, len(spec.Programs))
	for n := range spec.Programs {
		if f.prog == "" || n == f.prog {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return errors.New("no such program")
	}
	sort.Strings(names)
	for i, n := range names {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		ps := spec.Programs[n]
		fmt.Fprintf(stdout, "%s (section %s):\n%s", n, ps.Section, ps.Instructions.String())
	}
	return nil
}
