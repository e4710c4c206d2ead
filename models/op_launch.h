/* What every table of model op kernels shares (ops.c, ops_g4.c,
 * ops_g4v.c): compile kernels/ops/<file>.cu for the device on first use,
 * launch an entry on a stream, size an elementwise grid, unload. */
#ifndef PF_OP_LAUNCH_H
#define PF_OP_LAUNCH_H

#include "device/device.h"

/* *slot: the module, loaded on first use (pf_jit_load). */
int pf_op_launch(pf_device *dev, pf_stream *s, pf_module **slot, const char *file,
                 const char *entry, pf_dim3 grid, unsigned threads, const void *params,
                 size_t size);
/* Blocks of `threads` for n elements, capped at 65535 (the kernels loop
 * grid-stride). */
pf_dim3 pf_op_grid(long long n, unsigned threads);
/* Unload every loaded module of a table and clear it. */
void pf_op_unload(pf_device *dev, pf_module **mods, int n);

#endif
