/* tests/test_pipe_infer.c: inference with a 2-thread workspace gives the bits of a 1-thread one.
 *
 * Batch-1 inference with a float16 W_hh on a workspace made with nthreads = 2 splits every
 * recurrent product between the caller and a helper thread (models/encoder_recur.c, nr_step_split);
 * other calls take the fork-join paths. For SimpleRNN, LSTM, GRU reset-after and reset-before,
 * 1 and 2 layers, one direction and bidirectional (concat and sum), W_hh float16 and float32,
 * batch 1 at full length and with length 6 of 9 (masking), h0/c0 given or zero: out, hn and cn
 * of the 2-thread workspace equal the 1-thread ones exactly (memcmp), over repeated calls on the
 * same workspace and with both float16 kernels, with the helper waited for (so the split is what
 * is tested) and without (40 back-to-back calls: it joins and leaves by timing). Batch 3 with masking (lengths 9, 4, 7) takes the
 * fork-join split by sequences, whose input projection is split by rows between the threads
 * (CBLAS may sum a row differently in a smaller GEMM): there the 2-thread results are the same
 * from call to call and match 1 thread to 1e-5 relative, and a 2-thread workspace that keeps its
 * packs (W_ih's made by whichever thread first needs it) gives those bits call after call. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/encoder.h"
#include "models/gemv_f16.h"
#include "models/math.h"
#include "models/quant.h"
#include "nlprnn.h"
#include "testutil.h"
#include "encoder_fixture.h"

enum { I = 20, H = 40, T = 9, BMAX = 3 };

static void run_case(int cell, int reset_after, int layers, int bidir, int merge, int f16,
                     int kernel, nr_rng *rng)
{
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, I, H);
    cfg.cell = cell;
    cfg.layers = layers;
    cfg.bidirectional = bidir;
    cfg.merge = merge;
    cfg.gru_reset_after = reset_after;
    nr_encoder enc;
    nlprnn_error err;
    float *p = fixture_encoder_f16(&enc, &cfg, 0.1f, rng); /* non-zero biases; exact in float16 */
    if (!p) return;
    uint16_t *w16 = malloc(sizeof(uint16_t) * nr_encoder_whh_count(&enc));
    if (f16) {
        CHECK_INT_EQ(nr_encoder_attach_f16(&enc, w16, &err), 0);
        enc.f16_kernel = kernel;
    }
    static const int lens[BMAX] = {9, 4, 7};
    int O = enc.out_size, S = layers * enc.dirs;
    size_t nx = (size_t)T * BMAX * I, no = (size_t)T * BMAX * O, ns = (size_t)S * BMAX * H;
    float *x = malloc(sizeof(float) * nx), *h0 = malloc(sizeof(float) * ns),
          *c0 = malloc(sizeof(float) * ns);
    nr_init_uniform(x, nx, -1, 1, rng);
    nr_init_uniform(h0, ns, -0.5f, 0.5f, rng);
    nr_init_uniform(c0, ns, -0.5f, 0.5f, rng);
    float *o1 = calloc(no, sizeof(float)), *o2 = calloc(no, sizeof(float));
    float *hn1 = calloc(ns, sizeof(float)), *hn2 = calloc(ns, sizeof(float));
    float *cn1 = calloc(ns, sizeof(float)), *cn2 = calloc(ns, sizeof(float));
    nr_encoder_ws *ws1 = nr_encoder_ws_create(&enc, T, BMAX, 0, 1, &err);
    nr_encoder_ws *ws2 = nr_encoder_ws_create(&enc, T, BMAX, 0, 2, &err);
    CHECK(ws1 && ws2);
    if (ws2)
        nr_encoder_ws_split_wait(ws2, 1); /* so the split path is the one tested, every call */
    char nm[96];
    snprintf(nm, sizeof nm, "%s L=%d %s W_hh %s%s%s", cell == NR_CELL_GRU ? (reset_after ? "gru-after" : "gru-before") : nr_cell_name(cell),
             layers, bidir ? (merge == NR_MERGE_SUM ? "bidir-sum" : "bidir-concat") : "unidir",
             f16 ? "f16" : "f32", f16 ? "/" : "", f16 ? nr_f16_kernel_name(kernel) : "");
    /* batch 1 (the split path when W_hh is float16): whole length, then length 6 of T = 9
     * (masking: padded steps give zero rows and hn is the state after step 6) */
    for (int v = 0; v < 2 && ws1 && ws2; v++) {
        static const int len6[1] = {6};
        const int *ln = v == 0 ? NULL : len6;
        size_t nob = (size_t)T * O * sizeof(float), nsb = (size_t)S * H * sizeof(float);
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws1, o1, hn1, cn1, x, ln, h0, c0, T, 1, NULL, &err), 0);
        for (int rep = 0; rep < 2; rep++) {
            memset(o2, 0xff, no * sizeof(float));
            memset(hn2, 0xff, ns * sizeof(float));
            memset(cn2, 0xff, ns * sizeof(float));
            CHECK_INT_EQ(nr_encoder_forward(&enc, ws2, o2, hn2, cn2, x, ln, h0, c0, T, 1, NULL,
                                            &err), 0);
            CHECK_MSG(memcmp(o1, o2, nob) == 0, "%s batch 1 len %d call %d: 2-thread out differs",
                      nm, v ? 6 : T, rep);
            CHECK_MSG(memcmp(hn1, hn2, nsb) == 0, "%s batch 1 len %d call %d: 2-thread hn differs",
                      nm, v ? 6 : T, rep);
            if (cell == NR_CELL_LSTM)
                CHECK_MSG(memcmp(cn1, cn2, nsb) == 0,
                          "%s batch 1 len %d call %d: 2-thread cn differs", nm, v ? 6 : T, rep);
        }
        /* zero initial states, no hn/cn */
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws1, o1, NULL, NULL, x, ln, NULL, NULL, T, 1, NULL, &err), 0);
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws2, o2, NULL, NULL, x, ln, NULL, NULL, T, 1, NULL, &err), 0);
        CHECK_MSG(memcmp(o1, o2, nob) == 0, "%s batch 1, zero states: 2-thread out differs", nm);
        if (v == 1) {
            int zero = 1;
            for (size_t k = (size_t)6 * O; k < (size_t)T * O; k++)
                zero &= o2[k] == 0.0f;
            CHECK_MSG(zero, "%s batch 1 len 6: output at a padded step is not 0", nm);
        }
    }
    /* the split runs with float16 W_hh when the pool can have a worker (2 cores or more) */
    if (ws2)
        CHECK_MSG(f16 && nr_pool_workers_max() >= 1 ? nr_encoder_ws_split_products(ws2) > 0
                                                    : nr_encoder_ws_split_products(ws2) == 0,
                  "%s: %ld products split with the helper (%d cores)", nm,
                  nr_encoder_ws_split_products(ws2), nr_cpu_count());
    /* back-to-back calls without waiting for the helper: its task starts at any point of a call
     * (or not at all) and leaves when no product comes for a while, products split or whole by
     * timing; every call must still give the 1-thread bits (and never hang) */
    if (ws1 && ws2 && f16 && layers == 1 && !bidir) {
        nr_encoder_ws_split_wait(ws2, 0);
        size_t nob = (size_t)T * O * sizeof(float);
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws1, o1, NULL, NULL, x, NULL, h0, c0, T, 1, NULL, &err), 0);
        int same = 1;
        for (int rep = 0; rep < 40; rep++) {
            CHECK_INT_EQ(nr_encoder_forward(&enc, ws2, o2, NULL, NULL, x, NULL, h0, c0, T, 1, NULL, &err), 0);
            same &= memcmp(o1, o2, nob) == 0;
        }
        CHECK_MSG(same, "%s: back-to-back 2-thread calls differ from 1 thread", nm);
        /* fresh workspaces: the helper task starts before, during or after a workspace's first
         * product (a helper that started before it once took a product that was never posted) */
        same = 1;
        for (int rep = 0; rep < 100; rep++) {
            nr_encoder_ws *w = nr_encoder_ws_create(&enc, T, 1, 0, 2, &err);
            CHECK(w != NULL);
            if (!w) break;
            CHECK_INT_EQ(nr_encoder_forward(&enc, w, o2, NULL, NULL, x, NULL, h0, c0, T, 1, NULL, &err), 0);
            same &= memcmp(o1, o2, nob) == 0;
            nr_encoder_ws_free(w);
        }
        CHECK_MSG(same, "%s: first calls of fresh 2-thread workspaces differ from 1 thread", nm);
        /* then the helper leaves within tens of microseconds: an idle process burns no CPU
         * (checked once) */
        static int idle_checked;
        if (!idle_checked++) {
            double idle = nr_test_idle_cpu(300);
            CHECK_MSG(idle < 0.06, "%s: %.3f s of CPU in 300 ms idle after the calls", nm, idle);
        }
    }
    /* batch 3 with masking takes the fork-join split by sequences (models/encoder.h "Threads"):
     * bit-identical from call to call at 2 threads, and the 1-thread results to 1e-5 */
    if (ws1 && ws2) {
        size_t nob = (size_t)T * BMAX * O, nsb = (size_t)S * BMAX * H;
        float *o3 = calloc(no, sizeof(float));
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws1, o1, hn1, cn1, x, lens, h0, c0, T, BMAX, NULL, &err), 0);
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws2, o2, hn2, cn2, x, lens, h0, c0, T, BMAX, NULL, &err), 0);
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws2, o3, NULL, NULL, x, lens, h0, c0, T, BMAX, NULL, &err), 0);
        CHECK_MSG(memcmp(o2, o3, nob * sizeof(float)) == 0, "%s batch 3: 2-thread calls differ", nm);
        double e = 0;
        for (size_t k = 0; k < nob; k++) {
            double d = fabs((double)o1[k] - o2[k]) / fmax(fabs((double)o1[k]), 1e-1);
            e = d > e ? d : e;
        }
        for (size_t k = 0; k < nsb; k++) {
            double d = fabs((double)hn1[k] - hn2[k]) / fmax(fabs((double)hn1[k]), 1e-1);
            e = d > e ? d : e;
        }
        CHECK_MSG(e <= 1e-5, "%s batch 3: 2 threads vs 1 thread relative error %.3g", nm, e);
        /* a 2-thread workspace that keeps its packs (nr_encoder_ws_keep_pack): both threads of the
         * projection take W_ih's kept pack (the first to need one makes it, under the object's
         * lock; TSan watches this test), and every call gives the bits of the one without */
        nr_encoder_ws *wk = nr_encoder_ws_create(&enc, T, BMAX, 0, 2, &err);
        CHECK(wk != NULL);
        if (wk) {
            nr_encoder_ws_keep_pack(wk, 1);
            for (int rep = 0; rep < 3; rep++) {
                memset(o3, 0xff, no * sizeof(float));
                CHECK_INT_EQ(nr_encoder_forward(&enc, wk, o3, NULL, NULL, x, lens, h0, c0, T, BMAX, NULL, &err), 0);
                CHECK_MSG(memcmp(o2, o3, nob * sizeof(float)) == 0,
                          "%s batch 3 call %d: 2 threads keeping their packs differ", nm, rep);
            }
        }
        nr_encoder_ws_free(wk);
        free(o3);
    }
    nr_encoder_ws_free(ws1);
    nr_encoder_ws_free(ws2);
    free(w16);
    free(p);
    free(x);
    free(h0);
    free(c0);
    free(o1);
    free(o2);
    free(hn1);
    free(hn2);
    free(cn1);
    free(cn2);
}

int main(void)
{
    nr_test_wait_quiet_start(); /* OpenBLAS's start-up spin is over before the idle check */
    nr_rng rng;
    nr_rng_seed(&rng, 20261129);
    static const int cells[][2] = {{NR_CELL_RNN, 1}, {NR_CELL_LSTM, 1}, {NR_CELL_GRU, 1},
                                   {NR_CELL_GRU, 0}};
    int kernels[2] = {nr_f16_kernel_best(), NR_F16_SCALAR};
    int nk = kernels[0] == NR_F16_SCALAR ? 1 : 2;
    for (int c = 0; c < 4; c++)
        for (int layers = 1; layers <= 2; layers++)
            for (int dir = 0; dir < 3; dir++) /* unidirectional, bidir concat, bidir sum */
                for (int f16 = 0; f16 <= 1; f16++)
                    for (int k = 0; k < (f16 ? nk : 1); k++)
                        run_case(cells[c][0], cells[c][1], layers, dir > 0,
                                 dir == 2 ? NR_MERGE_SUM : NR_MERGE_CONCAT, f16, kernels[k], &rng);
    return nr_test_done("test_pipe_infer");
}
