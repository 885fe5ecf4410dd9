package values_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/collect"
	"github.com/bpfdb/bpfdb/internal/exec/values"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// scan runs src into a collection at the given thread count and returns
// the rows and the pipeline's stats.
func scan(t *testing.T, src parallel.Source, threads int) ([][]types.Value, parallel.RunStats) {
	t.Helper()
	s := parallel.New(parallel.Options{Threads: threads})
	defer s.Close()
	c := collect.New(src.Types(), collect.Options{Limit: -1})
	st, err := parallel.Run(context.Background(), s, []*parallel.Pipeline{parallel.NewPipeline("values", src, nil, c)})
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]types.Value
	it := c.Iterator()
	for it.Next() {
		rows = append(rows, append([]types.Value(nil), it.Row()...))
	}
	return rows, st
}

func TestScan(t *testing.T) {
	r := vectortest.Rand(t)
	ts := []types.Type{types.BigIntType, types.VarcharType, types.MustDecimal(15, 2), types.DateType, types.DoubleType, types.BooleanType, types.IntegerType}
	for _, n := range []int{0, 1, 3, vector.Size, 2*vector.Size + 5} {
		rows := vectortest.Rows(r, ts, n, 0.2)
		src, err := values.New(ts, rows)
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			got, st := scan(t, src, threads)
			if g, w := vectortest.Format(got), vectortest.Format(rows); g != w {
				t.Fatalf("%d rows, %d threads: got\n%.300s\nwant\n%.300s", n, threads, g, w)
			}
			if want := int64((n + vector.Size - 1) / vector.Size); st.Pipelines[0].Morsels != want {
				t.Fatalf("%d rows: %d morsels, want %d", n, st.Pipelines[0].Morsels, want)
			}
		}
	}
}

// TestNoColumns: SELECT without FROM reads one row of no columns.
func TestNoColumns(t *testing.T) {
	src, err := values.New(nil, [][]types.Value{{}})
	if err != nil {
		t.Fatal(err)
	}
	got, st := scan(t, src, 2)
	if len(got) != 1 || len(got[0]) != 0 || st.Pipelines[0].Rows[0] != 1 {
		t.Fatalf("got %v rows %v, want one empty row", got, st.Pipelines[0].Rows)
	}
	if s := src.(*values.Source).String(); s != "values 1 rows" {
		t.Fatalf("String() = %q", s)
	}
}

func TestNewErrors(t *testing.T) {
	ts := []types.Type{types.BigIntType, types.VarcharType}
	tests := []struct {
		name string
		ts   []types.Type
		rows [][]types.Value
		want string
	}{
		{"short row", ts, [][]types.Value{{types.BigIntValue(1), types.VarcharValue("a")}, {types.BigIntValue(2)}}, "row 2 has 1 values for 2 columns"},
		{"wrong type", ts, [][]types.Value{{types.IntegerValue(1), types.VarcharValue("a")}}, "row 1 column 1: 1 is INTEGER, the column is BIGINT"},
		{"invalid type", []types.Type{{}}, nil, "column 1 has invalid type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := values.New(tt.ts, tt.rows)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.rows != nil && !errors.Is(err, values.ErrRow) {
				t.Fatalf("err = %v does not wrap ErrRow", err)
			}
		})
	}
	// A NULL of another type is the column's NULL.
	src, err := values.New(ts, [][]types.Value{{types.Null(types.VarcharType), types.Null(types.BigIntType)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := scan(t, src, 1); vectortest.Format(got) != "NULL | NULL\n" {
		t.Fatalf("got %q", vectortest.Format(got))
	}
}
