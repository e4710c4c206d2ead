/* Chaos scheduling: a seeded stream per block (seed and block index, so a
 * run is reproducible whichever worker takes the block). The scheduler
 * draws the next fiber at random from the runnable ones, which shuffles
 * the order at every barrier and collective. */
#include "core/pf_sanitize.h"
#include "device/emu/emu_block.h"

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void pf_emu_chaos_begin(pf_emu_block *b)
{
    const pf_emu_launch *L = b->launch;
    uint64_t linear = b->block_idx.x + (uint64_t)L->grid.x * (b->block_idx.y + (uint64_t)L->grid.y * b->block_idx.z);
    b->rng = pf_sanitize_seed() ^ (linear * 0xd1342543de82ef95ull);
    splitmix64(&b->rng);
}

unsigned pf_emu_chaos_below(pf_emu_block *b, unsigned n)
{
    return n ? (unsigned)(splitmix64(&b->rng) % n) : 0;
}
