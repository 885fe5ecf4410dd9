// Package datadriven runs golden-file tests: a file of cases, each a command
// line, input lines, "----" and the expected output up to the next blank
// line (pebble's data-driven format, cut down):
//
//	# a comment
//	parse DECIMAL(15,2)
//	12.34
//	----
//	1234 (scale 2)
//
// The output a test computes is compared with the file, or, when the test
// runs with its -rewrite flag, written back in its place. Only tests import
// this package; it imports nothing of bpfdb.
package datadriven

import (
	"os"
	"strings"
	"testing"
)

// A Case is one case of a golden file.
type Case struct {
	Line  int      // line of the command, 1-based
	Cmd   string   // the command's first word
	Args  []string // its other words
	Input []string // the lines between the command and "----"
	Want  string   // the expected output, lines joined by "\n"
}

// Run runs every case of the golden file at path through run and compares
// its output with the expected one, or, if rewrite is set, rewrites the
// file with the outputs run returned (comments and blank lines between
// cases are kept).
func Run(t *testing.T, path string, rewrite bool, run func(t *testing.T, c *Case) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out strings.Builder
	for i := 0; i < len(lines); {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			out.WriteString(l)
			if i < len(lines)-1 {
				out.WriteByte('\n')
			}
			i++
			continue
		}
		f := strings.Fields(l)
		c := &Case{Line: i + 1, Cmd: f[0], Args: f[1:]}
		out.WriteString(l + "\n")
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			c.Input = append(c.Input, lines[i])
			out.WriteString(lines[i] + "\n")
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: %s has no ---- line", path, c.Line, c.Cmd)
		}
		i++
		var want []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			want = append(want, lines[i])
		}
		c.Want = strings.Join(want, "\n")
		got := strings.TrimRight(run(t, c), "\n")
		out.WriteString("----\n" + got + "\n")
		if !rewrite && got != c.Want {
			t.Errorf("%s:%d: %s %s:\ngot:\n%s\nwant:\n%s", path, c.Line, c.Cmd, strings.Join(c.Args, " "), got, c.Want)
		}
	}
	if rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Arg returns the value of the key=value word among the case's arguments;
// the test fails if there is none.
func (c *Case) Arg(t *testing.T, key string) string {
	t.Helper()
	for _, a := range c.Args {
		if k, v, ok := strings.Cut(a, "="); ok && k == key {
			return v
		}
	}
	t.Fatalf("line %d: %s needs %s=", c.Line, c.Cmd, key)
	return ""
}
