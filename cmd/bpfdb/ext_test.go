package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestExtCommand: bpfdb ext attaches, lists and detaches programs of a
// database file; what it attaches stays attached across opens.
func TestExtCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ext.db")
	obj := "../../internal/hooks/testdata/unpin.o"
	hostile := "../../testdata/programs/hostile.o"
	for _, tc := range []struct {
		args         []string
		exit         int
		stdout, errs string // substrings
	}{
		{[]string{"ext"}, 2, "usage: bpfdb ext", ""},
		{[]string{"ext", "ls"}, 2, "", "--db FILE is required"},
		{[]string{"ext", "frob", "--db", db}, 2, "", `unknown command "frob"`},
		{[]string{"ext", "attach", "unpin", "--db", db}, 2, "", "want 2 arguments, have 1"},
		{[]string{"ext", "attach", "unpin", obj, "--db", db}, 1, "", "name one"},
		{[]string{"ext", "attach", "hash", hostile, "--section", "hash_write_count", "--db", db}, 1, "", "verifier log"},
		{[]string{"ext", "attach", "unpin", obj, "--db", db, "--section", "unpin_scan"}, 0, "ATTACH PROGRAM", "attached unpin_scan"},
		{[]string{"ext", "ls", "--db", db, "--format", "csv"}, 0, "unpin,unpin_scan," + obj + ",", ""},
		{[]string{"--db", db, "--no-programs", "-c", "SELECT program FROM bpfdb_hooks() WHERE hook = 'unpin'"}, 0, "built-in", ""},
		{[]string{"--db", db, "--hook-engine", "interpreter", "-c", "SELECT engine FROM bpfdb_hooks() WHERE hook = 'unpin'"}, 0, "interpreter", ""},
		{[]string{"--db", db, "--hook-engine", "fast", "-c", "SELECT 1"}, 1, "", `unknown engine "fast"`},
		{[]string{"ext", "detach", "unpin", "--db", db}, 0, "DETACH PROGRAM", ""},
		{[]string{"ext", "detach", "unpin", "--db", db}, 1, "", "no program is attached"},
		{[]string{"ext", "ls", "--db", db, "--format", "csv"}, 0, "unpin,built-in,", ""},
	} {
		var out, errs bytes.Buffer
		code := run(tc.args, &out, &errs)
		if code != tc.exit || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errs.String(), tc.errs) {
			t.Errorf("bpfdb %s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q",
				strings.Join(tc.args, " "), code, out.String(), errs.String(), tc.exit, tc.stdout, tc.errs)
		}
	}
}
