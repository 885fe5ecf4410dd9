package table

import (
	"errors"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// bigIntChunk returns a one-column BIGINT chunk of n rows from start.
func bigIntChunk(start, n int) *vector.Chunk {
	c := vector.NewChunk([]types.Type{types.BigIntType})
	for i := range n {
		c.Col(0).Int64s()[i] = int64(start + i)
	}
	c.SetLen(n)
	return c
}

// sumRows scans column 0 of tbl and returns its row count and sum.
func sumRows(t *testing.T, tbl *Table) (int64, int64) {
	t.Helper()
	s, err := tbl.Scan(ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.NewChunk()
	var n, sum int64
	for {
		ok, err := s.Next(c)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return n, sum
		}
		for i := range c.Len() {
			sum += c.Col(0).Int64s()[i]
		}
		n += int64(c.Len())
	}
}

func TestStagedAppender(t *testing.T) {
	e := newEnv(t, 0, 0)
	defer e.close(t)
	tbl, err := e.db.CreateTable("t", []Column{{"v", types.BigIntType}})
	if err != nil {
		t.Fatal(err)
	}
	// A plain appender publishes a first row group.
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Append(bigIntChunk(0, 10)); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// stage appends more than two row groups' worth of rows (some flushed
	// while staging) and checks that none is visible yet.
	stage := func() *Appender {
		t.Helper()
		a, err := tbl.NewStagedAppender()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tbl.NewAppender(); !errors.Is(err, ErrBusy) {
			t.Fatalf("second appender: %v, want ErrBusy", err)
		}
		for r := 0; r < 2*RowGroupSize+100; r += vector.Size {
			if err := a.Append(bigIntChunk(r, vector.Size)); err != nil {
				t.Fatal(err)
			}
		}
		if got := tbl.RowGroups(); got != 1 {
			t.Fatalf("while staging: %d row groups visible, want 1", got)
		}
		if n, _ := sumRows(t, tbl); n != 10 {
			t.Fatalf("while staging: scan sees %d rows, want 10", n)
		}
		return a
	}
	const stagedRows = (2*RowGroupSize + 100 + vector.Size - 1) / vector.Size * vector.Size

	// Abort and Close without Commit discard everything staged.
	a = stage()
	a.Abort()
	a.Abort()
	if n, sum := sumRows(t, tbl); n != 10 || sum != 45 || tbl.Rows() != 10 {
		t.Fatalf("after Abort: %d rows (Rows %d), sum %d; want 10, 45", n, tbl.Rows(), sum)
	}
	if err := a.Commit(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after Abort: %v, want ErrClosed", err)
	}
	a = stage()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := tbl.Rows(); n != 10 {
		t.Fatalf("after Close without Commit: %d rows, want 10", n)
	}
	// A checkpoint while staging stores only the published rows.
	a = stage()
	if err := e.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	wantN := int64(10 + stagedRows)
	wantSum := int64(45) + int64(stagedRows)*(stagedRows-1)/2
	if n, sum := sumRows(t, tbl); n != wantN || sum != wantSum || tbl.Rows() != wantN {
		t.Fatalf("after Commit: %d rows (Rows %d), sum %d; want %d, %d", n, tbl.Rows(), sum, wantN, wantSum)
	}
	if got := tbl.RowGroups(); got != 4 {
		t.Fatalf("after Commit: %d row groups, want 4", got)
	}
	a.Abort() // after Commit: nothing
	if tbl.Rows() != wantN {
		t.Fatal("Abort after Commit changed the table")
	}
	// The appender is free again, and the checkpoint kept the 10 rows only.
	e = e.reopen(t, 0)
	defer e.close(t)
	if n := e.db.Table("t").Rows(); n != 10 {
		t.Fatalf("reopened from the checkpoint taken while staging: %d rows, want 10", n)
	}
}
