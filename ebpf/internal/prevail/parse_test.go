package prevail_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/prevail"
)

// parseOne parses a file holding exactly one case.
func parseOne(t *testing.T, src string) *prevail.Case {
	t.Helper()
	cases, err := prevail.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(cases) != 1 {
		t.Fatalf("got %d cases, want 1", len(cases))
	}
	return cases[0]
}

func mustAssemble(t *testing.T, src string) asm.Instructions {
	t.Helper()
	insns, err := asm.Assemble(src)
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	return insns
}

// TestTranslate checks block order, fall-through, label resolution across
// a lddw, local calls, comments, and the fields around the code.
func TestTranslate(t *testing.T) {
	c := parseOne(t, `# comment before the first document
---
test-case: while loop
options: ["termination"]
pre: ["r1.type=ctx", "r1.ctx_offset=0"]

code:
  <start>: |
    r0 = 0 ; set up
    r2 = 0x100000000 ll
  <loop>: |
    if r0 >= 4 goto <out>
    r0 += 1
    goto <loop>
  <out>: |
    call <sub>
    exit
  <sub>: r0 = 1

post:
  - r0.type=number
`)
	if c.ParseError != nil {
		t.Fatal(c.ParseError)
	}
	want := mustAssemble(t, `
		mov %r0, 0
		lddw %r2, 0x100000000
		jge %r0, 4, +2
		add %r0, 1
		ja -3
		call local +1
		exit
		mov %r0, 1
		exit`)
	if !slices.Equal(c.Program, want) {
		t.Errorf("program\n%s\nwant\n%s", c.Program, want)
	}
	if !c.ImplicitExit || c.Source[len(c.Source)-1].Line != 0 {
		t.Errorf("the last block falls off the end: want an implicit exit, got %v", c.ImplicitExit)
	}
	if c.Name != "while loop" || c.Line != 3 || c.ExpectReject ||
		!slices.Equal(c.Options, []string{"termination"}) ||
		!slices.Equal(c.Pre, []string{"r1.type=ctx", "r1.ctx_offset=0"}) ||
		!slices.Equal(c.Post, []string{"r0.type=number"}) || len(c.PreConstraints) != 2 {
		t.Errorf("fields: %+v", c)
	}
	var labels []string
	var starts []int
	for _, b := range c.Blocks {
		labels = append(labels, b.Label)
		starts = append(starts, b.Start)
	}
	if !slices.Equal(labels, []string{"start", "loop", "out", "sub"}) || !slices.Equal(starts, []int{0, 2, 5, 7}) {
		t.Errorf("blocks %v start at %v", labels, starts)
	}
	src := c.Source[0]
	if src.Block != "start" || src.Line != 9 || src.Text != "r0 = 0 ; set up" || src.Index != 0 {
		t.Errorf("source of instruction 0: %+v", src)
	}
	if s := c.Source[7]; s.Block != "sub" || s.Line != 18 || s.Index != 7 {
		t.Errorf("source of instruction 7 (a plain scalar block): %+v", s)
	}
}

// TestAssume checks the encoding of assume, of &!= and of an assume
// that ends the program.
func TestAssume(t *testing.T) {
	c := parseOne(t, `---
test-case: assume and jnset
pre: []
code:
  <start>: |
    assume r1 < r2
    if w1 &!= 4 goto <exit>
    assume w1 &!= 2
    r0 = 1
  <exit>: |
    exit
post: ["_|_"]
messages:
  - "4: Invalid type (r0.type == number)"
`)
	if c.ParseError != nil {
		t.Fatal(c.ParseError)
	}
	want := mustAssemble(t, `
		jlt %r1, %r2, +0
		jset32 %r1, 4, +1
		ja +2
		jset32 %r1, 2, +0
		mov %r0, 1
		exit`)
	if !slices.Equal(c.Program, want) {
		t.Errorf("program\n%s\nwant\n%s", c.Program, want)
	}
	if wantA := []prevail.Assume{{Index: 0}, {Index: 3, Negated: true}}; !slices.Equal(c.Assumes, wantA) {
		t.Errorf("assumes %v, want %v", c.Assumes, wantA)
	}
	var idx []int
	for _, s := range c.Source {
		idx = append(idx, s.Index)
	}
	if !slices.Equal(idx, []int{0, 1, 1, 2, 3, 4}) {
		t.Errorf("PREVAIL numbers %v", idx)
	}
	if i, ok := c.InstructionAt(4); !ok || i != 5 {
		t.Errorf("InstructionAt(4) = %d, %v; want the exit, 5", i, ok)
	}
	if c.ImplicitExit || !c.ExpectReject {
		t.Errorf("ImplicitExit %v, ExpectReject %v", c.ImplicitExit, c.ExpectReject)
	}

	c = parseOne(t, "test-case: t\npre: []\ncode:\n  <start>: assume r1 s> 0\npost: []\n")
	want = mustAssemble(t, "jsgt %r1, 0, +0\nexit")
	if c.ParseError != nil || !slices.Equal(c.Program, want) || !c.ImplicitExit {
		t.Errorf("a lone assume: %v\n%s (implicit exit %v)", c.ParseError, c.Program, c.ImplicitExit)
	}
}

// TestParseErrors checks that a case that cannot be read or translated
// keeps its place with a ParseError naming the file, line, case and
// block, while the other cases of the file still load.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
		assemble         bool // the error wraps an *asm.AssembleError
	}{
		{"unknown instruction", "code:\n  <start>: |\n    r0 = 0\n    r0 frob 1\n",
			`t.yaml:7: case "bad": block <start>: line 2: "r0 frob 1": want an assignment after r0, not "frob"`, true},
		{"unknown label", "code:\n  <start>: |\n    goto <nowhere>\n",
			`t.yaml:6: case "bad": block <start>: line 1: "goto <nowhere>": undefined label "nowhere"`, true},
		{"jump into nothing", "code:\n  <start>: |\n    r0 = 0 ; note\n    goto +5\n",
			`t.yaml:7: case "bad": block <start>: line 2: "goto +5": slot 1 (opcode 0x05): jump target 7 is outside the program (0..1)`, true},
		{"assume with a bad condition", "code:\n  <start>: |\n    assume r1 <> r2\n",
			`t.yaml:6: case "bad": block <start>: line 1: "assume r1 <> r2": want a number, not ">"`, true},
		{"invalid block label", "code:\n  start: exit\n",
			`t.yaml:5: case "bad": code: line 5: invalid block label "start": want <name>`, false},
		{"duplicate block", "code:\n  <a>: exit\n  <a>: exit\n",
			`t.yaml:5: case "bad": code: line 6: duplicate block <a>`, false},
		{"block is a list", "code:\n  <start>: [exit]\n",
			`t.yaml:5: case "bad": code: line 5: block <start> must be text`, false},
		{"unknown field", "code:\n  <start>: exit\npre2: 1\n",
			`t.yaml:6: case "bad": unknown field "pre2"`, false},
		{"bad constraint", "code:\n  <start>: exit\n",
			`t.yaml:3: case "bad": pre: constraint "r1.type": want VAR=VALUE or VAR in {TYPES}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pre := "pre: []"
			if tt.name == "bad constraint" {
				pre = `pre: ["r1.type"]`
			}
			body := "test-case: bad\n" + pre + "\n" + tt.yaml
			if !strings.Contains(tt.yaml, "post") {
				body += "post: []\n"
			}
			src := "---\n" + body + "---\ntest-case: good\npre: []\ncode:\n  <start>: exit\npost: []\n"
			cases, err := prevail.Parse("t.yaml", []byte(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(cases) != 2 || cases[1].ParseError != nil || len(cases[1].Program) != 1 {
				t.Fatalf("the good case did not load: %v", cases)
			}
			c := cases[0]
			if c.ParseError == nil {
				t.Fatalf("no error; program:\n%s", c.Program)
			}
			if got := c.ParseError.Error(); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
			var ae *asm.AssembleError
			if errors.As(c.ParseError, &ae) != tt.assemble {
				t.Errorf("errors.As(*asm.AssembleError) = %v, want %v", !tt.assemble, tt.assemble)
			}
			if c.Program != nil {
				t.Errorf("a case with an error has a program:\n%s", c.Program)
			}
		})
	}
}

// TestParseSchema checks the fields a case must have and their types.
func TestParseSchema(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"test-case: x\npre: []\npost: []\n", `t.yaml:1: case "x": missing field "code"`},
		{"test-case: x\ncode:\n  <start>: exit\npost: []\n", `t.yaml:1: case "x": missing field "pre"`},
		{"test-case: x\npre: r1.type=ctx\ncode:\n  <start>: exit\npost: []\n", `t.yaml:2: case "x": pre: must be a list of strings`},
		{"test-case: x\npre: [[1]]\ncode:\n  <start>: exit\npost: []\n", `t.yaml:2: case "x": pre: line 2: list item must be a string`},
		{"test-case: x\ntest-case: y\npre: []\ncode:\n  <start>: exit\npost: []\n", `t.yaml:2: case "y": duplicate field "test-case"`},
		{"test-case: [x]\npre: []\ncode:\n  <start>: exit\npost: []\n", `t.yaml:1: test-case must be a string`},
		{"- just a list\n", `t.yaml:1: a case must be a mapping`},
		{"test-case: x\npre: []\ncode: {}\npost: []\n", `t.yaml:3: case "x": code: has no blocks`},
	}
	for _, tt := range tests {
		c := parseOne(t, tt.yaml)
		if c.ParseError == nil || c.ParseError.Error() != tt.want {
			t.Errorf("%q:\n got %v\nwant %s", tt.yaml, c.ParseError, tt.want)
		}
	}
}

// TestMalformedYAML checks that a file that is not YAML fails as a whole,
// naming the file and the line.
func TestMalformedYAML(t *testing.T) {
	for _, src := range []string{
		"---\ntest-case: x\npre: [\ncode:\n",
		"---\ntest-case: x\n  pre: []\n",
		"---\ntest-case: \"unterminated\n",
	} {
		cases, err := prevail.Parse("bad.yaml", []byte(src))
		if err == nil {
			t.Errorf("%q: no error, %d cases", src, len(cases))
			continue
		}
		if !strings.HasPrefix(err.Error(), "parse bad.yaml: yaml: line ") {
			t.Errorf("%q: error %q does not name the file and line", src, err)
		}
	}
	if _, err := prevail.ParseFile("testdata/no-such-file.yaml"); err == nil {
		t.Error("ParseFile of a missing file succeeded")
	}
	if _, err := prevail.Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no test files") {
		t.Errorf("Load of an empty directory: %v", err)
	}
}

// TestObserve checks the observe entries and their errors.
func TestObserve(t *testing.T) {
	base := "test-case: x\npre: []\ncode:\n  <start>: exit\npost: []\n"
	c := parseOne(t, base+"observe:\n  - at: 0\n    point: pre\n    mode: consistent\n    constraints: [r0.type=number]\n")
	want := []prevail.Observation{{At: "0", Point: "pre", Mode: "consistent", Constraints: []string{"r0.type=number"}}}
	if c.ObserveError != nil || len(c.Observe) != 1 || !slices.Equal(c.Observe[0].Constraints, want[0].Constraints) ||
		c.Observe[0].At != "0" || c.Observe[0].Point != "pre" || c.Observe[0].Mode != "consistent" {
		t.Errorf("got %+v, %v", c.Observe, c.ObserveError)
	}
	for obs, want := range map[string]string{
		"  at: exit\n":                       "observe must be a sequence",
		"  - 1\n":                            "line 7: observe item must be a mapping",
		"  - at: exit\n":                     "line 7: observe item has no constraints",
		"  - at: exit\n    constraints: 1\n": "line 8: observe constraints must be a list of strings",
		"  - at: -1\n    constraints: []\n":  `line 7: invalid observation label "-1": want an instruction number or exit`,
	} {
		c := parseOne(t, base+"observe:\n"+obs)
		if c.ObserveError == nil || c.ObserveError.Error() != want || c.ParseError != nil {
			t.Errorf("%q: got %v (parse error %v), want %s", obs, c.ObserveError, c.ParseError, want)
		}
	}
}

func TestParseMessage(t *testing.T) {
	tests := []struct {
		raw, label, text string
		insn             int
		unreachable      bool
	}{
		{"0: Invalid type (r1.type == number)", "0", "Invalid type (r1.type == number)", 0, false},
		{"12: Code becomes unreachable (assume r1 < 1)", "12", "Code becomes unreachable (assume r1 < 1)", 12, true},
		{"1:2: Code becomes unreachable (assume r0 <= 0)", "1:2", "Code becomes unreachable (assume r0 <= 0)", 1, true},
		{"0/9: Upper bound must be at most packet_size", "0/9", "Upper bound must be at most packet_size", 9, false},
		{"0/11:12: Code becomes unreachable (assume r3 >= 100)", "0/11:12", "Code becomes unreachable (assume r3 >= 100)", 11, true},
		{"1 (counter): Loop counter is too large (pc[1] < 100000)", "1 (counter)", "Loop counter is too large (pc[1] < 100000)", 1, false},
		{"exit: observation consistent failed at post", "exit", "observation consistent failed at post", -1, false},
		{"too many call stack frames", "", "too many call stack frames", -1, false},
		{"invalid map index 99 (have 1 maps)", "", "invalid map index 99 (have 1 maps)", -1, false},
		{"x1: text", "", "x1: text", -1, false},
	}
	for _, tt := range tests {
		m := prevail.ParseMessage(tt.raw)
		if m.Raw != tt.raw || m.Label != tt.label || m.Text != tt.text || m.Insn != tt.insn || m.IsUnreachable() != tt.unreachable {
			t.Errorf("ParseMessage(%q) = %+v (unreachable %v)", tt.raw, m, m.IsUnreachable())
		}
	}
}
