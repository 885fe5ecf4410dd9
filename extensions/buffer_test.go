package extensions_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/hooks"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

const bufSize = 4096

// manager returns a buffer manager whose Unpin, UpdateUsedMemory and
// AllocateNewBlock policies are reg's sites, with room for limit buffers.
func manager(t *testing.T, reg *hooks.Registry, limit int) *buffer.Manager {
	t.Helper()
	m, err := buffer.New(buffer.Options{
		Limit: int64(limit * bufSize), TempDir: t.TempDir(),
		Unpin: reg.UnpinPolicy(), Memory: reg.MemoryPolicy(), Allocate: reg.AllocatePolicy(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// workload drives a manager of 16 buffers with a seeded random mix of
// allocations under every tag, pins, unpins, frees and a lowered and
// raised limit, and returns its metrics and the bytes of every buffer it
// reads back (which the manager must return intact). It is
// single-threaded, so equal policies give equal metrics.
func workload(t *testing.T, reg *hooks.Registry, seed uint64) (buffer.Metrics, string) {
	m := manager(t, reg, 16)
	r := rand.New(rand.NewPCG(seed, 7))
	type buf struct {
		b      *buffer.Block
		stamp  byte
		pinned bool
	}
	var bufs []*buf
	var log []byte
	for step := range 3000 {
		switch op := r.IntN(10); {
		case op < 3 || len(bufs) == 0:
			tag := buffer.Tag(r.IntN(int(buffer.NumTags)))
			b, data, err := m.Allocate(tag, bufSize)
			if errors.Is(err, buffer.ErrOutOfMemory) {
				continue
			}
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			x := &buf{b: b, stamp: byte(step), pinned: true}
			data[0], data[bufSize-1] = x.stamp, x.stamp
			bufs = append(bufs, x)
		case op < 7:
			x := bufs[r.IntN(len(bufs))]
			if x.pinned {
				m.Unpin(x.b)
				x.pinned = false
				continue
			}
			data, err := m.Pin(x.b)
			if errors.Is(err, buffer.ErrOutOfMemory) {
				continue
			}
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			x.pinned = true
			if data[0] != x.stamp || data[bufSize-1] != x.stamp {
				t.Fatalf("step %d: %v lost its bytes", step, x.b)
			}
			log = append(log, data[0])
		case op < 8:
			i := r.IntN(len(bufs))
			if bufs[i].pinned {
				m.Unpin(bufs[i].b)
			}
			if err := m.Free(bufs[i].b); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			bufs = append(bufs[:i], bufs[i+1:]...)
		case op < 9:
			if err := m.SetLimit(int64((8 + r.IntN(12)) * bufSize)); err != nil && !errors.Is(err, buffer.ErrOutOfMemory) {
				t.Fatalf("step %d: %v", step, err)
			}
		default:
			m.Evict(1 + r.IntN(3))
		}
	}
	reg.FlushMemory()
	return m.Metrics(), fmt.Sprintf("%x", log)
}

// TestBufferDefaults: with unpin/default, update_used_memory/default and
// allocate_new_block/default attached (each alone, then all three), a
// random workload ends with exactly the buffer manager's metrics and data
// of the built-in policies: every placement, admission and count agreed.
func TestBufferDefaults(t *testing.T) {
	seed := vectortest.Seed(t)
	want, wantData := workload(t, hooks.New(hooks.Options{Logf: t.Logf}), seed)
	if want.Reloads == 0 || want.Evictions == 0 || want.OutOfMemory == 0 {
		t.Fatalf("the workload does not evict, reload and run out of memory:\n%s", want)
	}
	all := []ext.Hook{ext.Unpin, ext.UpdateUsedMemory, ext.AllocateNewBlock}
	for _, eng := range engines(t) {
		for _, hs := range [][]ext.Hook{{ext.Unpin}, {ext.UpdateUsedMemory}, {ext.AllocateNewBlock}, all} {
			t.Run(fmt.Sprint(eng, hs), func(t *testing.T) {
				reg := registry(t, eng)
				var as []*hooks.Attachment
				for _, h := range hs {
					as = append(as, attach(t, reg, h, "default"))
				}
				got, gotData := workload(t, reg, seed)
				if got != want || gotData != wantData {
					t.Errorf("metrics with the defaults:\n%s\nbuilt-in:\n%s", got, want)
				}
				for _, a := range as {
					if st := a.Stats(); st.Calls == 0 || st.Handled != st.Calls || st.Errors != 0 || st.Violations != 0 {
						t.Errorf("%s: %s, want calls, all handled", a.Hook(), st)
					}
				}
			})
		}
	}
}

// TestMemoryPressure: with update_used_memory/pressure attached, the
// random workload ends with exactly the built-in's metrics (it counts as
// the built-in does), and the program's map accounts every tag: bytes
// reserved minus released equal the tag's count, and the reservations
// made above 90% of the limit are counted, none below.
func TestMemoryPressure(t *testing.T) {
	seed := vectortest.Seed(t)
	want, wantData := workload(t, hooks.New(hooks.Options{Logf: t.Logf}), seed)
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.UpdateUsedMemory, "pressure")
			got, gotData := workload(t, reg, seed)
			if got != want || gotData != wantData {
				t.Errorf("metrics with pressure:\n%s\nbuilt-in:\n%s", got, want)
			}
			var pressed, reservations uint64
			for tag := range buffer.NumTags {
				v, err := a.Maps()["tags"].Lookup(binary.LittleEndian.AppendUint32(nil, uint32(tag)))
				if err != nil {
					t.Fatal(err)
				}
				le := binary.LittleEndian
				reserved, released, n, bytes := le.Uint64(v), le.Uint64(v[8:]), le.Uint64(v[16:]), le.Uint64(v[24:])
				t.Logf("%-12v reserved %8d released %8d: above 90%% of the limit %4d reservations, %8d bytes", tag, reserved, released, n, bytes)
				if int64(reserved-released) != got.Tags[tag] {
					t.Errorf("%v: reserved %d - released %d != the tag's count %d", tag, reserved, released, got.Tags[tag])
				}
				if bytes > reserved || (n == 0) != (bytes == 0) {
					t.Errorf("%v: %d reservations of %d bytes above the threshold, of %d reserved", tag, n, bytes, reserved)
				}
				pressed += n
				reservations += reserved / bufSize
			}
			if pressed == 0 || pressed >= reservations {
				t.Errorf("%d reservations above the threshold of %d: want some, not all", pressed, reservations)
			}
			// A threshold of 100% of the limit: never above it.
			update(t, a.Maps()["config"], uint32(0), uint32(100))
			before := pressedTotal(t, a)
			workload(t, reg, seed)
			if after := pressedTotal(t, a); after != before {
				t.Errorf("threshold 100%%: %d more reservations above the limit, want none", after-before)
			}
		})
	}
}

// pressedTotal sums the reservations above the threshold over the tags.
func pressedTotal(t *testing.T, a *hooks.Attachment) uint64 {
	t.Helper()
	var n uint64
	for tag := range uint32(buffer.NumTags) {
		v, err := a.Maps()["tags"].Lookup(binary.LittleEndian.AppendUint32(nil, tag))
		if err != nil {
			t.Fatal(err)
		}
		n += binary.LittleEndian.Uint64(v[16:])
	}
	return n
}

// hotThenScan uses 6 hot buffers (each pinned three times), scans 200
// buffers used once under a limit of 16, then pins the hot ones again and
// returns how many had to be read back from the temporary file, and the
// manager.
func hotThenScan(t *testing.T, reg *hooks.Registry) (int64, *buffer.Manager) {
	m := manager(t, reg, 16)
	var hot []*buffer.Block
	for range 6 {
		b, data, err := m.Allocate(buffer.TagColumnData, bufSize)
		if err != nil {
			t.Fatal(err)
		}
		data[0] = 1
		m.Unpin(b)
		hot = append(hot, b)
	}
	pin := func(b *buffer.Block) {
		if _, err := m.Pin(b); err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
	}
	for range 2 {
		time.Sleep(2 * time.Millisecond) // another query: beyond the correlated reference period
		for _, b := range hot {
			pin(b)
		}
	}
	for range 200 {
		b, _, err := m.Allocate(buffer.TagColumnData, bufSize)
		if err != nil {
			t.Fatal(err)
		}
		m.Unpin(b)
	}
	before := m.Metrics().Reloads
	for _, b := range hot {
		pin(b)
	}
	return m.Metrics().Reloads - before, m
}

// TestUnpinScanResistant: after a scan of 200 buffers under a limit of 16,
// the built-in LRU has evicted the 6 hot buffers; with
// unpin/scan_resistant none of them must be read back.
func TestUnpinScanResistant(t *testing.T) {
	builtin, _ := hotThenScan(t, hooks.New(hooks.Options{Logf: t.Logf}))
	if builtin != 6 {
		t.Fatalf("built-in LRU: %d hot buffers read back after the scan, want all 6", builtin)
	}
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.Unpin, "scan_resistant")
			got, m := hotThenScan(t, reg)
			t.Logf("hot buffers read back: built-in %d, scan_resistant %d", builtin, got)
			if got != 0 {
				t.Errorf("scan_resistant: %d hot buffers read back after the scan, want 0", got)
			}
			if st := a.Stats(); st.Handled == 0 || st.Errors != 0 || st.Violations != 0 {
				t.Errorf("stats %s", st)
			}
			if x := m.Metrics(); x.QueueEntries[buffer.QueueLow] == 0 {
				t.Errorf("no entries in the low queue:\n%s", x)
			}
			// The map marks the hot buffers, and only them.
			hot := 0
			for _, v := range a.Maps()["seen"].All() {
				if binary.LittleEndian.Uint32(v[24:]) == 1 {
					hot++
				}
			}
			if hot != 6 {
				t.Errorf("map seen marks %d blocks hot, want the 6 hot ones", hot)
			}
		})
	}
}

// TestUnpinScanResistantFile: in a database file of 128 blocks under a
// limit of 16, 6 hot blocks are read by three queries a pause apart, then the whole file is
// scanned twice, then the hot blocks are read again. The built-in LRU has
// to load all 6 again; with unpin/scan_resistant none (the scans' blocks,
// used once per stay in memory, are evicted first, the second scan's as
// well).
func TestUnpinScanResistantFile(t *testing.T) {
	hot := []int{3, 17, 40, 41, 90, 100}
	scan := append(sequential(), sequential()...)
	reads := func(reg *hooks.Registry) int64 {
		bf := newBlockFile(t, reg)
		for range 3 {
			bf.read(t, hot)
			time.Sleep(2 * time.Millisecond) // the next query: beyond the correlated reference period
		}
		before := bf.read(t, scan).Loads
		return bf.read(t, hot).Loads - before
	}
	builtin := reads(hooks.New(hooks.Options{Logf: t.Logf}))
	if builtin != int64(len(hot)) {
		t.Fatalf("built-in: %d hot blocks loaded again after the scans, want all %d", builtin, len(hot))
	}
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.Unpin, "scan_resistant")
			got := reads(reg)
			t.Logf("hot blocks loaded again after two scans: built-in %d, scan_resistant %d", builtin, got)
			if got != 0 {
				t.Errorf("scan_resistant: %d hot blocks loaded again, want 0", got)
			}
			if st := a.Stats(); st.Handled == 0 || st.Errors != 0 || st.Violations != 0 {
				t.Errorf("stats %s", st)
			}
		})
	}
}

// TestQuotaPerTag: a runaway hash table build (query 1) allocating and holding
// buffers until it fails. With the built-in admission it takes the whole
// limit and a sort beside it runs out of memory; with
// allocate_new_block/quota and a hash table quota of 8 buffers, the
// runaway fails with a clean out-of-memory error at its 9th buffer and
// every allocation of the sort succeeds.
func TestQuotaPerTag(t *testing.T) {
	run := func(reg *hooks.Registry) (runaway, sortFailures int, runawayErr error) {
		m := manager(t, reg, 32)
		for i := range 64 {
			if runawayErr == nil {
				if _, _, err := m.AllocateFor(1, buffer.TagHashTable, bufSize); err != nil {
					runawayErr = err
				} else {
					runaway++
				}
			}
			if i%4 == 0 { // the sort holds one buffer in four
				b, _, err := m.AllocateFor(2, buffer.TagSort, bufSize)
				if err != nil {
					sortFailures++
					continue
				}
				if i%8 == 0 {
					m.Free(b)
				}
			}
		}
		return runaway, sortFailures, runawayErr
	}
	n, sortFailures, err := run(hooks.New(hooks.Options{Logf: t.Logf}))
	if sortFailures == 0 || !errors.Is(err, buffer.ErrOutOfMemory) {
		t.Fatalf("built-in: runaway took %d buffers (%v), sort failed %d times; want the sort to fail", n, err, sortFailures)
	}
	t.Logf("built-in: the runaway took %d buffers, the sort failed %d times", n, sortFailures)
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.AllocateNewBlock, "quota")
			update(t, a.Maps()["tag_quota"], uint32(buffer.TagHashTable), uint64(8*bufSize))
			n, sortFailures, err := run(reg)
			if n != 8 || !errors.Is(err, buffer.ErrOutOfMemory) || sortFailures != 0 {
				t.Errorf("quota: runaway took %d buffers (%v), sort failed %d times; want 8, out of memory, 0", n, err, sortFailures)
			}
			t.Logf("quota: %v", err)
			if got := mapCount(t, a, "refused", 1); got != 1 {
				t.Errorf("map refused counts %d refusals by a tag quota, want 1", got)
			}
			if st := a.Stats(); st.Errors != 0 || st.Violations != 0 {
				t.Errorf("stats %s: a refusal is a decision, not an error", st)
			}
		})
	}
}

// TestQuotaPerQuery: two queries allocate hash table buffers and hold
// them, under a memory limit of 64 buffers. With the built-in admission
// the runaway query 7 takes what the limit allows and query 9 runs out of
// memory; with allocate_new_block/quota and a default query quota of 10
// buffers, query 7 gets a clean out-of-memory error at its 11th buffer
// while all 20 of query 9's allocations succeed (its own quota of 30 is
// set in the map). The quota counts what a query holds now: once query 7
// frees 5 buffers it may allocate 5 more.
func TestQuotaPerQuery(t *testing.T) {
	const runaway, other = 7, 9
	type result struct {
		runaway, otherFailures int
		runawayErr             error
	}
	run := func(m *buffer.Manager) result {
		var r result
		for i := range 60 {
			if r.runawayErr == nil {
				if _, _, err := m.AllocateFor(runaway, buffer.TagHashTable, bufSize); err != nil {
					r.runawayErr = err
				} else {
					r.runaway++
				}
			}
			if i%3 == 0 {
				if _, _, err := m.AllocateFor(other, buffer.TagHashTable, bufSize); err != nil {
					r.otherFailures++
				}
			}
		}
		return r
	}
	r := run(manager(t, hooks.New(hooks.Options{Logf: t.Logf}), 64))
	if r.otherFailures == 0 || !errors.Is(r.runawayErr, buffer.ErrOutOfMemory) {
		t.Fatalf("built-in: runaway took %d buffers (%v), the other query failed %d times; want the other to fail", r.runaway, r.runawayErr, r.otherFailures)
	}
	t.Logf("built-in: the runaway query took %d buffers, the other query failed %d of 20 times", r.runaway, r.otherFailures)
	for _, eng := range engines(t) {
		t.Run(eng.String(), func(t *testing.T) {
			reg := registry(t, eng)
			a := attach(t, reg, ext.AllocateNewBlock, "quota")
			update(t, a.Maps()["query_quota"], uint64(0), uint64(10*bufSize))
			update(t, a.Maps()["query_quota"], uint64(other), uint64(30*bufSize))
			m := manager(t, reg, 64)
			r := run(m)
			t.Logf("quota: the runaway query took %d buffers, then: %v; the other query failed %d of 20 times", r.runaway, r.runawayErr, r.otherFailures)
			if r.runaway != 10 || !errors.Is(r.runawayErr, buffer.ErrOutOfMemory) || r.otherFailures != 0 {
				t.Errorf("want the runaway stopped at 10 buffers with an out-of-memory error, the other query never refused")
			}
			if got := mapCount(t, a, "refused", 0); got != 1 {
				t.Errorf("map refused counts %d refusals by a query quota, want 1", got)
			}
			// What a query holds, not what it ever took.
			var held []*buffer.Block
			for range 10 {
				b, _, err := m.AllocateFor(3, buffer.TagSort, bufSize)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, b)
			}
			if _, _, err := m.AllocateFor(3, buffer.TagSort, bufSize); !errors.Is(err, buffer.ErrOutOfMemory) {
				t.Fatalf("query 3's 11th buffer: %v, want out of memory", err)
			}
			for _, b := range held[:5] {
				m.Unpin(b)
				if err := m.Free(b); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 5 {
				if _, _, err := m.AllocateFor(3, buffer.TagSort, bufSize); err != nil {
					t.Fatalf("query 3 after freeing 5 buffers, allocation %d: %v", i+1, err)
				}
			}
			if st := a.Stats(); st.Errors != 0 || st.Violations != 0 {
				t.Errorf("stats %s: a refusal is a decision, not an error", st)
			}
		})
	}
}

// mapCount returns entry k of an array map of 8-byte counters.
func mapCount(t *testing.T, a *hooks.Attachment, name string, k uint32) uint64 {
	t.Helper()
	v, err := a.Maps()[name].Lookup(binary.LittleEndian.AppendUint32(nil, k))
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(v)
}
