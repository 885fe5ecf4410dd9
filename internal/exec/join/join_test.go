package join_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/exec/join"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

func TestNewErrors(t *testing.T) {
	i, v := types.IntegerType, types.VarcharType
	lt := func(l, r expr.Expr) expr.Expr { return must(expr.NewBinary(expr.OpLt, l, r, expr.Pos{})) }
	for _, tc := range []struct {
		name string
		spec join.Spec
		want string
	}{
		{"kind", join.Spec{Kind: 0, Probe: []types.Type{i}, Build: []types.Type{i}}, "unknown kind 0"},
		{"key count", join.Spec{Kind: join.Inner, Probe: []types.Type{i}, Build: []types.Type{i}, ProbeKeys: []int{0}}, "1 probe keys but 0 build keys"},
		{"probe key range", join.Spec{Kind: join.Inner, Probe: []types.Type{i}, Build: []types.Type{i}, ProbeKeys: []int{1}, BuildKeys: []int{0}}, "probe key 0 is column 1 of 1"},
		{"build key range", join.Spec{Kind: join.Inner, Probe: []types.Type{i}, Build: []types.Type{i}, ProbeKeys: []int{0}, BuildKeys: []int{-1}}, "build key 0 is column -1 of 1"},
		{"key types", join.Spec{Kind: join.Inner, Probe: []types.Type{i}, Build: []types.Type{v}, ProbeKeys: []int{0}, BuildKeys: []int{0}}, "key 0 is INTEGER on the probe side and VARCHAR on the build side"},
		{"semi output", join.Spec{Kind: join.Semi, Probe: []types.Type{i}, Build: []types.Type{i}, BuildOutput: []int{0}}, "a semi join outputs no build columns"},
		{"output range", join.Spec{Kind: join.Left, Probe: []types.Type{i}, Build: []types.Type{i}, BuildOutput: []int{3}}, "build output column 3 of 1"},
		{"residual type", join.Spec{Kind: join.Inner, Probe: []types.Type{i}, Build: []types.Type{i}, Residual: col(0, i)}, "residual c0 is INTEGER, not BOOLEAN"},
		{"residual column", join.Spec{Kind: join.Inner, Probe: []types.Type{i}, Build: []types.Type{i}, Residual: lt(col(0, i), col(2, i))}, "column c2 is #2 of 2 probe and build columns"},
		{"residual column type", join.Spec{Kind: join.Inner, Probe: []types.Type{i}, Build: []types.Type{v}, Residual: lt(col(0, i), col(1, i))}, "column c1 is INTEGER, the probe and build columns' #1 is VARCHAR"},
		{"invalid type", join.Spec{Kind: join.Inner, Probe: []types.Type{{}}, Build: []types.Type{i}}, "column 0 has no storable type"},
		{"key set kind", join.Spec{Kind: join.Left, Probe: []types.Type{i}, Build: []types.Type{i}, ProbeKeys: []int{0}, BuildKeys: []int{0}, KeySet: true}, "a left join keeps probe rows without a match: no key set"},
		{"key set keys", join.Spec{Kind: join.Inner, Probe: []types.Type{i, i}, Build: []types.Type{i, i}, ProbeKeys: []int{0, 1}, BuildKeys: []int{0, 1}, KeySet: true}, "a key set needs one key, not 2"},
		{"key set type", join.Spec{Kind: join.Semi, Probe: []types.Type{v}, Build: []types.Type{v}, ProbeKeys: []int{0}, BuildKeys: []int{0}, KeySet: true}, "a key set of VARCHAR keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := join.New(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !errors.Is(err, join.ErrSpec) && !errors.Is(err, expr.ErrType) {
				t.Fatalf("error %v wraps neither ErrSpec nor expr.ErrType", err)
			}
		})
	}
}

func TestTypesAndString(t *testing.T) {
	i, v, d := types.IntegerType, types.VarcharType, types.DateType
	for _, tc := range []struct {
		kind  join.Kind
		out   []int
		types string
	}{
		{join.Inner, []int{2, 0}, "[INTEGER VARCHAR DATE INTEGER]"},
		{join.Left, []int{1}, "[INTEGER VARCHAR VARCHAR]"},
		{join.Single, nil, "[INTEGER VARCHAR]"},
		{join.Semi, nil, "[INTEGER VARCHAR]"},
		{join.Anti, nil, "[INTEGER VARCHAR]"},
		{join.Mark, nil, "[INTEGER VARCHAR BOOLEAN]"},
	} {
		j, err := join.New(join.Spec{Kind: tc.kind, Probe: []types.Type{i, v}, Build: []types.Type{i, v, d}, ProbeKeys: []int{0}, BuildKeys: []int{0}, BuildOutput: tc.out})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(j.Types()); got != tc.types {
			t.Errorf("%v: types %s, want %s", tc.kind, got, tc.types)
		}
		if got := fmt.Sprint(j.Probe().Types()); got != tc.types {
			t.Errorf("%v: probe operator types %s, want %s", tc.kind, got, tc.types)
		}
	}
	j, err := join.New(join.Spec{
		Kind: join.Left, Probe: []types.Type{i, v}, Build: []types.Type{i, v, d}, ProbeKeys: []int{0, 1}, BuildKeys: []int{0, 1}, BuildOutput: []int{2},
		Residual: must(expr.NewBinary(expr.OpLt, col(0, i), col(2, i), expr.Pos{})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := j.String(), "hash join left on probe#0 = build#0, probe#1 = build#1 residual (c0 < c2) build output #2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := fmt.Sprint(j.Probe()); got != j.String() {
		t.Errorf("the probe operator prints %q", got)
	}
	if got, want := fmt.Sprint(j.Build()), "hash join build (left)"; got != want {
		t.Errorf("the build sink prints %q, want %q", got, want)
	}
	if got, want := (join.Stats{BuildRows: 3, ProbeRows: 5, Matches: 2, TableBytes: 4096}).String(), "build 3 rows, probe 5 rows, 2 matches, table 4096 bytes"; got != want {
		t.Errorf("Stats.String() = %q, want %q", got, want)
	}
	for k, want := range map[join.Kind]string{join.Inner: "inner", join.Mark: "mark", join.Single: "single", 0: "Kind(0)", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

// TestProbeBeforeBuild runs a probe pipeline that does not depend on the
// build: a planner bug, reported as an error.
func TestProbeBeforeBuild(t *testing.T) {
	spec := join.Spec{Kind: join.Inner, Probe: []types.Type{types.IntegerType}, Build: []types.Type{types.IntegerType}, ProbeKeys: []int{0}, BuildKeys: []int{0}}
	j, err := join.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	c := vector.NewChunk(spec.Probe)
	c.AppendRow(types.IntegerValue(1))
	pp := parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: []*vector.Chunk{c}}, []parallel.Operator{j.Probe()}, &collectSink{})
	_, err = parallel.Run(context.Background(), scheduler(t, 1), []*parallel.Pipeline{pp})
	if !errors.Is(err, join.ErrSpec) || !strings.Contains(err.Error(), "probe before the build pipeline finalized") {
		t.Fatalf("error %v", err)
	}
}

// largeInput returns n rows (key, payload) with keys i*7 % mod as chunks:
// INTEGER keys, BIGINT payloads i.
func largeInput(n, mod int) (rows []int32, chunks []*vector.Chunk) {
	ts := []types.Type{types.IntegerType, types.BigIntType}
	for i := 0; i < n; i += vector.Size {
		c := vector.NewChunk(ts)
		m := min(vector.Size, n-i)
		for r := range m {
			k := int32((i + r) * 7 % mod)
			rows = append(rows, k)
			c.Col(0).Int32s()[r] = k
			c.Col(1).Int64s()[r] = int64(i + r)
		}
		c.SetLen(m)
		chunks = append(chunks, c)
	}
	return rows, chunks
}

// TestLargeBuild joins a build side large enough for the probe tasks to
// insert its rows in parallel, with the table's memory in a buffer
// manager, and checks the match counts against a map and the memory
// accounting against the join's stats.
func TestLargeBuild(t *testing.T) {
	const buildRows, probeRows, mod = 200_000, 50_000, 150_001
	bkeys, build := largeInput(buildRows, mod)
	pkeys, probe := largeInput(probeRows, mod/3)
	perKey := map[int32]int{}
	for _, k := range bkeys {
		perKey[k]++
	}
	wantInner, wantSemi := 0, 0
	for _, k := range pkeys {
		wantInner += perKey[k]
		if perKey[k] > 0 {
			wantSemi++
		}
	}
	m, err := buffer.New(buffer.Options{Limit: 256 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cases := []struct {
		kind join.Kind
		want int
	}{{join.Inner, wantInner}, {join.Left, wantInner + probeRows - wantSemi}, {join.Semi, wantSemi}, {join.Anti, probeRows - wantSemi}}
	if raceEnabled {
		cases = cases[:2]
	}
	for _, tc := range cases {
		ts := []types.Type{types.IntegerType, types.BigIntType}
		spec := join.Spec{Kind: tc.kind, Probe: ts, Build: ts, ProbeKeys: []int{0}, BuildKeys: []int{0}, Buffers: m}
		if tc.kind == join.Inner || tc.kind == join.Left {
			spec.BuildOutput = []int{1}
		}
		j, err := join.New(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			sink := &countSink{}
			bp := parallel.NewPipeline("build", &chunkSource{ts: ts, chunks: build}, nil, j.Build())
			pp := parallel.NewPipeline("probe", &chunkSource{ts: ts, chunks: probe}, []parallel.Operator{j.Probe()}, sink)
			pp.DependsOn(bp)
			if _, err := parallel.Run(context.Background(), scheduler(t, threads), []*parallel.Pipeline{pp, bp}); err != nil {
				t.Fatal(err)
			}
			if sink.n != int64(tc.want) {
				t.Errorf("%v, %d threads: %d rows, want %d", tc.kind, threads, sink.n, tc.want)
			}
			st := j.Stats()
			used := m.Metrics().Tags[buffer.TagHashTable]
			if st.TableBytes == 0 || used != st.TableBytes {
				t.Errorf("%v, %d threads: buffer manager counts %d bytes of hash table, the join %d", tc.kind, threads, used, st.TableBytes)
			}
			// Rows of hash, next, key, NULL bits (and the payload if it is
			// output), rounded to 8 bytes, in pages of up to 256 KiB (the
			// last of each task partly filled, each with less than a row
			// unused), and 2^19 buckets of 8 bytes.
			width := 8 + 8 + 4 + 1
			if len(spec.BuildOutput) > 0 {
				width += 8
			}
			width = (width + 7) &^ 7
			lo := int64(width*buildRows + 8<<19)
			if hi := lo + int64(threads)*256<<10 + int64(width*buildRows/(64<<10)); st.TableBytes < lo || st.TableBytes > hi {
				t.Errorf("%v: table of %d bytes, want %d to %d", tc.kind, st.TableBytes, lo, hi)
			}
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
			t.Fatalf("%v: %d bytes of hash table left after Close", tc.kind, used)
		}
		if st := j.Stats(); st.BuildRows != 2*buildRows || st.ProbeRows != 2*probeRows {
			t.Errorf("%v: stats %v, want %d build and %d probe rows", tc.kind, st, 2*buildRows, 2*probeRows)
		}
	}
}

// TestOutOfMemory builds a table larger than the memory limit: the query
// fails with the buffer manager's error, and nothing stays accounted.
func TestOutOfMemory(t *testing.T) {
	m, err := buffer.New(buffer.Options{Limit: 1 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ts := []types.Type{types.IntegerType, types.BigIntType}
	_, build := largeInput(100_000, 1000)
	_, probe := largeInput(10, 1000)
	j, err := join.New(join.Spec{Kind: join.Semi, Probe: ts, Build: ts, ProbeKeys: []int{0}, BuildKeys: []int{0}, Buffers: m})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = runJoin(t, scheduler(t, 2), j, j.Spec(), build, probe)
	if !errors.Is(err, buffer.ErrOutOfMemory) || !strings.Contains(err.Error(), "semi join build: hash table page") {
		t.Fatalf("error %v, want an out-of-memory error of the build", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if used := m.Metrics().Tags[buffer.TagHashTable]; used != 0 {
		t.Fatalf("%d bytes of hash table left after Close", used)
	}
}

// constPolicy hashes every key to the same value: every build row lands in
// one chain, which costs speed, never results.
type constPolicy struct{}

func (constPolicy) HashVector(req hash.Request) (hash.Verdict, error) {
	for r := range req.N {
		req.Out[r] = 42
	}
	return hash.Handled, nil
}

// lowPolicy keeps the low byte of the built-in hash: 256 hashes, all
// with the same salt, so that probes meet chains of other hashes.
type lowPolicy struct{}

func (lowPolicy) HashVector(req hash.Request) (hash.Verdict, error) {
	hash.Hasher{}.Column(req.Vec, req.Sel, req.N, req.Out, req.Combine)
	for r := range req.N {
		req.Out[r] &= 0xff
	}
	return hash.Handled, nil
}

// TestHashPolicy joins with policies that hash everything alike or
// collide in the salt, and with a policy attached after the build: the
// probe keeps the build's hash function.
func TestHashPolicy(t *testing.T) {
	r := vectortest.Rand(t)
	// An INTEGER key (compared without the hash) and a bigint key with a
	// residual, under the salt-colliding policy.
	for _, c := range []diffCase{diffCases[0], diffCases[6]} {
		for _, kind := range []join.Kind{join.Inner, join.Anti, join.Mark} {
			var slot hash.Slot
			slot.Set(lowPolicy{})
			spec := c.shape(kind)
			spec.Hash = &slot
			probe := c.rows(r, spec.Probe, spec.ProbeKeys, 500)
			build := c.rows(r, spec.Build, spec.BuildKeys, 300)
			want, err := reference(t, spec, probe, build)
			if err != nil {
				t.Fatal(err)
			}
			j, err := join.New(spec)
			if err != nil {
				t.Fatal(err)
			}
			cfg := vectortest.Config{BatchSize: 100, Selection: true}
			got, _, err := runJoin(t, scheduler(t, 2), j, spec, vectortest.Chunks(r, spec.Build, build, cfg), vectortest.Chunks(r, spec.Probe, probe, cfg))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
				t.Fatalf("%s %v with colliding salts: %d rows, reference %d", c.name, kind, len(got), len(want))
			}
		}
	}
	c := diffCases[5] // VARCHAR, DECIMAL, DATE keys
	spec := c.shape(join.Left)
	probe := c.rows(r, spec.Probe, spec.ProbeKeys, 300)
	build := c.rows(r, spec.Build, spec.BuildKeys, 200)
	want, err := reference(t, spec, probe, build)
	if err != nil {
		t.Fatal(err)
	}
	cfg := vectortest.Config{BatchSize: 100}
	var slot hash.Slot
	spec.Hash = &slot
	j, err := join.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, pol := range []hash.Policy{constPolicy{}, lowPolicy{}} {
		slot.Set(pol)
		got, _, err := runJoin(t, scheduler(t, 2), j, spec, vectortest.Chunks(r, spec.Build, build, cfg), vectortest.Chunks(r, spec.Probe, probe, cfg))
		if err != nil {
			t.Fatal(err)
		}
		if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
			t.Fatalf("%T: %d rows, reference %d", pol, len(got), len(want))
		}
	}
	if slot.Counters().Handled == 0 {
		t.Fatal("the policy was never called")
	}

	// Build with the built-in hash, then attach the constant policy and
	// probe: the probe must hash as the build did.
	slot.Set(nil)
	s := scheduler(t, 2)
	bp := parallel.NewPipeline("build", &chunkSource{ts: spec.Build, chunks: vectortest.Chunks(r, spec.Build, build, cfg)}, nil, j.Build())
	if _, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{bp}); err != nil {
		t.Fatal(err)
	}
	slot.Set(constPolicy{})
	calls := slot.Counters().Calls
	sink := &collectSink{}
	pp := parallel.NewPipeline("probe", &chunkSource{ts: spec.Probe, chunks: vectortest.Chunks(r, spec.Probe, probe, cfg)}, []parallel.Operator{j.Probe()}, sink)
	if _, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{pp}); err != nil {
		t.Fatal(err)
	}
	if g, w := vectortest.Sorted(sink.rows), vectortest.Sorted(want); g != w {
		t.Fatalf("policy attached after the build: %d rows, reference %d", len(sink.rows), len(want))
	}
	if slot.Counters().Calls != calls {
		t.Fatal("the probe used the policy attached after the build")
	}
}

// TestRerun runs one join twice with different build sides: the second
// run's table replaces the first's.
func TestRerun(t *testing.T) {
	ts := []types.Type{types.IntegerType, types.BigIntType}
	spec := join.Spec{Kind: join.Semi, Probe: ts, Build: ts, ProbeKeys: []int{0}, BuildKeys: []int{0}}
	j, err := join.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	_, probe := largeInput(1000, 1000)
	s := scheduler(t, 2)
	for _, mod := range []int{10, 500} {
		_, build := largeInput(mod, mod)
		got, _, err := runJoin(t, s, j, spec, build, probe)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for i := range 1000 {
			if i*7%1000 < mod {
				want++
			}
		}
		if len(got) != want {
			t.Fatalf("build of keys < %d: %d rows, want %d", mod, len(got), want)
		}
	}
}

// TestLongStrings joins on VARCHAR keys longer than a string page's
// share (each gets a page of its own) and outputs them.
func TestLongStrings(t *testing.T) {
	ts := []types.Type{types.VarcharType, types.IntegerType}
	spec := join.Spec{Kind: join.Inner, Probe: ts, Build: ts, ProbeKeys: []int{0}, BuildKeys: []int{0}, BuildOutput: []int{0, 1}}
	j, err := join.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	long := func(c byte, n int) types.Value { return types.VarcharValue(strings.Repeat(string(c), n)) }
	var build, probe [][]types.Value
	for i, n := range []int{1, 100, 70_000, 300_000, 70_000} {
		build = append(build, []types.Value{long(byte('a'+i%4), n), types.IntegerValue(int32(i))})
		probe = append(probe, []types.Value{long(byte('a'+i%4), n), types.IntegerValue(int32(-i))})
	}
	want, err := reference(t, spec, probe, build)
	if err != nil {
		t.Fatal(err)
	}
	r := vectortest.Rand(t)
	cfg := vectortest.Config{BatchSize: 2}
	got, _, err := runJoin(t, scheduler(t, 2), j, spec, vectortest.Chunks(r, ts, build, cfg), vectortest.Chunks(r, ts, probe, cfg))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 5 || vectortest.Sorted(got) != vectortest.Sorted(want) {
		t.Fatalf("%d rows, reference %d", len(got), len(want))
	}
}
