package aggregate

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// memory hands out the aggregate's pages and directories: temporary
// buffers of a buffer manager (tag hash table) or, without one, plain Go
// memory that is never evicted.
type memory struct {
	m     *buffer.Manager // nil: Go memory
	owner uint64          // the query the pages are for (buffer.Manager.AllocateFor)
}

// region is one allocation: its bytes are valid while it is pinned.
type region struct {
	blk    *buffer.Block // nil for Go memory
	b      []byte        // the bytes; nil while unpinned
	size   int
	pinned bool
}

// alloc returns a zeroed, pinned region of size bytes.
func (mm memory) alloc(size int) (*region, error) {
	if mm.m == nil {
		return &region{b: make([]byte, size), size: size, pinned: true}, nil
	}
	blk, b, err := mm.m.AllocateFor(mm.owner, buffer.TagHashTable, size)
	if err != nil {
		return nil, err
	}
	return &region{blk: blk, b: b, size: size, pinned: true}, nil
}

// pin makes r's bytes available (reading them back if they were spilled)
// and reports whether they had been spilled.
func (mm memory) pin(r *region) (spilled bool, err error) {
	if r.pinned {
		return false, nil
	}
	if r.blk == nil {
		panic("BUG: aggregate: unpinned Go memory")
	}
	spilled = r.blk.Info().Spilled
	b, err := mm.m.Pin(r.blk)
	if err != nil {
		return false, err
	}
	r.b, r.pinned = b, true
	return spilled, nil
}

// unpin makes r evictable; its bytes must not be used until pinned again.
// Go memory stays where it is.
func (mm memory) unpin(r *region) {
	if r.blk == nil || !r.pinned {
		return
	}
	mm.m.Unpin(r.blk)
	r.b, r.pinned = nil, false
}

// free gives r back.
func (mm memory) free(r *region) error {
	if r.blk == nil {
		r.b = nil
		return nil
	}
	mm.unpin(r)
	if err := mm.m.Free(r.blk); err != nil {
		return fmt.Errorf("free aggregate buffer: %w", err)
	}
	r.blk = nil
	return nil
}
