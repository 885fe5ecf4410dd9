// Package planner turns parsed SQL queries into logical plans: the binder
// resolves names to typed columns (errors name the position in the SQL
// text), builds bound expressions with package expr's constructors, and
// decorrelates subqueries into joins; the plan is a tree of Nodes (Get,
// Filter, Project, Aggregate, Join, Order, TopN, Limit, Union, Values)
// whose expressions refer to columns by ColumnID.
//
// # Binding
//
// [Bind] binds a query, [BindInsert] the source of an INSERT (cast to the
// table's columns, missing ones NULL). A SELECT block becomes, bottom up:
// its FROM items cross joined left to right (explicit joins keep their
// kind, with `left = right` conjuncts of ON and USING as join conditions
// and the rest as the residual; RIGHT JOIN is a left join with the sides
// swapped; an inner join whose ON holds a subquery is a Filter over a
// Cross join), a Filter for WHERE, an Aggregate for GROUP BY and the
// aggregates, a Filter for HAVING, a Project computing the select list and
// the ORDER BY keys that are not in it, an Aggregate for DISTINCT, Order
// and Limit. Nothing is pushed down or reordered: that is package
// optimizer's work.
//
// Names resolve as in PostgreSQL: a column name must be unique among the
// FROM items (else "column reference is ambiguous"); a name not found there
// is looked up in the enclosing queries (a correlated reference); GROUP BY
// takes expressions, select-list ordinals and select aliases; ORDER BY
// takes ordinals, output names and expressions. After GROUP BY, a select
// item, HAVING or ORDER BY expression may use a column only inside an
// aggregate or as part of an expression equal to a GROUP BY expression.
// Views (Catalog.View) are parsed and bound in place, CTEs bound once per
// reference, each time with fresh column IDs.
//
// ORDER BY items that do not say ASC/DESC or NULLS FIRST/LAST follow the
// settings default_order and default_null_order when the Catalog
// implements Settings, else DuckDB's defaults (ascending, NULLs last).
//
// A result column is named by its alias, else by the column's name for a
// column reference, else as DuckDB names the expression: sum(l_quantity),
// count_star() for count(*), (a + b).
//
// Literals are typed as DuckDB types them: an integer INTEGER if it fits,
// else BIGINT; 0.05 DECIMAL(2,2) (digits, fraction digits); DATE '…' a
// DATE; an untyped NULL is a VARCHAR NULL, which the expr constructors
// convert to whatever type it meets. INTERVAL literals (n DAY, n MONTH,
// n YEAR, '1 year 2 months') exist only as the right operand of date ±
// interval (or the left of +).
//
// # Subqueries
//
// Subqueries become joins onto the plan of the block holding them:
// uncorrelated scalar ones a Single join (a Cross join when the subquery
// is one row by construction), EXISTS and IN as WHERE conjuncts Semi and
// Anti joins, others (NOT IN, EXISTS inside OR, IN in a select list) Mark
// joins. Correlated ones are unnested by pulling their correlated
// predicates up into the join; under an aggregate, equalities become
// group keys and anything else takes DuckDB's general route, the distinct
// outer values joined under the aggregate (subquery.go has the rules,
// including the COUNT bug). What cannot be unnested is refused with
// ErrNotSupported, never planned wrongly: correlation under LIMIT (except
// LIMIT inside EXISTS, and SELECT x ... ORDER BY x LIMIT 1, which is
// max or min) or
// UNION, inside the inner side of an outer, semi, anti, mark or single
// join, and with a query more than one level out; subqueries in the ON of
// an outer join are refused too.
//
// # Errors
//
// Every binding error is an *Error carrying the ast.Pos of the offending
// token, so that a client holding the SQL text can print it with a caret
// (Error.Caret); errors.Is tells ErrNotFound, ErrAmbiguous, ErrGrouping,
// ErrNotSupported and ErrInvalid apart, and type errors wrap expr.ErrType.
//
// The package imports types, sql/ast, sql/parser (for view texts),
// exec/expr and storage/table of bpfdb (for the tables a Get reads); it
// must not import operators, the scheduler or the eBPF runtime.
package planner
