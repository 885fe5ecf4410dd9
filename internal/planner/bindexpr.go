package planner

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/types"
)

// exprCtx is where an expression is bound: the names it sees, the plan
// its subqueries are joined onto, and whether aggregates may appear.
type exprCtx struct {
	b     *binder
	scope *scope
	// input points at the plan the expression is evaluated over;
	// subqueries are joined onto it (nil: subqueries are not allowed).
	input *Node
	// agg is the block's aggregation: while it is active, expressions
	// are bound after the aggregation; while it is not, aggregate calls
	// are nested ones. nil: aggregates are not allowed (in clause).
	agg    *aggState
	clause string
}

// bind turns an ast expression into a typed bound expression.
func (c *exprCtx) bind(e ast.Expr) (expr.Expr, error) {
	if c.agg != nil && c.agg.active {
		if x, ok, err := c.agg.replace(c, e); err != nil || ok {
			return x, err
		}
	}
	pos := exprPos(e.Pos())
	switch e := e.(type) {
	case *ast.ColumnRef:
		r, err := c.scope.lookup(e)
		if err != nil {
			return nil, err
		}
		return expr.NewColumn(int(r.col.ID), r.col.Name, r.col.Type, pos), nil
	case *ast.Star:
		return nil, errorf(e.At, ErrInvalid, "* is only allowed in a select list and in count(*)")
	case *ast.NumberLit:
		return numberConst(e, false)
	case *ast.StringLit:
		return expr.NewConst(types.VarcharValue(e.Value), pos), nil
	case *ast.BoolLit:
		return expr.NewConst(types.BoolValue(e.Value), pos), nil
	case *ast.NullLit:
		// An untyped NULL: VARCHAR casts to every type, and the
		// constructors give a NULL constant the type it meets.
		return expr.NewConst(types.Null(types.VarcharType), pos), nil
	case *ast.TypedLit:
		t, err := bindType(e.Type)
		if err != nil {
			return nil, err
		}
		x, err := expr.CastTo(expr.NewConst(types.VarcharValue(e.Value), pos), t, pos)
		return x, exprErr(e.At, err)
	case *ast.IntervalLit:
		return nil, errorf(e.At, ErrNotSupported, "an INTERVAL can only be added to or subtracted from a DATE")
	case *ast.Param:
		return nil, errorf(e.At, ErrNotSupported, "parameter $%d has no value: parameters are not supported", e.Index)
	case *ast.UnaryExpr:
		return c.bindUnary(e)
	case *ast.BinaryExpr:
		return c.bindBinary(e)
	case *ast.IsNullExpr:
		x, err := c.bind(e.X)
		if err != nil {
			return nil, err
		}
		return expr.NewIsNull(x, e.Not, pos), nil
	case *ast.IsBoolExpr:
		return c.bindIsBool(e)
	case *ast.IsDistinctExpr:
		return c.bindIsDistinct(e)
	case *ast.BetweenExpr:
		return c.bindBetween(e)
	case *ast.InListExpr:
		x, err := c.bind(e.X)
		if err != nil {
			return nil, err
		}
		list, err := c.bindList(e.List)
		if err != nil {
			return nil, err
		}
		if k, ok := x.(*expr.Const); ok && k.Val.IsNull() {
			// NULL IN (...) is NULL, whatever the list holds.
			return expr.NewConst(types.Null(types.BooleanType), pos), nil
		}
		r, err := expr.NewInList(x, list, e.Not, pos)
		return r, exprErr(e.At, err)
	case *ast.InSubqueryExpr:
		return c.planIn(e, false)
	case *ast.LikeExpr:
		return c.bindLike(e)
	case *ast.ExistsExpr:
		return c.planExists(e, false, false)
	case *ast.SubqueryExpr:
		return c.planScalar(e)
	case *ast.CaseExpr:
		return c.bindCase(e)
	case *ast.CastExpr:
		x, err := c.bind(e.X)
		if err != nil {
			return nil, err
		}
		t, err := bindType(e.Type)
		if err != nil {
			return nil, err
		}
		r, err := expr.NewCast(x, t, pos)
		return r, exprErr(e.At, err)
	case *ast.ExtractExpr:
		part, ok := dateParts[e.Field]
		if !ok {
			return nil, errorf(e.At, ErrNotSupported, "EXTRACT(%s ...) is not supported: only year, month and day", e.Field)
		}
		x, err := c.bind(e.X)
		if err != nil {
			return nil, err
		}
		r, err := expr.NewExtract(part, x, pos)
		return r, exprErr(e.At, err)
	case *ast.FuncCall:
		return c.bindFunc(e)
	}
	return nil, errorf(e.Pos(), ErrNotSupported, "expression %s is not supported", ast.Format(e))
}

// bindList binds a list of expressions.
func (c *exprCtx) bindList(es []ast.Expr) ([]expr.Expr, error) {
	out := make([]expr.Expr, len(es))
	for i, e := range es {
		x, err := c.bind(e)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// bindBool binds a condition of clause (WHERE, HAVING, ON, CASE WHEN),
// which must be BOOLEAN (a NULL constant counts as one).
func (c *exprCtx) bindBool(e ast.Expr, clause string) (expr.Expr, error) {
	x, err := c.bind(e)
	if err != nil {
		return nil, err
	}
	return requireBool(x, e.Pos(), clause)
}

func requireBool(x expr.Expr, pos ast.Pos, clause string) (expr.Expr, error) {
	if x.Type().ID() == types.Boolean {
		return x, nil
	}
	if k, ok := x.(*expr.Const); ok && k.Val.IsNull() {
		return expr.NewConst(types.Null(types.BooleanType), k.At), nil
	}
	return nil, errorf(pos, ErrInvalid, "argument of %s must be of type BOOLEAN, not %v", clause, x.Type())
}

// numberConst types a numeric literal as DuckDB does: an integer as
// INTEGER if it fits, else BIGINT, else DOUBLE; a decimal d.ddd as
// DECIMAL(digits, fraction digits) (DOUBLE beyond 18 digits); a number
// with an exponent as DOUBLE.
func numberConst(n *ast.NumberLit, neg bool) (expr.Expr, error) {
	pos := exprPos(n.At)
	text := n.Text
	if neg {
		text = "-" + text
	}
	bad := func(err error) (expr.Expr, error) {
		return nil, errorf(n.At, ErrInvalid, "invalid number %s: %v", text, err)
	}
	switch n.Kind {
	case ast.NumInteger:
		if v, err := strconv.ParseInt(text, 10, 64); err == nil {
			if v >= math.MinInt32 && v <= math.MaxInt32 {
				return expr.NewConst(types.IntegerValue(int32(v)), pos), nil
			}
			return expr.NewConst(types.BigIntValue(v), pos), nil
		}
	case ast.NumDecimal:
		whole, frac, _ := strings.Cut(n.Text, ".")
		whole = strings.TrimLeft(whole, "0")
		s := len(frac)
		p := max(len(whole)+s, s, 1)
		if p <= types.MaxDecimalPrecision {
			t := types.MustDecimal(p, s)
			v, err := types.ParseDecimal(text, p, s)
			if err != nil {
				return bad(err)
			}
			return expr.NewConst(types.DecimalValue(v, t), pos), nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return bad(err)
	}
	if math.IsInf(f, 0) {
		return nil, errorf(n.At, ErrInvalid, "number %s is out of range", text)
	}
	return expr.NewConst(types.DoubleValue(f), pos), nil
}

// bindType resolves a type name.
func bindType(t *ast.TypeName) (types.Type, error) {
	switch t.Name {
	case "boolean":
		return types.BooleanType, nil
	case "integer":
		return types.IntegerType, nil
	case "bigint":
		return types.BigIntType, nil
	case "double":
		return types.DoubleType, nil
	case "varchar", "char":
		// The length of VARCHAR(n) is not enforced, as in DuckDB.
		return types.VarcharType, nil
	case "date":
		return types.DateType, nil
	case "decimal":
		p, s := 18, 3
		switch len(t.Params) {
		case 0:
		case 1:
			p, s = t.Params[0], 0
		case 2:
			p, s = t.Params[0], t.Params[1]
		default:
			return types.Type{}, errorf(t.At, ErrInvalid, "DECIMAL takes a precision and a scale, not %d parameters", len(t.Params))
		}
		dt, err := types.DecimalType(p, s)
		if err != nil {
			return types.Type{}, &Error{Pos: t.At, Msg: err.Error(), Err: err}
		}
		return dt, nil
	}
	return types.Type{}, errorf(t.At, ErrNotSupported, "type %s is not supported", strings.ToUpper(t.Name))
}

var dateParts = map[string]expr.DatePart{"year": expr.Year, "month": expr.Month, "day": expr.Day}

func (c *exprCtx) bindUnary(e *ast.UnaryExpr) (expr.Expr, error) {
	pos := exprPos(e.At)
	switch e.Op {
	case ast.OpNeg:
		if n, ok := e.X.(*ast.NumberLit); ok {
			return numberConst(n, true)
		}
		x, err := c.bind(e.X)
		if err != nil {
			return nil, err
		}
		r, err := expr.NewUnary(expr.OpNeg, x, pos)
		return r, exprErr(e.At, err)
	case ast.OpPlus:
		x, err := c.bind(e.X)
		if err != nil {
			return nil, err
		}
		if !x.Type().IsNumeric() {
			return nil, errorf(e.At, ErrInvalid, "unary + of %v", x.Type())
		}
		return x, nil
	case ast.OpNot:
		if ex, ok := e.X.(*ast.ExistsExpr); ok {
			return c.planExists(ex, true, false)
		}
		x, err := c.bind(e.X)
		if err != nil {
			return nil, err
		}
		if k, ok := x.(*expr.Const); ok && k.Val.IsNull() {
			x = expr.NewConst(types.Null(types.BooleanType), k.At)
		}
		r, err := expr.NewUnary(expr.OpNot, x, pos)
		return r, exprErr(e.At, err)
	}
	return nil, errorf(e.At, ErrNotSupported, "operator %v is not supported", e.Op)
}

var binaryOps = map[ast.BinaryOp]expr.Op{
	ast.OpOr: expr.OpOr, ast.OpAnd: expr.OpAnd,
	ast.OpEq: expr.OpEq, ast.OpNe: expr.OpNe, ast.OpLt: expr.OpLt, ast.OpLe: expr.OpLe, ast.OpGt: expr.OpGt, ast.OpGe: expr.OpGe,
	ast.OpConcat: expr.OpConcat,
	ast.OpAdd:    expr.OpAdd, ast.OpSub: expr.OpSub, ast.OpMul: expr.OpMul, ast.OpDiv: expr.OpDiv, ast.OpMod: expr.OpMod, ast.OpIntDiv: expr.OpIntDiv,
}

func (c *exprCtx) bindBinary(e *ast.BinaryExpr) (expr.Expr, error) {
	pos := exprPos(e.At)
	if e.Op == ast.OpAdd || e.Op == ast.OpSub {
		li, lok := e.L.(*ast.IntervalLit)
		ri, rok := e.R.(*ast.IntervalLit)
		switch {
		case rok && !lok:
			return c.bindDateInterval(e.L, ri, e.Op == ast.OpSub, e.At)
		case lok && !rok && e.Op == ast.OpAdd:
			return c.bindDateInterval(e.R, li, false, e.At)
		case lok:
			return nil, errorf(li.At, ErrNotSupported, "an INTERVAL can only be added to or subtracted from a DATE")
		}
	}
	op, ok := binaryOps[e.Op]
	if !ok {
		return nil, errorf(e.At, ErrNotSupported, "operator %v is not supported", e.Op)
	}
	l, err := c.bind(e.L)
	if err != nil {
		return nil, err
	}
	r, err := c.bind(e.R)
	if err != nil {
		return nil, err
	}
	x, err := expr.NewBinary(op, l, r, pos)
	return x, exprErr(e.At, err)
}

// bindDateInterval binds date ± interval.
func (c *exprCtx) bindDateInterval(d ast.Expr, iv *ast.IntervalLit, sub bool, at ast.Pos) (expr.Expr, error) {
	months, days, err := parseInterval(iv)
	if err != nil {
		return nil, err
	}
	x, err := c.bind(d)
	if err != nil {
		return nil, err
	}
	if sub {
		months, days = -months, -days
	}
	r, err := expr.NewDateInterval(x, months, days, exprPos(at))
	return r, exprErr(at, err)
}

// parseInterval reads an interval literal as months and days:
// INTERVAL '90' DAY, '3' MONTH, '1' YEAR, or INTERVAL '1 year 2 months
// 3 days'. Hours, minutes and seconds would need timestamps.
func parseInterval(iv *ast.IntervalLit) (months, days int64, err error) {
	bad := func(format string, args ...any) (int64, int64, error) {
		return 0, 0, errorf(iv.At, ErrInvalid, "invalid interval '%s': %s", iv.Value, fmt.Sprintf(format, args...))
	}
	add := func(n int64, unit string) error {
		var mul int64
		var toMonths bool
		switch strings.TrimSuffix(strings.ToLower(unit), "s") {
		case "year":
			mul, toMonths = 12, true
		case "month", "mon":
			mul, toMonths = 1, true
		case "day":
			mul = 1
		case "week":
			mul = 7
		case "hour", "minute", "second":
			return errorf(iv.At, ErrNotSupported, "interval '%s': %s intervals are not supported (bpfdb has no timestamps)", iv.Value, unit)
		default:
			return errorf(iv.At, ErrInvalid, "invalid interval '%s': unknown unit %q", iv.Value, unit)
		}
		if n > 1<<40 || n < -(1<<40) {
			return errorf(iv.At, ErrInvalid, "invalid interval '%s': out of range", iv.Value)
		}
		if toMonths {
			months += n * mul
		} else {
			days += n * mul
		}
		return nil
	}
	fields := strings.Fields(iv.Value)
	if iv.Unit != ast.UnitNone {
		if len(fields) != 1 {
			return bad("expected a number")
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return bad("expected a whole number")
		}
		if err := add(n, iv.Unit.String()); err != nil {
			return 0, 0, err
		}
		return months, days, nil
	}
	if len(fields) == 0 || len(fields)%2 != 0 {
		return bad("expected pairs of a number and a unit")
	}
	for i := 0; i < len(fields); i += 2 {
		n, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return bad("%q is not a whole number", fields[i])
		}
		if err := add(n, fields[i+1]); err != nil {
			return 0, 0, err
		}
	}
	return months, days, nil
}

func (c *exprCtx) bindIsBool(e *ast.IsBoolExpr) (expr.Expr, error) {
	pos := exprPos(e.At)
	x, err := c.bindBool(e.X, "IS "+strings.ToUpper(strconv.FormatBool(e.Value)))
	if err != nil {
		return nil, err
	}
	// x IS TRUE = coalesce(x, false); x IS FALSE = coalesce(NOT x, false);
	// IS NOT negates either (never NULL).
	if !e.Value {
		if x, err = expr.NewUnary(expr.OpNot, x, pos); err != nil {
			return nil, exprErr(e.At, err)
		}
	}
	r, err := expr.NewCoalesce([]expr.Expr{x, expr.NewConst(types.BoolValue(false), pos)}, pos)
	if err != nil {
		return nil, exprErr(e.At, err)
	}
	if e.Not {
		r, err = expr.NewUnary(expr.OpNot, r, pos)
	}
	return r, exprErr(e.At, err)
}

// bindIsDistinct binds l IS [NOT] DISTINCT FROM r as
// CASE WHEN l IS NULL THEN r IS [NOT] NULL WHEN r IS NULL THEN true|false
// ELSE l <>|= r END.
func (c *exprCtx) bindIsDistinct(e *ast.IsDistinctExpr) (expr.Expr, error) {
	pos := exprPos(e.At)
	l, err := c.bind(e.L)
	if err != nil {
		return nil, err
	}
	r, err := c.bind(e.R)
	if err != nil {
		return nil, err
	}
	op := expr.OpNe
	if e.Not {
		op = expr.OpEq
	}
	cmp, err := expr.NewBinary(op, l, r, pos)
	if err != nil {
		return nil, exprErr(e.At, err)
	}
	whens := []expr.When{
		{Cond: expr.NewIsNull(l, false, pos), Then: expr.NewIsNull(r, !e.Not, pos)},
		{Cond: expr.NewIsNull(r, false, pos), Then: expr.NewConst(types.BoolValue(!e.Not), pos)},
	}
	x, err := expr.NewCase(whens, cmp, pos)
	return x, exprErr(e.At, err)
}

func (c *exprCtx) bindBetween(e *ast.BetweenExpr) (expr.Expr, error) {
	pos := exprPos(e.At)
	x, err := c.bind(e.X)
	if err != nil {
		return nil, err
	}
	lo, err := c.bind(e.Lo)
	if err != nil {
		return nil, err
	}
	hi, err := c.bind(e.Hi)
	if err != nil {
		return nil, err
	}
	if !e.Symmetric {
		r, err := expr.NewBetween(x, lo, hi, e.Not, pos)
		return r, exprErr(e.At, err)
	}
	a, err := expr.NewBetween(x, lo, hi, false, pos)
	if err != nil {
		return nil, exprErr(e.At, err)
	}
	b, err := expr.NewBetween(x, hi, lo, false, pos)
	if err != nil {
		return nil, exprErr(e.At, err)
	}
	r, err := expr.NewBinary(expr.OpOr, a, b, pos)
	if err == nil && e.Not {
		r, err = expr.NewUnary(expr.OpNot, r, pos)
	}
	return r, exprErr(e.At, err)
}

func (c *exprCtx) bindLike(e *ast.LikeExpr) (expr.Expr, error) {
	pos := exprPos(e.At)
	x, err := c.bind(e.X)
	if err != nil {
		return nil, err
	}
	p, err := c.bind(e.Pattern)
	if err != nil {
		return nil, err
	}
	pat, ok := expr.Fold(p).(*expr.Const)
	if !ok || (pat.Val.Type().ID() != types.Varchar && !pat.Val.IsNull()) {
		return nil, errorf(e.Pattern.Pos(), ErrNotSupported, "the pattern of LIKE must be a constant string")
	}
	if e.Escape != nil {
		esc, err := c.bind(e.Escape)
		if err != nil {
			return nil, err
		}
		k, ok := expr.Fold(esc).(*expr.Const)
		if !ok || k.Val.IsNull() || k.Val.Type().ID() != types.Varchar || k.Val.Str() != `\` {
			return nil, errorf(e.Escape.Pos(), ErrNotSupported, `only ESCAPE '\' is supported`)
		}
	}
	if x.Type().ID() != types.Varchar {
		if k, ok := x.(*expr.Const); ok && k.Val.IsNull() {
			x = expr.NewConst(types.Null(types.VarcharType), k.At)
		}
	}
	if pat.Val.IsNull() {
		if x.Type().ID() != types.Varchar {
			return nil, errorf(e.At, ErrInvalid, "LIKE needs a VARCHAR, not %v", x.Type())
		}
		return expr.NewConst(types.Null(types.BooleanType), pos), nil
	}
	r, err := expr.NewLike(x, pat.Val.Str(), e.CaseInsensitive, e.Not, pos)
	return r, exprErr(e.At, err)
}

func (c *exprCtx) bindCase(e *ast.CaseExpr) (expr.Expr, error) {
	pos := exprPos(e.At)
	var operand expr.Expr
	if e.Operand != nil {
		var err error
		if operand, err = c.bind(e.Operand); err != nil {
			return nil, err
		}
	}
	whens := make([]expr.When, len(e.Whens))
	for i, w := range e.Whens {
		var cond expr.Expr
		var err error
		if operand != nil {
			v, err := c.bind(w.Cond)
			if err != nil {
				return nil, err
			}
			if cond, err = expr.NewBinary(expr.OpEq, operand, v, exprPos(w.Cond.Pos())); err != nil {
				return nil, exprErr(w.Cond.Pos(), err)
			}
		} else if cond, err = c.bindBool(w.Cond, "CASE WHEN"); err != nil {
			return nil, err
		}
		then, err := c.bind(w.Result)
		if err != nil {
			return nil, err
		}
		whens[i] = expr.When{Cond: cond, Then: then}
	}
	var els expr.Expr
	if e.Else != nil {
		var err error
		if els, err = c.bind(e.Else); err != nil {
			return nil, err
		}
	}
	r, err := expr.NewCase(whens, els, pos)
	return r, exprErr(e.At, err)
}

// bindFunc binds a call of a scalar function (aggregates reach here only
// where they are not allowed).
func (c *exprCtx) bindFunc(f *ast.FuncCall) (expr.Expr, error) {
	pos := exprPos(f.At)
	if isAggCall(f) {
		if c.agg != nil {
			return nil, errorf(f.At, ErrGrouping, "aggregate function calls cannot be nested")
		}
		return nil, errorf(f.At, ErrGrouping, "aggregate functions are not allowed in %s", c.clause)
	}
	if f.Star || f.Distinct {
		return nil, errorf(f.At, ErrInvalid, "%s is not an aggregate function: it takes no * or DISTINCT", f.Name)
	}
	nargs := func(lo, hi int) error {
		if len(f.Args) < lo || len(f.Args) > hi {
			want := strconv.Itoa(lo)
			if hi == math.MaxInt {
				want = "at least " + want
			} else if hi > lo {
				want = fmt.Sprintf("%d to %d", lo, hi)
			}
			return errorf(f.At, ErrInvalid, "%s takes %s arguments, not %d", f.Name, want, len(f.Args))
		}
		return nil
	}
	switch f.Name {
	case "coalesce", "ifnull", "nullif", "substring", "substr", "year", "month", "day", "date_part":
	default:
		return nil, errorf(f.At, ErrNotFound, "function %s does not exist", f.Name)
	}
	args, err := c.bindList(f.Args)
	if err != nil {
		return nil, err
	}
	var r expr.Expr
	switch f.Name {
	case "coalesce":
		if err := nargs(1, math.MaxInt); err != nil {
			return nil, err
		}
		r, err = expr.NewCoalesce(args, pos)
	case "ifnull":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		r, err = expr.NewCoalesce(args, pos)
	case "nullif":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		var eq expr.Expr
		if eq, err = expr.NewBinary(expr.OpEq, args[0], args[1], pos); err == nil {
			null := expr.NewConst(types.Null(args[0].Type()), pos)
			r, err = expr.NewCase([]expr.When{{Cond: eq, Then: null}}, args[0], pos)
		}
	case "substring", "substr":
		if err := nargs(2, 3); err != nil {
			return nil, err
		}
		var length expr.Expr
		if len(args) == 3 {
			length = args[2]
		}
		r, err = expr.NewSubstring(args[0], args[1], length, pos)
	case "year", "month", "day":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		r, err = expr.NewExtract(dateParts[f.Name], args[0], pos)
	case "date_part":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		k, ok := args[0].(*expr.Const)
		if !ok || k.Val.IsNull() || k.Val.Type().ID() != types.Varchar {
			return nil, errorf(f.Args[0].Pos(), ErrNotSupported, "the part of date_part must be a constant string")
		}
		part, ok := dateParts[strings.ToLower(k.Val.Str())]
		if !ok {
			return nil, errorf(f.Args[0].Pos(), ErrNotSupported, "date_part(%s, ...) is not supported: only year, month and day", k)
		}
		r, err = expr.NewExtract(part, args[1], pos)
	}
	return r, exprErr(f.At, err)
}
