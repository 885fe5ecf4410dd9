#!/bin/sh
# Rebuilds the test programs: run by `go generate .` at the repository's
# root. Needs clang (Debian: apt-get install clang). The .o files are
# committed, so the tests do not need clang.
set -eu
cd "$(dirname "$0")"
for c in *.c; do
	${CLANG:-clang} -O2 -g -target bpf -fdebug-compilation-dir=. -c "$c" -o "${c%.c}.o"
done
