package join_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/join"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

var kinds = []join.Kind{join.Inner, join.Left, join.Semi, join.Anti, join.Mark, join.Single}

// keyValue returns a random key value of t from a small domain, so that
// keys repeat and match across sides; NULL with probability nullRate.
func keyValue(r *rand.Rand, t types.Type, nullRate float64) types.Value {
	if r.Float64() < nullRate {
		return types.Null(t)
	}
	x := r.IntN(12)
	switch t.ID() {
	case types.Boolean:
		return types.BoolValue(x%2 == 0)
	case types.Integer:
		return types.IntegerValue(int32(x - 3))
	case types.BigInt:
		return types.BigIntValue(int64(x)*1_000_000_007 - 5)
	case types.Double:
		return types.DoubleValue([]float64{0, math.Copysign(0, -1), 1.5, math.NaN(), -2.25, 1e300}[x%6])
	case types.Decimal:
		return types.DecimalValue(int64(x*137-400), t)
	case types.Date:
		return types.DateValue(int32(9000 + x))
	case types.Varchar:
		return types.VarcharValue([]string{"", "a", "AIR", "MAIL", "Customer#000000001", "ünïcode", "x y", "a\x00b"}[x%8])
	}
	panic(fmt.Sprintf("keyValue of %v", t))
}

// diffCase is one shape of join: the key types, and whether a residual
// compares a payload column of each side.
type diffCase struct {
	name     string
	keys     []types.Type
	residual bool
}

var diffCases = []diffCase{
	{name: "integer", keys: []types.Type{types.IntegerType}},
	{name: "bigint", keys: []types.Type{types.BigIntType}},
	{name: "varchar", keys: []types.Type{types.VarcharType}},
	{name: "double", keys: []types.Type{types.DoubleType}},
	{name: "boolean", keys: []types.Type{types.BooleanType}},
	{name: "varchar+decimal+date", keys: []types.Type{types.VarcharType, types.MustDecimal(15, 2), types.DateType}},
	{name: "integer+residual", keys: []types.Type{types.IntegerType}, residual: true},
	{name: "date+varchar+residual", keys: []types.Type{types.DateType, types.VarcharType}, residual: true},
	{name: "nokeys+residual", residual: true},
	{name: "nokeys"},
}

// shape builds the spec of a case: probe columns are the keys then a
// VARCHAR and a BIGINT payload; build columns an INTEGER payload, the keys
// in reverse order, then a VARCHAR payload. The residual is
// probe.bigint % 7 < build.integer (NULL when either is NULL).
func (c diffCase) shape(kind join.Kind) join.Spec {
	nk := len(c.keys)
	spec := join.Spec{Kind: kind}
	spec.Probe = append(slices.Clone(c.keys), types.VarcharType, types.BigIntType)
	spec.Build = []types.Type{types.IntegerType}
	for i := nk - 1; i >= 0; i-- {
		spec.Build = append(spec.Build, c.keys[i])
	}
	spec.Build = append(spec.Build, types.VarcharType)
	for i := range nk {
		spec.ProbeKeys = append(spec.ProbeKeys, i)
		spec.BuildKeys = append(spec.BuildKeys, nk-i)
	}
	if c.residual {
		np := len(spec.Probe)
		mod := must(expr.NewBinary(expr.OpMod, col(nk+1, types.BigIntType), expr.NewConst(types.BigIntValue(7), expr.Pos{}), expr.Pos{}))
		spec.Residual = must(expr.NewBinary(expr.OpLt, mod, col(np, types.IntegerType), expr.Pos{}))
	}
	switch kind {
	case join.Inner, join.Left, join.Single:
		// The VARCHAR payload, the INTEGER payload and the first key (a
		// key column twice, once as output).
		spec.BuildOutput = []int{len(spec.Build) - 1, 0}
		if nk > 0 {
			spec.BuildOutput = append(spec.BuildOutput, nk)
		}
	}
	return spec
}

// rows returns n random rows: keys from small domains, payloads from
// vectortest.
func (c diffCase) rows(r *rand.Rand, ts []types.Type, keyCols []int, n int) [][]types.Value {
	rows := vectortest.Rows(r, ts, n, 0.1)
	for _, row := range rows {
		for _, k := range keyCols {
			row[k] = keyValue(r, ts[k], 0.08)
		}
		for j, t := range ts {
			if t.ID() == types.Integer && !slices.Contains(keyCols, j) && !row[j].IsNull() {
				row[j] = types.IntegerValue(int32(r.IntN(8))) // residual operand
			}
		}
	}
	return rows
}

// reference joins row by row: every pair, keys compared with
// types.Compare (NULL matches nothing), the residual folded to a constant.
func reference(t testing.TB, spec join.Spec, probe, build [][]types.Value) ([][]types.Value, error) {
	t.Helper()
	var res *residualEval
	if spec.Residual != nil {
		res = newResidualEval(t, spec)
	}
	buildNullKey := false
	for _, b := range build {
		for _, k := range spec.BuildKeys {
			buildNullKey = buildNullKey || b[k].IsNull()
		}
	}
	var out [][]types.Value
	for _, p := range probe {
		probeNull := false
		for _, k := range spec.ProbeKeys {
			probeNull = probeNull || p[k].IsNull()
		}
		var matches [][]types.Value
		resNull := false
		for _, b := range build {
			eq := !probeNull
			for i, k := range spec.ProbeKeys {
				bk := b[spec.BuildKeys[i]]
				eq = eq && !bk.IsNull() && types.Compare(p[k], bk) == 0
			}
			if !eq {
				continue
			}
			if spec.Residual != nil {
				v := res.eval(t, slices.Concat(p, b))
				if v.IsNull() {
					resNull = true
					continue
				}
				if !v.Bool() {
					continue
				}
			}
			matches = append(matches, b)
		}
		withBuild := func(b []types.Value) []types.Value {
			row := slices.Clone(p)
			for _, c := range spec.BuildOutput {
				if b == nil {
					row = append(row, types.Null(spec.Build[c]))
				} else {
					row = append(row, b[c])
				}
			}
			return row
		}
		switch spec.Kind {
		case join.Inner:
			for _, m := range matches {
				out = append(out, withBuild(m))
			}
		case join.Left:
			for _, m := range matches {
				out = append(out, withBuild(m))
			}
			if len(matches) == 0 {
				out = append(out, withBuild(nil))
			}
		case join.Semi:
			if len(matches) > 0 {
				out = append(out, p)
			}
		case join.Anti:
			if len(matches) == 0 {
				out = append(out, p)
			}
		case join.Mark:
			mark := types.BoolValue(len(matches) > 0)
			if len(matches) == 0 && len(build) > 0 && (probeNull || buildNullKey || resNull) {
				mark = types.Null(types.BooleanType)
			}
			out = append(out, append(slices.Clone(p), mark))
		case join.Single:
			if len(matches) > 1 {
				return nil, join.ErrSingle
			}
			var m []types.Value
			if len(matches) == 1 {
				m = matches[0]
			}
			out = append(out, withBuild(m))
		}
	}
	return out, nil
}

// residualEval evaluates a residual on one boxed pair at a time: a
// one-row chunk through a compiled evaluator.
type residualEval struct {
	ev  *expr.Evaluator
	row *vector.Chunk
	out *vector.Vector
}

func newResidualEval(t testing.TB, spec join.Spec) *residualEval {
	ev, err := expr.Compile(spec.Residual)
	if err != nil {
		t.Fatal(err)
	}
	return &residualEval{ev: ev, row: vector.NewChunk(slices.Concat(spec.Probe, spec.Build)), out: vector.New(types.BooleanType)}
}

func (r *residualEval) eval(t testing.TB, pair []types.Value) types.Value {
	r.row.Reset()
	r.row.AppendRow(pair...)
	if err := r.ev.Eval(r.row, r.out); err != nil {
		t.Fatal(err)
	}
	return r.out.Value(0)
}

// TestDifferential joins random inputs of every kind and shape under the
// vectortest matrix (batch sizes 2048, 3 and 1, with and without
// selections) on 1 and 2 threads, and compares with the row-by-row
// reference, including empty sides and Single's error.
func TestDifferential(t *testing.T) {
	r := vectortest.Rand(t)
	s1, s2 := scheduler(t, 1), scheduler(t, 2)
	for _, c := range diffCases {
		for _, kind := range kinds {
			t.Run(c.name+"/"+kind.String(), func(t *testing.T) {
				spec := c.shape(kind)
				j, err := join.New(spec)
				if err != nil {
					t.Fatal(err)
				}
				np, nb := 300, 200
				if len(c.keys) == 0 {
					np, nb = 60, 40
				}
				if raceEnabled || testing.Short() {
					np, nb = np/3, nb/3
				}
				counted := false // a join ran to its end with rows on both sides
				for trial := range 4 {
					pn, bn := r.IntN(np), r.IntN(nb)
					switch trial {
					case 1:
						bn = 0
					case 2:
						pn = 0
					}
					probe := c.rows(r, spec.Probe, spec.ProbeKeys, pn)
					build := c.rows(r, spec.Build, spec.BuildKeys, bn)
					if kind == join.Single && trial == 3 {
						build = uniqueKeys(build, spec.BuildKeys)
					}
					want, wantErr := reference(t, spec, probe, build)
					for ci, cfg := range vectortest.Configs {
						if raceEnabled && cfg.BatchSize == 1 && trial > 0 {
							continue
						}
						s, threads := s1, 1
						if ci%2 == 1 || cfg.BatchSize == 3 {
							s, threads = s2, 2
						}
						got, _, err := runJoin(t, s, j, spec, vectortest.Chunks(r, spec.Build, build, cfg), vectortest.Chunks(r, spec.Probe, probe, cfg))
						where := fmt.Sprintf("trial %d (%d probe, %d build rows), %v, %d threads", trial, pn, bn, cfg, threads)
						if wantErr != nil || err != nil {
							if !errors.Is(err, wantErr) || wantErr == nil {
								t.Fatalf("%s: error %v, want %v", where, err, wantErr)
							}
							continue
						}
						if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
							t.Fatalf("%s: %d rows, reference %d\n got: %.1500s\nwant: %.1500s", where, len(got), len(want), g, w)
						}
						counted = counted || pn > 0 && bn > 0
					}
				}
				// (Random sizes can leave every trial with an empty side or
				// Single's error, under -race especially, where they are
				// small: then there is nothing the stats must count.)
				if st := j.Stats(); counted && (st.ProbeRows == 0 || st.BuildRows == 0) {
					t.Fatalf("stats %v count no rows", st)
				}
			})
		}
	}
}

// uniqueKeys keeps the first build row of every non-NULL key (and every
// row with a NULL key).
func uniqueKeys(rows [][]types.Value, keys []int) [][]types.Value {
	seen := map[string]bool{}
	var out [][]types.Value
	for _, row := range rows {
		k := ""
		null := false
		for _, c := range keys {
			null = null || row[c].IsNull()
			k += row[c].String() + "\x00"
		}
		if !null && seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, row)
	}
	return out
}

// TestFanOut joins probe rows that match thousands of build rows each, so
// that one probe chunk yields several output chunks (HaveMoreOutput).
func TestFanOut(t *testing.T) {
	r := vectortest.Rand(t)
	// A residual that keeps two thirds of the pairs: build.payload % 3 <>
	// probe.key.
	residual := must(expr.NewBinary(expr.OpNe,
		must(expr.NewBinary(expr.OpMod, col(3, types.BigIntType), expr.NewConst(types.BigIntValue(3), expr.Pos{}), expr.Pos{})),
		col(0, types.IntegerType), expr.Pos{}))
	for _, kind := range kinds {
		for _, res := range []expr.Expr{nil, residual} {
			name := kind.String()
			if res != nil {
				name += "+residual"
			}
			t.Run(name, func(t *testing.T) { fanOut(t, r, kind, res) })
		}
	}
}

func fanOut(t *testing.T, r *rand.Rand, kind join.Kind, residual expr.Expr) {
	spec := join.Spec{
		Kind: kind, Probe: []types.Type{types.IntegerType, types.VarcharType}, Build: []types.Type{types.IntegerType, types.BigIntType},
		ProbeKeys: []int{0}, BuildKeys: []int{0}, Residual: residual,
	}
	if kind == join.Inner || kind == join.Left || kind == join.Single {
		spec.BuildOutput = []int{1}
	}
	j, err := join.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	var build, probe [][]types.Value
	for i := range 5000 {
		build = append(build, []types.Value{types.IntegerValue(int32(i % 3)), types.BigIntValue(int64(i))})
	}
	for i := range 40 {
		probe = append(probe, []types.Value{types.IntegerValue(int32(i % 5)), types.VarcharValue(fmt.Sprint("p", i))})
	}
	want, wantErr := reference(t, spec, probe, build)
	for _, cfg := range []vectortest.Config{{BatchSize: vector.Size}, {BatchSize: 3, Selection: true}} {
		for _, threads := range []int{1, 2} {
			got, st, err := runJoin(t, scheduler(t, threads), j, spec, vectortest.Chunks(r, spec.Build, build, cfg), vectortest.Chunks(r, spec.Probe, probe, cfg))
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					t.Fatalf("%v: error %v, want %v", cfg, err, wantErr)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if g, w := vectortest.Sorted(got), vectortest.Sorted(want); g != w {
				t.Fatalf("%v, %d threads: %d rows, reference %d", cfg, threads, len(got), len(want))
			}
			if out := st.Pipelines[1].Rows[1]; out != int64(len(want)) {
				t.Fatalf("pipeline stats count %d rows out of the join, want %d", out, len(want))
			}
		}
	}
}
