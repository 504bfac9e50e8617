#!/usr/bin/env bash
# The main job on the bundled demo data: build the tools, fetch the theme's pinned browser
# libraries, extract the synthetic fixtures into a two-user instance, render the site, and
# serve it on http://127.0.0.1:8000/ (Ctrl+C stops). Usage: ./scripts/demo.sh [--no-serve]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d themes/default/node_modules ]; then
  echo "==> theme browser libraries (npm ci, pinned by package-lock.json)"
  npm ci --ignore-scripts --no-audit --no-fund --prefix themes/default >/dev/null
fi
echo "==> building bincio-gen (release)"
cargo build --release --locked -p bincio-gen
dir="${BINCIO_DEMO_DIR:-$(mktemp -d)/bincio-demo}"
exec ./target/release/bincio-gen demo --dir "$dir" "$@"
