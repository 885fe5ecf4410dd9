package prevail_test

import (
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/internal/prevail"
)

func TestParseConstraint(t *testing.T) {
	reg := func(n int, f string) prevail.Var { return prevail.Var{Kind: prevail.VarRegister, Reg: n, Field: f} }
	tests := []struct {
		raw   string
		v     string // Var.String()
		kind  prevail.ValueKind
		lo    string // "" is nil (unbounded)
		hi    string
		types []string
		other string
	}{
		{"r1.type=ctx", "r1.type", prevail.ValueTypes, "", "", []string{"ctx"}, ""},
		{"r1.type in {ctx, packet}", "r1.type", prevail.ValueTypes, "", "", []string{"ctx", "packet"}, ""},
		{"r0.type in {number, ctx}", "r0.type", prevail.ValueTypes, "", "", []string{"number", "ctx"}, ""},
		{"r2.type in {ctx,packet}", "r2.type", prevail.ValueTypes, "", "", []string{"ctx", "packet"}, ""},
		{"r1.type=r2.type", "r1.type", prevail.ValueVar, "", "", nil, "r2.type"},
		{"r1.svalue=-5", "r1.svalue", prevail.ValueNumber, "-5", "-5", nil, ""},
		{"r1.uvalue=18446744073709551615", "r1.uvalue", prevail.ValueNumber, "18446744073709551615", "18446744073709551615", nil, ""},
		{"r1.svalue=[-9223372036854775808, 9223372036854775807]", "r1.svalue", prevail.ValueNumber, "-9223372036854775808", "9223372036854775807", nil, ""},
		{"r1.svalue=[-oo, 5]", "r1.svalue", prevail.ValueNumber, "", "5", nil, ""},
		{"r1.svalue=[5, +oo]", "r1.svalue", prevail.ValueNumber, "5", "", nil, ""},
		{"r10.stack_offset=[4096,4100]", "r10.stack_offset", prevail.ValueNumber, "4096", "4100", nil, ""},
		{"r1.uvalue=r1.svalue", "r1.uvalue", prevail.ValueVar, "", "", nil, "r1.svalue"},
		{"r2.packet_offset=packet_size", "r2.packet_offset", prevail.ValueVar, "", "", nil, "packet_size"},
		{"meta_offset=r1.packet_offset", "meta_offset", prevail.ValueVar, "", "", nil, "r1.packet_offset"},
		{"packet_size=[0, 64]", "packet_size", prevail.ValueNumber, "0", "64", nil, ""},
		{"meta_offset=-4", "meta_offset", prevail.ValueNumber, "-4", "-4", nil, ""},
		{"s[504...511].type=number", "s[504...511].type", prevail.ValueTypes, "", "", []string{"number"}, ""},
		{"s[504].svalue=120", "s[504].svalue", prevail.ValueNumber, "120", "120", nil, ""},
		{"r1.shared_region_size=4", "r1.shared_region_size", prevail.ValueNumber, "4", "4", nil, ""},
	}
	for _, tt := range tests {
		c, err := prevail.ParseConstraint(tt.raw)
		if err != nil {
			t.Errorf("ParseConstraint(%q): %v", tt.raw, err)
			continue
		}
		bound := func(b *big.Int) string {
			if b == nil {
				return ""
			}
			return b.String()
		}
		if c.Raw != tt.raw || c.String() != tt.raw || c.Var.String() != tt.v || c.Kind != tt.kind ||
			bound(c.Lo) != tt.lo || bound(c.Hi) != tt.hi || !slices.Equal(c.Types, tt.types) ||
			(tt.other != "" && c.Other.String() != tt.other) {
			t.Errorf("ParseConstraint(%q) = %+v", tt.raw, c)
		}
	}
	c, _ := prevail.ParseConstraint("r7.ctx_offset=0")
	if c.Var != reg(7, "ctx_offset") || c.Value != "0" {
		t.Errorf("r7.ctx_offset=0: %+v", c)
	}
}

func TestParseConstraintErrors(t *testing.T) {
	for raw, want := range map[string]string{
		"r1.type":                 "want VAR=VALUE or VAR in {TYPES}",
		"r11.type=ctx":            `invalid register "r11"`,
		"r01.type=ctx":            `invalid register "r01"`,
		"x.type=ctx":              `invalid variable "x.type": want rN.field, s[lo...hi].field, packet_size or meta_offset`,
		"r1.type=Ctx":             `invalid type name "Ctx"`,
		"r1.svalue in {ctx}":      "`in` takes a type variable and a set {a, b}",
		"r1.type in ctx":          "`in` takes a type variable and a set {a, b}",
		"r1.type in {ctx, }":      `invalid type name ""`,
		"r1.svalue=[1, 2":         `invalid interval "[1, 2": want [lo, hi]`,
		"r1.svalue=[3, 2]":        `empty interval "[3, 2]"`,
		"r1.svalue=[a, 2]":        `invalid interval bound "a"`,
		"r1.svalue=0x10":          `invalid value "0x10": want a number, [lo, hi] or a variable`,
		"s[5...4].type=number":    `invalid stack range "5...4"`,
		"s[504...511]type=number": `invalid stack variable "s[504...511]type": want s[lo...hi].field`,
	} {
		_, err := prevail.ParseConstraint(raw)
		if err == nil || !strings.HasPrefix(err.Error(), "constraint ") || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("ParseConstraint(%q) = %v, want an error ending in %s", raw, err, want)
		}
	}
}

// TestCorpusConstraints checks that every pre constraint of the corpus
// parses (Load would set ParseError otherwise) and prints as written.
func TestCorpusConstraints(t *testing.T) {
	n := 0
	for _, c := range loadCorpus(t) {
		if len(c.PreConstraints) != len(c.Pre) {
			t.Errorf("%s: case %q: %d constraints for %d pre strings", c.File, c.Name, len(c.PreConstraints), len(c.Pre))
		}
		for i, con := range c.PreConstraints {
			if con.Raw != c.Pre[i] {
				t.Errorf("%s: case %q: constraint %d is %q, pre says %q", c.File, c.Name, i, con.Raw, c.Pre[i])
			}
			n++
		}
	}
	t.Logf("%d pre constraints", n)
}

func TestKindStrings(t *testing.T) {
	got := []string{
		prevail.VarRegister.String(), prevail.VarStack.String(), prevail.VarGlobal.String(), prevail.VarKind(9).String(),
		prevail.ValueNumber.String(), prevail.ValueTypes.String(), prevail.ValueVar.String(), prevail.ValueKind(9).String(),
	}
	want := []string{"register", "stack", "global", "VarKind(9)", "number", "types", "var", "ValueKind(9)"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
