// Package catalog is what a database is, seen by the SQL engine: its tables
// (with their NOT NULL and PRIMARY KEY declarations) and views, the
// session's settings (threads, memory_limit, disabled_optimizers,
// default_null_order, default_order), and the statement-level transactions
// that every statement runs in. Open opens or creates a database file, or an
// in-memory database (":memory:" or ""), over the storage layers: the file,
// the buffer manager and the table layer.
//
// # Versions and transactions
//
// The catalog is a sequence of immutable versions. Begin hands a statement
// the last committed version; the tables it returns are snapshots
// (table.Table.Snapshot), so a statement reads one state of every table
// while others commit. The first write of a statement (CreateTable,
// CreateView, Drop, Insert, Load) takes the writer lock, copies the version
// committed at that moment and changes the copy; table data goes to the live
// tables through staged appenders. Commit publishes the staged rows, takes
// new snapshots of the tables that changed, checkpoints (file databases) and
// swaps the version in; Rollback runs an undo log (drop the tables created,
// attach the tables dropped, truncate the tables appended to). Many readers
// run at once; one statement writes at a time; readers never see half a
// statement.
//
//	Begin ─► v7 (reads) ── first write: lock, next = copy of v7 ──► Commit: publish rows,
//	                                                                 snapshot, checkpoint,
//	                                                                 current = next, unlock
//
// COPY goes through Tx.Load, which hands the live table and its NOT NULL
// flags to the loader (package exec/load): the loader's staged appender
// publishes into the live table, which statements of other versions do not
// see (they scan snapshots), and Rollback truncates it back.
//
// # Names
//
// The parser lower-cases unquoted identifiers and keeps quoted ones as
// written. The catalog stores a name as it is given and compares names
// without regard to case, as DuckDB does: after CREATE TABLE "Foo", both foo
// and "FOO" find it, and CREATE TABLE foo fails. Tables and views share one
// namespace. Errors name the object: `table "foo" does not exist`
// (ErrNotFound), `view "v" already exists` (ErrExists), `"v" is a view, not a
// table` (ErrWrongKind).
//
// # Durability
//
// A commit of a file database is one checkpoint of the database file
// (storage/file): the table layer's catalog and this package's metadata
// (SetExtra of storage/table) are written together, so a crash at any
// moment leaves the last committed statement. An in-memory database keeps
// its blocks in a temporary file that Close removes and never checkpoints.
// Settings are per open database and not persisted, as in DuckDB. The
// eBPF programs attached to hooks are recorded (Tx.SetProgram) with their
// object bytes, so the database attaches them again when it opens.
//
// # Metadata layout (the table layer's extra metadata, integers uvarint)
//
//	"BCAT" version(3) tables table… views view… programs program… users user…
//	table:   str(name) columns flags… keys key…   flags: u8, 1 = NOT NULL
//	view:    str(name) str(query) columns str(column)…
//	program: str(hook) str(name) str(section) svarint(unix seconds attached) str(ELF object)
//	user:    str(name) flags iterations str(salt) str(stored key) str(server key)   flags: u8, 1 = superuser
//	str:     length bytes
//
// Version 1 had no programs, version 2 no users; both are still read.
// Tables, views, programs (by hook) and users are in name order. A user is
// stored as its SCRAM-SHA-256 verifier (Tx.CreateUser), never its password. Every table named must be stored by
// the table layer with as many columns; a key column must be NOT NULL and
// appear once. A stored table without an entry (written by the table layer
// alone) has no constraints. Damaged metadata gives an error wrapping
// ErrCorrupt that names the object and the byte offset; nothing panics (a
// fuzz target covers the decoder).
//
// # Known limits
//
// PRIMARY KEY uniqueness is declared, not enforced (NOT NULL is). Each
// statement that inserts rows adds at least one row group (small INSERTs
// make small row groups; their segments share blocks).
//
// # Space
//
// Blocks that no table references any more (dropped tables, rows of
// statements that failed) are reclaimed (table.DB.Reclaim) when a writing
// statement ends and no other statement is open: Begin counts open
// statements, so no snapshot that still names those blocks can be in use.
// While statements overlap without pause, reclaiming waits; opening the file
// for writing reclaims whatever is left. A statement must therefore end
// (Commit or Rollback) only after it has finished reading its tables.
//
// The package imports types, vector, sql/ast (identifier quoting) and the
// storage packages of bpfdb; it must not import the planner, operators, the
// scheduler or the eBPF runtime.
package catalog
