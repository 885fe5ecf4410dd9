package ebpf

// The ELF loader's test objects in testdata/ are built from C with clang and
// committed, so the tests need no compiler; this rebuilds them, together
// with their llvm-objdump expectations and the malformed inputs.
//go:generate sh testdata/build.sh
