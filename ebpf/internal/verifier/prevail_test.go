package verifier_test

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/prevail"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// prevailDir holds PREVAIL's labelled verifier cases, part of ../shared
// outside the repository.
const prevailDir = "../../../../shared/verifier/prevail"

// Limits for one case: far above what any accepted case needs (the largest
// processes about 150 instructions), low enough that a loop bpfdb cannot
// widen, and so unrolls, fails fast.
const (
	prevailMaxSteps  = 20_000
	prevailMaxStates = 2_000
)

// prevailMap is the one map of PREVAIL's test harness (see package prevail):
// 4-byte keys and values, 4 entries. Every map_fd N names it.
var prevailMap = &maps.Spec{
	Name:       "prevail",
	Type:       maps.Array,
	KeySize:    prevail.MapKeySize,
	ValueSize:  prevail.MapValueSize,
	MaxEntries: prevail.MapMaxEntries,
}

// prevailContext is PREVAIL's 64-byte harness context as far as a
// core.Context can say it. PREVAIL's bytes [0,4) and [4,8) are 4-byte packet
// pointer slots (data, data_end) that a load turns into a packet pointer;
// core fields can only be 8-byte pointers to fixed-size regions, so they are
// left undeclared (inaccessible). PREVAIL's other bytes are scalars readable
// and writable at any offset and width; core fields are accessed only at
// their exact offset and size, so they are declared as seven writable
// 8-byte scalar fields, the widest choice.
var prevailContext = core.Context{
	Size: prevail.ContextSize,
	Fields: func() []core.Field {
		var fs []core.Field
		for off := 8; off < prevail.ContextSize; off += 8 {
			fs = append(fs, core.Field{Name: fmt.Sprintf("f%d", off), Offset: off, Size: 8, Writable: true})
		}
		return fs
	}(),
}

// prevailSetup is the verifier configuration of one case and what its pre
// constraints say that the configuration cannot.
type prevailSetup struct {
	cfg verifier.Config
	// unmapped names, one per kind, the parts of the entry state that
	// neither the program type nor Config.Entry can express ("initial
	// stack contents", ...).
	unmapped []string
}

// prevailConfig maps a case's pre constraints onto a configuration: every
// register r0..r9 that pre describes becomes a Config.Entry register (one
// pre leaves undescribed is uninitialized, r1 included, as in PREVAIL), a
// shared region becomes a region of the program type, and the exit
// appended for an implicit exit is unchecked. A register whose constraints
// cannot be expressed is declared uninitialized, so that bpfdb knows less
// than PREVAIL, never more.
func prevailConfig(c *prevail.Case, helpers map[int32]core.Prototype) prevailSetup {
	typ := &core.ProgramType{
		Name:    "prevail",
		Context: prevailContext,
		Return:  core.Return{Any: true}, // PREVAIL's exit only requires a number in r0
	}
	var s prevailSetup
	miss := func(format string, args ...any) {
		m := fmt.Sprintf(format, args...)
		if !slices.Contains(s.unmapped, m) {
			s.unmapped = append(s.unmapped, m)
		}
	}
	byReg := map[int][]prevail.Constraint{}
	for _, con := range c.PreConstraints {
		switch con.Var.Kind {
		case prevail.VarStack:
			miss("initial stack contents")
		case prevail.VarGlobal:
			miss("packet size and meta offset")
		case prevail.VarRegister:
			byReg[con.Var.Reg] = append(byReg[con.Var.Reg], con)
		}
	}
	// PREVAIL's stack offsets count from the bottom of its stack; r10 is
	// at StackSize unless pre puts it elsewhere (some cases use 4096, the
	// total of its call frames). Entry's count from r10.
	frame := int64(core.StackSize)
	for _, con := range byReg[10] {
		if con.Var.Field == "stack_offset" && con.Kind == prevail.ValueNumber && con.Lo != nil && con.Hi != nil && con.Lo.Cmp(con.Hi) == 0 && con.Lo.IsInt64() {
			frame = con.Lo.Int64()
		}
	}
	var entry []verifier.EntryRegister
	for reg := 0; reg <= 10; reg++ {
		if len(byReg[reg]) == 0 {
			if reg == 1 {
				// A core.ProgramType makes r1 the context; PREVAIL
				// starts it uninitialized when pre says nothing of it.
				entry = append(entry, verifier.EntryRegister{Reg: asm.R1, Kind: verifier.EntryUninit})
			}
			continue
		}
		m := prevailRegister(reg, byReg, frame)
		for _, p := range m.problems {
			miss("%s", p)
		}
		if reg == 10 {
			continue // the frame pointer, which Entry cannot set
		}
		if m.region != nil {
			m.entry.Index = len(typ.Regions)
			typ.Regions = append(typ.Regions, *m.region)
		}
		entry = append(entry, m.entry)
	}
	s.cfg = verifier.Config{
		Type:      typ,
		Maps:      []*maps.Spec{prevailMap, prevailMap}, // map_fd 0 and 1 name it; map_by_idx(99) is out of range
		Helpers:   helpers,
		MaxSteps:  prevailMaxSteps,
		MaxStates: prevailMaxStates,
		Entry:     entry,
	}
	if c.ImplicitExit {
		s.cfg.UncheckedExits = map[int]bool{c.Program.Slots() - 1: true}
	}
	return s
}

// prevailMapping is how one register's pre constraints are declared.
type prevailMapping struct {
	entry    verifier.EntryRegister // EntryUninit if they cannot be expressed
	region   *core.RegionSpec       // the shared region it points into, if any
	problems []string               // what of them Entry cannot express
}

// prevailRegister maps the pre constraints on register reg (r0..r10;
// byReg holds those of every register, for the relations between them;
// frame is r10's PREVAIL stack offset). For r10, only the problems
// matter: it is the frame pointer.
func prevailRegister(reg int, byReg map[int][]prevail.Constraint, frame int64) prevailMapping {
	m := prevailMapping{entry: verifier.EntryRegister{Reg: asm.Register(reg), Kind: verifier.EntryUninit}}
	fail := func(problem string) prevailMapping {
		m.entry.Kind, m.region = verifier.EntryUninit, nil
		m.problems = append(m.problems, problem)
		return m
	}
	var types []string
	offsets := map[string]*prevail.Constraint{} // ctx_offset, stack_offset, ...
	var regionSize *prevail.Constraint
	for i := range byReg[reg] {
		con := &byReg[reg][i]
		switch f := con.Var.Field; {
		case f == "type":
			if con.Kind != prevail.ValueTypes {
				return fail("type relations between registers")
			}
			types = con.Types
		case f == "svalue" || f == "uvalue":
			// Read by prevailNumber when the register is a number.
		case f == "stack_numeric_size":
			// Says that stack bytes at the pointer hold numbers:
			// stack contents. Without it they are uninitialized.
			m.problems = append(m.problems, "initial stack contents")
		case f == "map_fd" || f == "map_fd_programs":
			// Every map_fd N names the one map.
		case strings.HasSuffix(f, "_offset"):
			offsets[f] = con
		case f == "shared_region_size":
			regionSize = con
		default:
			return fail(fmt.Sprintf("register field %s", f))
		}
	}
	switch len(types) {
	case 0:
		return fail("registers of unknown type")
	case 1:
	default:
		return fail("registers of several possible types")
	}
	// offset returns the constant-bounded interval of a pointer offset.
	offset := func(field string) (lo, hi int64, ok bool) {
		con := offsets[field]
		if con == nil || con.Kind != prevail.ValueNumber || con.Lo == nil || con.Hi == nil || !con.Lo.IsInt64() || !con.Hi.IsInt64() {
			return 0, 0, false
		}
		return con.Lo.Int64(), con.Hi.Int64(), true
	}
	switch typ := types[0]; typ {
	case "number":
		lo, hi, problems := prevailNumber(reg, byReg, 0)
		m.problems = append(m.problems, problems...)
		if lo > hi {
			return fail("numbers with an empty range")
		}
		m.entry.Kind, m.entry.Min, m.entry.Max = verifier.EntryScalar, lo, hi
	case "ctx":
		lo, hi, ok := offset("ctx_offset")
		if !ok {
			return fail("context pointers without a constant-bounded offset")
		}
		m.entry.Kind, m.entry.Min, m.entry.Max = verifier.EntryContext, lo, hi
	case "stack":
		lo, hi, ok := offset("stack_offset")
		if !ok {
			return fail("stack pointers without a constant-bounded offset")
		}
		if reg == 10 {
			if lo != hi {
				return fail("r10 other than the frame pointer")
			}
			return m
		}
		m.entry.Kind, m.entry.Min, m.entry.Max = verifier.EntryStack, lo-frame, hi-frame
	case "shared":
		lo, hi, ok := offset("shared_offset")
		if !ok {
			return fail("shared-region pointers without a constant-bounded offset")
		}
		// A shared pointer's svalue is its address: a range with 0 in it
		// is a pointer that may be null, which Entry cannot say.
		switch nlo, given := prevailAddress(byReg[reg]); {
		case !given:
			m.problems = append(m.problems, "shared-region pointers that pre does not say are non-null (declared non-null)")
		case nlo <= 0:
			return fail("possibly-null shared-region pointers")
		}
		if regionSize == nil || regionSize.Kind != prevail.ValueNumber || regionSize.Lo == nil || regionSize.Hi == nil ||
			regionSize.Lo.Cmp(regionSize.Hi) != 0 || !regionSize.Lo.IsInt64() || regionSize.Lo.Int64() > math.MaxInt32 {
			return fail("shared regions of symbolic size")
		}
		m.region = &core.RegionSpec{Name: fmt.Sprintf("shared%d", reg), Size: int(regionSize.Lo.Int64()), Writable: true}
		m.entry.Kind, m.entry.Min, m.entry.Max = verifier.EntryRegion, lo, hi
	case "map_fd":
		m.entry.Kind = verifier.EntryMapHandle // Index 0: every map_fd N names the one map
	case "packet":
		return fail("packet pointers (regions of symbolic size)")
	case "map_fd_programs":
		return fail("program-array map handles")
	default:
		return fail(fmt.Sprintf("%s pointers", typ))
	}
	if reg == 10 {
		return fail("r10 other than the frame pointer")
	}
	return m
}

// prevailAddress returns the lower bound of a pointer's address (its
// svalue and uvalue constraints), and whether pre gives one.
func prevailAddress(cons []prevail.Constraint) (lo int64, given bool) {
	lo = math.MinInt64
	for _, con := range cons {
		if (con.Var.Field == "svalue" || con.Var.Field == "uvalue") && con.Kind == prevail.ValueNumber && con.Lo != nil {
			given = true
			if con.Lo.IsInt64() {
				lo = max(lo, con.Lo.Int64())
			} else if con.Lo.Sign() > 0 {
				lo = math.MaxInt64
			}
		}
	}
	return lo, given
}

// prevailNumber returns the signed range of number register reg from its
// svalue and uvalue constraints. An equality with another register's value
// (r2.svalue=r1.svalue) gives it that register's range, which is less than
// PREVAIL knows: problems then says so. depth bounds chains of equalities.
func prevailNumber(reg int, byReg map[int][]prevail.Constraint, depth int) (lo, hi int64, problems []string) {
	var svalue, uvalue *prevail.Constraint
	// same says that svalue = uvalue: the value is in [0, 2^63).
	same := false
	type other struct {
		reg         int
		nonNegative bool
	}
	var others []other
	for i := range byReg[reg] {
		con := &byReg[reg][i]
		f := con.Var.Field
		if f != "svalue" && f != "uvalue" {
			continue
		}
		switch con.Kind {
		case prevail.ValueNumber:
			if f == "svalue" {
				svalue = con
			} else {
				uvalue = con
			}
		case prevail.ValueVar:
			o := con.Other
			switch {
			case o.Kind != prevail.VarRegister || (o.Field != "svalue" && o.Field != "uvalue"):
				problems = append(problems, "relations with non-register variables")
			case o.Reg == reg && o.Field != f:
				same = true
			case o.Reg != reg:
				others = append(others, other{o.Reg, o.Field != f})
			}
		}
	}
	lo, hi, exact := prevailRange(svalue, uvalue)
	if same {
		lo = max(lo, 0)
	}
	if !exact {
		// Less than PREVAIL knows, but still a number.
		problems = append(problems, "number ranges that are not one signed interval (declared as an enclosing one)")
	}
	for _, o := range others {
		problems = append(problems, "equalities between registers (declared as the other's range)")
		if depth > 10 {
			continue
		}
		// The same 64 bits; when one side is svalue and the other
		// uvalue, a number in [0, 2^63).
		olo, ohi, _ := prevailNumber(o.reg, byReg, depth+1)
		lo, hi = max(lo, olo), min(hi, ohi)
		if o.nonNegative {
			lo = max(lo, 0)
		}
	}
	return lo, hi, problems
}

// prevailRange intersects a number's svalue and uvalue intervals into one
// signed interval. exact is false when the intersection is not one signed
// interval (a uvalue range that crosses 2^63); lo and hi then enclose it.
func prevailRange(svalue, uvalue *prevail.Constraint) (lo, hi int64, exact bool) {
	lo, hi, exact = math.MinInt64, math.MaxInt64, true
	if svalue != nil {
		if svalue.Lo != nil {
			if !svalue.Lo.IsInt64() {
				return math.MinInt64, math.MaxInt64, false
			}
			lo = svalue.Lo.Int64()
		}
		if svalue.Hi != nil {
			if !svalue.Hi.IsInt64() {
				return math.MinInt64, math.MaxInt64, false
			}
			hi = svalue.Hi.Int64()
		}
	}
	if uvalue == nil {
		return lo, hi, exact
	}
	two63 := new(big.Int).Lsh(big.NewInt(1), 63)
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	ulo, uhi := big.NewInt(0), new(big.Int).Sub(two64, big.NewInt(1))
	if uvalue.Lo != nil {
		ulo = uvalue.Lo
	}
	if uvalue.Hi != nil {
		uhi = uvalue.Hi
	}
	switch {
	case uhi.Cmp(two63) < 0: // below 2^63: the same values as signed
		lo, hi = max(lo, ulo.Int64()), min(hi, uhi.Int64())
	case ulo.Cmp(two63) >= 0: // from 2^63: negative as signed
		lo, hi = max(lo, new(big.Int).Sub(ulo, two64).Int64()), min(hi, new(big.Int).Sub(uhi, two64).Int64())
	case ulo.Sign() != 0 || new(big.Int).Add(uhi, big.NewInt(1)).Cmp(two64) != 0:
		// Crosses 2^63 without being everything: as signed values, two
		// intervals. Keep svalue's.
		exact = false
	}
	return lo, hi, exact
}

// prevailRelaxed returns the case's program rewritten so that bpfdb's
// verifier gives PREVAIL's meaning to assume, which it has no option for,
// or nil if the case has no assume (or has bpf-to-bpf calls, where a sink
// would be in the wrong function): an assume (`if COND goto +0`) becomes a
// jump to a final `r0 = 0; exit` when COND does not hold, which ends those
// paths. Slots do not move, so the appended exit of an implicit exit stays
// unchecked. It serves only to classify disagreements, never as the
// verdict.
func prevailRelaxed(c *prevail.Case) asm.Instructions {
	if len(c.Assumes) == 0 || slices.ContainsFunc(c.Program, asm.Instruction.IsLocalCall) {
		return nil
	}
	prog := slices.Clone(c.Program)
	slots := prog.SlotIndex()
	sink := prog.Slots()
	for _, a := range c.Assumes {
		ins := &prog[a.Index]
		if !a.Negated {
			op, ok := negateJump(ins.OpCode.JumpOp())
			if !ok {
				continue
			}
			ins.OpCode = ins.OpCode&^0xf0 | asm.OpCode(op)
		}
		ins.Offset = int16(sink - slots[a.Index] - 1)
	}
	zero := asm.Instruction{OpCode: asm.ALUOpCode(asm.ClassALU64, asm.Mov, asm.SourceImm), Dst: asm.R0}
	return append(prog, zero, asm.Instruction{OpCode: asm.OpExit})
}

// negateJump returns the condition that holds exactly when op's does not.
func negateJump(op asm.JumpOp) (asm.JumpOp, bool) {
	switch op {
	case asm.JEq:
		return asm.JNE, true
	case asm.JNE:
		return asm.JEq, true
	case asm.JGT:
		return asm.JLE, true
	case asm.JLE:
		return asm.JGT, true
	case asm.JGE:
		return asm.JLT, true
	case asm.JLT:
		return asm.JGE, true
	case asm.JSGT:
		return asm.JSLE, true
	case asm.JSLE:
		return asm.JSGT, true
	case asm.JSGE:
		return asm.JSLT, true
	case asm.JSLT:
		return asm.JSGE, true
	}
	return 0, false // jset has no negation
}

// prevailResult is bpfdb's verdict on one case, on the program as
// translated and on prevailRelaxed's rewrite of it.
type prevailResult struct {
	c     *prevail.Case
	name  string // "FILE: CASE", with " #N" for the Nth case of a name in a file
	setup prevailSetup
	err   error // the verdict: Verify on the program as translated
	steps int   // instructions processed by the verdict's exploration
	// assumeErr is Verify on the relaxed program (err where the rewrite
	// changes nothing).
	assumeErr error
}

func (r *prevailResult) key() string { return r.name }

// agrees reports whether err, as a verdict, matches PREVAIL's.
func (r *prevailResult) agrees(err error) bool { return (err != nil) == r.c.ExpectReject }

// Categories of disagreement. The first four are found mechanically by
// prevailMechanical; the others are assigned by reading the case.
const (
	catAssume      = "assume"             // agrees if assumes end the paths where they fail
	catDivZero     = "division-by-zero"   // PREVAIL's !allow_division_by_zero: x/0 is an error, not 0
	catUnreachable = "unreachable-notice" // PREVAIL's only messages say code became unreachable
	catHarness     = "harness"            // the case expects PREVAIL's harness to throw: no verdict
	catInexpress   = "inexpressible"      // the entry state or harness cannot be said with the program type and Config.Entry
	catHelper      = "helper"             // a Linux helper bpfdb has no prototype for
	catStricter    = "stricter"           // bpfdb rejects on purpose what PREVAIL accepts
	catLaxer       = "laxer"              // bpfdb accepts on purpose what PREVAIL rejects for a property that is not memory safety
	catPrecise     = "more-precise"       // bpfdb proves safe what PREVAIL's abstraction loses
	catGap         = "gap"                // bpfdb rejects safe code it could prove safe
	catUnsound     = "unsound?"           // bpfdb accepts what PREVAIL rejects for a safety reason
	catUnclassed   = "unclassified"       // written by -rewrite for a new disagreement
)

var prevailCategories = []string{catAssume, catDivZero, catUnreachable, catHarness, catInexpress, catHelper, catStricter, catLaxer, catPrecise, catGap, catUnsound}

// mechanicalReasons are the reasons of the mechanical categories.
var mechanicalReasons = map[string]string{
	catAssume:      "assume is a no-op branch to bpfdb (Config has no option to honour it); PREVAIL ends the paths where it fails",
	catDivZero:     "PREVAIL's option !allow_division_by_zero rejects a divisor that may be 0; eBPF defines x/0 as 0 and x%0 as x, and bpfdb follows it",
	catUnreachable: "PREVAIL reports code made dead by a branch or assume; bpfdb does not treat dead code on a path as an error",
	catHarness:     "no verdict: PREVAIL's harness is expected to throw on a malformed observe entry before verifying",
}

// prevailMechanical returns the mechanical category of a disagreement, or
// "" if it has none.
func prevailMechanical(r *prevailResult) string {
	switch {
	case r.agrees(r.err):
		return ""
	case r.c.ExpectedException != "":
		return catHarness
	case r.agrees(r.assumeErr):
		return catAssume
	case r.c.ExpectReject && r.err == nil && onlyDivisionByZero(r.c):
		return catDivZero
	case r.c.ExpectReject && r.err == nil && onlyUnreachable(r.c):
		return catUnreachable
	}
	return ""
}

// onlyDivisionByZero reports whether a case runs with PREVAIL's option
// !allow_division_by_zero and all of its messages say that a divisor may
// be zero (or that code became unreachable), at least one the former.
func onlyDivisionByZero(c *prevail.Case) bool {
	if !slices.Contains(c.Options, "!allow_division_by_zero") {
		return false
	}
	div := false
	for _, m := range c.Messages {
		pm := prevail.ParseMessage(m)
		switch {
		case strings.HasPrefix(pm.Text, "Possible division by zero"):
			div = true
		case !pm.IsUnreachable():
			return false
		}
	}
	return div
}

// onlyUnreachable reports whether all of PREVAIL's messages on a case say
// that code became unreachable (and there is at least one).
func onlyUnreachable(c *prevail.Case) bool {
	return len(c.Messages) > 0 && !slices.ContainsFunc(c.Messages, func(m string) bool {
		return !prevail.ParseMessage(m).IsUnreachable()
	})
}

// runPrevail loads the corpus (skipping the test without it) and verifies
// every case that translates.
func runPrevail(t *testing.T) []*prevailResult {
	t.Helper()
	if _, err := os.Stat(prevailDir); err != nil {
		t.Skipf("PREVAIL test cases not found at %s (they live in ../shared, outside the repository): %v", prevailDir, err)
	}
	cases, err := prevail.Load(prevailDir)
	if err != nil {
		t.Fatal(err)
	}
	helpers := genericHelpers()
	var out []*prevailResult
	seen := map[string]int{}
	for _, c := range cases {
		if c.ParseError != nil {
			continue // see prevail's untranslatable table
		}
		r := &prevailResult{c: c, name: filepath.Base(c.File) + ": " + c.Name, setup: prevailConfig(c, helpers)}
		if seen[r.name]++; seen[r.name] > 1 {
			r.name += fmt.Sprintf(" #%d", seen[r.name]) // some files repeat a name
		}
		out = append(out, r)
		verify := func(p asm.Instructions, dflt error) error {
			if p == nil {
				return dflt
			}
			res, err := verifier.Verify(p, r.setup.cfg)
			if res != nil {
				r.steps = max(r.steps, res.Processed)
			}
			var ve *verifier.Error
			if err != nil && !errors.As(err, &ve) {
				t.Errorf("%s: not a *verifier.Error: %v", r.key(), err)
			}
			return err
		}
		r.err = verify(c.Program, nil)
		r.assumeErr = verify(prevailRelaxed(c), r.err)
	}
	return out
}

// prevailEntry is one row of testdata/prevail_disagreements.txt.
type prevailEntry struct {
	category, reason string
	line             int
}

const prevailTable = "testdata/prevail_disagreements.txt"

// readPrevailTable reads the disagreement table: blocks of a line
// "FILE: CASE" and an indented line "CATEGORY: REASON"; # starts a comment
// line.
func readPrevailTable(t *testing.T) (map[string]prevailEntry, []string) {
	t.Helper()
	data, err := os.ReadFile(prevailTable)
	if errors.Is(err, os.ErrNotExist) && *rewrite {
		return map[string]prevailEntry{}, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]prevailEntry{}
	var order []string
	key := ""
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case !strings.HasPrefix(line, "\t"):
			if key != "" {
				t.Fatalf("%s:%d: %q has no category line", prevailTable, i, key)
			}
			key = line
		default:
			cat, reason, ok := strings.Cut(strings.TrimPrefix(line, "\t"), ": ")
			if key == "" || !ok || reason == "" {
				t.Fatalf("%s:%d: want a tab, CATEGORY: REASON after a FILE: CASE line", prevailTable, i+1)
			}
			if !slices.Contains(prevailCategories, cat) && cat != catUnclassed {
				t.Fatalf("%s:%d: unknown category %q (want one of %q)", prevailTable, i+1, cat, prevailCategories)
			}
			if _, dup := table[key]; dup {
				t.Fatalf("%s:%d: %q listed twice", prevailTable, i+1, key)
			}
			table[key] = prevailEntry{cat, reason, i + 1}
			order = append(order, key)
			key = ""
		}
	}
	if key != "" {
		t.Fatalf("%s: %q has no category line", prevailTable, key)
	}
	return table, order
}

// writePrevailTable rewrites the table for the current verdicts: the
// mechanical categories are recomputed, the reasons written by hand are
// kept, and a new disagreement gets the category unclassified with bpfdb's
// verdict as its reason, for a person to classify.
func writePrevailTable(t *testing.T, res []*prevailResult, old map[string]prevailEntry) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`# The PREVAIL cases (../shared/verifier/prevail) on which bpfdb's verdict
# differs from PREVAIL's, with a category and a reason; see prevail_test.go.
# TestPrevailVerdicts fails when a case disagrees and is not listed, or is
# listed and agrees. go test -run TestPrevailVerdicts -rewrite recomputes
# the mechanical categories (assume, division-by-zero, unreachable-notice,
# harness) and keeps the reasons written by hand (inexpressible, helper,
# stricter, laxer, more-precise, gap, unsound?).
#
# FILE: CASE
#	CATEGORY: REASON
`)
	file := ""
	for _, r := range res {
		if r.agrees(r.err) {
			continue
		}
		if f := filepath.Base(r.c.File); f != file {
			file = f
			fmt.Fprintf(&b, "\n# %s\n", f)
		}
		cat := prevailMechanical(r)
		reason := mechanicalReasons[cat]
		if cat == "" {
			e, ok := old[r.key()]
			switch {
			case ok && mechanicalReasons[e.category] == "" && e.category != catUnclassed:
				cat, reason = e.category, e.reason
			case r.err == nil:
				cat, reason = catUnclassed, "bpfdb accepts; PREVAIL: "+strings.Join(r.c.Messages, "; ")
			default:
				cat, reason = catUnclassed, "bpfdb: "+r.err.Error()
			}
		}
		fmt.Fprintf(&b, "%s\n\t%s: %s\n", r.key(), cat, reason)
	}
	if err := os.WriteFile(prevailTable, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// prevailAgreements pins the number of cases on which bpfdb's verdict is
// PREVAIL's, out of the 801 that translate.
const prevailAgreements = 565

// TestPrevailVerdicts runs bpfdb's verifier on PREVAIL's labelled cases and
// compares verdicts: accept or reject. Every case that disagrees must be
// listed in testdata/prevail_disagreements.txt with a category and a
// reason, and every listed case must still disagree.
//
// How a case is set up (prevailConfig): its pre constraints on r0..r9
// become Config.Entry registers (numbers in a signed range, context, stack
// and shared-region pointers at offsets in a range, map handles; r1 is
// uninitialized when pre says nothing of it), shared regions become
// fixed-size regions of the program type, PREVAIL's 64-byte context is
// declared as far as core fields can describe it and its one map as an
// array, and the exit appended to code that falls off its end is in
// Config.UncheckedExits. What cannot be expressed (stack contents, packet
// pointers, registers of several possible types, ...) is left out, the
// register concerned uninitialized, and the disagreements it causes are
// listed as inexpressible. assume is verified as the no-op branch it is
// encoded as: that is bpfdb's verdict as it stands, and the disagreements
// it causes are found by rerunning with a rewrite that gives it PREVAIL's
// meaning (prevailRelaxed).
func TestPrevailVerdicts(t *testing.T) {
	start := time.Now()
	res := runPrevail(t)
	elapsed := time.Since(start)

	type count struct{ agree, total int }
	perFile := map[string]*count{}
	var files []string
	agree, relaxed := 0, 0
	// hidden are the agreements that hold only because bpfdb explores an
	// assume's dead branch: with the rewrite bpfdb accepts what PREVAIL
	// rejects.
	var hidden []*prevailResult
	for _, r := range res {
		f := filepath.Base(r.c.File)
		if perFile[f] == nil {
			perFile[f] = &count{}
			files = append(files, f)
		}
		perFile[f].total++
		if r.agrees(r.err) {
			agree++
			perFile[f].agree++
		}
		if r.agrees(r.assumeErr) || prevailMechanical(r) == catUnreachable {
			relaxed++
		}
		if r.agrees(r.err) && !r.agrees(r.assumeErr) {
			hidden = append(hidden, r)
		}
	}
	pct := func(a, n int) string { return fmt.Sprintf("%d/%d (%.1f%%)", a, n, 100*float64(a)/float64(n)) }
	steps := 0
	for _, r := range res {
		steps = max(steps, r.steps)
	}
	t.Logf("PREVAIL verdicts: bpfdb agrees on %s of the cases that translate, in %v (largest accepted exploration: %d instructions processed)",
		pct(agree, len(res)), elapsed.Round(time.Millisecond), steps)
	t.Logf("with assume honoured and unreachable-code notices ignored: %s", pct(relaxed, len(res)))
	for _, f := range files {
		t.Logf("  %-16s %s", f, pct(perFile[f].agree, perFile[f].total))
	}
	hiddenWhy := map[string]int{}
	for _, r := range hidden {
		why := "other"
		switch {
		case onlyUnreachable(r.c):
			why = "unreachable-code notice"
		case slices.Contains(r.c.Options, "!allow_division_by_zero"):
			why = "division by zero (PREVAIL option !allow_division_by_zero; eBPF defines x/0)"
		case len(r.setup.unmapped) > 0:
			why = "inexpressible pre"
		}
		hiddenWhy[why]++
	}
	t.Logf("%d agreements hold only because assume is a no-op branch: %v", len(hidden), hiddenWhy)
	assumeFlips := 0
	for _, r := range res {
		if (r.assumeErr == nil) != (r.err == nil) {
			assumeFlips++
		}
	}
	t.Logf("verdicts changed by honouring assume: %d", assumeFlips)
	partial := 0
	for _, r := range res {
		if r.agrees(r.err) && r.err != nil && len(r.setup.unmapped) > 0 && !onlyUnreachable(r.c) {
			partial++
		}
	}
	t.Logf("%d agreed rejections are of cases whose pre is only partly expressed: bpfdb may reject them for that", partial)

	table, order := readPrevailTable(t)
	if *rewrite {
		writePrevailTable(t, res, table)
		table, order = readPrevailTable(t)
	}
	byCat := map[string]int{}
	byKey := map[string]*prevailResult{}
	for _, r := range res {
		byKey[r.key()] = r
		e, listed := table[r.key()]
		if r.agrees(r.err) {
			if listed {
				t.Errorf("%s:%d: %s: bpfdb now agrees with PREVAIL; remove it from the table", prevailTable, e.line, r.key())
			}
			continue
		}
		verdict := "accepts"
		if r.err != nil {
			verdict = "rejects (" + r.err.Error() + ")"
		}
		if !listed {
			t.Errorf("%s: bpfdb %s, PREVAIL %s; not in %s (run with -rewrite, then classify it)", r.key(), verdict, prevailVerdict(r.c), prevailTable)
			continue
		}
		byCat[e.category]++
		switch mech := prevailMechanical(r); {
		case e.category == catUnclassed:
			t.Errorf("%s:%d: %s: bpfdb %s, PREVAIL %s: give it a category and a reason", prevailTable, e.line, r.key(), verdict, prevailVerdict(r.c))
		case mech != e.category && (mech != "" || mechanicalReasons[e.category] != ""):
			t.Errorf("%s:%d: %s: listed as %s, but its mechanical category is %q (run with -rewrite)", prevailTable, e.line, r.key(), e.category, mech)
		case e.category == catUnsound && r.err != nil:
			t.Errorf("%s:%d: %s: listed as %s, but bpfdb rejects it", prevailTable, e.line, r.key(), e.category)
		}
	}
	for _, k := range order {
		if byKey[k] == nil {
			t.Errorf("%s:%d: %s is not a case of the corpus", prevailTable, table[k].line, k)
		}
	}
	for _, c := range append(prevailCategories, catUnclassed) {
		if byCat[c] > 0 {
			t.Logf("  %-22s %d", c, byCat[c])
		}
	}
	if agree != prevailAgreements {
		t.Errorf("bpfdb agrees with PREVAIL on %d cases, prevailAgreements says %d: update it", agree, prevailAgreements)
	}
}

// prevailVerdict describes PREVAIL's verdict on a case.
func prevailVerdict(c *prevail.Case) string {
	if !c.ExpectReject {
		return "accepts"
	}
	if len(c.Messages) == 0 {
		return "rejects (post is bottom)"
	}
	return "rejects (" + strings.Join(c.Messages, "; ") + ")"
}

// prevailEmulated are cases whose pre the harness could not express before
// Config.Entry (stack contents and possibly-null pointers still cannot be;
// the others now also run as they are), rewritten with a prologue that builds the same kind of entry state in code (an
// unknown number is a load from context field 8, a stack pointer is r10
// plus an offset, a possibly-null pointer is a lookup result), so that the
// safety property the case is about is still checked. PREVAIL rejects
// every one of them; bpfdb must too, except where accept says why not.
var prevailEmulated = []struct {
	key    string // the case, as in the disagreement table
	code   string // kernel syntax; r1 is the context
	accept string // why bpfdb accepts what PREVAIL rejects ("" if it rejects)
}{
	{key: "stack.yaml: stack_numeric_size join must use minimum (8 bytes read after 4/8 write)", code: `
		r0 = *(u64 *)(r1 + 8)
		r2 = r10
		r2 += -8
		r1 = 0
		if r0 == 0 goto <write4>
		*(u64 *)(r2 + 0) = r1
		goto <read>
	<write4>:
		*(u32 *)(r2 + 0) = r1
	<read>:
		r3 = *(u64 *)(r2 + 0)
		r0 = 0
		exit`},
	{key: "jump.yaml: not same_type", code: `
		r0 = *(u64 *)(r1 + 8)
		r8 = r1
		r8 += 4
		r9 = r1
		if r0 == 0 goto <ctx>
		r1 = 1
		r2 = r9
		goto <out>
	<ctx>:
		r1 = r8
		r2 = r0
	<out>:
		r3 = r2
		r3 -= r1
		r0 = 0
		exit`},
	{key: "jump.yaml: multiple types add fail", accept: "bpfdb explores the two paths separately: each adds a number to a pointer; PREVAIL's join loses which is which", code: `
		r0 = *(u64 *)(r1 + 8)
		r8 = r1
		if r0 == 0 goto <ctxnum>
		r1 = 4
		r2 = r8
		goto <out>
	<ctxnum>:
		r1 = r8
		r2 = 4
	<out>:
		r3 = r1
		r3 += r2
		r0 = 0
		exit`},
	{key: "call.yaml: bpf_map_lookup_elem shared key - maybe null", code: `
		*(u32 *)(r10 - 4) = 0
		r1 = map_fd 0
		r2 = r10
		r2 += -4
		call 1
		r1 = map_fd 0
		r2 = r0
		call 1
		r0 = 0
		exit`},
	{key: "call.yaml: bpf_map_update_elem with non-numeric stack value", code: `
		*(u64 *)(r10 - 16) = r10
		*(u32 *)(r10 - 4) = 0
		r1 = map_fd 0
		r2 = r10
		r2 += -4
		r3 = r10
		r3 += -16
		r4 = 0
		call 2
		r0 = 0
		exit`},
	{key: "call.yaml: bpf_map_lookup_elem null check discards stale destination kind values", code: `
		*(u64 *)(r10 - 8) = 0
		r1 = map_fd 0
		r2 = r10
		r2 += -8
		r6 = r2
		call 1
		if r0 != 0 goto <exit>
		r1 = r0
		r2 = r6
		call 1
	<exit>:
		r0 = 0
		exit`},
	{key: "call.yaml: bpf_map_lookup_elem copied null check discards stale destination kind values", code: `
		*(u64 *)(r10 - 8) = 0
		r1 = map_fd 0
		r2 = r10
		r2 += -8
		r6 = r2
		call 1
		r7 = r0
		if r7 == 0 goto <exit>
		r1 = r7
		r2 = r6
		call 1
	<exit>:
		r0 = 0
		exit`},
	{key: "call.yaml: bpf_map_update_elem with context value", code: `
		*(u64 *)(r10 - 8) = 0
		r3 = r1
		r1 = map_fd 0
		r2 = r10
		r2 += -8
		r4 = 0
		call 2
		r0 = 0
		exit`},
	{key: "loop.yaml: nested loops with inner infinite loop", code: `
		r0 = 0
		r0 += 1
		if r0 > 10 goto <out>
	<inner>:
		if r0 > 0 goto <inner>
	<out>:
		exit`},
}

// TestPrevailEmulated runs prevailEmulated.
func TestPrevailEmulated(t *testing.T) {
	ctx := &prevail.Case{}
	for _, pre := range []string{"r1.type=ctx", "r1.ctx_offset=0"} {
		con, err := prevail.ParseConstraint(pre)
		if err != nil {
			t.Fatal(err)
		}
		ctx.PreConstraints = append(ctx.PreConstraints, con)
	}
	setup := prevailConfig(ctx, genericHelpers())
	for _, e := range prevailEmulated {
		t.Run(e.key, func(t *testing.T) {
			insns, err := asm.AssembleKernel(e.code)
			if err != nil {
				t.Fatal(err)
			}
			_, err = verifier.Verify(insns, setup.cfg)
			switch {
			case e.accept == "" && err == nil:
				t.Errorf("accepted; PREVAIL rejects it")
			case e.accept != "" && err != nil:
				t.Errorf("rejected (%v), but listed as accepted: %s", err, e.accept)
			}
			t.Log(err)
		})
	}
	if _, err := os.Stat(prevailDir); err != nil {
		return
	}
	cases, err := prevail.Load(prevailDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range prevailEmulated {
		i := slices.IndexFunc(cases, func(c *prevail.Case) bool { return filepath.Base(c.File)+": "+c.Name == e.key })
		if i < 0 || !cases[i].ExpectReject {
			t.Errorf("%s: not a case PREVAIL rejects", e.key)
		}
	}
}

// TestPrevailDump prints cases for classifying disagreements, when
// PREVAIL_DUMP is set: "manual" the disagreements without a mechanical
// category, "hidden" the agreements that the rewrites of prevailRelaxed
// break, "partial" the agreed rejections of cases whose pre is only partly
// expressed.
func TestPrevailDump(t *testing.T) {
	mode := os.Getenv("PREVAIL_DUMP")
	if mode == "" {
		t.Skip("set PREVAIL_DUMP to manual, hidden or partial to print cases")
	}
	for _, r := range runPrevail(t) {
		var show bool
		switch mode {
		case "hidden":
			show = r.agrees(r.err) && !r.agrees(r.assumeErr)
		case "manual":
			show = !r.agrees(r.err) && prevailMechanical(r) == ""
		case "partial":
			show = r.agrees(r.err) && r.err != nil && len(r.setup.unmapped) > 0 && !onlyUnreachable(r.c)
		default:
			t.Fatalf("PREVAIL_DUMP=%q: want manual, hidden or partial", mode)
		}
		if !show {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n  unmapped=%q implicit exit=%v assumes=%d\n  pre=%q\n  messages=%q\n  bpfdb: %v\n  relaxed: %v\n",
			r.key(), r.setup.unmapped, r.c.ImplicitExit, len(r.c.Assumes), r.c.Pre, r.c.Messages, r.err, r.assumeErr)
		for _, blk := range r.c.Blocks {
			fmt.Fprintf(&b, "  <%s>:\n", blk.Label)
			for _, l := range strings.Split(strings.TrimRight(blk.Text, "\n"), "\n") {
				fmt.Fprintf(&b, "      %s\n", l)
			}
		}
		t.Log(b.String())
	}
}
