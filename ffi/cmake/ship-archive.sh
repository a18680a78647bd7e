#!/usr/bin/env bash
# Turns cargo's static library into the one a firmware links:
#   bash ffi/cmake/ship-archive.sh IN.a OUT.a [OBJCOPY [NM]]
# - debug info and LLVM bitcode (.llvmbc/.llvmcmd) removed: about 7.6 MB -> 1.5 MB for
#   thumbv7em, and binutils' nm reads the archive without the LLVM plugin;
# - the C library names Rust's compiler_builtins defines as weak symbols (memcpy,
#   memset, cosf, sqrtf, ... about 120 of them) renamed to __otcore_<name> in every
#   member, definitions and references alike: otcore keeps using its own copies, and
#   the firmware's link sees only otc_* and the compiler runtime's __aeabi_*/__*
#   helpers, so the application's own libc/libm (or its own cosf) can never be replaced
#   by otcore's, whatever the link order.
# Exits non-zero if a C library name is still defined afterwards.
set -euo pipefail
in=$1 out=$2
objcopy=${3:-arm-none-eabi-objcopy}
nm=${4:-arm-none-eabi-nm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$in" "$tmp/lib.a"
"$objcopy" --strip-debug --remove-section=.llvmbc --remove-section=.llvmcmd "$tmp/lib.a"
# Defined global names that are plain C identifiers outside otcore's otc_ namespace
# and the compiler-reserved leading underscore: the libc/libm functions.
libc_names() {
  "$nm" -g --defined-only "$1" 2>/dev/null |
    awk 'NF == 3 && $3 ~ /^[A-Za-z][A-Za-z0-9_]*$/ && $3 !~ /^otc_/ { print $3 }' | sort -u
}
libc_names "$tmp/lib.a" | awk '{ print $1 " __otcore_" $1 }' >"$tmp/renames"
"$objcopy" --redefine-syms="$tmp/renames" "$tmp/lib.a"
left=$(libc_names "$tmp/lib.a")
if [[ -n $left ]]; then
  echo "ship-archive: C library names still defined: $left" >&2
  exit 1
fi
mv "$tmp/lib.a" "$out"
echo "ship-archive: $(wc -l <"$tmp/renames") C library names renamed, $(stat -c %s "$out") bytes: $out"
