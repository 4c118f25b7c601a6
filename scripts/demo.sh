#!/usr/bin/env bash
# demo.sh: the mission end to end on the embedded default.  Until the project
# ships its own trained models, the default is Debian's yolov3-tiny.cfg with
# randomly initialised weights: flops, prune at three budgets, and stock
# Debian darknet loading and running every pruned pair.
set -eu
cd "$(dirname "$0")/.."
out=out/demo
mkdir -p "$out"
cfg=/usr/share/darknet/cfg/yolov3-tiny.cfg
img=/usr/share/darknet/data/dog.jpg
data=/usr/share/darknet/cfg/coco.data
start=$(date +%s)

echo "== 1/4 FLOPs and prunable groups of $cfg"
./darknet legr flops "$cfg" 2>/dev/null | tail -n 16

echo "== 2/4 random weights (no trained model is shipped yet)"
./darknet legr init "$cfg" "$out/yolov3-tiny-init.weights" -seed 1 2>/dev/null

echo "== 3/4 prune to 0.7, 0.5 and 0.3 of the FLOPs (plain L2 ranking)"
./darknet legr prune "$cfg" "$out/yolov3-tiny-init.weights" 0.7 0.5 0.3 -out "$out/yolov3-tiny" 2>/dev/null

echo "== 4/4 stock /usr/bin/darknet loads and runs each pruned pair"
printf "%-8s %12s %12s %12s  %s\n" budget "FLOPs(Bn)" "params(M)" "ms/image" "stock darknet"
for pct in 100 70 50 30; do
    if [ "$pct" = 100 ]; then c=$cfg; w=$out/yolov3-tiny-init.weights
    else c=$out/yolov3-tiny-$pct.cfg; w=$out/yolov3-tiny-$pct.weights; fi
    fl=$(./darknet legr flops "$c" 2>/dev/null | awk '/^Floating Point Operations: [0-9]+$/ {print $4 / 1e9}')
    pa=$(./darknet legr flops "$c" 2>/dev/null | awk '/^Parameters:/ {print $2 / 1e6}')
    res=$(/usr/bin/darknet detector test "$data" "$c" "$w" "$img" -out "$out/pred-$pct" 2>/dev/null | grep "Predicted in" || true)
    ms=$(echo "$res" | awk '{print $(NF-1) * 1000}')
    status="loaded and ran"; [ -n "$res" ] || status=FAILED
    printf "%-8s %12.3f %12.3f %12.1f  %s\n" "$(awk -v p="$pct" 'BEGIN {print p / 100}')" "$fl" "$pa" "${ms:-0}" "$status"
done
echo "demo done in $(( $(date +%s) - start )) s; outputs in $out/"
