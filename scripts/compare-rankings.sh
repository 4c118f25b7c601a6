#!/usr/bin/env bash
# compare-rankings.sh: what a learned LeGR ranking buys over the baselines, on
# one of the embedded default models.  For every budget and every ranking
# (the LeGR ranking file, plain L2, uniform, random) it
#   1. prunes the base model (legr prune),
#   2. fine-tunes the pruned pair with STOCK Darknet training
#      (`./darknet detector train` / `classifier train`), the same for all:
#      ITERS iterations at a constant learning rate LR, no burn-in,
#   3. scores the result on the TEST split (legr eval), which neither the
#      search (valid=) nor training (train=) sees,
# and prints one table: budget, ranking, GFLOPs, params, accuracy after
# pruning alone, after the fine-tuning, and after the fine-tuning with the BN
# statistics re-estimated on BN batches of train= (as the search scores).
#
# usage: scripts/compare-rankings.sh det|cls RANKING
#   env: ITERS=100 LR=0.001 BN=8 BUDGETS="0.7 0.5 0.3" RANKINGS="legr l2 uniform random"
#        OUT=out/compare-<kind> THREADS=<cores> SEED=1 (random ranking)
set -eu
set -o pipefail
cd "$(dirname "$0")/.."

kind=${1:-}; ranking=${2:-}
case $kind in
    det) cfg=cfg/fashion-det.cfg; weights=models/fashion-det.weights
         data=data/fashion-det/fashion-det.data; train=detector; metric=map50 ;;
    cls) cfg=cfg/fashion-resnet.cfg; weights=models/fashion-resnet.weights
         data=data/fashion-cls/fashion-cls.data; train=classifier; metric=top1 ;;
    *) echo "usage: $0 det|cls RANKING  (env ITERS LR BUDGETS RANKINGS OUT)" >&2; exit 2 ;;
esac
[ -f "$ranking" ] || { echo "compare-rankings: $ranking: no such ranking file (make one with 'darknet legr search')" >&2; exit 1; }
ITERS=${ITERS:-100}
LR=${LR:-0.001}
BN=${BN:-8}
BUDGETS=${BUDGETS:-0.7 0.5 0.3}
RANKINGS=${RANKINGS:-legr l2 uniform random}
OUT=${OUT:-out/compare-$kind}
[ -x ./darknet ] || make
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
    ./darknet legr eval "$OUT/test.data" "$1" "$2" "${bn[@]}" -json "$OUT/score.json" >/dev/null 2>&1 ||
        { echo "compare-rankings: legr eval failed on $1 $2" >&2; exit 1; }
    sed -n "s/.*\"$metric\": \([0-9.]*\).*/\1/p" "$OUT/score.json" | tail -n 1
}
# A copy of a pruned cfg for the short fine-tuning: constant LR, no burn-in.
ft_cfg() {
    sed -e "s/^learning_rate *=.*/learning_rate=$LR/" -e "s/^burn_in *=.*/burn_in=0/" \
        -e "s/^max_batches *=.*/max_batches=$ITERS/" -e "s/^policy *=.*/policy=constant/" "$1" > "$2"
    grep -q "^policy=constant" "$2" || { echo "compare-rankings: $1 has no policy= line" >&2; exit 1; }
}

echo "compare-rankings: $kind, budgets $BUDGETS, rankings $RANKINGS; fine-tuning $ITERS iterations at lr $LR with stock '$train train'; scored on the test split; outputs in $OUT"
table="$OUT/table.txt"
printf "%-7s %-8s %8s %9s %9s %9s %9s\n" budget ranking GFLOPs params\(M\) pruned fine-tuned ft+BN > "$table"
base=$(score "$cfg" "$weights")
printf "%-7s %-8s %8s %9s %9s %9s %9s\n" 1 - - - "$base" - - >> "$table"
for r in $RANKINGS; do
    case $r in
        legr) how=("$ranking") ;;
        random) how=(-ranking random -seed "${SEED:-1}") ;;
        *) how=(-ranking "$r") ;;
    esac
    ./darknet legr prune "$cfg" "$weights" "${how[@]}" $BUDGETS -out "$OUT/$r" > "$OUT/$r-prune.log" 2>&1 ||
        { echo "compare-rankings: prune ($r) failed, see $OUT/$r-prune.log" >&2; exit 1; }
done
for b in $BUDGETS; do
    pct=$(awk -v b="$b" 'BEGIN { printf "%d", b * 100 + .5 }')
    for r in $RANKINGS; do
        p=$OUT/$r-$pct
        before=$(score "$p.cfg" "$p.weights")
        ft_cfg "$p.cfg" "$p-ft.cfg"
        start=$(date +%s)
        echo "compare-rankings: budget $b, $r: fine-tuning ($ITERS iterations)..."
        ./darknet "$train" train "$OUT/test.data" "$p-ft.cfg" "$p.weights" > "$p-ft.log" 2>&1 ||
            { echo "compare-rankings: training failed, see $p-ft.log" >&2; exit 1; }
        if [ "$kind" = det ]; then tuned=$OUT/backup/$r-$pct-ft_final.weights
        else tuned=$OUT/backup/$r-$pct-ft.weights; fi
        [ -f "$tuned" ] || { echo "compare-rankings: $tuned missing, see $p-ft.log" >&2; exit 1; }
        after=$(score "$p-ft.cfg" "$tuned")
        after_bn=$(score "$p-ft.cfg" "$tuned" "$BN")
        read -r gf pm < <(./darknet legr flops "$p.cfg" 2>/dev/null |
            awk '/^Floating Point Operations: [0-9]+$/ {f = $4} /^Parameters: / {p = $2} END {printf "%.4f %.3f\n", f / 1e9, p / 1e6}')
        printf "%-7s %-8s %8s %9s %9s %9s %9s\n" "$b" "$r" "$gf" "$pm" "$before" "$after" "$after_bn" >> "$table"
        echo "  -> pruned $before, fine-tuned $after, and with BN re-estimated $after_bn ($(( $(date +%s) - start )) s)"
    done
done
echo
cat "$table"
echo "compare-rankings: table in $table"
