/* NVRTC images (cubin + PTX) for shipping; see jit_image.h. */
#include "jit/jit_image.h"

#include <nvrtc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "jit/jit_internal.h"

int pf_jit_nvrtc_arch_check(const char *arch)
{
    int n = 0, want = 0;
    char tail[8] = "";
    if (sscanf(arch, "sm_%d%7s", &want, tail) < 1 || (tail[0] && strcmp(tail, "a") != 0))
        return pf_error_set("'%s' is not a GPU arch (expected sm_XX, e.g. sm_90)", arch);
    if (nvrtcGetNumSupportedArchs(&n) != NVRTC_SUCCESS || n <= 0)
        return pf_error_set("cannot ask NVRTC which archs it supports");
    int *archs = malloc((size_t)n * sizeof *archs);
    if (!archs || nvrtcGetSupportedArchs(archs) != NVRTC_SUCCESS) {
        free(archs);
        return pf_error_set("cannot ask NVRTC which archs it supports");
    }
    int found = 0;
    for (int i = 0; i < n; i++)
        found |= archs[i] == want;
    int lo = archs[0], hi = archs[n - 1];
    free(archs);
    if (!found)
        return pf_error_set("NVRTC does not know arch %s (it supports sm_%d .. sm_%d)", arch, lo,
                            hi);
    return 0;
}

typedef struct image_pool {
    const pf_variant *vs;
    const char *include_dir;
    pf_jit_image *out;
    int n, next;
    pthread_mutex_t lock;
    char (*errors)[PF_ERROR_MAX]; /* per variant: "" or pftune's own failure */
} image_pool;

static void build_one(image_pool *p, int i)
{
    char *src = NULL;
    size_t size;
    pf_jit_artifact a;
    memset(&a, 0, sizeof a);
    if (pf_jit_read_file(p->vs[i].source, &src, &size) != 0 ||
        pf_jit_nvrtc_build(&p->vs[i], src, p->include_dir, &a) != 0) {
        snprintf(p->errors[i], PF_ERROR_MAX, "%s", pf_error_get());
        free(src);
        pf_jit_artifact_free(&a);
        return;
    }
    free(src);
    pf_jit_image *img = &p->out[i];
    img->valid = a.valid;
    img->log = a.log;
    img->cubin = a.cubin;
    img->cubin_size = a.cubin_size;
    img->ptx = a.ptx;
    img->ptx_size = a.ptx_size;
    img->res = a.res;
    a.log = NULL; /* moved */
    a.cubin = NULL;
    a.ptx = NULL;
    pf_jit_artifact_free(&a);
}

static void *worker(void *arg)
{
    image_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int i = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n)
            return NULL;
        build_one(p, i);
    }
}

int pf_jit_image_build_many(const pf_variant *vs, int n, const char *include_dir, int threads,
                            pf_jit_image *out)
{
    memset(out, 0, (size_t)(n > 0 ? n : 0) * sizeof *out);
    if (n <= 0)
        return 0;
    if (threads <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (int)cores : 1;
    }
    if (threads > n)
        threads = n;
    image_pool p = {.vs = vs, .include_dir = include_dir, .out = out, .n = n};
    p.errors = calloc((size_t)n, sizeof *p.errors);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    if (!p.errors || !tids) {
        free(p.errors);
        free(tids);
        return pf_error_set("out of memory");
    }
    pthread_mutex_init(&p.lock, NULL);
    int started = 0;
    while (started < threads && pthread_create(&tids[started], NULL, worker, &p) == 0)
        started++;
    if (started == 0)
        worker(&p);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    pthread_mutex_destroy(&p.lock);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        if (p.errors[i][0])
            rc = pf_error_set("%s", p.errors[i]);
    free(p.errors);
    free(tids);
    if (rc)
        for (int i = 0; i < n; i++)
            pf_jit_image_free(&out[i]);
    return rc;
}

void pf_jit_image_free(pf_jit_image *img)
{
    free(img->log);
    free(img->cubin);
    free(img->ptx);
    memset(img, 0, sizeof *img);
}
