package repotest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// A depPolicy says what one package may import beyond the import rules:
// which modules outside the standard library, and which packages of bpfdb.
type depPolicy struct {
	modules  []string // third-party modules its files may import
	testOnly []string // more third-party modules its tests may import
	// bpfdb lists the module packages (module-relative) its non-test files
	// may import; nil means any the import rules allow.
	bpfdb []string
}

// depPolicies are the packages with rules of their own; every other package
// imports no third-party module. Each entry says what the package's doc
// comment promises, so that the promise is checked in one place.
var depPolicies = map[string]depPolicy{
	// ELF objects are parsed by cilium/ebpf's userspace loader (RATIONALE.md).
	"ebpf": {modules: []string{"github.com/cilium/ebpf"}},
	// The instruction model and the maps stand alone.
	"ebpf/asm":  {bpfdb: []string{}},
	"ebpf/maps": {bpfdb: []string{}},
	// The encoder's tests check its bytes with a real disassembler.
	"ebpf/internal/jit/amd64": {bpfdb: []string{}, testOnly: []string{"golang.org/x/arch"}},
	// mmap and mprotect come from x/sys.
	"ebpf/internal/platform": {modules: []string{"golang.org/x/sys"}, bpfdb: []string{}},
	// The golden-file harness of the engine's tests stands alone.
	"internal/testutil/datadriven": {bpfdb: []string{}},
	// The engine's base packages, bottom up: types know nothing, vectors
	// only types, the scheduler and hashing only both.
	"internal/types":             {bpfdb: []string{}},
	"internal/vector":            {bpfdb: []string{"internal/types"}},
	"internal/vector/vectortest": {bpfdb: []string{"internal/types", "internal/vector"}},
	"internal/parallel":          {bpfdb: []string{"internal/types", "internal/vector"}},
	"internal/exec/hash":         {bpfdb: []string{"internal/types", "internal/vector"}},
	"internal/exec/expr":         {bpfdb: []string{"internal/types", "internal/vector"}},
	// COPY's data path parses into vectors and appends to tables.
	"internal/exec/load": {bpfdb: []string{"internal/types", "internal/vector", "internal/storage/table"}},
	// Operators: the scan reads storage; filter and projection only
	// evaluate expressions.
	"internal/exec/scan":    {bpfdb: []string{"internal/types", "internal/vector", "internal/parallel", "internal/storage/table"}},
	"internal/exec/filter":  {bpfdb: []string{"internal/types", "internal/vector", "internal/parallel", "internal/exec/expr"}},
	"internal/exec/project": {bpfdb: []string{"internal/types", "internal/vector", "internal/parallel", "internal/exec/expr"}},
	// The SQL front end knows nothing of the engine: the tree stands alone,
	// the parser builds only the tree.
	"internal/sql/ast":    {bpfdb: []string{}},
	"internal/sql/parser": {bpfdb: []string{"internal/sql/ast"}},
	// dbgen stands alone: it writes TPC-H data as the official generator does.
	"internal/tpch/dbgen": {bpfdb: []string{}},
	// The storage layers stack: the file knows nothing above it, the
	// buffer manager only the file.
	"internal/storage/file":   {bpfdb: []string{}},
	"internal/storage/buffer": {bpfdb: []string{"internal/storage/file"}},
	"internal/storage/table":  {bpfdb: []string{"internal/types", "internal/vector", "internal/storage/file", "internal/storage/buffer"}},
	// The wire server reads and writes the PostgreSQL protocol's messages
	// with pgx's pgproto3 and exposes its metrics with Prometheus's
	// client_golang; its tests are pgx clients and parse scrapes with
	// Prometheus's expfmt.
	"server": {modules: []string{"github.com/jackc/pgx/v5/pgproto3", "github.com/prometheus/client_golang"},
		testOnly: []string{"github.com/jackc/pgx/v5", "github.com/prometheus/common", "github.com/prometheus/client_model"}},
	// The shell's line editing and history come from x/term (RATIONALE.md).
	"cmd/bpfdb": {modules: []string{"golang.org/x/term"}},
	// The bench charts: a plotting library, in a command of its own so
	// that the bpfdb binary does not carry it and its fonts.
	"cmd/bpfdb-charts": {modules: []string{"gonum.org/v1/plot"}},
	// The hook ABI: program types for the runtime, constants from the
	// engine packages whose values it exposes.
	"ext": {bpfdb: []string{"ebpf", "internal/types", "internal/vector", "internal/storage/buffer"}},
	// The SQL engine's middle: the catalog over storage, the binder over
	// the tree and the expressions, the optimizer over plans, the join
	// over expressions and hashing, the physical planner over operators.
	"internal/catalog":   {bpfdb: []string{"internal/types", "internal/vector", "internal/sql/ast", "internal/storage/file", "internal/storage/buffer", "internal/storage/table"}},
	"internal/planner":   {bpfdb: []string{"internal/types", "internal/sql/ast", "internal/sql/parser", "internal/exec/expr", "internal/storage/table"}},
	"internal/optimizer": {bpfdb: []string{"internal/types", "internal/planner", "internal/exec/expr", "internal/storage/table"}},
	"internal/exec/join": {bpfdb: []string{"internal/types", "internal/vector", "internal/parallel", "internal/exec/expr", "internal/exec/hash", "internal/storage/buffer"}},
	"internal/exec/physical": {bpfdb: []string{"internal/types", "internal/vector", "internal/parallel", "internal/planner", "internal/storage/buffer",
		"internal/exec/aggregate", "internal/exec/collect", "internal/exec/expr", "internal/exec/filter", "internal/exec/hash",
		"internal/exec/join", "internal/exec/order", "internal/exec/project", "internal/exec/scan", "internal/exec/values"}},
	// The hash aggregate: hashing through the Hash seam, states from expr,
	// pages in the buffer manager.
	"internal/exec/aggregate": {bpfdb: []string{"internal/types", "internal/vector", "internal/parallel", "internal/exec/expr", "internal/exec/hash", "internal/storage/buffer"}},
	// Constant rows, materialized rows, and the sort over them.
	"internal/exec/values":  {bpfdb: []string{"internal/types", "internal/vector", "internal/parallel"}},
	"internal/exec/collect": {bpfdb: []string{"internal/types", "internal/vector", "internal/parallel", "internal/storage/buffer"}},
	"internal/exec/order":   {bpfdb: []string{"internal/types", "internal/vector", "internal/parallel", "internal/storage/buffer", "internal/exec/collect"}},
	// TPC-H and the SQL corpus are clients of the embedded API.
	"internal/tpch":    {bpfdb: []string{".", "internal/types"}},
	"internal/sqltest": {bpfdb: []string{".", "internal/types"}},
	// The hook sites are the one bridge between the engine's policy seams
	// and the eBPF runtime.
	"internal/hooks": {bpfdb: []string{"ebpf", "ebpf/maps", "ext", "internal/exec/hash", "internal/storage/buffer", "internal/parallel", "internal/types", "internal/vector"}},
	// The stock policies are data (ELF objects) named by hook: the package
	// needs only the ABI's hook names.
	"extensions": {bpfdb: []string{"ext"}},
	// PREVAIL's cases are YAML; only this test-data reader may parse it.
	"ebpf/internal/prevail": {modules: []string{"go.yaml.in/yaml/v3"}, bpfdb: []string{"ebpf/asm"}},
}

// isStd reports whether an import path is in the standard library: its first
// element has no dot.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// inModule reports whether path is module m or one of its packages.
func inModule(path, m string) bool { return path == m || strings.HasPrefix(path, m+"/") }

// dependencyViolations checks every file of pkgs (module path mod) against
// depPolicies.
func dependencyViolations(pkgs []*goPackage, mod string) []string {
	var out []string
	for _, pkg := range pkgs {
		pol := depPolicies[pkg.Dir]
		for _, f := range pkg.Files {
			allowed := pol.modules
			if f.Test {
				allowed = append(slices.Clip(allowed), pol.testOnly...)
			}
			for _, ip := range f.Imports {
				switch {
				case isStd(ip):
				case inModule(ip, mod):
					rel := "."
					if ip != mod {
						rel = ip[len(mod)+1:]
					}
					if !f.Test && pol.bpfdb != nil && !slices.Contains(pol.bpfdb, rel) {
						out = append(out, fmt.Sprintf("%s/%s imports %s: %s may import only %v of bpfdb", pkg.Dir, f.Name, ip, pkg.Dir, pol.bpfdb))
					}
				case !slices.ContainsFunc(allowed, func(m string) bool { return inModule(ip, m) }):
					out = append(out, fmt.Sprintf("%s/%s imports %s: not among the modules %s may use (%v); add it to depPolicies with its reason", pkg.Dir, f.Name, ip, pkg.Dir, allowed))
				}
			}
		}
	}
	return out
}

func TestDependencies(t *testing.T) {
	pkgs, mod := loadRepo(t)
	for dir := range depPolicies {
		if !slices.ContainsFunc(pkgs, func(p *goPackage) bool { return p.Dir == dir }) {
			t.Errorf("depPolicies names %s, which is not a package of the tree", dir)
		}
	}
	report(t, "imports outside a package's declared dependencies", dependencyViolations(pkgs, mod))
}

// TestDependencyPolicyCatchesViolations feeds the check a synthetic tree
// that breaks each kind of policy once.
func TestDependencyPolicyCatchesViolations(t *testing.T) {
	const mod = "github.com/bpfdb/bpfdb"
	pkgs := []*goPackage{
		{Dir: "ebpf/asm", Files: []goFile{
			{Name: "ok.go", Imports: []string{"fmt"}},
			{Name: "bad.go", Imports: []string{mod + "/ebpf/maps"}},            // asm stands alone
			{Name: "ok_test.go", Test: true, Imports: []string{mod + "/ebpf"}}, // tests may
		}},
		{Dir: "ebpf/internal/jit/amd64", Files: []goFile{
			{Name: "enc.go", Imports: []string{"golang.org/x/arch/x86/x86asm"}}, // test-only module
			{Name: "enc_test.go", Test: true, Imports: []string{"golang.org/x/arch/x86/x86asm"}},
		}},
		{Dir: "ebpf/internal/interp", Files: []goFile{
			{Name: "run.go", Imports: []string{"go.yaml.in/yaml/v3", mod + "/ebpf/asm"}}, // only prevail may
		}},
	}
	got := dependencyViolations(pkgs, mod)
	want := []string{"ebpf/asm/bad.go", "ebpf/internal/jit/amd64/enc.go ", "ebpf/internal/interp/run.go imports go.yaml.in"}
	if len(got) != len(want) {
		t.Fatalf("got %d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("violation %d = %q, want it to start with %q", i, got[i], w)
		}
	}
}
