/* Versioned JSON documents (see json_doc.h). */
#include "core/json_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic_file.h"
#include "core/pf_error.h"

json_t *pf_json_doc_new(const char *name, int version)
{
    char schema[128];
    snprintf(schema, sizeof schema, "%s/%d", name, version);
    json_t *doc = json_object();
    if (!doc || json_object_set_new(doc, "schema", json_string(schema)) != 0) {
        json_decref(doc);
        pf_error_set("out of memory building a JSON document");
        return NULL;
    }
    return doc;
}

char *pf_json_doc_text(const json_t *doc)
{
    char *body = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    if (!body) {
        pf_error_set("cannot serialize the JSON document");
        return NULL;
    }
    size_t n = strlen(body);
    char *text = realloc(body, n + 2);
    if (!text) {
        free(body);
        pf_error_set("out of memory");
        return NULL;
    }
    text[n] = '\n';
    text[n + 1] = '\0';
    return text;
}

int pf_json_doc_write(const json_t *doc, const char *path)
{
    char *text = pf_json_doc_text(doc);
    if (!text)
        return -1;
    int rc = pf_atomic_write(path, text, strlen(text), 0644);
    free(text);
    return rc;
}

int pf_json_doc_print(const json_t *doc)
{
    char *text = pf_json_doc_text(doc);
    if (!text)
        return -1;
    int rc = fputs(text, stdout) < 0 ? pf_error_set("cannot write to standard output") : 0;
    free(text);
    return rc;
}
