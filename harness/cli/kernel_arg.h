/* Kernel and target arguments shared by commands that compile a kernel
 * variant (compile, analyze): --kernel resolution, --arch lists, and the
 * attention kernel's defines from its variant space. */
#ifndef PF_KERNEL_ARG_H
#define PF_KERNEL_ARG_H

#include <stddef.h>

#include "attention/attn_variant.h"
#include "jit/jit.h"

#define PF_MAX_TARGETS 16

/* "attention" -> <kernel dir>/attention.cu; a path is used as given. */
int pf_kernel_resolve(const char *arg, char *out, size_t out_size);
/* Is the source the attention kernel (kernels/attention.cu)? */
int pf_kernel_is_attention(const char *path);
/* Append the targets of a comma-separated list ("sm_80,sm_90") to
 * targets[*n]; each is checked with pf_target_check. */
int pf_targets_add(const char *list, char targets[][16], int *n);
/* The attention variant `text` (over the default for head_dim on the
 * target's arch; emu uses sm_90's limits, sm_90a sm_90's), checked valid,
 * into av (may be NULL) and its defines appended to v. */
int pf_attention_variant_for(const char *text, int head_dim, const char *target,
                             pf_attn_variant *av, pf_variant *v);

#endif
