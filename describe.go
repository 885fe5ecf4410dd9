package bpfdb

import (
	"context"
	"fmt"

	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/types"
)

// Describe returns the names and types of the columns the one statement in
// sql returns, without running it: a query is bound against the current
// catalog (names resolved, types computed, nothing executed); EXPLAIN and
// SHOW return one VARCHAR column; other statements return none (nil). It
// is what the wire server answers a client's Describe with. sql holds
// exactly one statement; the session in ctx must be allowed to run it.
func (db *DB) Describe(ctx context.Context, sql string) ([]string, []types.Type, error) {
	stmts, err := parser.Parse(sql)
	if err != nil {
		return nil, nil, err
	}
	if len(stmts) != 1 {
		return nil, nil, fmt.Errorf("describe: %d statements, want one", len(stmts))
	}
	st := stmts[0]
	if err := authorize(ctx, st); err != nil {
		return nil, nil, err
	}
	switch st := st.(type) {
	case *ast.SelectStmt:
		tx := db.cat.Begin()
		defer tx.Rollback()
		lp, err := planner.Bind(db.binding(tx), st.Query)
		if err != nil {
			return nil, nil, err
		}
		names := make([]string, len(lp.Result))
		ts := make([]types.Type, len(lp.Result))
		for i, c := range lp.Result {
			names[i], ts[i] = c.Name, c.Type
		}
		return names, ts, nil
	case *ast.ExplainStmt:
		name := "explain"
		if st.Analyze {
			name = "explain analyze"
		}
		return []string{name}, []types.Type{types.VarcharType}, nil
	case *ast.ShowStmt:
		return []string{st.Name}, []types.Type{types.VarcharType}, nil
	}
	return nil, nil, nil
}
