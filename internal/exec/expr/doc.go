// Package expr evaluates bound SQL expressions over vectors: a tree of
// typed nodes (Expr) that a binder builds with the constructors of this
// package, compiled once (Compile) into an Evaluator of typed kernels that
// runs a chunk (up to vector.Size rows) at a time, and the states of the
// aggregate functions (Aggregate) that the hash aggregate keeps per group.
//
// # Type rules
//
// The constructors check operand types and insert implicit casts, as
// PostgreSQL and DuckDB do:
//
//	numeric promotion     INTEGER < BIGINT < DECIMAL < DOUBLE; an integer
//	                      meeting a DECIMAL becomes DECIMAL(10,0) (INTEGER)
//	                      or DECIMAL(18,0) (BIGINT)
//	+ −  on DECIMAL       scale max(s1,s2), integer digits max+1, precision
//	                      capped at 18, or 38 if an operand is wider than
//	                      18 (types.DecimalAddType)
//	×    on DECIMAL       scale s1+s2, precision p1+p2 capped at 18
//	                      (types.DecimalMulType), or 38 with an operand
//	                      wider than 18 digits (a sum); DOUBLE then if
//	                      s1+s2 > 6, where DuckDB multiplies 128-bit
//	                      integers
//	DECIMAL(p>18,s)       a type (sums are DECIMAL(38,s)) whose values
//	                      still hold 18 digits at most: more is an
//	                      overflow error (types.MaxDecimalWidth)
//	/                     DOUBLE for every numeric pair, as DuckDB (1.x)
//	                      does; // is integer division (truncating) and %
//	                      the remainder, both on integers
//	comparisons           operands promoted to their common type; DOUBLE
//	                      NaN equals NaN and sorts above every number;
//	                      integers and DECIMALs that no DECIMAL(18,s)
//	                      holds together compare exactly by their scaled
//	                      integers (never an overflow)
//	DATE ± INTEGER        days; DATE + interval (NewDateInterval): months
//	                      then days, month ends clamped; DATE − DATE: BIGINT
//	                      days
//	EXTRACT               year, month, day of a DATE, as BIGINT
//	SUBSTRING, ||         characters are UTF-8 code points; NULL in, NULL out
//	LIKE, ILIKE           constant pattern, % and _, \ escapes; compiled
//	                      once, with prefix/suffix/contains fast paths
//	IN                    constant lists looked up in a set (hashed above
//	                      8 items); other lists become ORs of =
//	CASE, COALESCE        a branch is evaluated only on the rows it gets
//	AND OR NOT            three-valued: false AND NULL = false,
//	                      true OR NULL = true
//
// Every run-time failure (division by zero, overflow, a bad cast) is
// returned as an *Error naming the expression and its position in the SQL
// text, wrapping the sentinel of package types (types.ErrOverflow, …).
//
// The planner walks and rewrites trees with Children, WithChildren,
// Rewrite and Columns (remapping column indexes after pruning), and folds
// constant subtrees with Fold, which evaluates them with the run-time
// kernels so that folding and execution cannot disagree.
//
// # Evaluation
//
// An Evaluator writes its result for logical row r of a chunk into slot
// in.Index(r) of the output vector: the result is aligned with the input's
// selection, so a projection can put it next to the input columns under
// the same selection, and slots of unselected rows are left unspecified.
// Column references are read in place, constants are materialized once at
// compile time, and intermediate results live in scratch vectors owned by
// the evaluator, so that Eval allocates nothing per chunk. An Evaluator is
// owned by one goroutine; compile one per worker.
//
// EvalFilter narrows a chunk's selection by a predicate (NULL is false).
// It runs the operands of a top-level AND one after another, each on the
// rows the previous kept, and compares a column with a constant straight
// into the selection.
//
// # Aggregates
//
// An Aggregate (NewAggregate) is the compiled count, sum, avg, min or max
// of an input column; its per-group state is a fixed number of bytes that
// the caller stores (one row of states per group) and that Update,
// UpdateState, Combine and Finalize work on. One Aggregate is shared by
// all workers.
//
// The package imports types and vector of bpfdb and nothing else of it: it
// must not import operators, storage, the planner or the scheduler.
package expr
