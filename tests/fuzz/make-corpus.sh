#!/usr/bin/env bash
# make-corpus.sh DIR: (re)writes the fuzz targets' seed corpus in DIR/<target>/
# (make fuzz-corpus; the result is committed as tests/fuzz/corpus/).
#   cfg:   the repository's cfgs, tests/fuzz/nets/, and Debian's
#          /usr/share/darknet/cfg/*.cfg made cheap to parse by shrink-cfg.awk
#          (64x64, filters / 8; a fuzz input is parsed, weights and all, on
#          every run), the three RNN cfgs as they are (legr refuses them)
#   other: build/fuzz/make_seeds ($FUZZ_MAKE_SEEDS), see make_seeds.c
set -eu
dir=$1
here=$(dirname "$0")
for t in cfg weights rank ckpt labels; do rm -rf "$dir/$t"; mkdir -p "$dir/$t"; done
cp cfg/*.cfg "$here"/nets/*.cfg "$dir/cfg/"
skip=" cifar.test.cfg go.test.cfg darknet19_448.cfg darknet53_448.cfg "
for f in /usr/share/darknet/cfg/*.cfg; do
    b=$(basename "$f")
    case "$skip" in *" $b "*) continue;; esac
    case "$b" in
        rnn.cfg|rnn.train.cfg|gru.cfg) cp "$f" "$dir/cfg/debian-$b";;
        *) awk -f "$here/shrink-cfg.awk" "$f" > "$dir/cfg/debian-$b";;
    esac
done
"${FUZZ_MAKE_SEEDS:-build/fuzz/make_seeds}" "$dir"
for t in cfg weights rank ckpt labels; do
    echo "$dir/$t: $(ls "$dir/$t" | wc -l) files, $(du -sk "$dir/$t" | cut -f1) KiB"
done
