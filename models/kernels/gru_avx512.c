/* models/kernels/gru_avx512.c: the GRU reset-after step (nr_gru_row_forward_after, models/gru.c)
 * in AVX-512 F intrinsics, with the same bits in every output (h', hnl and the activated gates
 * r,z,n written back into g). Compiled with -mavx512f -ffp-contract=off (CMakeLists.txt) on x86-64
 * only; called only on the avx512 kernel path (nr_kgru_after, kernels.h).
 *
 * Gate order r,z,n (PyTorch), gx = W_ih x + b_ih in g, gh = W_hh h:
 *   r = σ(gx_r + gh_r + b_hr)  z = σ(gx_z + gh_z + b_hz)  hl = gh_n + b_hn
 *   n = tanh(gx_n + r hl) ;  h' = (1 - z) n + z h
 * σ and tanh are act_avx512.h's, the C functions' bits (lstm_avx512.c's header comment); every
 * lane does the scalar loop's float32 operations in the same order, each rounded once.
 * Why faster: as the LSTM step, the exps of several vectors side by side (r and z of 8 vectors =
 * 128 units: 16 chains, then the 8 of n) instead of one vector's chains after another. */
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
block(const int V, float *g, float *hnl, float *h, const float *gh, const float *bhh, int H, int j,
      __mmask16 m)
{
    __m512 e[16], xn[8], hl[8], sm[8], r[8], z[8];
    AUNROLL for (int v = 0; v < V; v++) {
        size_t o = (size_t)j + 16 * v;
        __mmask16 mv = v == V - 1 ? m : (__mmask16)0xffff;
        /* the pre-activations of r and z: gx + gh + b_hh, left to right; their exps' arguments */
        e[2 * v] = VNEG(_mm512_add_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(mv, g + o), _mm512_maskz_loadu_ps(mv, gh + o)),
                                      _mm512_maskz_loadu_ps(mv, bhh + o)));
        e[2 * v + 1] = VNEG(_mm512_add_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(mv, g + H + o),
                                                        _mm512_maskz_loadu_ps(mv, gh + H + o)),
                                          _mm512_maskz_loadu_ps(mv, bhh + H + o)));
    }
    vexp(2 * V, e);
    AUNROLL for (int v = 0; v < V; v++) {
        size_t o = (size_t)2 * H + j + 16 * v;
        __mmask16 mv = v == V - 1 ? m : (__mmask16)0xffff;
        r[v] = sig_post(e[2 * v]);
        z[v] = sig_post(e[2 * v + 1]);
        hl[v] = _mm512_add_ps(_mm512_maskz_loadu_ps(mv, gh + o), _mm512_maskz_loadu_ps(mv, bhh + o));
        xn[v] = _mm512_add_ps(_mm512_maskz_loadu_ps(mv, g + o), _mm512_mul_ps(r[v], hl[v]));
        e[v] = tanh_pre(xn[v], &sm[v]);
    }
    vexp(V, e);
    AUNROLL for (int v = 0; v < V; v++) { /* h' = (1 - z) n + z h */
        size_t o = (size_t)j + 16 * v;
        __mmask16 mv = v == V - 1 ? m : (__mmask16)0xffff;
        __m512 n = tanh_post(xn[v], sm[v], e[v]);
        __m512 hn = _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(VS(1.0f), z[v]), n),
                                  _mm512_mul_ps(z[v], _mm512_maskz_loadu_ps(mv, h + o)));
        _mm512_mask_storeu_ps(h + o, mv, hn);
        _mm512_mask_storeu_ps(hnl + o, mv, hl[v]);
        _mm512_mask_storeu_ps(g + o, mv, r[v]);
        _mm512_mask_storeu_ps(g + H + o, mv, z[v]);
        _mm512_mask_storeu_ps(g + 2 * (size_t)H + o, mv, n);
    }
}

void nr_gru_row_forward_after_avx512(float *g, float *hnl, float *h, const float *gh, const float *bhh,
                                     int H)
{
    int j = 0;
    for (; j + 128 <= H; j += 128)
        block(8, g, hnl, h, gh, bhh, H, j, 0xffff);
    for (; j + 64 <= H; j += 64)
        block(4, g, hnl, h, gh, bhh, H, j, 0xffff);
    for (; j + 16 <= H; j += 16)
        block(1, g, hnl, h, gh, bhh, H, j, 0xffff);
    if (j < H)
        block(1, g, hnl, h, gh, bhh, H, j, (__mmask16)((1u << (H - j)) - 1u));
}

#else
typedef int nr_gru_avx512_unused; /* not an x86-64 AVX-512 build: nothing here */
#endif
