package prevail

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// translate assembles the case's blocks into Program, Source and Assumes.
//
// The blocks become one asm.AssembleKernel source: each block a `<label>:`
// line followed by its lines, so that blocks fall through in file order.
// Two PREVAIL constructs that are not eBPF instructions are rewritten first:
//
//	assume COND           →  if COND goto +0            (an Assume mark)
//	if X &!= K goto <T>   →  if X &== K goto +1; goto <T>
//
// The second has no one-instruction encoding (eBPF has no "jump if no bit
// set"): both instructions keep the PREVAIL number of the original line.
func (c *Case) translate() error {
	type origin struct {
		block      *Block
		lineInBlk  int // 1-based
		text       string
		sourceIdx  int // index into sources, or -1 for a label line
		isLabelDef bool
	}
	var (
		src     strings.Builder
		origins []origin // by generated line, from 0
		sources []Source
		assumes []Assume
		number  int // PREVAIL's instruction number
	)
	emit := func(line string, o origin) {
		src.WriteString(line)
		src.WriteByte('\n')
		origins = append(origins, o)
	}
	for bi := range c.Blocks {
		b := &c.Blocks[bi]
		emit("<"+b.Label+">:", origin{block: b, lineInBlk: 1, text: "<" + b.Label + ">", sourceIdx: -1, isLabelDef: true})
		lines := strings.Split(b.Text, "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1] // the newline that ends the text
		}
		b.Start = len(sources)
		for li, raw := range lines {
			idx := number
			number++ // PREVAIL numbers every line of a block, blank or not
			code := stripComment(raw)
			if code == "" {
				continue
			}
			o := origin{block: b, lineInBlk: li + 1, text: code}
			add := func(gen string) {
				o.sourceIdx = len(sources)
				sources = append(sources, Source{Block: b.Label, Line: b.Line + li, Text: raw, Index: idx})
				emit(gen, o)
			}
			switch {
			case hasWord(code, "assume"):
				cond := strings.TrimSpace(strings.TrimPrefix(code, "assume"))
				a := Assume{Index: len(sources)}
				if strings.Contains(cond, "&!=") {
					cond, a.Negated = strings.Replace(cond, "&!=", "&==", 1), true
				}
				assumes = append(assumes, a)
				add("if " + cond + " goto +0")
			case hasWord(code, "if") && strings.Contains(code, "&!="):
				i := strings.LastIndex(code, "goto")
				if i < 0 {
					add(code) // let the assembler report it
					break
				}
				add(strings.Replace(code[:i], "&!=", "&==", 1) + "goto +1")
				add("goto " + code[i+len("goto"):])
			default:
				add(code)
			}
		}
	}
	// PREVAIL lets a program end without exit: falling off the end reaches
	// its exit label. eBPF needs a last instruction that cannot fall
	// through, so add one.
	implicit := len(sources) == 0 || c.Blocks[len(c.Blocks)-1].Start == len(sources)
	if !implicit {
		last := stripComment(sources[len(sources)-1].Text)
		if last != "exit" && !hasWord(last, "goto") && !hasWord(last, "gotol") {
			implicit = true
		}
		if origins[len(origins)-1].sourceIdx >= 0 && strings.Contains(last, "&!=") {
			implicit = true // expanded: `goto T` is not the whole line
		}
	}
	if implicit {
		b := &c.Blocks[len(c.Blocks)-1]
		sources = append(sources, Source{Block: b.Label, Index: number})
		emit("exit", origin{block: b, lineInBlk: 1, text: "exit", sourceIdx: len(sources) - 1})
	}
	insns, err := asm.AssembleKernel(src.String())
	if err != nil {
		var ae *asm.AssembleError
		if !errors.As(err, &ae) || ae.Line < 1 || ae.Line > len(origins) {
			return caseError(c, c.Line, fmt.Errorf("code: %w", err))
		}
		o := origins[ae.Line-1]
		line := o.block.Line + o.lineInBlk - 1
		if o.isLabelDef {
			line = o.block.Line
		}
		return caseError(c, line, fmt.Errorf("block <%s>: %w", o.block.Label,
			&asm.AssembleError{Line: o.lineInBlk, Text: o.text, Err: ae.Err}))
	}
	if len(insns) != len(sources) {
		panic(fmt.Sprintf("BUG: prevail: %d instructions from %d source lines", len(insns), len(sources)))
	}
	c.Program, c.Source, c.Assumes, c.ImplicitExit = insns, sources, assumes, implicit
	return nil
}

// stripComment removes a comment as asm.AssembleKernel does (`;`, `#` or
// `//` to the end of the line) and the surrounding white space.
func stripComment(line string) string {
	if i := strings.IndexAny(line, ";#"); i >= 0 {
		line = line[:i]
	}
	if i := strings.Index(line, "//"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// hasWord reports whether code starts with word followed by white space.
func hasWord(code, word string) bool {
	rest, ok := strings.CutPrefix(code, word)
	return ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t')
}
