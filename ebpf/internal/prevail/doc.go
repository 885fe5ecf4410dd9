// Package prevail reads the labelled verifier test cases of the PREVAIL eBPF
// verifier (shared/verifier/prevail: YAML files, one case per document) into
// bpfdb's instruction model, so that bpfdb's verifier can be run on them and
// its verdicts compared with PREVAIL's.
//
// Load reads a directory and ParseFile one file. Each Case keeps the raw
// text of every field, and adds:
//
//   - Program: the code blocks assembled with asm.AssembleKernel, in file
//     order, each block falling through to the next one, with `goto <label>`,
//     `if ... goto <label>` and `call <label>` resolved to slot offsets;
//   - Source: for every instruction, the block, file line and text it came
//     from, and the instruction number PREVAIL's messages use;
//   - Assumes: PREVAIL's `assume` pseudo-instructions, which the program
//     encodes as conditional jumps to the next slot (see Assume);
//   - ImplicitExit: most cases (690 of 802) simply end; the program then
//     gets a final exit so that it is valid eBPF, and the flag says that
//     exit's checks do not apply to it;
//   - PreConstraints: the `pre` strings parsed into a typed form;
//   - ExpectReject: the verdict, by the README's rule.
//
// A case whose code cannot be translated gets a ParseError and stays in the
// result; a file that is not valid YAML fails as a whole.
// testdata/corpus.golden shows the translation of every case.
//
// Test data only: the package is internal and used by tests. It imports
// asm, the standard library and the YAML parser, and it is the only package
// of the module that imports the YAML parser (a test enforces both).
package prevail
