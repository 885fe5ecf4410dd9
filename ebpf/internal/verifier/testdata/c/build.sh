#!/bin/sh
# Rebuilds the verifier's C test programs: clang -O2 -target bpf.
# The outputs are committed, so the tests do not need clang.
set -eu
cd "$(dirname "$0")"
for src in *.c; do
	"${CLANG:-clang}" -O2 -g -target bpf -fdebug-compilation-dir=. -c "$src" -o "${src%.c}.o"
done
