package load

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"unsafe"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// column is what a parse worker knows of a table column.
type column struct {
	name    string
	typ     types.Type
	id      types.ID
	prec    int // DECIMAL
	scale   int // DECIMAL
	notNull bool
}

// sink is a column's vector in the chunk being filled, with its typed slots.
type sink struct {
	vec *vector.Vector
	b   []bool
	i32 []int32
	i64 []int64
	f64 []float64
}

func (s *sink) bind(v *vector.Vector) {
	*s = sink{vec: v}
	switch v.Type().Physical() {
	case types.PhysBool:
		s.b = v.Bools()
	case types.PhysInt32:
		s.i32 = v.Int32s()
	case types.PhysInt64:
		s.i64 = v.Int64s()
	case types.PhysFloat64:
		s.f64 = v.Float64s()
	}
}

// Why a field is refused, beyond the splitter's reasons.
var (
	errInvalid  = errors.New("invalid")      // not the text of a value of the type
	errRange    = errors.New("out of range") // a number too large for the type
	errNotNull  = errors.New("NULL in NOT NULL column")
	errInternal = errors.New("BUG: unknown column type")
)

// parseField stores field f (quoted: it was a quoted CSV field) into row i
// of s. It allocates nothing for valid input of any type.
func (c *column) parseField(s *sink, i int, f []byte, quoted bool) error {
	if len(f) == 0 && !quoted {
		if c.notNull {
			return errNotNull
		}
		s.vec.SetNull(i)
		return nil
	}
	switch c.id {
	case types.Varchar:
		s.vec.SetBytes(i, f)
	case types.Integer:
		x, err := parseInt(f)
		if err == nil && (x < math.MinInt32 || x > math.MaxInt32) {
			err = errRange
		}
		if err != nil {
			return err
		}
		s.i32[i] = int32(x)
	case types.BigInt:
		x, err := parseInt(f)
		if err != nil {
			return err
		}
		s.i64[i] = x
	case types.Decimal:
		x, err := parseDecimal(f, c.prec, c.scale)
		if err != nil {
			return err
		}
		s.i64[i] = x
	case types.Date:
		d, err := parseDate(f)
		if err != nil {
			return err
		}
		s.i32[i] = d
	case types.Double:
		x, err := strconv.ParseFloat(unsafe.String(&f[0], len(f)), 64) // the string does not outlive the call
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
				return errRange
			}
			return errInvalid
		}
		s.f64[i] = x
	case types.Boolean:
		switch {
		case bytes.EqualFold(f, []byte("true")) || bytes.EqualFold(f, []byte("t")):
			s.b[i] = true
		case bytes.EqualFold(f, []byte("false")) || bytes.EqualFold(f, []byte("f")):
			s.b[i] = false
		default:
			return errInvalid
		}
	default:
		return errInternal
	}
	return nil
}

// parseInt parses an optionally signed decimal integer of 64 bits.
func parseInt(f []byte) (int64, error) {
	i, neg := 0, false
	if f[0] == '-' || f[0] == '+' {
		neg = f[0] == '-'
		i++
	}
	if i == len(f) {
		return 0, errInvalid
	}
	var u uint64
	for ; i < len(f); i++ {
		d := f[i] - '0'
		if d > 9 {
			return 0, errInvalid
		}
		if u > (math.MaxUint64-9)/10 {
			// Keep scanning so that "12x…" is invalid, not out of range.
			for ; i < len(f); i++ {
				if f[i]-'0' > 9 {
					return 0, errInvalid
				}
			}
			return 0, errRange
		}
		u = u*10 + uint64(d)
	}
	switch {
	case neg && u <= 1<<63:
		return int64(-u), nil
	case !neg && u <= math.MaxInt64:
		return int64(u), nil
	}
	return 0, errRange
}

// parseDecimal parses a DECIMAL(prec, scale) as its scaled integer. The
// common form (sign, digits, a point, at most scale fraction digits) is
// parsed here; anything else (more fraction digits, to be rounded) goes to
// types.ParseDecimal, whose rules it follows.
func parseDecimal(f []byte, prec, scale int) (int64, error) {
	i, neg := 0, false
	if f[0] == '-' || f[0] == '+' {
		neg = f[0] == '-'
		i++
	}
	var mag int64
	intDigits, fracDigits, digits := 0, 0, 0
	dot := false
	for ; i < len(f); i++ {
		c := f[i]
		if c == '.' && !dot {
			dot = true
			continue
		}
		d := c - '0'
		if d > 9 {
			return 0, errInvalid
		}
		digits++
		if dot {
			if fracDigits == scale {
				return slowDecimal(f, prec, scale)
			}
			fracDigits++
		} else {
			if mag == 0 && d == 0 {
				continue
			}
			intDigits++
			if intDigits > prec-scale {
				// Too many digits before the point, unless the text
				// is invalid further on.
				if _, err := slowDecimal(f, prec, scale); err == errInvalid {
					return 0, errInvalid
				}
				return 0, errRange
			}
		}
		mag = mag*10 + int64(d)
	}
	if digits == 0 {
		return 0, errInvalid
	}
	mag *= types.Pow10(scale - fracDigits)
	if neg {
		mag = -mag
	}
	return mag, nil
}

func slowDecimal(f []byte, prec, scale int) (int64, error) {
	x, err := types.ParseDecimal(string(f), prec, scale)
	switch {
	case errors.Is(err, types.ErrOverflow):
		return 0, errRange
	case err != nil:
		return 0, errInvalid
	}
	return x, nil
}

// parseDate parses YYYY-MM-DD; other spellings types.ParseDate accepts (one-
// digit months and days) go to it.
func parseDate(f []byte) (int32, error) {
	if len(f) != 10 || f[4] != '-' || f[7] != '-' {
		d, err := types.ParseDate(string(f))
		if err != nil {
			return 0, errInvalid
		}
		return d, nil
	}
	n := func(b []byte) (int, bool) {
		v := 0
		for _, c := range b {
			if c-'0' > 9 {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := n(f[0:4])
	m, ok2 := n(f[5:7])
	d, ok3 := n(f[8:10])
	if !ok1 || !ok2 || !ok3 {
		return 0, errInvalid
	}
	if y >= fastYear0 && y < fastYear0+len(yearStart) && m >= 1 && m <= 12 && d >= 1 {
		leap := 0
		if types.DaysInMonth(y, 2) == 29 {
			leap = 1
		}
		if d <= int(monthStart[leap][m]-monthStart[leap][m-1]) {
			return yearStart[y-fastYear0] + monthStart[leap][m-1] + int32(d) - 1, nil
		}
		return 0, errInvalid
	}
	date, err := types.DateFromCivil(y, m, d)
	if err != nil {
		return 0, errInvalid
	}
	return date, nil
}

// The dates of years [fastYear0, fastYear0+len(yearStart)) are computed from
// tables: yearStart[y-fastYear0] is January 1 of y as days since 1970, and
// monthStart[leap][m-1] the days of the months before m.
const fastYear0 = 1900

var (
	yearStart  [300]int32
	monthStart [2][13]int32
)

func init() {
	for i := range yearStart {
		d, err := types.DateFromCivil(fastYear0+i, 1, 1)
		if err != nil {
			panic("BUG: " + err.Error())
		}
		yearStart[i] = d
	}
	for leap, y := range []int{2001, 2000} {
		for m := 1; m <= 12; m++ {
			monthStart[leap][m] = monthStart[leap][m-1] + int32(types.DaysInMonth(y, m))
		}
	}
}
