/* Device allocations of one model forward, tracked: what is held now, the
 * peak, and each buffer's class (weights, activations, mask metadata), so
 * forward.json can say where the memory went. Freed all at once. */
#ifndef PF_DEV_ARENA_H
#define PF_DEV_ARENA_H

#include <stddef.h>

#include "device/device.h"

typedef enum { PF_MEM_WEIGHTS, PF_MEM_ACTIVATIONS, PF_MEM_MASK, PF_MEM_CLASSES } pf_mem_class;

typedef struct pf_dev_arena {
    pf_device *dev;
    pf_dptr *ptr;
    size_t *bytes;
    int n, cap;
    size_t held, peak;
    size_t by_class[PF_MEM_CLASSES]; /* bytes allocated per class (never decreases) */
} pf_dev_arena;

void pf_arena_init(pf_dev_arena *a, pf_device *dev);
/* Allocate (and zero) bytes; label names the buffer in errors. */
int pf_arena_alloc(pf_dev_arena *a, size_t bytes, pf_mem_class cls, const char *label,
                   pf_dptr *out);
/* Allocate and copy host data in. */
int pf_arena_upload(pf_dev_arena *a, const void *src, size_t bytes, pf_mem_class cls,
                    const char *label, pf_dptr *out);
/* Count bytes someone else allocated (the attention metadata) in the peak. */
void pf_arena_account(pf_dev_arena *a, size_t bytes, pf_mem_class cls);
void pf_arena_free_all(pf_dev_arena *a);

#endif
