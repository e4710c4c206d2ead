/* Instruction mix of SASS instructions (sass.h): opcode families by their
 * base name, LDSM shape from its modifiers (".M88[.2|.4]", ".MT88" is the
 * transposed load), memory widths from ".U8/.S8/.U16/.S16/.64/.128"
 * (none: 32 bits). */
#include "analyze/sass.h"

#include <string.h>

const int pf_sass_width_bits[PF_N_WIDTHS] = {8, 16, 32, 64, 128};

/* Does the dotted opcode carry modifier `m` (a whole token)? */
static int has_mod(const char *op, const char *m)
{
    size_t n = strlen(m);
    for (const char *p = strchr(op, '.'); p; p = strchr(p + 1, '.'))
        if (strncmp(p + 1, m, n) == 0 && (p[1 + n] == '.' || p[1 + n] == 0))
            return 1;
    return 0;
}

static int width(const char *op)
{
    if (has_mod(op, "U8") || has_mod(op, "S8"))
        return PF_W8;
    if (has_mod(op, "U16") || has_mod(op, "S16"))
        return PF_W16;
    if (has_mod(op, "64"))
        return PF_W64;
    if (has_mod(op, "128"))
        return PF_W128;
    return PF_W32;
}

static int base_is(const char *op, const char *base)
{
    size_t n = strlen(base);
    return strncmp(op, base, n) == 0 && (op[n] == '.' || op[n] == 0);
}

void pf_sass_count_one(const pf_sass_insn *in, pf_sass_mix *m)
{
    const char *op = in->op;
    m->total++;
    if (base_is(op, "HMMA"))
        m->hmma++;
    else if (base_is(op, "LDSM"))
        m->ldsm[has_mod(op, "4") ? 2 : has_mod(op, "2") ? 1 : 0][has_mod(op, "MT88")]++;
    else if (base_is(op, "LDGSTS"))
        m->ldgsts[width(op)]++;
    else if (base_is(op, "LDG"))
        m->ldg[width(op)]++;
    else if (base_is(op, "STG"))
        m->stg[width(op)]++;
    else if (base_is(op, "LDS"))
        m->lds[width(op)]++;
    else if (base_is(op, "STS"))
        m->sts[width(op)]++;
    else if (base_is(op, "LDL"))
        m->ldl++;
    else if (base_is(op, "STL"))
        m->stl++;
    else if (base_is(op, "BAR"))
        m->bar++;
    else if (base_is(op, "BRA"))
        m->bra++;
    else if (base_is(op, "MUFU"))
        m->mufu++;
    else if (base_is(op, "SHFL"))
        m->shfl++;
}

void pf_sass_count(const pf_sass_func *f, pf_sass_mix *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < f->n_insn; i++)
        pf_sass_count_one(&f->insn[i], out);
}

int pf_sass_mix_sum(const int by_width[PF_N_WIDTHS])
{
    int n = 0;
    for (int w = 0; w < PF_N_WIDTHS; w++)
        n += by_width[w];
    return n;
}

double pf_sass_ldsm_x4(const pf_sass_mix *m)
{
    double mats = 0;
    for (int t = 0; t < 2; t++)
        mats += m->ldsm[0][t] + 2.0 * m->ldsm[1][t] + 4.0 * m->ldsm[2][t];
    return mats / 4.0;
}

double pf_sass_smem_load_bytes(const pf_sass_mix *m)
{
    double bytes = pf_sass_ldsm_x4(m) * 512.0; /* 4 matrices x 8 rows x 16 bytes */
    for (int w = 0; w < PF_N_WIDTHS; w++)
        bytes += m->lds[w] * pf_sass_width_bits[w] / 8.0 * 32.0; /* every lane */
    return bytes;
}
