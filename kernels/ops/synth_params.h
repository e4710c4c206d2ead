/* Synthetic weights drawn where they are used: the host (models/
 * weight_set.c) and the device (kernels/ops/synth.cu) compute element i of a
 * tensor with the same function below, so a preset's weights are bit-
 * identical whichever side made them. A tensor is a recipe (key, amp, base):
 *   z_i = splitmix64(key + (i+1) * 0x9e3779b97f4a7c15)   (the i+1-th draw of
 *         a splitmix64 stream started at key)
 *   u_i = 2 (z_i >> 11) 2^-53 - 1                        (exact, in [-1, 1))
 *   v_i = bf16((float)(u_i * amp + base))                (two double roundings,
 *         never fused: __dmul_rn / __dadd_rn on NVRTC, which would otherwise
 *         contract them into one fma)
 * The model picks key (seed and spec name), amp and base per tensor kind
 * (models/gemma3_weights.c, gemma4_weights.c). Plain C, no system headers:
 * include kernels/pf_numeric.h (the host) or pf_dialect.h (a kernel) first. */
#ifndef PF_SYNTH_PARAMS_H
#define PF_SYNTH_PARAMS_H

#define PF_SYNTH_THREADS 256
#define PF_SYNTH_GOLDEN 0x9e3779b97f4a7c15ull

/* out[i] = pf_synth_value(key, first + i, amp, base) for i < count. */
typedef struct pf_synth_params {
    unsigned short *out;
    long long count, first;
    unsigned long long key;
    double amp, base;
} pf_synth_params;

#ifdef __CUDACC_RTC__
#define PF_SYNTH_MUL(a, b) __dmul_rn(a, b)
#define PF_SYNTH_ADD(a, b) __dadd_rn(a, b)
#else
#define PF_SYNTH_MUL(a, b) ((a) * (b))
#define PF_SYNTH_ADD(a, b) ((a) + (b))
#endif

PF_NUM_FN unsigned short pf_synth_value(unsigned long long key, long long i, double amp,
                                        double base)
{
    unsigned long long z = key + (unsigned long long)(i + 1) * PF_SYNTH_GOLDEN;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    double u = PF_SYNTH_ADD(PF_SYNTH_MUL((double)(z >> 11), 0x1p-52), -1.0);
    return pf_f32_to_bf16((float)PF_SYNTH_ADD(PF_SYNTH_MUL(u, amp), base));
}

#endif
