/* cublasGemmGroupedBatchedEx for row-major bf16 operands (cuda_gemm_grouped.h).
 *
 * cuBLAS is column-major; as in cuda_gemm.c each problem computes
 * C_i^T = B_i A_i^T: a row-major [n,k] B_i is the column-major [k,n] matrix
 * (op T, ld k), a row-major [m,k] A_i the column-major [k,m] one (op N,
 * ld k), and C_i^T is column-major [n,m] (ld n), i.e. row-major [m,n].
 * Every problem is its own group (group size 1): the row counts differ.
 *
 * The per-problem pointer tables must live in device memory. One table is
 * kept per handle and reused: an event recorded after each call makes the
 * next call's stream wait before overwriting it, so calls on different
 * streams stay correct. */
#include "device/cuda/cuda_gemm_grouped.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <cublas_v2.h>

#include "core/pf_error.h"

struct pf_cublas_grouped {
    const pf_cu_api *cu;
    cublasHandle_t handle;
    pthread_mutex_t lock; /* the pointer table is shared by all callers */
    CUdeviceptr table;    /* 3 x cap device pointers: B_i, A_i, C_i */
    int cap;
    CUevent done; /* recorded after the last call that read the table */
    int done_recorded;
};

static int blas_check(cublasStatus_t st, const char *call)
{
    if (st == CUBLAS_STATUS_SUCCESS)
        return 0;
    return pf_error_set("%s: %s: %s", call, cublasGetStatusName(st), cublasGetStatusString(st));
}

int pf_cublas_grouped_create(const pf_cu_api *cu, pf_cublas_grouped **out)
{
    pf_cublas_grouped *g = calloc(1, sizeof *g);
    if (!g)
        return pf_error_set("cuBLAS: out of host memory");
    g->cu = cu;
    if (blas_check(cublasCreate(&g->handle), "cublasCreate")) {
        free(g);
        return -1;
    }
    if (pf_cu_check(cu->cuEventCreate(&g->done, CU_EVENT_DISABLE_TIMING),
                    "cuEventCreate(grouped GEMM table)")) {
        cublasDestroy(g->handle);
        free(g);
        return -1;
    }
    pthread_mutex_init(&g->lock, NULL);
    *out = g;
    return 0;
}

void pf_cublas_grouped_destroy(pf_cublas_grouped *g)
{
    if (!g)
        return;
    if (g->done_recorded)
        g->cu->cuEventSynchronize(g->done);
    if (g->table)
        g->cu->cuMemFree(g->table);
    g->cu->cuEventDestroy(g->done);
    cublasDestroy(g->handle);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

/* Grows the device pointer table to `need` problems; the old one may still
 * be read by an earlier call, so that call is waited for first. */
static int table_reserve(pf_cublas_grouped *g, int need)
{
    if (need <= g->cap)
        return 0;
    if (g->done_recorded &&
        pf_cu_check(g->cu->cuEventSynchronize(g->done), "cuEventSynchronize(grouped GEMM)"))
        return -1;
    if (g->table)
        g->cu->cuMemFree(g->table);
    g->table = 0;
    g->cap = 0;
    size_t bytes = (size_t)3 * need * sizeof(void *);
    if (pf_cu_check(g->cu->cuMemAlloc(&g->table, bytes),
                    "cuMemAlloc(%zu bytes, grouped GEMM pointer table)", bytes))
        return -1;
    g->cap = need;
    return 0;
}

/* The host-side arrays of one call, one entry per non-empty problem. */
typedef struct grouped_args {
    cublasOperation_t *ta, *tb;
    int *m, *n, *k, *lda, *ldb, *ldc, *size;
    float *alpha, *beta;
    void **ptrs; /* 3 x groups, uploaded to the table */
} grouped_args;

static void args_free(grouped_args *a)
{
    free(a->ta);
    free(a->tb);
    free(a->m);
    free(a->n);
    free(a->k);
    free(a->lda);
    free(a->ldb);
    free(a->ldc);
    free(a->size);
    free(a->alpha);
    free(a->beta);
    free(a->ptrs);
}

static int args_fill(grouped_args *a, int n, int k, const pf_gemm_problem *p, int count,
                     int groups)
{
    size_t G = (size_t)groups;
    a->ta = malloc(G * sizeof *a->ta);
    a->tb = malloc(G * sizeof *a->tb);
    a->m = malloc(G * sizeof(int));
    a->n = malloc(G * sizeof(int));
    a->k = malloc(G * sizeof(int));
    a->lda = malloc(G * sizeof(int));
    a->ldb = malloc(G * sizeof(int));
    a->ldc = malloc(G * sizeof(int));
    a->size = malloc(G * sizeof(int));
    a->alpha = malloc(G * sizeof(float));
    a->beta = malloc(G * sizeof(float));
    a->ptrs = malloc(3 * G * sizeof(void *));
    if (!a->ta || !a->tb || !a->m || !a->n || !a->k || !a->lda || !a->ldb || !a->ldc ||
        !a->size || !a->alpha || !a->beta || !a->ptrs)
        return pf_error_set("grouped GEMM: out of host memory for %d problems", groups);
    int g = 0;
    for (int i = 0; i < count; i++) {
        if (p[i].m == 0)
            continue;
        a->ta[g] = CUBLAS_OP_T;
        a->tb[g] = CUBLAS_OP_N;
        a->m[g] = n;
        a->n[g] = p[i].m;
        a->k[g] = k;
        a->lda[g] = k;
        a->ldb[g] = k;
        a->ldc[g] = n;
        a->size[g] = 1;
        a->alpha[g] = 1.0f;
        a->beta[g] = 0.0f;
        a->ptrs[g] = (void *)(uintptr_t)p[i].b;
        a->ptrs[G + g] = (void *)(uintptr_t)p[i].a;
        a->ptrs[2 * G + g] = (void *)(uintptr_t)p[i].c;
        g++;
    }
    return 0;
}

static int enqueue(pf_cublas_grouped *g, grouped_args *a, int groups, CUstream stream)
{
    const pf_cu_api *cu = g->cu;
    size_t G = (size_t)groups;
    if (table_reserve(g, groups))
        return -1;
    if (g->done_recorded && pf_cu_check(cu->cuStreamWaitEvent(stream, g->done, 0),
                                        "cuStreamWaitEvent(grouped GEMM table)"))
        return -1;
    /* From pageable memory: returns once the bytes are staged, so `a` may
     * be freed right after. */
    if (pf_cu_check(cu->cuMemcpyHtoDAsync(g->table, a->ptrs, 3 * G * sizeof(void *), stream),
                    "cuMemcpyHtoDAsync(grouped GEMM pointer table)"))
        return -1;
    void **table = (void **)(uintptr_t)g->table;
    if (blas_check(cublasSetStream(g->handle, (cudaStream_t)stream), "cublasSetStream") ||
        blas_check(cublasGemmGroupedBatchedEx(
                       g->handle, a->ta, a->tb, a->m, a->n, a->k, a->alpha,
                       (const void *const *)table, CUDA_R_16BF, a->lda,
                       (const void *const *)(table + G), CUDA_R_16BF, a->ldb, a->beta,
                       table + 2 * G, CUDA_R_16BF, a->ldc, groups, a->size, CUBLAS_COMPUTE_32F),
                   "cublasGemmGroupedBatchedEx"))
        return -1;
    if (pf_cu_check(cu->cuEventRecord(g->done, stream), "cuEventRecord(grouped GEMM)"))
        return -1;
    g->done_recorded = 1;
    return 0;
}

int pf_cublas_grouped_gemm(pf_cublas_grouped *g, int n, int k, const pf_gemm_problem *p,
                           int count, CUstream stream)
{
    if (n <= 0 || k <= 0 || count < 0)
        return pf_error_set("grouped GEMM: n=%d k=%d count=%d (n, k must be positive)", n, k,
                            count);
    int groups = 0;
    for (int i = 0; i < count; i++) {
        if (p[i].m < 0)
            return pf_error_set("grouped GEMM: problem %d has %d rows", i, p[i].m);
        groups += p[i].m > 0;
    }
    if (groups == 0)
        return 0;
    grouped_args a = {0};
    pthread_mutex_lock(&g->lock);
    int rc = args_fill(&a, n, k, p, count, groups) || enqueue(g, &a, groups, stream) ? -1 : 0;
    pthread_mutex_unlock(&g->lock);
    args_free(&a);
    return rc;
}
