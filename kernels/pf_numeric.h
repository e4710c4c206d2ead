/* bf16 / fp16 storage types and conversions, shared by kernels (NVRTC and
 * the emu host compiler) and host code (reference, CLI, tests).
 *
 * pf_bf16 and pf_f16 are `unsigned short` holding the raw IEEE bits. Treat
 * them as opaque: convert with the functions below, never with a cast.
 *
 * Semantics (bit-exact with CUDA's __float2bfloat16_rn / __float2half_rn):
 *   f32 -> bf16 / f16: round to nearest, ties to even; overflow -> +-Inf;
 *   Inf stays Inf; any NaN becomes the canonical quiet NaN 0x7fff; f16 keeps
 *   subnormals (bf16 has fp32's exponent range, so fp32 subnormals round
 *   into bf16 subnormals). bf16 / f16 -> f32 is exact.
 * Under NVRTC the f32 -> 16-bit conversions are single PTX cvt.rn
 * instructions (sm_80+ for bf16); elsewhere they are integer bit operations.
 *
 * Standalone: host code may include this header directly. Kernels get it
 * through pf_dialect.h, which provides the fixed-width ints under NVRTC. */
#ifndef PF_NUMERIC_H
#define PF_NUMERIC_H

#ifdef __CUDACC_RTC__
#define PF_NUM_FN static __device__ __forceinline__
#else
#include <stdint.h>
#define PF_NUM_FN static inline
#endif

typedef unsigned short pf_bf16;
typedef unsigned short pf_f16;

#define PF_BF16_QNAN ((pf_bf16)0x7fff)
#define PF_F16_QNAN ((pf_f16)0x7fff)

#ifdef __CUDACC_RTC__

PF_NUM_FN float pf_bf16_to_f32(pf_bf16 h)
{
    return __uint_as_float((uint32_t)h << 16);
}

PF_NUM_FN pf_bf16 pf_f32_to_bf16(float f)
{
    unsigned short r;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r) : "f"(f));
    return r;
}

PF_NUM_FN float pf_f16_to_f32(pf_f16 h)
{
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

PF_NUM_FN pf_f16 pf_f32_to_f16(float f)
{
    unsigned short r;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r) : "f"(f));
    return r;
}

/* cvt.rn.{bf16,f16}x2.f32 d, a, b puts a in the upper half, b in the lower. */
PF_NUM_FN uint32_t pf_pack_bf16x2(float lo, float hi)
{
    uint32_t r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

PF_NUM_FN uint32_t pf_pack_f16x2(float lo, float hi)
{
    uint32_t r;
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

#else /* host C / emu */

PF_NUM_FN uint32_t pf_f32_bits(float f)
{
    union { float f; uint32_t u; } v;
    v.f = f;
    return v.u;
}

PF_NUM_FN float pf_f32_from_bits(uint32_t u)
{
    union { float f; uint32_t u; } v;
    v.u = u;
    return v.f;
}

PF_NUM_FN float pf_bf16_to_f32(pf_bf16 h)
{
    return pf_f32_from_bits((uint32_t)h << 16);
}

PF_NUM_FN pf_bf16 pf_f32_to_bf16(float f)
{
    uint32_t u = pf_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return PF_BF16_QNAN;
    /* Adding 0x7fff (+1 when the kept lsb is odd) carries into the kept bits
     * exactly when the dropped half is above (or at, for odd) one half ulp;
     * a carry out of the mantissa bumps the exponent, up to Inf. */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (pf_bf16)(u >> 16);
}

PF_NUM_FN float pf_f16_to_f32(pf_f16 h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) /* Inf / NaN: keep the payload */
        return pf_f32_from_bits(sign | 0x7f800000u | (man << 13));
    if (exp != 0)
        return pf_f32_from_bits(sign | ((exp + 112u) << 23) | (man << 13));
    /* zero or subnormal: man * 2^-24 is exact in fp32 */
    float v = (float)man * pf_f32_from_bits(0x33800000u); /* 2^-24 */
    return pf_f32_from_bits(sign | pf_f32_bits(v));
}

PF_NUM_FN pf_f16 pf_f32_to_f16(float f)
{
    uint32_t x = pf_f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t u = x & 0x7fffffffu;
    if (u > 0x7f800000u)
        return PF_F16_QNAN;
    if (u >= 0x477ff000u) /* >= 65520: rounds past 65504 (or is Inf) */
        return (pf_f16)(sign | 0x7c00u);
    uint32_t exp = u >> 23;
    uint32_t man = (u & 0x7fffffu) | 0x800000u; /* 24-bit significand */
    /* f16 normals have biased f32 exponent >= 113; below that the f16 is
     * subnormal with a fixed 2^-24 quantum: shift the significand so that
     * one f16 unit is bit `shift`. */
    uint32_t shift = exp >= 113u ? 13u : 13u + (113u - exp);
    if (shift > 25u) /* below half the smallest subnormal: +-0 */
        return (pf_f16)sign;
    uint32_t kept = man >> shift;
    uint32_t rest = man & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (kept & 1u)))
        kept++;
    /* normals: add the rebased exponent; a mantissa carry rolls into it */
    if (exp >= 113u)
        kept += (exp - 113u) << 10;
    return (pf_f16)(sign | kept);
}

PF_NUM_FN uint32_t pf_pack_bf16x2(float lo, float hi)
{
    return (uint32_t)pf_f32_to_bf16(lo) | ((uint32_t)pf_f32_to_bf16(hi) << 16);
}

PF_NUM_FN uint32_t pf_pack_f16x2(float lo, float hi)
{
    return (uint32_t)pf_f32_to_f16(lo) | ((uint32_t)pf_f32_to_f16(hi) << 16);
}

#endif

/* x rounded to the nearest bf16 / f16 value, as f32 (reference code that
 * mirrors a kernel's stores uses these). */
PF_NUM_FN float pf_round_bf16(float x) { return pf_bf16_to_f32(pf_f32_to_bf16(x)); }
PF_NUM_FN float pf_round_f16(float x) { return pf_f16_to_f32(pf_f32_to_f16(x)); }

#endif
