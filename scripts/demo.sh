#!/usr/bin/env bash
# demo.sh: the mission end to end on the embedded default: the project's
# Fashion-MNIST detector (cfg/fashion-det.cfg, yolov3-tiny's topology, trained
# by scripts/train-base.sh, weights in models/), on data made by
# scripts/make-data.sh:
#   1. legr flops   2. a short LeGR search   3. legr prune at 0.7, 0.5, 0.3,
#      each pair reconstructed on 64 training images (-recover; which filters
#      each layer keeps chosen by reconstruction error, -reselect)
#   4. legr eval of each (inside prune -eval): the Pareto table, a column per step
#   5. a short legr finetune of the 0.5 pair, distilling from the original, and its eval
#   6. stock /usr/bin/darknet loads and runs each pruned pair
# Outputs go to out/demo/ (OUT=dir for another).  Environment: MODEL=weights file (default
# models/fashion-det.weights), EVALS, TAU, VAL (the search budget), FT_ITERS
# (the fine-tuning iterations of step 5).
set -eu
cd "$(dirname "$0")/.."
out=${OUT:-out/demo}
mkdir -p "$out"
cfg=cfg/fashion-det.cfg
model=${MODEL:-models/fashion-det.weights}
data=data/fashion-det/fashion-det.data
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

[ -f "$model" ] || { echo "demo: $model not found (scripts/train-base.sh det trains it)" >&2; exit 1; }

step "0/6 data: Fashion-MNIST detection canvases (scripts/make-data.sh)"
./scripts/make-data.sh

step "1/6 FLOPs and prunable groups of $cfg"
./darknet legr flops "$cfg" 2>/dev/null

step "2/6 LeGR search (small budget: ${EVALS:-12} candidates, tau ${TAU:-20}, ${VAL:-100} validation images)"
./darknet legr search "$cfg" "$model" -data "$data" -target 0.3 -evals "${EVALS:-12}" -pool 6 -sample 3 \
    -tau "${TAU:-20}" -batch 16 -lr 0.001 -val "${VAL:-100}" -bn-images 64 -out "$out/fashion-det.ranking" 2>/dev/null
./scripts/plot-search.sh "$out/fashion-det.ranking.csv" "$out/search.png" || true

step "3/6 + 4/6 prune to 0.7, 0.5, 0.3 of the FLOPs with the learned ranking, reconstruct, evaluate each"
./darknet legr prune "$cfg" "$model" "$out/fashion-det.ranking" 0.7 0.5 0.3 \
    -out "$out/fashion-det" -recover 64 -reselect -eval "$data" -n 200 2>/dev/null

step "5/6 fine-tune the 0.5 pair ${FT_ITERS:-100} iterations, distilling from the original; evaluate it"
./darknet legr finetune "$data" "$out/fashion-det-50.cfg" "$out/fashion-det-50.weights" \
    -teacher "$cfg" "$model" -iters "${FT_ITERS:-100}" -batch 16 -out "$out/fashion-det-50-ft" 2>/dev/null
./darknet legr eval "$data" "$out/fashion-det-50-ft.cfg" "$out/fashion-det-50-ft.weights" -n 200 2>/dev/null

step "6/6 stock /usr/bin/darknet loads and runs each pruned pair"
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
