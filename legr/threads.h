/* threads.h: the CPU threads legr runs with, chosen to behave on a shared
 * machine: one per CPU of the affinity mask (libgomp's default), and idle
 * ones sleep at once instead of spinning on a core another process wants
 * (OMP_WAIT_POLICY=PASSIVE, in effect before libgomp reads it). */
#ifndef LEGR_THREADS_H
#define LEGR_THREADS_H

/* For `darknet legr ...` (argv[1] "legr") whose environment lacks a choice
 * of libgomp's wait (OMP_WAIT_POLICY or GOMP_SPINCOUNT) or of OpenBLAS's
 * (OPENBLAS_THREAD_TIMEOUT): executes /proc/self/exe again, same arguments,
 * with OMP_WAIT_POLICY=PASSIVE and/or OPENBLAS_THREAD_TIMEOUT=4 (OpenBLAS's
 * shortest spin) added; what the user set is kept.  Called from ./darknet's
 * ELF preinit array (patches/legr-threads-wait-passive.patch) with the
 * process's own argc, argv and environment, before any library's
 * constructor, libc's included: it uses no allocation and no libc state.
 * Returns (after one warning line on stderr) only if the exec failed. */
void legr_threads_early(int argc, char **argv, char **envp);

/* The threads the GEMM runs with now: OpenMP's (oneDNN runs on it), 1 in a
 * build without OpenMP. */
int legr_threads_current(void);

#endif
