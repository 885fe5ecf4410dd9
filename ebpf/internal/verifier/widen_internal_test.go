package verifier

import (
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
)

// Every test of the package checks that each widened state covers the
// state it widens.
func init() { checkWiden = true }

// testRand returns a generator seeded from WIDEN_SEED or at random, and
// logs the seed.
func testRand(t *testing.T) *rand.Rand {
	seed := rand.Uint64()
	if s := os.Getenv("WIDEN_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("WIDEN_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (WIDEN_SEED replays it)", seed)
	return rand.New(rand.NewPCG(seed, 1))
}

// interesting returns a 64-bit value near a boundary more often than not.
func interesting(rng *rand.Rand) uint64 {
	edges := []uint64{0, 1, 2, 7, 8, 255, 2047, 2048, math.MaxInt32, math.MaxUint32, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64}
	switch rng.IntN(3) {
	case 0:
		return edges[rng.IntN(len(edges))] + uint64(rng.IntN(5)) - 2
	case 1:
		return uint64(rng.IntN(5000))
	}
	return rng.Uint64()
}

func bigOf(a i128) *big.Int {
	r := new(big.Int).Lsh(big.NewInt(a.hi), 64)
	return r.Add(r, new(big.Int).SetUint64(a.lo))
}

// TestI128 checks the 128-bit arithmetic against math/big.
func TestI128(t *testing.T) {
	rng := testRand(t)
	for range 20000 {
		b, k := interesting(rng), interesting(rng)
		s := int64(int32(interesting(rng)))
		got := bigOf(i128s(int64(b)).add(mulK(s, k)))
		want := new(big.Int).Mul(big.NewInt(s), new(big.Int).SetUint64(k))
		want.Add(want, big.NewInt(int64(b)))
		if got.Cmp(want) != 0 {
			t.Fatalf("%d + %d*%d = %v, want %v", int64(b), s, k, got, want)
		}
		x, y := i128s(int64(b)).add(mulK(s, k)), i128u(k).sub(i128s(s))
		if x.less(y) != (bigOf(x).Cmp(bigOf(y)) < 0) {
			t.Fatalf("%v < %v wrong", bigOf(x), bigOf(y))
		}
		if v, ok := x.int64(); ok != bigOf(x).IsInt64() || ok && v != bigOf(x).Int64() {
			t.Fatalf("int64(%v) = %d, %v", bigOf(x), v, ok)
		}
		if v, ok := x.uint64(); ok != bigOf(x).IsUint64() || ok && v != bigOf(x).Uint64() {
			t.Fatalf("uint64(%v) = %d, %v", bigOf(x), v, ok)
		}
		n := i128u(b).add(mulK(s, 3))
		if n.less(i128{}) {
			continue
		}
		d := uint64(max(1, s&0xffff))
		q, r := new(big.Int).QuoRem(bigOf(n), new(big.Int).SetUint64(d), new(big.Int))
		fl, ok := divFloor(n, d)
		if ok != q.IsUint64() || ok && fl != q.Uint64() {
			t.Fatalf("floor(%v/%d) = %d, %v", bigOf(n), d, fl, ok)
		}
		if r.Sign() != 0 {
			q.Add(q, big.NewInt(1))
		}
		ce, ok := divCeil(n, d)
		if ok != q.IsUint64() || ok && ce != q.Uint64() {
			t.Fatalf("ceil(%v/%d) = %d, %v", bigOf(n), d, ce, ok)
		}
	}
}

// TestDeriveAndKRange: derive contains base + stride*k for every k of the
// range, and kRange keeps every k whose value lies in a narrowed range.
func TestDeriveAndKRange(t *testing.T) {
	rng := testRand(t)
	for range 5000 {
		base := interesting(rng)
		stride := int64(int32(interesting(rng)))
		if stride == 0 {
			stride = 1
		}
		lo := interesting(rng)
		hi := lo + interesting(rng)%4096
		if hi < lo {
			hi = math.MaxUint64
		}
		d := derive(base, stride, lo, hi)
		// Narrow with an interval around one of the values.
		ks := []uint64{lo, hi, lo + (hi-lo)/2, lo + rng.Uint64N(hi-lo+1)}
		pivot := base + uint64(stride)*ks[rng.IntN(len(ks))]
		off := d
		switch rng.IntN(3) {
		case 0:
			off.smax = min(off.smax, int64(pivot))
		case 1:
			off.umin = max(off.umin, pivot)
		default:
			off.smin = max(off.smin, int64(pivot)-int64(rng.IntN(100)))
		}
		okOff := off.sync()
		nlo, nhi, ok := kRange(base, stride, lo, hi, &off)
		for _, k := range ks {
			x := base + uint64(stride)*k
			if !d.has(x) {
				t.Fatalf("derive(%d, %d, [%d, %d]) = %s misses k=%d: %d", int64(base), stride, lo, hi, d.String(), k, int64(x))
			}
			if okOff && off.has(x) && (!ok || k < nlo || k > nhi) {
				t.Fatalf("kRange(%d, %d, [%d, %d], %s) = [%d, %d] %v drops k=%d (value %d)", int64(base), stride, lo, hi, off.String(), nlo, nhi, ok, k, int64(x))
			}
		}
	}
}

// TestWidenScalar: the widening of two scalars contains both.
func TestWidenScalar(t *testing.T) {
	rng := testRand(t)
	ts := []int64{-1, 0, 1, 7, 8, 255, 2047, 2048}
	for range 5000 {
		a, b := interesting(rng), interesting(rng)
		x, y := rangeScalar(min(a, b), max(a, b)), constScalar(interesting(rng))
		if rng.IntN(2) == 0 {
			x = constScalar(a)
		}
		w := widenScalar(&x, &y, ts)
		for _, v := range []uint64{a, b, y.t.v, x.umin, x.umax} {
			if (x.has(v) || y.has(v)) && !w.has(v) {
				t.Fatalf("widen(%s, %s) = %s misses %d", x.String(), y.String(), w.String(), v)
			}
		}
	}
}

// TestLinkedCoverage: a state whose linked values are shifted by whole
// iterations is covered when the shifted range fits, and not otherwise.
func TestLinkedCoverage(t *testing.T) {
	mk := func(base uint64, lo, hi uint64) *state {
		st := &state{frames: []*frame{{callsite: -1}}, ivs: []ivar{{lo, hi}}}
		st.regs[1] = value{kind: kindScalar, iv: 1, stride: 1, base: base, off: derive(base, 1, lo, hi)}
		st.regs[2] = value{kind: kindRegion, iv: 1, stride: 8, base: 8 * base, off: derive(8*base, 8, lo, hi)}
		return st
	}
	old := mk(0, 0, 10)
	for _, c := range []struct {
		cur  *state
		want bool
	}{
		{mk(1, 0, 9), true},   // one iteration later, k+1 in [1, 10]
		{mk(1, 0, 10), false}, // k+1 up to 11
		{mk(0, 0, 10), true},
		{mk(5, 0, 5), true},
	} {
		if got := c.cur.coveredBy(old, 0b110, false); got != c.want {
			t.Errorf("%s covered by %s: %v, want %v", c.cur.String(), old.String(), got, c.want)
		}
	}
	// Out of step: r2 is a row ahead of r1.
	cur := mk(1, 0, 5)
	cur.regs[2].base += 8
	cur.regs[2].off = derive(cur.regs[2].base, 8, 0, 5)
	if cur.coveredBy(old, 0b110, false) {
		t.Errorf("%s covered by %s", cur.String(), old.String())
	}
	// Constants standing for one iteration.
	c := &state{frames: old.frames}
	c.regs[1], c.regs[2] = scalarValue(constScalar(3)), pointer(kindRegion, 0)
	c.regs[2].off = constScalar(24)
	if !c.coveredBy(old, 0b110, false) {
		t.Errorf("%s not covered by %s", c.String(), old.String())
	}
	c.regs[2].off = constScalar(32)
	if c.coveredBy(old, 0b110, false) {
		t.Errorf("%s covered by %s", c.String(), old.String())
	}
}

// TestWidenLinks: widening keeps the values that move in step linked, maps
// a later state's iteration count onto the old one's, takes constants of
// an iteration before the old state's first by counting from them, and
// always covers the state it widens (checkWiden).
func TestWidenLinks(t *testing.T) {
	insns, err := asm.Assemble("mov %r0, 0\nexit")
	if err != nil {
		t.Fatal(err)
	}
	v := &verifier{typ: core.TestProgramType(64), insns: insns, at: []int32{0, 1}, nslots: 2,
		loopOf: []int32{0, -1}, loopBody: map[int][]int{0: {0}}, loopParent: map[int]int{0: -1}, narrowed: make([][]threshold, 2), live: []regSet{0b11110, 0b11110}}
	lin := func(base uint64, stride int32, lo, hi uint64) *state {
		st := &state{frames: []*frame{{callsite: -1}}, ivs: []ivar{{lo, hi}}}
		st.regs[1] = value{kind: kindScalar, iv: 1, stride: stride, base: base, off: derive(base, int64(stride), lo, hi)}
		st.regs[2] = value{kind: kindRegion, iv: 1, stride: 8 * stride, base: 8 * base, off: derive(8*base, 8*int64(stride), lo, hi)}
		return st
	}
	consts := func(c uint64) *state {
		st := &state{frames: []*frame{{callsite: -1}}}
		st.regs[1] = scalarValue(constScalar(c))
		st.regs[2] = pointer(kindRegion, 0)
		st.regs[2].off = constScalar(8 * c)
		return st
	}
	for _, c := range []struct {
		name     string
		old, cur *state
		lo, hi   uint64 // the widened count's range
		base     uint64 // r1's base in the widened state
	}{
		// r2 reaches the end of the 64-byte region at k = 6.
		{"two constants", consts(1), consts(2), 0, 6, 1},
		{"shifted by one", lin(1, 1, 0, 9), lin(2, 1, 0, 9), 0, math.MaxUint64, 1},
		{"inside", lin(1, 1, 0, 9), lin(2, 1, 0, 3), 0, 9, 1},
		{"a constant inside", lin(1, 1, 0, 9), consts(4), 0, 9, 1},
		{"a constant before", lin(1, 1, 0, 9), consts(0), 0, 10, 0},
		{"a constant before, counting down", lin(10, -1, 0, 5), consts(11), 0, 6, 11},
	} {
		w := v.widen(c.old, c.cur, 0, false, false)
		if w == nil {
			t.Errorf("%s: not widened", c.name)
			continue
		}
		r1, r2 := &w.regs[1], &w.regs[2]
		if r1.iv == 0 || r1.iv != r2.iv || len(w.ivs) != 1 {
			t.Errorf("%s: r1 and r2 not linked to one count: %s", c.name, w.String())
			continue
		}
		if k := w.ivs[0]; k.lo != c.lo || k.hi != c.hi || r1.base != c.base || r2.base != 8*c.base {
			t.Errorf("%s: got %s, want k in [%d, %d] and r1 = %d + k", c.name, w.String(), c.lo, c.hi, c.base)
		}
		if !c.old.coveredBy(w, 0b110, false) {
			t.Errorf("%s: %s does not cover the old state %s", c.name, w.String(), c.old.String())
		}
	}
	// Out of step: r2 moves by 16 where r1 moves by 1 in the old state.
	old, cur := lin(1, 1, 0, 9), lin(2, 1, 0, 9)
	cur.regs[2].base += 8
	cur.regs[2].off = derive(cur.regs[2].base, 8, 0, 9)
	if w := v.widen(old, cur, 0, false, false); w == nil || (w.regs[1].iv != 0 && w.regs[1].iv == w.regs[2].iv) {
		t.Errorf("out of step: %v", w)
	}
}

// TestFindLoops: loop headers come from the control flow graph: a rotated
// loop entered by a forward jump has its header there and none at the
// join point its body jumps back to; a cycle entered at two places still
// has a head.
func TestFindLoops(t *testing.T) {
	for _, c := range []struct {
		name  string
		prog  string
		heads []int
		back  [][2]int // edges back to a header
		inner [][2]int // slot, header of its innermost loop
	}{
		{"rotated", `
			mov %r0, 0
			mov %r1, 0
			ja head
		join:
			add %r1, 1
			jge %r1, 50, out
		head:
			add %r0, 1
			jgt %r0, 7, join
			ja join
		out:
			mov %r0, 0
			exit`, []int{5}, [][2]int{{4, 5}}, [][2]int{{3, 5}, {7, 5}, {6, 5}}},
		{"nested", `
			mov %r0, 0
		outer:
			mov %r1, 0
		inner:
			add %r1, 1
			jlt %r1, 8, inner
			add %r0, 1
			jlt %r0, 8, outer
			exit`, []int{1, 2}, [][2]int{{3, 2}, {5, 1}}, [][2]int{{3, 2}, {4, 1}, {2, 2}}},
		{"entered twice", `
			mov %r0, 0
			jeq %r1, 0, b
		a:
			add %r0, 1
		b:
			add %r0, 2
			jlt %r0, 100, a
			exit`, []int{3}, [][2]int{{2, 3}}, [][2]int{{4, 3}}},
	} {
		insns, err := asm.Assemble(c.prog)
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Type: core.TestProgramType(0), MaxInstructions: DefaultMaxInstructions}
		v := &verifier{cfg: cfg, typ: cfg.Type, insns: insns, res: &Result{}}
		if err := v.structure(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var heads []int
		for pc, h := range v.head {
			if h {
				heads = append(heads, pc)
			}
		}
		if !slices.Equal(heads, c.heads) {
			t.Errorf("%s: heads %v, want %v", c.name, heads, c.heads)
		}
		for _, e := range c.back {
			if !v.backEdge(e[0], e[1]) {
				t.Errorf("%s: %d -> %d is not a back edge", c.name, e[0], e[1])
			}
		}
		for _, e := range c.inner {
			if int(v.loopOf[e[0]]) != e[1] {
				t.Errorf("%s: slot %d is in the loop of %d, want %d", c.name, e[0], v.loopOf[e[0]], e[1])
			}
		}
	}
}
