package vector

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/bpfdb/bpfdb/internal/types"
)

// Fixed is the set of Go types that store fixed-width physical types.
type Fixed interface {
	bool | int32 | int64 | float64
}

// Str locates one VARCHAR value in its vector's arena: bytes
// arena[Off : Off+Len]. Eight bytes per slot.
type Str struct {
	Off uint32
	Len uint32
}

// Vector is one column of up to Size values of one type, with a validity
// mask. Its data slice has exactly Size slots whatever the chunk's length;
// slots past the length hold garbage. A Vector is not safe for concurrent
// writes; concurrent reads are fine.
type Vector struct {
	typ   types.Type
	data  any // []bool, []int32, []int64, []float64 or []Str, by typ.Physical()
	arena []byte
	valid Validity
}

// New returns an empty vector of type t with Size slots.
func New(t types.Type) *Vector {
	v := &Vector{typ: t}
	switch t.Physical() {
	case types.PhysBool:
		v.data = make([]bool, Size)
	case types.PhysInt32:
		v.data = make([]int32, Size)
	case types.PhysInt64:
		v.data = make([]int64, Size)
	case types.PhysFloat64:
		v.data = make([]float64, Size)
	case types.PhysString:
		v.data = make([]Str, Size)
	default:
		panic(fmt.Sprintf("BUG: vector.New(%v): not a storable type", t))
	}
	return v
}

// Type returns the vector's logical type.
func (v *Vector) Type() types.Type { return v.typ }

// Validity returns the vector's NULL mask, for reading and writing.
func (v *Vector) Validity() *Validity { return &v.valid }

// IsNull reports whether slot i is NULL.
func (v *Vector) IsNull(i int) bool { return v.valid.IsNull(i) }

// SetNull marks slot i NULL.
func (v *Vector) SetNull(i int) { v.valid.SetNull(i) }

// Reset forgets all NULLs and string bytes, keeping the memory.
func (v *Vector) Reset() {
	v.valid.Reset()
	v.arena = v.arena[:0]
}

// Data returns the typed slots of v. T must match v's physical type (bool,
// int32, int64, float64); anything else is a bug and panics.
func Data[T Fixed](v *Vector) []T {
	d, ok := v.data.([]T)
	if !ok {
		var zero T
		panic(fmt.Sprintf("BUG: vector of %v read as %T", v.typ, zero))
	}
	return d
}

// Bools returns the slots of a BOOLEAN vector.
func (v *Vector) Bools() []bool { return Data[bool](v) }

// Int32s returns the slots of an INTEGER or DATE vector.
func (v *Vector) Int32s() []int32 { return Data[int32](v) }

// Int64s returns the slots of a BIGINT or DECIMAL vector.
func (v *Vector) Int64s() []int64 { return Data[int64](v) }

// Float64s returns the slots of a DOUBLE vector.
func (v *Vector) Float64s() []float64 { return Data[float64](v) }

// Strs returns the string headers of a VARCHAR vector; their bytes are in
// Arena.
func (v *Vector) Strs() []Str {
	d, ok := v.data.([]Str)
	if !ok {
		panic(fmt.Sprintf("BUG: vector of %v read as strings", v.typ))
	}
	return d
}

// ArenaSlack is how many bytes an arena's capacity extends at least past
// its length, so that a kernel may load a fixed number of bytes (up to
// ArenaSlack) at any string's offset, arena[off : off+ArenaSlack], and mask
// off what is not the string's instead of copying a short string byte by
// byte:
//
//	arena  [ h e l l o x y z | ≥ ArenaSlack bytes of capacity ]
//	         └─ len(arena) ──┘
const ArenaSlack = 16

// Arena returns the bytes the string headers of a VARCHAR vector point
// into; its capacity is at least ArenaSlack bytes more than its length.
func (v *Vector) Arena() []byte { return v.arena }

// Bytes returns the bytes of string slot i without copying. They stay
// valid until the vector is Reset.
func (v *Vector) Bytes(i int) []byte {
	s := v.Strs()[i]
	return v.arena[s.Off : s.Off+s.Len : s.Off+s.Len]
}

// StringAt returns a copy of string slot i as a Go string.
func (v *Vector) StringAt(i int) string { return string(v.Bytes(i)) }

// SetBytes stores b in string slot i (copying it into the arena) and marks
// the slot valid if the vector has NULLs.
func (v *Vector) SetBytes(i int, b []byte) {
	v.Strs()[i] = v.appendArena(b)
	v.valid.SetValid(i)
}

// SetString stores s in string slot i, like SetBytes.
func (v *Vector) SetString(i int, s string) {
	v.Strs()[i] = v.appendArenaString(s)
	v.valid.SetValid(i)
}

func (v *Vector) appendArena(b []byte) Str {
	off := len(v.arena)
	if cap(v.arena)-off < len(b)+ArenaSlack {
		v.growArena(len(b))
	}
	v.arena = append(v.arena, b...)
	return v.strRef(off)
}

func (v *Vector) appendArenaString(b string) Str {
	off := len(v.arena)
	if cap(v.arena)-off < len(b)+ArenaSlack {
		v.growArena(len(b))
	}
	v.arena = append(v.arena, b...)
	return v.strRef(off)
}

// growArena makes room for n more bytes plus ArenaSlack, doubling.
func (v *Vector) growArena(n int) {
	a := make([]byte, len(v.arena), 2*cap(v.arena)+n+ArenaSlack)
	copy(a, v.arena)
	v.arena = a
}

func (v *Vector) strRef(off int) Str {
	if uint64(len(v.arena)) > math.MaxUint32 {
		panic("BUG: vector string arena exceeds 4 GiB")
	}
	return Str{Off: uint32(off), Len: uint32(len(v.arena) - off)}
}

// Set stores a boxed value in slot i (NULL included). It is for tests and
// constants, not for kernels. The value's physical type must match.
func (v *Vector) Set(i int, val types.Value) {
	if val.IsNull() {
		v.valid.SetNull(i)
		return
	}
	switch d := v.data.(type) {
	case []bool:
		d[i] = val.Bool()
	case []int32:
		d[i] = int32(val.Int64())
	case []int64:
		d[i] = val.Int64()
	case []float64:
		d[i] = val.Float64()
	case []Str:
		d[i] = v.appendArenaString(val.Str())
	}
	v.valid.SetValid(i)
}

// Value returns slot i boxed, for tests and printing.
func (v *Vector) Value(i int) types.Value {
	if v.valid.IsNull(i) {
		return types.Null(v.typ)
	}
	switch d := v.data.(type) {
	case []bool:
		return types.BoolValue(d[i])
	case []int32:
		if v.typ.ID() == types.Date {
			return types.DateValue(d[i])
		}
		return types.IntegerValue(d[i])
	case []int64:
		if v.typ.ID() == types.Decimal {
			return types.DecimalValue(d[i], v.typ)
		}
		return types.BigIntValue(d[i])
	case []float64:
		return types.DoubleValue(d[i])
	case []Str:
		return types.VarcharValue(v.StringAt(i))
	}
	panic("BUG: vector with unknown data")
}

// Copy copies n logical rows of src into dst starting at slot dstOff:
// row r of src is its slot sel[r], or slot r when sel is nil. Values,
// NULLs and string bytes are copied; dst and src must have the same
// physical type and must not be the same vector.
func Copy(dst *Vector, dstOff int, src *Vector, sel Selection, n int) {
	if dst == src {
		panic("BUG: vector.Copy onto itself")
	}
	if invariants && (dstOff < 0 || n < 0 || dstOff+n > Size || sel != nil && len(sel) < n) {
		panic(fmt.Sprintf("BUG: vector.Copy of %d rows to slot %d (selection of %d)", n, dstOff, len(sel)))
	}
	switch s := src.data.(type) {
	case []bool:
		gather(Data[bool](dst)[dstOff:dstOff+n], s, sel)
	case []int32:
		gather(Data[int32](dst)[dstOff:dstOff+n], s, sel)
	case []int64:
		gather(Data[int64](dst)[dstOff:dstOff+n], s, sel)
	case []float64:
		gather(Data[float64](dst)[dstOff:dstOff+n], s, sel)
	case []Str:
		d := dst.Strs()[dstOff : dstOff+n]
		for r := range d {
			p := r
			if sel != nil {
				p = int(sel[r])
			}
			h := s[p]
			d[r] = dst.appendArena(src.arena[h.Off : h.Off+h.Len])
		}
	}
	copyValidity(&dst.valid, dstOff, &src.valid, sel, n)
}

func gather[T Fixed](dst, src []T, sel Selection) {
	if sel == nil {
		copy(dst, src)
		return
	}
	for r := range dst {
		dst[r] = src[sel[r]]
	}
}

func copyValidity(dst *Validity, dstOff int, src *Validity, sel Selection, n int) {
	if src.AllValid() {
		if !dst.AllValid() {
			for r := range n {
				dst.SetValid(dstOff + r)
			}
		}
		return
	}
	for r := range n {
		p := r
		if sel != nil {
			p = int(sel[r])
		}
		dst.Set(dstOff+r, src.IsValid(p))
	}
}

func popcount(w uint64) int { return bits.OnesCount64(w) }
