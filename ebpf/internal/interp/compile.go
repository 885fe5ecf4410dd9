package interp

import (
	"errors"
	"fmt"
	"slices"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// inst is one pre-decoded instruction slot. Its layout is 16 bytes:
//
//	 0    1     2     3     4          8                  16
//	+----+-----+-----+-----+----------+------------------+
//	| op | dst | src | aop |   off    |       imm        |
//	+----+-----+-----+-----+----------+------------------+
//
// off is the memory offset of a load or store, the absolute target slot of
// a jump or local call, or the index of a helper in Program.helpers; imm is
// the sign-extended immediate (or the whole constant of lddw); aop is the
// atomic operation. For a local call, imm is the callee's length (its
// budget charge).
type inst struct {
	op  op
	dst uint8
	src uint8
	aop uint8
	off int32
	imm int64
}

// Program is a program decoded for the interpreter. It is immutable and safe
// for concurrent use: each run brings its own registers and stack.
type Program struct {
	insns   []inst
	source  []asm.Instruction // by slot, for error messages (zero for lddw's second slot)
	helpers []core.HelperFunc // referenced by call instructions
	byID    map[int32]core.HelperFunc
	maps    []maps.Map
}

// Config is what decoding needs from the loader.
type Config struct {
	// Helpers resolves a helper id. Calls to ids it does not know are
	// rejected at decode time.
	Helpers map[int32]core.HelperFunc
	// Maps is the program's map table, indexed by map pseudo-loads.
	Maps []maps.Map
}

// ErrUnsupported is wrapped by decode errors for instructions the runtime
// deliberately does not implement (legacy packet access, kfuncs, ...).
var ErrUnsupported = core.ErrUnsupported

// ErrFramePointer is the cause of a decode error for an instruction that
// writes r10, which is read-only: every run's stack frames hang off it.
var ErrFramePointer = core.ErrFramePointer

// CompileError names the instruction that cannot be decoded.
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

// Compile decodes insns for the interpreter. The instructions must already
// be valid (asm.Instruction.Validate) with jump targets inside the program.
func Compile(insns asm.Instructions, cfg Config) (*Program, error) {
	nslots := insns.Slots()
	if nslots == 0 {
		return nil, errors.New("program has no instructions")
	}
	p := &Program{
		// Two extra slots: the first traps a fall off the end (opInvalid),
		// the second keeps the fast loop's next-instruction pointer inside
		// this allocation after it fetches the first.
		insns:  make([]inst, nslots+2),
		source: make([]asm.Instruction, nslots),
		byID:   cfg.Helpers,
		maps:   cfg.Maps,
	}
	slotOf := insns.SlotIndex()
	funcLen := core.FunctionLengths(insns, slotOf, nslots)
	helperIdx := map[int32]int32{}
	for i, ins := range insns {
		pc := slotOf[i]
		p.source[pc] = ins
		in, err := p.decode(ins, pc, nslots, funcLen, helperIdx, cfg)
		if err != nil {
			return nil, &CompileError{PC: pc, Ins: fmt.Sprint(ins), Err: err}
		}
		p.insns[pc] = in
	}
	return p, nil
}

// Unchecked returns a copy of p that performs the loads, stores and
// atomics of the slots where skip is true without their region check: the
// address a register holds is dereferenced as a host address. Atomics keep
// their alignment check. Other slots, and slots past len(skip), are
// unchanged.
//
// It is safe only if, on every run, each such access lies inside memory
// that stays alive for the whole run and is writable if the access writes:
// the machine's stack, the run's context, map memory. The verifier proves
// that of an accepted program's accesses under conditions the loader must
// uphold (ebpf.NewProgram decides which slots qualify); a wrong slot here
// reads or corrupts arbitrary host memory.
func (p *Program) Unchecked(skip []bool) *Program {
	q := *p
	q.insns = slices.Clone(p.insns)
	for pc, s := range skip {
		if s && pc < len(q.insns) && q.insns[pc].op >= opLdxB && q.insns[pc].op <= opAtomic64 {
			q.insns[pc].op += opLdxBU - opLdxB
		}
	}
	return &q
}

var alu64K = [14]op{opAdd64K, opSub64K, opMul64K, opDiv64K, opOr64K, opAnd64K, opLsh64K, opRsh64K, opNeg64, opMod64K, opXor64K, opMov64K, opArsh64K, opInvalid}
var alu64X = [14]op{opAdd64X, opSub64X, opMul64X, opDiv64X, opOr64X, opAnd64X, opLsh64X, opRsh64X, opInvalid, opMod64X, opXor64X, opMov64X, opArsh64X, opInvalid}
var alu32K = [14]op{opAdd32K, opSub32K, opMul32K, opDiv32K, opOr32K, opAnd32K, opLsh32K, opRsh32K, opNeg32, opMod32K, opXor32K, opMov32K, opArsh32K, opInvalid}
var alu32X = [14]op{opAdd32X, opSub32X, opMul32X, opDiv32X, opOr32X, opAnd32X, opLsh32X, opRsh32X, opInvalid, opMod32X, opXor32X, opMov32X, opArsh32X, opInvalid}

// Conditional jumps indexed by JumpOp>>4 (Ja, Call, Exit excluded).
var jmp64K = [14]op{0, opJEq64K, opJGT64K, opJGE64K, opJSet64K, opJNE64K, opJSGT64K, opJSGE64K, 0, 0, opJLT64K, opJLE64K, opJSLT64K, opJSLE64K}
var jmp64X = [14]op{0, opJEq64X, opJGT64X, opJGE64X, opJSet64X, opJNE64X, opJSGT64X, opJSGE64X, 0, 0, opJLT64X, opJLE64X, opJSLT64X, opJSLE64X}
var jmp32K = [14]op{0, opJEq32K, opJGT32K, opJGE32K, opJSet32K, opJNE32K, opJSGT32K, opJSGE32K, 0, 0, opJLT32K, opJLE32K, opJSLT32K, opJSLE32K}
var jmp32X = [14]op{0, opJEq32X, opJGT32X, opJGE32X, opJSet32X, opJNE32X, opJSGT32X, opJSGE32X, 0, 0, opJLT32X, opJLE32X, opJSLT32X, opJSLE32X}

func (p *Program) decode(ins asm.Instruction, pc, nslots int, funcLen map[int]int, helperIdx map[int32]int32, cfg Config) (inst, error) {
	if err := ins.Validate(); err != nil {
		return inst{}, err
	}
	if core.WritesFramePointer(ins) {
		return inst{}, ErrFramePointer
	}
	in := inst{dst: uint8(ins.Dst), src: uint8(ins.Src), off: int32(ins.Offset), imm: ins.Constant}
	opc := ins.OpCode
	class := opc.Class()
	switch class {
	case asm.ClassALU64, asm.ClassALU:
		a := opc.ALUOp()
		k := int(a >> 4)
		is64 := class == asm.ClassALU64
		reg := opc.Source() == asm.SourceReg
		switch {
		case a == asm.End:
			in.op = endOp(opc, ins.Constant)
		case a == asm.Div && ins.Offset == 1:
			in.op = pick(is64, reg, opSDiv64K, opSDiv64X, opSDiv32K, opSDiv32X)
		case a == asm.Mod && ins.Offset == 1:
			in.op = pick(is64, reg, opSMod64K, opSMod64X, opSMod32K, opSMod32X)
		case a == asm.Mov && ins.Offset != 0:
			switch {
			case is64 && ins.Offset == 8:
				in.op = opMovSX8To64
			case is64 && ins.Offset == 16:
				in.op = opMovSX16To64
			case is64:
				in.op = opMovSX32To64
			case ins.Offset == 8:
				in.op = opMovSX8To32
			default:
				in.op = opMovSX16To32
			}
		case is64 && reg:
			in.op = alu64X[k]
		case is64:
			in.op = alu64K[k]
		case reg:
			in.op = alu32X[k]
		default:
			in.op = alu32K[k]
		}
		in.off = 0
		if !reg && !is64 {
			// 32-bit operations see the immediate as an unsigned 32-bit value.
			in.imm = int64(uint32(ins.Constant))
		}
	case asm.ClassJMP, asm.ClassJMP32:
		j := opc.JumpOp()
		switch j {
		case asm.Exit:
			in.op = opExit
		case asm.Call:
			switch {
			case opc.Source() == asm.SourceReg:
				in.op = opCallX
			case ins.Src == asm.PseudoCallLocal:
				in.op = opCallLocal
				t := pc + 1 + int(ins.JumpOffset())
				in.off = int32(t)
				in.imm = int64(funcLen[t])
			case ins.Src == asm.PseudoCallHelper:
				id := ins.Imm()
				if cfg.Helpers[id] == nil {
					return inst{}, fmt.Errorf("%w %d", core.ErrUnknownHelper, id)
				}
				idx, ok := helperIdx[id]
				if !ok {
					idx = int32(len(p.helpers))
					helperIdx[id] = idx
					p.helpers = append(p.helpers, cfg.Helpers[id])
				}
				in.op = opCall
				in.off = idx
			default:
				return inst{}, fmt.Errorf("%w: kernel function calls (kfuncs) are not available", ErrUnsupported)
			}
		case asm.Ja:
			in.op = opJa
			in.off = int32(pc + 1 + int(ins.JumpOffset()))
		default:
			k := int(j >> 4)
			reg := opc.Source() == asm.SourceReg
			in.op = pick(class == asm.ClassJMP, reg, jmp64K[k], jmp64X[k], jmp32K[k], jmp32X[k])
			in.off = int32(pc + 1 + int(ins.JumpOffset()))
			if class == asm.ClassJMP32 && !reg {
				in.imm = int64(uint32(ins.Constant))
			}
		}
		if in.op == opJa || (in.op >= opJEq64K && in.op <= opJSLE32X) || in.op == opCallLocal {
			if in.off < 0 || int(in.off) >= nslots {
				return inst{}, fmt.Errorf("jump target %d is outside the program", in.off)
			}
		}
	case asm.ClassLDX:
		sx := opc.Mode() == asm.ModeMEMSX
		switch opc.Size() {
		case asm.SizeB:
			in.op = pickSX(sx, opLdxB, opLdxSB)
		case asm.SizeH:
			in.op = pickSX(sx, opLdxH, opLdxSH)
		case asm.SizeW:
			in.op = pickSX(sx, opLdxW, opLdxSW)
		default:
			in.op = opLdxDW
		}
	case asm.ClassST:
		in.op = [4]op{opStW, opStH, opStB, opStDW}[opc.Size()>>3]
	case asm.ClassSTX:
		if opc.Mode() == asm.ModeATOMIC {
			in.op = opAtomic32
			if opc.Size() == asm.SizeDW {
				in.op = opAtomic64
			}
			in.aop = uint8(ins.Constant)
			in.imm = 0
		} else {
			in.op = [4]op{opStxW, opStxH, opStxB, opStxDW}[opc.Size()>>3]
		}
	case asm.ClassLD:
		if opc.Mode() != asm.ModeIMM {
			return inst{}, fmt.Errorf("%w: legacy packet access (ABS/IND loads) needs a packet context, which no bpfdb program type has", ErrUnsupported)
		}
		in.op = opLddw
		in.src = 0
		v, err := core.ResolveLddw(ins, p.maps)
		if err != nil {
			return inst{}, err
		}
		in.imm = int64(v)
	}
	if in.op == opInvalid {
		return inst{}, errors.New("BUG: instruction passed validation but has no interpreter operation")
	}
	return in, nil
}

func pick(is64, reg bool, k64, x64, k32, x32 op) op {
	switch {
	case is64 && reg:
		return x64
	case is64:
		return k64
	case reg:
		return x32
	default:
		return k32
	}
}

func pickSX(sx bool, zero, sign op) op {
	if sx {
		return sign
	}
	return zero
}

func endOp(opc asm.OpCode, width int64) op {
	if opc == asm.OpToLE {
		switch width {
		case 16:
			return opLE16
		case 32:
			return opLE32
		}
		return opLE64
	}
	// be and the unconditional bswap are the same on a little-endian host.
	switch width {
	case 16:
		return opBE16
	case 32:
		return opBE32
	}
	return opBE64
}
