/* `pftune export`: turn a tuned.json into a self-contained package for
 * production engines (kernel sources with their configuration baked in,
 * PTX + cubin per arch, the pfattn C runtime, its Python binding, per-device
 * configs, a CMake package and a README). docs/ARCHITECTURE.md, "Export". */
#ifndef PF_EXPORT_H
#define PF_EXPORT_H

#define PF_EXPORT_MAX_ARCHS 8

typedef struct pf_export_opts {
    const char *tuned_path;
    const char *out_dir;
    char archs[PF_EXPORT_MAX_ARCHS][16];
    int n_archs;
    int force; /* replace an existing out_dir */
    int jobs;  /* NVRTC compiles in parallel (0: one per core) */
} pf_export_opts;

typedef struct pf_export_summary {
    int n_entries, n_buckets, n_kernels, host_timed;
    char device[128];
} pf_export_summary;

/* Write the package into a staging directory beside out_dir and rename it
 * into place; on failure nothing is left behind. 0 / -1 (pf_error). */
int pf_export_run(const pf_export_opts *o, pf_export_summary *sum);

#endif
