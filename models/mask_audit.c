/* Mask audit (mask_audit.h). */
#include "models/mask_audit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

/* log-sum-exp of a row in double. */
static double lse(const float *x, int n)
{
    double m = -INFINITY, s = 0;
    for (int i = 0; i < n; i++)
        m = x[i] > m ? x[i] : m;
    for (int i = 0; i < n; i++)
        s += exp(x[i] - m);
    return m + log(s);
}

static void add(pf_audit_summary *s, int pos, double kl, double dlogp)
{
    if (s->count == 0 || kl > s->kl_max)
        s->kl_max = kl, s->kl_max_pos = pos;
    if (s->count == 0 || dlogp < s->dlogp_min)
        s->dlogp_min = dlogp, s->dlogp_min_pos = pos;
    s->kl_mean += kl;
    s->dlogp_mean += dlogp;
    s->count++;
}

static void finish(pf_audit_summary *s)
{
    if (s->count) {
        s->kl_mean /= s->count;
        s->dlogp_mean /= s->count;
    } else {
        s->kl_max_pos = s->dlogp_min_pos = -1;
    }
}

int pf_mask_audit_run(const float *good, const float *wrong, int tokens, int vocab,
                      const int32_t *vision, pf_mask_audit *out)
{
    memset(out, 0, sizeof *out);
    out->tokens = tokens;
    out->first_vision = -1;
    out->kl = malloc((size_t)tokens * sizeof *out->kl);
    out->dlogp = malloc((size_t)tokens * sizeof *out->dlogp);
    if (!out->kl || !out->dlogp) {
        pf_mask_audit_free(out);
        return pf_error_set("mask audit: out of memory");
    }
    for (int t = 0; t < tokens; t++) {
        const float *p = good + (size_t)t * vocab, *q = wrong + (size_t)t * vocab;
        double lp = lse(p, vocab), lq = lse(q, vocab), kl = 0;
        int a = 0;
        for (int i = 0; i < vocab; i++) {
            double logp = p[i] - lp, logq = q[i] - lq;
            kl += exp(logp) * (logp - logq);
            if (p[i] > p[a])
                a = i;
        }
        kl = kl < 0 ? 0 : kl; /* rounding can leave -1e-17 */
        double dlogp = (q[a] - lq) - (p[a] - lp);
        out->kl[t] = (float)kl;
        out->dlogp[t] = (float)dlogp;
        int vis = vision && vision[t];
        if (vis && out->first_vision < 0)
            out->first_vision = t;
        if (!vis && out->first_vision < 0 && kl > out->text_before_vision_kl_max)
            out->text_before_vision_kl_max = kl;
        add(vis ? &out->vision : &out->text, t, kl, dlogp);
    }
    finish(&out->vision);
    finish(&out->text);
    return 0;
}

static json_t *summary_json(const pf_audit_summary *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "positions", json_integer(s->count));
    json_object_set_new(o, "kl_mean", json_real(s->kl_mean));
    json_object_set_new(o, "kl_max", json_real(s->kl_max));
    json_object_set_new(o, "kl_max_position", json_integer(s->kl_max_pos));
    json_object_set_new(o, "argmax_logprob_change_mean", json_real(s->dlogp_mean));
    json_object_set_new(o, "argmax_logprob_change_min", json_real(s->dlogp_min));
    json_object_set_new(o, "argmax_logprob_change_min_position", json_integer(s->dlogp_min_pos));
    return o;
}

json_t *pf_mask_audit_json(const pf_mask_audit *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "compared", json_string("the model's mask vs plain causal/sliding "
                                                   "masks (token types ignored)"));
    json_object_set_new(o, "vision", summary_json(&a->vision));
    json_object_set_new(o, "text", summary_json(&a->text));
    json_object_set_new(o, "first_vision_position", json_integer(a->first_vision));
    json_object_set_new(o, "text_before_first_vision_kl_max",
                        json_real(a->text_before_vision_kl_max));
    json_t *kl = json_array(), *dl = json_array();
    for (int t = 0; t < a->tokens; t++) {
        json_array_append_new(kl, json_real(a->kl[t]));
        json_array_append_new(dl, json_real(a->dlogp[t]));
    }
    json_object_set_new(o, "kl", kl);
    json_object_set_new(o, "argmax_logprob_change", dl);
    return o;
}

static void print_one(const char *what, const pf_audit_summary *s)
{
    if (!s->count) {
        printf("mask audit %-6s no positions\n", what);
        return;
    }
    printf("mask audit %-6s %d positions: KL mean %.3g max %.3g (position %d); argmax log-prob "
           "change mean %.3g, worst %.3g (position %d)\n",
           what, s->count, s->kl_mean, s->kl_max, s->kl_max_pos, s->dlogp_mean, s->dlogp_min,
           s->dlogp_min_pos);
}

void pf_mask_audit_print(const pf_mask_audit *a)
{
    print_one("vision", &a->vision);
    print_one("text", &a->text);
    if (a->first_vision >= 0)
        printf("mask audit text before the first image (position %d): KL max %.3g\n",
               a->first_vision, a->text_before_vision_kl_max);
}

void pf_mask_audit_free(pf_mask_audit *a)
{
    free(a->kl);
    free(a->dlogp);
    a->kl = a->dlogp = NULL;
}
