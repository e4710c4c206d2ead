/* The pieces of `pftune export` (harness/export/): each writes one part of
 * the package into the staging directory `root`, which export.c renames to
 * the output directory when everything is written. */
#ifndef PF_EXPORT_INTERNAL_H
#define PF_EXPORT_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "export/export.h"
#include "export/export_plan.h"
#include "jit/jit.h"

typedef struct pf_export_ctx {
    const pf_export_plan *plan;
    const char *root;             /* staging directory */
    const char (*archs)[16];
    int n_archs;
    int jobs;
    /* filled by pf_export_kernels, per kernel k and arch a at k * n_archs + a */
    pf_resources *res;
    size_t *cubin_bytes, *ptx_bytes;
} pf_export_ctx;

/* Files under root: directories are created as needed; text builders use
 * open_memstream. All return 0 / -1 with a message naming the file. */
int pf_export_write(const char *root, const char *rel, const void *data, size_t n);
int pf_export_copy(const char *src, const char *root, const char *rel);
/* Open a text builder (*buf, *len owned by the stream until closed). */
FILE *pf_export_text_open(char **buf, size_t *len);
/* Close the builder and write its text to root/rel (frees the text). */
int pf_export_text_write(FILE *f, char **buf, size_t *len, const char *root, const char *rel);
/* Remove a directory tree (what a failed export staged). */
int pf_export_rmtree(const char *path);

/* kernels/: the kernel sources, one wrapper .cu per kernel, and NAME.ARCH
 * .cubin/.ptx compiled with NVRTC from the staged copy. */
int pf_export_kernels(pf_export_ctx *c);
/* Runtime sources, python module, CMake files (copied) and the generated
 * kernel/entry table src/pfattn_table.c. */
int pf_export_runtime(pf_export_ctx *c);
/* configs/<device_name=...>.json, manifest.json, README.md. */
int pf_export_docs(pf_export_ctx *c);

/* "NVIDIA H100 80GB HBM3" -> "NVIDIA_H100_80GB_HBM3" (what engines name
 * their per-device config files after). */
void pf_export_device_slug(const char *device, char *out, size_t size);

#endif
