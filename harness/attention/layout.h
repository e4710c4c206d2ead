/* Batch layouts: which tokens each request has, which are cached, and how
 * vision tokens group into images (the input of every mask).
 *
 * A request has kv_len = prefix + q_len tokens at positions 0..kv_len-1;
 * positions [0, prefix) are the cached prefix (keys only), [prefix, kv_len)
 * the new tokens (queries and keys). Token types follow HF's
 * mm_token_type_ids: 0 text, 1 image, 2 video, 3 audio. Image and video
 * count as vision (Gemma-4); audio does not.
 *
 * Groups (HF rule): a group is a maximal contiguous run of vision tokens,
 * numbered 0,1,... per request; text/audio tokens have group -1. So two
 * adjacent image spans "i4,i4" form ONE group of 8 tokens, and an image
 * directly followed by a video is one group too.
 *
 * String grammar (pf_layout_parse): requests separated by ';', spans by ','.
 * A span is a kind letter t|i|v|a followed by a positive decimal count.
 * An optional '|' between two spans of a request marks where the new tokens
 * start: everything before it is cached prefix. Examples:
 *   "t20,i256,t30"            one request, 306 new tokens, no prefix
 *   "t20,i256,t30;t100|t40"   two requests; the second has prefix 100
 * Whitespace around tokens is allowed. A prefix may not end inside a vision
 * group (the chunk would cut an image); every request needs >= 1 new token.
 *
 * JSON (pf_layout_load on *.json), either form per request:
 *   {"requests": [{"prefix": 20, "spans": [["t",20],["i",256]]},
 *                 {"prefix": 0, "token_types": [0,0,1,1,0]}]}
 * "prefix" is optional (default 0).
 *
 * .npy (pf_layout_load on *.npy): an integer array of token types (values
 * 0..3): 1-D = one request, 2-D [batch, seq] = batch requests of seq tokens;
 * no prefix. */
#ifndef PF_LAYOUT_H
#define PF_LAYOUT_H

#include <stdint.h>

enum { PF_TOK_TEXT = 0, PF_TOK_IMAGE = 1, PF_TOK_VIDEO = 2, PF_TOK_AUDIO = 3 };

/* Upper bound on the total tokens of a layout (per-token arrays are held in
 * memory; this keeps a typo like "t99999999999" a clean error). */
#define PF_LAYOUT_MAX_TOKENS ((int64_t)1 << 28)
/* Upper bound on requests in a batch. */
#define PF_LAYOUT_MAX_REQUESTS (1 << 20)

typedef struct pf_request {
    int64_t prefix;   /* cached tokens P */
    int64_t q_len;    /* new tokens (>= 1) */
    int64_t kv_len;   /* prefix + q_len */
    uint8_t *types;   /* [kv_len] token types */
    int32_t *group;   /* [kv_len] group id, -1 for non-vision */
    int32_t n_groups;
    int64_t *group_begin; /* [n_groups] first position of group g */
    int64_t *group_end;   /* [n_groups] one past its last position */
} pf_request;

typedef struct pf_layout {
    int n_req;
    int64_t total_q, total_kv;
    pf_request *req;     /* [n_req] */
    int64_t *qo_indptr;  /* [n_req+1] query row offsets */
    int64_t *kv_indptr;  /* [n_req+1] key/value row offsets */
    int64_t max_group_len; /* longest vision group over all requests, 0 if none */
} pf_layout;

static inline int pf_token_is_vision(int type)
{
    return type == PF_TOK_IMAGE || type == PF_TOK_VIDEO;
}

/* Parse the string grammar above. Errors name the request and offset, e.g.
 * "layout: request 2: span 'x5' at offset 7: unknown span kind 'x' (expected t, i, v, a)".
 * Requests are numbered from 0; offsets are byte offsets into spec. */
int pf_layout_parse(const char *spec, pf_layout **out);

/* Load a .npy or .json file (chosen by extension). */
int pf_layout_load(const char *path, pf_layout **out);

/* From a parsed .npy array (harness/core/npy.h) of token types, as above. */
struct pf_npy;
int pf_layout_from_npy(const struct pf_npy *a, pf_layout **out);

/* Parse the JSON form from text (used by pf_layout_load and the fuzzer). */
int pf_layout_from_json_text(const char *text, pf_layout **out);

/* Build from per-token type arrays: request r has lens[r] tokens whose types
 * are types[offs .. offs+lens[r]) (offs = sum of earlier lens) and a cached
 * prefix of prefix[r] tokens (prefix may be NULL: all 0). Values must be
 * 0..3. This is what the .npy and JSON loaders call. */
int pf_layout_from_types(int n_req, const int64_t *lens, const int64_t *prefix,
                         const int64_t *types, pf_layout **out);

void pf_layout_free(pf_layout *layout);

/* Canonical string form (malloc'd): parsing it gives the same layout.
 * Adjacent tokens of the same type are merged into one span. */
char *pf_layout_to_string(const pf_layout *layout);

/* Do two layouts hold the same requests, prefixes and token types? */
int pf_layout_equal(const pf_layout *a, const pf_layout *b);

/* n_req requests of seq_len tokens each (no prefix): text, and an image of
 * img_tokens tokens after every `every` text tokens, while it fits:
 * t<every>,i<img>,t<every>,i<img>,...,t<rest>. img_tokens = 0: all text. */
int pf_layout_gen_periodic(int n_req, int64_t seq_len, int64_t img_tokens,
                           int64_t every, pf_layout **out);

/* A random layout for tests: 1..max_req requests of 1..max_len tokens with
 * odd sizes, images/videos at the very start and end, vision runs separated
 * by a single text token, audio, one-token requests and cached prefixes
 * (never cutting a group). Deterministic in seed. */
int pf_layout_gen_random(uint64_t seed, int max_req, int64_t max_len, pf_layout **out);

#endif
