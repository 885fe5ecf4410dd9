package parser_test

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
)

func ExampleParse() {
	stmts, err := parser.Parse(`
		select l_returnflag, sum(l_quantity) as sum_qty
		from lineitem
		where l_shipdate <= date '1998-12-01' - interval '90' day
		group by l_returnflag;
		SET threads TO 2`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ast.FormatStatements(stmts))
	// Output:
	// SELECT l_returnflag, sum(l_quantity) AS sum_qty FROM lineitem WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL '90' DAY GROUP BY l_returnflag;
	// SET threads = 2
}

func ExampleError() {
	_, err := parser.Parse("SELECT a, b\nFORM lineitem")
	fmt.Println(err)
	// Output:
	// syntax error at line 2, column 1: expected FROM, found "FORM"
	// FORM lineitem
	// ^
}

func ExampleSplit() {
	stmts, rest := parser.Split("SELECT ';'; SELECT 2;\nSELECT 3 -- not finished")
	fmt.Printf("%q %q\n", stmts, rest)
	// Output:
	// ["SELECT ';'" " SELECT 2"] "\nSELECT 3 -- not finished"
}
