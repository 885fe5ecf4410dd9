package verifier

import (
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
)

// regSet is a set of registers r0..r10, bit i for ri.
type regSet uint16

const argRegs regSet = 0b111110 // r1..r5

// useDef returns the registers an instruction reads and writes.
func (v *verifier) useDef(ins asm.Instruction) (use, def regSet) {
	op := ins.OpCode
	d, s := regSet(1)<<ins.Dst, regSet(1)<<ins.Src
	switch c := op.Class(); c {
	case asm.ClassALU, asm.ClassALU64:
		switch a := op.ALUOp(); {
		case a == asm.Mov:
			if op.Source() == asm.SourceReg {
				use = s
			}
		case a == asm.End || a == asm.Neg:
			use = d
		default:
			use = d
			if op.Source() == asm.SourceReg {
				use |= s
			}
		}
		return use, d
	case asm.ClassLD:
		return 0, d
	case asm.ClassLDX:
		return s, d
	case asm.ClassST:
		return d, 0
	case asm.ClassSTX:
		if op.Mode() != asm.ModeATOMIC {
			return d | s, 0
		}
		use = d | s
		aop := asm.AtomicOp(ins.Constant)
		switch {
		case aop == asm.AtomicCmpXchg:
			use |= 1
			def = 1
		case aop&asm.AtomicFetch != 0:
			def = s
		}
		return use, def
	}
	switch j := op.JumpOp(); {
	case j == asm.Exit:
		return 1, 0
	case j == asm.Call && ins.IsLocalCall():
		return argRegs, argRegs | 1
	case j == asm.Call:
		use = argRegs
		if !ins.IsHelperCall() {
			use |= d // callx
		} else if p, ok := v.cfg.Helpers[ins.Imm()]; ok {
			use = 0
			for i, k := range p.Args {
				if k != core.ArgNone {
					use |= 1 << (i + 1)
				}
			}
		}
		return use, argRegs | 1
	case j == asm.Ja:
		return 0, 0
	}
	use = d
	if op.Source() == asm.SourceReg {
		use |= s
	}
	return use, 0
}

// liveness computes, for every slot, the registers that some path from it
// reads before writing: the only ones whose values matter when comparing
// states there. r10 is always live.
func (v *verifier) liveness() []regSet {
	n := v.nslots
	live := make([]regSet, n)
	uses := make([]regSet, n)
	defs := make([]regSet, n)
	for pc := 0; pc < n; pc++ {
		if v.at[pc] >= 0 {
			uses[pc], defs[pc] = v.useDef(v.ins(pc))
		}
	}
	for changed := true; changed; {
		changed = false
		for pc := n - 1; pc >= 0; pc-- {
			if v.at[pc] < 0 {
				continue
			}
			ins := v.ins(pc)
			var out regSet
			next := pc + ins.Slots()
			switch {
			case ins.IsExit():
			case ins.IsLocalCall():
				// After the call returns, r6-r9 are the caller's again.
				if next < n {
					out = live[next]
				}
			case ins.IsBranch():
				out = live[pc+1+int(ins.JumpOffset())]
				if ins.OpCode.JumpOp() != asm.Ja && next < n {
					out |= live[next]
				}
			default:
				if next < n {
					out = live[next]
				}
			}
			in := uses[pc] | out&^defs[pc] | 1<<10
			if in != live[pc] {
				live[pc] = in
				changed = true
			}
		}
	}
	return live
}
