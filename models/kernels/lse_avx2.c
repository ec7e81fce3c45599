/* models/kernels/lse_avx2.c: nr_klse (kernels.h) in AVX2 + FMA (lse_tmpl.h). Compiled with
 * -mavx2 -mfma on x86-64 only; called only on the avx2 kernel path. */
#include <math.h>
#include <stddef.h>

#include "models/kernels/gemm_isa.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

typedef __m256 VF;
typedef __m256d VD;
typedef __m256i VI;
#define FW 8
#define LW 4
static inline float hmax8(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
static inline double hsum4(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
#define FSET(x) _mm256_set1_ps(x)
#define FLOAD(p) _mm256_loadu_ps(p)
#define FMAX(a, b) _mm256_max_ps(a, b)
#define FHMAX(v) hmax8(v)
#define DSET(x) _mm256_set1_pd(x)
#define DADD(a, b) _mm256_add_pd(a, b)
#define DSUB(a, b) _mm256_sub_pd(a, b)
#define DMUL(a, b) _mm256_mul_pd(a, b)
#define DFMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define DFNMA(a, b, c) _mm256_fnmadd_pd(a, b, c)
#define DHSUM(v) hsum4(v)
#define DLOAD(p) _mm256_loadu_pd(p)
#define DSTORE(p, v) _mm256_storeu_pd(p, v)
#define CVT(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#define DASI(v) _mm256_castpd_si256(v)
#define IASD(v) _mm256_castsi256_pd(v)
#define ISET(x) _mm256_set1_epi64x(x)
#define IADD(a, b) _mm256_add_epi64(a, b)
#define ISLL(a, k) _mm256_slli_epi64(a, k)
#define DZERO_LT(x, lo, y) _mm256_and_pd(_mm256_cmp_pd(x, lo, _CMP_NLT_UQ), y)
#define LSE_NAME nr_klse_avx2
#include "models/kernels/lse_scalar.h"
#include "models/kernels/lse_tmpl.h"
#endif
