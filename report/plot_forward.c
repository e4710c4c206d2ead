/* Plot 4: the forward's phase breakdown, from DIR/forward.json (written by
 * `pftune forward`, schema pftune.forward/1): a table of the phases and a
 * stacked bar per decoder layer (attention / GEMMs / other). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "report/gnuplot.h"
#include "report/rctx.h"

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "?";
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static int write_plot(pf_rctx *c, const json_t *doc, const json_t *layers)
{
    char *dat = NULL, *vars = NULL;
    size_t dlen = 0, vlen = 0;
    FILE *f = open_memstream(&dat, &dlen);
    if (!f)
        return pf_error_set("out of memory");
    fprintf(f, "# forward: per decoder layer (%s, timer %s)\n"
               "# columns: layer kind attention_ms gemm_ms other_ms\n",
            str(doc, "device"),
            str(doc, "timer"));
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
        fprintf(f, "%d %s %.6g %.6g %.6g\n", (int)json_integer_value(json_object_get(l, "layer")),
                str(l, "kind"), num(l, "attention_ms"),
                num(l, "gemm_ms"), num(l, "other_ms"));
    fclose(f);
    FILE *v = open_memstream(&vars, &vlen);
    int rc = v ? 0 : pf_error_set("out of memory");
    if (!rc) {
        /* the forward's own device and timer, not the results file's */
        const char *timer = str(doc, "timer");
        pf_rctx_vars(c, v, "Forward: time per decoder layer, by part");
        pf_gp_var_str(v, "device", str(doc, "device"));
        pf_gp_var_str(v, "timer", timer);
        pf_gp_var_str(v, "note", strcmp(timer, "emu-host") == 0
                                     ? "host timings, not GPU numbers" : "");
        pf_gp_var_str(v, "datafile", "forward.dat");
        fclose(v);
        rc = pf_rctx_write(c, "forward.dat", dat, dlen) ||
                     pf_rctx_script(c, "forward", "forward", vars)
                 ? -1
                 : 0;
    }
    free(dat);
    free(vars);
    return rc;
}

int pf_plot_forward(pf_rctx *c)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/forward.json", c->src);
    fprintf(c->md, "## Forward phase breakdown\n\n");
    if (access(path, F_OK) != 0) {
        fprintf(c->md, "Skipped: no forward.json in %s (write one with `pftune forward "
                       "--out %s`).\n\n", c->src, c->src);
        return 0;
    }
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc)
        return pf_error_set("%s: line %d: %s", path, err.line, err.text);
    const char *schema = str(doc, "schema");
    json_t *ph = json_object_get(doc, "phases"), *layers = json_object_get(doc, "layers");
    int rc = 0;
    if (!schema || strcmp(schema, "pftune.forward/1") != 0) {
        rc = pf_error_set("%s: schema '%s', expected pftune.forward/1", path,
                          schema ? schema : "(none)");
    } else if (!json_is_object(ph) || !json_is_array(layers)) {
        fprintf(c->md, "Skipped: %s was written with --no-time (no phase times).\n\n", path);
    } else {
        fprintf(c->md, "Model %s, %lld tokens, %lld image(s), device %s, timer %s.\n\n",
                str(doc, "model"),
                (long long)json_integer_value(json_object_get(doc, "tokens")),
                (long long)json_integer_value(json_object_get(doc, "images")),
                str(doc, "device"),
                str(doc, "timer"));
        fprintf(c->md, "| phase | ms |\n|---|---|\n");
        const char *keys[] = {"vision_tower_ms", "projector_ms", "embedding_ms",
                              "layers_attention_ms", "layers_gemm_ms", "layers_other_ms", "head_ms"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            fprintf(c->md, "| %.*s | %.4g |\n", (int)strlen(keys[k]) - 3, keys[k], num(ph, keys[k]));
        fprintf(c->md, "| whole forward (measured) | %.4g |\n\n", num(doc, "total_ms"));
        fprintf(c->md, "Tokens per second: %.4g.\n\n![forward](forward.png)\n\n",
                num(doc, "tokens_per_second"));
        rc = write_plot(c, doc, layers);
    }
    json_decref(doc);
    return rc;
}
