// Package optimizer rewrites logical plans (package planner) into cheaper
// equivalent ones by a fixed sequence of named passes, as DuckDB does. Each
// pass can be switched off (SET disabled_optimizers = 'join_order', parsed
// by ParseDisabled) and is timed for EXPLAIN ANALYZE (Timings):
//
//	constant_folding     folds constant subexpressions (expr.Fold) and
//	                     trivial AND/OR; a filter that is always true
//	                     disappears, one never true becomes an empty Values
//	                     with the same columns, and emptiness propagates up
//	filter_pushdown      splits conjunctions and moves each conjunct to the
//	                     lowest node whose columns it reads: through
//	                     projections (substituting), into join sides, into
//	                     Get.Filters with the zone-map filters derived from
//	                     them; an equality between the two sides of a cross
//	                     join makes it an inner join with a JoinCond (the
//	                     hash join of a comma join). Conjuncts every branch
//	                     of an OR repeats are pulled out of it (Q19), an OR
//	                     across a join also filters each side by the OR of
//	                     its own parts, and constant predicates cross column
//	                     equalities (a = b AND a < 5 gives b < 5)
//	join_order           reorders each tree of inner joins by estimated
//	                     cardinality (dynamic programming over subsets up to
//	                     10 relations, greedy above) and puts the smaller
//	                     input on the build (right) side; semi and anti
//	                     joins in the tree move too, as filters of the
//	                     relations their condition reads (TPC-H Q18's IN
//	                     filters orders before the joins)
//	projection_pushdown  drops columns nobody above reads: table columns,
//	                     projections, unused aggregates; a projection left
//	                     passing its input on unchanged disappears
//	top_n                fuses Limit over Order into TopN
//
// Every pass keeps the plan valid: Validate checks that each expression
// reads only columns its node's inputs produce (and the other invariants it
// lists), and Optimize runs it after each pass when Options.Validate is set
// or the build has -tags invariants. The tests check more than validity:
// random plans and the binder's queries are run by a reference interpreter
// before and after optimization, under every pass combination.
//
// # Semantics kept
//
// Predicates are moved only where they filter the same rows: never below an
// Aggregate unless they read group columns only (and there are groups),
// never through Limit or TopN, into the preserved (left) side of a left
// outer, single or mark join but not the other, and into the right side of
// a left, semi, anti or single join only from that join's own condition. A
// filter above a left outer join that is never true when the right side's
// columns are NULL (x = 5, x LIKE 'a%', but not x IS NULL or COALESCE) makes
// it an inner join first. Left outer, mark and single joins are leaves of
// join reordering (their right sides never move); a semi or anti join is
// applied only to a set of relations that holds every relation its
// condition reads on the left.
//
// Rows are kept exactly; errors are not: a pushed filter runs on rows the
// written plan would have dropped first, so a predicate that fails on some
// values (division by zero, a bad cast) may fail where the written order
// would not, as in DuckDB and PostgreSQL, and a filter moved below a single
// join may spare rows that would have raised its more-than-one-row error.
//
// # Cardinality estimates
//
// Row counts come from the tables (Table.Rows); distinct counts of integer,
// date and decimal columns from their zone maps (the width of [min, max],
// capped by the row count), of VARCHAR columns from their segments' formats
// (a dictionary's size solved from the segment's layout); range
// selectivity from where the constant lies
// in [min, max]; an equality join condition keeps 1/max(distinct) of the
// pairs (several between the same two relations count as one composite
// key). Everything else is a fixed guess (documented next to it in
// stats.go). Estimates exposes the numbers for EXPLAIN.
//
// The package imports types, planner, exec/expr and storage/table of
// bpfdb; it must not import operators, the scheduler, the physical planner
// or the eBPF runtime.
package optimizer
