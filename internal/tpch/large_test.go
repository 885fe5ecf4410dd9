package tpch

import (
	"context"
	"flag"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/tpch/dbgen"
)

var largeSF = flag.Float64("tpch.sf", 0, "scale factor for TestLargeSmallMemory (0 skips it; 0.1 takes about 20 s)")
var largeMemory = flag.Int64("tpch.memory", 64<<20, "memory limit in bytes for TestLargeSmallMemory")

// TestLargeSmallMemory generates TPC-H at -tpch.sf with dbgen, loads it
// into a database file, runs every query with the default memory limit,
// then again under -tpch.memory, and compares each answer with the first
// run's by the reference-answer rules: a memory limit may make a query
// spill, never change its answer.
//
//	go test -run LargeSmallMemory ./internal/tpch -tpch.sf=0.1 -tpch.memory=67108864
func TestLargeSmallMemory(t *testing.T) {
	if *largeSF == 0 {
		t.Skip("give -tpch.sf=X to run it (0.1 takes about 20 s)")
	}
	dir := t.TempDir()
	g, err := dbgen.New(*largeSF, dbgen.FormatDuckDB)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WriteDir(dir, runtime.GOMAXPROCS(0), nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(dir, "tpch.db")
	db, err := bpfdb.Open(path, bpfdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, db, dir, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]*Answer{}
	for _, q := range All() {
		res, _, err := Run(ctx, db, q)
		if err != nil {
			t.Fatalf("with the default memory limit: %v", err)
		}
		want[q.Name()] = FromResult(res)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bpfdb.Open(path, bpfdb.Options{MemoryLimit: *largeMemory})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range All() {
		t.Run(q.Name(), func(t *testing.T) {
			res, _, err := Run(ctx, db, q)
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Check(want[q.Name()], FromResult(res)); err != nil {
				t.Error(err)
			}
		})
	}
}
