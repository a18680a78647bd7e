#!/usr/bin/env bash
# Fuzzing the C ABI with cargo-fuzz (libFuzzer + AddressSanitizer), targets in fuzz/.
#
#   bash scripts/fuzz.sh short          every target for SHORT_SECONDS (default 10) on
#                                       the committed seed corpus, libFuzzer seed
#                                       SHORT_SEED (default 1): part of scripts/test.sh
#   bash scripts/fuzz.sh long [RUNS]    the campaign: every target for RUNS executions
#                                       (default 10000000), all at once at nice 19,
#                                       corpus grown in target/fuzz-corpus, logs in
#                                       target/fuzz-logs/<target>.log
#
# Each target checks the promises of the header inside (documented statuses, outputs
# untouched on error, finite outputs on success, iteration and evaluation budgets); a
# broken promise is a crash, and the input is saved under fuzz/artifacts/<target>/.
# Installs what it needs: the nightly toolchain (rustup) and cargo-fuzz (pinned, into
# target/tools).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CARGO_FUZZ_VERSION=0.13.1
HOST=$(rustc -vV | sed -n 's/^host: //p')
TARGETS=(sinkhorn plan ot_resample ot_vjp pf_step sde_step sde_sample sde_adaptive sde_ito mcl sde_flow)
SHORT_SECONDS=${SHORT_SECONDS:-10}
# A fixed seed: every run of the test command tries the same inputs in the same order
# (a slower machine, a shorter prefix of them), so a pass here is a pass in CI. New
# ground is the long campaign's job (or SHORT_SEED=<n>).
SHORT_SEED=${SHORT_SEED:-1}
# Inputs longer than this only repeat what the targets read (they read < 512 bytes).
MAX_LEN=512

step() { printf '\n=== %s\n' "$*"; }

ensure_tools() {
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  if [[ "$("$ROOT/target/tools/bin/cargo-fuzz" --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    step "cargo install cargo-fuzz $CARGO_FUZZ_VERSION (into target/tools)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$ROOT/target/tools"
  fi
  export PATH=$ROOT/target/tools/bin:$PATH
}

build() {
  step "cargo +nightly fuzz build -O (ASan)"
  cargo +nightly fuzz build -O
}

case ${1:-} in
  short)
    ensure_tools
    build
    for t in "${TARGETS[@]}"; do
      step "fuzz $t for ${SHORT_SECONDS} s (seed corpus fuzz/corpus/$t, not grown)"
      work=$ROOT/target/fuzz-short/$t
      rm -rf "$work" && mkdir -p "$work"
      # New inputs go to the scratch directory first; the committed corpus is read-only.
      if ! cargo +nightly fuzz run -O "$t" "$work" "fuzz/corpus/$t" -- \
        -seed="$SHORT_SEED" -max_total_time="$SHORT_SECONDS" -max_len=$MAX_LEN -print_final_stats=1 \
        >"$work.log" 2>&1; then
        grep -E -A3 'panicked|SUMMARY|ERROR' "$work.log" | head -20
        echo "fuzz target $t failed: log $work.log, input under fuzz/artifacts/$t/"
        exit 1
      fi
      grep -E '^stat::number_of_executed_units' "$work.log"
    done
    echo
    echo "fuzz short: all targets passed"
    ;;
  long)
    ensure_tools
    build
    runs=${2:-10000000}
    mkdir -p target/fuzz-logs
    # All targets at once, at the lowest priority (the machine stays usable); each
    # stops after `runs` executions or at its first broken promise.
    pids=()
    for t in "${TARGETS[@]}"; do
      mkdir -p "target/fuzz-corpus/$t" "fuzz/artifacts/$t"
      # The binary cargo-fuzz built, run directly: nine `cargo fuzz run` would each
      # take the build lock in turn.
      ASAN_OPTIONS=detect_odr_violation=0 nice -n 19 "fuzz/target/$HOST/release/$t" \
        "target/fuzz-corpus/$t" "fuzz/corpus/$t" -runs="$runs" -max_len=$MAX_LEN \
        -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" >"target/fuzz-logs/$t.log" 2>&1 &
      pids+=($!)
    done
    echo "fuzzing ${TARGETS[*]} for $runs executions each; logs in target/fuzz-logs/"
    failed=0
    for i in "${!TARGETS[@]}"; do
      t=${TARGETS[$i]}
      if wait "${pids[$i]}"; then
        echo "$t: $(grep -E '^stat::number_of_executed_units' "target/fuzz-logs/$t.log")"
      else
        echo "$t FAILED: see target/fuzz-logs/$t.log"
        failed=1
      fi
    done
    exit $failed
    ;;
  *)
    echo "usage: bash scripts/fuzz.sh short|long [RUNS]" >&2
    exit 2
    ;;
esac
