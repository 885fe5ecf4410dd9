package prevail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// Case is one test case: one YAML document.
type Case struct {
	Name string // test-case
	File string // path of the file, as given to ParseFile
	Line int    // line of the document's first field in the file

	// Options are the flags under options: termination, simplify,
	// !allow_division_by_zero, big_endian, !big_endian (and strict).
	Options []string

	Pre            []string     // constraints on the initial state, as written
	PreConstraints []Constraint // Pre parsed, in the same order

	Blocks  []Block          // the code blocks in file order
	Program asm.Instructions // the blocks assembled; nil if ParseError is set
	Source  []Source         // where each instruction of Program came from
	Assumes []Assume         // the instructions of Program that encode PREVAIL's assume

	// ImplicitExit says that the code can fall off its end, which PREVAIL
	// allows: reaching the end is reaching its exit label, without the
	// checks of an exit instruction (r0 need not hold a number). Program
	// then ends with an exit that is not in the case (its Source has Line 0
	// and no Text) so that it is valid eBPF; a harness should not hold
	// exit's checks against it.
	ImplicitExit bool

	Post     []string // the invariant PREVAIL infers at exit; ["_|_"] is bottom
	Messages []string // PREVAIL's messages; see ParseMessage

	// Observe holds the observe entries (assertions about PREVAIL's
	// abstract state at a label). ObserveError says why they could not be
	// read; the cases that test PREVAIL's handling of malformed entries set
	// ExpectedException.
	Observe           []Observation
	ObserveError      error
	ExpectedException string

	// ExpectReject is the verdict by the README's rule: a case with messages,
	// or whose post is bottom (_|_), is a rejection; any other case is an
	// acceptance. Note that PREVAIL also reports some findings that are not
	// safety errors as messages ("Code becomes unreachable", failed
	// observations): see Message.IsUnreachable.
	ExpectReject bool

	// ParseError says why the case could not be read or its code could not
	// be translated; the other fields hold what could be read.
	ParseError error
}

// Block is one labelled basic block of a case's code. Blocks run in file
// order: a block that does not end in a jump or exit falls through to the
// next one, and the first block (normally <start>) is the entry.
type Block struct {
	Label string // the name between < and >
	Text  string // the block's text as written
	Line  int    // file line of the block's first line of code
	Start int    // index in Program of its first instruction (len(Program) if it has none)
}

// Source says where an instruction of a case's Program came from.
type Source struct {
	Block string // label of its block
	Line  int    // line in the file
	Text  string // the line as written, comment included

	// Index is PREVAIL's number for the instruction: the number of code
	// lines before it in the case, counting a lddw once. PREVAIL's messages
	// ("2: Invalid type ...") use it. It equals the instruction's index in
	// Program except after an expanded &!= jump (see Case.Program).
	Index int
}

// Assume marks an instruction of Program that encodes PREVAIL's
// `assume COND`, a pseudo-instruction that has no eBPF encoding: the paths
// on which COND is false end there. It is encoded as `if COND goto +0`, a
// conditional jump to the next slot, so the program stays valid eBPF and
// instruction numbers stay PREVAIL's; a verifier that knows the marks
// continues only on the branch where the condition holds, and one that
// does not treats it as a no-op (which is sound, but may reject cases that
// PREVAIL accepts).
type Assume struct {
	Index int // index in Program of the conditional jump

	// Negated means that the assumption is the jump's condition being false:
	// `assume r1 &!= K` (no bit of K set) is encoded as jset with Negated.
	Negated bool
}

// Observation is one entry of a case's observe list: constraints that must
// be consistent with, or entailed by, PREVAIL's abstract state at a label.
type Observation struct {
	At          string // an instruction number or "exit"
	Point       string // "pre", "post" or "" (unspecified)
	Mode        string // "consistent", "entailed" or "" (unspecified)
	Constraints []string
}

// Context and map layout that PREVAIL's test harness gives every case, for
// a harness that needs to build the same initial state. The context (as
// ctx.yaml's header describes it) is ContextSize bytes with a 4-byte packet
// start pointer slot at ContextDataOffset and a 4-byte packet end pointer
// slot at ContextDataEndOffset, and no metadata pointer. There is one map,
// with 4-byte keys and values and 4 entries: every map_fd N names it, and
// map_by_idx(0) is the only valid index (map.yaml's cases show both).
const (
	ContextSize          = 64
	ContextDataOffset    = 0
	ContextDataEndOffset = 4
	MapKeySize           = 4
	MapValueSize         = 4
	MapMaxEntries        = 4
)

// Load reads every *.yaml file in dir except test-schema.yaml (the schema
// of the others), in name order, and returns their cases in order.
func Load(dir string) ([]*Case, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	slices.Sort(paths)
	var cases []*Case
	n := 0
	for _, p := range paths {
		if filepath.Base(p) == "test-schema.yaml" {
			continue
		}
		cs, err := ParseFile(p)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", dir, err)
		}
		cases = append(cases, cs...)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("load %s: no test files (*.yaml)", dir)
	}
	return cases, nil
}

// ParseFile reads the cases of one file. It fails only if the file cannot
// be read or is not valid YAML; a case that does not follow the schema, or
// whose code does not translate, has its ParseError set.
func ParseFile(path string) ([]*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads the cases of a file's contents; name is the file name used in
// Case.File and in error messages.
func Parse(name string, data []byte) ([]*Case, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var cases []*Case
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document
		}
		cases = append(cases, parseCase(name, root))
	}
	return cases, nil
}

// caseError adds a case's position and name to err.
func caseError(c *Case, line int, err error) error {
	if c.Name == "" {
		return fmt.Errorf("%s:%d: %w", c.File, line, err)
	}
	return fmt.Errorf("%s:%d: case %q: %w", c.File, line, c.Name, err)
}

// parseCase reads one document. It always returns a case; problems go to
// ParseError.
func parseCase(file string, root *yaml.Node) *Case {
	c := &Case{File: file, Line: root.Line}
	if root.Kind != yaml.MappingNode {
		c.ParseError = caseError(c, root.Line, errors.New("a case must be a mapping"))
		return c
	}
	fields := make(map[string]*yaml.Node)
	var firstErr error
	fail := func(line int, err error) {
		if firstErr == nil {
			firstErr = caseError(c, line, err)
		}
	}
	var dups []*yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if _, dup := fields[k.Value]; dup {
			dups = append(dups, k)
		}
		fields[k.Value] = root.Content[i+1]
	}
	if n, ok := fields["test-case"]; ok && n.Kind == yaml.ScalarNode {
		c.Name = n.Value
	}
	for _, k := range dups {
		fail(k.Line, fmt.Errorf("duplicate field %q", k.Value))
	}
	var err error
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "test-case":
			if v.Kind != yaml.ScalarNode {
				fail(v.Line, errors.New("test-case must be a string"))
			}
		case "options":
			c.Options, err = stringList(v)
		case "pre":
			c.Pre, err = stringList(v)
		case "post":
			c.Post, err = stringList(v)
		case "messages":
			c.Messages, err = stringList(v)
		case "expected-exception":
			if v.Kind != yaml.ScalarNode {
				err = errors.New("expected-exception must be a string")
			}
			c.ExpectedException = v.Value
		case "observe":
			c.Observe, c.ObserveError = parseObserve(v)
		case "code":
			c.Blocks, err = parseBlocks(v)
		default:
			fail(k.Line, fmt.Errorf("unknown field %q", k.Value))
		}
		if err != nil {
			fail(v.Line, fmt.Errorf("%s: %w", k.Value, err))
			err = nil
		}
	}
	for _, name := range []string{"test-case", "pre", "code", "post"} {
		if _, ok := fields[name]; !ok {
			fail(root.Line, fmt.Errorf("missing field %q", name))
		}
	}
	c.ExpectReject = len(c.Messages) > 0 || slices.Contains(c.Post, "_|_")
	for _, s := range c.Pre {
		con, err := ParseConstraint(s)
		if err != nil {
			fail(fields["pre"].Line, fmt.Errorf("pre: %w", err))
			break
		}
		c.PreConstraints = append(c.PreConstraints, con)
	}
	if firstErr == nil && len(c.Blocks) > 0 {
		firstErr = c.translate()
	}
	c.ParseError = firstErr
	return c
}

// stringList reads a sequence of strings; null is the empty list.
func stringList(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errors.New("must be a list of strings")
	}
	list := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: list item must be a string", item.Line)
		}
		list = append(list, item.Value)
	}
	return list, nil
}

// parseBlocks reads the code mapping, keeping its order.
func parseBlocks(n *yaml.Node) ([]Block, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errors.New("must be a mapping from <label> to code")
	}
	if len(n.Content) == 0 {
		return nil, errors.New("has no blocks")
	}
	var blocks []Block
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name, ok := strings.CutPrefix(k.Value, "<")
		if ok {
			name, ok = strings.CutSuffix(name, ">")
		}
		if !ok || !validLabel(name) {
			return nil, fmt.Errorf("line %d: invalid block label %q: want <name>", k.Line, k.Value)
		}
		if seen[name] {
			return nil, fmt.Errorf("line %d: duplicate block <%s>", k.Line, name)
		}
		seen[name] = true
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: block <%s> must be text", v.Line, name)
		}
		line := v.Line
		if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			line++ // the text starts on the line after | or >
		}
		blocks = append(blocks, Block{Label: name, Text: v.Value, Line: line})
	}
	return blocks, nil
}

// validLabel reports whether name can be a block label: a letter or '_'
// followed by letters, digits and '_'.
func validLabel(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// parseObserve reads the observe list, following the schema strictly.
func parseObserve(n *yaml.Node) ([]Observation, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, errors.New("observe must be a sequence")
	}
	var obs []Observation
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: observe item must be a mapping", item.Line)
		}
		var o Observation
		hasConstraints := false
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			if k.Value != "constraints" && v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: observe %s must be a scalar", v.Line, k.Value)
			}
			switch k.Value {
			case "at":
				if !validAt(v.Value) {
					return nil, fmt.Errorf("line %d: invalid observation label %q: want an instruction number or exit", v.Line, v.Value)
				}
				o.At = v.Value
			case "point":
				o.Point = v.Value
			case "mode":
				o.Mode = v.Value
			case "constraints":
				list, err := stringList(v)
				if err != nil {
					return nil, fmt.Errorf("line %d: observe constraints %w", v.Line, err)
				}
				o.Constraints, hasConstraints = list, true
			default:
				return nil, fmt.Errorf("line %d: unknown observe field %q", k.Line, k.Value)
			}
		}
		if !hasConstraints {
			return nil, fmt.Errorf("line %d: observe item has no constraints", item.Line)
		}
		obs = append(obs, o)
	}
	return obs, nil
}

// validAt reports whether s is an observation label: a PREVAIL instruction
// number or a name such as exit.
func validAt(s string) bool {
	if s == "" {
		return false
	}
	if strings.Trim(s, "0123456789") == "" {
		return len(s) <= 9
	}
	return validLabel(s)
}

// InstructionAt returns the index in Program of the first instruction
// whose PREVAIL number is index.
func (c *Case) InstructionAt(index int) (int, bool) {
	for i, s := range c.Source {
		if s.Index == index {
			return i, true
		}
	}
	return 0, false
}

// Message is a parsed message of a case: `<label>: <text>`.
type Message struct {
	Raw string

	// Label is where PREVAIL reports the message: an instruction number
	// ("2"), an edge ("1:2"), a call chain ("0/9", "0/11:12"), a loop
	// counter ("0 (counter)") or "exit"; empty if the message has none
	// ("too many call stack frames").
	Label string
	Text  string

	// Insn is the PREVAIL instruction number the label points at (for an
	// edge, its source; for a call chain, the innermost instruction), or -1.
	Insn int
}

// IsUnreachable reports whether the message is PREVAIL's notice that an
// assume or branch condition can never hold, not a safety violation.
func (m Message) IsUnreachable() bool { return strings.HasPrefix(m.Text, "Code becomes unreachable") }

// ParseMessage splits a message into its label and text.
func ParseMessage(s string) Message {
	m := Message{Raw: s, Text: s, Insn: -1}
	label, text, ok := strings.Cut(s, ": ")
	if !ok {
		return m
	}
	if label == "exit" {
		m.Label, m.Text = label, text
		return m
	}
	// N[/N...][:N][ (counter)]
	core := strings.TrimSuffix(label, " (counter)")
	from, _, _ := strings.Cut(core, ":")
	frames := strings.Split(from, "/")
	insn := -1
	for _, part := range strings.Split(strings.ReplaceAll(core, ":", "/"), "/") {
		if part == "" || strings.Trim(part, "0123456789") != "" || len(part) > 9 {
			return m
		}
	}
	for _, c := range frames[len(frames)-1] {
		if insn < 0 {
			insn = 0
		}
		insn = insn*10 + int(c-'0')
	}
	m.Label, m.Text, m.Insn = label, text, insn
	return m
}
