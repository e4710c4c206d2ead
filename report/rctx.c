/* Helpers shared by the plot writers (see rctx.h). */
#include "report/rctx.h"

#include <stdlib.h>

#include "core/atomic_file.h"
#include "core/pf_error.h"
#include "report/gnuplot.h"

void pf_rctx_vars(const pf_rctx *c, FILE *vars, const char *title)
{
    pf_gp_var_str(vars, "title", title);
    pf_gp_var_str(vars, "device", c->d->device);
    pf_gp_var_str(vars, "timer", c->d->timer);
    pf_gp_var_str(vars, "note", c->d->host_timers ? "host timings, not GPU numbers" : "");
}

int pf_rctx_add_plot(pf_rctx *c, const char *name)
{
    if (c->n_plots >= PF_RCTX_MAX_PLOTS)
        return pf_error_set("more than %d plots", PF_RCTX_MAX_PLOTS);
    snprintf(c->plots[c->n_plots++], sizeof c->plots[0], "%s", name);
    return 0;
}

int pf_rctx_write(const pf_rctx *c, const char *file, const char *text, size_t len)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/%s", c->out, file);
    return pf_atomic_write(path, text, len, 0644);
}

int pf_rctx_script(pf_rctx *c, const char *name, const char *template_name, const char *vars)
{
    if (pf_gp_write(c->out, name, template_name, vars))
        return -1;
    return pf_rctx_add_plot(c, name);
}

void pf_rctx_shape_name(const pf_rpoint *p, char *out, size_t size)
{
    snprintf(out, size, "%s_d%d", p->layer[0] ? p->layer : "layer", p->head_dim);
}

int pf_rctx_shapes(const pf_rdata *d, int **first, int *n)
{
    *n = 0;
    *first = malloc((size_t)(d->n ? d->n : 1) * sizeof **first);
    if (!*first)
        return pf_error_set("out of memory");
    for (int i = 0; i < d->n; i++) {
        int seen = 0;
        for (int k = 0; k < *n && !seen; k++)
            seen = pf_same_shape(&d->pts[(*first)[k]], &d->pts[i]);
        if (!seen)
            (*first)[(*n)++] = i;
    }
    return 0;
}
