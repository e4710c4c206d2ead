/* Run-time compilation of kernel variants, with an on-disk cache.
 *
 * A variant is (kernel source file, defines, target). Targets are GPU archs
 * ("sm_80", "sm_90", ...; NVRTC -> cubin, PTX kept, nvJitLink info parsed into
 * a resource record) or "emu" (host C compiler -> shared object that the emu
 * backend dlopens). Kernel sources include "pf_dialect.h" from the kernels/
 * directory, which is on the include path for both.
 *
 * A compile error is not a failure of pf_jit_compile: it returns 0 with
 * result->valid = 0 and the compiler log. -1 means pftune itself could not
 * work (unreadable source, unwritable cache, out of memory). */
#ifndef PF_JIT_H
#define PF_JIT_H

#include <stddef.h>
#include <stdint.h>

#include "device/device.h"

#define PF_JIT_MAX_DEFINES 64

typedef struct pf_define {
    char name[64];
    char value[64];
} pf_define;

typedef struct pf_variant {
    char source[512];    /* path of the kernel source, e.g. kernels/attention.cu */
    char target[16];     /* "sm_80", "sm_90", ... or "emu" */
    int n_defines;
    pf_define defines[PF_JIT_MAX_DEFINES];
} pf_variant;

typedef struct pf_resources {
    int registers;
    int spill_stores, spill_loads; /* bytes */
    int static_smem;     /* bytes */
    int stack_frame;     /* bytes */
    int const_mem;       /* bytes */
} pf_resources;

typedef struct pf_jit_result {
    int valid;           /* 0: the variant failed to compile; see log */
    int from_cache;
    double compile_ms;   /* wall time of this call */
    char key[40];        /* cache key, hex */
    pf_resources res;    /* per kernel entry of interest: the first __global__ */
    char *log;           /* compiler log (malloc'd, may be NULL) */
    pf_binary bin;       /* image (malloc'd) or so_path (malloc'd) */
} pf_jit_result;

/* Parse "NAME=VALUE" (or "NAME", meaning 1) into a define. */
int pf_define_parse(const char *text, pf_define *out);
int pf_variant_add_define(pf_variant *v, const char *name, const char *value);
/* Is `target` a known arch or "emu"? */
int pf_target_check(const char *target);

/* Cache directory: $PFTUNE_CACHE_DIR, else $XDG_CACHE_HOME/pftune, else
 * ~/.cache/pftune. Created 0700 on first use; refused (-1, one line naming
 * the fix) unless it is the user's own and not writable by group or others.
 * With the shared setting a group-writable directory of any owner is
 * accepted, for GPU binaries only: emu objects then use the default one. */
int pf_jit_cache_dir(char *out, size_t out_size);
void pf_jit_set_cache_dir(const char *dir); /* override (tests, --cache-dir) */
void pf_jit_set_cache_enabled(int enabled);
/* Shared team cache (--cache-shared); default: PFTUNE_CACHE_SHARED=1. */
void pf_jit_set_cache_shared(int shared);

int pf_jit_compile(const pf_variant *v, pf_jit_result *result);
/* Compile n variants with `threads` workers (0: number of cores). Results are
 * in input order. Returns -1 only if some call returned -1 (message of the
 * first). */
int pf_jit_compile_many(const pf_variant *vs, int n, int threads, pf_jit_result *results);
void pf_jit_result_free(pf_jit_result *r);

/* XXH3-128 (hex) of a kernel source and every file it includes with
 * #include "..." (as the cache key sees them), without target or compiler:
 * "did the kernel change?" for journals. */
int pf_jit_source_hash(const char *source_path, char out[33]);

/* One section of a cubin (ELF64): its size and sh_info (for .text.<entry>,
 * bits 24..31 hold the entry's register count). 0, or -1 with a message
 * when the image is not an ELF64 or has no section of that name. */
typedef struct pf_cubin_section {
    uint64_t size;
    uint32_t info;
    const unsigned char *data; /* its bytes inside the image; NULL for NOBITS */
} pf_cubin_section;
int pf_cubin_find_section(const void *cubin, size_t size, const char *name, pf_cubin_section *out);
/* Registers per thread of a kernel entry: sh_info of .text.<entry> (sm_80
 * style) or its EIATTR_REGCOUNT in .nv.info (sm_90). -1 with a message. */
int pf_cubin_entry_registers(const void *cubin, size_t size, const char *entry);

/* The kernels/ directory (PFTUNE_KERNEL_DIR, else the one found beside the
 * build tree at configure time). */
const char *pf_kernel_dir(void);

#endif
