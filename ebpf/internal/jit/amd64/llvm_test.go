package amd64

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var labelRE = regexp.MustCompile(`\bL(\d+)\b`)

// llvmAssemble assembles listings with llvm-mc, each into its own section,
// and returns their bytes. It skips the test if llvm-mc is not installed.
func llvmAssemble(t *testing.T, listings []string) [][]byte {
	t.Helper()
	mc, err := exec.LookPath("llvm-mc")
	if err != nil {
		t.Skip("llvm-mc not installed")
	}
	var src strings.Builder
	src.WriteString(".intel_syntax noprefix\n")
	for i, l := range listings {
		fmt.Fprintf(&src, ".section .t%d,\"ax\",@progbits\n", i)
		src.WriteString(labelRE.ReplaceAllString(l, fmt.Sprintf(".Lc%d_$1", i)))
	}
	dir := t.TempDir()
	obj := filepath.Join(dir, "out.o")
	cmd := exec.Command(mc, "-triple=x86_64-unknown-linux-gnu", "-filetype=obj", "-o", obj)
	cmd.Stdin = strings.NewReader(src.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("llvm-mc: %v\n%s", err, out)
	}
	f, err := elf.Open(obj)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res := make([][]byte, len(listings))
	for i := range listings {
		s := f.Section(fmt.Sprintf(".t%d", i))
		if s == nil {
			t.Fatalf("section .t%d missing", i)
		}
		if res[i], err = s.Data(); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// TestLLVM assembles the text of every table case (and of random
// instruction sequences) with llvm-mc and compares the bytes. It is skipped
// when llvm-mc is absent; set BPFDB_REQUIRE_LLVM=1 to make that a failure.
func TestLLVM(t *testing.T) {
	if os.Getenv("BPFDB_REQUIRE_LLVM") != "" {
		if _, err := exec.LookPath("llvm-mc"); err != nil {
			t.Fatal("llvm-mc required but not installed")
		}
	}
	var names, listings []string
	var want [][]byte
	for _, c := range cases {
		if c.noLLVM {
			continue
		}
		a, code := build(t, c)
		names = append(names, c.name)
		listings = append(listings, a.String())
		want = append(want, bytes.Clone(code))
	}
	seed := testSeed(t)
	for i := 0; i < 50; i++ {
		a := New()
		g := newGen(seed + int64(i))
		g.sequence(a, 40, false)
		code, err := a.Finish()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, fmt.Sprintf("random seed %d", seed+int64(i)))
		listings = append(listings, a.String())
		want = append(want, bytes.Clone(code))
	}
	got := llvmAssemble(t, listings)
	for i := range names {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s:\n%s llvm-mc: %x\n    ours: %x", names[i], listings[i], got[i], want[i])
		}
	}
}
