package ast

import (
	"strings"
	"testing"
)

func TestQuoteIdent(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a", "a"},
		{"l_orderkey", "l_orderkey"},
		{"a1$", "a1$"},
		{"ünï", "ünï"},
		{"A", `"A"`},
		{"1a", `"1a"`},
		{"$a", `"$a"`},
		{"a b", `"a b"`},
		{`say "hi"`, `"say ""hi"""`},
		{"select", `"select"`},
		{"from", `"from"`},
		{"date", "date"},
		{"", `""`},
	} {
		if got := QuoteIdent(c.in); got != c.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestQuoteString(t *testing.T) {
	if got := QuoteString("it's"); got != "'it''s'" {
		t.Errorf("QuoteString = %s", got)
	}
}

// TestFormatHandBuilt prints trees the parser never builds from
// non-canonical input, where the printer must still produce text that
// reads back as the same tree.
func TestFormatHandBuilt(t *testing.T) {
	col := func(n string) Expr { return &ColumnRef{Parts: []string{n}} }
	one := &NumberLit{Kind: NumInteger, Text: "1"}
	for _, c := range []struct {
		n    Node
		want string
	}{
		// A quoted spelling of a synonym stays quoted: unquoted it would
		// read back as the canonical type.
		{&CastExpr{X: col("a"), Type: &TypeName{Name: "int"}}, `CAST(a AS "int")`},
		{&CastExpr{X: col("a"), Type: &TypeName{Name: "My Type", Params: []int{1, 2}}}, `CAST(a AS "My Type"(1,2))`},
		{&UnaryExpr{Op: OpNeg, X: &UnaryExpr{Op: OpNeg, X: one}}, "-(-1)"},
		{&BinaryExpr{Op: OpSub, L: one, R: &UnaryExpr{Op: OpNeg, X: one}}, "1 - -1"},
		{&BinaryExpr{Op: OpMul, L: &BinaryExpr{Op: OpAdd, L: one, R: one}, R: one}, "(1 + 1) * 1"},
		{&BinaryExpr{Op: OpSub, L: one, R: &BinaryExpr{Op: OpSub, L: one, R: one}}, "1 - (1 - 1)"},
		{&FuncCall{Name: "extract", Args: []Expr{one}}, `"extract"(1)`},
		{&FuncCall{Name: "count", Star: true}, "count(*)"},
		{&Star{Table: "T"}, `"T".*`},
		{&ShowStmt{Name: "all"}, "SHOW all"},
		{&CopyOption{Name: "null", Kind: OptString, Value: "NA"}, "null 'NA'"},
		{&CopyOption{Name: "header", Kind: OptWord, Value: "true"}, "header true"},
		{&IntervalLit{Value: "3 months"}, "INTERVAL '3 months'"},
		{&TypedLit{Type: &TypeName{Name: "date"}, Value: "1998-12-01"}, "DATE '1998-12-01'"},
		{&SetOp{Op: Intersect, Left: &Values{Rows: [][]Expr{{one}}},
			Right: &SetOp{Op: Union, Left: &Values{Rows: [][]Expr{{one}}}, Right: &Values{Rows: [][]Expr{{one}}}}},
			"VALUES (1) INTERSECT (VALUES (1) UNION VALUES (1))"},
		{&Join{Kind: JoinInner, Left: &TableRef{Name: &TableName{Name: "a"}},
			Right: &Join{Kind: JoinCross, Left: &TableRef{Name: &TableName{Name: "b"}}, Right: &TableRef{Name: &TableName{Name: "c"}}},
			On:    &BoolLit{Value: true}}, "a JOIN (b CROSS JOIN c) ON TRUE"},
		{&ColumnDef{Name: "k", Type: &TypeName{Name: "bigint"}, NotNull: true, PrimaryKey: true}, "k BIGINT PRIMARY KEY"},
	} {
		if got := Format(c.n); got != c.want {
			t.Errorf("Format(%s) = %s, want %s", Dump(c.n), got, c.want)
		}
		if got := c.n.String(); got != c.want {
			t.Errorf("String() = %s, want %s", got, c.want)
		}
	}
}

func TestEnumStrings(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{Union.String(), "UNION"}, {SetOpKind(9).String(), "SetOpKind(9)"},
		{Desc.String(), "DESC"}, {Direction(9).String(), "Direction(9)"},
		{NullsLast.String(), "NULLS LAST"}, {NullsOrder(9).String(), "NullsOrder(9)"},
		{ObjView.String(), "VIEW"}, {ObjectKind(9).String(), "ObjectKind(9)"},
		{OptWord.String(), "word"}, {OptionValueKind(9).String(), "OptionValueKind(9)"},
		{TxnRollback.String(), "ROLLBACK"}, {TxnKind(9).String(), "TxnKind(9)"},
		{JoinFull.String(), "FULL JOIN"}, {JoinKind(9).String(), "JoinKind(9)"},
		{NumFloat.String(), "float"}, {NumberKind(9).String(), "NumberKind(9)"},
		{UnitMonth.String(), "MONTH"}, {UnitNone.String(), "none"}, {IntervalUnit(99).String(), "IntervalUnit(99)"},
		{OpNot.String(), "NOT"}, {UnaryOp(9).String(), "UnaryOp(9)"},
		{OpNe.String(), "<>"}, {OpConcat.String(), "||"}, {BinaryOp(99).String(), "BinaryOp(99)"},
		{Pos{Offset: 7, Line: 2, Col: 3}.String(), "2:3"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestDump(t *testing.T) {
	n := &BinaryExpr{At: Pos{Line: 1, Col: 3}, Op: OpAdd,
		L: &ColumnRef{At: Pos{Line: 1, Col: 1}, Parts: []string{"t", "a"}},
		R: &FuncCall{Name: "f", Args: []Expr{&StringLit{Value: "x"}}}}
	want := strings.Join([]string{
		"BinaryExpr Op=+",
		`  L: ColumnRef Parts=["t" "a"]`,
		`  R: FuncCall Name="f"`,
		"    Args:",
		`      - StringLit Value="x"`,
	}, "\n")
	if got := Dump(n); got != want {
		t.Errorf("Dump:\n%s\nwant:\n%s", got, want)
	}
}

func TestPrecedence(t *testing.T) {
	one := &NumberLit{Text: "1"}
	for _, c := range []struct {
		e    Expr
		want int
	}{
		{&BinaryExpr{Op: OpOr, L: one, R: one}, PrecOr},
		{&BinaryExpr{Op: OpGe, L: one, R: one}, PrecCompare},
		{&BinaryExpr{Op: OpMod, L: one, R: one}, PrecMul},
		{&UnaryExpr{Op: OpNot, X: one}, PrecNot},
		{&UnaryExpr{Op: OpNeg, X: one}, PrecUnary},
		{&IsDistinctExpr{L: one, R: one}, PrecIs},
		{&LikeExpr{X: one, Pattern: one}, PrecLike},
		{&CastExpr{X: one}, PrecAtom},
		{one, PrecAtom},
	} {
		if got := Precedence(c.e); got != c.want {
			t.Errorf("Precedence(%s) = %d, want %d", Dump(c.e), got, c.want)
		}
	}
}

func TestCaret(t *testing.T) {
	src := "SELECT a,\n\tl_quantiti\r\nFROM t"
	got := Caret(src, Pos{Offset: 11, Line: 2, Col: 2})
	if want := "\tl_quantiti\n\t^"; got != want {
		t.Errorf("Caret = %q, want %q", got, want)
	}
	long := strings.Repeat("x", 200) + "Y" + strings.Repeat("z", 200)
	got = CaretLine(long, 201)
	lines := strings.Split(got, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "...") || !strings.HasSuffix(lines[0], "...") {
		t.Fatalf("CaretLine of a long line = %q", got)
	}
	if caret := strings.Index(lines[1], "^"); []rune(lines[0])[caret] != 'Y' {
		t.Errorf("caret at %d points at %q, want 'Y'", caret, []rune(lines[0])[caret])
	}
	if got := CaretLine("ab", 99); got != "ab\n  ^" {
		t.Errorf("caret past the end = %q", got)
	}
}
