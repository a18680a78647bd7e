#!/usr/bin/env bash
# The main job: build the library and run the flagship example.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
cargo run --release -p otcore --example point_clouds
