package types

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Value is one SQL value of any type, for constants, literals, test
// expectations and printing. It is a boxed form: execution kernels work on
// typed vectors (package vector), never on Values row by row.
type Value struct {
	typ  Type
	null bool
	i    int64   // BOOLEAN (0/1), INTEGER, BIGINT, DECIMAL (scaled), DATE
	f    float64 // DOUBLE
	s    string  // VARCHAR
}

// Null returns the NULL of type t.
func Null(t Type) Value { return Value{typ: t, null: true} }

// BoolValue returns a BOOLEAN.
func BoolValue(b bool) Value {
	v := Value{typ: BooleanType}
	if b {
		v.i = 1
	}
	return v
}

// IntegerValue returns an INTEGER.
func IntegerValue(x int32) Value { return Value{typ: IntegerType, i: int64(x)} }

// BigIntValue returns a BIGINT.
func BigIntValue(x int64) Value { return Value{typ: BigIntType, i: x} }

// DoubleValue returns a DOUBLE.
func DoubleValue(f float64) Value { return Value{typ: DoubleType, f: f} }

// DecimalValue returns a DECIMAL of type t (which must be a DECIMAL) whose
// scaled integer is scaled: DecimalValue(1250, DECIMAL(15,2)) is 12.50.
func DecimalValue(scaled int64, t Type) Value {
	if t.id != Decimal {
		panic(fmt.Sprintf("BUG: DecimalValue with type %v", t))
	}
	return Value{typ: t, i: scaled}
}

// VarcharValue returns a VARCHAR.
func VarcharValue(s string) Value { return Value{typ: VarcharType, s: s} }

// DateValue returns a DATE of days since 1970-01-01.
func DateValue(days int32) Value { return Value{typ: DateType, i: int64(days)} }

// Type returns the value's type.
func (v Value) Type() Type { return v.typ }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.null }

// Bool returns a BOOLEAN's value.
func (v Value) Bool() bool { return v.i != 0 }

// Int64 returns the integer form of an INTEGER, BIGINT, DATE (days) or
// DECIMAL (scaled integer), and 0/1 for BOOLEAN.
func (v Value) Int64() int64 { return v.i }

// Float64 returns a DOUBLE's value.
func (v Value) Float64() float64 { return v.f }

// Str returns a VARCHAR's value.
func (v Value) Str() string { return v.s }

// String returns the value's display text: NULL, true, 42, 12.50,
// 1998-12-01, and VARCHARs without quotes.
func (v Value) String() string {
	if v.null {
		return "NULL"
	}
	switch v.typ.id {
	case Boolean:
		return strconv.FormatBool(v.i != 0)
	case Integer, BigInt:
		return strconv.FormatInt(v.i, 10)
	case Double:
		return FormatDouble(v.f)
	case Decimal:
		return FormatDecimal(v.i, v.typ.Scale())
	case Varchar:
		return v.s
	case Date:
		return FormatDate(int32(v.i))
	}
	return "INVALID"
}

// AppendDoubleText appends the text of a DOUBLE as DuckDB casts it to
// VARCHAR: the shortest text that parses back to f, with ".0" on whole
// numbers and an exponent only for magnitudes below 1e-5 or from 1e15 on
// ("1.0", "0.5", "1e+20", "1.5e-07", "NaN", "Infinity").
func AppendDoubleText(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-5 || a >= 1e15) {
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	for _, c := range dst[n:] {
		if c == '.' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

// FormatDouble returns the shortest text that parses back to f exactly
// ("0.1", "1e+20", "NaN", "Infinity", "-Infinity").
func FormatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// ParseValue parses the text form of a value of type t, as String prints
// it; "NULL" (any case) is the NULL of t except for VARCHAR, where every
// text is a string (callers that need NULL strings mark them themselves).
// Errors wrap ErrSyntax or ErrOverflow and name the text and type.
func ParseValue(t Type, s string) (Value, error) {
	if t.id != Varchar && strings.EqualFold(s, "NULL") {
		return Null(t), nil
	}
	switch t.id {
	case Boolean:
		switch strings.ToLower(s) {
		case "true", "t":
			return BoolValue(true), nil
		case "false", "f":
			return BoolValue(false), nil
		}
		return Value{}, fmt.Errorf("parse %q as BOOLEAN: %w", s, ErrSyntax)
	case Integer:
		x, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return Value{}, fmt.Errorf("parse %q as INTEGER: %w", s, numErr(err))
		}
		return IntegerValue(int32(x)), nil
	case BigInt:
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("parse %q as BIGINT: %w", s, numErr(err))
		}
		return BigIntValue(x), nil
	case Double:
		switch s {
		case "Infinity":
			return DoubleValue(math.Inf(1)), nil
		case "-Infinity":
			return DoubleValue(math.Inf(-1)), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return Value{}, fmt.Errorf("parse %q as DOUBLE: %w", s, numErr(err))
		}
		return DoubleValue(f), nil
	case Decimal:
		x, err := ParseDecimal(s, t.Precision(), t.Scale())
		if err != nil {
			return Value{}, err
		}
		return DecimalValue(x, t), nil
	case Varchar:
		return VarcharValue(s), nil
	case Date:
		d, err := ParseDate(s)
		if err != nil {
			return Value{}, err
		}
		return DateValue(d), nil
	}
	return Value{}, fmt.Errorf("parse %q: invalid type %v", s, t)
}

// numErr maps strconv's errors to this package's sentinels.
func numErr(err error) error {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return ErrOverflow
	}
	return ErrSyntax
}

// Compare orders two values: -1, 0 or +1. It is a total order for tests,
// zone maps and sort checks: NULL sorts before everything (and equals
// NULL); DOUBLE NaN sorts after every number and equals NaN, -0 equals +0;
// integers, dates and decimals compare by value across INTEGER, BIGINT and
// DECIMAL of any scale (exactly); VARCHARs compare bytewise; false < true.
// Values of unrelated types (a VARCHAR and a DATE) compare by type id.
func Compare(a, b Value) int {
	switch {
	case a.null || b.null:
		return cmpBool(!a.null, !b.null)
	case a.typ.id == Double || b.typ.id == Double:
		if a.typ.IsNumeric() && b.typ.IsNumeric() {
			return cmpFloat(a.asFloat(), b.asFloat())
		}
	case a.typ.id == Varchar && b.typ.id == Varchar:
		return strings.Compare(a.s, b.s)
	case a.typ.id == Boolean && b.typ.id == Boolean:
		return cmpBool(a.i != 0, b.i != 0)
	case a.typ.id == Date && b.typ.id == Date:
		return cmpInt(a.i, b.i)
	case a.typ.IsNumeric() && b.typ.IsNumeric():
		return cmpScaled(a.i, a.typ.Scale(), b.i, b.typ.Scale())
	}
	return cmpInt(int64(a.typ.id), int64(b.typ.id))
}

func (v Value) asFloat() float64 {
	switch v.typ.id {
	case Double:
		return v.f
	case Decimal:
		return DecimalToFloat64(v.i, v.typ.Scale())
	}
	return float64(v.i)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch an, bn := a != a, b != b; {
	case an || bn:
		return cmpBool(an, bn)
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpScaled compares a/10^sa with b/10^sb exactly, in 128 bits.
func cmpScaled(a int64, sa int, b int64, sb int) int {
	if sa == sb || (a < 0) != (b < 0) || a == 0 || b == 0 {
		if sa == sb {
			return cmpInt(a, b)
		}
		return cmpInt(int64(sign(a)), int64(sign(b)))
	}
	// Same sign, both non-zero: compare magnitudes a·10^(s-sa) and b·10^(s-sb).
	s := max(sa, sb)
	ah, al, _ := mulPow10(0, abs64(a), s-sa)
	bh, bl, _ := mulPow10(0, abs64(b), s-sb)
	c := 0
	switch {
	case ah != bh:
		c = cmpBool(ah > bh, ah < bh) // +1 if a's magnitude is larger
	case al != bl:
		c = cmpBool(al > bl, al < bl)
	}
	if a < 0 {
		c = -c
	}
	return c
}

func sign(x int64) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}
