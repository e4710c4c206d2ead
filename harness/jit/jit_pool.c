/* A small pthread pool pulling item indices from a shared counter
 * (pf_jit_parallel), and pf_jit_compile_many on it. Error messages are
 * thread-local, so each failing item's message is copied out and the first
 * one (in input order) is re-raised on the caller's thread. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jit/jit_internal.h"
#include "core/pf_error.h"

typedef struct pool {
    int (*fn)(void *ctx, int i);
    void *ctx;
    int n;
    int next;
    pthread_mutex_t lock;
    int *failed;                   /* per item: fn returned -1 */
    char (*errors)[PF_ERROR_MAX];  /* per item message */
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int i = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n)
            return NULL;
        if (p->fn(p->ctx, i) != 0) {
            p->failed[i] = 1;
            snprintf(p->errors[i], PF_ERROR_MAX, "%s", pf_error_get());
        }
    }
}

int pf_jit_parallel(int n, int threads, int (*fn)(void *ctx, int i), void *ctx)
{
    if (n <= 0)
        return 0;
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (int)cores : 1;
    }
    if (threads > n)
        threads = n;
    pool p = {.fn = fn, .ctx = ctx, .n = n};
    p.failed = calloc((size_t)n, sizeof *p.failed);
    p.errors = calloc((size_t)n, sizeof *p.errors);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    if (!p.failed || !p.errors || !tids) {
        free(p.failed);
        free(p.errors);
        free(tids);
        return pf_error_set("out of memory");
    }
    pthread_mutex_init(&p.lock, NULL);
    int started = 0;
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, worker, &p) != 0)
            break;
        started++;
    }
    if (started == 0)
        worker(&p); /* no threads available: do it here */
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    pthread_mutex_destroy(&p.lock);

    int rc = 0;
    for (int i = 0; i < n; i++)
        if (p.failed[i]) {
            rc = pf_error_set("%s", p.errors[i]);
            break;
        }
    free(p.failed);
    free(p.errors);
    free(tids);
    return rc;
}

typedef struct compile_many {
    const pf_variant *vs;
    pf_jit_result *results;
} compile_many;

static int compile_one(void *ctx, int i)
{
    compile_many *c = ctx;
    return pf_jit_compile(&c->vs[i], &c->results[i]);
}

int pf_jit_compile_many(const pf_variant *vs, int n, int threads, pf_jit_result *results)
{
    compile_many c = {vs, results};
    return pf_jit_parallel(n, threads, compile_one, &c);
}
