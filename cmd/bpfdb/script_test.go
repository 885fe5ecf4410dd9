package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt with the actual output")

// TestScripts runs the command lines of testdata/*.txt in-process and
// compares what they print and their exit code with the file. The format is
// pebble's datadriven, cut down:
//
//	# comment (kept by -rewrite, as are blank lines between cases)
//	bpfdb bpf run testdata/pass.data
//	----
//	0x1
//	exit 0
//
// The expected output is stdout as printed, then "stderr:" and stderr when
// there is any, then "exit N". It ends at the first blank line; output that
// has blank lines itself is written between "----" and a closing
// "----" / "----" pair, as datadriven does. Arguments are separated by
// spaces; "..." or '...' quotes one with spaces. The commands run in the
// package directory, so paths are relative to cmd/bpfdb.
//
// go test ./cmd/bpfdb -run TestScripts -rewrite regenerates the expected
// output; review the diff, as a rewritten golden proves nothing by itself.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txt scripts")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScript(t, file)
		})
	}
}

// scriptCase is one command of a script with its expected output.
type scriptCase struct {
	prefix string // comments and blank lines before the command, verbatim
	line   int    // of the command
	cmd    string
	want   string
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases, trailer, err := parseScript(string(data))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out strings.Builder
	for _, c := range cases {
		args, err := splitArgs(c.cmd)
		if err != nil {
			t.Fatalf("%s:%d: %v", file, c.line, err)
		}
		if len(args) == 0 || args[0] != "bpfdb" {
			t.Fatalf("%s:%d: command %q does not start with bpfdb", file, c.line, c.cmd)
		}
		var stdout, stderr bytes.Buffer
		code := run(args[1:], &stdout, &stderr)
		got := renderResult(stdout.String(), stderr.String(), code)
		if !*rewrite && got != c.want {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", file, c.line, c.cmd, got, c.want)
		}
		out.WriteString(c.prefix)
		out.WriteString(c.cmd + "\n----\n")
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

// renderResult is the text form of a command's result that scripts pin.
func renderResult(stdout, stderr string, code int) string {
	var b strings.Builder
	withNewline := func(s string) {
		b.WriteString(s)
		if s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteString("\n[no newline at the end]\n")
		}
	}
	withNewline(stdout)
	if stderr != "" {
		b.WriteString("stderr:\n")
		withNewline(stderr)
	}
	fmt.Fprintf(&b, "exit %d\n", code)
	return b.String()
}

// parseScript splits a script into its cases and the comments after the
// last one.
func parseScript(s string) (cases []scriptCase, trailer string, err error) {
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
		c := scriptCase{prefix: prefix.String(), line: i + 1, cmd: l}
		prefix.Reset()
		i++
		if i >= len(lines) || text(i) != "----" {
			return nil, "", fmt.Errorf("line %d: want ---- after the command %q", c.line, c.cmd)
		}
		i++
		var want strings.Builder
		if i < len(lines) && text(i) == "----" {
			// Output with blank lines: up to a ---- / ---- pair.
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
			// Output up to the first blank line; the blank line belongs to
			// the next case's prefix.
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

// splitArgs splits a command line at spaces; "..." and '...' quote an
// argument (without escapes).
func splitArgs(s string) ([]string, error) {
	var (
		args   []string
		cur    strings.Builder
		quote  rune
		hasArg bool
	)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, hasArg = r, true
		case r == ' ' || r == '\t':
			if hasArg {
				args = append(args, cur.String())
				cur.Reset()
				hasArg = false
			}
		default:
			cur.WriteRune(r)
			hasArg = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if hasArg {
		args = append(args, cur.String())
	}
	return args, nil
}

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"bpfdb bpf run x.data", []string{"bpfdb", "bpf", "run", "x.data"}},
		{`a  --mem "01 02"  b`, []string{"a", "--mem", "01 02", "b"}},
		{`a '' b`, []string{"a", "", "b"}},
		{`a --x='q r'`, []string{"a", "--x=q r"}},
	} {
		got, err := splitArgs(tc.in)
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := splitArgs(`a "b`); err == nil {
		t.Error(`splitArgs("a \"b") did not fail`)
	}
}

// TestParseScript pins the script format, both output forms and the
// comments kept for -rewrite.
func TestParseScript(t *testing.T) {
	const script = `# one
bpfdb a
----
x
exit 0

# two
bpfdb b
----
----
y

exit 1
----
----
# end
`
	cases, trailer, err := parseScript(script)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || trailer != "# end\n" {
		t.Fatalf("got %d cases, trailer %q", len(cases), trailer)
	}
	if c := cases[0]; c.prefix != "# one\n" || c.line != 2 || c.cmd != "bpfdb a" || c.want != "x\nexit 0\n" {
		t.Errorf("case 0: %+v", c)
	}
	if c := cases[1]; c.prefix != "\n# two\n" || c.line != 8 || c.cmd != "bpfdb b" || c.want != "y\n\nexit 1\n" {
		t.Errorf("case 1: %+v", c)
	}
	for _, bad := range []string{"bpfdb a\nx\n", "bpfdb a\n----\n----\ny\n"} {
		if _, _, err := parseScript(bad); err == nil {
			t.Errorf("parseScript(%q) did not fail", bad)
		}
	}
}
