package jit_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/jit"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/ with the current output")

// TestListings pins the code the JIT generates for small programs, as
// Intel-syntax text (the encoder's own tests pin the bytes of every form).
// testdata/listings.txt holds cases separated by blank lines:
//
//	compile NAME [verified MEMLEN]
//	<assembly>
//	----
//	<listing>
//
// A verified case compiles with the verifier's proofs against the test
// type with MEMLEN bytes of memory. Run with -rewrite after a deliberate
// change and review the diff; the differential tests check that the code
// computes what the interpreter does.
func TestListings(t *testing.T) {
	skipUnsupported(t)
	const path = "testdata/listings.txt"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, block := range strings.Split(strings.TrimSpace(string(data)), "\n\n\n") {
		head, rest, _ := strings.Cut(block, "\n")
		src, want, ok := strings.Cut(rest, "----\n")
		if !ok {
			src, want, _ = strings.Cut(rest, "----")
		}
		f := strings.Fields(head)
		if len(f) < 2 || f[0] != "compile" {
			t.Fatalf("bad case header %q", head)
		}
		insns, err := asm.Assemble(src)
		if err != nil {
			t.Fatalf("%s: %v", f[1], err)
		}
		cfg := jit.Config{Helpers: testHelpers, Listing: true}
		if len(f) == 4 && f[2] == "verified" {
			n := 0
			for _, c := range f[3] {
				n = n*10 + int(c-'0')
			}
			cfg.Proven = proofs(insns, n)
			if cfg.Proven == nil {
				t.Fatalf("%s: the verifier rejects it", f[1])
			}
			cfg.Verified = true
		}
		p, err := jit.Compile(insns, cfg)
		if err != nil {
			t.Fatalf("%s: %v", f[1], err)
		}
		got := p.Listing()
		if !*rewrite && strings.TrimSpace(got) != strings.TrimSpace(want) {
			t.Errorf("%s: got\n%s\nwant\n%s", f[1], got, want)
		}
		out.WriteString(head + "\n" + strings.TrimRight(src, "\n") + "\n----\n" + strings.TrimRight(got, "\n") + "\n\n\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
