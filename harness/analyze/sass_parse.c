/* SASS text -> functions and instructions (sass.h). Both tools print one
 * instruction a line, "/ *0040* /  [@P0] OPCODE.MODS operands ;" (no
 * spaces inside the comment marks); they differ in the rest:
 *   nvdisasm -c : ".section .text.<name>" starts a function, ".sectioninfo
 *                 @"SHI_REGISTERS=N"" gives its registers, branch targets
 *                 are labels ("`(.L_x_3)") defined on lines "label:";
 *   cuobjdump   : "Function : <name>" starts one, branch targets are
 *                 addresses ("BRA 0x2b0"), the encoding follows in
 *                 comments. */
#include "analyze/sass.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

#define LABEL_MAX 64

typedef struct label {
    char name[LABEL_MAX];
    uint32_t addr;
} label;

/* Parsing state of the current function. */
typedef struct parser {
    pf_sass *s;
    pf_sass_func *f;
    int cap_insn, cap_want;
    label *labels;
    int n_labels, cap_labels, pending; /* pending: labels still without an address */
    char (*want)[LABEL_MAX];           /* per instruction: its target label, or "" */
} parser;

static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q)
        return pf_error_set("SASS parser: out of memory");
    *p = q;
    *cap = n;
    return 0;
}

/* Give pending labels the address `addr` (the next instruction's, or the
 * function's end). */
static void settle_labels(parser *ps, uint32_t addr)
{
    for (int i = ps->n_labels - ps->pending; i < ps->n_labels; i++)
        ps->labels[i].addr = addr;
    ps->pending = 0;
}

/* Close the current function: resolve its branch labels. */
static int finish(parser *ps)
{
    pf_sass_func *f = ps->f;
    if (!f)
        return 0;
    uint32_t end = f->n_insn ? f->insn[f->n_insn - 1].addr + 16 : 0;
    settle_labels(ps, end);
    int rc = 0;
    for (int i = 0; i < f->n_insn && !rc; i++) {
        if (!ps->want[i][0])
            continue;
        int j = 0;
        while (j < ps->n_labels && strcmp(ps->labels[j].name, ps->want[i]) != 0)
            j++;
        if (j == ps->n_labels)
            rc = pf_error_set("SASS: %s at 0x%x branches to unknown label %s", f->name,
                              f->insn[i].addr, ps->want[i]);
        else
            f->insn[i].target = ps->labels[j].addr;
    }
    ps->f = NULL;
    ps->n_labels = ps->pending = 0;
    ps->cap_insn = 0;
    return rc;
}

static int start(parser *ps, const char *name, size_t len)
{
    if (finish(ps))
        return -1;
    pf_sass *s = ps->s;
    int cap = s->n_fn;
    if (grow((void **)&s->fn, &cap, s->n_fn + 1, sizeof *s->fn))
        return -1;
    pf_sass_func *f = &s->fn[s->n_fn++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%.*s", (int)(len < 127 ? len : 127), name);
    f->registers = -1;
    ps->f = f;
    return 0;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* "name:" alone on a line (nvdisasm labels). */
static int label_line(parser *ps, const char *p, const char *eol)
{
    p = skip_ws(p);
    const char *q = p;
    while (q < eol && (isalnum((unsigned char)*q) || *q == '_' || *q == '.' || *q == '$'))
        q++;
    if (q == p || q >= eol || *q != ':' || skip_ws(q + 1) < eol || q - p >= LABEL_MAX)
        return 0;
    if (grow((void **)&ps->labels, &ps->cap_labels, ps->n_labels + 1, sizeof *ps->labels))
        return -1;
    snprintf(ps->labels[ps->n_labels].name, LABEL_MAX, "%.*s", (int)(q - p), p);
    ps->n_labels++;
    ps->pending++;
    return 1;
}

static int is_branch(const char *op)
{
    return strncmp(op, "BRA", 3) == 0 && (op[3] == 0 || op[3] == '.');
}

/* One instruction; p is just past the address comment. */
static int insn_line(parser *ps, uint32_t addr, const char *p, const char *eol)
{
    pf_sass_func *f = ps->f;
    if (grow((void **)&f->insn, &ps->cap_insn, f->n_insn + 1, sizeof *f->insn) ||
        grow((void **)&ps->want, &ps->cap_want, f->n_insn + 1, sizeof *ps->want))
        return -1;
    settle_labels(ps, addr);
    pf_sass_insn *in = &f->insn[f->n_insn];
    memset(in, 0, sizeof *in);
    in->addr = addr;
    in->target = -1;
    char *want = ps->want[f->n_insn];
    want[0] = 0;
    const char *semi = memchr(p, ';', (size_t)(eol - p));
    const char *end = semi ? semi : eol;
    p = skip_ws(p);
    if (p < end && *p == '{')
        p = skip_ws(p + 1);
    if (p < end && *p == '@') {
        const char *q = p + 1 + (p[1] == '!');
        in->guarded = !(q[0] == 'P' && q[1] == 'T'); /* @PT is always true */
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        p = skip_ws(p);
    }
    const char *q = p;
    while (q < end && *q != ' ' && *q != '\t')
        q++;
    if (q == p)
        return pf_error_set("SASS: no opcode at 0x%x in %s", addr, f->name);
    snprintf(in->op, sizeof in->op, "%.*s", (int)(q - p < 47 ? q - p : 47), p);
    if (is_branch(in->op)) {
        const char *a = skip_ws(q);
        /* an operand before the target is a condition ("P3,", "!UP0,") */
        in->pred_operand = a < end && *a != '`' && strncmp(a, "0x", 2) != 0;
        const char *lab = memchr(a, '`', (size_t)(end - a));
        if (lab && lab + 1 < end && lab[1] == '(') {
            const char *b = lab + 2, *c = memchr(b, ')', (size_t)(end - b));
            if (c && c - b < LABEL_MAX)
                snprintf(want, LABEL_MAX, "%.*s", (int)(c - b), b);
        } else {
            const char *hx = strstr(a, "0x");
            if (hx && hx < end)
                in->target = (int64_t)strtoull(hx, NULL, 16);
        }
    }
    f->n_insn++;
    return 0;
}

static int parse_line(parser *ps, const char *line, const char *eol)
{
    const char *p = skip_ws(line);
    const char *fn = strstr(line, "Function : ");
    if (fn && fn < eol) { /* cuobjdump */
        const char *n = fn + 11;
        size_t len = strcspn(n, " \t\r\n");
        return start(ps, n, len);
    }
    if (strncmp(p, ".section", 8) == 0 && (p[8] == ' ' || p[8] == '\t')) {
        const char *t = skip_ws(p + 8);
        if (strncmp(t, ".text.", 6) == 0)
            return start(ps, t + 6, strcspn(t + 6, ", \t\r\n"));
        return finish(ps); /* another section ends the function */
    }
    if (!ps->f)
        return 0;
    const char *reg = strstr(p, "SHI_REGISTERS=");
    if (strncmp(p, ".sectioninfo", 12) == 0 && reg && reg < eol) {
        ps->f->registers = atoi(reg + 14);
        return 0;
    }
    unsigned addr;
    int n = 0;
    if (p[0] == '/' && p[1] == '*' && sscanf(p, "/*%x*/%n", &addr, &n) == 1 && n > 0)
        return insn_line(ps, addr, p + n, eol);
    return label_line(ps, line, eol) < 0 ? -1 : 0;
}

int pf_sass_parse(const char *text, pf_sass *out)
{
    memset(out, 0, sizeof *out);
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.s = out;
    int rc = 0;
    for (const char *line = text; *line && !rc;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        rc = parse_line(&ps, line, eol);
        line = *eol ? eol + 1 : eol;
    }
    if (!rc)
        rc = finish(&ps);
    free(ps.labels);
    free(ps.want);
    int n_insn = 0;
    for (int i = 0; i < out->n_fn; i++)
        n_insn += out->fn[i].n_insn;
    if (!rc && n_insn == 0)
        rc = pf_error_set("no SASS instructions in the disassembly (is it nvdisasm -c or "
                          "cuobjdump -sass output?)");
    if (rc)
        pf_sass_free(out);
    return rc;
}

void pf_sass_free(pf_sass *s)
{
    for (int i = 0; i < s->n_fn; i++)
        free(s->fn[i].insn);
    free(s->fn);
    s->fn = NULL;
    s->n_fn = 0;
}

const pf_sass_func *pf_sass_find(const pf_sass *s, const char *name)
{
    for (int i = 0; i < s->n_fn; i++)
        if (strcmp(s->fn[i].name, name) == 0)
            return &s->fn[i];
    return NULL;
}
