package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestTPCHGen runs bpfdb tpch gen at SF 0.01 and compares every table with
// the reference data in ../shared/tpch/sf0.01, byte for byte.
func TestTPCHGen(t *testing.T) {
	const ref = "../../../shared/tpch/sf0.01"
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("reference data not found at %s: it is part of ../shared", ref)
	}
	dir := t.TempDir()
	stdout, stderr, code := runCLI("tpch", "gen", "--sf", "0.01", "--dir", dir, "--quiet")
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, table := range []string{"region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"} {
		got, err := os.ReadFile(filepath.Join(dir, table+".tbl"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(ref, table+".tbl"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s.tbl differs from the reference (%d bytes, want %d)", table, len(got), len(want))
		}
	}
}
