#!/usr/bin/env bash
# plot-search.sh: draws a LeGR search's progress (fitness of every candidate
# and the best so far) from the CSV log that `darknet legr search` writes
# next to its ranking file.
#
#   scripts/plot-search.sh <ranking>.csv [out.png]
set -eu
csv=${1:?usage: plot-search.sh <search log .csv> [out.png]}
png=${2:-${csv%.csv}.png}
[ -f "$csv" ] || { echo "plot-search: $csv: no such file" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot-search: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
gnuplot <<GP
set terminal pngcairo size 800,500 noenhanced
set output '$png'
set datafile separator ','
set title 'LeGR search: $csv'
set xlabel 'candidate'
set ylabel 'fitness'
set key bottom right
set grid
plot '$csv' every ::1 using 1:2 with points pt 7 ps 0.6 title 'candidate', \
     '' every ::1 using 1:3 with lines lw 2 title 'best so far'
GP
echo "plot-search: wrote $png"
