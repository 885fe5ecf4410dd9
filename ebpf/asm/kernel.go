package asm

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// AssembleKernel translates assembler source in the kernel's syntax — the
// C-like one that llvm-objdump prints and the Linux verifier log uses, in the
// dialect of PREVAIL's test cases — into a program. Instruction.KernelString
// and DisassembleKernel print it back.
//
// Line by line:
//
//   - `;`, `//` and `#` start a comment that runs to the end of the line
//     (llvm-objdump puts source annotations after `;`, PREVAIL's cases put
//     notes there: `call 1; bpf_map_lookup_elem`). Blank lines are ignored.
//   - `name:` or `<name>:` alone on a line defines a label for the next slot;
//     a name is as in Assemble. Jump targets are `<name>` or a signed slot
//     offset from the next slot (+3, -1). There is no implicit label.
//   - Registers are r0-r10 (64-bit) and w0-w10 (their low 32 bits). The
//     destination's prefix chooses the ALU or JMP class; a source register
//     may be spelled with either prefix (PREVAIL writes `w1 = r1`), and the
//     printer spells it like the destination.
//   - Tokens need no white space between them (`r5=r5`, `w1 = - w1`).
//   - An immediate is a decimal or 0x-hex number with an optional sign. Up to
//     0xffffffff (or 4294967295) it is a 32-bit pattern, so `r1 = 0xffffffff`
//     sets r1 to -1, as the instruction does; a minus sign allows down to
//     -2147483648. A number followed by `ll` is a 64-bit lddw constant: hex
//     up to 64 bits or decimal from math.MinInt64 to math.MaxUint64.
//   - Memory operands are `*(SIZE *)(rN + off)` or `*(SIZE *)(rN - off)`
//     with SIZE u8, u16, u32, u64 or, for sign-extending loads, s8, s16, s32;
//     offsets fit in 16 signed bits.
//
// The instructions (rD, rS a register, K an immediate, T a target, M a
// memory operand; every ALU form also exists with w registers):
//
//	rD = K | rS                          mov
//	rD += -= *= /= %= &= |= ^= <<= >>= K|rS   add sub mul div mod and or xor lsh rsh
//	rD s/= s%= s>>= K|rS                 sdiv smod arsh
//	rD = -rD                             neg
//	rD = (s8)rS  (s16)  (s32)            movsx; also `rD s8= rS` (PREVAIL)
//	rD = be16 rD  be32 be64 le16 le32 le64   byte order (ALU class)
//	rD = bswap16 rD  bswap32 bswap64     byte swap (ALU64); also swap16... (PREVAIL)
//	rD = M                               load; s8/s16/s32 sizes sign-extend
//	M = rS | K                           store register or immediate
//	lock M += -=... rS [fetch]           atomic add, |=, &=, ^=; x= xchg, cx= cmpxchg
//	rS = atomic_fetch_add((u64 *)(rD + off), rS)   also _and _or _xor, u32/w
//	rS = xchg_64(rD + off, rS)           w: xchg32_32
//	r0 = cmpxchg_64(rD + off, r0, rS)    w: cmpxchg32_32
//	rD = K ll                            lddw constant (also `Kll`)
//	rD = map_fd K                        lddw, src 1
//	rD = map_val(K) + K2                 lddw, src 2: map K, value offset K2
//	rD = btf_id(K)   func(K)             lddw, src 3 and 4 (bpfdb's spelling)
//	rD = map_by_idx(K)                   lddw, src 5
//	rD = mva(map_by_idx(K)) + K2         lddw, src 6
//	r0 = *(u8 *)skb[K]                   legacy packet load, absolute (u16, u32)
//	r0 = *(u8 *)skb[rS + K]              legacy packet load, indirect
//	goto T        gotol T                ja, and ja with a 32-bit target
//	if rD OP K|rS goto T                 OP: == != > >= < <= s> s>= s< s<= & (jset)
//	call K        callx rD               helper call by id, by register
//	call <name>   call pc+K              bpf-to-bpf call
//	call kfunc K                         kernel function call (bpfdb's spelling)
//	exit
//
// PREVAIL spells jset `&==`; both spellings are accepted. A `+ K2` may follow
// any pseudo lddw; it sets the upper 32 bits of the constant. Mnemonics that
// take a register on both sides of `=` (neg, byte order, the atomic fetch
// forms) require the same register on both sides.
//
// Every instruction must pass Validate and every jump must land on an
// instruction of the program. Errors are *AssembleError values naming the
// line and its text.
func AssembleKernel(src string) (Instructions, error) {
	a := assembler{labels: make(map[string]labelDef), firstExit: -1}
	for i, line := range strings.Split(src, "\n") {
		if err := a.addKernelLine(i+1, line); err != nil {
			return nil, err
		}
	}
	return a.finish()
}

// stripKernelComment removes a `;`, `//` or `#` comment.
func stripKernelComment(line string) string {
	if i := strings.IndexAny(line, ";#"); i >= 0 {
		line = line[:i]
	}
	if i := strings.Index(line, "//"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

func (a *assembler) addKernelLine(n int, line string) error {
	text := stripKernelComment(line)
	if text == "" {
		return nil
	}
	fail := func(err error) error { return &AssembleError{Line: n, Text: text, Err: err} }
	if name, ok := strings.CutSuffix(text, ":"); ok {
		name = strings.TrimSpace(name)
		if inner, ok := strings.CutPrefix(name, "<"); ok {
			name, ok = strings.CutSuffix(inner, ">")
			if !ok {
				return fail(fmt.Errorf("invalid label %q", text))
			}
		}
		if !validLabel(name) {
			return fail(fmt.Errorf("invalid label name %q", name))
		}
		if prev, dup := a.labels[name]; dup {
			return fail(fmt.Errorf("duplicate label %q (first defined on line %d)", name, prev.line))
		}
		a.labels[name] = labelDef{slot: a.slots, line: n}
		return nil
	}
	toks, err := lexKernel(text)
	if err != nil {
		return fail(err)
	}
	p := kernelParser{toks: toks}
	ins, label, err := p.instruction()
	if err != nil {
		return fail(err)
	}
	if err := ins.Validate(); err != nil {
		return fail(err)
	}
	if label != "" {
		a.fixups = append(a.fixups, fixup{index: len(a.insns), label: label})
	}
	a.insns = append(a.insns, ins)
	a.src = append(a.src, sourceLine{line: n, text: text})
	a.slots += ins.Slots()
	return nil
}

// tokKind is the kind of a kernel-syntax token.
type tokKind uint8

const (
	tokWord  tokKind = iota // identifier or register: r1, w2, goto, u32, map_fd
	tokNum                  // unsigned decimal or 0x-hex number; ll is a separate word
	tokLabel                // <name>, text without the brackets
	tokOp                   // operator or punctuation
)

type token struct {
	kind tokKind
	text string
}

func (t token) String() string {
	if t.kind == tokLabel {
		return "<" + t.text + ">"
	}
	return t.text
}

// kernelOps are the operators, longest first within each length.
var kernelOps = []string{
	"<<=", ">>=", "&==", "&!=",
	"==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
	"<", ">", "=", "&", "+", "-", "*", "(", ")", "[", "]", ",",
}

// opPrefixWords are the words that form one operator with the operator that
// follows them without a space: s>>=, s<, s/=, s8=, x=, cx=.
var opPrefixWords = map[string]bool{"s": true, "s8": true, "s16": true, "s32": true, "x": true, "cx": true}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lexKernel splits one line (without its comment) into tokens.
func lexKernel(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c >= '0' && c <= '9':
			j := i
			if strings.HasPrefix(s[i:], "0x") {
				j += 2
				for j < len(s) && isHexDigit(s[j]) {
					j++
				}
			} else {
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
			}
			toks = append(toks, token{tokNum, s[i:j]})
			// A suffix glued to the number is only valid as "ll".
			k := j
			for k < len(s) && isWordByte(s[k]) {
				k++
			}
			if k > j {
				if s[j:k] != "ll" {
					return nil, fmt.Errorf("invalid number %q", s[i:k])
				}
				toks = append(toks, token{tokWord, "ll"})
			}
			i = k
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			word := s[i:j]
			if opPrefixWords[word] && j < len(s) && strings.IndexByte("<>=/%", s[j]) >= 0 {
				op := matchOp(s[j:])
				if op == "" || !validPrefixedOp(word, op) {
					return nil, fmt.Errorf("invalid operator %q", word+s[j:min(j+3, len(s))])
				}
				toks = append(toks, token{tokOp, word + op})
				i = j + len(op)
				continue
			}
			toks = append(toks, token{tokWord, word})
			i = j
		case c == '<' && i+1 < len(s) && (s[i+1] == '_' || s[i+1] == '.' || isLetter(s[i+1])):
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
				j++
			}
			if j < len(s) && s[j] == '>' {
				toks = append(toks, token{tokLabel, s[i+1 : j]})
				i = j + 1
				continue
			}
			toks = append(toks, token{tokOp, "<"})
			i++
		default:
			op := matchOp(s[i:])
			if op == "" {
				return nil, fmt.Errorf("unexpected character %q", c)
			}
			toks = append(toks, token{tokOp, op})
			i += len(op)
		}
	}
	return toks, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func matchOp(s string) string {
	for _, op := range kernelOps {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

// validPrefixedOp reports whether word+op is an operator: s with a signed
// comparison or s>>= s/= s%=, sN with =, x and cx with =.
func validPrefixedOp(word, op string) bool {
	switch word {
	case "s":
		switch op {
		case "<", "<=", ">", ">=", ">>=", "/=", "%=":
			return true
		}
		return false
	}
	return op == "="
}

// kernelParser parses the tokens of one instruction.
type kernelParser struct {
	toks []token
	pos  int
}

var errTrailing = errors.New("unexpected text after the instruction")

func (p *kernelParser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

func (p *kernelParser) next() (token, error) {
	if p.pos >= len(p.toks) {
		return token{}, errors.New("unexpected end of instruction")
	}
	p.pos++
	return p.toks[p.pos-1], nil
}

// accept consumes the next token if it has the given text.
func (p *kernelParser) accept(text string) bool {
	if t, ok := p.peek(); ok && t.kind != tokLabel && t.text == text {
		p.pos++
		return true
	}
	return false
}

func (p *kernelParser) expect(text string) error {
	t, err := p.next()
	if err != nil {
		return fmt.Errorf("want %q: %w", text, err)
	}
	if t.kind == tokLabel || t.text != text {
		return fmt.Errorf("want %q, not %q", text, t)
	}
	return nil
}

func (p *kernelParser) end() error {
	if t, ok := p.peek(); ok {
		return fmt.Errorf("%w: %q", errTrailing, t)
	}
	return nil
}

// kreg is a register as written: its number and whether it was wN.
type kreg struct {
	r    Register
	wide bool // rN rather than wN
}

func parseKernelReg(t token) (kreg, bool) {
	if t.kind != tokWord || len(t.text) < 2 || (t.text[0] != 'r' && t.text[0] != 'w') {
		return kreg{}, false
	}
	s := t.text[1:]
	if len(s) > 2 || (len(s) == 2 && s[0] == '0') {
		return kreg{}, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return kreg{}, false
		}
		n = n*10 + int(c-'0')
	}
	if n > 15 {
		return kreg{}, false
	}
	return kreg{r: Register(n), wide: t.text[0] == 'r'}, true
}

func (p *kernelParser) reg() (kreg, error) {
	t, err := p.next()
	if err != nil {
		return kreg{}, fmt.Errorf("want a register: %w", err)
	}
	r, ok := parseKernelReg(t)
	if !ok {
		return kreg{}, fmt.Errorf("invalid register %q", t)
	}
	return r, nil
}

// reg64 parses a register that must be written rN: a base address or the
// target of callx.
func (p *kernelParser) reg64() (kreg, error) {
	r, err := p.reg()
	if err == nil && !r.wide {
		err = fmt.Errorf("want a 64-bit register (r%d), not w%d", r.r, r.r)
	}
	return r, err
}

// number parses an optionally signed number and returns its sign and
// magnitude.
func (p *kernelParser) number() (neg bool, mag uint64, err error) {
	if p.accept("-") {
		neg = true
	} else {
		p.accept("+")
	}
	t, err := p.next()
	if err != nil {
		return false, 0, fmt.Errorf("want a number: %w", err)
	}
	if t.kind != tokNum {
		return false, 0, fmt.Errorf("want a number, not %q", t)
	}
	_, _, mag, err = splitNumber(t.text)
	if errors.Is(err, errNumberRange) {
		return false, 0, errImmRange
	}
	return neg, mag, err
}

// imm32 parses a 32-bit immediate: a value from -2^31 to 2^32-1, the upper
// half read as a bit pattern. It returns the sign-extended value.
func (p *kernelParser) imm32() (int64, error) {
	neg, mag, err := p.number()
	switch {
	case err != nil:
		return 0, err
	case neg && mag > 1<<31, !neg && mag > math.MaxUint32:
		return 0, errImmRange
	case neg:
		return -int64(mag), nil
	}
	return int64(int32(uint32(mag))), nil
}

// imm64 parses a lddw constant.
func (p *kernelParser) imm64() (int64, error) {
	neg, mag, err := p.number()
	switch {
	case err != nil:
		return 0, err
	case neg && mag > 1<<63:
		return 0, errImmRange
	case neg:
		return int64(-mag), nil
	}
	return int64(mag), nil
}

// uint32Arg parses an unsigned 32-bit number (pseudo lddw operands).
func (p *kernelParser) uint32Arg() (uint32, error) {
	neg, mag, err := p.number()
	switch {
	case err != nil:
		return 0, err
	case neg:
		return 0, errors.New("number must not be negative")
	case mag > math.MaxUint32:
		return 0, errImmRange
	}
	return uint32(mag), nil
}

// target parses a jump target: <label> or a signed offset that fits in
// bits.
func (p *kernelParser) target(bits int) (int64, string, error) {
	t, ok := p.peek()
	if !ok {
		return 0, "", errors.New("want a jump target: unexpected end of instruction")
	}
	if t.kind == tokLabel {
		p.pos++
		if !validLabel(t.text) {
			return 0, "", fmt.Errorf("invalid label name %q", t.text)
		}
		return 0, t.text, nil
	}
	if t.text != "+" && t.text != "-" {
		return 0, "", fmt.Errorf("invalid jump target %q: want <label> or a signed offset such as +2", t)
	}
	neg, mag, err := p.number()
	if err != nil {
		return 0, "", err
	}
	half := uint64(1) << (bits - 1)
	if neg && mag > half || !neg && mag >= half {
		return 0, "", errJumpRange
	}
	if neg {
		return -int64(mag), "", nil
	}
	return int64(mag), "", nil
}

// memSizes maps the type in a memory operand to its width and whether it
// sign-extends.
var memSizes = map[string]struct {
	size   Size
	signed bool
}{
	"u8": {SizeB, false}, "u16": {SizeH, false}, "u32": {SizeW, false}, "u64": {SizeDW, false},
	"s8": {SizeB, true}, "s16": {SizeH, true}, "s32": {SizeW, true},
}

// sizeType parses "(u32 *)" after the leading "*" of a memory operand, or
// the "(u32 *)" of an atomic function argument.
func (p *kernelParser) sizeType() (Size, bool, error) {
	if err := p.expect("("); err != nil {
		return 0, false, err
	}
	t, err := p.next()
	if err != nil {
		return 0, false, err
	}
	sz, ok := memSizes[t.text]
	if !ok || t.kind != tokWord {
		return 0, false, fmt.Errorf("invalid access size %q: want u8, u16, u32, u64, s8, s16 or s32", t)
	}
	if err := p.expect("*"); err != nil {
		return 0, false, err
	}
	if err := p.expect(")"); err != nil {
		return 0, false, err
	}
	return sz.size, sz.signed, nil
}

// addr parses "rN + off", "rN - off" or "rN" (inside the parentheses of a
// memory operand).
func (p *kernelParser) addr() (Register, int16, error) {
	r, err := p.reg64()
	if err != nil {
		return 0, 0, err
	}
	t, ok := p.peek()
	if !ok || (t.text != "+" && t.text != "-") || t.kind != tokOp {
		return r.r, 0, nil
	}
	neg, mag, err := p.number()
	if err != nil {
		return 0, 0, err
	}
	if neg && mag > 1<<15 || !neg && mag >= 1<<15 {
		return 0, 0, errOffsetRange
	}
	if neg {
		return r.r, int16(-int64(mag)), nil
	}
	return r.r, int16(mag), nil
}

// memOp is a parsed memory operand *(SIZE *)(rN + off).
type memOp struct {
	size   Size
	signed bool
	base   Register
	off    int16
}

// mem parses a memory operand after its leading "*".
func (p *kernelParser) mem() (memOp, error) {
	var m memOp
	var err error
	if m.size, m.signed, err = p.sizeType(); err != nil {
		return m, err
	}
	if err := p.expect("("); err != nil {
		return m, err
	}
	if m.base, m.off, err = p.addr(); err != nil {
		return m, err
	}
	return m, p.expect(")")
}

// instruction parses one instruction. When its target is a label it
// returns the label, and the target field is left zero.
func (p *kernelParser) instruction() (Instruction, string, error) {
	t, _ := p.peek()
	var ins Instruction
	var label string
	var err error
	switch {
	case t.kind == tokWord && t.text == "exit":
		p.pos++
		ins = Instruction{OpCode: OpExit}
	case t.kind == tokWord && (t.text == "goto" || t.text == "gotol"):
		p.pos++
		if t.text == "goto" {
			ins.OpCode = OpJa
			var off int64
			off, label, err = p.target(16)
			ins.Offset = int16(off)
		} else {
			ins.OpCode = OpJa32
			ins.Constant, label, err = p.target(32)
		}
	case t.kind == tokWord && t.text == "if":
		p.pos++
		ins, label, err = p.condJump()
	case t.kind == tokWord && t.text == "call":
		p.pos++
		ins, label, err = p.call()
	case t.kind == tokWord && t.text == "callx":
		p.pos++
		var r kreg
		r, err = p.reg64()
		ins = Instruction{OpCode: OpCallX, Dst: r.r}
	case t.kind == tokWord && t.text == "lock":
		p.pos++
		ins, err = p.lock()
	case t.kind == tokOp && t.text == "*":
		p.pos++
		ins, err = p.store()
	case t.kind == tokWord:
		if dst, ok := parseKernelReg(t); ok {
			p.pos++
			ins, err = p.assign(dst)
			break
		}
		err = fmt.Errorf("unknown instruction %q", t)
	default:
		err = fmt.Errorf("unknown instruction starting with %q", t)
	}
	if err == nil {
		err = p.end()
	}
	return ins, label, err
}

// jumpOps maps the comparison operators to jump operations.
var jumpOps = map[string]JumpOp{
	"==": JEq, "!=": JNE, ">": JGT, ">=": JGE, "<": JLT, "<=": JLE,
	"s>": JSGT, "s>=": JSGE, "s<": JSLT, "s<=": JSLE, "&": JSet, "&==": JSet,
}

// condJump parses what follows "if": rD OP src goto T.
func (p *kernelParser) condJump() (Instruction, string, error) {
	dst, err := p.reg()
	if err != nil {
		return Instruction{}, "", err
	}
	class := ClassJMP
	if !dst.wide {
		class = ClassJMP32
	}
	t, err := p.next()
	if err != nil {
		return Instruction{}, "", err
	}
	op, ok := jumpOps[t.text]
	if !ok || t.kind != tokOp {
		if t.text == "&!=" {
			return Instruction{}, "", errors.New("&!= (jump if no bit is set) has no eBPF encoding")
		}
		return Instruction{}, "", fmt.Errorf("unknown comparison %q", t)
	}
	ins := Instruction{OpCode: JumpOpCode(class, op, SourceImm), Dst: dst.r}
	if err := p.source(&ins); err != nil {
		return Instruction{}, "", err
	}
	if err := p.expect("goto"); err != nil {
		return Instruction{}, "", err
	}
	off, label, err := p.target(16)
	ins.Offset = int16(off)
	return ins, label, err
}

// source parses the second operand of an ALU or jump instruction: a
// register (setting the source bit) or an immediate.
func (p *kernelParser) source(ins *Instruction) error {
	if t, ok := p.peek(); ok {
		if r, ok := parseKernelReg(t); ok {
			p.pos++
			ins.OpCode |= OpCode(SourceReg)
			ins.Src = r.r
			return nil
		}
	}
	v, err := p.imm32()
	ins.Constant = v
	return err
}

// call parses what follows "call".
func (p *kernelParser) call() (Instruction, string, error) {
	ins := Instruction{OpCode: OpCall}
	t, ok := p.peek()
	switch {
	case !ok:
		return ins, "", errors.New("call needs a helper id, <label>, pc+offset or kfunc id")
	case t.kind == tokLabel:
		ins.Src = PseudoCallLocal
		var label string
		var err error
		ins.Constant, label, err = p.target(32)
		return ins, label, err
	case t.kind == tokWord && t.text == "pc":
		p.pos++
		ins.Src = PseudoCallLocal
		var err error
		ins.Constant, _, err = p.target(32)
		return ins, "", err
	case t.kind == tokWord && t.text == "kfunc":
		p.pos++
		ins.Src = PseudoKfuncCall
	}
	var err error
	ins.Constant, err = p.imm32()
	return ins, "", err
}

// aluAssignOps maps the compound assignment operators to ALU operations and
// the offset they set (1 for the signed division and modulo).
var aluAssignOps = map[string]struct {
	op     ALUOp
	offset int16
}{
	"+=": {Add, 0}, "-=": {Sub, 0}, "*=": {Mul, 0}, "/=": {Div, 0}, "%=": {Mod, 0},
	"&=": {And, 0}, "|=": {Or, 0}, "^=": {Xor, 0}, "<<=": {LSh, 0}, ">>=": {RSh, 0},
	"s>>=": {ArSh, 0}, "s/=": {Div, 1}, "s%=": {Mod, 1},
}

// atomicAssignOps maps the operators of lock to atomic operations.
var atomicAssignOps = map[string]AtomicOp{
	"+=": AtomicAdd, "|=": AtomicOr, "&=": AtomicAnd, "^=": AtomicXor,
	"x=": AtomicXchg, "cx=": AtomicCmpXchg,
}

// lock parses what follows "lock": M OP= rS [fetch].
func (p *kernelParser) lock() (Instruction, error) {
	if err := p.expect("*"); err != nil {
		return Instruction{}, err
	}
	m, err := p.mem()
	if err != nil {
		return Instruction{}, err
	}
	t, err := p.next()
	if err != nil {
		return Instruction{}, err
	}
	op, ok := atomicAssignOps[t.text]
	if !ok || t.kind != tokOp {
		return Instruction{}, fmt.Errorf("unknown atomic operation %q: want += |= &= ^= x= or cx=", t)
	}
	src, err := p.reg()
	if err != nil {
		return Instruction{}, err
	}
	if p.accept("fetch") {
		op |= AtomicFetch
	}
	return atomicInsn(m, op, src.r)
}

func atomicInsn(m memOp, op AtomicOp, src Register) (Instruction, error) {
	if m.signed {
		return Instruction{}, errors.New("atomic operations take an unsigned access size")
	}
	return Instruction{OpCode: MemOpCode(ClassSTX, ModeATOMIC, m.size), Dst: m.base, Src: src, Offset: m.off, Constant: int64(op)}, nil
}

// store parses what follows the "*" of a store: (SIZE *)(rD + off) = src.
func (p *kernelParser) store() (Instruction, error) {
	m, err := p.mem()
	if err != nil {
		return Instruction{}, err
	}
	if m.signed {
		return Instruction{}, errors.New("stores take an unsigned access size")
	}
	if err := p.expect("="); err != nil {
		return Instruction{}, err
	}
	if t, ok := p.peek(); ok {
		if r, ok := parseKernelReg(t); ok {
			p.pos++
			return Instruction{OpCode: MemOpCode(ClassSTX, ModeMEM, m.size), Dst: m.base, Src: r.r, Offset: m.off}, nil
		}
	}
	v, err := p.imm32()
	return Instruction{OpCode: MemOpCode(ClassST, ModeMEM, m.size), Dst: m.base, Offset: m.off, Constant: v}, err
}

// movsxWidths maps the sN of a sign-extending move to its offset field.
var movsxWidths = map[string]int16{"s8": 8, "s16": 16, "s32": 32}

// byteOrderOps maps the byte-order mnemonics to their opcode and width.
var byteOrderOps = map[string]struct {
	op    OpCode
	width int64
}{
	"le16": {OpToLE, 16}, "le32": {OpToLE, 32}, "le64": {OpToLE, 64},
	"be16": {OpToBE, 16}, "be32": {OpToBE, 32}, "be64": {OpToBE, 64},
	"bswap16": {OpBswap, 16}, "bswap32": {OpBswap, 32}, "bswap64": {OpBswap, 64},
	"swap16": {OpBswap, 16}, "swap32": {OpBswap, 32}, "swap64": {OpBswap, 64},
}

// assign parses an instruction that starts with its destination register.
func (p *kernelParser) assign(dst kreg) (Instruction, error) {
	class := ClassALU64
	if !dst.wide {
		class = ClassALU
	}
	t, err := p.next()
	if err != nil {
		return Instruction{}, err
	}
	if t.kind != tokOp {
		return Instruction{}, fmt.Errorf("want an assignment after %s, not %q", kregText(dst), t)
	}
	if a, ok := aluAssignOps[t.text]; ok {
		ins := Instruction{OpCode: ALUOpCode(class, a.op, SourceImm), Dst: dst.r, Offset: a.offset}
		return ins, p.source(&ins)
	}
	if w, ok := movsxWidths[strings.TrimSuffix(t.text, "=")]; ok && strings.HasSuffix(t.text, "=") {
		src, err := p.reg()
		return Instruction{OpCode: ALUOpCode(class, Mov, SourceReg), Dst: dst.r, Src: src.r, Offset: w}, err
	}
	if t.text != "=" {
		return Instruction{}, fmt.Errorf("unknown assignment operator %q", t)
	}
	return p.assignRHS(dst, class)
}

func kregText(r kreg) string {
	if r.wide {
		return fmt.Sprintf("r%d", r.r)
	}
	return fmt.Sprintf("w%d", r.r)
}

// sameReg checks that the register after the mnemonic is the destination.
func (p *kernelParser) sameReg(dst kreg, what string) error {
	r, err := p.reg()
	if err != nil {
		return err
	}
	if r.r != dst.r {
		return fmt.Errorf("%s must name the destination register on both sides", what)
	}
	return nil
}

// assignRHS parses what follows "rD =".
func (p *kernelParser) assignRHS(dst kreg, class Class) (Instruction, error) {
	t, ok := p.peek()
	if !ok {
		return Instruction{}, errors.New("unexpected end of instruction after =")
	}
	if r, ok := parseKernelReg(t); ok {
		p.pos++
		return Instruction{OpCode: ALUOpCode(class, Mov, SourceReg), Dst: dst.r, Src: r.r}, nil
	}
	switch t.kind {
	case tokOp:
		switch t.text {
		case "-":
			// -rD is neg; -K is a negative immediate.
			if p.pos+1 < len(p.toks) {
				if _, ok := parseKernelReg(p.toks[p.pos+1]); ok {
					p.pos++
					return Instruction{OpCode: ALUOpCode(class, Neg, SourceImm), Dst: dst.r}, p.sameReg(dst, "neg")
				}
			}
			return p.movImm(dst, class)
		case "+":
			return p.movImm(dst, class)
		case "*":
			p.pos++
			return p.load(dst)
		case "(":
			p.pos++
			w, err := p.next()
			if err != nil {
				return Instruction{}, err
			}
			off, ok := movsxWidths[w.text]
			if !ok || w.kind != tokWord {
				return Instruction{}, fmt.Errorf("invalid cast %q: want (s8), (s16) or (s32)", w)
			}
			if err := p.expect(")"); err != nil {
				return Instruction{}, err
			}
			src, err := p.reg()
			return Instruction{OpCode: ALUOpCode(class, Mov, SourceReg), Dst: dst.r, Src: src.r, Offset: off}, err
		}
	case tokNum:
		return p.movImm(dst, class)
	case tokWord:
		p.pos++
		if bo, ok := byteOrderOps[t.text]; ok {
			return Instruction{OpCode: bo.op, Dst: dst.r, Constant: bo.width}, p.sameReg(dst, t.text)
		}
		switch t.text {
		case "map_fd", "map_val", "map_by_idx", "mva", "btf_id", "func":
			if !dst.wide {
				return Instruction{}, fmt.Errorf("%s needs a 64-bit destination register (r%d)", t.text, dst.r)
			}
			return p.pseudoLoad(dst, t.text)
		case "atomic_fetch_add", "atomic_fetch_and", "atomic_fetch_or", "atomic_fetch_xor",
			"xchg_64", "xchg32_32", "cmpxchg_64", "cmpxchg32_32":
			return p.atomicCall(dst, t.text)
		}
		return Instruction{}, fmt.Errorf("unknown operand %q", t)
	}
	return Instruction{}, fmt.Errorf("unknown operand %q", t)
}

// movImm parses "K" (mov) or "K ll" (lddw) after "rD =".
func (p *kernelParser) movImm(dst kreg, class Class) (Instruction, error) {
	save := p.pos
	v, err := p.imm64()
	if t, ok := p.peek(); ok && t.kind == tokWord && t.text == "ll" {
		if err != nil {
			return Instruction{}, err
		}
		p.pos++
		if !dst.wide {
			return Instruction{}, fmt.Errorf("a 64-bit constant needs a 64-bit destination register (r%d)", dst.r)
		}
		return Instruction{OpCode: OpLdImm64, Dst: dst.r, Constant: v}, nil
	}
	p.pos = save
	v, err = p.imm32()
	if errors.Is(err, errImmRange) {
		err = errors.New("immediate out of range (a 64-bit constant needs the ll suffix)")
	}
	return Instruction{OpCode: ALUOpCode(class, Mov, SourceImm), Dst: dst.r, Constant: v}, err
}

// load parses what follows "rD = *": a memory load or a legacy packet load.
func (p *kernelParser) load(dst kreg) (Instruction, error) {
	size, signed, err := p.sizeType()
	if err != nil {
		return Instruction{}, err
	}
	if p.accept("skb") {
		return p.packetLoad(dst, size, signed)
	}
	if err := p.expect("("); err != nil {
		return Instruction{}, err
	}
	base, off, err := p.addr()
	if err != nil {
		return Instruction{}, err
	}
	if err := p.expect(")"); err != nil {
		return Instruction{}, err
	}
	mode := ModeMEM
	if signed {
		mode = ModeMEMSX
	}
	return Instruction{OpCode: MemOpCode(ClassLDX, mode, size), Dst: dst.r, Src: base, Offset: off}, nil
}

// packetLoad parses "[K]" or "[rS + K]" after "r0 = *(SIZE *)skb".
func (p *kernelParser) packetLoad(dst kreg, size Size, signed bool) (Instruction, error) {
	if signed {
		return Instruction{}, errors.New("legacy packet loads take an unsigned access size")
	}
	if dst.r != R0 {
		return Instruction{}, errors.New("legacy packet loads write r0")
	}
	if err := p.expect("["); err != nil {
		return Instruction{}, err
	}
	ins := Instruction{OpCode: MemOpCode(ClassLD, ModeABS, size)}
	var err error
	if t, ok := p.peek(); ok {
		if r, ok := parseKernelReg(t); ok {
			p.pos++
			ins.OpCode = MemOpCode(ClassLD, ModeIND, size)
			ins.Src = r.r
			if t, ok := p.peek(); ok && t.kind == tokOp && (t.text == "+" || t.text == "-") {
				ins.Constant, err = p.imm32()
			}
			if err != nil {
				return Instruction{}, err
			}
			return ins, p.expect("]")
		}
	}
	if ins.Constant, err = p.imm32(); err != nil {
		return Instruction{}, err
	}
	return ins, p.expect("]")
}

// pseudoLddwKinds maps the pseudo lddw spellings to their source values.
var pseudoLddwKinds = map[string]Register{
	"map_fd": PseudoMapFD, "map_val": PseudoMapValue, "btf_id": PseudoBTFID,
	"func": PseudoFunc, "map_by_idx": PseudoMapIdx, "mva": PseudoMapIdxValue,
}

// pseudoLoad parses the operand of a pseudo lddw after its kind word.
func (p *kernelParser) pseudoLoad(dst kreg, kind string) (Instruction, error) {
	ins := Instruction{OpCode: OpLdImm64, Dst: dst.r, Src: pseudoLddwKinds[kind]}
	var lo uint32
	var err error
	switch kind {
	case "map_fd":
		lo, err = p.uint32Arg()
	case "mva":
		if err = p.expect("("); err == nil {
			if err = p.expect("map_by_idx"); err == nil {
				if err = p.expect("("); err == nil {
					if lo, err = p.uint32Arg(); err == nil {
						if err = p.expect(")"); err == nil {
							err = p.expect(")")
						}
					}
				}
			}
		}
	default:
		if err = p.expect("("); err == nil {
			if lo, err = p.uint32Arg(); err == nil {
				err = p.expect(")")
			}
		}
	}
	if err != nil {
		return Instruction{}, err
	}
	var hi uint32
	if p.accept("+") {
		if hi, err = p.uint32Arg(); err != nil {
			return Instruction{}, err
		}
	}
	ins.Constant = int64(uint64(hi)<<32 | uint64(lo))
	return ins, nil
}

// atomicCall parses the llvm spelling of the fetching atomics after
// "rD = NAME".
func (p *kernelParser) atomicCall(dst kreg, name string) (Instruction, error) {
	if err := p.expect("("); err != nil {
		return Instruction{}, err
	}
	var m memOp
	var op AtomicOp
	var err error
	switch name {
	case "xchg_64", "xchg32_32", "cmpxchg_64", "cmpxchg32_32":
		m.size = SizeDW
		if strings.Contains(name, "32_32") {
			m.size = SizeW
		}
		op = AtomicXchg
		if strings.HasPrefix(name, "cmp") {
			op = AtomicCmpXchg
		}
		if m.base, m.off, err = p.addr(); err != nil {
			return Instruction{}, err
		}
	default:
		op = map[string]AtomicOp{
			"atomic_fetch_add": AtomicAdd, "atomic_fetch_and": AtomicAnd,
			"atomic_fetch_or": AtomicOr, "atomic_fetch_xor": AtomicXor,
		}[name] | AtomicFetch
		if m.size, m.signed, err = p.sizeType(); err != nil {
			return Instruction{}, err
		}
		if err := p.expect("("); err != nil {
			return Instruction{}, err
		}
		if m.base, m.off, err = p.addr(); err != nil {
			return Instruction{}, err
		}
		if err := p.expect(")"); err != nil {
			return Instruction{}, err
		}
	}
	if err := p.expect(","); err != nil {
		return Instruction{}, err
	}
	if op == AtomicCmpXchg {
		if dst.r != R0 {
			return Instruction{}, errors.New("cmpxchg returns the old value in r0")
		}
		r, err := p.reg()
		if err != nil {
			return Instruction{}, err
		}
		if r.r != R0 {
			return Instruction{}, errors.New("cmpxchg compares with r0: its second argument must be r0")
		}
		if err := p.expect(","); err != nil {
			return Instruction{}, err
		}
	}
	src, err := p.reg()
	if err != nil {
		return Instruction{}, err
	}
	if op != AtomicCmpXchg && src.r != dst.r {
		return Instruction{}, fmt.Errorf("%s must name the same register as its result and its operand", name)
	}
	if err := p.expect(")"); err != nil {
		return Instruction{}, err
	}
	return atomicInsn(m, op, src.r)
}
