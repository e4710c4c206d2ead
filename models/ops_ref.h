/* Plain C references of the model ops (kernels/ops/<op>.cu), on host arrays of
 * bf16 bits, with the same rounding sites; reductions (norm statistics, the
 * pool mean) accumulate in double, so a kernel may differ by one bf16 ulp
 * where its fp32 sum lands on a rounding boundary. Used by the op tests and
 * the C reference forward. */
#ifndef PF_MODEL_OPS_REF_H
#define PF_MODEL_OPS_REF_H

#include <stdint.h>

void pf_ref_rmsnorm(const uint16_t *x, uint16_t *y, const uint16_t *w, int rows, int n,
                    float eps);
void pf_ref_layernorm(const uint16_t *x, uint16_t *y, const uint16_t *w, const uint16_t *b,
                      int rows, int n, float eps);
void pf_ref_gelu(const uint16_t *g, const uint16_t *u, uint16_t *out, long long n);
void pf_ref_rope(uint16_t *x, const uint16_t *cos, const uint16_t *sin, const int *pos,
                 int tokens, int heads, int head_dim);
void pf_ref_embed(const int *ids, const int *feat_row, const uint16_t *table,
                  const uint16_t *feat, uint16_t *out, int tokens, int hidden, float scale);
void pf_ref_add(const uint16_t *a, const uint16_t *b, uint16_t *out, long long n,
                long long b_period);
void pf_ref_avgpool(const uint16_t *x, uint16_t *out, int images, int g, int k, int dim);
void pf_ref_bias_round(const float *c, const uint16_t *bias, uint16_t *out, long long m, int n);
void pf_ref_patchify(const float *pix, uint16_t *out, int images, int channels, int size,
                     int patch);
void pf_ref_copy_cols(const uint16_t *in, int in_cols, uint16_t *out, int out_cols, long long rows,
                      int cols);

#endif
