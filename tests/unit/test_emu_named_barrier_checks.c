/* The emu backend reports named-barrier misuse (kernels/test/
 * planted_named_barrier.cu) with the kernel, threads, barrier id and call
 * site: a warp that skips its pair's barrier (deadlock, exited threads), a
 * named barrier against a __syncthreads, disagreeing thread counts, an
 * arrival of 64 threads that are not whole warps, ids 0 and 16, a count of
 * 48, a block with a partial warp. The correct twin runs and gives the
 * pair's values; the device stays usable after each failure. */
#include <string.h>

#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"
#include "pf_test.h"
#include "pf_test_kernel.h"
#include "pf_test_sanitize.h"

#define FILE_ "planted_named_barrier.cu"

typedef struct bad_case {
    const char *kernel;
    unsigned threads;
    const char *want[3]; /* substrings of the message */
} bad_case;

static const bad_case cases[] = {
    {"planted_named_skip", 128,
     {"deadlock: threads 0-31 wait at named barrier 1 (", FILE_ ":45) for 64 threads, 32 arrived",
      "(exited: 32-63,96-127; at __syncthreads: none)"}},
    {"planted_named_vs_syncthreads", 64,
     {"deadlock: threads 0-31 wait at named barrier 1 (", FILE_ ":53) for 64 threads, 32 arrived",
      "(exited: none; at __syncthreads: 32-63)"}},
    {"planted_named_mismatch", 128,
     {"thread 32 (warp 1 lane 0) calls pf_bar_sync(1, 96) at ", FILE_ ":62 while threads 0-31 wait",
      "at named barrier 1 for 64 threads (first at "}},
    {"planted_named_partial_warp", 96,
     {"named barrier 1 (", "reached its 64 threads with only lanes 0x0000ffff of warp 1",
      "bar.sync takes whole warps"}},
    {"planted_named_id0", 64, {"thread 0 (warp 0 lane 0) calls pf_bar_sync(0, 64) at ", FILE_ ":16",
                               "id must be 1..15"}},
    {"planted_named_id16", 64, {"calls pf_bar_sync(16, 64) at ", FILE_ ":16", "id must be 1..15"}},
    {"planted_named_count48", 64, {"calls pf_bar_sync(1, 48) at ", "positive multiple of 32, at most the block's 64",
                                   NULL}},
    {"planted_named_partial_block", 48, {"calls pf_bar_sync(1, 32) at ", FILE_ ":93",
                                         "the block's 48 threads are not whole warps"}},
};

int main(void)
{
    pf_device *dev = NULL;
    CHECK_MSG(pf_emu_open("sm_80", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    san_run r;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        san_launch(dev, FILE_, c->kernel, c->threads, &r);
        san_expect(&r, c->kernel, "", c->want, 3);
        /* a correct launch still works, with the pair's values */
        san_launch(dev, FILE_, "fixed_named_race", 128, &r);
        CHECK_MSG(r.rc == 0, "after %s: %s", c->kernel, r.msg);
        int bad = 0;
        for (int t = 0; t < 64; t++) { /* out[q*32+l] = 2 * in[64q + (l+1)%32] */
            int src = (t / 32) * 64 + (t % 32 + 1) % 32;
            bad += r.out[t] != ((float)(src % 97) * 0.25f + 1.0f) * 2.0f;
        }
        CHECK_MSG(bad == 0, "after %s: %d wrong values", c->kernel, bad);
    }
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
