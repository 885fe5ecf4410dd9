package amd64

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Sentinel errors, wrapped by the errors Finish returns.
var (
	// ErrOperand is an operand combination x86-64 cannot encode or this
	// package does not offer (a size an instruction lacks, rsp as an index,
	// a bad scale, an out-of-range immediate).
	ErrOperand = errors.New("invalid operand")
	// ErrLabel is a label that was bound twice, never bound, or does not
	// belong to the Assembler.
	ErrLabel = errors.New("invalid label")
)

// Label names a code position, bound with Bind and targeted by Jmp, Jcc and
// Call before or after it is bound. The zero Label is invalid.
type Label struct{ id uint32 }

// String returns the label's name in listings ("L0").
func (l Label) String() string {
	if l.id == 0 {
		return "L?"
	}
	return "L" + strconv.Itoa(int(l.id-1))
}

// Inst describes one emitted instruction.
type Inst struct {
	Offset int    // position of its first byte in the code
	Len    int    // its length in bytes
	Text   string // its canonical Intel-syntax text ("mov qword ptr [rsp + 8], rax")
}

// Assembler appends x86-64 instructions to a byte buffer.
//
// Jumps and calls to labels use rel32 displacements, except a jump to a label
// already bound (a backward jump) whose displacement fits in a signed byte,
// which uses the rel8 form. Forward jumps are not relaxed after the fact: the
// code is final as it is emitted, so instruction offsets never move (see
// "Why are forward jumps rel32?" in the package doc).
//
// An Assembler is not safe for concurrent use. Reset lets it be reused
// without reallocating its buffers.
type Assembler struct {
	buf    []byte
	insts  []inst
	n      int     // instructions emitted, recorded or not
	quiet  bool    // keep no records (see Quiet)
	labels []int32 // offset of each label, -1 while unbound
	fixups []fixup
	err    error
}

// fixup is a rel32 field to patch when its label is known.
type fixup struct {
	at    int32 // offset of the rel32 field
	end   int32 // offset of the end of the instruction
	label uint32
	inst  int32
}

// inst is the record of an emitted instruction, kept for its text form.
type inst struct {
	off  int32
	n    uint8
	na   uint8
	mn   string
	args [3]operand
}

type opKind uint8

const (
	kReg     opKind = iota + 1
	kMem            // with a size keyword
	kBareMem        // without one (lea, nop)
	kImm
	kLabel
	kRIPLabel // [rip + label]
	kRaw      // imm holds a label-free literal printed as is (nop length)
)

type operand struct {
	kind opKind
	size Size
	reg  Reg
	mem  Mem
	imm  int64
}

func opR(s Size, r Reg) operand { return operand{kind: kReg, size: s, reg: r} }
func opM(s Size, m Mem) operand { return operand{kind: kMem, size: s, mem: m} }
func opI(v int64) operand       { return operand{kind: kImm, imm: v} }
func opL(l Label) operand       { return operand{kind: kLabel, imm: int64(l.id)} }
func opBare(m Mem) operand      { return operand{kind: kBareMem, mem: m} }
func opRaw(v int64) operand     { return operand{kind: kRaw, imm: v} }
func (o operand) write(b *strings.Builder) {
	switch o.kind {
	case kReg:
		b.WriteString(o.reg.Name(o.size))
	case kMem:
		b.WriteString(o.size.String())
		b.WriteString(" ptr ")
		o.mem.write(b)
	case kBareMem:
		o.mem.write(b)
	case kImm, kRaw:
		b.WriteString(strconv.FormatInt(o.imm, 10))
	case kLabel:
		b.WriteString(Label{uint32(o.imm)}.String())
	case kRIPLabel:
		b.WriteString("[rip + ")
		b.WriteString(Label{uint32(o.imm)}.String())
		b.WriteByte(']')
	}
}

func (in *inst) text() string {
	var b strings.Builder
	b.WriteString(in.mn)
	for i := 0; i < int(in.na); i++ {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		in.args[i].write(&b)
	}
	return b.String()
}

// New returns an empty Assembler.
func New() *Assembler { return &Assembler{} }

// Quiet makes a keep no record of the instructions it emits: String, Inst
// and NumInsts then know none, and errors name instructions by number only.
// The records are what the text form is made of; without them assembling
// allocates nothing per instruction, which a JIT compiling in production
// wants (a record is some 150 bytes).
func (a *Assembler) Quiet() { a.quiet = true }

// Reset empties a, keeping its buffers. Labels from before the reset become
// invalid.
func (a *Assembler) Reset() {
	a.buf = a.buf[:0]
	a.insts = a.insts[:0]
	a.n = 0
	a.labels = a.labels[:0]
	a.fixups = a.fixups[:0]
	a.err = nil
}

// Err returns the first error recorded so far, or nil.
func (a *Assembler) Err() error { return a.err }

// Len returns the number of bytes emitted so far.
func (a *Assembler) Len() int { return len(a.buf) }

// NumInsts returns the number of instructions emitted so far (0 if Quiet).
func (a *Assembler) NumInsts() int { return len(a.insts) }

// Inst returns the i-th emitted instruction.
func (a *Assembler) Inst(i int) Inst {
	in := &a.insts[i]
	return Inst{Offset: int(in.off), Len: int(in.n), Text: in.text()}
}

// NewLabel returns a new, unbound label.
func (a *Assembler) NewLabel() Label {
	a.labels = append(a.labels, -1)
	return Label{uint32(len(a.labels))}
}

// Bind binds l to the current position: the next instruction emitted.
func (a *Assembler) Bind(l Label) {
	if a.err != nil {
		return
	}
	if err := a.checkLabel(l); err != nil {
		a.fail("bind", err)
		return
	}
	if a.labels[l.id-1] >= 0 {
		a.fail("bind", fmt.Errorf("%w: %v bound twice", ErrLabel, l))
		return
	}
	a.labels[l.id-1] = int32(len(a.buf))
}

// LabelOffset returns the offset l is bound to and whether it is bound.
func (a *Assembler) LabelOffset(l Label) (int, bool) {
	if a.checkLabel(l) != nil || a.labels[l.id-1] < 0 {
		return 0, false
	}
	return int(a.labels[l.id-1]), true
}

func (a *Assembler) checkLabel(l Label) error {
	if l.id == 0 || int(l.id) > len(a.labels) {
		return fmt.Errorf("%w: %v does not belong to this assembler", ErrLabel, l)
	}
	return nil
}

// Finish patches every jump to its label and returns the code. It fails
// with the first error recorded by an instruction method, or if a label
// that is jumped to was never bound. The returned slice aliases a's buffer
// until the next Reset.
func (a *Assembler) Finish() ([]byte, error) {
	if a.err != nil {
		return nil, a.err
	}
	for _, f := range a.fixups {
		target := a.labels[f.label-1]
		if target < 0 {
			mn := "?"
			if int(f.inst) < len(a.insts) {
				mn = a.insts[f.inst].mn
			}
			return nil, fmt.Errorf("instruction %d (%s): %w: %v is never bound", f.inst, mn, ErrLabel, Label{f.label})
		}
		binary.LittleEndian.PutUint32(a.buf[f.at:], uint32(target-f.end))
	}
	return a.buf, nil
}

// String returns the listing of the code emitted so far: label lines and one
// tab-indented line per instruction, in a syntax llvm-mc accepts after
// ".intel_syntax noprefix".
func (a *Assembler) String() string {
	type bound struct{ off, id int32 }
	var bs []bound
	for i, off := range a.labels {
		if off >= 0 {
			bs = append(bs, bound{off, int32(i + 1)})
		}
	}
	sort.Slice(bs, func(i, j int) bool {
		if bs[i].off != bs[j].off {
			return bs[i].off < bs[j].off
		}
		return bs[i].id < bs[j].id
	})
	var b strings.Builder
	k := 0
	for i := range a.insts {
		for ; k < len(bs) && bs[k].off <= a.insts[i].off; k++ {
			b.WriteString(Label{uint32(bs[k].id)}.String() + ":\n")
		}
		b.WriteByte('\t')
		b.WriteString(a.insts[i].text())
		b.WriteByte('\n')
	}
	for ; k < len(bs); k++ {
		b.WriteString(Label{uint32(bs[k].id)}.String() + ":\n")
	}
	return b.String()
}

// fail records err for the instruction about to be emitted.
func (a *Assembler) fail(mn string, err error) {
	if a.err == nil {
		a.err = fmt.Errorf("instruction %d (%s): %w", a.n, mn, err)
	}
}

// record appends the record of the instruction that starts at start.
func (a *Assembler) record(start int, mn string, args ...operand) {
	a.n++
	if a.quiet {
		return
	}
	in := inst{off: int32(start), n: uint8(len(a.buf) - start), mn: mn, na: uint8(len(args))}
	copy(in.args[:], args)
	a.insts = append(a.insts, in)
}

func (a *Assembler) emit(b ...byte) { a.buf = append(a.buf, b...) }

func (a *Assembler) emit16(v uint16) { a.buf = binary.LittleEndian.AppendUint16(a.buf, v) }
func (a *Assembler) emit32(v uint32) { a.buf = binary.LittleEndian.AppendUint32(a.buf, v) }
func (a *Assembler) emit64(v uint64) { a.buf = binary.LittleEndian.AppendUint64(a.buf, v) }

// emitImm appends an immediate of size s (at most 32 bits; a 64-bit
// operation takes a sign-extended 32-bit immediate).
func (a *Assembler) emitImm(s Size, v int64) {
	switch s {
	case S8:
		a.emit(byte(v))
	case S16:
		a.emit16(uint16(v))
	default:
		a.emit32(uint32(v))
	}
}
