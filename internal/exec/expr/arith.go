package expr

import (
	"bytes"
	"math"
	"math/bits"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Kernels of the binary operators, by the operands' physical type:
//
//	arithmetic   int32 (checked), int64 (checked), float64, DECIMAL
//	             (scaled int64: rescaled, exact, bounded by 10^p)
//	comparison   int32, int64 (also DATE, DECIMAL), float64 (NaN
//	             largest), bool, string (bytewise)
//	dates        DATE ± BIGINT days, DATE − DATE
//	logic        AND, OR (three-valued)
//	||           string concatenation
//
// A kernel that can fail computes every row, even NULL ones, then looks
// for a failing row that is not NULL only if some row failed: the common
// case pays one OR per row.

// binLoop applies f to the valid rows of the batch; it returns the slot of
// the first valid row where f failed, or -1.
func binLoop[A, B, R vector.Fixed](b *batch, x []A, y []B, out []R, xw, yw []uint64, f func(A, B) (R, bool)) int {
	for _, i := range b.sel {
		if !isValid(xw, int(i)) || !isValid(yw, int(i)) {
			continue
		}
		v, ok := f(x[i], y[i])
		if !ok {
			return int(i)
		}
		out[i] = v
	}
	return -1
}

type binaryKernel struct {
	e    *Binary
	l, r operand
	run  func(k *binaryKernel, b *batch, x, y, out *vector.Vector) error
	// DECIMAL add/sub: operand factors to the result scale and the bound
	// 10^precision the result must stay below.
	fl, fr, bound int64
	rs, sl, sr    int
	buf           []byte // || scratch
}

func (k *binaryKernel) eval(b *batch, out *vector.Vector) error {
	x, err := k.l.get(b)
	if err != nil {
		return err
	}
	y, err := k.r.get(b)
	if err != nil {
		return err
	}
	if k.e.Op != OpAnd && k.e.Op != OpOr {
		nullsOf(out, x, y)
	}
	return k.run(k, b, x, y, out)
}

// fail returns the kernel's error for a failing row.
func (k *binaryKernel) fail(err error) error { return errAt(k.e, err) }

func compileBinary(e *Binary) (kernel, error) {
	ops, err := compileAll(e.Left, e.Right)
	if err != nil {
		return nil, err
	}
	k := &binaryKernel{e: e, l: ops[0], r: ops[1]}
	lt := e.Left.Type()
	switch {
	case e.Op.isComparison() && lt != e.Right.Type():
		k.sl, k.sr = lt.Scale(), e.Right.Type().Scale()
		k.run = (*binaryKernel).compareScaled
	case e.Op.isComparison():
		k.run = compareRun(lt.Physical())
	case e.Op == OpAnd || e.Op == OpOr:
		k.run = (*binaryKernel).logic
	case e.Op == OpConcat:
		k.run = (*binaryKernel).concat
	case lt.ID() == types.Date && e.Right.Type().ID() == types.Date:
		k.run = (*binaryKernel).dateDiff
	case lt.ID() == types.Date:
		k.run = (*binaryKernel).dateAdd
	case e.T.ID() == types.Integer:
		k.run = (*binaryKernel).int32Arith
	case e.T.ID() == types.BigInt:
		k.run = (*binaryKernel).int64Arith
	case e.T.ID() == types.Double:
		k.run = (*binaryKernel).floatArith
	case e.T.ID() == types.Decimal:
		k.rs, k.sl, k.sr = e.T.Scale(), lt.Scale(), e.Right.Type().Scale()
		k.fl, k.fr = types.Pow10(k.rs-k.sl), types.Pow10(k.rs-k.sr)
		k.bound = types.DecimalBound(e.T)
		if e.Op == OpMul {
			k.run = (*binaryKernel).decimalMul
		} else {
			k.run = (*binaryKernel).decimalAdd
		}
	default:
		return nil, typeErr(e.At, e.String(), "no kernel for %v on %v", e.Op, lt)
	}
	return k, nil
}

func (k *binaryKernel) int64Arith(b *batch, x, y, out *vector.Vector) error {
	xs, ys, os := x.Int64s(), y.Int64s(), out.Int64s()
	var ovf int64
	switch k.e.Op {
	case OpAdd:
		for _, i := range b.sel {
			a, c := xs[i], ys[i]
			s := a + c
			ovf |= (a ^ s) & (c ^ s) // sign flipped against both operands
			os[i] = s
		}
	case OpSub:
		for _, i := range b.sel {
			a, c := xs[i], ys[i]
			s := a - c
			ovf |= (a ^ c) & (a ^ s)
			os[i] = s
		}
	case OpMul:
		var bad uint64
		for _, i := range b.sel {
			a, c := xs[i], ys[i]
			hi, lo := bits.Mul64(abs(a), abs(c))
			v := int64(lo)
			if (a ^ c) < 0 {
				v = -v
			}
			// The magnitude must fit 63 bits (2^63 itself only when
			// negative; the checked path sorts that case out).
			bad |= hi | lo>>63
			os[i] = v
		}
		if bad != 0 {
			return k.checked64(b, x, y, out)
		}
		return nil
	default:
		return k.checked64(b, x, y, out)
	}
	if ovf < 0 {
		return k.checked64(b, x, y, out)
	}
	return nil
}

// checked64 is the row-at-a-time path of BIGINT arithmetic that names
// the failing row's cause.
func (k *binaryKernel) checked64(b *batch, x, y, out *vector.Vector) error {
	var err error
	f := func(a, c int64) (int64, bool) {
		var v int64
		switch k.e.Op {
		case OpAdd:
			v, err = types.AddChecked(a, c)
		case OpSub:
			v, err = types.SubChecked(a, c)
		case OpMul:
			v, err = types.MulChecked(a, c)
		case OpIntDiv, OpMod:
			switch {
			case c == 0:
				err = types.ErrDivisionByZero
			case c == -1 && a == math.MinInt64:
				if k.e.Op == OpMod {
					return 0, true
				}
				err = types.ErrOverflow
			case k.e.Op == OpIntDiv:
				v = a / c
			default:
				v = a % c
			}
		}
		return v, err == nil
	}
	if binLoop(b, x.Int64s(), y.Int64s(), out.Int64s(), x.Validity().Words(), y.Validity().Words(), f) >= 0 {
		return k.fail(err)
	}
	return nil
}

func (k *binaryKernel) int32Arith(b *batch, x, y, out *vector.Vector) error {
	var err error
	f := func(a, c int32) (int32, bool) {
		var v int64
		switch k.e.Op {
		case OpAdd:
			v = int64(a) + int64(c)
		case OpSub:
			v = int64(a) - int64(c)
		case OpMul:
			v = int64(a) * int64(c)
		case OpIntDiv, OpMod:
			if c == 0 {
				err = types.ErrDivisionByZero
				return 0, false
			}
			if k.e.Op == OpIntDiv {
				v = int64(a) / int64(c)
			} else {
				v = int64(a) % int64(c)
			}
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			err = types.ErrOverflow
			return 0, false
		}
		return int32(v), true
	}
	if binLoop(b, x.Int32s(), y.Int32s(), out.Int32s(), x.Validity().Words(), y.Validity().Words(), f) >= 0 {
		return k.fail(err)
	}
	return nil
}

func (k *binaryKernel) floatArith(b *batch, x, y, out *vector.Vector) error {
	xs, ys, os := x.Float64s(), y.Float64s(), out.Float64s()
	switch k.e.Op {
	case OpAdd:
		for _, i := range b.sel {
			os[i] = xs[i] + ys[i]
		}
	case OpSub:
		for _, i := range b.sel {
			os[i] = xs[i] - ys[i]
		}
	case OpMul:
		for _, i := range b.sel {
			os[i] = xs[i] * ys[i]
		}
	case OpDiv:
		yw := y.Validity().Words()
		for _, i := range b.sel {
			if ys[i] == 0 && isValid(yw, int(i)) && isValid(x.Validity().Words(), int(i)) {
				return k.fail(types.ErrDivisionByZero)
			}
			os[i] = xs[i] / ys[i]
		}
	}
	return nil
}

// decimalMul multiplies scaled integers exactly: the result scale is the
// sum of the operands' scales, so only the bound can fail.
func (k *binaryKernel) decimalMul(b *batch, x, y, out *vector.Vector) error {
	xs, ys, os := x.Int64s(), y.Int64s(), out.Int64s()
	bound := uint64(k.bound)
	var bad uint64
	for _, i := range b.sel {
		a, c := xs[i], ys[i]
		hi, lo := bits.Mul64(abs(a), abs(c))
		bad |= hi
		if lo >= bound {
			bad |= 1
		}
		v := int64(lo)
		if (a ^ c) < 0 {
			v = -v
		}
		os[i] = v
	}
	if bad == 0 {
		return nil
	}
	xw, yw := x.Validity().Words(), y.Validity().Words()
	for _, i := range b.sel {
		if !isValid(xw, int(i)) || !isValid(yw, int(i)) {
			continue
		}
		hi, lo := bits.Mul64(abs(xs[i]), abs(ys[i]))
		if hi != 0 || lo >= bound {
			return k.fail(types.ErrOverflow)
		}
	}
	return nil
}

func abs(v int64) uint64 {
	if v < 0 {
		return uint64(-v) // MinInt64 maps to 2^63, still the magnitude
	}
	return uint64(v)
}

// decimalAdd adds or subtracts after scaling both operands to the result
// scale. When scaling cannot overflow (each operand's precision plus its
// scale-up is at most 18 digits, so both terms and their sum fit an
// int64), one loop computes every row and ORs an out-of-bound flag; only
// if that is set does the checked loop find the failing row (or find that
// only NULL slots' garbage tripped it).
func (k *binaryKernel) decimalAdd(b *batch, x, y, out *vector.Vector) error {
	lt, rt := k.e.Left.Type(), k.e.Right.Type()
	if lt.Precision()+k.rs-k.sl <= types.MaxDecimalPrecision && rt.Precision()+k.rs-k.sr <= types.MaxDecimalPrecision {
		xs, ys, os := x.Int64s(), y.Int64s(), out.Int64s()
		fl, fr, bound := k.fl, k.fr, k.bound
		if k.e.Op == OpSub {
			fr = -fr
		}
		// v is in (-bound, bound) when v+bound-1 < 2·bound-1 unsigned
		// (no overflow: each term fits 18 digits).
		lim := uint64(2*bound - 1)
		bad := 0
		if k.l.col < 0 && k.l.k == nil && x.Validity().Words() == nil {
			// A constant left operand (1 - l_discount): one product.
			c := xs[0]*fl + bound - 1
			for _, i := range b.sel {
				v := c + ys[i]*fr
				bad |= b2i(uint64(v) >= lim)
				os[i] = v - bound + 1
			}
		} else {
			for _, i := range b.sel {
				v := xs[i]*fl + ys[i]*fr
				bad |= b2i(uint64(v+bound-1) >= lim)
				os[i] = v
			}
		}
		if bad == 0 {
			return nil
		}
	}
	return k.decimalAddChecked(b, x, y, out)
}

func (k *binaryKernel) decimalAddChecked(b *batch, x, y, out *vector.Vector) error {
	var err error
	sub := k.e.Op == OpSub
	f := func(a, c int64) (int64, bool) {
		if k.fl != 1 {
			if a, err = types.MulChecked(a, k.fl); err != nil {
				return 0, false
			}
		}
		if k.fr != 1 {
			if c, err = types.MulChecked(c, k.fr); err != nil {
				return 0, false
			}
		}
		var v int64
		if sub {
			v, err = types.SubChecked(a, c)
		} else {
			v, err = types.AddChecked(a, c)
		}
		if err == nil && (v >= k.bound || v <= -k.bound) {
			err = types.ErrOverflow
		}
		return v, err == nil
	}
	if binLoop(b, x.Int64s(), y.Int64s(), out.Int64s(), x.Validity().Words(), y.Validity().Words(), f) >= 0 {
		return k.fail(err)
	}
	return nil
}

func (k *binaryKernel) dateAdd(b *batch, x, y, out *vector.Vector) error {
	var err error
	sub := k.e.Op == OpSub
	f := func(d int32, n int64) (int32, bool) {
		if sub {
			if n == math.MinInt64 {
				err = types.ErrOverflow
				return 0, false
			}
			n = -n
		}
		var v int32
		v, err = types.AddDays(d, n)
		return v, err == nil
	}
	if binLoop(b, x.Int32s(), y.Int64s(), out.Int32s(), x.Validity().Words(), y.Validity().Words(), f) >= 0 {
		return k.fail(err)
	}
	return nil
}

func (k *binaryKernel) dateDiff(b *batch, x, y, out *vector.Vector) error {
	xs, ys, os := x.Int32s(), y.Int32s(), out.Int64s()
	for _, i := range b.sel {
		os[i] = int64(xs[i]) - int64(ys[i])
	}
	return nil
}

func (k *binaryKernel) concat(b *batch, x, y, out *vector.Vector) error {
	w := out.Validity().Words()
	for _, i := range b.sel {
		if !isValid(w, int(i)) {
			continue
		}
		k.buf = append(append(k.buf[:0], x.Bytes(int(i))...), y.Bytes(int(i))...)
		out.SetBytes(int(i), k.buf)
	}
	return nil
}

// logic is three-valued AND/OR: the result is known (false for AND, true
// for OR) as soon as one side is valid and has that value, else NULL if
// either side is NULL.
func (k *binaryKernel) logic(b *batch, x, y, out *vector.Vector) error {
	xs, ys, os := x.Bools(), y.Bools(), out.Bools()
	xw, yw := x.Validity().Words(), y.Validity().Words()
	and := k.e.Op == OpAnd
	if xw == nil && yw == nil {
		if and {
			for _, i := range b.sel {
				os[i] = xs[i] && ys[i]
			}
		} else {
			for _, i := range b.sel {
				os[i] = xs[i] || ys[i]
			}
		}
		return nil
	}
	ov := out.Validity()
	for _, i := range b.sel {
		xv, yv := isValid(xw, int(i)), isValid(yw, int(i))
		a, c := xs[i], ys[i]
		switch {
		case xv && yv:
			if and {
				os[i] = a && c
			} else {
				os[i] = a || c
			}
		case xv && a != and, yv && c != and: // a dominating value
			os[i] = !and
		default:
			ov.SetNull(int(i))
		}
	}
	return nil
}

// compareRun picks the comparison loop for a physical type.
func compareRun(p types.Physical) func(k *binaryKernel, b *batch, x, y, out *vector.Vector) error {
	switch p {
	case types.PhysInt32:
		return func(k *binaryKernel, b *batch, x, y, out *vector.Vector) error {
			cmpOrdered(k.e.Op, b.sel, x.Int32s(), y.Int32s(), out.Bools())
			return nil
		}
	case types.PhysInt64:
		return func(k *binaryKernel, b *batch, x, y, out *vector.Vector) error {
			cmpOrdered(k.e.Op, b.sel, x.Int64s(), y.Int64s(), out.Bools())
			return nil
		}
	case types.PhysFloat64:
		return func(k *binaryKernel, b *batch, x, y, out *vector.Vector) error {
			xs, ys, os := x.Float64s(), y.Float64s(), out.Bools()
			for _, i := range b.sel {
				os[i] = cmpResult(k.e.Op, cmpFloat(xs[i], ys[i]))
			}
			return nil
		}
	case types.PhysBool:
		return func(k *binaryKernel, b *batch, x, y, out *vector.Vector) error {
			xs, ys, os := x.Bools(), y.Bools(), out.Bools()
			for _, i := range b.sel {
				os[i] = cmpResult(k.e.Op, b2i(xs[i])-b2i(ys[i]))
			}
			return nil
		}
	}
	return func(k *binaryKernel, b *batch, x, y, out *vector.Vector) error {
		os := out.Bools()
		w := out.Validity().Words()
		for _, i := range b.sel {
			if isValid(w, int(i)) {
				os[i] = cmpResult(k.e.Op, bytes.Compare(x.Bytes(int(i)), y.Bytes(int(i))))
			}
		}
		return nil
	}
}

// compareScaled compares DECIMALs of different scales exactly: the side
// with the smaller scale is multiplied up in 128 bits.
func (k *binaryKernel) compareScaled(b *batch, x, y, out *vector.Vector) error {
	xs, ys, os := x.Int64s(), y.Int64s(), out.Bools()
	op := k.e.Op
	if k.sl > k.sr {
		f := uint64(types.Pow10(k.sl - k.sr))
		for _, i := range b.sel {
			os[i] = cmpResult(op, -cmpUp(ys[i], f, xs[i]))
		}
		return nil
	}
	f := uint64(types.Pow10(k.sr - k.sl))
	for _, i := range b.sel {
		os[i] = cmpResult(op, cmpUp(xs[i], f, ys[i]))
	}
	return nil
}

// cmpUp compares a×f with c exactly (f > 0).
func cmpUp(a int64, f uint64, c int64) int {
	hi, lo := bits.Mul64(abs(a), f)
	if hi != 0 || lo > math.MaxInt64 {
		// |a×f| ≥ 2^63 > |c| (except c = MinInt64 against −2^63, which
		// a×f cannot equal: f is a power of ten).
		if a < 0 {
			return -1
		}
		return 1
	}
	v := int64(lo)
	if a < 0 {
		v = -v
	}
	switch {
	case v < c:
		return -1
	case v > c:
		return 1
	}
	return 0
}

// cmpFloat orders doubles as SQL does: NaN equals NaN and is above every
// number; -0 equals +0.
func cmpFloat(a, b float64) int {
	switch an, bn := a != a, b != b; {
	case an || bn:
		return b2i(an) - b2i(bn)
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpResult(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	}
	return c >= 0
}

// cmpOrdered is the integer comparison loop, one loop per operator.
func cmpOrdered[T int32 | int64](op Op, sel vector.Selection, x, y []T, out []bool) {
	switch op {
	case OpEq:
		for _, i := range sel {
			out[i] = x[i] == y[i]
		}
	case OpNe:
		for _, i := range sel {
			out[i] = x[i] != y[i]
		}
	case OpLt:
		for _, i := range sel {
			out[i] = x[i] < y[i]
		}
	case OpLe:
		for _, i := range sel {
			out[i] = x[i] <= y[i]
		}
	case OpGt:
		for _, i := range sel {
			out[i] = x[i] > y[i]
		}
	case OpGe:
		for _, i := range sel {
			out[i] = x[i] >= y[i]
		}
	}
}

type unaryKernel struct {
	e   *Unary
	arg operand
}

func compileUnary(e *Unary) (kernel, error) {
	arg, err := compile(e.Arg)
	return &unaryKernel{e: e, arg: arg}, err
}

func (k *unaryKernel) eval(b *batch, out *vector.Vector) error {
	x, err := k.arg.get(b)
	if err != nil {
		return err
	}
	nullsOf(out, x)
	w := x.Validity().Words()
	switch x.Type().Physical() {
	case types.PhysBool:
		xs, os := x.Bools(), out.Bools()
		for _, i := range b.sel {
			os[i] = !xs[i]
		}
	case types.PhysInt32:
		xs, os := x.Int32s(), out.Int32s()
		for _, i := range b.sel {
			if xs[i] == math.MinInt32 && isValid(w, int(i)) {
				return errAt(k.e, types.ErrOverflow)
			}
			os[i] = -xs[i]
		}
	case types.PhysInt64:
		xs, os := x.Int64s(), out.Int64s()
		for _, i := range b.sel {
			if xs[i] == math.MinInt64 && isValid(w, int(i)) {
				return errAt(k.e, types.ErrOverflow)
			}
			os[i] = -xs[i]
		}
	case types.PhysFloat64:
		xs, os := x.Float64s(), out.Float64s()
		for _, i := range b.sel {
			os[i] = -xs[i]
		}
	}
	return nil
}
