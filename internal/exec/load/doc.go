// Package load reads delimited text into a table: the data path of
// COPY table FROM 'file'. Two formats are read: CSV (RFC 4180 quoting, any
// one-byte delimiter, an optional header row) and TPC-H .tbl (fields
// separated by '|', with or without dbgen's trailing '|', no quoting). Lines
// may end in LF or CRLF.
//
// Each field is parsed straight into the typed vector of its column
// (BOOLEAN, INTEGER, BIGINT, DOUBLE, exact DECIMAL(p,s), VARCHAR, DATE),
// never through a boxed value. An unquoted empty field is NULL where the
// column allows NULLs and an error where it is NOT NULL; a quoted empty CSV
// field ("") is the empty string. Tables do not record NOT NULL, so the
// caller (the catalog) passes it in Options.NotNull.
//
// # Pipeline
//
//	reader ──blocks of whole records──► parse workers ──chunks──► appender
//	(1 goroutine)    (seq 0, 1, 2 …)     (Options.Threads)     (caller, in seq order)
//
// The reader cuts the input into blocks of about BlockSize bytes at record
// boundaries (the last newline that is not inside a quoted field); workers
// parse blocks independently into vector chunks; the caller's goroutine
// appends the chunks block by block in input order, so the table holds the
// rows in file order whatever the number of threads. The staged appender
// compresses each full row group on goroutines of its own (a goroutine per
// column) while the caller goes on appending, so compression does not hold
// back the parse workers. Parsed chunks copy
// what they keep, so a block's buffer is reused as soon as it is parsed; at
// most 2·Threads+2 blocks are in flight.
//
// CSV blocks are cut by quote parity: a newline after an even number of
// quotes ends a record. A stray quote in an unquoted field (an error the
// splitter reports) therefore makes the reader treat the rest of the input
// as one block, which costs memory, not correctness.
//
// # Errors and atomicity
//
// The rows go to a staged appender (table.Table.NewStagedAppender) and are
// published only when the whole input has loaded: on any error the table
// shows none of the input's rows. A bad row gives a *RowError naming the
// input, the line, the column (number and name) and what is wrong:
//
//	load lineitem.tbl: line 1234, column 5 (l_quantity): "1x": invalid DECIMAL(15,2)
//
// The first bad row in input order is the one reported.
//
// The splitter looks for delimiters eight bytes at a time.
//
// The package imports types, vector and storage/table of bpfdb and the
// standard library; it must not import operators, the scheduler or the eBPF
// runtime (its benchmark test TestLoadSF1, an external test package, loads
// through the root package's SQL API).
package load
