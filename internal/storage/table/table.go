package table

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/types"
)

// RowGroupSize is the most rows a row group holds: 60 vectors of
// vector.Size, as in DuckDB.
const RowGroupSize = 122880

// Errors of the table layer, wrapped in chains that name the table, column and
// row group concerned.
var (
	// ErrCorrupt: the catalog metadata or a segment's bytes are damaged or
	// inconsistent.
	ErrCorrupt = errors.New("table data is corrupt")
	// ErrExists: a table of that name already exists.
	ErrExists = errors.New("table already exists")
	// ErrBusy: the table already has an open appender.
	ErrBusy = errors.New("table has an open appender")
	// ErrClosed: the DB or appender was closed.
	ErrClosed = errors.New("closed")
	// ErrNotFound: no table of that name exists, or the table was dropped.
	ErrNotFound = errors.New("table does not exist")
	// ErrReadOnly: the table is a snapshot (Table.Snapshot), which cannot be
	// appended to or truncated.
	ErrReadOnly = errors.New("table is a read-only snapshot")
)

// Column describes one column of a table.
type Column struct {
	Name string
	Type types.Type
}

// String returns the column as SQL declares it: "l_quantity INTEGER".
func (c Column) String() string { return c.Name + " " + c.Type.String() }

// A DB is the set of tables stored in one database file: a small catalog of
// tables by name, their row groups in buffer-managed blocks, and checkpoints
// that make them durable. Its methods are safe for concurrent use.
//
// Lock order: writeMu, then mu, then a table's mu.
type DB struct {
	f *file.File
	m *buffer.Manager

	writeMu sync.Mutex // the block writer; held while row groups are written and published, and by Checkpoint
	w       blockWriter
	closed  bool // under writeMu

	mu     sync.Mutex // the catalog
	tables []*Table   // in creation order
	byName map[string]*Table
	extra  []byte // the caller's metadata (SetExtra), stored with the catalog
}

// Open returns the tables stored in f's last checkpoint (none for a new
// database). m must be a buffer manager of f; the DB reads and writes
// blocks through it. Damaged metadata gives an error wrapping ErrCorrupt
// that names the table, row group and column; segment bytes are checked when
// scanned.
func Open(f *file.File, m *buffer.Manager) (*DB, error) {
	db := &DB{f: f, m: m, w: blockWriter{m: m, f: f, copyID: file.NoBlock}, byName: map[string]*Table{}}
	info := f.Info()
	tables, extra, err := decodeCatalog(f.Metadata(), catalogLimits{blocks: info.Blocks, payload: f.PayloadSize()})
	if err != nil {
		return nil, fmt.Errorf("open tables of %s: %w", f.Path(), err)
	}
	db.extra = extra
	handles := map[file.BlockID]*dataBlock{}
	for _, td := range tables {
		t := &Table{db: db, name: td.name, cols: td.cols, groups: td.groups}
		for _, g := range t.groups {
			t.rows += int64(g.rows)
			for _, s := range g.segs {
				for i := range s.ext {
					id := s.ext[i].blk.id
					h := handles[id]
					if h == nil {
						h = &dataBlock{b: m.Persistent(id, buffer.TagBaseTable), id: id}
						handles[id] = h
					}
					s.ext[i].blk = h
				}
			}
		}
		db.tables = append(db.tables, t)
		db.byName[t.name] = t
	}
	db.w.blocks = handles
	if err := reclaim(f, info.Blocks, handles); err != nil {
		return nil, fmt.Errorf("open tables of %s: %w", f.Path(), err)
	}
	return db, nil
}

// reclaim frees the blocks of the last checkpoint that no table references
// (those of dropped tables and of aborted staged appends), so that the next
// checkpoint returns them to the free list. A file opened read-only is left
// as it is. Freeing takes effect only when the next checkpoint completes:
// until then the file still holds the last checkpoint intact.
func reclaim(f *file.File, blocks uint64, used map[file.BlockID]*dataBlock) error {
	for id := file.BlockID(0); uint64(id) < blocks; id++ {
		if used[id] != nil {
			continue
		}
		err := f.FreeBlock(id)
		switch {
		case err == nil, errors.Is(err, file.ErrBlockState): // free already, or a chain block
		case errors.Is(err, file.ErrReadOnly):
			return nil
		default:
			return fmt.Errorf("reclaim unreferenced block %d: %w", id, err)
		}
	}
	return nil
}

// CreateTable creates an empty table. Names must be non-empty and unique
// (table names in the DB, column names in the table).
func (db *DB) CreateTable(name string, cols []Column) (*Table, error) {
	fail := func(err error) (*Table, error) { return nil, fmt.Errorf("create table %q: %w", name, err) }
	if err := checkColumns(name, cols); err != nil {
		return fail(err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.byName[name] != nil {
		return fail(ErrExists)
	}
	t := &Table{db: db, name: name, cols: append([]Column(nil), cols...)}
	db.tables = append(db.tables, t)
	db.byName[name] = t
	return t, nil
}

func checkColumns(name string, cols []Column) error {
	if name == "" {
		return errors.New("empty table name")
	}
	if len(cols) == 0 {
		return errors.New("no columns")
	}
	seen := map[string]bool{}
	for i, c := range cols {
		switch {
		case c.Name == "":
			return fmt.Errorf("column %d has no name", i)
		case seen[c.Name]:
			return fmt.Errorf("column %q appears twice", c.Name)
		case !c.Type.IsValid():
			return fmt.Errorf("column %q has no type", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// DropTable removes the table called name from the catalog: the next
// Checkpoint no longer stores it, and appenders opened on it afterwards fail
// with ErrNotFound. Tables already handed out (and their snapshots) stay
// readable: the blocks of a dropped table are reused only after the file is
// reopened for writing and checkpointed (see Open). It fails with ErrNotFound
// if there is no such table and with ErrBusy if the table has an open
// appender.
func (db *DB) DropTable(name string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	t := db.byName[name]
	if t == nil {
		return fmt.Errorf("drop table %q: %w", name, ErrNotFound)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.appending {
		return fmt.Errorf("drop table %q: %w", name, ErrBusy)
	}
	t.dropped = true
	delete(db.byName, name)
	db.tables = slices.DeleteFunc(db.tables, func(x *Table) bool { return x == t })
	return nil
}

// Attach puts back a table that DropTable removed from this DB, undoing the
// drop (a failed statement that dropped a table rolls back this way). It
// fails with ErrExists if a table of that name was created since, and for a
// table of another DB or a snapshot. A table dropped before a Reclaim must
// not be attached after it: its blocks may be gone.
func (db *DB) Attach(t *Table) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.db != db || t.snapshot:
		return fmt.Errorf("attach table %q: not a dropped table of this database", t.name)
	case db.byName[t.name] == t:
		return nil
	case db.byName[t.name] != nil:
		return fmt.Errorf("attach table %q: %w", t.name, ErrExists)
	}
	t.dropped = false
	db.byName[t.name] = t
	db.tables = append(db.tables, t)
	return nil
}

// Reclaim frees the blocks that no table of the DB references any more:
// those of dropped tables, of row groups Truncate removed and of aborted
// staged appends. Freed blocks of the last checkpoint become reusable after
// the next one; blocks written since are reusable at once. It returns how
// many blocks it freed.
//
// The caller must make sure that nothing still reads what is gone: no scan
// of a dropped table or of a snapshot taken before a drop or truncate is
// running or will start (the SQL catalog calls Reclaim when no statement is
// open). A scan that breaks this rule fails with buffer.ErrFreed; it never
// reads another block's bytes. A block still pinned is left for a later
// Reclaim, with an error. Reclaim fails with ErrBusy, freeing nothing, while
// an appender is open (its staged row groups are referenced by no table yet).
func (db *DB) Reclaim() (int, error) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if db.closed {
		return 0, fmt.Errorf("reclaim blocks: %w", ErrClosed)
	}
	used := map[*dataBlock]bool{}
	for _, t := range db.Tables() {
		t.mu.RLock()
		busy := t.appending
		for _, g := range t.groups {
			for _, s := range g.segs {
				for _, e := range s.ext {
					used[e.blk] = true
				}
			}
		}
		t.mu.RUnlock()
		if busy {
			return 0, fmt.Errorf("reclaim blocks: table %q: %w", t.name, ErrBusy)
		}
	}
	n := 0
	var errs []error
	for id, blk := range db.w.blocks {
		if used[blk] || blk == db.w.cur {
			continue
		}
		if err := db.m.Free(blk.b); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(db.w.blocks, id)
		n++
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("reclaim blocks: %w", err)
	}
	return n, nil
}

// Extra returns the caller's metadata stored with the catalog: what the last
// SetExtra gave, or what the checkpoint Open read (nil if none). The SQL
// catalog keeps views and column constraints there. The caller must not
// modify the bytes.
func (db *DB) Extra() []byte {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.extra
}

// SetExtra replaces the caller's metadata; the next Checkpoint stores it
// with the tables, in the same atomic step. The DB keeps b: the caller must
// not modify it afterwards.
func (db *DB) SetExtra(b []byte) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.extra = b
}

// Table returns the table called name, or nil.
func (db *DB) Table(name string) *Table {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.byName[name]
}

// Tables returns the tables in creation order.
func (db *DB) Tables() []*Table {
	db.mu.Lock()
	defer db.mu.Unlock()
	return append([]*Table(nil), db.tables...)
}

// Checkpoint makes every row group written so far durable, with the catalog,
// in one atomic checkpoint of the database file. Rows still buffered in an
// open Appender are not included (Flush them first). A block being filled
// is written as a copy to a new block of the file and filling it goes on; the
// next checkpoint writes a new copy and frees this one, so small commits do
// not each use up a block.
func (db *DB) Checkpoint() error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if db.closed {
		return fmt.Errorf("checkpoint: %w", ErrClosed)
	}
	if err := db.w.checkpointTail(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	meta := encodeCatalog(db.Tables(), db.Extra())
	if err := db.f.Checkpoint(meta); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Close releases the block being filled; row groups written since the last
// checkpoint are lost (the file keeps the last checkpoint). It closes neither
// the buffer manager nor the file, which belong to the caller.
func (db *DB) Close() error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	return db.w.discard()
}

// A Table is a named list of columns stored as row groups of up to
// RowGroupSize rows, each with one segment per column. Row groups are
// immutable once published; appends add new ones. Scans run concurrently with
// each other and with an appender.
type Table struct {
	db       *DB
	name     string
	cols     []Column
	snapshot bool // made by Snapshot: its row groups never change

	mu        sync.RWMutex
	groups    []*rowGroup
	rows      int64
	appending bool
	dropped   bool // removed by DB.DropTable (and not attached again)
}

// Snapshot returns a read-only copy of the table as it is now: the same
// name, columns and published row groups, which later appends, Commits and
// Truncates of t do not change. It costs a copy of the row-group list (one
// pointer per row group), no data. Scans of the snapshot read the same
// blocks as t; NewAppender and Truncate on it fail with ErrReadOnly. A
// statement that must see one consistent state of a table while a writer
// appends to it scans a snapshot. The snapshot of a snapshot is itself.
func (t *Table) Snapshot() *Table {
	if t.snapshot {
		return t
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return &Table{db: t.db, name: t.name, cols: t.cols, snapshot: true, groups: slices.Clip(t.groups), rows: t.rows}
}

// IsSnapshot reports whether t was made by Snapshot.
func (t *Table) IsSnapshot() bool { return t.snapshot }

// Truncate drops the row groups published after the first rowGroups,
// undoing appends (a failed statement that loaded rows rolls back this way).
// Snapshots taken before keep their row groups; the bytes of the dropped
// ones stay in their blocks, which are reused only after the file is
// reopened for writing and checkpointed. It fails with ErrBusy while an
// appender is open, with ErrReadOnly on a snapshot, and when the table has
// fewer than rowGroups row groups.
func (t *Table) Truncate(rowGroups int) error {
	if t.snapshot {
		return fmt.Errorf("truncate table %q: %w", t.name, ErrReadOnly)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.appending:
		return fmt.Errorf("truncate table %q: %w", t.name, ErrBusy)
	case rowGroups < 0 || rowGroups > len(t.groups):
		return fmt.Errorf("truncate table %q to %d row groups: it has %d", t.name, rowGroups, len(t.groups))
	}
	for _, g := range t.groups[rowGroups:] {
		t.rows -= int64(g.rows)
	}
	// A new slice: snapshots share the old one's backing array.
	t.groups = slices.Clone(t.groups[:rowGroups])
	return nil
}

// rowGroup is a published row group: rows rows, one segment per column.
type rowGroup struct {
	rows int
	segs []*segment
}

// segment is the description of a column segment kept in the catalog.
type segment struct {
	format Format
	nulls  int
	zone   zone
	size   int
	ext    []extent
}

// Name returns the table's name.
func (t *Table) Name() string { return t.name }

// Columns returns the table's columns.
func (t *Table) Columns() []Column { return append([]Column(nil), t.cols...) }

// ColumnIndex returns the index of the column called name, or -1.
func (t *Table) ColumnIndex(name string) int {
	for j, c := range t.cols {
		if c.Name == name {
			return j
		}
	}
	return -1
}

// Types returns the column types.
func (t *Table) Types() []types.Type {
	ts := make([]types.Type, len(t.cols))
	for i, c := range t.cols {
		ts[i] = c.Type
	}
	return ts
}

// Rows returns the number of rows in published row groups.
func (t *Table) Rows() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.rows
}

// RowGroups returns the number of published row groups: scans take ranges
// of them as morsels.
func (t *Table) RowGroups() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.groups)
}

// RowGroupRows returns the number of rows of each published row group, in
// order: scans cut row groups into morsels by it.
func (t *Table) RowGroupRows() []int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	rows := make([]int, len(t.groups))
	for i, g := range t.groups {
		rows[i] = g.rows
	}
	return rows
}

// SegmentInfo describes one stored column segment.
type SegmentInfo struct {
	RowGroup int
	Column   string
	Format   Format
	Rows     int
	Nulls    int
	Bytes    int         // the segment's size, header included
	Min, Max types.Value // the zone map; NULL when unknown (all rows NULL, or a long VARCHAR maximum)
}

// String prints the segment as "rg 0 l_quantity bitpacked rows=122880 nulls=0 bytes=…".
func (s SegmentInfo) String() string {
	return fmt.Sprintf("rg %d %s %v rows=%d nulls=%d bytes=%d min=%v max=%v", s.RowGroup, s.Column, s.Format, s.Rows, s.Nulls, s.Bytes, s.Min, s.Max)
}

// Segments describes every segment, row group by row group.
func (t *Table) Segments() []SegmentInfo {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []SegmentInfo
	for g, rg := range t.groups {
		for j, s := range rg.segs {
			info := SegmentInfo{RowGroup: g, Column: t.cols[j].Name, Format: s.format, Rows: rg.rows, Nulls: s.nulls, Bytes: s.size,
				Min: types.Null(t.cols[j].Type), Max: types.Null(t.cols[j].Type)}
			if s.zone.has {
				info.Min = s.zone.min
				if s.zone.hasMax {
					info.Max = s.zone.max
				}
			}
			out = append(out, info)
		}
	}
	return out
}

// write writes the encoded segments of a row group of rows rows to blocks
// and returns the row group, not yet visible to scans.
func (t *Table) write(rows int, segs []encoded) (*rowGroup, error) {
	db := t.db
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if db.closed {
		return nil, ErrClosed
	}
	g := &rowGroup{rows: rows, segs: make([]*segment, len(segs))}
	for j, e := range segs {
		ext, err := db.w.write(e.bytes)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", t.cols[j].Name, err)
		}
		g.segs[j] = &segment{format: e.format, nulls: e.nulls, zone: e.zone, size: len(e.bytes), ext: ext}
	}
	return g, nil
}

// publish writes the encoded segments of a row group of rows rows and makes
// the row group visible to scans.
func (t *Table) publish(rows int, segs []encoded) error {
	g, err := t.write(rows, segs)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.groups = append(t.groups, g)
	t.rows += int64(rows)
	t.mu.Unlock()
	return nil
}

// IntRange returns the least and greatest non-NULL value of an INTEGER,
// BIGINT or DATE column over the published row groups, from their zone
// maps; ok is false for other types, a table without such a value, or a
// zone map without a maximum.
func (t *Table) IntRange(col int) (lo, hi int64, ok bool) {
	if col < 0 || col >= len(t.cols) {
		return 0, 0, false
	}
	switch t.cols[col].Type.ID() {
	case types.Integer, types.BigInt, types.Date:
	default:
		return 0, 0, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, g := range t.groups {
		z := g.segs[col].zone
		if !z.has {
			continue
		}
		if !z.hasMax || z.min.IsNull() || z.max.IsNull() {
			return 0, 0, false
		}
		if !ok {
			lo, hi, ok = z.min.Int64(), z.max.Int64(), true
			continue
		}
		lo, hi = min(lo, z.min.Int64()), max(hi, z.max.Int64())
	}
	return lo, hi, ok
}
