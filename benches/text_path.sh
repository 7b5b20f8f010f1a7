#!/usr/bin/env bash
# Text-path throughput: the whole pipeline (walk → extract → clean → filter → exact dedup →
# publish) on ../shared/corpus/text with one thread, three runs. Prints MB per CPU-second
# (user time) and wall MB/s, and peak RSS.  Usage: benches/text_path.sh [INPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:-../shared/corpus/text}
cargo build --release -q
bytes=$(find "$input" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '[input]\npaths = ["%s"]\n[output]\ndir = "%s/out"\n' "$input" "$tmp" > "$tmp/pipeline.toml"
for run in 1 2 3; do
  rm -rf "$tmp/out"
  /usr/bin/time -f "%U %e %M" -o "$tmp/time" target/release/medcorpus run "$tmp/pipeline.toml" --threads 1 2>/dev/null
  read -r user wall rss < "$tmp/time"
  awk -v b="$bytes" -v u="$user" -v w="$wall" -v r="$rss" -v n="$run" 'BEGIN {
    printf "run %d: %.1f MB in %.2f s user, %.2f s wall: %.1f MB/CPU-s, %.1f MB/s wall, peak RSS %d MB\n",
      n, b / 1e6, u, w, b / 1e6 / u, b / 1e6 / w, r / 1024 }'
done
