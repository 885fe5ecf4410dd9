package catalog

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// binderCatalog is planner.Catalog, the interface the binder reads (not
// imported: the planner is above this package).
type binderCatalog interface {
	Table(name string) *table.Table
	View(name string) (query string, columns []string, ok bool)
}

var _ binderCatalog = (*Tx)(nil)

func mustOpen(t testing.TB, path string, opts Options) *Catalog {
	t.Helper()
	c, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exec runs fn in a transaction and commits it.
func exec(t testing.TB, c *Catalog, fn func(tx *Tx) error) {
	t.Helper()
	tx := c.Begin()
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// bigints returns a chunk of one BIGINT column holding vals.
func bigints(vals ...int64) *vector.Chunk {
	c := vector.NewChunk([]types.Type{types.BigIntType})
	copy(c.Col(0).Int64s(), vals)
	c.SetLen(len(vals))
	return c
}

func insert(tx *Tx, name string, c *vector.Chunk) error {
	in, err := tx.Insert(name)
	if err != nil {
		return err
	}
	return in.Append(c)
}

// TestCrashMidStatement copies the database file while a statement has
// written row groups and created a table but not committed, as a crash
// would leave it: the copy opens with the last committed state only.
func TestCrashMidStatement(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "db")
	c := mustOpen(t, path, Options{})
	defer c.Close()
	exec(t, c, func(tx *Tx) error {
		if err := tx.CreateTable("t", []ColumnDef{{Name: "v", Type: types.BigIntType, NotNull: true}}, false); err != nil {
			return err
		}
		return insert(tx, "t", bigints(1, 2, 3))
	})
	exec(t, c, func(tx *Tx) error { return tx.CreateView("v", "SELECT v FROM t", nil, false) })

	tx := c.Begin()
	if err := tx.CreateTable("u", []ColumnDef{{Name: "a", Type: types.IntegerType}}, false); err != nil {
		t.Fatal(err)
	}
	in, err := tx.Insert("t")
	if err != nil {
		t.Fatal(err)
	}
	big := vector.NewChunk([]types.Type{types.BigIntType})
	for i := range vector.Size {
		big.Col(0).Int64s()[i] = int64(i)
	}
	big.SetLen(vector.Size)
	for range table.RowGroupSize/vector.Size + 1 { // a whole row group: written to blocks
		if err := in.Append(big); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Drop(KindView, "v", false); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "crashed")
	if err := os.WriteFile(crashed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()

	c2 := mustOpen(t, crashed, Options{})
	defer c2.Close()
	got := c2.Tables()
	if len(got) != 1 || got[0].Name != "t" || got[0].Rows != 3 || !got[0].Columns[0].NotNull {
		t.Fatalf("after the crash: tables %+v, want t with 3 rows and v NOT NULL", got)
	}
	if vs := c2.Views(); len(vs) != 1 || vs[0].Query != "SELECT v FROM t" {
		t.Fatalf("after the crash: views %+v, want v", vs)
	}
	if s := scanText(t, c2.Begin().Table("T")); s != "1\n2\n3\n" {
		t.Fatalf("after the crash t holds:\n%s", s)
	}
}

// TestConcurrentReaders runs readers against a writer whose every statement
// inserts k rows into both a and b: a reader must always see the same row
// count in both (never half a statement), a multiple of k, growing.
func TestConcurrentReaders(t *testing.T) {
	for _, path := range []string{":memory:", filepath.Join(t.TempDir(), "db")} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c := mustOpen(t, path, Options{MemoryLimit: 32 << 20})
			defer c.Close()
			cols := []ColumnDef{{Name: "v", Type: types.BigIntType}}
			exec(t, c, func(tx *Tx) error {
				if err := tx.CreateTable("a", cols, false); err != nil {
					return err
				}
				return tx.CreateTable("b", cols, false)
			})
			const k, statements, readers = 7, 60, 4
			var done atomic.Bool
			var wg sync.WaitGroup
			errs := make(chan error, readers+1)
			for range readers {
				wg.Go(func() {
					last := int64(0)
					for !done.Load() {
						tx := c.Begin()
						a, b := tx.Table("a"), tx.Table("b")
						na, _ := countSum(a)
						nb, sum := countSum(b)
						tx.Rollback()
						if na != nb || na%k != 0 || na < last || sum != na*(na-1)/2 {
							errs <- fmt.Errorf("reader saw a=%d rows, b=%d rows summing to %d, after %d", na, nb, sum, last)
							return
						}
						last = na
					}
				})
			}
			wg.Go(func() {
				defer done.Store(true)
				next := int64(0) // the first value of the next statement
				for s := range statements {
					tx := c.Begin()
					vals := make([]int64, k)
					for i := range vals {
						vals[i] = next + int64(i)
					}
					for _, name := range []string{"a", "b"} {
						if err := insert(tx, name, bigints(vals...)); err != nil {
							errs <- err
							tx.Rollback()
							return
						}
					}
					if s%5 == 4 { // every fifth statement fails
						tx.Rollback()
						continue
					}
					if err := tx.Commit(); err != nil {
						errs <- err
						return
					}
					next += k
				}
			})
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		})
	}
}

// countSum scans column 0 of a BIGINT table: rows and the sum of the
// non-NULL values.
func countSum(tbl *table.Table) (int64, int64) {
	sc, err := tbl.Scan(table.ScanOptions{})
	if err != nil {
		panic(err)
	}
	ch := sc.NewChunk()
	var n, sum int64
	for {
		ok, err := sc.Next(ch)
		if err != nil {
			panic(err)
		}
		if !ok {
			return n, sum
		}
		for r := range ch.Len() {
			if i := ch.Index(r); ch.Col(0).Validity().IsValid(i) {
				sum += ch.Col(0).Int64s()[i]
			}
		}
		n += int64(ch.Len())
	}
}

// TestNotNullSelection: NOT NULL is checked on the chunk's logical rows
// only, under the vectortest matrix of batch sizes and selections.
func TestNotNullSelection(t *testing.T) {
	c := mustOpen(t, ":memory:", Options{})
	defer c.Close()
	exec(t, c, func(tx *Tx) error {
		return tx.CreateTable("t", []ColumnDef{{Name: "k", Type: types.BigIntType, PrimaryKey: true}, {Name: "s", Type: types.VarcharType}}, false)
	})
	r := vectortest.Rand(t)
	ts := []types.Type{types.BigIntType, types.VarcharType}
	rows := vectortest.Rows(r, ts, 500, 0.3)
	for i := range rows { // column 0 never NULL
		if rows[i][0].IsNull() {
			rows[i][0] = types.BigIntValue(int64(i))
		}
	}
	for _, cfg := range vectortest.Configs {
		tx := c.Begin()
		in, err := tx.Insert("t")
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range vectortest.Chunks(r, ts, rows, cfg) {
			if err := in.Append(ch); err != nil {
				t.Fatalf("%v: %v", cfg, err)
			}
		}
		if in.Rows() != int64(len(rows)) {
			t.Fatalf("%v: %d rows inserted, want %d", cfg, in.Rows(), len(rows))
		}
		tx.Rollback()
	}
	// A NULL key fails, whatever the batch.
	rows[321][0] = types.Null(types.BigIntType)
	for _, cfg := range vectortest.Configs {
		tx := c.Begin()
		in, err := tx.Insert("t")
		if err != nil {
			t.Fatal(err)
		}
		var failed error
		for _, ch := range vectortest.Chunks(r, ts, rows, cfg) {
			if failed = in.Append(ch); failed != nil {
				break
			}
		}
		tx.Rollback()
		if !errors.Is(failed, ErrNotNull) || !strings.Contains(failed.Error(), "t.k") {
			t.Fatalf("%v: a NULL key gave %v, want ErrNotNull naming t.k", cfg, failed)
		}
	}
	if n := c.Tables()[0].Rows; n != 0 {
		t.Fatalf("rolled back inserts left %d rows", n)
	}
}

// TestReadOnly: a database opened read-only reads everything and refuses
// every write; a missing file is not created.
func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	if _, err := Open(path, Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing file succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only open created the file: %v", err)
	}
	c := mustOpen(t, path, Options{})
	exec(t, c, func(tx *Tx) error {
		if err := tx.CreateTable("t", []ColumnDef{{Name: "v", Type: types.BigIntType}}, false); err != nil {
			return err
		}
		return insert(tx, "t", bigints(5, 6))
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = mustOpen(t, path, Options{ReadOnly: true})
	defer c.Close()
	if !c.ReadOnly() || c.InMemory() || c.Path() != path {
		t.Fatalf("ReadOnly %v, InMemory %v, Path %q", c.ReadOnly(), c.InMemory(), c.Path())
	}
	tx := c.Begin()
	defer tx.Rollback()
	if n, sum := countSum(tx.Table("t")); n != 2 || sum != 11 {
		t.Fatalf("read-only scan: %d rows summing to %d", n, sum)
	}
	for name, err := range map[string]error{
		"create table": tx.CreateTable("u", []ColumnDef{{Name: "v", Type: types.BigIntType}}, false),
		"create view":  tx.CreateView("v", "SELECT 1", nil, false),
		"drop":         tx.Drop(KindTable, "t", false),
		"insert":       func() error { _, err := tx.Insert("t"); return err }(),
		"load":         func() error { _, err := tx.Load("t", nil); return err }(),
	} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only database: %v, want ErrReadOnly", name, err)
		}
	}
	if err := c.Set("threads", "2"); err != nil {
		t.Fatalf("settings of a read-only database: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit of a read-only statement: %v", err)
	}
	if err := tx.Commit(); !errors.Is(err, ErrTxDone) {
		t.Fatalf("second commit: %v, want ErrTxDone", err)
	}
}

// TestFailedCheckpoint: when the commit's checkpoint fails, the statement
// is rolled back, readers keep the last version, and later writes are told
// to reopen; reopening finds the last committed state.
func TestFailedCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	c := mustOpen(t, path, Options{})
	exec(t, c, func(tx *Tx) error { return tx.CreateView("v1", "SELECT 1", nil, false) })
	tx := c.Begin()
	if err := tx.CreateView("v2", "SELECT 2", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := tx.CreateTable("t", []ColumnDef{{Name: "v", Type: types.BigIntType}}, false); err != nil {
		t.Fatal(err)
	}
	if err := c.f.Close(); err != nil { // the file goes away under the catalog
		t.Fatal(err)
	}
	if err := tx.Commit(); !errors.Is(err, file.ErrClosed) {
		t.Fatalf("commit on a closed file: %v, want file.ErrClosed", err)
	}
	tx.Rollback()
	if vs := c.Views(); len(vs) != 1 || len(c.Tables()) != 0 {
		t.Fatalf("after a failed commit: views %v, tables %v", vs, c.Tables())
	}
	if err := c.Begin().CreateView("v3", "SELECT 3", nil, false); err == nil || !strings.Contains(err.Error(), "reopen") {
		t.Fatalf("write after a failed commit: %v, want a request to reopen", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = mustOpen(t, path, Options{})
	defer c.Close()
	if vs := c.Views(); len(vs) != 1 || vs[0].Name != "v1" {
		t.Fatalf("reopened after a failed commit: views %v", vs)
	}
}

// TestClose: an in-memory database's storage is removed; transactions and
// writes after Close fail.
func TestClose(t *testing.T) {
	c := mustOpen(t, "", Options{MemoryLimit: 16 << 20, Threads: 3})
	if !c.InMemory() || c.Path() != ":memory:" {
		t.Fatalf("InMemory %v, Path %q", c.InMemory(), c.Path())
	}
	if c.Threads() != 3 || c.Buffers().Limit() != 16<<20 {
		t.Fatalf("threads %d, limit %d", c.Threads(), c.Buffers().Limit())
	}
	dir := c.tempDir
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("in-memory storage %s left behind: %v", dir, err)
	}
	if err := c.Begin().CreateView("v", "SELECT 1", nil, false); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v, want ErrClosed", err)
	}
	if _, err := Open(":memory:", Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only in-memory database opened")
	}
}

// TestMemoryLimit: memory_limit goes to the buffer manager.
func TestMemoryLimit(t *testing.T) {
	c := mustOpen(t, ":memory:", Options{MemoryLimit: 64 << 20})
	defer c.Close()
	for _, tc := range []struct {
		set   string
		limit int64
		show  string
	}{
		{"128MiB", 128 << 20, "128.0 MiB"},
		{"1GB", 1e9, "953.7 MiB"},
		{" 2 gib ", 2 << 30, "2.0 GiB"},
		{"none", math.MaxInt64, "none"},
		{"100000 bytes", 100000, "97.7 KiB"},
	} {
		if err := c.Set("Memory_Limit", tc.set); err != nil {
			t.Fatal(err)
		}
		got, _ := c.Setting("memory_limit")
		if c.Buffers().Limit() != tc.limit || got != tc.show {
			t.Errorf("SET memory_limit=%q: limit %d shown %q, want %d and %q", tc.set, c.Buffers().Limit(), got, tc.limit, tc.show)
		}
	}
	// A limit below what is pinned fails and keeps the old one.
	if err := c.Set("memory_limit", "64MiB"); err != nil {
		t.Fatal(err)
	}
	b, _, err := c.Buffers().Allocate(buffer.TagHashTable, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Buffers().Unpin(b)
	if err := c.Set("memory_limit", "10KB"); !errors.Is(err, buffer.ErrOutOfMemory) {
		t.Fatalf("limit below the pinned memory: %v, want ErrOutOfMemory", err)
	}
	if c.Buffers().Limit() != 64<<20 {
		t.Fatalf("limit after a refused change: %d", c.Buffers().Limit())
	}
}

func TestParseMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: an error
	}{
		{"1GB", 1e9}, {"1gb", 1e9}, {"1G", 1e9}, {"1.0 gb", 1e9}, {"   1G", 1e9},
		{"1GiB", 1 << 30}, {"256MB", 256e6}, {"256mib", 256 << 20}, {"2TB", 2e12},
		{"1.5KiB", 1536}, {"100 bytes", 100}, {"7b", 7}, {"1 kilobyte", 1000},
		{"-1", math.MaxInt64}, {"none", math.MaxInt64}, {"NONE", math.MaxInt64},
		{"", 0}, {"GB", 0}, {"12", 0}, {"1 XB", 0}, {"0.1b", 0}, {"1..2GB", 0},
		{"-5GB", 0}, {"99999999999TB", 0},
	} {
		got, err := ParseMemoryLimit(tc.in)
		switch {
		case tc.want == 0 && !errors.Is(err, ErrInvalidSetting):
			t.Errorf("%q: %d, %v; want ErrInvalidSetting", tc.in, got, err)
		case tc.want != 0 && (err != nil || got != tc.want):
			t.Errorf("%q: %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// TestOpenErrors: what is not a database does not open, and the error
// names it.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		opts Options
		is   error
	}{
		{garbage, Options{}, file.ErrNotDatabase},
		{garbage, Options{ReadOnly: true}, file.ErrNotDatabase},
		{dir, Options{}, file.ErrNotDatabase},
		{filepath.Join(dir, "missing"), Options{ReadOnly: true}, os.ErrNotExist},
		{filepath.Join(dir, "no", "such", "dir"), Options{}, os.ErrNotExist},
		{filepath.Join(dir, "db"), Options{MemoryLimit: -1}, nil},
	} {
		_, err := Open(tc.path, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.path) || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("Open(%s, %+v): %v, want an error naming the path (and wrapping %v)", tc.path, tc.opts, err, tc.is)
		}
	}
}

// TestNoOpCommit: a statement that changed nothing (DROP IF EXISTS of
// nothing, CREATE IF NOT EXISTS of something) does not checkpoint.
func TestNoOpCommit(t *testing.T) {
	c := mustOpen(t, filepath.Join(t.TempDir(), "db"), Options{})
	defer c.Close()
	exec(t, c, func(tx *Tx) error {
		return tx.CreateTable("t", []ColumnDef{{Name: "v", Type: types.IntegerType}}, false)
	})
	before := c.f.Info().Checkpoint
	exec(t, c, func(tx *Tx) error { return tx.Drop(KindTable, "nope", true) })
	exec(t, c, func(tx *Tx) error { return tx.CreateTable("T", nil, true) })
	if after := c.f.Info().Checkpoint; after != before {
		t.Fatalf("statements that changed nothing took checkpoints %d to %d", before, after)
	}
	exec(t, c, func(tx *Tx) error { return tx.CreateView("v", "SELECT 1", nil, false) })
	if after := c.f.Info().Checkpoint; after != before+1 {
		t.Fatalf("a CREATE VIEW moved the checkpoint from %d to %d, want one step", before, after)
	}
}

// TestWriterWaits: a second statement's first write waits for the writing
// statement to end and then works on what it committed, even though the
// second statement began before; a statement reading a table that another
// drops keeps reading it.
func TestWriterWaits(t *testing.T) {
	c := mustOpen(t, ":memory:", Options{})
	defer c.Close()
	exec(t, c, func(tx *Tx) error {
		if err := tx.CreateTable("old", []ColumnDef{{Name: "v", Type: types.BigIntType}}, false); err != nil {
			return err
		}
		return insert(tx, "old", bigints(1, 2, 3))
	})
	reader := c.Begin()
	defer reader.Rollback()
	old := reader.Table("old")

	a, b := c.Begin(), c.Begin()
	if err := a.CreateTable("t", []ColumnDef{{Name: "v", Type: types.BigIntType}}, false); err != nil {
		t.Fatal(err)
	}
	if err := a.Drop(KindTable, "old", false); err != nil {
		t.Fatal(err)
	}
	var bDone atomic.Bool
	bErr := make(chan error, 1)
	go func() {
		err := b.CreateTable("T", []ColumnDef{{Name: "w", Type: types.IntegerType}}, false)
		bDone.Store(true)
		b.Rollback()
		bErr <- err
	}()
	if bDone.Load() {
		t.Fatal("a second writer went ahead while the first had not ended")
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-bErr; !errors.Is(err, ErrExists) {
		t.Fatalf("the second writer, after the first committed t: %v, want ErrExists", err)
	}
	if n, sum := countSum(old); n != 3 || sum != 6 {
		t.Fatalf("a reader of a table dropped meanwhile: %d rows summing to %d", n, sum)
	}
	if reader.Table("old") != old || c.Begin().Table("old") != nil {
		t.Fatal("the drop changed an earlier statement's view, or a later one still sees the table")
	}
}

// TestReclaimWhileOpen: tables created, filled and dropped over and over,
// and statements that fail after inserting, do not grow the database: their
// blocks are reclaimed when no statement is open. An open statement keeps
// the blocks of a table it reads until it ends.
func TestReclaimWhileOpen(t *testing.T) {
	for _, path := range []string{":memory:", filepath.Join(t.TempDir(), "db")} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c := mustOpen(t, path, Options{MemoryLimit: 32 << 20})
			defer c.Close()
			big := vector.NewChunk([]types.Type{types.BigIntType})
			for i := range vector.Size {
				big.Col(0).Int64s()[i] = int64(i) * 1_000_003 // not bit-packable to little
			}
			big.SetLen(vector.Size)
			fill := func(tx *Tx, name string) error {
				in, err := tx.Insert(name)
				if err != nil {
					return err
				}
				for range 100 { // 204,800 rows: two row groups, a few blocks
					if err := in.Append(big); err != nil {
						return err
					}
				}
				return nil
			}
			cols := []ColumnDef{{Name: "v", Type: types.BigIntType}}
			var first uint64
			for round := range 8 {
				exec(t, c, func(tx *Tx) error {
					if err := tx.CreateTable("t", cols, false); err != nil {
						return err
					}
					return fill(tx, "t")
				})
				tx := c.Begin() // a statement that fails after inserting
				if err := fill(tx, "t"); err != nil {
					t.Fatal(err)
				}
				tx.Rollback()
				exec(t, c, func(tx *Tx) error { return tx.Drop(KindTable, "t", false) })
				if round == 1 {
					first = c.f.Info().Blocks
				}
			}
			if last := c.f.Info().Blocks; last > first+2 {
				t.Fatalf("the file grew from %d blocks after round 2 to %d after round 8", first, last)
			}

			// A reader keeps what it reads.
			exec(t, c, func(tx *Tx) error {
				if err := tx.CreateTable("t", cols, false); err != nil {
					return err
				}
				return fill(tx, "t")
			})
			reader := c.Begin()
			tbl := reader.Table("t")
			exec(t, c, func(tx *Tx) error { return tx.Drop(KindTable, "t", false) })
			exec(t, c, func(tx *Tx) error { return tx.CreateView("v", "SELECT 1", nil, true) })
			if n, _ := countSum(tbl); n != 100*vector.Size {
				t.Fatalf("a reader of a dropped table scans %d rows", n)
			}
			reader.Rollback()
			exec(t, c, func(tx *Tx) error { return tx.CreateView("v", "SELECT 2", nil, true) })
			if c.garbage {
				t.Fatal("blocks left unreclaimed after the last statement ended")
			}
		})
	}
}
