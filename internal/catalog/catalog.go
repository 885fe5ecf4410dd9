package catalog

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// Errors of the catalog. User-facing messages name the object:
// `table "foo" does not exist`, `view "v" already exists`.
var (
	// ErrNotFound: no table or view of that name.
	ErrNotFound = errors.New("does not exist")
	// ErrExists: a table or view of that name exists already.
	ErrExists = errors.New("already exists")
	// ErrWrongKind: the name is a view where a table is wanted, or the
	// reverse (DROP VIEW of a table, INSERT into a view).
	ErrWrongKind = errors.New("wrong kind of object")
	// ErrNotNull: a NULL was inserted into a NOT NULL column.
	ErrNotNull = errors.New("NOT NULL constraint failed")
	// ErrReadOnly: a write to a database opened read-only.
	ErrReadOnly = errors.New("database is open read-only")
	// ErrClosed: the catalog was closed.
	ErrClosed = errors.New("database is closed")
	// ErrCorrupt: the catalog metadata stored in the database file is
	// damaged or does not match its tables.
	ErrCorrupt = errors.New("catalog metadata is corrupt")
	// ErrTxDone: a transaction was used after Commit or Rollback.
	ErrTxDone = errors.New("transaction has already ended")
	// ErrUnknownSetting: SET or SHOW of a setting that does not exist.
	ErrUnknownSetting = errors.New("unknown setting")
	// ErrInvalidSetting: a setting's value is not one it accepts.
	ErrInvalidSetting = errors.New("invalid value")
)

// ObjectKind is what a name in the catalog denotes.
type ObjectKind uint8

// The kinds of catalog objects.
const (
	KindTable ObjectKind = iota
	KindView
)

// String returns "table" or "view".
func (k ObjectKind) String() string {
	switch k {
	case KindTable:
		return "table"
	case KindView:
		return "view"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ColumnDef declares a column of CREATE TABLE. A PRIMARY KEY column is NOT
// NULL whether or not NotNull is set; uniqueness of the key is declared, not
// enforced.
type ColumnDef struct {
	Name       string
	Type       types.Type
	NotNull    bool
	PrimaryKey bool
}

// String returns the column as CREATE TABLE declares it:
// `l_orderkey BIGINT NOT NULL`.
func (c ColumnDef) String() string {
	s := ast.QuoteIdent(c.Name) + " " + c.Type.String()
	if c.NotNull && !c.PrimaryKey {
		s += " NOT NULL"
	}
	return s
}

// Options configure Open.
type Options struct {
	MemoryLimit int64 // bytes for the buffer manager; 0: buffer.DefaultLimit()
	Threads     int   // 0: GOMAXPROCS
	ReadOnly    bool  // open an existing file without writing to it; DDL and DML fail with ErrReadOnly

	// The buffer manager's policies (buffer.Options); nil means the
	// built-in one. The database passes its hook sites here.
	Load     buffer.LoadPolicy
	Unpin    buffer.UnpinPolicy
	Memory   buffer.MemoryPolicy
	Allocate buffer.AllocatePolicy
}

// A Catalog is one open database as the SQL engine sees it: its tables and
// views, the session's settings, and the transactions statements run in.
// Its methods are safe for concurrent use.
//
// Lock order: writeMu (held by the writing Tx), then setMu, then the table
// layer's locks.
type Catalog struct {
	path     string // "" for an in-memory database
	tempDir  string // an in-memory database's directory, removed by Close
	readOnly bool

	f   *file.File
	buf *buffer.Manager
	db  *table.DB

	writeMu sync.Mutex               // held by the writing Tx from its first write to Commit or Rollback
	garbage bool                     // under writeMu: blocks may have lost their last reference (drops, rollbacks)
	open    atomic.Int64             // transactions begun and not ended
	cur     atomic.Pointer[version]  // the last committed version
	closed  atomic.Bool              // set by Close
	broken  atomic.Pointer[errorBox] // a commit failed to checkpoint: no more writes

	setMu    sync.Mutex
	settings settingValues
}

type errorBox struct{ err error }

// version is one committed state of the catalog. A version is never
// modified once published; a writing Tx builds the next one from a copy.
type version struct {
	tables   map[string]*tableEntry // by folded name
	views    map[string]*viewEntry
	programs map[string]*Program // by hook name
	users    map[string]*User    // by folded name
}

// tableEntry is a table as one version sees it. Entries are shared between
// versions until a statement changes the table, which replaces its entry.
type tableEntry struct {
	name    string       // as created
	live    *table.Table // the table appends go to
	snap    *table.Table // its row groups as of this version: what statements scan
	notNull []bool
	pk      []int // primary key columns in key order
}

// viewEntry is a view: the query text and the names of its columns.
type viewEntry struct {
	name    string
	query   string
	columns []string // nil: the query's own names
}

func (v *version) clone() *version {
	n := &version{tables: maps.Clone(v.tables), views: maps.Clone(v.views), programs: maps.Clone(v.programs), users: maps.Clone(v.users)}
	if n.programs == nil {
		n.programs = map[string]*Program{}
	}
	if n.users == nil {
		n.users = map[string]*User{}
	}
	return n
}

// fold returns the catalog key of a name: names are compared without case,
// as DuckDB does, so a table created as "Foo" (quoted) is found as foo.
func fold(name string) string { return strings.ToLower(name) }

// Open opens the database at path, creating the file if it does not exist
// (unless opts.ReadOnly). "" or ":memory:" opens a new in-memory database:
// its blocks go to a temporary file that Close removes, and commits do not
// checkpoint. Damaged catalog metadata gives an error wrapping ErrCorrupt
// that names the object; damaged files give the storage layers' errors.
func Open(path string, opts Options) (*Catalog, error) {
	fail := func(err error) (*Catalog, error) {
		name := path
		if name == "" {
			name = ":memory:"
		}
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	if opts.MemoryLimit < 0 {
		return fail(fmt.Errorf("negative memory limit %d", opts.MemoryLimit))
	}
	c := &Catalog{readOnly: opts.ReadOnly}
	var err error
	switch {
	case path == "" || path == ":memory:":
		if opts.ReadOnly {
			return fail(errors.New("an in-memory database cannot be read-only"))
		}
		if c.tempDir, err = os.MkdirTemp("", "bpfdb-memory-*"); err != nil {
			return fail(err)
		}
		c.f, err = file.Create(filepath.Join(c.tempDir, "memory.db"), file.CreateOptions{})
	default:
		c.path = path
		if _, serr := os.Stat(path); errors.Is(serr, os.ErrNotExist) && !opts.ReadOnly {
			c.f, err = file.Create(path, file.CreateOptions{})
		} else {
			c.f, err = file.Open(path, file.Options{ReadOnly: opts.ReadOnly})
		}
	}
	if err != nil {
		c.release()
		return nil, err // the file layer names the path
	}
	c.buf, err = buffer.New(buffer.Options{File: c.f, Limit: opts.MemoryLimit,
		Load: opts.Load, Unpin: opts.Unpin, Memory: opts.Memory, Allocate: opts.Allocate})
	if err != nil {
		c.release()
		return fail(err)
	}
	if c.db, err = table.Open(c.f, c.buf); err != nil {
		c.release()
		return nil, err // names the path
	}
	v, err := decodeVersion(c.db.Tables(), c.db.Extra())
	if err != nil {
		c.release()
		return fail(err)
	}
	c.cur.Store(v)
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	c.settings = defaultSettings(threads)
	return c, nil
}

// release closes what Open or Close opened, in reverse order.
func (c *Catalog) release() error {
	var errs []error
	if c.db != nil {
		errs = append(errs, c.db.Close())
	}
	if c.buf != nil {
		errs = append(errs, c.buf.Close())
	}
	if c.f != nil {
		errs = append(errs, c.f.Close())
	}
	if c.tempDir != "" {
		errs = append(errs, os.RemoveAll(c.tempDir))
	}
	return errors.Join(errs...)
}

// Close closes the database. It waits for a writing statement to finish
// (Commit or Rollback); work after the last commit is not kept. An
// in-memory database's storage is removed. Transactions begun before Close
// fail afterwards.
func (c *Catalog) Close() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closed.Swap(true) {
		return nil
	}
	if err := c.release(); err != nil {
		return fmt.Errorf("close database %s: %w", c.Path(), err)
	}
	return nil
}

// Path returns the database file's path, or ":memory:".
func (c *Catalog) Path() string {
	if c.path == "" {
		return ":memory:"
	}
	return c.path
}

// InMemory reports whether the database vanishes on Close.
func (c *Catalog) InMemory() bool { return c.path == "" }

// ReadOnly reports whether the database was opened read-only.
func (c *Catalog) ReadOnly() bool { return c.readOnly }

// Buffers returns the buffer manager: operators allocate their temporary
// buffers from it, under the memory_limit setting.
func (c *Catalog) Buffers() *buffer.Manager { return c.buf }

// TableInfo describes a table for listings (.tables, .schema, SHOW TABLES).
type TableInfo struct {
	Name    string
	Columns []ColumnDef
	Rows    int64 // rows committed
}

// SQL returns the CREATE TABLE statement that declares the table, with a
// PRIMARY KEY clause when it has one.
func (t TableInfo) SQL() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + ast.QuoteIdent(t.Name) + "(")
	var pk []string
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.String())
		if c.PrimaryKey {
			pk = append(pk, ast.QuoteIdent(c.Name))
		}
	}
	if len(pk) > 0 {
		b.WriteString(", PRIMARY KEY (" + strings.Join(pk, ", ") + ")")
	}
	b.WriteString(");")
	return b.String()
}

// ViewInfo describes a view.
type ViewInfo struct {
	Name    string
	Query   string
	Columns []string // nil: the query's own names
}

// SQL returns the CREATE VIEW statement that declares the view.
func (v ViewInfo) SQL() string {
	s := "CREATE VIEW " + ast.QuoteIdent(v.Name)
	if len(v.Columns) > 0 {
		cols := make([]string, len(v.Columns))
		for i, c := range v.Columns {
			cols[i] = ast.QuoteIdent(c)
		}
		s += " (" + strings.Join(cols, ", ") + ")"
	}
	return s + " AS " + v.Query + ";"
}

// Tables returns the committed tables, sorted by name.
func (c *Catalog) Tables() []TableInfo {
	v := c.cur.Load()
	out := make([]TableInfo, 0, len(v.tables))
	for _, e := range v.tables {
		out = append(out, TableInfo{Name: e.name, Columns: e.columnDefs(), Rows: e.snap.Rows()})
	}
	slices.SortFunc(out, func(a, b TableInfo) int { return strings.Compare(fold(a.Name), fold(b.Name)) })
	return out
}

// Views returns the committed views, sorted by name.
func (c *Catalog) Views() []ViewInfo {
	v := c.cur.Load()
	out := make([]ViewInfo, 0, len(v.views))
	for _, e := range v.views {
		out = append(out, ViewInfo{Name: e.name, Query: e.query, Columns: slices.Clone(e.columns)})
	}
	slices.SortFunc(out, func(a, b ViewInfo) int { return strings.Compare(fold(a.Name), fold(b.Name)) })
	return out
}

// columnDefs returns the table's columns with their constraints.
func (e *tableEntry) columnDefs() []ColumnDef {
	cols := e.live.Columns()
	out := make([]ColumnDef, len(cols))
	for j, col := range cols {
		out[j] = ColumnDef{Name: col.Name, Type: col.Type, NotNull: e.notNull[j], PrimaryKey: slices.Contains(e.pk, j)}
	}
	return out
}

// notFound is the error for a missing object: `table "foo" does not exist`.
func notFound(kind ObjectKind, name string) error {
	return fmt.Errorf("%v %q %w", kind, name, ErrNotFound)
}

// exists is the error for a name taken: `view "v" already exists`.
func exists(kind ObjectKind, name string) error {
	return fmt.Errorf("%v %q %w", kind, name, ErrExists)
}

// wrongKind is the error for a name of the other kind: `"v" is a view, not a
// table`; it matches ErrWrongKind.
func wrongKind(name string, is, want ObjectKind) error {
	return &kindError{name: name, is: is, want: want}
}

type kindError struct {
	name     string
	is, want ObjectKind
}

func (e *kindError) Error() string {
	return fmt.Sprintf("%q is a %v, not a %v", e.name, e.is, e.want)
}

func (e *kindError) Is(target error) bool { return target == ErrWrongKind }
