#!/bin/sh
# Rebuilds the ELF loader's test objects: run by `go generate ./ebpf`.
#
#   *.c        -> *.o        clang -O2 -g -target bpf (BTF from -g)
#   calls.c    -> bigendian.o  the same for bpfeb
#   good objects -> *.objdump  llvm-objdump -d -r, the expectations elf_test.go
#                              checks the translated instructions against
#   calls.o    -> broken-*   malformed inputs for the error table test
#
# Needs clang and llvm (Debian: apt-get install clang llvm). The outputs are
# committed, so the tests do not need them.
set -eu
cd "$(dirname "$0")"

CLANG=${CLANG:-clang}
OBJDUMP=${OBJDUMP:-llvm-objdump}

for src in *.c; do
	obj=${src%.c}.o
	# -fdebug-compilation-dir keeps the absolute checkout path out of the
	# debug info, so the objects are the same wherever they are built.
	"$CLANG" -O2 -g -target bpf -fdebug-compilation-dir=. -c "$src" -o "$obj"
done

# The same source as a big-endian object, which is refused.
"$CLANG" -O2 -g -target bpfeb -fdebug-compilation-dir=. -c calls.c -o bigendian.o

for obj in calls maps globals; do
	"$OBJDUMP" -d -r "$obj.o" >"$obj.objdump"
done

# Malformed inputs, all derived from calls.o or spelled out here.

# The ELF header and a little more, without section headers or contents.
head -c 100 calls.o >broken-truncated.o

# Bytes that are not an ELF object at all.
printf 'this is not an ELF object, just some text that happens to be long enough\n' >broken-garbage.o

# An empty file.
: >broken-empty.o

# Patches the little-endian unsigned integer of $3 bytes at offset $2 of
# file $1 to $4.
patch_le() {
	file=$1 off=$2 width=$3 val=$4
	i=0
	while [ "$i" -lt "$width" ]; do
		byte=$(( (val >> (8 * i)) & 255 ))
		printf "$(printf '\\%03o' "$byte")" |
			dd of="$file" bs=1 seek=$((off + i)) conv=notrunc status=none
		i=$((i + 1))
	done
}

# Reads the little-endian unsigned integer of $3 bytes at offset $2 of $1.
read_le() {
	od -An -t u"$3" -j "$2" -N "$3" "$1" | tr -d ' '
}

# e_shoff (offset 0x28) points far past the end of the file.
cp calls.o broken-shoff.o
patch_le broken-shoff.o 40 8 $((0x7fff0000))

# The section header of program section bpfdb/chain puts its contents far
# past the end of the file.
cp calls.o broken-section-offset.o
shoff=$(read_le calls.o 40 8)
shentsize=$(read_le calls.o 58 2)
shnum=$(read_le calls.o 60 2)
shstrndx=$(read_le calls.o 62 2)
strtab_off=$(read_le calls.o $((shoff + shstrndx * shentsize + 24)) 8)
idx=0
while [ "$idx" -lt "$shnum" ]; do
	hdr=$((shoff + idx * shentsize))
	name_off=$(read_le calls.o "$hdr" 4)
	name=$(dd if=calls.o bs=1 skip=$((strtab_off + name_off)) count=11 status=none | tr -d '\0')
	if [ "$name" = "bpfdb/chain" ]; then
		patch_le broken-section-offset.o $((hdr + 24)) 8 $((0x7fff0000))
		break
	fi
	idx=$((idx + 1))
done
[ "$idx" -lt "$shnum" ] || { echo "build.sh: section bpfdb/chain not found in calls.o" >&2; exit 1; }

# e_shstrndx (offset 0x3e) names a section that does not exist.
cp calls.o broken-shstrndx.o
patch_le broken-shstrndx.o 62 2 $((shnum + 5))

# A well-formed ELF object for another machine.
printf 'int f(int x) { return x + 1; }\n' |
	"$CLANG" -O2 -target x86_64-linux-gnu -x c -c - -o broken-x86.o
