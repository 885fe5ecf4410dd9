package verifier

import (
	"math"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// ivar is an induction variable of a state: a hidden count k of loop
// iterations, known to lie in [lo, hi]. A value linked to it (value.iv)
// equals base + stride*k modulo 2^64 on every path the state stands for,
// for the same k; so when a branch narrows one linked value, the others
// narrow with it (narrow). Widening introduces them (widen.go): a loop's
// counter and the pointers it advances in step are all linear in the
// iteration count, which no range alone can say.
type ivar struct{ lo, hi uint64 }

// maxIVars bounds the induction variables of a state.
const maxIVars = 8

// lin is a value as a linear function of an induction variable: base +
// stride*k of iv, or the constant base when iv is 0.
type lin struct {
	iv     uint8
	stride int64
	base   uint64
}

// linOf returns x as a linear function, if it is linked or a constant.
func linOf(x *value) (lin, bool) {
	if x.iv != 0 {
		return lin{x.iv, int64(x.stride), x.base}, true
	}
	if x.off.isConst() {
		return lin{base: x.off.t.v}, true
	}
	return lin{}, false
}

// linALU returns op(d, s) as a linear function of an induction variable,
// when d or s is one and the operation keeps it linear modulo 2^64. The
// stride of the result may be 0: the result is then the constant base.
// For Mov d is unused, for Neg s.
func linALU(op asm.ALUOp, off int16, d, s *value) (lin, bool) {
	var a, b lin
	var ok bool
	if op != asm.Mov {
		if a, ok = linOf(d); !ok {
			return lin{}, false
		}
	}
	if op != asm.Neg {
		if b, ok = linOf(s); !ok {
			return lin{}, false
		}
	}
	var r lin
	switch op {
	case asm.Mov:
		if off != 0 {
			return lin{}, false
		}
		r = b
	case asm.Add, asm.Sub:
		if a.iv != 0 && b.iv != 0 && a.iv != b.iv {
			return lin{}, false
		}
		r.iv = max(a.iv, b.iv)
		if op == asm.Add {
			r.stride, r.base = a.stride+b.stride, a.base+b.base
		} else {
			r.stride, r.base = a.stride-b.stride, a.base-b.base
		}
	case asm.Mul:
		if b.iv != 0 {
			a, b = b, a
		}
		c := int64(b.base)
		if b.iv != 0 || c < math.MinInt32 || c > math.MaxInt32 {
			return lin{}, false
		}
		r = lin{a.iv, a.stride * c, a.base * b.base}
	case asm.LSh:
		n := b.base & 63
		if b.iv != 0 || n > 31 {
			return lin{}, false
		}
		r = lin{a.iv, a.stride << n, a.base << n}
	case asm.Neg:
		r = lin{a.iv, -a.stride, -a.base}
	default:
		return lin{}, false
	}
	if r.iv == 0 || r.stride < math.MinInt32 || r.stride > math.MaxInt32 {
		return lin{}, false
	}
	return r, true
}

// relink links res, the result of an arithmetic instruction on d and s
// whose range is already computed, when the operation keeps a linked
// operand linear. A 32-bit result is linked only when the 64-bit one
// provably lies in [0, 2^32), where the two agree.
func (st *state) relink(res *value, op asm.ALUOp, is64 bool, off int16, d, s *value) {
	l, ok := linALU(op, off, d, s)
	if !ok {
		return
	}
	if !is64 {
		var r scalar
		switch op {
		case asm.Mov:
			r = s.off
		case asm.Add, asm.Sub:
			r = alu64(op, 0, d.off, s.off, 64)
		default:
			return
		}
		if r.umax > math.MaxUint32 {
			return
		}
	}
	st.link(res, l)
}

// link makes x, whose range is sound, the linear function l and narrows
// its range with what l says.
func (st *state) link(x *value, l lin) {
	x.iv, x.stride, x.base = 0, 0, 0
	var d scalar
	if l.stride == 0 || l.iv == 0 {
		d = constScalar(l.base)
	} else {
		iv := st.ivs[l.iv-1]
		d = derive(l.base, l.stride, iv.lo, iv.hi)
	}
	o := x.off
	if !o.meet(&d) {
		return // only on a path that cannot happen: keep the range alone
	}
	x.off = o
	if l.stride != 0 && l.iv != 0 {
		x.iv, x.stride, x.base = l.iv, int32(l.stride), l.base
	}
}

// derive returns the values base + stride*k for k in [lo, hi].
func derive(base uint64, stride int64, lo, hi uint64) scalar {
	r := unknownScalar()
	bs := i128s(int64(base))
	e1, ok1 := bs.add(mulK(stride, lo)).int64()
	e2, ok2 := bs.add(mulK(stride, hi)).int64()
	if ok1 && ok2 {
		r.smin, r.smax = min(e1, e2), max(e1, e2)
	}
	bu := i128u(base)
	u1, ok1 := bu.add(mulK(stride, lo)).uint64()
	u2, ok2 := bu.add(mulK(stride, hi)).uint64()
	if ok1 && ok2 {
		r.umin, r.umax = min(u1, u2), max(u1, u2)
	}
	r.t = tconst(base).add(tconst(uint64(stride)).mul(trange(lo, hi)))
	if !r.sync() {
		return unknownScalar() // only through a bug: stay sound
	}
	return r
}

// kRange narrows [lo, hi] to the k for which base + stride*k lies in off's
// signed and unsigned ranges. Each view constrains k only where k ->
// base + stride*k does not wrap in it over [lo, hi]. ok is false when no k
// is left.
func kRange(base uint64, stride int64, lo, hi uint64, off *scalar) (uint64, uint64, bool) {
	ok := true
	bs := i128s(int64(base))
	_, ok1 := bs.add(mulK(stride, lo)).int64()
	_, ok2 := bs.add(mulK(stride, hi)).int64()
	if ok1 && ok2 {
		lo, hi, ok = bound(lo, hi, i128s(off.smin).sub(bs), i128s(off.smax).sub(bs), stride)
	}
	bu := i128u(base)
	_, ok1 = bu.add(mulK(stride, lo)).uint64()
	_, ok2 = bu.add(mulK(stride, hi)).uint64()
	if ok && ok1 && ok2 {
		lo, hi, ok = bound(lo, hi, i128u(off.umin).sub(bu), i128u(off.umax).sub(bu), stride)
	}
	return lo, hi, ok
}

// bound narrows [lo, hi] to the k with n1 <= stride*k <= n2.
func bound(lo, hi uint64, n1, n2 i128, stride int64) (uint64, uint64, bool) {
	if stride < 0 {
		n1, n2, stride = n2.neg(), n1.neg(), -stride
	}
	d := uint64(stride)
	if (i128{}).less(n1) {
		c, ok := divCeil(n1, d)
		if !ok {
			return lo, hi, false
		}
		lo = max(lo, c)
	}
	if n2.less(i128{}) {
		return lo, hi, false
	}
	if f, ok := divFloor(n2, d); ok {
		hi = min(hi, f)
	}
	return lo, hi, lo <= hi
}

// each calls f on every value of the state, which f may change:
// registers, saved registers and stack spills of every frame.
func (st *state) each(f func(*value)) {
	for i := range st.regs {
		f(&st.regs[i])
	}
	for _, fr := range st.frames {
		for i := range fr.saved {
			f(&fr.saved[i])
		}
		fr.own()
		for i := range fr.stack {
			f(&fr.stack[i].spill)
		}
	}
}

// narrow updates the induction variable of x, whose range a branch has
// narrowed, and every other value linked to it. It returns false when no
// iteration is left: the branch cannot be taken.
func (st *state) narrow(x *value) bool {
	if x.iv == 0 {
		return true
	}
	iv := &st.ivs[x.iv-1]
	lo, hi, ok := kRange(x.base, int64(x.stride), iv.lo, iv.hi, &x.off)
	if !ok {
		return false
	}
	if lo == iv.lo && hi == iv.hi {
		return true
	}
	iv.lo, iv.hi = lo, hi
	idx := x.iv
	st.each(func(y *value) {
		if ok && y.iv == idx {
			d := derive(y.base, int64(y.stride), lo, hi)
			ok = y.off.meet(&d)
		}
	})
	return ok
}

// meet narrows s to the values also in o; it returns false when none is.
func (s *scalar) meet(o *scalar) bool {
	s.umin, s.umax = max(s.umin, o.umin), min(s.umax, o.umax)
	s.smin, s.smax = max(s.smin, o.smin), min(s.smax, o.smax)
	s.u32min, s.u32max = max(s.u32min, o.u32min), min(s.u32max, o.u32max)
	s.s32min, s.s32max = max(s.s32min, o.s32min), min(s.s32max, o.s32max)
	t, ok := s.t.intersect(o.t)
	if !ok {
		return false
	}
	s.t = t
	return s.sync()
}

// join returns the smallest scalar holding the values of both a and b.
func join(a, b *scalar) scalar {
	r := scalar{
		umin: min(a.umin, b.umin), umax: max(a.umax, b.umax),
		smin: min(a.smin, b.smin), smax: max(a.smax, b.smax),
		u32min: min(a.u32min, b.u32min), u32max: max(a.u32max, b.u32max),
		s32min: min(a.s32min, b.s32min), s32max: max(a.s32max, b.s32max),
		t: a.t.join(b.t),
	}
	r.sync()
	return r
}

// join returns the tnum of the values of both a and b: the bits known and
// equal in both stay known.
func (a tnum) join(b tnum) tnum {
	m := a.m | b.m | (a.v ^ b.v)
	return tnum{a.v &^ m, m}
}

// shift returns d with cur's base = old's base + stride*d (modulo 2^64),
// for two values linked with the same stride.
func shift(old, cur *value) (int64, bool) {
	d, s := int64(cur.base-old.base), int64(old.stride)
	if d%s != 0 {
		return 0, false
	}
	return d / s, true
}
