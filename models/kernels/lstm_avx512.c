/* models/kernels/lstm_avx512.c: the LSTM inference step (nr_lstm_row_forward_infer, models/lstm.c)
 * in AVX-512 F intrinsics, with the same bits. Compiled with -mavx512f -mfma -ffp-contract=off
 * (CMakeLists.txt) on x86-64 only; called only on the avx512 kernel path (nr_kpath()).
 *
 * Gate order i,f,g,o (PyTorch):
 *   i = σ(.)  f = σ(.)  g = tanh(.)  o = σ(.)   with (.) = gx + gh + b_hh  (gx = W_ih x + b_ih)
 *   c' = f c + i g ;  h' = o tanh(c')
 * σ, tanh and exp are models/cells.h's nr_fsigmoid, nr_ftanh, nr_fexp, operation by operation:
 * every lane does the float32 operations of the scalar code in the same order, each rounded once
 * (nothing fused), so the results are bit for bit those of the compiled C loop on any path
 * (tests/test_lstm_infer.c compares them; NLPRNN_TEST_EXHAUSTIVE=1 there checks the three
 * functions over all 2^32 float inputs). Three rewrites give the same bits on every input:
 *   - n = round(x / ln 2) by vrndscaleps (round to nearest even) instead of (t + 1.5*2^23) -
 *     1.5*2^23: both are the nearest-even integer of t = x*log2(e), |t| < 2^22 (only the sign of
 *     a zero differs, and fn*c then only adds a zero of either sign to x, which is not zero there
 *     or gives +0 both ways);
 *   - y * 2^n by vscalefps (one rounding of the exact y*2^n, as y * float(2^n) is), so no
 *     integer shift and no NaN guard: a NaN x gives a NaN r and y, so a NaN result either way;
 *   - the clamps x < -87 ? -87 : x by vmaxps(-87, x) (vmaxps returns its second operand when
 *     either is NaN, as the C select does) and |x| by clearing the sign bit (only compared and
 *     clamped, where -0 and +0 and the NaNs behave alike).
 * Why faster (not fewer operations): the scalar code's five exps per unit are chains of ~25
 * dependent operations; the compiled loop runs one 16-unit vector's chains after another and
 * waits on their latency. Here 4 vectors (64 units) are done at once, statement by statement, so
 * 16 independent exp chains are in flight (measured: 280-290 ns per row of 128 units against
 * 460-480 ns, docs/benchmarks.md "Run 7"). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <stddef.h>

#include "models/kernels/gemm_isa.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#include "models/kernels/act_avx512.h"

/* Units [j, j + 16V) of the step (the last vector only the lanes of m: loads give 0 elsewhere,
 * stores skip them). */
static inline __attribute__((always_inline)) void
block(const int V, const float *g, float *c, float *h, const float *gh, const float *bhh, int H, int j,
      __mmask16 m)
{
    __m512 x[16], e[16], a[16], sm[4], cn[4], ce[4], tc[4];
    AUNROLL for (int v = 0; v < V; v++)
        AUNROLL for (int q = 0; q < 4; q++) {
            size_t o = (size_t)q * H + j + 16 * v;
            __mmask16 mv = v == V - 1 ? m : (__mmask16)0xffff;
            /* (.) = gx + gh + b_hh, left to right */
            x[4 * v + q] = _mm512_add_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(mv, g + o), _mm512_maskz_loadu_ps(mv, gh + o)),
                                         _mm512_maskz_loadu_ps(mv, bhh + o));
        }
    AUNROLL for (int v = 0; v < V; v++) {
        e[4 * v + 0] = VNEG(x[4 * v + 0]);
        e[4 * v + 1] = VNEG(x[4 * v + 1]);
        e[4 * v + 2] = tanh_pre(x[4 * v + 2], &sm[v]);
        e[4 * v + 3] = VNEG(x[4 * v + 3]);
    }
    vexp(4 * V, e);
    AUNROLL for (int v = 0; v < V; v++) {
        a[4 * v + 0] = sig_post(e[4 * v + 0]);
        a[4 * v + 1] = sig_post(e[4 * v + 1]);
        a[4 * v + 2] = tanh_post(x[4 * v + 2], sm[v], e[4 * v + 2]);
        a[4 * v + 3] = sig_post(e[4 * v + 3]);
    }
    AUNROLL for (int v = 0; v < V; v++) { /* c' = f c + i g */
        __mmask16 mv = v == V - 1 ? m : (__mmask16)0xffff;
        cn[v] = _mm512_add_ps(_mm512_mul_ps(a[4 * v + 1], _mm512_maskz_loadu_ps(mv, c + j + 16 * v)),
                              _mm512_mul_ps(a[4 * v + 0], a[4 * v + 2]));
        ce[v] = tanh_pre(cn[v], &tc[v]);
    }
    vexp(V, ce);
    AUNROLL for (int v = 0; v < V; v++) { /* h' = o tanh(c') */
        __mmask16 mv = v == V - 1 ? m : (__mmask16)0xffff;
        _mm512_mask_storeu_ps(h + j + 16 * v, mv, _mm512_mul_ps(a[4 * v + 3], tanh_post(cn[v], tc[v], ce[v])));
        _mm512_mask_storeu_ps(c + j + 16 * v, mv, cn[v]);
    }
}

void nr_lstm_row_forward_infer_avx512(const float *g, float *c, float *h, const float *gh,
                                      const float *bhh, int H)
{
    int j = 0;
    for (; j + 64 <= H; j += 64)
        block(4, g, c, h, gh, bhh, H, j, 0xffff);
    for (; j + 16 <= H; j += 16)
        block(1, g, c, h, gh, bhh, H, j, 0xffff);
    if (j < H)
        block(1, g, c, h, gh, bhh, H, j, (__mmask16)((1u << (H - j)) - 1u));
}

/* y = f(x) for n values, f: 0 nr_fexp, 1 nr_fsigmoid, 2 nr_ftanh (the step's pieces, for tests) */
void nr_act_avx512(int which, float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i), r, s;
        if (which == 0) {
            vexp(1, &v);
            r = v;
        } else if (which == 1) {
            v = VNEG(v);
            vexp(1, &v);
            r = sig_post(v);
        } else {
            __m512 e = tanh_pre(v, &s);
            vexp(1, &e);
            r = tanh_post(v, s, e);
        }
        _mm512_mask_storeu_ps(y + i, m, r);
    }
}

#else
typedef int nr_lstm_avx512_unused; /* not an x86-64 AVX-512 build: nothing here */
#endif
