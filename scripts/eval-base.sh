#!/usr/bin/env bash
# eval-base.sh: test-set figures of the base models in models/ (the test=
# split of each data set, which neither training nor any search sees):
# mAP@0.5 / mAP@[.5:.95] of fashion-det, top-1 / top-5 of fashion-resnet.
set -eu
cd "$(dirname "$0")/.."
./scripts/make-data.sh >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# legr eval scores the valid= list: point it at test=
sed 's/^valid *=.*//; s/^test *= *\(.*\)/valid=\1/' data/fashion-det/fashion-det.data > "$tmp/det.data"
sed 's/^valid *=.*//; s/^test *= *\(.*\)/valid=\1/' data/fashion-cls/fashion-cls.data > "$tmp/cls.data"
for m in fashion-det:det fashion-resnet:cls; do
    name=${m%%:*}; kind=${m##*:}
    if [ -f "models/$name.weights" ]; then
        echo "== $name (test split)"
        ./darknet legr eval "$tmp/$kind.data" "cfg/$name.cfg" "models/$name.weights"
    else
        echo "== $name: models/$name.weights not trained yet (scripts/train-base.sh)"
    fi
done
