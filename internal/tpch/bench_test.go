package tpch

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb"
)

// BenchmarkQueries runs each query (both forms) on SF 0.01 loaded into an
// in-memory database with one worker per CPU:
//
//	go test -run XXX -bench Queries ./internal/tpch
func BenchmarkQueries(b *testing.B) {
	if _, err := os.Stat(filepath.Join(sharedData, "lineitem.tbl")); err != nil {
		b.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	ctx := context.Background()
	db, err := bpfdb.Open("", bpfdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := Load(ctx, db, sharedData, nil); err != nil {
		b.Fatal(err)
	}
	for _, q := range All() {
		b.Run(q.Name(), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Run(ctx, db, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad loads SF 0.01 into a new in-memory database per iteration.
func BenchmarkLoad(b *testing.B) {
	if _, err := os.Stat(filepath.Join(sharedData, "lineitem.tbl")); err != nil {
		b.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	ctx := context.Background()
	for b.Loop() {
		db, err := bpfdb.Open("", bpfdb.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Load(ctx, db, sharedData, nil); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}
