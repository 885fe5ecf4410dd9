package verifier

import (
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
)

// exit executes exit: the end of the path in the entry frame, a return to
// the caller otherwise.
func (v *verifier) exit(st *state, pc int) (int, bool, error) {
	if len(st.frames) == 1 && v.cfg.UncheckedExits[pc] {
		return 0, true, nil
	}
	r0, err := v.reg(st, pc, asm.R0)
	if err != nil {
		return 0, false, err
	}
	depth := len(st.frames) - 1
	if depth == 0 {
		if r0.kind != kindScalar {
			return 0, false, v.fail(pc, st, CodePointerLeak, "R0 is a pointer (%s) at exit: returning it would leak it", r0.String())
		}
		ret := v.typ.Return
		lo, hi, what := r0.off.smin, r0.off.smax, "R0"
		if ret.Int32 {
			lo, hi, what = int64(r0.off.s32min), int64(r0.off.s32max), "int32(R0)"
		}
		if !ret.Any && (lo < ret.Min || hi > ret.Max) {
			return 0, false, v.fail(pc, st, CodeReturn, "%s may be %s at exit, outside the range [%d, %d] of program type %q", what, r0.String(), ret.Min, ret.Max, v.typ.Name)
		}
		return 0, true, nil
	}
	if r0.kind == kindStack && int(r0.frame) >= depth {
		return 0, false, v.fail(pc, st, CodePointerLeak, "a function cannot return a pointer to its own stack")
	}
	f := st.cur()
	st.frames = st.frames[:depth]
	copy(st.regs[6:10], f.saved[:])
	for r := 1; r <= 5; r++ {
		st.regs[r] = value{}
	}
	st.regs[10] = pointer(kindStack, 0)
	st.regs[10].frame = uint8(depth - 1)
	return f.callsite + 1, false, nil
}

// callLocal executes a bpf-to-bpf call: a new frame whose r1-r5 are the
// caller's and whose r0 and r6-r9 start uninitialized.
func (v *verifier) callLocal(st *state, pc int, ins asm.Instruction) (int, bool, error) {
	if len(st.frames) >= core.MaxFrames {
		return 0, false, v.fail(pc, st, CodeCallDepth, "the call would nest more than %d frames", core.MaxFrames)
	}
	f := &frame{callsite: pc}
	copy(f.saved[:], st.regs[6:10])
	st.frames = append(st.frames, f)
	st.regs[0] = value{}
	for r := 6; r <= 9; r++ {
		st.regs[r] = value{}
	}
	st.regs[10] = pointer(kindStack, 0)
	st.regs[10].frame = uint8(len(st.frames) - 1)
	return pc + 1 + int(ins.JumpOffset()), false, nil
}

// callHelper checks a helper call against the helper's prototype, then
// clobbers r1-r5 and sets r0 from the return kind.
func (v *verifier) callHelper(st *state, pc int, ins asm.Instruction) error {
	id := ins.Imm()
	if ins.OpCode.Source() == asm.SourceReg {
		d, err := v.reg(st, pc, ins.Dst)
		if err != nil {
			return err
		}
		if d.kind != kindScalar || !d.off.isConst() || d.off.t.v > 1<<31-1 {
			return v.fail(pc, st, CodeHelper, "callx needs a constant helper id in R%d, not %s", ins.Dst, d.String())
		}
		id = int32(d.off.t.v)
	}
	proto, ok := v.cfg.Helpers[id]
	if !ok {
		return v.fail(pc, st, CodeHelper, "unknown helper %d", id)
	}
	if v.allowed != nil && !v.allowed[id] {
		return v.fail(pc, st, CodeHelper, "helper %d is not allowed in programs of type %q", id, v.typ.Name)
	}
	mapIdx := int32(-1)
	for i, k := range proto.Args {
		r := asm.Register(i + 1)
		if k == core.ArgNone || k == core.ArgConstSize || k == core.ArgConstSizeOrZero {
			continue // sizes are checked with their memory argument
		}
		a, err := v.reg(st, pc, r)
		if err != nil {
			return err
		}
		switch k {
		case core.ArgScalar:
			if a.kind != kindScalar {
				return v.fail(pc, st, CodeHelperArg, "helper %d argument %d (R%d) must be a scalar, not %s", id, i+1, r, a.kind)
			}
		case core.ArgConstMap:
			if a.kind != kindMapHandle {
				return v.fail(pc, st, CodeHelperArg, "helper %d argument %d (R%d) must be a map, not %s", id, i+1, r, a.kind)
			}
			mapIdx = a.idx
		case core.ArgMapKey, core.ArgMapValue:
			if mapIdx < 0 {
				return v.fail(pc, st, CodeConfig, "BUG: prototype of helper %d has a map key or value argument before its map", id)
			}
			m := v.cfg.Maps[mapIdx]
			n := uint64(m.KeySize)
			if k == core.ArgMapValue {
				n = uint64(m.ValueSize)
			}
			if err := v.memArg(st, pc, r, n, n, false); err != nil {
				return err
			}
		case core.ArgMem, core.ArgUninitMem:
			if i+1 >= len(proto.Args) || (proto.Args[i+1] != core.ArgConstSize && proto.Args[i+1] != core.ArgConstSizeOrZero) {
				return v.fail(pc, st, CodeConfig, "BUG: prototype of helper %d has a memory argument without a size after it", id)
			}
			sz, err := v.reg(st, pc, r+1)
			if err != nil {
				return err
			}
			if sz.kind != kindScalar {
				return v.fail(pc, st, CodeHelperArg, "helper %d argument %d (R%d) must be a size, not %s", id, i+2, r+1, sz.kind)
			}
			if proto.Args[i+1] == core.ArgConstSize && sz.off.umin == 0 {
				return v.fail(pc, st, CodeHelperArg, "helper %d argument %d (R%d) is a size that may be 0", id, i+2, r+1)
			}
			if err := v.memArg(st, pc, r, sz.off.umin, sz.off.umax, k == core.ArgUninitMem); err != nil {
				return err
			}
		case core.ArgContext:
			if a.kind != kindCtx || !a.off.isConst() || a.off.t.v != 0 {
				return v.fail(pc, st, CodeHelperArg, "helper %d argument %d (R%d) must be the context pointer, not %s", id, i+1, r, a.String())
			}
		}
	}
	v.noteCallMap(st, pc, proto, mapIdx)
	for r := 1; r <= 5; r++ {
		st.regs[r] = value{}
	}
	switch proto.Ret {
	case core.RetVoid:
		st.regs[0] = value{}
	case core.RetMapValueOrNull:
		if mapIdx < 0 {
			return v.fail(pc, st, CodeConfig, "BUG: helper %d returns a map value but takes no map", id)
		}
		v.nextID++
		st.regs[0] = value{kind: kindMapValueOrNull, idx: mapIdx, id: v.nextID, off: constScalar(0)}
	default:
		st.regs[0] = scalarValue(unknownScalar())
	}
	return nil
}

// branch executes a conditional jump: it returns the state on the taken
// and on the fall-through side, nil for a side that cannot happen. Either
// may be st itself.
func (v *verifier) branch(st *state, pc int, ins asm.Instruction) (taken, fall *state, err error) {
	op := ins.OpCode
	j := op.JumpOp()
	is32 := op.Class() == asm.ClassJMP32
	d, err := v.reg(st, pc, ins.Dst)
	if err != nil {
		return nil, nil, err
	}
	s := scalarValue(constScalar(uint64(ins.Constant)))
	isReg := op.Source() == asm.SourceReg
	if isReg {
		sp, err := v.reg(st, pc, ins.Src)
		if err != nil {
			return nil, nil, err
		}
		s = *sp
	}
	if d.kind == kindScalar && s.kind == kindScalar {
		v.noteBranch(pc, j, is32, d, &s)
		t, f := split(st, ins, j, is32, d.off, s.off, isReg, v.backEdge(pc, pc+1+int(ins.JumpOffset())))
		return t, f, nil
	}
	if is32 {
		return nil, nil, v.fail(pc, st, CodePointerLeak, "a 32-bit comparison of a pointer would leak part of it")
	}
	isZero := func(x *value) bool { return x.kind == kindScalar && x.off.isConst() && x.off.t.v == 0 }
	if (j == asm.JEq || j == asm.JNE) && (isZero(d) || isZero(&s)) {
		p := *d
		if isZero(d) {
			p = s
		}
		if p.kind == kindMapHandle {
			return nil, nil, v.fail(pc, st, CodePointerLeak, "comparing a map handle is not allowed")
		}
		if p.kind != kindMapValueOrNull {
			// Never null: only the "not equal" side happens.
			if j == asm.JEq {
				return nil, st, nil
			}
			return st, nil, nil
		}
		null := st.clone()
		markNull(null, p.id, true)
		markNull(st, p.id, false)
		if j == asm.JEq {
			return null, st, nil
		}
		return st, null, nil
	}
	if isReg && d.sameObject(&s) {
		// Two pointers into one object compare as their offsets do: the
		// object lies far from both ends of the address space, so no
		// address wraps, and signed and unsigned orders agree.
		if j == asm.JSet {
			return st.clone(), st, nil
		}
		sj := map[asm.JumpOp]asm.JumpOp{asm.JGT: asm.JSGT, asm.JGE: asm.JSGE, asm.JLT: asm.JSLT, asm.JLE: asm.JSLE}[j]
		if sj == 0 {
			sj = j
		}
		v.noteBranch(pc, sj, false, d, &s)
		t, f := split(st, ins, sj, false, d.off, s.off, true, v.backEdge(pc, pc+1+int(ins.JumpOffset())))
		return t, f, nil
	}
	return nil, nil, v.fail(pc, st, CodePointerLeak, "comparing %s with %s would leak a pointer (only null checks and comparisons of pointers into one object are allowed)", d.String(), s.String())
}

// markNull resolves the null check of lookup result id in every register
// and spilled slot: it is 0 if null, a map value pointer otherwise.
func markNull(st *state, id uint32, null bool) {
	fix := func(x *value) {
		if x.kind != kindMapValueOrNull || x.id != id {
			return
		}
		if null {
			*x = scalarValue(constScalar(0))
		} else {
			x.kind, x.id = kindMapValue, 0
		}
	}
	for i := range st.regs {
		fix(&st.regs[i])
	}
	for _, f := range st.frames {
		for i := range f.saved {
			fix(&f.saved[i])
		}
		for i := range f.stack {
			if sp := &f.stack[i].spill; sp.kind == kindMapValueOrNull && sp.id == id {
				f.own()
				fix(&f.stack[i].spill)
			}
		}
	}
}

// split refines st for both sides of a comparison "a op b" of the values
// (scalars or offsets of pointers into one object) of the instruction's
// registers, and returns the taken and fall-through states, nil for a side
// that cannot happen. One of them may be st itself: the taken side of a
// jump back to a loop's header (back), the fall-through side otherwise.
func split(st *state, ins asm.Instruction, op asm.JumpOp, is32 bool, a, b scalar, isReg, back bool) (taken, fall *state) {
	ta, tb := a, b
	okT := refine(op, is32, &ta, &tb)
	fa, fb := a, b
	okF := refine(negate(op), is32, &fa, &fb)
	set := func(x *state, a, b scalar) bool {
		if isReg {
			x.regs[ins.Src].off = b
		}
		x.regs[ins.Dst].off = a
		// Narrowing a value linked to an induction variable narrows the
		// values linked with it, and may leave no iteration at all.
		return x.narrow(&x.regs[ins.Dst]) && (!isReg || x.narrow(&x.regs[ins.Src]))
	}
	switch {
	case okT && okF:
		// The path goes on with st on the side that jumps back to the
		// header of a loop (back): a loop reaches its fixpoint
		// (checkpoint) before the paths leaving it are explored, and
		// those from the widest state, last queued, are explored first
		// and prune the others.
		if back {
			fall = st.clone()
			okF = set(fall, fa, fb)
			okT = set(st, ta, tb)
			taken = st
		} else {
			taken = st.clone()
			okT = set(taken, ta, tb)
			okF = set(st, fa, fb)
			fall = st
		}
		switch {
		case okT && okF:
			return taken, fall
		case okT:
			return taken, nil
		case okF:
			return nil, fall
		}
	case okT:
		if set(st, ta, tb) {
			return st, nil
		}
	case okF:
		if set(st, fa, fb) {
			return nil, st
		}
	}
	return nil, nil
}

// callUnseen marks a slot of Result.CallMaps no path has reached as a call.
const callUnseen = -2

// noteCallMap records in Result.CallMaps which map the helper call at pc
// takes on this path, if its key argument is a stack pointer; a call that
// takes different maps on different paths, or a key elsewhere, gets -1.
func (v *verifier) noteCallMap(st *state, pc int, proto core.Prototype, mapIdx int32) {
	m := int32(-1)
	for i, k := range proto.Args {
		if k == core.ArgMapKey && mapIdx >= 0 && st.regs[i+1].kind == kindStack {
			m = mapIdx
		}
	}
	switch old := v.res.CallMaps[pc]; {
	case old == callUnseen:
		v.res.CallMaps[pc] = m
	case old != m:
		v.res.CallMaps[pc] = -1
	}
}
