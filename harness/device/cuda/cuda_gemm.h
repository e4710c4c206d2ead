/* bf16 GEMM with fp32 output on the cuda backend, through cuBLASLt.
 *
 * cuBLASLt runs on whatever CUDA context is current on the calling thread;
 * the cuda backend makes its device's primary context current first. */
#ifndef PF_CUDA_GEMM_H
#define PF_CUDA_GEMM_H

#include "device/cuda/cuda_driver.h"

typedef struct pf_cublaslt pf_cublaslt;

/* Creates the cuBLASLt handle and a workspace (device memory via `cu`). */
int pf_cublaslt_create(const pf_cu_api *cu, pf_cublaslt **out);
void pf_cublaslt_destroy(pf_cublaslt *g);

/* C[m,n] fp32 row-major = A[m,k] bf16 row-major x B, with B bf16 [k,n]
 * row-major (b_trans 0) or [n,k] row-major (b_trans 1). */
int pf_cublaslt_gemm_bf16(pf_cublaslt *g, int m, int n, int k, CUdeviceptr a, CUdeviceptr b,
                          int b_trans, CUdeviceptr c, CUstream stream);

#endif
