package table

import (
	"errors"
	"fmt"
	"sort"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
)

// A dataBlock is a block that holds segment bytes: while it is being filled
// it is a block-shaped temporary buffer pinned by the blockWriter; once full
// (or at a checkpoint) it becomes block id of the database file.
type dataBlock struct {
	b  *buffer.Block
	id file.BlockID // file.NoBlock until sealed; written under DB.writeMu
}

// An extent is a run of a segment's bytes inside one block's payload.
type extent struct {
	blk *dataBlock
	off int // byte offset in the block's payload
	n   int
}

// blockWriter packs segments into blocks one after another: a segment starts
// where the previous one ended and continues into the next block when the
// current one is full. It is guarded by DB.writeMu.
//
// A checkpoint that finds the current block partly filled writes a copy of
// it to a new block of the file (checkpointTail) and keeps filling the
// buffer: the next checkpoint writes a new copy and frees the previous one,
// and when the block is full it becomes a block of the file as usual. Many
// small commits thus share the block instead of using a block each. Scans
// read the buffer, never the copies, so a freed copy can be reused at once.
type blockWriter struct {
	m   *buffer.Manager
	f   *file.File
	cur *dataBlock
	buf []byte // cur's payload
	off int    // bytes of buf used

	blocks map[file.BlockID]*dataBlock // every block of the file that holds segments: read at Open or sealed since

	copyID  file.BlockID // the block holding the last checkpoint's copy of cur; file.NoBlock if none
	copyOff int          // bytes of buf that copy holds
	scratch []byte       // a block-sized buffer for the copies
}

// write appends seg to the blocks and returns its extents.
func (w *blockWriter) write(seg []byte) ([]extent, error) {
	var ext []extent
	for len(seg) > 0 {
		if w.cur == nil || w.off == len(w.buf) {
			if err := w.seal(); err != nil {
				return nil, err
			}
			b, buf, err := w.m.AllocateBlock(buffer.TagBaseTable)
			if err != nil {
				return nil, fmt.Errorf("allocate block: %w", err)
			}
			w.cur, w.buf, w.off = &dataBlock{b: b, id: file.NoBlock}, buf, 0
		}
		n := copy(w.buf[w.off:], seg)
		ext = append(ext, extent{blk: w.cur, off: w.off, n: n})
		w.off += n
		seg = seg[n:]
	}
	return ext, nil
}

// seal writes the current block to the database file and lets it go: the
// segments in it keep reading it through its handle, now persistent. The
// copy of it an earlier checkpoint wrote is freed.
func (w *blockWriter) seal() error {
	if w.cur == nil {
		return nil
	}
	id, err := w.m.MakePersistent(w.cur.b)
	if err != nil {
		return fmt.Errorf("write block: %w", err)
	}
	w.cur.id = id
	w.blocks[id] = w.cur
	w.m.Unpin(w.cur.b)
	w.cur, w.buf, w.off = nil, nil, 0
	return w.dropCopy()
}

// dropCopy frees the block holding the last checkpoint's copy of the
// current block, which the next checkpoint no longer references.
func (w *blockWriter) dropCopy() error {
	if w.copyID == file.NoBlock {
		return nil
	}
	id := w.copyID
	w.copyID = file.NoBlock
	if err := w.f.FreeBlock(id); err != nil {
		return fmt.Errorf("free the copy of a partial block: %w", err)
	}
	return nil
}

// checkpointTail makes the bytes of the current block durable at the coming
// checkpoint: a full block is sealed; a partly filled one is copied to a new
// block of the file, which its segments record until the next checkpoint or
// seal, and stays the block being filled.
func (w *blockWriter) checkpointTail() error {
	switch {
	case w.cur == nil:
		return nil
	case w.off == len(w.buf):
		return w.seal()
	case w.copyID != file.NoBlock && w.copyOff == w.off:
		return nil // nothing written since the last copy
	}
	id, err := w.f.AllocateBlock()
	if err != nil {
		return fmt.Errorf("write partial block: %w", err)
	}
	if len(w.scratch) != w.f.BlockSize() {
		w.scratch = make([]byte, w.f.BlockSize())
	}
	copy(w.scratch[file.BlockHeaderSize:], w.buf)
	if err := w.f.WriteBlock(id, w.scratch); err != nil {
		return fmt.Errorf("write partial block: %w", errors.Join(err, w.f.FreeBlock(id)))
	}
	if err := w.dropCopy(); err != nil {
		return err
	}
	w.copyID, w.copyOff, w.cur.id = id, w.off, id
	return nil
}

// discard drops the current block without writing it (closing without a
// checkpoint).
func (w *blockWriter) discard() error {
	if w.cur == nil {
		return nil
	}
	b := w.cur.b
	w.cur, w.buf, w.off = nil, nil, 0
	w.m.Unpin(b)
	return w.m.Free(b)
}

// blockSource reads a segment's bytes from its extents. A view inside one
// extent is the bytes of that extent's block, which stays pinned after the
// view, for the next ones (a scan reads a segment's vectors one after
// another, mostly from one block), until a view needs another block or
// the source is closed. A view that crosses extents is copied into
// scratch, each block pinned only while it is copied.
type blockSource struct {
	m      *buffer.Manager
	ext    []extent
	starts []int // starts[i]: segment offset of ext[i]
	total  int
	// held is the block pinned for the views, and payload its bytes.
	held    *buffer.Block
	payload []byte
	scratch []byte
}

func newBlockSource(m *buffer.Manager, ext []extent) *blockSource {
	s := &blockSource{m: m, ext: ext, starts: make([]int, len(ext))}
	for i, e := range ext {
		s.starts[i] = s.total
		s.total += e.n
	}
	return s
}

// errExtent is wrapped by reads of extents that do not fit their block.
var errExtent = errors.New("segment extent outside its block")

func (s *blockSource) view(off, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+n > s.total {
		return nil, segErr("read of %d bytes at %d beyond the segment's %d", n, off, s.total)
	}
	i := sort.Search(len(s.ext), func(i int) bool { return s.starts[i]+s.ext[i].n > off }) // first extent ending after off
	if n == 0 {
		return nil, nil
	}
	e := s.ext[i]
	rel := off - s.starts[i]
	if rel+n <= e.n {
		payload, err := s.hold(e)
		if err != nil {
			return nil, err
		}
		return payload[e.off+rel : e.off+rel+n], nil
	}
	if cap(s.scratch) < n {
		s.scratch = make([]byte, n)
	}
	dst := s.scratch[:n]
	for done := 0; done < n; i++ {
		e := s.ext[i]
		payload, err := s.pin(e)
		if err != nil {
			return nil, err
		}
		done += copy(dst[done:], payload[e.off+rel:e.off+e.n])
		s.m.Unpin(e.blk.b)
		rel = 0
	}
	return dst, nil
}

// hold returns the payload of e's block, pinned until another block is
// held or the source is closed.
func (s *blockSource) hold(e extent) ([]byte, error) {
	if s.held == e.blk.b {
		return s.payload, nil
	}
	s.close()
	payload, err := s.pin(e)
	if err != nil {
		return nil, err
	}
	s.held, s.payload = e.blk.b, payload
	return payload, nil
}

func (s *blockSource) pin(e extent) ([]byte, error) {
	payload, err := s.m.Pin(e.blk.b)
	if err != nil {
		return nil, err
	}
	if e.off+e.n > len(payload) {
		s.m.Unpin(e.blk.b)
		return nil, fmt.Errorf("%w: %d bytes at %d in %v of %d bytes", errExtent, e.n, e.off, e.blk.b, len(payload))
	}
	return payload, nil
}

// close unpins the held block, if any.
func (s *blockSource) close() {
	if s.held != nil {
		s.m.Unpin(s.held)
		s.held, s.payload = nil, nil
	}
}
