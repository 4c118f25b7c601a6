#!/usr/bin/env bash
# demo.sh: the mission end to end on the embedded default: the project's
# Fashion-MNIST detector (cfg/fashion-det.cfg, yolov3-tiny's topology, trained
# by scripts/train-base.sh, weights in models/), on data made by
# scripts/make-data.sh:
#   1. legr flops   2. a short LeGR search   3. legr prune at 0.7, 0.5, 0.3
#   4. legr eval of each (inside prune -eval): the Pareto table
#   5. stock /usr/bin/darknet loads and runs each pruned pair
# Outputs go to out/demo/.  Environment: MODEL=weights file (default
# models/fashion-det.weights), EVALS, TAU, VAL (the search budget).
set -eu
cd "$(dirname "$0")/.."
out=out/demo
mkdir -p "$out"
cfg=cfg/fashion-det.cfg
model=${MODEL:-models/fashion-det.weights}
data=data/fashion-det/fashion-det.data
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

[ -f "$model" ] || { echo "demo: $model not found (scripts/train-base.sh det trains it)" >&2; exit 1; }

step "0/5 data: Fashion-MNIST detection canvases (scripts/make-data.sh)"
./scripts/make-data.sh

step "1/5 FLOPs and prunable groups of $cfg"
./darknet legr flops "$cfg" 2>/dev/null

step "2/5 LeGR search (small budget: ${EVALS:-12} candidates, tau ${TAU:-20}, ${VAL:-100} validation images)"
./darknet legr search "$cfg" "$model" -data "$data" -target 0.3 -evals "${EVALS:-12}" -pool 6 -sample 3 \
    -tau "${TAU:-20}" -batch 16 -lr 0.001 -val "${VAL:-100}" -bn-images 64 -out "$out/fashion-det.ranking" 2>/dev/null
./scripts/plot-search.sh "$out/fashion-det.ranking.csv" "$out/search.png" || true

step "3/5 + 4/5 prune to 0.7, 0.5, 0.3 of the FLOPs with the learned ranking, and evaluate each"
./darknet legr prune "$cfg" "$model" "$out/fashion-det.ranking" 0.7 0.5 0.3 \
    -out "$out/fashion-det" -eval "$data" -n 200 -bn 4 2>/dev/null

step "5/5 stock /usr/bin/darknet loads and runs each pruned pair"
img=$(head -n 1 data/fashion-det/test.txt)
for pct in 70 50 30; do
    if /usr/bin/darknet detector test "$data" "$out/fashion-det-$pct.cfg" "$out/fashion-det-$pct.weights" \
        "$img" -out "$out/pred-$pct" 2>/dev/null | grep -q "Predicted in"; then
        echo "  $out/fashion-det-$pct: loaded and ran in stock darknet ($out/pred-$pct.jpg)"
    else
        echo "  $out/fashion-det-$pct: stock darknet FAILED" >&2; exit 1
    fi
done
echo
echo "demo done in $(( $(date +%s) - start )) s; outputs in $out/ (table: $out/fashion-det.csv, plot: $out/fashion-det.png, search: $out/search.png)"
