package hooks

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// The Hash site. An attached program is set into the registry's hash.Slot
// as a hashPolicy; operators capture it when they start. Per call (one key
// column of one vector) the host fills
//
//	keys[r]    8 bytes per row: the value sign-extended (BOOLEAN 0/1,
//	           INTEGER, DATE, BIGINT, DECIMAL's scaled integer), a DOUBLE's
//	           bits, a VARCHAR's length; 0 for NULL
//	nulls[r]   1 where the key is NULL
//	prefixes   VARCHAR keys: each key's first ext.HashPrefix bytes,
//	           zero-padded, in a slot of that size per row
//	hashes[r]  the previous columns' hash when combining (flags has
//	           BPFDB_HASH_COMBINE)
//
// runs the program and, if it returns BPFDB_HANDLED, copies hashes[0:count)
// to the operator's output. Any other result leaves the vector to the
// built-in function (the hash package restores the previous columns' hash
// first). There is no invariant to repair: any hash values are safe, as
// operators compare keys after hashes match.

// Offsets of the Hash context's fields.
var hashCtx = struct{ keys, hashes, nulls, count, typ, column, flags, prefixes int }{}

func init() {
	s := ext.SpecOf(ext.Hash)
	hashCtx.keys, hashCtx.hashes, hashCtx.nulls = s.Field("keys").Offset(), s.Field("hashes").Offset(), s.Field("nulls").Offset()
	hashCtx.count, hashCtx.typ = s.Field("count").Offset(), s.Field("type").Offset()
	hashCtx.column, hashCtx.flags = s.Field("column").Offset(), s.Field("flags").Offset()
	hashCtx.prefixes = s.Field("prefixes").Offset()
}

// hashState is a runner's Hash regions and the request being served.
type hashState struct {
	keys     []uint64      // ext.MaxRows
	hashes   []uint64      // ext.MaxRows
	nulls    []byte        // ext.MaxRows
	prefixes []byte        // ext.MaxRows slots of ext.HashPrefix bytes
	req      *hash.Request // the request being served (&cur), or nil
	cur      hash.Request
	// What bpfdb_hash_key_bytes reads, taken once per request: the
	// VARCHAR vector's strings (nil for another type) and their arena.
	strs  []vector.Str
	arena []byte
	// The last buffer bpfdb_hash_key_bytes translated in this request
	// (a program passes the same one for every row), and its memory. The
	// run's regions do not change while it runs, so the translation
	// holds until the request ends.
	bufAddr, bufSize uint64
	buf              []byte
}

// serve makes req the request being served.
func (st *hashState) serve(req hash.Request) {
	st.cur = req
	st.req = &st.cur
	st.strs, st.arena = nil, nil
	if req.Vec.Type().Physical() == types.PhysString {
		st.strs, st.arena = req.Vec.Strs(), req.Vec.Arena()
	}
	st.bufAddr, st.bufSize, st.buf = 0, 0, nil
}

// done ends the request being served, keeping no reference to its memory.
func (st *hashState) done() {
	st.cur, st.req = hash.Request{}, nil
	st.strs, st.arena, st.buf = nil, nil, nil
	st.bufAddr, st.bufSize = 0, 0
}

func newHashState(rn *runner) *hashState {
	st := &hashState{keys: make([]uint64, ext.MaxRows), hashes: make([]uint64, ext.MaxRows), nulls: make([]byte, ext.MaxRows),
		prefixes: bytesOf(make([]uint64, ext.MaxRows*ext.HashPrefix/8))}
	rn.opts.Host = st
	rn.opts.Memory = []ebpf.Memory{
		{Data: bytesOf(st.keys)}, {Data: bytesOf(st.hashes), Writable: true}, {Data: st.nulls}, {Data: st.prefixes},
	}
	le := binary.LittleEndian
	le.PutUint64(rn.ctx[hashCtx.keys:], addr(bytesOf(st.keys)))
	le.PutUint64(rn.ctx[hashCtx.hashes:], addr(bytesOf(st.hashes)))
	le.PutUint64(rn.ctx[hashCtx.nulls:], addr(st.nulls))
	le.PutUint64(rn.ctx[hashCtx.prefixes:], addr(st.prefixes))
	return st
}

// bytesOf is the memory of 8-byte values.
func bytesOf[T uint64 | int64 | float64](w []T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), 8*len(w))
}

func addr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

// hashPolicy runs one attachment's program as a hash.Policy.
type hashPolicy struct{ a *Attachment }

// HashVector implements hash.Policy.
//
// Where it can, the program works on the request's own memory instead of
// copies: the keys region is the vector's data when that is a full vector
// of 8-byte values read in order without NULLs, and the hashes region is
// req.Out when its capacity covers the region (the hash package's callers
// pass vector-sized buffers, whose slots past N are scratch; see
// hash.Request). That saves up to three 16 KiB copies per call, as much
// as the built-in function takes to hash the vector.
func (p hashPolicy) HashVector(req hash.Request) (hash.Verdict, error) {
	a := p.a
	n := req.N
	if n > ext.MaxRows {
		panic(fmt.Sprintf("BUG: hash request of %d rows", n))
	}
	rn := a.acquire()
	defer rn.release()
	st := rn.hash
	keys := vectorKeys(req.Vec, req.Sel)
	if keys == nil {
		fillKeys(st, req.Vec, req.Sel, n)
		keys = bytesOf(st.keys)
	} else {
		clear(st.nulls[:n])
	}
	hashes := bytesOf(st.hashes)
	direct := cap(req.Out) >= ext.MaxRows
	if direct {
		hashes = bytesOf(req.Out[:ext.MaxRows])
	}
	flags := uint32(0)
	if req.Combine {
		if !direct {
			copy(st.hashes[:n], req.Out[:n])
		}
		flags = 1
	}
	mem, le := rn.opts.Memory, binary.LittleEndian
	mem[0].Data, mem[1].Data = keys, hashes
	le.PutUint64(rn.ctx[hashCtx.keys:], addr(keys))
	le.PutUint64(rn.ctx[hashCtx.hashes:], addr(hashes))
	le.PutUint32(rn.ctx[hashCtx.count:], uint32(n))
	le.PutUint32(rn.ctx[hashCtx.typ:], uint32(req.Vec.Type().ID()))
	// hash.Request does not say which key column this is, only whether
	// it is the first: 0 for the first, 1 for any later one.
	le.PutUint32(rn.ctx[hashCtx.column:], flags)
	le.PutUint32(rn.ctx[hashCtx.flags:], flags)
	st.serve(req)
	out, err := a.call(rn, 0)
	st.done()
	// Hold no reference to the request's memory past the call.
	mem[0].Data, mem[1].Data = bytesOf(st.keys), bytesOf(st.hashes)
	switch out {
	case handled:
		if !direct {
			copy(req.Out[:n], st.hashes[:n])
		}
		return hash.Handled, nil
	case failed:
		return hash.UseBuiltin, err
	}
	return hash.UseBuiltin, nil
}

// vectorKeys returns the memory of v's values as the keys region when the
// region can be v's data itself: 8-byte values (BIGINT, DOUBLE, and the
// types stored as them) read in order (no selection), no NULLs (the
// region holds 0 for a NULL), and a full vector's slots. Otherwise nil.
func vectorKeys(v *vector.Vector, sel vector.Selection) []byte {
	if sel != nil || v.Validity().Words() != nil {
		return nil
	}
	var b []byte
	switch v.Type().Physical() {
	case types.PhysInt64:
		b = bytesOf(v.Int64s())
	case types.PhysFloat64:
		b = bytesOf(v.Float64s())
	}
	if len(b) < ext.MaxRows*8 {
		return nil
	}
	return b[:ext.MaxRows*8]
}

// fillKeys writes the keys and nulls regions for n rows of v through sel.
// It is the site's own cost per vector, so each physical type has a loop
// of its own, dense vectors copy, and the NULL mask is read a word (64
// rows) at a time where it can be.
func fillKeys(st *hashState, v *vector.Vector, sel vector.Selection, n int) {
	keys, nulls := st.keys[:n], st.nulls[:n]
	switch v.Type().Physical() {
	case types.PhysInt64:
		fillWords(keys, v.Int64s(), sel)
	case types.PhysInt32:
		d := v.Int32s()
		if sel == nil {
			for r, x := range d[:n] {
				keys[r] = uint64(int64(x))
			}
		} else {
			for r, i := range sel[:n] {
				keys[r] = uint64(int64(d[i]))
			}
		}
	case types.PhysBool:
		d := v.Bools()
		for r := range keys {
			keys[r] = 0
			if d[index(sel, r)] {
				keys[r] = 1
			}
		}
	case types.PhysFloat64:
		fillWords(keys, v.Float64s(), sel)
	case types.PhysString:
		d, arena := v.Strs(), v.Arena()
		for r := range keys {
			s := d[index(sel, r)]
			keys[r] = uint64(s.Len)
			slot := (*[ext.HashPrefix]byte)(st.prefixes[r*ext.HashPrefix:])
			if off := int(s.Off); off+ext.HashPrefix <= len(arena) {
				// The common case, a word at a time: the slot's four
				// words read from the arena, the bytes past the key
				// masked to zero.
				prefixWords(slot, (*[ext.HashPrefix]byte)(arena[off:]), int(s.Len))
				continue
			}
			// Near the arena's end: the slot whole, so that the bytes
			// past the key are zeros. (A NULL's header need not point
			// into the arena.)
			var b [ext.HashPrefix]byte
			if off := int(s.Off); off <= len(arena) {
				copy(b[:], arena[off:min(len(arena), off+int(s.Len))])
			}
			*slot = b
		}
	default:
		panic(fmt.Sprintf("BUG: hash of a %v vector", v.Type()))
	}
	words := v.Validity().Words()
	if words == nil {
		clear(nulls)
		return
	}
	if sel != nil {
		for r, i := range sel[:n] {
			nulls[r] = 0
			if words[i>>6]&(1<<(i&63)) == 0 {
				nulls[r] = 1
				keys[r] = 0
			}
		}
		return
	}
	for k := 0; k*64 < n; k++ {
		rows := nulls[k*64 : min(n, k*64+64)]
		clear(rows)
		for w := ^words[k] & (1<<len(rows) - 1); w != 0; w &= w - 1 {
			r := k*64 + bits.TrailingZeros64(w)
			nulls[r] = 1
			keys[r] = 0
		}
	}
}

// fillWords copies 8-byte values (int64s, float64s' bits) to keys through
// sel.
func fillWords[T int64 | float64](keys []uint64, d []T, sel vector.Selection) {
	if sel == nil {
		copy(keys, unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(d))), len(d)))
		return
	}
	for r, i := range sel[:len(keys)] {
		keys[r] = *(*uint64)(unsafe.Pointer(&d[i]))
	}
}

// prefixWords is written for 32-byte prefixes: four words.
var _ [ext.HashPrefix - 32]struct{}
var _ [32 - ext.HashPrefix]struct{}

// prefixWords sets slot to the first n bytes of src (all of them if n is
// 32 or more) followed by zeros, eight bytes at a time.
func prefixWords(slot, src *[ext.HashPrefix]byte, n int) {
	le := binary.LittleEndian
	le.PutUint64(slot[0:], le.Uint64(src[0:])&lowBytes(n))
	le.PutUint64(slot[8:], le.Uint64(src[8:])&lowBytes(n-8))
	le.PutUint64(slot[16:], le.Uint64(src[16:])&lowBytes(n-16))
	le.PutUint64(slot[24:], le.Uint64(src[24:])&lowBytes(n-24))
}

// lowBytes is the mask of a little-endian word's first k bytes (none for
// k ≤ 0, all for k ≥ 8).
func lowBytes(k int) uint64 {
	switch {
	case k >= 8:
		return ^uint64(0)
	case k <= 0:
		return 0
	}
	return 1<<(8*uint(k)) - 1
}

// index is row r's index in its vector.
func index(sel vector.Selection, r int) int {
	if sel != nil {
		return int(sel[r])
	}
	return r
}

// Errno values the Hash helper returns.
const (
	errINVAL = 22 // EINVAL: an argument out of range, or of the wrong kind
)

var hashHelpers = map[int32]ebpf.HelperFunc{
	helperID(ext.Hash, "bpfdb_hash_key_bytes"): hashKeyBytes,
}

// hashKeyBytes is bpfdb_hash_key_bytes(ctx, row, buf, size): it copies up
// to size bytes of row's VARCHAR key into buf and returns the key's full
// length (0 for NULL), or -EINVAL if the key is not a VARCHAR or row is
// not below count.
func hashKeyBytes(env *ebpf.Env, _, row, buf, size, _ uint64) (uint64, error) {
	st, ok := env.Host.(*hashState)
	if !ok || st.req == nil {
		return 0, fmt.Errorf("BUG: bpfdb_hash_key_bytes outside a Hash call")
	}
	if st.strs == nil || row >= uint64(st.req.N) {
		return negErrno(errINVAL), nil
	}
	if st.nulls[row] != 0 {
		return 0, nil
	}
	i := int(row)
	if sel := st.req.Sel; sel != nil {
		i = int(sel[row])
	}
	s := st.strs[i]
	if buf != st.bufAddr || size != st.bufSize || st.buf == nil {
		dst, err := env.Mem(buf, size, true)
		if err != nil {
			return 0, err
		}
		st.bufAddr, st.bufSize, st.buf = buf, size, dst
	}
	copy(st.buf, st.arena[s.Off:s.Off+s.Len])
	return uint64(s.Len), nil
}

// negErrno returns -errno as a helper's r0.
func negErrno(errno int64) uint64 { return uint64(-errno) }
