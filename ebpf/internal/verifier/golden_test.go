package verifier_test

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/ with the current output")

// TestLogs pins the verifier's rejection logs. testdata/logs.txt holds
// cases separated by blank lines:
//
//	verify NAME [TYPE]
//	<assembly>
//	----
//	<Error() line>
//	<log>
//
// TYPE is hook (the default) or test. Run with -rewrite to regenerate the
// expected output after a deliberate change, and review the diff.
func TestLogs(t *testing.T) {
	const path = "testdata/logs.txt"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, block := range strings.Split(strings.TrimSpace(string(data)), "\n\n") {
		head, rest, _ := strings.Cut(block, "\n")
		src, want, ok := strings.Cut(rest, "----\n")
		if !ok {
			src, want, _ = strings.Cut(rest, "----")
		}
		f := strings.Fields(head)
		if len(f) < 2 || f[0] != "verify" {
			t.Fatalf("bad case header %q", head)
		}
		typ := hookType
		if len(f) > 2 && f[2] == "test" {
			typ = core.TestProgramType(16)
		}
		insns, err := asm.Assemble(src)
		if err != nil {
			t.Fatalf("%s: %v", f[1], err)
		}
		_, err = verifier.Verify(insns, verifier.Config{Type: typ, Maps: testMaps, Helpers: genericHelpers()})
		got := "accepted\n"
		var ve *verifier.Error
		if errors.As(err, &ve) {
			got = ve.Error() + "\n" + ve.Log
		} else if err != nil {
			got = err.Error() + "\n"
		}
		if !*rewrite && strings.TrimSpace(got) != strings.TrimSpace(want) {
			t.Errorf("%s: got\n%s\nwant\n%s", f[1], got, want)
		}
		out.WriteString(head + "\n" + strings.TrimRight(src, "\n") + "\n----\n" + strings.TrimRight(got, "\n") + "\n\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
