/* models/gru.c: GRU row kernels (forward beside backward). Gate order r,z,n (PyTorch):
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr) ; z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   reset after:  n = tanh(W_in x + b_in + r (W_hn h + b_hn))
 *   reset before: n = tanh(W_in x + b_in + W_hn (r h) + b_hn)
 *   h' = (1 - z) n + z h */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif
#include "models/cells.h"

NR_KERNEL void nr_gru_row_forward_after(float *restrict g, float *restrict hnl, float *restrict h, const float *restrict gh,
                                        const float *restrict bhh, int H)
{
    float *gr = g, *gz = g + H, *gn = g + 2 * H;
    for (int j = 0; j < H; j++) {
        float r = nr_fsigmoid(gr[j] + gh[j] + bhh[j]);
        float z = nr_fsigmoid(gz[j] + gh[H + j] + bhh[H + j]);
        float hl = gh[2 * H + j] + bhh[2 * H + j]; // W_hn h + b_hn
        float n = nr_ftanh(gn[j] + r * hl);
        h[j] = (1.0f - z) * n + z * h[j];
        hnl[j] = hl;
        gr[j] = r;
        gz[j] = z;
        gn[j] = n;
    }
}

NR_KERNEL void nr_gru_row_backward_after(float *restrict dgi, float *restrict dgh, float *restrict dhd, const float *restrict dh,
                                         const float *restrict g, const float *restrict hnl, const float *restrict hprev,
                                         int H)
{
    const float *gr = g, *gz = g + H, *gn = g + 2 * H;
    for (int j = 0; j < H; j++) {
        float r = gr[j], z = gz[j], n = gn[j];
        float dn = dh[j] * (1.0f - z) * (1.0f - n * n);     // d(pre of n)
        float dz = dh[j] * (hprev[j] - n) * z * (1.0f - z); // d(pre of z)
        float dr = dn * hnl[j] * r * (1.0f - r);            // d(pre of r)
        dgi[j] = dr;
        dgi[H + j] = dz;
        dgi[2 * H + j] = dn;
        dgh[j] = dr;
        dgh[H + j] = dz;
        dgh[2 * H + j] = dn * r; // through r * (W_hn h + b_hn)
        dhd[j] = dh[j] * z;
    }
}

NR_KERNEL void nr_gru_row_forward_before_rz(float *restrict g, float *restrict rh, const float *restrict h, const float *restrict gh_rz,
                                            const float *restrict bhh, int H)
{
    for (int j = 0; j < H; j++) {
        float r = nr_fsigmoid(g[j] + gh_rz[j] + bhh[j]);
        float z = nr_fsigmoid(g[H + j] + gh_rz[H + j] + bhh[H + j]);
        g[j] = r;
        g[H + j] = z;
        rh[j] = r * h[j];
    }
}

NR_KERNEL void nr_gru_row_forward_before_n(float *restrict g, float *restrict h, const float *restrict gh_n,
                                           const float *restrict bhh_n, int H)
{
    for (int j = 0; j < H; j++) {
        float z = g[H + j];
        float n = nr_ftanh(g[2 * H + j] + gh_n[j] + bhh_n[j]);
        g[2 * H + j] = n;
        h[j] = (1.0f - z) * n + z * h[j];
    }
}

NR_KERNEL void nr_gru_row_backward_before_zn(float *restrict dg, float *restrict dhd, const float *restrict dh, const float *restrict g,
                                             const float *restrict hprev, int H)
{
    const float *gz = g + H, *gn = g + 2 * H;
    for (int j = 0; j < H; j++) {
        float z = gz[j], n = gn[j];
        dg[2 * H + j] = dh[j] * (1.0f - z) * (1.0f - n * n);
        dg[H + j] = dh[j] * (hprev[j] - n) * z * (1.0f - z);
        dhd[j] = dh[j] * z;
    }
}

NR_KERNEL void nr_gru_row_backward_before_r(float *restrict dg, float *restrict dhd, const float *restrict drh, const float *restrict g,
                                            const float *restrict hprev, int H)
{
    for (int j = 0; j < H; j++) {
        float r = g[j];
        dg[j] = drh[j] * hprev[j] * r * (1.0f - r); // d(r h)/dr = h
        dhd[j] += drh[j] * r;                        // d(r h)/dh = r
    }
}
