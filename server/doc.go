// Package server makes a bpfdb database reachable over the network by
// PostgreSQL's frontend/backend protocol (version 3.0), so that psql, pgx,
// JDBC and the Python drivers can use it. It runs over the embedded API
// (package bpfdb): one goroutine per connection, each statement through
// DB.QueryEach or DB.Query with the session's user in the context, so that
// the database decides what the user may do (bpfdb.Session).
//
// What a connection goes through:
//
//	startup ── SSLRequest → 'S' and TLS when Options.TLS is set, else 'N';
//	           GSSENCRequest → 'N'; then the StartupMessage;
//	           a CancelRequest instead cancels another session's statement and closes
//	auth    ── SCRAM-SHA-256 (RFC 5802/7677) against the user's stored verifier;
//	           a wrong password or an unknown user: 28P01, the same for both
//	ready   ── ParameterStatus…, BackendKeyData (for cancel requests), ReadyForQuery
//	loop    ── simple query (Query: every statement, each with its rows and tag)
//	           extended query (Parse, Bind, Describe, Execute, Close, Sync, Flush)
//	           Terminate, or the connection closes
//
// Messages are read and written with github.com/jackc/pgx/v5/pgproto3.
// Values go out in text or binary format (BOOLEAN bool, INTEGER int4,
// BIGINT int8, DOUBLE float8, DECIMAL numeric, VARCHAR varchar, DATE date).
// Parameters of prepared statements are bound as SQL literals into the
// statement text, as the database/sql driver binds them, so an argument
// can never change a statement's syntax. Errors carry SQLSTATE codes
// mapped from the engine's sentinel errors (SQLState).
//
// ServeMetrics serves Prometheus metrics over HTTP on a listener of its
// own (MetricsHandler for an application's own HTTP server), from a
// registry of the server's own (not the global default): the server counts
// connections, failed logins, cancel requests, statements by outcome,
// errors by SQLSTATE and statement durations itself; the database's
// memory, buffer counters and hooks are read from DB.Memory and DB.Hooks
// at each scrape, so nothing is counted twice. Shutdown stops it after the
// connections have ended and before it closes the database. metrics.go
// lists the metric families; testdata/metrics pins their names.
//
// The package must not import the eBPF runtime (ebpf/...) or the hooks:
// policies are managed by SQL statements through the database.
package server
