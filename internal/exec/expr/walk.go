package expr

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Children returns the operands of e, in the order WithChildren takes
// them (nil-free: a CASE's missing ELSE and a SUBSTRING's missing length
// are not listed).
func Children(e Expr) []Expr {
	switch e := e.(type) {
	case *Unary:
		return []Expr{e.Arg}
	case *Binary:
		return []Expr{e.Left, e.Right}
	case *Cast:
		return []Expr{e.Arg}
	case *IsNull:
		return []Expr{e.Arg}
	case *Like:
		return []Expr{e.Arg}
	case *InList:
		return []Expr{e.Arg}
	case *Case:
		var kids []Expr
		for _, w := range e.Whens {
			kids = append(kids, w.Cond, w.Then)
		}
		return append(kids, e.Else)
	case *Coalesce:
		return append([]Expr(nil), e.Args...)
	case *Extract:
		return []Expr{e.Arg}
	case *Substring:
		if e.Length != nil {
			return []Expr{e.Arg, e.Start, e.Length}
		}
		return []Expr{e.Arg, e.Start}
	case *DateInterval:
		return []Expr{e.Arg}
	}
	return nil
}

// WithChildren returns a copy of e with its operands replaced by kids
// (as Children lists them). Each kid must have the type of the operand it
// replaces; a rewrite that changes types must rebuild the node with its
// constructor instead.
func WithChildren(e Expr, kids []Expr) Expr {
	if len(kids) != len(Children(e)) {
		panic(fmt.Sprintf("BUG: %v takes %d operands, got %d", e, len(Children(e)), len(kids)))
	}
	for i, old := range Children(e) {
		if kids[i].Type() != old.Type() {
			panic(fmt.Sprintf("BUG: operand %d of %v: %v replaced by %v", i, e, old.Type(), kids[i].Type()))
		}
	}
	switch e := e.(type) {
	case *Unary:
		c := *e
		c.Arg = kids[0]
		return &c
	case *Binary:
		c := *e
		c.Left, c.Right = kids[0], kids[1]
		return &c
	case *Cast:
		c := *e
		c.Arg = kids[0]
		return &c
	case *IsNull:
		c := *e
		c.Arg = kids[0]
		return &c
	case *Like:
		c := *e
		c.Arg = kids[0]
		return &c
	case *InList:
		c := *e
		c.Arg = kids[0]
		return &c
	case *Case:
		c := *e
		c.Whens = make([]When, len(e.Whens))
		for i := range c.Whens {
			c.Whens[i] = When{Cond: kids[2*i], Then: kids[2*i+1]}
		}
		c.Else = kids[len(kids)-1]
		return &c
	case *Coalesce:
		c := *e
		c.Args = append([]Expr(nil), kids...)
		return &c
	case *Extract:
		c := *e
		c.Arg = kids[0]
		return &c
	case *Substring:
		c := *e
		c.Arg, c.Start = kids[0], kids[1]
		if len(kids) == 3 {
			c.Length = kids[2]
		}
		return &c
	case *DateInterval:
		c := *e
		c.Arg = kids[0]
		return &c
	}
	return e // leaves
}

// Rewrite applies f bottom-up: to every operand's rewritten form first,
// then to the node rebuilt with them. f returns its argument to keep a
// node. The planner remaps column indexes with it.
func Rewrite(e Expr, f func(Expr) (Expr, error)) (Expr, error) {
	kids := Children(e)
	if len(kids) > 0 {
		changed := false
		nk := make([]Expr, len(kids))
		for i, k := range kids {
			var err error
			if nk[i], err = Rewrite(k, f); err != nil {
				return nil, err
			}
			changed = changed || nk[i] != k
		}
		if changed {
			e = WithChildren(e, nk)
		}
	}
	return f(e)
}

// Columns returns the input columns e reads, each once, in the order
// first met.
func Columns(e Expr) []int {
	var cols []int
	seen := map[int]bool{}
	var walk func(Expr)
	walk = func(e Expr) {
		if c, ok := e.(*Column); ok && !seen[c.Index] {
			seen[c.Index] = true
			cols = append(cols, c.Index)
		}
		for _, k := range Children(e) {
			walk(k)
		}
	}
	walk(e)
	return cols
}

// Fold replaces every subtree that reads no column by its value (the
// planner's constant folding), evaluating it with the same kernels as at
// run time. A subtree whose evaluation fails (1/0) is kept as it is: it
// fails when, and only if, a row reaches it.
func Fold(e Expr) Expr {
	out, _ := Rewrite(e, func(x Expr) (Expr, error) {
		if _, ok := x.(*Const); ok || !allConst(x) {
			return x, nil
		}
		ev, err := Compile(x)
		if err != nil {
			return x, nil
		}
		v := vector.New(x.Type())
		if err := ev.Eval(oneRow, v); err != nil {
			return x, nil
		}
		return &Const{Val: v.Value(0), At: x.Pos()}, nil
	})
	return out
}

// oneRow is a chunk of one row and no columns, to evaluate constants.
var oneRow = func() *vector.Chunk {
	c := vector.NewChunk([]types.Type{})
	c.SetLen(1)
	return c
}()

func allConst(e Expr) bool {
	if _, ok := e.(*Column); ok {
		return false
	}
	for _, k := range Children(e) {
		if !allConst(k) {
			return false
		}
	}
	return true
}
