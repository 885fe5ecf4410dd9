package verifier

import (
	"math"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
)

var regionKinds = [...]core.RegionKind{
	kindCtx: core.RegionContext, kindStack: core.RegionStack,
	kindMapValue: core.RegionMap, kindRegion: core.RegionHost,
}

// loaded is the value of a size-byte load of unknown memory.
func loaded(size int, sx bool) scalar {
	if size == 8 {
		return unknownScalar()
	}
	bits := uint(size * 8)
	if sx {
		return signedRange(-1<<(bits-1), 1<<(bits-1)-1)
	}
	return rangeScalar(0, 1<<bits-1)
}

// span checks that [ptr+off, ptr+off+size) lies inside the object ptr
// points to (not the context, which has fields instead) and may be written
// if write is set. It returns the byte range relative to the object (to the
// frame pointer for the stack).
func (v *verifier) span(st *state, pc int, preg asm.Register, p *value, off, size int64, write bool) (lo, hi int64, err error) {
	var limLo, limHi int64
	what := ""
	switch p.kind {
	case kindUninit:
		return 0, 0, v.fail(pc, st, CodeUninitRegister, "R%d is read before it is written (uninitialized register)", preg)
	case kindScalar:
		return 0, 0, v.fail(pc, st, CodeInvalidPointer, "R%d is a scalar, not a pointer: memory access through it is not allowed", preg)
	case kindMapHandle:
		return 0, 0, v.fail(pc, st, CodeInvalidPointer, "R%d is a map handle, not a pointer to memory", preg)
	case kindMapValueOrNull:
		return 0, 0, v.fail(pc, st, CodeNullPointer, "R%d may be null: check the result of the map lookup against 0 before using it", preg)
	case kindStack:
		if int(p.frame) >= len(st.frames) {
			return 0, 0, v.fail(pc, st, CodeInvalidPointer, "R%d points into a frame that has returned", preg)
		}
		limLo, limHi, what = -core.StackSize, 0, "the stack frame"
	case kindMapValue:
		m := v.cfg.Maps[p.idx]
		limLo, limHi, what = 0, int64(m.ValueSize), "the map value"
		if write && m.ReadOnlyProg {
			return 0, 0, v.fail(pc, st, CodeReadOnly, "map %q is read-only to programs", m.Name)
		}
	case kindRegion:
		r := &v.typ.Regions[p.idx]
		limLo, limHi, what = 0, int64(r.Size), "region \""+r.Name+"\""
		if write && !r.Writable {
			return 0, 0, v.fail(pc, st, CodeReadOnly, "region %q is read-only", r.Name)
		}
	case kindCtx:
		return 0, 0, v.fail(pc, st, CodeContextAccess, "the context cannot be passed as memory")
	}
	lo, hi = p.off.smin+off, p.off.smax+off+size
	if lo < limLo || hi > limHi {
		if p.off.isConst() {
			return 0, 0, v.fail(pc, st, CodeOutOfBounds, "access of %d bytes at offset %d is outside %s (%d..%d)", size, lo, what, limLo, limHi)
		}
		return 0, 0, v.fail(pc, st, CodeOutOfBounds, "access of %d bytes at offsets %d..%d is outside %s (%d..%d)", size, lo, hi-size, what, limLo, limHi)
	}
	v.res.Access[pc].Kinds |= 1 << regionKinds[p.kind]
	return lo, hi, nil
}

// field finds the context field accessed at p+off with the given size.
func (v *verifier) field(st *state, pc int, p *value, off int64, size int) (*core.Field, error) {
	if !p.off.isConst() {
		return nil, v.fail(pc, st, CodeContextAccess, "context access with a variable offset (%s)", p.off.String())
	}
	o := int64(p.off.t.v) + off
	for i := range v.typ.Context.Fields {
		f := &v.typ.Context.Fields[i]
		if int64(f.Offset) == o {
			if f.Size != size {
				return nil, v.fail(pc, st, CodeContextAccess, "context field %q is %d bytes, not %d", f.Name, f.Size, size)
			}
			v.res.Access[pc].Kinds |= 1 << core.RegionContext
			return f, nil
		}
	}
	return nil, v.fail(pc, st, CodeContextAccess, "no context field of program type %q starts at offset %d", v.typ.Name, o)
}

// load executes ldx.
func (v *verifier) load(st *state, pc int, ins asm.Instruction) error {
	p, err := v.reg(st, pc, ins.Src)
	if err != nil {
		return err
	}
	size := ins.OpCode.Size().Bytes()
	sx := ins.OpCode.Mode() == asm.ModeMEMSX
	off := int64(ins.Offset)
	res := scalarValue(loaded(size, sx))
	switch p.kind {
	case kindCtx:
		f, err := v.field(st, pc, p, off, size)
		if err != nil {
			return err
		}
		if f.Kind == core.FieldPointer {
			if sx {
				return v.fail(pc, st, CodeContextAccess, "pointer field %q cannot be loaded with sign extension", f.Name)
			}
			res = pointer(kindRegion, int32(v.typ.Region(f.Region)))
		} else if f.Max > f.Min {
			res.off.smin, res.off.smax = max(res.off.smin, f.Min), min(res.off.smax, f.Max)
			if !res.off.sync() {
				res = scalarValue(loaded(size, sx))
			}
		}
	case kindStack:
		lo, hi, err := v.span(st, pc, ins.Src, p, off, int64(size), false)
		if err != nil {
			return err
		}
		f := st.frames[p.frame]
		if p.off.isConst() && size == 8 && lo%8 == 0 {
			if sl := stackSlot(f, lo); sl != nil && sl.spill.kind != kindUninit {
				res = sl.spill
				break
			}
		}
		if err := v.stackReadable(st, pc, f, lo, hi); err != nil {
			return err
		}
	default:
		if _, _, err := v.span(st, pc, ins.Src, p, off, int64(size), false); err != nil {
			return err
		}
	}
	st.regs[ins.Dst] = res
	return nil
}

// stackSlot returns the slot holding byte off of f, or nil if the stack has
// not grown that far.
func stackSlot(f *frame, off int64) *slot {
	i := int((-off - 1) / 8)
	if i >= len(f.stack) {
		return nil
	}
	return &f.stack[i]
}

// stackReadable checks that bytes [lo, hi) of frame f are initialized and
// hold no part of a spilled pointer.
func (v *verifier) stackReadable(st *state, pc int, f *frame, lo, hi int64) error {
	for b := lo; b < hi; b++ {
		sl := stackSlot(f, b)
		if sl == nil || sl.init&(1<<byteIndex(b)) == 0 {
			return v.fail(pc, st, CodeUninitStack, "stack byte fp%d is read before it is written (reading bytes fp%d..fp%d)", b, lo, hi-1)
		}
		if sl.spill.kind.isPointer() {
			return v.fail(pc, st, CodePointerLeak, "reading part of the pointer spilled at fp%d would leak it", b-int64(byteIndex(b)))
		}
	}
	return nil
}

// stackWritten updates frame f after a write of [lo, hi). exact says the
// bytes are certainly written (a constant offset); otherwise they may be.
func stackWritten(f *frame, lo, hi int64, exact bool) {
	for b := lo; b < hi; b++ {
		sl := f.slotAt(b)
		if sl.spill.kind.isPointer() {
			// What remains of a pointer must never be read.
			sl.init = 0
		}
		sl.spill = value{}
		if exact {
			sl.init |= 1 << byteIndex(b)
		}
	}
}

// store executes st and stx.
func (v *verifier) store(st *state, pc int, ins asm.Instruction) error {
	p, err := v.reg(st, pc, ins.Dst)
	if err != nil {
		return err
	}
	val := scalarValue(constScalar(uint64(ins.Constant)))
	if ins.OpCode.Class() == asm.ClassSTX {
		s, err := v.reg(st, pc, ins.Src)
		if err != nil {
			return err
		}
		val = *s
	}
	size := ins.OpCode.Size().Bytes()
	off := int64(ins.Offset)
	if p.kind == kindCtx {
		f, err := v.field(st, pc, p, off, size)
		if err != nil {
			return err
		}
		if !f.Writable {
			return v.fail(pc, st, CodeReadOnly, "context field %q is read-only", f.Name)
		}
		if val.kind != kindScalar {
			return v.fail(pc, st, CodePointerLeak, "storing a pointer (%s) into the context would leak it", val.String())
		}
		return nil
	}
	lo, hi, err := v.span(st, pc, ins.Dst, p, off, int64(size), true)
	if err != nil {
		return err
	}
	if p.kind != kindStack {
		if val.kind != kindScalar {
			return v.fail(pc, st, CodePointerLeak, "storing a pointer (%s) into %s memory would leak it", val.String(), p.kind)
		}
		return nil
	}
	f := st.frames[p.frame]
	if p.off.isConst() && size == 8 && lo%8 == 0 {
		if val.kind == kindStack && val.frame > p.frame {
			return v.fail(pc, st, CodePointerLeak, "a pointer into frame %d cannot be stored in the stack of its caller (frame %d)", val.frame, p.frame)
		}
		*f.slotAt(lo) = slot{init: 0xff, spill: val}
		return nil
	}
	if val.kind != kindScalar {
		return v.fail(pc, st, CodePointerLeak, "a pointer can be spilled only by an aligned 8-byte store at a constant offset")
	}
	stackWritten(f, lo, hi, p.off.isConst())
	return nil
}

// atomic executes an atomic read-modify-write.
func (v *verifier) atomic(st *state, pc int, ins asm.Instruction) error {
	p, err := v.reg(st, pc, ins.Dst)
	if err != nil {
		return err
	}
	s, err := v.reg(st, pc, ins.Src)
	if err != nil {
		return err
	}
	if s.kind != kindScalar {
		return v.fail(pc, st, CodePointerLeak, "an atomic operation cannot store a pointer (R%d is %s)", ins.Src, s.kind)
	}
	aop := asm.AtomicOp(ins.Constant)
	if aop == asm.AtomicCmpXchg {
		r0, err := v.reg(st, pc, asm.R0)
		if err != nil {
			return err
		}
		if r0.kind != kindScalar {
			return v.fail(pc, st, CodePointerLeak, "cmpxchg compares against R0, which is a pointer")
		}
	}
	size := ins.OpCode.Size().Bytes()
	off := int64(ins.Offset)
	if p.kind == kindCtx {
		return v.fail(pc, st, CodeContextAccess, "atomic operations on the context are not allowed")
	}
	lo, hi, err := v.span(st, pc, ins.Dst, p, off, int64(size), true)
	if err != nil {
		return err
	}
	if p.kind == kindStack || p.kind == kindMapValue || p.kind == kindRegion {
		eff := p.off.t.add(tconst(uint64(off)))
		if (eff.v|eff.m)&uint64(size-1) != 0 {
			return v.fail(pc, st, CodeMisaligned, "atomic access of %d bytes is not provably %d-byte aligned", size, size)
		}
	}
	if p.kind == kindStack {
		f := st.frames[p.frame]
		if err := v.stackReadable(st, pc, f, lo, hi); err != nil {
			return err
		}
		stackWritten(f, lo, hi, p.off.isConst())
	}
	res := scalarValue(loaded(size, false))
	switch {
	case aop == asm.AtomicCmpXchg:
		st.regs[0] = res
	case aop&asm.AtomicFetch != 0:
		st.regs[ins.Src] = res
	}
	return nil
}

// memArg checks a helper's memory argument: the pointer in register preg
// and a size in [smin, smax]. write says the helper writes the memory
// (ArgUninitMem): its bytes need not be initialized and become so.
func (v *verifier) memArg(st *state, pc int, preg asm.Register, smin, smax uint64, write bool) error {
	p := &st.regs[preg]
	if smax > math.MaxInt32 {
		return v.fail(pc, st, CodeHelperArg, "the size of the memory in R%d is unbounded", preg)
	}
	if smax == 0 {
		return nil
	}
	lo, hi, err := v.span(st, pc, preg, p, 0, int64(smax), write)
	if err != nil {
		return err
	}
	if p.kind != kindStack {
		return nil
	}
	f := st.frames[p.frame]
	if !write {
		return v.stackReadable(st, pc, f, lo, hi)
	}
	stackWritten(f, lo, hi, false)
	if p.off.isConst() {
		stackWritten(f, lo, lo+int64(smin), true)
	}
	return nil
}
