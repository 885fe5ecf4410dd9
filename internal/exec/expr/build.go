package expr

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/types"
)

// Op is an operator of Unary or Binary.
type Op uint8

// The operators. OpDiv is SQL's /, OpIntDiv DuckDB's // (integer
// division, truncating toward zero).
const (
	OpAdd Op = iota + 1
	OpSub
	OpMul
	OpDiv
	OpIntDiv
	OpMod
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpAnd
	OpOr
	OpConcat
	OpNeg
	OpNot
)

var opNames = [...]string{
	OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpIntDiv: "//", OpMod: "%",
	OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpAnd: "AND", OpOr: "OR", OpConcat: "||", OpNeg: "-", OpNot: "NOT",
}

// String returns the operator's SQL spelling.
// wideMulScale is the largest scale a product with an operand wider than
// 18 digits keeps as a DECIMAL (12 integer digits remain); beyond it the
// product is a DOUBLE.
const wideMulScale = 6

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

func (o Op) isComparison() bool { return o >= OpEq && o <= OpGe }

// NewColumn returns a reference to column index of type t.
func NewColumn(index int, name string, t types.Type, pos Pos) *Column {
	return &Column{Index: index, Name: name, T: t, At: pos}
}

// NewConst returns a constant.
func NewConst(v types.Value, pos Pos) *Const { return &Const{Val: v, At: pos} }

// CastTo converts e to type t: e itself if it has that type, a folded
// constant if e is a constant (failing like the cast would), else a Cast
// node. Casts that never work (DATE to INTEGER) fail here.
func CastTo(e Expr, t types.Type, pos Pos) (Expr, error) {
	if e.Type() == t {
		return e, nil
	}
	if !castable(e.Type(), t) {
		return nil, typeErr(pos, "CAST("+e.String()+" AS "+t.String()+")", "cannot cast %v to %v", e.Type(), t)
	}
	if c, ok := e.(*Const); ok {
		v, err := types.Cast(c.Val, t)
		if err != nil {
			return nil, &Error{Pos: pos, Expr: "CAST(" + e.String() + " AS " + t.String() + ")", Err: err}
		}
		return &Const{Val: v, At: c.At}, nil
	}
	return &Cast{Arg: e, T: t, At: pos}, nil
}

// castable reports whether CAST converts from to to (for some values).
func castable(from, to types.Type) bool {
	f, t := from.ID(), to.ID()
	switch {
	case f == t, f == types.Varchar, t == types.Varchar:
		return true
	case f == types.Date || t == types.Date:
		return false
	case f == types.Boolean:
		return t == types.Integer || t == types.BigInt
	case t == types.Boolean:
		return f == types.Integer || f == types.BigInt
	}
	return from.IsNumeric() && to.IsNumeric()
}

// exactNum reports whether t is an integer or DECIMAL type.
func exactNum(t types.Type) bool {
	switch t.ID() {
	case types.Integer, types.BigInt, types.Decimal:
		return true
	}
	return false
}

// widenInt turns INTEGER into BIGINT (so that both sides of a scaled
// comparison are int64) and leaves other types alone.
func widenInt(t types.Type) types.Type {
	if t.ID() == types.Integer {
		return types.BigIntType
	}
	return t
}

// asDecimal is the DECIMAL an integer type widens to.
func asDecimal(t types.Type) types.Type {
	switch t.ID() {
	case types.Integer:
		return types.MustDecimal(10, 0)
	case types.BigInt:
		return types.MustDecimal(types.MaxDecimalPrecision, 0)
	}
	return t
}

// commonType is the type two operands of a comparison, CASE branch or IN
// list are converted to, or false if there is none.
func commonType(a, b types.Type) (types.Type, bool) {
	if a == b {
		return a, true
	}
	if a.IsNumeric() && b.IsNumeric() {
		switch {
		case a.ID() == types.Double || b.ID() == types.Double:
			return types.DoubleType, true
		case a.ID() == types.Decimal || b.ID() == types.Decimal:
			a, b = asDecimal(a), asDecimal(b)
			s := max(a.Scale(), b.Scale())
			digits := max(a.Precision()-a.Scale(), b.Precision()-b.Scale())
			return types.MustDecimal(min(types.MaxDecimalPrecision, digits+s), s), true
		}
		return types.BigIntType, true
	}
	return types.Type{}, false
}

// unify converts l and r to their common type; a constant VARCHAR meeting
// another type is parsed as that type (date_col < '1998-01-01').
func unify(l, r Expr, pos Pos, text func() string) (Expr, Expr, error) {
	lt, rt := l.Type(), r.Type()
	if lt == rt {
		return l, r, nil
	}
	var t types.Type
	if _, ok := l.(*Const); ok && lt.ID() == types.Varchar {
		t = rt
	} else if _, ok := r.(*Const); ok && rt.ID() == types.Varchar {
		t = lt
	} else if c, ok := l.(*Const); ok && c.Val.IsNull() {
		t = rt
	} else if c, ok := r.(*Const); ok && c.Val.IsNull() {
		t = lt
	} else {
		var ok bool
		if t, ok = commonType(lt, rt); !ok {
			return nil, nil, typeErr(pos, text(), "cannot compare %v with %v", lt, rt)
		}
	}
	l, err := CastTo(l, t, pos)
	if err != nil {
		return nil, nil, err
	}
	r, err = CastTo(r, t, pos)
	if err != nil {
		return nil, nil, err
	}
	return l, r, nil
}

// NewUnary returns −arg (numeric) or NOT arg (BOOLEAN).
func NewUnary(op Op, arg Expr, pos Pos) (Expr, error) {
	e := &Unary{Op: op, Arg: arg, At: pos}
	t := arg.Type()
	switch {
	case op == OpNot && t.ID() == types.Boolean, op == OpNeg && t.IsNumeric():
		return e, nil
	case op == OpNot || op == OpNeg:
		return nil, typeErr(pos, e.String(), "%v of %v", op, t)
	}
	return nil, typeErr(pos, e.String(), "%v is not a unary operator", op)
}

// NewBinary returns l op r with the operands converted as the package doc
// says. Comparisons, AND and OR are BOOLEAN; || is VARCHAR.
func NewBinary(op Op, l, r Expr, pos Pos) (Expr, error) {
	text := func() string { return "(" + l.String() + " " + op.String() + " " + r.String() + ")" }
	lt, rt := l.Type(), r.Type()
	mk := func(l, r Expr, t types.Type) (Expr, error) {
		return &Binary{Op: op, Left: l, Right: r, T: t, At: pos}, nil
	}
	switch {
	case op.isComparison():
		if exactNum(lt) && exactNum(rt) && (lt.ID() == types.Decimal || rt.ID() == types.Decimal) {
			a, b := asDecimal(lt), asDecimal(rt)
			if max(a.Precision()-a.Scale(), b.Precision()-b.Scale())+max(a.Scale(), b.Scale()) > types.MaxDecimalPrecision {
				// No DECIMAL holds both sides: compare the scaled
				// integers exactly instead of casting (which could
				// overflow).
				l, err := CastTo(l, widenInt(lt), pos)
				if err != nil {
					return nil, err
				}
				r, err := CastTo(r, widenInt(rt), pos)
				if err != nil {
					return nil, err
				}
				return mk(l, r, types.BooleanType)
			}
		}
		l, r, err := unify(l, r, pos, text)
		if err != nil {
			return nil, err
		}
		return mk(l, r, types.BooleanType)
	case op == OpAnd || op == OpOr:
		l, lok := boolOperand(l)
		r, rok := boolOperand(r)
		if !lok || !rok {
			return nil, typeErr(pos, text(), "%v needs BOOLEAN operands, not %v and %v", op, lt, rt)
		}
		return mk(l, r, types.BooleanType)
	case op == OpConcat:
		l, err := CastTo(l, types.VarcharType, pos)
		if err != nil {
			return nil, err
		}
		r, err := CastTo(r, types.VarcharType, pos)
		if err != nil {
			return nil, err
		}
		return mk(l, r, types.VarcharType)
	case op < OpAdd || op > OpMod:
		return nil, typeErr(pos, text(), "%v is not a binary operator", op)
	}
	// Arithmetic. Dates first.
	if lt.ID() == types.Date || rt.ID() == types.Date {
		isInt := func(t types.Type) bool { return t.ID() == types.Integer || t.ID() == types.BigInt }
		switch {
		case lt.ID() == types.Date && rt.ID() == types.Date && op == OpSub:
			return mk(l, r, types.BigIntType)
		case lt.ID() == types.Date && isInt(rt) && (op == OpAdd || op == OpSub):
			r, err := CastTo(r, types.BigIntType, pos)
			if err != nil {
				return nil, err
			}
			return mk(l, r, types.DateType)
		case rt.ID() == types.Date && isInt(lt) && op == OpAdd:
			l, err := CastTo(l, types.BigIntType, pos)
			if err != nil {
				return nil, err
			}
			return mk(r, l, types.DateType) // date + days
		}
		return nil, typeErr(pos, text(), "cannot apply %v to %v and %v", op, lt, rt)
	}
	if c, ok := l.(*Const); ok && c.Val.IsNull() && rt.IsNumeric() {
		l, lt = &Const{Val: types.Null(rt), At: c.At}, rt
	}
	if c, ok := r.(*Const); ok && c.Val.IsNull() && lt.IsNumeric() {
		r, rt = &Const{Val: types.Null(lt), At: c.At}, lt
	}
	if !lt.IsNumeric() || !rt.IsNumeric() {
		return nil, typeErr(pos, text(), "cannot apply %v to %v and %v", op, lt, rt)
	}
	if op == OpIntDiv || op == OpMod {
		if lt.ID() == types.Double || lt.ID() == types.Decimal || rt.ID() == types.Double || rt.ID() == types.Decimal {
			return nil, typeErr(pos, text(), "%v needs integer operands, not %v and %v", op, lt, rt)
		}
	}
	var t types.Type
	switch {
	case op == OpDiv:
		t = types.DoubleType
	case lt.ID() == types.Double || rt.ID() == types.Double:
		t = types.DoubleType
	case (lt.ID() == types.Decimal || rt.ID() == types.Decimal) && op == OpMul &&
		max(asDecimal(lt).Precision(), asDecimal(rt).Precision()) > types.MaxDecimalPrecision &&
		asDecimal(lt).Scale()+asDecimal(rt).Scale() > wideMulScale:
		// A product with an operand wider than 18 digits (a sum,
		// DECIMAL(38,s)) whose scale would leave fewer than 12 integer
		// digits in an int64: DuckDB multiplies 128-bit integers; bpfdb
		// multiplies doubles (TPC-H Q11: sum(...) * 0.0001000000).
		t = types.DoubleType
	case lt.ID() == types.Decimal || rt.ID() == types.Decimal:
		a, b := asDecimal(lt), asDecimal(rt)
		var err error
		if op == OpMul {
			t, err = types.DecimalMulType(a, b)
		} else {
			t, err = types.DecimalAddType(a, b)
		}
		if err != nil {
			return nil, &Error{Pos: pos, Expr: text(), Err: err}
		}
		// Operands keep their own scales; the kernel rescales.
		l, err = CastTo(l, a, pos)
		if err == nil {
			r, err = CastTo(r, b, pos)
		}
		if err != nil {
			return nil, err
		}
		return mk(l, r, t)
	default:
		t, _ = commonType(lt, rt)
	}
	l, err := CastTo(l, t, pos)
	if err == nil {
		r, err = CastTo(r, t, pos)
	}
	if err != nil {
		return nil, err
	}
	return mk(l, r, t)
}

// boolOperand returns e if it is BOOLEAN, a NULL constant as a BOOLEAN
// NULL, and false for anything else.
func boolOperand(e Expr) (Expr, bool) {
	if e.Type().ID() == types.Boolean {
		return e, true
	}
	if c, ok := e.(*Const); ok && c.Val.IsNull() {
		return &Const{Val: types.Null(types.BooleanType), At: c.At}, true
	}
	return e, false
}

// NewBetween returns arg BETWEEN lo AND hi (lo ≤ arg AND arg ≤ hi), or NOT
// BETWEEN (arg < lo OR arg > hi).
func NewBetween(arg, lo, hi Expr, negated bool, pos Pos) (Expr, error) {
	op1, op2, join := OpGe, OpLe, OpAnd
	if negated {
		op1, op2, join = OpLt, OpGt, OpOr
	}
	a, err := NewBinary(op1, arg, lo, pos)
	if err != nil {
		return nil, err
	}
	b, err := NewBinary(op2, arg, hi, pos)
	if err != nil {
		return nil, err
	}
	return NewBinary(join, a, b, pos)
}

// NewCast returns CAST(arg AS t).
func NewCast(arg Expr, t types.Type, pos Pos) (Expr, error) { return CastTo(arg, t, pos) }

// NewIsNull returns arg IS [NOT] NULL.
func NewIsNull(arg Expr, negated bool, pos Pos) Expr {
	return &IsNull{Arg: arg, Negated: negated, At: pos}
}

// NewLike returns arg [NOT] LIKE|ILIKE pattern. arg must be a VARCHAR;
// the pattern must end without a lone escape.
func NewLike(arg Expr, pattern string, caseInsensitive, negated bool, pos Pos) (Expr, error) {
	e := &Like{Arg: arg, Pattern: pattern, CaseInsensitive: caseInsensitive, Negated: negated, At: pos}
	if arg.Type().ID() != types.Varchar {
		return nil, typeErr(pos, e.String(), "LIKE needs a VARCHAR, not %v", arg.Type())
	}
	if _, err := compilePattern(pattern, caseInsensitive); err != nil {
		return nil, &Error{Pos: pos, Expr: e.String(), Err: err}
	}
	return e, nil
}

// NewInList returns arg [NOT] IN (list…). Constant items are converted to
// the common type of arg and all items and looked up in a set; a list with
// any other item becomes arg = item1 OR arg = item2 … (NOT of that for NOT
// IN), which has the same three-valued result.
func NewInList(arg Expr, list []Expr, negated bool, pos Pos) (Expr, error) {
	text := func() string { return (&InList{Arg: arg, Negated: negated}).String() }
	if len(list) == 0 {
		return nil, typeErr(pos, text(), "empty IN list")
	}
	for _, item := range list {
		if _, ok := item.(*Const); !ok {
			return inAsOr(arg, list, negated, pos)
		}
	}
	t := arg.Type()
	for _, item := range list {
		c := item.(*Const)
		if c.Val.IsNull() || (c.Val.Type().ID() == types.Varchar && t.ID() != types.Varchar) {
			continue
		}
		var ok2 bool
		if t, ok2 = commonType(t, c.Val.Type()); !ok2 {
			return nil, typeErr(pos, text(), "cannot compare %v with %v", arg.Type(), c.Val.Type())
		}
	}
	arg, err := CastTo(arg, t, pos)
	if err != nil {
		return nil, err
	}
	e := &InList{Arg: arg, Negated: negated, At: pos}
	for _, item := range list {
		c, err := CastTo(item, t, pos)
		if err != nil {
			return nil, err
		}
		e.List = append(e.List, c.(*Const).Val)
	}
	return e, nil
}

func inAsOr(arg Expr, list []Expr, negated bool, pos Pos) (Expr, error) {
	var or Expr
	for _, item := range list {
		eq, err := NewBinary(OpEq, arg, item, pos)
		if err != nil {
			return nil, err
		}
		if or == nil {
			or = eq
		} else if or, err = NewBinary(OpOr, or, eq, pos); err != nil {
			return nil, err
		}
	}
	if negated {
		return NewUnary(OpNot, or, pos)
	}
	return or, nil
}

// NewCase returns CASE WHEN … END. Conditions must be BOOLEAN; results are
// converted to their common type. elseExpr may be nil (ELSE NULL).
func NewCase(whens []When, elseExpr Expr, pos Pos) (Expr, error) {
	e := &Case{At: pos}
	text := func() string { return (&Case{Whens: whens, Else: elseExpr}).String() }
	var t types.Type
	results := make([]Expr, 0, len(whens)+1)
	for _, w := range whens {
		results = append(results, w.Then)
	}
	if elseExpr != nil {
		results = append(results, elseExpr)
	}
	t, err := resultType(results, pos, text)
	if err != nil {
		return nil, err
	}
	for _, w := range whens {
		if w.Cond.Type().ID() != types.Boolean {
			return nil, typeErr(pos, text(), "WHEN needs a BOOLEAN, not %v", w.Cond.Type())
		}
		th, err := CastTo(w.Then, t, pos)
		if err != nil {
			return nil, err
		}
		e.Whens = append(e.Whens, When{Cond: w.Cond, Then: th})
	}
	if elseExpr == nil {
		elseExpr = &Const{Val: types.Null(t), At: pos}
	}
	if e.Else, err = CastTo(elseExpr, t, pos); err != nil {
		return nil, err
	}
	e.T = t
	return e, nil
}

// resultType is the common type of CASE or COALESCE results, ignoring
// untyped-looking NULL constants.
func resultType(es []Expr, pos Pos, text func() string) (types.Type, error) {
	var t types.Type
	for _, x := range es {
		if c, ok := x.(*Const); ok && c.Val.IsNull() {
			continue
		}
		if !t.IsValid() {
			t = x.Type()
			continue
		}
		nt, ok := commonType(t, x.Type())
		if !ok {
			return t, typeErr(pos, text(), "results of types %v and %v do not mix", t, x.Type())
		}
		t = nt
	}
	if !t.IsValid() && len(es) > 0 {
		t = es[0].Type()
	}
	if !t.IsValid() {
		return t, typeErr(pos, text(), "no result")
	}
	return t, nil
}

// NewCoalesce returns COALESCE(args…), converted to the args' common type.
func NewCoalesce(args []Expr, pos Pos) (Expr, error) {
	text := func() string { return (&Coalesce{Args: args}).String() }
	t, err := resultType(args, pos, text)
	if err != nil {
		return nil, err
	}
	e := &Coalesce{T: t, At: pos}
	for _, a := range args {
		c, err := CastTo(a, t, pos)
		if err != nil {
			return nil, err
		}
		e.Args = append(e.Args, c)
	}
	return e, nil
}

// NewExtract returns EXTRACT(part FROM arg) for a DATE arg.
func NewExtract(part DatePart, arg Expr, pos Pos) (Expr, error) {
	e := &Extract{Part: part, Arg: arg, At: pos}
	if part < Year || part > Day {
		return nil, typeErr(pos, e.String(), "unknown field")
	}
	if arg.Type().ID() != types.Date {
		a, err := CastTo(arg, types.DateType, pos)
		if err != nil || arg.Type().ID() != types.Varchar {
			return nil, typeErr(pos, e.String(), "EXTRACT needs a DATE, not %v", arg.Type())
		}
		e.Arg = a
	}
	return e, nil
}

// NewSubstring returns SUBSTRING(arg FROM start [FOR length]); length may
// be nil. start and length are converted to BIGINT.
func NewSubstring(arg, start, length Expr, pos Pos) (Expr, error) {
	e := &Substring{Arg: arg, Start: start, Length: length, At: pos}
	if arg.Type().ID() != types.Varchar {
		return nil, typeErr(pos, e.String(), "SUBSTRING needs a VARCHAR, not %v", arg.Type())
	}
	toInt := func(x Expr) (Expr, error) {
		if id := x.Type().ID(); id != types.Integer && id != types.BigInt {
			if c, ok := x.(*Const); !ok || !c.Val.IsNull() {
				return nil, typeErr(pos, e.String(), "SUBSTRING position needs an integer, not %v", x.Type())
			}
		}
		return CastTo(x, types.BigIntType, pos)
	}
	var err error
	if e.Start, err = toInt(start); err != nil {
		return nil, err
	}
	if length != nil {
		if e.Length, err = toInt(length); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// NewDateInterval returns arg + INTERVAL (months, days) for a DATE arg (a
// VARCHAR constant is parsed as a DATE). Subtract an interval by negating
// both counts.
func NewDateInterval(arg Expr, months, days int64, pos Pos) (Expr, error) {
	e := &DateInterval{Arg: arg, Months: months, Days: days, At: pos}
	if arg.Type().ID() != types.Date {
		if _, ok := arg.(*Const); !ok || arg.Type().ID() != types.Varchar {
			return nil, typeErr(pos, e.String(), "interval arithmetic needs a DATE, not %v", arg.Type())
		}
		a, err := CastTo(arg, types.DateType, pos)
		if err != nil {
			return nil, err
		}
		e.Arg = a
	}
	return e, nil
}
