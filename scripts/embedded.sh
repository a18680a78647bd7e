#!/usr/bin/env bash
# otcore on microcontrollers (Cortex-M4F / M33), proven under QEMU.
#
#   bash scripts/embedded.sh test      builds for thumbv7em-none-eabihf and
#                                      thumbv8m.main-none-eabihf (+ defmt, fast-math),
#                                      runs the on-target tests (tests/embedded) and the C
#                                      firmware example under QEMU, links the no-panic
#                                      probe (and checks a planted panic fails to link)
#   bash scripts/embedded.sh numbers   footprint, workspace, stack depth,
#                                      instructions per matrix entry, per
#                                      flow-policy action and per online-learning
#                                      filter tick (docs/embedded.md)
#   bash scripts/embedded.sh release [DIR]
#                                      the prebuilt firmware release: DIR (default
#                                      target/release-cortex-m) and DIR.tar.gz with the
#                                      header, stripped archives per Cortex-M target and
#                                      feature set, the CMake package config and
#                                      MANIFEST.txt (flags, sizes, checksums)
#   bash scripts/embedded.sh profile [PATTERN]
#                                      where the measure firmware's instructions go,
#                                      summed by function (QEMU plugin profile); with
#                                      PATTERN, only the first region whose "region"
#                                      line matches (e.g. 'pf_ot_resample n=64')
#
# Installs what it needs (apt: qemu-system-arm gcc-arm-none-eabi
# libnewlib-arm-none-eabi; rustup targets) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# Built and released for each; run under QEMU: M4 only. thumbv6m (Cortex-M0/M0+, no
# FPU: float in software) is built and shipped, not run.
TARGETS=(thumbv7em-none-eabihf thumbv8m.main-none-eabihf thumbv6m-none-eabi)
M4=thumbv7em-none-eabihf
FW_TARGET=$ROOT/target/embedded # the firmware crate's own target dir
FW_BIN=$FW_TARGET/$M4/release
C_BUILD=$ROOT/target/firmware-c
PLUGIN=$ROOT/target/qemu-icount/libicount.so
QEMU=(qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic
  -semihosting-config enable=on,target=native)
# A firmware that hangs (e.g. a fault loop) must not hang CI.
QEMU_TIMEOUT=300

step() { printf '\n=== %s\n' "$*"; }

ensure_tools() {
  local missing=()
  command -v qemu-system-arm >/dev/null 2>&1 || missing+=(qemu-system-arm)
  command -v arm-none-eabi-gcc >/dev/null 2>&1 || missing+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
  [[ -e /usr/lib/arm-none-eabi/newlib/libc.a ]] || missing+=(libnewlib-arm-none-eabi)
  command -v cc >/dev/null 2>&1 || missing+=(gcc)
  if ((${#missing[@]})); then
    step "apt-get install ${missing[*]}"
    apt-get install -y --no-install-recommends "${missing[@]}" || { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
  fi
  local t
  for t in "${TARGETS[@]}"; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  done
}

# The firmware crate (tests/embedded) builds outside the host workspace.
fw_cargo() {
  (cd tests/embedded && CARGO_TARGET_DIR=$FW_TARGET cargo "$@")
}

qemu_run() {
  timeout "$QEMU_TIMEOUT" "${QEMU[@]}" "$@"
}

# The static library a C firmware links for target $1 with extra features $2 (C has
# no panic handler: `panic-handler`), as shipped: only the staticlib crate type (no
# cdylib warning), the flash-saving flag of .cargo/config.toml on the command line
# (a RUSTFLAGS from the environment would replace the config's), then stripped and
# without C library names (ffi/cmake/ship-archive.sh), at $3.
build_archive() {
  local target=$1 features=panic-handler${2:+,$2} out=$3
  cargo rustc --release -p otcore-ffi --no-default-features --features "$features" \
    --target "$target" --crate-type staticlib -- -C llvm-args=-unroll-runtime=false
  mkdir -p "$(dirname "$out")"
  bash ffi/cmake/ship-archive.sh "target/$target/release/libotcore_ffi.a" "$out"
}

SHIPPED_M4=$ROOT/target/firmware-lib/$M4/libotcore.a
build_staticlib() {
  build_archive "$M4" "" "$SHIPPED_M4"
}

builds() {
  local t
  for t in "${TARGETS[@]}"; do
    step "otcore and otcore-ffi for $t"
    cargo build --release -p otcore --target "$t"
    cargo build --release -p otcore --target "$t" --features fast-math
    cargo rustc --release -p otcore-ffi --no-default-features --target "$t" --crate-type rlib
    build_archive "$t" "" "$ROOT/target/firmware-lib/$t/libotcore.a"
  done
  step "otcore with defmt for $M4"
  cargo build --release -p otcore --target "$M4" --features defmt
}

on_target_tests() {
  step "tests/embedded: cargo fmt --check, clippy -D warnings (outside the host workspace)"
  (cd tests/embedded && cargo fmt --all --check)
  fw_cargo clippy --release --workspace -- -D warnings
  step "on-target tests under QEMU (tests/embedded, host f32 results baked in)"
  fw_cargo build --release --bin tests
  qemu_run -kernel "$FW_BIN/tests"
}

panic_proof() {
  local hdr_fns probe_src=tests/embedded/probe/src/main.rs f log
  step "no-panic proof: the probe calling every exported function links with panic-never"
  hdr_fns=$(grep -oE '\botc_[a-z0-9_]+\(' include/otcore.h | tr -d '(' | sort -u)
  for f in $hdr_fns; do
    grep -q "\b$f\b" "$probe_src" || { echo "panic probe does not call $f" >&2; exit 1; }
  done
  fw_cargo build --release -p otcore-panic-probe
  qemu_run -kernel "$FW_BIN/panic_probe"
  echo "probe linked and ran: no exported function can reach a panic"
  step "no-panic proof can fail: a planted out-of-bounds index must not link"
  log=$(mktemp)
  if fw_cargo build --release -p otcore-panic-probe --features panic-selfcheck >"$log" 2>&1; then
    echo "the probe with a planted panic linked: the proof is broken" >&2
    exit 1
  fi
  grep -q 'error(panic-never)' "$log" || { cat "$log" >&2; exit 1; }
  rm -f "$log"
  echo "planted panic rejected by the linker, as it must be"
  # Leave the real probe as the last build of that binary.
  fw_cargo build --release -p otcore-panic-probe
}

c_firmware() {
  step "C firmware example (examples-c/firmware) under QEMU"
  build_staticlib
  make -s -C examples-c/firmware all BUILD="$C_BUILD" LIB="$SHIPPED_M4"
  qemu_run -kernel "$C_BUILD/pf_loop.elf"
  qemu_run -kernel "$C_BUILD/ot_filter.elf"
  qemu_run -kernel "$C_BUILD/tracking.elf"
  qemu_run -kernel "$C_BUILD/sinkhorn_only.elf"
  qemu_run -kernel "$C_BUILD/flow_policy.elf"
  dpf_learning_test
  step "firmware project with its own CMake build: otcore from source (add_subdirectory, cross-built)"
  firmware_cmake "$FW_CMAKE" -DOTCORE_RUST_TARGET="$M4"
  step "cmake --install of a cross build (ffi/CMakeLists.txt, toolchain file) and find_package from it"
  rm -rf "$ROOT/target/ffi-cmake-m4" "$ROOT/target/ffi-cmake-m4-prefix"
  cmake -S ffi -B "$ROOT/target/ffi-cmake-m4" -DOTCORE_RUST_TARGET="$M4" \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/tests/firmware-cmake/arm-none-eabi.cmake" >/dev/null
  cmake --build "$ROOT/target/ffi-cmake-m4"
  cmake --install "$ROOT/target/ffi-cmake-m4" --prefix "$ROOT/target/ffi-cmake-m4-prefix" >/dev/null
  firmware_cmake "$ROOT/target/firmware-cmake-installed" -DOTCORE_PREBUILT=ON \
    -DCMAKE_PREFIX_PATH="$ROOT/target/ffi-cmake-m4-prefix"
  step "release tarball (bash scripts/embedded.sh release): layout, clean archives"
  release "$ROOT/target/release-cortex-m"
  check_release "$ROOT/target/release-cortex-m"
  step "firmware project against the unpacked release tarball (find_package, no cargo on PATH)"
  rm -rf "$ROOT/target/release-unpacked"
  mkdir -p "$ROOT/target/release-unpacked"
  tar -xzf "$ROOT/target/release-cortex-m.tar.gz" -C "$ROOT/target/release-unpacked"
  PATH=/usr/bin:/bin firmware_cmake "$ROOT/target/firmware-cmake-prebuilt" -DOTCORE_PREBUILT=ON \
    -DCMAKE_PREFIX_PATH="$ROOT/target/release-unpacked/release-cortex-m"
  step "otcore flash per feature set against the targets (linker maps)"
  size_report check
}

# The online-learning firmware (dpf_learning.c) under QEMU, which fails unless its
# estimates are within tolerance of the truth, and the same source built for the host
# (the host library, built here if needed): both must print the same lines (the bit
# patterns of the final estimates included), all but the stack measurement.
dpf_learning_test() {
  local fw host
  step "C online-learning firmware (dpf_learning.c, N = 64): under QEMU, and the same source on the host"
  cargo build --release -p otcore-ffi
  make -s -C examples-c/firmware host BUILD="$C_BUILD"
  fw=$(qemu_run -kernel "$C_BUILD/dpf_learning.elf" 2>&1) || { echo "$fw" >&2; exit 1; }
  echo "$fw"
  host=$("$C_BUILD/dpf_learning_host")
  if ! diff <(grep -v 'stack bytes' <<<"$host") <(grep -v 'stack bytes' <<<"$fw") >&2; then
    echo "dpf_learning: the firmware's run differs from the host's (above: < host, > firmware)" >&2
    exit 1
  fi
  echo "dpf_learning: the firmware printed the host build's lines, bit patterns included"
}

# otcore's share of a firmware from its linker map: "flash ram" bytes of the input
# sections that came from libotcore.a (flash: .text, .rodata, .ARM.exidx, .data).
otcore_share() {
  awk '
    function hex(s,   v, i) {
      v = 0; s = tolower(substr(s, 3))
      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return v
    }
    /^Linker script and memory map/ { m = 1; next }
    !m { next }
    /^ \.[^ ]/ { sec = $1 }
    $NF ~ /libotcore\.a\(/ && $(NF - 1) ~ /^0x/ {
      n = hex($(NF - 1))
      if (sec ~ /^\.(text|rodata|ARM\.exidx)/) flash += n
      else if (sec ~ /^\.data/) { flash += n; ram += n }
      else if (sec ~ /^\.bss/) ram += n
    }
    END { print flash + 0, ram + 0 }' "$1"
}

FW_CMAKE=$ROOT/target/firmware-cmake
# The firmware project tests/firmware-cmake (its own CMake build and toolchain file),
# configured into $1 with the extra cmake arguments "${@:2}", built, run under QEMU.
firmware_cmake() {
  local build=$1
  shift
  rm -rf "$build"
  cmake -S tests/firmware-cmake -B "$build" \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/tests/firmware-cmake/arm-none-eabi.cmake" "$@" >/dev/null
  cmake --build "$build"
  qemu_run -kernel "$build/systematic_filter.elf"
  qemu_run -kernel "$build/user_libc.elf"
}

# Flash targets of issue 25, bytes of otcore per program: "program bytes" (0: no
# target). The OT particle filter's target is for ot_filter (pf_loop.c without its
# Sinkhorn report: the filter alone); pf_loop, the filter plus the report, is listed.
SIZE_TARGETS=("systematic_filter 6144" "sinkhorn_only 16384" "ot_filter 40960" "pf_loop 0")
# otcore's flash in the reference programs (systematic filter from the building
# blocks, one Sinkhorn solve, the OT particle filter without and with a Sinkhorn
# report) against the targets; with `check`, fails if a program misses its target.
size_report() {
  local entry name limit map fl ra verdict
  printf '%-18s %12s %10s %8s  %s\n' program "otcore flash" "otcore RAM" target verdict
  for entry in "${SIZE_TARGETS[@]}"; do
    read -r name limit <<<"$entry"
    map=$C_BUILD/$name.elf.map
    [[ $name == systematic_filter ]] && map=$FW_CMAKE/systematic_filter.elf.map
    read -r fl ra < <(otcore_share "$map")
    verdict=met
    if ((limit == 0)); then
      verdict=–
    elif ((fl > limit)); then
      verdict="not met"
    fi
    printf '%-18s %12d %10d %8s  %s\n' "$name" "$fl" "$ra" "${limit/#0/–}" "$verdict"
    if [[ ${1:-} == check && $verdict == "not met" ]]; then
      echo "$name links more than $limit bytes of otcore" >&2
      exit 1
    fi
  done
}

RELEASE_TARGETS=("${TARGETS[@]}")
# Feature sets of the prebuilt archives, "name:extra cargo features": everything, and
# the plain solver without the Sinkhorn initializers, dense costs and variants (the
# calls that need them return OTC_STATUS_FEATURE_DISABLED; ~21 KB less flash for a
# solve).
RELEASE_SETS=("full:initializers,dense,variants" "minimal:")
# Writes the prebuilt release to directory $1 and $1.tar.gz.
release() {
  local dir=$1 version t set name features a
  version=$(sed -n 's/^version = "\([0-9.]*\)"/\1/p' Cargo.toml | head -1)
  rm -rf "$dir" "$dir.tar.gz"
  mkdir -p "$dir/include" "$dir/lib/cmake/otcore"
  cp include/otcore.h "$dir/include/"
  cp ffi/cmake/otcoreConfig-prebuilt.cmake "$dir/lib/cmake/otcore/otcoreConfig.cmake"
  {
    echo "# Before 1.0 only the exact version is compatible."
    echo "set(PACKAGE_VERSION \"$version\")"
    echo "if(PACKAGE_FIND_VERSION AND NOT PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)"
    echo "  set(PACKAGE_VERSION_COMPATIBLE FALSE)"
    echo "else()"
    echo "  set(PACKAGE_VERSION_COMPATIBLE TRUE)"
    echo "  set(PACKAGE_VERSION_EXACT TRUE)"
    echo "endif()"
  } >"$dir/lib/cmake/otcore/otcoreConfigVersion.cmake"
  {
    echo "otcore $version prebuilt for Cortex-M (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
    echo "rustc: $(rustc -V)"
    echo "build: cargo rustc --release -p otcore-ffi --no-default-features --features panic-handler[,FEATURES] --target TARGET --crate-type staticlib -- -C llvm-args=-unroll-runtime=false"
    echo "profile: opt-level 3, LTO, one codegen unit (Cargo.toml [profile.release])"
    echo "post-processing: ffi/cmake/ship-archive.sh (debug info and bitcode stripped, C library names renamed __otcore_*)"
    echo "link: -Wl,--gc-sections; your libc/libm in any order (the archives define none of their names)"
    echo
    echo "archives: path, feature set (cargo features), bytes, sha256"
  } >"$dir/MANIFEST.txt"
  for t in "${RELEASE_TARGETS[@]}"; do
    for set in "${RELEASE_SETS[@]}"; do
      name=${set%%:*} features=${set#*:}
      a=$dir/lib/$t/$name/libotcore.a
      build_archive "$t" "$features" "$a" >&2
      echo "  lib/$t/$name/libotcore.a $name (panic-handler${features:+,$features}) $(stat -c %s "$a") $(sha256sum "$a" | cut -d' ' -f1)" >>"$dir/MANIFEST.txt"
    done
  done
  if [[ -f $FW_CMAKE/systematic_filter.elf.map && -f $C_BUILD/pf_loop.elf.map ]]; then
    echo >>"$dir/MANIFEST.txt"
    echo "otcore flash of the reference firmware ($M4, minimal; bash scripts/embedded.sh numbers):" >>"$dir/MANIFEST.txt"
    size_report | sed 's/^/  /' >>"$dir/MANIFEST.txt"
  fi
  tar -czf "$dir.tar.gz" -C "$(dirname "$dir")" "$(basename "$dir")"
  echo "release: $dir and $dir.tar.gz"
}

# The release layout, and what a firmware sees of its archives: only otc_* and the
# compiler runtime's reserved names (no libc/libm names), no debug info or bitcode.
check_release() {
  local dir=$1 t set a f names
  for f in include/otcore.h lib/cmake/otcore/otcoreConfig.cmake \
    lib/cmake/otcore/otcoreConfigVersion.cmake MANIFEST.txt; do
    [[ -f $dir/$f ]] || { echo "release: $f missing" >&2; exit 1; }
  done
  for t in "${RELEASE_TARGETS[@]}"; do
    for set in "${RELEASE_SETS[@]}"; do
      a=$dir/lib/$t/${set%%:*}/libotcore.a
      [[ -f $a ]] || { echo "release: $a missing" >&2; exit 1; }
      grep -q "lib/$t/${set%%:*}/libotcore.a" "$dir/MANIFEST.txt" ||
        { echo "release: $a not in MANIFEST.txt" >&2; exit 1; }
      names=$(arm-none-eabi-nm -g --defined-only "$a" 2>/dev/null |
        awk 'NF == 3 && $3 !~ /^(otc_|_|anon\.)/ { print $3 }' | sort -u)
      [[ -z $names ]] || { echo "release: $a exports C library names: $names" >&2; exit 1; }
      if arm-none-eabi-objdump -h "$a" | grep -qE '\.(debug_|llvmbc)'; then
        echo "release: $a has debug info or bitcode" >&2
        exit 1
      fi
    done
  done
  echo "release layout checked; the archives define only otc_* and reserved runtime names, no debug info or bitcode"
}

build_plugin() {
  mkdir -p "$(dirname "$PLUGIN")"
  if [[ ! -f $PLUGIN || tools/qemu-icount/icount.c -nt $PLUGIN ]]; then
    cc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$PLUGIN" tools/qemu-icount/icount.c
  fi
}

# Runs the measure firmware (built with extra cargo args "$@") under the plugin and
# prints its lines plus the instruction counts per region.
measure() {
  local elf mark out
  fw_cargo build --release --bin measure "$@" >/dev/null 2>&1 || fw_cargo build --release --bin measure "$@"
  elf=$FW_BIN/measure
  mark=$(arm-none-eabi-nm "$elf" | awk '/ otcore_icount_mark$/ {print $1}')
  out=$(qemu_run -plugin "$PLUGIN,mark=0x$mark" -kernel "$elf" 2>&1)
  # The plugin records a bounded number of marks and says so when it ran out.
  if grep '^icount error' <<<"$out" >&2; then exit 1; fi
  # Regions: marks (0,1), (2,3), ... in the order the firmware printed them.
  awk '
    /^icount mark/ { m[$3] = $4; next }
    /^region/      { r[nr++] = $0; next }
    /^icount total/ { next }
    { print }
    END {
      for (k = 0; k < nr; k++) {
        split(r[k], f, /[ =]+/); # region solve n N m M d D iterations K
        c = m[2 * k + 1] - m[2 * k];
        if (f[2] != "solve") { # region <name> <params>: printed as is
          printf "instructions %s: %d\n", substr(r[k], 8), c;
          continue;
        }
        n = f[4]; it = f[10];
        key = n; if (it + 0 > 5) { hi[key] = c; ith[key] = it } else { lo[key] = c; itl[key] = it }
        printf "instructions solve n=m=%d d=2 iterations=%d: %d\n", n, it, c;
      }
      for (key in hi) {
        per = (hi[key] - lo[key]) / ((ith[key] - itl[key]) * 2 * key * key);
        printf "instructions per matrix entry per half-iteration (n=m=%d, f32, d=2): %.1f\n", key, per;
      }
    }' <<<"$out"
}

# Where the measure firmware's instructions go: executions summed by function (top
# 30), from the plugin's per-address profile and the ELF's symbol table. With a
# pattern, only the first region whose "region ..." line matches it is profiled
# (e.g. `profile 'pf_ot_resample n=64'`).
profile() {
  local elf mark window=-1 k
  build_plugin
  fw_cargo build --release --bin measure >/dev/null 2>&1 || fw_cargo build --release --bin measure
  elf=$FW_BIN/measure
  mark=$(arm-none-eabi-nm "$elf" | awk '/ otcore_icount_mark$/ {print $1}')
  if (($#)); then
    k=$(qemu_run -kernel "$elf" 2>/dev/null | grep '^region' | grep -n -m1 -- "$1" | cut -d: -f1)
    [[ -n $k ]] || { echo "no region matches '$1'" >&2; exit 1; }
    window=$((2 * (k - 1)))
    echo "profile of region $k ($1): marks $window-$((window + 1))"
  fi
  qemu_run -plugin "$PLUGIN,profile=1,mark=0x$mark,window=$window" -kernel "$elf" 2>&1 >/dev/null |
    awk -v syms=<(arm-none-eabi-nm -n -C -t d "$elf" | awk '$2 ~ /^[tTwW]$/') '
      BEGIN { while ((getline l < syms) > 0) { split(l, f, " "); a[n] = f[1] + 0; s[n++] = substr(l, index(l, f[3])) } }
      /^icount pc / {
        pc = $3 + 0; lo = 0; hi = n - 1
        while (lo < hi) { mid = int((lo + hi + 1) / 2); if (a[mid] <= pc) lo = mid; else hi = mid - 1 }
        t[s[lo]] += $4; total += $4
      }
      END {
        for (k in t) printf "%12d %5.1f%%  %s\n", t[k], 100 * t[k] / total, k
      }' | sort -rn | head -30
}

# Runs C firmware $1 under the instruction-count plugin and prints its lines; its marks
# bracket each of the first measured ticks, then the model alone (the last pair).
# Prints "instructions per $2; mean of K): mean (min, max)" and
# "  of which $3: model; $4: the rest".
marked_loop_numbers() {
  local elf=$1 mark out
  mark=$(arm-none-eabi-nm "$elf" | awk '/ otcore_icount_mark$/ {print $1}')
  out=$(qemu_run -plugin "$PLUGIN,mark=0x$mark" -kernel "$elf" 2>&1)
  if grep '^icount error' <<<"$out" >&2; then exit 1; fi
  grep -v '^icount' <<<"$out"
  awk -v what="$2" -v model_is="$3" -v rest_is="$4" -v name="$(basename "$elf" .elf)" '
    /^icount mark/ { m[$3] = $4; n = $3 + 1 }
    END {
      pairs = n / 2 - 1 # the last pair is the model alone
      if (pairs < 1) { print name ": no marks" > "/dev/stderr"; exit 1 }
      lo = -1
      for (k = 0; k < pairs; k++) {
        c = m[2 * k + 1] - m[2 * k]; sum += c
        if (lo < 0 || c < lo) lo = c
        if (c > hi) hi = c
      }
      model = m[2 * pairs + 1] - m[2 * pairs]
      printf "instructions per %s; mean of %d): %d (min %d, max %d)\n", what, pairs, sum / pairs, lo, hi
      printf "  of which %s: %d; %s: %d\n", model_is, model, rest_is, sum / pairs - model
    }' <<<"$out"
}

# The C flow-policy firmware: its marks bracket each of the first measured actions (one
# otc_sde_flow_sample_f32 call, 10 model evaluations, the model callback included) and
# then 10 direct calls of the model.
flow_policy_numbers() {
  marked_loop_numbers "$C_BUILD/flow_policy.elf" \
    "action (10 evaluations, model included" \
    "the model (10 calls of the mixture velocity)" "the sampler"
}

# The C online-learning firmware: its marks bracket the controller's part of each of the
# first 120 ticks (tangent fading, otc_dpf_step_f32 with its four callbacks, the RML
# update) and then one direct call of each callback.
dpf_learning_numbers() {
  marked_loop_numbers "$C_BUILD/dpf_learning.elf" \
    "tick (fading, otc_dpf_step_f32 N = 64 with its callbacks, RML update" \
    "the model (one call of each of the four callbacks)" "the filter step and the loop"
}

size_of() { # flash and RAM bytes of an ELF: "flash ram"
  arm-none-eabi-size -A "$1" | awk '
    $1 ~ /^\.(text|rodata|isr_vector|ARM\.exidx)$/ { flash += $2 }
    $1 ~ /^\.(data|bss)$/ { ram += $2 }
    $1 == ".data" { flash += $2 } # initial values are stored in flash too
    END { print flash, ram }'
}

numbers() {
  local base fl ra bfl bra name
  step "footprint (arm-none-eabi-size; flash = .isr_vector+.text+.rodata+.ARM.exidx+.data, RAM = .data+.bss, stack excluded)"
  build_staticlib
  make -s -C examples-c/firmware all BUILD="$C_BUILD" LIB="$SHIPPED_M4"
  read -r bfl bra < <(size_of "$C_BUILD/baseline.elf")
  printf '%-18s %8s %8s %20s\n' program flash RAM "otcore share (flash)"
  for name in baseline sinkhorn_only tracking pf_loop ot_filter flow_policy dpf_learning; do
    read -r fl ra < <(size_of "$C_BUILD/$name.elf")
    printf '%-18s %8d %8d %20d\n' "$name" "$fl" "$ra" $((fl - bfl))
  done
  step "otcore's own flash per program (linker maps) against the targets"
  firmware_cmake "$FW_CMAKE" -DOTCORE_RUST_TARGET="$M4" >/dev/null
  size_report
  step "C tracking loop (solve stack measured by painting inside the firmware)"
  qemu_run -kernel "$C_BUILD/tracking.elf" | tail -2
  step "C particle-filter loop (filter step stack measured by painting inside the firmware)"
  qemu_run -kernel "$C_BUILD/pf_loop.elf" | tail -2
  build_plugin
  step "C flow-policy loop (action stack by painting, instructions per action: QEMU plugin)"
  flow_policy_numbers
  read -r fl ra < <(otcore_share "$C_BUILD/flow_policy.elf.map")
  echo "flow_policy: otcore flash $fl B, otcore RAM $ra B (linker map)"
  step "C online-learning loop (dpf_learning.c: step stack by painting, instructions per tick: QEMU plugin)"
  dpf_learning_numbers
  read -r fl ra < <(otcore_share "$C_BUILD/dpf_learning.elf.map")
  echo "dpf_learning: otcore flash $fl B, otcore RAM $ra B (linker map)"
  step "Rust measure firmware: workspace, stack (painting), instruction counts (QEMU plugin)"
  measure
  step "same with otcore's fast-math (micromath exp/ln)"
  measure --features fast-math | grep -E '^instructions (solve|per)|^stack solve'
}

case ${1:-} in
  test)
    ensure_tools
    builds
    on_target_tests
    panic_proof
    c_firmware
    step "measure firmware runs (numbers: bash scripts/embedded.sh numbers)"
    build_plugin
    measure >/dev/null
    echo
    echo "embedded: all tests passed"
    ;;
  numbers)
    ensure_tools
    numbers
    ;;
  release)
    ensure_tools
    release "${2:-$ROOT/target/release-cortex-m}"
    check_release "${2:-$ROOT/target/release-cortex-m}"
    ;;
  profile)
    ensure_tools
    shift
    profile "$@"
    ;;
  *)
    echo "usage: bash scripts/embedded.sh test|numbers|release [DIR]|profile [REGION-PATTERN]" >&2
    exit 2
    ;;
esac
