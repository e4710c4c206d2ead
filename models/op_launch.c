/* Lazy JIT load and launch of model op kernels (op_launch.h). */
#include "models/op_launch.h"

#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"
#include "jit/jit_load.h"

int pf_op_launch(pf_device *dev, pf_stream *s, pf_module **slot, const char *file,
                 const char *entry, pf_dim3 grid, unsigned threads, const void *params,
                 size_t size)
{
    if (!*slot) {
        pf_variant v;
        memset(&v, 0, sizeof v);
        snprintf(v.source, sizeof v.source, "%s/ops/%s.cu", pf_kernel_dir(), file);
        char what[64];
        snprintf(what, sizeof what, "op %s", file);
        if (pf_jit_load(dev, &v, what, slot, NULL))
            return -1;
    }
    pf_dim3 block = {threads, 1, 1};
    if (pf_dev_launch(dev, *slot, entry, grid, block, 0, s, params, size))
        return pf_error_prefix("op %s", file);
    return 0;
}

pf_dim3 pf_op_grid(long long n, unsigned threads)
{
    long long b = (n + threads - 1) / threads;
    if (b > 65535)
        b = 65535;
    pf_dim3 g = {(unsigned)(b > 0 ? b : 1), 1, 1};
    return g;
}

void pf_op_unload(pf_device *dev, pf_module **mods, int n)
{
    for (int i = 0; i < n; i++)
        if (mods[i])
            pf_dev_module_unload(dev, mods[i]);
    memset(mods, 0, (size_t)n * sizeof *mods);
}
