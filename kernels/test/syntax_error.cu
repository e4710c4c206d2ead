/* Deliberately broken kernel: the JIT must report it as an invalid variant
 * (valid = 0, log naming the error) on every target, never crash. Used by
 * tests/unit/test_jit_*.c and tests/integration/compile_*.sh. */
#ifdef __CUDACC_RTC__
#define BROKEN_KERNEL extern "C" __global__ void
#else
#define BROKEN_KERNEL void
#endif

BROKEN_KERNEL syntax_error_kernel(float *out)
{
    float x = 1.0f
    out[0] = x;
}
