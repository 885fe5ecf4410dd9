package filter_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/filter"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// inputTypes are the columns of the random input: c0 BIGINT, c1 INTEGER,
// c2 DOUBLE, c3 VARCHAR, c4 DECIMAL(15,2), c5 DATE.
var inputTypes = []types.Type{
	types.BigIntType, types.IntegerType, types.DoubleType, types.VarcharType,
	types.MustDecimal(15, 2), types.DateType,
}

func col(j int) expr.Expr {
	return expr.NewColumn(j, "c"+string(rune('0'+j)), inputTypes[j], expr.Pos{})
}

func konst(v types.Value) expr.Expr { return expr.NewConst(v, expr.Pos{}) }

func must(e expr.Expr, err error) expr.Expr {
	if err != nil {
		panic(err)
	}
	return e
}

func bin(op expr.Op, l, r expr.Expr) expr.Expr { return must(expr.NewBinary(op, l, r, expr.Pos{})) }

// predicates are the filters the matrix runs: comparisons with constants
// and between columns, three-valued logic, NULL tests, LIKE, IN, BETWEEN.
func predicates() []expr.Expr {
	return []expr.Expr{
		bin(expr.OpGt, col(0), konst(types.BigIntValue(500))),
		bin(expr.OpAnd, bin(expr.OpLt, col(1), konst(types.IntegerValue(20))), bin(expr.OpGe, col(2), konst(types.DoubleValue(-10)))),
		bin(expr.OpOr, expr.NewIsNull(col(1), false, expr.Pos{}), bin(expr.OpLt, col(1), col(0))),
		must(expr.NewUnary(expr.OpNot, bin(expr.OpEq, col(3), konst(types.VarcharValue("AIR"))), expr.Pos{})),
		must(expr.NewLike(col(3), "%a%", false, false, expr.Pos{})),
		must(expr.NewInList(col(1), []expr.Expr{konst(types.IntegerValue(1)), konst(types.IntegerValue(-5)), konst(types.IntegerValue(42))}, true, expr.Pos{})),
		must(expr.NewBetween(col(5), konst(types.VarcharValue("1993-01-01")), konst(types.VarcharValue("1996-06-30")), false, expr.Pos{})),
		bin(expr.OpAnd, bin(expr.OpLe, col(4), konst(types.DecimalValue(5000000000000, types.MustDecimal(15, 2)))), bin(expr.OpNe, col(3), konst(types.VarcharValue("")))),
		konst(types.BoolValue(true)),
		konst(types.Null(types.BooleanType)),
	}
}

// run pushes chunks through one task's filter and returns the rows out,
// checking that every output column references the input's vector.
func run(t *testing.T, f *filter.Filter, in []*vector.Chunk) [][]types.Value {
	t.Helper()
	st, err := f.Init(nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	out := vector.NewChunk(f.Types())
	var rows [][]types.Value
	for _, c := range in {
		out.Reset()
		res, err := l.Execute(c, out)
		if err != nil {
			t.Fatal(err)
		}
		if res != parallel.NeedMoreInput {
			t.Fatalf("Execute returned %v", res)
		}
		for j := range out.Width() {
			if out.Owned(j) {
				t.Fatalf("output column %d was copied, not referenced", j)
			}
		}
		rows = append(rows, vectortest.Collect(out)...)
	}
	// Give the task state back, as the pipeline does: later runs reuse it.
	if err := l.(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// reference filters rows one at a time: the predicate with the row's
// values in place of the columns, folded to a constant.
func reference(t *testing.T, pred expr.Expr, rows [][]types.Value) [][]types.Value {
	t.Helper()
	var out [][]types.Value
	for _, row := range rows {
		e, err := expr.Rewrite(pred, func(n expr.Expr) (expr.Expr, error) {
			if c, ok := n.(*expr.Column); ok {
				return expr.NewConst(row[c.Index], c.At), nil
			}
			return n, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		k, ok := expr.Fold(e).(*expr.Const)
		if !ok {
			t.Fatalf("reference: %s does not fold for row %s", pred, vectortest.Format([][]types.Value{row}))
		}
		if !k.Val.IsNull() && k.Val.Bool() {
			out = append(out, row)
		}
	}
	return out
}

func TestMatrix(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, inputTypes, 1500, 0.1)
	for _, pred := range predicates() {
		t.Run(pred.String(), func(t *testing.T) {
			f, err := filter.New(inputTypes, pred)
			if err != nil {
				t.Fatal(err)
			}
			got := vectortest.Matrix(t, inputTypes, rows, true, func(in []*vector.Chunk) [][]types.Value {
				return run(t, f, in)
			})
			want := reference(t, pred, rows)
			if g, w := vectortest.Format(got), vectortest.Format(want); g != w {
				t.Fatalf("filter %s: %d rows, reference %d rows\n got: %.400s\nwant: %.400s", pred, len(got), len(want), g, w)
			}
		})
	}
}

// TestStacked runs two filters one after the other, as a pipeline of
// filter → filter does: the second narrows the first's selection.
func TestStacked(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, inputTypes, 1500, 0.1)
	p1 := bin(expr.OpGt, col(1), konst(types.IntegerValue(-50)))
	p2 := must(expr.NewLike(col(3), "%A%", false, false, expr.Pos{}))
	f1, _ := filter.New(inputTypes, p1)
	f2, _ := filter.New(inputTypes, p2)
	got := vectortest.Matrix(t, inputTypes, rows, true, func(in []*vector.Chunk) [][]types.Value {
		st1, _ := f1.Init(nil)
		st2, _ := f2.Init(nil)
		l1, _ := st1.NewLocal()
		l2, _ := st2.NewLocal()
		mid, out := vector.NewChunk(inputTypes), vector.NewChunk(inputTypes)
		var res [][]types.Value
		for _, c := range in {
			before := vectortest.Collect(c)
			mid.Reset()
			if _, err := l1.Execute(c, mid); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if _, err := l2.Execute(mid, out); err != nil {
				t.Fatal(err)
			}
			if vectortest.Format(vectortest.Collect(c)) != vectortest.Format(before) {
				t.Fatal("filter modified its input chunk")
			}
			res = append(res, vectortest.Collect(out)...)
		}
		return res
	})
	want := reference(t, bin(expr.OpAnd, p1, p2), rows)
	if g, w := vectortest.Format(got), vectortest.Format(want); g != w {
		t.Fatalf("stacked filters: %d rows, reference %d", len(got), len(want))
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		input []types.Type
		pred  expr.Expr
		want  string
	}{
		{"not boolean", inputTypes, col(0), "not BOOLEAN"},
		{"column out of range", inputTypes[:2], bin(expr.OpGt, col(2), konst(types.DoubleValue(1))), "#2 of an input of 2 columns"},
		{"column type", []types.Type{types.IntegerType}, bin(expr.OpGt, col(0), konst(types.BigIntValue(1))), "is BIGINT, the input's #0 is INTEGER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := filter.New(tt.input, tt.pred)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, expr.ErrType) {
				t.Fatalf("New: %v, want an ErrType error containing %q", err, tt.want)
			}
		})
	}
}

// TestRunTimeError: a kernel's error (division by zero) fails Execute with
// the expression named.
func TestRunTimeError(t *testing.T) {
	ts := []types.Type{types.BigIntType}
	c := vector.NewChunk(ts)
	c.AppendRow(types.BigIntValue(2))
	c.AppendRow(types.BigIntValue(0))
	pred := bin(expr.OpGt, bin(expr.OpIntDiv, konst(types.BigIntValue(10)), expr.NewColumn(0, "x", types.BigIntType, expr.Pos{Line: 1, Col: 8})), konst(types.BigIntValue(1)))
	f, err := filter.New(ts, pred)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Init(nil)
	l, _ := st.NewLocal()
	_, err = l.Execute(c, vector.NewChunk(ts))
	if err == nil || !errors.Is(err, types.ErrDivisionByZero) || !strings.Contains(err.Error(), "filter: ") {
		t.Fatalf("Execute: %v, want a division by zero", err)
	}
}

func TestString(t *testing.T) {
	f, err := filter.New(inputTypes, bin(expr.OpGt, col(0), konst(types.BigIntValue(500))))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.String(), "filter (c0 > 500::BIGINT)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestAllPass: a chunk whose rows all pass keeps its selection, and a dense
// chunk stays dense.
func TestAllPass(t *testing.T) {
	f, err := filter.New(inputTypes, konst(types.BoolValue(true)))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Init(nil)
	l, _ := st.NewLocal()
	in := vector.NewChunk(inputTypes)
	for range 5 {
		in.AppendRow(types.BigIntValue(1), types.IntegerValue(2), types.DoubleValue(3), types.VarcharValue("x"),
			types.DecimalValue(4, types.MustDecimal(15, 2)), types.DateValue(5))
	}
	out := vector.NewChunk(inputTypes)
	if _, err := l.Execute(in, out); err != nil {
		t.Fatal(err)
	}
	if out.Sel() != nil || out.Len() != 5 {
		t.Fatalf("dense input, all rows pass: selection %v, %d rows; want dense 5", out.Sel(), out.Len())
	}
	in.SetSel(vector.Selection{4, 1, 3}, 3)
	out.Reset()
	if _, err := l.Execute(in, out); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(out.Sel()) != "[4 1 3]" {
		t.Fatalf("selection %v, want the input's [4 1 3]", out.Sel())
	}
}
