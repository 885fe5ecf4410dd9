package tpch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb"
)

// TableLoaded describes one table the loader finished.
type TableLoaded struct {
	Table string        // its name
	Rows  int64         // rows COPY added
	Bytes int64         // size of the .tbl file
	Time  time.Duration // CREATE TABLE and COPY together
}

// Load creates the eight TPC-H tables in db and copies dir/<table>.tbl
// into each, in the order of Tables, calling progress (if not nil) after
// each table. The files are dbgen's, '|'-separated, with or without the
// trailing '|'. It stops at the first error, which names the table; the
// tables loaded before it stay.
func Load(ctx context.Context, db *bpfdb.DB, dir string, progress func(TableLoaded)) ([]TableLoaded, error) {
	// Check all files first: a missing one should not leave half a schema.
	for _, t := range Tables {
		path := filepath.Join(dir, t.Name+".tbl")
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("load tpch from %s: table %s: %w", dir, t.Name, err)
		}
	}
	var done []TableLoaded
	for _, t := range Tables {
		if err := ctx.Err(); err != nil {
			return done, fmt.Errorf("load tpch table %s: %w", t.Name, err)
		}
		path := filepath.Join(dir, t.Name+".tbl")
		st, err := os.Stat(path)
		if err != nil {
			return done, fmt.Errorf("load tpch table %s: %w", t.Name, err)
		}
		start := time.Now()
		if err := db.Exec(ctx, t.CreateSQL()); err != nil {
			return done, fmt.Errorf("load tpch table %s: create: %w", t.Name, err)
		}
		res, err := db.Query(ctx, CopySQL(t.Name, path))
		if err != nil {
			return done, fmt.Errorf("load tpch table %s: copy from %s: %w", t.Name, path, err)
		}
		l := TableLoaded{Table: t.Name, Rows: res.RowsAffected, Bytes: st.Size(), Time: time.Since(start)}
		done = append(done, l)
		if progress != nil {
			progress(l)
		}
	}
	return done, nil
}

// CopySQL returns the COPY statement that loads the .tbl file at path
// into table.
func CopySQL(table, path string) string {
	return fmt.Sprintf("COPY %s FROM %s (FORMAT tbl)", table, quote(path))
}

// quote returns s as an SQL string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
