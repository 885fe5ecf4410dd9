package amd64

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

var printTable = flag.Bool("print-table", false, "print the actual hex of every table case")

// listing returns a's listing as one line: tabs dropped, lines joined by "; ".
func listing(a *Assembler) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSuffix(a.String(), "\n"), "\t", ""), "\n", "; ")
}

func build(t testing.TB, c testCase) (*Assembler, []byte) {
	t.Helper()
	a := New()
	c.build(a)
	code, err := a.Finish()
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return a, code
}

// TestEncoding pins the text and the bytes of every table case together.
func TestEncoding(t *testing.T) {
	for _, c := range cases {
		a, code := build(t, c)
		got := hex.EncodeToString(code)
		if *printTable {
			fmt.Printf("%q %q\n", c.name, got)
			continue
		}
		if text := listing(a); text != c.text {
			t.Errorf("%s: text\n got %q\nwant %q", c.name, text, c.text)
		}
		if got != c.hex {
			t.Errorf("%s: %s\n got %s\nwant %s", c.name, c.text, got, c.hex)
		}
	}
}

// TestInstRecords checks that instruction records tile the code exactly.
func TestInstRecords(t *testing.T) {
	for _, c := range cases {
		a, code := build(t, c)
		off := 0
		for i := 0; i < a.NumInsts(); i++ {
			in := a.Inst(i)
			if in.Offset != off || in.Len <= 0 || in.Len > 15 {
				t.Errorf("%s: instruction %d %q at %d+%d, want offset %d", c.name, i, in.Text, in.Offset, in.Len, off)
			}
			off += in.Len
		}
		if off != len(code) || a.Len() != len(code) {
			t.Errorf("%s: records cover %d bytes, code has %d", c.name, off, len(code))
		}
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(a *Assembler)
		want  error
		msg   string
	}{
		{"label bound twice", func(a *Assembler) { l := a.NewLabel(); a.Bind(l); a.Ret(); a.Bind(l) }, ErrLabel, "instruction 1 (bind): invalid label: L0 bound twice"},
		{"label never bound", func(a *Assembler) { a.Ret(); a.Jmp(a.NewLabel()) }, ErrLabel, "instruction 1 (jmp): invalid label: L0 is never bound"},
		{"zero label", func(a *Assembler) { a.Jcc(CondE, Label{}) }, ErrLabel, "instruction 0 (je): invalid label: L? does not belong to this assembler"},
		{"foreign label", func(a *Assembler) { a.Jmp(New().NewLabel()) }, ErrLabel, "instruction 0 (jmp): invalid label: L0 does not belong to this assembler"},
		{"rsp index", func(a *Assembler) { a.MovRM(S64, RAX, MI(RAX, RSP, 1, 0)) }, ErrOperand, "instruction 0 (mov): invalid operand: rsp cannot be an index register"},
		{"bad scale", func(a *Assembler) { a.Lea(S64, RAX, MI(RAX, RBX, 3, 0)) }, ErrOperand, "instruction 0 (lea): invalid operand: scale 3 (want 1, 2, 4 or 8)"},
		{"bad register", func(a *Assembler) { a.MovRR(S64, Reg(16), RAX) }, ErrOperand, "instruction 0 (mov): invalid operand: register Reg(16)"},
		{"noreg base", func(a *Assembler) { a.MovRM(S64, RAX, M(NoReg, 0)) }, ErrOperand, "instruction 0 (mov): invalid operand: base register noreg"},
		{"bswap16", func(a *Assembler) { a.Bswap(S16, RAX) }, ErrOperand, "instruction 0 (bswap): invalid operand: 16-bit operand size"},
		{"imul8", func(a *Assembler) { a.IMulRR(S8, RAX, RBX) }, ErrOperand, "instruction 0 (imul): invalid operand: 8-bit operand size"},
		{"movzx to 16", func(a *Assembler) { a.Movzx(S16, RAX, S8, RBX) }, ErrOperand, "instruction 0 (movzx): invalid operand: 16-bit operand size"},
		{"movzx from 32", func(a *Assembler) { a.Movzx(S64, RAX, S32, RBX) }, ErrOperand, "instruction 0 (movzx): invalid operand: 32-bit operand size"},
		{"imm8 too big", func(a *Assembler) { a.MovRI(S8, RAX, 256) }, ErrOperand, "instruction 0 (mov): invalid operand: immediate 256 does not fit in 8 bits"},
		{"imm16 too big", func(a *Assembler) { a.ALURI(ADD, S16, RAX, 70000) }, ErrOperand, "instruction 0 (add): invalid operand: immediate 70000 does not fit in 16 bits"},
		{"shift too far", func(a *Assembler) { a.ShiftRI(SHL, S32, RAX, 32) }, ErrOperand, "instruction 0 (shl): invalid operand: shift count 32 for a 32-bit operand"},
		{"bad shift op", func(a *Assembler) { a.ShiftCL(ShiftOp(2), S32, RAX) }, ErrOperand, "instruction 0 (ShiftOp(2)): invalid operand: ShiftOp(2)"},
		{"bad unary op", func(a *Assembler) { a.Unary(UnaryOp(0), S32, RAX) }, ErrOperand, "instruction 0 (UnaryOp(0)): invalid operand: UnaryOp(0)"},
		{"bad alu op", func(a *Assembler) { a.ALURR(ALUOp(8), S32, RAX, RAX) }, ErrOperand, "instruction 0 (ALUOp(8)): invalid operand: ALUOp(8)"},
		{"bad cond", func(a *Assembler) { a.Setcc(Cond(16), RAX) }, ErrOperand, "instruction 0 (setCond(16)): invalid operand: Cond(16)"},
		{"lock cmp", func(a *Assembler) { a.LockALUMR(CMP, S64, M(RAX, 0), RBX) }, ErrOperand, "instruction 0 (lock cmp): invalid operand: cmp cannot be locked"},
		{"lea8", func(a *Assembler) { a.Lea(S8, RAX, M(RAX, 0)) }, ErrOperand, "instruction 0 (lea): invalid operand: 8-bit operand size"},
		{"align 3", func(a *Assembler) { a.Align(3) }, ErrOperand, "instruction 0 (align): invalid operand: alignment 3 is not a power of two"},
		{"negative nop", func(a *Assembler) { a.Nop(-1) }, ErrOperand, "instruction 0 (nop): invalid operand: negative padding -1"},
		{"first error wins", func(a *Assembler) { a.Ret(); a.Bswap(S8, RAX); a.Lea(S8, RAX, M(RAX, 0)) }, ErrOperand, "instruction 1 (bswap): invalid operand: 8-bit operand size"},
	} {
		a := New()
		c.build(a)
		code, err := a.Finish()
		if !errors.Is(err, c.want) || err.Error() != c.msg {
			t.Errorf("%s: got %v, want %q (wrapping %v)", c.name, err, c.msg, c.want)
		}
		if code != nil {
			t.Errorf("%s: Finish returned code with an error", c.name)
		}
	}
}

// TestStopAfterError checks that nothing is emitted after the first error.
func TestStopAfterError(t *testing.T) {
	a := New()
	a.Ret()
	a.Bswap(S16, RAX)
	a.Ret()
	a.Bind(a.NewLabel())
	if a.Len() != 1 || a.NumInsts() != 1 || a.Err() == nil {
		t.Fatalf("after an error: %d bytes, %d instructions, err %v", a.Len(), a.NumInsts(), a.Err())
	}
}

func TestReset(t *testing.T) {
	a := New()
	a.Bswap(S8, RAX)
	a.Reset()
	l := a.NewLabel()
	a.Bind(l)
	a.Jmp(l)
	code, err := a.Finish()
	if err != nil || hex.EncodeToString(code) != "ebfe" || a.String() != "L0:\n\tjmp L0\n" {
		t.Fatalf("after Reset: %x %v %q", code, err, a.String())
	}
	if off, ok := a.LabelOffset(l); !ok || off != 0 {
		t.Fatalf("LabelOffset = %d, %v", off, ok)
	}
	if _, ok := a.LabelOffset(a.NewLabel()); ok {
		t.Fatal("LabelOffset of an unbound label reports bound")
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{RAX.String(), "rax"}, {R15.String(), "r15"}, {RSI.Name(S8), "sil"}, {R8.Name(S32), "r8d"},
		{R12.Name(S16), "r12w"}, {Reg(20).String(), "Reg(20)"}, {NoReg.String(), "noreg"},
		{S8.String(), "byte"}, {S64.String(), "qword"}, {Size(9).String(), "Size(9)"},
		{CondAE.String(), "ae"}, {CondG.String(), "g"}, {Cond(17).String(), "Cond(17)"},
		{CondL.Invert().String(), "ge"}, {CondE.Invert().String(), "ne"},
		{XOR.String(), "xor"}, {IDIV.String(), "idiv"}, {IMUL1.String(), "imul"}, {SAR.String(), "sar"},
		{MI(RBX, RCX, 4, -16).String(), "[rbx + rcx*4 - 16]"}, {M(RSP, 0).String(), "[rsp]"},
		{Label{}.String(), "L?"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// everyMethod calls each instruction method once with register r (valid or
// not) and label l.
func everyMethod(r Reg, l Label) []func(a *Assembler) {
	m := M(r, 8)
	return []func(a *Assembler){
		func(a *Assembler) { a.MovRR(S64, r, RAX) },
		func(a *Assembler) { a.MovRI(S32, r, 1) },
		func(a *Assembler) { a.MovAbs(r, 1) },
		func(a *Assembler) { a.MovRM(S64, r, M(RAX, 0)) },
		func(a *Assembler) { a.MovMR(S64, m, RAX) },
		func(a *Assembler) { a.MovMI(S64, m, 1) },
		func(a *Assembler) { a.Lea(S64, RAX, m) },
		func(a *Assembler) { a.Movzx(S32, r, S8, RAX) },
		func(a *Assembler) { a.MovzxRM(S32, RAX, S8, m) },
		func(a *Assembler) { a.Movsx(S64, RAX, S16, r) },
		func(a *Assembler) { a.MovsxRM(S64, RAX, S16, m) },
		func(a *Assembler) { a.Movsxd(r, RAX) },
		func(a *Assembler) { a.MovsxdRM(RAX, m) },
		func(a *Assembler) { a.Bswap(S64, r) },
		func(a *Assembler) { a.ALURR(ADD, S64, r, RAX) },
		func(a *Assembler) { a.ALURI(ADD, S64, r, 1) },
		func(a *Assembler) { a.ALURM(ADD, S64, RAX, m) },
		func(a *Assembler) { a.ALUMR(ADD, S64, m, RAX) },
		func(a *Assembler) { a.LockALUMR(ADD, S64, m, RAX) },
		func(a *Assembler) { a.ALUMI(ADD, S64, m, 1) },
		func(a *Assembler) { a.TestRR(S64, r, RAX) },
		func(a *Assembler) { a.TestRI(S64, r, 1) },
		func(a *Assembler) { a.IMulRR(S64, r, RAX) },
		func(a *Assembler) { a.IMulRRI(S64, r, RAX, 1) },
		func(a *Assembler) { a.Unary(NEG, S64, r) },
		func(a *Assembler) { a.ShiftCL(SHL, S64, r) },
		func(a *Assembler) { a.ShiftRI(SHL, S64, r, 1) },
		func(a *Assembler) { a.Setcc(CondE, r) },
		func(a *Assembler) { a.Cmov(CondE, S64, r, RAX) },
		func(a *Assembler) { a.LockXadd(S64, m, RAX) },
		func(a *Assembler) { a.LockCmpxchg(S64, m, RAX) },
		func(a *Assembler) { a.Xchg(S64, m, RAX) },
		func(a *Assembler) { a.JmpR(r) },
		func(a *Assembler) { a.CallR(r) },
		func(a *Assembler) { a.Push(r) },
		func(a *Assembler) { a.Pop(r) },
		func(a *Assembler) { a.Jmp(l) },
		func(a *Assembler) { a.Jcc(CondE, l) },
		func(a *Assembler) { a.Call(l) },
		func(a *Assembler) { a.LeaLabel(r, l) },
		func(a *Assembler) { a.Bind(l) },
		func(a *Assembler) { a.Cqo() },
		func(a *Assembler) { a.Cdq() },
		func(a *Assembler) { a.Ret() },
		func(a *Assembler) { a.Int3() },
		func(a *Assembler) { a.Nop(3) },
		func(a *Assembler) { a.Align(16) },
	}
}

// TestEveryMethodAfterError checks that every method emits nothing once an
// error is recorded, and keeps the first error.
func TestEveryMethodAfterError(t *testing.T) {
	for i, call := range everyMethod(RBX, Label{1}) {
		a := New()
		a.NewLabel()
		a.Ret()
		a.Bswap(S16, RAX)
		first := a.Err()
		call(a)
		if a.Len() != 1 || a.NumInsts() != 1 || a.Err() != first {
			t.Errorf("method %d: after an error: %d bytes, %d instructions, err %v", i, a.Len(), a.NumInsts(), a.Err())
		}
	}
}

// TestEveryMethodRejectsBadOperands checks that every method that takes a
// register or a label refuses an invalid one without emitting anything.
func TestEveryMethodRejectsBadOperands(t *testing.T) {
	for i, call := range everyMethod(Reg(16), Label{7}) {
		a := New()
		call(a)
		_, err := a.Finish()
		if err == nil {
			if i < len(everyMethod(0, Label{}))-6 { // the last six take neither
				t.Errorf("method %d: accepted register 16 or label L6", i)
			}
			continue
		}
		if !errors.Is(err, ErrOperand) && !errors.Is(err, ErrLabel) {
			t.Errorf("method %d: %v wraps neither sentinel", i, err)
		}
		if a.Len() != 0 || a.NumInsts() != 0 {
			t.Errorf("method %d: emitted %d bytes with an error", i, a.Len())
		}
	}
}

func TestListingLabels(t *testing.T) {
	a := New()
	l0, l1, l2, l3 := a.NewLabel(), a.NewLabel(), a.NewLabel(), a.NewLabel()
	a.Bind(l1)
	a.Bind(l0)
	a.Jmp(l2)
	a.Bind(l2)
	a.Bind(l3)
	a.Jcc(CondA, l0)
	a.Bind(a.NewLabel())
	const want = "L0:\nL1:\n\tjmp L2\nL2:\nL3:\n\tja L0\nL4:\n"
	if got := a.String(); got != want {
		t.Errorf("listing\n%s\nwant\n%s", got, want)
	}
	code, err := a.Finish()
	if err != nil || hex.EncodeToString(code) != "e90000000077f9" {
		t.Errorf("code %x, %v", code, err)
	}
}
