/* Records keyed by (problem, variant) (see record_set.h). */
#include "tuner/record_set.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/pf_error.h"

uint64_t pf_record_key(const char *problem, const char *variant)
{
    XXH3_state_t *st = XXH3_createState();
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, problem, strlen(problem) + 1);
    XXH3_64bits_update(st, variant, strlen(variant) + 1);
    uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h ? h : 1; /* 0 marks an empty slot */
}

/* The slot of key k: where it is, or the empty one where it would go. */
static size_t slot_of(const pf_record_set *s, uint64_t k, const char *problem,
                      const char *variant)
{
    size_t h = k & (s->n_slots - 1);
    while (s->keys[h]) {
        if (s->keys[h] == k) {
            const pf_record *r = &s->recs[s->slots[h] - 1];
            if (strcmp(r->problem, problem) == 0 && strcmp(r->variant, variant) == 0)
                return h;
        }
        h = (h + 1) & (s->n_slots - 1);
    }
    return h;
}

static int grow_index(pf_record_set *s)
{
    pf_record_set bigger = *s;
    bigger.n_slots = s->n_slots ? s->n_slots * 2 : 1024;
    bigger.keys = calloc(bigger.n_slots, sizeof *bigger.keys);
    bigger.slots = calloc(bigger.n_slots, sizeof *bigger.slots);
    if (!bigger.keys || !bigger.slots) {
        free(bigger.keys), free(bigger.slots);
        return pf_error_set("out of memory");
    }
    for (int i = 0; i < s->n; i++) {
        uint64_t k = pf_record_key(s->recs[i].problem, s->recs[i].variant);
        size_t h = slot_of(&bigger, k, s->recs[i].problem, s->recs[i].variant);
        bigger.keys[h] = k;
        bigger.slots[h] = i + 1;
    }
    free(s->keys), free(s->slots);
    s->keys = bigger.keys, s->slots = bigger.slots, s->n_slots = bigger.n_slots;
    return 0;
}

const pf_record *pf_record_set_find(const pf_record_set *s, const char *problem,
                                    const char *variant)
{
    if (!s->n_slots)
        return NULL;
    size_t h = slot_of(s, pf_record_key(problem, variant), problem, variant);
    return s->keys[h] ? &s->recs[s->slots[h] - 1] : NULL;
}

int pf_record_set_put(pf_record_set *s, pf_record *r, pf_record_policy policy)
{
    if ((size_t)(s->n + 1) * 2 > s->n_slots && grow_index(s))
        return -1;
    uint64_t k = pf_record_key(r->problem, r->variant);
    size_t h = slot_of(s, k, r->problem, r->variant);
    if (s->keys[h]) {
        pf_record *old = &s->recs[s->slots[h] - 1];
        int replace = policy == PF_RECORD_REPLACE ||
                      (old->status != PF_STATUS_OK && r->status == PF_STATUS_OK);
        if (replace) {
            pf_record_free(old);
            *old = *r;
        } else {
            pf_record_free(r);
        }
        memset(r, 0, sizeof *r);
        return 0;
    }
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 256;
        pf_record *g = realloc(s->recs, sizeof *g * (size_t)cap);
        if (!g)
            return pf_error_set("out of memory");
        s->recs = g, s->cap = cap;
    }
    s->recs[s->n] = *r;
    memset(r, 0, sizeof *r);
    s->keys[h] = k;
    s->slots[h] = ++s->n;
    return 0;
}

void pf_record_set_free(pf_record_set *s)
{
    for (int i = 0; i < s->n; i++)
        pf_record_free(&s->recs[i]);
    free(s->recs), free(s->keys), free(s->slots);
    memset(s, 0, sizeof *s);
}
