/* models/kernels/lse_avx512.c: nr_klse (kernels.h) in AVX-512 F (lse_tmpl.h). Compiled with
 * -mavx512f -mfma on x86-64 only; called only on the avx512 kernel path. */
#include <math.h>
#include <stddef.h>

#include "models/kernels/gemm_isa.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

typedef __m512 VF;
typedef __m512d VD;
typedef __m512i VI;
#define FW 16
#define LW 8
#define FSET(x) _mm512_set1_ps(x)
#define FLOAD(p) _mm512_loadu_ps(p)
#define FMAX(a, b) _mm512_max_ps(a, b)
#define FHMAX(v) _mm512_reduce_max_ps(v)
#define DSET(x) _mm512_set1_pd(x)
#define DADD(a, b) _mm512_add_pd(a, b)
#define DSUB(a, b) _mm512_sub_pd(a, b)
#define DMUL(a, b) _mm512_mul_pd(a, b)
#define DFMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define DFNMA(a, b, c) _mm512_fnmadd_pd(a, b, c)
#define DHSUM(v) _mm512_reduce_add_pd(v)
#define DLOAD(p) _mm512_loadu_pd(p)
#define DSTORE(p, v) _mm512_storeu_pd(p, v)
#define CVT(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
#define DASI(v) _mm512_castpd_si512(v)
#define IASD(v) _mm512_castsi512_pd(v)
#define ISET(x) _mm512_set1_epi64(x)
#define IADD(a, b) _mm512_add_epi64(a, b)
#define ISLL(a, k) _mm512_slli_epi64(a, k)
#define DZERO_LT(x, lo, y) _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(x, lo, _CMP_NLT_UQ), y)
#define LSE_NAME nr_klse_avx512
#include "models/kernels/lse_scalar.h"
#include "models/kernels/lse_tmpl.h"
#endif
