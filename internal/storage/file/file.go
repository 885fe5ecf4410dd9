package file

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Options configure Open.
type Options struct {
	// ReadOnly opens the file without write access: WriteBlock,
	// AllocateBlock, FreeBlock and Checkpoint fail with ErrReadOnly. Several
	// processes may open a file read-only at once.
	ReadOnly bool
}

// CreateOptions configure Create.
type CreateOptions struct {
	// BlockSize is the block size in bytes: a power of two from MinBlockSize
	// to MaxBlockSize; 0 means DefaultBlockSize.
	BlockSize int
}

// blockState is what the file knows about one block.
type blockState uint8

const (
	stFree           blockState = iota // unused; may be allocated
	stCommitted                        // referenced by the last checkpoint
	stCommittedFreed                   // referenced by the last checkpoint, freed since: free after the next one
	stChain                            // a chain block of the last checkpoint: free after the next one
	stNew                              // allocated since the last checkpoint, not yet written
	stWritten                          // allocated since the last checkpoint and written
)

var stateNames = [...]string{"free", "committed", "committed, freed", "checkpoint chain", "allocated, unwritten", "written"}

// String describes the state for error messages ("committed").
func (s blockState) String() string { return stateNames[s] }

// referenced reports whether the last checkpoint references a block in
// state s, so that it must not be overwritten.
func (s blockState) referenced() bool {
	return s == stCommitted || s == stCommittedFreed || s == stChain
}

// A File is an open database file. Its methods are safe for concurrent use:
// ReadBlock runs in parallel with everything; AllocateBlock, FreeBlock and
// WriteBlock run in parallel with each other and wait for a running
// Checkpoint, which waits for them.
type File struct {
	path      string
	blockSize int
	readOnly  bool
	rd        *os.File // read-only descriptor: all reads
	wr        *os.File // read-write descriptor: all writes (nil if read-only)
	lock      *os.File // the descriptor holding the advisory lock

	// ioMu orders block allocation and writes (shared) against Checkpoint
	// (exclusive), so that a checkpoint sees a stable set of blocks.
	ioMu sync.RWMutex

	mu         sync.Mutex // guards the fields below; never held during I/O
	closed     bool
	failed     error        // set when a checkpoint failed part way: no more writes
	hdr        header       // the last completed checkpoint's header
	slot       int          // the header slot hdr lives in
	blockCount uint64       // blocks in the file now (≥ hdr.blockCount)
	state      []blockState // indexed by BlockID, len blockCount
	free       idHeap       // the blocks in stFree
	meta       []byte       // the last checkpoint's metadata
	openRead   int64        // bytes Open read
	otherSlot  string       // why the other header slot was not chosen
}

// crashHook, when set by a test, is called at the named steps of a
// checkpoint so that a test can kill the process there.
var crashHook func(step string)

func hook(step string) {
	if crashHook != nil {
		crashHook(step)
	}
}

// Create creates a new, empty database file at path (which must not exist)
// and returns it open for writing. The empty database is checkpoint 1 in
// header slot 0. Creation is atomic: the header is written and synced under
// a temporary name in the same directory, which is then linked to path, so
// a crash never leaves a half-written file at path.
func Create(path string, opts CreateOptions) (*File, error) {
	fail := func(err error) (*File, error) { return nil, fmt.Errorf("create database %s: %w", path, err) }
	bs := opts.BlockSize
	if bs == 0 {
		bs = DefaultBlockSize
	}
	if err := checkBlockSize(bs); err != nil {
		return fail(err)
	}
	if _, err := os.Lstat(path); err == nil {
		return fail(os.ErrExist)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".create-*")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name())
	h := header{version: FormatVersion, blockSize: uint32(bs), checkpoint: 1, root: NoBlock}
	buf := make([]byte, DataOffset)
	h.encode(buf[:HeaderSlotSize])
	_, err = tmp.WriteAt(buf, 0)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		return fail(err)
	}
	return Open(path, Options{})
}

// Open opens the database file at path. It opens the file read-only,
// validates the headers and the last checkpoint's chain (metadata and free
// list) and, unless opts.ReadOnly, only then opens it for writing. A file
// that is not a database, is truncated or fails a checksum gives an error
// naming the file and the problem, wrapping ErrNotDatabase, ErrCorrupt or
// ErrVersion, and is not modified.
func Open(path string, opts Options) (*File, error) {
	fail := func(err error) (*File, error) { return nil, fmt.Errorf("open database %s: %w", path, err) }
	// Look before opening: opening a FIFO for reading would block.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		return fail(fmt.Errorf("not a regular file (%s): %w", fileKind(fi.Mode()), ErrNotDatabase))
	}
	rd, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	fi, err := rd.Stat()
	if err != nil {
		rd.Close()
		return fail(err)
	}
	if fi.IsDir() {
		rd.Close()
		return fail(fmt.Errorf("is a directory: %w", ErrNotDatabase))
	}
	if !fi.Mode().IsRegular() {
		rd.Close()
		return fail(fmt.Errorf("not a regular file (%s): %w", fileKind(fi.Mode()), ErrNotDatabase))
	}
	if err := lockFile(rd, !opts.ReadOnly); err != nil {
		rd.Close()
		return fail(err)
	}
	f := &File{path: path, rd: rd, lock: rd, readOnly: opts.ReadOnly}
	if err := f.load(); err != nil {
		f.closeFiles()
		return fail(err)
	}
	if !opts.ReadOnly {
		wr, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			f.closeFiles()
			return fail(err)
		}
		f.wr = wr
	}
	return f, nil
}

// fileKind names the kind of a file that is not a regular file.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "mode " + m.String()
}

// load reads and validates the headers and the chain through f.rd and sets
// up the in-memory state. It never writes.
func (f *File) load() error {
	fi, err := f.rd.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 {
		return fmt.Errorf("empty file: %w", ErrNotDatabase)
	}
	head := make([]byte, min(size, DataOffset))
	if _, err := f.rd.ReadAt(head, 0); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	f.openRead += int64(len(head))
	if !hasMagic(head) && (len(head) < DataOffset || !hasMagic(head[HeaderSlotSize:])) {
		return fmt.Errorf("no bpfdb magic at offset 0 (found % x, want % x): %w", head[:min(8, len(head))], Magic[:], ErrNotDatabase)
	}
	if size < DataOffset {
		return fmt.Errorf("truncated: the file has %d bytes, the two header slots need %d: %w", size, DataOffset, ErrCorrupt)
	}
	var hs [2]header
	var errs [2]error
	for i := range hs {
		hs[i], errs[i] = decodeHeader(head[i*HeaderSlotSize : (i+1)*HeaderSlotSize])
	}
	cur := -1
	switch {
	case errs[0] == nil && errs[1] == nil:
		cur = 0
		if hs[1].checkpoint > hs[0].checkpoint {
			cur = 1
		}
		if hs[0].checkpoint == hs[1].checkpoint {
			return fmt.Errorf("both header slots hold checkpoint %d: %w", hs[0].checkpoint, ErrCorrupt)
		}
		if hs[0].blockSize != hs[1].blockSize {
			return fmt.Errorf("header slots disagree on the block size (%d and %d): %w", hs[0].blockSize, hs[1].blockSize, ErrCorrupt)
		}
	case errs[0] == nil:
		cur = 0
	case errs[1] == nil:
		cur = 1
	default:
		for _, e := range errs {
			if errors.Is(e, ErrVersion) {
				return fmt.Errorf("header: %w", e)
			}
		}
		return fmt.Errorf("no valid header: slot 0 (offset 0): %w; slot 1 (offset %d): %w", errs[0], HeaderSlotSize, errs[1])
	}
	if e := errs[1-cur]; e != nil && !isZero(head[(1-cur)*HeaderSlotSize:(2-cur)*HeaderSlotSize]) {
		f.otherSlot = fmt.Sprintf("slot %d: %v", 1-cur, e)
	}
	h := hs[cur]
	f.blockSize = int(h.blockSize)
	need := DataOffset + int64(h.blockCount)*int64(h.blockSize)
	if size < need {
		return fmt.Errorf("truncated: checkpoint %d (header slot %d) has %d blocks of %d bytes, needing %d bytes, but the file has %d: %w",
			h.checkpoint, cur, h.blockCount, h.blockSize, need, size, ErrCorrupt)
	}
	state := make([]blockState, h.blockCount)
	for i := range state {
		state[i] = stCommitted
	}
	stream, err := f.readChain(h, state)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	free := make(idHeap, 0, h.freeCount)
	for i := range h.freeCount {
		id := BlockID(le.Uint64(stream[8*i:]))
		if uint64(id) >= h.blockCount {
			return fmt.Errorf("checkpoint %d: free list entry %d names block %d, outside the file's %d blocks: %w", h.checkpoint, i, id, h.blockCount, ErrCorrupt)
		}
		if len(free) > 0 && id <= free[len(free)-1] {
			return fmt.Errorf("checkpoint %d: free list entry %d (block %d) is not above the previous one (%d): %w", h.checkpoint, i, id, free[len(free)-1], ErrCorrupt)
		}
		if state[id] == stChain {
			return fmt.Errorf("checkpoint %d: free list names block %d, which holds the checkpoint chain: %w", h.checkpoint, id, ErrCorrupt)
		}
		state[id] = stFree
		free = append(free, id) // ascending, so a valid min-heap
	}
	f.hdr, f.slot = h, cur
	f.blockCount = h.blockCount
	f.state = state
	f.free = free
	f.meta = stream[8*h.freeCount:]
	return nil
}

// readChain reads the checkpoint chain of h, marks its blocks stChain in
// state and returns the stream (free list, then metadata).
func (f *File) readChain(h header, state []blockState) ([]byte, error) {
	want := 8*h.freeCount + h.metaLen
	stream := make([]byte, 0, want)
	block := make([]byte, f.blockSize)
	per := uint64(f.blockSize - BlockHeaderSize - chainHeaderSize)
	le := binary.LittleEndian
	for id, n := h.root, 0; id != NoBlock; n++ {
		where := fmt.Sprintf("checkpoint %d: chain block %d (#%d from the root)", h.checkpoint, id, n)
		if uint64(id) >= h.blockCount {
			return nil, fmt.Errorf("%s: outside the file's %d blocks: %w", where, h.blockCount, ErrCorrupt)
		}
		if state[id] == stChain {
			return nil, fmt.Errorf("%s: the chain loops: %w", where, ErrCorrupt)
		}
		state[id] = stChain
		if _, err := f.rd.ReadAt(block, f.offset(id)); err != nil {
			return nil, fmt.Errorf("%s: read: %w", where, err)
		}
		f.openRead += int64(len(block))
		epoch, err := checkBlock(id, block)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if epoch > h.checkpoint {
			return nil, fmt.Errorf("%s: written for checkpoint %d, after the checkpoint that references it (the newer header slot is damaged): %w", where, epoch, ErrCorrupt)
		}
		p := block[BlockHeaderSize:]
		next, used := BlockID(le.Uint64(p[0:])), uint64(le.Uint32(p[8:]))
		if z := le.Uint32(p[12:]); z != 0 {
			return nil, fmt.Errorf("%s: reserved chain field is %#x, want 0: %w", where, z, ErrCorrupt)
		}
		if used > per || uint64(len(stream))+used > want {
			return nil, fmt.Errorf("%s: claims %d bytes, but the block holds at most %d and the header expects %d in all (%d read so far): %w",
				where, used, per, want, len(stream), ErrCorrupt)
		}
		stream = append(stream, p[chainHeaderSize:chainHeaderSize+used]...)
		id = next
	}
	if uint64(len(stream)) != want {
		return nil, fmt.Errorf("checkpoint %d: the chain holds %d bytes, the header expects %d (%d free blocks, %d metadata bytes): %w",
			h.checkpoint, len(stream), want, h.freeCount, h.metaLen, ErrCorrupt)
	}
	return stream, nil
}

// offset is the file offset of block id.
func (f *File) offset(id BlockID) int64 { return DataOffset + int64(id)*int64(f.blockSize) }

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// BlockSize returns the size of a block in bytes, header included: the size
// of the buffers ReadBlock and WriteBlock take.
func (f *File) BlockSize() int { return f.blockSize }

// PayloadSize returns the bytes of a block available to its user: the block
// size less BlockHeaderSize.
func (f *File) PayloadSize() int { return f.blockSize - BlockHeaderSize }

// Metadata returns the metadata bytes of the last completed checkpoint (nil
// for a new database). The caller must not modify them.
func (f *File) Metadata() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.meta
}

// usable returns the error that forbids writing, if any. f.mu must be held.
func (f *File) usable() error {
	switch {
	case f.closed:
		return ErrClosed
	case f.readOnly:
		return ErrReadOnly
	case f.failed != nil:
		return fmt.Errorf("unusable after a failed checkpoint (reopen to recover the last one): %w", f.failed)
	}
	return nil
}

// AllocateBlock returns a block the caller may write: the lowest free block
// not referenced by the last checkpoint, or a new block at the end of the
// file. The block belongs to the next checkpoint unless freed; it must be
// written before that checkpoint.
func (f *File) AllocateBlock() (BlockID, error) {
	f.ioMu.RLock()
	defer f.ioMu.RUnlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable(); err != nil {
		return NoBlock, fmt.Errorf("allocate block in %s: %w", f.path, err)
	}
	id := f.allocate()
	f.state[id] = stNew
	return id, nil
}

// allocate takes the lowest free block or extends the file. f.mu is held.
func (f *File) allocate() BlockID {
	if len(f.free) > 0 {
		return f.free.pop()
	}
	id := BlockID(f.blockCount)
	f.blockCount++
	f.state = append(f.state, stFree)
	return id
}

// FreeBlock gives up block id. A block the last checkpoint references
// becomes free only once the next checkpoint completes; a block allocated
// since is free at once.
func (f *File) FreeBlock(id BlockID) error {
	f.ioMu.RLock()
	defer f.ioMu.RUnlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable(); err != nil {
		return fmt.Errorf("free block %d of %s: %w", id, f.path, err)
	}
	if uint64(id) >= f.blockCount {
		return fmt.Errorf("free block %d of %s: outside the file's %d blocks: %w", id, f.path, f.blockCount, ErrBlockState)
	}
	switch st := f.state[id]; st {
	case stCommitted:
		f.state[id] = stCommittedFreed
	case stNew, stWritten:
		f.state[id] = stFree
		f.free.push(id)
	default:
		return fmt.Errorf("free block %d of %s: block is %s: %w", id, f.path, st, ErrBlockState)
	}
	return nil
}

// WriteBlock writes block (BlockSize bytes, payload after BlockHeaderSize)
// to block id, which must have been allocated since the last checkpoint. It
// fills in the block header (checksum and epoch) in place. The write is
// durable only after the next Checkpoint.
func (f *File) WriteBlock(id BlockID, block []byte) error {
	f.ioMu.RLock()
	defer f.ioMu.RUnlock()
	fail := func(err error) error { return fmt.Errorf("write block %d of %s: %w", id, f.path, err) }
	if len(block) != f.blockSize {
		return fail(fmt.Errorf("buffer has %d bytes, want the block size %d", len(block), f.blockSize))
	}
	f.mu.Lock()
	if err := f.usable(); err != nil {
		f.mu.Unlock()
		return fail(err)
	}
	if uint64(id) >= f.blockCount {
		f.mu.Unlock()
		return fail(fmt.Errorf("outside the file's %d blocks: %w", f.blockCount, ErrBlockState))
	}
	st, epoch := f.state[id], f.hdr.checkpoint+1
	f.mu.Unlock()
	if st != stNew && st != stWritten {
		return fail(fmt.Errorf("block is %s; only blocks allocated since the last checkpoint may be written: %w", st, ErrBlockState))
	}
	sealBlock(id, epoch, block)
	if _, err := f.wr.WriteAt(block, f.offset(id)); err != nil {
		return fail(err)
	}
	f.mu.Lock()
	if f.state[id] == stNew {
		f.state[id] = stWritten
	}
	f.mu.Unlock()
	hook("block written")
	return nil
}

// ReadBlock reads block id into block (BlockSize bytes) and verifies its
// checksum and epoch. The block must be in use: referenced by the last
// checkpoint or written since.
func (f *File) ReadBlock(id BlockID, block []byte) error {
	fail := func(err error) error { return fmt.Errorf("read block %d of %s: %w", id, f.path, err) }
	if len(block) != f.blockSize {
		return fail(fmt.Errorf("buffer has %d bytes, want the block size %d", len(block), f.blockSize))
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return fail(ErrClosed)
	}
	if uint64(id) >= f.blockCount {
		f.mu.Unlock()
		return fail(fmt.Errorf("outside the file's %d blocks: %w", f.blockCount, ErrBlockState))
	}
	st, ckpt := f.state[id], f.hdr.checkpoint
	f.mu.Unlock()
	if st == stFree || st == stNew {
		return fail(fmt.Errorf("block is %s: %w", st, ErrBlockState))
	}
	off := f.offset(id)
	n, err := f.rd.ReadAt(block, off)
	if err == io.EOF {
		return fail(fmt.Errorf("truncated: the block ends at byte %d, the file at %d: %w", off+int64(len(block)), off+int64(n), ErrCorrupt))
	}
	if err != nil {
		return fail(err)
	}
	epoch, err := checkBlock(id, block)
	if err != nil {
		return fail(fmt.Errorf("offset %d: %w", off, err))
	}
	if st.referenced() && epoch > ckpt {
		return fail(fmt.Errorf("written for checkpoint %d, after checkpoint %d that references it: %w", epoch, ckpt, ErrCorrupt))
	}
	if st == stWritten && epoch != ckpt+1 {
		return fail(fmt.Errorf("written for checkpoint %d, want %d: %w", epoch, ckpt+1, ErrCorrupt))
	}
	return nil
}

// Checkpoint makes the blocks written since the last checkpoint, the frees
// since, and meta (the table layer's metadata) durable as one atomic step:
// after a crash at any moment, Open finds either the previous checkpoint or
// this one, complete. It fails with ErrBlockState, changing nothing, if an
// allocated block was never written. If it fails part way, the File refuses
// further writes; reopening it recovers the last completed checkpoint.
// Blocks the previous checkpoint referenced and that are no longer used
// (freed blocks, the previous chain) become free when it returns.
func (f *File) Checkpoint(meta []byte) error {
	f.ioMu.Lock()
	defer f.ioMu.Unlock()
	f.mu.Lock()
	if err := f.usable(); err != nil {
		f.mu.Unlock()
		return fmt.Errorf("checkpoint %s: %w", f.path, err)
	}
	next := f.hdr.checkpoint + 1
	for id, st := range f.state {
		if st == stNew {
			f.mu.Unlock()
			return fmt.Errorf("checkpoint %d of %s: block %d was allocated but never written: %w", next, f.path, id, ErrBlockState)
		}
	}
	// Blocks free once this checkpoint is durable: the free ones and those
	// only the previous checkpoint needed. The chain comes from the free
	// ones (or the end of the file), never from the previous checkpoint's.
	released := 0
	for _, st := range f.state {
		if st == stCommittedFreed || st == stChain {
			released++
		}
	}
	per := f.blockSize - BlockHeaderSize - chainHeaderSize
	var chain []BlockID
	for {
		n := 8*(len(f.free)+released) + len(meta)
		if len(chain) >= (n+per-1)/per {
			break
		}
		chain = append(chain, f.allocate())
	}
	freeList := slices.Clone(f.free)
	for id, st := range f.state {
		if st == stCommittedFreed || st == stChain {
			freeList = append(freeList, BlockID(id))
		}
	}
	slices.Sort(freeList)
	blockCount := f.blockCount
	for _, id := range chain {
		f.state[id] = stNew // not free while the checkpoint runs
	}
	f.mu.Unlock()

	if err := f.writeCheckpoint(next, blockCount, chain, freeList, meta); err != nil {
		f.mu.Lock()
		f.failed = err
		f.mu.Unlock()
		return fmt.Errorf("checkpoint %d of %s: %w", next, f.path, err)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	for id, st := range f.state {
		switch st {
		case stWritten:
			f.state[id] = stCommitted
		case stCommittedFreed, stChain:
			f.state[id] = stFree
		}
	}
	for _, id := range chain {
		f.state[id] = stChain
	}
	f.free = idHeap(freeList) // ascending: a valid min-heap
	f.hdr = header{
		version: FormatVersion, blockSize: uint32(f.blockSize), checkpoint: next, blockCount: blockCount,
		root: rootOf(chain), metaLen: uint64(len(meta)), freeCount: uint64(len(freeList)),
	}
	f.slot = 1 - f.slot
	f.meta = slices.Clone(meta)
	f.otherSlot = ""
	return nil
}

func rootOf(chain []BlockID) BlockID {
	if len(chain) == 0 {
		return NoBlock
	}
	return chain[0]
}

// writeCheckpoint writes the chain, syncs, writes the header into the other
// slot and syncs again. No lock is held; ioMu keeps writers out.
func (f *File) writeCheckpoint(next, blockCount uint64, chain, freeList []BlockID, meta []byte) error {
	le := binary.LittleEndian
	stream := make([]byte, 8*len(freeList), 8*len(freeList)+len(meta))
	for i, id := range freeList {
		le.PutUint64(stream[8*i:], uint64(id))
	}
	stream = append(stream, meta...)
	block := make([]byte, f.blockSize)
	per := f.blockSize - BlockHeaderSize - chainHeaderSize
	for i, id := range chain {
		clear(block)
		p := block[BlockHeaderSize:]
		nextID := NoBlock
		if i+1 < len(chain) {
			nextID = chain[i+1]
		}
		n := copy(p[chainHeaderSize:], stream[min(len(stream), i*per):])
		le.PutUint64(p[0:], uint64(nextID))
		le.PutUint32(p[8:], uint32(n))
		sealBlock(id, next, block)
		if _, err := f.wr.WriteAt(block, f.offset(id)); err != nil {
			return fmt.Errorf("write chain block %d: %w", id, err)
		}
	}
	// Blocks allocated and freed again may never have been written: make
	// sure the file covers every block the header will count.
	fi, err := f.wr.Stat()
	if err != nil {
		return err
	}
	if need := f.offset(BlockID(blockCount)); fi.Size() < need {
		if err := f.wr.Truncate(need); err != nil {
			return fmt.Errorf("extend to %d blocks: %w", blockCount, err)
		}
	}
	hook("blocks written")
	if err := f.wr.Sync(); err != nil {
		return fmt.Errorf("sync blocks: %w", err)
	}
	hook("blocks synced")
	h := header{
		version: FormatVersion, blockSize: uint32(f.blockSize), checkpoint: next, blockCount: blockCount,
		root: rootOf(chain), metaLen: uint64(len(meta)), freeCount: uint64(len(freeList)),
	}
	slot := make([]byte, HeaderSlotSize)
	h.encode(slot)
	if _, err := f.wr.WriteAt(slot, int64(1-f.slot)*HeaderSlotSize); err != nil {
		return fmt.Errorf("write header slot %d: %w", 1-f.slot, err)
	}
	hook("header written")
	if err := f.wr.Sync(); err != nil {
		return fmt.Errorf("sync header: %w", err)
	}
	hook("header synced")
	return nil
}

// Check reads and verifies every block in use (referenced by the last
// checkpoint or written since) and returns how many it checked. The error
// joins the first problems found (up to ten), each naming the block.
func (f *File) Check() (int, error) {
	f.mu.Lock()
	var ids []BlockID
	for id, st := range f.state {
		if st != stFree && st != stNew {
			ids = append(ids, BlockID(id))
		}
	}
	f.mu.Unlock()
	block := make([]byte, f.blockSize)
	var errs []error
	for _, id := range ids {
		if err := f.ReadBlock(id, block); err != nil {
			errs = append(errs, err)
			if len(errs) == 10 {
				break
			}
		}
	}
	return len(ids), errors.Join(errs...)
}

// Info describes an open file.
type Info struct {
	Path       string // the file's path
	BlockSize  int    // bytes per block, header included
	Checkpoint uint64 // number of the last completed checkpoint (1 = the empty database Create wrote)
	HeaderSlot int    // the header slot (0 or 1) holding that checkpoint
	// OtherSlot is empty if the other header slot is empty or holds an older
	// checkpoint; otherwise it says why it could not be used (a torn or
	// damaged header, recovered from by using the older checkpoint).
	OtherSlot     string
	Blocks        uint64 // blocks in the file, free ones included
	FreeBlocks    int    // blocks free for allocation now
	UsedBlocks    int    // blocks referenced by the last checkpoint or written since, chain included
	MetadataBytes int    // length of the last checkpoint's metadata
	OpenBytesRead int64  // bytes Open read to validate the file (headers and chain)
}

// Info returns a description of the file.
func (f *File) Info() Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	used := 0
	for _, st := range f.state {
		if st != stFree && st != stNew {
			used++
		}
	}
	return Info{
		Path: f.path, BlockSize: f.blockSize, Checkpoint: f.hdr.checkpoint, HeaderSlot: f.slot, OtherSlot: f.otherSlot,
		Blocks: f.blockCount, FreeBlocks: len(f.free), UsedBlocks: used, MetadataBytes: len(f.meta), OpenBytesRead: f.openRead,
	}
}

// Close closes the file. Work since the last checkpoint is not saved.
func (f *File) Close() error {
	f.ioMu.Lock()
	defer f.ioMu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if err := f.closeFiles(); err != nil {
		return fmt.Errorf("close database %s: %w", f.path, err)
	}
	return nil
}

func (f *File) closeFiles() error {
	var errs []error
	if f.wr != nil {
		errs = append(errs, f.wr.Close())
	}
	errs = append(errs, f.rd.Close())
	return errors.Join(errs...)
}

// idHeap is a min-heap of block numbers: allocation takes the lowest free
// block, which keeps the file compact.
type idHeap []BlockID

func (h *idHeap) push(id BlockID) {
	*h = append(*h, id)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *idHeap) pop() BlockID {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s) && s[l] < s[m] {
			m = l
		}
		if r := l + 1; r < len(s) && s[r] < s[m] {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
