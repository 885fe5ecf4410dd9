package sqltest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb"
)

// corpus is the engine's SQL test corpus.
const corpus = "../../testdata/sql"

// tinyMemory is the memory limit of the matrix's small cells: about what
// spill.test's joins of 100,000 rows need (hash joins do not spill, and an
// in-memory database cannot evict its tables); aggregates and sorts above
// it must make room.
const tinyMemory = 8 << 20

// A cell is one configuration the corpus runs under.
type cell struct {
	threads int
	memory  int64 // 0: the default
	file    bool  // a database file in a temporary directory, not in memory
}

func (c cell) String() string {
	m := "default"
	if c.memory > 0 {
		m = fmt.Sprintf("%dMB", c.memory>>20)
	}
	s := fmt.Sprintf("threads=%d,mem=%s", c.threads, m)
	if c.file {
		s += ",file"
	}
	return s
}

// matrix is every configuration: results must be the same in each. Every
// combination of threads and memory limit runs in memory; two of them run
// on a database file too (restart reopens it), which costs more time.
var matrix = []cell{
	{threads: 1}, {threads: 2},
	{threads: 1, memory: tinyMemory}, {threads: 2, memory: tinyMemory},
	{threads: 2, file: true}, {threads: 1, memory: tinyMemory, file: true},
}

// TestCorpus runs every file of testdata/sql in every cell of the matrix,
// each on a new database.
func TestCorpus(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(corpus, "*.test"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no test files in %s", corpus)
	}
	for _, path := range paths {
		f, err := ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			for _, c := range matrix {
				t.Run(c.String(), func(t *testing.T) {
					db := ""
					if c.file {
						db = filepath.Join(t.TempDir(), "test.db")
					}
					runFile(t, f, db, bpfdb.Options{Threads: c.threads, MemoryLimit: c.memory})
				})
			}
		})
	}
}

func runFile(t *testing.T, f *File, path string, opts bpfdb.Options) []*Failure {
	t.Helper()
	fails, err := f.Run(context.Background(), path, opts)
	for _, fl := range fails {
		t.Error(fl)
	}
	if err != nil {
		t.Fatal(err)
	}
	return fails
}

// TestCorpusParses checks every corpus file's syntax, and that each query
// expects as many values per row as it has columns.
func TestCorpusParses(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(corpus, "*.test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		f, err := ParseFile(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if len(f.Records) == 0 {
			t.Errorf("%s has no records", path)
		}
		for _, r := range f.Records {
			if r.Kind != Query {
				continue
			}
			if _, err := splitExpected(r.Expected, len(r.Types)); err != nil {
				t.Errorf("%s:%d: %v", path, r.Line, err)
			}
		}
	}
}

// TestRunnerCatchesMistakes runs a file whose every record is wrong in a
// different way and checks that each is reported.
func TestRunnerCatchesMistakes(t *testing.T) {
	const text = `
statement ok
CREATE TABLE t (a INTEGER, b VARCHAR)

statement ok
INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, '')

# wrong value
query IT
SELECT a, b FROM t ORDER BY a
----
1	x
2	NULL
4	(empty)

# wrong order under nosort
query I
SELECT a FROM t ORDER BY a DESC
----
1
2
3

# wrong column count
query II
SELECT a FROM t ORDER BY a
----
1	1

# wrong type letter: a is INTEGER
query R
SELECT a FROM t WHERE a = 1
----
1

# statement that succeeds but should fail
statement error no such table
SELECT * FROM t

# error text that differs
statement error division by zero
SELECT * FROM missing_table

# statement that fails but should succeed
statement ok
SELECT * FROM missing_table

# a label whose second result differs
query I rowsort same
SELECT a FROM t
----
1
2
3

query I rowsort same
SELECT a + 1 FROM t

# more rows than expected
query I rowsort
SELECT a FROM t
----
1
2
`
	f, err := Parse("mistakes.test", text)
	if err != nil {
		t.Fatal(err)
	}
	fails, err := f.Run(context.Background(), "", bpfdb.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"result differs",
		"result differs",
		"1 result columns",
		"the header says R",
		"statement succeeded, want an error containing \"no such table\"",
		"does not contain \"division by zero\"",
		"statement failed",
		"differs from the earlier query labelled same",
		"result differs",
	}
	if len(fails) != len(want) {
		for _, fl := range fails {
			t.Log(fl)
		}
		t.Fatalf("%d failures, want %d", len(fails), len(want))
	}
	for i, w := range want {
		if !strings.Contains(fails[i].Msg, w) {
			t.Errorf("failure %d = %v\nwant it to contain %q", i, fails[i], w)
		}
	}
}

// TestRunnerPasses runs a file whose every record is right, in every
// sort mode and with both ways of separating values.
func TestRunnerPasses(t *testing.T) {
	const text = `
statement ok
CREATE TABLE t (a INTEGER, b VARCHAR, c DECIMAL(5,2))

statement ok
INSERT INTO t VALUES (2, 'two words', 1.5), (1, NULL, NULL), (3, '', -0.25)

query ITR
SELECT a, b, c FROM t ORDER BY a
----
1	NULL	NULL
2	two words	1.50
3	(empty)	-0.25

query IR rowsort
SELECT a, c FROM t
----
3   -0.25
1   NULL
2   1.50

query I valuesort
SELECT a FROM t
----
2
3
1

query R rowsort lbl
SELECT c FROM t
----
1.50
-0.25
NULL

query R rowsort lbl
SELECT c FROM t ORDER BY a DESC

query I
SELECT a FROM t WHERE a > 5
----

statement error
SELECT * FROM nowhere

statement error
SELECT * FROM nowhere
----
nowhere
`
	f, err := Parse("passes.test", text)
	if err != nil {
		t.Fatal(err)
	}
	runFile(t, f, "", bpfdb.Options{Threads: 1})
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ text, err string }{
		{"select 1\n", `:1: unknown record "select 1"`},
		{"statement ok\n\n", ":1: statement ok without SQL"},
		{"query X\nSELECT 1\n----\n1\n", `:1: query column type 'X'`},
		{"query I rowsort a b\nSELECT 1\n----\n1\n", ":1: query header"},
		{"\nquery I\nSELECT 1\n", ":2: query without ----"},
		{"statement ok\nSELECT 1\n----\n1\n", ":3: statement ok has no expected output"},
		{"statement error x\nSELECT 1\n----\ny\n", ":1: statement error has its text on the header line and after ----"},
	}
	for _, tt := range tests {
		_, err := Parse("f.test", tt.text)
		if err == nil || !strings.Contains(err.Error(), "f.test"+tt.err) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tt.text, err, "f.test"+tt.err)
		}
	}
}

func TestParse(t *testing.T) {
	f, err := Parse("f.test", "# c\nstatement error some text\nSELECT\n  1\n\nquery IRT valuesort lbl\nSELECT 1, 2.5, 'x'\n----\n1\t2.5\tx\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 2 {
		t.Fatalf("%d records", len(f.Records))
	}
	r := f.Records[0]
	if r.Line != 2 || r.Kind != StatementError || r.Error != "some text" || r.SQL != "SELECT\n  1" {
		t.Errorf("record 1: %+v", r)
	}
	r = f.Records[1]
	if r.Line != 6 || r.Kind != Query || r.Types != "IRT" || r.Sort != ValueSort || r.Label != "lbl" || len(r.Expected) != 1 {
		t.Errorf("record 2: %+v", r)
	}
}

// FuzzParse checks that any text parses or fails with ErrSyntax, and that
// every parsed record has SQL and a kind.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(corpus, "*.test"))
	for _, p := range paths[:min(len(paths), 4)] {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(string(data))
		}
	}
	f.Add("statement error x\nSELECT 1\n\nquery I rowsort l\nSELECT 1\n----\n1\n")
	f.Fuzz(func(t *testing.T, text string) {
		file, err := Parse("fuzz.test", text)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		for _, r := range file.Records {
			if r.SQL == "" || r.Line < 1 || (r.Kind == Query && r.Types == "") {
				t.Fatalf("record %+v", r)
			}
		}
	})
}

// TestRestart checks that restart reopens a database file and is a no-op
// in memory.
func TestRestart(t *testing.T) {
	const text = `
statement ok
CREATE TABLE t (a INTEGER)

statement ok
INSERT INTO t VALUES (1)

restart

query I
SELECT a FROM t
----
1
`
	f, err := Parse("restart.test", text)
	if err != nil {
		t.Fatal(err)
	}
	if f.Records[2].Kind != Restart {
		t.Fatalf("record 3 is %v, want restart", f.Records[2].Kind)
	}
	runFile(t, f, "", bpfdb.Options{Threads: 1})
	runFile(t, f, filepath.Join(t.TempDir(), "r.db"), bpfdb.Options{Threads: 1})
}
