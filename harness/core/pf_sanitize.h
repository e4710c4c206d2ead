/* Which emu checks a run asks for (--sanitize race,init,chaos or the
 * PFTUNE_SANITIZE environment variable; PFTUNE_SANITIZE_SEED seeds chaos).
 * Process-wide: the JIT picks the kernel's instrumentation from it (and
 * hashes that into the cache key), the emu backend its scheduling. The
 * cuda backend ignores it.
 *
 *   race   ThreadSanitizer over the fibers: needs a -DPF_TSAN=ON build
 *   init   reads of shared memory never written in this launch
 *   chaos  seeded random fiber order at every barrier and collective, and
 *          cp.async copies landing at random points before their wait */
#ifndef PF_SANITIZE_H
#define PF_SANITIZE_H

#include <stdint.h>

enum { PF_SAN_RACE = 1u, PF_SAN_INIT = 2u, PF_SAN_CHAOS = 4u };

/* Parse a comma list ("race,chaos"; "" or "none": nothing) into *mode.
 * -1 with a message naming an unknown word, or a check this build cannot do. */
int pf_sanitize_parse(const char *text, unsigned *mode);
/* Set the process-wide mode and chaos seed (validated like parse). */
int pf_sanitize_set(unsigned mode, uint64_t seed);
/* The mode in force: set explicitly, else from the environment (read once;
 * an invalid PFTUNE_SANITIZE is reported on stderr and ignored). */
unsigned pf_sanitize_mode(void);
uint64_t pf_sanitize_seed(void);
/* Was this library built with ThreadSanitizer (-DPF_TSAN=ON)? */
int pf_sanitize_tsan_built(void);

#endif
