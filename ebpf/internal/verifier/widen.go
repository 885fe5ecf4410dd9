package verifier

import (
	"math"
	"slices"
	"strconv"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
)

// widenDelay is the arrival at a loop header, counted from the loop's entry
// on one path, from which the verifier prunes against the previous
// arrival or widens: the arrivals before it are explored as they are, so
// that a loop whose state repeats exactly within them is still rejected as
// infinite.
const widenDelay = 3

// maxWalk bounds the loop-header ancestors looked at to find a path's
// previous arrival at a loop header.
const maxWalk = 256

// checkWiden makes widen panic when its result does not cover the state it
// widens (a bug); tests set it. Otherwise such a result is dropped: the
// loop is then explored without widening, which is slower but sound.
var checkWiden = false

// lastArrival returns the node at which the path ending below parent last
// arrived at loop header pc in the same entry of the loop (frames deep), or
// nil. The walk follows loop-header ancestors only: it skips those of loops
// nested in pc's and of functions called from its body, and stops at a
// loop enclosing pc's, or outside it, or in a caller: the loop was entered
// after those.
func (v *verifier) lastArrival(parent *node, pc, frames int) *node {
	n := parent
	if n != nil && !v.head[n.pc] {
		n = n.headUp
	}
	for steps := 0; n != nil && steps < maxWalk; steps++ {
		nf := len(n.st.frames)
		switch {
		case nf < frames:
			return nil
		case nf > frames:
		case n.pc == pc:
			return n
		case !v.inLoopOf(pc, n.pc):
			return nil
		}
		n = n.headUp
	}
	return nil
}

// thresholds returns the bounds that widening at loop header h jumps to,
// sorted: 0, the constants the loop's conditional jumps compare with, the
// context fields' declared bounds, each with its neighbours (a loop
// condition "i < c" leaves i <= c-1), and the bounds to which the loop's
// jumps narrowed values linked to an induction variable on the paths
// explored so far (noteBranch).
func (v *verifier) thresholds(h int) []int64 {
	ts := []int64{0}
	near := func(c int64) { ts = append(ts, c-1, c, c+1) }
	for _, f := range v.typ.Context.Fields {
		if f.Max > f.Min {
			near(f.Min)
			near(f.Max)
		}
	}
	for _, pc := range v.loopBody[h] {
		for _, n := range v.narrowed[pc] {
			ts = append(ts, n.t)
		}
		ins := v.ins(pc)
		if !ins.IsBranch() || ins.OpCode.Source() != asm.SourceImm {
			continue
		}
		switch ins.OpCode.JumpOp() {
		case asm.Ja, asm.Call, asm.Exit:
			continue
		}
		near(ins.Constant)
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// kThresholds returns the bounds that the values of stride stride linked
// to an induction variable are widened to at loop header h, sorted: the
// bounds to which the loop's jumps narrowed linked values of that stride
// (noteBranch), which are what the loop's conditions compare its counters
// and pointers with, and the context fields' declared bounds (with
// neighbours) on the side the values move to, up for an increasing value
// and down for a decreasing one. A bound met by a value of another stride
// says nothing of when this one reaches it.
func (v *verifier) kThresholds(h int, stride int32) []int64 {
	var ts []int64
	for _, f := range v.typ.Context.Fields {
		if f.Max > f.Min {
			c := f.Min
			if stride > 0 {
				c = f.Max
			}
			ts = append(ts, c-1, c, c+1)
		}
	}
	for _, pc := range v.loopBody[h] {
		for _, n := range v.narrowed[pc] {
			if n.stride == stride {
				ts = append(ts, n.t)
			}
		}
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// threshold is a bound noted at a conditional jump: t, met by a value of
// the given stride.
type threshold struct {
	t      int64
	stride int32
}

// maxNarrowed bounds the bounds noteBranch keeps per jump.
const maxNarrowed = 16

// noteBranch records, for a conditional jump inside a loop that compares a
// value linked to an induction variable (d or s, the operands before the
// jump: scalars, or offsets of pointers into one object) with another, the
// bounds the comparison puts on any value on either side, with the linked
// value's stride: "i < n" with n at most 2048 bounds i by 2047; "i != c"
// gives c and its neighbours. They are the thresholds of the loop's
// induction variables, whether its condition compares with a constant or
// with a register (kThresholds).
func (v *verifier) noteBranch(pc int, op asm.JumpOp, is32 bool, d, s *value) {
	if !v.inLoop[pc] || (d.iv == 0 && s.iv == 0) {
		return
	}
	var stride int32
	note := func(x int64) {
		b := threshold{x, stride}
		if len(v.narrowed[pc]) < maxNarrowed && !slices.Contains(v.narrowed[pc], b) {
			v.narrowed[pc] = append(v.narrowed[pc], b)
		}
	}
	for _, o := range [2]asm.JumpOp{op, negate(op)} {
		for _, linkedDst := range [2]bool{true, false} {
			a, b := unknownScalar(), s.off
			stride = d.stride
			if !linkedDst {
				a, b = d.off, unknownScalar()
				stride = s.stride
			}
			if (linkedDst && d.iv == 0) || (!linkedDst && s.iv == 0) || !refine(o, is32, &a, &b) {
				continue
			}
			x := &a
			if !linkedDst {
				x = &b
			}
			if o == asm.JEq && x.isConst() {
				// The loop goes on (or ends) where the value is not c:
				// its last value is a neighbour of c.
				c := int64(x.t.v)
				note(c - 1)
				note(c + 1)
			}
			if x.smax != math.MaxInt64 {
				note(x.smax)
			}
			if x.smin != math.MinInt64 {
				note(x.smin)
			}
			if x.umax < math.MaxInt64 {
				note(int64(x.umax))
			}
			if x.umin > 0 && x.umin <= math.MaxInt64 {
				note(int64(x.umin))
			}
			if x.s32max != math.MaxInt32 {
				note(int64(x.s32max))
			}
			if x.s32min != math.MinInt32 {
				note(int64(x.s32min))
			}
			if x.u32max != math.MaxUint32 {
				note(int64(x.u32max))
			}
		}
	}
}

// objectThresholds returns the bounds widening jumps to for the offset of
// pointer x: the start and the end of its object, and the end less each
// access size.
func (v *verifier) objectThresholds(x *value) []int64 {
	key := [2]int32{int32(x.kind), x.idx}
	if ts, ok := v.objThr[key]; ok {
		return ts
	}
	var end int64
	ts := []int64{0}
	switch x.kind {
	case kindStack:
		ts = []int64{-core.StackSize, -8, -4, -2, -1, 0}
	case kindMapValue:
		end = int64(v.cfg.Maps[x.idx].ValueSize)
	case kindRegion:
		end = int64(v.typ.Regions[x.idx].Size)
	}
	if end > 0 {
		ts = append(ts, end-8, end-4, end-2, end-1, end)
		slices.Sort(ts)
	}
	if v.objThr == nil {
		v.objThr = map[[2]int32][]int64{}
	}
	v.objThr[key] = ts
	return ts
}

// upTo returns the least threshold >= x, or the limit.
func upTo(ts []int64, x int64) int64 {
	i, _ := slices.BinarySearch(ts, x)
	if i < len(ts) {
		return ts[i]
	}
	return math.MaxInt64
}

// downTo returns the greatest threshold <= x, or the limit.
func downTo(ts []int64, x int64) int64 {
	i, found := slices.BinarySearch(ts, x)
	if found {
		return x
	}
	if i > 0 {
		return ts[i-1]
	}
	return math.MinInt64
}

// upToU is upTo for unsigned bounds (negative thresholds do not count).
func upToU(ts []int64, x uint64) uint64 {
	if x > math.MaxInt64 {
		return math.MaxUint64
	}
	if t := upTo(ts, int64(x)); t != math.MaxInt64 {
		return uint64(t)
	}
	return math.MaxUint64
}

// downToU is downTo for unsigned bounds.
func downToU(ts []int64, x uint64) uint64 {
	if x > math.MaxInt64 {
		x = math.MaxInt64
	}
	if t := downTo(ts, int64(x)); t >= 0 {
		return uint64(t)
	}
	return 0
}

// widenScalar returns the join of old and cur with every bound in which
// cur goes beyond old moved out to the next threshold (64-bit bounds) or
// to the type's limit (32-bit bounds); the known bits are joined (a tnum
// loses at most 64 bits) and, when a bound moved, loosened to the widened
// bounds.
func widenScalar(old, cur *scalar, ts []int64) scalar {
	j := join(old, cur)
	moved := j.smax > old.smax || j.smin < old.smin || j.umax > old.umax || j.umin < old.umin
	if j.smax > old.smax {
		j.smax = upTo(ts, j.smax)
	}
	if j.smin < old.smin {
		j.smin = downTo(ts, j.smin)
	}
	if j.umax > old.umax {
		j.umax = upToU(ts, j.umax)
	}
	if j.umin < old.umin {
		j.umin = downToU(ts, j.umin)
	}
	if moved {
		// The known bits must not pull a widened bound back (sync), or
		// the next widening would move it by one bit only.
		j.t = j.t.join(trange(j.umin, j.umax)).join(trange(uint64(j.smin), uint64(j.smax)))
	}
	if j.u32max > old.u32max {
		j.u32max = math.MaxUint32
	}
	if j.u32min < old.u32min {
		j.u32min = 0
	}
	if j.s32max > old.s32max {
		j.s32max = math.MaxInt32
	}
	if j.s32min < old.s32min {
		j.s32min = math.MinInt32
	}
	if !j.sync() {
		return unknownScalar() // only through a bug: stay sound
	}
	return j
}

// kUpTo returns the least iteration count >= need at which the linear value
// base + stride*k reaches a threshold of ts (its last k not beyond it), or
// best if that is less.
func kUpTo(base uint64, stride int64, ts []int64, need, best uint64) uint64 {
	b := i128s(int64(base))
	d := uint64(stride)
	if stride < 0 {
		d = -d
	}
	for _, t := range ts {
		n := i128s(t).sub(b)
		if stride < 0 {
			n = n.neg()
		}
		if n.less(i128{}) {
			continue
		}
		if k, ok := divFloor(n, d); ok && k >= need && k < best {
			best = k
		}
	}
	return best
}

// pairs calls f with the values of old, cur and w (a clone of cur) at every
// position a continuation from loop header pc may read: the live registers,
// and every frame's saved registers and stack spills. Dead registers of w
// become uninitialized; a stack slot keeps the bytes initialized in both
// states, and is plain bytes unless both spill a register there. It
// returns false when a pointer is spilled in one state and the other has
// written other bytes there.
func pairs(old, cur, w *state, live regSet, f func(o, c, x *value)) bool {
	for i := range w.regs {
		if live&(1<<i) == 0 {
			w.regs[i] = value{}
			continue
		}
		f(&old.regs[i], &cur.regs[i], &w.regs[i])
	}
	for i, of := range old.frames {
		cf, wf := cur.frames[i], w.frames[i]
		for j := range of.saved {
			f(&of.saved[j], &cf.saved[j], &wf.saved[j])
		}
		n := max(len(of.stack), len(cf.stack))
		wf.own()
		for len(wf.stack) < n {
			wf.stack = append(wf.stack, slot{})
		}
		for j := range n {
			var o, c slot
			if j < len(of.stack) {
				o = of.stack[j]
			}
			if j < len(cf.stack) {
				c = cf.stack[j]
			}
			ws := &wf.stack[j]
			ws.init = o.init & c.init
			switch ok, ck := o.spill.kind, c.spill.kind; {
			case ok == kindUninit && ck == kindUninit:
			case ok.isPointer() || ck.isPointer():
				switch {
				case (ok == kindUninit && o.init == 0) || (ck == kindUninit && c.init == 0):
					// Never written in one state: the slot says nothing
					// (the loop writes it before it reads it, or the
					// path from the unwritten state fails anyway).
					*ws = slot{}
				case ok == kindUninit || ck == kindUninit:
					return false
				default:
					f(&o.spill, &c.spill, &ws.spill)
				}
			case ok == kindScalar && ck == kindScalar:
				f(&o.spill, &c.spill, &ws.spill)
			default:
				ws.spill = value{}
			}
		}
	}
	return true
}

// widen returns a state that covers cur, arriving at loop header pc, and
// old, the state of the path's previous arrival there, with the bounds
// that grew widened, or nil if the two differ in shape (frames, pointer
// kinds and objects, spilled pointers).
//
// A value that is a different constant in old and cur becomes linear in a
// new induction variable k: old's constant at k = 0, cur's at k = 1. A
// value linear in an induction variable of old and, with the same stride,
// of cur, stays linear when the shift between the two bases is the same
// for all such values; so does one for which cur holds the constant of
// one iteration, the same for all (the count is rebased when that
// iteration comes before old's first). The range of each induction
// variable is the join of old's and (shifted) cur's, its upper end
// widened to the first count at
// which one of its values reaches a threshold: the comparison constants of
// the loop and the context's field bounds for scalars, the ends of the
// object for pointers. Every other value is joined and its growing bounds
// widened to thresholds (widenScalar).
//
// first says no state of this entry of the loop has been widened yet: an
// induction variable without a threshold then keeps the joined range.
// counted asks for a new induction variable: without one, widen returns
// nil.
//
// Repeated widening ascends through the thresholds, so it ends: when the
// state arriving from a widened one is covered by it, the loop's states
// are all in it (checkpoint prunes there).
func (v *verifier) widen(old, cur *state, pc int, first, counted bool) *state {
	if len(old.frames) != len(cur.frames) {
		return nil
	}
	for i, f := range old.frames {
		if f.callsite != cur.frames[i].callsite {
			return nil
		}
	}
	live := v.live[pc]
	w := cur.clone()

	// Pass 1: shapes, and how old's induction variables map to cur's.
	var ids idmap
	var prop [maxIVars]ivmatch
	bad := false
	same := pairs(old, cur, w, live, func(o, c, _ *value) {
		if bad || o.kind == kindUninit || c.kind == kindUninit {
			return
		}
		if o.kind != c.kind || o.idx != c.idx || o.frame != c.frame ||
			(o.kind == kindMapValueOrNull && !ids.match(o.id, c.id)) {
			bad = true
			return
		}
		if o.iv == 0 || prop[o.iv-1].set {
			return
		}
		if c.iv == 0 && c.off.isConst() {
			// Constants of one iteration, perhaps before old's first
			// (the loop entered again): k = d, rebased if negative.
			d, s := int64(c.off.t.v-o.base), int64(o.stride)
			k := d / s
			if d%s != 0 || (k < 0 && old.ivs[o.iv-1].hi > math.MaxUint64-uint64(-k)) {
				return
			}
			prop[o.iv-1] = ivmatch{set: true, fixed: true, d: k}
			return
		}
		if c.iv == 0 || o.stride != c.stride {
			return
		}
		d, ok := shift(o, c)
		if !ok {
			return
		}
		kc := cur.ivs[c.iv-1]
		if i128u(kc.lo).add(i128s(d)).less(i128{}) {
			return
		}
		if _, fits := i128u(kc.hi).add(i128s(d)).uint64(); !fits {
			return
		}
		prop[o.iv-1] = ivmatch{set: true, cur: c.iv, d: d}
	})
	if !same || bad {
		return nil
	}

	// Pass 2: the values of w, and the members of its induction variables.
	var ivs []ivar
	var from [maxIVars]uint8 // old's induction variable -> w's (1-based)
	var fresh uint8          // w's induction variable for new links
	var members [maxIVars][]*value
	ts := v.thresholds(pc)
	pairs(old, cur, w, live, func(o, c, x *value) {
		if o.kind == kindUninit || c.kind == kindUninit {
			*x = value{}
			return
		}
		x.iv, x.stride, x.base = 0, 0, 0
		if o.kind == kindMapHandle {
			return
		}
		idx := uint8(0)
		switch {
		case o.iv != 0 && prop[o.iv-1].set:
			m := &prop[o.iv-1]
			if m.fixed {
				d, s := int64(c.off.t.v-o.base), int64(o.stride)
				if c.iv != 0 || !c.off.isConst() || d%s != 0 || d/s != m.d {
					break
				}
			} else if d, ok := shift(o, c); c.iv != m.cur || o.stride != c.stride || !ok || d != m.d {
				break
			}
			if from[o.iv-1] == 0 && len(ivs) < maxIVars {
				ivs = append(ivs, ivar{})
				from[o.iv-1] = uint8(len(ivs))
			}
			idx = from[o.iv-1]
			if idx != 0 {
				x.stride, x.base = o.stride, o.base
			}
		case o.iv == 0 && c.iv == 0 && o.off.isConst() && c.off.isConst():
			d := int64(c.off.t.v - o.off.t.v)
			if d == 0 || d < math.MinInt32 || d > math.MaxInt32 {
				break
			}
			if fresh == 0 && len(ivs) < maxIVars {
				ivs = append(ivs, ivar{})
				fresh = uint8(len(ivs))
			}
			idx = fresh
			if idx != 0 {
				x.stride, x.base = int32(d), o.off.t.v
			}
		}
		if idx != 0 {
			x.iv = idx
			members[idx-1] = append(members[idx-1], x)
			return
		}
		xts := ts
		if x.kind.isPointer() {
			xts = v.objectThresholds(x)
		}
		x.off = widenScalar(&o.off, &c.off, xts)
	})

	// The induction variables' ranges.
	for i, m := range prop {
		idx := from[i]
		if idx == 0 {
			continue
		}
		ko := old.ivs[i]
		lo, hi := i128s(m.d), i128s(m.d)
		if !m.fixed {
			kc := cur.ivs[m.cur-1]
			lo, hi = i128u(kc.lo).add(lo), i128u(kc.hi).add(hi)
		}
		if i128u(ko.lo).less(lo) {
			lo = i128u(ko.lo)
		}
		if hi.less(i128u(ko.hi)) {
			hi = i128u(ko.hi)
		}
		khi := hi.lo // fits: checked in pass 1
		if khi > ko.hi {
			khi = v.kWiden(pc, members[idx-1], khi, first)
		}
		k := ivar{lo: lo.lo, hi: khi}
		switch {
		case lo.less(i128{}):
			// Count from cur's iteration: k' = k + r.
			r := -lo.lo
			for _, x := range members[idx-1] {
				x.base -= uint64(int64(x.stride)) * r
			}
			k = ivar{lo: 0, hi: khi + r}
			if khi+r < khi {
				k.hi = math.MaxUint64
			}
		case k.lo < ko.lo:
			k.lo = 0
		}
		ivs[idx-1] = k
	}
	if counted && fresh == 0 {
		return nil
	}
	if fresh != 0 {
		ivs[fresh-1] = ivar{lo: 0, hi: v.kWiden(pc, members[fresh-1], 1, first)}
	}
	for i, k := range ivs {
		for _, x := range members[i] {
			x.off = derive(x.base, int64(x.stride), k.lo, k.hi)
		}
	}
	w.ivs = ivs
	if !cur.coveredBy(w, live, false) {
		if checkWiden {
			panic("BUG: the widened state at " + strconv.Itoa(pc) + " does not cover the state it widens\nwidened: " + w.String() + "\ncur: " + cur.String())
		}
		return nil
	}
	return w
}

// kWiden returns the upper end of the range of an induction variable of
// loop header pc that must reach at least need: the least count at which one
// of its values reaches a threshold (kThresholds for scalars, the object's
// for pointers), or else need itself on a loop's first widening (the
// exploration from it notes what the loop compares its values with) and no
// limit on later ones.
func (v *verifier) kWiden(pc int, members []*value, need uint64, first bool) uint64 {
	best := uint64(math.MaxUint64)
	ts := map[int32][]int64{}
	for _, x := range members {
		xts, ok := ts[x.stride]
		switch {
		case x.kind.isPointer():
			xts = v.objectThresholds(x)
		case !ok:
			xts = v.kThresholds(pc, x.stride)
			ts[x.stride] = xts
		}
		best = kUpTo(x.base, int64(x.stride), xts, need, best)
	}
	if best == math.MaxUint64 && first {
		return need
	}
	return best
}
