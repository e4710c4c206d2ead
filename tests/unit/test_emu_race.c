/* --sanitize race (a -DPF_TSAN=ON build only; tests.cmake skips this file
 * elsewhere): each planted bug in kernels/test/ fails its launch with a
 * data-race report naming the kernel, the block, both threads (block-relative
 * and lane), the access kinds, both source lines and the buffer; its fixed
 * twin runs clean (named barriers too: a pair of warps reading each
 * other's writes needs its barrier, and that barrier does not order the
 * other pairs). TSan's own report (both stacks) goes to stderr. */
#include <stdlib.h>
#include <string.h>

#include "core/pf_sanitize.h"
#include "device/device.h"
#include "jit/jit.h"
#include "core/pf_error.h"
#include "pf_test.h"
#include "pf_test_kernel.h"
#include "pf_test_sanitize.h"

static pf_device *dev;

typedef struct race_case {
    const char *file, *bug, *fixed;
    unsigned threads;
    const char *want[4]; /* substrings of the report */
} race_case;

static const race_case cases[] = {
    {"planted_missing_sync.cu", "planted_missing_sync", "fixed_missing_sync", 64,
     {"__shared__ array 'slot'", "planted_missing_sync.cu:11", "planted_missing_sync.cu:12",
      "(warp 1 lane "}},
    {"planted_missing_sync.cu", "planted_reuse_sync", "fixed_reuse_sync", 64,
     {"__shared__ array 'slot'", "planted_missing_sync.cu:33", "planted_missing_sync.cu:34", "(warp 1 lane "}},
    {"planted_cp_async_nowait.cu", "planted_cp_async_nowait", "fixed_cp_async_nowait", 64,
     {"__shared__ array 'tile'", "bytes by cp.async unit of block (0,0,0) thread",
      "planted_cp_async_nowait.cu:12", "planted_cp_async_nowait.cu:15"}},
    {"planted_warp_lockstep.cu", "planted_warp_lockstep", "fixed_warp_lockstep", 32,
     {"__shared__ array 'part'", "planted_warp_lockstep.cu:16", "(warp 0 lane ", "read of 4 bytes"}},
    {"planted_double_buffer.cu", "planted_double_buffer", "fixed_double_buffer", 64,
     {"__shared__ array 'buf'", "cp.async unit of block (0,0,0)", "planted_double_buffer.cu:13",
      "planted_double_buffer.cu:27"}},
    /* a named barrier orders its pair of warps, and only them */
    {"planted_named_barrier.cu", "planted_named_nosync", "fixed_named_race", 64,
     {"__shared__ array 'slot'", "planted_named_barrier.cu:14", "planted_named_barrier.cu:18", "(warp 1 lane "}},
    {"planted_named_barrier.cu", "planted_named_cross", "fixed_named_race", 128,
     {"__shared__ array 'slot'", "planted_named_barrier.cu:14", "planted_named_barrier.cu:18", NULL}},
};

int main(void)
{
    CHECK_MSG(pf_sanitize_set(PF_SAN_RACE, 1) == 0, "%s", pf_error_get());
    CHECK_MSG(pf_emu_open("sm_80", &dev) == 0, "%s", pf_error_get());
    if (!dev)
        return PF_TEST_RESULT();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const race_case *c = &cases[i];
        san_run r;
        san_launch(dev, c->file, c->bug, c->threads, &r);
        san_expect(&r, c->bug, "data race on ", c->want, 4);
        san_launch(dev, c->file, c->fixed, c->threads, &r);
        CHECK_MSG(r.rc == 0, "%s: false alarm: %s", c->fixed, r.msg);
    }
    /* races under chaos scheduling too, and the twins stay clean */
    CHECK(pf_sanitize_set(PF_SAN_RACE | PF_SAN_CHAOS, 7) == 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        san_run r;
        san_launch(dev, cases[i].file, cases[i].fixed, cases[i].threads, &r);
        CHECK_MSG(r.rc == 0, "%s under chaos: false alarm: %s", cases[i].fixed, r.msg);
    }
    pf_device_close(dev);
    return PF_TEST_RESULT();
}
