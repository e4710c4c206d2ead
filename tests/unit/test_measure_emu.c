/* The measurement loop on the real emu backend: a JIT-compiled dialect
 * kernel is launched through pf_measure_run; samples are host timings and
 * must be labelled "emu-host", and the kernel's results stay correct. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "jit/jit.h"
#include "measure/measure.h"
#include "core/pf_error.h"
#include "pf_test.h"

static const char *kernel_source =
    "#include \"pf_dialect.h\"\n"
    "typedef struct scale_params { const float *in; float *out; float scale; int n; } scale_params;\n"
    "PF_KERNEL(pf_test_scale, scale_params, p)\n"
    "{\n"
    "    int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);\n"
    "    if (i < p.n)\n"
    "        p.out[i] = p.scale * p.in[i] + 1.0f;\n"
    "}\n";

typedef struct scale_params {
    pf_dptr in, out;
    float scale;
    int n;
} scale_params;

typedef struct work {
    pf_device *d;
    pf_module *m;
    scale_params p;
    int launches;
} work;

static int enqueue(void *ctx, pf_stream *s)
{
    work *w = ctx;
    pf_dim3 grid = {(unsigned)(w->p.n + 127) / 128, 1, 1}, block = {128, 1, 1};
    w->launches++;
    return pf_dev_launch(w->d, w->m, "pf_test_scale", grid, block, 0, s, &w->p, sizeof w->p);
}

int main(void)
{
    pf_test_srand(); /* fresh inputs each run; PF_TEST_SEED=N replays one */
    pf_device *d = NULL;
    if (pf_device_open("emu", &d)) {
        fprintf(stderr, "cannot open emu: %s\n", pf_error_get());
        return 1;
    }

    char path[] = "/tmp/pf_test_measure_emu_XXXXXX.cu";
    int fd = mkstemps(path, 3);
    CHECK(fd >= 0 && write(fd, kernel_source, strlen(kernel_source)) == (ssize_t)strlen(kernel_source));
    close(fd);
    pf_variant v;
    memset(&v, 0, sizeof v);
    snprintf(v.source, sizeof v.source, "%s", path);
    snprintf(v.target, sizeof v.target, "emu");
    pf_jit_result r;
    memset(&r, 0, sizeof r);
    int rc = pf_jit_compile(&v, &r);
    unlink(path);
    CHECK_MSG(rc == 0 && r.valid, "%s %s", pf_error_get(), r.log ? r.log : "");
    if (rc || !r.valid)
        return PF_TEST_RESULT();
    work w = {d, NULL, {0, 0, 0.5f + (float)(rand() % 8), 1 + rand() % 3000}, 0};
    CHECK_MSG(pf_dev_module_load(d, &r.bin, &w.m) == 0, "%s", pf_error_get());
    size_t bytes = (size_t)w.p.n * 4;
    float *in = malloc(bytes), *out = malloc(bytes);
    for (int i = 0; i < w.p.n; i++)
        in[i] = (float)(rand() % 1000) / 8.0f;
    CHECK(pf_dev_alloc(d, bytes, "in", &w.p.in) == 0 && pf_dev_alloc(d, bytes, "out", &w.p.out) == 0);
    CHECK(pf_dev_copy_htod(d, w.p.in, in, bytes, NULL) == 0);

    pf_measure_opts o;
    pf_measure_defaults(&o);
    o.min_samples = 5;
    o.max_samples = 5 + rand() % 20;
    o.max_seconds = 10;
    o.stdrel = 0; /* never converges: take exactly max_samples */
    pf_measure_summary s;
    double samples[64];
    rc = pf_measure_run(d, NULL, enqueue, &w, &o, &s, samples);
    CHECK_MSG(rc == 0, "%s", pf_error_get());
    CHECK(strcmp(s.timer, "emu-host") == 0);
    CHECK(s.samples == o.max_samples && !s.converged && w.launches == o.warmup + o.max_samples);
    for (int i = 0; i < s.samples; i++)
        CHECK(samples[i] > 0 && samples[i] >= s.min_ms && samples[i] <= s.max_ms);
    CHECK(s.min_ms <= s.q1_ms && s.q1_ms <= s.median_ms && s.median_ms <= s.q3_ms);
    printf("emu scale kernel n=%d: median %.4f ms over %d samples (%s)\n", w.p.n, s.median_ms,
           s.samples, s.timer);

    CHECK(pf_dev_copy_dtoh(d, out, w.p.out, bytes, NULL) == 0);
    int ok = 1;
    for (int i = 0; i < w.p.n; i++)
        ok &= out[i] == w.p.scale * in[i] + 1.0f;
    CHECK(ok);

    pf_dev_free(d, w.p.in);
    pf_dev_free(d, w.p.out);
    pf_dev_module_unload(d, w.m);
    pf_jit_result_free(&r);
    free(in);
    free(out);
    pf_device_close(d);
    return PF_TEST_RESULT();
}
