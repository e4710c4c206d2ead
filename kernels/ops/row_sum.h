/* Block-wide float sum for the row ops: warp shuffles, then one shared slot
 * per warp. Every thread gets the total. part: PF_OPS_ROW_THREADS/32 floats. */
#ifndef PF_OPS_ROW_SUM_H
#define PF_OPS_ROW_SUM_H

PF_DEVICE float pf_row_sum(float v, float *part)
{
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    int warp = (int)(threadIdx.x >> 5), nw = (int)(blockDim.x >> 5);
    if ((threadIdx.x & 31u) == 0)
        part[warp] = v;
    __syncthreads();
    float t = 0.0f;
    for (int i = 0; i < nw; i++)
        t += part[i];
    __syncthreads(); /* part may be reused by the next call */
    return t;
}

#endif
