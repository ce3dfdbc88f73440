#!/usr/bin/env bash
# Side-by-side: the Rust `consume_stream` example vs the official TypeScript SDK
# (`client.beta.sessions.events.stream(id)`, bench/ts/consume.mjs), each consuming the same
# session event stream (EVENTS events, default 100 000) from the local `sse_server` example.
#
#   bash bench/consume_compare.sh            # RUNS=5 EVENTS=100000 WARMUP=1
#   RUNS=9 EVENTS=20000 bash bench/consume_compare.sh
#
# Each run is a whole process, under `/usr/bin/time -f '%e %M'` (max RSS in KiB); wall time is
# taken around it with bash's microsecond clock (`%e` only has 10 ms resolution), and `%e` is kept
# in the per-run log. Runs alternate Rust/TS, swapping who goes first each round; WARMUP untimed
# runs of each go first (page cache, node's compile cache). Every run must print
# `events=<EVENTS> …` on its last stdout line, or the script fails. Prints a table of medians and
# the Rust/TS ratios against the goal (≤ 0.25× the TS wall time, ≤ 16 MiB peak RSS).
# Respects CARGO_TARGET_DIR. Needs cargo, node/npm, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=${RUNS:-5}
EVENTS=${EVENTS:-100000}
WARMUP=${WARMUP:-1}
SESSION_ID=${SESSION_ID:-sesn_011CZbench000000000001}
TARGET=${CARGO_TARGET_DIR:-target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
EXAMPLES=$TARGET/release/examples
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "GNU time is needed at $TIME (apt-get install time)" >&2; exit 1; }

echo "== build (cargo build --release --example consume_stream --example sse_server)" >&2
BUILD_LOG=$(mktemp)
if ! cargo build --release --example consume_stream --example sse_server >"$BUILD_LOG" 2>&1; then
  cat "$BUILD_LOG" >&2; rm -f "$BUILD_LOG"; exit 1
fi
rm -f "$BUILD_LOG"

if [ ! -d bench/ts/node_modules/@anthropic-ai/sdk ]; then
  echo "== npm ci (bench/ts)" >&2
  npm ci --prefix bench/ts --no-audit --no-fund >&2
fi
TS_SDK_VERSION=$(node -p "require('./bench/ts/node_modules/@anthropic-ai/sdk/package.json').version")

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== start sse_server (events=$EVENTS)" >&2
"$EXAMPLES/sse_server" --port 0 --events "$EVENTS" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
LISTENING=
for _ in $(seq 1 600); do
  LISTENING=$(grep -m1 '^listening on ' "$WORK/server.out" || true)
  [ -n "$LISTENING" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err" >&2; echo "sse_server died" >&2; exit 1; }
  sleep 0.1
done
[ -n "$LISTENING" ] || { echo "sse_server did not start within 60 s" >&2; exit 1; }
echo "$LISTENING" >&2
BASE_URL=$(sed -n 's/^listening on \(http:[^ ]*\) .*/\1/p' <<<"$LISTENING")
BYTES=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$LISTENING")

export ANTHROPIC_API_KEY=bench
RUST_CMD=("$EXAMPLES/consume_stream" "$BASE_URL" "$SESSION_ID")
TS_CMD=(node "$ROOT/bench/ts/consume.mjs" "$BASE_URL" "$SESSION_ID")

# run NAME LOG: runs the consumer once; appends "wall_s rss_kib" to LOG unless LOG is empty.
run() {
  local name=$1 log=$2 t0 t1 wall e rss last
  local -a cmd
  if [ "$name" = rust ]; then cmd=("${RUST_CMD[@]}"); else cmd=("${TS_CMD[@]}"); fi
  t0=$EPOCHREALTIME
  if ! "$TIME" -f '%e %M' -o "$WORK/time" "${cmd[@]}" >"$WORK/out" 2>"$WORK/err"; then
    echo "$name failed:" >&2; tail -n 20 "$WORK/err" >&2; tail -n 5 "$WORK/time" >&2; exit 1
  fi
  t1=$EPOCHREALTIME
  last=$(tail -n 1 "$WORK/out")
  if [[ ! $last =~ ^events=([0-9]+)\  ]] || [ "${BASH_REMATCH[1]}" != "$EVENTS" ]; then
    echo "$name: expected events=$EVENTS, got: '$last'" >&2; tail -n 20 "$WORK/err" >&2; exit 1
  fi
  read -r e rss < <(tail -n 1 "$WORK/time")
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
  printf '  %-4s wall=%ss (%%e %ss) maxrss=%s KiB  %s\n' "$name" "$wall" "$e" "$rss" "$last" >&2
  [ -n "$log" ] && echo "$wall $rss" >>"$log"
  return 0
}

for _ in $(seq 1 "$WARMUP"); do
  echo "== warm-up" >&2
  run rust ""; run ts ""
done
: >"$WORK/rust.log"; : >"$WORK/ts.log"
for i in $(seq 1 "$RUNS"); do
  echo "== round $i/$RUNS" >&2
  if (( i % 2 )); then run rust "$WORK/rust.log"; run ts "$WORK/ts.log"
  else run ts "$WORK/ts.log"; run rust "$WORK/rust.log"; fi
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat() { awk "{ print \$$2 }" "$WORK/$1.log" | median; }
peak() { awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$WORK/$1.log"; }

R_WALL=$(stat rust 1); T_WALL=$(stat ts 1)
R_RSS=$(stat rust 2); T_RSS=$(stat ts 2)
R_PEAK=$(peak rust); T_PEAK=$(peak ts)

echo
echo "consume_stream vs @anthropic-ai/sdk $TS_SDK_VERSION (node $(node --version)), $EVENTS events, $BYTES bytes of SSE, $RUNS runs each, $(nproc) cores"
awk -v rw="$R_WALL" -v tw="$T_WALL" -v rr="$R_RSS" -v tr="$T_RSS" -v rp="$R_PEAK" -v tp="$T_PEAK" -v n="$EVENTS" 'BEGIN {
  printf "%-22s %14s %14s %18s %16s\n", "consumer", "median wall s", "events/s", "median maxRSS MiB", "worst maxRSS MiB"
  printf "%-22s %14.3f %14.0f %18.1f %16.1f\n", "rust consume_stream", rw, n / rw, rr / 1024, rp / 1024
  printf "%-22s %14.3f %14.0f %18.1f %16.1f\n", "ts sdk", tw, n / tw, tr / 1024, tp / 1024
  printf "%-22s %14.3f %14s %18.3f %16.3f\n", "ratio rust/ts", rw / tw, "", rr / tr, rp / tp
  printf "\ngoal: wall ratio <= 0.25: %s (%.3f); rust peak RSS <= 16 MiB: %s (%.1f MiB)\n",
    (rw / tw <= 0.25 ? "met" : "NOT met"), rw / tw, (rp / 1024 <= 16 ? "met" : "NOT met"), rp / 1024
}'
