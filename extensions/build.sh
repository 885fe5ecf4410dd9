#!/bin/sh
# Rebuilds the stock extensions: run by `go generate ./extensions`. Needs
# clang (Debian: apt-get install clang). The .o files are committed, so
# neither the database nor the tests need clang.
set -eu
cd "$(dirname "$0")"
for c in */*.c; do
	${CLANG:-clang} -O2 -g -target bpf -fdebug-compilation-dir=. -c "$c" -o "${c%.c}.o"
done
