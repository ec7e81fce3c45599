/* models/rnn.c: SimpleRNN row kernels (forward beside backward).  h' = tanh(W_ih x + b_ih + W_hh h + b_hh) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif
#include "models/cells.h"

NR_KERNEL void nr_rnn_row_forward(float *restrict g, float *restrict h, const float *restrict gh, const float *restrict bhh, int H)
{
    for (int j = 0; j < H; j++) {
        float hn = nr_ftanh(g[j] + gh[j] + bhh[j]); // h' = tanh(pre)
        g[j] = hn;
        h[j] = hn;
    }
}

NR_KERNEL void nr_rnn_row_backward(float *restrict dg, const float *restrict dh, const float *restrict g, int H)
{
    for (int j = 0; j < H; j++)
        dg[j] = dh[j] * (1.0f - g[j] * g[j]); // d pre = dh (1 - h'^2)
}
