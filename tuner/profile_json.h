/* Typed reads of a profile's JSON values with messages that name the key
 * path: profile x.json: "axes.BLOCK_M"[2]: must be an integer >= 0 ...
 * Internal to tuner/profile*.c. */
#ifndef PF_PROFILE_JSON_H
#define PF_PROFILE_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pf_error.h"

typedef struct pf_pj {
    char name[160];                 /* the profile, printable, for messages */
    const char *base_dir;           /* relative layout files resolve here (NULL: cwd) */
    const char *const *axis_names;  /* the family's axes (NULL: any identifier) */
} pf_pj;

/* Copy `in` for a message: non-printable bytes, quotes and backslashes
 * become '?', and a long text is cut with "...". */
void pf_pj_clean(const char *in, char *out, size_t size);

/* Set "profile NAME: "KEY"[IDX]: <fmt>" (IDX < 0: none; KEY NULL: no key
 * part) and return -1. KEY is cleaned here. */
int pf_pj_fail(const pf_pj *c, const char *key, int idx, const char *fmt, ...) PF_PRINTF(4, 5);

/* pf_pj_fail with the current pf_error message (from a parser the profile
 * calls: rule, layer, model, layout, expression). */
int pf_pj_fail_error(const pf_pj *c, const char *key, int idx);

/* KEY.SUB into buf (SUB cleaned), for nested key paths. */
const char *pf_pj_path(char *buf, size_t size, const char *key, const char *sub);

/* Refuse keys of `obj` outside the NULL-terminated `known`. */
int pf_pj_keys(const pf_pj *c, const json_t *obj, const char *path, const char *const *known);

/* Values. Each refuses a wrong type or range naming KEY[IDX]. */
int pf_pj_object(const pf_pj *c, const json_t *v, const char *key);
int pf_pj_int(const pf_pj *c, const json_t *v, const char *key, int idx, int64_t lo, int64_t hi,
              int64_t *out);
int pf_pj_int32(const pf_pj *c, const json_t *v, const char *key, int idx, int lo, int hi,
                int *out);
/* A number (integer or real) in [lo, hi], or in (lo, hi] when lo_open. */
int pf_pj_real(const pf_pj *c, const json_t *v, const char *key, double lo, int lo_open, double hi,
               double *out);
int pf_pj_bool(const pf_pj *c, const json_t *v, const char *key, int *out);
/* A string of 1..size-1 bytes, printable ASCII. */
int pf_pj_string(const pf_pj *c, const json_t *v, const char *key, int idx, char *out, size_t size);
/* A non-empty array of at most max elements; *n gets its length. */
int pf_pj_list(const pf_pj *c, const json_t *v, const char *key, size_t max, size_t *n);

#endif
