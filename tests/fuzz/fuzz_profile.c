/* libFuzzer target for workload profiles (tuner/profile*.c, and through
 * them the constraint parser tuner/expr.c and the layout parser). Rejected
 * inputs must leave a one-line "profile fuzz.json: " message; accepted
 * profiles must be internally consistent, their constraints must parse
 * again, and their layouts (when small) must build with the promised
 * lengths. Built and run by tests/fuzz/CMakeLists.txt. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "attention/layout.h"
#include "core/pf_error.h"
#include "tuner/expr.h"
#include "tuner/profile.h"

static const char *const axes[] = {"BLOCK_M", "BLOCK_N",   "WARPS",    "STAGES", "MASK_STORAGE",
                                   "INDPTR_T", "TILE_SKIP", "HEAD_DIM", NULL};
static const char *const names[] = {"BLOCK_M",  "BLOCK_N",   "WARPS",    "STAGES",  "MASK_STORAGE",
                                    "INDPTR_T", "TILE_SKIP", "HEAD_DIM", "SEQ_LEN", NULL};

/* Layout strings of millions of tokens are legal but slow and large under
 * ASan: skip inputs that mention a layout and a number above 2^20. */
static int too_big(const char *s)
{
    if (!strstr(s, "layout"))
        return 0;
    for (; *s; s++) {
        int64_t v = 0;
        for (; isdigit((unsigned char)*s); s++)
            if ((v = v * 10 + (*s - '0')) > ((int64_t)1 << 20))
                return 1;
        if (!*s)
            break;
    }
    return 0;
}

static int fixed_string(const char *s, size_t size)
{
    return memchr(s, 0, size) != NULL;
}

static void check_accepted(const pf_profile *p, const uint8_t *data, size_t size)
{
    if (p->hash != XXH3_64bits(data, size) || strcmp(p->family, "attention") != 0)
        abort();
    if (p->n_seqs < 1 || p->n_seqs > PF_PROFILE_MAX_SEQS || p->n_layers < 1 || p->n_layers > 2 ||
        p->n_head_dims < 1 || p->n_head_dims > p->n_layers || p->requests < 1 || p->hq < 1)
        abort();
    for (int i = 0; i < p->n_layers; i++)
        if (p->head_dim_of_layer[i] < 1 || p->hkv_of_layer[i] < 1 ||
            p->hq % p->hkv_of_layer[i] != 0 || !(p->scale_of_layer[i] > 0))
            abort();
    if (p->n_layers == 2 && p->layers[0] == p->layers[1])
        abort();
    for (int i = 0; i < p->n_axes; i++) {
        if (p->axes[i].n_values < 1 || p->axes[i].n_values > PF_PROFILE_MAX_VALUES ||
            !fixed_string(p->axes[i].name, sizeof p->axes[i].name))
            abort();
        for (int j = 0; j < p->axes[i].n_values; j++)
            if (!fixed_string(p->axes[i].values[j], sizeof p->axes[i].values[j]))
                abort();
    }
    for (int i = 0; i < p->n_constraints; i++) {
        pf_expr *e = pf_expr_parse(p->constraints[i], names);
        if (!e)
            abort();
        pf_expr_free(e);
    }
    if (p->workload == PF_WORKLOAD_FILE)
        return; /* no file reads from the fuzzer */
    for (int i = 0; i < p->n_seqs; i++) {
        if (p->seq_lens[i] < 1 || p->seq_lens[i] * p->requests > ((int64_t)1 << 16))
            continue;
        pf_layout *l = NULL;
        if (pf_profile_layout(p, i, p->seed, &l) != 0)
            abort(); /* a profile that loaded builds every workload */
        for (int r = 0; r < l->n_req; r++)
            if (l->req[r].kv_len > p->seq_lens[i] ||
                (p->workload != PF_WORKLOAD_RANDOM && l->req[r].kv_len != p->seq_lens[i]))
                abort();
        pf_layout_free(l);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (!too_big(text)) {
        pf_profile p;
        pf_error_clear();
        if (pf_profile_parse(text, size, "fuzz.json", axes, &p) == 0) {
            check_accepted(&p, data, size);
        } else {
            const char *e = pf_error_get();
            if (strncmp(e, "profile fuzz.json: ", 19) != 0 || strchr(e, '\n'))
                abort();
        }
    }
    free(text);
    return 0;
}
