#!/usr/bin/env bash
# fitness-study.sh: how well each cheap fitness ranks LeGR candidates, against
# their accuracy after a fixed `legr finetune` (issue: EagleEye's question,
# measured here).  For N candidates (the plain L2 ranking, random rankings as
# the search draws them, mutants of L2) at one budget it records:
#   bn     prune, BN re-estimated on 4 batches of train=        (tau 0, BN only)
#   recon  prune, reconstructed on 64 train= images, BN as above (tau 0 + reconstruction)
#   tau    prune, TAU fine-tuning iterations, BN as above        (the search's -tau)
#   final  prune, FT_ITERS iterations of `legr finetune`, BN, scored on the TEST split
# bn/recon/tau are scored on the first VAL valid= images (the search's set), final on
# the test= list, which no step saw.  Prints one CSV row per candidate and the
# Spearman rank correlation of each fitness with final.
#
#   scripts/fitness-study.sh [cfg weights data] (env: N=24 BUDGET=0.5 TAU=50
#       FT_ITERS=100 BATCH=16 LR= (the fine-tunings' -lr; empty: the cfg's)
#       VAL=250 TEST=500 JOBS=1 OUT=/tmp/fitness-study
#       CANDS="1 2 17" runs only those; a candidate with a row is not run again)
set -eu
CFG=${1:-cfg/fashion-det.cfg}
W=${2:-models/fashion-det.weights}
DATA=${3:-data/fashion-det/fashion-det.data}
N=${N:-24}; BUDGET=${BUDGET:-0.5}; TAU=${TAU:-50}; FT_ITERS=${FT_ITERS:-100}; BATCH=${BATCH:-16}
VAL=${VAL:-250}; TEST=${TEST:-500}; JOBS=${JOBS:-1}; OUT=${OUT:-/tmp/fitness-study}
LR=${LR:-}
DN=${DARKNET:-./darknet}
export OMP_NUM_THREADS=1
mkdir -p "$OUT"
command -v jq >/dev/null || { echo "fitness-study: needs jq (apt-get install jq)" >&2; exit 1; }

# the test split as a .data of its own: valid= is what legr eval scores
TESTDATA=$OUT/test.data
sed -e '/^valid=/d' -e 's/^test=/valid=/' "$DATA" > "$TESTDATA"

# candidates: c01 = L2 (no ranking file), c02..c16 random (the search's own
# random draw: its first candidate, seeded by k), c17.. mutants of L2
make_candidates() {
    local k
    for k in $(seq 2 16); do
        [ "$k" -le "$N" ] || break
        $DN legr search "$CFG" "$W" -data "$DATA" -target "$BUDGET" -evals 1 -pool 2 -tau 0 -val 1 \
            -bn-images 0 -workers 1 -seed "$k" -out "$OUT/c$(printf %02d "$k").ranking" >/dev/null
    done
    # a mutant: a copy of the L2 ranking file with ~20% of the groups' alpha
    # multiplied by exp(N(0, 1)) and kappa moved by N(0, 0.02)
    local l2=$OUT/c02.ranking
    for k in $(seq 17 "$N"); do
        awk -v seed="$k" 'BEGIN { srand(seed) }
            /^#/ { print; next }
            { a = 1; b = 0
              if (rand() < 0.2) { u = rand(); v = rand(); z = sqrt(-2 * log(u + 1e-12)) * cos(6.2831853 * v); a = exp(z)
                                  u = rand(); v = rand(); b = 0.02 * sqrt(-2 * log(u + 1e-12)) * cos(6.2831853 * v) }
              print $1, $2, $3, a, b }' "$l2" > "$OUT/c$(printf %02d "$k").ranking"
    done
}

acc() { jq -r "$1" "$2"; }     # a number from a JSON file

one() {     # one candidate: c<k>
    local c=$1 rank="" d=$OUT/$1
    mkdir -p "$d"
    local pct; pct=$(awk "BEGIN { print $BUDGET * 100 }")
    [ -f "$OUT/$c.ranking" ] && rank="$OUT/$c.ranking"
    # bn and recon (tau 0), one run: the plain pair with BN re-estimated in
    # memory (accuracy_bn), and the written pair reconstructed on 64 train
    # images with BN re-estimated into the file (accuracy_recovered), on VAL images
    $DN legr prune "$CFG" "$W" $rank "$BUDGET" -out "$d/p" -recover 64 -bn 4 -data "$DATA" -eval "$DATA" -n "$VAL" \
        -json "$d/prune.json" >"$d/prune.log" 2>&1
    local fb fr; fb=$(acc '.models[1].accuracy_bn' "$d/prune.json"); fr=$(acc '.models[1].accuracy_recovered' "$d/prune.json")
    # the plain pair (no recovery) that tau and final fine-tune from
    $DN legr prune "$CFG" "$W" $rank "$BUDGET" -out "$d/q" >/dev/null 2>&1
    # tau: TAU iterations from the plain pair, then BN, on VAL images
    $DN legr finetune "$DATA" "$d/q-$pct.cfg" "$d/q-$pct.weights" \
        -iters "$TAU" -batch "$BATCH" ${LR:+-lr "$LR"} -seed 1 -out "$d/tau" >"$d/tau.log" 2>&1
    $DN legr eval "$DATA" "$d/tau.cfg" "$d/tau.weights" -n "$VAL" -bn 4 -json "$d/tau.json" >/dev/null 2>&1
    local ft; ft=$(acc '.bn_reestimated.map50 // .bn_reestimated.top1' "$d/tau.json")
    # final: FT_ITERS iterations (same seed for all), BN, on the TEST split
    $DN legr finetune "$DATA" "$d/q-$pct.cfg" "$d/q-$pct.weights" \
        -iters "$FT_ITERS" -batch "$BATCH" ${LR:+-lr "$LR"} -seed 1 -out "$d/ft" >"$d/ft.log" 2>&1
    $DN legr eval "$TESTDATA" "$d/ft.cfg" "$d/ft.weights" -n "$TEST" -bn 4 -json "$d/final.json" >/dev/null 2>&1
    local ff; ff=$(acc '.bn_reestimated.map50 // .bn_reestimated.top1' "$d/final.json")
    echo "$c,$fb,$fr,$ft,$ff" > "$d/row.csv"
    rm -f "$d"/*.weights
}

[ -f "$OUT/c02.ranking" ] || make_candidates
start=$(date +%s)
export -f one acc; export CFG W DATA TESTDATA BUDGET TAU FT_ITERS BATCH LR VAL TEST OUT DN
# CANDS: which candidates to run (default all N: 1 2 ... N)
echo ${CANDS:-$(seq 1 "$N")} | tr ' ' '\n' | xargs -P "$JOBS" -I{} bash -c 'c=c$(printf %02d {}); [ -f "$OUT/$c/row.csv" ] || one "$c"; echo "  $c done ($(($(date +%s) - '"$start"')) s)" >&2'
echo "candidate,bn,recon,tau$TAU,final" > "$OUT/study.csv"
cat "$OUT"/c*/row.csv >> "$OUT/study.csv" 2>/dev/null || true
cat "$OUT/study.csv"
# Spearman: Pearson correlation of the ranks (ties get their mean rank)
awk -F, 'NR > 1 { for (j = 2; j <= 5; ++j) v[NR - 1, j] = $j; n = NR - 1 }
    function ranks(j,   i, k, less, eq) { for (i = 1; i <= n; ++i) { less = 0; eq = 0
        for (k = 1; k <= n; ++k) { if (v[k, j] < v[i, j]) less++; else if (v[k, j] == v[i, j]) eq++ }
        r[i, j] = less + (eq + 1) / 2 } }
    function rho(a, b,   i, ma, mb, sab, saa, sbb) { ma = mb = 0
        for (i = 1; i <= n; ++i) { ma += r[i, a]; mb += r[i, b] } ma /= n; mb /= n
        for (i = 1; i <= n; ++i) { sab += (r[i, a] - ma) * (r[i, b] - mb); saa += (r[i, a] - ma) ^ 2; sbb += (r[i, b] - mb) ^ 2 }
        return sab / sqrt(saa * sbb) }
    END { for (j = 2; j <= 5; ++j) ranks(j)
          printf "Spearman vs final (%d candidates): bn %.3f  recon %.3f  tau %.3f\n", n, rho(2, 5), rho(3, 5), rho(4, 5) }' "$OUT/study.csv"
