#!/usr/bin/env bash
# Starts the `fake_api` example on an ephemeral port and runs tests/sdk/flow.py (the official
# Python SDK, strict response validation) against it. Usage: tests/sdk/run.sh <python>
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:-python3}
cargo build --quiet --features testkit --example fake_api
target=${CARGO_TARGET_DIR:-target}
log=$(mktemp)
"$target/debug/examples/fake_api" --port 0 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
url=
for _ in $(seq 1 200); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "fake_api did not start" >&2; cat "$log" >&2; exit 1; }
"$python" tests/sdk/flow.py "$url"
"$python" tests/sdk/resources.py "$url"
