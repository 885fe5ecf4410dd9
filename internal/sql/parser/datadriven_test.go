package parser

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata golden files with the actual output")

// A ddCase is one case of a data-driven test file: a command line, input
// lines, "----", and the expected output up to the next blank line.
type ddCase struct {
	line  int
	cmd   string
	input string
	want  string
}

// runDataDriven runs every case of the golden file path through run and
// compares the output, or rewrites the file with -rewrite. Lines starting
// with "#" between cases are comments.
func runDataDriven(t *testing.T, path string, run func(t *testing.T, c *ddCase) string) {
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
		c := &ddCase{line: i + 1, cmd: strings.TrimSpace(l)}
		out.WriteString(l + "\n")
		i++
		var input []string
		for ; i < len(lines) && lines[i] != "----"; i++ {
			input = append(input, lines[i])
			out.WriteString(lines[i] + "\n")
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: %s has no ---- line", path, c.line, c.cmd)
		}
		c.input = strings.Join(input, "\n")
		i++
		var want []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			want = append(want, lines[i])
		}
		c.want = strings.Join(want, "\n")
		got := strings.TrimRight(run(t, c), "\n")
		// A blank line would end the case: mark empty output lines.
		got = strings.ReplaceAll(got, "\n\n", "\n<blank>\n")
		out.WriteString("----\n" + got + "\n")
		if !*rewrite && got != c.want {
			t.Errorf("%s:%d: %s:\n%s\ngot:\n%s\nwant:\n%s", path, c.line, c.cmd, c.input, got, c.want)
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
