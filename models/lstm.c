/* models/lstm.c: LSTM row kernels (forward beside backward). Gate order i,f,g,o (PyTorch):
 *   i = σ(.)  f = σ(.)  g = tanh(.)  o = σ(.)   with (.) = W_i* x + b_i* + W_h* h + b_h*
 *   c' = f c + i g ;  h' = o tanh(c') */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif
#include "models/cells.h"

NR_KERNEL void nr_lstm_row_forward(float *restrict g, float *restrict c, float *restrict h,
                                   const float *restrict gh, const float *restrict bhh, int H)
{
    float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    const float *hi = gh, *hf = gh + H, *hg = gh + 2 * H, *ho = gh + 3 * H;
    const float *bi = bhh, *bf = bhh + H, *bg = bhh + 2 * H, *bo = bhh + 3 * H;
    for (int j = 0; j < H; j++) {
        float i = nr_fsigmoid(gi[j] + hi[j] + bi[j]);
        float f = nr_fsigmoid(gf[j] + hf[j] + bf[j]);
        float gc = nr_ftanh(gg[j] + hg[j] + bg[j]);
        float o = nr_fsigmoid(go[j] + ho[j] + bo[j]);
        float cn = f * c[j] + i * gc;     // c' = f c + i g
        h[j] = o * nr_ftanh(cn);          // h' = o tanh(c')
        c[j] = cn;
        gi[j] = i;
        gf[j] = f;
        gg[j] = gc;
        go[j] = o;
    }
}

/* The same step for inference: g only read (the activated gates are not kept), same arithmetic. */
NR_KERNEL void nr_lstm_row_forward_infer(const float *restrict g, float *restrict c, float *restrict h,
                                         const float *restrict gh, const float *restrict bhh, int H)
{
    const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    const float *hi = gh, *hf = gh + H, *hg = gh + 2 * H, *ho = gh + 3 * H;
    const float *bi = bhh, *bf = bhh + H, *bg = bhh + 2 * H, *bo = bhh + 3 * H;
    for (int j = 0; j < H; j++) {
        float i = nr_fsigmoid(gi[j] + hi[j] + bi[j]);
        float f = nr_fsigmoid(gf[j] + hf[j] + bf[j]);
        float gc = nr_ftanh(gg[j] + hg[j] + bg[j]);
        float o = nr_fsigmoid(go[j] + ho[j] + bo[j]);
        float cn = f * c[j] + i * gc;     // c' = f c + i g
        h[j] = o * nr_ftanh(cn);          // h' = o tanh(c')
        c[j] = cn;
    }
}

NR_KERNEL void nr_lstm_row_backward(float *restrict dg, float *restrict dc, const float *restrict dh, const float *restrict g,
                                    const float *restrict cprev, int H)
{
    const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    float *di = dg, *df = dg + H, *dgg = dg + 2 * H, *dO = dg + 3 * H;
    for (int j = 0; j < H; j++) {
        float i = gi[j], f = gf[j], gc = gg[j], o = go[j], cp = cprev[j];
        float tc = nr_ftanh(f * cp + i * gc);              // tanh(c'), c' recomputed
        float dct = dc[j] + dh[j] * o * (1.0f - tc * tc);  // dL/dc' total
        dO[j] = dh[j] * tc * o * (1.0f - o);               // do * σ'
        di[j] = dct * gc * i * (1.0f - i);                 // di * σ'
        df[j] = dct * cp * f * (1.0f - f);                 // df * σ'
        dgg[j] = dct * i * (1.0f - gc * gc);               // dg * tanh'
        dc[j] = dct * f;                                   // dL/dc
    }
}
