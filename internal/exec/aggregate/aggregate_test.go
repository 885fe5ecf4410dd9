package aggregate_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/aggregate"
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// The columns of the differential tests' input.
var diffTypes = []types.Type{
	types.IntegerType,        // 0 key: domain of the test's size
	types.VarcharType,        // 1 key: short and long strings
	types.DoubleType,         // 2 key / argument: multiples of 1/8
	types.DateType,           // 3 key / argument
	types.BooleanType,        // 4 key / argument
	types.BigIntType,         // 5 argument
	types.MustDecimal(15, 2), // 6 key / argument
	types.VarcharType,        // 7 argument
	types.MustDecimal(18, 0), // 8 argument
	types.IntegerType,        // 9 argument
}

// diffRows returns n random rows whose keys take about domain values.
func diffRows(r *rand.Rand, n, domain int, nullRate float64) [][]types.Value {
	null := func() bool { return r.Float64() < nullRate }
	long := []string{"Customer#000000001", "Customer#000000002 with a longer tail", "", "a", "MAIL", "ünïcode"}
	rows := make([][]types.Value, n)
	for i := range rows {
		k := r.IntN(domain)
		row := make([]types.Value, len(diffTypes))
		for j, t := range diffTypes {
			if null() {
				row[j] = types.Null(t)
				continue
			}
			switch j {
			case 0:
				row[j] = types.IntegerValue(int32(k - domain/2))
			case 1:
				row[j] = types.VarcharValue(fmt.Sprintf("%s%d", long[k%len(long)], k/len(long)))
			case 2:
				row[j] = types.DoubleValue(float64(r.IntN(64)-32) / 8)
			case 3:
				row[j] = types.DateValue(int32(9000 + r.IntN(50)))
			case 4:
				row[j] = types.BoolValue(r.IntN(2) == 0)
			case 5:
				row[j] = types.BigIntValue(r.Int64N(1<<40) - 1<<39)
			case 6:
				row[j] = types.DecimalValue(int64(r.IntN(2000)-1000), t)
			case 7:
				row[j] = types.VarcharValue(long[r.IntN(len(long))])
			case 8:
				row[j] = types.DecimalValue(r.Int64N(1e12), t)
			case 9:
				row[j] = types.IntegerValue(int32(r.IntN(100)))
			}
		}
		rows[i] = row
	}
	return rows
}

// allAggs is every aggregate kind over every argument type that takes it.
func allAggs() []expr.AggSpec {
	ts := diffTypes
	s := []expr.AggSpec{spec(expr.CountStar, ts, 0, false)}
	for _, arg := range []int{2, 5, 6, 8, 9} {
		for _, k := range []expr.AggKind{expr.Sum, expr.Avg} {
			s = append(s, spec(k, ts, arg, false), spec(k, ts, arg, true))
		}
	}
	for _, arg := range []int{1, 2, 3, 4, 5, 6, 7} {
		s = append(s, spec(expr.Count, ts, arg, false), spec(expr.Min, ts, arg, false), spec(expr.Max, ts, arg, false))
	}
	s = append(s, spec(expr.Count, ts, 7, true), spec(expr.Count, ts, 2, true))
	return s
}

// checkDiff runs the aggregate under the vectortest matrix on 1 and 2
// threads and compares every result with the reference.
// The matrix has no batches of one row under the race detector (each row
// a morsel: minutes).
func checkDiff(t *testing.T, r *rand.Rand, rows [][]types.Value, groups []int, specs []expr.AggSpec, opts aggregate.Options) aggregate.Stats {
	t.Helper()
	want, err := reference(diffTypes, rows, groups, specs)
	if err != nil {
		t.Fatal(err)
	}
	wantText := vectortest.Sorted(want)
	a, err := aggregate.New(diffTypes, groups, specs, opts)
	if err != nil {
		t.Fatal(err)
	}
	var stats aggregate.Stats
	for _, cfg := range matrix() {
		src := newRowSource(diffTypes, rows, cfg, r.Uint64())
		for _, threads := range []int{1, 2} {
			got, err := runSource(a, src, threads)
			if err != nil {
				t.Fatalf("%v, %d threads: %v", cfg, threads, err)
			}
			if g := vectortest.Sorted(got); g != wantText {
				t.Fatalf("%v, %d threads: groups %v aggs %d: got %d rows, want %d:\n%s", cfg, threads, groups, len(specs), len(got), len(want), firstDiff(g, wantText))
			}
			stats = a.Stats()
			if stats.Rows != int64(len(rows)) || stats.Groups != int64(len(want)) {
				t.Fatalf("%v, %d threads: stats %v, want %d rows and %d groups", cfg, threads, stats, len(rows), len(want))
			}
		}
	}
	return stats
}

// firstDiff shows the first differing line of two texts.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\ngot:  %s\nwant: %s", i+1, gl, wl)
		}
	}
	return "(equal)"
}

// TestDifferential compares the aggregate with the map-based reference on
// random rows: few and many groups, NULL keys, every key type, every
// aggregate kind, under the batch-size/selection matrix on 1 and 2
// threads. BPFDB_SEED replays a run.
func TestDifferential(t *testing.T) {
	r := vectortest.Rand(t)
	cases := []struct {
		name     string
		n        int
		domain   int
		nullRate float64
		groups   []int
		specs    []expr.AggSpec
		few      bool // some rows must take the small-group path
	}{
		{"ungrouped", 3000, 10, 0.1, nil, allAggs(), false},
		{"ungrouped/empty", 0, 1, 0, nil, allAggs(), false},
		{"few groups", 3000, 4, 0.05, []int{1}, allAggs(), false},
		{"int keys with NULLs", 3000, 50, 0.2, []int{0}, allAggs(), false},
		// Up to eight groups take the small-group path; nine or more
		// start on it and leave it when a chunk brings the ninth.
		{"few int keys", 3000, 6, 0.05, []int{0}, allAggs(), true},
		{"few bool and int keys", 3000, 2, 0.02, []int{4, 0}, allAggs(), true},
		{"few groups then more", 3000, 12, 0.05, []int{0, 4}, allAggs(), false},
		{"many groups", 6000, 5000, 0.01, []int{0, 1}, []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false), spec(expr.Sum, diffTypes, 6, false), spec(expr.Min, diffTypes, 7, false), spec(expr.Avg, diffTypes, 2, false)}, false},
		{"every key type", 3000, 30, 0.1, []int{0, 1, 2, 3, 4, 6}, []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false), spec(expr.Sum, diffTypes, 5, false)}, false},
		{"distinct", 3000, 40, 0.1, []int{3, 4}, nil, false},
		{"distinct strings", 3000, 300, 0.1, []int{1}, nil, false},
		{"grouped/empty", 0, 1, 0, []int{0, 1}, allAggs(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows := diffRows(r, c.n/scale, c.domain, c.nullRate)
			st := checkDiff(t, r, rows, c.groups, c.specs, aggregate.Options{})
			t.Logf("%v", st)
			if c.few && st.Few == 0 {
				t.Fatalf("no row took the small-group path: %v", st)
			}
		})
	}
	// More groups under a memory limit of 1 MiB: pages are evicted to the
	// temporary file and read back, whatever the batch size.
	t.Run("many groups/1 MiB", func(t *testing.T) {
		m, err := buffer.New(buffer.Options{Limit: 1 << 20, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		rows := diffRows(r, 16000, 12000, 0.01)
		specs := []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false), spec(expr.Sum, diffTypes, 6, false), spec(expr.Max, diffTypes, 1, false), spec(expr.Avg, diffTypes, 8, false)}
		st := checkDiff(t, r, rows, []int{1, 0}, specs, aggregate.Options{Buffers: m})
		t.Logf("%v", st)
		if st.SpilledBytes == 0 {
			t.Fatalf("nothing spilled: %v", st)
		}
		if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
			t.Fatalf("%d bytes of hash tables still accounted after the runs", used)
		}
	})
}

// TestResets makes the tasks' directories start over every 4096 groups,
// so that equal groups land in many rows the merge must combine, and the
// merges start with tiny directories that must grow.
func TestResets(t *testing.T) {
	defer aggregate.SetMaxLocalEntries(0)()
	defer aggregate.SetMergeStart(1)()
	r := vectortest.Rand(t)
	rows := diffRows(r, 16000, 12000, 0.02)
	specs := []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false), spec(expr.Sum, diffTypes, 8, false), spec(expr.Max, diffTypes, 1, false), spec(expr.Count, diffTypes, 9, true)}
	st := checkDiff(t, r, rows, []int{0, 1}, specs, aggregate.Options{})
	if st.Resets == 0 {
		t.Fatalf("no task started over: %v", st)
	}
	t.Logf("%v", st)
}

// constHash is a hash policy that gives every key the same hash: every
// lookup collides, which costs speed and must not change results.
type constHash struct{}

func (constHash) HashVector(req hash.Request) (hash.Verdict, error) {
	for r := range req.Out[:req.N] {
		req.Out[r] = 0x1234_5678_9abc_def0
	}
	return hash.Handled, nil
}

// TestHashPolicy runs the aggregate with a hash policy attached: a constant
// hash (all groups collide), and a policy that fails (the built-in takes
// over).
func TestHashPolicy(t *testing.T) {
	r := vectortest.Rand(t)
	rows := diffRows(r, 600, 150, 0.1)
	specs := []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false), spec(expr.Sum, diffTypes, 6, false), spec(expr.Min, diffTypes, 7, false)}
	for _, p := range []hash.Policy{constHash{}, failHash{}} {
		var slot hash.Slot
		slot.Set(p)
		checkDiff(t, r, rows, []int{1, 0}, specs, aggregate.Options{Hash: &slot})
		if c := slot.Counters(); c.Calls == 0 {
			t.Fatalf("%T: the policy was never called: %+v", p, c)
		}
	}
}

type failHash struct{}

func (failHash) HashVector(hash.Request) (hash.Verdict, error) {
	return hash.UseBuiltin, errors.New("refused")
}

// TestSpill runs many groups under memory limits far below their size:
// the buffer manager evicts the tasks' unpinned pages to the temporary
// file as they allocate more, and the source reads them back partition by
// partition, with the same results.
func TestSpill(t *testing.T) {
	r := vectortest.Rand(t)
	rows := diffRows(r, 40000, 30000, 0.01)
	specs := []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false), spec(expr.Sum, diffTypes, 8, false), spec(expr.Avg, diffTypes, 6, false), spec(expr.Min, diffTypes, 5, false)}
	groups := []int{0, 1}
	want, err := reference(diffTypes, rows, groups, specs)
	if err != nil {
		t.Fatal(err)
	}
	chunks := vectortest.Chunks(r, diffTypes, rows, vectortest.Config{BatchSize: vector.Size})
	for _, c := range []struct {
		limit   int64
		threads int
	}{{3 << 20, 1}, {3 << 20, 2}, {5 << 18, 2}} {
		m, err := buffer.New(buffer.Options{Limit: c.limit, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		a, err := aggregate.New(diffTypes, groups, specs, aggregate.Options{Buffers: m})
		if err != nil {
			t.Fatal(err)
		}
		got, err := runAgg(a, diffTypes, chunks, c.threads)
		if err != nil {
			t.Fatalf("limit %d, %d threads: %v", c.limit, c.threads, err)
		}
		if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
			t.Fatalf("limit %d, %d threads: %s", c.limit, c.threads, firstDiff(g, w))
		}
		st := a.Stats()
		t.Logf("limit %d, %d threads: %v", c.limit, c.threads, st)
		if st.SpilledBytes == 0 {
			t.Fatalf("limit %d, %d threads: nothing spilled: %v", c.limit, c.threads, st)
		}
		if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
			t.Fatalf("limit %d, %d threads: %d bytes of hash tables still accounted after the run", c.limit, c.threads, used)
		}
	}
}

// fullVectors skips a test whose memory limits are sized for chunks of
// 2048 rows: with the 64-row vectors of -tags tinyvectors a chunk's rows
// are 32 times smaller than the pages they go to, and nothing runs out.
func fullVectors(t *testing.T) {
	t.Helper()
	if vector.Size < 2048 {
		t.Skipf("memory limits sized for 2048-row chunks; vectors hold %d rows here (-tags tinyvectors)", vector.Size)
	}
}

// TestSpillRedo makes the rows one chunk creates (wide rows: 17
// aggregates, about 900 KiB a chunk) nearly as big as the memory limit:
// a task runs out of memory, unpins all its pages and groups the chunk
// again, and the rows it had created for the chunk merge as no-ops. With
// two tasks the limit must hold both tasks' chunks (the other task's
// pinned pages cannot be spilled), and running out is left to chance.
func TestSpillRedo(t *testing.T) {
	fullVectors(t)
	r := vectortest.Rand(t)
	rows := diffRows(r, 40000/scale, 5000, 0.01)
	specs := []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false)}
	for range 16 {
		specs = append(specs, spec(expr.Avg, diffTypes, 6, false))
	}
	groups := []int{0, 1}
	want, err := reference(diffTypes, rows, groups, specs)
	if err != nil {
		t.Fatal(err)
	}
	chunks := vectortest.Chunks(r, diffTypes, rows, vectortest.Config{BatchSize: vector.Size})
	for _, c := range []struct {
		limit   int64
		threads int
	}{{1 << 20, 1}, {4 << 20, 2}} {
		m, err := buffer.New(buffer.Options{Limit: c.limit, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		a, err := aggregate.New(diffTypes, groups, specs, aggregate.Options{Buffers: m})
		if err != nil {
			t.Fatal(err)
		}
		got, err := runAgg(a, diffTypes, chunks, c.threads)
		if err != nil {
			t.Fatalf("limit %d, %d threads: %v", c.limit, c.threads, err)
		}
		if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
			t.Fatalf("limit %d, %d threads: %s", c.limit, c.threads, firstDiff(g, w))
		}
		st := a.Stats()
		t.Logf("limit %d, %d threads: %v", c.limit, c.threads, st)
		if c.threads == 1 && st.Spills == 0 {
			t.Fatalf("limit %d, %d threads: the task never ran out of memory: %v", c.limit, c.threads, st)
		}
		if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
			t.Fatalf("limit %d, %d threads: %d bytes of hash tables still accounted after the run", c.limit, c.threads, used)
		}
	}
}

// TestOutOfMemory: a partition that cannot fit under the limit fails the
// query with an error wrapping buffer.ErrOutOfMemory, and frees what it
// held.
func TestOutOfMemory(t *testing.T) {
	fullVectors(t)
	r := vectortest.Rand(t)
	rows := diffRows(r, 20000, 20000, 0)
	m, err := buffer.New(buffer.Options{Limit: 256 << 10, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a, err := aggregate.New(diffTypes, []int{0, 1, 7}, []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false)}, aggregate.Options{Buffers: m})
	if err != nil {
		t.Fatal(err)
	}
	chunks := vectortest.Chunks(r, diffTypes, rows, vectortest.Config{BatchSize: vector.Size})
	_, err = runAgg(a, diffTypes, chunks, 2)
	if !errors.Is(err, buffer.ErrOutOfMemory) {
		t.Fatalf("got %v, want an error wrapping ErrOutOfMemory", err)
	}
	t.Logf("error: %v", err)
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
		t.Fatalf("%d bytes of hash tables still accounted after the failed run", used)
	}
}

// TestPassThrough: when a task's full table found few groups again, the
// next rows pass through as groups of their own and the merge combines
// them; the results do not change.
func TestPassThrough(t *testing.T) {
	defer aggregate.SetMaxLocalEntries(0)()
	r := vectortest.Rand(t)
	rows := diffRows(r, 14000, 1<<30, 0.01)
	rows = append(rows, rows[:3000]...) // some groups twice, far apart
	specs := []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false), spec(expr.Sum, diffTypes, 8, false), spec(expr.Min, diffTypes, 7, false)}
	st := checkDiff(t, r, rows, []int{0, 1}, specs, aggregate.Options{})
	if st.Passed == 0 {
		t.Fatalf("no row passed through: %v", st)
	}
	t.Logf("%v", st)
}

// TestManyKeyColumns groups by 70 columns (two words of NULL bits) of
// mixed types with NULLs.
func TestManyKeyColumns(t *testing.T) {
	r := vectortest.Rand(t)
	var ts []types.Type
	var groups []int
	for j := range 70 {
		ts = append(ts, []types.Type{types.BooleanType, types.IntegerType, types.VarcharType}[j%3])
		groups = append(groups, j)
	}
	ts = append(ts, types.BigIntType)
	rows := make([][]types.Value, 2000/scale)
	for i := range rows {
		k := r.IntN(40)
		row := make([]types.Value, len(ts))
		for j, typ := range ts[:70] {
			switch {
			case (k+j)%7 == 0:
				row[j] = types.Null(typ)
			case typ == types.BooleanType:
				row[j] = types.BoolValue((k+j)%2 == 0)
			case typ == types.IntegerType:
				row[j] = types.IntegerValue(int32(k * j))
			default:
				row[j] = types.VarcharValue(fmt.Sprintf("key %d of a long group %d", j, k))
			}
		}
		row[70] = types.BigIntValue(int64(i))
		rows[i] = row
	}
	specs := []expr.AggSpec{spec(expr.CountStar, ts, 0, false), spec(expr.Sum, ts, 70, false)}
	want, err := reference(ts, rows, groups, specs)
	if err != nil {
		t.Fatal(err)
	}
	a, err := aggregate.New(ts, groups, specs, aggregate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []vectortest.Config{{BatchSize: vector.Size}, {BatchSize: 3, Selection: true}} {
		for _, threads := range []int{1, 2} {
			got, err := runSource(a, newRowSource(ts, rows, cfg, r.Uint64()), threads)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
				t.Fatalf("%v, %d threads: %s", cfg, threads, firstDiff(g, w))
			}
		}
	}
}

// onePartition is a hash policy that sends every key to partition 0: the
// built-in hash with the partition bits (32..38) cleared.
type onePartition struct{}

func (onePartition) HashVector(req hash.Request) (hash.Verdict, error) {
	var builtin hash.Hasher
	builtin.Column(req.Vec, req.Sel, req.N, req.Out, req.Combine)
	for r := range req.Out[:req.N] {
		req.Out[r] &^= 0x7f << 32
	}
	return hash.Handled, nil
}

// TestSpillSlices puts all groups into one partition, several times
// bigger than what the memory limit lets the source merge at once: the
// source merges it in slices, reading the spilled pages once per slice.
func TestSpillSlices(t *testing.T) {
	r := vectortest.Rand(t)
	rows := diffRows(r, 30000, 20000, 0.01)
	specs := []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false), spec(expr.Sum, diffTypes, 8, false), spec(expr.Max, diffTypes, 7, false), spec(expr.Count, diffTypes, 9, true)}
	groups := []int{0, 1}
	want, err := reference(diffTypes, rows, groups, specs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := buffer.New(buffer.Options{Limit: 2 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var slot hash.Slot
	slot.Set(onePartition{})
	a, err := aggregate.New(diffTypes, groups, specs, aggregate.Options{Buffers: m, Hash: &slot})
	if err != nil {
		t.Fatal(err)
	}
	chunks := vectortest.Chunks(r, diffTypes, rows, vectortest.Config{BatchSize: vector.Size})
	for _, threads := range []int{1, 2} {
		got, err := runAgg(a, diffTypes, chunks, threads)
		if err != nil {
			t.Fatalf("%d threads: %v", threads, err)
		}
		if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
			t.Fatalf("%d threads: %s", threads, firstDiff(g, w))
		}
		st := a.Stats()
		t.Logf("%d threads: %v", threads, st)
		if st.Sliced != 1 || st.SpilledBytes == 0 {
			t.Fatalf("%d threads: want one partition merged in slices from spilled pages: %v", threads, st)
		}
		if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
			t.Fatalf("%d threads: %d bytes of hash tables still accounted after the run", threads, used)
		}
	}
}

// TestDense runs the differential test with Options.Dense: a range that
// holds every key (all rows take the array), one that misses some (their
// chunks hash), on INTEGER and DATE keys with NULLs, under a memory limit
// too (pages spill, the array stays). BPFDB_SEED replays a run.
func TestDense(t *testing.T) {
	r := vectortest.Rand(t)
	for _, c := range []struct {
		name   string
		domain int
		group  int
		rng    aggregate.DenseRange
		all    bool // every row takes the array
		specs  []expr.AggSpec
	}{
		{"int keys", 300, 0, aggregate.DenseRange{Lo: -150, Hi: 149}, true, allAggs()},
		{"int keys, range too narrow", 300, 0, aggregate.DenseRange{Lo: -100, Hi: 100}, false, allAggs()},
		{"date keys", 50, 3, aggregate.DenseRange{Lo: 9000, Hi: 9049}, true, allAggs()},
		{"distinct", 300, 0, aggregate.DenseRange{Lo: -150, Hi: 149}, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := diffRows(r, 3000/scale, c.domain, 0.05)
			rng := c.rng
			st := checkDiff(t, r, rows, []int{c.group}, c.specs, aggregate.Options{Dense: &rng})
			t.Logf("%v", st)
			if c.all && st.Dense != st.Rows || !c.all && (st.Dense == st.Rows) {
				t.Fatalf("%d of %d rows took the array", st.Dense, st.Rows)
			}
		})
	}
	t.Run("1 MiB", func(t *testing.T) {
		m, err := buffer.New(buffer.Options{Limit: 1 << 20, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		rows := diffRows(r, 8000, 3000, 0.01)
		rng := aggregate.DenseRange{Lo: -1500, Hi: 1499}
		specs := []expr.AggSpec{spec(expr.CountStar, diffTypes, 0, false), spec(expr.Sum, diffTypes, 6, false), spec(expr.Max, diffTypes, 1, false), spec(expr.Avg, diffTypes, 8, false)}
		st := checkDiff(t, r, rows, []int{0}, specs, aggregate.Options{Buffers: m, Dense: &rng})
		t.Logf("%v", st)
		if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
			t.Fatalf("%d bytes of hash tables still accounted after the runs", used)
		}
	})
}

// TestFewStrings: short VARCHAR keys in few groups (TPC-H Q1's flags),
// with NULLs and a BOOLEAN key, take the small-group path (by column codes
// or by encoded keys) and agree with the reference; a ninth group turns the
// path off. BPFDB_SEED replays a run.
func TestFewStrings(t *testing.T) {
	r := vectortest.Rand(t)
	for _, c := range []struct {
		name   string
		flags  []string
		groups []int
		few    bool
	}{
		{"four flags", []string{"A", "N", "R", "twelve bytes"}, []int{1}, true},
		{"a flag and a BOOLEAN", []string{"A"}, []int{4, 1}, true},
		{"two flags and a BOOLEAN", []string{"A", "N"}, []int{1, 4}, false},
		{"nine flags", []string{"A", "N", "R", "x", "y", "z", "u", "v", "w"}, []int{1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := diffRows(r, 3000/scale, 4, 0.02)
			for _, row := range rows {
				if !row[1].IsNull() {
					row[1] = types.VarcharValue(c.flags[r.IntN(len(c.flags))])
				}
			}
			st := checkDiff(t, r, rows, c.groups, allAggs(), aggregate.Options{})
			t.Logf("%v", st)
			if c.few && st.Few == 0 {
				t.Fatalf("no row took the small-group path: %v", st)
			}
		})
	}
}
