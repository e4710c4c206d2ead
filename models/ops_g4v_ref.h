/* Plain C references of the Gemma-4 vision op kernels (kernels/ops/g4v_*.cu,
 * launchers in ops_g4v.h), on host arrays of bf16 bits, written from the
 * facts sheet's formulas (../shared/models/gemma4-facts.md sections 0, 4)
 * with the same rounding sites; reductions (norm statistics, the pool sum)
 * accumulate in double, so a kernel may differ by one bf16 ulp where its
 * fp32 sum lands on a rounding boundary. Used by tests/unit/test_g4v_ops.c. */
#ifndef PF_MODEL_OPS_G4V_REF_H
#define PF_MODEL_OPS_G4V_REF_H

#include <stdint.h>

void pf_g4v_ref_patch_in(const float *pix, uint16_t *out, long long n);
void pf_g4v_ref_pos_add(const uint16_t *x, const uint16_t *table, const int *pos, uint16_t *out,
                        int rows, int dim, int npos);
void pf_g4v_ref_rmsnorm(const uint16_t *x, uint16_t *y, const uint16_t *w, const uint16_t *res,
                        int rows, int n, float eps);
void pf_g4v_ref_clamp(const uint16_t *x, uint16_t *out, uint16_t lo, uint16_t hi, long long n);
void pf_g4v_ref_rope2d(uint16_t *x, const uint16_t *cos, const uint16_t *sin, const int *pos,
                       int tokens, int heads, int head_dim);
void pf_g4v_ref_pool(const uint16_t *x, const int *cell_ptr, const int *members,
                     const uint16_t *std_bias, const uint16_t *std_scale, uint16_t *out,
                     int cells, int dim, int k);

#endif
