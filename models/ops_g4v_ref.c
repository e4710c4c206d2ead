/* Plain C references of the Gemma-4 vision ops (see ops_g4v_ref.h). */
#include "models/ops_g4v_ref.h"

#include <math.h>

#include "kernels/pf_numeric.h"

#define F(h) pf_bf16_to_f32(h)
#define B(f) pf_f32_to_bf16(f)
#define R(f) pf_round_bf16(f)

void pf_g4v_ref_patch_in(const float *pix, uint16_t *out, long long n)
{
    for (long long i = 0; i < n; i++) /* pv.to(bf16); 2 * (pv - 0.5) in bf16 */
        out[i] = B(2.0f * R(R(pix[i]) - 0.5f));
}

void pf_g4v_ref_pos_add(const uint16_t *x, const uint16_t *table, const int *pos, uint16_t *out,
                        int rows, int dim, int npos)
{
    for (long long r = 0; r < rows; r++) {
        int px = pos[2 * r], py = pos[2 * r + 1];
        for (int d = 0; d < dim; d++) {
            long long e = r * dim + d;
            if (px < 0) { /* padding: position embedding 0 */
                out[e] = x[e];
                continue;
            }
            float t = R(F(table[(long long)px * dim + d]) + F(table[((long long)npos + py) * dim + d]));
            out[e] = B(F(x[e]) + t);
        }
    }
}

void pf_g4v_ref_rmsnorm(const uint16_t *x, uint16_t *y, const uint16_t *w, const uint16_t *res,
                        int rows, int n, float eps)
{
    for (long long r = 0; r < rows; r++) {
        const uint16_t *xr = x + r * n;
        double ss = 0;
        for (int i = 0; i < n; i++)
            ss += (double)F(xr[i]) * F(xr[i]);
        float inv = powf((float)(ss / n) + eps, -0.5f);
        for (int i = 0; i < n; i++) {
            float v = F(xr[i]) * inv;
            if (w)
                v *= F(w[i]);
            y[r * n + i] = res ? B(F(res[r * n + i]) + R(v)) : B(v);
        }
    }
}

void pf_g4v_ref_clamp(const uint16_t *x, uint16_t *out, uint16_t lo, uint16_t hi, long long n)
{
    for (long long i = 0; i < n; i++) { /* torch.clamp: min(max(x, lo), hi), NaN stays */
        uint16_t v = F(x[i]) < F(lo) ? lo : x[i];
        out[i] = F(v) > F(hi) ? hi : v;
    }
}

void pf_g4v_ref_rope2d(uint16_t *x, const uint16_t *cos, const uint16_t *sin, const int *pos,
                       int tokens, int heads, int head_dim)
{
    int q = head_dim / 4, half = head_dim / 2;
    for (long long t = 0; t < tokens; t++)
        for (int h = 0; h < heads; h++)
            for (int part = 0; part < 2; part++) { /* x half by column, y half by row */
                uint16_t *v = x + (t * heads + h) * head_dim + part * half;
                const uint16_t *c = cos + (long long)pos[2 * t + part] * q;
                const uint16_t *s = sin + (long long)pos[2 * t + part] * q;
                for (int i = 0; i < q; i++) { /* v*cos + rotate_half(v)*sin */
                    float x1 = F(v[i]), x2 = F(v[i + q]);
                    v[i] = B(R(x1 * F(c[i])) + R(-x2 * F(s[i])));
                    v[i + q] = B(R(x2 * F(c[i])) + R(x1 * F(s[i])));
                }
            }
}

void pf_g4v_ref_pool(const uint16_t *x, const int *cell_ptr, const int *members,
                     const uint16_t *std_bias, const uint16_t *std_scale, uint16_t *out,
                     int cells, int dim, int k)
{
    float wk = 1.0f / (float)(k * k), root = (float)sqrt((double)dim);
    for (int c = 0; c < cells; c++)
        for (int d = 0; d < dim; d++) {
            double s = 0;
            for (int j = cell_ptr[c]; j < cell_ptr[c + 1]; j++)
                s += (double)(F(x[(long long)members[j] * dim + d]) * wk);
            float h = R((float)s) * root;
            if (std_bias)
                h = (h - F(std_bias[d])) * F(std_scale[d]);
            out[(long long)c * dim + d] = B(h);
        }
}
