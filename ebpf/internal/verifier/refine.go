package verifier

import (
	"math"
	"math/bits"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// jNotSet is the negation of jset ("no common bit"), which has no opcode.
const jNotSet asm.JumpOp = 0xf0

// negate returns the condition that holds when op's does not.
func negate(op asm.JumpOp) asm.JumpOp {
	switch op {
	case asm.JEq:
		return asm.JNE
	case asm.JNE:
		return asm.JEq
	case asm.JGT:
		return asm.JLE
	case asm.JLE:
		return asm.JGT
	case asm.JGE:
		return asm.JLT
	case asm.JLT:
		return asm.JGE
	case asm.JSGT:
		return asm.JSLE
	case asm.JSLE:
		return asm.JSGT
	case asm.JSGE:
		return asm.JSLT
	case asm.JSLT:
		return asm.JSGE
	case asm.JSet:
		return jNotSet
	}
	return asm.JSet
}

// interval is the view of a scalar that a comparison constrains: the
// 64-bit ranges and known bits, or the 32-bit ones widened to 64 bits.
type interval struct {
	umin, umax uint64
	smin, smax int64
	t          tnum
}

func view(s *scalar, is32 bool) interval {
	if is32 {
		return interval{uint64(s.u32min), uint64(s.u32max), int64(s.s32min), int64(s.s32max), s.t.low32()}
	}
	return interval{s.umin, s.umax, s.smin, s.smax, s.t}
}

func (v interval) empty() bool { return v.umin > v.umax || v.smin > v.smax }

// store writes a refined view back into s.
func (v interval) store(s *scalar, is32 bool) bool {
	if v.empty() {
		return false
	}
	if is32 {
		s.u32min, s.u32max = uint32(v.umin), uint32(v.umax)
		s.s32min, s.s32max = int32(v.smin), int32(v.smax)
		t, ok := s.t.intersect(tnum{v.t.v, v.t.m | ^uint64(math.MaxUint32)})
		if !ok {
			return false
		}
		s.t = t
	} else {
		s.umin, s.umax, s.smin, s.smax, s.t = v.umin, v.umax, v.smin, v.smax, v.t
	}
	return s.sync()
}

// refine restricts a and b to the values for which "a op b" holds, on the
// low 32 bits if is32. It returns false when no values satisfy it: the
// branch cannot be taken.
func refine(op asm.JumpOp, is32 bool, a, b *scalar) bool {
	x, y := view(a, is32), view(b, is32)
	if !cond(op, &x, &y) {
		return false
	}
	return x.store(a, is32) && y.store(b, is32)
}

func cond(op asm.JumpOp, a, b *interval) bool {
	switch op {
	case asm.JEq:
		t, ok := a.t.intersect(b.t)
		if !ok {
			return false
		}
		a.t = t
		a.umin, a.umax = max(a.umin, b.umin), min(a.umax, b.umax)
		a.smin, a.smax = max(a.smin, b.smin), min(a.smax, b.smax)
		*b = *a
	case asm.JNE:
		if a.t.isConst() && b.t.isConst() && a.t.v == b.t.v {
			return false
		}
		notEqual(a, b)
		notEqual(b, a)
	case asm.JGT, asm.JGE:
		d := uint64(0)
		if op == asm.JGT {
			if b.umin == math.MaxUint64 || a.umax == 0 {
				return false
			}
			d = 1
		}
		a.umin = max(a.umin, b.umin+d)
		b.umax = min(b.umax, a.umax-d)
	case asm.JLT:
		return cond(asm.JGT, b, a)
	case asm.JLE:
		return cond(asm.JGE, b, a)
	case asm.JSGT, asm.JSGE:
		d := int64(0)
		if op == asm.JSGT {
			if b.smin == math.MaxInt64 || a.smax == math.MinInt64 {
				return false
			}
			d = 1
		}
		a.smin = max(a.smin, b.smin+d)
		b.smax = min(b.smax, a.smax-d)
	case asm.JSLT:
		return cond(asm.JSGT, b, a)
	case asm.JSLE:
		return cond(asm.JSGE, b, a)
	case asm.JSet:
		if !b.t.isConst() {
			return true
		}
		c := b.t.v
		if (a.t.v|a.t.m)&c == 0 {
			return false
		}
		if bits.OnesCount64(c) == 1 {
			a.t.v |= c
			a.t.m &^= c
		}
		a.umin = max(a.umin, 1)
	case jNotSet:
		if !b.t.isConst() {
			return true
		}
		c := b.t.v
		if a.t.v&c != 0 {
			return false
		}
		a.t.m &^= c
	}
	return !a.empty() && !b.empty()
}

// notEqual removes b's value from the ends of a's ranges when b is a
// constant.
func notEqual(a, b *interval) {
	if !b.t.isConst() {
		return
	}
	c := b.t.v
	if a.umin == c && a.umin < a.umax {
		a.umin++
	} else if a.umax == c && a.umin < a.umax {
		a.umax--
	}
	if a.smin == int64(c) && a.smin < a.smax {
		a.smin++
	} else if a.smax == int64(c) && a.smin < a.smax {
		a.smax--
	}
}
