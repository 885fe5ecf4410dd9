package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/interp"
	"github.com/bpfdb/bpfdb/ebpf/internal/jit"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// DefaultBudget is the instruction budget of a run unless ProgramOptions or
// RunOptions say otherwise. Taken backward jumps charge the number of slots
// they jump back over plus one, and bpf-to-bpf calls charge the length of
// the callee, so the budget bounds the instructions a run executes while
// straight-line code is free to check.
const DefaultBudget = 1_000_000

// Errors of a run; a *RunError wraps one of them (or a helper's error) and
// names the instruction.
var (
	ErrRun           = core.ErrRun
	ErrBudget        = core.ErrBudget
	ErrMemory        = core.ErrMemory
	ErrStackOverflow = core.ErrStackOverflow
	ErrUnknownHelper = core.ErrUnknownHelper
	ErrAlignment     = core.ErrAlignment
)

// ErrNoExit is the cause of a run that executes past the program's last
// instruction without reaching exit.
var ErrNoExit = interp.ErrFellOff

// ErrUnsupported is wrapped by load errors for instructions the runtime
// deliberately does not implement: legacy packet access, kfunc calls, BTF id
// and function-address loads.
var ErrUnsupported = interp.ErrUnsupported

// RunError is a failure of a run at an instruction.
type RunError = core.RunError

// MemoryError is an out-of-bounds or read-only memory access.
type MemoryError = core.MemoryError

// ProgramOptions configure loading.
type ProgramOptions struct {
	// Helpers the program may call; nil means DefaultHelpers().
	Helpers *Helpers
	// Maps by name, for the spec's MapNames.
	Maps map[string]maps.Map
	// Budget is the default instruction budget of a run; 0 means
	// DefaultBudget, negative means unlimited. An unlimited budget makes
	// the verifier walk loops (VerifyOptions.NoWiden) so that they are
	// proven to end; a run given an unlimited budget through RunOptions
	// of a program verified with a budget relies on its loops ending.
	Budget int64
	// Type is the program type the program is verified against; nil means
	// TestProgramType(0): r1 and r2 are the scalar 0, so the program may
	// touch only its stack and maps, and runs with an empty ctx.
	Type *ProgramType
	// Unverified skips the verifier. It is for tests of the run-time
	// checks only: the interpreter then relies on its run-time checks
	// alone, and Run accepts a ctx of any size.
	Unverified bool
	// RuntimeChecks keeps every run-time memory check, even of the
	// accesses the verifier proved safe. By default both engines run a
	// proven load, store or atomic of the stack, the context, a map value
	// or a region of the type without its bounds check (the regions'
	// memory is checked once per run instead, see RunOptions.Memory);
	// this switch is for tests that
	// compare both ways, and for debugging the verifier. Programs loaded
	// Unverified always check.
	RuntimeChecks bool
	// Engine selects how the program runs; the zero value, EngineAuto,
	// compiles it to native code where the JIT is supported.
	Engine Engine
}

// Engine selects the execution backend of a program. Both give identical
// results, errors included; the JIT is faster.
type Engine uint8

// Engines.
const (
	// EngineAuto is the JIT where it is supported (amd64 on Linux, macOS
	// and FreeBSD) and the interpreter elsewhere.
	EngineAuto Engine = iota
	// EngineInterpreter runs the program in the interpreter.
	EngineInterpreter
	// EngineJIT compiles the program to native code; loading fails with
	// an error wrapping ErrUnsupported where the JIT is not supported.
	EngineJIT
)

func (e Engine) String() string {
	switch e {
	case EngineAuto:
		return "auto"
	case EngineInterpreter:
		return "interpreter"
	case EngineJIT:
		return "jit"
	}
	return fmt.Sprintf("Engine(%d)", uint8(e))
}

// JITSupported reports whether this build can compile programs to native
// code (see EngineAuto).
func JITSupported() bool { return jit.Supported() }

// RunOptions configure one run.
type RunOptions struct {
	// Worker selects the slot of per-worker maps.
	Worker int
	// Host is passed to helpers as Env.Host.
	Host any
	// Budget overrides the program's budget when non-zero (negative:
	// unlimited).
	Budget int64
	// Memory adds host regions the program may address (for example a
	// hook's input and output vectors), besides its context.
	//
	// For a verified program whose context has pointer fields, every
	// run checks, before the program starts, that each pointer field of
	// ctx holds the start of an entry of Memory of at least its region's
	// Size bytes, writable if the region is, and that no writable entry
	// overlaps ctx; otherwise the run fails with an error wrapping
	// ErrRegionMemory. The program then reaches its regions without
	// bounds checks, so the pointer fields must not change while it runs
	// (neither the host nor its helpers may rewrite them).
	Memory []Memory
}

// Memory is a span of host memory made addressable to a run.
type Memory struct {
	Data     []byte
	Writable bool
}

// Program is a loaded program. It is safe for concurrent use: any number of
// goroutines may run it at once, each run with its own registers and stack.
// Unless loaded Unverified, it was proven safe against its program type,
// and every run must pass a ctx of the size that type gives r1 (see Run).
type Program struct {
	name   string
	insns  asm.Instructions
	code   *interp.Program
	native *jit.Program // nil unless the program runs under the JIT
	maps   []maps.Map
	static []core.Region // map memory
	budget int64
	// runBudget is budget as a run takes it (unlimited: MaxInt64).
	runBudget int64
	// ctxLen is the length Run requires of ctx, or -1 (unverified: any).
	ctxLen int
	// fields are the context's pointer fields a run checks against its
	// memory (checkRegions); nil unless verified with r1 the context.
	fields []regionField
	// helpers is set if an instruction calls a helper (by id or by
	// register).
	helpers bool
	// Machines are kept per program, so that a run neither allocates nor
	// rebuilds the region table: one in a slot that costs a single atomic
	// swap, the rest in a pool.
	spare atomic.Pointer[machine]
	pool  sync.Pool
}

// machine is the state of one run of a program: the environment helpers
// see and the backend's own state (exactly one of im and jm).
type machine struct {
	env *core.Env
	im  *interp.Machine
	jm  *jit.Machine
	// ctxStart and ctxLen are the ctx that env.Regions[1] describes: the
	// last run's, whose length was checked. ctxLen is noCtx before the
	// first run.
	ctxStart, ctxLen uint64
	// plain is set while env holds a plain run's worker and host (0 and
	// nil).
	plain bool
	// checked is what the last run's checkRegions passed: a run that
	// brings the same is checked already.
	checked regionsChecked
}

// regionsChecked is what checkRegions looked at in a run that passed it:
// the ctx's address, the values of its pointer fields and the memory
// entries. The check is a function of these and of the program's own
// (fixed) fields and map memory, so a run that brings the same ones
// passes it again; the ctx's length is checked before, on every run.
type regionsChecked struct {
	ctx    uint64
	fields []uint64
	mem    []memoryKey
}

// memoryKey is what checkRegions reads of a Memory entry.
type memoryKey struct {
	addr, n  uint64
	writable bool
}

// same reports whether a run on ctx with mem passes what c passed. fields
// are the program's pointer fields.
func (c *regionsChecked) same(ctx []byte, mem []Memory, fields []regionField) bool {
	if c.ctx != addrOf(ctx) || len(c.mem) != len(mem) || len(c.fields) != len(fields) {
		return false
	}
	for i, x := range mem {
		if k := c.mem[i]; k.addr != addrOf(x.Data) || k.n != uint64(len(x.Data)) || k.writable != x.Writable {
			return false
		}
	}
	for i, f := range fields {
		if c.fields[i] != binary.LittleEndian.Uint64(ctx[f.off:]) {
			return false
		}
	}
	return true
}

// remember records a run on ctx with mem that passed checkRegions.
func (c *regionsChecked) remember(ctx []byte, mem []Memory, fields []regionField) {
	c.ctx = addrOf(ctx)
	c.mem = c.mem[:0]
	for _, x := range mem {
		c.mem = append(c.mem, memoryKey{addrOf(x.Data), uint64(len(x.Data)), x.Writable})
	}
	c.fields = c.fields[:0]
	for _, f := range fields {
		c.fields = append(c.fields, binary.LittleEndian.Uint64(ctx[f.off:]))
	}
}

// noCtx in machine.ctxLen means that no run has set the ctx region yet.
const noCtx = math.MaxUint64

// setCtx makes env.Regions[1] describe ctx.
func (m *machine) setCtx(ctx []byte) {
	m.env.Regions[1] = core.NewRegion(ctx, true, core.RegionContext)
	m.ctxStart, m.ctxLen = ctxAddr(ctx), uint64(len(ctx))
}

// ctxAddr is r1 for a run on ctx: its address, 0 if it is empty.
func ctxAddr(ctx []byte) uint64 {
	a := addrOf(ctx)
	if len(ctx) == 0 {
		a = 0 // a conditional move on Runner.Run's path, not a branch
	}
	return a
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// NewProgram loads a program: it checks that every instruction is valid,
// resolves map references and helper calls, verifies the program against
// opts.Type (see Verify) and prepares it for its engine (opts.Engine):
// compiled to native code by the JIT, or decoded for the interpreter. A rejection
// wraps ErrVerifier; the *VerifierError is reachable with errors.As.
// Every program is verified before it can run, unless opts.Unverified.
func NewProgram(spec *ProgramSpec, opts *ProgramOptions) (*Program, error) {
	if opts == nil {
		opts = &ProgramOptions{}
	}
	name := spec.Name
	if !littleEndian {
		return nil, fmt.Errorf("load program %q: big-endian hosts are not supported", name)
	}
	// Strict decoding of the encoded form checks every field and jump target.
	if _, err := asm.Decode(spec.Instructions.Encode()); err != nil {
		return nil, fmt.Errorf("load program %q: %w", name, err)
	}
	helpers := opts.Helpers
	if helpers == nil {
		helpers = DefaultHelpers()
	}
	p := &Program{name: name, insns: spec.Instructions, budget: opts.Budget, ctxLen: -1}
	if p.budget == 0 {
		p.budget = DefaultBudget
	}
	p.runBudget = p.budget
	if p.runBudget < 0 {
		p.runBudget = math.MaxInt64
	}
	for _, ins := range spec.Instructions {
		if ins.IsHelperCall() || ins.OpCode == asm.OpCallX {
			p.helpers = true
			break
		}
	}
	for _, mn := range spec.MapNames {
		m := opts.Maps[mn]
		if m == nil {
			return nil, fmt.Errorf("load program %q: map %q is not provided", name, mn)
		}
		p.maps = append(p.maps, m)
		for _, r := range m.Regions() {
			p.static = append(p.static, core.NewRegion(r.Mem, r.Writable, core.RegionMap))
		}
	}
	code, err := interp.Compile(spec.Instructions, interp.Config{Helpers: helpers.funcs(), Maps: p.maps})
	if err != nil {
		return nil, fmt.Errorf("load program %q: %w", name, err)
	}
	var proven []bool // accesses that run without a check
	var lookups map[int]jit.ArrayLookup
	if !opts.Unverified {
		typ := opts.Type
		if typ == nil {
			typ = TestProgramType(0)
		}
		specs := make(map[string]*maps.Spec, len(spec.MapNames))
		for i, mn := range spec.MapNames {
			specs[mn] = p.maps[i].Spec()
		}
		// Without a budget, termination must be proven: no widening.
		res, err := Verify(spec, &VerifyOptions{Type: typ, Helpers: helpers, Maps: specs, NoWiden: opts.Budget < 0})
		if err != nil {
			return nil, fmt.Errorf("load program %q: %w", name, err)
		}
		p.ctxLen = contextLen(typ)
		p.fields = regionFields(typ)
		if !opts.RuntimeChecks {
			proven = uncheckedAccesses(res, typ, p.ctxLen)
			code = code.Unchecked(proven)
			lookups = arrayLookups(spec.Instructions, res, helpers, p.maps)
		}
	}
	p.code = code
	useJIT := jit.Supported()
	switch opts.Engine {
	case EngineAuto:
	case EngineInterpreter:
		useJIT = false
	case EngineJIT:
		if !useJIT {
			return nil, fmt.Errorf("load program %q: the JIT is not available on %s/%s: %w", name, runtime.GOOS, runtime.GOARCH, ErrUnsupported)
		}
	default:
		return nil, fmt.Errorf("load program %q: unknown engine %v", name, opts.Engine)
	}
	if useJIT {
		native, err := jit.Compile(spec.Instructions, jit.Config{
			Helpers: helpers.funcs(), Maps: p.maps, Proven: proven, Verified: !opts.Unverified, Lookups: lookups,
			Inline: helpers.inlines(),
		})
		if err != nil {
			return nil, fmt.Errorf("load program %q: %w", name, err)
		}
		p.native = native
	}
	return p, nil
}

// CallsHelpers reports whether the program may call a helper: whether
// any instruction is a helper call, by id or by register (callx). A
// program that calls none never sees RunOptions.Worker or Host (both
// reach it only through helpers), so a host may run it with Run or
// Runner.Run, whose common path is shorter than RunWith's.
func (p *Program) CallsHelpers() bool { return p.helpers }

// Engine returns the backend the program runs on: EngineJIT or
// EngineInterpreter.
func (p *Program) Engine() Engine {
	if p.native != nil {
		return EngineJIT
	}
	return EngineInterpreter
}

// uncheckedAccesses returns, by slot, the memory accesses the interpreter
// may run without a bounds check: those the verifier proved inside the
// stack, the context, a map value or a region of the type on every path.
// The proof holds at run time because Run passes a ctx of exactly ctxLen
// bytes, the machine's stack holds every frame the verifier allows, the
// program keeps its maps (and so their memory) alive, and every run checks
// that the context's pointer fields hold the starts of memory of at least
// their regions' sizes (checkRegions). A region r1 points to is the ctx
// itself.
//
// Accesses proven on no path (dead code) stay checked. And if the type
// declares entry registers other than the ones Run passes (r1 the ctx, r2
// its length, r3-r5 zero), what the verifier proved started from values
// the program never sees, so every access stays checked.
func uncheckedAccesses(res *VerifyResult, typ *ProgramType, ctxLen int) []bool {
	safe := verifier.AccessKinds(1<<core.RegionStack | 1<<core.RegionContext | 1<<core.RegionMap | 1<<core.RegionHost)
	for _, r := range typ.Registers {
		switch {
		case r.Reg == 1 && (r.Kind == RegisterRegion || r.Kind == RegisterContext):
		case r.Kind != RegisterScalar:
			return nil
		default:
			v := int64(0) // r1 without memory, r3-r5
			if r.Reg == 2 {
				v = int64(ctxLen)
			}
			if v < r.Min || v > r.Max {
				return nil
			}
		}
	}
	skip := make([]bool, len(res.Access))
	for pc, a := range res.Access {
		skip[pc] = a.Proven && a.Kinds != 0 && a.Kinds&^safe == 0
	}
	return skip
}

// arrayLookups returns the map_lookup_elem calls the JIT may run inline:
// those the verifier proved take the same array map on every path with the
// key on the stack (VerifyResult.CallMaps), where helper 1 is this
// package's own map_lookup_elem and the map one of the maps package's
// arrays (maps.ArrayLayout), whose values never move.
func arrayLookups(insns asm.Instructions, res *VerifyResult, helpers *Helpers, ms []maps.Map) map[int]jit.ArrayLookup {
	hp, ok := helpers.Lookup(HelperMapLookup)
	if !ok || reflect.ValueOf(hp.Fn).Pointer() != reflect.ValueOf(mapLookup).Pointer() {
		return nil
	}
	var out map[int]jit.ArrayLookup
	slotOf := insns.SlotIndex()
	for i, ins := range insns {
		pc := slotOf[i]
		if !ins.IsHelperCall() || ins.Imm() != HelperMapLookup || pc >= len(res.CallMaps) || res.CallMaps[pc] < 0 {
			continue
		}
		m := ms[res.CallMaps[pc]]
		base, stride, n, ok := maps.ArrayLayout(m)
		if !ok || stride > math.MaxInt32 || m.Spec().KeySize != 4 {
			continue
		}
		if out == nil {
			out = map[int]jit.ArrayLookup{}
		}
		out[pc] = jit.ArrayLookup{Base: uint64(base), Stride: stride, Entries: n}
	}
	return out
}

// contextLen is the length of the memory r1 points to at entry under typ,
// which is what the verifier proved the program's accesses against: the
// region's size if r1 is a region, 0 if r1 is a scalar (Run then passes
// r1 = 0), the context's size otherwise.
func contextLen(typ *ProgramType) int {
	for _, r := range typ.Registers {
		if r.Reg != 1 {
			continue
		}
		switch r.Kind {
		case RegisterRegion:
			return typ.Regions[typ.Region(r.Region)].Size
		case RegisterScalar:
			return 0
		}
	}
	return typ.Context.Size
}

// regionField is a pointer field of a context: where the address is and
// what the region it must point to requires.
type regionField struct {
	off      int
	name     string // the field's
	region   string
	size     uint64
	writable bool
}

// regionFields returns the pointer fields of typ's context that a run
// must check (regions of zero bytes admit no access, so they need none),
// or nil if r1 is not the context under typ.
func regionFields(typ *ProgramType) []regionField {
	for _, r := range typ.Registers {
		if r.Reg == 1 && r.Kind != RegisterContext {
			return nil
		}
	}
	var out []regionField
	for _, f := range typ.Context.Fields {
		if f.Kind != FieldPointer {
			continue
		}
		rs := typ.Regions[typ.Region(f.Region)]
		if rs.Size == 0 {
			continue
		}
		out = append(out, regionField{off: f.Offset, name: f.Name, region: rs.Name, size: uint64(rs.Size), writable: rs.Writable})
	}
	return out
}

// ErrRegionMemory is wrapped by the error of a run whose context's pointer
// fields do not point to memory the run was given as the program type
// declares it (see RunOptions.Memory).
var ErrRegionMemory = errors.New("run memory does not match the program type's regions")

// checkRegions checks, before a run, what the unchecked accesses to the
// type's regions rely on: every pointer field of ctx (whose length was
// checked) holds the start of an entry of mem of at least the region's
// size, writable if the region is; that entry overlaps neither the ctx,
// nor map memory, nor another entry, so a checked access finds the same
// memory an unchecked one uses; and no writable memory of the run overlaps
// ctx, so that no store of the program can rewrite a pointer field. The
// cost is a few comparisons per field and memory entry.
func (p *Program) checkRegions(ctx []byte, mem []Memory) error {
	ctxStart := addrOf(ctx)
	ctxLen := uint64(len(ctx))
	for i, x := range mem {
		if x.Writable && overlap(addrOf(x.Data), uint64(len(x.Data)), ctxStart, ctxLen) {
			return fmt.Errorf("run program %q: writable RunOptions.Memory[%d] overlaps the ctx: %w", p.name, i, ErrRegionMemory)
		}
	}
	for i := range p.static {
		r := &p.static[i]
		if r.Writable && overlap(r.Start, r.Len, ctxStart, ctxLen) {
			return fmt.Errorf("run program %q: the ctx overlaps map memory: %w", p.name, ErrRegionMemory)
		}
	}
	for _, f := range p.fields {
		a := binary.LittleEndian.Uint64(ctx[f.off:])
		found := -1
		for i, x := range mem {
			if len(x.Data) > 0 && addrOf(x.Data) == a {
				found = i
				break
			}
		}
		if found < 0 {
			return fmt.Errorf("run program %q: ctx field %q holds %#x, the start of no RunOptions.Memory: %w", p.name, f.name, a, ErrRegionMemory)
		}
		x := mem[found]
		if uint64(len(x.Data)) < f.size {
			return fmt.Errorf("run program %q: ctx field %q: region %q is %d bytes, RunOptions.Memory[%d] only %d: %w",
				p.name, f.name, f.region, f.size, found, len(x.Data), ErrRegionMemory)
		}
		if f.writable && !x.Writable {
			return fmt.Errorf("run program %q: ctx field %q: region %q is writable, RunOptions.Memory[%d] is not: %w",
				p.name, f.name, f.region, found, ErrRegionMemory)
		}
		n := uint64(len(x.Data))
		if overlap(a, n, ctxStart, ctxLen) {
			return fmt.Errorf("run program %q: ctx field %q: RunOptions.Memory[%d] overlaps the ctx: %w", p.name, f.name, found, ErrRegionMemory)
		}
		for i, y := range mem {
			if i != found && overlap(a, n, addrOf(y.Data), uint64(len(y.Data))) {
				return fmt.Errorf("run program %q: ctx field %q: RunOptions.Memory[%d] overlaps RunOptions.Memory[%d]: %w", p.name, f.name, found, i, ErrRegionMemory)
			}
		}
		for i := range p.static {
			if r := &p.static[i]; overlap(a, n, r.Start, r.Len) {
				return fmt.Errorf("run program %q: ctx field %q: RunOptions.Memory[%d] overlaps map memory: %w", p.name, f.name, found, ErrRegionMemory)
			}
		}
	}
	return nil
}

// addrOf is the address of b's first byte.
func addrOf(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

// overlap reports whether the non-empty spans [a, a+n) and [b, b+m) share a
// byte.
func overlap(a, n, b, m uint64) bool { return n > 0 && m > 0 && a < b+m && b < a+n }

// ErrContextSize is wrapped by the error of a run whose ctx is not the
// length the program was verified for.
var ErrContextSize = errors.New("ctx is not the size the program was verified for")

// Name returns the program's name.
func (p *Program) Name() string { return p.name }

// Instructions returns the program's instructions. The caller must not
// modify them.
func (p *Program) Instructions() asm.Instructions { return p.insns }

// Run runs the program on worker 0 with r1 = the address of ctx (0 if ctx
// is empty) and r2 = len(ctx), and returns r0. ctx is writable by the
// program.
//
// A verified program's accesses were proven against its type's sizes, so
// ctx must be exactly the memory r1 points to under that type: the
// region's Size if the type declares r1 a region (TestProgramType(n): n
// bytes), empty if it declares r1 a scalar (TestProgramType(0), the
// default), Context.Size otherwise. Any other length is refused with an
// error wrapping ErrContextSize. A program loaded Unverified accepts a ctx
// of any length. If r1 is the context and it has pointer fields, the run
// needs their regions' memory: use RunWith (Run fails with an error
// wrapping ErrRegionMemory).
func (p *Program) Run(ctx []byte) (uint64, error) {
	m := p.takeMachine()
	r0, err := p.runPlain(m, ctx)
	p.putMachine(m)
	return r0, err
}

// RunWith runs the program like Run, with options.
func (p *Program) RunWith(ctx []byte, opts RunOptions) (uint64, error) {
	budget := p.budget
	if opts.Budget != 0 {
		budget = opts.Budget
	}
	return p.run(ctx, opts.Worker, opts.Host, budget, opts.Memory)
}

func (p *Program) run(ctx []byte, worker int, host any, budget int64, extra []Memory) (uint64, error) {
	m := p.takeMachine()
	r0, err := p.runOn(m, ctx, worker, host, budget, extra)
	p.putMachine(m)
	return r0, err
}

// takeMachine returns a machine for one run: the spare one, one from the
// pool or a new one.
func (p *Program) takeMachine() *machine {
	m := p.spare.Swap(nil)
	if m == nil {
		m, _ = p.pool.Get().(*machine)
		if m == nil {
			m = p.newMachine()
		}
	}
	return m
}

// putMachine gives back a machine from takeMachine.
func (p *Program) putMachine(m *machine) {
	if !p.spare.CompareAndSwap(nil, m) {
		p.pool.Put(m)
	}
}

// runOn runs the program on machine m. The machine keeps a reference to
// ctx until its next run. Budget is as in RunOptions (negative: unlimited).
func (p *Program) runOn(m *machine, ctx []byte, worker int, host any, budget int64, extra []Memory) (uint64, error) {
	if worker < 0 || p.ctxLen >= 0 && len(ctx) != p.ctxLen {
		return 0, p.argError(ctx, worker)
	}
	if p.fields != nil && !m.checked.same(ctx, extra, p.fields) {
		if err := p.checkRegions(ctx, extra); err != nil {
			return 0, err
		}
		m.checked.remember(ctx, extra, p.fields)
	}
	if budget < 0 {
		budget = math.MaxInt64
	}
	env := m.env
	start, n := ctxAddr(ctx), uint64(len(ctx))
	if start != m.ctxStart || n != m.ctxLen {
		m.setCtx(ctx)
	}
	env.Worker = worker
	env.Host = host
	m.plain = worker == 0 && host == nil
	if len(extra) == 0 {
		if m.jm != nil {
			if p.native.Enter(m.jm, start, n, budget) {
				runtime.KeepAlive(p)
				return m.jm.R0(), nil
			}
			return p.native.Finish(m.jm)
		}
		return p.code.Run(m.im, start, n, budget)
	}
	base := len(env.Regions)
	for _, x := range extra {
		env.Regions = append(env.Regions, core.NewRegion(x.Data, x.Writable, core.RegionHost))
	}
	var r0 uint64
	var err error
	if m.jm != nil {
		r0, err = p.native.Run(m.jm, start, n, budget)
	} else {
		r0, err = p.code.Run(m.im, start, n, budget)
	}
	clear(env.Regions[base:])
	env.Regions = env.Regions[:base]
	return r0, err
}

// runPlain is runOn for a run on worker 0 without host state or extra
// memory at the program's budget: Run's path, kept short because it is
// most of the cost of running a short program. The machine remembers the
// ctx of its last run and whether that was a plain one, so that a run on
// the same ctx as the last one (a runner's usual case) neither checks its
// length again nor rebuilds the ctx region nor clears the environment.
func (p *Program) runPlain(m *machine, ctx []byte) (uint64, error) {
	if p.fields != nil || p.ctxLen >= 0 && len(ctx) != p.ctxLen {
		return p.runOn(m, ctx, 0, nil, p.runBudget, nil)
	}
	start, n := ctxAddr(ctx), uint64(len(ctx))
	if start != m.ctxStart || n != m.ctxLen {
		m.setCtx(ctx)
	}
	if !m.plain {
		env := m.env
		env.Worker, env.Host = 0, nil
		m.plain = true
	}
	if m.jm != nil {
		return p.native.Run(m.jm, start, n, p.runBudget)
	}
	return p.code.Run(m.im, start, n, p.runBudget)
}

// argError is the error of a run whose worker or ctx runOn refuses.
func (p *Program) argError(ctx []byte, worker int) error {
	if worker < 0 {
		return errors.New("run: negative worker")
	}
	return fmt.Errorf("run program %q: ctx is %d bytes, want %d: %w", p.name, len(ctx), p.ctxLen, ErrContextSize)
}

// Runner runs one program from one goroutine at a time, with state of its
// own: the cheapest way to run a program often, for example once per worker
// of a thread pool. Program.Run is the same without the ownership rule, at
// the cost of taking a machine from a pool per run.
type Runner struct {
	p *Program
	m *machine
	// native and jm are p's native code and m's JIT machine if a run may
	// take the fast path of Run (the JIT, no regions to check), else nil;
	// kept here with p's budget so that the path loads them without going
	// through p and m.
	native *jit.Program
	jm     *jit.Machine
	budget int64
}

// NewRunner returns a runner for p.
func (p *Program) NewRunner() *Runner {
	r := &Runner{p: p, m: p.newMachine()}
	if p.native != nil && p.fields == nil {
		r.native, r.jm, r.budget = p.native, r.m.jm, p.runBudget
	}
	return r
}

// Run is Program.Run on the runner's own state.
func (r *Runner) Run(ctx []byte) (uint64, error) {
	// The JIT's common case, one call shorter than runPlain: the same ctx
	// as the last run, which checked its length, after a plain run, and
	// no regions to check.
	m, jm := r.m, r.jm
	if start, n := ctxAddr(ctx), uint64(len(ctx)); jm != nil && start == m.ctxStart && n == m.ctxLen && m.plain {
		if r.native.Enter(jm, start, n, r.budget) {
			runtime.KeepAlive(r) // r.native's code ran until here
			return jm.R0(), nil
		}
		return r.native.Finish(jm)
	}
	return r.p.runPlain(m, ctx)
}

// RunWith is Program.RunWith on the runner's own state.
func (r *Runner) RunWith(ctx []byte, opts RunOptions) (uint64, error) {
	budget := r.p.budget
	if opts.Budget != 0 {
		budget = opts.Budget
	}
	return r.p.runOn(r.m, ctx, opts.Worker, opts.Host, budget, opts.Memory)
}

func (p *Program) newMachine() *machine {
	m := &machine{ctxLen: noCtx}
	if p.native != nil {
		m.jm = jit.NewMachine()
		m.env = &m.jm.Env
	} else {
		m.im = interp.NewMachine()
		m.env = &m.im.Env
	}
	m.env.Maps = p.maps
	m.env.Regions = append(m.env.Regions, core.Region{Kind: core.RegionContext})
	m.env.Regions = append(m.env.Regions, p.static...)
	return m
}
