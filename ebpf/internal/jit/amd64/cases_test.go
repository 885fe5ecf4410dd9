package amd64

import (
	"fmt"
	"strconv"
)

// testCase is one row of the encoding table: a builder call, the listing it
// must produce (String() without tabs, lines joined by "; ") and its bytes in
// hex.
type testCase struct {
	name  string
	build func(a *Assembler)
	text  string
	hex   string
	// noLLVM marks cases llvm-mc encodes differently on purpose (it relaxes
	// forward jumps to rel8); the x86asm oracle still checks them.
	noLLVM bool
}

var cases = []testCase{
	// MOV reg, reg
	{"mov64", func(a *Assembler) { a.MovRR(S64, RAX, RBX) }, "mov rax, rbx", "4889d8", false},
	{"mov64 r8-r15", func(a *Assembler) { a.MovRR(S64, R8, R15) }, "mov r8, r15", "4d89f8", false},
	{"mov32", func(a *Assembler) { a.MovRR(S32, RCX, RDX) }, "mov ecx, edx", "89d1", false},
	{"mov32 rex.b", func(a *Assembler) { a.MovRR(S32, R9, RAX) }, "mov r9d, eax", "4189c1", false},
	{"mov16", func(a *Assembler) { a.MovRR(S16, RAX, R10) }, "mov ax, r10w", "664489d0", false},
	{"mov8 sil", func(a *Assembler) { a.MovRR(S8, RSI, RAX) }, "mov sil, al", "4088c6", false},
	{"mov8 dil spl", func(a *Assembler) { a.MovRR(S8, RDI, RSP) }, "mov dil, spl", "4088e7", false},
	{"mov8 bl", func(a *Assembler) { a.MovRR(S8, RBX, RCX) }, "mov bl, cl", "88cb", false},
	// MOV reg, imm
	{"mov32 imm", func(a *Assembler) { a.MovRI(S32, RAX, 5) }, "mov eax, 5", "b805000000", false},
	{"mov32 imm neg", func(a *Assembler) { a.MovRI(S32, R12, -1) }, "mov r12d, -1", "41bcffffffff", false},
	{"mov64 imm", func(a *Assembler) { a.MovRI(S64, RAX, -1) }, "mov rax, -1", "48c7c0ffffffff", false},
	{"mov64 imm r15", func(a *Assembler) { a.MovRI(S64, R15, 0x12345678) }, "mov r15, 305419896", "49c7c778563412", false},
	{"mov16 imm", func(a *Assembler) { a.MovRI(S16, RDX, 0x1234) }, "mov dx, 4660", "66ba3412", false},
	{"mov8 imm bpl", func(a *Assembler) { a.MovRI(S8, RBP, 7) }, "mov bpl, 7", "40b507", false},
	{"movabs", func(a *Assembler) { a.MovAbs(RAX, 0x123456789abcdef0) }, "movabs rax, 1311768467463790320", "48b8f0debc9a78563412", false},
	{"movabs r9", func(a *Assembler) { a.MovAbs(R9, -2) }, "movabs r9, -2", "49b9feffffffffffffff", false},
	{"movimm64 small", func(a *Assembler) { a.MovImm64(RBX, 0xffffffff) }, "mov ebx, -1", "bbffffffff", false},
	{"movimm64 neg", func(a *Assembler) { a.MovImm64(RBX, 0xffffffffffffff00) }, "mov rbx, -256", "48c7c300ffffff", false},
	{"movimm64 big", func(a *Assembler) { a.MovImm64(RBX, 1<<40) }, "movabs rbx, 1099511627776", "48bb0000000000010000", false},
	// ALU reg, reg
	{"add64", func(a *Assembler) { a.ALURR(ADD, S64, RAX, RBX) }, "add rax, rbx", "4801d8", false},
	{"sub32 r8 r9", func(a *Assembler) { a.ALURR(SUB, S32, R8, R9) }, "sub r8d, r9d", "4529c8", false},
	{"and64", func(a *Assembler) { a.ALURR(AND, S64, R11, RDI) }, "and r11, rdi", "4921fb", false},
	{"or32", func(a *Assembler) { a.ALURR(OR, S32, RSI, R14) }, "or esi, r14d", "4409f6", false},
	{"xor32 self", func(a *Assembler) { a.ALURR(XOR, S32, RDX, RDX) }, "xor edx, edx", "31d2", false},
	{"cmp64", func(a *Assembler) { a.ALURR(CMP, S64, RSP, RBP) }, "cmp rsp, rbp", "4839ec", false},
	{"adc64", func(a *Assembler) { a.ALURR(ADC, S64, RAX, RCX) }, "adc rax, rcx", "4811c8", false},
	{"sbb32", func(a *Assembler) { a.ALURR(SBB, S32, RAX, RCX) }, "sbb eax, ecx", "19c8", false},
	{"cmp8 sil", func(a *Assembler) { a.ALURR(CMP, S8, RSI, RDI) }, "cmp sil, dil", "4038fe", false},
	// ALU reg, imm
	{"add64 imm8", func(a *Assembler) { a.ALURI(ADD, S64, RCX, 8) }, "add rcx, 8", "4883c108", false},
	{"add64 imm8 neg", func(a *Assembler) { a.ALURI(ADD, S64, RCX, -128) }, "add rcx, -128", "4883c180", false},
	{"add64 imm32", func(a *Assembler) { a.ALURI(ADD, S64, RCX, 128) }, "add rcx, 128", "4881c180000000", false},
	{"add64 rax imm32", func(a *Assembler) { a.ALURI(ADD, S64, RAX, 1000) }, "add rax, 1000", "4805e8030000", false},
	{"add64 rax imm8", func(a *Assembler) { a.ALURI(ADD, S64, RAX, 1) }, "add rax, 1", "4883c001", false},
	{"sub32 imm32 r13", func(a *Assembler) { a.ALURI(SUB, S32, R13, 0x10000) }, "sub r13d, 65536", "4181ed00000100", false},
	{"and32 rax", func(a *Assembler) { a.ALURI(AND, S32, RAX, 0xfff) }, "and eax, 4095", "25ff0f0000", false},
	{"or64 imm8", func(a *Assembler) { a.ALURI(OR, S64, R8, 1) }, "or r8, 1", "4983c801", false},
	{"xor64 imm32", func(a *Assembler) { a.ALURI(XOR, S64, RDX, -1000) }, "xor rdx, -1000", "4881f218fcffff", false},
	{"cmp32 imm8", func(a *Assembler) { a.ALURI(CMP, S32, RDI, 0) }, "cmp edi, 0", "83ff00", false},
	{"cmp64 imm32", func(a *Assembler) { a.ALURI(CMP, S64, R15, 512) }, "cmp r15, 512", "4981ff00020000", false},
	{"cmp16 imm", func(a *Assembler) { a.ALURI(CMP, S16, RBX, 1000) }, "cmp bx, 1000", "6681fbe803", false},
	{"and8 al", func(a *Assembler) { a.ALURI(AND, S8, RAX, 15) }, "and al, 15", "240f", false},
	{"and8 dil", func(a *Assembler) { a.ALURI(AND, S8, RDI, 15) }, "and dil, 15", "4080e70f", false},
	// ALU with memory
	{"add reg mem", func(a *Assembler) { a.ALURM(ADD, S64, RAX, M(RSP, 8)) }, "add rax, qword ptr [rsp + 8]", "4803442408", false},
	{"cmp reg mem", func(a *Assembler) { a.ALURM(CMP, S32, R9, M(R13, 0)) }, "cmp r9d, dword ptr [r13]", "453b4d00", false},
	{"sub mem reg", func(a *Assembler) { a.ALUMR(SUB, S64, M(RDI, -8), RSI) }, "sub qword ptr [rdi - 8], rsi", "482977f8", false},
	{"add mem imm8", func(a *Assembler) { a.ALUMI(ADD, S64, M(RBP, -16), 1) }, "add qword ptr [rbp - 16], 1", "488345f001", false},
	{"cmp mem imm32", func(a *Assembler) { a.ALUMI(CMP, S32, MI(RAX, R12, 8, 0), 100000) }, "cmp dword ptr [rax + r12*8], 100000", "42813ce0a0860100", false},
	{"and mem8 imm", func(a *Assembler) { a.ALUMI(AND, S8, M(RBX, 3), 1) }, "and byte ptr [rbx + 3], 1", "80630301", false},
	// TEST
	{"test64", func(a *Assembler) { a.TestRR(S64, RAX, RBX) }, "test rax, rbx", "4885d8", false},
	{"test32 r10", func(a *Assembler) { a.TestRR(S32, R10, R10) }, "test r10d, r10d", "4585d2", false},
	{"test8 sil", func(a *Assembler) { a.TestRR(S8, RSI, RSI) }, "test sil, sil", "4084f6", false},
	{"test64 imm rax", func(a *Assembler) { a.TestRI(S64, RAX, 1) }, "test rax, 1", "48a901000000", false},
	{"test32 imm", func(a *Assembler) { a.TestRI(S32, RCX, 0x80) }, "test ecx, 128", "f7c180000000", false},
	{"test8 imm", func(a *Assembler) { a.TestRI(S8, RBP, 1) }, "test bpl, 1", "40f6c501", false},
	// IMUL
	{"imul64", func(a *Assembler) { a.IMulRR(S64, RAX, R9) }, "imul rax, r9", "490fafc1", false},
	{"imul32", func(a *Assembler) { a.IMulRR(S32, R10, RCX) }, "imul r10d, ecx", "440fafd1", false},
	{"imul64 imm8", func(a *Assembler) { a.IMulRRI(S64, RAX, RBX, 5) }, "imul rax, rbx, 5", "486bc305", false},
	{"imul32 imm32", func(a *Assembler) { a.IMulRRI(S32, R8, R8, 1000) }, "imul r8d, r8d, 1000", "4569c0e8030000", false},
	// Unary
	{"neg64", func(a *Assembler) { a.Unary(NEG, S64, RAX) }, "neg rax", "48f7d8", false},
	{"neg32 r12", func(a *Assembler) { a.Unary(NEG, S32, R12) }, "neg r12d", "41f7dc", false},
	{"not64", func(a *Assembler) { a.Unary(NOT, S64, R15) }, "not r15", "49f7d7", false},
	{"not32", func(a *Assembler) { a.Unary(NOT, S32, RDX) }, "not edx", "f7d2", false},
	{"mul64", func(a *Assembler) { a.Unary(MUL, S64, RCX) }, "mul rcx", "48f7e1", false},
	{"imul1 64", func(a *Assembler) { a.Unary(IMUL1, S64, RCX) }, "imul rcx", "48f7e9", false},
	{"div64", func(a *Assembler) { a.Unary(DIV, S64, R11) }, "div r11", "49f7f3", false},
	{"div32", func(a *Assembler) { a.Unary(DIV, S32, RSI) }, "div esi", "f7f6", false},
	{"idiv64", func(a *Assembler) { a.Unary(IDIV, S64, RBX) }, "idiv rbx", "48f7fb", false},
	{"idiv32", func(a *Assembler) { a.Unary(IDIV, S32, R8) }, "idiv r8d", "41f7f8", false},
	{"cqo", func(a *Assembler) { a.Cqo() }, "cqo", "4899", false},
	{"cdq", func(a *Assembler) { a.Cdq() }, "cdq", "99", false},
	// Shifts
	{"shl64 cl", func(a *Assembler) { a.ShiftCL(SHL, S64, RAX) }, "shl rax, cl", "48d3e0", false},
	{"shr32 cl", func(a *Assembler) { a.ShiftCL(SHR, S32, R9) }, "shr r9d, cl", "41d3e9", false},
	{"sar64 cl", func(a *Assembler) { a.ShiftCL(SAR, S64, RDI) }, "sar rdi, cl", "48d3ff", false},
	{"shl64 imm", func(a *Assembler) { a.ShiftRI(SHL, S64, RAX, 3) }, "shl rax, 3", "48c1e003", false},
	{"shl64 1", func(a *Assembler) { a.ShiftRI(SHL, S64, RAX, 1) }, "shl rax, 1", "48d1e0", false},
	{"shr64 63", func(a *Assembler) { a.ShiftRI(SHR, S64, R14, 63) }, "shr r14, 63", "49c1ee3f", false},
	{"sar32 imm", func(a *Assembler) { a.ShiftRI(SAR, S32, RCX, 31) }, "sar ecx, 31", "c1f91f", false},
	{"rol16 8", func(a *Assembler) { a.ShiftRI(ROL, S16, RBX, 8) }, "rol bx, 8", "66c1c308", false},
	{"rol16 8 r9", func(a *Assembler) { a.ShiftRI(ROL, S16, R9, 8) }, "rol r9w, 8", "6641c1c108", false},
	{"ror64", func(a *Assembler) { a.ShiftRI(ROR, S64, RDX, 13) }, "ror rdx, 13", "48c1ca0d", false},
	// Extensions and byte swaps
	{"movzx 8 32", func(a *Assembler) { a.Movzx(S32, RAX, S8, RBX) }, "movzx eax, bl", "0fb6c3", false},
	{"movzx 8 32 sil", func(a *Assembler) { a.Movzx(S32, RAX, S8, RSI) }, "movzx eax, sil", "400fb6c6", false},
	{"movzx 16 32", func(a *Assembler) { a.Movzx(S32, R8, S16, R8) }, "movzx r8d, r8w", "450fb7c0", false},
	{"movzx 8 64", func(a *Assembler) { a.Movzx(S64, RCX, S8, R15) }, "movzx rcx, r15b", "490fb6cf", false},
	{"movsx 8 64", func(a *Assembler) { a.Movsx(S64, RAX, S8, RDI) }, "movsx rax, dil", "480fbec7", false},
	{"movsx 16 32", func(a *Assembler) { a.Movsx(S32, RAX, S16, RCX) }, "movsx eax, cx", "0fbfc1", false},
	{"movsx 16 64", func(a *Assembler) { a.Movsx(S64, R10, S16, R11) }, "movsx r10, r11w", "4d0fbfd3", false},
	{"movsxd", func(a *Assembler) { a.Movsxd(RAX, RCX) }, "movsxd rax, ecx", "4863c1", false},
	{"movsxd r8 r9", func(a *Assembler) { a.Movsxd(R8, R9) }, "movsxd r8, r9d", "4d63c1", false},
	{"bswap32", func(a *Assembler) { a.Bswap(S32, RAX) }, "bswap eax", "0fc8", false},
	{"bswap64", func(a *Assembler) { a.Bswap(S64, RDX) }, "bswap rdx", "480fca", false},
	{"bswap64 r13", func(a *Assembler) { a.Bswap(S64, R13) }, "bswap r13", "490fcd", false},
	{"bswap32 r8", func(a *Assembler) { a.Bswap(S32, R8) }, "bswap r8d", "410fc8", false},
	{"bswap16", func(a *Assembler) { a.ShiftRI(ROL, S16, RSI, 8); a.Movzx(S32, RSI, S16, RSI) }, "rol si, 8; movzx esi, si", "66c1c6080fb7f6", false},
	// Loads
	{"load64", func(a *Assembler) { a.MovRM(S64, RAX, M(RBX, 8)) }, "mov rax, qword ptr [rbx + 8]", "488b4308", false},
	{"load64 disp0", func(a *Assembler) { a.MovRM(S64, RAX, M(RBX, 0)) }, "mov rax, qword ptr [rbx]", "488b03", false},
	{"load64 disp32", func(a *Assembler) { a.MovRM(S64, RAX, M(RBX, 0x1000)) }, "mov rax, qword ptr [rbx + 4096]", "488b8300100000", false},
	{"load64 neg disp", func(a *Assembler) { a.MovRM(S64, R8, M(R9, -8)) }, "mov r8, qword ptr [r9 - 8]", "4d8b41f8", false},
	{"load64 rsp", func(a *Assembler) { a.MovRM(S64, RAX, M(RSP, 0)) }, "mov rax, qword ptr [rsp]", "488b0424", false},
	{"load64 rsp disp8", func(a *Assembler) { a.MovRM(S64, RAX, M(RSP, 16)) }, "mov rax, qword ptr [rsp + 16]", "488b442410", false},
	{"load64 r12", func(a *Assembler) { a.MovRM(S64, RAX, M(R12, 0)) }, "mov rax, qword ptr [r12]", "498b0424", false},
	{"load64 r12 disp32", func(a *Assembler) { a.MovRM(S64, RAX, M(R12, -4096)) }, "mov rax, qword ptr [r12 - 4096]", "498b842400f0ffff", false},
	{"load64 rbp disp0", func(a *Assembler) { a.MovRM(S64, RAX, M(RBP, 0)) }, "mov rax, qword ptr [rbp]", "488b4500", false},
	{"load64 r13 disp0", func(a *Assembler) { a.MovRM(S64, RCX, M(R13, 0)) }, "mov rcx, qword ptr [r13]", "498b4d00", false},
	{"load32", func(a *Assembler) { a.MovRM(S32, RAX, M(RDI, 4)) }, "mov eax, dword ptr [rdi + 4]", "8b4704", false},
	{"load16", func(a *Assembler) { a.MovRM(S16, RAX, M(RDI, 2)) }, "mov ax, word ptr [rdi + 2]", "668b4702", false},
	{"load8 sil", func(a *Assembler) { a.MovRM(S8, RSI, M(RDI, 1)) }, "mov sil, byte ptr [rdi + 1]", "408a7701", false},
	{"load64 sib", func(a *Assembler) { a.MovRM(S64, RAX, MI(RBX, RCX, 8, 16)) }, "mov rax, qword ptr [rbx + rcx*8 + 16]", "488b44cb10", false},
	{"load64 sib rex.x", func(a *Assembler) { a.MovRM(S64, RAX, MI(RBX, R9, 4, 0)) }, "mov rax, qword ptr [rbx + r9*4]", "4a8b048b", false},
	{"load64 sib r12 index", func(a *Assembler) { a.MovRM(S64, RAX, MI(RBX, R12, 1, 0)) }, "mov rax, qword ptr [rbx + r12*1]", "4a8b0423", false},
	{"load64 sib rbp base", func(a *Assembler) { a.MovRM(S64, R15, MI(RBP, RAX, 2, 0)) }, "mov r15, qword ptr [rbp + rax*2]", "4c8b7c4500", false},
	{"load64 sib r13 base", func(a *Assembler) { a.MovRM(S64, R15, MI(R13, R14, 8, -1)) }, "mov r15, qword ptr [r13 + r14*8 - 1]", "4f8b7cf5ff", false},
	{"load64 sib rsp base", func(a *Assembler) { a.MovRM(S64, RAX, MI(RSP, RBP, 1, 0x7fffffff)) }, "mov rax, qword ptr [rsp + rbp*1 + 2147483647]", "488b842cffffff7f", false},
	{"movzx load8", func(a *Assembler) { a.MovzxRM(S32, RAX, S8, M(RDI, 0)) }, "movzx eax, byte ptr [rdi]", "0fb607", false},
	{"movzx load16", func(a *Assembler) { a.MovzxRM(S32, R11, S16, M(R12, 6)) }, "movzx r11d, word ptr [r12 + 6]", "450fb75c2406", false},
	{"movsx load8", func(a *Assembler) { a.MovsxRM(S64, RAX, S8, M(RSI, -1)) }, "movsx rax, byte ptr [rsi - 1]", "480fbe46ff", false},
	{"movsx load16", func(a *Assembler) { a.MovsxRM(S64, RAX, S16, M(RBP, 0)) }, "movsx rax, word ptr [rbp]", "480fbf4500", false},
	{"movsxd load", func(a *Assembler) { a.MovsxdRM(R8, M(RAX, 12)) }, "movsxd r8, dword ptr [rax + 12]", "4c63400c", false},
	// Stores
	{"store64", func(a *Assembler) { a.MovMR(S64, M(RDI, 8), RAX) }, "mov qword ptr [rdi + 8], rax", "48894708", false},
	{"store32 r12", func(a *Assembler) { a.MovMR(S32, M(R12, 0), R8) }, "mov dword ptr [r12], r8d", "45890424", false},
	{"store16", func(a *Assembler) { a.MovMR(S16, M(RBP, -2), RCX) }, "mov word ptr [rbp - 2], cx", "66894dfe", false},
	{"store8 dil", func(a *Assembler) { a.MovMR(S8, M(RAX, 0), RDI) }, "mov byte ptr [rax], dil", "408838", false},
	{"store8 r9b", func(a *Assembler) { a.MovMR(S8, M(R13, 0), R9) }, "mov byte ptr [r13], r9b", "45884d00", false},
	{"store8 al", func(a *Assembler) { a.MovMR(S8, M(RCX, 0), RAX) }, "mov byte ptr [rcx], al", "8801", false},
	{"store imm8", func(a *Assembler) { a.MovMI(S8, M(RSP, 1), -1) }, "mov byte ptr [rsp + 1], -1", "c6442401ff", false},
	{"store imm16", func(a *Assembler) { a.MovMI(S16, M(RDI, 2), 0x1234) }, "mov word ptr [rdi + 2], 4660", "66c747023412", false},
	{"store imm32", func(a *Assembler) { a.MovMI(S32, M(R10, 0), 7) }, "mov dword ptr [r10], 7", "41c70207000000", false},
	{"store imm64", func(a *Assembler) { a.MovMI(S64, MI(R10, R11, 8, -8), -7) }, "mov qword ptr [r10 + r11*8 - 8], -7", "4bc744daf8f9ffffff", false},
	// LEA
	{"lea64", func(a *Assembler) { a.Lea(S64, RAX, M(RBP, -512)) }, "lea rax, [rbp - 512]", "488d8500feffff", false},
	{"lea64 sib", func(a *Assembler) { a.Lea(S64, R8, MI(RAX, RAX, 2, 0)) }, "lea r8, [rax + rax*2]", "4c8d0440", false},
	{"lea32", func(a *Assembler) { a.Lea(S32, RCX, MI(R12, R13, 4, 1)) }, "lea ecx, [r12 + r13*4 + 1]", "438d4cac01", false},
	// Atomics
	{"lock xadd64", func(a *Assembler) { a.LockXadd(S64, M(RDI, 8), RAX) }, "lock xadd qword ptr [rdi + 8], rax", "f0480fc14708", false},
	{"lock xadd32 r12", func(a *Assembler) { a.LockXadd(S32, M(R12, 0), R9) }, "lock xadd dword ptr [r12], r9d", "f0450fc10c24", false},
	{"lock cmpxchg64", func(a *Assembler) { a.LockCmpxchg(S64, M(RSI, 0), RCX) }, "lock cmpxchg qword ptr [rsi], rcx", "f0480fb10e", false},
	{"lock cmpxchg32", func(a *Assembler) { a.LockCmpxchg(S32, M(R13, 0), R11) }, "lock cmpxchg dword ptr [r13], r11d", "f0450fb15d00", false},
	{"xchg64", func(a *Assembler) { a.Xchg(S64, M(RDI, 0), RAX) }, "xchg qword ptr [rdi], rax", "488707", false},
	{"xchg32", func(a *Assembler) { a.Xchg(S32, M(RSP, 4), R15) }, "xchg dword ptr [rsp + 4], r15d", "44877c2404", false},
	{"lock add64", func(a *Assembler) { a.LockALUMR(ADD, S64, M(RDI, 0), RSI) }, "lock add qword ptr [rdi], rsi", "f0480137", false},
	{"lock or32", func(a *Assembler) { a.LockALUMR(OR, S32, M(RBP, 0), RAX) }, "lock or dword ptr [rbp], eax", "f0094500", false},
	{"lock and64", func(a *Assembler) { a.LockALUMR(AND, S64, MI(RDI, R8, 8, 0), R9) }, "lock and qword ptr [rdi + r8*8], r9", "f04e210cc7", false},
	{"lock xor32", func(a *Assembler) { a.LockALUMR(XOR, S32, M(R12, -4), RDX) }, "lock xor dword ptr [r12 - 4], edx", "f041315424fc", false},
	// SETcc, CMOVcc
	{"sete", func(a *Assembler) { a.Setcc(CondE, RAX) }, "sete al", "0f94c0", false},
	{"setb sil", func(a *Assembler) { a.Setcc(CondB, RSI) }, "setb sil", "400f92c6", false},
	{"setg r10b", func(a *Assembler) { a.Setcc(CondG, R10) }, "setg r10b", "410f9fc2", false},
	{"cmove64", func(a *Assembler) { a.Cmov(CondE, S64, RAX, RCX) }, "cmove rax, rcx", "480f44c1", false},
	{"cmovne32", func(a *Assembler) { a.Cmov(CondNE, S32, R8, RDX) }, "cmovne r8d, edx", "440f45c2", false},
	// Indirect control flow, stack, misc
	{"call rax", func(a *Assembler) { a.CallR(RAX) }, "call rax", "ffd0", false},
	{"call r11", func(a *Assembler) { a.CallR(R11) }, "call r11", "41ffd3", false},
	{"jmp rcx", func(a *Assembler) { a.JmpR(RCX) }, "jmp rcx", "ffe1", false},
	{"jmp r15", func(a *Assembler) { a.JmpR(R15) }, "jmp r15", "41ffe7", false},
	{"ret", func(a *Assembler) { a.Ret() }, "ret", "c3", false},
	{"int3", func(a *Assembler) { a.Int3() }, "int3", "cc", false},
	{"push rbp", func(a *Assembler) { a.Push(RBP) }, "push rbp", "55", false},
	{"push r12", func(a *Assembler) { a.Push(R12) }, "push r12", "4154", false},
	{"pop rbx", func(a *Assembler) { a.Pop(RBX) }, "pop rbx", "5b", false},
	{"pop r15", func(a *Assembler) { a.Pop(R15) }, "pop r15", "415f", false},
	{"nop1", func(a *Assembler) { a.Nop(1) }, ".nops 1", "90", false},
	{"nop2", func(a *Assembler) { a.Nop(2) }, ".nops 2", "6690", false},
	{"nop3", func(a *Assembler) { a.Nop(3) }, ".nops 3", "0f1f00", false},
	{"nop4", func(a *Assembler) { a.Nop(4) }, ".nops 4", "0f1f4000", false},
	{"nop5", func(a *Assembler) { a.Nop(5) }, ".nops 5", "0f1f440000", false},
	{"nop6", func(a *Assembler) { a.Nop(6) }, ".nops 6", "660f1f440000", false},
	{"nop7", func(a *Assembler) { a.Nop(7) }, ".nops 7", "0f1f8000000000", false},
	{"nop8", func(a *Assembler) { a.Nop(8) }, ".nops 8", "0f1f840000000000", false},
	{"nop9", func(a *Assembler) { a.Nop(9) }, ".nops 9", "660f1f840000000000", false},
	{"nop12", func(a *Assembler) { a.Nop(12) }, ".nops 9; .nops 3", "660f1f8400000000000f1f00", false},
	{"align16", func(a *Assembler) { a.Ret(); a.Align(16); a.Ret() }, "ret; .nops 9; .nops 6; ret", "c3660f1f840000000000660f1f440000c3", false},
	{"align already", func(a *Assembler) { a.Align(8); a.Ret() }, "ret", "c3", false},
	// Jumps to labels
	{"jmp back rel8", func(a *Assembler) { l := a.NewLabel(); a.Bind(l); a.Ret(); a.Jmp(l) }, "L0:; ret; jmp L0", "c3ebfd", false},
	{"jne back rel8", func(a *Assembler) { l := a.NewLabel(); a.Bind(l); a.Jcc(CondNE, l) }, "L0:; jne L0", "75fe", false},
	{"jmp back rel32", func(a *Assembler) { l := a.NewLabel(); a.Bind(l); a.Nop(127); a.Jmp(l) }, "L0:; " + nopText(127) + "; jmp L0", "660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f84000000000090e97cffffff", false},
	{"jmp back rel8 limit", func(a *Assembler) { l := a.NewLabel(); a.Bind(l); a.Nop(126); a.Jmp(l) }, "L0:; " + nopText(126) + "; jmp L0", "660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000eb80", false},
	{"jl back rel32", func(a *Assembler) { l := a.NewLabel(); a.Bind(l); a.Nop(200); a.Jcc(CondL, l) }, "L0:; " + nopText(200) + "; jl L0", "660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f840000000000660f1f84000000000066900f8c32ffffff", false},
	{"jmp fwd rel32", func(a *Assembler) { l := a.NewLabel(); a.Jmp(l); a.Int3(); a.Bind(l); a.Ret() }, "jmp L0; int3; L0:; ret", "e901000000ccc3", true},
	{"je fwd rel32", func(a *Assembler) { l := a.NewLabel(); a.Jcc(CondE, l); a.Bind(l) }, "je L0; L0:", "0f8400000000", true},
	{"call fwd", func(a *Assembler) { l := a.NewLabel(); a.Call(l); a.Ret(); a.Bind(l); a.Ret() }, "call L0; ret; L0:; ret", "e801000000c3c3", true},
	{"call back", func(a *Assembler) { l := a.NewLabel(); a.Bind(l); a.Ret(); a.Call(l) }, "L0:; ret; call L0", "c3e8faffffff", false},
	{"lea label back", func(a *Assembler) { l := a.NewLabel(); a.Bind(l); a.Ret(); a.LeaLabel(RAX, l) }, "L0:; ret; lea rax, [rip + L0]", "c3488d05f8ffffff", false},
	{"lea label fwd r13", func(a *Assembler) { l := a.NewLabel(); a.LeaLabel(R13, l); a.Ret(); a.Bind(l); a.Int3() }, "lea r13, [rip + L0]; ret; L0:; int3", "4c8d2d01000000c3cc", false},
	{"loop", func(a *Assembler) {
		head, done := a.NewLabel(), a.NewLabel()
		a.MovRI(S32, RCX, 10)
		a.Align(16)
		a.Bind(head)
		a.ALURI(SUB, S32, RCX, 1)
		a.Jcc(CondE, done)
		a.Jmp(head)
		a.Bind(done)
		a.Ret()
	}, "mov ecx, 10; .nops 9; .nops 2; L0:; sub ecx, 1; je L1; jmp L0; L1:; ret", "b90a000000660f1f840000000000669083e9010f8402000000ebf5c3", true},
}

// allConds covers the 16 condition codes with forward and backward jumps,
// SETcc and CMOVcc.
func init() {
	for c := CondO; c <= CondG; c++ {
		c := c
		cases = append(cases,
			testCase{"jcc back " + c.String(), func(a *Assembler) { l := a.NewLabel(); a.Bind(l); a.Jcc(c, l) }, "L0:; j" + c.String() + " L0", fmt.Sprintf("%02xfe", 0x70+int(c)), false},
			testCase{"jcc fwd " + c.String(), func(a *Assembler) { l := a.NewLabel(); a.Jcc(c, l); a.Bind(l) }, "j" + c.String() + " L0; L0:", fmt.Sprintf("0f%02x00000000", 0x80+int(c)), true},
			testCase{"setcc " + c.String(), func(a *Assembler) { a.Setcc(c, RDI) }, "set" + c.String() + " dil", fmt.Sprintf("400f%02xc7", 0x90+int(c)), false},
			testCase{"cmovcc " + c.String(), func(a *Assembler) { a.Cmov(c, S64, R9, RSP) }, "cmov" + c.String() + " r9, rsp", fmt.Sprintf("4c0f%02xcc", 0x40+int(c)), false},
		)
	}
}

func nopText(n int) string {
	s := ""
	for ; n > 0; n -= MaxNop {
		if s != "" {
			s += "; "
		}
		s += ".nops " + strconv.Itoa(min(n, MaxNop))
	}
	return s
}
