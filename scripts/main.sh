#!/usr/bin/env bash
# The main job: build the static library and run the C examples: robot_localization
# (a particle filter with systematic and OT resampling: position RMSE, resample count,
# per-tick latency), sinkhorn_point_clouds (cost, error, iterations, barycentric map),
# diffusion_gmm (a score-based sampler) and scan_registration (iterated OT + Kabsch).
# The first three draw an SVG into docs/img/ (the pictures of the README).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
bash scripts/c.sh example
