#!/usr/bin/env bash
# Every test: installs what it needs, then formatting, lints, host tests and the
# microcontroller build. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
for t in thumbv7em-none-eabihf; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo doc (rustdoc warnings are errors: broken or private links in public docs)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps -q

step "host tests"
cargo test --workspace

step "host tests again with FMA (the fused Real::mul_add path of the kernel)"
if grep -qw fma /proc/cpuinfo; then
  # The tests of everything that runs on the kernel (the SDE steppers do not).
  kernel_tests=()
  for t in tests/tests/exp2_kernel.rs tests/tests/sinkhorn_*.rs tests/tests/pf_*.rs; do
    [[ -e $t ]] && kernel_tests+=(--test "$(basename "$t" .rs)")
  done
  RUSTFLAGS="-C target-feature=+fma" cargo test -p otcore-tests --target-dir target/fma \
    "${kernel_tests[@]}"
else
  echo "this CPU has no FMA: skipped"
fi

step "Miri: the core's doc tests are none; the small cross-crate suites it finishes in minutes"
rustup component add miri rust-src --toolchain nightly >/dev/null 2>&1 || true
# The extreme-input regressions and the bad-input suites: small problems through
# every module (the reference suites solve large problems: hours under Miri).
cargo +nightly miri test -p otcore-tests --test hardening --test sinkhorn_bad_input

step "fuzz the C ABI: every target for a short, fixed time on the committed corpus"
bash scripts/fuzz.sh short

step "otcore for thumbv7em-none-eabihf"
cargo build -p otcore --release --target thumbv7em-none-eabihf

step "C ABI: header, C tests, bit-exact check, examples, install"
bash scripts/c.sh test

step "microcontrollers: M4F/M33 builds, on-target tests and C firmware under QEMU, no-panic proof"
bash scripts/embedded.sh test

echo
echo "all tests passed"
