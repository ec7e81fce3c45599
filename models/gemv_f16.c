/* models/gemv_f16.c: Y (nb,M) = X (nb,K) W^T with W stored as float16 (see gemv_f16.h).
 *
 *   y[b][i] = sum_k f32(W[i][k]) * x[b][k]        f32(.) = exact binary16 -> binary32 widening
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the R x NB loops below must unroll so the accumulators stay in registers */
#endif
#include "models/gemv_f16.h"

#include <string.h>

#include "models/kernels/kernels.h"
#include "models/quant.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NR_HAVE_AVX2_F16 1
#include <cpuid.h>
#include <stdatomic.h>
#include <immintrin.h>
/* models/kernels/gemv_f16_avx512.c */
void nr_gemm_f16_avx512(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw,
                        int M, int K, int nb);
#endif

/* ---- portable kernel -------------------------------------------------------------------------- */

#define SCALAR_CHUNK 256

/* For each row i: widen W[i][k0:k1] into wf (at most SCALAR_CHUNK floats), then
 * y[b][i] += dot(wf, x[b][k0:k1]) for every batch row b. */
static void gemm_f16_scalar(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw,
                            int M, int K, int nb)
{
    float wf[SCALAR_CHUNK]; // (chunk) one widened row piece
    for (int i = 0; i < M; i++) {
        const uint16_t *w = W + (size_t)i * ldw;
        for (int b = 0; b < nb; b++)
            Y[(size_t)b * ldy + i] = 0.0f;
        for (int k0 = 0; k0 < K; k0 += SCALAR_CHUNK) {
            int n = K - k0 < SCALAR_CHUNK ? K - k0 : SCALAR_CHUNK;
            for (int k = 0; k < n; k++)
                wf[k] = nr_f16_to_f32(w[k0 + k]);
            for (int b = 0; b < nb; b++) {
                const float *x = X + (size_t)b * ldx + k0;
                float s = 0.0f;
                for (int k = 0; k < n; k++)
                    s += wf[k] * x[k];
                Y[(size_t)b * ldy + i] += s;
            }
        }
    }
}

/* ---- AVX2 + FMA + F16C kernel ----------------------------------------------------------------- */

#ifdef NR_HAVE_AVX2_F16
#define NR_TARGET __attribute__((target("avx2,fma,f16c")))

NR_TARGET static inline float hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Rows [i0, i0+R) of Y for batch rows [0, NB) (R, NB compile-time constants after inlining):
 * R*NB independent accumulators of 8 lanes, so the FMA chains overlap and each 16-byte piece of
 * W is loaded and widened once for all NB batch rows. Columns past the last multiple of 8 are
 * added in scalar order after the lane sums. */
NR_TARGET __attribute__((always_inline)) static inline void
block_avx2(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw, int i0, int K,
           const int R, const int NB)
{
    __m256 acc[8][4]; // (R,NB) lanes
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int b = 0; b < NB; b++)
            acc[r][b] = _mm256_setzero_ps();
    int K8 = K & ~7;
    for (int k = 0; k < K8; k += 8) {
        __m256 xv[4]; // (NB) x[b][k:k+8]
#pragma GCC unroll 4
        for (int b = 0; b < NB; b++)
            xv[b] = _mm256_loadu_ps(X + (size_t)b * ldx + k);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m256 w = _mm256_cvtph_ps(
                _mm_loadu_si128((const __m128i *)(W + (size_t)(i0 + r) * ldw + k)));
#pragma GCC unroll 4
            for (int b = 0; b < NB; b++)
                acc[r][b] = _mm256_fmadd_ps(w, xv[b], acc[r][b]);
        }
    }
    for (int r = 0; r < R; r++) {
        const uint16_t *w = W + (size_t)(i0 + r) * ldw;
        for (int b = 0; b < NB; b++) {
            const float *x = X + (size_t)b * ldx;
            float s = hsum8(acc[r][b]);
            for (int k = K8; k < K; k++)
                s += _cvtsh_ss(w[k]) * x[k];
            Y[(size_t)b * ldy + i0 + r] = s;
        }
    }
}

/* All M rows for NB batch rows: blocks of R rows, then the leftover rows one at a time. */
NR_TARGET __attribute__((always_inline)) static inline void
rows_avx2(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw, int M, int K,
          const int R, const int NB)
{
    int i = 0;
    for (; i + R <= M; i += R)
        block_avx2(Y, ldy, X, ldx, W, ldw, i, K, R, NB);
    for (; i < M; i++)
        block_avx2(Y, ldy, X, ldx, W, ldw, i, K, 1, NB);
}

/* Batch rows in groups of at most 4; accumulators per group: 8 rows x 1, 4 x 2, 2 x 3, 2 x 4
 * (at most 8 of the 16 ymm registers, the rest hold x and the widened W). */
NR_TARGET static void gemm_f16_avx2(float *Y, int ldy, const float *X, int ldx, const uint16_t *W,
                                    int ldw, int M, int K, int nb)
{
    for (int b0 = 0; b0 < nb; b0 += 4) {
        float *y = Y + (size_t)b0 * ldy;
        const float *x = X + (size_t)b0 * ldx;
        switch (nb - b0 < 4 ? nb - b0 : 4) {
        case 1: rows_avx2(y, ldy, x, ldx, W, ldw, M, K, 8, 1); break;
        case 2: rows_avx2(y, ldy, x, ldx, W, ldw, M, K, 4, 2); break;
        case 3: rows_avx2(y, ldy, x, ldx, W, ldw, M, K, 2, 3); break;
        default: rows_avx2(y, ldy, x, ldx, W, ldw, M, K, 2, 4); break;
        }
    }
}
#endif

/* ---- widening a whole tensor (model loading) --------------------------------------------------- */

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

#ifdef NR_HAVE_AVX2_F16
/* 8 halves at a time; a group holding an infinity or NaN (exponent all ones) is widened by
 * nr_f16_to_f32 instead, which keeps a signalling NaN's payload as it is (vcvtph2ps quiets it). */
NR_TARGET static void widen_f16c(float *out, const unsigned char *in, size_t n)
{
    const __m128i ones = _mm_set1_epi16(0x7C00);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(in + 2 * i));
        if (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_and_si128(h, ones), ones))) {
            for (size_t j = i; j < i + 8; j++)
                out[j] = nr_f16_to_f32(le16(in + 2 * j));
            continue;
        }
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++)
        out[i] = nr_f16_to_f32(le16(in + 2 * i));
}
#endif

void nr_f16_widen(float *out, const unsigned char *in, size_t n)
{
#ifdef NR_HAVE_AVX2_F16
    if (nr_f16_kernel_best() != NR_F16_SCALAR) {
        widen_f16c(out, in, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        out[i] = nr_f16_to_f32(le16(in + 2 * i));
}

/* ---- finiteness of a tensor (model loading) ----------------------------------------------------- */

/* A half is NaN or infinite when its 5 exponent bits are all ones: the bits 0x7C00 of its
 * little-endian 16-bit word (0x7C of the second byte). */

#ifdef NR_HAVE_AVX2_F16
/* 1 if a half of in[0 : n) has all exponent bits set: 64 bytes (32 halves) a step, two
 * accumulators, one test at the end (the data is read once, at memory speed) */
NR_TARGET static int any_nonfinite_avx2(const unsigned char *in, size_t n)
{
    const __m256i ones = _mm256_set1_epi16(0x7C00);
    __m256i b0 = _mm256_setzero_si256(), b1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i h0 = _mm256_loadu_si256((const __m256i *)(const void *)(in + 2 * i));
        __m256i h1 = _mm256_loadu_si256((const __m256i *)(const void *)(in + 2 * i + 32));
        b0 = _mm256_or_si256(b0, _mm256_cmpeq_epi16(_mm256_and_si256(h0, ones), ones));
        b1 = _mm256_or_si256(b1, _mm256_cmpeq_epi16(_mm256_and_si256(h1, ones), ones));
    }
    int bad = !_mm256_testz_si256(_mm256_or_si256(b0, b1), _mm256_or_si256(b0, b1));
    for (; i < n; i++)
        bad |= (in[2 * i + 1] & 0x7Cu) == 0x7Cu;
    return bad;
}
#endif

/* the same, 4 halves a 64-bit word: a 16-bit lane of (w & M) ^ M is zero where the exponent is
 * all ones (M from bytes, so any byte order) */
static int any_nonfinite_swar(const unsigned char *in, size_t n)
{
    static const unsigned char mask_bytes[8] = {0, 0x7C, 0, 0x7C, 0, 0x7C, 0, 0x7C};
    uint64_t M, bad = 0;
    memcpy(&M, mask_bytes, 8);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint64_t w;
        memcpy(&w, in + 2 * i, 8);
        uint64_t z = (w & M) ^ M;
        bad |= (z - 0x0001000100010001u) & ~z & 0x8000800080008000u;
    }
    for (; i < n; i++)
        bad |= (in[2 * i + 1] & 0x7Cu) == 0x7Cu;
    return bad != 0;
}

size_t nr_f16_first_nonfinite(const unsigned char *in, size_t n)
{
    int bad;
#ifdef NR_HAVE_AVX2_F16
    if (nr_f16_kernel_best() != NR_F16_SCALAR)
        bad = any_nonfinite_avx2(in, n);
    else
#endif
        bad = any_nonfinite_swar(in, n);
    for (size_t k = 0; bad && k < n; k++) /* which one (a file that will be refused) */
        if ((in[2 * k + 1] & 0x7Cu) == 0x7Cu)
            return k;
    return n;
}

/* ---- dispatch --------------------------------------------------------------------------------- */

int nr_f16_kernel_usable(int kernel)
{
    if (kernel == NR_F16_SCALAR)
        return 1;
#ifdef NR_HAVE_AVX2_F16
    if (kernel == NR_F16_AVX2 || kernel == NR_F16_AVX512) {
        /* F16C from CPUID leaf 1 (clang 14's __builtin_cpu_supports does not know "f16c"), asked
         * once: CPUID is a VM exit in a virtual machine, and nr_f16_widen asks per row gathered;
         * AVX2/AVX-512 and FMA as the compiler's runtime reports them (it also checks OS support) */
        static _Atomic int f16c = -1;
        int have = atomic_load_explicit(&f16c, memory_order_relaxed);
        if (have < 0) {
            unsigned a, b, c, d;
            have = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
            atomic_store_explicit(&f16c, have, memory_order_relaxed);
        }
        __builtin_cpu_init();
        return have && nr_kpath_usable(kernel == NR_F16_AVX2 ? NR_KPATH_AVX2 : NR_KPATH_AVX512);
    }
#endif
    return 0;
}

const char *nr_f16_kernel_name(int kernel)
{
    return kernel == NR_F16_SCALAR ? "scalar" : kernel == NR_F16_AVX2 ? "avx2"
                                              : kernel == NR_F16_AVX512 ? "avx512" : NULL;
}

int nr_f16_kernel_best(void)
{
    int p = nr_kpath();
    if (p == NR_KPATH_AVX512 && nr_f16_kernel_usable(NR_F16_AVX512))
        return NR_F16_AVX512;
    if (p >= NR_KPATH_AVX2 && nr_f16_kernel_usable(NR_F16_AVX2))
        return NR_F16_AVX2;
    return NR_F16_SCALAR;
}

void nr_gemm_f16(float *Y, int ldy, const float *X, int ldx, const uint16_t *W, int ldw, int M,
                 int K, int nb, int kernel)
{
    if (M <= 0 || nb <= 0)
        return;
#ifdef NR_HAVE_AVX2_F16
    /* no CPU check here: CPUID costs ~1 us or more in a virtual machine (a VM exit), longer than
     * a whole batch-1 step; the caller picked kernel with nr_f16_kernel_best/usable */
    if (kernel == NR_F16_AVX2) {
        gemm_f16_avx2(Y, ldy, X, ldx, W, ldw, M, K, nb);
        return;
    }
    if (kernel == NR_F16_AVX512) {
        nr_gemm_f16_avx512(Y, ldy, X, ldx, W, ldw, M, K, nb);
        return;
    }
#else
    (void)kernel;
#endif
    gemm_f16_scalar(Y, ldy, X, ldx, W, ldw, M, K, nb);
}
