#!/usr/bin/env bash
# bench-threads.sh: legr's thread defaults on a shared machine.  Times
# `legr eval -bn 4` and `legr prune -eval` on the embedded fashion-det model
# with the old defaults (what libgomp and OpenBLAS do when nothing is set:
# one thread per core, idle threads spinning GOMP_SPINCOUNT=300000 turns,
# OpenBLAS's 2^28 cycles, before they sleep), the new ones (legr/threads.c:
# nothing set, so legr runs with OMP_WAIT_POLICY=PASSIVE) and one thread,
# with a busy loop pinned to the last CPU and without it.
# Runs are interleaved (old, new, one, old, new, one, ...) so that the
# machine's other load hits every setting alike.  Figures and ratios only:
# nothing here passes or fails (the asserted check is tests/test_threads.c).
#
#   scripts/bench-threads.sh [repeats]        (make bench; default 3)
#
# Per setting: the median wall time, its spread (min-max), CPU time over
# wall time (how many cores it kept busy, spinning included), and the
# eval's mean forward ms/image.  SETTINGS overrides the settings compared:
# "name=ENV ...;name=ENV ..." (an empty ENV: legr's own defaults).
set -eu
reps=${1:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
ours=./darknet
data=data/fashion-det/fashion-det.data
cfg=cfg/fashion-det.cfg
wts=models/fashion-det.weights
[ -x "$ours" ] || { echo "bench-threads: build ./darknet first (make)" >&2; exit 1; }
[ -f "$data" ] || ./scripts/make-data.sh >/dev/null
ncpu=$(nproc)
hog_cpu=$((ncpu - 1))
settings=${SETTINGS:-"old=GOMP_SPINCOUNT=300000 OPENBLAS_THREAD_TIMEOUT=28;new=;one=OMP_NUM_THREADS=1"}
# every setting starts from none of these set (make bench may run with some)
clean="-u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u OPENBLAS_THREAD_TIMEOUT -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/legr-bench-threads.XXXXXX")
hog_pid=
stop_hog() {
    if [ -n "$hog_pid" ]; then kill "$hog_pid" 2>/dev/null || true; wait "$hog_pid" 2>/dev/null || true; fi
    hog_pid=
}
trap 'stop_hog; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
start_hog() {
    taskset -c "$hog_cpu" sh -c 'while :; do :; done' &
    hog_pid=$!
}
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
minmax() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s-%s", lo, hi}'; }

IFS=';' read -r -a sets <<< "$settings"
names=()
for s in "${sets[@]}"; do names+=("${s%%=*}"); done

# one run: wall, (user+sys CPU) / wall, the eval's forward ms/image and its threads
run_one() {     # <setting env> <command...>
    local envs=$1 out=$tmp/out
    shift
    local TIMEFORMAT='%R %U %S'
    { time env $clean $envs "$@" > "$out" 2>&1; } 2> "$tmp/time" || { echo "bench-threads: failed: $*" >&2; tail -3 "$out" >&2; return 1; }
    local ms nt
    ms=$(sed -n 's/.*the eval.s forward at [0-9]* threads*: \([0-9.]*\) ms\/image.*/\1/p' "$out" | head -1)
    nt=$(sed -n 's/.*the eval.s forward at \([0-9]*\) thread.*/\1/p' "$out" | head -1)
    read -r real user sys < "$tmp/time"
    echo "$real $(awk -v u="$user" -v s="$sys" -v r="$real" 'BEGIN {printf "%.2f", (u + s) / r}') ${ms:--} ${nt:--}"
}

cmd_eval=("$ours" legr eval "$data" "$cfg" "$wts" -bn 4)
cmd_prune=("$ours" legr prune "$cfg" "$wts" 0.5 -out "$tmp/p" -eval "$data" -n 200)

echo "bench-threads: ./darknet legr eval -bn 4 and prune 0.5 -eval (-n 200) on fashion-det, $reps repeats, interleaved"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $ncpu cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${sets[@]}"; do printf '  %-7s %s\n' "${s%%=*}" "${s#*=}"; done
: > "$tmp/summary"
for load in idle hog; do
    [ "$load" = hog ] && start_hog
    for what in eval prune; do
        for ((r = 1; r <= reps; ++r)); do
            for s in "${sets[@]}"; do
                name=${s%%=*}
                if [ "$what" = eval ]; then line=$(run_one "${s#*=}" "${cmd_eval[@]}"); else line=$(run_one "${s#*=}" "${cmd_prune[@]}"); fi
                echo "$line" >> "$tmp/$load-$what-$name"
            done
        done
        echo
        echo "$what, $([ "$load" = hog ] && echo "a busy loop pinned to CPU $hog_cpu" || echo "no hog (the machine as it is)"); load average $(cut -d' ' -f1 /proc/loadavg)"
        printf '  %-7s %9s %17s %9s %11s %8s\n' setting "wall s" "spread" "CPU/wall" "fwd ms/img" threads
        for name in "${names[@]}"; do
            f=$tmp/$load-$what-$name
            w=$(cut -d' ' -f1 "$f" | median)
            [ "$what" = eval ] && ms=$(cut -d' ' -f3 "$f" | median) nt=$(cut -d' ' -f4 "$f" | sort -u | tr '\n' ' ') || ms=- nt=-
            printf '  %-7s %9.2f %17s %9s %11s %8s\n' "$name" "$w" "$(cut -d' ' -f1 "$f" | minmax)" \
                "$(cut -d' ' -f2 "$f" | median)" "$ms" "$nt"
            echo "$load $what $name $w" >> "$tmp/summary"
        done
    done
    stop_hog
done

echo
echo "ratios of median wall times (> 1: the first is slower)"
for load in idle hog; do
    for what in eval prune; do
        line="  $load $what:"
        for ((i = 0; i < ${#names[@]}; ++i)); do
            for ((j = i + 1; j < ${#names[@]}; ++j)); do
                a=$(awk -v l=$load -v w=$what -v n="${names[i]}" '$1 == l && $2 == w && $3 == n {print $4}' "$tmp/summary")
                b=$(awk -v l=$load -v w=$what -v n="${names[j]}" '$1 == l && $2 == w && $3 == n {print $4}' "$tmp/summary")
                line="$line  ${names[i]}/${names[j]} $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
            done
        done
        echo "$line"
    done
done
