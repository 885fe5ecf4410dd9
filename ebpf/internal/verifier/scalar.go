package verifier

import (
	"math"
	"math/bits"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// scalar is the abstract value of an integer register: every concrete
// value x it stands for satisfies all of
//
//	umin <= x <= umax                     (unsigned 64-bit)
//	smin <= int64(x) <= smax              (signed 64-bit)
//	u32min <= uint32(x) <= u32max         (the 32-bit sub-register)
//	s32min <= int32(x) <= s32max
//	t.contains(x)                         (known bits)
//
// The five views are kept consistent by sync, which tightens each from the
// others. A pointer's variable offset is a scalar too.
type scalar struct {
	umin, umax     uint64
	smin, smax     int64
	u32min, u32max uint32
	s32min, s32max int32
	t              tnum
}

func unknownScalar() scalar {
	return scalar{
		umin: 0, umax: math.MaxUint64, smin: math.MinInt64, smax: math.MaxInt64,
		u32min: 0, u32max: math.MaxUint32, s32min: math.MinInt32, s32max: math.MaxInt32,
		t: tnumUnknown,
	}
}

func constScalar(v uint64) scalar {
	return scalar{
		umin: v, umax: v, smin: int64(v), smax: int64(v),
		u32min: uint32(v), u32max: uint32(v), s32min: int32(v), s32max: int32(v),
		t: tconst(v),
	}
}

// rangeScalar is every value in [lo, hi] (unsigned).
func rangeScalar(lo, hi uint64) scalar {
	s := unknownScalar()
	s.umin, s.umax = lo, hi
	s.sync()
	return s
}

// signedRange is every value in [lo, hi] (signed).
func signedRange(lo, hi int64) scalar {
	s := unknownScalar()
	s.smin, s.smax = lo, hi
	s.sync()
	return s
}

func (s *scalar) isConst() bool { return s.t.isConst() }

// sync tightens every view of s from the others. It returns false when s
// stands for no value at all (a branch that cannot be taken).
func (s *scalar) sync() bool {
	for range 2 {
		// Known bits bound the ranges.
		s.umin = max(s.umin, s.t.v)
		s.umax = min(s.umax, s.t.v|s.t.m)
		const sign = uint64(1) << 63
		s.smin = max(s.smin, int64(s.t.v|s.t.m&sign))
		s.smax = min(s.smax, int64(s.t.v|s.t.m&^sign))
		lo := s.t.low32()
		s.u32min = max(s.u32min, uint32(lo.v))
		s.u32max = min(s.u32max, uint32(lo.v|lo.m))
		const sign32 = uint64(1) << 31
		s.s32min = max(s.s32min, int32(uint32(lo.v|lo.m&sign32)))
		s.s32max = min(s.s32max, int32(uint32(lo.v|lo.m&^sign32)))

		// Known low bits make every value congruent to them: the bounds
		// move in to the nearest such values (a multiple of 8 that is not
		// 0 is at least 8).
		if !s.alignBounds() {
			return false
		}

		// The 64-bit ranges bound the sub-register when they lie inside
		// one 2^32-aligned block, where the low half grows with x.
		if s.umin>>32 == s.umax>>32 {
			s.meet32u(uint32(s.umin), uint32(s.umax))
		}
		if s.smin>>32 == s.smax>>32 {
			s.meet32u(uint32(s.smin), uint32(s.smax))
		}
		if s.smin >= math.MinInt32 && s.smax <= math.MaxInt32 {
			s.s32min = max(s.s32min, int32(s.smin))
			s.s32max = min(s.s32max, int32(s.smax))
		}
		// Signed and unsigned views agree where no sign change is crossed.
		if s.u32min <= s.u32max && int32(s.u32min) <= int32(s.u32max) {
			s.s32min = max(s.s32min, int32(s.u32min))
			s.s32max = min(s.s32max, int32(s.u32max))
		}
		if s.s32min <= s.s32max && (s.s32min >= 0 || s.s32max < 0) {
			s.u32min = max(s.u32min, uint32(s.s32min))
			s.u32max = min(s.u32max, uint32(s.s32max))
		}
		if s.umin <= s.umax && int64(s.umin) <= int64(s.umax) {
			s.smin = max(s.smin, int64(s.umin))
			s.smax = min(s.smax, int64(s.umax))
		}
		if s.smin <= s.smax && (s.smin >= 0 || s.smax < 0) {
			s.umin = max(s.umin, uint64(s.smin))
			s.umax = min(s.umax, uint64(s.smax))
		}
		// With the upper half known, the sub-register bounds the whole.
		if s.t.m>>32 == 0 && s.u32min <= s.u32max {
			hi := s.t.v &^ math.MaxUint32
			s.umin = max(s.umin, hi|uint64(s.u32min))
			s.umax = min(s.umax, hi|uint64(s.u32max))
			s.smin = max(s.smin, int64(hi|uint64(s.u32min)))
			s.smax = min(s.smax, int64(hi|uint64(s.u32max)))
		}
		// The ranges give known bits.
		if s.umin > s.umax || s.u32min > s.u32max {
			return false
		}
		t, ok := s.t.intersect(trange(s.umin, s.umax))
		if !ok {
			return false
		}
		r := trange(uint64(s.u32min), uint64(s.u32max))
		t, ok = t.intersect(tnum{r.v, r.m | ^uint64(math.MaxUint32)})
		if !ok {
			return false
		}
		s.t = t
	}
	return s.umin <= s.umax && s.smin <= s.smax && s.u32min <= s.u32max && s.s32min <= s.s32max
}

// alignBounds moves every bound of s in to the nearest value whose low
// bits are the known low bits of s.t. It returns false when no value is
// left.
func (s *scalar) alignBounds() bool {
	n := uint(bits.TrailingZeros64(s.t.m))
	if n == 0 || n == 64 {
		return true
	}
	mask := uint64(1)<<n - 1
	r := s.t.v & mask
	up := func(x uint64) uint64 { return x + (r-x)&mask }
	down := func(x uint64) uint64 { return x - (x-r)&mask }
	if u := up(s.umin); u >= s.umin {
		s.umin = u
	} else {
		return false
	}
	if u := down(s.umax); u <= s.umax {
		s.umax = u
	} else {
		return false
	}
	if i := int64(up(uint64(s.smin))); i >= s.smin {
		s.smin = i
	} else {
		return false
	}
	if i := int64(down(uint64(s.smax))); i <= s.smax {
		s.smax = i
	} else {
		return false
	}
	n32 := min(n, 32)
	m32 := uint32(1)<<n32 - 1
	r32 := uint32(r) & m32
	up32 := func(x uint32) uint32 { return x + (r32-x)&m32 }
	down32 := func(x uint32) uint32 { return x - (x-r32)&m32 }
	if u := up32(s.u32min); u >= s.u32min {
		s.u32min = u
	} else {
		return false
	}
	if u := down32(s.u32max); u <= s.u32max {
		s.u32max = u
	} else {
		return false
	}
	if i := int32(up32(uint32(s.s32min))); i >= s.s32min {
		s.s32min = i
	} else {
		return false
	}
	if i := int32(down32(uint32(s.s32max))); i <= s.s32max {
		s.s32max = i
	} else {
		return false
	}
	return true
}

func (s *scalar) meet32u(lo, hi uint32) {
	s.u32min = max(s.u32min, lo)
	s.u32max = min(s.u32max, hi)
	if int32(lo) <= int32(hi) {
		s.s32min = max(s.s32min, int32(lo))
		s.s32max = min(s.s32max, int32(hi))
	}
}

// subsetOf reports whether every value of s is a value of o.
func (s *scalar) subsetOf(o *scalar) bool {
	return s.umin >= o.umin && s.umax <= o.umax && s.smin >= o.smin && s.smax <= o.smax &&
		s.u32min >= o.u32min && s.u32max <= o.u32max && s.s32min >= o.s32min && s.s32max <= o.s32max &&
		s.t.subsetOf(o.t)
}

// zext32 is the low 32 bits of s, zero-extended: the 64-bit view of a
// 32-bit operand or result.
func (s scalar) zext32() scalar {
	r := unknownScalar()
	r.u32min, r.u32max, r.s32min, r.s32max = s.u32min, s.u32max, s.s32min, s.s32max
	r.t = s.t.low32()
	r.umin, r.umax = uint64(s.u32min), uint64(s.u32max)
	r.sync()
	return r
}

// sext32 is the low 32 bits of s, sign-extended.
func (s scalar) sext32() scalar {
	r := unknownScalar()
	r.u32min, r.u32max, r.s32min, r.s32max = s.u32min, s.u32max, s.s32min, s.s32max
	r.t = s.t.sext32()
	r.smin, r.smax = int64(s.s32min), int64(s.s32max)
	r.sync()
	return r
}

// eval computes one ALU operation on concrete values exactly as the
// runtime does (RFC 9669): the oracle of the transfer functions and the
// constant folder.
func eval(op asm.ALUOp, is64 bool, off int16, a, b uint64) uint64 {
	if !is64 {
		x, y := uint32(a), uint32(b)
		var r uint32
		switch op {
		case asm.Add:
			r = x + y
		case asm.Sub:
			r = x - y
		case asm.Mul:
			r = x * y
		case asm.Div:
			switch {
			case y == 0:
				r = 0
			case off == 1:
				r = uint32(int32(x) / int32(y))
			default:
				r = x / y
			}
		case asm.Mod:
			switch {
			case y == 0:
				r = x
			case off == 1:
				r = uint32(int32(x) % int32(y))
			default:
				r = x % y
			}
		case asm.Or:
			r = x | y
		case asm.And:
			r = x & y
		case asm.Xor:
			r = x ^ y
		case asm.LSh:
			r = x << (y & 31)
		case asm.RSh:
			r = x >> (y & 31)
		case asm.ArSh:
			r = uint32(int32(x) >> (y & 31))
		case asm.Neg:
			r = -x
		case asm.Mov:
			switch off {
			case 8:
				r = uint32(int32(int8(b)))
			case 16:
				r = uint32(int32(int16(b)))
			default:
				r = y
			}
		}
		return uint64(r)
	}
	switch op {
	case asm.Add:
		return a + b
	case asm.Sub:
		return a - b
	case asm.Mul:
		return a * b
	case asm.Div:
		switch {
		case b == 0:
			return 0
		case off == 1:
			return uint64(int64(a) / int64(b))
		}
		return a / b
	case asm.Mod:
		switch {
		case b == 0:
			return a
		case off == 1:
			return uint64(int64(a) % int64(b))
		}
		return a % b
	case asm.Or:
		return a | b
	case asm.And:
		return a & b
	case asm.Xor:
		return a ^ b
	case asm.LSh:
		return a << (b & 63)
	case asm.RSh:
		return a >> (b & 63)
	case asm.ArSh:
		return uint64(int64(a) >> (b & 63))
	case asm.Neg:
		return -a
	case asm.Mov:
		switch off {
		case 8:
			return uint64(int64(int8(b)))
		case 16:
			return uint64(int64(int16(b)))
		case 32:
			return uint64(int64(int32(b)))
		}
		return b
	}
	return 0
}

// evalEnd computes a byte-order operation on a concrete value.
func evalEnd(opc asm.OpCode, width int64, a uint64) uint64 {
	if opc == asm.OpToLE {
		switch width {
		case 16:
			return uint64(uint16(a))
		case 32:
			return uint64(uint32(a))
		}
		return a
	}
	switch width {
	case 16:
		return uint64(bits.ReverseBytes16(uint16(a)))
	case 32:
		return uint64(bits.ReverseBytes32(uint32(a)))
	}
	return bits.ReverseBytes64(a)
}

// alu is the abstract transfer function of one arithmetic operation on
// scalars: the result contains op(x, y) for every x in a and y in b.
func alu(op asm.ALUOp, is64 bool, off int16, a, b scalar) scalar {
	if a.isConst() && b.isConst() {
		return constScalar(eval(op, is64, off, a.t.v, b.t.v))
	}
	if !is64 {
		var r scalar
		switch {
		case op == asm.ArSh:
			// Signed: compute on the sign-extended operand.
			r = alu64(op, off, a.sext32(), b.zext32(), 32)
		case (op == asm.Div || op == asm.Mod) && off == 1:
			r = alu64(op, off, a.sext32(), b.sext32(), 32)
		case op == asm.Mov && off != 0:
			r = alu64(op, off, a, b, 32)
		default:
			r = alu64(op, off, a.zext32(), b.zext32(), 32)
		}
		return r.zext32()
	}
	return alu64(op, off, a, b, 64)
}

// alu64 computes op on 64-bit operands; width is the operation's width,
// which only matters for shift masks.
func alu64(op asm.ALUOp, off int16, a, b scalar, width int) scalar {
	r := unknownScalar()
	switch op {
	case asm.Add:
		r.t = a.t.add(b.t)
		if _, carry := bits.Add64(a.umax, b.umax, 0); carry == 0 {
			r.umin, r.umax = a.umin+b.umin, a.umax+b.umax
		}
		if lo, ok := addS(a.smin, b.smin); ok {
			if hi, ok := addS(a.smax, b.smax); ok {
				r.smin, r.smax = lo, hi
			}
		}
	case asm.Sub:
		r.t = a.t.sub(b.t)
		if a.umin >= b.umax {
			r.umin, r.umax = a.umin-b.umax, a.umax-b.umin
		}
		if lo, ok := subS(a.smin, b.smax); ok {
			if hi, ok := subS(a.smax, b.smin); ok {
				r.smin, r.smax = lo, hi
			}
		}
	case asm.Mul:
		r.t = a.t.mul(b.t)
		if hi, _ := bits.Mul64(a.umax, b.umax); hi == 0 {
			r.umin, r.umax = a.umin*b.umin, a.umax*b.umax
		}
		const lim = 1 << 31
		if a.smin > -lim && a.smax < lim && b.smin > -lim && b.smax < lim {
			p := [4]int64{a.smin * b.smin, a.smin * b.smax, a.smax * b.smin, a.smax * b.smax}
			r.smin, r.smax = min(p[0], p[1], p[2], p[3]), max(p[0], p[1], p[2], p[3])
		}
	case asm.Div:
		if off == 1 {
			break // signed division: unknown unless constant
		}
		switch {
		case b.umin > 0:
			r.umin, r.umax = a.umin/b.umax, a.umax/b.umin
		default: // division by zero gives 0
			r.umin, r.umax = 0, a.umax
		}
	case asm.Mod:
		if off == 1 {
			// |x % y| <= |x|, and the sign is x's (or the result is 0).
			r.smin, r.smax = min(a.smin, 0), max(a.smax, 0)
			break
		}
		r.umin, r.umax = 0, a.umax
		if b.umin > 0 {
			r.umax = min(a.umax, b.umax-1)
		}
	case asm.And:
		r.t = a.t.and(b.t)
		r.umax = min(a.umax, b.umax)
		if a.smin >= 0 || b.smin >= 0 {
			r.smin = 0
		}
	case asm.Or:
		r.t = a.t.or(b.t)
		r.umin = max(a.umin, b.umin)
	case asm.Xor:
		r.t = a.t.xor(b.t)
	case asm.LSh:
		if !b.isConst() {
			break
		}
		k := uint(b.t.v) & uint(width-1)
		r.t = a.t.lsh(k)
		if k == 0 {
			return a
		}
		if a.umax>>(64-k) == 0 {
			r.umin, r.umax = a.umin<<k, a.umax<<k
		}
	case asm.RSh:
		if !b.isConst() {
			r.umin, r.umax = 0, a.umax
			break
		}
		k := uint(b.t.v) & uint(width-1)
		r.t = a.t.rsh(k)
		r.umin, r.umax = a.umin>>k, a.umax>>k
	case asm.ArSh:
		if !b.isConst() {
			r.smin, r.smax = min(a.smin, 0), max(a.smax, 0)
			if a.smin < 0 {
				r.smin = a.smin
			}
			if a.smax < 0 {
				r.smax = -1
			}
			break
		}
		k := uint(b.t.v) & uint(width-1)
		r.t = a.t.arsh(k)
		r.smin, r.smax = a.smin>>k, a.smax>>k
	case asm.Neg:
		r.t = tconst(0).sub(a.t)
		if a.smin != math.MinInt64 {
			r.smin, r.smax = -a.smax, -a.smin
		}
	case asm.Mov:
		switch off {
		case 0:
			return b
		case 8, 16, 32:
			n := int64(1) << (off - 1)
			if b.smin >= -n && b.smax < n {
				r.smin, r.smax = b.smin, b.smax
			} else {
				r.smin, r.smax = -n, n-1
			}
			if b.t.m&(uint64(1)<<(off-1)) == 0 {
				// The sign bit is known: the known bits extend.
				k := 64 - uint(off)
				r.t = tnum{uint64(int64(b.t.v<<k) >> k), uint64(int64(b.t.m<<k) >> k)}
			}
		}
	}
	if !r.sync() {
		// Only reachable through a bug in a transfer function: stay sound.
		return unknownScalar()
	}
	return r
}

// endian is the transfer function of le/be/bswap.
func endian(opc asm.OpCode, width int64, a scalar) scalar {
	if a.isConst() {
		return constScalar(evalEnd(opc, width, a.t.v))
	}
	r := unknownScalar()
	switch {
	case opc == asm.OpToLE && width == 64:
		return a
	case opc == asm.OpToLE:
		r.t = a.t.trunc(int(width))
		if a.umax < uint64(1)<<width {
			r.umin, r.umax = a.umin, a.umax
		}
	default:
		r.t = a.t.swap(int(width))
	}
	if !r.sync() {
		return unknownScalar()
	}
	return r
}

func addS(a, b int64) (int64, bool) {
	c := a + b
	return c, (c > a) == (b > 0)
}

func subS(a, b int64) (int64, bool) {
	c := a - b
	return c, (c < a) == (b > 0)
}
