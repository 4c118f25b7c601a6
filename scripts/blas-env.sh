# blas-env.sh: sourced by the long experiment scripts (training, comparisons),
# never by tests or the bench.  GEMM threads: oneDNN (the default build) runs
# on OpenMP, a BLASIMPL=openblas build on OpenBLAS's own threads.
export OPENBLAS_NUM_THREADS=${THREADS:-$(nproc 2>/dev/null || echo 2)}
export OMP_NUM_THREADS=$OPENBLAS_NUM_THREADS
# For a BLASIMPL=openblas build: OpenBLAS 0.3.21 takes CPUs whose model it
# does not know (e.g. a VM's plain "Intel Xeon Processor") for a Prescott and
# uses its SSE3 kernels: ~3x slower training.  Name the AVX2 kernels when the
# CPU has AVX2+FMA and the caller did not choose (oneDNN picks its kernels
# from the CPU's features itself).
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx2 /proc/cpuinfo 2>/dev/null &&
   grep -qw fma /proc/cpuinfo 2>/dev/null; then
    export OPENBLAS_CORETYPE=Haswell
fi
