/* Helpers shared by the layout files (model, parser, loaders, generators);
 * not part of the public layout API. */
#ifndef PF_LAYOUT_INTERNAL_H
#define PF_LAYOUT_INTERNAL_H

#include "attention/layout.h"

/* A layout with n_req zeroed requests and indptr arrays. */
pf_layout *pf_layout_alloc(int n_req);
/* Allocate the per-token arrays of a request of kv_len tokens. */
int pf_request_init(pf_request *rq, int64_t kv_len, int64_t prefix);
/* After types and prefixes are filled: groups, intervals, offsets, checks
 * (empty requests, no new tokens, prefix cutting a group, totals). */
int pf_layout_finish(pf_layout *layout);

/* One span of the string grammar / JSON "spans" form. */
typedef struct pf_span {
    int type;      /* PF_TOK_* */
    int64_t count;
} pf_span;

/* Build one layout from spans: request r owns spans [first[r], first[r+1])
 * and a prefix of prefix[r] tokens. Totals must already be checked. */
int pf_layout_from_spans(int n_req, const int *first, const pf_span *spans,
                         const int64_t *prefix, pf_layout **out);

#endif
