/* Token grouping by expert (g4_params.h): block e walks the routing entries
 * in order, a block-wide exclusive scan per chunk gives each entry of
 * expert e its rank, and the entry lands in slot offset(e) + rank. The
 * order inside an expert is the token order, so the grouping is the same on
 * every run and on every backend. */
#include "pf_dialect.h"
#include "ops/g4_params.h"

PF_KERNEL(g4_moe_gather, pf_g4_moe_gather_params, p)
{
    PF_SHARED(int, scan, PF_G4_GROUP_THREADS);
    int e = (int)blockIdx.x, tid = (int)threadIdx.x, nt = (int)blockDim.x;
    long long base = 0;
    for (int j = 0; j < e; j++)
        base += p.counts[j];
    for (long long c0 = 0; c0 < p.n; c0 += nt) {
        long long i = c0 + tid;
        int flag = i < p.n && p.idx[i] == e;
        scan[tid] = flag;
        __syncthreads();
        for (int off = 1; off < nt; off <<= 1) { /* inclusive Hillis-Steele scan */
            int v = tid >= off ? scan[tid - off] : 0;
            __syncthreads();
            scan[tid] += v;
            __syncthreads();
        }
        if (flag) {
            long long slot = base + scan[tid] - 1;
            p.slot_of[i] = (int)slot;
            p.perm[slot] = (int)(i / p.top_k);
        }
        int total = scan[nt - 1];
        __syncthreads(); /* scan is rewritten by the next chunk */
        base += total;
    }
}
