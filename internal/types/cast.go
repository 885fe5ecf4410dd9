package types

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrCast is returned for a cast between types that do not convert (DATE
// to INTEGER, BOOLEAN to DATE).
var ErrCast = errors.New("unsupported cast")

// Cast converts a value to type to, as SQL's CAST does, for constants
// (folding literals in the planner) and tests; vectors are cast by the
// execution kernels. NULL casts to the NULL of to. Narrowing that loses
// integer digits fails with ErrOverflow; dropped fraction digits round
// half away from zero (DECIMAL to DECIMAL, DECIMAL or DOUBLE to an
// integer). Text casts trim surrounding spaces and parse as ParseValue
// does. Unsupported pairs fail with ErrCast.
func Cast(v Value, to Type) (Value, error) {
	if v.null {
		return Null(to), nil
	}
	from := v.typ
	if from == to {
		return v, nil
	}
	fail := func(err error) (Value, error) {
		return Value{}, fmt.Errorf("cast %v %s to %v: %w", from, v, to, err)
	}
	switch {
	case to.id == Varchar && from.id == Double && !v.null:
		return VarcharValue(string(AppendDoubleText(nil, v.f))), nil
	case to.id == Varchar:
		return VarcharValue(v.String()), nil
	case from.id == Varchar:
		out, err := ParseValue(to, strings.TrimSpace(v.s))
		if err != nil {
			return fail(err)
		}
		if out.null { // the text NULL is a string, not a NULL
			return fail(ErrSyntax)
		}
		return out, nil
	case from.id == Date || to.id == Date:
		return fail(ErrCast)
	case from.id == Boolean:
		if to.id == Integer || to.id == BigInt {
			return fromInt64(v.i, to)
		}
		return fail(ErrCast)
	case to.id == Boolean:
		switch from.id {
		case Integer, BigInt:
			return BoolValue(v.i != 0), nil
		}
		return fail(ErrCast)
	case from.id == Double:
		return castDouble(v.f, to, fail)
	case to.id == Double:
		return DoubleValue(v.asFloat()), nil
	}
	// Integer or DECIMAL to integer or DECIMAL: rescale exactly.
	x, err := Rescale(v.i, from.Scale(), to.Scale())
	if err != nil {
		return fail(err)
	}
	return fromInt64(x, to)
}

// castDouble converts a DOUBLE to an integer or DECIMAL type.
func castDouble(f float64, to Type, fail func(error) (Value, error)) (Value, error) {
	switch to.id {
	case Integer, BigInt:
		r := math.Round(f)
		if math.IsNaN(r) || r >= 0x1p63 || r < -0x1p63 {
			return fail(ErrOverflow)
		}
		return fromInt64(int64(r), to)
	case Decimal:
		x, err := Float64ToDecimal(f, to.Scale())
		if err != nil {
			return fail(err)
		}
		return fromInt64(x, to)
	}
	return fail(ErrCast)
}

// fromInt64 returns x (already at to's scale) as a value of the integer or
// DECIMAL type to, checking its range.
func fromInt64(x int64, to Type) (Value, error) {
	switch to.id {
	case Integer:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return Value{}, fmt.Errorf("%d out of range for INTEGER: %w", x, ErrOverflow)
		}
		return IntegerValue(int32(x)), nil
	case BigInt:
		return BigIntValue(x), nil
	case Decimal:
		if abs64(x) >= uint64(DecimalBound(to)) {
			return Value{}, fmt.Errorf("%s out of range for %v: %w", FormatDecimal(x, to.Scale()), to, ErrOverflow)
		}
		return DecimalValue(x, to), nil
	}
	return Value{}, fmt.Errorf("cast to %v: %w", to, ErrCast)
}
