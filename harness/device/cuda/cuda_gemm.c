/* cuBLASLt bf16 x bf16 -> fp32 GEMM for row-major operands.
 *
 * cuBLASLt is column-major. A row-major [r,c] buffer is the column-major
 * [c,r] matrix, i.e. its transpose, so we compute C^T = B^T A^T:
 *   D (col-major n x m, ld n) = op(X) * Y, with
 *   X = the B buffer: col-major [n,k] ld n (b_trans 0, op = N) or
 *       col-major [k,n] ld k (b_trans 1, B stored [n,k]; op = T),
 *   Y = the A buffer: col-major [k,m] ld k (op = N). */
#include "device/cuda/cuda_gemm.h"

#include <stdint.h>
#include <stdlib.h>

#include <cublasLt.h>

#include "core/pf_error.h"

#define PF_GEMM_WORKSPACE_BYTES (32u << 20)

struct pf_cublaslt {
    const pf_cu_api *cu;
    cublasLtHandle_t handle;
    CUdeviceptr workspace;
};

static int lt_check(cublasStatus_t st, const char *call)
{
    if (st == CUBLAS_STATUS_SUCCESS)
        return 0;
    return pf_error_set("%s: %s: %s", call, cublasLtGetStatusName(st), cublasLtGetStatusString(st));
}

int pf_cublaslt_create(const pf_cu_api *cu, pf_cublaslt **out)
{
    pf_cublaslt *g = calloc(1, sizeof *g);
    if (!g)
        return pf_error_set("cuBLASLt: out of host memory");
    g->cu = cu;
    if (lt_check(cublasLtCreate(&g->handle), "cublasLtCreate")) {
        free(g);
        return -1;
    }
    if (pf_cu_check(cu->cuMemAlloc(&g->workspace, PF_GEMM_WORKSPACE_BYTES),
                    "cuMemAlloc(%u bytes, cuBLASLt workspace)", PF_GEMM_WORKSPACE_BYTES)) {
        cublasLtDestroy(g->handle);
        free(g);
        return -1;
    }
    *out = g;
    return 0;
}

void pf_cublaslt_destroy(pf_cublaslt *g)
{
    if (!g)
        return;
    if (g->workspace)
        g->cu->cuMemFree(g->workspace);
    cublasLtDestroy(g->handle);
    free(g);
}

typedef struct gemm_descs {
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t x, y, d;
    cublasLtMatmulPreference_t pref;
} gemm_descs;

static void descs_destroy(gemm_descs *ds)
{
    if (ds->pref)
        cublasLtMatmulPreferenceDestroy(ds->pref);
    if (ds->d)
        cublasLtMatrixLayoutDestroy(ds->d);
    if (ds->y)
        cublasLtMatrixLayoutDestroy(ds->y);
    if (ds->x)
        cublasLtMatrixLayoutDestroy(ds->x);
    if (ds->op)
        cublasLtMatmulDescDestroy(ds->op);
}

static int descs_create(gemm_descs *ds, int m, int n, int k, int b_trans)
{
    cublasOperation_t op_x = b_trans ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t op_y = CUBLAS_OP_N;
    uint64_t ws = PF_GEMM_WORKSPACE_BYTES;
    if (lt_check(cublasLtMatmulDescCreate(&ds->op, CUBLAS_COMPUTE_32F, CUDA_R_32F),
                 "cublasLtMatmulDescCreate") ||
        lt_check(cublasLtMatmulDescSetAttribute(ds->op, CUBLASLT_MATMUL_DESC_TRANSA, &op_x,
                                                sizeof op_x),
                 "cublasLtMatmulDescSetAttribute(TRANSA)") ||
        lt_check(cublasLtMatmulDescSetAttribute(ds->op, CUBLASLT_MATMUL_DESC_TRANSB, &op_y,
                                                sizeof op_y),
                 "cublasLtMatmulDescSetAttribute(TRANSB)"))
        return -1;
    if (b_trans) {
        if (lt_check(cublasLtMatrixLayoutCreate(&ds->x, CUDA_R_16BF, k, n, k),
                     "cublasLtMatrixLayoutCreate(B)"))
            return -1;
    } else if (lt_check(cublasLtMatrixLayoutCreate(&ds->x, CUDA_R_16BF, n, k, n),
                        "cublasLtMatrixLayoutCreate(B)")) {
        return -1;
    }
    if (lt_check(cublasLtMatrixLayoutCreate(&ds->y, CUDA_R_16BF, k, m, k),
                 "cublasLtMatrixLayoutCreate(A)") ||
        lt_check(cublasLtMatrixLayoutCreate(&ds->d, CUDA_R_32F, n, m, n),
                 "cublasLtMatrixLayoutCreate(C)") ||
        lt_check(cublasLtMatmulPreferenceCreate(&ds->pref), "cublasLtMatmulPreferenceCreate") ||
        lt_check(cublasLtMatmulPreferenceSetAttribute(
                     ds->pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws),
                 "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)"))
        return -1;
    return 0;
}

int pf_cublaslt_gemm_bf16(pf_cublaslt *g, int m, int n, int k, CUdeviceptr a, CUdeviceptr b,
                          int b_trans, CUdeviceptr c, CUstream stream)
{
    if (m <= 0 || n <= 0 || k <= 0)
        return pf_error_set("gemm_bf16: sizes must be positive (m=%d n=%d k=%d)", m, n, k);
    gemm_descs ds = {0};
    int rc = -1;
    if (descs_create(&ds, m, n, k, b_trans))
        goto out;
    cublasLtMatmulHeuristicResult_t algo;
    int found = 0;
    if (lt_check(cublasLtMatmulAlgoGetHeuristic(g->handle, ds.op, ds.x, ds.y, ds.d, ds.d, ds.pref,
                                                1, &algo, &found),
                 "cublasLtMatmulAlgoGetHeuristic"))
        goto out;
    if (found < 1) {
        pf_error_set("cublasLtMatmulAlgoGetHeuristic: no algorithm for bf16 gemm m=%d n=%d k=%d", m,
                     n, k);
        goto out;
    }
    float alpha = 1.0f, beta = 0.0f;
    if (lt_check(cublasLtMatmul(g->handle, ds.op, &alpha, (const void *)(uintptr_t)b, ds.x,
                                (const void *)(uintptr_t)a, ds.y, &beta, (void *)(uintptr_t)c,
                                ds.d, (void *)(uintptr_t)c, ds.d, &algo.algo,
                                (void *)(uintptr_t)g->workspace, PF_GEMM_WORKSPACE_BYTES,
                                (cudaStream_t)stream),
                 "cublasLtMatmul"))
        goto out;
    rc = 0;
out:
    descs_destroy(&ds);
    return rc;
}
