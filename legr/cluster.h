/* cluster.h: a LeGR search spread over machines with MPI (Open MPI).
 *
 *   mpirun -np K ./darknet legr search <cfg> <weights> ... -mpi
 *
 * Rank 0 runs the evolution; ranks 1..K-1 are evaluators.  Every batch of
 * K-1 children is sent out one candidate per evaluator and the fitness
 * values come back in index order, so a run gives the same ranking as
 * `-workers K-1` with the same seed.  Every rank loads the model and the
 * data itself (from the same paths: a shared file system or identical
 * copies).  Built only with MPI=1 (LEGR_MPI); otherwise the calls fail with
 * a message that says how to get it. */
#ifndef LEGR_CLUSTER_H
#define LEGR_CLUSTER_H

#include <stddef.h>
#include "fitness.h"

/* MPI_Init; fills this process's rank and the number of ranks. */
int legr_mpi_start(int *rank, int *size, char *err, size_t errlen);

/* legr_fitness_fn for rank 0: candidate i of the batch goes to rank i+1;
 * ctx is the legr_fitness_ctx (its index numbers the candidates). */
int legr_mpi_fitness(void *ctx, const legr_affine *cands, int n, double *fitness,
                     char *err, size_t errlen);

/* Evaluator ranks: evaluates what rank 0 sends until it says stop. */
int legr_mpi_serve(const legr_fitness_ctx *c, char *err, size_t errlen);

/* Rank 0: tells the evaluators to stop.  Every rank then calls finish. */
void legr_mpi_stop(int size);
void legr_mpi_finish(void);

#endif
