package hooks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
)

// blockFile is a database file of stamped 4 KiB blocks behind a buffer
// manager whose Load policy is a registry's site.
type blockFile struct {
	m   *buffer.Manager
	ids []file.BlockID
}

// newBlockFile writes n blocks (block i's payload holds i and bytes
// derived from it), checkpoints, and evicts them all, under a limit of
// limit blocks.
func newBlockFile(t testing.TB, reg *Registry, n, limit int) *blockFile {
	return newBlockFileSize(t, reg, n, limit, file.MinBlockSize)
}

func newBlockFileSize(t testing.TB, reg *Registry, n, limit, blockSize int) *blockFile {
	t.Helper()
	dir := t.TempDir()
	f, err := file.Create(filepath.Join(dir, "db"), file.CreateOptions{BlockSize: blockSize})
	if err != nil {
		t.Fatal(err)
	}
	m, err := buffer.New(buffer.Options{File: f, Limit: int64(limit * f.BlockSize()), TempDir: dir, Load: reg.LoadPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); f.Close() })
	bf := &blockFile{m: m}
	for i := range n {
		b, p, err := m.AllocateBlock(buffer.TagBaseTable)
		if err != nil {
			t.Fatal(err)
		}
		fillBlock(p, uint64(i))
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
	m.Evict(n)
	if m.Used() != 0 {
		t.Fatalf("%d bytes in use after evicting every block", m.Used())
	}
	return bf
}

func fillBlock(p []byte, i uint64) {
	binary.LittleEndian.PutUint64(p, i)
	for j := 8; j < len(p); j++ {
		p[j] = byte(uint64(j)*13 + i)
	}
}

func checkBlock(p []byte, i uint64) error {
	if got := binary.LittleEndian.Uint64(p); got != i {
		return fmt.Errorf("block %d holds block %d's bytes", i, got)
	}
	for j := 8; j < len(p); j++ {
		if p[j] != byte(uint64(j)*13+i) {
			return fmt.Errorf("block %d: byte %d is %d, want %d", i, j, p[j], byte(uint64(j)*13+i))
		}
	}
	return nil
}

// scan pins and unpins every block in order, checking its bytes.
func (bf *blockFile) scan(t testing.TB) {
	t.Helper()
	if err := bf.scanErr(); err != nil {
		t.Fatal(err)
	}
}

func (bf *blockFile) scanErr() error {
	for i, id := range bf.ids {
		b := bf.m.Persistent(id, buffer.TagBaseTable)
		p, err := bf.m.Pin(b)
		if err != nil {
			return err
		}
		err = checkBlock(p, uint64(i))
		bf.m.Unpin(b)
		if err != nil {
			return err
		}
	}
	return nil
}

// mapValues returns entries 0..n-1 of an array map of 8-byte values.
func mapValues(t *testing.T, a *Attachment, name string, n uint32) []int64 {
	t.Helper()
	var out []int64
	for k := range n {
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], k)
		v, err := a.Maps()[name].Lookup(key[:])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, int64(binary.LittleEndian.Uint64(v)))
	}
	return out
}

const (
	scanBlocks = 64
	scanLimit  = 8 // blocks
)

// TestLoadReadAhead scans a file of 64 blocks under a limit of 8 blocks:
// the built-in and load_default read every block when it is pinned;
// load_readahead reads the block that missed and starts readaheads of
// the next four, so that only about one pin in five waits for a
// synchronous read.
func TestLoadReadAhead(t *testing.T) {
	reg := quiet(t, Options{})
	if _, builtin := reg.LoadPolicy().(buffer.DefaultLoad); builtin == enabled {
		t.Errorf("LoadPolicy is %T with hooks enabled=%v", reg.LoadPolicy(), enabled)
	}
	bf := newBlockFile(t, reg, scanBlocks, scanLimit)
	bf.scan(t)
	if x := bf.m.Metrics(); x.Loads != scanBlocks || x.ReadAheads != 0 {
		t.Fatalf("built-in: want %d loads, no readaheads:\n%s", scanBlocks, x)
	}
	for _, eng := range engines(t) {
		t.Run("load_default/"+eng.String(), func(t *testing.T) {
			reg := quiet(t, Options{Engine: eng})
			a, err := reg.Attach(ext.Load, object(t, "load.o"), "load_default")
			if err != nil {
				t.Fatal(err)
			}
			bf := newBlockFile(t, reg, scanBlocks, scanLimit)
			bf.scan(t)
			bf.scan(t)
			if st := a.Stats(); st.Calls != 2*scanBlocks || st.Handled != st.Calls || st.Errors != 0 || st.Violations != 0 {
				t.Errorf("stats %s, want %d calls, all handled", st, 2*scanBlocks)
			}
			if x := bf.m.Metrics(); x.Loads != 2*scanBlocks || x.PolicyRepairs != 0 {
				t.Errorf("want %d loads and no repairs:\n%s", 2*scanBlocks, x)
			}
		})
		t.Run("load_readahead/"+eng.String(), func(t *testing.T) {
			reg := quiet(t, Options{Engine: eng})
			a, err := reg.Attach(ext.Load, object(t, "load.o"), "load_readahead")
			if err != nil {
				t.Fatal(err)
			}
			bf := newBlockFile(t, reg, scanBlocks, scanLimit)
			bf.scan(t)
			x := bf.m.Metrics()
			t.Logf("scan of %d blocks under a limit of %d: %d synchronous loads, %d readaheads (%d used, %d wasted)",
				scanBlocks, scanLimit, x.Loads, x.ReadAheads, x.ReadAheadsUsed, x.ReadAheadsWasted)
			if x.Loads > scanBlocks/2 || x.ReadAheadsUsed == 0 || x.Loads+x.ReadAheadsUsed != scanBlocks {
				t.Errorf("want at most %d synchronous loads, the other pins served by readaheads:\n%s", scanBlocks/2, x)
			}
			if x.Used > x.Limit || x.OutOfMemory != 0 || x.PolicyRepairs != 0 {
				t.Errorf("readahead broke the limit or the load:\n%s", x)
			}
			// misses seen, readaheads started, refused (only past the
			// last block: -EINVAL).
			c := mapValues(t, a, "ahead", 3)
			if c[0] != x.Loads || c[1] != x.ReadAheads || c[0]*4 != c[1]+c[2] || c[2] > 4 {
				t.Errorf("program counters %v (misses, started, refused) disagree with\n%s", c, x)
			}
			if st := a.Stats(); st.Calls != uint64(x.Loads) || st.Handled != st.Calls || st.Violations != 0 {
				t.Errorf("stats %s, want one handled call per load", st)
			}
		})
	}
}

// TestLoadHostile attaches programs that break the Load contract: the
// host reads every block exactly once whatever they return, counts the
// violations and errors, and the data stays right.
func TestLoadHostile(t *testing.T) {
	cases := []struct {
		program    string
		errors     bool // every call fails
		violations bool // every call is a violation
		err        error
	}{
		{program: "load_no_read", violations: true},
		{program: "load_error", errors: true, err: ErrReturned},
		{program: "load_read_then_error", errors: true, err: ErrReturned},
	}
	for _, c := range cases {
		for _, eng := range engines(t) {
			t.Run(c.program+"/"+eng.String(), func(t *testing.T) {
				reg := quiet(t, Options{Engine: eng, MaxErrors: -1})
				a, err := reg.Attach(ext.Load, object(t, "load.o"), c.program)
				if err != nil {
					t.Fatal(err)
				}
				bf := newBlockFile(t, reg, scanBlocks, scanLimit)
				bf.scan(t)
				const n = scanBlocks
				st := a.Stats()
				want := Stats{Calls: n}
				if c.errors {
					want.Errors = n
				}
				if c.violations {
					want.Violations, want.Handled = n, n
				}
				if st.Calls != want.Calls || st.Errors != want.Errors || st.Violations != want.Violations || st.Handled != want.Handled {
					t.Errorf("stats %s, want %s", st, want)
				}
				if x := bf.m.Metrics(); x.Loads != n || x.PolicyRepairs != 0 {
					t.Errorf("want each block read once by the site, no repairs left to the manager:\n%s", x)
				}
				if c.err != nil && !errors.Is(a.LastError(), c.err) {
					t.Errorf("last error %v, want %v", a.LastError(), c.err)
				}
			})
		}
	}
}

// TestLoadErrorsDetach: after MaxErrors failed calls the program is
// detached and later misses are read by the built-in, not the program.
func TestLoadErrorsDetach(t *testing.T) {
	reg := quiet(t, Options{MaxErrors: 5})
	a, err := reg.Attach(ext.Load, object(t, "load.o"), "load_error")
	if err != nil {
		t.Fatal(err)
	}
	bf := newBlockFile(t, reg, 12, 4)
	bf.scan(t)
	if st := a.Stats(); st.Calls != 5 || st.Errors != 5 {
		t.Errorf("stats %s, want 5 calls, 5 errors", st)
	}
	if reg.Attached(ext.Load) != nil {
		t.Error("still attached after 5 errors")
	}
	if x := bf.m.Metrics(); x.Loads != 12 {
		t.Errorf("want 12 loads:\n%s", x)
	}
}

// TestLoadContextAndHelpers checks the context of a block's load and
// what the helpers return, under a limit with room for readaheads and
// under one without; then a spilled temporary buffer's load.
func TestLoadContextAndHelpers(t *testing.T) {
	for _, c := range []struct {
		limit int
		ahead int64 // what bpfdb_read_ahead(block+1) returns
	}{{8, 0}, {1, -errNOMEM}} {
		t.Run(fmt.Sprintf("limit=%d", c.limit), func(t *testing.T) {
			reg := quiet(t, Options{})
			a, err := reg.Attach(ext.Load, object(t, "load.o"), "load_report")
			if err != nil {
				t.Fatal(err)
			}
			bf := newBlockFile(t, reg, 3, c.limit)
			m := bf.m
			b := m.Persistent(bf.ids[1], buffer.TagBaseTable)
			p, err := m.Pin(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkBlock(p, 1); err != nil {
				t.Fatal(err)
			}
			m.Unpin(b)
			got := mapValues(t, a, "report", 10)
			// block, size, tag, temporary, worker; readahead of itself
			// (being loaded), of no block, of the next; two reads.
			want := []int64{int64(bf.ids[1]), int64(m.BlockSize()), int64(buffer.TagBaseTable), 0, noWorker,
				-errBUSY, -errINVAL, c.ahead, 0, -errALREADY}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("report %v, want %v", got, want)
			}
			x := m.Metrics()
			if x.Loads != 1 || x.Used > x.Limit || x.OutOfMemory != 0 {
				t.Errorf("want one load within the limit:\n%s", x)
			}
			if c.ahead == 0 {
				// Block 2 was read ahead: its pin runs no program.
				calls := a.Stats().Calls
				b2 := m.Persistent(bf.ids[2], buffer.TagBaseTable)
				p, err := m.Pin(b2)
				if err != nil {
					t.Fatal(err)
				}
				if err := checkBlock(p, 2); err != nil {
					t.Fatal(err)
				}
				m.Unpin(b2)
				if x := m.Metrics(); a.Stats().Calls != calls || x.Loads != 1 || x.ReadAheadsUsed != 1 {
					t.Errorf("the pin of the block read ahead loaded it again:\n%s", x)
				}
			}
		})
	}
	t.Run("temporary", func(t *testing.T) {
		reg := quiet(t, Options{})
		a, err := reg.Attach(ext.Load, object(t, "load.o"), "load_report")
		if err != nil {
			t.Fatal(err)
		}
		m, err := buffer.New(buffer.Options{Limit: 2 * bufSize, TempDir: t.TempDir(), Load: reg.LoadPolicy()})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		tb, buf, err := m.Allocate(buffer.TagSort, bufSize)
		if err != nil {
			t.Fatal(err)
		}
		fillBlock(buf, 77)
		m.Unpin(tb)
		if m.Evict(1) != 1 {
			t.Fatal("the buffer was not evicted")
		}
		p, err := m.Pin(tb)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkBlock(p, 77); err != nil {
			t.Fatal(err)
		}
		got := mapValues(t, a, "report", 10)
		// temp 1; no database file: every readahead is -EINVAL.
		want := []int64{1, bufSize, int64(buffer.TagSort), 1, noWorker, -errINVAL, -errINVAL, -errINVAL, 0, -errALREADY}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("report %v, want %v", got, want)
		}
		if x := m.Metrics(); x.Reloads != 1 || x.TempHeld != 0 {
			t.Errorf("want one reload, nothing left in the temporary file:\n%s", x)
		}
	})
}

// TestReadAheadErrno checks the errno a program sees for each refusal.
func TestReadAheadErrno(t *testing.T) {
	for _, c := range []struct {
		err   error
		errno int64
	}{
		{buffer.ErrNoSuchBlock, errINVAL},
		{buffer.ErrFreed, errINVAL},
		{buffer.ErrInMemory, errALREADY},
		{buffer.ErrBusy, errBUSY},
		{buffer.ErrOutOfMemory, errNOMEM},
		{buffer.ErrClosed, errSHUTDOWN},
		{errors.New("disk on fire"), errIO},
	} {
		if got := readAheadErrno(fmt.Errorf("read ahead block 3: %w", c.err)); got != c.errno {
			t.Errorf("%v: errno %d, want %d", c.err, got, c.errno)
		}
	}
}

// TestLoadConcurrent runs scans from four goroutines while the Load
// program is swapped 30 times between load_readahead, load_no_read and
// nothing. Every pin must see its block's bytes and the limit must hold.
// Run it with -race.
func TestLoadConcurrent(t *testing.T) {
	reg := New(Options{MaxErrors: -1, Logf: func(string, ...any) {}})
	obj := object(t, "load.o")
	bf := newBlockFile(t, reg, scanBlocks, scanLimit)
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	scans := make([]int, 4)
	for g := range 4 {
		wg.Go(func() {
			for {
				if err := bf.scanErr(); err != nil {
					errs <- err
					return
				}
				scans[g]++
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	for i := range 30 {
		var err error
		switch i % 3 {
		case 0:
			_, err = reg.Attach(ext.Load, obj, "load_readahead")
		case 1:
			_, err = reg.Attach(ext.Load, obj, "load_no_read")
		case 2:
			err = reg.Detach(ext.Load)
		}
		if err != nil {
			t.Error(err)
			break
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	x := bf.m.Metrics()
	t.Logf("scans per goroutine %v; %d loads, %d readaheads", scans, x.Loads, x.ReadAheads)
	if x.Used > x.Limit || x.OutOfMemory != 0 || x.PolicyRepairs != 0 {
		t.Errorf("after the scans:\n%s", x)
	}
}

// BenchmarkLoadSite measures one Load policy call on a 4 KiB block of the
// database file (in the page cache): the built-in policy called directly,
// the site with nothing attached (one atomic load and a branch more;
// under -tags nohooks the site is the built-in), and the site running
// load_default.
func BenchmarkLoadSite(b *testing.B) {
	reg := New(Options{Logf: b.Logf})
	bf := newBlockFile(b, reg, 1, 4)
	blk := bf.m.Persistent(bf.ids[0], buffer.TagBaseTable)
	buf := make([]byte, bf.m.BlockSize())
	run := func(b *testing.B, p buffer.LoadPolicy) {
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Load(bf.m, blk, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	var builtin buffer.LoadPolicy = buffer.DefaultLoad{}
	b.Run("builtin", func(b *testing.B) { run(b, builtin) })
	b.Run("nothing-attached", func(b *testing.B) { run(b, reg.LoadPolicy()) })
	if !enabled {
		return
	}
	for _, eng := range benchEngines() {
		b.Run("load_default/"+eng.String(), func(b *testing.B) {
			reg := New(Options{Engine: eng, Logf: b.Logf})
			if _, err := reg.Attach(ext.Load, object(b, "load.o"), "load_default"); err != nil {
				b.Fatal(err)
			}
			run(b, reg.LoadPolicy())
		})
	}
}

// BenchmarkLoadScan scans 256 blocks of 4 KiB, or 64 of 256 KiB, that are
// not in memory (evicted after each scan; the file is in the page cache)
// under a limit of 16 blocks, with the built-in Load and with
// load_readahead; sync-loads/op is the pins that waited for a synchronous
// read.
func BenchmarkLoadScan(b *testing.B) {
	for _, c := range []struct {
		program   string
		blocks    int
		blockSize int
	}{{"", 256, file.MinBlockSize}, {"load_readahead", 256, file.MinBlockSize}, {"", 64, file.DefaultBlockSize}, {"load_readahead", 64, file.DefaultBlockSize}} {
		program := c.program
		name := program
		if name == "" {
			name = "builtin"
		}
		b.Run(fmt.Sprintf("%dKiB/%s", c.blockSize>>10, name), func(b *testing.B) {
			reg := New(Options{Engine: ebpf.EngineAuto, Logf: b.Logf})
			if program != "" {
				if _, err := reg.Attach(ext.Load, object(b, "load.o"), program); err != nil {
					b.Fatal(err)
				}
			}
			bf := newBlockFileSize(b, reg, c.blocks, 16, c.blockSize)
			b.SetBytes(int64(c.blocks * c.blockSize))
			before := bf.m.Metrics().Loads
			for b.Loop() {
				bf.scan(b)
				bf.m.Evict(c.blocks)
			}
			b.ReportMetric(float64(bf.m.Metrics().Loads-before)/float64(b.N), "sync-loads/op")
		})
	}
}

// TestEveryHookHasSite: with the Load site, Attach refuses no hook for
// want of a site (an empty object fails for another reason).
func TestEveryHookHasSite(t *testing.T) {
	object(t, "load.o") // skips under nohooks
	reg := quiet(t, Options{})
	for _, hook := range ext.Hooks() {
		if _, err := reg.Attach(hook, nil, ""); err == nil || errors.Is(err, ErrNoSite) {
			t.Errorf("attach of an empty object to %s: %v", hook, err)
		}
	}
}
