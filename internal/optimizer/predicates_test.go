package optimizer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/types"
)

// TestRejectsNulls checks which filters drop every NULL-extended row of a
// left join (whose right side produces o_*).
func TestRejectsNulls(t *testing.T) {
	b := newBuilder(t, tpchTables(t))
	b.get("customer", "")
	o := b.get("orders", "")
	right := outputSet(o)
	coalesce := b.must(expr.NewCoalesce([]expr.Expr{b.c("o_totalprice"), b.dec("0.00")}, expr.Pos{}))
	isNull := expr.NewIsNull(b.c("o_orderkey"), false, expr.Pos{})
	gt := b.bin(expr.OpGt, b.c("o_totalprice"), b.dec("5.00"))
	left := b.bin(expr.OpGt, b.c("c_acctbal"), b.dec("5.00"))
	not := func(e expr.Expr) expr.Expr { return b.must(expr.NewUnary(expr.OpNot, e, expr.Pos{})) }
	for _, tc := range []struct {
		p    expr.Expr
		want bool
	}{
		{gt, true},
		{b.like(b.c("o_comment"), "a%", false), true},
		{b.in(b.c("o_orderstatus"), b.str("F")), true},
		{b.eq(b.c("o_custkey"), b.c("c_custkey")), true},
		{b.bin(expr.OpGt, b.bin(expr.OpAdd, b.c("o_totalprice"), b.c("c_acctbal")), b.int(0)), true},
		{not(gt), true}, // NOT NULL is NULL
		{b.or(gt, left), false},
		{b.or(gt, b.eq(b.c("o_orderstatus"), b.str("F"))), true},
		{b.and(left, gt), true},
		{isNull, false},
		{not(isNull), true},
		{expr.NewIsNull(b.c("o_orderkey"), true, expr.Pos{}), true},
		{expr.NewIsNull(b.c("c_custkey"), true, expr.Pos{}), false},
		{b.bin(expr.OpLt, coalesce, b.dec("10.00")), false},
		{left, false},
	} {
		if got := rejectsNulls(tc.p, right); got != tc.want {
			t.Errorf("rejectsNulls(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

// TestFactorOr checks that conjuncts every branch of an OR shares are
// pulled out of it.
func TestFactorOr(t *testing.T) {
	b := newBuilder(t, tpchTables(t))
	b.get("part", "")
	b.get("lineitem", "")
	key := b.eq(b.c("p_partkey"), b.c("l_partkey"))
	x := b.eq(b.c("p_brand"), b.str("Brand#12"))
	y := b.eq(b.c("p_brand"), b.str("Brand#23"))
	z := b.bin(expr.OpLt, b.c("l_quantity"), b.int(5))
	for _, tc := range []struct {
		p    expr.Expr
		want string
	}{
		{b.or(b.and(key, x), b.and(key, y)), "(p_partkey = l_partkey); ((p_brand = 'Brand#12') OR (p_brand = 'Brand#23'))"},
		{b.or(b.and(key, x, z), b.and(z, key, y)), "(p_partkey = l_partkey); (l_quantity < 5.00::DECIMAL(15,2)); ((p_brand = 'Brand#12') OR (p_brand = 'Brand#23'))"},
		{b.or(key, b.and(key, y)), "(p_partkey = l_partkey)"},
		{b.or(b.and(key, x), y), "(((p_partkey = l_partkey) AND (p_brand = 'Brand#12')) OR (p_brand = 'Brand#23'))"},
		{x, "(p_brand = 'Brand#12')"},
	} {
		var got []string
		for _, e := range factorOr(tc.p) {
			got = append(got, e.String())
		}
		if g := strings.Join(got, "; "); g != tc.want {
			t.Errorf("factorOr(%v) = %s, want %s", tc.p, g, tc.want)
		}
	}
}

// TestZoneFilters checks which Get filters give zone-map filters, with
// constants of the column's type.
func TestZoneFilters(t *testing.T) {
	b := newBuilder(t, tpchTables(t))
	g := b.get("lineitem", "")
	big := func(x int64) expr.Expr { return expr.NewConst(types.BigIntValue(x), expr.Pos{}) }
	cast := b.must(expr.NewCast(b.c("l_linenumber"), types.BigIntType, expr.Pos{}))
	narrow := b.must(expr.NewCast(b.c("l_quantity"), types.MustDecimal(15, 1), expr.Pos{}))
	for _, tc := range []struct {
		p    expr.Expr
		want string
	}{
		{b.bin(expr.OpLe, b.c("l_shipdate"), b.date("1998-09-02")), "l_shipdate <= 1998-09-02"},
		{b.bin(expr.OpGt, b.date("1998-09-02"), b.c("l_shipdate")), "l_shipdate < 1998-09-02"},
		{b.between(b.c("l_discount"), b.dec("0.05"), b.dec("0.07")), "l_discount >= 0.05; l_discount <= 0.07"},
		{b.bin(expr.OpEq, cast, big(3)), "l_linenumber = 3"},
		{b.bin(expr.OpEq, narrow, b.dec("1.5")), ""}, // rounding cast: not the column's values
		{b.in(b.c("l_shipmode"), b.str("SHIP"), b.str("AIR"), b.str("MAIL")), "l_shipmode >= AIR; l_shipmode <= SHIP"},
		{b.like(b.c("l_comment"), "furious%", false), "l_comment >= furious; l_comment < furiout"},
		{b.like(b.c("l_comment"), "exact", false), "l_comment = exact"},
		{b.like(b.c("l_comment"), "%x", false), ""},
		{b.like(b.c("l_comment"), "a%", true), ""},
		{b.bin(expr.OpLt, b.c("l_commitdate"), b.c("l_receiptdate")), ""},
		{b.or(b.eq(b.c("l_linenumber"), b.int(1)), b.eq(b.c("l_linenumber"), b.int(2))), ""},
	} {
		g.Filters = []expr.Expr{tc.p}
		var got []string
		tcols := g.Table.Columns()
		for _, z := range zoneFilters(g) {
			got = append(got, fmt.Sprintf("%s %v %v", tcols[z.Column].Name, z.Op, z.Value))
			if !zoneComparable(tcols[z.Column].Type, z.Value.Type()) {
				t.Errorf("%v: zone filter constant %v of type %v for %v", tc.p, z.Value, z.Value.Type(), tcols[z.Column].Type)
			}
		}
		if s := strings.Join(got, "; "); s != tc.want {
			t.Errorf("zone filters of %v = %q, want %q", tc.p, s, tc.want)
		}
	}
}

// TestNextString checks the upper bound of a LIKE prefix.
func TestNextString(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{{"abc", "abd", true}, {"a\xff", "b", true}, {"\xff\xff", "", false}, {"", "", false}} {
		got, ok := nextString(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("nextString(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestVarcharDistinct checks the distinct counts the estimator reads from
// VARCHAR segment formats: dictionary sizes solved from the layout,
// constants, and mostly distinct (uncompressed) columns.
func TestVarcharDistinct(t *testing.T) {
	db := newDB(t)
	for _, k := range []int{2, 3, 7, 25, 150, 1000} {
		tbl := createTable(t, db, fmt.Sprint("d", k), "s:VARCHAR c:VARCHAR u:VARCHAR", 6000, func(i int) []types.Value {
			return []types.Value{types.VarcharValue(fmt.Sprintf("value-%04d", i%k)), types.VarcharValue("same"), types.VarcharValue(fmt.Sprint("unique-", i))}
		})
		st := newEstimator().tableStats(tbl)
		if d := st[0].distinct; d < 0.8*float64(k) || d > 1.25*float64(k) {
			t.Errorf("%d distinct strings estimated as %.0f", k, d)
		}
		if st[1].distinct != 1 || st[2].distinct != 6000 {
			t.Errorf("constant and unique columns estimated as %.0f and %.0f distinct", st[1].distinct, st[2].distinct)
		}
	}
}
