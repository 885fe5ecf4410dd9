package buffer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/file"
)

func newFileManager(t *testing.T, limit int64) (*Manager, *file.File, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "db")
	f, err := file.Create(path, file.CreateOptions{BlockSize: file.MinBlockSize})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{File: f, Limit: limit, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); f.Close() })
	return m, f, path
}

// TestTableWriterAndScan follows the table layer's use: allocate blocks,
// fill them, make them persistent, checkpoint the file with their numbers
// as metadata; reopen and scan them through a new manager.
func TestTableWriterAndScan(t *testing.T) {
	m, f, path := newFileManager(t, 1<<20)
	var meta []byte
	for i := range 5 {
		b, p, err := m.AllocateBlock(TagBaseTable)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != m.PayloadSize() {
			t.Fatalf("payload of %d bytes, want %d", len(p), m.PayloadSize())
		}
		stamp(p, uint64(i), 0)
		id, err := m.MakePersistent(b)
		if err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
		meta = binary.LittleEndian.AppendUint64(meta, uint64(id))
	}
	if err := f.Checkpoint(meta); err != nil {
		t.Fatal(err)
	}
	m.Close()
	f.Close()

	f, err := file.Open(path, file.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err = New(Options{File: f, Limit: 2 * int64(f.BlockSize()), TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	meta = f.Metadata()
	for round := range 2 { // the second round reloads what the limit evicted
		for i := 0; i < len(meta); i += 8 {
			b := m.Persistent(file.BlockID(binary.LittleEndian.Uint64(meta[i:])), TagBaseTable)
			p, err := m.Pin(b)
			if err != nil {
				t.Fatal(err)
			}
			if !stamped(p, uint64(i/8), 0) {
				t.Fatalf("round %d: %v lost its bytes", round, b)
			}
			m.Unpin(b)
		}
	}
	// A scan of 5 blocks through memory for 2, oldest evicted first:
	// every pin of both rounds misses.
	if x := m.Metrics(); x.Loads != 10 || x.Evictions != 8 || x.Misses != 10 || x.Hits != 0 {
		t.Errorf("want 10 loads and misses, 8 evictions and no hits, got %+v", x)
	}
}

// TestPinCorruptBlock: a damaged block fails its pin with an error naming
// the block and the file, and its reservation is given back.
func TestPinCorruptBlock(t *testing.T) {
	m, f, path := newFileManager(t, 1<<20)
	b, p, err := m.AllocateBlock(TagBaseTable)
	if err != nil {
		t.Fatal(err)
	}
	stamp(p, 1, 0)
	id, err := m.MakePersistent(b)
	if err != nil {
		t.Fatal(err)
	}
	m.Unpin(b)
	if err := f.Checkpoint(nil); err != nil {
		t.Fatal(err)
	}
	m.Evict(1)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[file.DataOffset+int(id)*f.BlockSize()+100] ^= 1
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = m.Pin(b)
	if !errors.Is(err, file.ErrCorrupt) || !strings.Contains(err.Error(), "pin block 0: read block 0 of "+path) {
		t.Errorf("pin of a damaged block: %v", err)
	}
	if u := m.Used(); u != 0 {
		t.Errorf("%d bytes still accounted after the failed pin", u)
	}
}

func TestMisuse(t *testing.T) {
	m, _, _ := newFileManager(t, 1<<20)
	b, _, err := m.Allocate(TagOther, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.MakePersistent(b); err == nil || !strings.Contains(err.Error(), "not block-shaped") {
		t.Errorf("MakePersistent of a plain buffer: %v", err)
	}
	m.Unpin(b)
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.HasPrefix(r.(string), "BUG:") {
				t.Errorf("unpin of an unpinned block: recovered %v, want a BUG panic", r)
			}
		}()
		m.Unpin(b)
	}()
	if err := m.Free(b); err != nil {
		t.Fatal(err)
	}
	if err := m.Free(b); !errors.Is(err, ErrFreed) {
		t.Errorf("second free: %v", err)
	}
	if _, err := m.Pin(b); !errors.Is(err, ErrFreed) {
		t.Errorf("pin of a freed block: %v", err)
	}
	if _, _, err := m.Allocate(TagOther, 0); err == nil {
		t.Error("allocation of 0 bytes succeeded")
	}
	m.Close()
	if _, _, err := m.Allocate(TagOther, 10); !errors.Is(err, ErrClosed) {
		t.Errorf("allocate after close: %v", err)
	}
}

// quota is an AllocatePolicy that refuses hash-table memory beyond a quota
// and evicts one block ahead for everything else.
type quota struct{ max int64 }

func (q quota) AllocateNewBlock(m *Manager, req AllocRequest) (Admission, error) {
	if req.Tag == TagHashTable && m.Metrics().Tags[TagHashTable]+int64(req.Size) > q.max {
		return Admission{}, fmt.Errorf("hash table quota of %d bytes exceeded: %w", q.max, ErrOutOfMemory)
	}
	return Admission{Queue: QueueLow, EvictAhead: int64(req.Size)}, nil
}

func TestAllocatePolicy(t *testing.T) {
	const bs = 4096
	m, err := New(Options{Limit: 4 * bs, TempDir: t.TempDir(), Allocate: quota{max: bs}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, _, err := m.Allocate(TagHashTable, bs)
	if err != nil {
		t.Fatal(err)
	}
	if a.Queue() != QueueLow {
		t.Errorf("queue at birth %d, want QueueLow", a.Queue())
	}
	if _, _, err := m.Allocate(TagHashTable, bs); err == nil || !strings.Contains(err.Error(), "quota") {
		t.Errorf("allocation over the quota: %v", err)
	}
	// Fill the pool with three unpinned sort buffers; the next allocation
	// evicts one block for itself and one ahead.
	for range 3 {
		b, _, err := m.Allocate(TagSort, bs)
		if err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
	}
	if _, _, err := m.Allocate(TagSort, bs); err != nil {
		t.Fatal(err)
	}
	if x := m.Metrics(); x.Used != 3*bs || x.Evictions != 2 || x.OutOfMemory != 1 {
		t.Errorf("after an allocation evicting ahead: used %d, %d evictions, %d out of memory; want %d, 2, 1", x.Used, x.Evictions, x.OutOfMemory, 3*bs)
	}
}

// TestQueuePurge: a block pinned and unpinned many times without eviction
// leaves a bounded number of queue entries.
func TestQueuePurge(t *testing.T) {
	m, err := New(Options{Limit: 1 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, _, err := m.Allocate(TagOther, 64)
	if err != nil {
		t.Fatal(err)
	}
	m.Unpin(b)
	for range 100000 {
		if _, err := m.Pin(b); err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
	}
	x := m.Metrics()
	if n := x.QueueEntries[QueueTemporary]; n > 2*minPurge {
		t.Errorf("%d queue entries for one block", n)
	}
	if x.StaleEntries < 100000-2*minPurge {
		t.Errorf("only %d stale entries purged", x.StaleEntries)
	}
	if m.Evict(10) != 1 {
		t.Error("the block was not evictable")
	}
}

func TestDefaultLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mi := write("meminfo", "MemFree:  100 kB\nMemTotal:       24684544 kB\nMemAvailable: 5 kB\n")
	if got := memTotal(mi); got != 24684544*1024 {
		t.Errorf("memTotal = %d", got)
	}
	if got := memTotal(write("bad", "MemTotal: lots\n")); got != 0 {
		t.Errorf("memTotal of garbage = %d", got)
	}
	cg := write("cgroup", "0::/db.slice\n")
	write("fs/db.slice/memory.max", "1073741824\n")
	if got := cgroupMax(cg, filepath.Join(dir, "fs")); got != 1<<30 {
		t.Errorf("cgroupMax = %d", got)
	}
	write("fs/db.slice/memory.max", "max\n")
	if got := cgroupMax(cg, filepath.Join(dir, "fs")); got != 0 {
		t.Errorf("cgroupMax of max = %d", got)
	}
	if l := DefaultLimit(); l <= 0 || l > systemMemory() {
		t.Errorf("DefaultLimit() = %d, system memory %d", l, systemMemory())
	}
}

func TestNames(t *testing.T) {
	for tag := range NumTags {
		for _, s := range []string{tag.String(), strings.ReplaceAll(tag.String(), " ", "-")} {
			if got, err := ParseTag(s); err != nil || got != tag {
				t.Errorf("ParseTag(%q) = %v, %v", s, got, err)
			}
		}
	}
	if _, err := ParseTag("heap"); err == nil {
		t.Error("ParseTag accepted an unknown tag")
	}
	for n, want := range map[int64]string{100: "100 bytes", 4096: "4 KiB", 1536 << 10: "1.5 MiB", 3 << 30: "3 GiB"} {
		if got := fmtBytes(n); got != want {
			t.Errorf("fmtBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// ownerQuota refuses an owner's allocation past max bytes held.
type ownerQuota struct{ max int64 }

func (q ownerQuota) AllocateNewBlock(m *Manager, req AllocRequest) (Admission, error) {
	if req.Owner != 0 && m.OwnerUsed(req.Owner)+int64(req.Size) > q.max {
		return Admission{}, fmt.Errorf("owner %d over %d bytes: %w", req.Owner, q.max, ErrOutOfMemory)
	}
	return DefaultAllocate{}.AllocateNewBlock(m, req)
}

// TestOwners: buffers allocated for an owner count toward it, spilled or
// not, until they are freed; a policy can hold each owner to a quota.
func TestOwners(t *testing.T) {
	const bs = 4096
	m, err := New(Options{Limit: 2 * bs, TempDir: t.TempDir(), Allocate: ownerQuota{max: 3 * bs}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var mine []*Block
	for range 3 {
		b, _, err := m.AllocateFor(7, TagHashTable, bs)
		if err != nil {
			t.Fatal(err)
		}
		m.Unpin(b) // evictable: the third allocation spills the first
		mine = append(mine, b)
	}
	if got := m.OwnerUsed(7); got != 3*bs {
		t.Fatalf("owner 7 holds %d bytes, want %d (one of them spilled)", got, 3*bs)
	}
	if _, _, err := m.AllocateFor(7, TagHashTable, bs); !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("owner 7 past its quota: %v, want ErrOutOfMemory", err)
	}
	other, _, err := m.AllocateFor(8, TagHashTable, bs)
	if err != nil {
		t.Fatalf("owner 8 under its quota: %v", err)
	}
	if b, _, err := m.Allocate(TagSort, bs); err != nil {
		t.Fatalf("no owner: %v", err)
	} else if m.OwnerUsed(0) != 0 {
		t.Fatal("owner 0 counted")
	} else {
		m.Unpin(b)
	}
	if err := m.Free(mine[0]); err != nil {
		t.Fatal(err)
	}
	if got := m.OwnerUsed(7); got != 2*bs {
		t.Fatalf("after a free owner 7 holds %d bytes, want %d", got, 2*bs)
	}
	for _, b := range mine[1:] {
		if err := m.Free(b); err != nil {
			t.Fatal(err)
		}
	}
	m.Unpin(other)
	if err := m.Free(other); err != nil {
		t.Fatal(err)
	}
	if m.OwnerUsed(7) != 0 || m.OwnerUsed(8) != 0 || len(m.owned) != 0 {
		t.Fatalf("owners left after freeing everything: %v", m.owned)
	}
}

// TestBlockLoads: Loads counts the times a block came back into memory.
func TestBlockLoads(t *testing.T) {
	m, err := New(Options{Limit: 1 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, _, err := m.Allocate(TagSort, 4096)
	if err != nil {
		t.Fatal(err)
	}
	m.Unpin(b)
	for want := uint32(0); want < 3; want++ {
		if got := b.Loads(); got != want {
			t.Fatalf("loads %d, want %d", got, want)
		}
		if m.Evict(1) != 1 {
			t.Fatal("nothing evicted")
		}
		if _, err := m.Pin(b); err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
	}
}

// TestPinCounts: every successful pin counts once, as a hit or a miss,
// also when goroutines pin the same and different blocks at once (the
// hits' stripes add up).
func TestPinCounts(t *testing.T) {
	const goroutines, blocks, rounds = 4, 40, 100
	m, err := New(Options{Limit: 1 << 30, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	bs := make([]*Block, blocks)
	for i := range bs {
		if bs[i], _, err = m.Allocate(TagOther, 64); err != nil {
			t.Fatal(err)
		}
		m.Unpin(bs[i])
	}
	// Two spilled: their first pin reads them back.
	if n := m.Evict(2); n != 2 {
		t.Fatalf("evicted %d, want 2", n)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for r := range rounds {
				b := bs[(g*7+r)%blocks]
				if _, err := m.Pin(b); err != nil {
					t.Error(err)
					return
				}
				m.Unpin(b)
			}
		})
	}
	wg.Wait()
	x := m.Metrics()
	if x.Hits != goroutines*rounds-2 || x.Misses != 2 || x.Reloads != 2 {
		t.Errorf("%d hits, %d misses, %d reloads; want %d hits, 2 misses that read back the spilled buffers", x.Hits, x.Misses, x.Reloads, goroutines*rounds-2)
	}
}
