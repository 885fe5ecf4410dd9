// Package table stores tables column by column in the database file:
// row groups of up to RowGroupSize (122,880) rows, each holding one column
// segment per column in blocks of the buffer manager, with min/max zone maps,
// NULL counts and lightweight compression chosen per segment.
//
// A DB is the catalog of tables of one database file. An Appender takes
// vector chunks and, every RowGroupSize rows (and at Flush), compresses each
// column into a segment, writes the segments into blocks and publishes the row
// group, which scans then see. Columns are compressed in parallel (a
// goroutine per column, GOMAXPROCS at a time) and row groups written in
// order. A staged appender (NewStagedAppender) writes
// its row groups the same way but publishes them only at Commit, all at
// once, and drops them at Abort: a load that fails shows none of its rows;
// it buffers the next row group while earlier ones are compressed.
// A Scanner reads a range of row groups, or a range of vectors of one (the
// morsel a scheduler task gets) for a subset of columns, one vector of up to
// vector.Size rows per Next, skipping row groups whose zone maps rule out a
// `column op constant` filter. With ScanOptions.FilterRows it also drops
// the rows that fail the filters, DuckDB's filter pushdown with late
// materialization:
//
//	vector k:  filter column A ──test──► sel (rows that pass)
//	           filter column B ──test rows of sel──► narrower sel   (none left: next vector)
//	           other columns   ──decode rows of sel (all, if many)──► chunk with selection sel
//
// A constant segment is tested once, a dictionary by testing each string
// once per segment and then the codes, a bit-packed one on its packed
// deltas (a range of values is a range of deltas) without decoding.
// A SetFilter (ScanOptions.Sets: a set of integers as a range and a
// bitmap, a hash join's build keys) is a range filter for the zone maps
// and, row by row, one bit per value, tested on packed deltas too.
// Checkpoint writes the block being filled and
// the catalog into the file's metadata root in one atomic checkpoint; Open
// reads the catalog back, so reopening costs time in proportion to the catalog,
// not the data.
//
// # Blocks
//
// Segments are packed one after another into a stream of blocks: a segment
// starts where the previous one (of any column or table) ended, and a segment
// that does not fit the rest of a block continues at the start of the next.
// The catalog records each segment as extents (block, offset, length):
//
//	block 7 payload                        block 9 payload
//	┌─────────┬────────────┬─────────────┐ ┌───────────────────┬──────┬─────
//	│ seg A   │ seg B      │ seg C …     │ │ … seg C (cont.)   │ seg D│ free
//	└─────────┴────────────┴─────────────┘ └───────────────────┴──────┴─────
//	extents: A = (7,0,a)  C = (7,x,rest of 7), (9,0,y)
//
// Small segments (constants, bit-packed flags) thus share a block, and a large
// one (a row group of random doubles, 983,072 bytes) spans four or five 256 KiB
// blocks. A reader pins one block at a time: a vector's bytes that cross a
// block boundary are copied into a scratch buffer, block by block. A checkpoint
// writes a copy of the block being filled to a new block of the file, which
// the catalog names until the block is full and written for good (or the next
// checkpoint writes a newer copy and frees the older one): segments of
// successive small commits share one block, and the file holds at most one
// stale copy of it at a time.
//
// # Segment layout (integers little-endian)
//
//	 0    2     3      4       5       6      8          12         16          24         28        32
//	┌────┬─────┬──────┬───────┬───────┬──────┬──────────┬──────────┬───────────┬──────────┬─────────┐
//	│ SG │ fmt │ phys │ width │ flags │ zero │ rows u32 │ nulls u32│ base u64  │ dictN u32│ body u32│
//	└────┴─────┴──────┴───────┴───────┴──────┴──────────┴──────────┴───────────┴──────────┴─────────┘
//	then, if flags has 1 (some but not all rows NULL): the validity bitmap,
//	one u64 per 64 rows, bit i%64 of word i/64 = 1 when row i is not NULL;
//	then body bytes of the format:
//
//	uncompressed  fixed width: rows × width bytes (BOOLEAN 1, INTEGER/DATE 4,
//	              BIGINT/DECIMAL/DOUBLE 8)
//	              VARCHAR: (rows+1) u32 offsets, then the string bytes;
//	              row i is bytes [off[i], off[i+1])
//	constant      fixed width: no body; the value is in base (DOUBLE as its
//	              IEEE bits, so -0 and NaN payloads survive)
//	              VARCHAR: the string; all-NULL (flags 2): no body
//	bitpacked     frame of reference: row i = base + the w-bit unsigned
//	              delta at bits [i·w, i·w+w) (w = width ≤ 64; 1 for
//	              BOOLEAN), ⌈rows·w/8⌉ bytes then 8 zero bytes of padding
//	dictionary    VARCHAR: (dictN+1) u32 offsets into the dictionary bytes,
//	              the dictionary bytes (distinct strings), then the codes
//	              bit-packed at width w as above with base 0
//
// Vector k of a row group (rows [2048k, 2048k+2048)) starts at bit 2048·k·w
// of bit-packed data, a whole byte, so a scan decodes any vector without the
// ones before it. A NULL row stores the zero value, the base, or code 0.
//
// # Choosing a format
//
// When a row group is flushed, each column's segment is built in the smallest
// format that applies, measured in bytes: constant when every non-NULL value
// is the same (and when every row is NULL); bit-packed for integers, dates,
// decimals and booleans when the range max−min needs fewer bits than the
// uncompressed width; a dictionary for VARCHAR with at most 65,536 distinct
// strings when it is smaller than offsets plus bytes (building one is given up
// once, after the first 1,024 rows, more than half the rows seen are
// distinct); otherwise uncompressed.
// DOUBLE is constant or uncompressed.
//
// # Dropping, snapshots and undo
//
// DropTable removes a table from the catalog; Attach puts a dropped table
// back (undoing the drop). Table.Snapshot is a read-only copy of a table's
// row-group list at one moment, which later appends do not change: the SQL
// catalog hands statements snapshots so that a statement sees one state of
// every table. Table.Truncate drops the row groups published after a given
// count, undoing the appends of a failed statement. Blocks that no table
// references any more (dropped tables, aborted or truncated appends) are
// freed by Reclaim, which the caller runs when nothing reads them (the SQL
// catalog: when no statement is open), and by Open, which frees every block
// of the last checkpoint that no table references; the next checkpoint
// returns them to the file's free list. A block shared with a live table
// stays (segments of all tables are packed into one stream of blocks).
//
// # Catalog layout (the file's metadata root)
//
//	"BTBL" uvarint(version = 2) uvarint(tables) table… str(extra)
//	table:   str(name) uvarint(columns) column… uvarint(row groups) group…
//	column:  str(name) u8(type id) u8(precision) u8(scale)
//	group:   uvarint(rows) segment… (one per column)
//	segment: u8(format) uvarint(nulls) u8(zone flags: 1 has, 2 has max, 4 exact)
//	         [value(min)] [value(max)] uvarint(bytes) uvarint(extents)
//	         (uvarint(block) uvarint(offset) uvarint(length))…
//	str:     uvarint(length) bytes
//	value:   BOOLEAN u8; INTEGER, DATE, BIGINT, DECIMAL zig-zag varint;
//	         DOUBLE 8 bytes of IEEE bits; VARCHAR str (a minimum longer than
//	         64 bytes is cut to 64, a lower bound; such a maximum is omitted)
//	extra:   the caller's metadata (DB.SetExtra), opaque to this package;
//	         the SQL catalog stores views and column constraints in it
//
// Version 1, written before the extra field existed, is the same without
// str(extra); Open reads both and Checkpoint writes version 2.
//
// Damaged metadata and segment bytes give errors wrapping ErrCorrupt that name
// the table, row group and column; nothing panics on bad input (fuzz targets
// cover the catalog and segment decoders).
//
// The package imports types, vector, storage/file and storage/buffer of bpfdb,
// and the standard library; it must not import operators, the scheduler or
// the eBPF runtime.
package table
