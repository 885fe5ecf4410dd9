package table

import (
	"errors"
	"fmt"
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
}

// Open returns the tables stored in f's last checkpoint (none for a new
// database). m must be a buffer manager of f; the DB reads and writes
// blocks through it. Damaged metadata gives an error wrapping ErrCorrupt
// that names the table, row group and column; segment bytes are checked when
// scanned.
func Open(f *file.File, m *buffer.Manager) (*DB, error) {
	db := &DB{f: f, m: m, w: blockWriter{m: m}, byName: map[string]*Table{}}
	info := f.Info()
	tables, err := decodeCatalog(f.Metadata(), catalogLimits{blocks: info.Blocks, payload: f.PayloadSize()})
	if err != nil {
		return nil, fmt.Errorf("open tables of %s: %w", f.Path(), err)
	}
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
	return db, nil
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
// open Appender are not included (Flush them first). The block being filled
// is written out even if not full, so the next row group starts a new block.
func (db *DB) Checkpoint() error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if db.closed {
		return fmt.Errorf("checkpoint: %w", ErrClosed)
	}
	if err := db.w.seal(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	meta := encodeCatalog(db.Tables())
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
	db   *DB
	name string
	cols []Column

	mu        sync.RWMutex
	groups    []*rowGroup
	rows      int64
	appending bool
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
