/* models/kernels/gemv_tmpl.h: the few-row products that stream op(B) once, unpacked (nr_kgemv,
 * kernels.h), included by gemm_avx2.c and gemm_avx512.c after their GEMM, which first define:
 *
 *   KP                     the path's suffix: the function defined here is nr_kgemv_KP
 *   V, VW                  the vector type and its width in floats (__m256, 8 / __m512, 16)
 *   V_ZERO(), V_SET1(x), V_LOAD(p), V_FMA(a, b, c) = a*b + c fused, V_MUL(a, b), V_ADD(a, b)
 *   V_LOADN(p, n)          lanes c < n from p, the others 0 (n in 1..VW; nothing read past n)
 *   V_STOREN(p, n, v)      lanes c < n to p (nothing written past n)
 *   V_HALF8(v)             the 8-lane __m256 lo + hi (AVX-512) or v itself (AVX2)
 *   GV_CVTPH(p)            VW float16 values at p (uint16_t *) widened exactly to a V (F16C)
 *   GV_CVTI8(p)            VW int8 values at p (int8_t *) converted exactly to a V of floats
 *   GV_RNT(NB)             rows of B per block of the transposed case for NB rows of A
 *   GV_NBMAX (optional)    most rows of A per pass of the transposed case, 3 or 4 (default 4)
 *   GV_PF (optional)       prefetch B GV_PF rows ahead in the transposed case
 *
 * Shapes (row-major): C (M,N) = alpha A (M,K) op(B) (K,N) + beta C, A not transposed.
 *
 * transB = 1, B (N,K): every element is a dot product of a row of A with a row of B. Blocks of
 * R rows of B and NB <= GV_NBMAX rows of A keep R*NB vector accumulators; per VW columns of k: NB
 * loads of A, R loads of B, R*NB FMAs (lanes c accumulate k = c, c+VW, ...; the last piece of k
 * loaded masked). Then each accumulator is summed lane-wise in one fixed order (hsum8: AVX-512
 * first adds its two 8-lane halves, then ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7))), 8 or 4 rows of B
 * at once where there are 8 or 4 (the same additions lane by lane, so the same bits). B is never
 * packed; it is taken in blocks of 32 KiB of rows, which every group of NB rows of A sweeps in
 * turn: read from memory once, from L1 by the later groups. (AVX2, 16 registers: groups of 3
 * rows of A with 4 rows of B, 12 accumulators; AVX-512, 32: 3 with 8, 4 with 4.)
 *
 * transB = 0, B (K,N): per row of A, column tiles of up to 8 vectors; per k a broadcast of
 * A[k] and one FMA per vector, k increasing in blocks of NR_KC, combined with C as the GEMM's
 * tiles do (first block alpha*acc + beta*C, C not read when beta = 0; later ones C + alpha*acc):
 * the same bits as nr_kgemm on this path, for any M.
 *
 * nr_kgemv_f16 is the transposed case with B (N,K) stored as float16: each VW halves are loaded
 * and widened exactly (vcvtph2ps) where the float32 case loads VW floats, and the rest is the same
 * code, so its bits are nr_kgemv's on the float32 B holding the same values, for half the bytes.
 * nr_kgemv_i8 is the same with B (N,K) stored as int8 rows q with a float32 scale s_j each: VW
 * bytes are loaded, converted exactly to floats (vpmovsxbd, vcvtdq2ps) and multiplied by s_j in
 * float32 (one rounding: fl(q * s_j), the value nr_dequant_i8_row gives the float32 block), then
 * the same FMA: the bits of nr_kgemv on the widened B, for a quarter of its bytes.
 *
 * Rounding: an element of C depends on its row of A, its row or column of B, K, alpha, beta and
 * the path only (not on M, N or where it sits). For transB = 1 the order of the sum differs from
 * the GEMM's (one chain over k): the same product from nr_kgemm differs in the last bits.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef GV_NBMAX
#define GV_NBMAX 4
#endif
#define GV_RMAX 8
#ifndef GV_BBLOCK
#define GV_BBLOCK 8192 /* floats of B (32 KiB) swept by every group of rows of A */
#endif

/* ((s0+s1)+(s2+s3)) + ((s4+s5)+(s6+s7)) of the lanes of s */
static inline float KFN(hsum8)(__m256 s)
{
    __m256 h = _mm256_hadd_ps(s, s);
    h = _mm256_hadd_ps(h, h);
    return _mm_cvtss_f32(_mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
}

/* the 8 sums hsum8(s[r]), r = 0..7, in one vector: the same order of additions lane by lane */
static inline __m256 KFN(hsum8x8)(const __m256 *s)
{
    __m256 t01 = _mm256_hadd_ps(s[0], s[1]), t23 = _mm256_hadd_ps(s[2], s[3]);
    __m256 t45 = _mm256_hadd_ps(s[4], s[5]), t67 = _mm256_hadd_ps(s[6], s[7]);
    __m256 u0 = _mm256_hadd_ps(t01, t23), u1 = _mm256_hadd_ps(t45, t67);
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20),
                         _mm256_permute2f128_ps(u0, u1, 0x31));
}

/* the 4 sums hsum8(s[r]), r = 0..3, in one vector: the same order of additions lane by lane */
static inline __m128 KFN(hsum8x4)(const __m256 *s)
{
    __m256 u = _mm256_hadd_ps(_mm256_hadd_ps(s[0], s[1]), _mm256_hadd_ps(s[2], s[3]));
    return _mm_add_ps(_mm256_castps256_ps128(u), _mm256_extractf128_ps(u, 1));
}

/* VW float16 values at p widened exactly (vcvtph2ps), and the first n of them, the others 0 (a
 * zero half widens to +0.0f, as V_LOADN's lanes: the same sums) */
static inline V KFN(gv_loadh)(const uint16_t *p) { return GV_CVTPH(p); }
static inline V KFN(gv_loadhn)(const uint16_t *p, int n)
{
    uint16_t t[VW] = {0};
    memcpy(t, p, (size_t)n * sizeof *p);
    return GV_CVTPH(t);
}

/* fl(q * s) of VW int8 values q at p (exactly converted, then one float32 multiply: the values
 * nr_dequant_i8_row writes), and of the first n of them, the others 0 * s = +0.0f (s >= 0 and
 * finite) */
static inline V KFN(gv_loadq)(const int8_t *p, V s) { return V_MUL(GV_CVTI8(p), s); }
static inline V KFN(gv_loadqn)(const int8_t *p, int n, V s)
{
    int8_t t[VW] = {0};
    memcpy(t, p, (size_t)n);
    return V_MUL(GV_CVTI8(t), s);
}

/* the element types of B in the transposed case */
enum { GV_F32 = 0, GV_F16 = 1, GV_I8 = 2 };
static const size_t KFN(gv_esize)[3] = {sizeof(float), sizeof(uint16_t), sizeof(int8_t)};

/* C (NB, R) = alpha A (NB,K) B^T + beta C, B = R rows (R,K) of element type ET: GV_F32 (Bv a
 * float *), GV_F16 (Bv a uint16_t *, each half widened exactly before the same FMA) or GV_I8 (Bv
 * an int8_t *, row r's values fl(q * S[r]) before the same FMA): the same bits as the float32 B
 * holding the same values. S (R) is read for GV_I8 only. */
static inline __attribute__((always_inline)) void
KFN(gemv_nt_block)(const int R, const int NB, const int ET, int K, float alpha,
                   const float *restrict A, int lda, const void *restrict Bv,
                   const float *restrict S, int ldb, float beta, float *restrict C, int ldc)
{
    const float *restrict B = (const float *)Bv;
    const uint16_t *restrict Bh = (const uint16_t *)Bv;
    const int8_t *restrict Bq = (const int8_t *)Bv;
    V acc[GV_RMAX][GV_NBMAX]; // (R, NB) lanes
    V sv[GV_RMAX];            // (R) the rows' scales (GV_I8)
    KUNROLL for (int r = 0; r < R; r++) {
        sv[r] = ET == GV_I8 ? V_SET1(S[r]) : V_ZERO();
        KUNROLL for (int b = 0; b < NB; b++)
            acc[r][b] = V_ZERO();
    }
    int k = 0;
    for (; k + VW <= K; k += VW) {
        V x[GV_NBMAX]; // (NB) A[b][k : k+VW]
        KUNROLL for (int b = 0; b < NB; b++)
            x[b] = V_LOAD(A + (size_t)b * lda + k);
        KUNROLL for (int r = 0; r < R; r++) {
            V w = ET == GV_F16  ? KFN(gv_loadh)(Bh + (size_t)r * ldb + k)
                  : ET == GV_I8 ? KFN(gv_loadq)(Bq + (size_t)r * ldb + k, sv[r])
                                : V_LOAD(B + (size_t)r * ldb + k);
#ifdef GV_PF /* fetch the same place GV_PF rows on (one prefetch a cache line: AVX-512) */
            _mm_prefetch((const char *)Bv + ((size_t)(r + GV_PF) * ldb + k) * KFN(gv_esize)[ET],
                         _MM_HINT_T0);
#endif
            KUNROLL for (int b = 0; b < NB; b++)
                acc[r][b] = V_FMA(w, x[b], acc[r][b]);
        }
    }
    if (k < K) { /* the last K - k < VW columns; the other lanes add exact zeros */
        V x[GV_NBMAX];
        KUNROLL for (int b = 0; b < NB; b++)
            x[b] = V_LOADN(A + (size_t)b * lda + k, K - k);
        KUNROLL for (int r = 0; r < R; r++) {
            V w = ET == GV_F16  ? KFN(gv_loadhn)(Bh + (size_t)r * ldb + k, K - k)
                  : ET == GV_I8 ? KFN(gv_loadqn)(Bq + (size_t)r * ldb + k, K - k, sv[r])
                                : V_LOADN(B + (size_t)r * ldb + k, K - k);
            KUNROLL for (int b = 0; b < NB; b++)
                acc[r][b] = V_FMA(w, x[b], acc[r][b]);
        }
    }
    KUNROLL for (int b = 0; b < NB; b++) {
        float *c = C + (size_t)b * ldc;
        if (R == 8) {
            __m256 h[8];
            KUNROLL for (int r = 0; r < 8; r++)
                h[r] = V_HALF8(acc[r][b]);
            __m256 v = _mm256_mul_ps(_mm256_set1_ps(alpha), KFN(hsum8x8)(h));
            if (beta != 0.0f)
                v = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c), v);
            _mm256_storeu_ps(c, v);
        } else if (R == 4) {
            __m256 h[4];
            KUNROLL for (int r = 0; r < 4; r++)
                h[r] = V_HALF8(acc[r][b]);
            __m128 v = _mm_mul_ps(_mm_set1_ps(alpha), KFN(hsum8x4)(h));
            if (beta != 0.0f)
                v = _mm_fmadd_ps(_mm_set1_ps(beta), _mm_loadu_ps(c), v);
            _mm_storeu_ps(c, v);
        } else {
            KUNROLL for (int r = 0; r < R; r++) {
                float v = alpha * KFN(hsum8)(V_HALF8(acc[r][b]));
                c[r] = beta != 0.0f ? fmaf(beta, c[r], v) : v;
            }
        }
    }
}

/* C (NB, N) = alpha A (NB,K) B^T + beta C, B (N,K) of element type ET (S (N): the rows' scales,
 * GV_I8): blocks of R rows of B, the rest one by one */
static inline __attribute__((always_inline)) void
KFN(gemv_nt_rows)(const int R, const int NB, const int ET, int N, int K, float alpha,
                  const float *A, int lda, const void *B, const float *S, int ldb, float beta,
                  float *C, int ldc)
{
    size_t es = KFN(gv_esize)[ET];
    const char *b = (const char *)B;
    int j = 0;
    for (; j + R <= N; j += R)
        KFN(gemv_nt_block)(R, NB, ET, K, alpha, A, lda, b + (size_t)j * ldb * es, S ? S + j : S,
                           ldb, beta, C + j, ldc);
    for (; j < N; j++)
        KFN(gemv_nt_block)(1, NB, ET, K, alpha, A, lda, b + (size_t)j * ldb * es, S ? S + j : S,
                           ldb, beta, C + j, ldc);
}

/* the transposed case for B (N,K) of element type ET: blocks of rows of B of about GV_BBLOCK
 * elements (a multiple of 8 rows): every group of GV_NBMAX rows of A sweeps a block while it is
 * in L1, so B comes from memory once */
static inline __attribute__((always_inline)) void
KFN(gemv_nt)(const int ET, int M, int N, int K, float alpha, const float *A, int lda,
             const void *B, const float *S, int ldb, float beta, float *C, int ldc)
{
    size_t es = KFN(gv_esize)[ET];
    int jb = K < GV_BBLOCK / 8 ? GV_BBLOCK / K / 8 * 8 : 8;
    for (int j0 = 0; j0 < N; j0 += jb) {
        int n = N - j0 < jb ? N - j0 : jb;
        const void *b = (const char *)B + (size_t)j0 * ldb * es;
        const float *s = S ? S + j0 : S;
        for (int i = 0, nb; i < M; i += nb) {
            const float *a = A + (size_t)i * lda;
            float *c = C + (size_t)i * ldc + j0;
            nb = M - i < GV_NBMAX ? M - i : GV_NBMAX;
#define GV_NT(NB)                                                                                  \
    KFN(gemv_nt_rows)(GV_RNT(NB), NB, ET, n, K, alpha, a, lda, b, s, ldb, beta, c, ldc)
            switch (nb) {
            case 1: GV_NT(1); break;
            case 2: GV_NT(2); break;
#if GV_NBMAX > 3
            case 3: GV_NT(3); break;
            default: GV_NT(4); break;
#else
            default: GV_NT(3); break;
#endif
            }
#undef GV_NT
        }
    }
}

/* c (1, P*VW, the last vector nlast lanes) = alpha a (1,K) B (K, .) + beta c, k blocks of NR_KC */
static inline __attribute__((always_inline)) void
KFN(gemv_nn_tile)(const int P, int K, float alpha, const float *restrict a,
                  const float *restrict B, int ldb, float beta, float *restrict c, int nlast)
{
    for (int k0 = 0; k0 < K; k0 += NR_KC) {
        int k1 = K - k0 < NR_KC ? K : k0 + NR_KC;
        V acc[8]; // (P) lanes
        KUNROLL for (int p = 0; p < P; p++)
            acc[p] = V_ZERO();
        for (int k = k0; k < k1; k++) {
            V x = V_SET1(a[k]);
            const float *b = B + (size_t)k * ldb;
            KUNROLL for (int p = 0; p < P - 1; p++)
                acc[p] = V_FMA(x, V_LOAD(b + p * VW), acc[p]);
            acc[P - 1] = V_FMA(x, V_LOADN(b + (P - 1) * VW, nlast), acc[P - 1]);
        }
        V va = V_SET1(alpha), vb = V_SET1(beta);
        KUNROLL for (int p = 0; p < P; p++) {
            int n = p == P - 1 ? nlast : VW;
            V v = V_MUL(va, acc[p]);
            if (k0 > 0)
                v = V_ADD(V_LOADN(c + p * VW, n), v);
            else if (beta != 0.0f)
                v = V_FMA(vb, V_LOADN(c + p * VW, n), v);
            V_STOREN(c + p * VW, n, v);
        }
    }
}

void KFN(nr_kgemv)(int transB, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc)
{
    if (transB) {
        KFN(gemv_nt)(GV_F32, M, N, K, alpha, A, lda, B, NULL, ldb, beta, C, ldc);
        return;
    }
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        float *c = C + (size_t)i * ldc;
        int j = 0;
        for (; j + 8 * VW <= N; j += 8 * VW)
            KFN(gemv_nn_tile)(8, K, alpha, a, B + j, ldb, beta, c + j, VW);
        if (j < N) {
            int n = N - j, P = (n + VW - 1) / VW, nlast = n - (P - 1) * VW;
            switch (P) {
#define GV_NN(P_)                                                                                  \
    case P_: KFN(gemv_nn_tile)(P_, K, alpha, a, B + j, ldb, beta, c + j, nlast); break;
                GV_NN(1) GV_NN(2) GV_NN(3) GV_NN(4) GV_NN(5) GV_NN(6) GV_NN(7)
#undef GV_NN
            default: break;
            }
        }
    }
}

/* C (M,N) = alpha A (M,K) B^T + beta C with B (N,K) float16 (nr_kgemv_f16, kernels.h): the
 * transposed case above reading halves, each widened exactly before its FMA */
void KFN(nr_kgemv_f16)(int M, int N, int K, float alpha, const float *A, int lda,
                       const uint16_t *B, int ldb, float beta, float *C, int ldc)
{
    KFN(gemv_nt)(GV_F16, M, N, K, alpha, A, lda, B, NULL, ldb, beta, C, ldc);
}

/* C (M,N) = alpha A (M,K) W^T + beta C with W (N,K) = fl(B (N,K) int8 * scale (N) by row)
 * (nr_kgemv_i8, kernels.h): the transposed case above reading bytes, each converted exactly and
 * multiplied by its row's scale before its FMA */
void KFN(nr_kgemv_i8)(int M, int N, int K, float alpha, const float *A, int lda, const int8_t *B,
                      const float *scale, int ldb, float beta, float *C, int ldc)
{
    KFN(gemv_nt)(GV_I8, M, N, K, alpha, A, lda, B, scale, ldb, beta, C, ldc);
}
