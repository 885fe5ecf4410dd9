package project_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/exec/project"
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

// projections are the lists the matrix runs: pass-through columns (also
// twice, and reordered), arithmetic, strings, CASE, dates, constants.
func projections() [][]expr.Expr {
	return [][]expr.Expr{
		{col(3), col(0)},
		{col(1), bin(expr.OpAdd, col(1), konst(types.IntegerValue(7))), col(1)},
		{bin(expr.OpMul, col(2), konst(types.DoubleValue(2.5))), bin(expr.OpSub, col(4), konst(types.DecimalValue(150, types.MustDecimal(3, 2))))},
		{bin(expr.OpConcat, col(3), konst(types.VarcharValue("!"))), col(5)},
		{must(expr.NewCase([]expr.When{{Cond: bin(expr.OpGt, col(1), konst(types.IntegerValue(0))), Then: col(3)}}, konst(types.VarcharValue("neg")), expr.Pos{}))},
		{must(expr.NewDateInterval(col(5), 1, 3, expr.Pos{})), must(expr.NewExtract(expr.Year, col(5), expr.Pos{}))},
		{konst(types.BigIntValue(42)), col(2), must(expr.NewCoalesce([]expr.Expr{col(1), konst(types.IntegerValue(-1))}, expr.Pos{}))},
		{bin(expr.OpLt, col(1), col(0))},
		// An output inside later ones (TPC-H Q1's disc_price in charge):
		// they read the computed output.
		{
			bin(expr.OpMul, col(2), bin(expr.OpSub, konst(types.DoubleValue(1)), col(2))),
			col(2),
			bin(expr.OpAdd, bin(expr.OpMul, col(2), bin(expr.OpSub, konst(types.DoubleValue(1)), col(2))), col(2)),
			bin(expr.OpConcat, col(3), konst(types.VarcharValue("!"))),
			must(expr.NewCase([]expr.When{{Cond: bin(expr.OpGt, col(1), konst(types.IntegerValue(0))), Then: bin(expr.OpConcat, col(3), konst(types.VarcharValue("!")))}}, konst(types.VarcharValue("neg")), expr.Pos{})),
		},
	}
}

// run pushes chunks through one task's projection and returns the rows out,
// checking which columns are references and which are computed.
func run(t *testing.T, p *project.Project, in []*vector.Chunk) [][]types.Value {
	t.Helper()
	st, err := p.Init(nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	out := vector.NewChunk(p.Types())
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
		for j, e := range p.Exprs() {
			_, isCol := e.(*expr.Column)
			if out.Owned(j) == isCol {
				t.Fatalf("output %d (%s): owned %v, want a reference exactly for a column", j, e, out.Owned(j))
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

// reference projects rows one at a time: each expression with the row's
// values in place of the columns, folded to a constant.
func reference(t *testing.T, exprs []expr.Expr, rows [][]types.Value) [][]types.Value {
	t.Helper()
	out := make([][]types.Value, len(rows))
	for i, row := range rows {
		for _, e := range exprs {
			re, err := expr.Rewrite(e, func(n expr.Expr) (expr.Expr, error) {
				if c, ok := n.(*expr.Column); ok {
					return expr.NewConst(row[c.Index], c.At), nil
				}
				return n, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			k, ok := expr.Fold(re).(*expr.Const)
			if !ok {
				t.Fatalf("reference: %s does not fold for row %s", e, vectortest.Format([][]types.Value{row}))
			}
			out[i] = append(out[i], k.Val)
		}
	}
	return out
}

func TestMatrix(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, inputTypes, 1500, 0.1)
	for _, exprs := range projections() {
		p, err := project.New(inputTypes, exprs)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(p.String(), func(t *testing.T) {
			got := vectortest.Matrix(t, inputTypes, rows, true, func(in []*vector.Chunk) [][]types.Value {
				return run(t, p, in)
			})
			want := reference(t, exprs, rows)
			if len(got) != len(want) {
				t.Fatalf("%d rows, reference %d", len(got), len(want))
			}
			for i := range got {
				if g, w := vectortest.Format(got[i:i+1]), vectortest.Format(want[i:i+1]); g != w {
					t.Fatalf("row %d (input %s):\n got %s\nwant %s", i, vectortest.Format(rows[i:i+1]), g, w)
				}
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		input []types.Type
		exprs []expr.Expr
		want  string
	}{
		{"empty", inputTypes, nil, "no expressions"},
		{"column out of range", inputTypes[:2], []expr.Expr{col(0), col(3)}, "#3 of an input of 2 columns"},
		{"column type", []types.Type{types.IntegerType}, []expr.Expr{bin(expr.OpAdd, col(0), konst(types.BigIntValue(1)))}, "is BIGINT, the input's #0 is INTEGER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := project.New(tt.input, tt.exprs)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, expr.ErrType) {
				t.Fatalf("New: %v, want an ErrType error containing %q", err, tt.want)
			}
		})
	}
}

// TestRunTimeError: an overflow in a computed column fails Execute with
// the expression and its position named.
func TestRunTimeError(t *testing.T) {
	ts := []types.Type{types.BigIntType}
	c := vector.NewChunk(ts)
	c.AppendRow(types.BigIntValue(2))
	c.AppendRow(types.BigIntValue(1 << 62))
	x := expr.NewColumn(0, "x", types.BigIntType, expr.Pos{Line: 1, Col: 8})
	e := must(expr.NewBinary(expr.OpMul, x, konst(types.BigIntValue(4)), expr.Pos{Line: 1, Col: 10}))
	p, err := project.New(ts, []expr.Expr{x, e})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := p.Init(nil)
	l, _ := st.NewLocal()
	_, err = l.Execute(c, vector.NewChunk(p.Types()))
	if err == nil || !errors.Is(err, types.ErrOverflow) || !strings.Contains(err.Error(), "1:10") {
		t.Fatalf("Execute: %v, want an overflow at 1:10", err)
	}
}

func TestString(t *testing.T) {
	p, err := project.New(inputTypes, []expr.Expr{col(3), bin(expr.OpAdd, col(1), konst(types.IntegerValue(7)))})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), "project c3, (c1 + 7)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
