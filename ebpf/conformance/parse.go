package conformance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// Test is one parsed .data file.
type Test struct {
	// Name identifies the test: the name given to Parse, or the file name
	// without its .data extension.
	Name string
	// Asm is the -- asm section with comments and blank lines removed.
	Asm string
	// Program is the program to run: Raw decoded when the file has a -- raw
	// section, and Asm assembled otherwise.
	Program asm.Instructions
	// Raw is the bytecode of the -- raw section, nil when the file has none.
	Raw []byte
	// Mem is the initial input memory, nil when the file has no -- mem
	// section (and empty, not nil, when the section is present but empty).
	Mem []byte
	// Result is the expected value of r0 at exit; HasResult says whether the
	// file gives one.
	Result    uint64
	HasResult bool
	// Error is the expected error text; HasError says whether the file has
	// an -- error section.
	Error    string
	HasError bool
}

// section is the kind of the section a line belongs to.
type section uint8

const (
	sectionNone   section = iota // before the first header, -- c, -- no register offset
	sectionAsm                   // -- asm
	sectionResult                // -- result
	sectionMem                   // -- mem
	sectionRaw                   // -- raw
	sectionError                 // -- error
)

// headers maps header substrings to sections, in the order the upstream
// parser tries them: the first substring found in the header wins.
var headers = []struct {
	substr string
	kind   section
}{
	{"asm", sectionAsm},
	{"result", sectionResult},
	{"mem", sectionMem},
	{"raw", sectionRaw},
	{"no register offset", sectionNone},
	{" c", sectionNone},
	{"error", sectionError},
}

// Parse parses the contents of a .data file. name becomes Test.Name and
// prefixes every error, which also names the line:
//
//	add: line 4: unknown section header "-- foo"
//
// The program must assemble (or decode, for -- raw) and must not be empty,
// and the file must have a -- result or an -- error section.
func Parse(name string, data []byte) (*Test, error) {
	t, err := parse(name, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// ParseFile reads and parses one .data file. The test's name is the file
// name without .data; errors name the path.
func ParseFile(path string) (*Test, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := parse(strings.TrimSuffix(filepath.Base(path), ".data"), data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Glob parses every .data file in dir, in file name order. It fails on the
// first file that does not parse.
func Glob(dir string) ([]*Test, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.data"))
	if err != nil {
		return nil, err
	}
	tests := make([]*Test, 0, len(files))
	for _, f := range files {
		t, err := ParseFile(f)
		if err != nil {
			return nil, err
		}
		tests = append(tests, t)
	}
	return tests, nil
}

func parse(name string, data []byte) (*Test, error) {
	t := &Test{Name: name}
	var (
		kind     = sectionNone
		asmLines []string
		asmAt    []int // file line of each asm line
		raw      []byte
	)
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		// Comments go first: some hold bytes (0x7F) that are not text.
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		if strings.Contains(line, "--") {
			k, ok := headerKind(line)
			if !ok {
				return nil, fmt.Errorf("line %d: unknown section header %q", n, line)
			}
			kind = k
			if kind == sectionMem && t.Mem == nil {
				t.Mem = []byte{}
			}
			continue
		}
		if line == "" {
			continue
		}
		switch kind {
		case sectionAsm:
			asmLines = append(asmLines, line)
			asmAt = append(asmAt, n)
		case sectionResult:
			v, err := parseResult(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: result: %w", n, err)
			}
			t.Result, t.HasResult = v, true
		case sectionMem:
			for _, tok := range strings.Fields(line) {
				b, err := strconv.ParseUint(tok, 16, 8)
				if err != nil || len(tok) != 2 {
					return nil, fmt.Errorf("line %d: mem: invalid byte %q: want two hex digits", n, tok)
				}
				t.Mem = append(t.Mem, byte(b))
			}
		case sectionRaw:
			for _, tok := range strings.Fields(line) {
				w, err := parseWord(tok)
				if err != nil {
					return nil, fmt.Errorf("line %d: raw: invalid instruction word %q", n, tok)
				}
				raw = binary.LittleEndian.AppendUint64(raw, w)
			}
		case sectionError:
			t.Error, t.HasError = line, true
		}
	}
	if len(asmLines) > 0 {
		t.Asm = strings.Join(asmLines, "\n") + "\n"
	}
	var err error
	if raw != nil {
		t.Raw = raw
		if t.Program, err = asm.Decode(raw); err != nil {
			return nil, fmt.Errorf("raw: %w", err)
		}
	} else if t.Program, err = asm.Assemble(t.Asm); err != nil {
		var ae *asm.AssembleError
		if errors.As(err, &ae) && ae.Line >= 1 && ae.Line <= len(asmAt) {
			// Report the line of the file, not of the asm section.
			fileErr := *ae
			fileErr.Line = asmAt[ae.Line-1]
			err = &fileErr
		}
		return nil, fmt.Errorf("asm: %w", err)
	}
	if len(t.Program) == 0 {
		return nil, errors.New("no instructions: want an -- asm or -- raw section")
	}
	if !t.HasResult && !t.HasError {
		return nil, errors.New("no -- result or -- error section")
	}
	return t, nil
}

// headerKind classifies a line that contains "--".
func headerKind(line string) (section, bool) {
	for _, h := range headers {
		if strings.Contains(line, h.substr) {
			return h.kind, true
		}
	}
	return sectionNone, false
}

// parseResult parses the expected r0: hex with a 0x prefix, otherwise
// decimal.
func parseResult(s string) (uint64, error) {
	v, err := parseWord(s)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return v, nil
}

// parseWord parses an unsigned 64-bit number: hex with a 0x prefix,
// otherwise decimal.
func parseWord(s string) (uint64, error) {
	if hex, ok := strings.CutPrefix(s, "0x"); ok {
		return strconv.ParseUint(hex, 16, 64)
	}
	return strconv.ParseUint(s, 10, 64)
}
