#!/usr/bin/env bash
# train-base.sh: trains darknet-legr's default base models from scratch on
# the embedded Fashion-MNIST data sets, one after the other:
#   det: cfg/fashion-det.cfg     (yolov3-tiny topology, half width, 160x160)
#        stage 1: iterations 0-10000 on the first 8000 training canvases
#        ./darknet detector train backup/fashion-det-stage1.data cfg/fashion-det.cfg
#        -> backup/fashion-det_final.weights
#        stage 2: iterations 10000-16000 on all 24000 canvases, lr 0.001, no
#        burn-in, steps 14500/15500 (cfg derived from cfg/fashion-det.cfg)
#        ./darknet detector train data/fashion-det/fashion-det.data
#                 backup/fashion-det-stage2.cfg backup/fashion-det_final.weights
#        -> backup/fashion-det-stage2_final.weights -> models/fashion-det.weights
#   cls: cfg/fashion-resnet.cfg  (CIFAR-style ResNet-20, 32x32)
#        ./darknet classifier train data/fashion-cls/fashion-cls.data cfg/fashion-resnet.cfg
#        -> backup/fashion-resnet.weights -> models/fashion-resnet.weights
#
# usage: scripts/train-base.sh [det|cls|all]      (default: all)
#
# Environment:
#   DARKNET=./darknet   the Darknet binary (built by `make` when missing)
#   THREADS=N           OpenBLAS threads (default: all CPUs)
#   RESUME=1            continue from backup/<model>.backup when it exists
#   TRAIN_SECONDS=N     stop each training after N seconds (smoke test or
#                       timing run; the partial model stays in backup/)
#   NICE=N              run Darknet under `nice -n N` (default 0)
#
# Training is not bit-reproducible: Darknet's `detector train` and
# `classifier train` call srand(time(0)) before initialising the weights, and
# their loader threads share rand() for picking and augmenting images.  The
# data sets themselves are reproducible (scripts/make-data.sh, fixed seed).
# The logs go to backup/<model>.log.
set -eu
set -o pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
case $what in det|cls|all) ;; *) echo "usage: $0 [det|cls|all]" >&2; exit 2;; esac

DARKNET=${DARKNET:-./darknet}
if [ ! -x "$DARKNET" ]; then
    if [ "$DARKNET" = ./darknet ]; then make; else echo "train-base: $DARKNET not found" >&2; exit 1; fi
fi
. scripts/blas-env.sh

./scripts/make-data.sh

# data_key FILE KEY: the value of KEY= in a Darknet .data file (the last line
# if repeated); backup= is where Darknet writes its snapshots
data_key() { sed -n "s/^$2 *= *//p" "$1" | tail -n 1; }
backup_of() { data_key "$1" backup; }

# train NAME KIND DATA CFG FINAL [MODEL START]: runs one training from START
# weights (default: from scratch), copies FINAL to models/MODEL.weights when
# MODEL is given
train() {
    local name=$1 kind=$2 data=$3 cfg=$4 final=$5 model=${6:-} start=${7:-}
    local backup; backup=$(backup_of "$data")
    [ -n "$backup" ] || { echo "train-base: no backup= in $data" >&2; exit 1; }
    mkdir -p "$backup" models
    local weights=$start
    if [ "${RESUME:-0}" = 1 ] && [ -f "$backup/$name.backup" ]; then
        weights="$backup/$name.backup"
        echo "train-base: $name: resuming from $weights"
    fi
    local cmd=("$DARKNET" "$kind" train "$data" "$cfg")
    [ -z "$weights" ] || cmd+=("$weights")
    [ "${NICE:-0}" = 0 ] || cmd=(nice -n "$NICE" "${cmd[@]}")
    # line-buffered stdout, so that the log is complete when stopped early
    ! command -v stdbuf >/dev/null || cmd=(stdbuf -oL "${cmd[@]}")
    [ -z "${TRAIN_SECONDS:-}" ] || cmd=(timeout --signal=INT "$TRAIN_SECONDS" "${cmd[@]}")
    local log=$backup/$name.log
    echo "train-base: $name: ${cmd[*]}  (log: $log, $OPENBLAS_NUM_THREADS BLAS threads${OPENBLAS_CORETYPE:+, OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE})"
    local start rc=0; start=$(date +%s)
    "${cmd[@]}" > "$log" 2>&1 || rc=$?
    local secs=$(( $(date +%s) - start ))
    # iteration lines: detector "N: loss, avg avg, rate rate, S seconds, I images"
    #                  classifier "N, epoch: loss, avg avg, rate rate, S seconds, I images"
    awk -v name="$name" -v secs="$secs" '
        / avg, .* rate, .* seconds, / {
            n++; it = $1; sub(/[:,]$/, "", it)
            for (i = 1; i <= NF; i++) {
                if ($i == "avg,") avg = $(i - 1)
                if ($i == "seconds,") { s = $(i - 1); if (n > 3) { tot += s; m++ } }
            }
        }
        END {
            if (n) printf "train-base: %s: %d iterations in %d s, last iteration %s, avg loss %s, %.2f s/iteration\n",
                          name, n, secs, it, avg, m ? tot / m : s
        }' "$log"
    if [ "$rc" = 124 ] && [ -n "${TRAIN_SECONDS:-}" ]; then
        echo "train-base: $name: stopped after TRAIN_SECONDS=$TRAIN_SECONDS (snapshot: $backup/$name.backup if it got that far)"
        return 0
    fi
    if [ "$rc" != 0 ]; then
        echo "train-base: $name: Darknet failed (exit $rc); last lines of $log:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    [ -f "$backup/$final" ] || { echo "train-base: $name: $backup/$final missing" >&2; exit 1; }
    [ -n "$model" ] || return 0
    cp "$backup/$final" "models/$model.weights"
    echo "train-base: $name: models/$model.weights"
}

# The detector's two stages (see the top of this file).  The first 8000
# training canvases of the 24000 set are the 8000 set stage 1 was trained on.
train_det() {
    local data=data/fashion-det/fashion-det.data backup
    backup=$(backup_of "$data"); mkdir -p "$backup"
    local list; list=$(data_key "$data" train)
    head -n 8000 "$list" > "$backup/fashion-det-stage1-train.txt"
    sed "s|^train *=.*|train=$backup/fashion-det-stage1-train.txt|" "$data" > "$backup/fashion-det-stage1.data"
    sed -e 's/^learning_rate *=.*/learning_rate=0.001/' -e 's/^burn_in *=.*/burn_in=0/' \
        -e 's/^max_batches *=.*/max_batches = 16000/' -e 's/^steps *=.*/steps=14500,15500/' \
        cfg/fashion-det.cfg > "$backup/fashion-det-stage2.cfg"
    if [ "${RESUME:-0}" = 1 ] && [ -f "$backup/fashion-det_final.weights" ]; then
        echo "train-base: fashion-det: stage 1 done ($backup/fashion-det_final.weights)"
    else
        train fashion-det detector "$backup/fashion-det-stage1.data" cfg/fashion-det.cfg fashion-det_final.weights
    fi
    if [ ! -f "$backup/fashion-det_final.weights" ]; then
        echo "train-base: fashion-det: stage 1 unfinished, stage 2 not started (RESUME=1 continues)"
        return 0
    fi
    train fashion-det-stage2 detector "$data" "$backup/fashion-det-stage2.cfg" \
        fashion-det-stage2_final.weights fashion-det "$backup/fashion-det_final.weights"
}

if [ "$what" = det ] || [ "$what" = all ]; then
    train_det
fi
if [ "$what" = cls ] || [ "$what" = all ]; then
    train fashion-resnet classifier data/fashion-cls/fashion-cls.data cfg/fashion-resnet.cfg fashion-resnet.weights fashion-resnet
fi
