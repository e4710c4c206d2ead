/* Gemma-4 inputs from a layout (see gemma4_inputs_layout.h). */
#include "models/gemma4_inputs_layout.h"

#include <stdlib.h>
#include <string.h>

#include "attention/layout.h"
#include "core/pf_error.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int special(const pf_g4_config *c, int id)
{
    return id == c->image_token_id || id == c->video_token_id || id == c->audio_token_id ||
           id == c->boi_token_id || id == c->eoi_token_id;
}

int pf_g4_inputs_from_layout(const pf_g4_config *c, const char *spec, uint64_t seed,
                             pf_g4_inputs *out)
{
    memset(out, 0, sizeof *out);
    pf_layout *L;
    if (pf_layout_parse(spec, &L))
        return -1;
    int rc = 0;
    if (L->total_q > 0x7fffffff)
        rc = pf_error_set("layout: %lld tokens is more than the forward takes", (long long)L->total_q);
    for (int r = 0; !rc && r < L->n_req; r++) {
        const pf_request *q = &L->req[r];
        if (q->prefix)
            rc = pf_error_set("layout: request %d has a cached prefix; the forward is a whole "
                              "prefill", r);
        for (int64_t i = 0; !rc && i < q->kv_len; i++)
            if (q->types[i] != PF_TOK_TEXT)
                rc = pf_error_set("layout: request %d has non-text spans: Gemma-4 layouts take "
                                  "text spans only until the device vision side is built in "
                                  "(give images with --inputs)", r);
    }
    if (!rc) {
        out->batch = L->n_req;
        out->tokens = (int)L->total_q;
        out->req_len = calloc((size_t)out->batch, sizeof *out->req_len);
        out->input_ids = calloc((size_t)out->tokens, sizeof *out->input_ids);
        out->mm_token_type_ids = calloc((size_t)out->tokens, sizeof *out->mm_token_type_ids);
        if (!out->req_len || !out->input_ids || !out->mm_token_type_ids)
            rc = pf_error_set("out of memory for %d tokens", out->tokens);
    }
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
    for (int r = 0, t = 0; !rc && r < L->n_req; r++) {
        out->req_len[r] = (int)L->req[r].q_len;
        for (int64_t i = 0; i < L->req[r].kv_len; i++, t++) {
            int id;
            do
                id = (int)(next(&s) % (uint64_t)c->text.vocab);
            while (special(c, id));
            out->input_ids[t] = id;
        }
    }
    pf_layout_free(L);
    if (rc)
        pf_g4_inputs_free(out);
    return rc;
}
