package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bpfdb/bpfdb"
)

// TestSQLScripts runs the SQL command lines of testdata/sql/*.txt (bpfdb -c
// and bpfdb shell) in-process and compares what they print and their exit
// code with the file. The format is TestScripts's, with one addition: the
// lines between the command and "----" are the command's standard input,
// which the shell reads as a script.
//
//	# comment
//	bpfdb shell
//	CREATE TABLE t (a INTEGER);
//	.tables
//	----
//	CREATE TABLE
//	t
//	exit 0
//
// "$TMP" in a command line is a directory of the file's own, shared by its
// commands (a database file written by one command is read by the next).
// The shell's .timer reads a clock that ticks 1ms a reading, so a run time
// prints as 0.001s. go test ./cmd/bpfdb -run TestSQLScripts -rewrite
// regenerates the expected output; the comments in the files say what
// each output must show, so that a rewrite is checked by reading.
func TestSQLScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/sql/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/sql/*.txt scripts")
	}
	defer func(c func() time.Time) { clock = c }(clock)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			var ticks time.Duration
			clock = func() time.Time {
				ticks += time.Millisecond
				return time.Unix(0, 0).Add(ticks)
			}
			runSQLScript(t, file)
		})
	}
}

// sqlCase is one command of a SQL script: its input and expected output.
type sqlCase struct {
	prefix string // comments and blank lines before the command, verbatim
	line   int    // of the command
	cmd    string
	input  string
	want   string
}

func runSQLScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases, trailer, err := parseSQLScript(string(data))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	tmp := t.TempDir()
	var out strings.Builder
	for _, c := range cases {
		args, err := splitArgs(strings.ReplaceAll(c.cmd, "$TMP", tmp))
		if err != nil {
			t.Fatalf("%s:%d: %v", file, c.line, err)
		}
		if len(args) == 0 || args[0] != "bpfdb" {
			t.Fatalf("%s:%d: command %q does not start with bpfdb", file, c.line, c.cmd)
		}
		var stdout, stderr bytes.Buffer
		code := runWithInput(args[1:], strings.NewReader(c.input), &stdout, &stderr)
		got := renderResult(stdout.String(), stderr.String(), code)
		if !*rewrite && got != c.want {
			t.Errorf("%s:%d: %s\n%s\ngot:\n%s\nwant:\n%s", file, c.line, c.cmd, c.input, got, c.want)
		}
		out.WriteString(c.prefix + c.cmd + "\n" + c.input + "----\n")
		if strings.Contains(got, "\n\n") {
			out.WriteString("----\n" + got + "----\n----\n")
		} else {
			out.WriteString(got)
		}
	}
	out.WriteString(trailer)
	if *rewrite && out.String() != string(data) {
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", file)
	}
}

// runWithInput runs a command line as main does, with stdin as the
// standard input of the SQL commands.
func runWithInput(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 0 && args[0] == "shell":
		return shellCommand(args[1:], stdin, stdout, stderr)
	case len(args) > 0 && isSQLFlag(args[0]):
		return sqlCommand(args, stdin, stdout, stderr)
	}
	return run(args, stdout, stderr)
}

// parseSQLScript splits a SQL script into its cases and the comments after
// the last one.
func parseSQLScript(s string) (cases []sqlCase, trailer string, err error) {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	text := func(i int) string { return strings.TrimRight(lines[i], "\n") }
	var prefix strings.Builder
	for i := 0; i < len(lines); i++ {
		l := text(i)
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			prefix.WriteString(lines[i])
			continue
		}
		c := sqlCase{prefix: prefix.String(), line: i + 1, cmd: l}
		prefix.Reset()
		var input strings.Builder
		for i++; i < len(lines) && text(i) != "----"; i++ {
			input.WriteString(lines[i])
		}
		if i >= len(lines) {
			return nil, "", fmt.Errorf("line %d: no ---- after the command %q and its input", c.line, c.cmd)
		}
		c.input = input.String()
		i++
		var want strings.Builder
		if i < len(lines) && text(i) == "----" {
			for i++; ; i++ {
				if i+1 >= len(lines) {
					return nil, "", fmt.Errorf("line %d: no closing ---- / ---- for the output of %q", c.line, c.cmd)
				}
				if text(i) == "----" && text(i+1) == "----" {
					i++
					break
				}
				want.WriteString(lines[i])
			}
		} else {
			for ; i < len(lines) && strings.TrimSpace(text(i)) != ""; i++ {
				want.WriteString(lines[i])
			}
			i--
		}
		c.want = want.String()
		cases = append(cases, c)
	}
	return cases, prefix.String(), nil
}

// TestParseSQLScript pins the input part of the format.
func TestParseSQLScript(t *testing.T) {
	const script = `# one
bpfdb shell
SELECT 1;

.tables
----
x
exit 0

bpfdb -c "SELECT 1"
----
y
exit 1

# end
`
	cases, trailer, err := parseSQLScript(script)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || trailer != "\n# end\n" {
		t.Fatalf("got %d cases, trailer %q", len(cases), trailer)
	}
	if c := cases[0]; c.prefix != "# one\n" || c.cmd != "bpfdb shell" || c.input != "SELECT 1;\n\n.tables\n" || c.want != "x\nexit 0\n" {
		t.Errorf("case 0: %+v", c)
	}
	if c := cases[1]; c.input != "" || c.line != 10 || c.want != "y\nexit 1\n" {
		t.Errorf("case 1: %+v", c)
	}
	if _, _, err := parseSQLScript("bpfdb shell\nSELECT 1;\n"); err == nil {
		t.Error("a command without ---- parsed")
	}
}

// BenchmarkShellLongStatement reads a script whose INSERT spans 20,000
// lines (a dump's shape) through the shell; ns/line stays flat as the
// statement grows because lines without ';' are not split again.
func BenchmarkShellLongStatement(b *testing.B) {
	const rows = 20000
	var sb strings.Builder
	sb.WriteString("CREATE TABLE t (a INTEGER, b VARCHAR);\nINSERT INTO t VALUES\n")
	for i := range rows {
		sep := ","
		if i == rows-1 {
			sep = ";"
		}
		fmt.Fprintf(&sb, "(%d, 'row %d')%s\n", i, i, sep)
	}
	sb.WriteString("SELECT count(*) AS n FROM t;\n")
	script := sb.String()
	for b.Loop() {
		var out, errs bytes.Buffer
		if code := shellCommand(nil, strings.NewReader(script), &out, &errs); code != 0 || !strings.Contains(out.String(), fmt.Sprint(rows)) {
			b.Fatalf("exit %d: %s%s", code, out.String(), errs.String())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(rows+3)), "ns/line")
}

// TestShellRandomScripts feeds the shell random scripts: statements cut
// across lines anywhere between tokens, several on a line, strings and
// comments holding ';' and line breaks, blank lines, and a last statement
// without ';'. The shell must run exactly the statements of the script,
// in order (its output is compared with each statement run on its own),
// and place the error of a statement with an unknown column at the
// column's line and column in the script. BPFDB_SEED replays a run.
func TestShellRandomScripts(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("BPFDB_SEED=%q: %v", s, err)
		}
	}
	t.Logf("BPFDB_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	db, err := bpfdb.Open("", bpfdb.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	for iter := range 60 {
		var script strings.Builder
		var want bytes.Buffer
		wantErr := ""
		// space returns what separates two tokens: spaces, line breaks
		// or comments, some holding ';'.
		space := func() string {
			switch r.IntN(6) {
			case 0:
				return "\n"
			case 1:
				return " -- a; comment\n"
			case 2:
				return " /* x;\ny */ "
			}
			return " "
		}
		// where is the line and column (in characters) the script's next
		// character will have.
		where := func() (int, int) {
			s := script.String()
			nl := strings.LastIndexByte(s, '\n')
			return strings.Count(s, "\n") + 1, utf8.RuneCountInString(s[nl+1:]) + 1
		}
		n := 1 + r.IntN(6)
		bad := r.IntN(n + 1) // the statement with the unknown column, if < n
		for i := range n {
			if r.IntN(3) == 0 {
				script.WriteString(pick("\n", "\n\n", "-- between;\n", "/* ; */\n"))
			}
			lit := pick("'a'", "'x;y'", "'it''s'", "'two\nlines;'", "'é'", "42", "-1.50")
			name := fmt.Sprintf("c%d", i)
			script.WriteString("SELECT" + space())
			if i == bad {
				line, col := where()
				wantErr = fmt.Sprintf("error: stdin:%d:%d: column \"nope\" does not exist", line, col)
				script.WriteString("nope")
			} else {
				script.WriteString(lit)
			}
			script.WriteString(space() + "AS" + space() + name)
			if i != bad {
				res, err := db.Query(context.Background(), "SELECT "+lit+" AS "+name)
				if err != nil {
					t.Fatal(err)
				}
				if err := writeCSV(&want, res); err != nil {
					t.Fatal(err)
				}
			}
			if i < n-1 || r.IntN(2) == 0 {
				script.WriteString(";" + pick("", " ", "\n", "\n", " -- end;\n"))
			}
		}
		var out, errs bytes.Buffer
		code := shellCommand([]string{"--format", "csv"}, strings.NewReader(script.String()), &out, &errs)
		gotErr, _, _ := strings.Cut(errs.String(), "\n")
		if out.String() != want.String() || gotErr != wantErr || (code != 0) != (wantErr != "") {
			t.Fatalf("script %d (BPFDB_SEED=%d):\n%s\noutput:\n%s\nwant:\n%s\nfirst error line: %q\nwant: %q\nexit %d",
				iter, seed, script.String(), out.String(), want.String(), gotErr, wantErr, code)
		}
	}
}
