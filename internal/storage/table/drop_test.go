package table

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// appendCommit appends rows [start, start+n) to tbl through a plain appender,
// one row group per call.
func appendCommit(t *testing.T, tbl *Table, start, n int) {
	t.Helper()
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += vector.Size {
		if err := a.Append(bigIntChunk(start+i, min(vector.Size, n-i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestDropAttach drops a table, undoes the drop with Attach, drops it again
// and checks what a checkpoint then stores.
func TestDropAttach(t *testing.T) {
	e := newEnv(t, file.MinBlockSize, 0)
	cols := []Column{{"v", types.BigIntType}}
	a, err := e.db.CreateTable("a", cols)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateTable("b", cols); err != nil {
		t.Fatal(err)
	}
	appendCommit(t, a, 0, 100)

	if err := e.db.DropTable("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("drop of a missing table: %v, want ErrNotFound", err)
	}
	ap, err := a.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.DropTable("a"); !errors.Is(err, ErrBusy) {
		t.Fatalf("drop of a table being appended to: %v, want ErrBusy", err)
	}
	ap.Abort()
	if err := e.db.DropTable("a"); err != nil {
		t.Fatal(err)
	}
	if e.db.Table("a") != nil || len(e.db.Tables()) != 1 {
		t.Fatalf("dropped table still listed: %v", e.db.Tables())
	}
	if _, err := a.NewAppender(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("append to a dropped table: %v, want ErrNotFound", err)
	}
	if n, _ := sumRows(t, a); n != 100 {
		t.Fatalf("dropped table handed out earlier scans %d rows, want 100", n)
	}
	if err := e.db.Attach(a); err != nil {
		t.Fatal(err)
	}
	if e.db.Table("a") != a {
		t.Fatal("attached table not found")
	}
	if err := e.db.Attach(a); err != nil {
		t.Fatalf("attaching an attached table: %v", err)
	}
	appendCommit(t, a, 100, 10)

	// A new table of the dropped one's name blocks Attach.
	if err := e.db.DropTable("a"); err != nil {
		t.Fatal(err)
	}
	a2, err := e.db.CreateTable("a", cols)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.Attach(a); !errors.Is(err, ErrExists) {
		t.Fatalf("attach over a new table: %v, want ErrExists", err)
	}
	if err := e.db.Attach(a.Snapshot()); err == nil {
		t.Fatal("attached a snapshot")
	}
	appendCommit(t, a2, 0, 5)
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	before := e.f.Info()

	// Reopened: the new "a" and "b"; the old a's block is reclaimed by the
	// next checkpoint.
	e = e.reopen(t, 0)
	defer e.close(t)
	if got := tableNames(e.db); got != "b a" {
		t.Fatalf("tables after reopen: %s, want b a", got)
	}
	if n, sum := sumRows(t, e.db.Table("a")); n != 5 || sum != 10 {
		t.Fatalf("a after reopen: %d rows summing to %d, want 5 and 10", n, sum)
	}
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	after := e.f.Info()
	if after.FreeBlocks <= before.FreeBlocks {
		t.Fatalf("free blocks %d before reopen, %d after a checkpoint: the dropped table's block was not reclaimed", before.FreeBlocks, after.FreeBlocks)
	}
	if n, _ := sumRows(t, e.db.Table("a")); n != 5 {
		t.Fatalf("a after reclaiming: %d rows, want 5", n)
	}
}

func tableNames(db *DB) string {
	var b bytes.Buffer
	for i, t := range db.Tables() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Name())
	}
	return b.String()
}

// TestSnapshotTruncate: a snapshot keeps the row groups of its moment
// through later appends and truncations; Truncate undoes appends.
func TestSnapshotTruncate(t *testing.T) {
	e := newEnv(t, file.MinBlockSize, 0)
	defer e.close(t)
	tbl, err := e.db.CreateTable("t", []Column{{"v", types.BigIntType}})
	if err != nil {
		t.Fatal(err)
	}
	appendCommit(t, tbl, 0, 10)
	s1 := tbl.Snapshot()
	if !s1.IsSnapshot() || tbl.IsSnapshot() || s1.Snapshot() != s1 {
		t.Fatal("IsSnapshot or Snapshot of a snapshot wrong")
	}
	appendCommit(t, tbl, 10, 10)
	s2 := tbl.Snapshot()
	if err := tbl.Truncate(1); err != nil {
		t.Fatal(err)
	}
	appendCommit(t, tbl, 100, 3) // reuses the slot of the truncated group in tbl, not in s2
	for _, c := range []struct {
		name     string
		tbl      *Table
		n, sum   int64
		rowGroup int
	}{
		{"s1", s1, 10, 45, 1},
		{"s2", s2, 20, 190, 2},
		{"live", tbl, 13, 45 + 303, 2},
	} {
		if n, sum := sumRows(t, c.tbl); n != c.n || sum != c.sum || c.tbl.Rows() != c.n || c.tbl.RowGroups() != c.rowGroup {
			t.Errorf("%s: %d rows (Rows %d) summing to %d in %d row groups, want %d rows summing to %d in %d", c.name, n, c.tbl.Rows(), sum, c.tbl.RowGroups(), c.n, c.sum, c.rowGroup)
		}
	}
	if _, err := s1.NewAppender(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append to a snapshot: %v, want ErrReadOnly", err)
	}
	if err := s1.Truncate(0); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("truncate of a snapshot: %v, want ErrReadOnly", err)
	}
	if err := tbl.Truncate(3); err == nil {
		t.Fatal("truncate to more row groups than the table has")
	}
	a, err := tbl.NewStagedAppender()
	if err != nil {
		t.Fatal(err)
	}
	if err := tbl.Truncate(0); !errors.Is(err, ErrBusy) {
		t.Fatalf("truncate with an open appender: %v, want ErrBusy", err)
	}
	a.Abort()
	if err := tbl.Truncate(0); err != nil || tbl.Rows() != 0 {
		t.Fatalf("truncate to nothing: %v, %d rows left", err, tbl.Rows())
	}
}

// TestExtra: the caller's metadata survives a checkpoint and reopen, and a
// catalog of version 1 (no extra) still opens.
func TestExtra(t *testing.T) {
	e := newEnv(t, file.MinBlockSize, 0)
	if e.db.Extra() != nil {
		t.Fatalf("new database has extra metadata %q", e.db.Extra())
	}
	tbl, err := e.db.CreateTable("t", []Column{{"v", types.BigIntType}})
	if err != nil {
		t.Fatal(err)
	}
	appendCommit(t, tbl, 0, 7)
	e.db.SetExtra([]byte("views and constraints"))
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	e = e.reopen(t, 0)
	if got := string(e.db.Extra()); got != "views and constraints" {
		t.Fatalf("extra after reopen: %q", got)
	}

	// Version 1: the same catalog without the extra field.
	meta := encodeCatalog(e.db.Tables(), nil)
	v1 := append([]byte(nil), meta[:len(catalogMagic)]...)
	v1 = append(v1, 1)
	v1 = append(v1, meta[len(catalogMagic)+1:len(meta)-1]...) // drop version 2 and the empty extra
	lim := catalogLimits{blocks: e.f.Info().Blocks, payload: e.f.PayloadSize()}
	tables, extra, err := decodeCatalog(v1, lim)
	if err != nil || len(tables) != 1 || extra != nil {
		t.Fatalf("version 1 catalog: %d tables, extra %q, %v", len(tables), extra, err)
	}
	if err := e.f.Checkpoint(v1); err != nil {
		t.Fatal(err)
	}
	e = e.reopen(t, 0)
	defer e.close(t)
	if n, sum := sumRows(t, e.db.Table("t")); n != 7 || sum != 21 || e.db.Extra() != nil {
		t.Fatalf("after reopening a version 1 catalog: %d rows summing to %d, extra %q", n, sum, e.db.Extra())
	}
	for _, bad := range [][]byte{
		append(append([]byte(nil), catalogMagic[:]...), 3, 0),
		append(append([]byte(nil), catalogMagic[:]...), 2, 0, 5, 'a'),
		append(append([]byte(nil), catalogMagic[:]...), 2, 0, 1, 'a', 'b'),
	} {
		if _, _, err := decodeCatalog(bad, lim); !errors.Is(err, ErrCorrupt) {
			t.Errorf("catalog %q: %v, want ErrCorrupt", bad, err)
		}
	}
}

// TestSmallCommits checkpoints after every small append: the segments share
// the block being filled (copied at each checkpoint, the older copy freed),
// so the file stays a few blocks long, and every checkpoint, reopened,
// holds exactly the rows appended before it.
func TestSmallCommits(t *testing.T) {
	e := newEnv(t, file.MinBlockSize, 0)
	tbl, err := e.db.CreateTable("t", []Column{{"v", types.BigIntType}})
	if err != nil {
		t.Fatal(err)
	}
	const commits = 300 // about 40 bytes a segment: several blocks of 4 KiB fill up
	var snapshots [][]byte
	for i := range commits {
		appendCommit(t, tbl, i, 1)
		if err := e.db.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 || i == commits-1 {
			data, err := os.ReadFile(e.path)
			if err != nil {
				t.Fatal(err)
			}
			snapshots = append(snapshots, data)
		}
	}
	info := e.f.Info()
	used := 0
	for _, s := range tbl.Segments() {
		used += s.Bytes
	}
	full := used / e.f.PayloadSize()
	if info.UsedBlocks > full+4 {
		t.Fatalf("%d commits of %d segment bytes use %d blocks (%d full ones of data)", commits, used, info.UsedBlocks, full)
	}
	t.Logf("%d blocks in the file, %d used, %d segment bytes", info.Blocks, info.UsedBlocks, used)
	for range 5 { // nothing new: no new copy of the partial block
		if err := e.db.Checkpoint(); err != nil {
			t.Fatal(err)
		}
	}
	if again := e.f.Info(); again.Blocks != info.Blocks || again.UsedBlocks != info.UsedBlocks {
		t.Fatalf("checkpoints without appends went from %d blocks (%d used) to %d (%d used)", info.Blocks, info.UsedBlocks, again.Blocks, again.UsedBlocks)
	}
	e.close(t)
	for k, data := range snapshots {
		path := filepath.Join(t.TempDir(), "copy.db")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := file.Open(path, file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := openEnvFile(t, path, f, 0)
		n, sum := sumRows(t, c.db.Table("t"))
		want := int64(min(k*50, commits-1) + 1)
		if n != want || sum != want*(want-1)/2 {
			t.Errorf("file after commit %d: %d rows summing to %d, want %d rows", want-1, n, sum, want)
		}
		if nb, err := c.f.Check(); err != nil {
			t.Errorf("file after commit %d: %d blocks checked: %v", want-1, nb, err)
		}
		c.close(t)
	}
}

// TestReclaim: blocks of a dropped table, of truncated row groups and of an
// aborted staged append are freed while the file is open and reused; blocks
// shared with a live table stay; a scan of the dropped table afterwards
// fails with buffer.ErrFreed instead of reading reused bytes.
func TestReclaim(t *testing.T) {
	e := newEnv(t, file.MinBlockSize, 0)
	cols := []Column{{"v", types.BigIntType}}
	keep, err := e.db.CreateTable("keep", cols)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := e.db.CreateTable("gone", cols)
	if err != nil {
		t.Fatal(err)
	}
	appendCommit(t, keep, 0, 10)
	appendCommit(t, gone, 0, 20000) // about 32 KiB bit-packed: blocks of its own
	appendCommit(t, keep, 10, 10)   // shares gone's last block
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	a, err := keep.NewStagedAppender()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := a.Append(bigIntChunk(i*vector.Size, vector.Size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Reclaim(); !errors.Is(err, ErrBusy) {
		t.Fatalf("reclaim with an open appender: %v, want ErrBusy", err)
	}
	a.Abort()
	if err := e.db.DropTable("gone"); err != nil {
		t.Fatal(err)
	}
	before := e.f.Info()
	n, err := e.db.Reclaim()
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("reclaimed %d blocks, want the dropped table's", n)
	}
	if n2, err := e.db.Reclaim(); n2 != 0 || err != nil {
		t.Fatalf("second reclaim: %d blocks, %v", n2, err)
	}
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	after := e.f.Info()
	if after.UsedBlocks >= before.UsedBlocks || after.FreeBlocks <= before.FreeBlocks {
		t.Fatalf("used blocks %d → %d, free %d → %d: nothing reclaimed", before.UsedBlocks, after.UsedBlocks, before.FreeBlocks, after.FreeBlocks)
	}
	s, err := gone.Scan(ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for ch := s.NewChunk(); err == nil; {
		var ok bool
		if ok, err = s.Next(ch); !ok {
			break
		}
	}
	if !errors.Is(err, buffer.ErrFreed) {
		t.Fatalf("scan of a reclaimed table: %v, want buffer.ErrFreed", err)
	}
	// The freed blocks are reused, and the live table is intact, now and
	// after reopening.
	appendCommit(t, keep, 20, 5000)
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if grown := e.f.Info().Blocks; grown > after.Blocks+1 {
		t.Fatalf("the file grew from %d to %d blocks though %d were free", after.Blocks, grown, after.FreeBlocks)
	}
	for range 2 {
		if n, sum := sumRows(t, keep); n != 5020 || sum != 5019*5020/2 {
			t.Fatalf("keep: %d rows summing to %d", n, sum)
		}
		e = e.reopen(t, 0)
		keep = e.db.Table("keep")
	}
	e.close(t)
}
