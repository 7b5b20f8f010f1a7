#!/usr/bin/env bash
# Renders a run's report.html in headless Chromium and saves a PNG, to check the report reads
# offline.  Usage: scripts/report-screenshot.sh OUTPUT_DIR [PNG]
# Needs Debian's chromium (apt-get install chromium; fonts-noto-cjk for Chinese glyphs).
set -euo pipefail
report=$(realpath "$1/report.html")
png=${2:-$1/report.png}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1100,2400 --screenshot="$png" "file://$report" 2>/dev/null
echo "$png"
