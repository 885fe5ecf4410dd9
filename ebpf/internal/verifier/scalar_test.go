package verifier

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// seed returns the seed of a randomized test: VERIFIER_SEED if set,
// otherwise a fresh one. It is logged so a failure can be replayed.
func seed(t *testing.T) uint64 {
	s := rand.Uint64()
	if e := os.Getenv("VERIFIER_SEED"); e != "" {
		v, err := strconv.ParseUint(e, 10, 64)
		if err != nil {
			t.Fatalf("VERIFIER_SEED: %v", err)
		}
		s = v
	}
	t.Logf("seed %d (set VERIFIER_SEED to replay)", s)
	return s
}

// has reports whether x is one of the values s stands for.
func (s *scalar) has(x uint64) bool {
	return x >= s.umin && x <= s.umax && int64(x) >= s.smin && int64(x) <= s.smax &&
		uint32(x) >= s.u32min && uint32(x) <= s.u32max && int32(x) >= s.s32min && int32(x) <= s.s32max &&
		s.t.contains(x)
}

var edges = []uint64{0, 1, 2, 7, 8, 255, 256, 4095, math.MaxInt32, math.MaxInt32 + 1, math.MaxUint32,
	math.MaxUint32 + 1, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64, math.MaxUint64 - 1, 1 << 40}

func randValue(r *rand.Rand) uint64 {
	switch r.IntN(4) {
	case 0:
		return edges[r.IntN(len(edges))] + uint64(r.IntN(3)) - 1
	case 1:
		return uint64(r.IntN(64)) - 16
	case 2:
		return uint64(r.Int64N(1 << 20))
	}
	return r.Uint64()
}

// randScalar returns an abstract scalar and a few of its concrete values.
func randScalar(r *rand.Rand) (scalar, []uint64) {
	a, b := randValue(r), randValue(r)
	var s scalar
	switch r.IntN(5) {
	case 0:
		s = constScalar(a)
	case 1:
		s = rangeScalar(min(a, b), max(a, b))
	case 2:
		s = signedRange(min(int64(a), int64(b)), max(int64(a), int64(b)))
	case 3:
		s = unknownScalar()
		s.t = tnum{a &^ b, b}
		s.sync()
	default:
		s = rangeScalar(min(a, b), max(a, b))
		s = alu(asm.And, true, 0, s, constScalar(randValue(r)))
	}
	var xs []uint64
	for range 8 {
		for range 50 {
			var x uint64
			switch r.IntN(3) {
			case 0:
				x = s.t.v | r.Uint64()&s.t.m
			case 1:
				x = s.umin + uint64(r.IntN(4))
			default:
				x = s.umax - uint64(r.IntN(4))
			}
			if s.has(x) {
				xs = append(xs, x)
				break
			}
		}
	}
	return s, xs
}

var aluOps = []struct {
	op  asm.ALUOp
	off int16
}{
	{asm.Add, 0}, {asm.Sub, 0}, {asm.Mul, 0}, {asm.Div, 0}, {asm.Div, 1}, {asm.Mod, 0}, {asm.Mod, 1},
	{asm.Or, 0}, {asm.And, 0}, {asm.Xor, 0}, {asm.LSh, 0}, {asm.RSh, 0}, {asm.ArSh, 0}, {asm.Neg, 0},
	{asm.Mov, 0}, {asm.Mov, 8}, {asm.Mov, 16}, {asm.Mov, 32},
}

// TestALUSound checks every transfer function against the concrete
// semantics: the abstract result contains the concrete result for every
// sampled pair of operands.
func TestALUSound(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 1))
	for i := range 40000 {
		a, xs := randScalar(r)
		b, ys := randScalar(r)
		if len(xs) == 0 || len(ys) == 0 {
			continue
		}
		o := aluOps[i%len(aluOps)]
		is64 := r.IntN(2) == 0
		if o.off == 32 && !is64 {
			continue
		}
		res := alu(o.op, is64, o.off, a, b)
		for _, x := range xs {
			for _, y := range ys {
				want := eval(o.op, is64, o.off, x, y)
				if !res.has(want) {
					t.Fatalf("%v%v off=%d: %#x op %#x = %#x, not in %s\na=%s\nb=%s", o.op, map[bool]int{true: 64, false: 32}[is64], o.off,
						x, y, want, res.String(), a.String(), b.String())
				}
			}
		}
	}
}

func TestEndianSound(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 2))
	for range 50000 {
		a, xs := randScalar(r)
		opc := []asm.OpCode{asm.OpToLE, asm.OpToBE, asm.OpBswap}[r.IntN(3)]
		w := []int64{16, 32, 64}[r.IntN(3)]
		res := endian(opc, w, a)
		for _, x := range xs {
			if want := evalEnd(opc, w, x); !res.has(want) {
				t.Fatalf("%v %d of %#x = %#x, not in %s (a=%s)", opc, w, x, want, res.String(), a.String())
			}
		}
	}
}

var jumpOps = []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE, asm.JSet, jNotSet}

func holds(op asm.JumpOp, is32 bool, x, y uint64) bool {
	if is32 {
		x, y = uint64(uint32(x)), uint64(uint32(y))
		sx, sy := int64(int32(x)), int64(int32(y))
		switch op {
		case asm.JSGT:
			return sx > sy
		case asm.JSGE:
			return sx >= sy
		case asm.JSLT:
			return sx < sy
		case asm.JSLE:
			return sx <= sy
		}
	}
	switch op {
	case asm.JEq:
		return x == y
	case asm.JNE:
		return x != y
	case asm.JGT:
		return x > y
	case asm.JGE:
		return x >= y
	case asm.JLT:
		return x < y
	case asm.JLE:
		return x <= y
	case asm.JSGT:
		return int64(x) > int64(y)
	case asm.JSGE:
		return int64(x) >= int64(y)
	case asm.JSLT:
		return int64(x) < int64(y)
	case asm.JSLE:
		return int64(x) <= int64(y)
	case asm.JSet:
		return x&y != 0
	}
	return x&y == 0
}

// TestRefineSound checks branch refinement: when the condition holds for
// concrete operands, the refined side is feasible and still contains them.
func TestRefineSound(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 3))
	for i := range 40000 {
		a, xs := randScalar(r)
		b, ys := randScalar(r)
		op := jumpOps[i%len(jumpOps)]
		is32 := r.IntN(2) == 0
		ra, rb := a, b
		ok := refine(op, is32, &ra, &rb)
		for _, x := range xs {
			for _, y := range ys {
				if !holds(op, is32, x, y) {
					continue
				}
				if !ok || !ra.has(x) || !rb.has(y) {
					t.Fatalf("%v (32=%v) holds for %#x, %#x but refined to ok=%v a=%s b=%s\nfrom a=%s b=%s", op, is32, x, y, ok, ra.String(), rb.String(), a.String(), b.String())
				}
			}
		}
	}
}

func TestSyncKeepsValues(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 4))
	for range 30000 {
		s, xs := randScalar(r)
		c := s
		if !c.sync() {
			t.Fatalf("sync made %s empty", s.String())
		}
		for _, x := range xs {
			if !c.has(x) {
				t.Fatalf("sync dropped %#x from %s: %s", x, s.String(), c.String())
			}
		}
	}
}
