package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/tpch"
)

const (
	tpchData    = "../../../shared/tpch/sf0.01"
	tpchAnswers = "../../../shared/tpch/answers/sf0.01"
)

// TestTPCHLoadRun loads SF 0.01 into a database file with bpfdb tpch load,
// then runs queries on it with bpfdb tpch run: checked against the
// reference answers, written with --out and checked again from there, and
// against a doctored answer, which must fail.
func TestTPCHLoadRun(t *testing.T) {
	if _, err := os.Stat(filepath.Join(tpchData, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", tpchData)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "tpch.db")
	stdout, stderr, code := runCLI("tpch", "load", "--dir", tpchData, "--db", db, "--threads", "2")
	if code != 0 || stderr != "" {
		t.Fatalf("load: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 10 {
		t.Fatalf("load printed %d lines, want a header, 8 tables and a total:\n%s", len(lines), stdout)
	}
	for i, want := range []string{"region +5 ", "nation +25 ", "supplier +100 ", "customer +1500 ", "part +2000 ", "partsupp +8000 ", "orders +15000 ", "lineitem +60175 ", "total +86805 "} {
		if !regexp.MustCompile("^" + want).MatchString(lines[i+1]) {
			t.Errorf("load line %d = %q, want it to match %q", i+2, lines[i+1], want)
		}
	}

	// Loading again fails: the tables exist.
	if _, stderr, code := runCLI("tpch", "load", "--dir", tpchData, "--db", db); code != 1 || !strings.Contains(stderr, "region") {
		t.Errorf("second load: exit %d, stderr %q; want 1 and an error naming region", code, stderr)
	}

	out := filepath.Join(dir, "out")
	stdout, stderr, code = runCLI("tpch", "run", "--db", db, "--query", "1", "--check", tpchAnswers, "--out", out, "--runs", "2", "--threads", "2", "--memory-limit", "256MB")
	if code != 0 || stderr != "" || !regexp.MustCompile(`(?m)^q01 +4 +[0-9.]+ms +[0-9.]+ms +ok$`).MatchString(stdout) {
		t.Fatalf("run q1: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	written, err := tpch.ReadCSV(filepath.Join(out, "q01.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := tpch.ReadCSV(filepath.Join(tpchAnswers, "q01.csv"))
	if err != nil {
		t.Fatal(err)
	}
	q1, _ := tpch.Get(1, tpch.Dates)
	if err := q1.Check(want, written); err != nil {
		t.Errorf("--out wrote an answer that differs from the reference: %v", err)
	}
	if stdout, stderr, code := runCLI("tpch", "run", "--db", db, "--query", "1", "--check", out); code != 0 {
		t.Errorf("run --check on the --out directory: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}

	// Q15's interval form creates and drops a view: two runs in a row work.
	stdout, stderr, code = runCLI("tpch", "run", "--db", db, "--query", "15", "--form", "interval", "--runs", "2", "--check", tpchAnswers)
	if code != 0 || !strings.Contains(stdout, "q15-interval") {
		t.Errorf("run q15 interval: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}

	// A doctored answer is a mismatch: exit 1, the difference on stderr.
	bad := filepath.Join(dir, "bad")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "q06.csv"), []byte("revenue\n1193053.2254\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runCLI("tpch", "run", "--db", db, "--query", "6", "--check", bad)
	if code != 1 || !strings.Contains(stdout, "MISMATCH") || !strings.Contains(stderr, "column revenue: got 1193053.2253, want 1193053.2254") {
		t.Errorf("run q6 against a doctored answer: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}

	// --cpuprofile writes a profile (gzipped protocol buffers); a path
	// that cannot be created is an error that names the flag.
	prof := filepath.Join(dir, "cpu.prof")
	if stdout, stderr, code := runCLI("tpch", "run", "--db", db, "--query", "1", "--runs", "3", "--cpuprofile", prof); code != 0 {
		t.Errorf("run --cpuprofile: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	if b, err := os.ReadFile(prof); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("--cpuprofile wrote %d bytes (%v), want a gzipped profile", len(b), err)
	}
	_, stderr, code = runCLI("tpch", "run", "--db", db, "--query", "1", "--cpuprofile", filepath.Join(dir, "no", "cpu.prof"))
	if code != 1 || !strings.Contains(stderr, "--cpuprofile") {
		t.Errorf("run --cpuprofile into a missing directory: exit %d, stderr %q; want 1 and the flag named", code, stderr)
	}
}

func TestTPCHLoadRunUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"load"}, "usage: bpfdb tpch load"},
		{[]string{"load", "--dir", dir}, "usage: bpfdb tpch load"},
		{[]string{"load", "--dir", filepath.Join(dir, "nope"), "--db", "x.db"}, "not a directory"},
		{[]string{"run"}, "usage: bpfdb tpch run"},
		{[]string{"run", "--db", "x.db", "--query", "23"}, "usage: bpfdb tpch run"},
		{[]string{"run", "--db", "x.db", "--runs", "0"}, "usage: bpfdb tpch run"},
		{[]string{"run", "--db", "x.db", "--form", "spec"}, `--form "spec": want dates, interval or all`},
		{[]string{"run", "--db", "x.db", "--query", "2", "--form", "interval"}, "query 2 has no interval form"},
		{[]string{"run", "--db", filepath.Join(dir, "missing.db")}, "bpfdb tpch load creates it"},
	}
	for _, tt := range tests {
		args := append([]string{"tpch"}, tt.args...)
		_, stderr, code := runCLI(args...)
		if code != 2 || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("bpfdb %s: exit %d, stderr %q; want 2 and %q", strings.Join(args, " "), code, stderr, tt.stderr)
		}
	}
}
