#!/usr/bin/env bash
# Turns cargo's static library into the one a firmware links:
#   bash ffi/cmake/ship-archive.sh IN.a OUT.a [OBJCOPY [NM [AR]]]
# - debug info and LLVM bitcode (.llvmbc/.llvmcmd) removed: about 7.6 MB -> 1.5 MB for
#   thumbv7em, and binutils' nm reads the archive without the LLVM plugin;
# - the C library names Rust's compiler_builtins defines as weak symbols (memcpy,
#   memset, cosf, sqrtf, ... about 120 of them) renamed to __otcore_<name> in every
#   member, definitions and references alike: otcore keeps using its own copies, and
#   the firmware's link sees only otc_* and the compiler runtime's __aeabi_*/__*
#   helpers, so the application's own libc/libm (or its own cosf) can never be replaced
#   by otcore's, whatever the link order;
# - compiler_builtins' ARM run-time ABI memory helpers (__aeabi_memcpy4, __aeabi_memclr,
#   ... : each a weak alias in an archive member of its own) removed, so that otcore's
#   copies and clears call the firmware's C library ones, as GCC-compiled code does
#   (newlib and picolibc define them; about 1 KB of flash not linked twice).
# Exits non-zero if a C library name or an __aeabi_mem* helper is still defined.
set -euo pipefail
in=$1 out=$2
objcopy=${3:-arm-none-eabi-objcopy}
nm=${4:-arm-none-eabi-nm}
ar=${5:-arm-none-eabi-ar}
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
# The members whose global definitions are all __aeabi_mem* helpers.
helper_members() {
  "$nm" -A -g --defined-only "$1" 2>/dev/null |
    awk -F: '{ n = split($3, f, " "); s = f[n]
               if (s ~ /^__aeabi_mem/) helper[$2] = 1; else other[$2] = 1 }
             END { for (m in helper) if (!(m in other)) print m }' | sort
}
mapfile -t helpers < <(helper_members "$tmp/lib.a")
if ((${#helpers[@]})); then
  "$ar" d "$tmp/lib.a" "${helpers[@]}"
fi
left=$(libc_names "$tmp/lib.a")
if [[ -n $left ]]; then
  echo "ship-archive: C library names still defined: $left" >&2
  exit 1
fi
left=$("$nm" -g --defined-only "$tmp/lib.a" 2>/dev/null | awk 'NF == 3 && $3 ~ /^__aeabi_mem/ { print $3 }')
if [[ -n $left ]]; then
  echo "ship-archive: run-time memory helpers still defined: $left" >&2
  exit 1
fi
mv "$tmp/lib.a" "$out"
echo "ship-archive: $(wc -l <"$tmp/renames") C library names renamed, ${#helpers[@]} memory helpers removed, $(stat -c %s "$out") bytes: $out"
