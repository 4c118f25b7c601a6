#!/usr/bin/env bash
# bench-speed.sh: forward speed of ./darknet (BLAS build) vs stock Debian
# /usr/bin/darknet on the same cfg, measured side by side in one run with
# Darknet's own `speed` command (batch 1, one BLAS thread).  Runs alternate
# (stock, ours, stock, ours, ...) so machine noise hits both alike.
#
#   scripts/bench-speed.sh [cfg] [evals per run] [rounds]
set -eu
cfg=${1:-/usr/share/darknet/cfg/yolov3-tiny.cfg}
tics=${2:-10}
rounds=${3:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
ours=$here/darknet
stock=/usr/bin/darknet
[ -x "$ours" ] || { echo "bench-speed: build ./darknet first (make)" >&2; exit 1; }
[ -x "$stock" ] || { echo "bench-speed: stock $stock missing (apt-get install darknet)" >&2; exit 1; }

secs() {  # prints sec/eval of one `darknet speed` run; $2: extra env
    env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 ${2:-} "$1" speed "$cfg" "$tics" 2>/dev/null |
        awk '/sec\/eval/ {print $2}'
}
echo "cfg: $cfg, $tics evals per run, $rounds rounds, 1 thread"
ts=(); to=()
for r in $(seq "$rounds"); do
    s=$(secs "$stock"); o=$(secs "$ours")
    ts+=("$s"); to+=("$o")
    awk -v r="$r" -v s="$s" -v o="$o" 'BEGIN {printf "round %d: stock %.4f s/eval, ours %.4f s/eval, ratio %.2fx\n", r, s, o, s / o}'
done
best() { printf "%s\n" "$@" | sort -g | head -1; }
bs=$(best "${ts[@]}"); bo=$(best "${to[@]}")
gf=$("$ours" legr flops "$cfg" 2>/dev/null | awk '/^Floating Point Operations: [0-9]+$/ {print $4}')
awk -v s="$bs" -v o="$bo" -v f="$gf" 'BEGIN {
    printf "best: stock %.4f s (%.1f GFLOPS), ours %.4f s (%.1f GFLOPS): ours is %.2fx faster\n",
           s, f / s / 1e9, o, f / o / 1e9, s / o }'

# The machine's BLAS environment is used as found above.  OpenBLAS 0.3.21
# takes CPUs it does not know (a VM's plain "Intel Xeon Processor") for a
# Prescott; when OPENBLAS_CORETYPE is unset and the CPU has AVX2 and FMA,
# show what its Haswell kernels give too (information only).
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    h=$(for r in $(seq "$rounds"); do secs "$ours" OPENBLAS_CORETYPE=Haswell; done | sort -g | head -1)
    awk -v s="$bs" -v o="$h" -v f="$gf" 'BEGIN {
        printf "with OPENBLAS_CORETYPE=Haswell: ours %.4f s (%.1f GFLOPS): %.2fx stock\n", o, f / o / 1e9, s / o }'
fi
