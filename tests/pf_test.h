/* Minimal test harness: CHECK records a failure with file:line and goes on;
 * PF_TEST_MAIN prints "N passed, N failed" and exits non-zero on failure. */
#ifndef PF_TEST_H
#define PF_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int pf_test_passed, pf_test_failed;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (cond) {                                                                     \
            pf_test_passed++;                                                           \
        } else {                                                                        \
            pf_test_failed++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                               \
    } while (0)

#define CHECK_MSG(cond, ...)                                                            \
    do {                                                                                \
        if (cond) {                                                                     \
            pf_test_passed++;                                                           \
        } else {                                                                        \
            pf_test_failed++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                               \
            fputc('\n', stderr);                                                        \
        }                                                                               \
    } while (0)

#define PF_TEST_RESULT()                                                                \
    (printf("%d passed, %d failed\n", pf_test_passed, pf_test_failed),                 \
     pf_test_failed ? 1 : 0)

/* Seeded xorshift64 for random test inputs. pf_test_seed() takes the seed
 * from PF_TEST_SEED (to replay a failure) or the clock, and prints it. */
static inline uint64_t *pf_test_rng_state(void)
{
    static uint64_t state = 88172645463325252ull;
    return &state;
}

static inline uint64_t pf_test_rng(void)
{
    uint64_t *s = pf_test_rng_state();
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Uniform in [-1, 1). */
static inline float pf_test_frand(void)
{
    return (float)((double)(pf_test_rng() >> 11) / 9007199254740992.0 * 2 - 1);
}

static inline void pf_test_seed(void)
{
    const char *seed = getenv("PF_TEST_SEED");
    *pf_test_rng_state() = seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + 1;
    printf("seed %llu\n", (unsigned long long)*pf_test_rng_state());
}

/* The same for tests that draw with rand(): srand from PF_TEST_SEED or the
 * clock and the pid, printed so a failing run can be replayed. */
static inline void pf_test_srand(void)
{
    const char *env = getenv("PF_TEST_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    printf("seed %u\n", seed);
    srand(seed);
}

#endif
