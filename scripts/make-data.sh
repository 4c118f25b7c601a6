#!/usr/bin/env bash
# make-data.sh: generates darknet-legr's embedded default data sets from
# Fashion-MNIST (Debian's dataset-fashion-mnist) into data/:
#   data/fashion-det/  160x160 detection canvases, YOLO labels, fashion-det.data
#   data/fashion-cls/  32x32 classification images, fashion-cls.data
#
# Has `make build/fashion-gen` compile scripts/fashion-gen.c (with legr/rng.c,
# legr/labelpath.c and files of the patched Darknet tree; needs gcc and
# zlib1g-dev) when needed, and skips the generation when data/.stamp already
# records the same seed, sizes, generator sources and output path.
#
# Environment (defaults in brackets):
#   FASHION_SEED [1]  DET_TRAIN [24000] DET_VAL [500] DET_TEST [500]
#   CLS_TRAIN [60000] CLS_VAL [5000] CLS_TEST [5000]
#   DATA_DIR [data]   BACKUP_DIR [backup]   FASHION_SRC [/usr/share/datasets/fashion-mnist]
#   FORCE=1 regenerates even when the stamp matches.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)

seed=${FASHION_SEED:-1}
det="${DET_TRAIN:-24000} ${DET_VAL:-500} ${DET_TEST:-500}"
cls="${CLS_TRAIN:-60000} ${CLS_VAL:-5000} ${CLS_TEST:-5000}"
data=${DATA_DIR:-data}
backup=${BACKUP_DIR:-backup}
src=${FASHION_SRC:-/usr/share/datasets/fashion-mnist}
gen=build/fashion-gen

if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
    echo "make-data: $src/train-images-idx3-ubyte.gz not found (install dataset-fashion-mnist)" >&2
    exit 1
fi

if ! printf '#include <zlib.h>\n' | ${CC:-cc} -E -x c - >/dev/null 2>&1; then
    echo "make-data: zlib.h not found (install zlib1g-dev)" >&2
    exit 1
fi
${MAKE:-make} -s --no-print-directory "$gen"

mkdir -p "$data" "$backup"
abs_data=$(cd "$data" && pwd)
abs_backup=$(cd "$backup" && pwd)
stamp="seed=$seed det=$det cls=$cls src=$src out=$abs_data backup=$abs_backup gen=$(cat scripts/fashion-gen.c legr/rng.c legr/rng.h legr/labelpath.c | cksum)"
if [ "${FORCE:-0}" != 1 ] && [ -f "$data/.stamp" ] && [ "$(cat "$data/.stamp")" = "$stamp" ] &&
   [ -f "$data/fashion-det/fashion-det.data" ] && [ -f "$data/fashion-cls/fashion-cls.data" ]; then
    echo "make-data: $data/ is up to date (seed $seed)"
    exit 0
fi

rm -f "$data/.stamp"
rm -rf "$data/fashion-det" "$data/fashion-cls"
set -- $det $cls
"$gen" --seed "$seed" --src "$src" --backup "$abs_backup" \
    --det-train "$1" --det-val "$2" --det-test "$3" \
    --cls-train "$4" --cls-val "$5" --cls-test "$6" "$abs_data"
printf '%s\n' "$stamp" > "$data/.stamp"
