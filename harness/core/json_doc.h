/* JSON documents pftune writes: every one names its schema and version
 * ("schema": "pftune.check/1"), so a reader can refuse what it does not
 * understand, and every file is written atomically. */
#ifndef PF_JSON_DOC_H
#define PF_JSON_DOC_H

#include <jansson.h>

/* A new object whose first key is "schema": "<name>/<version>". */
json_t *pf_json_doc_new(const char *name, int version);
/* Serialize (2-space indent, key order kept) to a malloc'd string ending in
 * a newline. NULL on failure (pf_error set). */
char *pf_json_doc_text(const json_t *doc);
/* Write atomically to `path` (core/atomic_file.h), mode 0644. 0 / -1. */
int pf_json_doc_write(const json_t *doc, const char *path);
/* Print to stdout. 0 / -1. */
int pf_json_doc_print(const json_t *doc);

#endif
