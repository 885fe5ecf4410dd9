package expr

import (
	"bytes"
	"cmp"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// A selector is a filter kernel that writes the slots of the rows it keeps
// straight into a selection, without a BOOLEAN vector in between. Filters
// use one for each AND operand of these shapes (either operand order):
//
//	x op constant     x INTEGER, BIGINT, DATE or DECIMAL; op any comparison
//	x op y            both of one such type (l_commitdate < l_receiptdate)
//	x = / <> 'text'   x VARCHAR
//
// Other operands go through their kernel and compact.
type selector interface {
	// selectRows writes the kept slots of b's rows to out, in order, and
	// returns how many. out may alias b.sel.
	selectRows(b *batch, out vector.Selection) (int, error)
}

// flip mirrors a comparison for swapped operands: c < x is x > c.
func flip(op Op) Op {
	switch op {
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	}
	return op
}

// compileSelector returns a selector for e, or nil if e has no such shape.
func compileSelector(e Expr) (selector, error) {
	bin, ok := e.(*Binary)
	if !ok || !bin.Op.isComparison() || bin.Left.Type() != bin.Right.Type() {
		return nil, nil
	}
	x, c, op := bin.Left, bin.Right, bin.Op
	if _, ok := x.(*Const); ok {
		x, c, op = c, x, flip(op)
	}
	k, ok := c.(*Const)
	if !ok {
		return compileColSelector(x, c, op)
	}
	if k.Val.IsNull() {
		return nil, nil
	}
	arg, err := compile(x)
	if err != nil {
		return nil, err
	}
	switch x.Type().Physical() {
	case types.PhysInt32:
		return &cmpConstSel[int32]{arg: arg, op: op, c: int32(k.Val.Int64())}, nil
	case types.PhysInt64:
		return &cmpConstSel[int64]{arg: arg, op: op, c: k.Val.Int64()}, nil
	case types.PhysString:
		if op == OpEq || op == OpNe {
			return &strEqSel{arg: arg, eq: op == OpEq, c: []byte(k.Val.Str())}, nil
		}
	}
	return nil, nil
}

type cmpConstSel[T int32 | int64] struct {
	arg operand
	op  Op
	c   T
}

func (s *cmpConstSel[T]) selectRows(b *batch, out vector.Selection) (int, error) {
	x, err := s.arg.get(b)
	if err != nil {
		return 0, err
	}
	xs, c, k := vector.Data[T](x), s.c, 0
	if w := x.Validity().Words(); w != nil {
		for _, i := range b.sel {
			out[k] = i
			k += b2i(isValid(w, int(i)) && cmpResult(s.op, cmp.Compare(xs[i], c)))
		}
		return k, nil
	}
	switch s.op {
	case OpEq:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] == c)
		}
	case OpNe:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] != c)
		}
	case OpLt:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] < c)
		}
	case OpLe:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] <= c)
		}
	case OpGt:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] > c)
		}
	case OpGe:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] >= c)
		}
	}
	return k, nil
}

type strEqSel struct {
	arg operand
	eq  bool
	c   []byte
}

func (s *strEqSel) selectRows(b *batch, out vector.Selection) (int, error) {
	x, err := s.arg.get(b)
	if err != nil {
		return 0, err
	}
	w := x.Validity().Words()
	strs, arena, k := x.Strs(), x.Arena(), 0
	for _, i := range b.sel {
		out[k] = i
		if !isValid(w, int(i)) {
			continue
		}
		h := strs[i]
		k += b2i((int(h.Len) == len(s.c) && bytes.Equal(arena[h.Off:h.Off+h.Len], s.c)) == s.eq)
	}
	return k, nil
}

// compileColSelector returns a selector comparing two non-constant
// integer-like operands of one type, or nil.
func compileColSelector(x, y Expr, op Op) (selector, error) {
	p := x.Type().Physical()
	if p != types.PhysInt32 && p != types.PhysInt64 {
		return nil, nil
	}
	ops, err := compileAll(x, y)
	if err != nil {
		return nil, err
	}
	if p == types.PhysInt32 {
		return &cmpColSel[int32]{x: ops[0], y: ops[1], op: op}, nil
	}
	return &cmpColSel[int64]{x: ops[0], y: ops[1], op: op}, nil
}

type cmpColSel[T int32 | int64] struct {
	x, y operand
	op   Op
}

func (s *cmpColSel[T]) selectRows(b *batch, out vector.Selection) (int, error) {
	xv, err := s.x.get(b)
	if err != nil {
		return 0, err
	}
	yv, err := s.y.get(b)
	if err != nil {
		return 0, err
	}
	xs, ys, k := vector.Data[T](xv), vector.Data[T](yv), 0
	xw, yw := xv.Validity().Words(), yv.Validity().Words()
	if xw != nil || yw != nil {
		for _, i := range b.sel {
			out[k] = i
			k += b2i(isValid(xw, int(i)) && isValid(yw, int(i)) && cmpResult(s.op, cmp.Compare(xs[i], ys[i])))
		}
		return k, nil
	}
	switch s.op {
	case OpEq:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] == ys[i])
		}
	case OpNe:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] != ys[i])
		}
	case OpLt:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] < ys[i])
		}
	case OpLe:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] <= ys[i])
		}
	case OpGt:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] > ys[i])
		}
	case OpGe:
		for _, i := range b.sel {
			out[k] = i
			k += b2i(xs[i] >= ys[i])
		}
	}
	return k, nil
}
