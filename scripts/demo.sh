#!/usr/bin/env bash
# The main job on the bundled demo data: build bincio-gen, extract the synthetic demo
# activities (carried by the binary) into a two-user instance in ./bincio-demo (or
# $BINCIO_DEMO_DIR), render the site there and serve it on http://127.0.0.1:8000/ (Ctrl+C
# stops; running the script again serves the same folder). Usage: ./scripts/demo.sh [--no-serve]
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> building bincio-gen (release; the first build takes a few minutes)"
cargo build --release --locked -p bincio-gen
dir="${BINCIO_DEMO_DIR:-$PWD/bincio-demo}"
exec ./target/release/bincio-gen demo --dir "$dir" "$@"
