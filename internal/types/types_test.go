package types

import (
	"errors"
	"fmt"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testSeed returns the seed for a randomized test: $BPFDB_SEED if set,
// else a fresh one. It logs the seed so a failure can be replayed.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BPFDB_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with BPFDB_SEED=%d)", seed, seed)
	return seed
}

func errText(err error) string {
	for _, s := range []error{ErrSyntax, ErrOverflow, ErrDivisionByZero, ErrDecimalPrecision} {
		if errors.Is(err, s) {
			return "error (" + s.Error() + "): " + err.Error()
		}
	}
	return "error: " + err.Error()
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func parseType(t *testing.T, s string) Type {
	t.Helper()
	switch {
	case strings.HasPrefix(s, "DECIMAL("):
		var p, sc int
		if _, err := fmt.Sscanf(s, "DECIMAL(%d,%d)", &p, &sc); err != nil {
			t.Fatalf("type %q: %v", s, err)
		}
		typ, err := DecimalType(p, sc)
		if err != nil {
			t.Fatal(err)
		}
		return typ
	}
	for id := Boolean; id <= Date; id++ {
		if id != Decimal && id.String() == s {
			return New(id)
		}
	}
	t.Fatalf("unknown type %q", s)
	return Type{}
}

// TestGolden runs testdata/literals: parsing and formatting of literals
// and exact decimal arithmetic, one case per line of input.
//
//	parse <type>           each input line is a literal; prints value or error
//	decimal-type p s       prints the type or error
//	rescale from to        each line "v": prints v rescaled
//	mul sa sb rs           each line "a b": prints a×b at scale rs
//	div sa sb rs           each line "a b": prints a÷b at scale rs
//	add-months, add-days   each line "date n"
func TestGolden(t *testing.T) {
	datadriven.Run(t, "testdata/literals", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		var out strings.Builder
		switch c.Cmd {
		case "decimal-type":
			typ, err := DecimalType(atoi(t, c.Args[0]), atoi(t, c.Args[1]))
			if err != nil {
				return errText(err)
			}
			return fmt.Sprintf("%v physical=%v", typ, typ.Physical())
		case "types":
			for _, in := range c.Input {
				typ := parseType(t, in)
				fmt.Fprintf(&out, "%v id=%v physical=%v width=%d numeric=%v\n", typ, typ.ID(), typ.Physical(), typ.Physical().Width(), typ.IsNumeric())
			}
			return out.String()
		}
		for _, in := range c.Input {
			fmt.Fprintf(&out, "%s → ", in)
			var res string
			switch c.Cmd {
			case "parse":
				v, err := ParseValue(parseType(t, c.Args[0]), in)
				if err != nil {
					res = errText(err)
				} else {
					res = fmt.Sprintf("%v (raw %d)", v, v.Int64())
					if v.Type().ID() == Double || v.Type().ID() == Varchar || v.IsNull() {
						res = v.String()
					}
				}
			case "rescale":
				v, _ := strconv.ParseInt(in, 10, 64)
				r, err := Rescale(v, atoi(t, c.Args[0]), atoi(t, c.Args[1]))
				res = resultText(r, err)
			case "mul", "div":
				var a, b int64
				fmt.Sscan(in, &a, &b)
				f := MulDecimal
				if c.Cmd == "div" {
					f = DivDecimal
				}
				r, err := f(a, atoi(t, c.Args[0]), b, atoi(t, c.Args[1]), atoi(t, c.Args[2]))
				res = resultText(r, err)
				if err == nil {
					res += " = " + FormatDecimal(r, atoi(t, c.Args[2]))
				}
			case "add-months", "add-days":
				f := strings.Fields(in)
				d, err := ParseDate(f[0])
				if err != nil {
					t.Fatal(err)
				}
				var r int32
				n, err := strconv.ParseInt(f[1], 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				if c.Cmd == "add-days" {
					r, err = AddDays(d, n)
				} else {
					r, err = AddMonths(d, n)
				}
				if err != nil {
					res = errText(err)
				} else {
					res = FormatDate(r)
				}
			default:
				t.Fatalf("unknown command %q", c.Cmd)
			}
			out.WriteString(res + "\n")
		}
		return out.String()
	})
}

func resultText(v int64, err error) string {
	if err != nil {
		return errText(err)
	}
	return strconv.FormatInt(v, 10)
}

// TestDateAgainstTime checks the calendar arithmetic against package time
// for random days in 0001..9999 and every day around the epoch.
func TestDateAgainstTime(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 1))
	lo := daysFromCivil(1, 1, 1)
	hi := daysFromCivil(9999, 12, 31)
	check := func(days int64) {
		tm := time.Unix(days*86400, 0).UTC()
		y, m, d := civilFromDays(days)
		if y != tm.Year() || m != int(tm.Month()) || d != tm.Day() {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, time says %v", days, y, m, d, tm)
		}
		if back := daysFromCivil(y, m, d); back != days {
			t.Fatalf("daysFromCivil(%d-%d-%d) = %d, want %d", y, m, d, back, days)
		}
		s := FormatDate(int32(days))
		if s != tm.Format("2006-01-02") {
			t.Fatalf("FormatDate(%d) = %s, want %s", days, s, tm.Format("2006-01-02"))
		}
		p, err := ParseDate(s)
		if err != nil || int64(p) != days {
			t.Fatalf("ParseDate(%s) = %d, %v; want %d", s, p, err, days)
		}
	}
	for days := int64(-1000); days <= 1000; days++ {
		check(days)
	}
	check(lo)
	check(hi)
	for range 20000 {
		check(lo + r.Int64N(hi-lo+1))
	}
}

// TestDecimalAgainstBig checks MulDecimal, DivDecimal and Rescale against
// exact rational arithmetic (math/big) on random operands, including ones
// that overflow.
func TestDecimalAgainstBig(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 2))
	randDec := func() int64 {
		v := r.Int64N(Pow10(r.IntN(19))) // up to 18 digits
		if r.IntN(2) == 0 {
			v = -v
		}
		switch r.IntN(20) {
		case 0:
			v = math.MaxInt64
		case 1:
			v = math.MinInt64
		}
		return v
	}
	// want computes round_half_away(a × 10^rs / 10^(sa+sb)) exactly and
	// whether it fits an int64.
	roundRat := func(x *big.Rat) (int64, bool) {
		num := new(big.Int).Abs(x.Num())
		q, rem := new(big.Int).QuoRem(num, x.Denom(), new(big.Int))
		if new(big.Int).Mul(rem, big.NewInt(2)).Cmp(x.Denom()) >= 0 {
			q.Add(q, big.NewInt(1))
		}
		if x.Sign() < 0 {
			q.Neg(q)
		}
		return q.Int64(), q.IsInt64()
	}
	pow := func(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }
	for i := range 30000 {
		a, b := randDec(), randDec()
		sa, sb, rs := r.IntN(19), r.IntN(19), r.IntN(19)
		// a×b at scale rs: a·b·10^rs / 10^(sa+sb)
		x := new(big.Rat).SetFrac(new(big.Int).Mul(new(big.Int).Mul(big.NewInt(a), big.NewInt(b)), pow(rs)), pow(sa+sb))
		want, fits := roundRat(x)
		got, err := MulDecimal(a, sa, b, sb, rs)
		if fits != (err == nil) || fits && got != want {
			t.Fatalf("case %d: MulDecimal(%d, %d, %d, %d, %d) = %d, %v; want %d (fits %v)", i, a, sa, b, sb, rs, got, err, want, fits)
		}
		// a÷b at scale rs: a·10^(rs+sb) / (b·10^sa)
		if b != 0 {
			x := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(a), pow(rs+sb)), new(big.Int).Mul(big.NewInt(b), pow(sa)))
			want, fits := roundRat(x)
			got, err := DivDecimal(a, sa, b, sb, rs)
			if fits != (err == nil) || fits && got != want {
				t.Fatalf("case %d: DivDecimal(%d, %d, %d, %d, %d) = %d, %v; want %d (fits %v)", i, a, sa, b, sb, rs, got, err, want, fits)
			}
		}
		// rescale a from sa to rs
		x = new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(a), pow(rs)), pow(sa))
		want, fits = roundRat(x)
		got, err = Rescale(a, sa, rs)
		if fits != (err == nil) || fits && got != want {
			t.Fatalf("case %d: Rescale(%d, %d, %d) = %d, %v; want %d (fits %v)", i, a, sa, rs, got, err, want, fits)
		}
		// exact comparison across scales
		ra := new(big.Rat).SetFrac(big.NewInt(a), pow(sa))
		rb := new(big.Rat).SetFrac(big.NewInt(b), pow(sb))
		if got, want := Compare(DecimalValue(a, MustDecimal(18, sa)), DecimalValue(b, MustDecimal(18, sb))), ra.Cmp(rb); got != want {
			t.Fatalf("case %d: Compare(%d e-%d, %d e-%d) = %d, want %d", i, a, sa, b, sb, got, want)
		}
		// checked add/sub/mul
		sum := new(big.Int).Add(big.NewInt(a), big.NewInt(b))
		if got, err := AddChecked(a, b); sum.IsInt64() != (err == nil) || err == nil && got != sum.Int64() {
			t.Fatalf("AddChecked(%d, %d) = %d, %v", a, b, got, err)
		}
		diff := new(big.Int).Sub(big.NewInt(a), big.NewInt(b))
		if got, err := SubChecked(a, b); diff.IsInt64() != (err == nil) || err == nil && got != diff.Int64() {
			t.Fatalf("SubChecked(%d, %d) = %d, %v", a, b, got, err)
		}
		prod := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
		if got, err := MulChecked(a, b); prod.IsInt64() != (err == nil) || err == nil && got != prod.Int64() {
			t.Fatalf("MulChecked(%d, %d) = %d, %v", a, b, got, err)
		}
	}
}

// TestDecimalRoundTrip formats random decimals of every precision and
// scale and parses them back.
func TestDecimalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 3))
	for range 30000 {
		p := 1 + r.IntN(MaxDecimalPrecision)
		s := r.IntN(p + 1)
		v := r.Int64N(Pow10(p))
		if r.IntN(2) == 0 {
			v = -v
		}
		text := FormatDecimal(v, s)
		got, err := ParseDecimal(text, p, s)
		if err != nil || got != v {
			t.Fatalf("ParseDecimal(%q, %d, %d) = %d, %v; want %d", text, p, s, got, err, v)
		}
		if f := DecimalToFloat64(v, s); abs64(v) < 1<<52 {
			back, err := Float64ToDecimal(f, s)
			if err != nil || back != v {
				t.Fatalf("Float64ToDecimal(DecimalToFloat64(%d, %d)) = %d, %v", v, s, back, err)
			}
		}
	}
}

// TestEnumsPrint checks that every enum value has a name.
func TestEnumsPrint(t *testing.T) {
	for id := Invalid; id <= Date; id++ {
		if strings.HasPrefix(id.String(), "ID(") {
			t.Errorf("ID %d has no name", id)
		}
	}
	for p := PhysInvalid; p <= PhysString; p++ {
		if strings.HasPrefix(p.String(), "Physical(") {
			t.Errorf("Physical %d has no name", p)
		}
	}
	if got := ID(99).String(); got != "ID(99)" {
		t.Errorf("ID(99).String() = %q", got)
	}
}

// FuzzParseDate checks that ParseDate never panics and that whatever it
// accepts formats back to a literal that parses to the same day.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"1998-12-01", "2000-02-29", "1900-02-29", "0001-01-01", "9999-12-31", "1995-3-5", "", "-", "2024-13-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParseDate(%q): error %v does not wrap ErrSyntax", s, err)
			}
			return
		}
		back, err := ParseDate(FormatDate(d))
		if err != nil || back != d {
			t.Fatalf("ParseDate(%q) = %d; its text %q parses to %d, %v", s, d, FormatDate(d), back, err)
		}
	})
}

// FuzzParseDecimal checks that ParseDecimal never panics, that accepted
// values are within the precision, and that formatting round-trips.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"12.50", "-0.005", "+.5", "999999999999999.99", "1.", ".", "", "1e5", "00012.3400"} {
		f.Add(s, uint8(15), uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, p, sc uint8) {
		prec, scale := int(p%20), int(sc%20)
		v, err := ParseDecimal(s, prec, scale)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrOverflow) && !errors.Is(err, ErrDecimalPrecision) {
				t.Fatalf("ParseDecimal(%q, %d, %d): error %v wraps no sentinel", s, prec, scale, err)
			}
			return
		}
		if abs64(v) >= pow10[prec] {
			t.Fatalf("ParseDecimal(%q, %d, %d) = %d: more than %d digits", s, prec, scale, v, prec)
		}
		back, err := ParseDecimal(FormatDecimal(v, scale), prec, scale)
		if err != nil || back != v {
			t.Fatalf("ParseDecimal(%q) = %d; its text %q parses to %d, %v", s, v, FormatDecimal(v, scale), back, err)
		}
	})
}

func TestParseType(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"bigint", "BIGINT"}, {"INT", "INTEGER"}, {"decimal(15, 2)", "DECIMAL(15,2)"},
		{"NUMERIC(7)", "DECIMAL(7,0)"}, {"DECIMAL", "DECIMAL(18,3)"}, {"text", "VARCHAR"},
		{"DATE", "DATE"}, {"bool", "BOOLEAN"}, {"double", "DOUBLE"},
		{"DECIMAL(38,2)", "DECIMAL(38,2)"}, {"DECIMAL(39,2)", "error"}, {"DECIMAL(x)", "error"}, {"BLOB", "error"},
	} {
		typ, err := ParseType(tc.in)
		got := typ.String()
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("ParseType(%q) = %s (%v), want %s", tc.in, got, err, tc.want)
		}
		if err == nil {
			if back, err := ParseType(typ.String()); err != nil || back != typ {
				t.Errorf("ParseType(%q) = %v, %v; want %v", typ.String(), back, err, typ)
			}
		}
	}
}

func TestCompare(t *testing.T) {
	d2, d4 := MustDecimal(15, 2), MustDecimal(18, 4)
	nan := DoubleValue(math.NaN())
	for _, tc := range []struct {
		a, b Value
		want int
	}{
		{Null(BigIntType), BigIntValue(math.MinInt64), -1},
		{Null(BigIntType), Null(VarcharType), 0},
		{BigIntValue(1), Null(BigIntType), 1},
		{IntegerValue(-5), BigIntValue(-5), 0},
		{IntegerValue(3), BigIntValue(4), -1},
		{DecimalValue(1250, d2), DecimalValue(125000, d4), 0},
		{DecimalValue(1250, d2), DecimalValue(125001, d4), -1},
		{DecimalValue(-1250, d2), DecimalValue(-125001, d4), 1},
		{DecimalValue(-1, d2), DecimalValue(1, d4), -1},
		{DecimalValue(0, d2), DecimalValue(-1, d4), 1},
		{DecimalValue(999999999999999999, MustDecimal(18, 0)), DecimalValue(999999999999999999, MustDecimal(18, 18)), 1},
		{BigIntValue(12), DecimalValue(1250, d2), -1},
		{DoubleValue(12.5), DecimalValue(1250, d2), 0},
		{nan, DoubleValue(math.Inf(1)), 1},
		{nan, nan, 0},
		{DoubleValue(0), DoubleValue(math.Copysign(0, -1)), 0},
		{VarcharValue("abc"), VarcharValue("abd"), -1},
		{VarcharValue(""), VarcharValue("a"), -1},
		{BoolValue(false), BoolValue(true), -1},
		{DateValue(10561), DateValue(10560), 1},
	} {
		if got := Compare(tc.a, tc.b); got != tc.want {
			t.Errorf("Compare(%v %v, %v %v) = %d, want %d", tc.a.Type(), tc.a, tc.b.Type(), tc.b, got, tc.want)
		}
		if got := Compare(tc.b, tc.a); got != -tc.want {
			t.Errorf("Compare(%v, %v) = %d, want %d (antisymmetry)", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestCast(t *testing.T) {
	d152, d52, d40 := MustDecimal(15, 2), MustDecimal(5, 2), MustDecimal(4, 0)
	for _, tc := range []struct {
		v    Value
		to   Type
		want string // value text and type, or the error's sentinel
	}{
		{Null(BigIntType), DateType, "NULL DATE"},
		{BigIntValue(42), IntegerType, "42 INTEGER"},
		{BigIntValue(1 << 40), IntegerType, "overflow"},
		{IntegerValue(-7), d152, "-7.00 DECIMAL(15,2)"},
		{BigIntValue(1000), d52, "overflow"},
		{DecimalValue(1235, d152), MustDecimal(15, 1), "12.4 DECIMAL(15,1)"},
		{DecimalValue(-1235, d152), d40, "-12 DECIMAL(4,0)"},
		{DecimalValue(1250, d152), IntegerType, "13 INTEGER"},
		{DecimalValue(-1250, d152), BigIntType, "-13 BIGINT"},
		{DecimalValue(99999, d152), d52, "999.99 DECIMAL(5,2)"},
		{DecimalValue(100000, d152), d52, "overflow"},
		{DecimalValue(1250, d152), DoubleType, "12.5 DOUBLE"},
		{DoubleValue(2.5), BigIntType, "3 BIGINT"},
		{DoubleValue(-2.5), IntegerType, "-3 INTEGER"},
		{DoubleValue(1e19), BigIntType, "overflow"},
		{DoubleValue(math.NaN()), IntegerType, "overflow"},
		{DoubleValue(0.125), d152, "0.13 DECIMAL(15,2)"},
		{DoubleValue(-0.125), d152, "-0.13 DECIMAL(15,2)"},
		{DoubleValue(2.675), d152, "2.67 DECIMAL(15,2)"},
		{DoubleValue(0.1), MustDecimal(18, 17), "0.10000000000000001 DECIMAL(18,17)"},
		{DoubleValue(1e6), d52, "overflow"},
		{BigIntValue(3), DoubleType, "3 DOUBLE"},
		{VarcharValue(" 1998-12-01 "), DateType, "1998-12-01 DATE"},
		{VarcharValue("0.06"), d152, "0.06 DECIMAL(15,2)"},
		{VarcharValue("x"), BigIntType, "invalid literal"},
		{VarcharValue("NULL"), BigIntType, "invalid literal"},
		{DateValue(10561), VarcharType, "1998-12-01 VARCHAR"},
		{DecimalValue(-5, d152), VarcharType, "-0.05 VARCHAR"},
		{DateValue(10561), BigIntType, "unsupported cast"},
		{BigIntValue(1), DateType, "unsupported cast"},
		{BoolValue(true), IntegerType, "1 INTEGER"},
		{BigIntValue(0), BooleanType, "false BOOLEAN"},
		{BoolValue(true), DoubleType, "unsupported cast"},
		{DoubleValue(1), BooleanType, "unsupported cast"},
	} {
		got, err := Cast(tc.v, tc.to)
		text := ""
		switch {
		case err == nil:
			text = got.String() + " " + got.Type().String()
		case errors.Is(err, ErrOverflow):
			text = "overflow"
		case errors.Is(err, ErrSyntax):
			text = "invalid literal"
		case errors.Is(err, ErrCast):
			text = "unsupported cast"
		default:
			text = err.Error()
		}
		if text != tc.want {
			t.Errorf("Cast(%v %v, %v) = %q (%v), want %q", tc.v.Type(), tc.v, tc.to, text, err, tc.want)
		}
	}
}

// TestFloat64ToDecimalExact compares the fast and exact paths with exact
// rational arithmetic, on random doubles and on exact ties.
func TestFloat64ToDecimalExact(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 4))
	for i := range 50000 {
		s := r.IntN(19)
		var f float64
		switch i % 3 {
		case 0:
			f = r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-4))
		case 1: // a tie at scale s: k + 0.5 ulps, exactly representable
			f = (float64(r.IntN(1<<20)) + 0.5) / float64(Pow10(min(s, 6)))
			s = min(s, 6)
		default:
			f = float64(r.Int64N(1<<53)) / float64(Pow10(s))
		}
		if r.IntN(2) == 0 {
			f = -f
		}
		x := new(big.Rat).SetFloat64(f)
		x.Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil)))
		num := new(big.Int).Abs(x.Num())
		q, rem := new(big.Int).QuoRem(num, x.Denom(), new(big.Int))
		if new(big.Int).Mul(rem, big.NewInt(2)).Cmp(x.Denom()) >= 0 {
			q.Add(q, big.NewInt(1))
		}
		if x.Sign() < 0 {
			q.Neg(q)
		}
		fits := q.IsInt64() && abs64(q.Int64()) < pow10[MaxDecimalPrecision] && math.Abs(f) < 1e18
		got, err := Float64ToDecimal(f, s)
		if fits != (err == nil) || fits && got != q.Int64() {
			t.Fatalf("Float64ToDecimal(%v, %d) = %d, %v; want %v (fits %v)", f, s, got, err, q, fits)
		}
	}
}

// TestDoubleText pins the text of a DOUBLE cast to VARCHAR (DuckDB's).
func TestDoubleText(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {-3, "-3.0"}, {0.5, "0.5"}, {0.30000000000000004, "0.30000000000000004"},
		{123456789012345, "123456789012345.0"}, {1e15, "1e+15"}, {1e20, "1e+20"},
		{0.00001, "0.00001"}, {1.5e-7, "1.5e-07"}, {math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"},
	} {
		if got := string(AppendDoubleText(nil, tc.f)); got != tc.want {
			t.Errorf("AppendDoubleText(%v) = %q, want %q", tc.f, got, tc.want)
		}
		v, err := Cast(DoubleValue(tc.f), VarcharType)
		if err != nil || v.Str() != tc.want {
			t.Errorf("Cast(%v, VARCHAR) = %v, %v; want %q", tc.f, v, err, tc.want)
		}
	}
}
