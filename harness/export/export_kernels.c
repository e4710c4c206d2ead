/* kernels/ of an exported package: attention.cu and the headers it pulls in
 * with #include "..." (copied verbatim: the source the tuner measured), one
 * wrapper NAME.cu per kernel that #defines the variant exactly as the tuner
 * passed it (pf_attn_variant_defines) and includes attention.cu, and the
 * wrapper compiled by NVRTC from the staged copy for every arch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "export/export_internal.h"
#include "jit/jit_image.h"

#define MAX_SOURCES 32

/* The name of a `#include "name"` line, or 0. */
static int quoted_include(const char *line, char *name, size_t size)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p++ != '#')
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, "include", 7) != 0)
        return 0;
    p += 7;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p++ != '"')
        return 0;
    const char *end = strchr(p, '"');
    if (!end || (size_t)(end - p) >= size)
        return 0;
    memcpy(name, p, (size_t)(end - p));
    name[end - p] = '\0';
    return 1;
}

/* Copy `name` from the kernel dir and, recursively, what it includes. */
static int copy_closure(const char *root, const char *name, char (*seen)[128], int *n_seen)
{
    for (int i = 0; i < *n_seen; i++)
        if (strcmp(seen[i], name) == 0)
            return 0;
    if (*n_seen == MAX_SOURCES || strchr(name, '/') || strlen(name) >= 128)
        return pf_error_set("kernel source %s: only up to %d includes by plain file name are "
                            "exported", name, MAX_SOURCES);
    snprintf(seen[(*n_seen)++], 128, "%s", name);
    char src[1200], rel[200];
    snprintf(src, sizeof src, "%s/%s", pf_kernel_dir(), name);
    snprintf(rel, sizeof rel, "kernels/%s", name);
    if (pf_export_copy(src, root, rel) < 0)
        return -1;
    FILE *f = fopen(src, "r");
    if (!f)
        return pf_error_set("cannot read %s", src);
    char line[1024], inc[128];
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f))
        if (quoted_include(line, inc, sizeof inc))
            rc = copy_closure(root, inc, seen, n_seen);
    fclose(f);
    return rc;
}

static int write_wrapper(const pf_export_ctx *c, const pf_export_kernel *k)
{
    pf_variant jv;
    memset(&jv, 0, sizeof jv);
    if (pf_attn_variant_defines(&k->v, &jv) < 0)
        return -1;
    char *buf;
    size_t len;
    FILE *f = pf_export_text_open(&buf, &len);
    if (!f)
        return -1;
    fprintf(f, "/* Attention kernel %s, tuned variant\n *   %s\n", k->name, k->variant);
    fprintf(f, " * The defines below are exactly those the variant was compiled, verified and\n"
               " * timed with; attention.cu and its headers beside this file are the same\n"
               " * source. Compile for one arch (any NVRTC/nvcc; includes resolve beside\n"
               " * this file), e.g. with NVRTC options --gpu-architecture=sm_90 -std=c++17.\n"
               " * Entry point: extern \"C\" attention(pf_attn_params), grid (num_work,\n"
               " * num_qo_heads), %d threads, %zu bytes of dynamic shared memory. */\n",
            pf_attn_variant_threads(&k->v), pf_attn_variant_smem_bytes(&k->v));
    for (int i = 0; i < jv.n_defines; i++)
        fprintf(f, "#define %s %s\n", jv.defines[i].name, jv.defines[i].value);
    fprintf(f, "#include \"attention.cu\"\n");
    char rel[160];
    snprintf(rel, sizeof rel, "kernels/%s.cu", k->name);
    return pf_export_text_write(f, &buf, &len, c->root, rel);
}

/* First line of a compiler log, for a one-line error. */
static void first_line(const char *log, char *out, size_t size)
{
    const char *p = log ? log : "";
    while (*p == '\n')
        p++;
    size_t n = strcspn(p, "\n");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
}

static int compile_all(pf_export_ctx *c)
{
    const pf_export_plan *p = c->plan;
    int n = p->n_kernels * c->n_archs;
    pf_variant *vs = calloc((size_t)n, sizeof *vs);
    pf_jit_image *img = calloc((size_t)n, sizeof *img);
    c->res = calloc((size_t)n, sizeof *c->res);
    c->cubin_bytes = calloc((size_t)n, sizeof *c->cubin_bytes);
    c->ptx_bytes = calloc((size_t)n, sizeof *c->ptx_bytes);
    if (!vs || !img || !c->res || !c->cubin_bytes || !c->ptx_bytes) {
        free(vs);
        free(img);
        return pf_error_set("out of memory");
    }
    char inc[400];
    if ((size_t)snprintf(inc, sizeof inc, "%s/kernels", c->root) >= sizeof inc) {
        free(vs);
        free(img);
        return pf_error_set("output path %s is too long", c->root);
    }
    for (int k = 0; k < p->n_kernels; k++)
        for (int a = 0; a < c->n_archs; a++) {
            pf_variant *v = &vs[k * c->n_archs + a];
            snprintf(v->source, sizeof v->source, "%s/%s.cu", inc, p->kernels[k].name);
            snprintf(v->target, sizeof v->target, "%s", c->archs[a]);
        }
    int rc = pf_jit_image_build_many(vs, n, inc, c->jobs, img);
    for (int i = 0; i < n && !rc; i++) {
        const char *name = p->kernels[i / c->n_archs].name, *arch = c->archs[i % c->n_archs];
        char rel[200], why[300];
        if (!img[i].valid || !img[i].cubin_size || !img[i].ptx_size) {
            first_line(img[i].log, why, sizeof why);
            rc = pf_error_set("kernel %s does not compile for %s: %s", name, arch,
                              why[0] ? why : "NVRTC produced no cubin or PTX");
            break;
        }
        snprintf(rel, sizeof rel, "kernels/%s.%s.cubin", name, arch);
        rc = pf_export_write(c->root, rel, img[i].cubin, img[i].cubin_size);
        snprintf(rel, sizeof rel, "kernels/%s.%s.ptx", name, arch);
        if (!rc)
            rc = pf_export_write(c->root, rel, img[i].ptx, img[i].ptx_size);
        c->res[i] = img[i].res;
        c->cubin_bytes[i] = img[i].cubin_size;
        c->ptx_bytes[i] = img[i].ptx_size;
    }
    for (int i = 0; i < n; i++)
        pf_jit_image_free(&img[i]);
    free(img);
    free(vs);
    return rc;
}

int pf_export_kernels(pf_export_ctx *c)
{
    char seen[MAX_SOURCES][128];
    int n_seen = 0;
    if (copy_closure(c->root, "attention.cu", seen, &n_seen) < 0)
        return -1;
    for (int k = 0; k < c->plan->n_kernels; k++)
        if (write_wrapper(c, &c->plan->kernels[k]) < 0)
            return -1;
    return compile_all(c);
}
