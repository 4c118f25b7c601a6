#!/usr/bin/env bash
# recover-finetune-table.sh: what fine-tuning adds to a recovered pair, on one
# of the embedded models.  Pruning to each budget with -recover RECOVER (64; plain L2,
# or the ranking file RANKING=F, e.g. a search's; legr prune, which also prints surgery / BN re-estimation / reconstruction
# on the test split), then ITERS iterations at batch BATCH three ways, each
# REPEATS times (TRAINERS="teacher plain stock" chooses): Darknet's own `detector train` / `classifier train` (constant
# LR, no burn-in), `legr finetune`, and `legr finetune -teacher <original>`;
# each result scored on the test split (no step saw it) as it is and with BN
# re-estimated on 8 batches.  Prints budget,trainer,seed,accuracy,accuracy_bn.
#
#   scripts/recover-finetune-table.sh det|cls
#   env: ITERS, BATCH, LR (det: 1600, 32, 0.002, the cfg's batch and lr; cls: 350, 128, 0.01)
#        REPEATS=2 (seeds 1..REPEATS; SEEDS="3 4" names them instead)
#        BUDGETS="0.5 0.3" OUT=/tmp/recover-finetune
#        DARKNET=./darknet RANKING=l2 TRAINERS="teacher plain stock" FT_OPTS="" (more
#        legr finetune options, e.g. "-distill 2") PRUNE_OPTS="" (more legr
#        prune options, e.g. "-min 0.3") RECOVER=64 (images for -recover)
set -eu
RANKING=${RANKING:-l2}; TRAINERS=${TRAINERS:-teacher plain stock}; FT_OPTS=${FT_OPTS:-}; PRUNE_OPTS=${PRUNE_OPTS:-}; RECOVER=${RECOVER:-64}
if [ "$RANKING" = l2 ]; then RANK_ARGS="-ranking l2"; else RANK_ARGS=$(realpath "$RANKING"); fi
cd "$(dirname "$0")/.."
W=$PWD; KIND=${1:?usage: $0 det|cls}; REPEATS=${REPEATS:-2}; BUDGETS=${BUDGETS:-0.5 0.3}
if [ $KIND = det ]; then ITERS=${ITERS:-1600}; BATCH=${BATCH:-32}; LR=${LR:-0.002}
else ITERS=${ITERS:-350}; BATCH=${BATCH:-128}; LR=${LR:-0.01}; fi
OUT=${OUT:-/tmp/recover-finetune}
DN=$(realpath "${DARKNET:-./darknet}")
export OMP_NUM_THREADS=1
[ -f data/fashion-det/fashion-det.data ] || ./scripts/make-data.sh >/dev/null
mkdir -p "$OUT"; cd "$OUT"
if [ $KIND = det ]; then CFG=$W/cfg/fashion-det.cfg; WT=$W/models/fashion-det.weights; D=$W/data/fashion-det/fashion-det.data; TR=detector
else CFG=$W/cfg/fashion-resnet.cfg; WT=$W/models/fashion-resnet.weights; D=$W/data/fashion-cls/fashion-cls.data; TR=classifier; fi
mkdir -p $KIND; sed -e '/^valid=/d' -e 's/^test=/valid=/' -e "s#^backup=.*#backup=$OUT/$KIND/backup#" $D > $KIND/test.data
grep -q '^backup=' $KIND/test.data || echo "backup=$OUT/$KIND/backup" >> $KIND/test.data
mkdir -p $KIND/backup
"$DN" legr prune $CFG $WT $RANK_ARGS $BUDGETS $PRUNE_OPTS -out $KIND/pruned -recover $RECOVER -data $D -eval $KIND/test.data -n 500 > $KIND/prune.log 2>&1
one() {   # budget trainer seed
    local b=$1 t=$2 s=$3 pct p o; pct=$(awk -v b=$b 'BEGIN{printf "%d", b*100+.5}'); p=$KIND/pruned-$pct; o=$KIND/$pct-$t-$s
    case $t in
    plain)   "$DN" legr finetune $D $p.cfg $p.weights -iters $ITERS -batch $BATCH -lr $LR -seed $s $FT_OPTS -out $o > $o.log 2>&1; w=$o.weights; c=$o.cfg ;;
    teacher) "$DN" legr finetune $D $p.cfg $p.weights -teacher $CFG $WT -iters $ITERS -batch $BATCH -lr $LR -seed $s $FT_OPTS -out $o > $o.log 2>&1; w=$o.weights; c=$o.cfg ;;
    stock)   sed -e "s/^batch *=.*/batch=$BATCH/" -e "s/^subdivisions *=.*/subdivisions=1/" -e "s/^learning_rate *=.*/learning_rate=$LR/" -e "s/^burn_in *=.*/burn_in=0/" \
                 -e "s/^max_batches *=.*/max_batches=$ITERS/" -e "s/^policy *=.*/policy=constant/" $p.cfg > $o.cfg
             "$DN" $TR train $KIND/test.data $o.cfg $p.weights > $o.log 2>&1
             c=$o.cfg; w=$KIND/backup/$(basename $o)_final.weights; [ -f $w ] || w=$KIND/backup/$(basename $o).weights ;;
    esac
    local acc; acc=$("$DN" legr eval $KIND/test.data $c $w -n 500 -bn 8 -json $o.json > /dev/null 2>&1; jq -r '"\(.plain.map50 // .plain.top1),\(.bn_reestimated.map50 // .bn_reestimated.top1)"' $o.json)
    echo "$b,$t,$s,$acc" > $o.row
}
export -f one; export KIND ITERS D CFG WT TR LR BATCH DN FT_OPTS
for b in $BUDGETS; do for t in $TRAINERS; do for s in ${SEEDS:-$(seq 1 $REPEATS)}; do echo $b $t $s; done; done; done | xargs -P 2 -L 1 bash -c 'one "$@"' _
cat $KIND/*.row | sort
