#!/usr/bin/env bash
# Text-path throughput on ../shared/corpus/text with one thread, three runs each: the spine
# (walk → extract → clean → filter → exact dedup → publish docs and BERT text; no near dedup, no
# tokens) and the default pipeline (plus near dedup and Megatron tokens with whole-word masks).
# Prints MB per CPU-second (user time), wall MB/s and peak RSS.
# Usage: benches/text_path.sh [INPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:-../shared/corpus/text}
cargo build --release -q
bytes=$(find "$input" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
spine='[near_dedup]\nenabled = false\n[tokenize]\nvocab = "none"\n'
for variant in spine default; do
  printf '[input]\npaths = ["%s"]\n[output]\ndir = "%s/out"\n' "$input" "$tmp" > "$tmp/pipeline.toml"
  [ "$variant" = spine ] && printf "$spine" >> "$tmp/pipeline.toml"
  for run in 1 2 3; do
    rm -rf "$tmp/out"
    /usr/bin/time -f "%U %e %M" -o "$tmp/time" target/release/medcorpus run "$tmp/pipeline.toml" --threads 1 2>/dev/null
    read -r user wall rss < "$tmp/time"
    awk -v b="$bytes" -v u="$user" -v w="$wall" -v r="$rss" -v n="$run" -v v="$variant" 'BEGIN {
      printf "%s run %d: %.1f MB in %.2f s user, %.2f s wall: %.1f MB/CPU-s, %.1f MB/s wall, peak RSS %d MB\n",
        v, n, b / 1e6, u, w, b / 1e6 / u, b / 1e6 / w, r / 1024 }'
  done
done
