/* models/kernels/lse_tmpl.h: the body of nr_klse (kernels.h) for one instruction set, included by
 * lse_avx512.c and lse_avx2.c with these macros defined:
 *   LSE_NAME   the function's name            VF, VD  float and double vector types
 *   LW         doubles per vector (8 or 4)    the intrinsics' wrappers below
 *
 * lse = m + log Σ_k exp(z_k - m), m = max_k z_k, in double. Each exp(x), x = z_k - m <= 0 (exact
 * in double), is computed as 2^i exp(r): i = round(x / ln 2), r = x - i ln 2 (two FMAs with ln 2
 * split in a high and a low part, |r| <= ln 2 / 2), exp(r) by its Taylor polynomial of degree 13
 * (truncation below 5e-18 relative), 2^i from the exponent bits; x < -708 gives 0 (the sum is
 * >= 1, so such terms cannot change it; a NaN gives NaN). About 2 ulp from the correctly rounded exp; the sum's
 * order is LW lanes times 4 accumulators, then the lanes, so the bits are not the scalar loop's
 * (tests/test_kernels.c compares with a long double reference). */

static const double lse_c[14] = {1.0,
                                 1.0,
                                 1.0 / 2,
                                 1.0 / 6,
                                 1.0 / 24,
                                 1.0 / 120,
                                 1.0 / 720,
                                 1.0 / 5040,
                                 1.0 / 40320,
                                 1.0 / 362880,
                                 1.0 / 3628800,
                                 1.0 / 39916800,
                                 1.0 / 479001600,
                                 1.0 / 6227020800.0};

/* exp(x) for LW lanes of x <= 0 */
static inline VD lse_exp(VD x)
{
    const VD shift = DSET(0x1.8p52), log2e = DSET(0x1.71547652b82fep0);
    const VD ln2hi = DSET(0x1.62e42fefa39efp-1), ln2lo = DSET(0x1.abc9e3b39803fp-56);
    VD t = DFMA(x, log2e, shift); /* the low bits of t's mantissa: i = round(x log2 e) */
    VD i = DSUB(t, shift);
    VD r = DFNMA(i, ln2hi, x); /* x - i ln2hi */
    r = DFNMA(i, ln2lo, r);
    VD p = DSET(lse_c[13]);
    for (int k = 12; k >= 0; k--)
        p = DFMA(p, r, DSET(lse_c[k]));
    /* 2^i: (i + 1023) << 52, i from t's bits (t = 1.5 2^52 + i) */
    VI e = ISLL(IADD(DASI(t), ISET(1023)), 52);
    VD y = DMUL(p, IASD(e));
    return DZERO_LT(x, DSET(-708.0), y); /* 0 below -708 (a NaN stays NaN) */
}

double LSE_NAME(const float *z, int n, float *zmax)
{
    /* m = max z */
    VF mv = FSET(-INFINITY);
    int k = 0;
    for (; k + FW <= n; k += FW)
        mv = FMAX(FLOAD(z + k), mv); /* a NaN of z is passed over, as the scalar loop does */
    float m = FHMAX(mv);
    for (; k < n; k++)
        m = z[k] > m ? z[k] : m;
    if (zmax)
        *zmax = m;
    if (!(m > -INFINITY) || m == INFINITY) /* empty, all -inf, a +inf or NaN: the scalar loop's answer */
        return lse_scalar(z, n, m);
    /* Σ exp(z - m), 4 accumulators of LW lanes */
    const VD md = DSET((double)m);
    VD s0 = DSET(0), s1 = DSET(0), s2 = DSET(0), s3 = DSET(0);
    k = 0;
    for (; k + 4 * LW <= n; k += 4 * LW) {
        s0 = DADD(s0, lse_exp(DSUB(CVT(z + k), md)));
        s1 = DADD(s1, lse_exp(DSUB(CVT(z + k + LW), md)));
        s2 = DADD(s2, lse_exp(DSUB(CVT(z + k + 2 * LW), md)));
        s3 = DADD(s3, lse_exp(DSUB(CVT(z + k + 3 * LW), md)));
    }
    for (; k + LW <= n; k += LW)
        s0 = DADD(s0, lse_exp(DSUB(CVT(z + k), md)));
    double s = DHSUM(DADD(DADD(s0, s1), DADD(s2, s3)));
    for (; k < n; k++) { /* the last n % LW: one lane at a time, the vector's exp */
        double x[LW] = {0};
        for (int l = 0; l < LW; l++)
            x[l] = -1000.0; /* exp: 0 */
        x[0] = (double)z[k] - (double)m;
        double y[LW];
        DSTORE(y, lse_exp(DLOAD(x)));
        s += y[0];
    }
    return (double)m + log(s);
}
