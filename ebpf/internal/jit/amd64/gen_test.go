package amd64

import (
	"encoding/binary"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"
)

// testSeed returns the seed for randomized tests: $BPFDB_SEED if set, else
// the clock. It is logged so that a failure can be replayed.
func testSeed(t testing.TB) int64 {
	seed := time.Now().UnixNano()
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("BPFDB_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with BPFDB_SEED=%d)", seed, seed)
	return seed
}

// gen draws random valid instructions from a source of numbers: a seeded
// generator or a fuzzer's bytes.
type gen struct {
	next func() uint64
}

func newGen(seed int64) *gen {
	r := rand.New(rand.NewSource(seed))
	return &gen{next: r.Uint64}
}

// genFromBytes reads numbers from data, then zeros once it is exhausted.
func genFromBytes(data []byte) *gen {
	return &gen{next: func() uint64 {
		var b [8]byte
		n := copy(b[:], data)
		data = data[n:]
		return binary.LittleEndian.Uint64(b[:])
	}}
}

func (g *gen) intn(n int) int { return int(g.next() % uint64(n)) }
func (g *gen) reg() Reg       { return Reg(g.intn(16)) }
func (g *gen) size() Size     { return Size(g.intn(4)) }
func (g *gen) size3264() Size { return S32 + Size(g.intn(2)) }

// imm returns an immediate that fits in s bits, often a small one so that
// imm8 forms are exercised.
func (g *gen) imm(s Size) int32 {
	v := int64(g.next())
	switch g.intn(3) {
	case 0:
		return int32(int8(v))
	case 1:
		if s == S8 {
			return int32(int8(v))
		}
		if s == S16 {
			return int32(int16(v))
		}
		return int32(v)
	}
	return int32(g.intn(5)) - 2
}

func (g *gen) mem() Mem {
	disp := []int32{0, 1, -1, 127, -128, 128, -129, 0x7fffffff, -0x80000000}[g.intn(9)]
	if g.intn(2) == 0 {
		return M(g.reg(), disp)
	}
	idx := g.reg()
	if idx == RSP {
		idx = RBP
	}
	return MI(g.reg(), idx, []uint8{1, 2, 4, 8}[g.intn(4)], disp)
}

// sequence emits n random valid instructions; with jumps it also emits
// jumps and calls to labels bound forward and backward.
func (g *gen) sequence(a *Assembler, n int, jumps bool) {
	var labels []Label
	for i := 0; i < n; i++ {
		if jumps && g.intn(6) == 0 {
			switch g.intn(4) {
			case 0:
				l := a.NewLabel()
				a.Bind(l)
				labels = append(labels, l)
			default:
				var l Label
				if len(labels) == 0 || g.intn(2) == 0 {
					l = a.NewLabel()
					labels = append(labels, l) // bound below, after the loop
				} else {
					l = labels[g.intn(len(labels))]
				}
				switch g.intn(4) {
				case 3:
					a.LeaLabel(g.reg(), l)
				case 0:
					a.Jmp(l)
				case 1:
					a.Jcc(Cond(g.intn(16)), l)
				default:
					a.Call(l)
				}
			}
			continue
		}
		g.one(a)
	}
	for _, l := range labels {
		if _, ok := a.LabelOffset(l); !ok {
			a.Bind(l)
		}
	}
}

// one emits one random valid non-jump instruction.
func (g *gen) one(a *Assembler) {
	switch g.intn(32) {
	case 0:
		a.MovRR(g.size(), g.reg(), g.reg())
	case 1:
		s := g.size()
		a.MovRI(s, g.reg(), g.imm(s))
	case 2:
		a.MovAbs(g.reg(), int64(g.next()))
	case 3:
		a.MovImm64(g.reg(), g.next()>>(g.intn(4)*16))
	case 4:
		a.ALURR(ALUOp(g.intn(8)), g.size(), g.reg(), g.reg())
	case 5:
		s := g.size()
		a.ALURI(ALUOp(g.intn(8)), s, g.reg(), g.imm(s))
	case 6:
		a.ALURM(ALUOp(g.intn(8)), g.size(), g.reg(), g.mem())
	case 7:
		a.ALUMR(ALUOp(g.intn(8)), g.size(), g.mem(), g.reg())
	case 8:
		s := g.size()
		a.ALUMI(ALUOp(g.intn(8)), s, g.mem(), g.imm(s))
	case 9:
		a.TestRR(g.size(), g.reg(), g.reg())
	case 10:
		s := g.size()
		a.TestRI(s, g.reg(), g.imm(s))
	case 11:
		a.IMulRR(S16+Size(g.intn(3)), g.reg(), g.reg())
	case 12:
		s := S16 + Size(g.intn(3))
		a.IMulRRI(s, g.reg(), g.reg(), g.imm(s))
	case 13:
		a.Unary(UnaryOp(2+g.intn(6)), g.size(), g.reg())
	case 14:
		a.ShiftCL([]ShiftOp{ROL, ROR, SHL, SHR, SAR}[g.intn(5)], g.size(), g.reg())
	case 15:
		s := g.size()
		a.ShiftRI([]ShiftOp{ROL, ROR, SHL, SHR, SAR}[g.intn(5)], s, g.reg(), uint8(g.intn(s.Bits())))
	case 16:
		a.Movzx(g.size3264(), g.reg(), Size(g.intn(2)), g.reg())
	case 17:
		a.Movsx(g.size3264(), g.reg(), Size(g.intn(2)), g.reg())
	case 18:
		a.MovzxRM(g.size3264(), g.reg(), Size(g.intn(2)), g.mem())
	case 19:
		a.MovsxRM(g.size3264(), g.reg(), Size(g.intn(2)), g.mem())
	case 20:
		if g.intn(2) == 0 {
			a.Movsxd(g.reg(), g.reg())
		} else {
			a.MovsxdRM(g.reg(), g.mem())
		}
	case 21:
		a.Bswap(g.size3264(), g.reg())
	case 22:
		a.MovRM(g.size(), g.reg(), g.mem())
	case 23:
		a.MovMR(g.size(), g.mem(), g.reg())
	case 24:
		s := g.size()
		a.MovMI(s, g.mem(), g.imm(s))
	case 25:
		a.Lea(g.size3264(), g.reg(), g.mem())
	case 26:
		switch g.intn(4) {
		case 0:
			a.LockXadd(g.size(), g.mem(), g.reg())
		case 1:
			a.LockCmpxchg(g.size(), g.mem(), g.reg())
		case 2:
			a.Xchg(g.size(), g.mem(), g.reg())
		default:
			a.LockALUMR([]ALUOp{ADD, OR, AND, XOR, SUB}[g.intn(5)], g.size(), g.mem(), g.reg())
		}
	case 27:
		a.Setcc(Cond(g.intn(16)), g.reg())
	case 28:
		a.Cmov(Cond(g.intn(16)), S16+Size(g.intn(3)), g.reg(), g.reg())
	case 29:
		switch g.intn(4) {
		case 0:
			a.CallR(g.reg())
		case 1:
			a.JmpR(g.reg())
		case 2:
			a.Push(g.reg())
		default:
			a.Pop(g.reg())
		}
	case 30:
		switch g.intn(4) {
		case 0:
			a.Cqo()
		case 1:
			a.Cdq()
		case 2:
			a.Ret()
		default:
			a.Int3()
		}
	default:
		a.Nop(1 + g.intn(12))
	}
}
