/* pfattn: errors, names, the mask rule's flags, and layouts built from
 * token types (groups by HF's rule: a new group starts at every vision
 * token whose predecessor is not vision). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfattn_internal.h"

static _Thread_local char last_error[512];

const char *pfattn_last_error(void)
{
    return last_error;
}

int pfattn_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

static const char *const rule_names[] = {"causal", "gemma3", "gemma4", "bidirectional"};
static const char *const layer_names[] = {"full", "sliding"};
static const char *const storage_names[] = {"dense", "bitmap", "window", "spans"};

static int parse_name(const char *name, const char *const *names, int n, const char *what,
                      int *out)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = i;
            return PFATTN_OK;
        }
    return pfattn_fail(PFATTN_ERR_INVALID, "unknown %s '%s'", what, name ? name : "(null)");
}

int pfattn_rule_parse(const char *name, int *out)
{
    return parse_name(name, rule_names, 4, "rule (causal, gemma3, gemma4, bidirectional)", out);
}

int pfattn_layer_parse(const char *name, int *out)
{
    return parse_name(name, layer_names, 2, "layer kind (full, sliding)", out);
}

int pfattn_storage_parse(const char *name, int *out)
{
    return parse_name(name, storage_names, 4, "mask storage (dense, bitmap, window, spans)", out);
}

const char *pfattn_rule_name(int rule)
{
    return rule >= 0 && rule < 4 ? rule_names[rule] : "?";
}

const char *pfattn_layer_name(int layer)
{
    return layer >= 0 && layer < 2 ? layer_names[layer] : "?";
}

const char *pfattn_storage_name(int storage)
{
    return storage >= 0 && storage < 4 ? storage_names[storage] : "?";
}

int pfattn_flags(int rule, int layer, int window, int *use_causal, int *use_same, int *win)
{
    if (rule < PFATTN_RULE_CAUSAL || rule > PFATTN_RULE_BIDIRECTIONAL)
        return pfattn_fail(PFATTN_ERR_INVALID, "unknown rule %d", rule);
    if (layer != PFATTN_LAYER_FULL && layer != PFATTN_LAYER_SLIDING)
        return pfattn_fail(PFATTN_ERR_INVALID, "unknown layer kind %d", layer);
    int sliding = layer == PFATTN_LAYER_SLIDING;
    if (sliding && rule == PFATTN_RULE_BIDIRECTIONAL)
        return pfattn_fail(PFATTN_ERR_INVALID, "rule bidirectional has no sliding-window layer "
                                               "(vision towers attend fully)");
    if (sliding && window <= 0)
        return pfattn_fail(PFATTN_ERR_INVALID,
                           "sliding-window layer needs a window > 0 (got %d)", window);
    *use_causal = rule != PFATTN_RULE_BIDIRECTIONAL;
    *use_same = rule == PFATTN_RULE_GEMMA3 || (rule == PFATTN_RULE_GEMMA4 && sliding);
    *win = sliding ? window : 0;
    return PFATTN_OK;
}

void pfattn_layout_free(pfattn_layout *l)
{
    if (!l)
        return;
    free(l->prefix);
    free(l->q_len);
    free(l->kv_len);
    free(l->qo);
    free(l->kv);
    free(l->group);
    free(l->group_end);
    free(l);
}

static int is_vision(int64_t t)
{
    return t == PFATTN_TOKEN_IMAGE || t == PFATTN_TOKEN_VIDEO;
}

/* Groups and group ends of request r, whose tokens start at `off`. */
static int request_groups(pfattn_layout *l, int r, const int64_t *types)
{
    int64_t off = l->kv[r], n = l->kv_len[r], p = l->prefix[r];
    int32_t *g = l->group + off;
    int64_t *end = l->group_end + off;
    int32_t groups = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t t = types[off + i];
        if (t < 0 || t > PFATTN_TOKEN_AUDIO)
            return pfattn_fail(PFATTN_ERR_INVALID,
                               "layout: request %d: token %lld has type %lld (expected 0..3)", r,
                               (long long)i, (long long)t);
        int vision = is_vision(t), prev = i > 0 && g[i - 1] >= 0;
        if (vision && !prev) {
            if (groups == INT32_MAX)
                return pfattn_fail(PFATTN_ERR_INVALID, "layout: request %d: too many groups", r);
            groups++;
        }
        g[i] = vision ? groups - 1 : -1;
    }
    for (int64_t i = n - 1; i >= 0; i--) {
        end[i] = g[i] < 0 ? 0 : i + 1 < n && g[i + 1] == g[i] ? end[i + 1] : i + 1;
        if (g[i] >= 0 && (i == 0 || g[i - 1] != g[i])) {
            int64_t len = end[i] - i;
            if (len > l->max_group_len)
                l->max_group_len = len;
            if (p > i && p < end[i])
                return pfattn_fail(PFATTN_ERR_INVALID,
                                   "layout: request %d: cached prefix ends at position %lld "
                                   "inside vision group %d (positions %lld..%lld)",
                                   r, (long long)p, g[i], (long long)i, (long long)end[i] - 1);
        }
    }
    return PFATTN_OK;
}

int pfattn_layout_create(int batch, const int64_t *lens, const int64_t *prefix,
                         const int64_t *types, pfattn_layout **out)
{
    if (!out)
        return pfattn_fail(PFATTN_ERR_INVALID, "layout: no output pointer");
    *out = NULL;
    if (batch <= 0 || batch > PFATTN_MAX_REQUESTS)
        return pfattn_fail(PFATTN_ERR_INVALID, "layout: %d requests (expected 1..%d)", batch,
                           PFATTN_MAX_REQUESTS);
    if (!lens || !types)
        return pfattn_fail(PFATTN_ERR_INVALID, "layout: lens and types are required");
    int64_t total = 0;
    for (int r = 0; r < batch; r++) {
        int64_t p = prefix ? prefix[r] : 0;
        if (lens[r] <= 0)
            return pfattn_fail(PFATTN_ERR_INVALID, "layout: request %d: empty request", r);
        if (lens[r] > PFATTN_MAX_TOKENS - total)
            return pfattn_fail(PFATTN_ERR_INVALID, "layout: more than %lld tokens in total",
                               (long long)PFATTN_MAX_TOKENS);
        if (p < 0 || p > lens[r])
            return pfattn_fail(PFATTN_ERR_INVALID, "layout: request %d: prefix %lld outside "
                               "0..%lld", r, (long long)p, (long long)lens[r]);
        if (p == lens[r])
            return pfattn_fail(PFATTN_ERR_INVALID, "layout: request %d: no new tokens (prefix "
                               "%lld covers all %lld tokens)", r, (long long)p,
                               (long long)lens[r]);
        total += lens[r];
    }
    pfattn_layout *l = calloc(1, sizeof *l);
    size_t nb = (size_t)batch, nt = (size_t)total;
    if (!l || !(l->prefix = malloc(nb * 8)) || !(l->q_len = malloc(nb * 8)) ||
        !(l->kv_len = malloc(nb * 8)) || !(l->qo = malloc((nb + 1) * 8)) ||
        !(l->kv = malloc((nb + 1) * 8)) || !(l->group = malloc(nt * 4)) ||
        !(l->group_end = malloc(nt * 8))) {
        pfattn_layout_free(l);
        return pfattn_fail(PFATTN_ERR_NOMEM, "layout: out of memory for %lld tokens",
                           (long long)total);
    }
    l->batch = batch;
    l->qo[0] = l->kv[0] = 0;
    for (int r = 0; r < batch; r++) {
        l->prefix[r] = prefix ? prefix[r] : 0;
        l->kv_len[r] = lens[r];
        l->q_len[r] = lens[r] - l->prefix[r];
        l->qo[r + 1] = l->qo[r] + l->q_len[r];
        l->kv[r + 1] = l->kv[r] + l->kv_len[r];
        if (l->q_len[r] > l->max_q_len)
            l->max_q_len = l->q_len[r];
        if (l->kv_len[r] > l->max_kv_len)
            l->max_kv_len = l->kv_len[r];
        int rc = request_groups(l, r, types);
        if (rc) {
            pfattn_layout_free(l);
            return rc;
        }
    }
    l->total_q = l->qo[batch];
    l->total_kv = l->kv[batch];
    *out = l;
    return PFATTN_OK;
}

int pfattn_layout_sizes_get(const pfattn_layout *l, pfattn_layout_sizes *out)
{
    if (!l || !out)
        return pfattn_fail(PFATTN_ERR_INVALID, "layout sizes: null argument");
    out->batch = l->batch;
    out->total_q = l->total_q;
    out->total_kv = l->total_kv;
    out->max_q_len = l->max_q_len;
    out->max_kv_len = l->max_kv_len;
    out->max_group_len = l->max_group_len;
    return PFATTN_OK;
}
