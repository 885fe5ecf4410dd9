package interp

// op is the interpreter's own dense operation code. Decoding maps each
// RFC 9669 instruction to exactly one op, so that the dispatch loop is a
// single jump table and never re-examines opcode bits, offsets or
// immediates at run time.
//
// Suffix K: the second operand is the immediate; X: the source register.
// Effects, with d = regs[dst], s = regs[src] (or the immediate for K),
// w32(x) = uint64(uint32(x)):
//
//	op            effect
//	add64..       d = d OP s                  (wrapping; shifts mask s & 63)
//	add32..       d = w32(uint32(d) OP uint32(s)) (shifts mask s & 31)
//	div, mod      unsigned; divisor 0: div gives 0, mod leaves d (mod32: w32(d))
//	sdiv, smod    signed, truncating; divisor 0 as above; MIN/-1 = MIN, MIN%-1 = 0
//	neg           d = -d  (neg32: w32(-int32(d)))
//	mov, movsxN   d = s, sign-extended from N bits (movsx32: then w32)
//	le16/32/64    d = low N bits of d (host is little-endian)
//	be16/32/64    d = byte-swapped low N bits of d, zero-extended
//	bswap16/32/64 same as be on every host
//	ldxN          d = zero-extended N-bit load from s+off
//	ldxsN         d = sign-extended N-bit load from s+off
//	stN           N-bit store of imm to d+off
//	stxN          N-bit store of s to d+off
//	atomic*       read-modify-write of d+off with s; fetch forms put the old value in s;
//	              cmpxchg compares r0, stores s if equal, always puts the old value in r0
//	...U          the same load, store or atomic without the region check: the
//	              address is used as a host address (see Unchecked)
//	lddw          d = imm (map handles and map value addresses resolved at decode)
//	ja            pc = target
//	jCOND         if d COND s { pc = target }   (jump32 conditions use the low 32 bits)
//	call          r0 = helper(r1..r5); r1-r5 clobbered
//	callx         like call, with the helper id in d
//	calll         bpf-to-bpf call: push frame (r6-r9, r10, return pc), r10 -= 512
//	exit          pop frame, or return r0 from the entry frame
//
// Taken backward jumps charge (span) units of the instruction budget and
// local calls charge the callee's length; see RATIONALE.md.
type op uint8

const (
	opInvalid op = iota

	// ALU64, immediate operand.
	opAdd64K
	opSub64K
	opMul64K
	opDiv64K
	opSDiv64K
	opOr64K
	opAnd64K
	opLsh64K
	opRsh64K
	opNeg64
	opMod64K
	opSMod64K
	opXor64K
	opMov64K
	opArsh64K
	// ALU64, register operand.
	opAdd64X
	opSub64X
	opMul64X
	opDiv64X
	opSDiv64X
	opOr64X
	opAnd64X
	opLsh64X
	opRsh64X
	opMod64X
	opSMod64X
	opXor64X
	opMov64X
	opMovSX8To64
	opMovSX16To64
	opMovSX32To64
	opArsh64X
	// ALU32, immediate operand.
	opAdd32K
	opSub32K
	opMul32K
	opDiv32K
	opSDiv32K
	opOr32K
	opAnd32K
	opLsh32K
	opRsh32K
	opNeg32
	opMod32K
	opSMod32K
	opXor32K
	opMov32K
	opArsh32K
	// ALU32, register operand.
	opAdd32X
	opSub32X
	opMul32X
	opDiv32X
	opSDiv32X
	opOr32X
	opAnd32X
	opLsh32X
	opRsh32X
	opMod32X
	opSMod32X
	opXor32X
	opMov32X
	opMovSX8To32
	opMovSX16To32
	opArsh32X
	// Byte order.
	opLE16
	opLE32
	opLE64
	opBE16
	opBE32
	opBE64

	// Loads and stores.
	opLdxB
	opLdxH
	opLdxW
	opLdxDW
	opLdxSB
	opLdxSH
	opLdxSW
	opStB
	opStH
	opStW
	opStDW
	opStxB
	opStxH
	opStxW
	opStxDW
	opAtomic32
	opAtomic64
	opLddw

	// Loads, stores and atomics the loader proved in bounds, in the order
	// of their checked forms (see Program.Unchecked).
	opLdxBU
	opLdxHU
	opLdxWU
	opLdxDWU
	opLdxSBU
	opLdxSHU
	opLdxSWU
	opStBU
	opStHU
	opStWU
	opStDWU
	opStxBU
	opStxHU
	opStxWU
	opStxDWU
	opAtomic32U
	opAtomic64U

	// Jumps. Targets are absolute slot indices in off.
	opJa
	opJEq64K
	opJGT64K
	opJGE64K
	opJSet64K
	opJNE64K
	opJSGT64K
	opJSGE64K
	opJLT64K
	opJLE64K
	opJSLT64K
	opJSLE64K
	opJEq64X
	opJGT64X
	opJGE64X
	opJSet64X
	opJNE64X
	opJSGT64X
	opJSGE64X
	opJLT64X
	opJLE64X
	opJSLT64X
	opJSLE64X
	opJEq32K
	opJGT32K
	opJGE32K
	opJSet32K
	opJNE32K
	opJSGT32K
	opJSGE32K
	opJLT32K
	opJLE32K
	opJSLT32K
	opJSLE32K
	opJEq32X
	opJGT32X
	opJGE32X
	opJSet32X
	opJNE32X
	opJSGT32X
	opJSGE32X
	opJLT32X
	opJLE32X
	opJSLT32X
	opJSLE32X

	// Calls.
	opCall
	opCallX
	opCallLocal
	opExit
)
