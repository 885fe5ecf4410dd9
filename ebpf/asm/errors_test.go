package asm_test

import (
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// TestDecodeErrors runs the corpus in testdata/decode_errors.txt: each line
// is malformed bytecode and a text its error must contain.
func TestDecodeErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/decode_errors.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hexText, want, ok := strings.Cut(line, "|")
		if !ok {
			t.Fatalf("decode_errors.txt:%d: want \"hex | error\"", i+1)
		}
		want = strings.TrimSpace(want)
		code, err := hex.DecodeString(strings.Join(strings.Fields(hexText), ""))
		if err != nil {
			t.Fatalf("decode_errors.txt:%d: %v", i+1, err)
		}
		cases++
		insns, err := asm.Decode(code)
		if err == nil {
			t.Errorf("decode_errors.txt:%d: Decode succeeded:\n%s", i+1, insns)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("decode_errors.txt:%d: error %q does not contain %q", i+1, err, want)
		}
		var de *asm.DecodeError
		if !errors.Is(err, asm.ErrDecode) || !errors.As(err, &de) {
			t.Errorf("decode_errors.txt:%d: error %v is not a *DecodeError matching ErrDecode", i+1, err)
		}
	}
	if cases < 50 {
		t.Errorf("decode_errors.txt has %d cases; it should have at least 50", cases)
	}
}

// assembleCase is one case of testdata/assemble_errors.txt.
type assembleCase struct {
	line int // of the "assemble" command in the file
	src  string
	want string
}

// readAssembleCases parses testdata/assemble_errors.txt: "assemble", the
// source lines, "----", the expected error.
func readAssembleCases(t *testing.T) []assembleCase {
	data, err := os.ReadFile("testdata/assemble_errors.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var cases []assembleCase
	for i := 0; i < len(lines); i++ {
		switch line := lines[i]; {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case line != "assemble":
			t.Fatalf("assemble_errors.txt:%d: want \"assemble\", got %q", i+1, line)
		}
		c := assembleCase{line: i + 1}
		var src []string
		for i++; i < len(lines) && lines[i] != "----"; i++ {
			src = append(src, lines[i])
		}
		if i+1 >= len(lines) {
			t.Fatalf("assemble_errors.txt:%d: case has no \"----\" and expected error", c.line)
		}
		i++
		c.src, c.want = strings.Join(src, "\n"), lines[i]
		cases = append(cases, c)
	}
	return cases
}

// TestAssembleErrors runs the corpus in testdata/assemble_errors.txt and
// checks the whole error text.
func TestAssembleErrors(t *testing.T) {
	cases := readAssembleCases(t)
	if len(cases) < 50 {
		t.Errorf("assemble_errors.txt has %d cases; it should have at least 50", len(cases))
	}
	for _, c := range cases {
		insns, err := asm.Assemble(c.src)
		if err == nil {
			t.Errorf("assemble_errors.txt:%d: Assemble succeeded:\n%s", c.line, insns)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("assemble_errors.txt:%d:\n got %s\nwant %s", c.line, err, c.want)
		}
		var ae *asm.AssembleError
		if !errors.As(err, &ae) {
			t.Errorf("assemble_errors.txt:%d: error %v is not an *AssembleError", c.line, err)
		} else if ae.Line < 1 || ae.Line > strings.Count(c.src, "\n")+1 {
			t.Errorf("assemble_errors.txt:%d: line %d is outside the source", c.line, ae.Line)
		}
	}
}

// TestAssembleErrorUnwrap checks that a jump into nowhere is a decoding
// error underneath, and that the error names the line.
func TestAssembleErrorUnwrap(t *testing.T) {
	_, err := asm.Assemble("mov %r0, 0\nja +7\nexit")
	var ae *asm.AssembleError
	if !errors.As(err, &ae) || ae.Line != 2 || ae.Text != "ja +7" {
		t.Fatalf("got %#v, want an *AssembleError for line 2", err)
	}
	if !errors.Is(err, asm.ErrDecode) {
		t.Errorf("errors.Is(%v, ErrDecode) = false", err)
	}
}
