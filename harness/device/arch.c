/* The arch table (see arch.h). */
#include "device/arch.h"

#include <stdio.h>
#include <string.h>

#include "core/pf_error.h"

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)

/* Every entry: 64K registers per SM, 255 per thread, 1024 threads per block,
 * 48 KiB per block without the opt-in; the opt-in limit is the per-SM
 * capacity less the 1 KiB the driver reserves per block. */
#define ARCH(cc_maj, cc_min, smem_sm_kib, threads_sm, blocks_sm, part_name, sms, l2)            \
    {                                                                                            \
        "sm_" #cc_maj #cc_min, cc_maj, cc_min, 48 * KIB, ((smem_sm_kib)-1) * KIB,               \
            (smem_sm_kib)*KIB, 65536, 255, 1024, threads_sm, blocks_sm, (threads_sm) / 32,      \
            part_name, sms, l2                                                                   \
    }

static const pf_arch table[] = {
    ARCH(8, 0, 164, 2048, 32, "A100", 108, 40 * MIB),
    ARCH(8, 6, 100, 1536, 16, "A10", 72, 6 * MIB),
    ARCH(8, 9, 100, 1536, 24, "L4", 58, 48 * MIB),
    ARCH(9, 0, 228, 2048, 32, "H100 SXM", 132, 50 * MIB),
    ARCH(10, 0, 228, 2048, 32, "B200", 148, 126 * MIB),
    ARCH(12, 0, 100, 1536, 24, "RTX 5090", 170, 96 * MIB),
};
#define N_ARCH ((int)(sizeof table / sizeof table[0]))

const pf_arch *pf_arch_table(int *n)
{
    *n = N_ARCH;
    return table;
}

const pf_arch *pf_arch_lookup_cc(int major, int minor)
{
    for (int i = 0; i < N_ARCH; i++)
        if (table[i].cc_major == major && table[i].cc_minor == minor)
            return &table[i];
    return NULL;
}

void pf_arch_names(char *out, size_t size)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < N_ARCH && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", table[i].name);
}

const pf_arch *pf_arch_lookup(const char *name)
{
    for (int i = 0; name && i < N_ARCH; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    char names[128];
    pf_arch_names(names, sizeof names);
    pf_error_set("unknown arch '%s' (known: %s)", name ? name : "(null)", names);
    return NULL;
}

const pf_arch *pf_arch_lookup_nearest(int major, int minor)
{
    const pf_arch *best = NULL;
    for (int i = 0; i < N_ARCH; i++)
        if (table[i].cc_major * 100 + table[i].cc_minor <= major * 100 + minor)
            best = &table[i];
    if (!best)
        pf_error_set("compute capability %d.%d is older than %s, the oldest known arch (the "
                     "kernels need bf16 mma)",
                     major, minor, table[0].name);
    return best;
}

size_t pf_arch_max_smem_optin(void)
{
    size_t max = 0;
    for (int i = 0; i < N_ARCH; i++)
        if (table[i].smem_per_block_optin > max)
            max = table[i].smem_per_block_optin;
    return max;
}

int pf_device_arch(pf_device *dev, char *out, size_t size)
{
    pf_device_props p;
    if (pf_dev_props(dev, &p))
        return -1;
    const pf_arch *a = pf_arch_lookup_nearest(p.cc_major, p.cc_minor);
    if (!a)
        return pf_error_prefix("%s", p.name);
    snprintf(out, size, "%s", a->name);
    return 0;
}
