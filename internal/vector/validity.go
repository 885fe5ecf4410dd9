package vector

// Validity is a vector's NULL mask: one bit per slot, 1 = valid (not NULL),
// packed little-endian into 64-bit words, slot i at word i/64, bit i%64:
//
//	word 0                              word 1
//	bit 63 … bit 2  bit 1  bit 0        bit 63 … bit 0
//	slot 63 … slot 2 slot 1 slot 0      slot 127 … slot 64
//
// The fast path: while no slot has been set NULL, the mask is not
// materialized and AllValid reports true, so kernels can skip NULL checks
// for the whole vector. The words are allocated on the first SetNull and
// kept across Reset.
type Validity struct {
	words    []uint64
	hasNulls bool // words is materialized and may have zero bits
}

const wordsPerVector = Size / 64

// AllValid reports whether no slot is NULL (the mask is not materialized).
// A materialized mask may still have no zero bit; callers that need a
// precise answer over a range use CountValid.
func (v *Validity) AllValid() bool { return !v.hasNulls }

// IsValid reports whether slot i is not NULL.
func (v *Validity) IsValid(i int) bool {
	return !v.hasNulls || v.words[i>>6]&(1<<(uint(i)&63)) != 0
}

// IsNull reports whether slot i is NULL.
func (v *Validity) IsNull(i int) bool { return !v.IsValid(i) }

// materialize switches from the all-valid fast path to explicit bits, all 1.
func (v *Validity) materialize() {
	if v.words == nil {
		v.words = make([]uint64, wordsPerVector)
	}
	for i := range v.words {
		v.words[i] = ^uint64(0)
	}
	v.hasNulls = true
}

// SetNull marks slot i NULL.
func (v *Validity) SetNull(i int) {
	if !v.hasNulls {
		v.materialize()
	}
	v.words[i>>6] &^= 1 << (uint(i) & 63)
}

// SetValid marks slot i not NULL.
func (v *Validity) SetValid(i int) {
	if v.hasNulls {
		v.words[i>>6] |= 1 << (uint(i) & 63)
	}
}

// Set marks slot i valid or NULL.
func (v *Validity) Set(i int, valid bool) {
	if valid {
		v.SetValid(i)
	} else {
		v.SetNull(i)
	}
}

// Reset marks every slot valid (back to the fast path).
func (v *Validity) Reset() { v.hasNulls = false }

// CountValid counts the valid slots among the first n (n ≤ Size).
func (v *Validity) CountValid(n int) int {
	if !v.hasNulls {
		return n
	}
	c := 0
	full := n >> 6
	for _, w := range v.words[:full] {
		c += popcount(w)
	}
	if rem := uint(n) & 63; rem != 0 {
		c += popcount(v.words[full] & (1<<rem - 1))
	}
	return c
}

// Words returns the materialized mask words (Size/64 of them), or nil while
// every slot is valid. Kernels that combine masks a word at a time use it.
func (v *Validity) Words() []uint64 {
	if !v.hasNulls {
		return nil
	}
	return v.words
}

// Writable returns the mask words (Size/64 of them) for direct writes,
// materializing them all valid first if needed. Kernels that compute a
// result's NULLs a word at a time (the AND of their inputs' masks) use it.
func (v *Validity) Writable() []uint64 {
	if !v.hasNulls {
		v.materialize()
	}
	return v.words
}
