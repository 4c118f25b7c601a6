#!/usr/bin/env bash
# bench-blas.sh: the BLAS libraries installed here, side by side on the GEMMs
# Darknet's convolutions make (scripts/gemm-shapes.c), one thread, runs
# alternating.  This is how the build's BLAS was chosen (README, Speed).
#
#   scripts/bench-blas.sh [rounds]
#
# Libraries tried when present: OpenBLAS (-lopenblas, as the machine's
# environment finds it; with OPENBLAS_CORETYPE unset, also its Haswell and
# SkylakeX kernels, for information), Debian's BLIS variants (serial,
# openmp, pthread) and oneDNN's dnnl_sgemm.  Nothing is installed: apt-get
# install libblis-dev (or libblis-serial-dev ...) to include BLIS.
set -eu
rounds=${1:-4}
here=$(cd "$(dirname "$0")/.." && pwd)
src=$here/scripts/gemm-shapes.c
tmp=$(mktemp -d "${TMPDIR:-/tmp}/legr-blas.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ma=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

names=(); runs=()
add() {   # add <name> <binary> [env...]
    names+=("$1"); runs+=("${*:2}")
}
if gcc -O2 "$src" -o "$tmp/openblas" -lopenblas 2>/dev/null; then
    add "OpenBLAS (as found)" "$tmp/openblas"
    if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
        add "OpenBLAS, OPENBLAS_CORETYPE=Haswell" "$tmp/openblas" OPENBLAS_CORETYPE=Haswell
        add "OpenBLAS, OPENBLAS_CORETYPE=SkylakeX" "$tmp/openblas" OPENBLAS_CORETYPE=SkylakeX
    fi
fi
for v in serial openmp pthread; do
    lib=/usr/lib/$ma/blis-$v
    [ -f "$lib/libblis.so" ] || continue
    gcc -O2 -I"/usr/include/$ma/blis-$v" "$src" -o "$tmp/blis-$v" -L"$lib" -lblis -lm \
        -Wl,-rpath,"$lib" 2>/dev/null && add "BLIS ($v)" "$tmp/blis-$v"
done
if gcc -O2 -DUSE_DNNL "$src" -o "$tmp/onednn" -ldnnl 2>/dev/null; then
    add "oneDNN dnnl_sgemm" "$tmp/onednn"
fi
[ ${#names[@]} -gt 0 ] || { echo "bench-blas: no BLAS library found" >&2; exit 1; }

echo "bench-blas: ${#names[@]} libraries, one thread, best of $rounds alternating rounds"
for mode in fwd train; do
    case $mode in
        fwd) echo "yolov3-tiny 416 forward GEMMs (batch 1):"; reps=3;;
        train) echo "fashion-det 160 training GEMMs per image (forward, weight and input gradients):"; reps=20;;
    esac
    : > "$tmp/res"
    for r in $(seq "$rounds"); do
        for i in "${!names[@]}"; do
            read -r bin envs <<< "${runs[$i]}"
            t=$(env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 BLIS_NUM_THREADS=1 $envs "$bin" "$mode" "$reps")
            echo "$i $t" >> "$tmp/res"
        done
    done
    for i in "${!names[@]}"; do
        awk -v i="$i" -v name="${names[$i]}" '$1 == i { if (b == "" || $2 < b) { b = $2; g = $4 } }
            END { printf "  %-40s %8.4f s  %6.1f GFLOPS\n", name, b, g }' "$tmp/res"
    done
done
