/* corpora/synth.c: generated series (the chapter's noisy sine wave), reproducible from a seed. */
#include <math.h>
#include <stdlib.h>

#include "common/common.h"
#include "corpora/series.h"

int nlprnn_series_create_sine(size_t length, double period, double noise, uint64_t seed,
                              nlprnn_series **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "sine: out is NULL");
    *out = NULL;
    if (length < 2 || length > 100000000)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "sine: length %zu (must be 2..100000000)", length);
    if (!(period > 0) || !isfinite(period))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "sine: period %g (must be > 0)", period);
    if (!(noise >= 0) || !isfinite(noise))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "sine: noise %g (must be >= 0)", noise);
    double *v = nr_malloc_array(length, sizeof *v); /* (length) */
    if (!v) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "sine: out of memory");
    /* x_t = sin(2 pi t / period) + noise * g_t, g_t ~ N(0, 1) by Box-Muller on a 64-bit LCG
     * (Knuth's MMIX constants) started from the seed: the generator of nlprnn 0.1's
     * `forecast sine`, kept so that a seed gives the same series (and the same CSV) as before */
    const uint64_t A = 6364136223846793005ull, C = 1442695040888963407ull;
    uint64_t st = seed * A + C;
    for (size_t t = 0; t < length; t++) {
        double u[2];
        for (int k = 0; k < 2; k++) {
            st = st * A + C;
            u[k] = ((double)(st >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
        }
        double g = sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
        v[t] = sin(6.283185307179586 * (double)t / period) + noise * g;
    }
    static const char *const names[1] = {"value"};
    int rc = nlprnn_series_create(v, length, 1, names, out, err);
    free(v);
    return rc;
}
