/* Plain C references of the model ops (see ops_ref.h), written from the
 * facts sheet's formulas, not from the kernels. */
#include "models/ops_ref.h"

#include <math.h>

#include "kernels/pf_numeric.h"

#define F(h) pf_bf16_to_f32(h)
#define B(f) pf_f32_to_bf16(f)

void pf_ref_rmsnorm(const uint16_t *x, uint16_t *y, const uint16_t *w, int rows, int n,
                    float eps)
{
    for (long long r = 0; r < rows; r++) {
        const uint16_t *xr = x + r * n;
        double ss = 0;
        for (int i = 0; i < n; i++)
            ss += (double)F(xr[i]) * F(xr[i]);
        float inv = 1.0f / sqrtf((float)(ss / n) + eps);
        for (int i = 0; i < n; i++)
            y[r * n + i] = B(F(xr[i]) * inv * (1.0f + F(w[i])));
    }
}

void pf_ref_layernorm(const uint16_t *x, uint16_t *y, const uint16_t *w, const uint16_t *b,
                      int rows, int n, float eps)
{
    for (long long r = 0; r < rows; r++) {
        const uint16_t *xr = x + r * n;
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++)
            s += F(xr[i]);
        double mean = s / n;
        for (int i = 0; i < n; i++)
            ss += (F(xr[i]) - mean) * (F(xr[i]) - mean);
        float rstd = 1.0f / sqrtf((float)(ss / n) + eps);
        for (int i = 0; i < n; i++)
            y[r * n + i] = B((F(xr[i]) - (float)mean) * rstd * F(w[i]) + F(b[i]));
    }
}

void pf_ref_gelu(const uint16_t *g, const uint16_t *u, uint16_t *out, long long n)
{
    for (long long i = 0; i < n; i++) {
        /* fp32 like torch (its 1 + tanh cancels for x << 0 exactly as here) */
        float x = F(g[i]), cube = x * x * x;
        float ge = pf_round_bf16(0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * cube))));
        out[i] = u ? B(ge * F(u[i])) : B(ge);
    }
}

void pf_ref_rope(uint16_t *x, const uint16_t *cos, const uint16_t *sin, const int *pos,
                 int tokens, int heads, int head_dim)
{
    int h = head_dim / 2;
    for (long long th = 0; th < (long long)tokens * heads; th++) {
        uint16_t *v = x + th * head_dim;
        const uint16_t *c = cos + (long long)pos[th / heads] * h, *s = sin + (long long)pos[th / heads] * h;
        for (int i = 0; i < h; i++) { /* q*cos + rotate_half(q)*sin, rotate_half = cat(-x2, x1) */
            float x1 = F(v[i]), x2 = F(v[i + h]);
            float a = pf_round_bf16(x1 * F(c[i])) + pf_round_bf16(-x2 * F(s[i]));
            float b = pf_round_bf16(x2 * F(c[i])) + pf_round_bf16(x1 * F(s[i]));
            v[i] = B(a);
            v[i + h] = B(b);
        }
    }
}

void pf_ref_embed(const int *ids, const int *feat_row, const uint16_t *table,
                  const uint16_t *feat, uint16_t *out, int tokens, int hidden, float scale)
{
    for (long long t = 0; t < tokens; t++)
        for (int j = 0; j < hidden; j++)
            out[t * hidden + j] = feat_row && feat_row[t] >= 0
                                      ? feat[(long long)feat_row[t] * hidden + j]
                                      : B(F(table[(long long)ids[t] * hidden + j]) * scale);
}

void pf_ref_add(const uint16_t *a, const uint16_t *b, uint16_t *out, long long n,
                long long b_period)
{
    for (long long i = 0; i < n; i++)
        out[i] = B(F(a[i]) + F(b[b_period ? i % b_period : i]));
}

void pf_ref_avgpool(const uint16_t *x, uint16_t *out, int images, int g, int k, int dim)
{
    int t = g / k;
    for (int img = 0; img < images; img++)
        for (int ty = 0; ty < t; ty++)
            for (int tx = 0; tx < t; tx++)
                for (int d = 0; d < dim; d++) {
                    double s = 0;
                    for (int y = ty * k; y < ty * k + k; y++)
                        for (int xx = tx * k; xx < tx * k + k; xx++)
                            s += F(x[(((long long)img * g + y) * g + xx) * dim + d]);
                    out[(((long long)img * t + ty) * t + tx) * dim + d] = B((float)(s / (k * k)));
                }
}

void pf_ref_bias_round(const float *c, const uint16_t *bias, uint16_t *out, long long m, int n)
{
    for (long long i = 0; i < m * n; i++)
        out[i] = B(c[i] + (bias ? F(bias[i % n]) : 0.0f));
}

void pf_ref_patchify(const float *pix, uint16_t *out, int images, int channels, int size,
                     int patch)
{
    int g = size / patch, cols = channels * patch * patch;
    for (int img = 0; img < images; img++)
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) {
                    long long row = (long long)img * g * g + (y / patch) * g + x / patch;
                    int col = c * patch * patch + (y % patch) * patch + x % patch;
                    out[row * cols + col] =
                        B(pix[(((long long)img * channels + c) * size + y) * size + x]);
                }
}

void pf_ref_copy_cols(const uint16_t *in, int in_cols, uint16_t *out, int out_cols, long long rows,
                      int cols)
{
    for (long long r = 0; r < rows; r++)
        for (int j = 0; j < out_cols; j++)
            out[r * out_cols + j] = j < cols ? in[r * in_cols + j] : 0;
}
