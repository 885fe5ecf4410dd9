package jit

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	x86 "github.com/bpfdb/bpfdb/ebpf/internal/jit/amd64"
	"github.com/bpfdb/bpfdb/ebpf/internal/platform"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// Config is what compiling needs from the loader.
type Config struct {
	// Helpers resolves a helper id. Calls to ids it does not know are
	// rejected at compile time.
	Helpers map[int32]core.HelperFunc
	// Maps is the program's map table, indexed by map pseudo-loads.
	Maps []maps.Map
	// Proven, indexed by slot, marks the loads, stores and atomics the
	// verifier proved in bounds on every path: they become plain machine
	// loads and stores. Every other access exits to Go, which checks it
	// against the run's regions. Nil proves nothing.
	Proven []bool
	// Verified says the program passed the verifier: it never reads
	// r1-r5 after a helper call, so the code need not reload them.
	Verified bool
	// Lookups, by slot, are helper calls the JIT emits inline: a
	// map_lookup_elem of an array map, with the key on the stack, that the
	// verifier proved takes the same map on every path (see ArrayLookup).
	Lookups map[int]ArrayLookup
	// Inline, by helper id, are bodies of eBPF instructions emitted in
	// place of calls of pure helpers (see ebpf.Helpers.SetInline): ALU
	// instructions on r0-r5, constant loads and forward jumps inside the
	// body, as the loader checked.
	Inline map[int32]asm.Instructions
	// Listing keeps the text of the generated code (Program.Listing), for
	// tests and debugging.
	Listing bool
}

// ArrayLookup describes the array map a map_lookup_elem call looks up, so
// that the call can run inline: r0 = Base + key*Stride if the 4-byte key at
// r2 is below Entries, else 0 (NULL). That is exactly what the helper
// returns for such a map (value i lives at Base + i*Stride and never moves),
// for any worker (not a per-worker map).
type ArrayLookup struct {
	Base    uint64
	Stride  uint64
	Entries uint32
}

// Supported reports whether this build can compile and run native code.
func Supported() bool { return platform.Supported() }

// Program is a program compiled to native code. It is immutable and safe for
// concurrent use: each run brings its own Machine. Its code is unmapped when
// the Program becomes unreachable (a run in progress keeps it reachable).
type Program struct {
	seg        *platform.CodeSegment
	start      uintptr // entry of a new run
	resume     uintptr // entry that resumes at state.resume
	resumeCall uintptr // the same after a helper call
	// sites are the helper calls that exit to Go, by the argument of
	// their exit code: the function and the call's slot.
	sites   []site
	byID    map[int32]core.HelperFunc
	source  []asm.Instruction // by slot, for exits to Go and error messages
	listing string
}

// site is a helper call that exits to Go.
type site struct {
	fn core.HelperFunc
	pc int
}

// eBPF register → host register (see the package doc).
var reg = [11]x86.Reg{x86.RAX, x86.RDI, x86.RSI, x86.RDX, x86.RCX, x86.R8, x86.RBX, x86.R13, x86.R14, x86.R15, x86.RBP}

const (
	rState  = x86.R12 // the run's state
	rBudget = x86.R9  // budget units left in the slice
	rTmp    = x86.R11 // scratch
	rTmp2   = x86.R10 // scratch
)

// CompileError names the instruction that cannot be compiled.
type CompileError struct {
	PC  int
	Ins string
	Err error
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("instruction %d (%s): %v", e.PC, e.Ins, e.Err)
}

// Unwrap returns the cause.
func (e *CompileError) Unwrap() error { return e.Err }

// compiler holds the state of one compilation.
type compiler struct {
	a       *x86.Assembler
	cfg     Config
	p       *Program
	slots   []x86.Label // label of each slot, and of the slot past the end
	funcLen map[int]int
	stubs   []stub
	save    x86.Label // stores the registers and returns to Go
	done    x86.Label // the entry function's exit
	calls   bool      // the program has local calls
	// budget says the code counts the budget: the program has backward
	// jumps or local calls. Without them it never reads r9, so the
	// entries neither compute nor load the slice and the exits do not
	// save it.
	budget bool
	// used marks the registers the program names (r0 always, r10 also
	// with local calls, which move it): the entries load and the exits
	// save only these, as the others' values are never observed. The
	// code saves and restores rbp (r10), Go's frame pointer, only if it
	// uses it (see platform.Call).
	used [11]bool
}

// stub is an exit to Go placed out of line, after the program's code.
type stub struct {
	at     x86.Label
	code   uint32
	pc     int
	resume x86.Label
	hasRes bool
}

// Compile compiles insns to native code. The instructions must already be
// valid (asm.Instruction.Validate) with jump targets inside the program, as
// the loader's decoding ensures.
func Compile(insns asm.Instructions, cfg Config) (*Program, error) {
	if !platform.Supported() {
		return nil, fmt.Errorf("compile: %w", platform.ErrUnsupported)
	}
	nslots := insns.Slots()
	if nslots == 0 {
		return nil, errors.New("compile: program has no instructions")
	}
	slotOf := insns.SlotIndex()
	c := &compiler{
		a:       x86.New(),
		cfg:     cfg,
		p:       &Program{byID: cfg.Helpers, source: make([]asm.Instruction, nslots)},
		slots:   make([]x86.Label, nslots+1),
		funcLen: core.FunctionLengths(insns, slotOf, nslots),
	}
	a := c.a
	if !cfg.Listing {
		a.Quiet()
	}
	for i := range c.slots {
		c.slots[i] = a.NewLabel()
	}
	c.save, c.done = a.NewLabel(), a.NewLabel()
	for _, ins := range insns {
		c.calls = c.calls || ins.IsLocalCall()
	}
	heads := loopHeads(insns, slotOf)
	c.budget = c.calls || len(heads) > 0
	c.used = usedRegisters(insns)
	c.used[10] = c.used[10] || c.calls
	start := a.Len()
	c.startEntry()
	for i, ins := range insns {
		pc := slotOf[i]
		c.p.source[pc] = ins
		if heads[pc] {
			a.Align(32)
		}
		a.Bind(c.slots[pc])
		if err := c.instruction(ins, pc, nslots); err != nil {
			return nil, &CompileError{PC: pc, Ins: fmt.Sprint(ins), Err: err}
		}
		if ins.IsWide() {
			// A jump into the second slot of a lddw lands here.
			c.exitStub(c.slots[pc+1], exitFellOff, pc+1)
		}
	}
	a.Bind(c.slots[nslots])
	c.exitNow(exitFellOff, nslots)
	c.emitStubs()
	resume, resumeCall := c.resumeEntries()
	code, err := a.Finish()
	if err != nil {
		return nil, fmt.Errorf("compile: BUG: %w", err)
	}
	if cfg.Listing {
		c.p.listing = a.String()
	}
	seg, err := platform.NewCodeSegment(code)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	p := c.p
	p.seg = seg
	p.start = seg.Entry() + uintptr(start)
	p.resume = seg.Entry() + uintptr(resume)
	p.resumeCall = seg.Entry() + uintptr(resumeCall)
	runtime.AddCleanup(p, func(s *platform.CodeSegment) { _ = s.Close() }, seg)
	return p, nil
}

// usedRegisters marks the registers insns name as a destination or a
// source register (r0, which exit returns, always). A register no
// instruction names is never read: a helper reads only arguments the
// program set, and Go reads only the registers of the instruction that
// exited.
func usedRegisters(insns asm.Instructions) [11]bool {
	var used [11]bool
	used[0] = true
	for _, ins := range insns {
		if ins.Dst <= asm.R10 {
			used[ins.Dst] = true
		}
		// A call's or a lddw's source field is a pseudo kind, not a
		// register; counting a source field that names no register
		// only saves one more register than needed.
		if ins.Src <= asm.R10 && ins.OpCode.Class() != asm.ClassLD && !ins.IsHelperCall() && !ins.IsLocalCall() {
			used[ins.Src] = true
		}
	}
	return used
}

// loopHeads returns the slots that backward jumps target, whose code is
// aligned to 32 bytes (Zen 3's fetch block, and what Go's compiler does)
// so that a short loop's body does not straddle one: fnv1a64's loop at
// 16 mod 64 ran 3 ns slower per run than at 0 or 32. A program without
// loop heads and without local calls counts no budget.
func loopHeads(insns asm.Instructions, slotOf []int) map[int]bool {
	heads := map[int]bool{}
	for i, ins := range insns {
		if ins.IsBranch() && !ins.IsLocalCall() {
			if t := slotOf[i] + 1 + int(ins.JumpOffset()); t <= slotOf[i] {
				heads[t] = true
			}
		}
	}
	return heads
}

// Listing returns the generated code as text, if Config.Listing was set.
func (p *Program) Listing() string { return p.listing }

// resumeEntries emits the entries that resume after an exit to Go, the
// shared register save and the entry function's exit, after the rest of
// the code (the start entry comes first: it is the hot one), and returns
// the offsets of the two entries. The registers are the used ones, the
// slice only with a budget, the push and pop of rbp only if r10 is used.
//
//	resume:      push rbp; r12 = state; load r0-r10 and the slice;
//	             jump to state.resume
//	resumeCall:  the same, without r1-r5 for a verified program
//	save:        store r0-r10 and the slice; pop rbp; return to Go
//	done:        store r0; exit code done; pop rbp; return to Go
func (c *compiler) resumeEntries() (resume, resumeCall int) {
	a := c.a
	resume = a.Len()
	load := func(regs []int) {
		c.saveFP()
		a.MovRR(x86.S64, rState, x86.RDI)
		for _, i := range regs {
			if c.used[i] {
				a.MovRM(x86.S64, reg[i], x86.M(rState, offRegs+int32(8*i)))
			}
		}
		if c.budget {
			a.MovRM(x86.S64, rBudget, x86.M(rState, offSlice))
		}
		a.MovRM(x86.S64, rTmp, x86.M(rState, offResume))
		a.JmpR(rTmp)
	}
	// r1 (rdi) last: it holds the state on entry.
	load([]int{0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1})
	resumeCall = a.Len()
	if c.cfg.Verified {
		load([]int{0, 6, 7, 8, 9, 10})
	} else {
		load([]int{0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1})
	}

	a.Bind(c.save)
	for i := range reg {
		if c.used[i] {
			a.MovMR(x86.S64, x86.M(rState, offRegs+int32(8*i)), reg[i])
		}
	}
	if c.budget {
		a.MovMR(x86.S64, x86.M(rState, offSlice), rBudget)
	}
	c.ret()

	a.Bind(c.done)
	c.exitDone()
	return resume, resumeCall
}

// saveFP pushes rbp, Go's frame pointer, at an entry if the code uses it
// as r10; ret pops it.
func (c *compiler) saveFP() {
	if c.used[10] {
		c.a.Push(x86.RBP)
	}
}

// ret returns to Go (platform.Call's caller), restoring rbp if saveFP
// saved it.
func (c *compiler) ret() {
	if c.used[10] {
		c.a.Pop(x86.RBP)
	}
	c.a.Ret()
}

// exitDone ends the run: r0 is the result.
func (c *compiler) exitDone() {
	c.a.MovMR(x86.S64, x86.M(rState, offRegs), reg[0])
	c.a.MovMI(x86.S32, x86.M(rState, offExit), exitDone)
	c.ret()
}

// startEntry emits the entry of a new run, at the start of the code (the
// first byte of the segment, on a cache-line boundary), which falls
// through into slot 0: r1 and r2 come in rsi and rdx (platform.Enter's
// arguments), the slice is the budget up to SliceUnits, r10 is the top of
// the machine's stack (at a constant offset from the state), the other
// registers are zero as in the interpreter (r0 and r6-r9 only in an
// unverified program: the verifier proved that a verified one writes them
// before reading them), and a program with local calls starts at depth 0
// (also after a run that a panicking helper abandoned inside a call: a
// stale frame would return into code that may be gone).
func (c *compiler) startEntry() {
	a := c.a
	c.saveFP()
	a.MovRR(x86.S64, rState, x86.RDI)
	for i, r := range reg {
		if !c.used[i] {
			continue
		}
		switch i {
		case 1: // rdi = rsi before rsi = rdx before rdx (r3) is zeroed
			a.MovRR(x86.S64, r, x86.RSI)
		case 2:
			a.MovRR(x86.S64, r, x86.RDX)
		case 10:
			a.Lea(x86.S64, r, x86.M(rState, offStackTop))
		case 3, 4, 5:
			// A verified program may read r3-r5 if its type declares
			// them.
			a.ALURR(x86.XOR, x86.S32, r, r)
		default:
			// The verifier proved that r0 and r6-r9 are written before
			// they are read; an unverified program reads zeros.
			if !c.cfg.Verified {
				a.ALURR(x86.XOR, x86.S32, r, r)
			}
		}
	}
	if c.budget {
		// The first slice: r9 = min(budget, SliceUnits).
		a.MovRM(x86.S64, rBudget, x86.M(rState, offBudget))
		a.MovRI(x86.S32, rTmp, SliceUnits)
		a.ALURR(x86.CMP, x86.S64, rBudget, rTmp)
		a.Cmov(x86.CondG, x86.S64, rBudget, rTmp)
	}
	if c.calls {
		a.MovMI(x86.S64, x86.M(rState, offDepth), 0)
	}
}

// exitNow emits an exit to Go with code at slot pc that does not resume.
func (c *compiler) exitNow(code uint32, pc int) {
	a := c.a
	a.MovMI(x86.S32, x86.M(rState, offExit), int32(code))
	a.MovMI(x86.S64, x86.M(rState, offPC), int32(pc))
	a.Jmp(c.save)
}

// exitResume emits an exit to Go with code at slot pc that resumes at
// resume.
func (c *compiler) exitResume(code uint32, pc int, resume x86.Label) {
	a := c.a
	a.MovMI(x86.S32, x86.M(rState, offExit), int32(code))
	a.MovMI(x86.S64, x86.M(rState, offPC), int32(pc))
	a.LeaLabel(rTmp, resume)
	a.MovMR(x86.S64, x86.M(rState, offResume), rTmp)
	a.Jmp(c.save)
}

// exitStub records an out-of-line exit bound to at.
func (c *compiler) exitStub(at x86.Label, code uint32, pc int) {
	c.stubs = append(c.stubs, stub{at: at, code: code, pc: pc})
}

// resumeStub returns the label of a new out-of-line exit that resumes at
// resume.
func (c *compiler) resumeStub(code uint32, pc int, resume x86.Label) x86.Label {
	l := c.a.NewLabel()
	c.stubs = append(c.stubs, stub{at: l, code: code, pc: pc, resume: resume, hasRes: true})
	return l
}

func (c *compiler) emitStubs() {
	for _, s := range c.stubs {
		c.a.Bind(s.at)
		if s.hasRes {
			c.exitResume(s.code, s.pc, s.resume)
		} else {
			c.exitNow(s.code, s.pc)
		}
	}
}

// instruction emits the code of one instruction.
func (c *compiler) instruction(ins asm.Instruction, pc, nslots int) error {
	if err := ins.Validate(); err != nil {
		return err
	}
	if core.WritesFramePointer(ins) {
		return core.ErrFramePointer
	}
	switch class := ins.OpCode.Class(); class {
	case asm.ClassALU, asm.ClassALU64:
		return c.alu(ins, class == asm.ClassALU64)
	case asm.ClassJMP, asm.ClassJMP32:
		return c.jump(ins, pc, nslots, class == asm.ClassJMP)
	case asm.ClassLDX, asm.ClassST, asm.ClassSTX:
		if pc < len(c.cfg.Proven) && c.cfg.Proven[pc] {
			return c.memory(ins, pc)
		}
		c.exitResume(exitAccess, pc, c.slots[pc+1])
		return nil
	case asm.ClassLD:
		if ins.OpCode.Mode() != asm.ModeIMM {
			return fmt.Errorf("%w: legacy packet access (ABS/IND loads) needs a packet context, which no bpfdb program type has", core.ErrUnsupported)
		}
		v, err := core.ResolveLddw(ins, c.cfg.Maps)
		if err != nil {
			return err
		}
		c.a.MovImm64(reg[ins.Dst], v)
		return nil
	}
	return errors.New("BUG: instruction passed validation but has no class the compiler knows")
}

// size returns the operand size of an ALU instruction.
func size(is64 bool) x86.Size {
	if is64 {
		return x86.S64
	}
	return x86.S32
}

var aluOps = map[asm.ALUOp]x86.ALUOp{asm.Add: x86.ADD, asm.Sub: x86.SUB, asm.Or: x86.OR, asm.And: x86.AND, asm.Xor: x86.XOR}
var shiftOps = map[asm.ALUOp]x86.ShiftOp{asm.LSh: x86.SHL, asm.RSh: x86.SHR, asm.ArSh: x86.SAR}

func (c *compiler) alu(ins asm.Instruction, is64 bool) error {
	a := c.a
	s := size(is64)
	d := reg[ins.Dst]
	x := ins.OpCode.Source() == asm.SourceReg
	src := reg[ins.Src%11] // 0 unless x or movsx: Validate checked the field
	imm := int32(ins.Constant)
	switch op := ins.OpCode.ALUOp(); op {
	case asm.Add, asm.Sub, asm.Or, asm.And, asm.Xor:
		if x {
			a.ALURR(aluOps[op], s, d, src)
		} else {
			a.ALURI(aluOps[op], s, d, imm)
		}
	case asm.Mov:
		switch {
		case ins.Offset != 0 && is64:
			switch ins.Offset {
			case 8:
				a.Movsx(x86.S64, d, x86.S8, src)
			case 16:
				a.Movsx(x86.S64, d, x86.S16, src)
			default:
				a.Movsxd(d, src)
			}
		case ins.Offset != 0:
			if ins.Offset == 8 {
				a.Movsx(x86.S32, d, x86.S8, src)
			} else {
				a.Movsx(x86.S32, d, x86.S16, src)
			}
		case x:
			a.MovRR(s, d, src)
		case is64:
			a.MovImm64(d, uint64(int64(imm)))
		default:
			a.MovImm64(d, uint64(uint32(imm)))
		}
	case asm.Mul:
		if x {
			a.IMulRR(s, d, src)
		} else {
			c.multiply(s, d, imm)
		}
	case asm.Neg:
		a.Unary(x86.NEG, s, d)
	case asm.LSh, asm.RSh, asm.ArSh:
		c.shift(shiftOps[op], s, ins, x)
	case asm.Div, asm.Mod:
		c.divide(ins, is64, x)
	case asm.End:
		c.byteSwap(ins, is64)
	default:
		return fmt.Errorf("BUG: ALU operation %v has no lowering", op)
	}
	return nil
}

// multiply emits d *= imm, with shifts, LEA or shift-and-add where they
// are faster than IMUL (3 cycles of latency): a hash's multiply by 31 is on
// its loop's critical path.
func (c *compiler) multiply(s x86.Size, d x86.Reg, imm int32) {
	a := c.a
	k := bits.TrailingZeros32(uint32(imm))
	switch {
	case imm == 0:
		a.ALURR(x86.XOR, x86.S32, d, d)
	case imm == 1 && s == x86.S32:
		a.MovRR(x86.S32, d, d)
	case imm == 1:
	case imm > 0 && imm&(imm-1) == 0:
		a.ShiftRI(x86.SHL, s, d, uint8(k))
	case imm == 3 || imm == 5 || imm == 9:
		a.Lea(s, d, x86.MI(d, d, uint8(imm-1), 0))
	case imm > 2 && (imm+1)&imm == 0: // 2^k - 1
		a.MovRR(x86.S64, rTmp, d)
		a.ShiftRI(x86.SHL, s, d, uint8(bits.Len32(uint32(imm))))
		a.ALURR(x86.SUB, s, d, rTmp)
	case imm > 2 && (imm-1)&(imm-2) == 0: // 2^k + 1
		a.MovRR(x86.S64, rTmp, d)
		a.ShiftRI(x86.SHL, s, d, uint8(bits.Len32(uint32(imm-1))-1))
		a.ALURR(x86.ADD, s, d, rTmp)
	default:
		a.IMulRRI(s, d, d, imm)
	}
}

// shift emits a shift; the count is masked to the operand width as eBPF and
// x86 both define it. A count register other than rcx goes through cl.
func (c *compiler) shift(op x86.ShiftOp, s x86.Size, ins asm.Instruction, x bool) {
	a := c.a
	d := reg[ins.Dst]
	if !x {
		n := uint8(uint32(ins.Constant) & uint32(s.Bits()-1))
		switch {
		case n != 0:
			a.ShiftRI(op, s, d, n)
		case s == x86.S32:
			a.MovRR(x86.S32, d, d) // a 32-bit operation clears the upper half
		}
		return
	}
	src := reg[ins.Src]
	switch {
	case src == x86.RCX && d != x86.RCX:
		a.ShiftCL(op, s, d)
	case src == x86.RCX: // rcx shifted by itself
		a.MovRR(x86.S64, rTmp, x86.RCX)
		a.ShiftCL(op, s, rTmp)
		a.MovRR(x86.S64, x86.RCX, rTmp)
	case d == x86.RCX:
		a.MovRR(x86.S64, rTmp, x86.RCX)
		a.MovRR(x86.S64, x86.RCX, src)
		a.ShiftCL(op, s, rTmp)
		a.MovRR(x86.S64, x86.RCX, rTmp)
	default:
		a.MovRR(x86.S64, rTmp, x86.RCX)
		a.MovRR(x86.S64, x86.RCX, src)
		a.ShiftCL(op, s, d)
		a.MovRR(x86.S64, x86.RCX, rTmp)
	}
}

// divide emits div, mod, sdiv and smod with eBPF's rules: a zero divisor
// gives 0 (div) or leaves the dividend (mod, truncated to 32 bits in 32-bit
// operations); a signed division by -1 negates (INT_MIN stays INT_MIN) and
// its remainder is 0, where x86's IDIV would trap.
//
//	r11 = divisor; r10 = rax; push rdx; rax = dividend
//	test r11; jz zero; [cmp r11, -1; je minus1]
//	xor edx, edx | cqo; div | idiv r11; r11 = rax (div) | rdx (mod); jmp out
//	zero:   r11 = 0 (div) | dividend (mod)
//	minus1: r11 = -dividend (div) | 0 (mod)
//	out:    pop rdx; rax = r10; dst = r11
func (c *compiler) divide(ins asm.Instruction, is64, x bool) {
	a := c.a
	s := size(is64)
	d := reg[ins.Dst]
	signed := ins.Offset == 1
	isMod := ins.OpCode.ALUOp() == asm.Mod
	if !x {
		divisor := ins.Constant
		if !is64 {
			divisor = int64(uint32(divisor))
			if signed {
				divisor = int64(int32(divisor))
			}
		}
		switch {
		case divisor == 0 && isMod:
			if !is64 {
				a.MovRR(x86.S32, d, d)
			}
			return
		case divisor == 0:
			a.ALURR(x86.XOR, x86.S32, d, d)
			return
		case divisor == -1 && signed && isMod:
			a.ALURR(x86.XOR, x86.S32, d, d)
			return
		case divisor == -1 && signed:
			a.Unary(x86.NEG, s, d)
			return
		}
		if is64 {
			a.MovImm64(rTmp, uint64(divisor))
		} else {
			a.MovRI(x86.S32, rTmp, int32(divisor))
		}
	} else {
		a.MovRR(x86.S64, rTmp, reg[ins.Src])
	}
	zero, minus1, out := a.NewLabel(), a.NewLabel(), a.NewLabel()
	a.MovRR(x86.S64, rTmp2, x86.RAX)
	a.Push(x86.RDX)
	if d != x86.RAX {
		if d == x86.RDX {
			a.MovRM(x86.S64, x86.RAX, x86.M(x86.RSP, 0)) // rdx's value, pushed above
		} else {
			a.MovRR(x86.S64, x86.RAX, d)
		}
	} else {
		a.MovRR(x86.S64, x86.RAX, rTmp2)
	}
	if x {
		a.TestRR(s, rTmp, rTmp)
		a.Jcc(x86.CondE, zero)
		if signed {
			a.ALURI(x86.CMP, s, rTmp, -1)
			a.Jcc(x86.CondE, minus1)
		}
	}
	switch {
	case signed && is64:
		a.Cqo()
	case signed:
		a.Cdq()
	default:
		a.ALURR(x86.XOR, x86.S32, x86.RDX, x86.RDX)
	}
	if signed {
		a.Unary(x86.IDIV, s, rTmp)
	} else {
		a.Unary(x86.DIV, s, rTmp)
	}
	if isMod {
		a.MovRR(s, rTmp, x86.RDX)
	} else {
		a.MovRR(s, rTmp, x86.RAX)
	}
	if x {
		a.Jmp(out)
		a.Bind(zero)
		if isMod {
			a.MovRR(s, rTmp, x86.RAX)
		} else {
			a.ALURR(x86.XOR, x86.S32, rTmp, rTmp)
		}
		if signed {
			a.Jmp(out)
			a.Bind(minus1)
			if isMod {
				a.ALURR(x86.XOR, x86.S32, rTmp, rTmp)
			} else {
				a.MovRR(s, rTmp, x86.RAX)
				a.Unary(x86.NEG, s, rTmp)
			}
		}
		a.Bind(out)
	}
	a.Pop(x86.RDX)
	a.MovRR(x86.S64, x86.RAX, rTmp2)
	a.MovRR(x86.S64, d, rTmp)
}

// byteSwap emits le/be/bswap. The host is little-endian: le truncates, be
// and bswap swap, all zero-extend.
func (c *compiler) byteSwap(ins asm.Instruction, is64 bool) {
	a := c.a
	d := reg[ins.Dst]
	swap := is64 || ins.OpCode != asm.OpToLE
	switch ins.Constant {
	case 16:
		if swap {
			a.ShiftRI(x86.ROL, x86.S16, d, 8)
		}
		a.Movzx(x86.S32, d, x86.S16, d)
	case 32:
		if swap {
			a.Bswap(x86.S32, d)
		} else {
			a.MovRR(x86.S32, d, d)
		}
	default:
		if swap {
			a.Bswap(x86.S64, d)
		}
	}
}

// conds maps eBPF conditional jumps to x86 conditions (JSet tests, the
// others compare).
var conds = map[asm.JumpOp]x86.Cond{
	asm.JEq: x86.CondE, asm.JNE: x86.CondNE, asm.JSet: x86.CondNE,
	asm.JGT: x86.CondA, asm.JGE: x86.CondAE, asm.JLT: x86.CondB, asm.JLE: x86.CondBE,
	asm.JSGT: x86.CondG, asm.JSGE: x86.CondGE, asm.JSLT: x86.CondL, asm.JSLE: x86.CondLE,
}

func (c *compiler) jump(ins asm.Instruction, pc, nslots int, is64 bool) error {
	a := c.a
	op := ins.OpCode.JumpOp()
	switch op {
	case asm.Exit:
		c.exit()
		return nil
	case asm.Call:
		return c.call(ins, pc, nslots)
	}
	target := pc + 1 + int(ins.JumpOffset())
	if target < 0 || target >= nslots {
		return fmt.Errorf("jump target %d is outside the program", target)
	}
	if op == asm.Ja {
		if target <= pc {
			c.backEdge(pc, target)
		} else if target != pc+1 {
			a.Jmp(c.slots[target])
		}
		return nil
	}
	cond, err := c.compare(ins, is64)
	if err != nil {
		return err
	}
	if target > pc {
		a.Jcc(cond, c.slots[target])
		return nil
	}
	next := a.NewLabel()
	a.Jcc(cond.Invert(), next)
	c.backEdge(pc, target)
	a.Bind(next)
	return nil
}

// compare emits the comparison (or test) of a conditional jump and returns
// the condition on which it jumps.
func (c *compiler) compare(ins asm.Instruction, is64 bool) (x86.Cond, error) {
	a := c.a
	op := ins.OpCode.JumpOp()
	s := size(is64)
	d := reg[ins.Dst]
	x := ins.OpCode.Source() == asm.SourceReg
	imm := int32(ins.Constant)
	switch {
	case op == asm.JSet && x:
		a.TestRR(s, d, reg[ins.Src])
	case op == asm.JSet:
		a.TestRI(s, d, imm)
	case x:
		a.ALURR(x86.CMP, s, d, reg[ins.Src])
	case imm == 0:
		a.TestRR(s, d, d) // same flags as cmp d, 0 for every condition used
	default:
		a.ALURI(x86.CMP, s, d, imm)
	}
	cond, ok := conds[op]
	if !ok {
		return 0, fmt.Errorf("BUG: jump operation %v has no condition", op)
	}
	return cond, nil
}

// inlineHelper emits a pure helper's body (Config.Inline) in place of its
// call. Its instructions compile as the program's own do; its jumps go to
// labels of the body, forward only, so it charges no budget, as the call it
// replaces.
func (c *compiler) inlineHelper(body asm.Instructions) error {
	a := c.a
	slotOf := body.SlotIndex()
	n := body.Slots()
	labels := make([]x86.Label, n+1)
	for i := range labels {
		labels[i] = a.NewLabel()
	}
	for i, ins := range body {
		pc := slotOf[i]
		a.Bind(labels[pc])
		if ins.IsWide() {
			a.Bind(labels[pc+1]) // never a target: the loader checked
		}
		var err error
		switch class := ins.OpCode.Class(); class {
		case asm.ClassALU, asm.ClassALU64:
			err = c.alu(ins, class == asm.ClassALU64)
		case asm.ClassLD:
			a.MovImm64(reg[ins.Dst], uint64(ins.Constant))
		case asm.ClassJMP, asm.ClassJMP32:
			t := pc + 1 + int(ins.JumpOffset())
			if t <= pc || t > n {
				return fmt.Errorf("inline helper body: instruction %d jumps outside the body", pc)
			}
			if ins.OpCode.JumpOp() == asm.Ja {
				a.Jmp(labels[t])
				continue
			}
			var cond x86.Cond
			cond, err = c.compare(ins, class == asm.ClassJMP)
			if err == nil {
				a.Jcc(cond, labels[t])
			}
		default:
			err = fmt.Errorf("%v is not allowed", ins)
		}
		if err != nil {
			return fmt.Errorf("inline helper body: instruction %d: %w", pc, err)
		}
	}
	a.Bind(labels[n])
	return nil
}

// backEdge emits a taken backward jump from pc to target: it charges the
// slots jumped back over plus one to the budget slice, and exits to Go when
// the slice runs out (Go then charges the run's budget and resumes at the
// target, or ends the run).
//
//	sub r9, n; jge target; jmp budget (out of line)
//
// A conditional back edge is then two branches per iteration, the loop's
// exit (not taken) and this one (taken), which Zen 3 predicts in one
// cycle. Measured and rejected: "jl budget; jmp target" (three branches:
// the 100-iteration loop of helper_call with an inline helper 42 -> 66
// ns) and charging before the loop's compare with a refund on exit (two
// branches, but fnv1a64 66 instead of 62 ns).
func (c *compiler) backEdge(pc, target int) {
	a := c.a
	a.ALURI(x86.SUB, x86.S64, rBudget, int32(pc+1-target))
	a.Jcc(x86.CondGE, c.slots[target])
	a.Jmp(c.resumeStub(exitBudget, pc, c.slots[target]))
}

// exit emits exit: in a called function it restores the caller's frame and
// returns to it, in the entry function it ends the run. A program without
// local calls has only the entry function, and its exits end the run in
// place.
//
//	r11 = depth; if 0: done
//	depth = --r11; r11 = &frames[r11]
//	restore r6-r9, r10; jump to the saved return address
func (c *compiler) exit() {
	a := c.a
	if !c.calls {
		c.exitDone()
		return
	}
	a.MovRM(x86.S64, rTmp, x86.M(rState, offDepth))
	a.TestRR(x86.S64, rTmp, rTmp)
	a.Jcc(x86.CondE, c.done)
	a.ALURI(x86.SUB, x86.S64, rTmp, 1)
	a.MovMR(x86.S64, x86.M(rState, offDepth), rTmp)
	a.ShiftRI(x86.SHL, x86.S64, rTmp, 6)
	a.Lea(x86.S64, rTmp, x86.MI(rState, rTmp, 1, offFrames))
	for i := 6; i <= 10; i++ {
		a.MovRM(x86.S64, reg[i], x86.M(rTmp, int32(8*(i-6))))
	}
	a.MovRM(x86.S64, rTmp, x86.M(rTmp, 40))
	a.JmpR(rTmp)
}

func (c *compiler) call(ins asm.Instruction, pc, nslots int) error {
	a := c.a
	switch {
	case ins.OpCode.Source() == asm.SourceReg:
		after := a.NewLabel()
		c.exitResume(exitCallX, pc, after)
		a.Bind(after)
	case ins.Src == asm.PseudoCallLocal:
		target := pc + 1 + int(ins.JumpOffset())
		if target < 0 || target >= nslots {
			return fmt.Errorf("jump target %d is outside the program", target)
		}
		c.localCall(pc, target)
	case ins.Src == asm.PseudoCallHelper && c.hasLookup(pc):
		c.inlineLookup(c.cfg.Lookups[pc])
	case ins.Src == asm.PseudoCallHelper && c.cfg.Inline[ins.Imm()] != nil:
		return c.inlineHelper(c.cfg.Inline[ins.Imm()])
	case ins.Src == asm.PseudoCallHelper:
		id := ins.Imm()
		fn := c.cfg.Helpers[id]
		if fn == nil {
			return fmt.Errorf("%w %d", core.ErrUnknownHelper, id)
		}
		// The exit names the call site, which gives Go the function and
		// (for errors) the slot: the code stores no slot.
		code := exitHelper | uint32(len(c.p.sites))<<8
		c.p.sites = append(c.p.sites, site{fn: fn, pc: pc})
		after := a.NewLabel()
		a.MovMI(x86.S32, x86.M(rState, offExit), int32(code))
		a.LeaLabel(rTmp, after)
		a.MovMR(x86.S64, x86.M(rState, offResume), rTmp)
		a.Jmp(c.save)
		a.Bind(after)
	default:
		return fmt.Errorf("%w: kernel function calls (kfuncs) are not available", core.ErrUnsupported)
	}
	return nil
}

func (c *compiler) hasLookup(pc int) bool {
	_, ok := c.cfg.Lookups[pc]
	return ok
}

// inlineLookup emits map_lookup_elem of an array map in place of the
// helper call (r1-r5 keep their values, as after a real call):
//
//	mov r11d, dword [rsi]       ; the key, at r2
//	cmp r11d, Entries; jae null
//	imul r11, r11, Stride       ; (a shift for a power of two)
//	mov rax, Base; add rax, r11; jmp done
//	null: xor eax, eax
//	done:
func (c *compiler) inlineLookup(l ArrayLookup) {
	a := c.a
	null, done := a.NewLabel(), a.NewLabel()
	a.MovRM(x86.S32, rTmp, x86.M(reg[2], 0))
	a.ALURI(x86.CMP, x86.S32, rTmp, int32(l.Entries))
	a.Jcc(x86.CondAE, null)
	if l.Stride&(l.Stride-1) == 0 {
		if k := bits.TrailingZeros64(l.Stride); k > 0 {
			a.ShiftRI(x86.SHL, x86.S64, rTmp, uint8(k))
		}
	} else {
		a.IMulRRI(x86.S64, rTmp, rTmp, int32(l.Stride))
	}
	a.MovImm64(reg[0], l.Base)
	a.ALURR(x86.ADD, x86.S64, reg[0], rTmp)
	a.Jmp(done)
	a.Bind(null)
	a.ALURR(x86.XOR, x86.S32, reg[0], reg[0])
	a.Bind(done)
}

// localCall emits a bpf-to-bpf call: the frame limit, the budget charge
// (the callee's length), the saved frame, a fresh 512-byte stack frame.
//
//	cmp depth, 7; jae overflow
//	r9 -= len; jl budget (resumes at charged)
//	charged: r11 = &frames[depth]; save r6-r9, r10, return address; depth++
//	r10 -= 512; jmp callee
//	ret:
func (c *compiler) localCall(pc, target int) {
	a := c.a
	overflow := a.NewLabel()
	c.exitStub(overflow, exitOverflow, pc)
	a.ALUMI(x86.CMP, x86.S64, x86.M(rState, offDepth), core.MaxFrames-1)
	a.Jcc(x86.CondAE, overflow)
	charged, ret := a.NewLabel(), a.NewLabel()
	a.ALURI(x86.SUB, x86.S64, rBudget, int32(c.funcLen[target]))
	a.Jcc(x86.CondL, c.resumeStub(exitBudget, pc, charged))
	a.Bind(charged)
	a.MovRM(x86.S64, rTmp, x86.M(rState, offDepth))
	a.ShiftRI(x86.SHL, x86.S64, rTmp, 6)
	a.Lea(x86.S64, rTmp, x86.MI(rState, rTmp, 1, offFrames))
	for i := 6; i <= 10; i++ {
		a.MovMR(x86.S64, x86.M(rTmp, int32(8*(i-6))), reg[i])
	}
	a.LeaLabel(rTmp2, ret)
	a.MovMR(x86.S64, x86.M(rTmp, 40), rTmp2)
	a.ALUMI(x86.ADD, x86.S64, x86.M(rState, offDepth), 1)
	a.ALURI(x86.SUB, x86.S64, reg[10], core.StackSize)
	a.Jmp(c.slots[target])
	a.Bind(ret)
}

var memSizes = [4]x86.Size{x86.S32, x86.S16, x86.S8, x86.S64} // by asm.Size >> 3

// memory emits a load, store or atomic the verifier proved in bounds: a
// plain machine access at the register's address plus the offset.
func (c *compiler) memory(ins asm.Instruction, pc int) error {
	a := c.a
	opc := ins.OpCode
	s := memSizes[opc.Size()>>3]
	switch opc.Class() {
	case asm.ClassLDX:
		m := x86.M(reg[ins.Src], int32(ins.Offset))
		d := reg[ins.Dst]
		switch {
		case opc.Mode() == asm.ModeMEMSX && s == x86.S32:
			a.MovsxdRM(d, m)
		case opc.Mode() == asm.ModeMEMSX:
			a.MovsxRM(x86.S64, d, s, m)
		case s == x86.S8 || s == x86.S16:
			a.MovzxRM(x86.S32, d, s, m)
		default:
			a.MovRM(s, d, m)
		}
	case asm.ClassST:
		m := x86.M(reg[ins.Dst], int32(ins.Offset))
		imm := int32(ins.Constant)
		switch s {
		case x86.S8:
			imm = int32(int8(imm))
		case x86.S16:
			imm = int32(int16(imm))
		}
		a.MovMI(s, m, imm)
	case asm.ClassSTX:
		m := x86.M(reg[ins.Dst], int32(ins.Offset))
		if opc.Mode() == asm.ModeATOMIC {
			// The verifier proves alignment relative to the start of the
			// memory, which the host may not have aligned: a misaligned
			// atomic leaves for Go, which reports it as the interpreter
			// does.
			a.Lea(x86.S64, rTmp, m)
			a.TestRI(x86.S32, rTmp, int32(s.Bits()/8-1))
			a.Jcc(x86.CondNE, c.resumeStub(exitAccess, pc, c.slots[pc+1]))
			return c.atomic(ins, s, m)
		}
		a.MovMR(s, m, reg[ins.Src])
	}
	return nil
}

var atomicALU = map[asm.AtomicOp]x86.ALUOp{asm.AtomicAdd: x86.ADD, asm.AtomicOr: x86.OR, asm.AtomicAnd: x86.AND, asm.AtomicXor: x86.XOR}

// atomic emits an atomic read-modify-write of the proven, aligned m.
//
//	add:        lock add [m], src
//	fetch add:  lock xadd [m], src
//	xchg:       xchg [m], src
//	cmpxchg:    lock cmpxchg [m], src   (compares and loads rax = r0)
//	fetch or/and/xor, a compare-and-swap loop through rax:
//	  push src; push rax; r11 = &m; rax = [r11]
//	  loop: r10 = rax OP [rsp+8]; lock cmpxchg [r11], r10; jne loop
//	  r10 = rax; pop rax; add rsp, 8; src = r10
func (c *compiler) atomic(ins asm.Instruction, s x86.Size, m x86.Mem) error {
	a := c.a
	src := reg[ins.Src]
	op := asm.AtomicOp(ins.Constant)
	switch op {
	case asm.AtomicAdd, asm.AtomicOr, asm.AtomicAnd, asm.AtomicXor:
		a.LockALUMR(atomicALU[op], s, m, src)
	case asm.AtomicAdd | asm.AtomicFetch:
		a.LockXadd(s, m, src)
	case asm.AtomicXchg:
		a.Xchg(s, m, src)
	case asm.AtomicCmpXchg:
		a.LockCmpxchg(s, m, src)
		if s == x86.S32 {
			a.MovRR(x86.S32, x86.RAX, x86.RAX) // r0 = the old value, zero-extended
		}
	case asm.AtomicOr | asm.AtomicFetch, asm.AtomicAnd | asm.AtomicFetch, asm.AtomicXor | asm.AtomicFetch:
		a.Push(src)
		a.Push(x86.RAX)
		a.Lea(x86.S64, rTmp, m)
		a.MovRM(s, x86.RAX, x86.M(rTmp, 0))
		loop := a.NewLabel()
		a.Bind(loop)
		a.MovRR(x86.S64, rTmp2, x86.RAX)
		a.ALURM(atomicALU[op&^asm.AtomicFetch], s, rTmp2, x86.M(x86.RSP, 8))
		a.LockCmpxchg(s, x86.M(rTmp, 0), rTmp2)
		a.Jcc(x86.CondNE, loop)
		a.MovRR(s, rTmp2, x86.RAX)
		a.Pop(x86.RAX)
		a.ALURI(x86.ADD, x86.S64, x86.RSP, 8)
		a.MovRR(x86.S64, src, rTmp2)
	default:
		return fmt.Errorf("BUG: atomic operation %v has no lowering", op)
	}
	return nil
}
