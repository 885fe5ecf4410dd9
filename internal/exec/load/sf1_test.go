package load_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/tpch"
)

// TestLoadSF1 loads the eight TPC-H tables from the .tbl files in the
// directory BPFDB_TPCH_DIR (e.g. /tmp/tpch-sf1, made by `go run ./cmd/bpfdb
// tpch gen --sf 1 --dir /tmp/tpch-sf1`) into a new database file through
// the SQL API, as a user would, and logs the wall and CPU time of each
// COPY and of the whole load. It is skipped unless the variable is set: at
// SF 1 it reads 1 GB and takes tens of seconds.
func TestLoadSF1(t *testing.T) {
	dir := os.Getenv("BPFDB_TPCH_DIR")
	if dir == "" {
		t.Skip("set BPFDB_TPCH_DIR to a directory of TPC-H .tbl files to run the load benchmark")
	}
	path := filepath.Join(t.TempDir(), "tpch.db")
	db, err := bpfdb.Open(path, bpfdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Exec(ctx, tpch.Schema()); err != nil {
		t.Fatal(err)
	}
	wall0, cpu0 := time.Now(), cpuTime(t)
	for _, tb := range tpch.Tables {
		w, c := time.Now(), cpuTime(t)
		if err := db.Exec(ctx, tpch.CopySQL(tb.Name, filepath.Join(dir, tb.Name+".tbl"))); err != nil {
			t.Fatal(err)
		}
		t.Logf("%-8s wall %7.3fs cpu %7.3fs", tb.Name, time.Since(w).Seconds(), (cpuTime(t) - c).Seconds())
	}
	t.Logf("total    wall %7.3fs cpu %7.3fs", time.Since(wall0).Seconds(), (cpuTime(t) - cpu0).Seconds())
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
