/* NVRTC images (cubin + PTX) for shipping; see jit_image.h. */
#include "jit/jit_image.h"

#include <nvrtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct image_job {
    const pf_variant *vs;
    const char *include_dir;
    pf_jit_image *out;
} image_job;

static int build_one(void *ctx, int i)
{
    image_job *j = ctx;
    char *src = NULL;
    size_t size;
    pf_jit_artifact a;
    memset(&a, 0, sizeof a);
    int rc = pf_jit_read_file(j->vs[i].source, &src, &size);
    if (!rc)
        rc = pf_jit_nvrtc_build(&j->vs[i], src, j->include_dir, &a);
    free(src);
    if (!rc) {
        pf_jit_image *img = &j->out[i];
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
    }
    pf_jit_artifact_free(&a);
    return rc;
}

int pf_jit_image_build_many(const pf_variant *vs, int n, const char *include_dir, int threads,
                            pf_jit_image *out)
{
    memset(out, 0, (size_t)(n > 0 ? n : 0) * sizeof *out);
    image_job j = {vs, include_dir, out};
    if (pf_jit_parallel(n, threads, build_one, &j) == 0)
        return 0;
    for (int i = 0; i < n; i++)
        pf_jit_image_free(&out[i]);
    return -1;
}

void pf_jit_image_free(pf_jit_image *img)
{
    free(img->log);
    free(img->cubin);
    free(img->ptx);
    memset(img, 0, sizeof *img);
}
