#!/usr/bin/env bash
# Side-by-side kernel throughput of several builds, alternating round by round on one
# pinned core (core/benches/passes.rs): this build on its best path (run-time
# dispatch), the same pinned to the portable path (the SSE2 code every build shipped
# before the dispatch), a `-C target-cpu=native` build, and the previous commit's
# default build. Prints the median ns per entry per half-iteration of each build and
# the ratios to the dispatched one.
#   bash scripts/bench-paths.sh [rounds] [sizes…]     (default: 3 rounds, n = 256 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
sizes=("${@:-256 1024}")
tgt=target/bench-paths
exe() { cargo bench -p otcore --bench passes --no-run --target-dir "$1" 2>&1 |
  sed -n 's/.*Executable .*(\(.*\))/\1/p'; }
declare -A bin
bin[dispatch]=$(exe $tgt/dispatch)
bin[portable]=$(OTCORE_SIMD_PATH=portable exe $tgt/portable)
bin[native]=$(RUSTFLAGS="-C target-cpu=native" exe $tgt/native)
# The previous commit, in a throwaway worktree, with this commit's benchmark source.
prev=$tgt/prev-src
rm -rf "$prev" && git worktree prune
git worktree add -q --detach "$prev" HEAD~1 2>/dev/null || git worktree add -q --detach "$prev" "${PREV:-main}"
cp core/benches/passes.rs "$prev/core/benches/passes.rs"
grep -q 'name = "passes"' "$prev/core/Cargo.toml" ||
  printf '\n[[bench]]\nname = "passes"\nharness = false\n' >>"$prev/core/Cargo.toml"
bin[previous]=$( (cd "$prev" && realpath "$(exe "$PWD/../prev")")) || true
out=$tgt/results.txt
: >"$out"
for r in $(seq "$rounds"); do
  for b in dispatch portable native previous; do
    [[ -n ${bin[$b]} ]] || continue
    taskset -c 1 "${bin[$b]}" ${sizes[*]} | sed "s/^/$b /" >>"$out"
  done
done
git worktree remove --force "$prev"
python3 - "$out" <<'PY'
import sys, statistics as st
from collections import defaultdict
v = defaultdict(list)
for line in open(sys.argv[1]):
    b, kind, ty, n, d, ns = line.split()
    v[(kind, ty, int(n), int(d), b)].append(float(ns))
keys = sorted({k[:4] for k in v})
print("kind      type  n     d  dispatch  portable  native  previous  portable/disp  native/disp  previous/disp")
for k in keys:
    m = {b: st.median(v[k + (b,)]) for b in ("dispatch", "portable", "native", "previous") if v.get(k + (b,))}
    dd = m["dispatch"]
    r = lambda b: f"{m[b] / dd:13.2f}" if b in m else " " * 13
    print(f"{k[0]:9} {k[1]:5} {k[2]:5} {k[3]}  {dd:8.3f}  {m.get('portable', 0):8.3f}  {m.get('native', 0):6.3f}  {m.get('previous', 0):8.3f}  {r('portable')}  {r('native')}  {r('previous')}")
PY
