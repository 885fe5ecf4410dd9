package extensions_test

import (
	"encoding/binary"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/hooks"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
)

const (
	fileBlocks = 128
	fileLimit  = 16 // blocks
)

// blockFile is a database file of fileBlocks blocks, all evicted, read
// through a buffer manager whose policies are a registry's sites.
type blockFile struct {
	m   *buffer.Manager
	ids []file.BlockID
}

func newBlockFile(t *testing.T, reg *hooks.Registry) *blockFile {
	t.Helper()
	dir := t.TempDir()
	f, err := file.Create(filepath.Join(dir, "db"), file.CreateOptions{BlockSize: file.MinBlockSize})
	if err != nil {
		t.Fatal(err)
	}
	m, err := buffer.New(buffer.Options{
		File: f, Limit: int64(fileLimit * f.BlockSize()), TempDir: dir,
		Load: reg.LoadPolicy(), Unpin: reg.UnpinPolicy(), Memory: reg.MemoryPolicy(), Allocate: reg.AllocatePolicy(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); f.Close() })
	bf := &blockFile{m: m}
	for i := range fileBlocks {
		b, p, err := m.AllocateBlock(buffer.TagBaseTable)
		if err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint64(p, uint64(i))
		id, err := m.MakePersistent(b)
		if err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
		bf.ids = append(bf.ids, id)
	}
	if err := f.Checkpoint(nil); err != nil {
		t.Fatal(err)
	}
	m.Evict(fileBlocks)
	return bf
}

// read pins and unpins the blocks in the order given, checking each one's
// bytes, and returns the manager's metrics.
func (bf *blockFile) read(t *testing.T, order []int) buffer.Metrics {
	t.Helper()
	for _, i := range order {
		b := bf.m.Persistent(bf.ids[i], buffer.TagBaseTable)
		p, err := bf.m.Pin(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint64(p); got != uint64(i) {
			t.Fatalf("block %d holds block %d's bytes", i, got)
		}
		bf.m.Unpin(b)
	}
	return bf.m.Metrics()
}

func sequential() []int {
	order := make([]int, fileBlocks)
	for i := range order {
		order[i] = i
	}
	return order
}

// TestLoadDefault: with load/default attached, a scan and a random read
// of a file load exactly the blocks the built-in loads, each read once by
// the program.
func TestLoadDefault(t *testing.T) {
	random := rand.New(rand.NewPCG(1, 2)).Perm(fileBlocks)
	order := append(sequential(), random...)
	want := newBlockFile(t, hooks.New(hooks.Options{Logf: t.Logf})).read(t, order)
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.Load, "default")
			got := newBlockFile(t, reg).read(t, order)
			if got != want {
				t.Errorf("metrics:\n%s\nbuilt-in:\n%s", got, want)
			}
			if st := a.Stats(); st.Calls != uint64(got.Loads) || st.Handled != st.Calls || st.Errors != 0 || st.Violations != 0 {
				t.Errorf("stats %s, want one handled call per load (%d)", st, got.Loads)
			}
		})
	}
}

// TestLoadReadahead: a sequential scan of 128 blocks under a limit of 16
// waits for every block with the built-in read; with load/readahead
// (window 8) most pins find their block read ahead, so only about one in
// nine waits. A random read starts almost no readahead, and a window set
// to 2 in the map makes more pins wait.
func TestLoadReadahead(t *testing.T) {
	builtin := newBlockFile(t, hooks.New(hooks.Options{Logf: t.Logf})).read(t, sequential())
	if builtin.Loads != fileBlocks {
		t.Fatalf("built-in: %d synchronous loads, want %d", builtin.Loads, fileBlocks)
	}
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.Load, "readahead")
			x := newBlockFile(t, reg).read(t, sequential())
			t.Logf("sequential scan of %d blocks: %d synchronous loads (built-in %d), %d readaheads, %d used, %d wasted",
				fileBlocks, x.Loads, builtin.Loads, x.ReadAheads, x.ReadAheadsUsed, x.ReadAheadsWasted)
			if x.Loads > fileBlocks/6 || x.Loads+x.ReadAheadsUsed != fileBlocks {
				t.Errorf("want at most %d synchronous loads, every other pin served by a readahead:\n%s", fileBlocks/6, x)
			}
			if x.Used > x.Limit || x.OutOfMemory != 0 || x.PolicyRepairs != 0 {
				t.Errorf("readahead broke the limit or the load:\n%s", x)
			}

			rnd := newBlockFile(t, reg).read(t, rand.New(rand.NewPCG(3, 4)).Perm(fileBlocks))
			t.Logf("random read: %d synchronous loads, %d readaheads", rnd.Loads, rnd.ReadAheads)
			if rnd.ReadAheads > fileBlocks/8 {
				t.Errorf("random read: %d readaheads, want few", rnd.ReadAheads)
			}

			update(t, a.Maps()["config"], uint32(0), uint32(2))
			small := newBlockFile(t, reg).read(t, sequential())
			t.Logf("window 2: %d synchronous loads", small.Loads)
			if small.Loads <= x.Loads || small.Loads > fileBlocks/2 {
				t.Errorf("window 2: %d synchronous loads, want between %d and %d", small.Loads, x.Loads, fileBlocks/2)
			}
			if st := a.Stats(); st.Handled != st.Calls || st.Errors != 0 || st.Violations != 0 {
				t.Errorf("stats %s", st)
			}
		})
	}
}
