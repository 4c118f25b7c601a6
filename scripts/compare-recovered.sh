#!/usr/bin/env bash
# compare-recovered.sh: a LeGR ranking against the baselines on any model,
# without fine-tuning: each ranking prunes the model to every budget, the
# pruned pair is reconstructed on RECOVER train= images (legr prune -recover)
# and the WRITTEN pair is scored on the valid= list of EVALDATA, which the
# search and the reconstruction never saw.  Random rankings are drawn at
# seeds 1..RANDOM_SEEDS and reported as mean (min-max).
#
# usage: scripts/compare-recovered.sh CFG WEIGHTS DATA EVALDATA RANKING
#   DATA: train= is the images of the reconstruction; EVALDATA: valid= is scored
#   env: BUDGETS="0.8 0.7" RECOVER=64 N=0 (images scored; 0: all)
#        RANDOM_SEEDS=3 JOBS=2 OUT=/tmp/compare-recovered
set -eu
set -o pipefail
[ $# -eq 5 ] || { echo "usage: $0 CFG WEIGHTS DATA EVALDATA RANKING" >&2; exit 2; }
CFG=$1 W=$2 DATA=$3 EVALDATA=$4 RANKING=$5
BUDGETS=${BUDGETS:-0.8 0.7}; RECOVER=${RECOVER:-64}; N=${N:-0}
RANDOM_SEEDS=${RANDOM_SEEDS:-3}; JOBS=${JOBS:-2}; OUT=${OUT:-/tmp/compare-recovered}
DN=${DARKNET:-$(cd "$(dirname "$0")/.." && pwd)/darknet}
export OMP_NUM_THREADS=1
mkdir -p "$OUT"

# one row per (name, ranking argument): legr, l2, uniform, random-1..S
cells() {
    echo "legr $RANKING"
    echo "l2 -ranking l2"
    echo "uniform -ranking uniform"
    for s in $(seq 1 "$RANDOM_SEEDS"); do echo "random-$s -ranking random -seed $s"; done
}
one() {     # name, then the ranking argument(s)
    local name=$1; shift
    [ -f "$OUT/$name.csv" ] && return 0
    # shellcheck disable=SC2086
    "$DN" legr prune "$CFG" "$W" "$@" $BUDGETS -out "$OUT/$name" -recover "$RECOVER" -data "$DATA" \
        -eval "$EVALDATA" -n "$N" > "$OUT/$name.log" 2>&1
}
export -f one; export CFG W DATA EVALDATA BUDGETS RECOVER N OUT DN
cells | xargs -P "$JOBS" -L 1 bash -c 'one "$@" && echo "  $1 done" >&2' _

# PREFIX.csv: budget,flops,params,metric,metric_bn,ms_per_image,metric_recovered
echo "budget,ranking,plain,bn,recovered"
for b in $BUDGETS; do
    for name in legr l2 uniform; do
        awk -F, -v b="$b" -v n="$name" 'NR > 1 && $1 + 0 == b + 0 { printf "%s,%s,%.3f,%.3f,%.3f\n", b, n, $4, $5, $7 }' "$OUT/$name.csv"
    done
    cat "$OUT"/random-*.csv | awk -F, -v b="$b" '$1 != "budget" && $1 + 0 == b + 0 {
            k++; p += $4; q += $5; r += $7; if (k == 1 || $7 < lo) lo = $7; if (k == 1 || $7 > hi) hi = $7 }
        END { printf "%s,random (mean of %d),%.3f,%.3f,%.3f (%.3f-%.3f)\n", b, k, p / k, q / k, r / k, lo, hi }'
done
