/* models/quant.h: float16 and int8 conversions used by model files (internal, not installed).
 *
 * float16 is IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits). Conversion from float32
 * rounds to nearest, ties to even; values beyond the largest half (65504) round to infinity,
 * tiny values become subnormals or zero; NaN stays NaN (quiet), infinities stay infinities.
 *
 * int8 is symmetric per row: scale = max|x| / 127 (0 for an all-zero row), q = round(x / scale)
 * (half away from zero) in -127..127, dequantized as q * scale. The error of each value is at
 * most scale / 2.
 */
#ifndef NR_MODELS_QUANT_H
#define NR_MODELS_QUANT_H

#include <stddef.h>
#include <stdint.h>

uint16_t nr_f32_to_f16(float f);
float nr_f16_to_f32(uint16_t h);

/* Quantize one row of n values: q (n) and *scale. x must be finite. */
void nr_quant_i8_row(int8_t *q, float *scale, const float *x, size_t n);
/* x (n) = q (n) * scale */
void nr_dequant_i8_row(float *x, const int8_t *q, float scale, size_t n);
/* 1 when x (n) holds, bit for bit, what nr_dequant_i8_row(x, q, scale, n) writes; else 0 */
int nr_dequant_i8_row_same(const float *x, const int8_t *q, float scale, size_t n);

#endif
