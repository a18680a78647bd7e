#!/usr/bin/env bash
# otcore on 64-bit Arm Linux (aarch64: Jetson, Raspberry Pi 4/5, most robot computers),
# cross-built on the host and run under qemu-user.
#
#   bash scripts/aarch64.sh test     static library and test binaries for
#                                    aarch64-unknown-linux-gnu; the Sinkhorn hot loops
#                                    must be NEON (see `disasm`); the C tests (ASan +
#                                    UBSan) and the C-vs-Rust bit-for-bit check, then the
#                                    reference tests, all under qemu-aarch64
#   bash scripts/aarch64.sh disasm   the Sinkhorn hot loops (row and column passes, 2-D
#                                    point clouds, f32 and f64) of the release library:
#                                    instruction counts, and the listing of one per type
#                                    (docs/performance.md, "aarch64 and NEON")
#
# What runs under QEMU, and why (`test`; QEMU runs this code about 80x slower than the
# host, so the step keeps to the tests whose subject is the arithmetic):
#  - tests/c (the C and C++ tests of `scripts/c.sh test`'s first step, with ASan and
#    UBSan) and ffi/tests/c_bit_exact.rs: the ABI, struct layouts and every exported
#    call on aarch64, and the C results equal to the Rust API's bit for bit there.
#    Built but not run: test_parallel (a 1100 x 700 solve on 1-4 pthreads workers, 186 s
#    under QEMU, whose threads run with the x86 host's stronger memory ordering, so it
#    would not exercise aarch64's weaker one either); it runs on the host.
#  - exp2_kernel: the vectorised 2^x of the hot loop against its error contract, on
#    millions of points per type.
#  - References: sinkhorn_reference's f32 sweep (47 problems against OTT-JAX/POT,
#    35 s), ot_divergence against OTT-JAX/GeomLoss in f64 (1e-8, solved to 1e-13) and
#    f32, and its gradients against finite differences, pf_kalman (the filter against
#    the Kalman filter), pf_ot_resample (against filterflow's algorithm). Left out:
#    sinkhorn_reference's f64 sweep (140 s under QEMU; the f64 kernel is checked
#    against OTT-JAX by ot_divergence) and its initializer/acceleration sweeps (five
#    more f64 sweeps: they test the iteration, not the arithmetic).
#  - embedded_pf_reference, embedded_sde_reference, embedded_reference: the f32 results
#    the x86-64 host baked for the Cortex-M firmware, recomputed on aarch64 and compared
#    as the host compares them: bit for bit for the particle filter (OT resampling and
#    its VJPs included) and the SDE samplers, within 1e-4 for Sinkhorn. They pass
#    because `Real::mul_add` rounds twice off x86-64 (no fused multiply-add, see
#    `disasm`), as on the x86-64 portable path and the Cortex-M4F.
# Left to the host: the thread-pool tests (sinkhorn_parallel takes 22 s on the host),
# the statistical and property suites (the same arithmetic again, a minute or more each
# under QEMU: sinkhorn_properties 80 s, ot_divergence's W2 limit 85 s), Miri, fuzzing,
# the doctests (API examples) and `cargo test -p otcore` (the core crate has no unit
# tests; its suites are in tests/).
#
# Installs what it needs when missing (apt: qemu-user gcc-aarch64-linux-gnu
# g++-aarch64-linux-gnu libc6-dev-arm64-cross; rustup target).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TARGET=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu
# Cargo's own target directory (CARGO_TARGET_DIR if set), where the cross builds go.
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
REL=$TARGET_DIR/$TARGET/release
OUT=$TARGET_DIR/aarch64-c
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $SYSROOT"

# The Rust test binaries run under QEMU: `NAME` runs whole, `NAME:FILTER…` only the
# tests whose names contain a filter (libtest's filters). Cheap ones first.
RUST_TESTS=(
  embedded_pf_reference
  embedded_sde_reference
  embedded_reference
  "references:exp2_kernel:: ln_kernel:: pf_ot_resample:: pf_kalman::"
  "references:ot_divergence::matches_ott_and_geomloss ot_divergence::gradients_match_central_differences"
  "references:sinkhorn_reference::f32_matches_ott_and_pot"
)

step() { printf '\n=== [%4d s] %s\n' "$SECONDS" "$*"; }

# Debian packages without their recommendations, installed only if not yet installed.
ensure_tools() {
  local missing=() pkg
  for pkg in qemu-user gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    step "apt-get install --no-install-recommends ${missing[*]}"
    apt-get install -y --no-install-recommends "${missing[@]}" ||
      { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
  fi
  rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
}

build_lib() {
  step "cargo build --release -p otcore-ffi --target $TARGET (the library a C user links)"
  nice -n 10 cargo build --release -p otcore-ffi --target "$TARGET"
}

# --- disassembly -------------------------------------------------------------------

# "start<TAB>length<TAB>path <generic arguments>" of the release library's functions
# in module $1 whose debug name contains $2: rustc writes the generic arguments into
# DWARF names, not into the legacy symbol names. From the shared
# library, whose code is the static one's, linked (the row pass's instructions were
# compared once: the same but for relocations); its addresses make one objdump call
# per function cheap.
functions_of() {
  aarch64-linux-gnu-objdump --dwarf=info "$REL/libotcore_ffi.so" 2>/dev/null | awk -v mod="$1" -v want="$2" '
    # The path of a legacy Rust symbol (_ZN 6otcore 2ot … 17h<hash> E).
    function path(l,   s, n, id, out) {
      s = l; sub(/^_ZN/, "", s); out = ""
      while (match(s, /^[0-9]+/)) {
        n = substr(s, 1, RLENGTH) + 0; s = substr(s, RLENGTH + 1)
        id = substr(s, 1, n); s = substr(s, n + 1)
        if (length(id) == 17 && id ~ /^h[0-9a-f]+$/) break
        gsub(/[$]LT[$]/, "<", id); gsub(/[$]GT[$]/, ">", id); gsub(/[$]C[$]/, ",", id)
        gsub(/_[$]u7b[$][$]u7b[$]closure[$]u7d[$][$]u7d[$]/, "{{closure}}", id)
        out = out (out == "" ? "" : "::") id
      }
      return out
    }
    /DW_TAG_/ { sub_ = ($0 ~ /DW_TAG_subprogram/); link = ""; low = ""; len = "" }
    /DW_AT_low_pc/ { low = $NF }
    /DW_AT_high_pc/ { len = $NF }
    /DW_AT_linkage_name/ { link = $NF }
    /DW_AT_name/ && sub_ && low != "" && len != "" && index(link, mod) {
      name = $0; sub(/.*\): /, "", name)
      if (index(name, want) && !seen[link]++) print low "\t" len "\t" path(link) " " substr(name, index(name, "<"))
    }'
}

# Instructions from address $1 for $2 bytes of the shared library: "address<TAB>
# instruction" lines, hexadecimal, without comments.
listing() {
  aarch64-linux-gnu-objdump -d --no-show-raw-insn --start-address=$(($1)) \
    --stop-address=$(($1 + $2)) "$REL/libotcore_ffi.so" 2>/dev/null | awk -F'\t' '
    /^ +[0-9a-f]+:\t/ {
      a = $1; gsub(/[ :]/, "", a)
      i = $2 " " $3; sub(/ *(<|\/\/).*/, "", i); sub(/ +$/, "", i)
      print a "\t" i
    }'
}

# The innermost loops of a listing (stdin) that contain the exponential's exponent-bit
# shift on vectors (`shl vN.4s, …, #23` for f32, `shl vN.2d, …, #52` for f64): the
# streamed log-sum-exp's chunk loop. Prints each loop's instruction counts by kind
# (`.4s`/`.2d`/`.2s`/`.16b`: NEON arrangement; "scalar s/d": scalar floating-point
# arithmetic) and whether it calls a function (the final pass of a solve, which calls
# the out-of-line `costs` for ⟨C, P⟩); with $1 = full, lists the first loop that makes
# no call. Fails if there is no such loop.
hot_loops() {
  awk -F'\t' -v full="${1:-}" '
    function hex(h,   v, i) {
      v = 0
      for (i = 1; i <= length(h); i++) v = 16 * v + index("0123456789abcdef", substr(h, i, 1)) - 1
      return v
    }
    { addr[NR] = hex($1); ins[NR] = $2; n = NR }
    END {
      for (i = 1; i <= n; i++) {
        split(ins[i], w, /[ ,]+/)
        # A backward branch closes a loop: b.cond, b, cbz/cbnz (target 2nd), tbz/tbnz (3rd).
        t = ""
        if (w[1] ~ /^b(\.[a-z]+)?$/) t = w[2]
        else if (w[1] ~ /^cbn?z$/) t = w[3]
        else if (w[1] ~ /^tbn?z$/) t = w[4]
        if (t == "" || t !~ /^[0-9a-f]+$/) continue
        ta = hex(t)
        if (ta > addr[i]) continue
        for (s = i; s >= 1 && addr[s] > ta; s--) ;
        sig = 0
        for (k = s; k <= i; k++)
          if (ins[k] ~ /^shl[ \t]+v[0-9]+\.(4s, v[0-9]+\.4s, #23|2d, v[0-9]+\.2d, #52)/) sig = 1
        if (sig) { m++; lo[m] = s; hi[m] = i }
      }
      found = 0; listed = 0
      for (a = 1; a <= m; a++) {
        inner = 1
        for (b = 1; b <= m; b++)
          if (b != a && lo[b] >= lo[a] && hi[b] <= hi[a] && (lo[b] != lo[a] || hi[b] != hi[a])) inner = 0
        if (!inner) continue
        found++
        split("", cnt); nk = 0; calls = 0
        for (k = lo[a]; k <= hi[a]; k++) {
          split(ins[k], w, /[ ,]+/)
          op = w[1]; kind = op
          if (op == "bl" || op == "blr") calls++
          if (ins[k] ~ /v[0-9]+\.4s/) kind = op ".4s"
          else if (ins[k] ~ /v[0-9]+\.2d/) kind = op ".2d"
          else if (ins[k] ~ /v[0-9]+\.2s/) kind = op ".2s"
          else if (ins[k] ~ /v[0-9]+\.16b/) kind = op ".16b"
          else if (op ~ /^f/ && op != "fmov" && w[2] ~ /^[sd][0-9]+$/) kind = op " (scalar " substr(w[2], 1, 1) ")"
          else if (op ~ /^(ld|st)/ && w[2] ~ /^q[0-9]+$/) kind = op " q"
          if (!(kind in cnt)) order[++nk] = kind
          cnt[kind]++
        }
        # Kinds by count, most frequent first (insertion sort: a few dozen kinds).
        for (x = 2; x <= nk; x++)
          for (y = x; y > 1 && cnt[order[y]] > cnt[order[y - 1]]; y--) {
            tmp = order[y]; order[y] = order[y - 1]; order[y - 1] = tmp
          }
        printf "  loop %x..%x: %d instructions%s\n   ", addr[lo[a]], addr[hi[a]],
          hi[a] - lo[a] + 1, calls ? ", calls a function (not the steady state)" : ""
        for (x = 1; x <= nk; x++) printf " %s x%d;", order[x], cnt[order[x]]
        printf "\n"
        if (full == "full" && !calls && !listed++)
          for (k = lo[a]; k <= hi[a]; k++) printf "    %6x  %s\n", addr[k], ins[k]
      }
      if (!found) exit 1
    }'
}

# The Sinkhorn passes over 2-D point clouds (compile-time d = 2) in f32 and f64: the
# hot loops of every function of ot::sinkhorn instantiated for them (the row and column
# passes, per thread-pool type), summarised; with $1 = full, the first call-free loop
# per type listed. Fails if a type has no call-free loop or one does scalar
# floating-point arithmetic.
neon_report() {
  local t low len name loops steady mode
  for t in f32 f64; do
    steady=0
    mode=${1:-}
    while IFS=$'\t' read -r low len name; do
      loops=$(listing "$low" "$len" | hot_loops "$mode") || continue
      echo "$name:"
      printf '%s\n' "$loops"
      # The steady-state loops (no call): no scalar floating-point arithmetic.
      if awk '/^  loop/ { free = ($0 !~ /calls/) } free && /scalar/ { bad = 1 } END { exit !bad }' <<<"$loops"; then
        echo "a $t hot loop does scalar floating-point arithmetic: not fully vectorised"
        exit 1
      fi
      if grep -q '^  loop.*instructions$' <<<"$loops"; then
        steady=1
        mode=
      fi
    done < <(functions_of 8sinkhorn "<$t, otcore::kernel::Clouds<$t, otcore::kernel::Fixed<2>>")
    ((steady)) || { echo "no vectorised $t chunk loop in ot::sinkhorn (2-D clouds)"; exit 1; }
  done
}

cmd_disasm() {
  ensure_tools
  build_lib
  step "NEON: the Sinkhorn passes' chunk loops (2-D clouds) in $REL/libotcore_ffi.so"
  neon_report full
}

# --- tests -------------------------------------------------------------------------

cmd_test() {
  ensure_tools
  build_lib
  # c_bit_exact in the release profile: it reuses the library just built, where a debug
  # build of otcore-ffi would cost two minutes of compilation.
  step "build c_bit_exact (release) and the reference test binaries for $TARGET"
  nice -n 10 cargo test --release --no-run -q -p otcore-ffi --target "$TARGET" --test c_bit_exact
  local names=() spec
  for spec in "${RUST_TESTS[@]}"; do
    [[ " ${names[*]} " == *" ${spec%%:*} "* ]] || names+=(--test "${spec%%:*}")
  done
  nice -n 10 cargo test --no-run -q -p otcore-tests --target "$TARGET" "${names[@]}"

  step "NEON: the Sinkhorn hot loops are vectorised (bash scripts/aarch64.sh disasm lists them)"
  neon_report

  step "C tests under qemu-aarch64 (ASan + UBSan; LeakSanitizer cannot run under QEMU)"
  # LeakSanitizer stops the process's threads through ptrace, which qemu-user does not
  # emulate: it aborts at exit. Leaks are checked by the host run (scripts/c.sh).
  ASAN_OPTIONS=detect_leaks=0 nice -n 10 make -s -j2 -C tests/c run \
    CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ \
    RUN="$CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER" SKIP=test_parallel \
    LIB="$REL/libotcore_ffi.a" BUILD="$OUT/tests" ROOT="$ROOT"
  step "C results == Rust API results on aarch64, bit for bit"
  OTC_C_DUMP="$OUT/tests/values.dump" \
    nice -n 10 cargo test --release -q -p otcore-ffi --target "$TARGET" --test c_bit_exact -- --ignored

  local filters
  for spec in "${RUST_TESTS[@]}"; do
    filters=()
    [[ $spec == *:* ]] && read -ra filters <<<"${spec#*:}"
    step "${spec%%:*} under qemu-aarch64${filters[*]:+ (${filters[*]})}"
    nice -n 10 cargo test -q -p otcore-tests --target "$TARGET" --test "${spec%%:*}" \
      -- "${filters[@]}"
  done
  echo
  echo "aarch64: all tests passed (${SECONDS} s)"
}

case ${1:-} in
  test) cmd_test ;;
  disasm) cmd_disasm ;;
  *)
    echo "usage: bash scripts/aarch64.sh test|disasm" >&2
    exit 2
    ;;
esac
