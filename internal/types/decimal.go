package types

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
)

// ErrOverflow is returned when an exact result does not fit its type.
var ErrOverflow = errors.New("numeric overflow")

// ErrDivisionByZero is returned by divisions by zero.
var ErrDivisionByZero = errors.New("division by zero")

// ErrSyntax is returned for a literal that does not have its type's form.
var ErrSyntax = errors.New("invalid literal")

// pow10 holds 10^0 … 10^19; 10^19 only fits unsigned.
var pow10 = [20]uint64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// DecimalBound returns the exclusive bound on the magnitude of the scaled
// integers of DECIMAL type t: 10^precision, or 10^18 for the types wider
// than MaxDecimalPrecision digits (see MaxDecimalWidth).
func DecimalBound(t Type) int64 {
	return int64(pow10[min(t.Precision(), MaxDecimalPrecision)])
}

// Pow10 returns 10^n for 0 ≤ n ≤ 18 as an int64.
func Pow10(n int) int64 {
	checkScale(n)
	return int64(pow10[n])
}

func checkScale(s int) {
	if s < 0 || s > MaxDecimalPrecision {
		panic(fmt.Sprintf("BUG: decimal scale %d outside 0..%d", s, MaxDecimalPrecision))
	}
}

// AddChecked returns a+b, or ErrOverflow if the sum does not fit an int64.
// Two decimals of the same scale add with it.
func AddChecked(a, b int64) (int64, error) {
	s := a + b
	if (s > a) != (b > 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// SubChecked returns a−b, or ErrOverflow if the difference does not fit.
func SubChecked(a, b int64) (int64, error) {
	d := a - b
	if (d < a) != (b > 0) {
		return 0, ErrOverflow
	}
	return d, nil
}

// MulChecked returns a×b, or ErrOverflow if the product does not fit.
func MulChecked(a, b int64) (int64, error) {
	neg, hi, lo := mul128(a, b)
	return fit64(neg, hi, lo)
}

// abs64 returns |v| as a uint64 (exact also for math.MinInt64).
func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-(v + 1)) + 1
	}
	return uint64(v)
}

// mul128 returns a×b as a sign and a 128-bit magnitude.
func mul128(a, b int64) (neg bool, hi, lo uint64) {
	hi, lo = bits.Mul64(abs64(a), abs64(b))
	return (a < 0) != (b < 0), hi, lo
}

// fit64 converts a sign and 128-bit magnitude to an int64, or ErrOverflow.
func fit64(neg bool, hi, lo uint64) (int64, error) {
	switch {
	case hi != 0:
	case !neg && lo <= math.MaxInt64:
		return int64(lo), nil
	case neg && lo <= 1<<63:
		return int64(-lo), nil
	}
	return 0, ErrOverflow
}

// mulPow10 multiplies a 128-bit magnitude by 10^n, reporting overflow of
// 128 bits.
func mulPow10(hi, lo uint64, n int) (uint64, uint64, bool) {
	for n > 0 {
		k := min(n, 19)
		n -= k
		p := pow10[k]
		h1, l1 := bits.Mul64(lo, p)
		h2, l2 := bits.Mul64(hi, p)
		if h2 != 0 {
			return 0, 0, false
		}
		var c uint64
		hi, c = bits.Add64(h1, l2, 0)
		if c != 0 {
			return 0, 0, false
		}
		lo = l1
	}
	return hi, lo, true
}

// div128 divides a 128-bit magnitude by d, returning quotient and remainder.
func div128(hi, lo, d uint64) (qhi, qlo, r uint64) {
	qhi, r = hi/d, hi%d
	qlo, r = bits.Div64(r, lo, d)
	return qhi, qlo, r
}

// roundPow10 divides a 128-bit magnitude by 10^n, rounding half away from
// zero (on the magnitude: half up).
func roundPow10(hi, lo uint64, n int) (uint64, uint64) {
	if n == 0 {
		return hi, lo
	}
	// Divide by 10^(n-1) exactly (floor), then by 10: the last remainder
	// is the first dropped digit, which alone decides half-up rounding.
	for m := n - 1; m > 0; {
		k := min(m, 19)
		m -= k
		hi, lo, _ = div128(hi, lo, pow10[k])
	}
	hi, lo, r := div128(hi, lo, 10)
	if r >= 5 {
		var c uint64
		lo, c = bits.Add64(lo, 1, 0)
		hi += c
	}
	return hi, lo
}

// Rescale converts a decimal's scaled integer from scale `from` to scale
// `to`, rounding half away from zero when digits are dropped and failing
// with ErrOverflow when the result does not fit an int64. Scales are 0..18.
func Rescale(v int64, from, to int) (int64, error) {
	checkScale(from)
	checkScale(to)
	switch {
	case to > from:
		return MulChecked(v, int64(pow10[to-from]))
	case to < from:
		hi, lo := roundPow10(0, abs64(v), from-to)
		return fit64(v < 0, hi, lo)
	}
	return v, nil
}

// MulDecimal multiplies decimals a (scale sa) and b (scale sb) exactly and
// returns the product at scale rs, rounding half away from zero if rs <
// sa+sb. The full product is computed in 128 bits, so only the final result
// can overflow.
func MulDecimal(a int64, sa int, b int64, sb int, rs int) (int64, error) {
	checkScale(sa)
	checkScale(sb)
	checkScale(rs)
	neg, hi, lo := mul128(a, b)
	ps := sa + sb
	if rs >= ps {
		var ok bool
		if hi, lo, ok = mulPow10(hi, lo, rs-ps); !ok {
			return 0, ErrOverflow
		}
	} else {
		hi, lo = roundPow10(hi, lo, ps-rs)
	}
	return fit64(neg, hi, lo)
}

// DivDecimal divides decimal a (scale sa) by b (scale sb) and returns the
// quotient at scale rs, rounded half away from zero. It fails with
// ErrDivisionByZero for b = 0 and ErrOverflow if the quotient does not fit.
func DivDecimal(a int64, sa int, b int64, sb int, rs int) (int64, error) {
	checkScale(sa)
	checkScale(sb)
	checkScale(rs)
	if b == 0 {
		return 0, ErrDivisionByZero
	}
	neg := (a < 0) != (b < 0)
	// a/10^sa ÷ b/10^sb × 10^rs = a × 10^(rs−sa+sb) ÷ b.
	hi, lo := uint64(0), abs64(a)
	den := abs64(b)
	if e := rs - sa + sb; e >= 0 {
		var ok bool
		if hi, lo, ok = mulPow10(hi, lo, e); !ok {
			return 0, ErrOverflow
		}
	} else {
		dh, dl, ok := mulPow10(0, den, -e)
		if !ok || dh != 0 {
			// The denominator exceeds 2^64 > 2|a|: the quotient rounds to 0.
			return 0, nil
		}
		den = dl
	}
	qhi, qlo, r := div128(hi, lo, den)
	if r >= den-r { // 2r ≥ den without overflow: round half up
		var c uint64
		qlo, c = bits.Add64(qlo, 1, 0)
		qhi += c
	}
	return fit64(neg, qhi, qlo)
}

// DecimalToFloat64 converts a scaled decimal to the nearest float64 (exact
// for |v| < 2^53).
func DecimalToFloat64(v int64, scale int) float64 {
	checkScale(scale)
	return float64(v) / float64(pow10[scale])
}

// Float64ToDecimal converts f to a decimal with the given scale: the exact
// binary value of f rounded half away from zero to scale fraction digits
// (so 0.125 gives 0.13, and 2.675, which is stored as 2.67499999…, gives
// 2.67). It fails with ErrOverflow when the result needs more than 18
// digits, and for NaN and ±Inf.
func Float64ToDecimal(f float64, scale int) (int64, error) {
	checkScale(scale)
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 1e18 {
		return 0, ErrOverflow
	}
	r := f * float64(pow10[scale])
	// Fast path: r is off from the exact product by at most |r|·2^-53, so
	// unless its fraction is that close to one half, rounding r is exact.
	if fl := math.Floor(r); math.Abs(r) < 0x1p52 && math.Abs(r-fl-0.5) > math.Abs(r)*0x1p-50 {
		v := int64(math.Round(r))
		if abs64(v) >= pow10[MaxDecimalPrecision] {
			return 0, ErrOverflow
		}
		return v, nil
	}
	// Exact: f × 10^scale needs at most 53 + 60 bits.
	x := new(big.Float).SetPrec(192).SetFloat64(f)
	x.Mul(x, new(big.Float).SetPrec(192).SetUint64(pow10[scale]))
	i, _ := x.Int(nil) // truncated toward zero
	frac := new(big.Float).SetPrec(192).Sub(x, new(big.Float).SetPrec(192).SetInt(i))
	if frac.Abs(frac).Cmp(big.NewFloat(0.5)) >= 0 {
		i.Add(i, big.NewInt(int64(x.Sign())))
	}
	if !i.IsInt64() || abs64(i.Int64()) >= pow10[MaxDecimalPrecision] {
		return 0, ErrOverflow
	}
	return i.Int64(), nil
}

// DecimalAddType is the result type of adding or subtracting DECIMAL a and
// DECIMAL b: the larger scale, and enough integer digits for both plus a
// carry, capped at 18 digits when both are at most that wide and at 38
// otherwise, as DuckDB caps them (results that do not fit fail at run
// time).
func DecimalAddType(a, b Type) (Type, error) {
	s := max(a.Scale(), b.Scale())
	intDigits := max(a.Precision()-a.Scale(), b.Precision()-b.Scale()) + 1
	limit := MaxDecimalPrecision
	if max(a.Precision(), b.Precision()) > MaxDecimalPrecision {
		limit = MaxDecimalWidth
	}
	return DecimalType(min(limit, intDigits+s), s)
}

// DecimalMulType is the result type of multiplying DECIMAL a by DECIMAL b:
// scale sa+sb and precision pa+pb capped at 18, or 38 if an operand is
// wider than 18 digits, as DuckDB caps them (the values hold 18 digits;
// more fails at run time). It fails if the scale itself exceeds 18.
func DecimalMulType(a, b Type) (Type, error) {
	s := a.Scale() + b.Scale()
	if s > MaxDecimalPrecision {
		return Type{}, fmt.Errorf("multiply %v by %v: result scale %d exceeds %d: %w", a, b, s, MaxDecimalPrecision, ErrDecimalPrecision)
	}
	if max(a.Precision(), b.Precision()) > MaxDecimalPrecision {
		return DecimalType(MaxDecimalWidth, s)
	}
	return DecimalType(min(MaxDecimalPrecision, max(a.Precision()+b.Precision(), s)), s)
}

// ParseDecimal parses a decimal literal ([+-] digits [. digits], at least
// one digit) into a scaled integer of DECIMAL(precision, scale). Extra
// fraction digits are rounded half away from zero; too many integer digits
// fail with ErrOverflow; anything else that is not the form fails with
// ErrSyntax. The errors name the literal and the offending position.
func ParseDecimal(s string, precision, scale int) (int64, error) {
	if precision < 1 || precision > MaxDecimalWidth || scale < 0 || scale > min(precision, MaxDecimalPrecision) {
		return 0, fmt.Errorf("parse %q as DECIMAL(%d,%d): %w", s, precision, scale, ErrDecimalPrecision)
	}
	fail := func(err error, format string, args ...any) (int64, error) {
		return 0, fmt.Errorf("parse %q as DECIMAL(%d,%d): %s: %w", s, precision, scale, fmt.Sprintf(format, args...), err)
	}
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var mag uint64 // integer digits, then fraction digits up to scale
	intDigits, fracDigits, digits := 0, 0, 0
	roundUp := false // the first dropped fraction digit is ≥ 5
	dot := false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && !dot:
			dot = true
			continue
		case c < '0' || c > '9':
			return fail(ErrSyntax, "unexpected %q at offset %d", c, i)
		}
		digits++
		d := uint64(c - '0')
		if !dot {
			if mag == 0 && d == 0 {
				continue // leading zero
			}
			intDigits++
			if intDigits > min(precision, MaxDecimalPrecision)-scale {
				return fail(ErrOverflow, "more than %d digits before the point", min(precision, MaxDecimalPrecision)-scale)
			}
			mag = mag*10 + d
			continue
		}
		switch {
		case fracDigits < scale:
			mag = mag*10 + d
		case fracDigits == scale:
			roundUp = d >= 5
		}
		fracDigits++
	}
	if digits == 0 {
		return fail(ErrSyntax, "no digits")
	}
	for ; fracDigits < scale; fracDigits++ {
		mag *= 10
	}
	if roundUp {
		mag++
		if mag >= pow10[min(precision, MaxDecimalPrecision)] {
			return fail(ErrOverflow, "rounds to more than %d digits", precision)
		}
	}
	v := int64(mag) // mag < 10^18 < 2^63
	if neg {
		v = -v
	}
	return v, nil
}

// FormatDecimal returns the text of a scaled decimal: "-12.50" for v = -1250,
// scale 2. Scale 0 has no point.
func FormatDecimal(v int64, scale int) string {
	return string(AppendDecimal(nil, v, scale))
}

// AppendDecimal appends FormatDecimal(v, scale) to dst.
func AppendDecimal(dst []byte, v int64, scale int) []byte {
	checkScale(scale)
	var buf [24]byte
	i := len(buf)
	m := abs64(v)
	// Emit digits from the right: at least scale+1 of them, with the point
	// after the first scale.
	for n := 1; ; n++ {
		i--
		buf[i] = byte('0' + m%10)
		m /= 10
		if n == scale {
			i--
			buf[i] = '.'
		}
		if n > scale && m == 0 {
			break
		}
	}
	if v < 0 {
		i--
		buf[i] = '-'
	}
	return append(dst, buf[i:]...)
}
