package verifier

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// kind is what a register holds, as far as the verifier knows.
type kind uint8

// Register kinds. For every pointer kind, off is the pointer's offset from
// the start of what it points to (from the frame pointer for the stack),
// itself a scalar that may be a range.
const (
	kindUninit         kind = iota // never written: reading it is an error
	kindScalar                     // an integer
	kindCtx                        // the context
	kindStack                      // a stack frame (frame)
	kindMapValue                   // a value of map idx
	kindMapValueOrNull             // the result of a lookup in map idx, not yet null-checked
	kindMapHandle                  // map idx itself, from a map pseudo-load
	kindRegion                     // region idx of the program type
)

var kindNames = [...]string{"uninit", "scalar", "ctx", "fp", "map_value", "map_value_or_null", "map_ptr", "mem"}

func (k kind) String() string { return kindNames[k] }

func (k kind) isPointer() bool { return k >= kindCtx }

// value is the abstract value of a register or spilled stack slot.
type value struct {
	kind  kind
	frame uint8 // kindStack: the frame the pointer points into
	// iv, when not 0, links the scalar or offset to induction variable
	// iv-1 of the state: it equals base + stride*k (see ivar).
	iv     uint8
	idx    int32  // map index or region index
	id     uint32 // kindMapValueOrNull: copies of one lookup result share it
	stride int32
	base   uint64
	off    scalar // the scalar itself, or a pointer's offset
}

func scalarValue(s scalar) value { return value{kind: kindScalar, off: s} }

func pointer(k kind, idx int32) value { return value{kind: k, idx: idx, off: constScalar(0)} }

// sameObject reports whether v and o certainly point into one object: the
// same stack frame, the context or the same region. Two map value
// pointers of one map may point to different entries, so they never do.
func (v *value) sameObject(o *value) bool {
	switch v.kind {
	case kindStack, kindCtx, kindRegion:
		return v.kind == o.kind && v.idx == o.idx && v.frame == o.frame
	}
	return false
}

// slot is 8 bytes of a stack frame. Bit i of init says that byte i (from
// the lowest address) has been written. A full aligned 8-byte store of a
// register spills it: spill then holds the register's value (its kind is
// kindUninit when the slot holds plain bytes).
type slot struct {
	init  uint8
	spill value
}

// frame is one call frame: its stack and what the caller keeps.
type frame struct {
	callsite int      // slot of the call instruction; -1 for the entry frame
	saved    [4]value // the caller's r6..r9
	stack    []slot   // stack[i] covers bytes [fp-8(i+1), fp-8i)
	// shared says stack's array may be another state's as well (clone
	// shares it): own copies it before a write.
	shared bool
}

// own makes f's stack its own, to write it.
func (f *frame) own() {
	if f.shared {
		f.stack = slices.Clone(f.stack)
		f.shared = false
	}
}

// state is the abstract machine state on one path.
type state struct {
	regs   [11]value
	frames []*frame
	ivs    []ivar // induction variables, referenced by value.iv
}

func (s *state) cur() *frame { return s.frames[len(s.frames)-1] }

// oneFrame is a state of the entry frame in a single allocation.
type oneFrame struct {
	st state
	fs [1]*frame
	f  frame
}

func (s *state) clone() *state {
	var c *state
	if len(s.frames) == 1 {
		b := &oneFrame{st: state{regs: s.regs}, f: *s.frames[0]}
		b.fs[0] = &b.f
		b.st.frames = b.fs[:]
		c = &b.st
	} else {
		c = &state{regs: s.regs, frames: make([]*frame, len(s.frames))}
		fs := make([]frame, len(s.frames))
		for i, f := range s.frames {
			fs[i] = *f
			c.frames[i] = &fs[i]
		}
	}
	if len(s.ivs) > 0 {
		c.ivs = append([]ivar(nil), s.ivs...)
	}
	// The stacks are shared until one of the two states writes its own.
	for i, f := range c.frames {
		if len(f.stack) > 0 {
			f.shared = true
			s.frames[i].shared = true
		} else {
			f.stack, f.shared = nil, false
		}
	}
	return c
}

// slotAt returns the slot of frame f holding byte off (off < 0), growing
// the stack as needed.
func (f *frame) slotAt(off int64) *slot {
	f.own()
	i := int((-off - 1) / 8)
	for len(f.stack) <= i {
		f.stack = append(f.stack, slot{})
	}
	return &f.stack[i]
}

// byteIndex is the position of byte off within its slot.
func byteIndex(off int64) uint { return uint((off%8 + 8) % 8) }

// idmap pairs the null-check ids of an old state with a new one's.
type idmap struct{ old, cur []uint32 }

func (m *idmap) match(a, b uint32) bool {
	for i, o := range m.old {
		if o == a {
			return m.cur[i] == b
		}
		if m.cur[i] == b {
			return false
		}
	}
	m.old = append(m.old, a)
	m.cur = append(m.cur, b)
	return true
}

// ivmatch says how an old state's induction variable relates to a new
// state's: old's k is cur's k plus d, or (fixed) the new state's values are
// constants for which old's k is k.
type ivmatch struct {
	set   bool
	fixed bool
	cur   uint8
	d     int64
	k     uint64
}

// match pairs what an old state's values refer to with a new state's: the
// null-check ids and the induction variables.
type match struct {
	ids idmap
	ivs [maxIVars]ivmatch
}

// link reports whether cur's value keeps the linear relation of old's (old
// linked), recording how the induction variables correspond; exact asks
// for the same relation.
func (m *match) link(old, cur *value, exact bool) bool {
	if old.iv == 0 {
		return !exact || cur.iv == 0
	}
	var want ivmatch
	switch {
	case cur.iv != 0:
		d, ok := shift(old, cur)
		if cur.stride != old.stride || !ok || (exact && d != 0) {
			return false
		}
		want = ivmatch{set: true, cur: cur.iv, d: d}
	case exact || !cur.off.isConst():
		return false
	default:
		d, s := int64(cur.off.t.v-old.base), int64(old.stride)
		if d%s != 0 || d/s < 0 {
			return false
		}
		want = ivmatch{set: true, fixed: true, k: uint64(d / s)}
	}
	mm := &m.ivs[old.iv-1]
	if !mm.set {
		*mm = want
		return true
	}
	return *mm == want
}

// check reports whether the induction variables matched between old and
// cur agree: every iteration count of cur maps into old's range (exact:
// the same range, one to one).
func (m *match) check(old, cur *state, exact bool) bool {
	var used [maxIVars]bool
	for i := range old.ivs {
		mm := &m.ivs[i]
		if !mm.set {
			continue
		}
		ko := old.ivs[i]
		if mm.fixed {
			if mm.k < ko.lo || mm.k > ko.hi {
				return false
			}
			continue
		}
		kc := cur.ivs[mm.cur-1]
		if exact {
			if kc != ko || used[mm.cur-1] {
				return false
			}
			used[mm.cur-1] = true
			continue
		}
		d := i128s(mm.d)
		if i128u(kc.lo).add(d).less(i128u(ko.lo)) || i128u(ko.hi).less(i128u(kc.hi).add(d)) {
			return false
		}
	}
	return true
}

// covers reports whether old's value stands for every concrete value that
// cur's does, so that a continuation proven safe from old is safe from cur.
// exact asks for equality instead.
func covers(old, cur *value, m *match, exact bool) bool {
	if old.kind == kindUninit && !exact {
		return true // the old path never read it
	}
	if old.kind != cur.kind || old.idx != cur.idx || old.frame != cur.frame {
		return false
	}
	if old.kind == kindMapValueOrNull && !m.ids.match(old.id, cur.id) {
		return false
	}
	if exact {
		return old.off == cur.off && m.link(old, cur, true)
	}
	return cur.off.subsetOf(&old.off) && m.link(old, cur, false)
}

// coveredBy reports whether old subsumes s (see covers).
// Only registers in live (of the innermost frame) are compared.
func (s *state) coveredBy(old *state, live regSet, exact bool) bool {
	if len(s.frames) != len(old.frames) {
		return false
	}
	var m match
	for i := range s.regs {
		if live&(1<<i) == 0 {
			continue
		}
		if !covers(&old.regs[i], &s.regs[i], &m, exact) {
			return false
		}
	}
	for i, of := range old.frames {
		f := s.frames[i]
		if of.callsite != f.callsite {
			return false
		}
		for j := range of.saved {
			if !covers(&of.saved[j], &f.saved[j], &m, exact) {
				return false
			}
		}
		n := max(len(of.stack), len(f.stack))
		for j := range n {
			var o, c slot
			if j < len(of.stack) {
				o = of.stack[j]
			}
			if j < len(f.stack) {
				c = f.stack[j]
			}
			if exact {
				if o.init != c.init || !covers(&o.spill, &c.spill, &m, true) {
					return false
				}
				continue
			}
			if o.init&^c.init != 0 {
				return false // old relied on bytes cur has not written
			}
			if o.spill.kind == kindUninit {
				// Old had plain bytes: cur must not have a pointer there.
				if c.spill.kind.isPointer() && o.init != 0 {
					return false
				}
				continue
			}
			if !covers(&o.spill, &c.spill, &m, false) {
				return false
			}
		}
	}
	return len(old.ivs) == 0 || m.check(old, s, exact)
}

// String formats a scalar like the kernel's log: a constant as a number,
// otherwise the bounds that say something.
func (s *scalar) String() string {
	if s.isConst() {
		return strconv.FormatInt(int64(s.t.v), 10)
	}
	var parts []string
	add := func(name string, v string) { parts = append(parts, name+"="+v) }
	// A non-negative signed range equal to the unsigned one says nothing more.
	same := s.smin >= 0 && uint64(s.smin) == s.umin && uint64(s.smax) == s.umax
	if s.smin != math.MinInt64 && !same {
		add("smin", strconv.FormatInt(s.smin, 10))
	}
	if s.smax != math.MaxInt64 && !same {
		add("smax", strconv.FormatInt(s.smax, 10))
	}
	if s.umin != 0 {
		add("umin", strconv.FormatUint(s.umin, 10))
	}
	if s.umax != math.MaxUint64 {
		add("umax", strconv.FormatUint(s.umax, 10))
	}
	implied := s.umax <= math.MaxUint32 && uint64(s.u32min) == s.umin && uint64(s.u32max) == s.umax
	if (s.u32min != 0 || s.u32max != math.MaxUint32) && !implied {
		add("u32min", strconv.FormatUint(uint64(s.u32min), 10))
		add("u32max", strconv.FormatUint(uint64(s.u32max), 10))
	}
	if s.t.m != math.MaxUint64 && s.t != trange(s.umin, s.umax) {
		add("var_off", s.t.String())
	}
	return strings.Join(parts, ",")
}

// linString formats the linear relation of a linked value: ",lin=b+s*kN"
// for base b, stride s and induction variable N of the state.
func (v *value) linString() string {
	if v.iv == 0 {
		return ""
	}
	return fmt.Sprintf(",lin=%d%+d*k%d", int64(v.base), v.stride, v.iv)
}

func (v *value) String() string {
	switch v.kind {
	case kindUninit:
		return "?"
	case kindScalar:
		if v.off.isConst() {
			return v.off.String()
		}
		return "scalar(" + v.off.String() + v.linString() + ")"
	case kindStack:
		fp := "fp"
		if v.frame > 0 {
			fp = fmt.Sprintf("fp[%d]", v.frame)
		}
		if v.off.isConst() {
			return fp + strconv.FormatInt(int64(v.off.t.v), 10)
		}
		return fp + "(off=(" + v.off.String() + ")" + v.linString() + ")"
	}
	var b strings.Builder
	b.WriteString(v.kind.String())
	b.WriteString("(")
	switch v.kind {
	case kindMapValue, kindMapValueOrNull, kindMapHandle:
		fmt.Fprintf(&b, "map=%d", v.idx)
		if v.kind == kindMapValueOrNull {
			fmt.Fprintf(&b, ",id=%d", v.id)
		}
		if v.kind != kindMapHandle {
			b.WriteString(",")
		}
	case kindRegion:
		fmt.Fprintf(&b, "region=%d,", v.idx)
	}
	if v.kind != kindMapHandle {
		if v.off.isConst() {
			fmt.Fprintf(&b, "off=%d", int64(v.off.t.v))
		} else {
			fmt.Fprintf(&b, "off=(%s)%s", v.off.String(), v.linString())
		}
	}
	b.WriteString(")")
	return b.String()
}

// String prints the registers and stack of the state's innermost frame in
// the kernel's style: R1=ctx(off=0) R2=scalar(umax=255) R10=fp0 fp-8=mmmmmmmm.
func (s *state) String() string {
	var parts []string
	for i := range s.regs {
		if s.regs[i].kind != kindUninit {
			parts = append(parts, fmt.Sprintf("R%d=%s", i, s.regs[i].String()))
		}
	}
	if len(s.frames) > 1 {
		parts = append(parts, fmt.Sprintf("frame=%d", len(s.frames)-1))
	}
	f := s.cur()
	for i, sl := range f.stack {
		if sl.init == 0 && sl.spill.kind == kindUninit {
			continue
		}
		var val string
		if sl.spill.kind != kindUninit {
			val = sl.spill.String()
		} else {
			var b [8]byte
			for j := range 8 {
				b[j] = '?'
				if sl.init&(1<<j) != 0 {
					b[j] = 'm'
				}
			}
			val = string(b[:])
		}
		parts = append(parts, fmt.Sprintf("fp%d=%s", -8*(i+1), val))
	}
	for i, k := range s.ivs {
		parts = append(parts, fmt.Sprintf("k%d=[%d,%d]", i+1, k.lo, k.hi))
	}
	return strings.Join(parts, " ")
}

// hash mixes everything exact equality compares, for finding equal states
// quickly.
func (s *state) hash(live regSet) uint64 {
	h := uint64(14695981039346656037)
	mix := func(x uint64) {
		h ^= x
		h *= 1099511628211
		h ^= h >> 29
	}
	val := func(v *value) {
		mix(uint64(v.kind) | uint64(v.frame)<<8 | uint64(uint32(v.idx))<<16)
		if v.kind == kindUninit {
			return
		}
		mix(v.off.umin)
		mix(v.off.umax)
		mix(uint64(v.off.smin))
		mix(uint64(v.off.smax))
		// The 32-bit bounds too: a loop that narrows only them (jgt32
		// %r0, %r0 jumping to itself) would otherwise put every state
		// of its point into one bucket, and each check would compare
		// with all of them.
		mix(uint64(v.off.u32min)<<32 | uint64(v.off.u32max))
		mix(uint64(uint32(v.off.s32min))<<32 | uint64(uint32(v.off.s32max)))
		mix(v.off.t.v)
		mix(v.off.t.m)
	}
	for i := range s.regs {
		if live&(1<<i) != 0 {
			val(&s.regs[i])
		}
	}
	for _, f := range s.frames {
		mix(uint64(f.callsite))
		for i := range f.saved {
			val(&f.saved[i])
		}
		n := len(f.stack)
		for n > 0 && f.stack[n-1] == (slot{}) {
			n--
		}
		for i := range f.stack[:n] {
			mix(uint64(f.stack[i].init))
			val(&f.stack[i].spill)
		}
	}
	return h
}
