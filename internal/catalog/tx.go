package catalog

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// A Tx is the transaction of one statement. Begin gives it the last
// committed catalog version: Table and View answer from that version, and
// the tables Table returns are snapshots whose rows do not change while the
// statement runs, whatever other statements commit meanwhile.
//
// The first DDL or DML call (CreateTable, CreateView, Drop, Insert, Load)
// makes the Tx the writer: it waits for the writing Tx of another statement
// to end, then works on a copy of the version committed at that moment,
// which Table and View answer from from then on (so a statement sees the
// tables it created). Commit publishes the copy, with every row inserted,
// at once, and for a file database makes it durable in one checkpoint;
// Rollback, or a failed Commit, leaves no table, view or row of the
// statement behind. Readers never see a statement half done.
//
// A Tx must end with Commit or Rollback (a writing Tx holds the writer lock
// until it does); Rollback after Commit does nothing, so `defer
// tx.Rollback()` is the cleanup of every statement. A Tx may be used from
// several goroutines.
type Tx struct {
	c *Catalog

	mu      sync.Mutex
	base    *version // what the statement reads: Begin's version, then next
	next    *version // the writer's copy; nil until the first write
	done    bool
	dirty   bool                 // the writer changed something: Commit publishes and checkpoints
	dropped bool                 // the writer dropped a table: its blocks are garbage once no statement reads them
	undo    []func() error       // what Rollback runs, last first
	appends map[string]*Inserter // open inserters by folded name
	changed map[string]bool      // tables whose rows this Tx changed
}

// Begin starts the transaction of one statement.
func (c *Catalog) Begin() *Tx {
	c.open.Add(1) // before loading the version: see unlockWriter
	return &Tx{c: c, base: c.cur.Load()}
}

// end marks tx ended. tx.mu is held.
func (tx *Tx) end() {
	if !tx.done {
		tx.done = true
		tx.c.open.Add(-1)
	}
}

// unlockWriter releases the writer lock after the writing Tx ended. If
// blocks may have lost their last reference (a table was dropped, a
// statement rolled back) and no statement is open, they are reclaimed
// first: a statement that begins later loads a version that does not
// reference them (Begin counts itself before it loads the version, so one
// that loaded the old version is counted here).
func (c *Catalog) unlockWriter() {
	if c.garbage && c.open.Load() == 0 {
		// An error leaves the blocks for the next time: they only cost space.
		if _, err := c.db.Reclaim(); err == nil {
			c.garbage = false
		}
	}
	c.writeMu.Unlock()
}

// Table returns the table called name (without regard to case) as the
// statement sees it, or nil: a read-only snapshot (table.Table.Snapshot)
// that scans read. It implements planner.Catalog.
func (tx *Tx) Table(name string) *table.Table {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if e := tx.base.tables[fold(name)]; e != nil {
		return e.snap
	}
	return nil
}

// View returns the query text of the view called name and the names it gives
// the query's columns (nil: the query's own). It implements
// planner.Catalog.
func (tx *Tx) View(name string) (query string, columns []string, ok bool) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if e := tx.base.views[fold(name)]; e != nil {
		return e.query, slices.Clone(e.columns), true
	}
	return "", nil, false
}

// Columns returns the columns of the table called name with their NOT
// NULL and PRIMARY KEY declarations, or false if there is no such table.
func (tx *Tx) Columns(name string) ([]ColumnDef, bool) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if e := tx.base.tables[fold(name)]; e != nil {
		return e.columnDefs(), true
	}
	return nil, false
}

// write makes tx the writer. tx.mu is held.
func (tx *Tx) write() error {
	c := tx.c
	switch {
	case tx.done:
		return ErrTxDone
	case tx.next != nil:
		return nil
	case c.readOnly:
		return ErrReadOnly
	}
	c.writeMu.Lock()
	switch {
	case c.closed.Load():
		c.writeMu.Unlock()
		return ErrClosed
	case c.broken.Load() != nil:
		c.writeMu.Unlock()
		return fmt.Errorf("database %s failed to commit a statement; reopen it: %w", c.Path(), c.broken.Load().err)
	}
	tx.next = c.cur.Load().clone()
	tx.base = tx.next
	tx.appends = map[string]*Inserter{}
	tx.changed = map[string]bool{}
	return nil
}

// CreateTable creates a table. Column names must be unique without regard
// to case; a PRIMARY KEY column is NOT NULL. With ifNotExists, an existing
// table of that name is no error (an existing view is).
func (tx *Tx) CreateTable(name string, cols []ColumnDef, ifNotExists bool) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err := tx.write(); err != nil {
		return err
	}
	k := fold(name)
	if tx.next.views[k] != nil {
		return exists(KindView, tx.next.views[k].name)
	}
	if e := tx.next.tables[k]; e != nil {
		if ifNotExists {
			return nil
		}
		return exists(KindTable, e.name)
	}
	names := make([]string, len(cols))
	tcols := make([]table.Column, len(cols))
	e := &tableEntry{name: name, notNull: make([]bool, len(cols))}
	for j, c := range cols {
		names[j] = c.Name
		tcols[j] = table.Column{Name: c.Name, Type: c.Type}
		e.notNull[j] = c.NotNull || c.PrimaryKey
		if c.PrimaryKey {
			e.pk = append(e.pk, j)
		}
	}
	switch {
	case name == "":
		return errors.New("create table: empty name")
	case len(cols) == 0:
		return fmt.Errorf("create table %q: no columns", name)
	}
	if err := checkNames(names); err != nil {
		return fmt.Errorf("create table %q: %w", name, err)
	}
	t, err := tx.c.db.CreateTable(name, tcols)
	if err != nil {
		return err // names the table
	}
	tx.undo = append(tx.undo, func() error { return tx.c.db.DropTable(name) })
	e.live, e.snap = t, t.Snapshot()
	tx.next.tables[k] = e
	tx.dirty = true
	return nil
}

// CreateView creates a view of query (SQL text, bound when a statement
// uses the view) whose columns are called columns (nil: the query's own
// names). With orReplace, an existing view of that name is replaced (an
// existing table is an error).
func (tx *Tx) CreateView(name, query string, columns []string, orReplace bool) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err := tx.write(); err != nil {
		return err
	}
	k := fold(name)
	switch {
	case name == "":
		return errors.New("create view: empty name")
	case tx.next.tables[k] != nil:
		return exists(KindTable, tx.next.tables[k].name)
	case tx.next.views[k] != nil && !orReplace:
		return exists(KindView, tx.next.views[k].name)
	}
	if err := checkNames(columns); err != nil {
		return fmt.Errorf("create view %q: %w", name, err)
	}
	tx.next.views[k] = &viewEntry{name: name, query: query, columns: slices.Clone(columns)}
	tx.dirty = true
	return nil
}

// Drop drops the table or view called name. With ifExists, a missing
// object is no error; an object of the other kind always is. The rows of
// a dropped table stay readable by statements that began before the drop
// committed.
func (tx *Tx) Drop(kind ObjectKind, name string, ifExists bool) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err := tx.write(); err != nil {
		return err
	}
	k := fold(name)
	t, v := tx.next.tables[k], tx.next.views[k]
	switch {
	case kind == KindTable && v != nil:
		return wrongKind(v.name, KindView, KindTable)
	case kind == KindView && t != nil:
		return wrongKind(t.name, KindTable, KindView)
	case kind == KindView && v != nil:
		delete(tx.next.views, k)
		tx.dirty = true
		return nil
	case kind == KindTable && t != nil:
		if in := tx.appends[k]; in != nil {
			in.a.Abort()
			delete(tx.appends, k)
		}
		if err := tx.c.db.DropTable(t.live.Name()); err != nil {
			return err // busy: a COPY of another Tx cannot be running, so this is a bug of the caller
		}
		tx.undo = append(tx.undo, func() error { return tx.c.db.Attach(t.live) })
		delete(tx.next.tables, k)
		tx.dirty = true
		tx.dropped = true
		delete(tx.changed, k)
		return nil
	case kind != KindTable && kind != KindView:
		return fmt.Errorf("drop %v %q: not a kind of object", kind, name)
	case ifExists:
		return nil
	}
	return notFound(kind, name)
}

// table returns the entry of the table the writer appends to. tx.mu is
// held and tx is the writer.
func (tx *Tx) table(name string) (string, *tableEntry, error) {
	k := fold(name)
	if v := tx.next.views[k]; v != nil {
		return k, nil, wrongKind(v.name, KindView, KindTable)
	}
	e := tx.next.tables[k]
	if e == nil {
		return k, nil, notFound(KindTable, name)
	}
	return k, e, nil
}

// Insert returns the inserter of the table called name: rows appended
// through it become visible when the Tx commits. Calling Insert again for
// the same table returns the same inserter.
func (tx *Tx) Insert(name string) (*Inserter, error) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err := tx.write(); err != nil {
		return nil, err
	}
	k, e, err := tx.table(name)
	if err != nil {
		return nil, err
	}
	if in := tx.appends[k]; in != nil {
		return in, nil
	}
	groups := e.live.RowGroups()
	a, err := e.live.NewStagedAppender()
	if err != nil {
		return nil, err // names the table
	}
	in := &Inserter{name: e.name, a: a, notNull: e.notNull, cols: e.live.Columns()}
	tx.appends[k] = in
	tx.changed[k] = true
	tx.dirty = true
	tx.undo = append(tx.undo, func() error { return e.live.Truncate(groups) })
	return in, nil
}

// Load hands the table called name to load, which appends to it (the COPY
// loader: package exec/load, given the table and the NOT NULL flags of its
// columns) and returns the number of rows it loaded. The rows become
// visible to other statements when the Tx commits, and a Rollback removes
// them even if load published them. If load fails, its error is returned
// and the Tx must be rolled back.
func (tx *Tx) Load(name string, load func(t *table.Table, notNull []bool) (int64, error)) (int64, error) {
	tx.mu.Lock()
	if err := tx.write(); err != nil {
		tx.mu.Unlock()
		return 0, err
	}
	k, e, err := tx.table(name)
	if err != nil {
		tx.mu.Unlock()
		return 0, err
	}
	groups := e.live.RowGroups()
	tx.changed[k] = true
	tx.dirty = true
	tx.undo = append(tx.undo, func() error { return e.live.Truncate(groups) })
	tx.mu.Unlock()
	// Not under tx.mu: a load takes long, and Table may be called meanwhile.
	return load(e.live, slices.Clone(e.notNull))
}

// Commit ends the transaction: the inserters' rows are published, the new
// catalog version replaces the last one, and for a file database both are
// written in one atomic checkpoint. If any step fails, the statement is
// rolled back and the error returned. A Tx that wrote nothing just ends.
// Commit after Commit or Rollback fails with ErrTxDone.
func (tx *Tx) Commit() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.done {
		return ErrTxDone
	}
	if tx.next == nil {
		tx.end()
		return nil
	}
	c := tx.c
	if !tx.dirty { // DROP ... IF EXISTS of nothing, CREATE ... IF NOT EXISTS of something
		tx.end()
		c.unlockWriter()
		return nil
	}
	for k, in := range tx.appends {
		if err := in.a.Commit(); err != nil {
			delete(tx.appends, k)
			return tx.rollbackLocked(err)
		}
	}
	tx.appends = nil
	for k := range tx.changed {
		e := *tx.next.tables[k]
		e.snap = e.live.Snapshot()
		tx.next.tables[k] = &e
	}
	if !c.InMemory() {
		old := c.db.Extra()
		c.db.SetExtra(encodeMeta(tx.next))
		tx.undo = append(tx.undo, func() error { c.db.SetExtra(old); return nil })
		if err := c.db.Checkpoint(); err != nil {
			// The file refuses writes after a checkpoint that failed part
			// way; the next writer is told to reopen.
			c.broken.Store(&errorBox{err})
			return tx.rollbackLocked(fmt.Errorf("commit: %w", err))
		}
	}
	c.cur.Store(tx.next)
	c.garbage = c.garbage || tx.dropped
	tx.end()
	c.unlockWriter()
	return nil
}

// Rollback ends the transaction, undoing everything it did: tables created
// are dropped, tables dropped come back, rows inserted or loaded are
// removed. Rollback after Commit or Rollback does nothing.
func (tx *Tx) Rollback() {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.done {
		return
	}
	if err := tx.rollbackLocked(nil); err != nil {
		panic("BUG: " + err.Error())
	}
}

// rollbackLocked undoes tx and returns cause joined with any failure of the
// undo itself (which would be a bug of this package: every undo step
// reverses one that succeeded).
func (tx *Tx) rollbackLocked(cause error) error {
	tx.end()
	if tx.next == nil {
		return cause
	}
	for _, in := range tx.appends {
		in.a.Abort()
	}
	tx.appends = nil
	errs := []error{cause}
	for i := len(tx.undo) - 1; i >= 0; i-- {
		if err := tx.undo[i](); err != nil {
			errs = append(errs, fmt.Errorf("BUG: rollback: %w", err))
		}
	}
	tx.undo = nil
	tx.c.garbage = tx.c.garbage || tx.dirty
	tx.c.unlockWriter()
	return errors.Join(errs...)
}

// An Inserter appends rows to one table within a Tx; they are published
// when the Tx commits. It is not safe for concurrent use.
type Inserter struct {
	name    string
	a       *table.Appender
	notNull []bool
	cols    []table.Column
	rows    int64
}

// Append adds the logical rows of c (selection respected), whose column
// types must be the table's. A NULL in a NOT NULL column fails with
// ErrNotNull, naming the table and column, and appends nothing of c.
func (in *Inserter) Append(c *vector.Chunk) error {
	if c.Width() != len(in.cols) {
		return fmt.Errorf("insert into %q: %d columns for the table's %d", in.name, c.Width(), len(in.cols))
	}
	for j, nn := range in.notNull {
		if !nn {
			continue
		}
		valid := c.Col(j).Validity()
		if valid.AllValid() {
			continue
		}
		for r := range c.Len() {
			if valid.IsNull(c.Index(r)) {
				return fmt.Errorf("%w: %s.%s", ErrNotNull, in.name, in.cols[j].Name)
			}
		}
	}
	if err := in.a.Append(c); err != nil {
		return err
	}
	in.rows += int64(c.Len())
	return nil
}

// Rows returns the number of rows appended so far.
func (in *Inserter) Rows() int64 { return in.rows }

// Setting returns the value of a setting as the statement sees it (the
// binder reads default_order and default_null_order through it).
func (tx *Tx) Setting(name string) (string, error) { return tx.c.Setting(name) }
