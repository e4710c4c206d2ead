/* A weight set on a device (weight_set_dev.h). */
#include "models/weight_set_dev.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"
#include "jit/jit_load.h"
#include "kernels/pf_numeric.h"
#include "kernels/ops/synth_params.h"

void pf_wsynth_dev_init(pf_wsynth_dev *s, pf_device *dev, pf_stream *stream)
{
    memset(s, 0, sizeof *s);
    s->dev = dev;
    s->stream = stream;
}

void pf_wsynth_dev_release(pf_wsynth_dev *s)
{
    if (s->mod)
        pf_dev_module_unload(s->dev, s->mod);
    s->mod = NULL;
}

int pf_wsynth_dev_fill(pf_wsynth_dev *s, const pf_wsynth *r, long long first, long long count,
                  pf_dptr out)
{
    if (count < 0 || first < 0 || (count && !out))
        return pf_error_set("synth: bad range (first %lld, count %lld)", first, count);
    if (!count)
        return 0;
    if (!s->mod) {
        pf_variant v;
        memset(&v, 0, sizeof v);
        snprintf(v.source, sizeof v.source, "%s/ops/synth.cu", pf_kernel_dir());
        if (pf_jit_load(s->dev, &v, "op synth", &s->mod, NULL))
            return -1;
    }
    pf_synth_params p = {(unsigned short *)(uintptr_t)out, count, first, r->key, r->amp, r->base};
    long long b = (count + PF_SYNTH_THREADS - 1) / PF_SYNTH_THREADS;
    pf_dim3 grid = {(unsigned)(b > 65535 ? 65535 : b), 1, 1};
    pf_dim3 block = {PF_SYNTH_THREADS, 1, 1};
    if (pf_dev_launch(s->dev, s->mod, "synth", grid, block, 0, s->stream, &p, sizeof p))
        return pf_error_prefix("op synth");
    return 0;
}

int pf_weight_set_to_device(const pf_weight_set *w, pf_device *dev, pf_stream *stream,
                            pf_dev_arena *mem, pf_dptr *wd)
{
    pf_wsynth_dev sd;
    pf_wsynth_dev_init(&sd, dev, stream);
    int rc = 0;
    for (int i = 0; !rc && i < w->n; i++) {
        const pf_wspec *s = &w->specs[i];
        size_t bytes = (size_t)s->count * sizeof(uint16_t);
        if (w->data[i] || !w->synth)
            rc = pf_arena_upload(mem, w->data[i], bytes, PF_MEM_WEIGHTS, s->name, &wd[i]);
        else
            rc = pf_arena_alloc(mem, bytes, PF_MEM_WEIGHTS, s->name, &wd[i]) ||
                 (pf_wsynth_dev_fill(&sd, &w->synth[i], 0, s->count, wd[i]) &&
                  pf_error_prefix("%s", s->name));
    }
    /* the module goes before the caller's first use of wd: drain first */
    if (!rc && sd.mod && pf_dev_stream_sync(dev, stream))
        rc = pf_error_prefix("synthetic weights");
    pf_wsynth_dev_release(&sd);
    return rc ? -1 : 0;
}
