package amd64

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// x86asmRegs maps the decoder's registers to ours, with their access size.
var x86asmRegs = func() map[x86asm.Reg]operand {
	m := map[x86asm.Reg]operand{}
	firsts := [4]x86asm.Reg{x86asm.AL, x86asm.AX, x86asm.EAX, x86asm.RAX}
	for s := S8; s <= S64; s++ {
		for r := RAX; r <= R15; r++ {
			x := firsts[s] + x86asm.Reg(r)
			if s == S8 && r >= RSP {
				// The decoder lists AH, CH, DH, BH before SPB..R15B.
				x += 4
			}
			m[x] = opR(s, r)
		}
	}
	return m
}()

// decodeText renders a decoded instruction in this package's syntax, with
// a jump target as "@offset" (pc is the instruction's offset).
func decodeText(in x86asm.Inst, pc int) string {
	var b strings.Builder
	for _, p := range in.Prefix {
		if p&0xff == x86asm.PrefixLOCK {
			b.WriteString("lock ")
		}
	}
	op := strings.ToLower(in.Op.String())
	var args []x86asm.Arg
	for _, arg := range in.Args {
		if arg != nil {
			args = append(args, arg)
		}
	}
	switch {
	case in.Op == x86asm.NOP, in.Op == x86asm.XCHG && in.Len == 2 && args[0] == x86asm.AX && args[1] == x86asm.AX:
		return ".nops " + strconv.Itoa(in.Len)
	case in.Op == x86asm.MOV && in.Len == 10 && in.Opcode>>24 == 0xb8|uint32(in.Opcode>>24)&7:
		op = "movabs"
	case in.Op == x86asm.INT && len(args) == 1 && args[0] == x86asm.Imm(3):
		return "int3"
	}
	b.WriteString(op)
	size := S64
	for i, arg := range args {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		switch arg := arg.(type) {
		case x86asm.Reg:
			o, ok := x86asmRegs[arg]
			if !ok {
				fmt.Fprintf(&b, "?%v", arg)
				continue
			}
			if i == 0 {
				size = o.size
			}
			o.write(&b)
		case x86asm.Mem:
			if arg.Base == x86asm.RIP {
				b.WriteString("[rip + @" + strconv.Itoa(pc+in.Len+int(int32(arg.Disp))) + "]")
				continue
			}
			ms := memSize(in.MemBytes)
			if i == 0 {
				size = ms
			}
			m := Mem{Base: NoReg, Index: NoReg, Scale: arg.Scale, Disp: int32(arg.Disp)}
			if o, ok := x86asmRegs[arg.Base]; ok {
				m.Base = o.reg
			}
			if o, ok := x86asmRegs[arg.Index]; ok {
				m.Index = o.reg
			}
			if in.Op == x86asm.LEA {
				opBare(m).write(&b)
			} else {
				opM(ms, m).write(&b)
			}
		case x86asm.Imm:
			v := int64(arg)
			if op != "movabs" {
				switch size {
				case S8:
					v = int64(int8(v))
				case S16:
					v = int64(int16(v))
				case S32:
					v = int64(int32(v))
				}
			}
			b.WriteString(strconv.FormatInt(v, 10))
		case x86asm.Rel:
			b.WriteString("@" + strconv.Itoa(pc+in.Len+int(arg)))
		default:
			fmt.Fprintf(&b, "?%v", arg)
		}
	}
	return b.String()
}

func memSize(n int) Size {
	switch n {
	case 1:
		return S8
	case 2:
		return S16
	case 4:
		return S32
	}
	return S64
}

// ourText is the text of instruction i with labels replaced by "@offset"
// and shift-by-one in the decoder's form.
func ourText(a *Assembler, i int) string {
	return labelRE.ReplaceAllStringFunc(a.Inst(i).Text, func(s string) string {
		id, _ := strconv.Atoi(s[1:])
		off, _ := a.LabelOffset(Label{uint32(id + 1)})
		return "@" + strconv.Itoa(off)
	})
}

// checkDecode decodes code instruction by instruction with x86asm and
// compares each length and text with what a recorded.
func checkDecode(t testing.TB, name string, a *Assembler, code []byte) {
	t.Helper()
	pc := 0
	for i := 0; i < a.NumInsts(); i++ {
		want := a.Inst(i)
		in, err := x86asm.Decode(code[pc:], 64)
		if err != nil {
			t.Errorf("%s: instruction %d %q: decode % x: %v", name, i, want.Text, code[pc:pc+want.Len], err)
			return
		}
		if in.Len != want.Len {
			t.Errorf("%s: instruction %d %q: decoded length %d, emitted %d (% x)", name, i, want.Text, in.Len, want.Len, code[pc:pc+want.Len])
			return
		}
		if got, w := decodeText(in, pc), ourText(a, i); got != w {
			t.Errorf("%s: instruction %d: x86asm decodes % x as %q (%v), want %q", name, i, code[pc:pc+in.Len], got, in, w)
		}
		pc += in.Len
	}
	if pc != len(code) {
		t.Errorf("%s: %d instructions cover %d of %d bytes", name, a.NumInsts(), pc, len(code))
	}
}

// TestX86asm decodes every table case with golang.org/x/arch's decoder.
func TestX86asm(t *testing.T) {
	for _, c := range cases {
		a, code := build(t, c)
		checkDecode(t, c.name, a, code)
	}
}

// TestX86asmRandom decodes random instruction sequences, jumps included.
func TestX86asmRandom(t *testing.T) {
	seed := testSeed(t)
	for i := int64(0); i < 200; i++ {
		a := New()
		newGen(seed+i).sequence(a, 100, true)
		code, err := a.Finish()
		if err != nil {
			t.Fatal(err)
		}
		checkDecode(t, fmt.Sprintf("seed %d", seed+i), a, code)
		if t.Failed() {
			return
		}
	}
}

// FuzzSequence turns the fuzzer's bytes into a sequence of valid
// instructions and checks that x86asm decodes exactly as many instructions
// with the same lengths and meaning.
func FuzzSequence(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x05\x00\x00\x00\x00\x00\x00\x00\x01"))
	f.Add([]byte("a longer seed that exercises several instruction forms at once......"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := genFromBytes(data)
		a := New()
		g.sequence(a, 1+len(data)/8, true)
		code, err := a.Finish()
		if err != nil {
			t.Fatal(err)
		}
		checkDecode(t, "fuzz", a, code)
	})
}
