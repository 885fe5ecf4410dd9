package buffer

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/storage/file"
)

// testSeed returns the seed of a randomized test, from BPFDB_BUFFER_SEED if
// set, and logs it.
func testSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BPFDB_BUFFER_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("BPFDB_BUFFER_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (rerun with BPFDB_BUFFER_SEED=%d)", seed, seed)
	return seed
}

// stamp fills a payload with bytes derived from key and version; stamped
// checks them.
func stamp(p []byte, key, version uint64) {
	binary.LittleEndian.PutUint64(p, key)
	binary.LittleEndian.PutUint64(p[8:], version)
	for i := 16; i < len(p); i++ {
		p[i] = byte(uint64(i)*31 + key*7 + version)
	}
}

func stamped(p []byte, key, version uint64) bool {
	if binary.LittleEndian.Uint64(p) != key || binary.LittleEndian.Uint64(p[8:]) != version {
		return false
	}
	for i := 16; i < len(p); i++ {
		if p[i] != byte(uint64(i)*31+key*7+version) {
			return false
		}
	}
	return true
}

// TestWorkloadTenTimesTheLimit runs goroutines over persistent blocks and
// temporary buffers that together need ten times the memory limit. It
// completes by evicting (reloading persistent blocks, spilling and reading
// back temporary ones), every block keeps its bytes, and the accounted
// memory never exceeds the limit by more than one block. Run it with -race.
// It runs with the built-in policies, with an Unpin policy that unloads
// every block at its last unpin, and with a Load policy that reads the
// next two blocks ahead.
func TestWorkloadTenTimesTheLimit(t *testing.T) {
	seed := testSeed(t)
	t.Run("built-in", func(t *testing.T) { workload(t, seed, Options{}, false) })
	t.Run("unload-at-unpin", func(t *testing.T) { workload(t, seed, Options{Unpin: unloadAll{}}, false) })
	// A controller raises and lowers the limit, evicts and reads the state
	// meanwhile; the bound is then the higher limit.
	t.Run("with-controller", func(t *testing.T) { workload(t, seed, Options{}, true) })
	t.Run("read-ahead", func(t *testing.T) { workload(t, seed, Options{Load: readAheadLoad{2}}, true) })
}

// readAheadLoad is a Load policy that reads the block, then starts
// readaheads of the next n block numbers (whatever they are).
type readAheadLoad struct{ n int }

func (p readAheadLoad) Load(m *Manager, b *Block, buf []byte) error {
	if err := m.ReadBlock(b, buf); err != nil {
		return err
	}
	if b.Kind() == Persistent {
		for k := range p.n {
			m.ReadAhead(b.Number() + uint64(k) + 1)
		}
	}
	return nil
}

func workload(t *testing.T, seed uint64, policies Options, control bool) {
	const (
		limitBlocks = 16
		workers     = 4
		persistent  = 5 * limitBlocks           // half the data
		temps       = 5 * limitBlocks / workers // per worker: the other half
		ops         = 400                       // per worker
	)
	dir := t.TempDir()
	f, err := file.Create(filepath.Join(dir, "db"), file.CreateOptions{BlockSize: file.MinBlockSize})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bs := int64(f.BlockSize())
	limit := limitBlocks * bs
	opts := policies
	opts.File, opts.Limit, opts.TempDir = f, limit, dir
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var overMu sync.Mutex
	var over []int64
	bound := limit + bs
	if control {
		bound += limit
	}
	check := func() {
		if u := m.Used(); u > bound {
			overMu.Lock()
			over = append(over, u)
			overMu.Unlock()
		}
	}

	ids := make([]file.BlockID, persistent)
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
		check()
	}
	if err := f.Checkpoint(nil); err != nil {
		t.Fatal(err)
	}

	var wg, allocated sync.WaitGroup
	allocated.Add(workers)
	errs := make(chan error, workers+1)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			fail := func(format string, args ...any) {
				errs <- fmt.Errorf("worker %d: "+format, append([]any{w}, args...)...)
			}
			type temp struct {
				b       *Block
				version uint64
			}
			mine := make([]temp, temps)
			tag := TagHashTable
			if w%2 == 1 {
				tag = TagSort
			}
			for i := range mine {
				b, p, err := m.AllocateBlock(tag)
				if err != nil {
					fail("allocate temp %d: %v", i, err)
					allocated.Done() // the others wait for this one
					return
				}
				stamp(p, uint64(1000*w+i), 0)
				mine[i].b = b
				m.Unpin(b)
				check()
			}
			// All temporary buffers exist before anyone works on them, so
			// that together they need more than the limit however the
			// goroutines are scheduled.
			allocated.Done()
			allocated.Wait()
			for op := range ops {
				if r.IntN(2) == 0 {
					i := r.IntN(persistent)
					b := m.Persistent(ids[i], TagBaseTable)
					p, err := m.Pin(b)
					if err != nil {
						fail("op %d: pin block %d: %v", op, ids[i], err)
						return
					}
					check()
					if !stamped(p, uint64(i), 0) {
						fail("op %d: block %d lost its bytes", op, ids[i])
					}
					m.Unpin(b)
				} else {
					i := r.IntN(temps)
					tb := &mine[i]
					p, err := m.Pin(tb.b)
					if err != nil {
						fail("op %d: pin temp %d: %v", op, i, err)
						return
					}
					check()
					if !stamped(p, uint64(1000*w+i), tb.version) {
						fail("op %d: temp %d lost its bytes (version %d)", op, i, tb.version)
					}
					tb.version++
					stamp(p, uint64(1000*w+i), tb.version)
					m.Unpin(tb.b)
				}
				check()
			}
			for _, tb := range mine {
				if err := m.Free(tb.b); err != nil {
					fail("free: %v", err)
				}
			}
		})
	}
	stop := make(chan struct{})
	var ctl sync.WaitGroup
	if control {
		ctl.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				l := limit
				if i%2 == 0 {
					l = 2 * limit
				}
				if err := m.SetLimit(l); err != nil {
					errs <- fmt.Errorf("controller: %w", err)
					return
				}
				m.Evict(2)
				_ = m.Metrics().String()
				_ = m.QueueString()
				_ = m.Persistent(ids[i%persistent], TagBaseTable).Info()
				check()
			}
		})
	}
	wg.Wait()
	close(stop)
	ctl.Wait()
	if err := m.SetLimit(limit); err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(over) > 0 {
		t.Errorf("accounted memory exceeded the limit %d by more than a block %d times, up to %d", limit, len(over), over[len(over)-1])
	}
	x := m.Metrics()
	t.Logf("after the workload:\n%s", x)
	if x.Spills == 0 || x.Reloads == 0 || x.Loads == 0 || x.OutOfMemory != 0 {
		t.Errorf("want spills, reloads and loads and no out-of-memory errors: %+v", x)
	}
	if policies.Load != nil && (x.ReadAheads == 0 || x.ReadAheadsUsed+x.ReadAheadsWasted > x.ReadAheads) {
		t.Errorf("want readaheads, no more used and wasted than started: %+v", x)
	}
	var sum int64
	for _, v := range x.Tags {
		sum += v
	}
	if sum != x.Used || x.Used > limit {
		t.Errorf("tags sum to %d, used %d, limit %d", sum, x.Used, limit)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "bpfdb-spill-*")); len(left) != 0 {
		t.Errorf("the temporary file is left after Close: %v", left)
	}
}
