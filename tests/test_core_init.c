/* tests/test_core_init.c: the encoder's seeded initialisation, layer by layer and direction by
 * direction (the questions asked when stacked LSTM language models trained slowly; docs/math.md,
 * "Stacked LSTMs"):
 *   - LSTM: b_ih's forget block is 1 and everything else of b_ih and all of b_hh are 0 in EVERY
 *     (layer, direction), so the forget-gate pre-activation starts at exactly +1 (not 2: the bias
 *     is not doubled by the b_ih/b_hh split, and not missed for layers >= 1);
 *     GRU and SimpleRNN: all biases 0;
 *   - W_hh (G*H, H) has orthonormal columns in every (layer, direction);
 *   - W_ih (G*H, I_l) lies within the Glorot limit sqrt(6 / (G*H + I_l)) of its own layer's input
 *     size I_l (I_0 = input size, I_l = 2H for bidirectional concat), and fills it (max |w| close
 *     to the limit), so deeper layers are not initialised with the first layer's fan-in;
 *   - the same seed gives the same bits; another seed other values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/encoder.h"
#include "testutil.h"

static void check_cell(int cell, int layers, int bidi, int merge)
{
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, 6, 5);
    cfg.cell = cell;
    cfg.layers = layers;
    cfg.bidirectional = bidi;
    cfg.merge = merge;
    size_t np = nr_encoder_param_count(&cfg);
    CHECK(np > 0);
    float *p = calloc(np, sizeof(float)), *q = calloc(np, sizeof(float));
    nr_encoder enc, enc2;
    nlprnn_error err;
    nr_rng rng;
    CHECK_INT_EQ(nr_encoder_bind(&enc, &cfg, p, &err), 0);
    CHECK_INT_EQ(nr_encoder_bind(&enc2, &cfg, q, &err), 0);
    nr_rng_seed(&rng, 11);
    CHECK_INT_EQ(nr_encoder_init(&enc, &rng, &err), 0);
    nr_rng_seed(&rng, 11);
    CHECK_INT_EQ(nr_encoder_init(&enc2, &rng, &err), 0);
    CHECK_MSG(!memcmp(p, q, np * sizeof(float)), "%s: same seed, other bits",
              nr_cell_name(cell));
    nr_rng_seed(&rng, 12);
    CHECK_INT_EQ(nr_encoder_init(&enc2, &rng, &err), 0);
    CHECK(memcmp(p, q, np * sizeof(float)) != 0);

    int G = enc.gates, H = cfg.hidden, GH = G * H;
    for (int l = 0; l < layers; l++)
        for (int d = 0; d < enc.dirs; d++) {
            const nr_rnn_slot *s = &enc.slot[l][d];
            int I = s->in;
            CHECK_INT_EQ(I, l == 0 ? cfg.input_size : enc.out_size);
            const float *bih = p + s->b_ih, *bhh = p + s->b_hh;
            int bad_b = 0;
            for (int k = 0; k < GH; k++) {
                float want = (cell == NR_CELL_LSTM && k >= H && k < 2 * H) ? 1.0f : 0.0f;
                bad_b += bih[k] != want || bhh[k] != 0.0f;
            }
            CHECK_MSG(bad_b == 0, "%s layer %d dir %d: %d bias values differ from the init rule",
                      nr_cell_name(cell), l, d, bad_b);
            /* W_hh columns orthonormal: (W^T W)[a][b] = delta_ab */
            const float *W = p + s->w_hh;
            double worst = 0.0;
            for (int a = 0; a < H; a++)
                for (int b = 0; b < H; b++) {
                    double dot = 0.0;
                    for (int r = 0; r < GH; r++)
                        dot += (double)W[(size_t)r * H + a] * W[(size_t)r * H + b];
                    double e = fabs(dot - (a == b ? 1.0 : 0.0));
                    worst = e > worst ? e : worst;
                }
            CHECK_MSG(worst < 1e-5, "%s layer %d dir %d: W_hh^T W_hh off identity by %g",
                      nr_cell_name(cell), l, d, worst);
            /* W_ih within this layer's Glorot limit, and reaching near it */
            const float *Wi = p + s->w_ih;
            double lim = sqrt(6.0 / (GH + I)), mx = 0.0;
            for (size_t k = 0; k < (size_t)GH * I; k++)
                mx = fabs(Wi[k]) > mx ? fabs(Wi[k]) : mx;
            CHECK_MSG(mx <= lim && mx > 0.8 * lim, "%s layer %d dir %d: max |W_ih| %g, limit %g",
                      nr_cell_name(cell), l, d, mx, lim);
        }
    free(p);
    free(q);
}

int main(void)
{
    for (int cell = NR_CELL_RNN; cell <= NR_CELL_GRU; cell++) {
        check_cell(cell, 3, 0, NR_MERGE_CONCAT);
        check_cell(cell, 3, 1, NR_MERGE_CONCAT);
        check_cell(cell, 2, 1, NR_MERGE_SUM);
    }
    return nr_test_done("test_core_init");
}
