/* `pftune export` orchestration: check the archs, read the plan, stage the
 * package in a hidden directory beside the output, rename it into place.
 * A failure removes the staging directory, so nothing half-written is left;
 * --force swaps an existing package out only after the new one is whole. */
#include "export/export.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pf_error.h"
#include "export/export_internal.h"
#include "jit/jit_image.h"

static int check_archs(const pf_export_opts *o)
{
    if (o->n_archs <= 0)
        return pf_error_set("no arch to compile for");
    for (int a = 0; a < o->n_archs; a++) {
        if (strcmp(o->archs[a], "emu") == 0)
            return pf_error_set("emu is not a GPU arch: export compiles for GPUs (e.g. "
                                "--arch sm_80,sm_90)");
        if (pf_jit_nvrtc_arch_check(o->archs[a]) < 0 || pf_target_check(o->archs[a]) < 0)
            return -1;
        for (int b = 0; b < a; b++)
            if (strcmp(o->archs[a], o->archs[b]) == 0)
                return pf_error_set("arch %s given twice", o->archs[a]);
    }
    return 0;
}

/* Staging directory beside out_dir: <parent>/.<name>.<tag>-XXXXXX. */
static int sibling_dir(const char *out_dir, const char *tag, char *out, size_t size)
{
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s", out_dir);
    snprintf(b, sizeof b, "%s", out_dir);
    const char *parent = dirname(a), *name = basename(b);
    struct stat st;
    if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode))
        return pf_error_set("cannot write %s: its directory %s does not exist", out_dir, parent);
    snprintf(out, size, "%s/.%s.%s-XXXXXX", parent, name, tag);
    if (!mkdtemp(out))
        return pf_error_set("cannot write into %s: %s", parent, strerror(errno));
    return 0;
}

static int write_all(pf_export_ctx *c)
{
    return pf_export_kernels(c) < 0 || pf_export_runtime(c) < 0 || pf_export_docs(c) < 0 ? -1 : 0;
}

/* Rename the staged package to out_dir (replacing one when force). */
static int publish(const char *stage, const char *out_dir, int force)
{
    struct stat st;
    if (lstat(out_dir, &st) < 0) {
        if (rename(stage, out_dir) < 0)
            return pf_error_set("cannot rename the package to %s: %s", out_dir, strerror(errno));
        return 0;
    }
    if (!force)
        return pf_error_set("%s already exists (use --force to replace it)", out_dir);
    if (!S_ISDIR(st.st_mode))
        return pf_error_set("%s exists and is not a directory", out_dir);
    char old[1100];
    if (sibling_dir(out_dir, "old", old, sizeof old) < 0)
        return -1;
    if (rename(out_dir, old) < 0) {
        int e = errno;
        rmdir(old);
        return pf_error_set("cannot move the old %s aside: %s", out_dir, strerror(e));
    }
    if (rename(stage, out_dir) < 0) {
        int e = errno;
        rename(old, out_dir);
        return pf_error_set("cannot rename the package to %s: %s", out_dir, strerror(e));
    }
    return pf_export_rmtree(old);
}

int pf_export_run(const pf_export_opts *o, pf_export_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    if (check_archs(o) < 0)
        return -1;
    struct stat st;
    if (!o->force && lstat(o->out_dir, &st) == 0)
        return pf_error_set("%s already exists (use --force to replace it)", o->out_dir);
    pf_export_plan plan;
    if (pf_export_plan_read(o->tuned_path, o->archs, o->n_archs, &plan) < 0)
        return -1;
    char stage[1100];
    if (sibling_dir(o->out_dir, "export", stage, sizeof stage) < 0) {
        pf_export_plan_free(&plan);
        return -1;
    }
    chmod(stage, 0755); /* mkdtemp makes it 0700; a package is for others too */
    pf_export_ctx c = {.plan = &plan, .root = stage, .archs = o->archs, .n_archs = o->n_archs,
                       .jobs = o->jobs};
    int rc = write_all(&c);
    if (!rc)
        rc = publish(stage, o->out_dir, o->force);
    if (rc) {
        char msg[PF_ERROR_MAX];
        snprintf(msg, sizeof msg, "%s", pf_error_get());
        pf_export_rmtree(stage);
        pf_error_set("%s", msg);
    } else {
        sum->n_entries = plan.n_entries;
        sum->n_kernels = plan.n_kernels;
        sum->host_timed = plan.host_timed;
        for (int e = 0; e < plan.n_entries; e++)
            sum->n_buckets += plan.entries[e].n_buckets;
        snprintf(sum->device, sizeof sum->device, "%s", plan.device);
    }
    free(c.res);
    free(c.cubin_bytes);
    free(c.ptx_bytes);
    pf_export_plan_free(&plan);
    return rc;
}
