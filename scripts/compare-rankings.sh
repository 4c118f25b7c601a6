#!/usr/bin/env bash
# compare-rankings.sh: what a learned LeGR ranking buys over the baselines, on
# one of the embedded default models.  For every budget and every ranking
# (each LeGR ranking file given, plain L2, uniform, random) it
#   1. prunes the base model (legr prune),
#   2. fine-tunes the pruned pair, the same for all: with STOCK Darknet
#      training (`./darknet detector train` / `classifier train`, ITERS
#      iterations at a constant learning rate LR, no burn-in; it seeds from the
#      clock), or with TRAINER=legr, `legr finetune -iters ITERS -lr LR -batch
#      BATCH -seed S` (its own schedule: a tenth of LR over the last 20%),
#   3. scores the result on the TEST split (legr eval), which neither the
#      search (valid=) nor training (train=) sees,
# REPEATS times per cell (seeds 1..REPEATS with TRAINER=legr), and prints one
# table: budget, ranking, GFLOPs, params, accuracy after pruning alone, after
# the fine-tuning, and after the fine-tuning with the BN statistics
# re-estimated on BN batches of train= (as the search scores); with repeats,
# the mean and the range (min-max) of the last two.
#
# usage: scripts/compare-rankings.sh det|cls RANKING [RANKING ...]
#   One ranking file is the row "legr"; several are named by their file names
#   without .ranking.
#   env: ITERS=100 LR=0.001 BN=8 BUDGETS="0.7 0.5 0.3" RANKINGS="legr l2 uniform random"
#        TRAINER=stock|legr BATCH=16 (legr) REPEATS=1 JOBS=1 (cells at once)
#        OUT=out/compare-<kind> THREADS=<cores> SEED=1 (random ranking)
#        DARKNET=./darknet (the binary that prunes, trains and scores)
set -eu
set -o pipefail
cd "$(dirname "$0")/.."

kind=${1:-}; shift || true
case $kind in
    det) cfg=cfg/fashion-det.cfg; weights=models/fashion-det.weights
         data=data/fashion-det/fashion-det.data; train=detector; metric=map50 ;;
    cls) cfg=cfg/fashion-resnet.cfg; weights=models/fashion-resnet.weights
         data=data/fashion-cls/fashion-cls.data; train=classifier; metric=top1 ;;
    *) echo "usage: $0 det|cls RANKING  (env ITERS LR BUDGETS RANKINGS OUT)" >&2; exit 2 ;;
esac
[ $# -ge 1 ] || { echo "usage: $0 det|cls RANKING [RANKING ...]" >&2; exit 2; }
declare -A file_of=()
legr_names=()
for f in "$@"; do
    [ -f "$f" ] || { echo "compare-rankings: $f: no such ranking file (make one with 'darknet legr search')" >&2; exit 1; }
    if [ $# -eq 1 ]; then n=legr; else n=$(basename "$f" .ranking); fi
    file_of[$n]=$f
    legr_names+=("$n")
done
ITERS=${ITERS:-100}
LR=${LR:-0.001}
BN=${BN:-8}
BUDGETS=${BUDGETS:-0.7 0.5 0.3}
RANKINGS=${RANKINGS:-legr l2 uniform random}
# "legr" stands for every ranking file given
RANKINGS=$(for r in $RANKINGS; do if [ "$r" = legr ]; then echo "${legr_names[@]}"; else echo "$r"; fi; done | xargs)
TRAINER=${TRAINER:-stock}
BATCH=${BATCH:-16}
REPEATS=${REPEATS:-1}
JOBS=${JOBS:-1}
case $TRAINER in stock|legr) ;; *) echo "compare-rankings: TRAINER=$TRAINER: stock or legr" >&2; exit 2 ;; esac
OUT=${OUT:-out/compare-$kind}
DN=${DARKNET:-./darknet}      # DARKNET: another build of legr, e.g. a copy made before a rebuild
[ -x "$DN" ] || make
. scripts/blas-env.sh
./scripts/make-data.sh >/dev/null
mkdir -p "$OUT/backup"
abs=$(cd "$OUT" && pwd)

# The test split as the scored list; snapshots into OUT.
sed "s|^valid *=.*||; s|^test *= *\(.*\)|valid=\1|; s|^backup *=.*|backup=$abs/backup|" \
    "$data" > "$OUT/test.data"

# score CFG WEIGHTS [BN]: the metric on the test split; with BN, after
# re-estimating the BN statistics on BN batches of train= (legr eval -bn).
score() {
    local bn=()
    [ -z "${3:-}" ] || bn=(-bn "$3")
    local json; json=$OUT/$(basename "$2").score.json   # in OUT, never beside an input
    "$DN" legr eval "$OUT/test.data" "$1" "$2" "${bn[@]}" -json "$json" >/dev/null 2>&1 ||
        { echo "compare-rankings: legr eval failed on $1 $2" >&2; exit 1; }
    sed -n "s/.*\"$metric\": \([0-9.]*\).*/\1/p" "$json" | tail -n 1
}
# A copy of a pruned cfg for the short fine-tuning: constant LR, no burn-in.
ft_cfg() {
    sed -e "s/^learning_rate *=.*/learning_rate=$LR/" -e "s/^burn_in *=.*/burn_in=0/" \
        -e "s/^max_batches *=.*/max_batches=$ITERS/" -e "s/^policy *=.*/policy=constant/" "$1" > "$2"
    grep -q "^policy=constant" "$2" || { echo "compare-rankings: $1 has no policy= line" >&2; exit 1; }
}

# fine_tune P R: the pruned pair P.cfg/.weights fine-tuned, repeat R; prints
# "fine-tuned ft+BN" and leaves the log in P-ft-R.log
fine_tune() {
    local p=$1 k=$2 tuned
    if [ "$TRAINER" = legr ]; then
        "$DN" legr finetune "$data" "$p.cfg" "$p.weights" -iters "$ITERS" -lr "$LR" -batch "$BATCH" \
            -seed "$k" -out "$p-ft-$k" > "$p-ft-$k.log" 2>&1 ||
            { echo "compare-rankings: legr finetune failed, see $p-ft-$k.log" >&2; exit 1; }
        tuned=$p-ft-$k.weights
    else
        local name; name=$(basename "$p")
        ft_cfg "$p.cfg" "$p-ft-$k.cfg"
        "$DN" "$train" train "$OUT/test.data" "$p-ft-$k.cfg" "$p.weights" > "$p-ft-$k.log" 2>&1 ||
            { echo "compare-rankings: training failed, see $p-ft-$k.log" >&2; exit 1; }
        if [ "$kind" = det ]; then tuned=$OUT/backup/$name-ft-${k}_final.weights
        else tuned=$OUT/backup/$name-ft-$k.weights; fi
        [ -f "$tuned" ] || { echo "compare-rankings: $tuned missing, see $p-ft-$k.log" >&2; exit 1; }
    fi
    echo "$(score "$p-ft-$k.cfg" "$tuned") $(score "$p-ft-$k.cfg" "$tuned" "$BN")"
}

# cell B R: one table row (into $OUT/row-B-R.txt)
cell() {
    local b=$1 r=$2 pct p before start k
    pct=$(awk -v b="$b" 'BEGIN { printf "%d", b * 100 + .5 }')
    p=$OUT/$r-$pct
    before=$(score "$p.cfg" "$p.weights")
    start=$(date +%s)
    echo "compare-rankings: budget $b, $r: fine-tuning ($ITERS iterations, $TRAINER, $REPEATS time(s))..."
    for k in $(seq 1 "$REPEATS"); do fine_tune "$p" "$k"; done > "$p-ft.txt"
    read -r gf pm < <("$DN" legr flops "$p.cfg" 2>/dev/null |
        awk '/^Floating Point Operations: [0-9]+$/ {f = $4} /^Parameters: / {p = $2} END {printf "%.4f %.3f\n", f / 1e9, p / 1e6}')
    # mean, and with repeats "mean (min-max)", of each column
    local summary
    summary=$(awk -v n="$REPEATS" '{ for (c = 1; c <= 2; ++c) { s[c] += $c; if (NR == 1 || $c < lo[c]) lo[c] = $c; if (NR == 1 || $c > hi[c]) hi[c] = $c } }
        END { for (c = 1; c <= 2; ++c) printf (n > 1 ? "%.4f(%.3f-%.3f) " : "%.4f "), s[c] / NR, lo[c], hi[c] }' "$p-ft.txt")
    printf "%-7s %-12s %8s %9s %9s %s\n" "$b" "$r" "$gf" "$pm" "$before" "$summary" > "$OUT/row-$pct-$r.txt"
    echo "  -> $b $r: pruned $before, fine-tuned and ft+BN $summary ($(( $(date +%s) - start )) s)"
}

echo "compare-rankings: $kind, budgets $BUDGETS, rankings $RANKINGS; fine-tuning $ITERS iterations at lr $LR with $TRAINER training, $REPEATS repeat(s); scored on the test split; outputs in $OUT"
table="$OUT/table.txt"
printf "%-7s %-12s %8s %9s %9s %s\n" budget ranking GFLOPs params\(M\) pruned "fine-tuned ft+BN" > "$table"
base=$(score "$cfg" "$weights")
printf "%-7s %-12s %8s %9s %9s %s\n" 1 - - - "$base" - >> "$table"
for r in $RANKINGS; do
    case $r in
        l2|uniform) how=(-ranking "$r") ;;
        random) how=(-ranking random -seed "${SEED:-1}") ;;
        *) how=("${file_of[$r]}") ;;
    esac
    "$DN" legr prune "$cfg" "$weights" "${how[@]}" $BUDGETS -out "$OUT/$r" > "$OUT/$r-prune.log" 2>&1 ||
        { echo "compare-rankings: prune ($r) failed, see $OUT/$r-prune.log" >&2; exit 1; }
done
rm -f "$OUT"/row-*.txt
for b in $BUDGETS; do
    for r in $RANKINGS; do
        cell "$b" "$r" &
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || exit 1; done
    done
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n || exit 1; done
for b in $BUDGETS; do
    pct=$(awk -v b="$b" 'BEGIN { printf "%d", b * 100 + .5 }')
    for r in $RANKINGS; do cat "$OUT/row-$pct-$r.txt"; done
done >> "$table"
echo
cat "$table"
echo "compare-rankings: table in $table"
