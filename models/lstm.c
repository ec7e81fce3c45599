/* models/lstm.c: LSTM row kernels (forward beside backward). Gate order i,f,g,o (PyTorch):
 *   i = σ(.)  f = σ(.)  g = tanh(.)  o = σ(.)   with (.) = W_i* x + b_i* + W_h* h + b_h*
 *   c' = f c + i g ;  h' = o tanh(c') */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif
#include "models/cells.h"

/* One unit of the step: the four gate pre-activations (input and recurrent parts and the
 * recurrent bias) -> the activated gates a[4], and c, h updated. Shared by the training and the
 * inference step so that both compute the same bits. */
static inline void lstm_unit(float xi, float xf, float xg, float xo, float *restrict c, float *restrict h,
                             float a[4]) {
    a[0] = nr_fsigmoid(xi);
    a[1] = nr_fsigmoid(xf);
    a[2] = nr_ftanh(xg);
    a[3] = nr_fsigmoid(xo);
    float cn = a[1] * *c + a[0] * a[2]; // c' = f c + i g
    *h = a[3] * nr_ftanh(cn);           // h' = o tanh(c')
    *c = cn;
}

NR_KERNEL void nr_lstm_row_forward(float *restrict g, float *restrict c, float *restrict h,
                                   const float *restrict gh, const float *restrict bhh, int H)
{
    float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    const float *hi = gh, *hf = gh + H, *hg = gh + 2 * H, *ho = gh + 3 * H;
    const float *bi = bhh, *bf = bhh + H, *bg = bhh + 2 * H, *bo = bhh + 3 * H;
    for (int j = 0; j < H; j++) {
        float a[4];
        lstm_unit(gi[j] + hi[j] + bi[j], gf[j] + hf[j] + bf[j], gg[j] + hg[j] + bg[j], go[j] + ho[j] + bo[j],
                  &c[j], &h[j], a);
        gi[j] = a[0]; /* the activated gates, for the backward step */
        gf[j] = a[1];
        gg[j] = a[2];
        go[j] = a[3];
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
        float a[4];
        lstm_unit(gi[j] + hi[j] + bi[j], gf[j] + hf[j] + bf[j], gg[j] + hg[j] + bg[j], go[j] + ho[j] + bo[j],
                  &c[j], &h[j], a);
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
