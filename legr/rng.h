/* rng.h: the one pseudo-random number generator of legr/ and scripts/
 * (splitmix64), with its state in a caller's struct (no global state): a
 * seed, the next 64 bits, uniform doubles and floats in [0, 1), an integer
 * below n and a normal deviate (Box-Muller).
 *
 * The stream is part of what legr promises: the same seed gives the same
 * search (the checkpoint stores the state), the same random ranking and the
 * same Fashion-MNIST data sets (scripts/fashion-gen.c, on which the embedded
 * models were trained), so nothing here may change the numbers it returns.
 *
 * Darknet's own code (data augmentation in load_data, weight initialisation
 * in make_*_layer, dropout) draws from libc rand(); legr seeds that with
 * srand() where Darknet draws for it, and uses this generator for its own
 * draws. */
#ifndef LEGR_RNG_H
#define LEGR_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s;     /* splitmix64's state: the seed, plus one step per draw */
} legr_rng;

/* Starts the stream of seed (every seed is a good one, 0 included). */
void legr_rng_seed(legr_rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t legr_rng_next(legr_rng *r);

/* Uniform in [0, 1): 53 random bits (double) or 24 (float), so exactly
 * representable and never 1. */
double legr_rng_double(legr_rng *r);
float legr_rng_float(legr_rng *r);

/* Uniform integer in [0, n) for n >= 1 (0 for n == 0), by multiply-shift
 * of the top 32 bits (Lemire): no division, one draw, and a bias below
 * n / 2^32 (under 1e-8 for the n legr uses). */
uint32_t legr_rng_below(legr_rng *r, uint32_t n);

/* A normal deviate of mean 0 and standard deviation sd (Box-Muller: two
 * draws, the cosine branch; the uniforms are the midpoints of their 2^-53
 * cells, in (0, 1), so the logarithm is always finite). */
double legr_rng_normal(legr_rng *r, double sd);

#endif
