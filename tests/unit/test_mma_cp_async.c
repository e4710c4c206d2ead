/* The emulated cp.async of kernels/pf_tensorcore.h, outside any block (so
 * the runtime's address checks are off): pf_cp_async_16 copies 16 bytes;
 * pf_cp_async_16_zfill copies exactly src_bytes and zeroes the rest, and
 * with src_bytes == 0 does not touch the source at all (kernels pass a
 * clamped out-of-range pointer): here the source sits right before a
 * PROT_NONE page, so any read past src_bytes would fault. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "device/emu/emu_runtime.h"
#include "pf_test.h"

#define PF_DEVICE static inline
#include "kernels/pf_tensorcore.h"

int main(void)
{
    srand((unsigned)time(NULL));
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    if (map == MAP_FAILED)
        return PF_TEST_RESULT();
    CHECK(mprotect(map + page, (size_t)page, PROT_NONE) == 0);
    unsigned char *end = map + page; /* first unreadable byte */
    for (long i = 0; i < page; i++)
        map[i] = (unsigned char)rand();

    _Alignas(16) unsigned char dst[32];
    int bad = 0;
    for (int src_bytes = 0; src_bytes <= 16; src_bytes++) {
        const unsigned char *src = end - src_bytes; /* readable: exactly src_bytes */
        memset(dst, 0xa5, sizeof dst);
        pf_cp_async_16_zfill(dst, src, src_bytes);
        for (int i = 0; i < 16; i++)
            bad += dst[i] != (i < src_bytes ? src[i] : 0);
        for (int i = 16; i < 32; i++)
            bad += dst[i] != 0xa5; /* nothing past the 16 bytes */
    }
    CHECK_MSG(bad == 0, "zfill: %d wrong bytes", bad);

    /* src_bytes == 0 with a pointer into the PROT_NONE page */
    memset(dst, 0xa5, sizeof dst);
    pf_cp_async_16_zfill(dst, end + 64, 0);
    int nonzero = 0;
    for (int i = 0; i < 16; i++)
        nonzero += dst[i] != 0;
    CHECK(nonzero == 0 && dst[16] == 0xa5);

    const unsigned char *src = map + 16 * (rand() % (int)(page / 16));
    memset(dst, 0, sizeof dst);
    pf_cp_async_16(dst + 16, src);
    CHECK(memcmp(dst + 16, src, 16) == 0);
    CHECK(dst[15] == 0);
    pf_cp_async_commit();
    pf_cp_async_wait(0);
    pf_cp_async_wait(1);
    munmap(map, (size_t)page * 2);
    return PF_TEST_RESULT();
}
