package file

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Format constants; the layouts are drawn in the package comment.
const (
	// DefaultBlockSize is the size of a block unless Create is told otherwise.
	DefaultBlockSize = 256 << 10
	// MinBlockSize and MaxBlockSize bound the block sizes Create accepts
	// (powers of two only). Small blocks exist for tests.
	MinBlockSize = 4 << 10
	MaxBlockSize = 256 << 10
	// HeaderSlotSize is the size of one of the two header slots.
	HeaderSlotSize = 4096
	// DataOffset is the file offset of block 0, after the two header slots.
	DataOffset = 2 * HeaderSlotSize
	// BlockHeaderSize is the number of bytes at the start of each block that
	// the file owns (checksum, epoch); the payload follows.
	BlockHeaderSize = 16
	// FormatVersion is the on-disk format version this package writes and
	// reads.
	FormatVersion = 1
)

// chainHeaderSize is the size of the chain header at the start of a chain
// block's payload (next block, used bytes, zero).
const chainHeaderSize = 16

// BlockID numbers a block of the file; block n starts at byte
// DataOffset + n·blockSize.
type BlockID uint64

// NoBlock is the BlockID that names no block (the end of a chain, an empty
// root).
const NoBlock BlockID = math.MaxUint64

// String returns the block number in decimal, or "none" for NoBlock.
func (id BlockID) String() string {
	if id == NoBlock {
		return "none"
	}
	return fmt.Sprint(uint64(id))
}

// Magic is the first 8 bytes of each header slot.
var Magic = [8]byte{0x89, 'B', 'P', 'F', 'D', 'B', '\r', '\n'}

// Errors returned by Open, Create and the block operations; they are wrapped
// in a chain that names the file and what was wrong.
var (
	// ErrNotDatabase: the file is not a bpfdb database at all (empty, a
	// directory, no magic).
	ErrNotDatabase = errors.New("not a bpfdb database")
	// ErrCorrupt: the file claims to be a database but something in it is
	// damaged or inconsistent (checksum mismatch, truncation, bad field).
	ErrCorrupt = errors.New("database file is corrupt")
	// ErrVersion: the header is valid but written by an unsupported format
	// version.
	ErrVersion = errors.New("unsupported database file format version")
	// ErrLocked: another process has the file open for writing.
	ErrLocked = errors.New("database file is locked by another process")
	// ErrReadOnly: a write was attempted on a file opened read-only.
	ErrReadOnly = errors.New("database file is open read-only")
	// ErrBlockState: a block operation does not fit the block's state
	// (writing a block the last checkpoint references, reading or freeing a
	// free block, checkpointing an allocated block never written).
	ErrBlockState = errors.New("invalid block state")
	// ErrClosed: the file was closed.
	ErrClosed = errors.New("database file is closed")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is the decoded content of a header slot.
type header struct {
	version    uint32
	blockSize  uint32
	checkpoint uint64 // checkpoint number, ≥ 1
	blockCount uint64
	root       BlockID
	metaLen    uint64
	freeCount  uint64
}

// Header slot field offsets.
const (
	hMagic      = 0
	hVersion    = 8
	hBlockSize  = 12
	hCheckpoint = 16
	hBlockCount = 24
	hRoot       = 32
	hMetaLen    = 40
	hFreeCount  = 48
	hChecksum   = 56
	hEnd        = 60
)

// slotChecksum is the CRC-32C of a slot without its checksum field.
func slotChecksum(slot []byte) uint32 {
	c := crc32.Update(0, castagnoli, slot[:hChecksum])
	return crc32.Update(c, castagnoli, slot[hEnd:HeaderSlotSize])
}

// encode writes h into slot (HeaderSlotSize bytes), including its checksum.
func (h *header) encode(slot []byte) {
	clear(slot[:HeaderSlotSize])
	copy(slot[hMagic:], Magic[:])
	le := binary.LittleEndian
	le.PutUint32(slot[hVersion:], h.version)
	le.PutUint32(slot[hBlockSize:], h.blockSize)
	le.PutUint64(slot[hCheckpoint:], h.checkpoint)
	le.PutUint64(slot[hBlockCount:], h.blockCount)
	le.PutUint64(slot[hRoot:], uint64(h.root))
	le.PutUint64(slot[hMetaLen:], h.metaLen)
	le.PutUint64(slot[hFreeCount:], h.freeCount)
	le.PutUint32(slot[hChecksum:], slotChecksum(slot))
}

// hasMagic reports whether slot starts with the magic.
func hasMagic(slot []byte) bool {
	return len(slot) >= len(Magic) && [8]byte(slot[:8]) == Magic
}

// isZero reports whether b is all zero bytes.
func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// decodeHeader parses and checks one header slot. The error says what is
// wrong with it, without naming the slot (the caller does).
func decodeHeader(slot []byte) (header, error) {
	var h header
	if isZero(slot) {
		return h, fmt.Errorf("empty (all zero): %w", ErrNotDatabase)
	}
	if !hasMagic(slot) {
		return h, fmt.Errorf("bad magic %q, want %q: %w", slot[:8], Magic[:], ErrNotDatabase)
	}
	le := binary.LittleEndian
	stored, computed := le.Uint32(slot[hChecksum:]), slotChecksum(slot)
	if stored != computed {
		return h, fmt.Errorf("checksum mismatch (stored %#08x, computed %#08x): %w", stored, computed, ErrCorrupt)
	}
	h = header{
		version:    le.Uint32(slot[hVersion:]),
		blockSize:  le.Uint32(slot[hBlockSize:]),
		checkpoint: le.Uint64(slot[hCheckpoint:]),
		blockCount: le.Uint64(slot[hBlockCount:]),
		root:       BlockID(le.Uint64(slot[hRoot:])),
		metaLen:    le.Uint64(slot[hMetaLen:]),
		freeCount:  le.Uint64(slot[hFreeCount:]),
	}
	if h.version != FormatVersion {
		return h, fmt.Errorf("format version %d, this build reads version %d: %w", h.version, FormatVersion, ErrVersion)
	}
	if err := checkBlockSize(int(h.blockSize)); err != nil {
		return h, fmt.Errorf("%w: %w", err, ErrCorrupt)
	}
	if h.checkpoint == 0 {
		return h, fmt.Errorf("checkpoint number 0: %w", ErrCorrupt)
	}
	// Bound the counts so that offsets computed from them cannot overflow.
	const maxBlocks = 1 << 40
	if h.blockCount > maxBlocks {
		return h, fmt.Errorf("block count %d exceeds %d: %w", h.blockCount, uint64(maxBlocks), ErrCorrupt)
	}
	if h.root != NoBlock && uint64(h.root) >= h.blockCount {
		return h, fmt.Errorf("root block %d is outside the file's %d blocks: %w", h.root, h.blockCount, ErrCorrupt)
	}
	if h.freeCount > h.blockCount {
		return h, fmt.Errorf("free block count %d exceeds block count %d: %w", h.freeCount, h.blockCount, ErrCorrupt)
	}
	if h.metaLen > h.blockCount*uint64(h.blockSize) {
		return h, fmt.Errorf("metadata length %d exceeds the file's %d blocks: %w", h.metaLen, h.blockCount, ErrCorrupt)
	}
	if h.root == NoBlock && (h.metaLen != 0 || h.freeCount != 0) {
		return h, fmt.Errorf("no root block but %d metadata bytes and %d free blocks: %w", h.metaLen, h.freeCount, ErrCorrupt)
	}
	return h, nil
}

// checkBlockSize checks that n is a block size this package supports.
func checkBlockSize(n int) error {
	if n < MinBlockSize || n > MaxBlockSize || n&(n-1) != 0 {
		return fmt.Errorf("block size %d is not a power of two from %d to %d", n, MinBlockSize, MaxBlockSize)
	}
	return nil
}

// Block header field offsets.
const (
	bChecksum = 0
	bZero     = 4
	bEpoch    = 8
)

// blockChecksum is the CRC-32C of id followed by block[4:].
func blockChecksum(id BlockID, block []byte) uint32 {
	var idb [8]byte
	binary.LittleEndian.PutUint64(idb[:], uint64(id))
	c := crc32.Update(0, castagnoli, idb[:])
	return crc32.Update(c, castagnoli, block[bZero:])
}

// sealBlock fills in the block header of block for block id written for
// checkpoint epoch.
func sealBlock(id BlockID, epoch uint64, block []byte) {
	le := binary.LittleEndian
	le.PutUint32(block[bZero:], 0)
	le.PutUint64(block[bEpoch:], epoch)
	le.PutUint32(block[bChecksum:], blockChecksum(id, block))
}

// checkBlock verifies the header of block id and returns its epoch.
func checkBlock(id BlockID, block []byte) (epoch uint64, err error) {
	le := binary.LittleEndian
	stored, computed := le.Uint32(block[bChecksum:]), blockChecksum(id, block)
	if stored != computed {
		return 0, fmt.Errorf("checksum mismatch (stored %#08x, computed %#08x): %w", stored, computed, ErrCorrupt)
	}
	if z := le.Uint32(block[bZero:]); z != 0 {
		return 0, fmt.Errorf("reserved block header field is %#x, want 0: %w", z, ErrCorrupt)
	}
	return le.Uint64(block[bEpoch:]), nil
}
