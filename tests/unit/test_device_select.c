/* Device selection strings: valid forms open the right backend, anything
 * else fails with a message that lists the valid forms. Works with or
 * without a GPU: expectations follow pf_cuda_device_count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "core/pf_error.h"
#include "pf_test.h"

static void expect_open_fails(const char *which, const char *needle)
{
    pf_device *d = (pf_device *)&d; /* must be reset to NULL on failure */
    pf_error_clear();
    int rc = pf_device_open(which, &d);
    CHECK_MSG(rc == -1 && d == NULL && strstr(pf_error_get(), needle),
              "'%s': rc %d, message '%s' (want '%s')", which, rc, pf_error_get(), needle);
    if (rc == 0)
        pf_device_close(d);
}

static void expect_backend(const char *which, const char *backend)
{
    pf_device *d = NULL;
    int rc = pf_device_open(which, &d);
    CHECK_MSG(rc == 0, "'%s': %s", which, pf_error_get());
    if (rc != 0)
        return;
    pf_device_props p;
    CHECK(pf_dev_props(d, &p) == 0);
    CHECK_MSG(strcmp(p.backend, backend) == 0, "'%s' opened %s, want %s", which, p.backend,
              backend);
    CHECK(p.kind == (strcmp(backend, "emu") == 0 ? PF_BACKEND_EMU : PF_BACKEND_CUDA));
    CHECK(p.warp_size == 32 && p.smem_per_block_optin >= p.smem_per_block);
    pf_device_close(d);
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    char why[PF_ERROR_MAX];
    int gpus = pf_cuda_device_count(why, sizeof why);
    CHECK(gpus >= 0);
    CHECK_MSG(gpus > 0 || why[0] != '\0', "no GPU and no reason given");
    printf("GPUs: %d%s%s\n", gpus, gpus ? "" : ", because: ", gpus ? "" : why);
    /* the count is stable and the reason repeatable */
    char why2[PF_ERROR_MAX];
    CHECK(pf_cuda_device_count(why2, sizeof why2) == gpus && strcmp(why, why2) == 0);

    const char *bad[] = {"", "gpu", "CUDA", "cuda0", "cuda:", "cuda:x", "cuda:-1", "cuda:+1",
                         "cuda:1.5", "cuda:99999", "auto ", "emulator"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_open_fails(bad[i], "valid forms: auto, cuda, cuda:N");
    char random_name[32];
    snprintf(random_name, sizeof random_name, "dev%d", rand());
    expect_open_fails(random_name, random_name);

    if (gpus == 0) {
        /* "cuda" names the reason there is no GPU */
        expect_open_fails("cuda", why);
        expect_open_fails("cuda:0", "no GPU");
        expect_backend("auto", "emu");
        expect_backend(NULL, "emu");
    } else {
        expect_backend("auto", "cuda");
        expect_backend("cuda", "cuda");
        expect_backend("cuda:0", "cuda");
        char past[32];
        snprintf(past, sizeof past, "cuda:%d", gpus + rand() % 5);
        expect_open_fails(past, "no such device");
    }
    expect_backend("emu", "emu");
    expect_backend("emu:sm_80", "emu");
    pf_device_close(NULL); /* a no-op */
    return PF_TEST_RESULT();
}
