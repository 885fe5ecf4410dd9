package asm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// AssembleError reports the source line that Assemble cannot turn into an
// instruction. It prints as
//
//	line 7: "add %r1, 0x1ffffffff": immediate out of range
type AssembleError struct {
	Line int    // line number in the source, counting from 1
	Text string // the line without its comment and surrounding white space
	Err  error  // what is wrong with it
}

func (e *AssembleError) Error() string {
	return fmt.Sprintf("line %d: %q: %v", e.Line, e.Text, e.Err)
}

// Unwrap returns the cause, so that errors.Is(err, ErrDecode) holds when the
// program's jumps do not land on an instruction.
func (e *AssembleError) Unwrap() error { return e.Err }

var (
	errImmRange    = errors.New("immediate out of range")
	errOffsetRange = errors.New("offset out of range")
	errJumpRange   = errors.New("jump offset out of range")
	errNumberRange = errors.New("number out of range") // internal: replaced by one of the above
)

// Assemble translates assembler source in the syntax of the bpf_conformance
// suite into a program. The grammar, line by line:
//
//   - `#` starts a comment that runs to the end of the line. Blank lines are
//     ignored. Tokens are separated by white space, and one trailing comma is
//     removed from each operand.
//   - `name:` alone on a line defines a label for the next slot. A name
//     starts with a letter, `_` or `.` and goes on with letters, digits, `_`
//     and `.`; defining it twice is an error. Unless the source defines
//     `exit:` itself, `exit` names the first exit instruction.
//   - Registers are %r0 to %r10. Memory operands are [%rN], [%rN+off] and
//     [%rN-off], with no spaces.
//   - Immediates are decimal in the int32 range, or hex (0x...) read as a
//     32-bit pattern up to 0xffffffff. lddw constants are hex up to 64 bits
//     or decimal, signed or unsigned. Offsets fit in 16 signed bits; a hex
//     offset without a minus sign is a 16-bit pattern.
//   - Jump targets are a label or a signed slot offset from the next slot,
//     written with its sign (+1, -3). ja32 and call local targets are 32-bit.
//
// The mnemonics (32 selects the 32-bit class; sdiv and smod set offset 1):
//
//	add sub mul div sdiv or and lsh rsh mod smod xor mov arsh [32] %dst, %src|imm
//	neg[32] %dst
//	movsx864 movsx1664 movsx3264 movsx832 movsx1632 %dst, %src
//	le16 le32 le64 be16 be32 be64 bswap16 bswap32 bswap64 %dst  (swapNN = bswapNN)
//	ldxb ldxh ldxw ldxdw ldxsb ldxsh ldxsw %dst, [%src+off]
//	stb sth stw stdw [%dst+off], imm
//	stxb stxh stxw stxdw [%dst+off], %src
//	lock [fetch] add|or|and|xor[32] [%dst+off], %src
//	lock xchg[32]|cmpxchg[32] [%dst+off], %src
//	lddw %dst, imm64
//	lddw %dst, map|mapvalue|btf|func|mapidx|mapidxvalue imm[+nextimm]
//	ldabsb ldabsh ldabsw imm
//	ldindb ldindh ldindw %src, imm
//	ja target; ja32 target
//	jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle [32] %dst, %src|imm, target
//	call imm; call helper imm; call %rN; call local target; call runtime|kfunc imm
//	exit
//
// Every instruction must pass Validate and every jump must land on an
// instruction of the program. Errors are *AssembleError values naming the
// line. Disassemble is the inverse.
func Assemble(src string) (Instructions, error) {
	a := assembler{labels: make(map[string]labelDef), firstExit: -1}
	for i, line := range strings.Split(src, "\n") {
		if err := a.addLine(i+1, line); err != nil {
			return nil, err
		}
	}
	return a.finish()
}

// labelDef is where a label was defined: the slot it names and its line.
type labelDef struct{ slot, line int }

// fixup is a jump whose target is a label, resolved once all labels are
// known.
type fixup struct {
	index int // of the instruction
	label string
}

// sourceLine is where an instruction came from, for error messages.
type sourceLine struct {
	line int
	text string
}

type assembler struct {
	insns     Instructions
	src       []sourceLine // parallel to insns
	slots     int          // slots used so far
	labels    map[string]labelDef
	firstExit int // slot of the first exit, or -1
	fixups    []fixup
}

func (a *assembler) addLine(n int, line string) error {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	text := strings.TrimSpace(line)
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return nil
	}
	fail := func(err error) error { return &AssembleError{Line: n, Text: text, Err: err} }
	if name, ok := strings.CutSuffix(fields[0], ":"); ok {
		switch {
		case len(fields) > 1:
			return fail(errors.New("a label must be alone on its line"))
		case !validLabel(name):
			return fail(fmt.Errorf("invalid label name %q", name))
		}
		if prev, dup := a.labels[name]; dup {
			return fail(fmt.Errorf("duplicate label %q (first defined on line %d)", name, prev.line))
		}
		a.labels[name] = labelDef{slot: a.slots, line: n}
		return nil
	}
	ops := fields[1:]
	for i, op := range ops {
		ops[i] = strings.TrimSuffix(op, ",")
		if ops[i] == "" {
			return fail(errors.New("empty operand"))
		}
	}
	ins, label, err := parseInstruction(fields[0], ops)
	if err != nil {
		return fail(err)
	}
	if err := ins.Validate(); err != nil {
		return fail(err)
	}
	if ins.IsExit() && a.firstExit < 0 {
		a.firstExit = a.slots
	}
	if label != "" {
		a.fixups = append(a.fixups, fixup{index: len(a.insns), label: label})
	}
	a.insns = append(a.insns, ins)
	a.src = append(a.src, sourceLine{line: n, text: text})
	a.slots += ins.Slots()
	return nil
}

// finish resolves label references and checks that every jump lands on an
// instruction.
func (a *assembler) finish() (Instructions, error) {
	start := a.insns.SlotIndex()
	for _, f := range a.fixups {
		def, ok := a.labels[f.label]
		if !ok && f.label == "exit" && a.firstExit >= 0 {
			def, ok = labelDef{slot: a.firstExit}, true
		}
		if !ok {
			return nil, a.errorAt(f.index, fmt.Errorf("undefined label %q", f.label))
		}
		ins := &a.insns[f.index]
		rel := int64(def.slot) - int64(start[f.index]+1)
		if ins.OpCode == OpJa32 || ins.IsLocalCall() {
			if rel < math.MinInt32 || rel > math.MaxInt32 {
				return nil, a.errorAt(f.index, errJumpRange)
			}
			ins.Constant = rel
		} else {
			if rel < math.MinInt16 || rel > math.MaxInt16 {
				return nil, a.errorAt(f.index, errJumpRange)
			}
			ins.Offset = int16(rel)
		}
	}
	// Every instruction passed Validate, so only a jump can fail here.
	if _, err := Decode(a.insns.Encode()); err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			for i, s := range start {
				if s == de.Slot {
					return nil, a.errorAt(i, err)
				}
			}
		}
		return nil, fmt.Errorf("assemble: %w", err)
	}
	return a.insns, nil
}

func (a *assembler) errorAt(index int, err error) error {
	return &AssembleError{Line: a.src[index].line, Text: a.src[index].text, Err: err}
}

// validLabel reports whether name can be a label: a letter, '_' or '.'
// followed by letters, digits, '_' and '.'.
func validLabel(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '.':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// form is the operand shape of a mnemonic.
type form uint8

const (
	formBinary   form = iota // op %dst, %src|imm
	formUnary                // op %dst (neg, byte order)
	formMovSX                // op %dst, %src
	formLoad                 // op %dst, [%src+off]
	formStore                // op [%dst+off], imm
	formStoreReg             // op [%dst+off], %src
	formLdDW                 // lddw %dst, imm64 | lddw %dst, kind imm[+imm]
	formLdAbs                // op imm
	formLdInd                // op %src, imm
	formJa                   // ja target (offset field)
	formJa32                 // ja32 target (imm field)
	formCondJump             // op %dst, %src|imm, target
	formCall                 // call [kind] operand
	formExit                 // exit
)

// mnemonic is what a mnemonic (other than lock) stands for: its operand
// shape and the fields it fixes.
type mnemonic struct {
	form   form
	opcode OpCode // with SourceImm where the operand chooses the source
	offset int16
	imm    int32
}

var mnemonics = buildMnemonics()

func buildMnemonics() map[string]mnemonic {
	m := make(map[string]mnemonic)
	classes := []struct {
		alu, jmp Class
		suffix   string
	}{{ClassALU64, ClassJMP, ""}, {ClassALU, ClassJMP32, "32"}}
	for _, c := range classes {
		for op, name := range aluNames {
			switch op {
			case End:
			case Neg:
				m[name+c.suffix] = mnemonic{form: formUnary, opcode: ALUOpCode(c.alu, op, SourceImm)}
			default:
				m[name+c.suffix] = mnemonic{form: formBinary, opcode: ALUOpCode(c.alu, op, SourceImm)}
			}
		}
		m["sdiv"+c.suffix] = mnemonic{form: formBinary, opcode: ALUOpCode(c.alu, Div, SourceImm), offset: 1}
		m["smod"+c.suffix] = mnemonic{form: formBinary, opcode: ALUOpCode(c.alu, Mod, SourceImm), offset: 1}
		for op, name := range jumpNames {
			if op != Ja && op != Call && op != Exit {
				m[name+c.suffix] = mnemonic{form: formCondJump, opcode: JumpOpCode(c.jmp, op, SourceImm)}
			}
		}
	}
	movsx := ALUOpCode(ClassALU64, Mov, SourceReg)
	movsx32 := ALUOpCode(ClassALU, Mov, SourceReg)
	m["movsx864"] = mnemonic{form: formMovSX, opcode: movsx, offset: 8}
	m["movsx1664"] = mnemonic{form: formMovSX, opcode: movsx, offset: 16}
	m["movsx3264"] = mnemonic{form: formMovSX, opcode: movsx, offset: 32}
	m["movsx832"] = mnemonic{form: formMovSX, opcode: movsx32, offset: 8}
	m["movsx1632"] = mnemonic{form: formMovSX, opcode: movsx32, offset: 16}
	for _, w := range []int32{16, 32, 64} {
		n := strconv.Itoa(int(w))
		m["le"+n] = mnemonic{form: formUnary, opcode: OpToLE, imm: w}
		m["be"+n] = mnemonic{form: formUnary, opcode: OpToBE, imm: w}
		m["bswap"+n] = mnemonic{form: formUnary, opcode: OpBswap, imm: w}
		m["swap"+n] = mnemonic{form: formUnary, opcode: OpBswap, imm: w}
	}
	for _, s := range []Size{SizeB, SizeH, SizeW, SizeDW} {
		sfx := sizeSuffix(s)
		m["ldx"+sfx] = mnemonic{form: formLoad, opcode: MemOpCode(ClassLDX, ModeMEM, s)}
		m["st"+sfx] = mnemonic{form: formStore, opcode: MemOpCode(ClassST, ModeMEM, s)}
		m["stx"+sfx] = mnemonic{form: formStoreReg, opcode: MemOpCode(ClassSTX, ModeMEM, s)}
		if s != SizeDW {
			m["ldxs"+sfx] = mnemonic{form: formLoad, opcode: MemOpCode(ClassLDX, ModeMEMSX, s)}
			m["ldabs"+sfx] = mnemonic{form: formLdAbs, opcode: MemOpCode(ClassLD, ModeABS, s)}
			m["ldind"+sfx] = mnemonic{form: formLdInd, opcode: MemOpCode(ClassLD, ModeIND, s)}
		}
	}
	m["lddw"] = mnemonic{form: formLdDW, opcode: OpLdImm64}
	m["ja"] = mnemonic{form: formJa, opcode: OpJa}
	m["ja32"] = mnemonic{form: formJa32, opcode: OpJa32}
	m["call"] = mnemonic{form: formCall, opcode: OpCall}
	m["exit"] = mnemonic{form: formExit, opcode: OpExit}
	return m
}

// operandCounts lists how many operands each form takes; formLdDW and
// formCall accept either of two counts.
var operandCounts = [...][]int{
	formBinary: {2}, formUnary: {1}, formMovSX: {2}, formLoad: {2},
	formStore: {2}, formStoreReg: {2}, formLdDW: {2, 3}, formLdAbs: {1},
	formLdInd: {2}, formJa: {1}, formJa32: {1}, formCondJump: {3},
	formCall: {1, 2}, formExit: {0},
}

// parseInstruction parses one instruction. When its jump target is a label
// it returns the label, and the target field is left zero.
func parseInstruction(name string, ops []string) (Instruction, string, error) {
	if name == "lock" {
		ins, err := parseAtomic(ops)
		return ins, "", err
	}
	m, ok := mnemonics[name]
	if !ok {
		return Instruction{}, "", fmt.Errorf("unknown mnemonic %q", name)
	}
	if counts := operandCounts[m.form]; !slices.Contains(counts, len(ops)) {
		want := strconv.Itoa(counts[0]) + " operands"
		switch {
		case len(counts) > 1:
			want = fmt.Sprintf("%d or %d operands", counts[0], counts[1])
		case counts[0] == 1:
			want = "1 operand"
		}
		return Instruction{}, "", fmt.Errorf("%s takes %s, not %d", name, want, len(ops))
	}
	ins := Instruction{OpCode: m.opcode, Offset: m.offset, Constant: int64(m.imm)}
	var err error
	var label string
	switch m.form {
	case formBinary:
		if ins.Dst, err = parseRegister(ops[0]); err == nil {
			err = parseSource(&ins, ops[1])
		}
	case formUnary:
		ins.Dst, err = parseRegister(ops[0])
	case formMovSX:
		if ins.Dst, err = parseRegister(ops[0]); err == nil {
			ins.Src, err = parseRegister(ops[1])
		}
	case formLoad:
		if ins.Dst, err = parseRegister(ops[0]); err == nil {
			ins.Src, ins.Offset, err = parseMemory(ops[1])
		}
	case formStore:
		if ins.Dst, ins.Offset, err = parseMemory(ops[0]); err == nil {
			ins.Constant, err = parseImm(ops[1])
		}
	case formStoreReg:
		if ins.Dst, ins.Offset, err = parseMemory(ops[0]); err == nil {
			ins.Src, err = parseRegister(ops[1])
		}
	case formLdDW:
		if ins.Dst, err = parseRegister(ops[0]); err == nil {
			ins.Src, ins.Constant, err = parseWideOperand(ops[1:])
		}
	case formLdAbs:
		ins.Constant, err = parseImm(ops[0])
	case formLdInd:
		if ins.Src, err = parseRegister(ops[0]); err == nil {
			ins.Constant, err = parseImm(ops[1])
		}
	case formJa:
		var off int64
		off, label, err = parseTarget(ops[0], 16)
		ins.Offset = int16(off)
	case formJa32:
		ins.Constant, label, err = parseTarget(ops[0], 32)
	case formCondJump:
		if ins.Dst, err = parseRegister(ops[0]); err == nil {
			if err = parseSource(&ins, ops[1]); err == nil {
				var off int64
				off, label, err = parseTarget(ops[2], 16)
				ins.Offset = int16(off)
			}
		}
	case formCall:
		label, err = parseCall(&ins, ops)
	case formExit:
	}
	return ins, label, err
}

// parseSource parses the second operand of an arithmetic or conditional
// jump instruction, setting the source bit for a register.
func parseSource(ins *Instruction, tok string) error {
	if strings.HasPrefix(tok, "%") {
		ins.OpCode |= OpCode(SourceReg)
		var err error
		ins.Src, err = parseRegister(tok)
		return err
	}
	var err error
	ins.Constant, err = parseImm(tok)
	return err
}

// parseCall parses the operands of call: an optional kind (helper, local,
// runtime or kfunc) and its operand.
func parseCall(ins *Instruction, ops []string) (string, error) {
	kind, arg := "helper", ops[0]
	if len(ops) == 2 {
		kind, arg = ops[0], ops[1]
	}
	var err error
	var label string
	switch kind {
	case "helper":
		if strings.HasPrefix(arg, "%") {
			ins.OpCode = OpCallX
			ins.Dst, err = parseRegister(arg)
			break
		}
		ins.Constant, err = parseImm(arg)
	case "local":
		ins.Src = PseudoCallLocal
		ins.Constant, label, err = parseTarget(arg, 32)
	case "runtime", "kfunc":
		ins.Src = PseudoKfuncCall
		ins.Constant, err = parseImm(arg)
	default:
		err = fmt.Errorf("unknown call kind %q: want helper, local, runtime or kfunc", kind)
	}
	return label, err
}

// parseAtomic parses the operands of lock: [fetch] OP [%dst+off], %src.
func parseAtomic(ops []string) (Instruction, error) {
	fetch := len(ops) > 0 && ops[0] == "fetch"
	if fetch {
		ops = ops[1:]
	}
	if len(ops) != 3 {
		return Instruction{}, errors.New("lock takes an operation and 2 operands: lock [fetch] OP [%rN+off], %rM")
	}
	name, is32 := strings.CutSuffix(ops[0], "32")
	var op AtomicOp
	switch name {
	case "add":
		op = AtomicAdd
	case "or":
		op = AtomicOr
	case "and":
		op = AtomicAnd
	case "xor":
		op = AtomicXor
	case "xchg":
		op = AtomicXchg
	case "cmpxchg":
		op = AtomicCmpXchg
	default:
		return Instruction{}, fmt.Errorf("unknown atomic operation %q", ops[0])
	}
	if fetch {
		op |= AtomicFetch
	}
	ins := Instruction{OpCode: opAtomicDW, Constant: int64(op)}
	if is32 {
		ins.OpCode = opAtomicW
	}
	var err error
	if ins.Dst, ins.Offset, err = parseMemory(ops[1]); err != nil {
		return Instruction{}, err
	}
	if ins.Src, err = parseRegister(ops[2]); err != nil {
		return Instruction{}, err
	}
	return ins, nil
}

// parseWideOperand parses what follows the register of lddw: a 64-bit
// constant, or a pseudo kind and its two 32-bit halves (imm[+nextimm]).
func parseWideOperand(ops []string) (Register, int64, error) {
	if len(ops) == 1 {
		v, err := parseImm64(ops[0])
		return PseudoNone, v, err
	}
	src := PseudoNone
	for r, name := range ldPseudoNames {
		if name != "" && name == ops[0] {
			src = Register(r)
		}
	}
	if src == PseudoNone {
		return 0, 0, fmt.Errorf("unknown lddw kind %q: want map, mapvalue, btf, func, mapidx or mapidxvalue", ops[0])
	}
	loText, hiText, hasHi := strings.Cut(ops[1], "+")
	lo, err := parseUint32(loText)
	if err != nil {
		return 0, 0, err
	}
	var hi uint32
	if hasHi {
		if hi, err = parseUint32(hiText); err != nil {
			return 0, 0, err
		}
	}
	return src, int64(uint64(hi)<<32 | uint64(lo)), nil
}

// parseTarget parses a jump target: a label, or a slot offset with an
// explicit sign that fits in bits.
func parseTarget(tok string, bits int) (int64, string, error) {
	if tok[0] == '+' || tok[0] == '-' {
		v, err := parseInt(tok, bits)
		if errors.Is(err, errNumberRange) {
			err = errJumpRange
		}
		return v, "", err
	}
	if !validLabel(tok) {
		return 0, "", fmt.Errorf("invalid jump target %q: want a label or a signed offset such as +2", tok)
	}
	return 0, tok, nil
}

// parseRegister parses %r0 to %r15. Registers above %r10 exist only so that
// Validate, not the parser, rejects them.
func parseRegister(tok string) (Register, error) {
	if s, ok := strings.CutPrefix(tok, "%r"); ok {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 15 && strconv.Itoa(n) == s {
			return Register(n), nil
		}
	}
	return 0, fmt.Errorf("invalid register %q", tok)
}

// parseMemory parses a memory operand: [%rN], [%rN+off] or [%rN-off].
func parseMemory(tok string) (Register, int16, error) {
	inner, open := strings.CutPrefix(tok, "[")
	inner, closed := strings.CutSuffix(inner, "]")
	if !open || !closed {
		return 0, 0, fmt.Errorf("invalid memory operand %q: want [%%rN+off]", tok)
	}
	regText, offText := inner, ""
	if i := strings.IndexAny(inner, "+-"); i >= 0 {
		regText, offText = inner[:i], inner[i:]
	}
	r, err := parseRegister(regText)
	if err != nil || offText == "" {
		return r, 0, err
	}
	off, err := parseInt(offText, 16)
	if errors.Is(err, errNumberRange) {
		err = errOffsetRange
	}
	return r, int16(off), err
}

// parseImm parses a 32-bit immediate and returns it sign-extended.
func parseImm(tok string) (int64, error) {
	v, err := parseInt(tok, 32)
	if errors.Is(err, errNumberRange) {
		err = errImmRange
	}
	return v, err
}

// parseImm64 parses a lddw constant: hex up to 64 bits, or decimal from
// math.MinInt64 to math.MaxUint64.
func parseImm64(tok string) (int64, error) {
	neg, _, mag, err := splitNumber(tok)
	switch {
	case errors.Is(err, errNumberRange):
		return 0, errImmRange
	case err != nil:
		return 0, err
	case neg && mag > 1<<63:
		return 0, errImmRange
	case neg:
		return int64(-mag), nil
	}
	return int64(mag), nil
}

// parseUint32 parses an unsigned 32-bit number, decimal or hex.
func parseUint32(tok string) (uint32, error) {
	neg, _, mag, err := splitNumber(tok)
	switch {
	case err == nil && neg:
		return 0, fmt.Errorf("invalid number %q: must not be negative", tok)
	case errors.Is(err, errNumberRange) || mag > math.MaxUint32:
		return 0, errImmRange
	}
	return uint32(mag), err
}

// parseInt parses a signed number that must fit in bits (16 or 32).
// Decimal must be in the signed range; hex without a minus sign is a bit
// pattern of that width (0xffff is -1 in 16 bits), as in the conformance
// assembler.
func parseInt(tok string, bits int) (int64, error) {
	neg, hex, mag, err := splitNumber(tok)
	if err != nil {
		return 0, err
	}
	half := uint64(1) << (bits - 1)
	switch {
	case neg:
		if mag > half {
			return 0, errNumberRange
		}
		return -int64(mag), nil
	case hex:
		if mag >= 2*half {
			return 0, errNumberRange
		}
		if mag >= half {
			return int64(mag) - int64(2*half), nil
		}
		return int64(mag), nil
	case mag >= half:
		return 0, errNumberRange
	}
	return int64(mag), nil
}

// splitNumber parses an optionally signed decimal or 0x-prefixed hex number
// into its sign and magnitude.
func splitNumber(tok string) (neg, hex bool, mag uint64, err error) {
	s := tok
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	base := 10
	if rest, ok := strings.CutPrefix(s, "0x"); ok {
		hex, s, base = true, rest, 16
	}
	mag, err = strconv.ParseUint(s, base, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return neg, hex, 0, errNumberRange
	case err != nil:
		return neg, hex, 0, fmt.Errorf("invalid number %q", tok)
	}
	return neg, hex, mag, nil
}
