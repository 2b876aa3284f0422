#!/usr/bin/env bash
# Instructions per request of one build (see bench/instructions.mjs): bash bench/instructions.sh <dist/cjs> [path] [requests]
# The build's dist/cjs must sit where its dependencies resolve (inside a checkout with node_modules).
set -euo pipefail
dist=$1; path=${2:-/count}; requests=${3:-2000}
out=$(mktemp /tmp/vg/callgrind.XXXXXX)
mkdir -p /tmp/vg
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" node "$(dirname "$0")/instructions.mjs" --dist="$dist" --path="$path" --requests="$requests" --warmup="${WARMUP:-3000}" ${FRESH:+--fresh} > "$out.log" 2>"$out.err" &
child=$!
while ! grep -q '^ready' "$out.log" 2>/dev/null; do
  kill -0 "$child" 2>/dev/null || { echo "the app exited before it was ready:" >&2; cat "$out.err" >&2; exit 1; }
  sleep 1
done
pid=$(awk '/^ready/{print $2}' "$out.log")
callgrind_control -i on "$pid" > /dev/null
touch "/tmp/vg/on-$pid"
wait
total=$(awk '/^summary:|^totals:/{print $2; exit}' "$out")
echo "$dist $path: $((total / requests)) instructions per request ($requests requests)"
