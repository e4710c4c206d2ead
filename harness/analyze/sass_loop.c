/* The main loop of a SASS function: the innermost loop whose body holds
 * tensor-core MMAs.
 *
 * Heuristic: build basic blocks (leaders: the first instruction, every
 * branch target, every instruction after a BRA/EXIT/RET), then call an edge
 * B -> H a back edge when it branches backward, to an address at or below
 * B's last instruction. ptxas lays out loops with the header first and the
 * latch branching back, so backward targets stand in for dominance. The
 * loop of H is H plus every block that reaches a latch without passing
 * through H (the natural loop, so out-of-line blocks that rejoin the body,
 * such as a cold masked path, count too); back edges to one header make one
 * loop. Among loops holding an HMMA, the main loop is an innermost one (no
 * other HMMA loop inside it), the one with the most HMMAs if there are
 * several (e.g. a loop ptxas duplicated). Counts are static: an inner loop
 * (a tile-copy or a tile-skip scan) counts once. */
#include "analyze/sass.h"

#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

typedef struct block {
    int first, last;    /* instruction indices */
    int succ[2], n_succ;
} block;

static int ends_block(const pf_sass_insn *in)
{
    return strncmp(in->op, "BRA", 3) == 0 || strncmp(in->op, "EXIT", 4) == 0 ||
           strncmp(in->op, "RET", 3) == 0 || strncmp(in->op, "BRX", 3) == 0 ||
           strncmp(in->op, "JMP", 3) == 0;
}

static int falls_through(const pf_sass_insn *in)
{
    return !ends_block(in) || in->guarded || in->pred_operand;
}

/* Index of the instruction at addr (addresses increase), or -1. */
static int insn_at(const pf_sass_func *f, int64_t addr)
{
    int lo = 0, hi = f->n_insn - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (f->insn[mid].addr == addr)
            return mid;
        if (f->insn[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Blocks of f; blk_of[i] is instruction i's block. */
static int build_blocks(const pf_sass_func *f, block **out, int *n_out, int *blk_of)
{
    char *leader = calloc((size_t)f->n_insn + 1, 1);
    if (!leader)
        return -1;
    leader[0] = 1;
    for (int i = 0; i < f->n_insn; i++) {
        int t = f->insn[i].target >= 0 ? insn_at(f, f->insn[i].target) : -1;
        if (t >= 0)
            leader[t] = 1;
        if (ends_block(&f->insn[i]) && i + 1 < f->n_insn)
            leader[i + 1] = 1;
    }
    int n = 0; /* >= 1: instruction 0 leads */
    for (int i = 0; i < f->n_insn; i++)
        n += leader[i];
    block *b = calloc((size_t)n, sizeof *b);
    if (!b) {
        free(leader);
        return -1;
    }
    int k = -1;
    for (int i = 0; i < f->n_insn; i++) {
        if (leader[i])
            b[++k].first = i;
        b[k].last = i;
        blk_of[i] = k;
    }
    for (k = 0; k < n; k++) {
        const pf_sass_insn *in = &f->insn[b[k].last];
        int t = in->target >= 0 ? insn_at(f, in->target) : -1;
        if (ends_block(in) && t >= 0)
            b[k].succ[b[k].n_succ++] = blk_of[t];
        if (falls_through(in) && k + 1 < n)
            b[k].succ[b[k].n_succ++] = k + 1;
    }
    free(leader);
    *out = b;
    *n_out = n;
    return 0;
}

/* Add to body[] every block that reaches `from` backward without passing
 * the header (already marked). */
static int grow_loop(const block *b, int n, char *body, int from, int *stack)
{
    int sp = 0;
    if (!body[from]) {
        body[from] = 1;
        stack[sp++] = from;
    }
    while (sp > 0) {
        int x = stack[--sp];
        for (int p = 0; p < n; p++) /* predecessors: blocks are few */
            for (int s = 0; s < b[p].n_succ; s++)
                if (b[p].succ[s] == x && !body[p]) {
                    body[p] = 1;
                    stack[sp++] = p;
                }
    }
    return 0;
}

static int subset(const char *a, const char *b, int n) /* a within b, a != b */
{
    int differ = 0;
    for (int i = 0; i < n; i++) {
        if (a[i] && !b[i])
            return 0;
        differ |= a[i] != b[i];
    }
    return differ;
}

int pf_sass_main_loop(const pf_sass_func *f, pf_sass_loop *out)
{
    memset(out, 0, sizeof *out);
    if (f->n_insn == 0)
        return 0;
    int *blk_of = malloc((size_t)f->n_insn * sizeof *blk_of);
    block *b = NULL;
    int n = 0;
    if (!blk_of || build_blocks(f, &b, &n, blk_of) || n < 1) {
        free(blk_of);
        return pf_error_set("SASS loops: out of memory");
    }
    /* one body per header: loops[h * n ...] */
    char *loops = calloc((size_t)n * (size_t)n, 1);
    int *stack = malloc((size_t)n * sizeof *stack);
    int *hmma = calloc((size_t)n, sizeof *hmma);
    if (!loops || !stack || !hmma) {
        free(blk_of);
        free(b);
        free(loops);
        free(stack);
        free(hmma);
        return pf_error_set("SASS loops: out of memory");
    }
    for (int k = 0; k < n; k++)
        for (int s = 0; s < b[k].n_succ; s++) {
            int h = b[k].succ[s];
            if (f->insn[b[h].first].addr > f->insn[b[k].last].addr)
                continue; /* forward */
            char *body = loops + (size_t)h * n;
            body[h] = 1;
            grow_loop(b, n, body, k, stack);
        }
    for (int h = 0; h < n; h++)
        for (int k = 0; k < n; k++)
            if (loops[(size_t)h * n + k])
                for (int i = b[k].first; i <= b[k].last; i++)
                    hmma[h] += strncmp(f->insn[i].op, "HMMA", 4) == 0;
    int best = -1;
    for (int h = 0; h < n; h++) {
        if (!hmma[h])
            continue;
        int innermost = 1;
        for (int g = 0; g < n && innermost; g++)
            if (g != h && hmma[g] && subset(loops + (size_t)g * n, loops + (size_t)h * n, n))
                innermost = 0;
        if (!innermost)
            continue;
        out->hmma_loops++;
        if (best < 0 || hmma[h] > hmma[best])
            best = h;
    }
    if (best >= 0) {
        const char *body = loops + (size_t)best * n;
        out->found = 1;
        out->head = f->insn[b[best].first].addr;
        for (int k = 0; k < n; k++) {
            if (!body[k])
                continue;
            out->blocks++;
            if (f->insn[b[k].last].addr > out->end)
                out->end = f->insn[b[k].last].addr;
            for (int i = b[k].first; i <= b[k].last; i++)
                pf_sass_count_one(&f->insn[i], &out->mix);
        }
        for (int g = 0; g < n; g++) {
            const char *other = loops + (size_t)g * n;
            int any = 0;
            for (int k = 0; k < n && !any; k++)
                any = other[k];
            if (g != best && any && subset(other, body, n))
                out->inner_loops++;
        }
    }
    free(blk_of);
    free(b);
    free(loops);
    free(stack);
    free(hmma);
    return 0;
}
