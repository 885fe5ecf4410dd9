// Package repotest holds tests about the repository as a whole rather than
// about one package: the import rules between the eBPF runtime and the
// engine, the presence of package doc comments, and that the paths named in
// ARCHITECTURE.md and README.md exist.
//
// It has no non-test code besides this comment and must not be imported;
// it reads the source tree with go/parser and imports nothing from bpfdb.
package repotest
