package tpch

import (
	"fmt"
	"strings"
)

// A Column is a column of a TPC-H table.
type Column struct {
	Name string // l_orderkey
	Type string // its SQL type: BIGINT, DECIMAL(15,2), DATE, VARCHAR ...
}

// A Table is one of the eight TPC-H tables.
type Table struct {
	Name    string   // region, nation, ...
	Columns []Column // in the order of the .tbl file's fields
}

// cols builds columns from "name:TYPE" words.
func cols(spec string) []Column {
	var out []Column
	for _, w := range strings.Fields(spec) {
		name, typ, ok := strings.Cut(w, ":")
		if !ok {
			panic(fmt.Sprintf("BUG: tpch column %q has no type", w))
		}
		out = append(out, Column{Name: name, Type: typ})
	}
	return out
}

// Tables are the eight tables in the order dbgen generates them (and the
// loader loads them), with DuckDB's column types: keys INTEGER or BIGINT
// (BIGINT for the tables whose keys grow with the scale factor), money and
// quantities DECIMAL(15,2), dates DATE, everything else VARCHAR. Every
// column is NOT NULL.
var Tables = []Table{
	{"region", cols("r_regionkey:INTEGER r_name:VARCHAR r_comment:VARCHAR")},
	{"nation", cols("n_nationkey:INTEGER n_name:VARCHAR n_regionkey:INTEGER n_comment:VARCHAR")},
	{"supplier", cols("s_suppkey:BIGINT s_name:VARCHAR s_address:VARCHAR s_nationkey:INTEGER s_phone:VARCHAR s_acctbal:DECIMAL(15,2) s_comment:VARCHAR")},
	{"customer", cols("c_custkey:BIGINT c_name:VARCHAR c_address:VARCHAR c_nationkey:INTEGER c_phone:VARCHAR c_acctbal:DECIMAL(15,2) c_mktsegment:VARCHAR c_comment:VARCHAR")},
	{"part", cols("p_partkey:BIGINT p_name:VARCHAR p_mfgr:VARCHAR p_brand:VARCHAR p_type:VARCHAR p_size:INTEGER p_container:VARCHAR p_retailprice:DECIMAL(15,2) p_comment:VARCHAR")},
	{"partsupp", cols("ps_partkey:BIGINT ps_suppkey:BIGINT ps_availqty:INTEGER ps_supplycost:DECIMAL(15,2) ps_comment:VARCHAR")},
	{"orders", cols("o_orderkey:BIGINT o_custkey:BIGINT o_orderstatus:VARCHAR o_totalprice:DECIMAL(15,2) o_orderdate:DATE o_orderpriority:VARCHAR o_clerk:VARCHAR o_shippriority:INTEGER o_comment:VARCHAR")},
	{"lineitem", cols("l_orderkey:BIGINT l_partkey:BIGINT l_suppkey:BIGINT l_linenumber:INTEGER l_quantity:DECIMAL(15,2) l_extendedprice:DECIMAL(15,2) l_discount:DECIMAL(15,2) l_tax:DECIMAL(15,2) l_returnflag:VARCHAR l_linestatus:VARCHAR l_shipdate:DATE l_commitdate:DATE l_receiptdate:DATE l_shipinstruct:VARCHAR l_shipmode:VARCHAR l_comment:VARCHAR")},
}

// CreateSQL returns the CREATE TABLE statement of t:
//
//	CREATE TABLE region (
//	    r_regionkey INTEGER NOT NULL,
//	    ...
//	)
func (t Table) CreateSQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", t.Name)
	for i, c := range t.Columns {
		fmt.Fprintf(&b, "    %s %s NOT NULL", c.Name, c.Type)
		if i < len(t.Columns)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(")")
	return b.String()
}

// Schema returns the CREATE TABLE statements of all eight tables,
// separated by semicolons, in the order of Tables.
func Schema() string {
	var b strings.Builder
	for _, t := range Tables {
		b.WriteString(t.CreateSQL())
		b.WriteString(";\n")
	}
	return b.String()
}
