/* cluster.c: candidate evaluation over MPI ranks (see cluster.h). */
#include "cluster.h"
#include "util.h"

#ifdef LEGR_MPI
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

enum { TAG_CANDIDATE = 1, TAG_STOP = 2, TAG_RESULT = 3 };

int legr_mpi_start(int *rank, int *size, char *err, size_t errlen)
{
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return legr_fail(err, errlen, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return 0;
}

/* A candidate travels as {index, n_groups}, then alpha[], then kappa[]. */
static void send_candidate(const legr_affine *a, int index, int to)
{
    int hdr[2] = { index, a->n_groups };
    MPI_Send(hdr, 2, MPI_INT, to, TAG_CANDIDATE, MPI_COMM_WORLD);
    MPI_Send(a->alpha, a->n_groups, MPI_FLOAT, to, TAG_CANDIDATE, MPI_COMM_WORLD);
    MPI_Send(a->kappa, a->n_groups, MPI_FLOAT, to, TAG_CANDIDATE, MPI_COMM_WORLD);
}

int legr_mpi_fitness(void *vctx, const legr_affine *cands, int n, double *fitness,
                     char *err, size_t errlen)
{
    legr_fitness_ctx *c = vctx;
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (n > size - 1) return legr_fail(err, errlen, "MPI: %d candidates for %d evaluator ranks", n, size - 1);
    for (int i = 0; i < n; ++i) send_candidate(&cands[i], c->index + i, i + 1);
    int rc = 0;
    for (int i = 0; i < n; ++i) {       /* collect all, even after a failure */
        legr_fitness_result r;
        MPI_Recv(&r, (int)sizeof r, MPI_BYTE, i + 1, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        r.err[sizeof r.err - 1] = 0;
        if (rc == 0) rc = legr_fitness_take(c, &r, &fitness[i], err, errlen);
    }
    c->index += n;
    return rc;
}

int legr_mpi_serve(const legr_fitness_ctx *c, char *err, size_t errlen)
{
    int ng = c->norms->n_groups;
    legr_affine a = { ng, legr_calloc(ng, sizeof(float)), legr_calloc(ng, sizeof(float)) };
    if (!a.alpha || !a.kappa) { free(a.alpha); free(a.kappa); return legr_fail(err, errlen, "out of memory"); }
    for (;;) {
        int hdr[2];
        MPI_Status st;
        MPI_Recv(hdr, 2, MPI_INT, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        if (st.MPI_TAG == TAG_STOP) break;
        MPI_Recv(a.alpha, ng, MPI_FLOAT, 0, TAG_CANDIDATE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Recv(a.kappa, ng, MPI_FLOAT, 0, TAG_CANDIDATE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        legr_fitness_result r;
        if (hdr[1] != ng) {             /* rank 0 loaded a different network */
            memset(&r, 0, sizeof r);
            r.rc = -1;
            snprintf(r.err, sizeof r.err, "MPI: rank 0 has %d prunable groups, an evaluator %d "
                     "(do all ranks read the same cfg and weights?)", hdr[1], ng);
        } else {
            legr_fitness_work(c, &a, hdr[0], &r);
        }
        MPI_Send(&r, (int)sizeof r, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
    }
    free(a.alpha);
    free(a.kappa);
    return 0;
}

void legr_mpi_stop(int size)
{
    int hdr[2] = { 0, 0 };
    for (int i = 1; i < size; ++i) MPI_Send(hdr, 2, MPI_INT, i, TAG_STOP, MPI_COMM_WORLD);
}

void legr_mpi_finish(void)
{
    MPI_Finalize();
}

#else /* built without MPI */

#define NO_MPI "this darknet was built without MPI: install Debian's libopenmpi-dev and " \
               "openmpi-bin, then rebuild with 'make clean && make MPI=1'"

int legr_mpi_start(int *rank, int *size, char *err, size_t errlen)
{
    *rank = 0;
    *size = 1;
    return legr_fail(err, errlen, NO_MPI);
}

int legr_mpi_fitness(void *ctx, const legr_affine *cands, int n, double *fitness,
                     char *err, size_t errlen)
{
    (void)ctx; (void)cands; (void)n; (void)fitness;
    return legr_fail(err, errlen, NO_MPI);
}

int legr_mpi_serve(const legr_fitness_ctx *c, char *err, size_t errlen)
{
    (void)c;
    return legr_fail(err, errlen, NO_MPI);
}

void legr_mpi_stop(int size) { (void)size; }
void legr_mpi_finish(void) {}

#endif
