/* models/quant.c: IEEE binary16 <-> binary32 and symmetric int8 rows. See quant.h. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the row loops vectorize (loading a model: millions of weights); each
                            * element is the same one IEEE operation either way, so the same bits */
#endif
#include <math.h>
#include <string.h>

#include "models/quant.h"

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* binary32: s eeeeeeee mmm...(23); binary16: s eeeee mmmmmmmmmm. Bias 127 vs 15.
 * Normal halves have e16 = e32 - 112 in 1..30; below that the value becomes subnormal (shift the
 * mantissa with its implicit 1 right) and rounding may carry into the exponent, which is exactly
 * the right result (the largest subnormal rounds up to the smallest normal, 65504 + half an ulp
 * rounds up to infinity). */
uint16_t nr_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t e = (x >> 23) & 0xFFu, m = x & 0x7FFFFFu;
    if (e == 0xFF) /* infinity or NaN (quiet, keep the top mantissa bits) */
        return (uint16_t)(sign | 0x7C00u | (m ? 0x200u | (m >> 13) : 0));
    int e16 = (int)e - 127 + 15;
    if (e16 >= 31) return (uint16_t)(sign | 0x7C00u); /* overflow -> infinity */
    uint32_t mant, shift;
    if (e16 <= 0) {
        if (e16 < -10) return sign; /* below half the smallest subnormal -> zero */
        mant = m | 0x800000u;       /* implicit 1 */
        shift = (uint32_t)(14 - e16);
        e16 = 0;
    } else {
        mant = m;
        shift = 13;
    }
    uint32_t h = mant >> shift;
    uint32_t rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    /* round to nearest, ties to even */
    if (rest > half || (rest == half && (h & 1u))) h++;
    /* h may carry into the exponent field; adding works because the fields are adjacent */
    return (uint16_t)(sign | (((uint32_t)e16 << 10) + h));
}

float nr_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    if (e == 0x1F) return bits_f32(sign | 0x7F800000u | (m << 13));
    if (e == 0) {
        if (m == 0) return bits_f32(sign);
        /* subnormal: m * 2^-24 */
        float v = (float)m * 5.9604644775390625e-08f;
        return sign ? -v : v;
    }
    return bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}

void nr_quant_i8_row(int8_t *q, float *scale, const float *x, size_t n) {
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > amax) amax = a;
    }
    if (amax == 0.0f) {
        *scale = 0.0f;
        memset(q, 0, n);
        return;
    }
    float s = amax / 127.0f, inv = 127.0f / amax;
    for (size_t i = 0; i < n; i++) {
        float v = roundf(x[i] * inv);
        if (v > 127.0f) v = 127.0f;
        if (v < -127.0f) v = -127.0f;
        q[i] = (int8_t)v;
    }
    *scale = s;
}

void nr_dequant_i8_row(float *x, const int8_t *q, float scale, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = (float)q[i] * scale;
}

int nr_dequant_i8_row_same(const float *x, const int8_t *q, float scale, size_t n) {
    uint32_t diff = 0;
    for (size_t i = 0; i < n; i++) diff |= f32_bits((float)q[i] * scale) ^ f32_bits(x[i]);
    return diff == 0;
}
