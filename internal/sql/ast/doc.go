// Package ast defines the syntax tree of bpfdb's SQL dialect (PostgreSQL and
// DuckDB's): statements, query bodies, table expressions and scalar
// expressions, each with the source position where it starts.
//
// The tree is syntax only: names are not resolved, types are not checked and
// literals keep their source text (a DECIMAL literal is "0.05", a date is the
// string "1998-12-01"). The binder gives them meaning.
//
// Every node prints. [Format] renders the canonical SQL text of a node:
// keywords in upper case, identifiers in lower case and quoted only when they
// must be, one space between tokens, and parentheses exactly where
// precedence needs them. Parsing the canonical text gives the same tree
// again (package parser tests this on every input it fuzzes). [Dump] renders
// the tree's structure without positions, for golden tests and for
// comparing trees. [Inspect] walks a tree; [Caret] points at a position in
// the source text for error messages.
//
// Precedence, from loosest to tightest, as in PostgreSQL:
//
//	OR
//	AND
//	NOT                       (prefix)
//	IS [NOT] NULL, IS [NOT] DISTINCT FROM, IS [NOT] TRUE/FALSE
//	= <> != < <= > >=         (left-associative)
//	[NOT] BETWEEN, [NOT] IN, [NOT] LIKE, [NOT] ILIKE
//	||
//	+ -
//	* / %
//	- +                       (unary)
//	::                        (printed as CAST(x AS t))
//
// The parser produces this tree and the printer consumes the same table
// ([Precedence]), so the two cannot disagree.
//
// The package is the syntax layer: it imports only the standard library and
// must not import any other bpfdb package.
package ast
