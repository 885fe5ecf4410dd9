package buffer

import (
	"fmt"
	"math/bits"
	"os"
	"sync"
)

// A tempFile holds spilled temporary buffers. It is divided into slots of
// the manager's block size; a buffer takes as many consecutive slots as it
// needs, found first-fit. The file is created on the first spill and
// removed by close.
type tempFile struct {
	dir      string
	slotSize int64

	mu     sync.Mutex // guards the fields below; not held during I/O
	closed bool
	f      *os.File
	used   []uint64 // bitmap of used slots
	bytes  int64    // bytes of spilled buffers held
}

func (t *tempFile) slots(size int) int { return int((int64(size) + t.slotSize - 1) / t.slotSize) }

// write stores buf and returns its first slot.
func (t *tempFile) write(buf []byte) (int, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return 0, ErrClosed
	}
	if t.f == nil {
		f, err := os.CreateTemp(t.dir, "bpfdb-spill-*.tmp")
		if err != nil {
			t.mu.Unlock()
			return 0, fmt.Errorf("create temporary file: %w", err)
		}
		t.f = f
	}
	n := t.slots(len(buf))
	slot := t.find(n)
	for i := slot; i < slot+n; i++ {
		t.used[i/64] |= 1 << (i % 64)
	}
	t.bytes += int64(len(buf))
	f := t.f
	t.mu.Unlock()
	if _, err := f.WriteAt(buf, int64(slot)*t.slotSize); err != nil {
		t.free(slot, len(buf))
		return 0, fmt.Errorf("write temporary file %s: %w", f.Name(), err)
	}
	return slot, nil
}

// find returns the first run of n free slots, growing the bitmap as
// needed. t.mu is held.
func (t *tempFile) find(n int) int {
	run := 0
	for i := 0; ; i++ {
		if i/64 == len(t.used) {
			t.used = append(t.used, 0)
		}
		w := t.used[i/64]
		if w == ^uint64(0) && i%64 == 0 { // a full word: skip it
			run = 0
			i += 63
			continue
		}
		if w&(1<<(i%64)) != 0 {
			run = 0
			continue
		}
		if run++; run == n {
			return i - n + 1
		}
	}
}

// read reads the buffer stored at slot into buf.
func (t *tempFile) read(slot int, buf []byte) error {
	t.mu.Lock()
	f := t.f
	t.mu.Unlock()
	if f == nil {
		return ErrClosed
	}
	if _, err := f.ReadAt(buf, int64(slot)*t.slotSize); err != nil {
		return fmt.Errorf("read temporary file %s at slot %d: %w", f.Name(), slot, err)
	}
	return nil
}

// free releases the slots of a buffer of size bytes stored at slot.
func (t *tempFile) free(slot, size int) {
	t.mu.Lock()
	for i := slot; i < slot+t.slots(size); i++ {
		t.used[i/64] &^= 1 << (i % 64)
	}
	t.bytes -= int64(size)
	t.mu.Unlock()
}

// stats returns the bytes of spilled buffers held and the extent of the
// file in use: the byte just past its highest used slot. (Slots are
// written sparsely, so a small buffer uses little disk for its slot.)
func (t *tempFile) stats() (held, extent int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.used) - 1; i >= 0; i-- {
		if w := t.used[i]; w != 0 {
			return t.bytes, int64(i*64+64-bits.LeadingZeros64(w)) * t.slotSize
		}
	}
	return t.bytes, 0
}

// close closes and removes the file.
func (t *tempFile) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	if t.f == nil {
		return nil
	}
	name := t.f.Name()
	err := t.f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	t.f = nil
	return err
}
