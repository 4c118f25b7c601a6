# blas-env.sh: sourced by the long experiment scripts (training, comparisons),
# never by tests or the bench.  OpenBLAS 0.3.21 takes CPUs whose model it does
# not know (e.g. a VM's plain "Intel Xeon Processor") for a Prescott and uses
# its SSE3 kernels: ~3x slower training.  Name the AVX2 kernels when the CPU
# has AVX2+FMA and the caller did not choose.
export OPENBLAS_NUM_THREADS=${THREADS:-$(nproc 2>/dev/null || echo 2)}
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx2 /proc/cpuinfo 2>/dev/null &&
   grep -qw fma /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=Haswell
fi
