package prevail_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/prevail"
)

// corpusDir is PREVAIL's test data, part of ../shared outside the
// repository.
const corpusDir = "../../../../shared/verifier/prevail"

func loadCorpus(t *testing.T) []*prevail.Case {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("PREVAIL test cases not found at %s (they live in ../shared, outside the repository): %v", corpusDir, err)
	}
	cases, err := prevail.Load(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// untranslatable lists the cases whose code has no bpfdb encoding, and why.
var untranslatable = map[string]string{
	// RFC 9669 defines the 32-bit sign-extending move only from 8 and 16
	// bits; PREVAIL's text syntax can write the 32-bit one, which no
	// encoding has (the kernel rejects it too).
	"movsx32 into the same register to 32 bits": "movsx32 exists only in ALU64",
}

// TestCorpus loads the 28 case files (the directory's 29 YAML files less
// test-schema.yaml), pins the counts the verifier harness
// relies on and checks every translated program as bytecode.
func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	var (
		files                         = make(map[string]bool)
		translated, reject, accept    int
		unreachableOnly, withAssume   int
		implicitExit, expanded, wide  int
		observed, observeErr, excepts int
	)
	for _, c := range cases {
		files[c.File] = true
		if c.ExpectReject {
			reject++
		} else {
			accept++
		}
		if c.ObserveError != nil {
			observeErr++
			if c.ExpectedException == "" {
				t.Errorf("%s:%d: case %q: observe error without expected-exception: %v", c.File, c.Line, c.Name, c.ObserveError)
			}
		}
		if len(c.Observe) > 0 {
			observed++
		}
		if c.ExpectedException != "" {
			excepts++
		}
		if len(c.Messages) > 0 && !slices.ContainsFunc(c.Messages, func(m string) bool { return !prevail.ParseMessage(m).IsUnreachable() }) {
			unreachableOnly++
		}
		if c.ParseError != nil {
			want, ok := untranslatable[c.Name]
			if !ok || !strings.Contains(c.ParseError.Error(), want) {
				t.Errorf("unexpected parse error: %v", c.ParseError)
			}
			var ae *asm.AssembleError
			if !errors.As(c.ParseError, &ae) {
				t.Errorf("%v is not an *asm.AssembleError underneath", c.ParseError)
			}
			continue
		}
		translated++
		checkProgram(t, c)
		if len(c.Assumes) > 0 {
			withAssume++
		}
		if c.ImplicitExit {
			implicitExit++
		}
		if slices.ContainsFunc(c.Program, asm.Instruction.IsWide) {
			wide++
		}
		for i, s := range c.Source {
			if s.Index != i {
				expanded++
				break
			}
		}
	}
	t.Logf("%d files, %d cases: %d translate; %d expected rejections (%d only for unreachable code), %d acceptances",
		len(files), len(cases), translated, reject, unreachableOnly, accept)
	t.Logf("%d cases use assume, %d fall off their end (implicit exit), %d expand &!=, %d use lddw; %d observe, %d expect a harness exception",
		withAssume, implicitExit, expanded, wide, observed, excepts)
	pins := []struct {
		name      string
		got, want int
	}{
		{"files", len(files), 28},
		{"cases", len(cases), 802},
		{"translated", translated, 802 - len(untranslatable)},
		{"expected rejections", reject, 273},
		{"expected acceptances", accept, 529},
		{"rejections only for unreachable code", unreachableOnly, 81},
		{"cases with assume", withAssume, 191},
		{"cases with an implicit exit", implicitExit, 690},
		{"cases with an expanded &!=", expanded, 2},
		{"cases with observe", observed, 7},
		{"observe errors", observeErr, 5},
		{"expected exceptions", excepts, 5},
	}
	for _, p := range pins {
		if p.got != p.want {
			t.Errorf("%s: got %d, want %d", p.name, p.got, p.want)
		}
	}
}

// checkProgram checks one translated case: the program is valid bytecode,
// prints and re-assembles, its side tables agree with it, and every message
// points at an instruction.
func checkProgram(t *testing.T, c *prevail.Case) {
	t.Helper()
	where := c.File + ": " + c.Name
	if len(c.Source) != len(c.Program) {
		t.Fatalf("%s: %d sources for %d instructions", where, len(c.Source), len(c.Program))
	}
	decoded, err := asm.Decode(c.Program.Encode())
	if err != nil || !slices.Equal(decoded, c.Program) {
		t.Errorf("%s: program does not decode back (%v)", where, err)
	}
	again, err := asm.AssembleKernel(asm.DisassembleKernel(c.Program))
	if err != nil || !slices.Equal(again, c.Program) {
		t.Errorf("%s: program does not re-assemble (%v)", where, err)
	}
	for _, a := range c.Assumes {
		ins := c.Program[a.Index]
		if !ins.IsBranch() || ins.OpCode.JumpOp() == asm.Ja || ins.Offset != 0 {
			t.Errorf("%s: assume at %d is %v, not a conditional jump +0", where, a.Index, ins)
		}
		if !strings.HasPrefix(strings.TrimSpace(c.Source[a.Index].Text), "assume") {
			t.Errorf("%s: assume at %d comes from %q", where, a.Index, c.Source[a.Index].Text)
		}
	}
	if c.ImplicitExit != (c.Source[len(c.Source)-1].Line == 0) || !c.Program[len(c.Program)-1].IsExit() && c.ImplicitExit {
		t.Errorf("%s: implicit exit %v does not match the program's end", where, c.ImplicitExit)
	}
	for _, b := range c.Blocks {
		if b.Start > len(c.Program) || b.Start < len(c.Program) && c.Source[b.Start].Block != b.Label {
			t.Errorf("%s: block <%s> starts at %d", where, b.Label, b.Start)
		}
	}
	for _, m := range c.Messages {
		pm := prevail.ParseMessage(m)
		if pm.Insn < 0 {
			continue
		}
		if _, ok := c.InstructionAt(pm.Insn); !ok {
			t.Errorf("%s: message %q points at no instruction", where, m)
		}
	}
}

// TestCorpusLines checks that every instruction's Source names the file
// line that holds its text.
func TestCorpusLines(t *testing.T) {
	cases := loadCorpus(t)
	files := make(map[string][]string)
	for _, c := range cases {
		if c.ParseError != nil {
			continue
		}
		lines, ok := files[c.File]
		if !ok {
			data, err := os.ReadFile(c.File)
			if err != nil {
				t.Fatal(err)
			}
			lines = strings.Split(string(data), "\n")
			files[c.File] = lines
		}
		for i, s := range c.Source {
			if s.Line == 0 {
				continue // implicit exit
			}
			if s.Line > len(lines) || !strings.Contains(lines[s.Line-1], strings.TrimSpace(s.Text)) {
				t.Fatalf("%s: case %q: instruction %d says line %d %q, the file has %q", c.File, c.Name, i, s.Line, s.Text, lines[s.Line-1])
			}
		}
	}
}
