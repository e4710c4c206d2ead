/* Kernel and target arguments (kernel_arg.h). */
#include "cli/kernel_arg.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pf_error.h"

int pf_kernel_resolve(const char *arg, char *out, size_t out_size)
{
    struct stat sb;
    if (strchr(arg, '/') || stat(arg, &sb) == 0) {
        snprintf(out, out_size, "%s", arg);
    } else {
        const char *dir = pf_kernel_dir();
        size_t n = strlen(arg);
        snprintf(out, out_size, "%s/%s%s", dir, arg, n > 3 && !strcmp(arg + n - 3, ".cu") ? "" : ".cu");
    }
    if (stat(out, &sb) != 0 || !S_ISREG(sb.st_mode) || access(out, R_OK) != 0)
        return pf_error_set("cannot read kernel '%s' (looked for %s)", arg, out);
    return 0;
}

int pf_kernel_is_attention(const char *path)
{
    const char *base = strrchr(path, '/');
    return strcmp(base ? base + 1 : path, "attention.cu") == 0;
}

/* The arch whose limits pick and check attention variants: the target's
 * own (sm_90a has sm_90's), emu's default (sm_90) for emu. */
static void attention_limits_arch(const char *target, char *arch, size_t size)
{
    snprintf(arch, size, "%.15s", strcmp(target, "emu") == 0 ? "sm_90" : target);
    size_t n = strlen(arch);
    if (n > 3 && arch[n - 1] == 'a')
        arch[n - 1] = 0;
}

int pf_attention_variant_for(const char *text, int head_dim, const char *target,
                             pf_attn_variant *av, pf_variant *v)
{
    char arch[16];
    attention_limits_arch(target, arch, sizeof arch);
    pf_attn_variant local;
    if (!av)
        av = &local;
    char why[256];
    if (pf_attn_variant_parse(text, head_dim, arch, av) != 0)
        return -1;
    if (!pf_attn_variant_valid(av, arch, why, sizeof why))
        return pf_error_set("invalid attention variant for %s: %s", target, why);
    return pf_attn_variant_defines(av, v);
}

int pf_targets_add(const char *list, char targets[][16], int *n)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (pf_target_check(t) != 0)
            return -1;
        if (*n >= PF_MAX_TARGETS)
            return pf_error_set("too many targets (max %d)", PF_MAX_TARGETS);
        snprintf(targets[(*n)++], 16, "%.15s", t); /* checked: short */
    }
    return 0;
}
