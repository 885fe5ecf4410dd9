package main

import (
	"bytes"
	"embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
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
  run FILE           verify one program (against the test type), run it
                     once and print r0 (hex); a program the verifier
                     rejects does not run: exit status 1 with the
                     verifier's log (--verify=false runs it unverified)
  test FILE...       run conformance .data files: one line per file, then
                     "N passed, M failed"; exit status 1 on any failure
  bench [FILE...]    print "NAME<TAB>MEDIAN_NS" per program: the median time
                     of one run; without files, the built-in bench programs.
                     Programs run verified; one the verifier rejects runs
                     unverified and its line ends in "<TAB>unverified"
  disasm [--prog NAME] FILE
                     print the program's instructions (an ELF object's: all
                     of its programs, or the one --prog names)
  verify [--type test] [--prog NAME] [--mem HEX] FILE
                     run the static verifier; exit status 0 when every
                     program is accepted, 1 with the verifier's log otherwise.
                     The test type: r1 points to the -- mem bytes (ELF: the
                     --mem bytes), r2 holds their length

flags (run, test, bench):
  --verify             run: verify the program (against the test type)
                       before it runs (default true; --verify=false loads
                       it unverified: the run-time checks alone then
                       guard the run); test: also require each
                       file to pass the verifier (default false)
  --engine auto|interp|jit
                       execution backend (default auto: the JIT where it
                       is supported, amd64; the interpreter elsewhere)
  --budget N           instruction budget per run (default 100000000;
                       0: the runtime's default, 1000000; negative:
                       unlimited)
  --prog NAME          program of an ELF object (run: needed when it has
                       several; bench: default all of them)
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

// bpfSynopsis is the one-line usage of each bpf command.
var bpfSynopsis = map[string]string{
	"run":    "bpfdb bpf run [flags] FILE",
	"test":   "bpfdb bpf test [flags] FILE...",
	"bench":  "bpfdb bpf bench [flags] [FILE...]",
	"disasm": "bpfdb bpf disasm [--prog NAME] FILE",
	"verify": "bpfdb bpf verify [--type test] [--prog NAME] [--mem HEX] FILE",
}

type bpfFlags struct {
	engine string
	eng    ebpf.Engine // engine parsed
	budget int64
	prog   string
	typ    string // program type for verify
	verify bool   // verify before running (run: default on; test: --verify; bench: on, off for programs the verifier rejects); false loads Unverified
	mem    string // as given
	ctx    []byte // mem decoded
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
	synopsis, ok := bpfSynopsis[cmd]
	if !ok {
		fmt.Fprintf(stderr, "bpfdb bpf: unknown command %q: want run, test, bench, disasm or verify (bpfdb bpf help)\n", cmd)
		return 2
	}
	usageError := func() int {
		fmt.Fprintf(stderr, "usage: %s\n", synopsis)
		return 2
	}
	fset := flag.NewFlagSet("bpfdb bpf "+cmd, flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		usageError()
		fset.PrintDefaults()
	}
	f := bpfFlags{engine: "auto", budget: cliBudget}
	switch cmd {
	case "disasm": // runs nothing
	case "verify": // runs nothing, but the context size matters
		fset.StringVar(&f.mem, "mem", "", "context bytes (hex) for ELF programs: their length is the test type's region size")
		fset.StringVar(&f.typ, "type", "test", "program type to verify against (test)")
	default:
		switch cmd {
		case "run":
			fset.BoolVar(&f.verify, "verify", true, "verify the program against the test type before running it (false: run it unverified)")
		case "test":
			fset.BoolVar(&f.verify, "verify", false, "also require each file to pass the verifier")
		}
		fset.StringVar(&f.engine, "engine", f.engine, "execution backend: auto, interp or jit")
		fset.Int64Var(&f.budget, "budget", f.budget, "instruction budget per run (0: the runtime's default; negative: unlimited)")
		fset.StringVar(&f.mem, "mem", "", "context bytes (hex) for ELF programs")
	}
	fset.StringVar(&f.prog, "prog", "", "program of an ELF object")
	if err := fset.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) { // -h: usage was asked for
			return 0
		}
		return 2
	}
	switch f.engine {
	case "auto":
		f.eng = ebpf.EngineAuto
	case "interp":
		f.eng = ebpf.EngineInterpreter
	case "jit":
		if !ebpf.JITSupported() {
			fmt.Fprintf(stderr, "bpfdb bpf %s: the jit engine is not available on %s/%s; use --engine interp\n", cmd, runtime.GOOS, runtime.GOARCH)
			return 2
		}
		f.eng = ebpf.EngineJIT
	default:
		fmt.Fprintf(stderr, "bpfdb bpf %s: unknown engine %q (auto, interp or jit)\n", cmd, f.engine)
		return 2
	}
	ctx, err := hex.DecodeString(strings.ReplaceAll(f.mem, " ", ""))
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bpf %s: --mem %q: want hex bytes such as 01020304: %v\n", cmd, f.mem, err)
		return 2
	}
	f.ctx = ctx
	files := fset.Args()
	switch cmd {
	case "run":
		if len(files) != 1 {
			return usageError()
		}
		err = bpfRun(files[0], f, stdout)
	case "test":
		if len(files) == 0 {
			return usageError()
		}
		return bpfTest(files, f, stdout)
	case "bench":
		err = bpfBench(files, f, stdout)
	case "disasm":
		if len(files) != 1 {
			return usageError()
		}
		err = bpfDisasm(files[0], f, stdout)
	case "verify":
		if len(files) != 1 {
			return usageError()
		}
		if f.typ != "test" {
			fmt.Fprintf(stderr, "bpfdb bpf verify: unknown program type %q (known: test; the hooks' types come with the engine)\n", f.typ)
			return 2
		}
		var rejected bool
		rejected, err = bpfVerify(files[0], f, stdout)
		if err == nil && rejected {
			return 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb bpf %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// loaded is a program ready to run with its context.
type loaded struct {
	name string // bench label: the file, or FILE:PROG for one of several ELF programs
	file string
	elf  string // the ELF program's name; "" for a .data file
	prog *ebpf.Program
	ctx  []byte // the run's context; copied per run for .data tests
	test *conformance.Test
	// unverified: loaded without the verifier (bench: it was rejected).
	unverified bool
}

// run runs the program once on a fresh copy of its context.
func (l *loaded) run() (uint64, error) {
	return l.prog.Run(append([]byte(nil), l.ctx...))
}

// runError puts a failed run in the user's terms: the file (and the ELF
// program), and for the two usual mistakes the flag to change.
func (l *loaded) runError(err error, f bpfFlags) error {
	switch {
	case errors.Is(err, ebpf.ErrBudget):
		err = fmt.Errorf("%w (--budget %d)", err, f.budget)
	case errors.Is(err, ebpf.ErrMemory) && l.test == nil && len(l.ctx) == 0:
		err = fmt.Errorf("%w (no --mem: the context is empty and r1 is 0)", err)
	}
	if l.elf != "" {
		return fmt.Errorf("%s: program %s: %w", l.file, l.elf, err)
	}
	return fmt.Errorf("%s: %w", l.file, err)
}

var elfMagic = []byte("\x7fELF")

// isELF tells an ELF object from a .data file: by its magic, or by a .o
// name, so that a damaged object gets the ELF loader's error rather than
// the .data parser's.
func isELF(name string, data []byte) bool {
	return bytes.HasPrefix(data, elfMagic) || strings.HasSuffix(name, ".o")
}

// load reads a .data file or an ELF object and loads the selected programs:
// all of them when all is set, otherwise the one --prog names (or the only
// one).
func load(name string, data []byte, f bpfFlags, all bool) ([]*loaded, error) {
	if !isELF(name, data) {
		t, err := conformance.Parse(name, data)
		if err != nil {
			return nil, err
		}
		p, err := conformance.LoadWith(t, ebpf.ProgramOptions{Budget: f.budget, Unverified: !f.verify, Engine: f.eng})
		if err != nil {
			return nil, loadError(name, err)
		}
		return []*loaded{{name: name, file: name, prog: p, ctx: t.Mem, test: t}}, nil
	}
	spec, err := loadSpec(name, data)
	if err != nil {
		return nil, err
	}
	names, err := selectPrograms(name, spec, f.prog, all)
	if err != nil {
		return nil, err
	}
	// The object's maps, then only the selected programs, one by one so
	// that a rejection names its program: the others were not verified
	// against this context and are not run.
	coll, err := ebpf.NewCollection(&ebpf.CollectionSpec{Maps: spec.Maps}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	helpers := ebpf.DefaultHelpers()
	var out []*loaded
	for _, n := range names {
		p, err := ebpf.NewProgram(spec.Programs[n], &ebpf.ProgramOptions{Helpers: helpers, Maps: coll.Maps, Budget: f.budget,
			Type: elfVerifyOptions(spec, f).Type, Unverified: !f.verify, Engine: f.eng})
		if err != nil {
			return nil, loadError(name+": program "+n, err)
		}
		label := name
		if all && len(spec.Programs) > 1 {
			label = name + ":" + n
		}
		out = append(out, &loaded{name: label, file: name, elf: n, prog: p, ctx: f.ctx})
	}
	return out, nil
}

// loadError names what failed to load. A verifier rejection says so, how
// to run the program anyway, and is followed by the verifier's log.
func loadError(label string, err error) error {
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		return fmt.Errorf("%s: %w", label, err)
	}
	return &rejection{label: label, err: err, ve: ve}
}

// rejection is a program the verifier refused to load.
type rejection struct {
	label string
	err   error // NewProgram's error
	ve    *ebpf.VerifierError
}

func (r *rejection) Error() string {
	return fmt.Sprintf("%s: rejected by the verifier: %v (--verify=false runs it unverified)\n%s",
		r.label, r.ve, strings.TrimSuffix(r.ve.Log, "\n"))
}

func (r *rejection) Unwrap() error { return r.err }

// loadSpec parses an ELF object; a .o file without the ELF magic is
// reported as such rather than as whatever the parser trips over first.
func loadSpec(name string, data []byte) (*ebpf.CollectionSpec, error) {
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("%s: empty file, not an ELF object", name)
	case !bytes.HasPrefix(data, elfMagic):
		return nil, fmt.Errorf("%s: not an ELF object (it does not start with 7f 45 4c 46, \"\\x7fELF\")", name)
	}
	spec, err := ebpf.LoadCollectionSpec(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return spec, nil
}

// selectPrograms returns the sorted names of the object's programs that
// prog selects: the one it names, or else all of them when all is set, or
// else the only one.
func selectPrograms(file string, spec *ebpf.CollectionSpec, prog string, all bool) ([]string, error) {
	names := make([]string, 0, len(spec.Programs))
	for n := range spec.Programs {
		names = append(names, n)
	}
	sort.Strings(names)
	switch {
	case prog != "":
		if spec.Programs[prog] == nil {
			return nil, fmt.Errorf("%s: no program %q (have %s)", file, prog, strings.Join(names, ", "))
		}
		return []string{prog}, nil
	case len(names) == 0:
		return nil, fmt.Errorf("%s: no programs", file)
	case !all && len(names) != 1:
		return nil, fmt.Errorf("%s: %d programs (%s): choose one with --prog", file, len(names), strings.Join(names, ", "))
	}
	return names, nil
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
		return progs[0].runError(err, f)
	}
	fmt.Fprintf(stdout, "%#x\n", r0)
	return nil
}

func bpfTest(files []string, f bpfFlags, stdout io.Writer) int {
	passed, failed := 0, 0
	for _, file := range files {
		if err := testFile(file, f); err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL %v\n", err)
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

// testFile runs one conformance file; its error starts with the file name.
func testFile(file string, f bpfFlags) error {
	data, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	if isELF(file, data) {
		return fmt.Errorf("%s: an ELF object: bpf test runs .data files (try bpf run)", file)
	}
	t, err := conformance.Parse(file, data)
	if err != nil {
		return err // already names the file
	}
	if err := conformance.CheckWith(t, ebpf.ProgramOptions{Budget: f.budget, Unverified: !f.verify, Engine: f.eng}); err != nil {
		var ve *ebpf.VerifierError
		switch {
		case errors.As(err, &ve):
			// One line per file: the reason, not the log.
			return fmt.Errorf("%s: rejected by the verifier: %v (bpf verify prints the log)", file, ve)
		case errors.Is(err, ebpf.ErrBudget):
			err = fmt.Errorf("%w (--budget %d)", err, f.budget)
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
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
			l, err := benchLoad(f, func(f bpfFlags) ([]*loaded, error) { return load(e.Name(), data, f, true) })
			if err != nil {
				return err
			}
			progs = append(progs, l...)
		}
	}
	for _, file := range files {
		l, err := benchLoad(f, func(f bpfFlags) ([]*loaded, error) { return loadFile(file, f, true) })
		if err != nil {
			return err
		}
		progs = append(progs, l...)
	}
	for _, l := range progs {
		ns, err := median(l)
		if err != nil {
			return l.runError(err, f)
		}
		note := ""
		if l.unverified {
			note = "\tunverified"
		}
		fmt.Fprintf(stdout, "%s\t%.1f%s\n", l.name, ns, note)
	}
	return nil
}

// benchLoad loads programs to time as they would run in production:
// verified, so that the accesses the verifier proved run without checks.
// A program the verifier rejects (loop1m: more iterations than it
// explores) is timed unverified, and its line says so.
func benchLoad(f bpfFlags, load func(bpfFlags) ([]*loaded, error)) ([]*loaded, error) {
	f.verify = true
	l, err := load(f)
	var rj *rejection
	if !errors.As(err, &rj) {
		return l, err
	}
	f.verify = false
	l, err = load(f)
	for _, x := range l {
		x.unverified = true
	}
	return l, err
}

// Benchmark shape: batches of runs long enough to time precisely, and the
// median of their per-run times. They are variables only so that the tests
// can shrink them (a bench test then takes microseconds, not 70ms, per
// program); the command never changes them.
var (
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
	if !isELF(file, data) {
		t, err := conformance.Parse(file, data)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, t.Program.String())
		return nil
	}
	spec, err := loadSpec(file, data)
	if err != nil {
		return err
	}
	names, err := selectPrograms(file, spec, f.prog, true)
	if err != nil {
		return err
	}
	for i, n := range names {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		ps := spec.Programs[n]
		fmt.Fprintf(stdout, "%s (section %s):\n%s", n, ps.Section, ps.Instructions.String())
	}
	return nil
}

// bpfVerify verifies the programs of a .data file (against the test type
// sized by its -- mem section, with the test helpers) or of an ELF object
// (against the test type sized by --mem, with the generic helpers), prints
// one verdict per program and the log of each rejection, and reports
// whether any program was rejected.
func bpfVerify(file string, f bpfFlags, stdout io.Writer) (rejected bool, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return false, err
	}
	type job struct {
		label string
		spec  *ebpf.ProgramSpec
		opts  *ebpf.VerifyOptions
	}
	var jobs []job
	if !isELF(file, data) {
		t, err := conformance.Parse(file, data)
		if err != nil {
			return false, err
		}
		jobs = append(jobs, job{file, &ebpf.ProgramSpec{Name: t.Name, Instructions: t.Program}, dataVerifyOptions(t)})
	} else {
		spec, err := loadSpec(file, data)
		if err != nil {
			return false, err
		}
		names, err := selectPrograms(file, spec, f.prog, true)
		if err != nil {
			return false, err
		}
		for _, n := range names {
			label := file
			if len(spec.Programs) > 1 {
				label = file + ":" + n
			}
			jobs = append(jobs, job{label, spec.Programs[n], elfVerifyOptions(spec, f)})
		}
	}
	for _, j := range jobs {
		res, err := ebpf.Verify(j.spec, j.opts)
		var ve *ebpf.VerifierError
		switch {
		case errors.As(err, &ve):
			rejected = true
			fmt.Fprintf(stdout, "%s: rejected: %v\n%s", j.label, err, ve.Log)
			if !strings.HasSuffix(ve.Log, "\n") {
				fmt.Fprintln(stdout)
			}
		case err != nil:
			return rejected, fmt.Errorf("%s: %w", j.label, err)
		default:
			fmt.Fprintf(stdout, "%s: accepted (%d instructions processed, %d states stored)\n", j.label, res.Processed, res.States)
		}
	}
	return rejected, nil
}

// dataVerifyOptions verify a .data file's program as its test environment
// runs it: the test type sized by its memory, the test helpers.
func dataVerifyOptions(t *conformance.Test) *ebpf.VerifyOptions {
	return &ebpf.VerifyOptions{Type: ebpf.TestProgramType(len(t.Mem)), Helpers: conformance.TestHelpers()}
}

// elfVerifyOptions verify an ELF program as run and bench run it: the test
// type sized by --mem, the generic helpers, the object's maps.
func elfVerifyOptions(spec *ebpf.CollectionSpec, f bpfFlags) *ebpf.VerifyOptions {
	return &ebpf.VerifyOptions{Type: ebpf.TestProgramType(len(f.ctx)), Maps: spec.Maps}
}
