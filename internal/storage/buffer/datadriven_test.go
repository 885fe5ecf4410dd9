package buffer

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of the testdata files")

// A ddCase is one case of a data-driven test file:
//
//	command arg key=value ...
//	input lines (optional)
//	----
//	expected output, up to the next blank line
type ddCase struct {
	Pos      string            // file:line of the command
	Cmd      string            // the command's first word
	Args     []string          // its other words without '='
	KV       map[string]string // its key=value words
	Input    string
	expected string
	lo, hi   int // line range of the expected output
}

// runDataDriven runs every case of each testdata file matching pattern
// through run, comparing (or, with -rewrite, replacing) the expected
// output. Lines starting with '#' between cases are comments.
func runDataDriven(t *testing.T, pattern string, run func(t *testing.T, c *ddCase) string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files match %s (%v)", pattern, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			cases := parseDataDriven(t, path, lines)
			var out []string
			next := 0
			for _, c := range cases {
				got := strings.TrimRight(run(t, c), "\n")
				if *rewrite {
					out = append(out, lines[next:c.lo]...)
					if got != "" {
						out = append(out, strings.Split(got, "\n")...)
					}
					next = c.hi
				} else if got != c.expected {
					t.Errorf("%s: %s\ngot:\n%s\nwant:\n%s", c.Pos, c.Cmd, got, c.expected)
				}
			}
			if *rewrite {
				out = append(out, lines[next:]...)
				if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func parseDataDriven(t *testing.T, path string, lines []string) []*ddCase {
	var cases []*ddCase
	for i := 0; i < len(lines); {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			i++
			continue
		}
		c := &ddCase{Pos: fmt.Sprintf("%s:%d", path, i+1), KV: map[string]string{}}
		f := strings.Fields(line)
		c.Cmd = f[0]
		for _, a := range f[1:] {
			if k, v, ok := strings.Cut(a, "="); ok {
				c.KV[k] = v
			} else {
				c.Args = append(c.Args, a)
			}
		}
		i++
		var input []string
		for i < len(lines) && lines[i] != "----" {
			input = append(input, lines[i])
			i++
		}
		if i == len(lines) {
			t.Fatalf("%s: no ---- after the command", c.Pos)
		}
		c.Input = strings.Join(input, "\n")
		i++
		c.lo = i
		for i < len(lines) && lines[i] != "" {
			i++
		}
		c.hi = i
		c.expected = strings.Join(lines[c.lo:c.hi], "\n")
		cases = append(cases, c)
	}
	return cases
}
