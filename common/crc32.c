/* common/crc32.c: CRC-32 of zlib (the IEEE polynomial, reflected), with carry-less multiplication
 * on x86-64 CPUs that have it (PCLMULQDQ), else zlib's crc32.
 *
 * Folding (Gopal et al., "Fast CRC computation for generic polynomials using PCLMULQDQ", Intel
 * 2009; the constants of Linux's crc32-pclmul): with the CRC register r xored into the first 4
 * bytes, a message M of 16-byte blocks is reduced, 128 bits at a time, to one block X with
 * X(x) x^32 = M(x) x^32 (mod P) in the reflected bit order:
 *   fold by 512 bits (four blocks at once):  X' = X.lo * k1 ^ X.hi * k2 ^ next block
 *     k1 = x^(4*128+32) mod P, k2 = x^(4*128-32) mod P (bit-reflected, 33 bits)
 *   fold by 128 bits:                        X' = X.lo * k3 ^ X.hi * k4 ^ next block
 * The register after M is then the register after the 16 bytes of X from register 0, which zlib's
 * crc32 gives (started from 0xffffffff: zlib keeps the register complemented); the bytes left
 * (fewer than 16) follow through zlib too. Every result equals zlib's crc32 on the same bytes
 * (tests/test_common.c checks lengths 0-1100 at every alignment and chained calls). */
#include <zlib.h>

#include "common/common.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NR_CRC_CLMUL 1

__attribute__((target("pclmul,sse2"))) static __m128i fold(__m128i x, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* crc (zlib's convention) after the first n / 16 * 16 bytes of p, n >= 64 */
__attribute__((target("pclmul,sse2"))) static uint32_t crc32_clmul(uint32_t crc, const unsigned char *p,
                                                                  size_t n) {
    const __m128i k12 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL); /* hi: k2, lo: k1 */
    const __m128i k34 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL); /* hi: k4, lo: k3 */
    __m128i x0 = _mm_loadu_si128((const __m128i *)p), x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32)), x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)~crc));
    p += 64;
    n -= 64;
    for (; n >= 64; p += 64, n -= 64) {
        x0 = _mm_xor_si128(fold(x0, k12), _mm_loadu_si128((const __m128i *)p));
        x1 = _mm_xor_si128(fold(x1, k12), _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = _mm_xor_si128(fold(x2, k12), _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = _mm_xor_si128(fold(x3, k12), _mm_loadu_si128((const __m128i *)(p + 48)));
    }
    __m128i x = _mm_xor_si128(fold(x0, k34), x1);
    x = _mm_xor_si128(fold(x, k34), x2);
    x = _mm_xor_si128(fold(x, k34), x3);
    for (; n >= 16; p += 16, n -= 16) x = _mm_xor_si128(fold(x, k34), _mm_loadu_si128((const __m128i *)p));
    unsigned char last[16];
    _mm_storeu_si128((__m128i *)last, x);
    return (uint32_t)crc32(0xffffffffUL, last, 16);
}
#endif

uint32_t nr_crc32(uint32_t crc, const void *data, size_t n) {
    const unsigned char *p = data;
#ifdef NR_CRC_CLMUL
    if (n >= 64 && __builtin_cpu_supports("pclmul")) {
        size_t whole = n / 16 * 16;
        crc = crc32_clmul(crc, p, n);
        p += whole;
        n -= whole;
    }
#endif
    uLong c = crc;
    while (n) {
        uInt k = n > 0x40000000u ? 0x40000000u : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}
