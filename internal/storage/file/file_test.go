package file

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const testBlockSize = MinBlockSize

// fill writes a pattern derived from seed into the payload of block.
func fill(block []byte, seed uint64) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := block[BlockHeaderSize:]
	for i := 0; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], r.Uint64())
	}
}

// hasPattern reports whether block's payload holds fill's pattern for seed.
func hasPattern(block []byte, seed uint64) bool {
	want := make([]byte, len(block))
	fill(want, seed)
	return bytes.Equal(block[BlockHeaderSize:], want[BlockHeaderSize:])
}

func mustCreate(t testing.TB, path string) *File {
	t.Helper()
	f, err := Create(path, CreateOptions{BlockSize: testBlockSize})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// writeNew allocates a block, fills it from seed and writes it.
func writeNew(t testing.TB, f *File, seed uint64) BlockID {
	t.Helper()
	id, err := f.AllocateBlock()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, f.BlockSize())
	fill(b, seed)
	if err := f.WriteBlock(id, b); err != nil {
		t.Fatal(err)
	}
	return id
}

func checkBlockHas(t testing.TB, f *File, id BlockID, seed uint64) {
	t.Helper()
	b := make([]byte, f.BlockSize())
	if err := f.ReadBlock(id, b); err != nil {
		t.Fatal(err)
	}
	if !hasPattern(b, seed) {
		t.Fatalf("block %d does not hold the pattern of seed %d", id, seed)
	}
}

func TestCreateCheckpointReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	f := mustCreate(t, path)
	if got := f.Info(); got.Checkpoint != 1 || got.Blocks != 0 || got.HeaderSlot != 0 || len(f.Metadata()) != 0 {
		t.Fatalf("new file: %+v, metadata %q", got, f.Metadata())
	}
	ids := make([]BlockID, 10)
	for i := range ids {
		ids[i] = writeNew(t, f, uint64(i))
	}
	meta := bytes.Repeat([]byte("catalog!"), 1500) // spans several chain blocks
	if err := f.Checkpoint(meta); err != nil {
		t.Fatal(err)
	}
	// Freed committed blocks stay referenced until the next checkpoint.
	for _, id := range ids[:4] {
		if err := f.FreeBlock(id); err != nil {
			t.Fatal(err)
		}
	}
	n := writeNew(t, f, 100)
	if slices.Contains(ids, n) {
		t.Fatalf("allocated block %d, which the last checkpoint references", n)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info := f.Info()
	if info.Checkpoint != 2 || info.HeaderSlot != 1 || info.OtherSlot != "" || !bytes.Equal(f.Metadata(), meta) {
		t.Fatalf("reopened: %+v, metadata of %d bytes", info, len(f.Metadata()))
	}
	for i, id := range ids {
		checkBlockHas(t, f, id, uint64(i))
	}
	// The frees and the write after checkpoint 2 were not checkpointed.
	if err := f.ReadBlock(n, make([]byte, testBlockSize)); !errors.Is(err, ErrBlockState) {
		t.Fatalf("read of a block written after the checkpoint: %v, want ErrBlockState", err)
	}
	for _, id := range ids[:4] {
		if err := f.FreeBlock(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Checkpoint([]byte("small")); err != nil {
		t.Fatal(err)
	}
	// Now the four blocks and the old chain are free, lowest first.
	id, err := f.AllocateBlock()
	if err != nil {
		t.Fatal(err)
	}
	if id != ids[0] {
		t.Fatalf("allocated %d after freeing %v, want the lowest free block %d", id, ids[:4], ids[0])
	}
	if checked, err := f.Check(); err != nil || checked != f.Info().UsedBlocks {
		t.Fatalf("Check: %d blocks, %v", checked, err)
	}
}

func TestBlockStateErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	f := mustCreate(t, path)
	defer f.Close()
	a := writeNew(t, f, 1)
	if err := f.Checkpoint(nil); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, testBlockSize)
	fill(buf, 2)
	if err := f.WriteBlock(a, buf); !errors.Is(err, ErrBlockState) || !strings.Contains(err.Error(), "block is committed") {
		t.Errorf("overwrite of a committed block: %v", err)
	}
	if err := f.FreeBlock(99); !errors.Is(err, ErrBlockState) {
		t.Errorf("free of a block outside the file: %v", err)
	}
	if err := f.WriteBlock(a, buf[:100]); err == nil {
		t.Error("write of a short buffer succeeded")
	}
	b, err := f.AllocateBlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Checkpoint(nil); !errors.Is(err, ErrBlockState) || !strings.Contains(err.Error(), "never written") {
		t.Errorf("checkpoint with an unwritten block: %v", err)
	}
	if err := f.ReadBlock(b, buf); !errors.Is(err, ErrBlockState) {
		t.Errorf("read of an unwritten block: %v", err)
	}
	if err := f.FreeBlock(b); err != nil {
		t.Fatal(err)
	}
	if err := f.FreeBlock(b); !errors.Is(err, ErrBlockState) {
		t.Errorf("double free: %v", err)
	}
	// The freed, never written block at the end still counts: the file grows.
	if err := f.Checkpoint(nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := f.ReadBlock(a, buf); !errors.Is(err, ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.AllocateBlock(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("allocate in a read-only file: %v", err)
	}
	checkBlockHas(t, ro, a, 1)
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	f := mustCreate(t, path)
	defer f.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second writer: %v, want ErrLocked", err)
	}
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrLocked) {
		t.Errorf("reader while a writer has it: %v, want ErrLocked", err)
	}
}

// TestOpenReadsOnlyChain checks that reopening reads the headers and the
// checkpoint chain and nothing of the data.
func TestOpenReadsOnlyChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	f := mustCreate(t, path)
	for i := range 300 {
		writeNew(t, f, uint64(i))
	}
	meta := make([]byte, 3*testBlockSize) // four chain blocks
	if err := f.Checkpoint(meta); err != nil {
		t.Fatal(err)
	}
	f.Close()
	f, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	per := testBlockSize - BlockHeaderSize - chainHeaderSize
	chain := (len(meta) + per - 1) / per
	if got, want := f.Info().OpenBytesRead, int64(DataOffset+chain*testBlockSize); got != want {
		t.Errorf("Open read %d bytes, want %d (headers and %d chain blocks)", got, want, chain)
	}
}

func TestHeapOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h idHeap
	var want []BlockID
	for range 1000 {
		id := BlockID(r.IntN(10000))
		h.push(id)
		want = append(want, id)
	}
	slices.Sort(want)
	for i, w := range want {
		if got := h.pop(); got != w {
			t.Fatalf("pop %d = %d, want %d", i, got, w)
		}
	}
}

// checkpointFile builds a small database with three checkpoints after the
// empty one (so checkpoint 4 is in header slot 1, 3 in slot 0) and returns
// its path.
func checkpointFile(t testing.TB, dir string) string {
	path := filepath.Join(dir, "db")
	f := mustCreate(t, path)
	for c := range 3 {
		for i := range 3 {
			writeNew(t, f, uint64(10*c+i))
		}
		if err := f.Checkpoint([]byte(strings.Repeat("m", 100*(c+1)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCorruptFiles opens damaged files: each fails with a clear error (or
// recovers the older checkpoint where that is safe) and no byte changes.
func TestCorruptFiles(t *testing.T) {
	le := binary.LittleEndian
	flip := func(off int64) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[off] ^= 0x40
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// After checkpointFile, checkpoint 4 is in slot 1, checkpoint 3 in slot 0.
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   error  // nil: opens
		text   string // in the error, or in Info().OtherSlot when it opens
		ckpt   uint64 // the checkpoint it opens
	}{
		{name: "intact", ckpt: 4},
		{name: "empty file", damage: func(t *testing.T, p string) { os.WriteFile(p, nil, 0o644) }, want: ErrNotDatabase, text: "empty file"},
		{name: "text file", damage: func(t *testing.T, p string) { os.WriteFile(p, []byte("CREATE TABLE t (x INT);\n"), 0o644) }, want: ErrNotDatabase, text: "no bpfdb magic"},
		{name: "directory", damage: func(t *testing.T, p string) { os.Remove(p); os.Mkdir(p, 0o755) }, want: ErrNotDatabase, text: "is a directory"},
		{name: "fifo", damage: func(t *testing.T, p string) {
			os.Remove(p)
			if err := mkfifo(p); err != nil {
				t.Skip(err)
			}
		}, want: ErrNotDatabase, text: "not a regular file"},
		{name: "truncated header", damage: func(t *testing.T, p string) { os.Truncate(p, 100) }, want: ErrCorrupt, text: "truncated: the file has 100 bytes"},
		{name: "truncated blocks", damage: func(t *testing.T, p string) { os.Truncate(p, DataOffset+5*testBlockSize+7) }, want: ErrCorrupt, text: "truncated: checkpoint 4"},
		{name: "wrong magic in both slots", damage: func(t *testing.T, p string) { flip(1)(t, p); flip(HeaderSlotSize+1)(t, p) }, want: ErrNotDatabase, text: "no bpfdb magic"},
		{name: "flipped byte in both slots", damage: func(t *testing.T, p string) { flip(20)(t, p); flip(HeaderSlotSize+3000)(t, p) }, want: ErrCorrupt, text: "slot 0 (offset 0): checksum mismatch"},
		{name: "flipped byte in the older slot", damage: flip(17), ckpt: 4, text: "slot 0: checksum mismatch"},
		{name: "flipped byte in the newer slot", damage: flip(HeaderSlotSize + 40), ckpt: 3, text: "slot 1: checksum mismatch"},
		{name: "newer version", damage: func(t *testing.T, p string) {
			b, _ := os.ReadFile(p)
			for s := 0; s < 2; s++ {
				slot := b[s*HeaderSlotSize : (s+1)*HeaderSlotSize]
				le.PutUint32(slot[hVersion:], 7)
				le.PutUint32(slot[hChecksum:], slotChecksum(slot))
			}
			os.WriteFile(p, b, 0o644)
		}, want: ErrVersion, text: "format version 7"},
		{name: "flipped byte in a chain block", damage: func(t *testing.T, p string) {
			f, err := Open(p, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			root := f.hdr.root
			f.Close()
			flip(DataOffset+int64(root)*testBlockSize+100)(t, p)
		}, want: ErrCorrupt, text: "chain block"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := checkpointFile(t, t.TempDir())
			if c.damage != nil {
				c.damage(t, path)
			}
			before := snapshot(t, path)
			f, err := Open(path, Options{})
			if c.want != nil {
				if err == nil {
					f.Close()
					t.Fatalf("opened; want %v", c.want)
				}
				t.Log(err)
				if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), path) {
					t.Errorf("error %q: want %v, containing %q and the path", err, c.want, c.text)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				info := f.Info()
				if info.Checkpoint != c.ckpt || !strings.Contains(info.OtherSlot, c.text) {
					t.Errorf("opened checkpoint %d (other slot %q), want %d and %q", info.Checkpoint, info.OtherSlot, c.ckpt, c.text)
				}
				if _, err := f.Check(); err != nil {
					t.Errorf("Check: %v", err)
				}
				f.Close()
			}
			if after := snapshot(t, path); after != before {
				t.Errorf("the file changed: %s before, %s after", before, after)
			}
		})
	}
}

// snapshot describes a path's content for before/after comparison.
func snapshot(t *testing.T, path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	if !fi.Mode().IsRegular() {
		return fi.Mode().Type().String()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFlippedDataBlock: Open does not read data, so a damaged data block is
// found when read, with an error naming the block and offset.
func TestFlippedDataBlock(t *testing.T) {
	path := checkpointFile(t, t.TempDir())
	b, _ := os.ReadFile(path)
	b[DataOffset+testBlockSize+500] ^= 1 // block 1: data of checkpoint 2
	os.WriteFile(path, b, 0o644)
	f, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = f.ReadBlock(1, make([]byte, testBlockSize))
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "read block 1 of "+path) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("read of a damaged block: %v", err)
	}
	if _, err := f.Check(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Check: %v, want ErrCorrupt", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
		t.Error("the file changed")
	}
}

// TestStaleFallbackDetected: when the newest header slot is damaged after
// blocks of the older checkpoint were reused, Open must not serve the
// reused blocks as the older checkpoint's.
func TestStaleFallbackDetected(t *testing.T) {
	path := checkpointFile(t, t.TempDir())
	f, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Checkpoint 5 frees checkpoint 4's chain; new writes then reuse it
	// (and checkpoint 3's) before checkpoint 6, which never comes.
	if err := f.Checkpoint([]byte("five")); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		writeNew(t, f, uint64(100+i))
	}
	f.Close()
	b, _ := os.ReadFile(path)
	b[30] ^= 1 // slot 0 now holds checkpoint 5: damage it
	os.WriteFile(path, b, 0o644)
	_, err = Open(path, Options{ReadOnly: true})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "after the checkpoint that references it") {
		t.Errorf("open with a stale fallback: %v", err)
	}
}

// TestFailedCheckpointIsSticky: after a checkpoint fails part way, the
// file refuses writes, and reopening finds the last completed checkpoint.
func TestFailedCheckpointIsSticky(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	f := mustCreate(t, path)
	a := writeNew(t, f, 1)
	if err := f.Checkpoint([]byte("one")); err != nil {
		t.Fatal(err)
	}
	writeNew(t, f, 2)
	f.wr.Close() // every write fails from here on
	if err := f.Checkpoint([]byte("two")); err == nil {
		t.Fatal("checkpoint through a closed descriptor succeeded")
	}
	if _, err := f.AllocateBlock(); err == nil || !strings.Contains(err.Error(), "unusable after a failed checkpoint") {
		t.Errorf("allocate after a failed checkpoint: %v", err)
	}
	checkBlockHas(t, f, a, 1) // reads still work
	f.Close()
	f, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if string(f.Metadata()) != "one" || f.Info().Checkpoint != 2 {
		t.Errorf("reopened at checkpoint %d with metadata %q", f.Info().Checkpoint, f.Metadata())
	}
	checkBlockHas(t, f, a, 1)
}
