package catalog

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// BenchmarkBeginLookup is the catalog's cost on a read-only statement:
// Begin, look a table and a view up, end.
func BenchmarkBeginLookup(b *testing.B) {
	c := mustOpen(b, ":memory:", Options{})
	defer c.Close()
	exec(b, c, func(tx *Tx) error {
		for i := range 20 {
			if err := tx.CreateTable(fmt.Sprintf("t%d", i), []ColumnDef{{Name: "v", Type: types.BigIntType}}, false); err != nil {
				return err
			}
		}
		return tx.CreateView("v", "SELECT 1", nil, false)
	})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tx := c.Begin()
			if tx.Table("T7") == nil {
				b.Error("no table")
			}
			if _, _, ok := tx.View("v"); !ok {
				b.Error("no view")
			}
			tx.Rollback()
		}
	})
}

// BenchmarkCommit is one small INSERT statement: a row inserted and
// committed; for a file database the commit is a checkpoint (two fsyncs).
func BenchmarkCommit(b *testing.B) {
	for _, where := range []string{"memory", "file"} {
		b.Run(where, func(b *testing.B) {
			path := ":memory:"
			if where == "file" {
				path = filepath.Join(b.TempDir(), "db")
			}
			c := mustOpen(b, path, Options{})
			defer c.Close()
			exec(b, c, func(tx *Tx) error {
				return tx.CreateTable("t", []ColumnDef{{Name: "v", Type: types.BigIntType, NotNull: true}}, false)
			})
			row := bigints(42)
			b.ReportAllocs()
			for b.Loop() {
				exec(b, c, func(tx *Tx) error { return insert(tx, "t", row) })
			}
			if where == "file" {
				info := c.f.Info()
				b.ReportMetric(float64(info.Blocks)*float64(info.BlockSize)/float64(b.N), "file-B/op")
			}
		})
	}
}

// BenchmarkInsert appends full chunks of a NOT NULL BIGINT and a nullable
// VARCHAR column through an Inserter (NOT NULL check, staged appender,
// compression) and commits, in memory.
func BenchmarkInsert(b *testing.B) {
	c := mustOpen(b, ":memory:", Options{})
	defer c.Close()
	exec(b, c, func(tx *Tx) error {
		return tx.CreateTable("t", []ColumnDef{{Name: "k", Type: types.BigIntType, NotNull: true}, {Name: "s", Type: types.VarcharType}}, false)
	})
	ch := vector.NewChunk([]types.Type{types.BigIntType, types.VarcharType})
	for i := range vector.Size {
		s := types.VarcharValue(fmt.Sprintf("row %d", i%100))
		if i%10 == 0 {
			s = types.Null(types.VarcharType)
		}
		ch.AppendRow(types.BigIntValue(int64(i)), s)
	}
	const chunks = 100
	b.SetBytes(chunks * vector.Size * 8)
	b.ReportAllocs()
	for b.Loop() {
		tx := c.Begin()
		in, err := tx.Insert("t")
		if err != nil {
			b.Fatal(err)
		}
		for range chunks {
			if err := in.Append(ch); err != nil {
				b.Fatal(err)
			}
		}
		tx.Rollback() // keeps the table small; the rows were compressed and written all the same
	}
	b.ReportMetric(float64(b.N*chunks*vector.Size)/b.Elapsed().Seconds(), "rows/s")
}
