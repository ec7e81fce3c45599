/* models/cells.h: the fused per-row kernels of the three cells (internal; used by encoder_recur.c).
 *
 * One call handles one sequence row b at one time step: the caller has already done the GEMMs
 *   gx (G*H) = W_ih x_t + b_ih      (all time steps at once, one GEMM, then overwritten in place
 *                                    by the activated gates, which backward reads)
 *   gh (G*H) = W_hh h_{t-1}         (one GEMM per step for the whole batch)
 * and these kernels add the recurrent bias, apply the nonlinearities and update the state in one
 * pass over the row (vectorised: loops are branch-free, exp is a polynomial, see nr_fexp below).
 * Backward kernels write d(pre-activation) rows; the caller turns them into dh_{t-1} with one GEMM
 * per step and into weight gradients with one GEMM over all steps.
 * Gate order and equations: models/encoder.h.
 */
#ifndef NR_MODELS_CELLS_H
#define NR_MODELS_CELLS_H

/* Kernel files (rnn.c, lstm.c, gru.c) start with `#pragma GCC optimize("O3", "no-trapping-math")`
 * (before any #include): GCC then vectorises their loops as at -O3; NR_KERNEL makes x86-64 clones
 * for AVX-512, AVX2 and the baseline, picked at load time (same machine -> same clone -> same
 * bits). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(NR_NO_CLONES) && \
    !defined(__SANITIZE_THREAD__) /* TSan: ifunc resolvers run before TSan is initialised */
#define NR_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NR_KERNEL
#endif

/* Fast, vectorisable float activations (Cephes polynomials; max relative error ~2 ulp for exp,
 * ~3e-7 absolute for tanh and sigmoid). Inputs are clamped so nothing overflows. */
typedef union { float f; int i; } nr_fbits;

static inline float nr_fexp(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* n = round(x / ln 2) by the 1.5 * 2^23 trick (branch-free, round-to-nearest mode) */
    float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    /* x in [-87, 88] gives n in [-126, 127], so (n + 127) << 23 never shifts a negative value;
     * a NaN x (NaN weights) passes the clamps: n = 0 then (converting NaN to int is undefined)
     * and the NaN goes on through r and y, so the result is NaN as it should be */
    int n = (int)(fn == fn ? fn : 0.0f);
    float r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * r * r + r + 1.0f;
    nr_fbits s;
    s.i = (n + 127) << 23;
    return y * s.f;
}

static inline float nr_fsigmoid(float x)
{
    return 1.0f / (1.0f + nr_fexp(-x));
}

static inline float nr_ftanh(float x)
{
    float ax = x < 0.0f ? -x : x;
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                    1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float e = nr_fexp(2.0f * (ax > 44.0f ? 44.0f : ax));
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}

/* ---- SimpleRNN (models/rnn.c) -------------------------------------------------------------- */
/* g (H): in W_ih x + b_ih, out h' ; h (H): in h, out h' = tanh(g + gh + b_hh) */
void nr_rnn_row_forward(float *g, float *h, const float *gh, const float *bhh, int H);
/* dg (H) = dh * (1 - h'^2), h' = saved g */
void nr_rnn_row_backward(float *dg, const float *dh, const float *g, int H);

/* ---- LSTM (models/lstm.c) -------------------------------------------------------------------- */
/* g (4H): in W_ih x + b_ih, out i,f,g,o ; c, h (H): in c, h, out c', h' */
void nr_lstm_row_forward(float *g, float *c, float *h, const float *gh, const float *bhh, int H);
/* the same step for inference: g (4H) read only (the gates are not kept) */
void nr_lstm_row_forward_infer(const float *g, float *c, float *h, const float *gh, const float *bhh,
                               int H);
/* dg (4H) = d pre-activations ; dc (H): in dL/dc' (from later steps), out dL/dc (c = cprev);
 * dh (H) = dL/dh' ; g = saved i,f,g,o ; cprev = saved c. */
void nr_lstm_row_backward(float *dg, float *dc, const float *dh, const float *g,
                          const float *cprev, int H);

/* ---- GRU (models/gru.c) ---------------------------------------------------------------------- */
/* reset after: g (3H): in W_ih x + b_ih, out r,z,n ; hnl (H) out W_hn h + b_hn ; h in/out */
void nr_gru_row_forward_after(float *g, float *hnl, float *h, const float *gh, const float *bhh,
                              int H);
/* dgi (3H) = d(W_ih x + b_ih), dgh (3H) = d(W_hh h + b_hh), dhd (H) = dh * z (the direct path) */
void nr_gru_row_backward_after(float *dgi, float *dgh, float *dhd, const float *dh, const float *g,
                               const float *hnl, const float *hprev, int H);
/* reset before, step 1: g[0:2H] = r,z from gx + gh_rz + b_hh ; rh (H) = r * h */
void nr_gru_row_forward_before_rz(float *g, float *rh, const float *h, const float *gh_rz,
                                  const float *bhh, int H);
/* reset before, step 2 (after gh_n = W_hn (r*h)): g[2H:3H] = n ; h' = (1-z) n + z h */
void nr_gru_row_forward_before_n(float *g, float *h, const float *gh_n, const float *bhh_n, int H);
/* reset before, backward step 1: dg[H:3H] = dz_pre, dn_pre ; dhd (H) = dh * z */
void nr_gru_row_backward_before_zn(float *dg, float *dhd, const float *dh, const float *g,
                                   const float *hprev, int H);
/* step 2 (after drh = dn_pre W_hn): dg[0:H] = dr_pre = drh * h * r (1-r) ; dhd += drh * r */
void nr_gru_row_backward_before_r(float *dg, float *dhd, const float *drh, const float *g,
                                  const float *hprev, int H);

#endif
