/* models/kernels/gemm_isa.h: the per-ISA entry points behind kernels.h (internal to
 * models/kernels/; see gemm_tmpl.h for what each does). A function of path p may be called only
 * when nr_kpath_usable(p). buf of nr_kgemm_*: NR_KC * (NR_KNC_MAX + NR_KMC) floats. */
#ifndef NR_MODELS_KERNELS_GEMM_ISA_H
#define NR_MODELS_KERNELS_GEMM_ISA_H

#include <stdint.h>

#define NR_KNC_PORTABLE 256
#define NR_KNC_AVX2 512
#define NR_KNC_AVX512 512
#define NR_KNC_MAX 512
/* rows of a transposed A packed at once (nr_kgemm with transA) */
#define NR_KMC 128

#define NR_KDECL(KP)                                                                               \
    void nr_kpack_##KP(float *dst, int transB, int K, int N, const float *B, int ldb);            \
    void nr_kgemm_packed_##KP(int transA, int M, int N, int K, float alpha, const float *A,        \
                              int lda, const float *Bp, float beta, float *C, int ldc);            \
    void nr_kgemm_##KP(int transA, int transB, int M, int N, int K, float alpha, const float *A,   \
                       int lda, const float *B, int ldb, float beta, float *C, int ldc, float *buf); \
    void nr_kgemv_##KP(int transB, int M, int N, int K, float alpha, const float *A, int lda,      \
                       const float *B, int ldb, float beta, float *C, int ldc);          \
    void nr_kgemv_f16_##KP(int M, int N, int K, float alpha, const float *A, int lda,           \
                           const uint16_t *B, int ldb, float beta, float *C, int ldc);           \
    void nr_kgemv_i8_##KP(int M, int N, int K, float alpha, const float *A, int lda,            \
                          const int8_t *B, const float *scale, int ldb, float beta, float *C,    \
                          int ldc);

NR_KDECL(portable)
#if defined(__x86_64__)
#define NR_KERNELS_X86 1
NR_KDECL(avx2)
NR_KDECL(avx512)
/* models/kernels/lse_avx512.c, lse_avx2.c: nr_klse */
double nr_klse_avx512(const float *z, int n, float *zmax);
double nr_klse_avx2(const float *z, int n, float *zmax);
/* models/kernels/lstm_avx512.c */
void nr_lstm_row_forward_infer_avx512(const float *g, float *c, float *h, const float *gh,
                                      const float *bhh, int H);
void nr_act_avx512(int which, float *y, const float *x, size_t n);
/* models/kernels/gru_avx512.c */
void nr_gru_row_forward_after_avx512(float *g, float *hnl, float *h, const float *gh, const float *bhh,
                                     int H);
#endif
#undef NR_KDECL

#endif
