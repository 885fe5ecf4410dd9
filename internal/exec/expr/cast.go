package expr

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Cast kernels, one per (from, to) pair, with the semantics of types.Cast
// (the reference the tests compare against):
//
//	from \ to        integer       DOUBLE     DECIMAL          VARCHAR   other
//	INTEGER, BIGINT  range check   exact*     ×10^s, bounded   text      BOOLEAN: ≠0
//	DECIMAL          round, range  nearest    rescale, bounded text
//	DOUBLE           round, range  —          round, bounded   text
//	BOOLEAN          0/1           —          —                text
//	DATE             —             —          —                text
//	VARCHAR          parse (trimmed) into every type
//
// (*: nearest for |v| ≥ 2^53). Rounding is half away from zero.
type castKernel struct {
	e   *Cast
	arg operand
	buf []byte
}

func compileCast(e *Cast) (kernel, error) {
	if !castable(e.Arg.Type(), e.T) {
		return nil, typeErr(e.At, e.String(), "cannot cast %v to %v", e.Arg.Type(), e.T)
	}
	arg, err := compile(e.Arg)
	return &castKernel{e: e, arg: arg}, err
}

func (k *castKernel) eval(b *batch, out *vector.Vector) error {
	x, err := k.arg.get(b)
	if err != nil {
		return err
	}
	nullsOf(out, x)
	from, to := x.Type(), k.e.T
	w := x.Validity().Words()
	fail := func(i int, err error) error {
		return errAt(k.e, fmt.Errorf("cast %v to %v: %w", x.Value(i), to, err))
	}
	switch {
	case from == to:
		copyRows(out, x, b)
		return nil
	case to.ID() == types.Varchar:
		for _, i := range b.sel {
			if isValid(w, int(i)) {
				k.buf = appendText(k.buf[:0], x, int(i))
				out.SetBytes(int(i), k.buf)
			}
		}
		return nil
	case from.ID() == types.Varchar:
		for _, i := range b.sel {
			if isValid(w, int(i)) {
				if err := parseInto(out, int(i), bytes.TrimSpace(x.Bytes(int(i)))); err != nil {
					return errAt(k.e, fmt.Errorf("cast %q to %v: %w", x.Bytes(int(i)), to, err))
				}
			}
		}
		return nil
	case from.ID() == types.Boolean:
		xs := x.Bools()
		for _, i := range b.sel {
			storeInt(out, int(i), int64(b2i(xs[i])))
		}
		return nil
	case to.ID() == types.Boolean:
		os := out.Bools()
		for _, i := range b.sel {
			os[i] = intAt(x, int(i)) != 0
		}
		return nil
	case from.ID() == types.Double:
		xs := x.Float64s()
		for _, i := range b.sel {
			if !isValid(w, int(i)) {
				continue
			}
			if err := storeFloat(out, int(i), xs[i]); err != nil {
				return fail(int(i), err)
			}
		}
		return nil
	case to.ID() == types.Double:
		os := out.Float64s()
		s := from.Scale()
		for _, i := range b.sel {
			os[i] = types.DecimalToFloat64(intAt(x, int(i)), s)
		}
		return nil
	}
	// Integer or DECIMAL to integer or DECIMAL.
	sf, st := from.Scale(), to.Scale()
	for _, i := range b.sel {
		if !isValid(w, int(i)) {
			continue
		}
		v, err := types.Rescale(intAt(x, int(i)), sf, st)
		if err == nil {
			err = checkRange(v, to)
		}
		if err != nil {
			return fail(int(i), err)
		}
		storeInt(out, int(i), v)
	}
	return nil
}

// intAt reads an integer-like slot (INTEGER, BIGINT, DECIMAL) as int64.
func intAt(v *vector.Vector, i int) int64 {
	if v.Type().Physical() == types.PhysInt32 {
		return int64(v.Int32s()[i])
	}
	return v.Int64s()[i]
}

// storeInt writes an int64 already in range into an INTEGER, BIGINT or
// DECIMAL slot.
func storeInt(v *vector.Vector, i int, x int64) {
	if v.Type().Physical() == types.PhysInt32 {
		v.Int32s()[i] = int32(x)
		return
	}
	v.Int64s()[i] = x
}

// checkRange fails with ErrOverflow if x (scaled for t) does not fit t.
func checkRange(x int64, t types.Type) error {
	switch t.ID() {
	case types.Integer:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return types.ErrOverflow
		}
	case types.Decimal:
		if b := types.DecimalBound(t); x >= b || x <= -b {
			return types.ErrOverflow
		}
	}
	return nil
}

func storeFloat(v *vector.Vector, i int, f float64) error {
	t := v.Type()
	var x int64
	if t.ID() == types.Decimal {
		var err error
		if x, err = types.Float64ToDecimal(f, t.Scale()); err != nil {
			return err
		}
	} else {
		r := math.Round(f)
		if math.IsNaN(r) || r >= 0x1p63 || r < -0x1p63 {
			return types.ErrOverflow
		}
		x = int64(r)
	}
	if err := checkRange(x, t); err != nil {
		return err
	}
	storeInt(v, i, x)
	return nil
}

// appendText appends the text form of slot i (as types.Value.String).
func appendText(dst []byte, v *vector.Vector, i int) []byte {
	t := v.Type()
	switch t.ID() {
	case types.Boolean:
		return strconv.AppendBool(dst, v.Bools()[i])
	case types.Integer:
		return strconv.AppendInt(dst, int64(v.Int32s()[i]), 10)
	case types.BigInt:
		return strconv.AppendInt(dst, v.Int64s()[i], 10)
	case types.Decimal:
		return types.AppendDecimal(dst, v.Int64s()[i], t.Scale())
	case types.Date:
		return types.AppendDate(dst, v.Int32s()[i])
	case types.Double:
		return types.AppendDoubleText(dst, v.Float64s()[i])
	}
	return append(dst, v.Bytes(i)...)
}

// parseInto parses text b into slot i of out.
func parseInto(out *vector.Vector, i int, b []byte) error {
	t := out.Type()
	// The parsers take strings and keep none of them (their errors copy
	// the text), so a view of the arena bytes saves a copy per row.
	s := unsafe.String(unsafe.SliceData(b), len(b))
	switch t.ID() {
	case types.Boolean:
		switch {
		case strings.EqualFold(s, "true"), strings.EqualFold(s, "t"):
			out.Bools()[i] = true
		case strings.EqualFold(s, "false"), strings.EqualFold(s, "f"):
			out.Bools()[i] = false
		default:
			return types.ErrSyntax
		}
	case types.Integer, types.BigInt:
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if errorsIsRange(err) {
				return types.ErrOverflow
			}
			return types.ErrSyntax
		}
		if err := checkRange(x, t); err != nil {
			return err
		}
		storeInt(out, i, x)
	case types.Decimal:
		x, err := types.ParseDecimal(s, t.Precision(), t.Scale())
		if err != nil {
			return err
		}
		out.Int64s()[i] = x
	case types.Double:
		f, err := strconv.ParseFloat(s, 64)
		switch {
		case s == "Infinity":
			f = math.Inf(1)
		case s == "-Infinity":
			f = math.Inf(-1)
		case errorsIsRange(err):
			return types.ErrOverflow
		case err != nil:
			return types.ErrSyntax
		}
		out.Float64s()[i] = f
	case types.Date:
		d, err := types.ParseDate(s)
		if err != nil {
			return err
		}
		out.Int32s()[i] = d
	}
	return nil
}

func errorsIsRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
