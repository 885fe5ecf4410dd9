package prevail

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// VarKind says what a constraint variable belongs to.
type VarKind uint8

// The kinds of variables.
const (
	VarRegister VarKind = iota // rN.field
	VarStack                   // s[lo...hi].field: bytes lo to hi of the stack
	VarGlobal                  // packet_size, meta_offset
)

var varKindNames = [...]string{VarRegister: "register", VarStack: "stack", VarGlobal: "global"}

func (k VarKind) String() string {
	if int(k) < len(varKindNames) {
		return varKindNames[k]
	}
	return fmt.Sprintf("VarKind(%d)", uint8(k))
}

// Var is a variable of PREVAIL's abstract state.
//
//	r1.type   r1.svalue   r1.uvalue   r1.ctx_offset   r1.stack_offset
//	r1.packet_offset   r1.shared_offset   r1.shared_region_size
//	r1.stack_numeric_size   r1.map_fd   r1.map_fd_programs
//	s[504...511].type   s[504].svalue   packet_size   meta_offset
type Var struct {
	Kind   VarKind
	Reg    int    // VarRegister: 0 to 10
	Lo, Hi int    // VarStack: the byte range [Lo, Hi] (s[N] is [N, N])
	Field  string // the field, or for VarGlobal the name
}

func (v Var) String() string {
	switch v.Kind {
	case VarRegister:
		return fmt.Sprintf("r%d.%s", v.Reg, v.Field)
	case VarStack:
		if v.Lo == v.Hi {
			return fmt.Sprintf("s[%d].%s", v.Lo, v.Field)
		}
		return fmt.Sprintf("s[%d...%d].%s", v.Lo, v.Hi, v.Field)
	}
	return v.Field
}

// ValueKind says what a constraint's right-hand side is.
type ValueKind uint8

// The kinds of right-hand sides.
const (
	ValueNumber ValueKind = iota // a number or an interval: Lo and Hi
	ValueTypes                   // type names: r1.type=ctx, r1.type in {ctx, packet}
	ValueVar                     // another variable: r1.uvalue=r1.svalue
)

var valueKindNames = [...]string{ValueNumber: "number", ValueTypes: "types", ValueVar: "var"}

func (k ValueKind) String() string {
	if int(k) < len(valueKindNames) {
		return valueKindNames[k]
	}
	return fmt.Sprintf("ValueKind(%d)", uint8(k))
}

// Constraint is one parsed `pre` string: Var = value or Var in {types}.
type Constraint struct {
	Raw   string // as written
	Var   Var    // the constrained variable
	Value string // the right-hand side as written

	Kind ValueKind

	// ValueNumber: the interval [Lo, Hi], from a number N ([N, N]) or
	// [lo, hi]; nil stands for -oo (Lo) or +oo (Hi). Values need up to 64
	// unsigned bits (uvalue) or 64 signed bits (svalue).
	Lo, Hi *big.Int

	Types []string // ValueTypes: ctx, stack, packet, shared, number, map_fd, ...
	Other Var      // ValueVar
}

// String returns the constraint as written.
func (c Constraint) String() string { return c.Raw }

// globals are the variables that belong to no register or stack range.
var globals = map[string]bool{"packet_size": true, "meta_offset": true}

// ParseConstraint parses a constraint of the forms `pre` uses:
//
//	r1.type=ctx   r1.type in {ctx, packet}   r1.type=r2.type
//	r1.svalue=-5   r1.uvalue=[0, 18446744073709551615]   r1.svalue=[-oo, 5]
//	r1.uvalue=r1.svalue   r2.packet_offset=packet_size   packet_size=[0, 64]
//	s[504...511].type=number   s[504].svalue=1
func ParseConstraint(s string) (Constraint, error) {
	c := Constraint{Raw: s}
	fail := func(err error) (Constraint, error) {
		return Constraint{}, fmt.Errorf("constraint %q: %w", s, err)
	}
	left, right, isIn := strings.Cut(s, " in ")
	if !isIn {
		var ok bool
		if left, right, ok = strings.Cut(s, "="); !ok {
			return fail(errors.New("want VAR=VALUE or VAR in {TYPES}"))
		}
	}
	left, right = strings.TrimSpace(left), strings.TrimSpace(right)
	v, err := parseVar(left)
	if err != nil {
		return fail(err)
	}
	c.Var, c.Value = v, right
	if isIn {
		inner, ok := strings.CutPrefix(right, "{")
		if ok {
			inner, ok = strings.CutSuffix(inner, "}")
		}
		if !ok || v.Field != "type" {
			return fail(errors.New("`in` takes a type variable and a set {a, b}"))
		}
		c.Kind = ValueTypes
		for _, t := range strings.Split(inner, ",") {
			t = strings.TrimSpace(t)
			if !isName(t) {
				return fail(fmt.Errorf("invalid type name %q", t))
			}
			c.Types = append(c.Types, t)
		}
		return c, nil
	}
	if other, err := parseVar(right); err == nil {
		c.Kind, c.Other = ValueVar, other
		return c, nil
	}
	if v.Field == "type" {
		if !isName(right) {
			return fail(fmt.Errorf("invalid type name %q", right))
		}
		c.Kind, c.Types = ValueTypes, []string{right}
		return c, nil
	}
	c.Kind = ValueNumber
	if inner, ok := strings.CutPrefix(right, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		lo, hi, comma := strings.Cut(inner, ",")
		if !ok || !comma {
			return fail(fmt.Errorf("invalid interval %q: want [lo, hi]", right))
		}
		if c.Lo, err = parseBound(strings.TrimSpace(lo), "-oo"); err != nil {
			return fail(err)
		}
		if c.Hi, err = parseBound(strings.TrimSpace(hi), "+oo"); err != nil {
			return fail(err)
		}
		if c.Lo != nil && c.Hi != nil && c.Lo.Cmp(c.Hi) > 0 {
			return fail(fmt.Errorf("empty interval %q", right))
		}
		return c, nil
	}
	n, ok := new(big.Int).SetString(right, 10)
	if !ok {
		return fail(fmt.Errorf("invalid value %q: want a number, [lo, hi] or a variable", right))
	}
	c.Lo, c.Hi = n, n
	return c, nil
}

// parseBound parses an interval bound: a decimal number or the infinity
// inf, which returns nil.
func parseBound(s, inf string) (*big.Int, error) {
	if s == inf || s == strings.TrimPrefix(inf, "+") {
		return nil, nil
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("invalid interval bound %q", s)
	}
	return n, nil
}

// parseVar parses rN.field, s[lo...hi].field, s[n].field or a global.
func parseVar(s string) (Var, error) {
	if globals[s] {
		return Var{Kind: VarGlobal, Field: s}, nil
	}
	base, field, ok := strings.Cut(s, ".")
	if rest, isStack := strings.CutPrefix(s, "s["); isStack {
		var rng string
		rng, field, ok = strings.Cut(rest, "].")
		if !ok {
			return Var{}, fmt.Errorf("invalid stack variable %q: want s[lo...hi].field", s)
		}
		loText, hiText, isRange := strings.Cut(rng, "...")
		if !isRange {
			hiText = loText
		}
		lo, err1 := strconv.Atoi(loText)
		hi, err2 := strconv.Atoi(hiText)
		if err1 != nil || err2 != nil || lo < 0 || hi < lo {
			return Var{}, fmt.Errorf("invalid stack range %q", rng)
		}
		if !isName(field) {
			return Var{}, fmt.Errorf("invalid field %q", field)
		}
		return Var{Kind: VarStack, Lo: lo, Hi: hi, Field: field}, nil
	}
	if !ok || len(base) < 2 || base[0] != 'r' || !isName(field) {
		return Var{}, fmt.Errorf("invalid variable %q: want rN.field, s[lo...hi].field, packet_size or meta_offset", s)
	}
	reg, err := strconv.Atoi(base[1:])
	if err != nil || reg < 0 || reg > 10 || strconv.Itoa(reg) != base[1:] {
		return Var{}, fmt.Errorf("invalid register %q", base)
	}
	return Var{Kind: VarRegister, Reg: reg, Field: field}, nil
}

// isName reports whether s is a non-empty run of lower-case letters, digits
// and '_' starting with a letter.
func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
