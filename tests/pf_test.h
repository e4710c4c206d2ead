/* Minimal test harness: CHECK records a failure with file:line and goes on;
 * PF_TEST_MAIN prints "N passed, N failed" and exits non-zero on failure. */
#ifndef PF_TEST_H
#define PF_TEST_H

#include <stdio.h>
#include <string.h>

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

#endif
