#!/usr/bin/env bash
# bench-latency.sh: the speed a user feels, at batch 1 and one thread, with
# `darknet legr bench` doing every Darknet measurement.  Figures only:
# nothing here passes or fails; the summary says which of the issue's
# targets this run met and by how much.  Run by `make bench` after
# bench-speed.sh (it needs build/bench-opencv and build/bench-sgemm, which
# make bench builds).
#
#   scripts/bench-latency.sh
#
# (g) latency against FLOPs: yolov3-tiny at 416 (random weights from
#     `legr init`), cfg/fashion-det.cfg and Yolo-Fastest 1.1 (zoo) pruned to
#     0.7, 0.5 and 0.3 of their FLOPs by `legr prune`, all four cfgs of a
#     model in one `legr bench` (cfgs timed in turns of 5 passes); the latency ratio to
#     the original beside the FLOP ratio, target ratio <= r + 0.1; the same
#     with `legr prune -round 8` when legr prune has that option, and the
#     0.5 pair of `legr prune -budget latency` (target <= 0.55);
# (h) against OpenCV DNN (build/bench-opencv, readNetFromDarknet on its own
#     CPU backend, one thread): Yolo-Fastest at its 320 and yolov3-tiny at
#     416, rounds alternating `legr bench` and bench-opencv; targets:
#     Yolo-Fastest ours <= OpenCV's time, yolov3-tiny ours >= 1.2x faster;
# (i) the machine's single-thread SGEMM peak (build/bench-sgemm: Darknet's
#     gemm_cpu, the build's BLAS, m = n = k = 2048, best of SGEMM_REPS) and
#     yolov3-tiny 416's forward GFLOPS (`legr flops` / `legr bench` median)
#     as a share of it, rounds alternating; target >= 70%.
#
# The zoo is $LEGR_ZOO, else ../shared/zoo; its models are skipped, saying
# so, when absent.  Environment: LAT_RUNS (timed passes per cfg in (g),
# default 20; a small model gets more, about LAT_RUNS x 2 GFLOPs of work,
# at most 400), OCV_ROUNDS (rounds of (h) and (i), default 5), OCV_RUNS
# (timed passes per run in (h) and (i), default 10), SGEMM_REPS (default 5).
# The whole script takes about a minute here.
set -eu
runs=${LAT_RUNS:-20}
rounds=${OCV_ROUNDS:-5}
ocv_runs=${OCV_RUNS:-10}
sgemm_reps=${SGEMM_REPS:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
ours=$here/darknet
ocv=$here/build/bench-opencv
sgemm=$here/build/bench-sgemm
zoo=${LEGR_ZOO:-$here/../shared/zoo}
yf_dir=$zoo/yolo-fastest-1.1-coco
yf_cfg=$yf_dir/yolo-fastest-1.1.cfg
yf_weights=$yf_dir/yolo-fastest-1.1.weights
[ -x "$ours" ] || { echo "bench-latency: build ./darknet first (make)" >&2; exit 1; }
cd "$here"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/legr-latency.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/summary"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

load() { cut -d' ' -f1-3 /proc/loadavg; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# bench_row <legr bench output> <cfg>: GFLOPs, FLOP ratio, median, min, max
# ms and latency ratio of that cfg's line
bench_row() {
    awk -v c="$2" '$1 == c { mm = $6; gsub(/[()]/, "", mm); split(mm, m, "-")
                             print $3, $4, $5, m[1], m[2], $7; exit }' "$1"
}
have_zoo() { [ -f "$yf_cfg" ] && [ -f "$yf_weights" ]; }

echo "bench-latency: ./darknet legr bench, batch 1, one thread (OMP_NUM_THREADS=1)"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(getconf _NPROCESSORS_ONLN) cores; load average $(load)"
load_start=$(load)
echo

# yolov3-tiny at 416, batch 1, with random weights (OpenCV needs a file)
yt_cfg=$tmp/yolov3-tiny-416.cfg
yt_weights=$tmp/yolov3-tiny-416.weights
sed -e 's/^batch *=.*/batch=1/' -e 's/^subdivisions *=.*/subdivisions=1/' \
    -e 's/^width *=.*/width=416/' -e 's/^height *=.*/height=416/' \
    /usr/share/darknet/cfg/yolov3-tiny.cfg > "$yt_cfg"
"$ours" legr init "$yt_cfg" "$yt_weights" > /dev/null

# --- (g) latency against FLOPs ---------------------------------------------
prune_has_round=0
"$ours" legr prune -h 2>&1 | grep -q -- '-round' && prune_has_round=1
# latency_rows <name> <label> <cfg> <weights>
latency_rows() {
    local label=$2 cfg=$3 weights=$4 p=$tmp/$1 cfgs
    if ! "$ours" legr prune "$cfg" "$weights" 0.7 0.5 0.3 -out "$p" > "$p.prune" 2>&1; then
        echo "  $label: legr prune failed: $(tail -n 1 "$p.prune")"; return
    fi
    cfgs="$cfg $p-70.cfg $p-50.cfg $p-30.cfg"
    if [ $prune_has_round = 1 ]; then
        if "$ours" legr prune "$cfg" "$weights" 0.7 0.5 0.3 -round 8 -out "$p-r8" > "$p.prune8" 2>&1; then
            cfgs="$cfgs $p-r8-70.cfg $p-r8-50.cfg $p-r8-30.cfg"
        else
            echo "  $label: legr prune -round 8 failed: $(tail -n 1 "$p.prune8")"
        fi
    fi
    # -budget latency 0.5: target measured latency <= 0.55 of the original
    if "$ours" legr prune "$cfg" "$weights" 0.5 -budget latency -out "$p-lat" > "$p.prunelat" 2>&1; then
        cfgs="$cfgs $p-lat-50.cfg"
    else
        echo "  $label: legr prune -budget latency failed: $(tail -n 1 "$p.prunelat")"
    fi
    # small models get more passes (their medians are the noisiest here):
    # about LAT_RUNS x 2 GFLOPs of the original's work, at most 400
    local n
    n=$("$ours" legr flops "$cfg" 2>/dev/null | awk -v r="$runs" '/^Floating Point Operations: [0-9]+$/ {
        n = int(r * 2e9 / $4); print (n < r ? r : (n > 400 ? 400 : n)) }')
    # shellcheck disable=SC2086
    if ! "$ours" legr bench $cfgs -runs "${n:-$runs}" > "$p.bench" 2> "$p.bench.err"; then
        echo "  $label: legr bench failed: $(tail -n 1 "$p.bench.err")"; return
    fi
    local c keep round m0
    m0=$(bench_row "$p.bench" "$cfg" | cut -d' ' -f4)
    for c in $cfgs; do
        case $c in
            "$cfg") keep=1.0; round=;;
            *-r8-*) keep=0.${c##*-}; keep=${keep%.cfg}; round=" r8";;
            *-lat-*) keep=0.${c##*-}; keep=${keep%.cfg}; round=" lat";;
            *) keep=0.${c##*-}; keep=${keep%.cfg}; round=;;
        esac
        read -r gf fr med lo hi lr <<< "$(bench_row "$p.bench" "$c")"
        awk -v l="$label" -v k="$keep" -v rd="$round" -v gf="$gf" -v fr="$fr" -v med="$med" \
            -v lo="$lo" -v hi="$hi" -v lr="$lr" -v m0="$m0" -v n="${n:-$runs}" -v s="$tmp/summary" 'BEGIN {
            if (k == 1) { printf "  %-22s %-7s %7.3f %6.3f %24s  %7.3f  %7.3f  %-15s %d passes\n", l, "orig", gf, fr,
                                 sprintf("%.2f (%.2f-%.2f)", med, lo, hi), lr, lo / m0, "", n; exit }
            t = rd == " lat" ? k + 0.05 : k + 0.1; ok = lr <= t + 1e-9
            printf "  %-22s %-7s %7.3f %6.3f %24s  %7.3f  %7.3f  <= %.2f %s\n", "", k rd, gf, fr,
                   sprintf("%.2f (%.2f-%.2f)", med, lo, hi), lr, lo / m0, t, ok ? "met" : "MISSED"
            printf "latency ratio <= r + %s, %s, r = %s%s: %.3f (FLOPs %.3f) against %.2f: %s by %.3f\n",
                   rd == " lat" ? "0.05 (-budget latency)" : "0.1", l, k, rd, lr, fr, t, ok ? "met" : "MISSED", ok ? t - lr : lr - t >> s }'
    done
}
echo "(g) latency against FLOPs: legr prune 0.7 0.5 0.3 (plain L2 ranking), one legr bench per model (cfgs in turns of 5 passes; at least $runs timed per cfg)"
printf "  %-22s %-7s %7s %6s %24s  %7s  %7s  %s\n" model keep GFLOPs FLOPs "median ms (min-max)" latency fastest target
latency_rows yt "yolov3-tiny 416" "$yt_cfg" "$yt_weights"
if [ -f models/fashion-det.weights ]; then
    latency_rows fd "fashion-det 160" cfg/fashion-det.cfg models/fashion-det.weights
else
    echo "  fashion-det: models/fashion-det.weights missing: skipped"
fi
if have_zoo; then
    latency_rows yf "Yolo-Fastest 1.1 320" "$yf_cfg" "$yf_weights"
else
    echo "  Yolo-Fastest: $yf_dir absent (the zoo, \$LEGR_ZOO): skipped"
fi
if [ $prune_has_round = 0 ]; then
    echo "  -round 8 rows: skipped, 'legr prune -h' lists no -round option in this build"
    echo "latency with -round 8: not measured (legr prune has no -round yet)" >> "$tmp/summary"
fi
echo "  (FLOPs = FLOP ratio; latency = median over the original's median, the target's measure;"
echo "   fastest = fastest pass over the original's fastest, less exposed to the load; load average now $(load))"
echo

# --- (h) against OpenCV DNN ------------------------------------------------------
# ocv_model <name> <label> <cfg> <weights> <ours/opencv target> <target text>
ocv_model() {
    local label=$2 cfg=$3 weights=$4 target=$5 text=$6 d=$tmp/ocv-$1 r o c
    mkdir -p "$d"
    : > "$d/ours"; : > "$d/ocv"
    echo "  $label ($cfg):"
    for r in $(seq "$rounds"); do
        "$ours" legr bench "$cfg" -runs "$ocv_runs" > "$d/ours.out" 2> "$d/err" ||
            { echo "    legr bench failed: $(tail -n 1 "$d/err")"; return; }
        "$ocv" "$cfg" "$weights" "$ocv_runs" > "$d/ocv.out" 2> "$d/err" ||
            { echo "    bench-opencv failed: $(tail -n 1 "$d/err")"; return; }
        o=$(bench_row "$d/ours.out" "$cfg" | cut -d' ' -f3,4)
        c=$(awk '$1 == "opencv" {print $3, $4}' "$d/ocv.out")
        echo "$o" >> "$d/ours"; echo "$c" >> "$d/ocv"
        awk -v r="$r" -v o="${o% *}" -v c="${c% *}" 'BEGIN {
            printf "    round %d: median ours %.2f ms, OpenCV %.2f ms: ours/OpenCV %.2f\n", r, o, c, o / c }'
    done
    awk -v o="$(cut -d' ' -f1 "$d/ours" | median)" -v c="$(cut -d' ' -f1 "$d/ocv" | median)" \
        -v om="$(cut -d' ' -f2 "$d/ours" | sort -g | head -n 1)" -v cm="$(cut -d' ' -f2 "$d/ocv" | sort -g | head -n 1)" \
        -v t="$target" -v l="$label" -v txt="$text" -v s="$tmp/summary" 'BEGIN {
        q = o / c; ok = q <= t + 1e-9
        printf "    median of the rounds: ours %.2f ms, OpenCV %.2f ms: ours/OpenCV %.2f (OpenCV/ours %.2fx); target ours/OpenCV <= %.2f: %s\n",
               o, c, q, c / o, t, ok ? "met" : "MISSED"
        printf "    fastest pass of all rounds: ours %.2f ms, OpenCV %.2f ms: ours/OpenCV %.2f (less exposed to the machine load)\n", om, cm, om / cm
        printf "%s, %s: ours %.2f ms, OpenCV %.2f ms, ours/OpenCV %.2f (OpenCV/ours %.2fx) against <= %.2f: %s by %.0f%% of the target time (fastest passes: ours/OpenCV %.2f)\n",
               l, txt, o, c, q, c / o, t, ok ? "met" : "MISSED", 100 * (ok ? t - q : q - t) / t, om / cm >> s }'
}
echo "(h) against OpenCV $(pkg-config --modversion opencv4 2>/dev/null || echo '?') DNN (readNetFromDarknet, DNN_BACKEND_OPENCV on the CPU, one thread): $rounds rounds alternating legr bench and bench-opencv, $ocv_runs timed passes each after 3 warm-up"
if [ ! -x "$ocv" ]; then
    echo "  $ocv missing (make bench builds it): skipped"
else
    if have_zoo; then
        ocv_model yf "Yolo-Fastest 1.1 320" "$yf_cfg" "$yf_weights" 1.0 "target ours <= OpenCV"
    else
        echo "  Yolo-Fastest: $yf_dir absent (the zoo, \$LEGR_ZOO): skipped"
    fi
    ocv_model yt "yolov3-tiny 416" "$yt_cfg" "$yt_weights" "$(awk 'BEGIN {print 1 / 1.2}')" "target ours >= 1.2x faster than OpenCV"
fi
echo "  (load average now $(load))"
echo

# --- (i) SGEMM peak --------------------------------------------------------------
echo "(i) SGEMM peak: Darknet's gemm_cpu ($(sed -n 's/.*BLASIMPL=\([a-z]*\).*/\1/p' build/darknet/.config 2>/dev/null || echo '?')) at m = n = k = 2048, one thread, best of $sgemm_reps per round; yolov3-tiny 416 forward against it, $rounds rounds alternating"
if [ ! -x "$sgemm" ]; then
    echo "  $sgemm missing (make bench builds it): skipped"
else
    yt_flops=$("$ours" legr flops "$yt_cfg" 2>/dev/null | awk '/^Floating Point Operations: [0-9]+$/ {print $4}')
    : > "$tmp/peak"; : > "$tmp/net"
    for r in $(seq "$rounds"); do
        g=$("$sgemm" 2048 "$sgemm_reps" | awk '{print $6}')
        "$ours" legr bench "$yt_cfg" -runs "$ocv_runs" > "$tmp/yt.out" 2>/dev/null
        m=$(bench_row "$tmp/yt.out" "$yt_cfg" | cut -d' ' -f3)
        echo "$g" >> "$tmp/peak"; echo "$m" >> "$tmp/net"
        awk -v r="$r" -v g="$g" -v m="$m" -v f="$yt_flops" 'BEGIN {
            printf "    round %d: SGEMM %.1f GFLOPS, yolov3-tiny %.2f ms = %.1f GFLOPS (%.0f%%)\n", r, g, m, f / m / 1e6, 100 * f / m / 1e6 / g }'
    done
    awk -v g="$(sort -g "$tmp/peak" | tail -n 1)" -v m="$(median < "$tmp/net")" -v mn="$(sort -g "$tmp/net" | head -n 1)" \
        -v f="$yt_flops" -v s="$tmp/summary" 'BEGIN {
        n = f / m / 1e6; p = 100 * n / g; ok = p >= 70
        printf "  peak %.1f GFLOPS (best round); yolov3-tiny 416: %.3f GFLOPs per pass, median %.2f ms = %.1f GFLOPS = %.0f%% of the peak (fastest round %.0f%%); target >= 70%%: %s\n",
               g, f / 1e9, m, n, p, 100 * f / mn / 1e6 / g, ok ? "met" : "MISSED"
        printf "yolov3-tiny 416 forward >= 70%% of the SGEMM peak: %.1f of %.1f GFLOPS = %.0f%%: %s by %.0f points\n",
               n, g, p, ok ? "met" : "MISSED", ok ? p - 70 : 70 - p >> s }'
fi
echo

echo "summary of the speed targets (this run, one thread, batch 1; load average $load_start at the start, $(load) at the end; the machine is shared, so single figures move by tens of percent):"
sed 's/^/  /' "$tmp/summary"
echo "bench-latency took $SECONDS s"
