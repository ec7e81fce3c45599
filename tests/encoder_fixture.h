/* tests/encoder_fixture.h: an encoder whose parameters are exact float16 values, shared by the
 * tests of the float16 inference paths (test_f16_infer.c, test_pipe_infer.c). Include after
 * testutil.h and the models/ headers. */
#ifndef NLPRNN_TESTS_ENCODER_FIXTURE_H
#define NLPRNN_TESTS_ENCODER_FIXTURE_H

#include <stdlib.h>

#include "models/encoder.h"
#include "models/quant.h"

/* Bind enc (cfg) to a new parameter block, seed it, add uniform noise of width `noise` to every
 * parameter (so biases are not zero; 0: none, and no random draw) and round each to a float16
 * value. Returns the block (free it), or NULL after a failed check. */
static inline float *fixture_encoder_f16(nr_encoder *enc, const nr_encoder_cfg *cfg, float noise,
                                         nr_rng *rng) {
    nlprnn_error err;
    size_t np = nr_encoder_param_count(cfg);
    float *p = malloc(sizeof(float) * np);
    CHECK(p != NULL);
    if (!p) return NULL;
    CHECK_INT_EQ(nr_encoder_bind(enc, cfg, p, &err), 0);
    CHECK_INT_EQ(nr_encoder_init(enc, rng, &err), 0);
    for (size_t k = 0; k < np; k++) {
        float v = noise > 0 ? p[k] + (float)(nr_rng_uniform(rng) - 0.5) * noise : p[k];
        p[k] = nr_f16_to_f32(nr_f32_to_f16(v));
    }
    return p;
}

#endif
