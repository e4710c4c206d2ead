/* Grouped bf16 GEMM on the cuda backend (an MoE layer's experts in one
 * call), through cuBLAS's cublasGemmGroupedBatchedEx.
 *
 * cuBLASLt has no grouped form with a different row count per problem
 * (its pointer-array batches share one shape), so this is plain cuBLAS. Like
 * cuBLASLt it runs on the CUDA context current on the calling thread. */
#ifndef PF_CUDA_GEMM_GROUPED_H
#define PF_CUDA_GEMM_GROUPED_H

#include "device/cuda/cuda_driver.h"
#include "device/device.h"

typedef struct pf_cublas_grouped pf_cublas_grouped;

int pf_cublas_grouped_create(const pf_cu_api *cu, pf_cublas_grouped **out);
void pf_cublas_grouped_destroy(pf_cublas_grouped *g);

/* C_i[m_i,n] bf16 = A_i[m_i,k] x B_i^T (B_i [n,k]), fp32 accumulation, for
 * every problem with m_i > 0 (see gemm_bf16_grouped in device.h). */
int pf_cublas_grouped_gemm(pf_cublas_grouped *g, int n, int k, const pf_gemm_problem *p,
                           int count, CUstream stream);

#endif
