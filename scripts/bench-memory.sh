#!/usr/bin/env bash
# bench-memory.sh: peak resident memory of legr's heavy commands against the
# targets of issue 15 (memory bounded).  Figures, plus OK/OVER against each
# target; the script itself always succeeds.  One thread.
#
#   scripts/bench-memory.sh            (make bench)
#
# (m1) `legr prune -eval -bn 4` on Yolo-Fastest 1.1 (zoo; its cfg has batch=32
#      at 320x320, the issue's Yolo-Fastest-XL setting), BN images from
#      coco128-train, scored on coco128-val: target 1.5 GB;
# (m2) the same on a copy of the cfg with batch=64: how the bound grows with
#      the cfg's batch (BN batches keep the whole batch's outputs of a few
#      layers at a time);
# (m3) `legr search -workers 1 -tau 0` of a few candidates on Yolo-Fastest:
#      target 1.5 GB;
# (m4) `legr eval` of yolov3-tiny 416 (Debian's cfg, `legr init` weights)
#      over a valid= list of MEM_VALID (default 5000) images (coco128-val
#      repeated, or Debian's sample images without the zoo): target 3 GB.
#      Random weights make thousands of boxes per image above the usual
#      0.005: -thresh 0.5 keeps the scoring to what a trained model costs.
#      (yolov3-tiny runs at about 0.2 s an image on one core: 5000 images
#      take 15-25 minutes.)
#
# Peak memory: the maximum resident set size of the command's process
# (GNU time's %M, from wait4's ru_maxrss), in MB of 2^20 bytes.  The zoo is $LEGR_ZOO, else
# ../shared/zoo; without it (m1)-(m3) are skipped, saying so.
# Environment: MEM_VALID (m4's images), MEM_EVALS ((m3)'s candidates, 3).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
ours=$here/darknet
zoo=${LEGR_ZOO:-$here/../shared/zoo}
yf_dir=$zoo/yolo-fastest-1.1-coco
yf_cfg=$yf_dir/yolo-fastest-1.1.cfg
yf_weights=$yf_dir/yolo-fastest-1.1.weights
n_valid=${MEM_VALID:-5000}
evals=${MEM_EVALS:-3}
gnutime=/usr/bin/time
[ -x "$ours" ] || { echo "bench-memory: build ./darknet first (make)" >&2; exit 1; }
[ -x "$gnutime" ] || { echo "bench-memory: $gnutime missing (apt-get install time; scripts/install-deps.sh installs it)" >&2; exit 1; }
cd "$here"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/legr-bench-mem.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# peak <tag> <target MB> <command...>: runs the command (one thread, output
# in $tmp/<tag>.out and .err), prints its peak RSS and time against the target.
peak() {
    local tag=$1 target=$2
    shift 2
    if ! env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$gnutime" -f "%M %e" -o "$tmp/$tag.time" "$@" \
            > "$tmp/$tag.out" 2> "$tmp/$tag.err"; then
        echo "  $tag: the command failed:"; tail -n 3 "$tmp/$tag.err" | sed 's/^/    /'
        return 0
    fi
    read -r kb secs < "$tmp/$tag.time"
    awk -v t="$tag" -v kb="$kb" -v s="$secs" -v target="$target" 'BEGIN {
        mb = kb / 1024
        if (target > 0) printf "  %s: peak RSS %.0f MB in %.0f s; target %d MB: %s\n", t, mb, s, target, mb <= target ? "OK" : "OVER"
        else printf "  %s: peak RSS %.0f MB in %.0f s\n", t, mb, s }'
}

echo "bench-memory: peak resident memory, one thread; CPU $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM"

if [ -f "$yf_cfg" ] && [ -f "$yf_weights" ] && [ -d "$zoo/coco128-val/images" ] && [ -d "$zoo/coco128-train/images" ]; then
    find "$zoo/coco128-val/images" -name '*.jpg' | sort > "$tmp/val.txt"
    find "$zoo/coco128-train/images" -name '*.jpg' | sort > "$tmp/train.txt"
    printf 'classes=80\ntrain=%s\nvalid=%s\nnames=%s\n' "$tmp/train.txt" "$tmp/val.txt" "$yf_dir/coco.names" > "$tmp/yf.data"
    sed 's/^batch=.*/batch=64/' "$yf_cfg" > "$tmp/yf-b64.cfg"
    echo "(m1) legr prune -eval -bn 4, Yolo-Fastest 1.1 (batch=$(sed -n 's/^batch=//p' "$yf_cfg" | head -n 1), 320x320), 0.7, $(wc -l < "$tmp/val.txt") val + $(wc -l < "$tmp/train.txt") BN images"
    peak m1 1536 "$ours" legr prune "$yf_cfg" "$yf_weights" 0.7 -out "$tmp/p" -eval "$tmp/yf.data" -bn 4
    grep -E '^(1|0\.7) ' "$tmp/m1.out" | sed 's/^/    /' || true
    echo "(m2) the same with batch=64 in a copy of the cfg"
    peak m2 0 "$ours" legr prune "$tmp/yf-b64.cfg" "$yf_weights" 0.7 -out "$tmp/p64" -eval "$tmp/yf.data" -bn 4
    echo "(m3) legr search -workers 1 -tau 0, $evals candidates at -target 0.7, Yolo-Fastest 1.1"
    peak m3 1536 "$ours" legr search "$yf_cfg" "$yf_weights" -data "$tmp/yf.data" -workers 1 -tau 0 \
        -evals "$evals" -pool "$evals" -target 0.7 -out "$tmp/s.ranking"
    grep -E '^per candidate' "$tmp/m3.out" | sed 's/^/    /' || true
    imgs=$tmp/val.txt
else
    echo "(m1)-(m3) Yolo-Fastest: $yf_dir or coco128 absent (the zoo, \$LEGR_ZOO): skipped"
    ls /usr/share/darknet/data/*.jpg > "$tmp/val.txt"
    imgs=$tmp/val.txt
fi

yt_cfg=/usr/share/darknet/cfg/yolov3-tiny.cfg
if [ -f "$yt_cfg" ]; then
    "$ours" legr init "$yt_cfg" "$tmp/yt.weights" > /dev/null 2>&1
    : > "$tmp/valid.txt"
    while [ "$(wc -l < "$tmp/valid.txt")" -lt "$n_valid" ]; do cat "$imgs" >> "$tmp/valid.txt"; done
    head -n "$n_valid" "$tmp/valid.txt" > "$tmp/valid-n.txt"
    printf 'classes=80\ntrain=%s\nvalid=%s\nnames=/usr/share/darknet/data/coco.names\n' "$imgs" "$tmp/valid-n.txt" > "$tmp/yt.data"
    echo "(m4) legr eval, yolov3-tiny 416 (legr init weights), valid= list of $n_valid images, -thresh 0.5"
    peak m4 3072 "$ours" legr eval "$tmp/yt.data" "$yt_cfg" "$tmp/yt.weights" -thresh 0.5
    grep -E '^eval:' "$tmp/m4.out" | sed 's/^/    /' || true
    awk -v n="$n_valid" 'BEGIN { printf "    (every image kept decoded, as before: %.0f MB of pixels)\n", n * 416 * 416 * 3 * 4 / 2^20 }'
else
    echo "(m4) $yt_cfg absent (apt-get install darknet): skipped"
fi
