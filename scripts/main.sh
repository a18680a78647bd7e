#!/usr/bin/env bash
# The main job: build the static library and run the C example (two point clouds:
# cost, error, iterations and the barycentric map of a few points).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
bash scripts/c.sh example
