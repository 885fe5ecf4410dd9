#!/bin/sh
# Rebuilds the loop test programs: clang -O2 -target bpf, with 64-bit
# arithmetic (loops.o) and with 32-bit subregisters (loops_alu32.o). The
# outputs are committed, so the tests do not need clang.
set -eu
cd "$(dirname "$0")"
"${CLANG:-clang}" -O2 -g -target bpf -fdebug-compilation-dir=. -c loops.c -o loops.o
"${CLANG:-clang}" -O2 -g -target bpf -mcpu=v3 -fdebug-compilation-dir=. -c loops.c -o loops_alu32.o
