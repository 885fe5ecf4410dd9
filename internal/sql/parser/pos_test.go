package parser

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

var nodeType = reflect.TypeFor[ast.Node]()

// checkPositions walks every node under root and checks that its position
// is set, that line and column agree with the byte offset in src, and,
// for nodes that start with a known text, that the source there starts
// with it.
func checkPositions(t *testing.T, src string, root ast.Node) {
	t.Helper()
	seen := 0
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			if v.Type().Implements(nodeType) {
				checkNodePos(t, src, v.Interface().(ast.Node))
				seen++
			}
			walk(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(root))
	if seen == 0 {
		t.Fatal("walked no nodes")
	}
	// ast.Inspect must reach the same nodes as the reflective walk.
	inspected := 0
	ast.Inspect(root, func(n ast.Node) bool {
		inspected++
		return true
	})
	if inspected != seen {
		t.Errorf("ast.Inspect visited %d nodes, the tree has %d", inspected, seen)
	}
}

func checkNodePos(t *testing.T, src string, n ast.Node) {
	t.Helper()
	p := n.Pos()
	if !p.IsValid() || p.Offset > len(src) {
		t.Errorf("%T %s: invalid position %+v", n, n, p)
		return
	}
	before := src[:p.Offset]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, "\n"[0])+1:]) + 1
	if p.Line != line || p.Col != col {
		t.Errorf("%T %s: position %d:%d, but offset %d is at %d:%d", n, n, p.Line, p.Col, p.Offset, line, col)
	}
	at := strings.ToLower(src[p.Offset:])
	var want string
	switch n := n.(type) {
	case *ast.ColumnRef:
		want = n.Parts[0]
	case *ast.NumberLit:
		want = n.Text
		if strings.HasPrefix(at, "for") {
			want = "for" // the start 1 of SUBSTRING(x FOR n)
		}
	case *ast.FuncCall:
		want = n.Name
	case *ast.BinaryExpr:
		want = strings.ToLower(n.Op.String())
		if n.Op == ast.OpNe && strings.HasPrefix(at, "!=") {
			want = "!="
		}
	case *ast.CaseExpr:
		want = "case"
	case *ast.CastExpr:
		if !strings.HasPrefix(at, "::") {
			want = "cast"
		}
	case *ast.ExistsExpr:
		want = "exists"
	case *ast.ExtractExpr:
		want = "extract"
	case *ast.Select:
		want = "select"
	case *ast.TableName:
		want = n.Name
		if n.Schema != "" {
			want = n.Schema
		}
	}
	if strings.HasPrefix(at, `"`) {
		return // a quoted name keeps its case
	}
	if want = strings.ToLower(want); !strings.HasPrefix(at, want) {
		t.Errorf("%T %s at %s: source there is %.20q, want it to start with %q", n, n, p, src[p.Offset:], want)
	}
}

// TestPositions checks node positions on statements of several lines.
func TestPositions(t *testing.T) {
	for _, src := range []string{
		"SELECT a,\n  t.b + 1 AS c\nFROM t JOIN u ON t.x != u.x\nWHERE c BETWEEN 1 AND 2 OR NOT EXISTS (SELECT 1)",
		"select\tcount(*), CAST(x AS int), y::int, extract(year from d)\n\nfrom\ts.t",
		"INSERT INTO t VALUES (1, 'ünï', 2.5)",
		"-- comment\nCREATE TABLE t (a INTEGER, b VARCHAR(3));\nCOPY t FROM 'x' (HEADER)",
	} {
		stmts, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			checkPositions(t, src, s)
		}
	}
}
