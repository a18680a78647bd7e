#!/usr/bin/env bash
# The C side of otcore: header generation, C build, C tests, install.
#
#   bash scripts/c.sh header    regenerate include/otcore.h (cbindgen, pinned version)
#   bash scripts/c.sh tools     install that cbindgen into target/tools (test does it too)
#   bash scripts/c.sh test      header check, C tests (ASan/UBSan), bit-for-bit comparison
#                               with the Rust API, C++ header tests (g++/clang++, C++17/20,
#                               no-exceptions, Eigen), Doxygen reference (warnings are
#                               errors), examples (Makefile and CMake), install
#                               + pkg-config + find_package consumers, firmware build
#   bash scripts/c.sh example   build the static library and run robot_localization,
#                               sinkhorn_point_clouds and diffusion_gmm; their pictures
#                               go to docs/img/ (the committed ones)
#
# Installs what it needs (cbindgen into target/tools, apt packages) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CBINDGEN_VERSION=0.29.4
CBINDGEN=$ROOT/target/tools/bin/cbindgen
OUT=$ROOT/target/c
LIB=$ROOT/target/release/libotcore_ffi.a
FIRMWARE_TARGET=thumbv7em-none-eabihf

step() { printf '\n=== %s\n' "$*"; }

# apt packages for the commands this script runs, installed only if a command is missing.
ensure_commands() {
  local missing=() cmd pkg
  for cmd in "$@"; do
    case $cmd in
      cc) pkg=gcc ;; c++) pkg=g++ ;; *) pkg=$cmd ;;
    esac
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    step "apt-get install ${missing[*]}"
    apt-get install -y --no-install-recommends "${missing[@]}" || { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
  fi
}

# Debian packages without their recommendations, installed only if not yet installed.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    step "apt-get install --no-install-recommends ${missing[*]}"
    apt-get install -y --no-install-recommends "${missing[@]}" ||
      { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
  fi
}

ensure_cbindgen() {
  if [[ "$("$CBINDGEN" --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]]; then
    step "cargo install cbindgen $CBINDGEN_VERSION (into target/tools)"
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --root "$ROOT/target/tools"
  fi
}

# Writes the header generated from ffi/src to $1.
generate_header() {
  (cd ffi && "$CBINDGEN" --quiet --config cbindgen.toml --crate otcore-ffi --output "$1")
}

build_lib() {
  step "cargo build --release -p otcore-ffi (static and shared library)"
  cargo build --release -p otcore-ffi
}

cmd_header() {
  ensure_cbindgen
  generate_header "$ROOT/include/otcore.h"
  echo "wrote include/otcore.h"
}

check_header() {
  step "include/otcore.h is what cbindgen $CBINDGEN_VERSION generates"
  ensure_cbindgen
  mkdir -p "$OUT"
  generate_header "$OUT/otcore.h"
  if ! cmp -s "$OUT/otcore.h" include/otcore.h; then
    diff -u include/otcore.h "$OUT/otcore.h" | head -40 || true
    echo "include/otcore.h is out of date: run 'bash scripts/c.sh header' and commit it"
    exit 1
  fi
  local includes
  includes=$(grep '^#include' include/otcore.h | tr '\n' ' ')
  if [[ "$includes" != "#include <stdint.h> #include <stddef.h> #include <stdbool.h> " ]]; then
    echo "include/otcore.h includes more than stdint.h, stddef.h, stdbool.h: $includes"
    exit 1
  fi
  echo "header up to date; includes only <stdint.h> <stddef.h> <stdbool.h>"
}

c_tests() {
  step "C tests (C99/C11/C++11/C++17 header checks; ASan + UBSan)"
  make -C tests/c run LIB="$LIB" BUILD="$OUT/tests" ROOT="$ROOT"
  step "C results == Rust API results, bit for bit"
  # --workspace: the features resolve as in the host tests, whose build is reused (with
  # -p otcore-ffi everything would be rebuilt).
  OTC_C_DUMP="$OUT/tests/values.dump" \
    cargo test --workspace --test c_bit_exact -- --ignored
}

cpp_tests() {
  step "C++ header tests (g++ and clang++, C++17/20, with and without exceptions, Eigen adapter; ASan + UBSan)"
  ensure_packages clang libclang-rt-dev libeigen3-dev
  make -j2 -C tests/cpp run LIB="$LIB" BUILD="$OUT/cpp" ROOT="$ROOT"
}

api_reference() {
  step "API reference: Doxygen over otcore.h, otcore.hpp, otcore_eigen.hpp (warnings are errors)"
  ensure_packages doxygen
  rm -rf "$OUT/api"
  mkdir -p "$OUT/api"
  (cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = $OUT/api") | doxygen -
  echo "HTML reference: $OUT/api/html/index.html"
}

examples() {
  step "examples-c with make"
  make -C examples-c run BUILD="$OUT/examples"
  step "examples-c with CMake"
  cmake -S examples-c -B "$OUT/examples-cmake" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$OUT/examples-cmake"
  "$OUT/examples-cmake/sinkhorn_point_clouds" >/dev/null
  "$OUT/examples-cmake/robot_localization" 32 >/dev/null
  "$OUT/examples-cmake/scan_registration" >/dev/null
  "$OUT/examples-cmake/amcl_localization" --quick >/dev/null
  "$OUT/examples-cmake/dpf_online_learning" >/dev/null
  "$OUT/examples-cmake/parallel_sinkhorn" 512 >/dev/null
  echo "CMake builds of sinkhorn_point_clouds, robot_localization, scan_registration, amcl_localization and dpf_online_learning run"
}

install_tests() {
  local prefix=$OUT/prefix
  step "install into $prefix (CMake: library, header, otcore.pc, otcoreConfig.cmake)"
  rm -rf "$prefix"
  cmake -S ffi -B "$OUT/build-lib" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$OUT/build-lib"
  cmake --install "$OUT/build-lib" --prefix "$prefix"

  step "consumer built through pkg-config (links the installed shared library)"
  mkdir -p "$OUT/consumer-pkgconfig"
  # shellcheck disable=SC2046 # pkg-config output is a list of flags
  cc -std=c99 -Wall -Wextra -Werror -pedantic tests/c/install/consumer.c \
    $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs otcore) \
    -o "$OUT/consumer-pkgconfig/consumer"
  LD_LIBRARY_PATH="$prefix/lib" "$OUT/consumer-pkgconfig/consumer"
  local soname
  soname=$(readelf -d "$OUT/consumer-pkgconfig/consumer" | sed -n 's/.*(NEEDED).*\[\(libotcore[^]]*\)\]/\1/p')
  echo "consumer needs $soname"
  [[ $soname == "libotcore.so.$(version_part 1).$(version_part 2)" ]] || { echo "wrong SONAME"; exit 1; }

  step "a one-call program is small when linked statically (pkg-config --static, find_package)"
  # shellcheck disable=SC2046 # pkg-config output is a list of flags
  cc -std=c99 -Wall -Wextra -Werror -pedantic tests/c/install/version_only.c \
    $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags otcore) "$prefix/lib/libotcore.a" \
    $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --static --libs-only-other otcore) \
    -lm -lpthread -ldl -o "$OUT/consumer-pkgconfig/version_only"
  "$OUT/consumer-pkgconfig/version_only"
  check_small "$OUT/consumer-pkgconfig/version_only"

  step "consumer built through find_package(otcore) (links the installed static library)"
  cmake -S tests/c/install -B "$OUT/consumer-cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$OUT/consumer-cmake"
  "$OUT/consumer-cmake/consumer"
  "$OUT/consumer-cmake/version_only"
  check_small "$OUT/consumer-cmake/version_only"
}

# Field k (1 = major) of the workspace version.
version_part() {
  sed -n 's/^version = "\([0-9.]*\)"/\1/p' Cargo.toml | head -1 | cut -d. -f"$1"
}

# A stripped one-call program linked against the static library stays under 100 KB
# (15 KB measured; 1.7 MB when the link flags do not drop unused sections).
check_small() {
  local stripped=$1.stripped bytes
  strip -o "$stripped" "$1"
  bytes=$(stat -c %s "$stripped")
  echo "$(basename "$1"): $bytes bytes stripped"
  ((bytes < 100000)) || { echo "too large: the link flags do not drop unused code"; exit 1; }
}

firmware() {
  step "otcore-ffi for $FIRMWARE_TARGET without std"
  rustup target list --installed | grep -qx "$FIRMWARE_TARGET" || rustup target add "$FIRMWARE_TARGET"
  # The static library a C firmware links needs a panic handler (C has none); a Rust
  # firmware application links the rlib and brings its own, so check that too.
  # Only the staticlib crate type: a cdylib cannot be built without std (cargo would
  # warn `dropping unsupported crate type cdylib`).
  cargo rustc --release -p otcore-ffi --no-default-features --features panic-handler \
    --target "$FIRMWARE_TARGET" --crate-type staticlib
  cargo rustc --release -p otcore-ffi --no-default-features --target "$FIRMWARE_TARGET" \
    --crate-type rlib
}

case ${1:-} in
  header)
    cmd_header
    ;;
  tools)
    ensure_cbindgen
    ;;
  test)
    ensure_commands cc c++ make cmake pkg-config
    check_header
    build_lib
    c_tests
    cpp_tests
    api_reference
    examples
    install_tests
    firmware
    echo
    echo "C ABI: all tests passed"
    ;;
  example)
    ensure_commands cc make
    build_lib
    step "examples-c: robot_localization, sinkhorn_point_clouds, diffusion_gmm, scan_registration, amcl_localization"
    make -s -C examples-c run BUILD="$OUT/examples" IMG="$ROOT/docs/img"
    echo
    echo "pictures written to docs/img/: robot_localization.svg, sinkhorn_point_clouds.svg," \
      "diffusion_gmm.svg (shown in README.md)"
    ;;
  *)
    echo "usage: bash scripts/c.sh header|tools|test|example" >&2
    exit 2
    ;;
esac
