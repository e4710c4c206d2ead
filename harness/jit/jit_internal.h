/* Internal pieces of the JIT (harness/jit*.c); not for other modules.
 *
 * jit.c        public API, orchestration (key -> cache -> build -> store)
 * jit_key.c    cache key: XXH3-128 over source + "..." includes + defines + target + compiler
 * jit_cache.c  entry file format (checksummed), trusted reads, atomic writes
 * jit_cache_dir.c  the cache directory: created 0700, refused unless trusted
 * jit_emu.c    target "emu": host C compiler -> shared object
 * jit_nvrtc.c  GPU archs: NVRTC -> cubin + PTX + ptxas resource log
 * jit_resources.c  parse the ptxas log / cubin into pf_resources
 * jit_pool.c   pf_jit_parallel (pthread pool), pf_jit_compile_many on it
 * jit_image.c  uncached cubin + PTX for shipping (jit_image.h) */
#ifndef PF_JIT_INTERNAL_H
#define PF_JIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/file_trust.h"
#include "jit/jit.h"

/* What a build (or a cache hit) produced, before it becomes a pf_jit_result. */
typedef struct pf_jit_artifact {
    int valid;
    pf_resources res;
    char *log;          /* malloc'd or NULL */
    void *cubin;        /* archs: malloc'd */
    size_t cubin_size;
    char *ptx;          /* archs: malloc'd, NUL-terminated */
    size_t ptx_size;    /* without the NUL */
    char so_name[128];  /* emu: file name of the .so inside the cache dir */
    uint64_t so_size, so_hash;
} pf_jit_artifact;

void pf_jit_artifact_free(pf_jit_artifact *a);

/* Whole-file read; the buffer gets a trailing NUL (not counted in *size).
 * _fd reads an open file (`path` only names it in errors). */
int pf_jit_read_file(const char *path, char **data, size_t *size);
int pf_jit_read_fd(int fd, const char *path, char **data, size_t *size);
/* xxh3-64 and size of the bytes of an open file. */
int pf_jit_hash_fd(int fd, const char *path, uint64_t *hash, uint64_t *size);

/* Cache key (32 hex digits + NUL) of a variant whose source text is `src`. */
int pf_jit_key(const pf_variant *v, const char *src, const char *kernel_dir, char key[33]);
/* Identity of the compiler used for `target` ("emu" or an arch). */
const char *pf_jit_compiler_id(const char *target);

/* Is the shared-cache setting on (pf_jit_set_cache_shared, else
 * PFTUNE_CACHE_SHARED)? */
int pf_jit_cache_shared(void);

/* Cache. `dir` must exist and be writable (pf_jit_cache_dir ensures it).
 * Entries are read only if they pass `trust` (an emu entry's shared object
 * always PF_TRUST_PRIVATE); one that does not is a miss, with a warning on
 * stderr. Stored entries get mode 0600 (0644 for PF_TRUST_SHARED). */
int pf_jit_cache_load(const char *dir, const char *key, const char *target, pf_trust trust,
                      pf_jit_artifact *out);
int pf_jit_cache_store(const char *dir, const char *key, pf_trust trust, const pf_jit_artifact *a);
/* mkdir -p (new directories 0700), then refuse `dir` unless it and its
 * parents pass `trust` and it is writable; one-line error naming the fix. */
int pf_jit_ensure_dir(const char *dir, pf_trust trust);
/* Does the existing directory `dir` (and its parents) pass `trust`? 1 / 0. */
int pf_jit_dir_trusted(const char *dir, pf_trust trust);

/* Extra host-compiler flags of emu builds for the checks in force
 * (core/pf_sanitize.h): ThreadSanitizer for race, access callbacks for init.
 * Part of the cache key. Returns how many were stored in flags. */
#define PF_JIT_EMU_MAX_FLAGS 12
int pf_jit_emu_flags(const char *flags[PF_JIT_EMU_MAX_FLAGS]);

/* Host C compiler build of an emu variant into dir/<key>-<hash>.so (mode
 * 0700; `dir` must be private); fills
 * so_name/so_size/so_hash on success, the log always; valid = 0 on a compile
 * error (still returns 0). */
int pf_jit_emu_build(const pf_variant *v, const char *key, const char *kernel_dir,
                     const char *dir, pf_jit_artifact *out);
/* Run fn(ctx, i) for i in 0..n-1 on `threads` workers (0: one per core).
 * -1 if any call returned -1, with the message of the first in order. */
int pf_jit_parallel(int n, int threads, int (*fn)(void *ctx, int i), void *ctx);

/* NVRTC build of `src` for an arch target. */
int pf_jit_nvrtc_build(const pf_variant *v, const char *src, const char *kernel_dir,
                       pf_jit_artifact *out);

/* Fill `res` from a ptxas -v log, for the entry function named first in
 * `src` (or the first entry in the log). Returns the number of entries seen. */
int pf_jit_parse_ptxas_log(const char *log, const char *src, pf_resources *res,
                           char *entry, size_t entry_size);
/* Size of the .nv.constant0.<entry> section of a cubin (ELF64), or -1. */
long pf_jit_cubin_cmem(const void *cubin, size_t size, const char *entry);

#endif
