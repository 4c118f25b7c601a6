/* threads.c: legr's thread defaults on a shared machine (see threads.h).
 *
 * oneDNN's GEMM runs on OpenMP (libgomp).  Left to itself libgomp makes one
 * thread per CPU of the affinity mask, and a thread that has finished its
 * share of a parallel region spins GOMP_SPINCOUNT (300000) turns before it
 * sleeps: with a GEMM every few hundred microseconds it never sleeps.  When
 * other processes want the cores, that spinning takes CPU from them and the
 * GEMM's barrier waits on whichever thread the scheduler left out (issue 16:
 * the same eval took 44 s in one run and over 300 s in the next; perf put
 * 93% of a search's time in libgomp).  With OMP_WAIT_POLICY=PASSIVE an
 * idle thread sleeps at once: on this shared 2-core machine two passive
 * threads ran about as fast as one thread or up to 2x faster, with or without
 * a busy loop on one core, where the spinning default ran 2.4-17x slower
 * (scripts/bench-threads.sh, README "Threads").  So legr keeps libgomp's
 * thread count and changes only how idle threads wait.  OpenBLAS's own
 * threads (BLASIMPL=openblas; LAPACK's) spin 2^28 cycles by default:
 * OPENBLAS_THREAD_TIMEOUT=4 is its shortest.
 *
 * Both runtimes read these variables in their library constructors, before
 * main, and a variable set in this process at any point is lost: glibc's own
 * initialiser resets the environment to the one the process started with.
 * So the program executes itself again with them added, from the ELF preinit
 * array, before any constructor has run (threads.h). */
#include "threads.h"

#include <string.h>
#include <unistd.h>

/* weak: a build without OpenMP has none (one thread throughout) */
extern int omp_get_max_threads(void) __attribute__((weak));

/* 1 when the environment entry e ("NAME=value") sets name. */
static int sets(const char *e, const char *name)
{
    size_t n = strlen(name);
    return strncmp(e, name, n) == 0 && e[n] == '=';
}

void legr_threads_early(int argc, char **argv, char **envp)
{
    if (argc < 2 || !argv || !argv[1] || strcmp(argv[1], "legr") != 0 || !envp) return;
    int n = 0, gomp = 0, openblas = 0;
    for (; envp[n]; ++n) {
        gomp |= sets(envp[n], "OMP_WAIT_POLICY") || sets(envp[n], "GOMP_SPINCOUNT");
        openblas |= sets(envp[n], "OPENBLAS_THREAD_TIMEOUT");
    }
    if ((gomp && openblas) || n > 65536) return;
    /* the new image finds both chosen and goes on without coming back */
    char *env[n + 3];
    int k = 0;
    for (int i = 0; i < n; ++i) env[k++] = envp[i];
    if (!gomp) env[k++] = (char *)"OMP_WAIT_POLICY=PASSIVE";
    if (!openblas) env[k++] = (char *)"OPENBLAS_THREAD_TIMEOUT=4";
    env[k] = NULL;
    execve("/proc/self/exe", argv, env);
    static const char msg[] = "legr: warning: cannot execute /proc/self/exe again with "
                              "OMP_WAIT_POLICY=PASSIVE: idle GEMM threads will spin\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
}

int legr_threads_current(void)
{
    return omp_get_max_threads ? omp_get_max_threads() : 1;
}
