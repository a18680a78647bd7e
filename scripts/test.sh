#!/usr/bin/env bash
# Every test: installs what it needs, then formatting, lints, host tests and the
# microcontroller build. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== [%4d s] %s\n' "$SECONDS" "$*"; }

step "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
for t in thumbv7em-none-eabihf; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done
# Nightly for Miri and cargo-fuzz, installed here: the background steps below must not
# run rustup beside the foreground's.
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
rustup component add miri rust-src --toolchain nightly >/dev/null 2>&1 || true

step "module graph: core/src/pf and core/src/sde import nothing from each other"
# Both pillars build on the shared pieces (buf, kernel, ot, real, sum), never on each
# other (DESIGN §3). Catches `crate::sde::…`, `crate::{sde, …}` and `super::super::pf`.
pillar_imports() { grep -rnE "(crate|super::super)::(\{[^}]*\b)?$1\b" "core/src/$2" || true; }
bad="$(pillar_imports sde pf)$(pillar_imports pf sde)"
if [[ -n $bad ]]; then
  printf '%s\n' "$bad"
  echo "core/src/pf and core/src/sde must not import each other (move shared helpers to core/src/buf.rs)"
  exit 1
fi
echo "no imports between core/src/pf and core/src/sde"

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# The firmware build's feature set: no dead code without `initializers` and `dense`.
cargo clippy -p otcore --no-default-features --all-targets -- -D warnings

step "cargo doc (rustdoc warnings are errors: broken or private links in public docs)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps -q

step "host tests"
# The examples (benchmark and table programs) are type-checked by clippy above; their
# optimised builds are not needed to test.
cargo test --workspace --lib --bins --tests
cargo test --workspace --doc

step "without the optional features: their calls are refused (FeatureDisabled), nothing written"
cargo test -p otcore --no-default-features --test feature_gates

step "kernel suites on the other instruction-set paths this CPU has (x86-64 run-time dispatch)"
# `cargo test --workspace` above ran the best path the CPU has (AVX-512 or AVX2+FMA);
# each other path runs the tests of everything on the kernel (the SDE steppers are
# not) from the same build, the process starting on the path OTCORE_TEST_SIMD_PATH
# names (the tests crate enables otcore's test hook; core/src/dispatch.rs).
flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
has() { for f in "$@"; do [[ " $flags " == *" $f "* ]] || return 1; done; }
if [[ $(uname -m) == x86_64 ]]; then
  # The suite's modules on the kernel, as test-name filters ("module::").
  kernel_modules=()
  for t in tests/tests/suite/sinkhorn_*.rs tests/tests/suite/ot_*.rs tests/tests/suite/pf_*.rs; do
    [[ -e $t ]] && kernel_modules+=("$(basename "$t" .rs)::")
  done
  paths=(portable)
  if has avx512f avx512bw avx512dq avx512vl; then
    paths+=(avx2)
  elif ! has avx2 fma; then
    paths=()
    echo "this CPU has only the portable path: covered by the host tests"
  fi
  for path in "${paths[@]}"; do
    echo "--- path $path"
    # --workspace, as above: with -p the features resolve otherwise and all is rebuilt.
    OTCORE_TEST_SIMD_PATH=$path cargo test --workspace --test simd_dispatch --test references \
      --test sinkhorn_parallel
    OTCORE_TEST_SIMD_PATH=$path cargo test --workspace --test suite -- "${kernel_modules[@]}"
  done
else
  echo "not x86-64: one path, covered by the host tests"
fi

# Miri and the fuzzer build in their own target directories (target/miri, fuzz/target)
# and run on one core: they run beside the C, aarch64 and microcontroller steps, which
# leave the other core mostly idle. Their output is printed when they are done.
background() {
  step "Miri: the extreme-input regressions (Sinkhorn, OT resampling, its VJP, the filter step, an SDE step) and the thread-pool split"
  # The core has no unit tests of its own; these cross-crate tests run small problems
  # through every module in about 3 minutes under Miri (the reference suites solve large
  # problems: hours). The N = 32 small-ε case alone would take over 10 minutes. libm's
  # x86 inline assembly is not supported by Miri: its portable code is used instead.
  cargo +nightly miri test -p otcore-tests --features libm/force-soft-floats --test hardening \
    -- --skip ot_resample_small_epsilon
  # The caller's-pool split (unsafe shared rows and slots) on two threads: about 30 s.
  cargo +nightly miri test -p otcore-tests --features libm/force-soft-floats \
    --test sinkhorn_parallel -- miri_

  step "fuzz the C ABI: every target for a short, fixed time on the committed corpus"
  bash scripts/fuzz.sh short
}
BACKGROUND_LOG=target/test-background.log
mkdir -p target
step "started in the background: Miri, then the fuzz targets (log: $BACKGROUND_LOG)"
export -f background step
# Its own process group (setsid), stopped with everything in it if the foreground fails.
setsid bash -c 'set -euo pipefail; background' >"$BACKGROUND_LOG" 2>&1 &
background_pid=$!
# cbindgen (a `cargo install` of a few minutes of CPU) is built beside the aarch64 step
# too, for the C step after it.
TOOLS_LOG=target/test-tools.log
setsid bash scripts/c.sh tools >"$TOOLS_LOG" 2>&1 &
tools_pid=$!
trap 'kill -- -"$background_pid" -"$tools_pid" 2>/dev/null || true' EXIT

step "otcore for thumbv7em-none-eabihf"
cargo build -p otcore --release --target thumbv7em-none-eabihf

step "aarch64 Linux (Jetson, Raspberry Pi): NEON kernel, C tests and reference tests under qemu-user"
bash scripts/aarch64.sh test

step "C ABI: header, C tests, bit-exact check, C++ header tests, Doxygen, examples, install"
if ! wait "$tools_pid"; then
  cat "$TOOLS_LOG"
  echo "installing cbindgen failed (log above: $TOOLS_LOG)"
  exit 1
fi
bash scripts/c.sh test

step "microcontrollers: M4F/M33 builds, on-target tests and C firmware under QEMU, no-panic proof"
bash scripts/embedded.sh test

step "waiting for the background steps (Miri, fuzzing)"
if ! wait "$background_pid"; then
  cat "$BACKGROUND_LOG"
  echo "a background step failed (log above: $BACKGROUND_LOG)"
  exit 1
fi
cat "$BACKGROUND_LOG"

echo
echo "all tests passed"
