package ast

// Inspect visits n and every node under it in depth-first source order:
// it calls f(n); if f returns true, it visits n's children. Nil children
// are skipped. Parts that are not nodes of their own (select items, ORDER
// BY items, WHEN arms, aliases) are entered: their expressions are
// visited.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	exprs := func(list []Expr) {
		for _, e := range list {
			Inspect(e, f)
		}
	}
	opt := func(e Expr) {
		if e != nil {
			Inspect(e, f)
		}
	}
	switch n := n.(type) {
	case *SelectStmt:
		Inspect(n.Query, f)
	case *Query:
		for _, c := range n.With {
			Inspect(c, f)
		}
		Inspect(n.Body, f)
		for _, o := range n.OrderBy {
			Inspect(o.Expr, f)
		}
		opt(n.Limit)
		opt(n.Offset)
	case *CTE:
		Inspect(n.Query, f)
	case *Select:
		for _, c := range n.Columns {
			Inspect(c.Expr, f)
		}
		for _, t := range n.From {
			Inspect(t, f)
		}
		opt(n.Where)
		exprs(n.GroupBy)
		opt(n.Having)
	case *Values:
		for _, row := range n.Rows {
			exprs(row)
		}
	case *SetOp:
		Inspect(n.Left, f)
		Inspect(n.Right, f)
	case *CreateTableStmt:
		Inspect(n.Name, f)
		for _, c := range n.Columns {
			Inspect(c, f)
		}
		if n.As != nil {
			Inspect(n.As, f)
		}
	case *ColumnDef:
		Inspect(n.Type, f)
	case *CreateViewStmt:
		Inspect(n.Name, f)
		Inspect(n.Query, f)
	case *DropStmt:
		for _, t := range n.Names {
			Inspect(t, f)
		}
	case *InsertStmt:
		Inspect(n.Table, f)
		Inspect(n.Source, f)
	case *CopyStmt:
		Inspect(n.Table, f)
		for _, o := range n.Options {
			Inspect(o, f)
		}
	case *ExplainStmt:
		Inspect(n.Stmt, f)
	case *SetStmt:
		Inspect(n.Value, f)
	case *TableRef:
		Inspect(n.Name, f)
	case *SubqueryRef:
		Inspect(n.Query, f)
	case *TableFuncRef:
		exprs(n.Args)
	case *Join:
		Inspect(n.Left, f)
		Inspect(n.Right, f)
		opt(n.On)
	case *TypedLit:
		Inspect(n.Type, f)
	case *UnaryExpr:
		Inspect(n.X, f)
	case *BinaryExpr:
		Inspect(n.L, f)
		Inspect(n.R, f)
	case *IsNullExpr:
		Inspect(n.X, f)
	case *IsBoolExpr:
		Inspect(n.X, f)
	case *IsDistinctExpr:
		Inspect(n.L, f)
		Inspect(n.R, f)
	case *BetweenExpr:
		Inspect(n.X, f)
		Inspect(n.Lo, f)
		Inspect(n.Hi, f)
	case *InListExpr:
		Inspect(n.X, f)
		exprs(n.List)
	case *InSubqueryExpr:
		Inspect(n.X, f)
		Inspect(n.Query, f)
	case *LikeExpr:
		Inspect(n.X, f)
		Inspect(n.Pattern, f)
		opt(n.Escape)
	case *ExistsExpr:
		Inspect(n.Query, f)
	case *SubqueryExpr:
		Inspect(n.Query, f)
	case *CaseExpr:
		opt(n.Operand)
		for _, w := range n.Whens {
			Inspect(w.Cond, f)
			Inspect(w.Result, f)
		}
		opt(n.Else)
	case *CastExpr:
		Inspect(n.X, f)
		Inspect(n.Type, f)
	case *ExtractExpr:
		Inspect(n.X, f)
	case *FuncCall:
		exprs(n.Args)
	}
	// Leaves: TableName, TypeName, CopyOption, ShowStmt, TransactionStmt,
	// AttachProgramStmt, DetachProgramStmt, CreateUserStmt, AlterUserStmt,
	// DropUserStmt, ColumnRef, Star, literals, Param.
}
