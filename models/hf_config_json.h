/* Reading HF config.json files: typed keys with HF's defaults and ranges,
 * every error naming the key with its section ("text_config.head_dim"),
 * and the file read bounded. Shared by the Gemma-3 and Gemma-4 configs. */
#ifndef PF_HF_CONFIG_JSON_H
#define PF_HF_CONFIG_JSON_H

#include <jansson.h>
#include <stddef.h>

typedef struct pf_cfg_sect {
    json_t *obj;     /* may be NULL: every key takes its default */
    const char *pre; /* "text_config." or "" */
} pf_cfg_sect;

/* The key's value; NULL when absent or null. */
json_t *pf_cfg_get(const pf_cfg_sect *s, const char *key);
int pf_cfg_int(const pf_cfg_sect *s, const char *key, long dflt, long lo, long hi, int *out);
int pf_cfg_num(const pf_cfg_sect *s, const char *key, double dflt, double lo, double hi,
               double *out);
int pf_cfg_bool(const pf_cfg_sect *s, const char *key, int dflt, int *out);
/* A key that must be absent, null, or equal to `want` (a string). */
int pf_cfg_want_str(const pf_cfg_sect *s, const char *key, const char *want);
/* A key that must be absent, null or false (or 0 when zero_ok). */
int pf_cfg_want_off(const pf_cfg_sect *s, const char *key, int zero_ok, const char *why);

/* Parse config text (duplicate keys refused); NULL with "config: line N: ...". */
json_t *pf_cfg_parse_text(const char *text, size_t len);
/* Read <dir>/config.json (at most 64 MiB) into *buf (malloc'd); path gets
 * the file's name for messages. */
int pf_cfg_read_file(const char *dir, char *path, size_t path_size, char **buf, size_t *len);

#endif
