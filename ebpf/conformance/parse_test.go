package conformance_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/conformance"
)

// suiteDir is the bpf_conformance suite, outside this repository.
const suiteDir = "../../../../shared/conformance/bpf_conformance"

// TestSuiteParses parses all 313 files of the suite and checks the counts
// that its README gives.
func TestSuiteParses(t *testing.T) {
	if _, err := os.Stat(suiteDir); err != nil {
		t.Skipf("conformance suite not found at %s (it lives in ../shared, outside the repository): %v", suiteDir, err)
	}
	tests, err := conformance.Glob(suiteDir)
	if err != nil {
		t.Fatal(err)
	}
	var withMem, withRaw, withResult, withError int
	for _, ct := range tests {
		if len(ct.Program) == 0 {
			t.Errorf("%s: no instructions", ct.Name)
		}
		if ct.Mem != nil {
			withMem++
			if len(ct.Mem) < 2 || len(ct.Mem) > 74 {
				t.Errorf("%s: %d bytes of memory; the README says 2 to 74", ct.Name, len(ct.Mem))
			}
		}
		if ct.Raw != nil {
			withRaw++
		}
		if ct.HasResult {
			withResult++
		}
		if ct.HasError {
			withError++
		}
	}
	if len(tests) != 313 || withMem != 40 || withRaw != 1 || withResult != 313 || withError != 0 {
		t.Errorf("got %d tests, %d with mem, %d with raw, %d with a result, %d with an error; want 313, 40, 1, 313, 0",
			len(tests), withMem, withRaw, withResult, withError)
	}
	byFile := func(a, b *conformance.Test) int { return strings.Compare(a.Name+".data", b.Name+".data") }
	if !slices.IsSortedFunc(tests, byFile) {
		t.Error("Glob did not return the tests in file name order")
	}
}

// TestSuiteSamples pins a few files' contents.
func TestSuiteSamples(t *testing.T) {
	if _, err := os.Stat(suiteDir); err != nil {
		t.Skipf("conformance suite not found at %s: %v", suiteDir, err)
	}
	ct, err := conformance.ParseFile(filepath.Join(suiteDir, "lddw.data"))
	if err != nil {
		t.Fatal(err)
	}
	want := "   0: lddw %r0, 0x1122334455667788\n   2: exit\n"
	if ct.Name != "lddw" || ct.Program.String() != want || ct.Result != 0x1122334455667788 || len(ct.Raw) != 24 || ct.Mem != nil {
		t.Errorf("lddw.data parsed as %+v", ct)
	}
	ct, err = conformance.ParseFile(filepath.Join(suiteDir, "mem-len.data"))
	if err != nil {
		t.Fatal(err)
	}
	if string(ct.Mem) != "\x00\x00\x00\x01\x00\x00\x00\x02" || ct.Result != 8 {
		t.Errorf("mem-len.data: mem %x, result %#x", ct.Mem, ct.Result)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		data string
		want conformance.Test // Program is compared as disassembly in prog
		prog string
	}{
		{
			name: "minimal",
			data: "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n",
			want: conformance.Test{Result: 1, HasResult: true},
			prog: "mov %r0, 1\nexit\n",
		},
		{
			name: "comments everywhere, 0x7f bytes in them",
			data: "# Copyright \x7f\n# SPDX\n-- asm # the program\n# RFC 9669 \x7f4.1\nmov %r0, 2 # two \x7f\nexit\n-- result # r0\n0x2 # \x7f\n",
			want: conformance.Test{Result: 2, HasResult: true},
			prog: "mov %r0, 2\nexit\n",
		},
		{
			name: "trailing comment on a jump",
			data: "-- asm\nmov %r1, 1\njeq %r1, 0x1, +1 # Taken\nmov %r0, 1\nexit\n-- result\n0x0\n",
			want: conformance.Test{HasResult: true},
			prog: "mov %r1, 1\njeq %r1, 1, +1\nmov %r0, 1\nexit\n",
		},
		{
			name: "decimal result",
			data: "-- asm\nexit\n-- result\n0\n",
			want: conformance.Test{HasResult: true},
			prog: "exit\n",
		},
		{
			name: "upper-case hex result, last line wins",
			data: "-- result\n0x5\n0xFFFFFFF6\n-- asm\nexit\n",
			want: conformance.Test{Result: 0xfffffff6, HasResult: true},
			prog: "exit\n",
		},
		{
			name: "mem before result, several lines, upper case",
			data: "-- asm\nldxb %r0, [%r1+1]\nexit\n-- mem\n00 FF\n\naa bB\n-- result\n0xff\n",
			want: conformance.Test{Mem: []byte{0x00, 0xff, 0xaa, 0xbb}, Result: 0xff, HasResult: true},
			prog: "ldxb %r0, [%r1+1]\nexit\n",
		},
		{
			name: "empty mem section is present",
			data: "-- asm\nexit\n-- mem\n-- result\n0x0\n",
			want: conformance.Test{Mem: []byte{}, HasResult: true},
			prog: "exit\n",
		},
		{
			name: "no register offset and its text are ignored",
			data: "-- asm\nmov %r0, %r2\nexit\n-- mem\n01\n-- no register offset\ncall instruction\n-- result\n0x1\n",
			want: conformance.Test{Mem: []byte{1}, Result: 1, HasResult: true},
			prog: "mov %r0, %r2\nexit\n",
		},
		{
			name: "c section is ignored",
			data: "# Compiled by Clang\n-- c\n#include <stdint.h>\nuint64_t entry(uint64_t arg)\n{\n    return 3;\n}\n-- asm\nmov %r0, 3\nexit\n-- result\n0x3\n",
			want: conformance.Test{Result: 3, HasResult: true},
			prog: "mov %r0, 3\nexit\n",
		},
		{
			name: "text before the first header is ignored",
			data: "some preamble\n-- asm\nexit\n-- result\n0x0\n",
			want: conformance.Test{HasResult: true},
			prog: "exit\n",
		},
		{
			name: "raw replaces asm",
			data: "-- asm\nmov %r0, 1\nexit\n-- raw\n0x00000002000000b7\n149\n-- result\n0x2\n",
			want: conformance.Test{
				Raw:    []byte{0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},
				Result: 2, HasResult: true,
			},
			prog: "mov %r0, 2\nexit\n",
		},
		{
			name: "error section",
			data: "-- asm\nexit\n-- error\nfirst\nFailed to load code: unknown opcode   \n",
			want: conformance.Test{Error: "Failed to load code: unknown opcode", HasError: true},
			prog: "exit\n",
		},
		{
			name: "crlf",
			data: "-- asm\r\nmov %r0, 1\r\nexit\r\n-- result\r\n0x1\r\n",
			want: conformance.Test{Result: 1, HasResult: true},
			prog: "mov %r0, 1\nexit\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := conformance.Parse("t", []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if prog := asm.Disassemble(got.Program); prog != tt.prog {
				t.Errorf("program\n%s\nwant\n%s", prog, tt.prog)
			}
			if got.Name != "t" || got.Result != tt.want.Result || got.HasResult != tt.want.HasResult ||
				got.Error != tt.want.Error || got.HasError != tt.want.HasError {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if (got.Mem == nil) != (tt.want.Mem == nil) || string(got.Mem) != string(tt.want.Mem) {
				t.Errorf("mem = %#v, want %#v", got.Mem, tt.want.Mem)
			}
			if (got.Raw == nil) != (tt.want.Raw == nil) || string(got.Raw) != string(tt.want.Raw) {
				t.Errorf("raw = %x, want %x", got.Raw, tt.want.Raw)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"unknown directive", "-- asm\nexit\n-- result\n0x0\n-- expected\n1\n",
			`t: line 5: unknown section header "-- expected"`},
		{"decrement in c code is a header", "-- c\nint i = 0; i--;\n-- asm\nexit\n-- result\n0\n",
			`t: line 2: unknown section header "int i = 0; i--;"`},
		{"bad result", "-- asm\nexit\n-- result\n0xZZ\n",
			`t: line 4: result: invalid number "0xZZ"`},
		{"two numbers in result", "-- asm\nexit\n-- result\n1 2\n",
			`t: line 4: result: invalid number "1 2"`},
		{"result out of range", "-- asm\nexit\n-- result\n0x10000000000000000\n",
			`t: line 4: result: invalid number "0x10000000000000000"`},
		{"mem with 0x", "-- asm\nexit\n-- mem\n0x01\n-- result\n0\n",
			`t: line 4: mem: invalid byte "0x01": want two hex digits`},
		{"mem with one digit", "-- asm\nexit\n-- mem\n00 1\n-- result\n0\n",
			`t: line 4: mem: invalid byte "1": want two hex digits`},
		{"mem not hex", "-- asm\nexit\n-- mem\ngg\n-- result\n0\n",
			`t: line 4: mem: invalid byte "gg": want two hex digits`},
		{"raw word", "-- raw\n0xzz\n-- result\n0\n",
			`t: line 2: raw: invalid instruction word "0xzz"`},
		{"raw does not decode", "-- raw\n0x18\n-- result\n0\n",
			`t: raw: slot 0 (opcode 0x18): lddw is truncated: its second slot is missing`},
		{"asm error names the file line", "# header\n-- asm\n\nmov %r0, 1 # ok\nadd %r1, 0x1ffffffff # bad\nexit\n-- result\n0\n",
			`t: asm: line 5: "add %r1, 0x1ffffffff": immediate out of range`},
		{"asm jump error names the file line", "-- result\n0\n-- asm\nja +3\nexit\n",
			`t: asm: line 4: "ja +3": slot 0 (opcode 0x05): jump target 4 is outside the program (0..1)`},
		{"no program", "-- asm\n# nothing\n-- result\n0x0\n",
			`t: no instructions: want an -- asm or -- raw section`},
		{"no result", "-- asm\nexit\n-- mem\n00\n",
			`t: no -- result or -- error section`},
		{"empty file", "", `t: no instructions: want an -- asm or -- raw section`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := conformance.Parse("t", []byte(tt.data))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", got)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

// TestParseErrorChain checks that assembler errors stay typed under the
// file's context.
func TestParseErrorChain(t *testing.T) {
	_, err := conformance.Parse("t", []byte("-- asm\n\nbogus\n-- result\n0\n"))
	var ae *asm.AssembleError
	if !errors.As(err, &ae) || ae.Line != 3 || ae.Text != "bogus" {
		t.Fatalf("got %v, want an *asm.AssembleError for line 3", err)
	}
	_, err = conformance.Parse("t", []byte("-- raw\n0x95 0x18\n-- result\n0\n"))
	if !errors.Is(err, asm.ErrDecode) {
		t.Fatalf("got %v, want an asm.ErrDecode", err)
	}
}

func TestParseFileAndGlob(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.data", "-- asm\nmov %r0, 2\nexit\n-- result\n0x2\n")
	write("a.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n")
	write("notes.txt", "not a test")
	tests, err := conformance.Glob(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) != 2 || tests[0].Name != "a" || tests[1].Name != "b" || tests[1].Result != 2 {
		t.Fatalf("Glob returned %d tests: %+v", len(tests), tests)
	}

	write("c.data", "-- asm\nexit\n-- bogus\n")
	_, err = conformance.Glob(dir)
	want := filepath.Join(dir, "c.data") + `: line 3: unknown section header "-- bogus"`
	if err == nil || err.Error() != want {
		t.Errorf("Glob error = %v, want %s", err, want)
	}
	if _, err := conformance.ParseFile(filepath.Join(dir, "missing.data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseFile(missing) = %v, want os.ErrNotExist", err)
	}
	if _, err := conformance.Glob(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Glob(missing dir) = %v, want os.ErrNotExist", err)
	}
}

// FuzzParse feeds Parse random files. It must never panic, and what it
// accepts must be a runnable test: a program that encodes and decodes to
// itself, and an expectation.
func FuzzParse(f *testing.F) {
	f.Add([]byte("-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n"))
	f.Add([]byte("# c \x7f\n-- asm\nlddw %r0, 0x1122334455667788 # x\nexit\n-- mem\n00 ff\n-- result\n0x1122334455667788\n"))
	f.Add([]byte("-- raw\n0x5566778800000018\n0x1122334400000000\n149\n-- error\noops\n"))
	f.Add([]byte("-- c\nint x;\n-- asm\nja exit\nexit\n-- no register offset\nfoo\n-- result\n0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ct, err := conformance.Parse("fuzz", data)
		if err != nil {
			return
		}
		if len(ct.Program) == 0 || (!ct.HasResult && !ct.HasError) {
			t.Fatalf("accepted a test with nothing to run or check: %+v", ct)
		}
		again, err := asm.Decode(ct.Program.Encode())
		if err != nil || !slices.Equal(again, ct.Program) {
			t.Fatalf("program does not survive Encode/Decode: %v", err)
		}
		if ct.Raw != nil && string(ct.Raw) != string(ct.Program.Encode()) {
			t.Fatalf("program differs from its raw bytes")
		}
	})
}
