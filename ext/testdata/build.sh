#!/bin/sh
# Rebuilds the ABI test object: run by `go generate ./ext` after the header.
# Needs clang (Debian: apt-get install clang). abi.o is committed, so the
# tests do not need clang.
set -eu
cd "$(dirname "$0")"
${CLANG:-clang} -O2 -g -target bpf -fdebug-compilation-dir=. -c abi.c -o abi.o
