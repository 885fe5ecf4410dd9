package asm_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// encodings pins assembler text and bytecode together. Each row is a whole
// program (lines separated by "\n") in the disassembler's canonical form;
// the hex is its encoding, one 8-byte slot per group.
var encodings = []struct {
	text string
	hex  string
}{
	// ALU64 and ALU, immediate and register sources.
	{"add %r1, 5", "07 01 00 00 05 00 00 00"},
	{"add %r1, %r2", "0f 21 00 00 00 00 00 00"},
	{"add32 %r1, -1", "04 01 00 00 ff ff ff ff"},
	{"sub %r0, 0x7fffffff", "17 00 00 00 ff ff ff 7f"},
	{"sub32 %r0, %r10", "1c a0 00 00 00 00 00 00"},
	{"mul32 %r3, %r4", "2c 43 00 00 00 00 00 00"},
	{"mul %r3, 4096", "27 03 00 00 00 10 00 00"},
	{"mul %r3, 0x1001", "27 03 00 00 01 10 00 00"},
	{"div %r1, 3", "37 01 00 00 03 00 00 00"},
	{"div32 %r1, %r2", "3c 21 00 00 00 00 00 00"},
	{"sdiv %r1, 3", "37 01 01 00 03 00 00 00"},
	{"sdiv32 %r1, %r2", "3c 21 01 00 00 00 00 00"},
	{"mod %r1, %r2", "9f 21 00 00 00 00 00 00"},
	{"smod %r1, %r2", "9f 21 01 00 00 00 00 00"},
	{"smod32 %r1, -7", "94 01 01 00 f9 ff ff ff"},
	{"or %r1, 0xff00", "47 01 00 00 00 ff 00 00"},
	{"and32 %r0, 0xffffffff", "54 00 00 00 ff ff ff ff"},
	{"xor %r2, 0x0", "a7 02 00 00 00 00 00 00"},
	{"xor32 %r2, %r3", "ac 32 00 00 00 00 00 00"},
	{"lsh %r1, 32", "67 01 00 00 20 00 00 00"},
	{"rsh32 %r1, %r2", "7c 21 00 00 00 00 00 00"},
	{"arsh %r1, 63", "c7 01 00 00 3f 00 00 00"},
	{"arsh32 %r1, %r9", "cc 91 00 00 00 00 00 00"},
	{"neg %r1", "87 01 00 00 00 00 00 00"},
	{"neg32 %r9", "84 09 00 00 00 00 00 00"},
	{"mov %r0, 0", "b7 00 00 00 00 00 00 00"},
	{"mov %r0, -4096", "b7 00 00 00 00 f0 ff ff"},
	{"mov %r0, 0xffffefff", "b7 00 00 00 ff ef ff ff"},
	{"mov32 %r0, 0x80000000", "b4 00 00 00 00 00 00 80"},
	{"mov %r6, %r1", "bf 16 00 00 00 00 00 00"},
	{"mov32 %r6, %r1", "bc 16 00 00 00 00 00 00"},
	{"movsx864 %r1, %r2", "bf 21 08 00 00 00 00 00"},
	{"movsx1664 %r1, %r2", "bf 21 10 00 00 00 00 00"},
	{"movsx3264 %r1, %r2", "bf 21 20 00 00 00 00 00"},
	{"movsx832 %r1, %r2", "bc 21 08 00 00 00 00 00"},
	{"movsx1632 %r1, %r2", "bc 21 10 00 00 00 00 00"},
	// Byte order.
	{"le16 %r1", "d4 01 00 00 10 00 00 00"},
	{"le32 %r1", "d4 01 00 00 20 00 00 00"},
	{"le64 %r1", "d4 01 00 00 40 00 00 00"},
	{"be16 %r2", "dc 02 00 00 10 00 00 00"},
	{"be32 %r2", "dc 02 00 00 20 00 00 00"},
	{"be64 %r2", "dc 02 00 00 40 00 00 00"},
	{"bswap16 %r3", "d7 03 00 00 10 00 00 00"},
	{"bswap32 %r3", "d7 03 00 00 20 00 00 00"},
	{"bswap64 %r3", "d7 03 00 00 40 00 00 00"},
	// Loads and stores.
	{"ldxb %r1, [%r2+0]", "71 21 00 00 00 00 00 00"},
	{"ldxh %r1, [%r2+2]", "69 21 02 00 00 00 00 00"},
	{"ldxw %r1, [%r2-4]", "61 21 fc ff 00 00 00 00"},
	{"ldxdw %r3, [%r1+8]", "79 13 08 00 00 00 00 00"},
	{"ldxdw %r3, [%r1-32768]", "79 13 00 80 00 00 00 00"},
	{"ldxdw %r3, [%r1+32767]", "79 13 ff 7f 00 00 00 00"},
	{"ldxsb %r1, [%r2+1]", "91 21 01 00 00 00 00 00"},
	{"ldxsh %r1, [%r2+2]", "89 21 02 00 00 00 00 00"},
	{"ldxsw %r1, [%r2+4]", "81 21 04 00 00 00 00 00"},
	{"stb [%r1+2], 127", "72 01 02 00 7f 00 00 00"},
	{"sth [%r10-2], -1", "6a 0a fe ff ff ff ff ff"},
	{"stw [%r1+0], 0x1001", "62 01 00 00 01 10 00 00"},
	{"stdw [%r10-8], 1", "7a 0a f8 ff 01 00 00 00"},
	{"stxb [%r1+0], %r2", "73 21 00 00 00 00 00 00"},
	{"stxh [%r1+6], %r2", "6b 21 06 00 00 00 00 00"},
	{"stxw [%r10-8], %r1", "63 1a f8 ff 00 00 00 00"},
	{"stxdw [%r10-16], %r0", "7b 0a f0 ff 00 00 00 00"},
	// Atomics.
	{"lock add [%r1+0], %r2", "db 21 00 00 00 00 00 00"},
	{"lock fetch add [%r1+8], %r2", "db 21 08 00 01 00 00 00"},
	{"lock add32 [%r1+0], %r2", "c3 21 00 00 00 00 00 00"},
	{"lock or32 [%r1+0], %r2", "c3 21 00 00 40 00 00 00"},
	{"lock fetch or [%r1+0], %r2", "db 21 00 00 41 00 00 00"},
	{"lock fetch and [%r10-8], %r3", "db 3a f8 ff 51 00 00 00"},
	{"lock and32 [%r10-8], %r3", "c3 3a f8 ff 50 00 00 00"},
	{"lock xor32 [%r1+4], %r2", "c3 21 04 00 a0 00 00 00"},
	{"lock fetch xor32 [%r1+4], %r2", "c3 21 04 00 a1 00 00 00"},
	{"lock xchg [%r10-8], %r1", "db 1a f8 ff e1 00 00 00"},
	{"lock xchg32 [%r10-8], %r1", "c3 1a f8 ff e1 00 00 00"},
	{"lock cmpxchg [%r10-8], %r1", "db 1a f8 ff f1 00 00 00"},
	{"lock cmpxchg32 [%r10-8], %r1", "c3 1a f8 ff f1 00 00 00"},
	// 64-bit constants, with and without a pseudo source.
	{"lddw %r0, 0x1122334455667788", "18 00 00 00 88 77 66 55  00 00 00 00 44 33 22 11"},
	{"lddw %r1, -1", "18 01 00 00 ff ff ff ff  00 00 00 00 ff ff ff ff"},
	{"lddw %r1, 0x8000000000000000", "18 01 00 00 00 00 00 00  00 00 00 00 00 00 00 80"},
	{"lddw %r1, map 3", "18 11 00 00 03 00 00 00  00 00 00 00 00 00 00 00"},
	{"lddw %r1, map 3+1", "18 11 00 00 03 00 00 00  00 00 00 00 01 00 00 00"},
	{"lddw %r2, mapvalue 3+16", "18 22 00 00 03 00 00 00  00 00 00 00 10 00 00 00"},
	{"lddw %r1, btf 7", "18 31 00 00 07 00 00 00  00 00 00 00 00 00 00 00"},
	{"lddw %r1, func 4294967295", "18 41 00 00 ff ff ff ff  00 00 00 00 00 00 00 00"},
	{"lddw %r1, mapidx 0", "18 51 00 00 00 00 00 00  00 00 00 00 00 00 00 00"},
	{"lddw %r1, mapidxvalue 1+0", "18 61 00 00 01 00 00 00  00 00 00 00 00 00 00 00"},
	// Legacy packet loads.
	{"ldabsb 0x10000", "30 00 00 00 00 00 01 00"},
	{"ldabsh 2", "28 00 00 00 02 00 00 00"},
	{"ldabsw 16", "20 00 00 00 10 00 00 00"},
	{"ldindb %r3, -1", "50 30 00 00 ff ff ff ff"},
	{"ldindh %r3, 0", "48 30 00 00 00 00 00 00"},
	{"ldindw %r2, 4", "40 20 00 00 04 00 00 00"},
	// Calls and exit.
	{"call 5", "85 00 00 00 05 00 00 00"},
	{"call -1", "85 00 00 00 ff ff ff ff"},
	{"call %r2", "8d 02 00 00 00 00 00 00"},
	{"call runtime 7", "85 20 00 00 07 00 00 00"},
	{"call local +1\nexit\nexit", "85 10 00 00 01 00 00 00  95 00 00 00 00 00 00 00  95 00 00 00 00 00 00 00"},
	{"exit\ncall local -2", "95 00 00 00 00 00 00 00  85 10 00 00 fe ff ff ff"},
	{"exit", "95 00 00 00 00 00 00 00"},
	// Jumps: offsets count slots from the next one.
	{"ja +1\nmov %r0, 1\nexit", "05 00 01 00 00 00 00 00  b7 00 00 00 01 00 00 00  95 00 00 00 00 00 00 00"},
	{"ja +2\nlddw %r0, 1\nexit", "05 00 02 00 00 00 00 00  18 00 00 00 01 00 00 00  00 00 00 00 00 00 00 00  95 00 00 00 00 00 00 00"},
	{"exit\nja32 -2", "95 00 00 00 00 00 00 00  06 00 00 00 fe ff ff ff"},
	{"ja32 +0\nexit", "06 00 00 00 00 00 00 00  95 00 00 00 00 00 00 00"},
	{"jeq %r1, 1, +0\nexit", "15 01 00 00 01 00 00 00  95 00 00 00 00 00 00 00"},
	{"jeq %r1, %r2, +0\nexit", "1d 21 00 00 00 00 00 00  95 00 00 00 00 00 00 00"},
	{"jgt32 %r1, 2, +0\nexit", "26 01 00 00 02 00 00 00  95 00 00 00 00 00 00 00"},
	{"jge %r1, %r2, +0\nexit", "3d 21 00 00 00 00 00 00  95 00 00 00 00 00 00 00"},
	{"jset %r1, 0x80000000, +0\nexit", "45 01 00 00 00 00 00 80  95 00 00 00 00 00 00 00"},
	{"jne32 %r1, %r2, +0\nexit", "5e 21 00 00 00 00 00 00  95 00 00 00 00 00 00 00"},
	{"jsgt32 %r1, -1, +0\nexit", "66 01 00 00 ff ff ff ff  95 00 00 00 00 00 00 00"},
	{"jsge %r1, 0, +0\nexit", "75 01 00 00 00 00 00 00  95 00 00 00 00 00 00 00"},
	{"jlt %r1, %r2, -1\nexit", "ad 21 ff ff 00 00 00 00  95 00 00 00 00 00 00 00"},
	{"jle32 %r1, 3, +0\nexit", "b6 01 00 00 03 00 00 00  95 00 00 00 00 00 00 00"},
	{"jslt %r1, %r2, +0\nexit", "cd 21 00 00 00 00 00 00  95 00 00 00 00 00 00 00"},
	{"jsle %r10, 4096, +0\nexit", "d5 0a 00 00 00 10 00 00  95 00 00 00 00 00 00 00"},
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestEncoding(t *testing.T) {
	for _, tt := range encodings {
		t.Run(tt.text, func(t *testing.T) {
			want := unhex(t, tt.hex)
			insns, err := asm.Assemble(tt.text)
			if err != nil {
				t.Fatalf("Assemble: %v", err)
			}
			if got := insns.Encode(); string(got) != string(want) {
				t.Errorf("Assemble(%q).Encode()\n got %x\nwant %x", tt.text, got, want)
			}
			decoded, err := asm.Decode(want)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := strings.TrimSuffix(asm.Disassemble(decoded), "\n"); got != tt.text {
				t.Errorf("Disassemble(Decode(%s))\n got %q\nwant %q", tt.hex, got, tt.text)
			}
		})
	}
}

// TestAssembleSpellings checks inputs that the disassembler prints in
// another, canonical spelling.
func TestAssembleSpellings(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"swap is bswap", "swap16 %r1", "bswap16 %r1"},
		{"explicit helper", "call helper 5", "call 5"},
		{"explicit helper callx", "call helper %r3", "call %r3"},
		{"kfunc is runtime", "call kfunc 7", "call runtime 7"},
		{"memory without offset", "ldxw %r1, [%r2]", "ldxw %r1, [%r2+0]"},
		{"hex offset and immediate", "stw [%r1+0x10], 0x1", "stw [%r1+16], 1"},
		{"hex offset is a 16-bit pattern", "ldxh %r0, [%r1+0xffff]", "ldxh %r0, [%r1-1]"},
		{"negative hex offset", "ldxh %r0, [%r1-0x8]", "ldxh %r0, [%r1-8]"},
		{"hex immediate is a 32-bit pattern", "mov %r0, 0xffffffff", "mov %r0, -1"},
		{"upper-case hex digits", "mov %r0, 0xFFFFFFF6", "mov %r0, -10"},
		{"int32 minimum", "mov32 %r0, -2147483648", "mov32 %r0, 0x80000000"},
		{"explicit plus", "add %r0, +3", "add %r0, 3"},
		{"no commas", "add %r0 1", "add %r0, 1"},
		{"extra white space", "  add\t%r0,   1  ", "add %r0, 1"},
		{"lddw unsigned decimal", "lddw %r0, 18446744073709551615", "lddw %r0, -1"},
		{"lddw signed decimal", "lddw %r0, -9223372036854775808", "lddw %r0, 0x8000000000000000"},
		{"lddw small hex", "lddw %r0, 0x10", "lddw %r0, 16"},
		{"lddw map zero offset", "lddw %r1, map 3+0", "lddw %r1, map 3"},
		{"lddw mapvalue offset implied", "lddw %r1, mapvalue 3", "lddw %r1, mapvalue 3+0"},
		{"lddw pseudo hex halves", "lddw %r1, map 0xffffffff+0x1", "lddw %r1, map 4294967295+1"},
		{"fetch xchg", "lock fetch xchg [%r1+0], %r2", "lock xchg [%r1+0], %r2"},
		{"comments and blank lines", "# program\n\nmov %r0, 1 # one\n\t# indented comment\nexit # done\n", "mov %r0, 1\nexit"},
		{"comment with 0x7f byte", "mov %r0, 1 # \x7f\nexit", "mov %r0, 1\nexit"},
		{"crlf", "mov %r0, 1\r\nexit\r\n", "mov %r0, 1\nexit"},
		{"label", "jeq %r1, 0, done\nmov %r0, 1\ndone:\nexit", "jeq %r1, 0, +1\nmov %r0, 1\nexit"},
		{"backward label", "top:\nja top\nexit", "ja -1\nexit"},
		{"label counts lddw slots", "ja L\nlddw %r0, 1\nL:\nexit", "ja +2\nlddw %r0, 1\nexit"},
		{"hex jump offset", "jeq %r1, 0x1, +0x1\nexit\nexit", "jeq %r1, 1, +1\nexit\nexit"},
		{"implicit exit label", "ja exit\nmov %r0, 1\nexit\nexit", "ja +1\nmov %r0, 1\nexit\nexit"},
		{"explicit exit label wins", "ja exit\nexit\nmov %r0, 0\nexit:\nexit", "ja +2\nexit\nmov %r0, 0\nexit"},
		{"ja32 to label", "ja32 exit\nexit", "ja32 +0\nexit"},
		{"local call to label", "call local f\nexit\nf:\nmov %r0, 1\nexit", "call local +1\nexit\nmov %r0, 1\nexit"},
		{"label with dots and digits", ".L_1.x:\nja .L_1.x", "ja -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			insns, err := asm.Assemble(tt.src)
			if err != nil {
				t.Fatalf("Assemble(%q): %v", tt.src, err)
			}
			if got := strings.TrimSuffix(asm.Disassemble(insns), "\n"); got != tt.want {
				t.Errorf("Assemble(%q) disassembles to\n%s\nwant\n%s", tt.src, got, tt.want)
			}
		})
	}
}

func TestAssembleEmpty(t *testing.T) {
	for _, src := range []string{"", "\n\n", "# only a comment\n", "L:\n"} {
		insns, err := asm.Assemble(src)
		if err != nil || len(insns) != 0 {
			t.Errorf("Assemble(%q) = %v, %v; want no instructions and no error", src, insns, err)
		}
	}
}

func TestInstructionsString(t *testing.T) {
	insns, err := asm.Assemble("lddw %r0, 0x1122334455667788\njeq %r0, 0, +1\nmov %r0, 1\nexit")
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"   0: lddw %r0, 0x1122334455667788\n" +
		"   2: jeq %r0, 0, +1\n" +
		"   3: mov %r0, 1\n" +
		"   4: exit\n"
	if got := insns.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
}

func TestInvalidInstructionString(t *testing.T) {
	tests := []struct {
		ins  asm.Instruction
		want string
	}{
		{asm.Instruction{OpCode: 0xff}, "invalid op=0xff dst=0 src=0 off=0 imm=0x0 (unknown opcode)"},
		{asm.Instruction{OpCode: asm.OpExit, Dst: asm.R1}, "invalid op=0x95 dst=1 src=0 off=0 imm=0x0 (exit fields must be zero)"},
		{asm.Instruction{OpCode: 0xb7, Dst: asm.R1, Constant: 1 << 32}, "invalid op=0xb7 dst=1 src=0 off=0 imm=0x100000000 (immediate 0x100000000 does not fit in 32 bits)"},
	}
	for _, tt := range tests {
		got := tt.ins.String()
		if got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		if _, err := asm.Assemble(got); err == nil {
			t.Errorf("Assemble(%q) succeeded; invalid instructions must not re-assemble", got)
		}
	}
}
