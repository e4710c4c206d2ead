/* Fiber contexts (harness/device/emu/emu_fiber.c): many fibers switched round-robin
 * keep their own stacks and callee-saved state (each runs a random-length
 * recurrence checked against a plain loop), and each keeps its own FP
 * rounding mode (mxcsr is part of the context). */
#include <fenv.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "device/emu/emu_fiber.h"
#include "pf_test.h"

#define FIBERS 37

static pf_emu_ctx main_ctx, ctx[FIBERS];
static pf_emu_stack stacks[FIBERS];
static unsigned long long results[FIBERS];
static int steps[FIBERS], finished[FIBERS], modes_ok[FIBERS];
static volatile float third_num = 1.0f, third_den = 3.0f;

/* Out of line with volatile operands, so the division runs exactly where it
 * is called (the compiler may not move it across fesetround / a switch). */
static __attribute__((noinline)) float third(void)
{
    return third_num / third_den;
}

static const int modes[4] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};

static void body(void *arg)
{
    int id = (int)(long)arg;
    fesetround(modes[id % 4]);
    float expect = third(); /* rounded in this fiber's mode */
    unsigned long long x = (unsigned long long)id * 2654435761ull + 1;
    int ok = 1;
    for (int i = 0; i < steps[id]; i++) {
        x = x * 6364136223846793005ull + (unsigned long long)i;
        pf_emu_ctx_switch(&ctx[id], &main_ctx);
        ok &= fegetround() == modes[id % 4] && third() == expect;
    }
    results[id] = x;
    modes_ok[id] = ok;
    finished[id] = 1;
    for (;;)
        pf_emu_ctx_switch(&ctx[id], &main_ctx);
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int i = 0; i < FIBERS; i++) {
        steps[i] = 1 + rand() % 500;
        CHECK(pf_emu_stack_alloc(&stacks[i], 32 * 1024) == 0);
        pf_emu_ctx_init(&ctx[i], &stacks[i], body, (void *)(long)i);
    }
    int running = 1;
    while (running) {
        running = 0;
        for (int i = 0; i < FIBERS; i++)
            if (!finished[i]) {
                pf_emu_ctx_switch(&main_ctx, &ctx[i]);
                running = 1;
            }
    }
    CHECK(fegetround() == FE_TONEAREST);
    for (int i = 0; i < FIBERS; i++) {
        unsigned long long x = (unsigned long long)i * 2654435761ull + 1;
        for (int s = 0; s < steps[i]; s++)
            x = x * 6364136223846793005ull + (unsigned long long)s;
        CHECK_MSG(results[i] == x, "fiber %d", i);
        CHECK_MSG(modes_ok[i], "fiber %d lost its rounding mode", i);
        pf_emu_stack_free(&stacks[i]);
    }
    /* the modes really differ: upward and downward give different thirds */
    fesetround(FE_UPWARD);
    float up = third();
    fesetround(FE_DOWNWARD);
    float down = third();
    fesetround(FE_TONEAREST);
    CHECK(up != down);
    return PF_TEST_RESULT();
}
