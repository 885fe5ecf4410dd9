package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/tpch"
)

const tpchLoadUsage = "usage: bpfdb tpch load --dir D --db FILE [--threads N]"

// tpchLoad runs bpfdb tpch load: it creates the eight tables in the
// database FILE (created if absent) and copies D/<table>.tbl into each,
// printing a line per table as it finishes.
func tpchLoad(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("bpfdb tpch load", flag.ContinueOnError)
	fset.SetOutput(stderr)
	dir := fset.String("dir", "", "directory holding the eight <table>.tbl files")
	dbPath := fset.String("db", "", "database file to load into (created if absent)")
	threads := fset.Int("threads", 0, "worker threads (0: one per CPU)")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() != 0 || *dir == "" || *dbPath == "" || *threads < 0 {
		fmt.Fprintln(stderr, tpchLoadUsage)
		return 2
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "bpfdb tpch load: --dir %s: not a directory\n", *dir)
		return 2
	}
	start := time.Now()
	db, err := bpfdb.Open(*dbPath, bpfdb.Options{Threads: *threads})
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch load: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%-9s %10s %10s %10s %12s\n", "table", "rows", "MB", "seconds", "rows/s")
	var rows, bytes int64
	_, err = tpch.Load(context.Background(), db, *dir, func(l tpch.TableLoaded) {
		rows += l.Rows
		bytes += l.Bytes
		fmt.Fprintf(stdout, "%-9s %10d %10.1f %10.3f %12.0f\n", l.Table, l.Rows, float64(l.Bytes)/1e6, l.Time.Seconds(), perSecond(l.Rows, l.Time))
	})
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", *dbPath, cerr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch load: %v\n", err)
		return 1
	}
	total := time.Since(start)
	fmt.Fprintf(stdout, "%-9s %10d %10.1f %10.3f %12.0f\n", "total", rows, float64(bytes)/1e6, total.Seconds(), perSecond(rows, total))
	return 0
}

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
