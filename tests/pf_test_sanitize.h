/* Shared by the checker tests (test_emu_sanitize.c, test_emu_race.c): run
 * one of the planted-bug kernels in kernels/test/ (planted_X.cu holds
 * planted_X and its fixed twin fixed_X, both taking {in, out}) on the emu
 * device under the checks in force, keeping the launch's message and
 * output, and check a failure's message. Include after pf_test.h and
 * pf_test_kernel.h. */
#ifndef PF_TEST_SANITIZE_H
#define PF_TEST_SANITIZE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SAN_IN 1024  /* floats of input (TILES * 256 for the double buffer) */
#define SAN_OUT 64

typedef struct san_run {
    int rc;
    char msg[PF_ERROR_MAX];
    float out[SAN_OUT];
} san_run;

/* Launch `kernel` from kernels/test/<file> as one block of `threads`. */
static inline void san_launch(pf_device *dev, const char *file, const char *kernel, unsigned threads, san_run *r)
{
    memset(r, 0, sizeof *r);
    r->rc = -2;
    pf_module *m = pf_test_load_kernel(dev, "emu", file);
    if (!m)
        return;
    float in[SAN_IN];
    for (int i = 0; i < SAN_IN; i++)
        in[i] = (float)(i % 97) * 0.25f + 1.0f;
    pf_dptr din = 0, dout = 0;
    CHECK(pf_dev_alloc(dev, sizeof in, "sanitize.in", &din) == 0);
    CHECK(pf_dev_alloc(dev, sizeof r->out, "sanitize.out", &dout) == 0);
    CHECK(pf_dev_copy_htod(dev, din, in, sizeof in, NULL) == 0);
    struct {
        const float *in;
        float *out;
    } p = {(const float *)(uintptr_t)din, (float *)(uintptr_t)dout};
    pf_dim3 g = {1, 1, 1}, b = {threads, 1, 1};
    pf_error_clear();
    r->rc = pf_dev_launch(dev, m, kernel, g, b, 0, NULL, &p, sizeof p);
    snprintf(r->msg, sizeof r->msg, "%s", pf_error_get());
    printf("  %s: %s\n", kernel, r->rc ? r->msg : "ok");
    if (r->rc == 0)
        CHECK(pf_dev_copy_dtoh(dev, r->out, dout, sizeof r->out, NULL) == 0);
    pf_dev_free(dev, din);
    pf_dev_free(dev, dout);
    pf_dev_module_unload(dev, m);
}

/* The launch failed with "kernel <kernel>, block (0,0,0): <head>..." and its
 * message holds each of the non-NULL strings in want[0..n). */
static inline void san_expect(const san_run *r, const char *kernel, const char *head,
                              const char *const *want, int n)
{
    CHECK_MSG(r->rc == -1, "%s: not reported", kernel);
    char start[160];
    snprintf(start, sizeof start, "kernel %s, block (0,0,0): %s", kernel, head);
    CHECK_MSG(strstr(r->msg, start) != NULL, "want '%s' in '%s'", start, r->msg);
    for (int k = 0; k < n && want[k]; k++)
        CHECK_MSG(strstr(r->msg, want[k]) != NULL, "want '%s' in '%s'", want[k], r->msg);
}

#endif
