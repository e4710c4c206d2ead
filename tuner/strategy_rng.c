/* The strategies' PRNG (splitmix64, Steele, Lea and Flood 2014): tiny, one
 * 64-bit word of state, and reproducible across platforms and compilers. */
#include "tuner/strategy_internal.h"

void pf_srng_seed(pf_srng *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t pf_srng_next(pf_srng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t pf_srng_below(pf_srng *r, uint32_t n)
{
    /* reject the top sliver of 2^64 that would make low values likelier */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = pf_srng_next(r);
    while (x >= limit);
    return (uint32_t)(x % n);
}

double pf_srng_unit(pf_srng *r)
{
    return (double)(pf_srng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
