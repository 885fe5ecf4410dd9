package buffer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/file"
)

// persistBlocks writes n stamped blocks through m, unpins them,
// checkpoints and evicts them all, and returns their numbers.
func persistBlocks(t *testing.T, m *Manager, f *file.File, n int) []file.BlockID {
	t.Helper()
	ids := make([]file.BlockID, n)
	for i := range ids {
		b, p, err := m.AllocateBlock(TagBaseTable)
		if err != nil {
			t.Fatal(err)
		}
		stamp(p, uint64(i), 0)
		if ids[i], err = m.MakePersistent(b); err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
	}
	if err := f.Checkpoint(nil); err != nil {
		t.Fatal(err)
	}
	m.Evict(n)
	if m.Used() != 0 {
		t.Fatalf("%d bytes in use after evicting everything", m.Used())
	}
	return ids
}

// TestReadAheadPinWaits: a pin right after ReadAhead waits for the
// background read and uses it; nothing is read twice.
func TestReadAheadPinWaits(t *testing.T) {
	m, f, _ := newFileManager(t, 1<<20)
	ids := persistBlocks(t, m, f, 8)
	before := m.Metrics()
	for i, id := range ids {
		if err := m.ReadAhead(uint64(id)); err != nil {
			t.Fatal(err)
		}
		b := m.Persistent(id, TagBaseTable)
		if b.Kind() != Persistent || b.Number() != uint64(id) || b.String() != "block "+id.String() {
			t.Errorf("handle of block %d: kind %s, number %d, name %q", id, b.Kind(), b.Number(), b)
		}
		p, err := m.Pin(b)
		if err != nil {
			t.Fatal(err)
		}
		if !stamped(p, uint64(i), 0) {
			t.Fatalf("%v read ahead lost its bytes", b)
		}
		m.Unpin(b)
	}
	x := m.Metrics()
	if x.Loads != before.Loads || x.ReadAheads != 8 || x.ReadAheadsUsed != 8 || x.ReadAheadsWasted != 0 {
		t.Errorf("want 8 readaheads, all used, no loads:\n%s", x)
	}
}

// busyCheck is a Load policy that tries to read its own block and an
// unknown one ahead, and records the errors.
type busyCheck struct{ self, unknown *error }

func (p busyCheck) Load(m *Manager, b *Block, buf []byte) error {
	*p.self = m.ReadAhead(b.Number())
	*p.unknown = m.ReadAhead(1 << 40)
	return m.ReadBlock(b, buf)
}

// TestReadAheadRefusals: every way a readahead is refused says why and
// changes nothing.
func TestReadAheadRefusals(t *testing.T) {
	var self, unknown error
	dir := t.TempDir()
	f, err := file.Create(dir+"/db", file.CreateOptions{BlockSize: file.MinBlockSize})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := New(Options{File: f, Limit: 2 * file.MinBlockSize, TempDir: dir, Load: busyCheck{&self, &unknown}})
	if err != nil {
		t.Fatal(err)
	}
	ids := persistBlocks(t, m, f, 3)
	b0 := m.Persistent(ids[0], TagBaseTable)
	if _, err := m.Pin(b0); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(self, ErrBusy) || !errors.Is(unknown, ErrNoSuchBlock) {
		t.Errorf("from the Load policy: own block %v (want ErrBusy), unknown block %v (want ErrNoSuchBlock)", self, unknown)
	}
	if err := m.ReadAhead(uint64(ids[0])); !errors.Is(err, ErrInMemory) {
		t.Errorf("pinned block: %v, want ErrInMemory", err)
	}
	b1 := m.Persistent(ids[1], TagBaseTable)
	if _, err := m.Pin(b1); err != nil {
		t.Fatal(err)
	}
	// Both blocks pinned, the limit reached: no room, and the pinned
	// blocks stay.
	if err := m.ReadAhead(uint64(ids[2])); !errors.Is(err, ErrOutOfMemory) {
		t.Errorf("no room: %v, want ErrOutOfMemory", err)
	}
	m.Unpin(b1)
	if err := m.Free(b1); err != nil {
		t.Fatal(err)
	}
	if err := m.ReadAhead(uint64(ids[1])); !errors.Is(err, ErrNoSuchBlock) {
		t.Errorf("freed block: %v, want ErrNoSuchBlock", err)
	}
	x := m.Metrics()
	if x.ReadAheads != 0 || x.OutOfMemory != 0 || x.Used != int64(m.BlockSize()) {
		t.Errorf("refused readaheads changed the manager:\n%s", x)
	}
	m.Unpin(b0)
	m.Close()
	if err := m.ReadAhead(uint64(ids[0])); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}

	tm, err := New(Options{Limit: 1 << 20, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if err := tm.ReadAhead(0); !errors.Is(err, ErrNoSuchBlock) {
		t.Errorf("manager without a file: %v, want ErrNoSuchBlock", err)
	}
}

// TestReadAheadFailedRead: a damaged block's readahead starts, fails in
// the background, gives its memory back and counts as wasted; the pin
// then reports the damage.
func TestReadAheadFailedRead(t *testing.T) {
	m, f, path := newFileManager(t, 1<<20)
	ids := persistBlocks(t, m, f, 1)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[file.DataOffset+int(ids[0])*f.BlockSize()+100] ^= 1
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.ReadAhead(uint64(ids[0])); err != nil {
		t.Fatal(err)
	}
	m.waitReadAheads()
	x := m.Metrics()
	if x.ReadAheads != 1 || x.ReadAheadsWasted != 1 || x.Used != 0 || x.Resident != 0 {
		t.Errorf("after a failed readahead:\n%s", x)
	}
	if _, err := m.Pin(m.Persistent(ids[0], TagBaseTable)); !errors.Is(err, file.ErrCorrupt) {
		t.Errorf("pin of the damaged block: %v, want ErrCorrupt", err)
	}
}

// TestQueueAccessors: QueueLen and TagUsed agree with Metrics, and
// PurgeQueue drops exactly the stale entries.
func TestQueueAccessors(t *testing.T) {
	m, err := New(Options{Limit: 1 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var blocks []*Block
	for i := range 40 {
		b, _, err := m.Allocate(Tag(i%int(NumTags)), 100+i)
		if err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
		blocks = append(blocks, b)
	}
	for round := range 3 {
		for _, b := range blocks[round:] {
			if _, err := m.Pin(b); err != nil {
				t.Fatal(err)
			}
			m.Unpin(b)
		}
	}
	x := m.Metrics()
	for q := range NumQueues {
		if got := m.QueueLen(q); int64(got) != x.QueueEntries[q] {
			t.Errorf("QueueLen(%d) = %d, Metrics says %d", q, got, x.QueueEntries[q])
		}
	}
	for tag := range NumTags {
		if got := m.TagUsed(tag); got != x.Tags[tag] {
			t.Errorf("TagUsed(%s) = %d, Metrics says %d", tag, got, x.Tags[tag])
		}
	}
	if n := m.QueueLen(QueueTemporary); n != 40+40+39+38 {
		t.Errorf("%d entries in the temporary queue, want 157", n)
	}
	if n := m.PurgeQueue(QueueTemporary); n != 157-40 {
		t.Errorf("PurgeQueue dropped %d, want 117", n)
	}
	if n := m.QueueLen(QueueTemporary); n != 40 {
		t.Errorf("%d entries left, want 40", n)
	}
	if n := m.PurgeQueue(QueueTemporary); n != 0 {
		t.Errorf("a second purge dropped %d", n)
	}
	if x := m.Metrics(); x.StaleEntries != 117 {
		t.Errorf("stale entries %d, want 117", x.StaleEntries)
	}
	if m.Evict(100) != 40 {
		t.Error("not every block stayed evictable")
	}
	if n := m.QueueLen(QueueTemporary); n != 0 {
		t.Errorf("%d entries after evicting everything", n)
	}
}

// TestReadAheadRaces runs readaheads of random blocks against pins,
// frees and limit changes of the same blocks. Afterwards nothing is
// leaked: evicting everything brings the accounted memory to zero, and
// every readahead was used or wasted. Run it with -race.
func TestReadAheadRaces(t *testing.T) {
	seed := testSeed(t)
	const n = 64
	m, f, _ := newFileManager(t, 8*file.MinBlockSize)
	ids := persistBlocks(t, m, f, n)
	handles := make([]*Block, n)
	for i, id := range ids {
		handles[i] = m.Persistent(id, TagBaseTable)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 2 {
		wg.Go(func() { // readaheads
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			for range 2000 {
				err := m.ReadAhead(uint64(ids[r.IntN(n)]) + uint64(r.IntN(2))*n) // some past the file
				switch {
				case err == nil, errors.Is(err, ErrNoSuchBlock), errors.Is(err, ErrInMemory),
					errors.Is(err, ErrBusy), errors.Is(err, ErrOutOfMemory), errors.Is(err, ErrFreed):
				default:
					errs <- fmt.Errorf("readahead: %w", err)
					return
				}
			}
		})
	}
	for g := range 2 {
		wg.Go(func() { // pins
			r := rand.New(rand.NewPCG(seed, uint64(10+g)))
			for range 2000 {
				i := r.IntN(n)
				p, err := m.Pin(handles[i])
				if errors.Is(err, ErrFreed) {
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("pin block %d: %w", ids[i], err)
					return
				}
				if !stamped(p, uint64(i), 0) {
					errs <- fmt.Errorf("block %d lost its bytes", ids[i])
				}
				m.Unpin(handles[i])
			}
		})
	}
	wg.Go(func() { // frees and limit changes
		for i := 0; i < n; i += 4 {
			if err := m.Free(handles[i]); err != nil && !strings.Contains(err.Error(), "still pinned") {
				errs <- err
				return
			}
			if err := m.SetLimit(int64(4+i%8) * file.MinBlockSize); err != nil && !errors.Is(err, ErrOutOfMemory) {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	m.waitReadAheads()
	m.Evict(2 * n)
	x := m.Metrics()
	t.Logf("after the races:\n%s", x)
	if x.Used != 0 || x.Resident != 0 || x.ReadAheads != x.ReadAheadsUsed+x.ReadAheadsWasted {
		t.Errorf("leaked memory or readaheads unaccounted for:\n%s", x)
	}
	var sum int64
	for _, v := range x.Tags {
		sum += v
	}
	if sum != 0 {
		t.Errorf("tags sum to %d after evicting everything", sum)
	}
}
