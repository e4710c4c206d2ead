/* A variant's GPU image for shipping: cubin and PTX compiled now with NVRTC
 * (not through the cache, whose results keep the cubin only), includes
 * resolved beside the source and in `include_dir` instead of the kernel
 * dir, so a copied kernel tree is compiled on its own. */
#ifndef PF_JIT_IMAGE_H
#define PF_JIT_IMAGE_H

#include <stddef.h>

#include "jit/jit.h"

typedef struct pf_jit_image {
    int valid;        /* 0: did not compile; see log */
    char *log;        /* compiler log (malloc'd, may be NULL) */
    void *cubin;
    size_t cubin_size;
    char *ptx;        /* NUL-terminated */
    size_t ptx_size;  /* without the NUL */
    pf_resources res;
} pf_jit_image;

/* Is `arch` ("sm_90", "sm_90a") one NVRTC can compile for? 0, or -1 with a
 * message listing what it supports. */
int pf_jit_nvrtc_arch_check(const char *arch);

/* Compile n variants (target = their arch) with `threads` workers (0: one
 * per core). -1 only when pftune itself failed (message of the first). */
int pf_jit_image_build_many(const pf_variant *vs, int n, const char *include_dir, int threads,
                            pf_jit_image *out);
void pf_jit_image_free(pf_jit_image *img);

#endif
