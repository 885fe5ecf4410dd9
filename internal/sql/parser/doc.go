// Package parser turns SQL text into the syntax tree of package ast: a
// hand-written lexer and recursive-descent parser for bpfdb's dialect
// (PostgreSQL's, as DuckDB speaks it).
//
// [Parse] reads a script of statements separated by semicolons, [ParseOne]
// one statement and [ParseExpr] one expression. [Lex] exposes the tokens,
// each with its line, column and byte offset; [Split] cuts a script into
// complete statements for a shell that reads input line by line.
//
// Statements: SELECT (with WITH, DISTINCT, joins, subqueries and table
// functions in FROM, GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET,
// UNION/EXCEPT/INTERSECT), VALUES, CREATE TABLE (with columns or AS a
// query), CREATE [OR REPLACE] VIEW, DROP TABLE/VIEW, INSERT, COPY ... FROM
// (PostgreSQL's and DuckDB's option forms), EXPLAIN [ANALYZE], SET, SHOW,
// BEGIN/COMMIT/ROLLBACK, and bpfdb's ATTACH PROGRAM 'file' TO HOOK name and
// DETACH PROGRAM FROM HOOK name. Expressions follow PostgreSQL's precedence
// (see package ast); parameters are $n or ?, the n-th ? of a statement
// being $n.
//
// Refused with an error that says so, because nothing behind the parser
// implements them yet: WITH RECURSIVE, window functions (OVER, FILTER),
// NATURAL JOIN, LATERAL, DISTINCT ON, SIMILAR TO, row values, ORDER BY
// inside an aggregate, COPY ... TO, and column constraints other than NOT
// NULL, NULL and PRIMARY KEY. UPDATE and DELETE are not statements of the
// dialect yet.
//
// Every error is an [*Error] (errors.Is(err, [ErrSyntax])) with the
// position of the offending token; its text names the line and column and
// shows the source line with a caret under the token:
//
//	syntax error at line 3, column 1: expected FROM, found "FORM"
//	FORM lineitem
//	^
//
// Inside the parser a syntax error unwinds with a panic that is recovered
// at exactly one place, the entry point, and returned as the error; any
// other panic is a bug and is not recovered.
//
// The parser knows syntax only: it resolves no names and checks no types.
// It imports package ast and the standard library, nothing else of bpfdb,
// so that it can never depend on the engine.
package parser
