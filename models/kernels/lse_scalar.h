/* models/kernels/lse_scalar.h: the scalar log-sum-exp of nr_klse (kernels.h): the portable path's,
 * and the vector paths' answer for rows with an infinite or NaN maximum. m: max z (any NaN
 * aside). lse = m + log Σ_k exp(z_k - m) with the C library's exp, k in increasing order. */
#ifndef NR_MODELS_KERNELS_LSE_SCALAR_H
#define NR_MODELS_KERNELS_LSE_SCALAR_H
#include <math.h>

static inline double lse_scalar(const float *z, int n, double m)
{
    double s = 0;
    for (int k = 0; k < n; k++)
        s += exp(z[k] - m);
    return m + log(s);
}
#endif
