// Package sqltest runs sqllogictest-style test files against a bpfdb
// database: the engine's SQL corpus (testdata/sql/*.test) is written in
// this format and run under every configuration of the test matrix.
//
// A file is a sequence of records separated by blank lines; lines that
// start with '#' are comments. A record is one of
//
//	statement ok
//	CREATE TABLE t (a INTEGER)
//
//	statement error division by zero
//	SELECT 1 // 0
//
//	query IT rowsort
//	SELECT a, b FROM t
//	----
//	1	one
//	2	NULL
//
// "statement ok" runs the SQL (one or more statements separated by ';')
// and expects it to succeed; "statement error" expects it to fail with an
// error whose text contains what follows "error" on the header line (or,
// as DuckDB writes it, the lines after a "----" line); an empty text
// accepts any error.
//
// "query" runs the SQL and compares its last result with the lines after
// "----", up to the next blank line. The letters after "query" give the
// columns, one letter each: I for INTEGER or BIGINT, R for DOUBLE or
// DECIMAL, T for any type (text, dates, booleans). An optional sort mode
// follows: nosort (the default: rows in the order the query returns
// them), rowsort (rows sorted as text before comparing, for queries
// without ORDER BY) or valuesort (every value sorted on its own). An
// optional label last: a query with a label seen before in the file must
// give the same result as the first one, and may leave out its expected
// lines.
//
// Each expected line is a row; its values are separated by tabs or, when
// splitting at tabs does not give as many values as there are columns, by
// runs of spaces. Values print as the engine's text form: NULL, true,
// DECIMALs with their scale (12.50), DOUBLEs as the shortest text that
// reads back exactly with at least one decimal (3.0, 0.5, 1e+20), dates
// as 1998-12-01, the empty string as (empty).
//
// "restart" on a line of its own closes the database and opens it again,
// to check what a database file keeps; on an in-memory database it does
// nothing.
//
// In SQL, __TESTDIR__ stands for the directory of the test file (for COPY
// fixtures next to it).
//
// The corpus test runs each file under threads 1 and 2, the default and a
// 8 MiB memory limit, in memory and (in two cells) in a database file;
// go test -tags tinyvectors runs it all again with 64-row vectors.
//
// The package imports the embedded API of bpfdb (the module root) and
// package types; only tests use it.
package sqltest
