#!/usr/bin/env bash
# score-stock.sh: mAP@0.5 of a written .cfg/.weights pair as a user of stock
# Darknet would get it: Debian's /usr/bin/darknet `detector valid` writes the
# detections, build/tests/voc_score (tests/voc_score.c, an independent VOC
# scorer sharing no code with legr/) scores them against the YOLO labels.
#   scripts/score-stock.sh <image list> <names file> <cfg> <weights> [...more pairs]
# Prints one "mAP@0.5 <value>  <cfg> <weights>" line per pair.  Needs
# `make test-build` (or `make test`) for build/tests/voc_score.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 4 ] && [ $(( ($# - 2) % 2 )) = 0 ] || { echo "usage: $0 <image list> <names> <cfg> <weights> [<cfg> <weights> ...]" >&2; exit 1; }
list=$(realpath "$1"); names=$(realpath "$2"); shift 2
score=$PWD/build/tests/voc_score
[ -x "$score" ] || make -s "$score"
classes=$(grep -c . "$names")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'classes=%s\nvalid=%s\nnames=%s\n' "$classes" "$list" "$names" > "$tmp/s.data"
while [ $# -gt 0 ]; do
    cfg=$(realpath "$1"); w=$(realpath "$2"); shift 2
    rm -rf "$tmp/results"; mkdir "$tmp/results"
    (cd "$tmp" && /usr/bin/darknet detector valid s.data "$cfg" "$w" >/dev/null 2>&1)
    map=$("$score" "$list" "$names" "$tmp/results" | sed -n 's/.*mAP@0.5[^0-9]*\([0-9.]*\).*/\1/p' | head -1)
    echo "mAP@0.5 ${map:-?}  $cfg $w"
done
