package vectortest

import (
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

var ts = []types.Type{types.BigIntType, types.VarcharType, types.MustDecimal(15, 2), types.DateType, types.BooleanType, types.DoubleType, types.IntegerType}

// TestChunksKeepRows cuts random rows under every configuration and reads
// them back: the same rows in the same order, and selections really hide
// junk.
func TestChunksKeepRows(t *testing.T) {
	r := Rand(t)
	rows := Rows(r, ts, 2500, 0.2)
	want := Format(rows)
	for _, cfg := range Configs {
		chunks := Chunks(r, ts, rows, cfg)
		if got := Format(Collect(chunks...)); got != want {
			t.Fatalf("%v: rows changed", cfg)
		}
		for _, c := range chunks {
			if c.Len() > cfg.BatchSize {
				t.Fatalf("%v: chunk of %d rows", cfg, c.Len())
			}
			if cfg.Selection {
				sel := c.Sel()
				if sel == nil {
					t.Fatalf("%v: chunk without a selection", cfg)
				}
				for i := 1; i < len(sel); i++ {
					if sel[i] <= sel[i-1] {
						t.Fatalf("%v: selection %v not increasing", cfg, sel)
					}
				}
			}
		}
	}
}

// sumIgnoringSel is an operator with a bug: it ignores the selection.
func sumIgnoringSel(buggy bool) func(in []*vector.Chunk) [][]types.Value {
	return func(in []*vector.Chunk) [][]types.Value {
		var sum int64
		for _, c := range in {
			col := vector.ColOf[int64](c, 0)
			for r := range c.Len() {
				if buggy {
					if c.Col(0).IsNull(r) {
						continue
					}
					sum += col.Data()[r]
					continue
				}
				if x, ok := col.Get(r); ok {
					sum += x
				}
			}
		}
		return [][]types.Value{{types.BigIntValue(sum)}}
	}
}

// TestMatrixCatchesSelectionBugs shows the matrix telling a correct sum
// from one that ignores selections.
func TestMatrixCatchesSelectionBugs(t *testing.T) {
	r := Rand(t)
	rows := Rows(r, ts[:1], 300, 0.1)
	got := Matrix(t, ts[:1], rows, true, sumIgnoringSel(false))
	var want int64
	for _, row := range rows {
		if !row[0].IsNull() {
			want += row[0].Int64()
		}
	}
	if got[0][0].Int64() != want {
		t.Fatalf("sum %v, want %d", got[0][0], want)
	}
	_, err := RunMatrix(Rand(t), ts[:1], rows, true, sumIgnoringSel(true))
	if err == nil || !strings.Contains(err.Error(), "/sel gives a different result") {
		t.Fatalf("the matrix did not catch an operator that ignores the selection: %v", err)
	}
}

func TestSortedAndFormat(t *testing.T) {
	rows := [][]types.Value{{types.BigIntValue(2), types.VarcharValue("b")}, {types.Null(types.BigIntType), types.VarcharValue("a")}}
	if got := Format(rows); got != "2 | b\nNULL | a\n" {
		t.Errorf("Format = %q", got)
	}
	if got := Sorted(rows); got != "2 | b\nNULL | a\n" || !strings.HasPrefix(Sorted(rows[1:]), "NULL") {
		t.Errorf("Sorted = %q", got)
	}
	if (Config{BatchSize: 3, Selection: true}).String() != "batch=3/sel" {
		t.Error("Config.String")
	}
}
