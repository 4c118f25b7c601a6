/* rng.c: splitmix64 and the draws made from it (see rng.h).  Plain C with
 * no Darknet or legr dependency, so that scripts/fashion-gen.c compiles it
 * in as well. */
#include "rng.h"

#include <math.h>

#define TWO_TO_MINUS_53 (1.0 / 9007199254740992.0)

void legr_rng_seed(legr_rng *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t legr_rng_next(legr_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double legr_rng_double(legr_rng *r)
{
    return (legr_rng_next(r) >> 11) * TWO_TO_MINUS_53;
}

float legr_rng_float(legr_rng *r)
{
    return (float)(legr_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

uint32_t legr_rng_below(legr_rng *r, uint32_t n)
{
    return (uint32_t)(((legr_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* In (0, 1): the middle of the 53-bit cell legr_rng_double's value starts. */
static double open_unit(legr_rng *r)
{
    return ((legr_rng_next(r) >> 11) + 0.5) * TWO_TO_MINUS_53;
}

double legr_rng_normal(legr_rng *r, double sd)
{
    double u = open_unit(r), v = open_unit(r);
    return sd * sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}
