#!/bin/sh
# test_plugin.sh: legr's core tests against Darknet patched with the plugin
# group of patches/series alone (make PATCH_GROUPS=plugin), run by make test
# as test_plugin (tests/tests.mk builds the tree and the programs first).
#
#   tests/test_plugin.sh TREE TESTDIR "cli flops badimage:test_legr_*"
#
# TREE is the plugin-only Darknet tree, TESTDIR its test programs (built with
# TREE/darknet as the binary they run).  Each word is a program of TESTDIR,
# optionally with a cmocka filter after a colon (LEGR_TEST_FILTER).  First it
# checks that TREE is what it claims: legr linked with compat.c's weak
# fallbacks, none of the cpu-speed and hardening patches' definitions.
# Exits non-zero if the check or any program fails.
set -u
tree=$1 dir=$2 tests=$3

fail=0
check_fallback() {
    # "W": compat.c's weak definition is the one in the library
    kinds=$(nm -A "$tree/libdarknet.a" 2>/dev/null |
        awk -v s="$1" '$NF == s && $(NF-1) ~ /^[TW]$/ { split($1, m, ":"); printf "%s%s:%s", sep, m[2], $(NF-1); sep = " " }')
    if [ "$kinds" = "compat.o:W" ]; then
        echo "plugin-only tree: $1 is legr/compat.c's fallback"
    else
        echo "FAIL: $tree/libdarknet.a: $1 defined in [$kinds], expected compat.o's weak fallback alone"; fail=1
    fi
}
check_fallback gemm_cpu_set_threads
check_fallback try_load_image
if grep -q LEGR_DNNL "$tree/Makefile" 2>/dev/null; then
    echo "FAIL: $tree/Makefile has the BLAS patch"; fail=1
fi

for t in $tests; do
    prog=${t%%:*} filter=
    case $t in *:*) filter=${t#*:} ;; esac
    echo
    echo "---- $prog${filter:+ ($filter)} on the plugin-only Darknet ($tree)"
    LEGR_TEST_FILTER=$filter "./$dir/test_$prog" || fail=1
done
exit $fail
