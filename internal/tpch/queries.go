package tpch

import (
	"embed"
	"fmt"
	"strings"
)

//go:embed queries/*.sql queries/interval/*.sql
var queryFiles embed.FS

// Form names how a query writes its date ranges.
type Form uint8

// The forms. Every query has the Dates form; the specification writes
// nine of them (Q1, Q4, Q5, Q6, Q10, Q12, Q14, Q15, Q20) with interval
// arithmetic, and those nine have the Interval form too.
const (
	// Dates writes every date as a constant: DATE '1998-09-02'.
	Dates Form = iota
	// Interval writes them as the specification does:
	// DATE '1998-12-01' - INTERVAL '90' DAY; Q15 also creates, queries
	// and drops the view revenue0 instead of using WITH.
	Interval
)

// String returns "dates" or "interval".
func (f Form) String() string {
	switch f {
	case Dates:
		return "dates"
	case Interval:
		return "interval"
	}
	return fmt.Sprintf("Form(%d)", uint8(f))
}

// A Query is one TPC-H query in one form, ready to run.
type Query struct {
	N    int  // 1 to 22
	Form Form // how it writes dates
	// Setup runs before SQL and Teardown after it, even if SQL failed;
	// both are empty except for Q15 in the Interval form (the view).
	Setup, SQL, Teardown string
	// OrderBy names the result columns the query's ORDER BY sorts by,
	// in order (none for a query without ORDER BY).
	OrderBy []string
	// Limit is the query's LIMIT, 0 if it has none.
	Limit int
}

// Name returns "q01" for the Dates form and "q01-interval" for the
// Interval form.
func (q Query) Name() string {
	if q.Form == Interval {
		return fmt.Sprintf("q%02d-interval", q.N)
	}
	return fmt.Sprintf("q%02d", q.N)
}

// order holds each query's ORDER BY columns and LIMIT, by query number.
var order = [23]struct {
	keys  []string
	limit int
}{
	1:  {[]string{"l_returnflag", "l_linestatus"}, 0},
	2:  {[]string{"s_acctbal", "n_name", "s_name", "p_partkey"}, 100},
	3:  {[]string{"revenue", "o_orderdate"}, 10},
	4:  {[]string{"o_orderpriority"}, 0},
	5:  {[]string{"revenue"}, 0},
	6:  {nil, 0},
	7:  {[]string{"supp_nation", "cust_nation", "l_year"}, 0},
	8:  {[]string{"o_year"}, 0},
	9:  {[]string{"nation", "o_year"}, 0},
	10: {[]string{"revenue"}, 20},
	11: {[]string{"value"}, 0},
	12: {[]string{"l_shipmode"}, 0},
	13: {[]string{"custdist", "c_count"}, 0},
	14: {nil, 0},
	15: {[]string{"s_suppkey"}, 0},
	16: {[]string{"supplier_cnt", "p_brand", "p_type", "p_size"}, 0},
	17: {nil, 0},
	18: {[]string{"o_totalprice", "o_orderdate"}, 100},
	19: {nil, 0},
	20: {[]string{"s_name"}, 0},
	21: {[]string{"numwait", "s_name"}, 100},
	22: {[]string{"cntrycode"}, 0},
}

// intervalQueries are the queries the specification writes with interval
// arithmetic.
var intervalQueries = []int{1, 4, 5, 6, 10, 12, 14, 15, 20}

// HasInterval reports whether query n has the Interval form.
func HasInterval(n int) bool {
	for _, m := range intervalQueries {
		if m == n {
			return true
		}
	}
	return false
}

// Get returns query n (1 to 22) in form f.
func Get(n int, f Form) (Query, error) {
	if n < 1 || n > 22 {
		return Query{}, fmt.Errorf("tpch query %d: there are 22 queries, 1 to 22", n)
	}
	path := fmt.Sprintf("queries/q%02d.sql", n)
	switch f {
	case Dates:
	case Interval:
		if !HasInterval(n) {
			return Query{}, fmt.Errorf("tpch query %d: the specification writes no interval arithmetic in it", n)
		}
		path = fmt.Sprintf("queries/interval/q%02d.sql", n)
	default:
		return Query{}, fmt.Errorf("tpch query %d: unknown form %v", n, f)
	}
	text, err := queryFiles.ReadFile(path)
	if err != nil {
		panic(fmt.Sprintf("BUG: embedded query %s: %v", path, err))
	}
	q, err := FromText(n, string(text))
	if err != nil {
		panic(fmt.Sprintf("BUG: embedded query %s: %v", path, err))
	}
	q.Form = f
	return q, nil
}

// All returns the 22 queries in the Dates form, then the nine in the
// Interval form.
func All() []Query {
	var qs []Query
	for n := 1; n <= 22; n++ {
		q, _ := Get(n, Dates)
		qs = append(qs, q)
	}
	for _, n := range intervalQueries {
		q, _ := Get(n, Interval)
		qs = append(qs, q)
	}
	return qs
}

// FromText returns query n written as text (another spelling of the same
// query, such as DuckDB's, with the same result columns), in the Dates
// form. The text is one query, or sections introduced by the lines
// "-- setup", "-- query" and "-- teardown" (the query section is required
// then).
func FromText(n int, text string) (Query, error) {
	if n < 1 || n > 22 {
		return Query{}, fmt.Errorf("tpch query %d: there are 22 queries, 1 to 22", n)
	}
	q := Query{N: n, OrderBy: order[n].keys, Limit: order[n].limit}
	sections := map[string]*strings.Builder{}
	var cur *strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		switch name := strings.TrimSpace(line); name {
		case "-- setup", "-- query", "-- teardown":
			if sections[name] != nil {
				return Query{}, fmt.Errorf("tpch query %d: two %q sections", n, name)
			}
			cur = &strings.Builder{}
			sections[name] = cur
			continue
		}
		if cur != nil {
			cur.WriteString(line)
		}
	}
	if len(sections) == 0 {
		q.SQL = strings.TrimSpace(text)
		return q, nil
	}
	body := sections["-- query"]
	if body == nil {
		return Query{}, fmt.Errorf("tpch query %d: sections but no \"-- query\" section", n)
	}
	q.SQL = strings.TrimSpace(body.String())
	if s := sections["-- setup"]; s != nil {
		q.Setup = strings.TrimSpace(s.String())
	}
	if s := sections["-- teardown"]; s != nil {
		q.Teardown = strings.TrimSpace(s.String())
	}
	return q, nil
}
