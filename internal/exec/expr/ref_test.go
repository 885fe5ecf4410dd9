package expr

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/bpfdb/bpfdb/internal/types"
)

// ref evaluates an expression for one row of boxed values, the simple way:
// the oracle the vectorized kernels are compared with. It follows the
// package doc's semantics with the helpers of package types.
func ref(e Expr, row []types.Value) (types.Value, error) {
	t := e.Type()
	switch e := e.(type) {
	case *Column:
		return row[e.Index], nil
	case *Const:
		return e.Val, nil
	case *Unary:
		x, err := ref(e.Arg, row)
		if err != nil || x.IsNull() {
			return x, err
		}
		switch {
		case e.Op == OpNot:
			return types.BoolValue(!x.Bool()), nil
		case t.ID() == types.Double:
			return types.DoubleValue(-x.Float64()), nil
		case t.ID() == types.Integer && x.Int64() == math.MinInt32, t.ID() == types.BigInt && x.Int64() == math.MinInt64:
			return x, types.ErrOverflow
		}
		return withInt(t, -x.Int64()), nil
	case *Binary:
		return refBinary(e, row)
	case *Cast:
		x, err := ref(e.Arg, row)
		if err != nil {
			return x, err
		}
		return types.Cast(x, e.T)
	case *IsNull:
		x, err := ref(e.Arg, row)
		return types.BoolValue(x.IsNull() != e.Negated), err
	case *Like:
		x, err := ref(e.Arg, row)
		if err != nil || x.IsNull() {
			return types.Null(t), err
		}
		return types.BoolValue(likeRegexp(e.Pattern, e.CaseInsensitive).MatchString(x.Str()) != e.Negated), nil
	case *InList:
		x, err := ref(e.Arg, row)
		if err != nil || x.IsNull() {
			return types.Null(t), err
		}
		sawNull := false
		for _, v := range e.List {
			if v.IsNull() {
				sawNull = true
			} else if types.Compare(x, v) == 0 {
				return types.BoolValue(!e.Negated), nil
			}
		}
		if sawNull {
			return types.Null(t), nil
		}
		return types.BoolValue(e.Negated), nil
	case *Case:
		for _, w := range e.Whens {
			c, err := ref(w.Cond, row)
			if err != nil {
				return c, err
			}
			if !c.IsNull() && c.Bool() {
				return ref(w.Then, row)
			}
		}
		return ref(e.Else, row)
	case *Coalesce:
		for _, a := range e.Args {
			v, err := ref(a, row)
			if err != nil || !v.IsNull() {
				return v, err
			}
		}
		return types.Null(t), nil
	case *Extract:
		x, err := ref(e.Arg, row)
		if err != nil || x.IsNull() {
			return types.Null(t), err
		}
		y, m, d := types.DateCivil(int32(x.Int64()))
		return types.BigIntValue(int64([]int{0, y, m, d}[e.Part])), nil
	case *Substring:
		// Arguments are evaluated eagerly, as for any function.
		x, err := ref(e.Arg, row)
		if err != nil {
			return x, err
		}
		s, err := ref(e.Start, row)
		if err != nil {
			return s, err
		}
		l := types.BigIntValue(math.MaxInt64)
		if e.Length != nil {
			if l, err = ref(e.Length, row); err != nil {
				return l, err
			}
		}
		if x.IsNull() || s.IsNull() || l.IsNull() {
			return types.Null(t), nil
		}
		rs := []rune(x.Str())
		from, to := s.Int64(), int64(len(rs))+1
		if e.Length != nil {
			if l.Int64() < 0 {
				return l, types.ErrSyntax
			}
			if from <= math.MaxInt64-l.Int64() {
				to = min(to, from+l.Int64())
			}
		}
		from = max(from, 1)
		if from >= to {
			return types.VarcharValue(""), nil
		}
		return types.VarcharValue(string(rs[from-1 : to-1])), nil
	case *DateInterval:
		x, err := ref(e.Arg, row)
		if err != nil || x.IsNull() {
			return types.Null(t), err
		}
		d, err := types.AddMonths(int32(x.Int64()), e.Months)
		if err != nil {
			return x, err
		}
		d, err = types.AddDays(d, e.Days)
		return types.DateValue(d), err
	}
	panic(fmt.Sprintf("ref: %T", e))
}

func withInt(t types.Type, x int64) types.Value {
	switch t.ID() {
	case types.Integer:
		return types.IntegerValue(int32(x))
	case types.Decimal:
		return types.DecimalValue(x, t)
	case types.Date:
		return types.DateValue(int32(x))
	}
	return types.BigIntValue(x)
}

func refBinary(e *Binary, row []types.Value) (types.Value, error) {
	l, err := ref(e.Left, row)
	if err != nil {
		return l, err
	}
	r, err := ref(e.Right, row)
	if err != nil {
		return r, err
	}
	t := e.T
	if e.Op == OpAnd || e.Op == OpOr {
		dom := e.Op == OpOr // the value that decides alone
		switch {
		case !l.IsNull() && l.Bool() == dom, !r.IsNull() && r.Bool() == dom:
			return types.BoolValue(dom), nil
		case l.IsNull() || r.IsNull():
			return types.Null(t), nil
		}
		return types.BoolValue(!dom), nil
	}
	if l.IsNull() || r.IsNull() {
		return types.Null(t), nil
	}
	if e.Op.isComparison() {
		return types.BoolValue(cmpResult(e.Op, types.Compare(l, r))), nil
	}
	if e.Op == OpConcat {
		return types.VarcharValue(l.Str() + r.Str()), nil
	}
	a, b := l.Int64(), r.Int64()
	switch {
	case l.Type().ID() == types.Date && r.Type().ID() == types.Date:
		return types.BigIntValue(a - b), nil
	case l.Type().ID() == types.Date:
		if e.Op == OpSub {
			if b == math.MinInt64 {
				return l, types.ErrOverflow
			}
			b = -b
		}
		d, err := types.AddDays(int32(a), b)
		return types.DateValue(d), err
	case t.ID() == types.Double:
		x, y := l.Float64(), r.Float64()
		switch e.Op {
		case OpAdd:
			return types.DoubleValue(x + y), nil
		case OpSub:
			return types.DoubleValue(x - y), nil
		case OpMul:
			return types.DoubleValue(x * y), nil
		}
		if y == 0 {
			return l, types.ErrDivisionByZero
		}
		return types.DoubleValue(x / y), nil
	case t.ID() == types.Decimal:
		var v int64
		var err error
		rs := t.Scale()
		if e.Op == OpMul {
			v, err = types.MulDecimal(a, l.Type().Scale(), b, r.Type().Scale(), rs)
		} else {
			if a, err = types.Rescale(a, l.Type().Scale(), rs); err != nil {
				return l, err
			}
			if b, err = types.Rescale(b, r.Type().Scale(), rs); err != nil {
				return l, err
			}
			if e.Op == OpAdd {
				v, err = types.AddChecked(a, b)
			} else {
				v, err = types.SubChecked(a, b)
			}
		}
		if err == nil && (v >= types.Pow10(t.Precision()) || v <= -types.Pow10(t.Precision())) {
			err = types.ErrOverflow
		}
		return types.DecimalValue(v, t), err
	}
	var v int64
	switch e.Op {
	case OpAdd:
		v, err = types.AddChecked(a, b)
	case OpSub:
		v, err = types.SubChecked(a, b)
	case OpMul:
		v, err = types.MulChecked(a, b)
	case OpIntDiv, OpMod:
		switch {
		case b == 0:
			err = types.ErrDivisionByZero
		case b == -1:
			v = -a
			if e.Op == OpMod {
				v = 0
			} else if a == math.MinInt64 {
				err = types.ErrOverflow
			}
		case e.Op == OpIntDiv:
			v = a / b
		default:
			v = a % b
		}
	}
	if err == nil && t.ID() == types.Integer && (v < math.MinInt32 || v > math.MaxInt32) {
		err = types.ErrOverflow
	}
	return withInt(t, v), err
}

// likeRegexp translates a LIKE pattern into an anchored regular
// expression: the independent matcher LIKE is checked against.
func likeRegexp(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)^")
	if fold {
		b.WriteString("(?i)")
	}
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		case '\\':
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
