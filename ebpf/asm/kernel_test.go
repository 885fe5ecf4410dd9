package asm_test

import (
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// kernelEncodings pins the kernel syntax to the conformance syntax and to
// the bytes. Each row is one instruction (assembled with a trailing exit,
// which the hex leaves out); the middle column is the same instruction in
// Assemble's syntax, so the two assemblers check each other. Together the
// rows cover every instruction shape of PREVAIL's test cases
// (shared/verifier/prevail) and every spelling AssembleKernel documents.
var kernelEncodings = []struct {
	kernel, conformance, hex string
}{
	{"r0 = 0", "mov %r0, 0", "b7 00 00 00 00 00 00 00"},
	{"w1 = 0", "mov32 %r1, 0", "b4 01 00 00 00 00 00 00"},
	{"r1 = -1", "mov %r1, -1", "b7 01 00 00 ff ff ff ff"},
	{"r1 = 0xffffffff", "mov %r1, -1", "b7 01 00 00 ff ff ff ff"},
	{"w0 = 4194435072", "mov32 %r0, 0xfa020000", "b4 00 00 00 00 00 02 fa"},
	{"r0 = 4194435072", "mov %r0, 0xfa020000", "b7 00 00 00 00 00 02 fa"},
	{"r1 = 0x10", "mov %r1, 16", "b7 01 00 00 10 00 00 00"},
	{"r2 = r1", "mov %r2, %r1", "bf 12 00 00 00 00 00 00"},
	{"w1 = w2", "mov32 %r1, %r2", "bc 21 00 00 00 00 00 00"},
	{"w1 = r1", "mov32 %r1, %r1", "bc 11 00 00 00 00 00 00"},
	{"r5=r5", "mov %r5, %r5", "bf 55 00 00 00 00 00 00"},
	{"r1 += 2", "add %r1, 2", "07 01 00 00 02 00 00 00"},
	{"r1 += -4", "add %r1, -4", "07 01 00 00 fc ff ff ff"},
	{"w1 += w2", "add32 %r1, %r2", "0c 21 00 00 00 00 00 00"},
	{"r1 += r2", "add %r1, %r2", "0f 21 00 00 00 00 00 00"},
	{"r0 -= 2", "sub %r0, 2", "17 00 00 00 02 00 00 00"},
	{"w1 -= 0", "sub32 %r1, 0", "14 01 00 00 00 00 00 00"},
	{"r2 -= r1", "sub %r2, %r1", "1f 12 00 00 00 00 00 00"},
	{"w1 *= 1", "mul32 %r1, 1", "24 01 00 00 01 00 00 00"},
	{"r0 *= r3", "mul %r0, %r3", "2f 30 00 00 00 00 00 00"},
	{"w0 /= 4096655360", "div32 %r0, 0xf42e0000", "34 00 00 00 00 00 2e f4"},
	{"r1 /= r2", "div %r1, %r2", "3f 21 00 00 00 00 00 00"},
	{"r1 %= -3", "mod %r1, -3", "97 01 00 00 fd ff ff ff"},
	{"r1 %= r2", "mod %r1, %r2", "9f 21 00 00 00 00 00 00"},
	{"r1 s/= r2", "sdiv %r1, %r2", "3f 21 01 00 00 00 00 00"},
	{"w1 s/= 1", "sdiv32 %r1, 1", "34 01 01 00 01 00 00 00"},
	{"r1 s%= r2", "smod %r1, %r2", "9f 21 01 00 00 00 00 00"},
	{"w1 s%= 0", "smod32 %r1, 0", "94 01 01 00 00 00 00 00"},
	{"r1 &= 5", "and %r1, 5", "57 01 00 00 05 00 00 00"},
	{"r0 &= r3", "and %r0, %r3", "5f 30 00 00 00 00 00 00"},
	{"r1 |= 1", "or %r1, 1", "47 01 00 00 01 00 00 00"},
	{"r0 |= r3", "or %r0, %r3", "4f 30 00 00 00 00 00 00"},
	{"r1 ^= 3", "xor %r1, 3", "a7 01 00 00 03 00 00 00"},
	{"w1 ^= w3", "xor32 %r1, %r3", "ac 31 00 00 00 00 00 00"},
	{"r1 <<= 32", "lsh %r1, 32", "67 01 00 00 20 00 00 00"},
	{"r1 <<= r2", "lsh %r1, %r2", "6f 21 00 00 00 00 00 00"},
	{"w1 >>= 0", "rsh32 %r1, 0", "74 01 00 00 00 00 00 00"},
	{"r1 >>= r2", "rsh %r1, %r2", "7f 21 00 00 00 00 00 00"},
	{"r1 s>>= 16", "arsh %r1, 16", "c7 01 00 00 10 00 00 00"},
	{"w1 s>>= w2", "arsh32 %r1, %r2", "cc 21 00 00 00 00 00 00"},
	{"r1 = -r1", "neg %r1", "87 01 00 00 00 00 00 00"},
	{"w1 = - w1", "neg32 %r1", "84 01 00 00 00 00 00 00"},
	{"r2 = (s8)r1", "movsx864 %r2, %r1", "bf 12 08 00 00 00 00 00"},
	{"r2 = (s16)r1", "movsx1664 %r2, %r1", "bf 12 10 00 00 00 00 00"},
	{"r2 = (s32)r1", "movsx3264 %r2, %r1", "bf 12 20 00 00 00 00 00"},
	{"w2 = (s8)w1", "movsx832 %r2, %r1", "bc 12 08 00 00 00 00 00"},
	{"w2 = (s16)w1", "movsx1632 %r2, %r1", "bc 12 10 00 00 00 00 00"},
	{"r2 s32= r1", "movsx3264 %r2, %r1", "bf 12 20 00 00 00 00 00"},
	{"w2 s8= r1", "movsx832 %r2, %r1", "bc 12 08 00 00 00 00 00"},
	{"w2 s16= r1", "movsx1632 %r2, %r1", "bc 12 10 00 00 00 00 00"},
	{"r1 = be16 r1", "be16 %r1", "dc 01 00 00 10 00 00 00"},
	{"r1 = be32 r1", "be32 %r1", "dc 01 00 00 20 00 00 00"},
	{"r1 = be64 r1", "be64 %r1", "dc 01 00 00 40 00 00 00"},
	{"r1 = le16 r1", "le16 %r1", "d4 01 00 00 10 00 00 00"},
	{"r1 = le32 r1", "le32 %r1", "d4 01 00 00 20 00 00 00"},
	{"r1 = le64 r1", "le64 %r1", "d4 01 00 00 40 00 00 00"},
	{"r1 = bswap16 r1", "bswap16 %r1", "d7 01 00 00 10 00 00 00"},
	{"r1 = bswap32 r1", "bswap32 %r1", "d7 01 00 00 20 00 00 00"},
	{"r1 = bswap64 r1", "bswap64 %r1", "d7 01 00 00 40 00 00 00"},
	{"r1 = swap16 r1", "bswap16 %r1", "d7 01 00 00 10 00 00 00"},
	{"r1 = swap32 r1", "bswap32 %r1", "d7 01 00 00 20 00 00 00"},
	{"r1 = swap64 r1", "bswap64 %r1", "d7 01 00 00 40 00 00 00"},
	{"r1 = *(u8 *)(r0 + 25)", "ldxb %r1, [%r0+25]", "71 01 19 00 00 00 00 00"},
	{"r2 = *(u16 *)(r1 + 4)", "ldxh %r2, [%r1+4]", "69 12 04 00 00 00 00 00"},
	{"r2 = *(u32 *)(r1 + 4)", "ldxw %r2, [%r1+4]", "61 12 04 00 00 00 00 00"},
	{"w2 = *(u32 *)(r1 + 4)", "ldxw %r2, [%r1+4]", "61 12 04 00 00 00 00 00"},
	{"r3 = *(u64 *)(r10 - 8)", "ldxdw %r3, [%r10-8]", "79 a3 f8 ff 00 00 00 00"},
	{"r1 = *(u64 *)(r2 - 0)", "ldxdw %r1, [%r2+0]", "79 21 00 00 00 00 00 00"},
	{"r2 = *(s8 *)(r1 + 8)", "ldxsb %r2, [%r1+8]", "91 12 08 00 00 00 00 00"},
	{"r2 = *(s16 *)(r1 + 8)", "ldxsh %r2, [%r1+8]", "89 12 08 00 00 00 00 00"},
	{"r2 = *(s32 *)(r1 + 8)", "ldxsw %r2, [%r1+8]", "81 12 08 00 00 00 00 00"},
	{"r0 = *(u8 *)(r2 + 100);", "ldxb %r0, [%r2+100]", "71 20 64 00 00 00 00 00"},
	{"*(u8 *)(r10 - 1) = 2", "stb [%r10-1], 2", "72 0a ff ff 02 00 00 00"},
	{"*(u16 *)(r10 - 2) = -1", "sth [%r10-2], -1", "6a 0a fe ff ff ff ff ff"},
	{"*(u32 *)(r10 - 8) = 0", "stw [%r10-8], 0", "62 0a f8 ff 00 00 00 00"},
	{"*(u64 *)(r10 - 8) = 0", "stdw [%r10-8], 0", "7a 0a f8 ff 00 00 00 00"},
	{"*(u8 *)(r1 + 8) = r0", "stxb [%r1+8], %r0", "73 01 08 00 00 00 00 00"},
	{"*(u16 *)(r10 - 458) = r1", "stxh [%r10-458], %r1", "6b 1a 36 fe 00 00 00 00"},
	{"*(u32 *)(r1 + 0) = r2", "stxw [%r1+0], %r2", "63 21 00 00 00 00 00 00"},
	{"*(u32 *)(r1 + 0) = w2", "stxw [%r1+0], %r2", "63 21 00 00 00 00 00 00"},
	{"*(u64 *)(r10 - 8) = r1", "stxdw [%r10-8], %r1", "7b 1a f8 ff 00 00 00 00"},
	{"lock *(u64 *)(r2 + 4) += r1", "lock add [%r2+4], %r1", "db 12 04 00 00 00 00 00"},
	{"lock *(u32 *)(r2 + 4) += r1", "lock add32 [%r2+4], %r1", "c3 12 04 00 00 00 00 00"},
	{"lock *(u64 *)(r2 + 4) |= r1", "lock or [%r2+4], %r1", "db 12 04 00 40 00 00 00"},
	{"lock *(u32 *)(r2 + 4) &= r1", "lock and32 [%r2+4], %r1", "c3 12 04 00 50 00 00 00"},
	{"lock *(u64 *)(r2 + 4) ^= r1", "lock xor [%r2+4], %r1", "db 12 04 00 a0 00 00 00"},
	{"lock *(u64 *)(r2 + 4) += r1 fetch", "lock fetch add [%r2+4], %r1", "db 12 04 00 01 00 00 00"},
	{"lock *(u32 *)(r2 + 4) |= r1 fetch", "lock fetch or32 [%r2+4], %r1", "c3 12 04 00 41 00 00 00"},
	{"lock *(u64 *)(r2 + 4) &= r1 fetch", "lock fetch and [%r2+4], %r1", "db 12 04 00 51 00 00 00"},
	{"lock *(u32 *)(r2 + 4) ^= r1 fetch", "lock fetch xor32 [%r2+4], %r1", "c3 12 04 00 a1 00 00 00"},
	{"lock *(u64 *)(r2 + 4) x= r1", "lock xchg [%r2+4], %r1", "db 12 04 00 e1 00 00 00"},
	{"lock *(u32 *)(r2 + 4) x= r1", "lock xchg32 [%r2+4], %r1", "c3 12 04 00 e1 00 00 00"},
	{"lock *(u64 *)(r2 + 4) cx= r1", "lock cmpxchg [%r2+4], %r1", "db 12 04 00 f1 00 00 00"},
	{"lock *(u32 *)(r2 + 4) cx= r1", "lock cmpxchg32 [%r2+4], %r1", "c3 12 04 00 f1 00 00 00"},
	{"r1 = atomic_fetch_add((u64 *)(r2 + 4), r1)", "lock fetch add [%r2+4], %r1", "db 12 04 00 01 00 00 00"},
	{"w1 = atomic_fetch_and((u32 *)(r2 + 4), w1)", "lock fetch and32 [%r2+4], %r1", "c3 12 04 00 51 00 00 00"},
	{"r1 = atomic_fetch_or((u64 *)(r2 - 8), r1)", "lock fetch or [%r2-8], %r1", "db 12 f8 ff 41 00 00 00"},
	{"w1 = atomic_fetch_xor((u32 *)(r2 + 0), w1)", "lock fetch xor32 [%r2+0], %r1", "c3 12 00 00 a1 00 00 00"},
	{"r1 = xchg_64(r2 + 4, r1)", "lock xchg [%r2+4], %r1", "db 12 04 00 e1 00 00 00"},
	{"w1 = xchg32_32(r2 + 4, w1)", "lock xchg32 [%r2+4], %r1", "c3 12 04 00 e1 00 00 00"},
	{"r0 = cmpxchg_64(r2 + 4, r0, r1)", "lock cmpxchg [%r2+4], %r1", "db 12 04 00 f1 00 00 00"},
	{"w0 = cmpxchg32_32(r2 + 4, w0, w1)", "lock cmpxchg32 [%r2+4], %r1", "c3 12 04 00 f1 00 00 00"},
	{"r1 = 0x1122334455667788 ll", "lddw %r1, 0x1122334455667788", "18 01 00 00 88 77 66 55  00 00 00 00 44 33 22 11"},
	{"r1 = 18446744073709551615ll", "lddw %r1, -1", "18 01 00 00 ff ff ff ff  00 00 00 00 ff ff ff ff"},
	{"r1 = -9223372036854775807ll", "lddw %r1, -9223372036854775807", "18 01 00 00 01 00 00 00  00 00 00 00 00 00 00 80"},
	{"r1 = 9223372036854775809ll", "lddw %r1, 0x8000000000000001", "18 01 00 00 01 00 00 00  00 00 00 00 00 00 00 80"},
	{"r1 = 0xffffffffffffffffll", "lddw %r1, -1", "18 01 00 00 ff ff ff ff  00 00 00 00 ff ff ff ff"},
	{"r1 = map_fd 1", "lddw %r1, map 1", "18 11 00 00 01 00 00 00  00 00 00 00 00 00 00 00"},
	{"r2 = map_val(1) + 8", "lddw %r2, mapvalue 1+8", "18 22 00 00 01 00 00 00  00 00 00 00 08 00 00 00"},
	{"r1 = btf_id(7)", "lddw %r1, btf 7", "18 31 00 00 07 00 00 00  00 00 00 00 00 00 00 00"},
	{"r1 = func(4)", "lddw %r1, func 4", "18 41 00 00 04 00 00 00  00 00 00 00 00 00 00 00"},
	{"r1 = map_by_idx(0)", "lddw %r1, mapidx 0", "18 51 00 00 00 00 00 00  00 00 00 00 00 00 00 00"},
	{"r2 = mva(map_by_idx(0)) + 0", "lddw %r2, mapidxvalue 0+0", "18 62 00 00 00 00 00 00  00 00 00 00 00 00 00 00"},
	{"r1 = map_fd 3 + 1", "lddw %r1, map 3+1", "18 11 00 00 03 00 00 00  00 00 00 00 01 00 00 00"},
	{"r0 = *(u8 *)skb[23]", "ldabsb 23", "30 00 00 00 17 00 00 00"},
	{"r0 = *(u16 *)skb[23]", "ldabsh 23", "28 00 00 00 17 00 00 00"},
	{"r0 = *(u32 *)skb[23]", "ldabsw 23", "20 00 00 00 17 00 00 00"},
	{"r0 = *(u8 *)skb[r7]", "ldindb %r7, 0", "50 70 00 00 00 00 00 00"},
	{"r0 = *(u16 *)skb[r7]", "ldindh %r7, 0", "48 70 00 00 00 00 00 00"},
	{"r0 = *(u32 *)skb[r7 + 4]", "ldindw %r7, 4", "40 70 00 00 04 00 00 00"},
	{"r0 = *(u32 *)skb[r7 - 4]", "ldindw %r7, -4", "40 70 00 00 fc ff ff ff"},
	{"goto +0", "ja +0", "05 00 00 00 00 00 00 00"},
	{"gotol +0", "ja32 +0", "06 00 00 00 00 00 00 00"},
	{"if r0 == 0 goto +0", "jeq %r0, 0, +0", "15 00 00 00 00 00 00 00"},
	{"if r0 != 9 goto +0", "jne %r0, 9, +0", "55 00 00 00 09 00 00 00"},
	{"if r0 > 0 goto +0", "jgt %r0, 0, +0", "25 00 00 00 00 00 00 00"},
	{"if r1 > r2 goto +0", "jgt %r1, %r2, +0", "2d 21 00 00 00 00 00 00"},
	{"if r0 >= 4 goto +0", "jge %r0, 4, +0", "35 00 00 00 04 00 00 00"},
	{"if r0 < 1 goto +0", "jlt %r0, 1, +0", "a5 00 00 00 01 00 00 00"},
	{"if w1 < 4 goto +0", "jlt32 %r1, 4, +0", "a6 01 00 00 04 00 00 00"},
	{"if r0 <= 3 goto +0", "jle %r0, 3, +0", "b5 00 00 00 03 00 00 00"},
	{"if r1 s> 0 goto +0", "jsgt %r1, 0, +0", "65 01 00 00 00 00 00 00"},
	{"if w1 s> 0 goto +0", "jsgt32 %r1, 0, +0", "66 01 00 00 00 00 00 00"},
	{"if r0 s>= 4 goto +0", "jsge %r0, 4, +0", "75 00 00 00 04 00 00 00"},
	{"if r1 s< 0xffffffff goto +0", "jslt %r1, -1, +0", "c5 01 00 00 ff ff ff ff"},
	{"if w0 s< w1 goto +0", "jslt32 %r0, %r1, +0", "ce 10 00 00 00 00 00 00"},
	{"if r0 s<= 3 goto +0", "jsle %r0, 3, +0", "d5 00 00 00 03 00 00 00"},
	{"if r1 &== 0 goto +0", "jset %r1, 0, +0", "45 01 00 00 00 00 00 00"},
	{"if r1 & 0x10 goto +0", "jset %r1, 16, +0", "45 01 00 00 10 00 00 00"},
	{"if w1 & w2 goto +0", "jset32 %r1, %r2, +0", "4e 21 00 00 00 00 00 00"},
	{"if r1 == r2 goto +0", "jeq %r1, %r2, +0", "1d 21 00 00 00 00 00 00"},
	{"call 1; bpf_map_lookup_elem", "call 1", "85 00 00 00 01 00 00 00"},
	{"call 130", "call 130", "85 00 00 00 82 00 00 00"},
	{"callx r8; bpf_get_stack", "call %r8", "8d 08 00 00 00 00 00 00"},
	{"call kfunc 7", "call runtime 7", "85 20 00 00 07 00 00 00"},
	{"call pc+0", "call local +0", "85 10 00 00 00 00 00 00"},
	{"exit", "exit", "95 00 00 00 00 00 00 00"},
	{"exit;", "exit", "95 00 00 00 00 00 00 00"},
}

func TestKernelEncoding(t *testing.T) {
	for _, tt := range kernelEncodings {
		t.Run(tt.kernel, func(t *testing.T) {
			got, err := asm.AssembleKernel(tt.kernel + "\nexit")
			if err != nil {
				t.Fatalf("AssembleKernel: %v", err)
			}
			want, err := asm.Assemble(tt.conformance + "\nexit")
			if err != nil {
				t.Fatalf("Assemble(%q): %v", tt.conformance, err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("AssembleKernel(%q) =\n%s\nAssemble(%q) =\n%s", tt.kernel, got, tt.conformance, want)
			}
			b := got[:len(got)-1].Encode()
			if wantHex := unhex(t, tt.hex); string(b) != string(wantHex) {
				t.Errorf("encoding\n got % x\nwant % x", b, wantHex)
			}
		})
	}
}

// TestKernelString checks that the canonical text of every row assembles
// back to the same instruction, and pins the canonical text of a few.
func TestKernelString(t *testing.T) {
	for _, tt := range kernelEncodings {
		insns, err := asm.AssembleKernel(tt.kernel + "\nexit")
		if err != nil {
			t.Fatalf("AssembleKernel(%q): %v", tt.kernel, err)
		}
		text := insns[0].KernelString()
		again, err := asm.AssembleKernel(text + "\nexit")
		if err != nil || !slices.Equal(again, insns) {
			t.Errorf("%q prints as %q, which assembles to %v (%v)", tt.kernel, text, again, err)
		}
	}
	canonical := map[string]string{
		"w1 = r1":                           "w1 = w1",
		"r5=r5":                             "r5 = r5",
		"r1 = 0xffffffff":                   "r1 = -1",
		"w0 /= 4096655360":                  "w0 /= 0xf42e0000",
		"w1 = - w1":                         "w1 = -w1",
		"r2 s32= r1":                        "r2 = (s32)r1",
		"w2 s8= r1":                         "w2 = (s8)w1",
		"r1 = swap16 r1":                    "r1 = bswap16 r1",
		"r1 = *(u64 *)(r2 - 0)":             "r1 = *(u64 *)(r2 + 0)",
		"*(u16 *)(r10 - 458) = r1":          "*(u16 *)(r10 - 458) = r1",
		"r1 &= 5":                           "r1 &= 0x5",
		"lock *(u32 *)(r2 + 4) += r1":       "lock *(u32 *)(r2 + 4) += w1",
		"lock *(u64 *)(r2 + 4) += r1 fetch": "r1 = atomic_fetch_add((u64 *)(r2 + 4), r1)",
		"lock *(u32 *)(r2 + 4) x= r1":       "w1 = xchg32_32(r2 + 4, w1)",
		"lock *(u64 *)(r2 + 4) cx= r1":      "r0 = cmpxchg_64(r2 + 4, r0, r1)",
		"r1 = 18446744073709551615ll":       "r1 = -1 ll",
		"r1 = 0x1122334455667788 ll":        "r1 = 0x1122334455667788 ll",
		"r2 = mva(map_by_idx(0)) + 0":       "r2 = mva(map_by_idx(0)) + 0",
		"r1 = map_fd 3 + 1":                 "r1 = map_fd 3 + 1",
		"r0 = *(u32 *)skb[r7 - 4]":          "r0 = *(u32 *)skb[r7 - 4]",
		"if r1 &== 0 goto +0":               "if r1 & 0x0 goto +0",
		"if r1 s< 0xffffffff goto +0":       "if r1 s< -1 goto +0",
		"callx r8; bpf_get_stack":           "callx r8",
		"call pc+0":                         "call pc+0",
		"gotol +0":                          "gotol +0",
	}
	for src, want := range canonical {
		insns, err := asm.AssembleKernel(src + "\nexit")
		if err != nil {
			t.Fatalf("AssembleKernel(%q): %v", src, err)
		}
		if got := insns[0].KernelString(); got != want {
			t.Errorf("%q prints as %q, want %q", src, got, want)
		}
	}
}

// TestKernelLabels checks label definitions, forward and backward label
// jumps, local calls by label and that jumps count slots across a lddw.
func TestKernelLabels(t *testing.T) {
	src := `
<start>:
	r0 = 0
loop:                     ; a bare name works too
	if r0 >= 4 goto <out>
	r1 = 0x100000000 ll
	r0 += 1
	goto <loop>
<out>:
	call <sub>
	exit
<sub>:
	r0 = 1
	exit
`
	got, err := asm.AssembleKernel(src)
	if err != nil {
		t.Fatal(err)
	}
	want, err := asm.Assemble(`
	mov %r0, 0
	jge %r0, 4, +4
	lddw %r1, 0x100000000
	add %r0, 1
	ja -5
	call local +1
	exit
	mov %r0, 1
	exit`)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if text := asm.DisassembleKernel(got); !strings.Contains(text, "if r0 >= 4 goto +4\n") || !strings.Contains(text, "goto -5\n") {
		t.Errorf("DisassembleKernel:\n%s", text)
	}
}

// TestKernelRoundTrip runs every program of the conformance-syntax encoder
// table through DisassembleKernel and AssembleKernel.
func TestKernelRoundTrip(t *testing.T) {
	for _, e := range encodings {
		insns, err := asm.Assemble(e.text)
		if err != nil {
			t.Fatalf("Assemble(%q): %v", e.text, err)
		}
		text := asm.DisassembleKernel(insns)
		again, err := asm.AssembleKernel(text)
		if err != nil {
			t.Errorf("AssembleKernel(DisassembleKernel(%q)): %v\n%s", e.text, err, text)
			continue
		}
		if !slices.Equal(again, insns) {
			t.Errorf("round trip of %q changed the program:\n%s\n%s", e.text, insns, again)
		}
	}
}

// TestKernelErrors runs testdata/kernel_errors.txt: "assemble", the source
// lines, "----", the whole expected error.
func TestKernelErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/kernel_errors.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	n := 0
	for i := 0; i < len(lines); i++ {
		switch line := lines[i]; {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case line != "assemble":
			t.Fatalf("kernel_errors.txt:%d: want \"assemble\", got %q", i+1, line)
		}
		at := i + 1
		var src []string
		for i++; i < len(lines) && lines[i] != "----"; i++ {
			src = append(src, lines[i])
		}
		if i+1 >= len(lines) {
			t.Fatalf("kernel_errors.txt:%d: case has no \"----\" and expected error", at)
		}
		i++
		n++
		want := lines[i]
		insns, err := asm.AssembleKernel(strings.Join(src, "\n"))
		if err == nil {
			t.Errorf("kernel_errors.txt:%d: AssembleKernel succeeded:\n%s", at, insns)
			continue
		}
		if err.Error() != want {
			t.Errorf("kernel_errors.txt:%d:\n got %s\nwant %s", at, err, want)
		}
		var ae *asm.AssembleError
		if !errors.As(err, &ae) || ae.Line < 1 || ae.Line > len(src) {
			t.Errorf("kernel_errors.txt:%d: %v is not an *AssembleError naming a line of the source", at, err)
		}
	}
	if n < 40 {
		t.Errorf("kernel_errors.txt has %d cases; want at least 40", n)
	}
}

// FuzzAssembleKernel feeds AssembleKernel random text. It must never panic;
// a program it accepts must encode to bytecode that Decode accepts and
// turns back into the same program, and its canonical text must assemble to
// the same program.
func FuzzAssembleKernel(f *testing.F) {
	for _, e := range kernelEncodings {
		f.Add(e.kernel + "\nexit")
	}
	f.Add("<start>:\nr0 = 0\n<loop>:\nif r0 >= 4 goto <out>\nr0 += 1\ngoto <loop>\n<out>:\nexit")
	f.Add("call <f>\nexit\n<f>:\nw0 = cmpxchg32_32(r1 - 0x8, w0, w2)\nexit")
	f.Fuzz(func(t *testing.T, src string) {
		insns, err := asm.AssembleKernel(src)
		if err != nil {
			var ae *asm.AssembleError
			if !errors.As(err, &ae) {
				t.Fatalf("AssembleKernel(%q): error %v is not an *AssembleError", src, err)
			}
			return
		}
		decoded, err := asm.Decode(insns.Encode())
		if err != nil {
			t.Fatalf("Decode(Encode(AssembleKernel(%q))): %v", src, err)
		}
		if !slices.Equal(decoded, insns) {
			t.Fatalf("decoding changed the program:\n%s\n%s", insns, decoded)
		}
		text := asm.DisassembleKernel(insns)
		again, err := asm.AssembleKernel(text)
		if err != nil {
			t.Fatalf("AssembleKernel(DisassembleKernel(AssembleKernel(%q))): %v\n%s", src, err, text)
		}
		if !slices.Equal(again, insns) {
			t.Fatalf("round trip changed the program:\n%s\n%s", insns, again)
		}
	})
}

// FuzzDecodeKernel feeds Decode random bytes; every program it accepts must
// survive DisassembleKernel and AssembleKernel unchanged, so that every
// valid instruction has a kernel-syntax spelling.
func FuzzDecodeKernel(f *testing.F) {
	for _, e := range encodings {
		f.Add(hexBytes(f, e.hex))
	}
	for _, e := range kernelEncodings {
		f.Add(hexBytes(f, e.hex+" 95 00 00 00 00 00 00 00"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		insns, err := asm.Decode(b)
		if err != nil {
			return
		}
		text := asm.DisassembleKernel(insns)
		again, err := asm.AssembleKernel(text)
		if err != nil {
			t.Fatalf("AssembleKernel(DisassembleKernel(Decode(%x))): %v\n%s", b, err, text)
		}
		if !slices.Equal(again, insns) {
			t.Fatalf("round trip changed the program:\n%s\n%s", insns, again)
		}
	})
}

// hexBytes decodes space-separated hex.
func hexBytes(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		tb.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}
