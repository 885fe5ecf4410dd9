package prevail_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/internal/prevail"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/corpus.golden with the current translation")

// TestCorpusGolden pins the translation of every case in
// testdata/corpus.golden: its verdict and its program in the kernel syntax,
// block by block, with the assume marks, the PREVAIL numbers that differ
// from the instruction's index and the implicit exit. Review a changed
// golden line by line: it is the verifier harness's input.
func TestCorpusGolden(t *testing.T) {
	cases := loadCorpus(t)
	var b strings.Builder
	for _, c := range cases {
		writeCase(&b, c)
	}
	const golden = "testdata/corpus.golden"
	if *rewrite {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -rewrite to create it)", err)
	}
	if got := b.String(); got != string(want) {
		gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gotLines) && i < len(wantLines); i++ {
			if gotLines[i] != wantLines[i] {
				t.Fatalf("%s:%d differs:\n got %s\nwant %s\n(run go test -rewrite after reviewing the change)", golden, i+1, gotLines[i], wantLines[i])
			}
		}
		t.Fatalf("%s: got %d lines, want %d (run go test -rewrite after reviewing the change)", golden, len(gotLines), len(wantLines))
	}
}

func writeCase(b *strings.Builder, c *prevail.Case) {
	fmt.Fprintf(b, "case %s:%d %q\n", filepath.Base(c.File), c.Line, c.Name)
	switch {
	case c.ParseError != nil:
		msg := c.ParseError.Error()
		if _, rest, ok := strings.Cut(msg, fmt.Sprintf("case %q: ", c.Name)); ok {
			msg = rest
		}
		fmt.Fprintf(b, "  untranslated: %s\n\n", msg)
		return
	case c.ExpectReject:
		fmt.Fprintf(b, "  reject: %s\n", strings.Join(c.Messages, " | "))
	default:
		b.WriteString("  accept\n")
	}
	assumes := make(map[int]prevail.Assume)
	for _, a := range c.Assumes {
		assumes[a.Index] = a
	}
	block := ""
	for i, ins := range c.Program {
		s := c.Source[i]
		if s.Block != block && s.Line != 0 {
			block = s.Block
			fmt.Fprintf(b, "  <%s>:\n", block)
		}
		var notes []string
		if a, ok := assumes[i]; ok {
			if a.Negated {
				notes = append(notes, "assume negated")
			} else {
				notes = append(notes, "assume")
			}
		}
		if s.Index != i {
			notes = append(notes, fmt.Sprintf("prevail %d", s.Index))
		}
		if s.Line == 0 {
			notes = append(notes, "implicit exit")
		}
		line := fmt.Sprintf("  %4d: %s", i, ins.KernelString())
		if len(notes) > 0 {
			line = fmt.Sprintf("%-44s ; %s", line, strings.Join(notes, ", "))
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n")
}
