package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// tpchDir holds the 22 TPC-H queries, shared read-only test data.
const tpchDir = "../../../../shared/tpch/queries"

func readTPCH(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tpchDir, fmt.Sprintf("q%02d.sql", n))
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		tb.Skipf("TPC-H queries not found at %s (shared test data absent)", tpchDir)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestTPCH parses all 22 TPC-H queries as written, checks that each is one
// SELECT whose canonical text parses back to the same tree, and that every
// node's position agrees with the source text.
func TestTPCH(t *testing.T) {
	for n := 1; n <= 22; n++ {
		t.Run(fmt.Sprintf("q%02d", n), func(t *testing.T) {
			src := readTPCH(t, n)
			_, stmts, err := roundTrip(src)
			if err != nil {
				t.Fatal(err)
			}
			if len(stmts) != 1 {
				t.Fatalf("got %d statements, want 1", len(stmts))
			}
			if _, ok := stmts[0].(*ast.SelectStmt); !ok {
				t.Fatalf("got %T, want *ast.SelectStmt", stmts[0])
			}
			checkPositions(t, src, stmts[0])
		})
	}
}

func BenchmarkParseTPCH(b *testing.B) {
	for _, n := range []int{1, 9, 21} {
		b.Run(fmt.Sprintf("q%02d", n), func(b *testing.B) {
			src := readTPCH(b, n)
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLexTPCH(b *testing.B) {
	src := readTPCH(b, 9)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		Lex(src)
	}
}
