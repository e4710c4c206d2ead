/* Host bf16 copies of every tensor a forward reads, or their recipes
 * (weight_set.h). */
#include "models/weight_set.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "kernels/pf_numeric.h"
#include "kernels/ops/synth_params.h"

static int alloc_values(const pf_weight_set *w, int i)
{
    w->data[i] = malloc((size_t)(w->specs[i].count ? w->specs[i].count : 1) * sizeof(uint16_t));
    if (!w->data[i])
        return pf_error_set("out of memory for tensor '%s' (%lld values)", w->specs[i].name,
                            (long long)w->specs[i].count);
    return 0;
}

static int alloc_set(const pf_weight_model *m, const void *cfg, pf_weight_set *w)
{
    memset(w, 0, sizeof *w);
    if (m->specs(cfg, &w->specs, &w->n))
        return -1;
    w->data = calloc((size_t)w->n, sizeof *w->data);
    if (!w->data)
        return pf_error_set("out of memory for %d weight tensors", w->n);
    return 0;
}

int pf_weight_set_load(const pf_weight_model *m, const void *cfg, const char *dir,
                       pf_weight_set *out)
{
    memset(out, 0, sizeof *out);
    pf_safetensors *st = NULL;
    if (pf_st_open(dir, &st))
        return -1;
    int rc = m->check(cfg, st);
    if (!rc)
        rc = alloc_set(m, cfg, out);
    for (int i = 0; !rc && i < out->n; i++)
        rc = alloc_values(out, i) || pf_st_to_bf16(m->find(st, out->specs[i].name), out->data[i]);
    pf_st_close(st);
    if (rc)
        pf_weight_set_free(out);
    return rc ? -1 : 0;
}

void pf_wsynth_fill(const pf_wsynth *r, int64_t first, int64_t count, uint16_t *out)
{
    for (int64_t i = 0; i < count; i++)
        out[i] = pf_synth_value(r->key, first + i, r->amp, r->base);
}

int pf_weight_set_synth(const pf_weight_model *m, const void *cfg, uint64_t seed, int lazy,
                        pf_weight_set *out)
{
    int rc = alloc_set(m, cfg, out);
    if (!rc && !(out->synth = calloc((size_t)out->n, sizeof *out->synth)))
        rc = pf_error_set("out of memory for %d weight tensors", out->n);
    for (int i = 0; !rc && i < out->n; i++)
        m->recipe(&out->specs[i], seed, &out->synth[i]);
    for (int i = 0; !rc && !lazy && i < out->n; i++)
        rc = pf_ws_values(out, i) ? 0 : -1;
    if (rc)
        pf_weight_set_free(out);
    return rc ? -1 : 0;
}

const uint16_t *pf_ws_values(const pf_weight_set *w, int i)
{
    if (i < 0 || i >= w->n)
        return NULL;
    if (!w->data[i] && w->synth) {
        /* a lazy set: the array of pointers is the set's own, so drawing
         * into it leaves the set's meaning unchanged */
        if (alloc_values(w, i))
            return NULL;
        pf_wsynth_fill(&w->synth[i], 0, w->specs[i].count, w->data[i]);
    }
    return w->data[i];
}

static int find(const pf_weight_set *w, const char *name)
{
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->specs[i].name, name) == 0)
            return i;
    return -1;
}

const uint16_t *pf_ws_get(const pf_weight_set *w, const char *fmt, ...)
{
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return pf_ws_values(w, find(w, name));
}

const pf_wspec *pf_ws_spec(const pf_weight_set *w, const char *name)
{
    int i = find(w, name);
    return i < 0 ? NULL : &w->specs[i];
}

void pf_weight_set_free(pf_weight_set *w)
{
    for (int i = 0; w->data && i < w->n; i++)
        free(w->data[i]);
    free(w->data);
    free(w->specs);
    free(w->synth);
    memset(w, 0, sizeof *w);
}
