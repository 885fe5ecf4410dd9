package expr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// schema is the input of the kernel tests: one column of every type.
var schema = []types.Type{
	types.IntegerType,        // 0 i
	types.BigIntType,         // 1 b
	types.DoubleType,         // 2 d
	types.MustDecimal(15, 2), // 3 p
	types.MustDecimal(4, 1),  // 4 q
	types.VarcharType,        // 5 s
	types.DateType,           // 6 dt
	types.BooleanType,        // 7 f
	types.BooleanType,        // 8 g
	types.VarcharType,        // 9 s2
}

var colNames = []string{"i", "b", "d", "p", "q", "s", "dt", "f", "g", "s2"}

// tb builds trees for tests, failing the test on a construction error.
type tb struct{ t testing.TB }

func (b tb) ok(e Expr, err error) Expr {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("build: %v", err)
	}
	return e
}

func (b tb) col(name string) Expr {
	for i, n := range colNames {
		if n == name {
			return NewColumn(i, n, schema[i], Pos{})
		}
	}
	b.t.Fatalf("no column %s", name)
	return nil
}

func (b tb) lit(t types.Type, s string) Expr {
	b.t.Helper()
	v, err := types.ParseValue(t, s)
	if err != nil {
		b.t.Fatal(err)
	}
	return NewConst(v, Pos{})
}

func (b tb) int(x int32) Expr { return NewConst(types.IntegerValue(x), Pos{}) }

func (b tb) str(s string) Expr { return NewConst(types.VarcharValue(s), Pos{}) }

func (b tb) bin(op Op, l, r Expr) Expr {
	b.t.Helper()
	return b.ok(NewBinary(op, l, r, Pos{Line: 1, Col: 1}))
}

func (b tb) cast(e Expr, t types.Type) Expr {
	b.t.Helper()
	return b.ok(NewCast(e, t, Pos{}))
}

func (b tb) like(e Expr, pat string, fold, neg bool) Expr {
	b.t.Helper()
	return b.ok(NewLike(e, pat, fold, neg, Pos{}))
}

func (b tb) in(e Expr, neg bool, items ...Expr) Expr {
	b.t.Helper()
	return b.ok(NewInList(e, items, neg, Pos{}))
}

// kernelCases are the expressions every kernel test runs, covering each
// operator on each type it accepts.
func kernelCases(t testing.TB) []Expr {
	b := tb{t}
	c := b.col
	dec := func(s string, p, sc int) Expr { return b.lit(types.MustDecimal(p, sc), s) }
	es := []Expr{
		// Integer arithmetic.
		b.bin(OpAdd, c("i"), c("i")), b.bin(OpSub, c("i"), c("b")), b.bin(OpMul, c("i"), c("i")),
		b.bin(OpAdd, c("b"), c("b")), b.bin(OpSub, c("b"), c("i")), b.bin(OpMul, c("b"), c("i")),
		b.bin(OpIntDiv, c("i"), c("i")), b.bin(OpMod, c("i"), c("i")), b.bin(OpIntDiv, c("b"), c("i")),
		b.bin(OpMod, c("b"), c("b")), b.bin(OpMul, c("i"), b.int(30000000)),
		b.ok(NewUnary(OpNeg, c("i"), Pos{})), b.ok(NewUnary(OpNeg, c("b"), Pos{})),
		// DOUBLE and division.
		b.bin(OpAdd, c("d"), c("d")), b.bin(OpMul, c("d"), c("p")), b.bin(OpDiv, c("d"), c("i")),
		b.bin(OpDiv, c("p"), c("q")), b.bin(OpSub, c("d"), c("b")), b.ok(NewUnary(OpNeg, c("d"), Pos{})),
		// DECIMAL.
		b.bin(OpAdd, c("p"), c("q")), b.bin(OpSub, c("p"), c("q")), b.bin(OpMul, c("p"), c("q")),
		b.bin(OpMul, c("q"), c("q")), b.bin(OpAdd, c("p"), c("i")), b.bin(OpSub, c("q"), c("b")),
		b.bin(OpMul, c("p"), b.bin(OpSub, dec("1", 15, 2), c("q"))),
		b.bin(OpMul, b.bin(OpMul, c("q"), b.bin(OpSub, dec("1", 15, 2), c("q"))), b.bin(OpAdd, dec("1", 15, 2), c("q"))),
		b.bin(OpMul, c("p"), dec("0.5", 2, 1)), b.ok(NewUnary(OpNeg, c("p"), Pos{})),
		b.bin(OpAdd, b.cast(c("p"), types.MustDecimal(18, 2)), dec("9999999999999999.99", 18, 2)),
		b.bin(OpSub, dec("-9999999999999990.00", 18, 2), b.cast(c("p"), types.MustDecimal(18, 2))),
		// Comparisons across types.
		b.bin(OpLt, c("i"), c("b")), b.bin(OpEq, c("p"), c("q")), b.bin(OpGe, c("p"), c("i")),
		b.bin(OpNe, c("d"), c("p")), b.bin(OpLt, c("s"), c("s2")), b.bin(OpEq, c("s"), b.str("AIR")),
		b.bin(OpLt, c("dt"), b.lit(types.DateType, "1995-01-01")), b.bin(OpLe, c("dt"), b.str("1995-01-01")),
		b.bin(OpEq, c("f"), c("g")), b.bin(OpGt, c("d"), b.lit(types.DoubleType, "10.5")),
		b.bin(OpGt, c("q"), dec("10.25", 4, 2)), b.bin(OpNe, c("b"), b.int(7)),
		b.bin(OpLt, b.int(5), c("i")), b.bin(OpGe, b.lit(types.DateType, "1995-06-01"), c("dt")), b.bin(OpNe, b.str("AIR"), c("s")),
		b.bin(OpLt, c("b"), c("p")), b.bin(OpGe, c("p"), c("b")), b.bin(OpEq, b.bin(OpMul, c("b"), b.int(100)), c("p")),
		b.bin(OpGt, b.cast(c("p"), types.MustDecimal(18, 2)), b.lit(types.BigIntType, "9223372036854775807")),
		// Three-valued logic.
		b.bin(OpAnd, c("f"), c("g")), b.bin(OpOr, c("f"), c("g")), b.ok(NewUnary(OpNot, c("f"), Pos{})),
		b.bin(OpAnd, b.bin(OpGt, c("i"), b.int(0)), b.like(c("s"), "%A%", false, false)),
		b.bin(OpAnd, c("f"), NewConst(types.Null(types.BooleanType), Pos{})),
		b.bin(OpAnd, b.bin(OpAnd, b.bin(OpNe, c("i"), b.int(0)), c("g")), b.bin(OpGt, b.bin(OpIntDiv, c("b"), c("i")), b.int(1))),
		b.bin(OpOr, c("g"), NewConst(types.Null(types.BooleanType), Pos{})),
		NewIsNull(c("i"), false, Pos{}), NewIsNull(c("s"), true, Pos{}),
		// LIKE: every matcher.
		b.like(c("s"), "A%", false, false), b.like(c("s"), "%L", false, false), b.like(c("s"), "%I%", false, false),
		b.like(c("s"), "M_IL", false, false), b.like(c("s"), "air%", true, false), b.like(c("s"), "%z", false, true),
		b.like(c("s"), "Cust%#%1", false, false), b.like(c("s"), "", false, false), b.like(c("s"), "%", false, false),
		b.like(c("s"), "_%_", false, false), b.like(c("s"), "ün%", false, false), b.like(c("s"), "%Ï%", true, false),
		b.like(c("s"), "x y", false, false), b.like(c("s"), "%r_c%", false, false),
		// IN lists, small and hashed, with NULLs.
		b.in(c("i"), false, b.int(1), b.int(2), b.int(3)),
		b.in(c("i"), true, b.int(1), b.int(2), b.int(3), b.int(4), b.int(5), b.int(6), b.int(7), b.int(8), b.int(9), b.int(10), b.int(-1)),
		b.in(c("s"), false, b.str("AIR"), b.str("MAIL"), NewConst(types.Null(types.VarcharType), Pos{})),
		b.in(c("s"), true, b.str("AIR"), b.str("SHIP"), b.str("a"), b.str("x yz"), b.str("TRUCK"), b.str(""), b.str("q"), b.str("r"), b.str("s")),
		b.in(c("p"), false, dec("1.5", 3, 1), b.int(3)), b.in(c("dt"), false, b.str("1995-01-01"), b.str("1996-02-29")),
		b.in(c("d"), false, b.lit(types.DoubleType, "0.5"), b.lit(types.DoubleType, "-1.25")),
		b.in(c("b"), true, b.int(1), NewConst(types.Null(types.IntegerType), Pos{})),
		b.in(c("f"), false, NewConst(types.BoolValue(true), Pos{})),
		b.in(c("i"), false, b.int(3), c("b"), NewConst(types.Null(types.IntegerType), Pos{})),
		b.in(c("s"), true, c("s2"), b.str("AIR")),
		// BETWEEN.
		b.ok(NewBetween(c("i"), b.int(-10), b.int(10), false, Pos{})),
		b.ok(NewBetween(c("dt"), b.str("1994-01-01"), b.str("1995-01-01"), true, Pos{})),
		b.ok(NewBetween(c("q"), dec("0.05", 3, 2), dec("0.07", 3, 2), false, Pos{})),
		// CASE and COALESCE: branches run only on their rows.
		b.ok(NewCase([]When{{Cond: b.bin(OpGt, c("i"), b.int(0)), Then: b.bin(OpIntDiv, c("b"), c("i"))}}, b.int(0), Pos{})),
		b.ok(NewCase([]When{{Cond: c("f"), Then: c("s")}, {Cond: c("g"), Then: c("s2")}}, nil, Pos{})),
		b.ok(NewCase([]When{{Cond: b.bin(OpLt, c("i"), b.int(0)), Then: c("p")}}, c("q"), Pos{})),
		b.ok(NewCoalesce([]Expr{c("i"), c("b"), b.int(0)}, Pos{})),
		b.ok(NewCoalesce([]Expr{c("s"), c("s2"), b.str("none")}, Pos{})),
		// Dates and strings.
		b.ok(NewExtract(Year, c("dt"), Pos{})), b.ok(NewExtract(Month, c("dt"), Pos{})), b.ok(NewExtract(Day, c("dt"), Pos{})),
		b.ok(NewSubstring(c("s"), b.int(2), b.int(3), Pos{})), b.ok(NewSubstring(c("s"), c("i"), nil, Pos{})),
		b.ok(NewSubstring(c("s"), b.int(0), b.int(2), Pos{})), b.ok(NewSubstring(c("s"), b.int(1), c("i"), Pos{})),
		b.bin(OpConcat, c("s"), c("s2")), b.bin(OpConcat, c("s"), c("i")), b.bin(OpConcat, c("dt"), c("s")),
		b.ok(NewDateInterval(c("dt"), 0, -90, Pos{})), b.ok(NewDateInterval(c("dt"), 1, 0, Pos{})),
		b.ok(NewDateInterval(c("dt"), -3, 2, Pos{})), b.ok(NewDateInterval(b.str("1998-12-01"), 0, -90, Pos{})),
		b.bin(OpAdd, c("dt"), c("i")), b.bin(OpSub, c("dt"), c("i")), b.bin(OpSub, c("dt"), c("b")),
		b.bin(OpAdd, c("i"), c("dt")), b.bin(OpSub, c("dt"), c("dt")),
		// Round trips through text.
		b.cast(b.cast(c("i"), types.VarcharType), types.IntegerType),
		b.cast(b.cast(c("dt"), types.VarcharType), types.DateType),
		b.cast(b.cast(c("p"), types.VarcharType), types.MustDecimal(15, 2)),
		b.cast(b.cast(c("d"), types.VarcharType), types.DoubleType),
		b.cast(b.cast(c("f"), types.VarcharType), types.BooleanType),
		b.cast(b.cast(c("b"), types.VarcharType), types.BigIntType),
		b.cast(b.cast(c("i"), types.VarcharType), types.BooleanType),
		b.cast(b.ok(NewCase([]When{{Cond: c("f"), Then: b.str("-Infinity")}, {Cond: c("g"), Then: b.str(" 2.5 ")}}, b.str("1e400"), Pos{})), types.DoubleType),
		b.cast(b.ok(NewCase([]When{{Cond: c("f"), Then: b.str("-Infinity")}}, b.str("NaN"), Pos{})), types.DoubleType),
	}
	// Every cast between the schema's types that exists.
	targets := []types.Type{types.IntegerType, types.BigIntType, types.DoubleType, types.MustDecimal(15, 2),
		types.MustDecimal(4, 1), types.MustDecimal(18, 6), types.VarcharType, types.DateType, types.BooleanType}
	for _, name := range colNames[:8] {
		for _, to := range targets {
			if castable(c(name).Type(), to) {
				es = append(es, b.cast(c(name), to))
			}
		}
	}
	return es
}

// TestKernelsMatchReference runs every case under the vectortest matrix
// (batch sizes 1, 3, 2048, with and without selections, 20% NULLs) and
// compares each chunk's result with the row-at-a-time reference. A chunk
// where the reference fails on some row must fail with an *Error.
func TestKernelsMatchReference(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, schema, 600, 0.2)
	chunks := make([][]*vector.Chunk, len(vectortest.Configs))
	for k, cfg := range vectortest.Configs {
		chunks[k] = vectortest.Chunks(r, schema, rows, cfg)
	}
	for _, e := range kernelCases(t) {
		t.Run(e.String(), func(t *testing.T) { checkExpr(t, e, chunks, true) })
	}
}

// checkExpr compares e's kernels with the reference on every chunk of
// every configuration, and its filter if it is BOOLEAN. strict fails a
// case where no chunk evaluates without an error.
func checkExpr(t *testing.T, e Expr, chunks [][]*vector.Chunk, strict bool) {
	t.Helper()
	ev, err := Compile(e)
	if err != nil {
		t.Fatal(err)
	}
	out := vector.New(e.Type())
	checked, failed := 0, 0
	for k, cfg := range vectortest.Configs {
		for _, c := range chunks[k] {
			got := ev.Eval(c, out)
			var refErr error
			want := make([]types.Value, c.Len())
			for row := range c.Len() {
				v, err := ref(e, boxedRow(c, row))
				if err != nil && refErr == nil {
					refErr = err
				}
				want[row] = v
			}
			if refErr != nil {
				failed++
				var ee *Error
				if !errors.As(got, &ee) {
					t.Fatalf("%v: %v: reference fails (%v), kernel returns %v", e, cfg, refErr, got)
				}
				continue
			}
			if got != nil {
				t.Fatalf("%v: %v: %v", e, cfg, got)
			}
			for row := range c.Len() {
				g := out.Value(c.Index(row))
				if g.String() != want[row].String() || g.Type() != want[row].Type() {
					t.Fatalf("%v: %v: row %v: got %v (%v), want %v (%v)", e, cfg, boxedRow(c, row), g, g.Type(), want[row], want[row].Type())
				}
				checked++
			}
		}
	}
	if checked == 0 && strict {
		t.Fatalf("%v: every chunk failed (%d), nothing compared", e, failed)
	}
	if e.Type().ID() == types.Boolean {
		checkFilter(t, ev, e, chunks)
	}
}

// TestRandomTrees builds random nested trees from the constructors (what
// they refuse is skipped) and checks each like the kernel cases: nesting
// exercises scratch vectors, sub-selections of CASE inside CASE, casts of
// intermediate results.
func TestRandomTrees(t *testing.T) {
	r := vectortest.Rand(t)
	rows := vectortest.Rows(r, schema, 300, 0.2)
	chunks := make([][]*vector.Chunk, len(vectortest.Configs))
	for k, cfg := range vectortest.Configs {
		chunks[k] = vectortest.Chunks(r, schema, rows, cfg)
	}
	cases := kernelCases(t)
	b := tb{t}
	var gen func(depth int) Expr
	gen = func(depth int) Expr {
		if depth == 0 || r.IntN(4) == 0 {
			switch r.IntN(3) {
			case 0:
				return b.col(colNames[r.IntN(len(colNames))])
			case 1:
				return cases[r.IntN(len(cases))]
			}
			v := vectortest.Value(r, schema[r.IntN(len(schema))], 0.1)
			return NewConst(v, Pos{})
		}
		for {
			x, y, z := gen(depth-1), gen(depth-1), gen(depth-1)
			var e Expr
			var err error
			switch r.IntN(10) {
			case 0, 1, 2:
				e, err = NewBinary(Op(1+r.IntN(int(OpConcat))), x, y, Pos{Line: 1, Col: 1})
			case 3:
				e, err = NewCase([]When{{Cond: x, Then: y}}, z, Pos{})
			case 4:
				e, err = NewCoalesce([]Expr{x, y}, Pos{})
			case 5:
				e, err = NewCast(x, schema[r.IntN(len(schema))], Pos{})
			case 6:
				e, err = NewBetween(x, y, z, r.IntN(2) == 0, Pos{})
			case 7:
				e, err = NewUnary([]Op{OpNeg, OpNot}[r.IntN(2)], x, Pos{})
			case 8:
				e = NewIsNull(x, r.IntN(2) == 0, Pos{})
			case 9:
				e, err = NewSubstring(x, y, z, Pos{})
			}
			if err == nil {
				return e
			}
			if r.IntN(8) == 0 {
				return x
			}
		}
	}
	for range 150 {
		e := gen(3)
		if _, ok := e.(*Column); ok {
			continue
		}
		checkExpr(t, e, chunks, false)
	}
}

// checkFilter checks EvalFilter: the rows left are those where the
// reference is true.
func checkFilter(t *testing.T, ev *Evaluator, e Expr, chunks [][]*vector.Chunk) {
	for k, cfg := range vectortest.Configs {
		for _, c := range chunks[k] {
			var want, got []string
			refFailed := false
			for row := range c.Len() {
				keep, err := refFilter(e, boxedRow(c, row))
				refFailed = refFailed || err != nil
				if keep {
					want = append(want, vectortest.Format([][]types.Value{boxedRow(c, row)}))
				}
			}
			before := append(vector.Selection(nil), c.Sel()...)
			sel, err := ev.EvalFilter(c)
			if refFailed {
				if err == nil {
					t.Fatalf("%v: filter: reference fails, kernel does not", cfg)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, slot := range sel {
				row := make([]types.Value, c.Width())
				for j := range row {
					row[j] = c.Col(j).Value(int(slot))
				}
				got = append(got, vectortest.Format([][]types.Value{row}))
			}
			if before != nil {
				copy(c.SelBuffer(), before) // the chunks are shared by later cases
				c.SetSel(c.SelBuffer(), len(before))
			}
			if strings.Join(got, "") != strings.Join(want, "") {
				t.Fatalf("%v: filter keeps\n%s\nwant\n%s", cfg, strings.Join(got, ""), strings.Join(want, ""))
			}
		}
	}
}

// refFilter is the reference of a filter: AND operands are tried left to
// right, each only if the ones before were true.
func refFilter(e Expr, row []types.Value) (bool, error) {
	if b, ok := e.(*Binary); ok && b.Op == OpAnd {
		keep, err := refFilter(b.Left, row)
		if err != nil || !keep {
			return false, err
		}
		return refFilter(b.Right, row)
	}
	v, err := ref(e, row)
	return err == nil && !v.IsNull() && v.Bool(), err
}

func boxedRow(c *vector.Chunk, r int) []types.Value {
	row := make([]types.Value, c.Width())
	for j := range row {
		row[j] = c.Value(j, r)
	}
	return row
}

// TestErrorsNamePosition checks that run-time failures carry the
// expression, its position and the sentinel.
func TestErrorsNamePosition(t *testing.T) {
	b := tb{t}
	big := NewConst(types.BigIntValue(1<<62), Pos{})
	zero := NewConst(types.BigIntValue(0), Pos{})
	cases := []struct {
		e    Expr
		want error
		text string
	}{
		{b.ok(NewBinary(OpMul, big, b.col("b"), Pos{Line: 2, Col: 7})), types.ErrOverflow, "at 2:7: (4611686018427387904::BIGINT * b): numeric overflow"},
		{b.ok(NewBinary(OpIntDiv, b.col("b"), zero, Pos{Line: 1, Col: 3})), types.ErrDivisionByZero, "at 1:3: (b // 0::BIGINT): division by zero"},
		{b.ok(NewBinary(OpDiv, b.col("d"), zero, Pos{Line: 1, Col: 3})), types.ErrDivisionByZero, "at 1:3: (d / 0::DOUBLE): division by zero"},
		{b.ok(NewCast(b.col("s"), types.IntegerType, Pos{Line: 4, Col: 1})), types.ErrSyntax, `at 4:1: CAST(s AS INTEGER): cast "x" to INTEGER: invalid literal`},
		{b.ok(NewCast(b.col("b"), types.IntegerType, Pos{Line: 4, Col: 1})), types.ErrOverflow, "at 4:1: CAST(b AS INTEGER): cast 9999999999 to INTEGER: numeric overflow"},
		{b.ok(NewDateInterval(b.col("dt"), 12*9000, 0, Pos{Line: 9, Col: 9})), types.ErrOverflow, "numeric overflow"},
	}
	for _, tc := range cases {
		c := vector.NewChunk(schema)
		c.AppendRow(types.IntegerValue(1), types.BigIntValue(9999999999), types.DoubleValue(1), types.DecimalValue(1, schema[3]),
			types.DecimalValue(1, schema[4]), types.VarcharValue("x"), types.DateValue(9000), types.BoolValue(true), types.BoolValue(false), types.VarcharValue("y"))
		ev, err := Compile(tc.e)
		if err != nil {
			t.Fatal(err)
		}
		err = ev.Eval(c, vector.New(tc.e.Type()))
		var ee *Error
		if !errors.Is(err, tc.want) || !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%v: got %v, want %v containing %q", tc.e, err, tc.want, tc.text)
		}
	}
}

// TestTypeRules pins result types and type errors.
func TestTypeRules(t *testing.T) {
	b := tb{t}
	c := b.col
	cases := []struct {
		op   Op
		l, r Expr
		want string // type or error text
	}{
		{OpAdd, c("i"), c("i"), "INTEGER"},
		{OpAdd, c("i"), c("b"), "BIGINT"},
		{OpAdd, c("p"), c("q"), "DECIMAL(16,2)"},
		{OpMul, c("p"), c("q"), "DECIMAL(18,3)"},
		{OpMul, c("q"), c("q"), "DECIMAL(8,2)"},
		{OpAdd, c("p"), c("i"), "DECIMAL(16,2)"},
		{OpAdd, c("q"), c("b"), "DECIMAL(18,1)"},
		{OpDiv, c("i"), c("i"), "DOUBLE"},
		{OpDiv, c("p"), c("q"), "DOUBLE"},
		{OpIntDiv, c("i"), c("b"), "BIGINT"},
		{OpAdd, c("d"), c("p"), "DOUBLE"},
		{OpAdd, c("dt"), c("i"), "DATE"},
		{OpSub, c("dt"), c("dt"), "BIGINT"},
		{OpLt, c("p"), c("d"), "BOOLEAN"},
		{OpConcat, c("s"), c("p"), "VARCHAR"},
		{OpAdd, c("s"), c("i"), "at 1:1: (s + i): cannot apply + to VARCHAR and INTEGER: type mismatch"},
		{OpLt, c("s"), c("dt"), "at 1:1: (s < dt): cannot compare VARCHAR with DATE: type mismatch"},
		{OpIntDiv, c("p"), c("i"), "at 1:1: (p // i): // needs integer operands, not DECIMAL(15,2) and INTEGER: type mismatch"},
		{OpAnd, c("f"), c("i"), "at 1:1: (f AND i): AND needs BOOLEAN operands, not BOOLEAN and INTEGER: type mismatch"},
		{OpAdd, c("dt"), c("dt"), "at 1:1: (dt + dt): cannot apply + to DATE and DATE: type mismatch"},
		{OpEq, c("dt"), b.str("yesterday"), "invalid literal"},
	}
	for _, tc := range cases {
		e, err := NewBinary(tc.op, tc.l, tc.r, Pos{Line: 1, Col: 1})
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = e.Type().String()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%v %v %v: got %q, want %q", tc.l, tc.op, tc.r, got, tc.want)
		}
	}
}

func ExampleCompile() {
	price := NewColumn(0, "l_extendedprice", types.MustDecimal(15, 2), Pos{})
	disc := NewColumn(1, "l_discount", types.MustDecimal(15, 2), Pos{})
	one := NewConst(types.DecimalValue(100, types.MustDecimal(15, 2)), Pos{})
	rest, _ := NewBinary(OpSub, one, disc, Pos{})
	e, _ := NewBinary(OpMul, price, rest, Pos{})
	ev, _ := Compile(e)
	in, _ := vector.ParseTable("DECIMAL(15,2) | DECIMAL(15,2)\n100.00 | 0.05\n12.34 | NULL")
	out := vector.New(e.Type())
	_ = ev.Eval(in, out)
	fmt.Println(e.Type(), e)
	fmt.Println(out.Value(0), out.Value(1))
	// Output:
	// DECIMAL(18,4) (l_extendedprice * (1.00::DECIMAL(15,2) - l_discount))
	// 95.0000 NULL
}
