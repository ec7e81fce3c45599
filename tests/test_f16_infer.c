/* tests/test_f16_infer.c: inference with float16-stored recurrent weights (models/gemv_f16.h).
 *
 *   1. nr_gemm_f16, both kernels (AVX2+F16C when this CPU has it, and the portable one), against
 *      a double-precision product of the widened halves: odd shapes (tails of the 8-wide loads,
 *      leftover rows), batch rows 1..6 (groups of 4 and the rest), row strides > K.
 *   2. The encoder (SimpleRNN, LSTM, GRU reset-after and reset-before; 2 layers, bidirectional)
 *      with W_hh rounded to float16: the float16 path against the float32 path on the same
 *      values, batch 1 and batch 3 with masking (lengths 9, 4, 7), within 1e-5 relative. The
 *      float32 W_hh is zeroed after attaching, so the check fails unless the float16 copy is what
 *      the steps read. A padded sequence equals the same sequence alone, bit for bit. Halves given
 *      as stored (nr_encoder_attach_f16_filled) are accepted, and refused when one is off by an ulp.
 *   3. The shipped model pretrained/ko.nrm (W_hh and embedding stored f16): the loader keeps W_hh
 *      and the embedding as float16 and the logits match the float32 path; the float32 table that
 *      nr_model_net fills is the file's embedding read as float32, bit for bit, and logits with
 *      rows gathered from it equal those gathered from the float16 embedding, bit for bit.
 *   4. nr_f16_widen (loading a float16 model) against nr_f16_to_f32, every half, every GEMM path.
 * Each encoder check runs with the best kernel and again with NR_F16_SCALAR forced. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/classify/classifier.h"
#include "format/modelfile.h"
#include "models/encoder.h"
#include "models/gemv_f16.h"
#include "models/kernels/kernels.h"
#include "models/math.h"
#include "models/quant.h"
#include "nlprnn.h"
#include "testutil.h"
#include "encoder_fixture.h"

static const char *kernel_name(int k)
{
    return nr_f16_kernel_name(k);
}

/* 1. the kernel alone */
static void test_kernel(int kernel, nr_rng *rng)
{
    static const int Ms[] = {1, 3, 8, 9, 17, 64};
    static const int Ks[] = {1, 5, 8, 13, 40, 300};
    for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++)
        for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++)
            for (int nb = 1; nb <= 6; nb++) {
                int M = Ms[mi], K = Ks[ki], ldw = K + 3, ldx = K + 5, ldy = M + 2;
                uint16_t *W = malloc(sizeof(uint16_t) * (size_t)M * ldw); // (M,ldw)
                float *X = malloc(sizeof(float) * (size_t)nb * ldx);       // (nb,ldx)
                float *Y = malloc(sizeof(float) * (size_t)nb * ldy);       // (nb,ldy)
                for (size_t k = 0; k < (size_t)M * ldw; k++)
                    W[k] = nr_f32_to_f16((float)(nr_rng_uniform(rng) * 2.0 - 1.0));
                for (size_t k = 0; k < (size_t)nb * ldx; k++)
                    X[k] = (float)(nr_rng_uniform(rng) * 2.0 - 1.0);
                for (size_t k = 0; k < (size_t)nb * ldy; k++)
                    Y[k] = 12345.0f; /* untouched outside the M columns */
                nr_gemm_f16(Y, ldy, X, ldx, W, ldw, M, K, nb, kernel);
                double worst = 0;
                int pad_ok = 1;
                for (int b = 0; b < nb; b++) {
                    for (int i = 0; i < M; i++) {
                        double ref = 0, mag = 0;
                        for (int k = 0; k < K; k++) {
                            double p = (double)nr_f16_to_f32(W[(size_t)i * ldw + k]) *
                                       X[(size_t)b * ldx + k];
                            ref += p;
                            mag += fabs(p);
                        }
                        double e = fabs(Y[(size_t)b * ldy + i] - ref) / (mag + 1e-30);
                        worst = e > worst ? e : worst;
                    }
                    for (int i = M; i < ldy; i++)
                        pad_ok &= Y[(size_t)b * ldy + i] == 12345.0f;
                }
                CHECK_MSG(worst <= 1e-6, "%s kernel M=%d K=%d nb=%d: error %.3g of sum |w x|",
                          kernel_name(kernel), M, K, nb, worst);
                CHECK_MSG(pad_ok, "%s kernel M=%d K=%d nb=%d wrote past column M",
                          kernel_name(kernel), M, K, nb);
                free(W);
                free(X);
                free(Y);
            }
}

/* max over elements of |a - b| / max(|b|, floor) */
static double rel_err(const float *a, const float *b, size_t n, double floor)
{
    double w = 0;
    for (size_t k = 0; k < n; k++) {
        double d = fabs((double)a[k] - b[k]) / fmax(fabs((double)b[k]), floor);
        w = d > w ? d : w;
    }
    return w;
}

/* 2. the encoder: float16 path vs float32 path */
static void test_encoder(int cell, int reset_after, int kernel, nr_rng *rng)
{
    enum { I = 24, H = 40, T = 9, L = 2 };
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, I, H);
    cfg.cell = cell;
    cfg.layers = L;
    cfg.bidirectional = 1;
    cfg.gru_reset_after = reset_after;
    nr_encoder enc;
    nlprnn_error err;
    size_t np = nr_encoder_param_count(&cfg);
    float *p = fixture_encoder_f16(&enc, &cfg, 0.1f, rng); /* init plus noise, rounded to f16 */
    if (!p) return;
    const int B = 3, lens[3] = {9, 4, 7};
    int O = enc.out_size, S = L * enc.dirs;
    size_t nx = (size_t)T * B * I, no = (size_t)T * B * O, ns = (size_t)S * B * H;
    float *x = malloc(sizeof(float) * nx), *h0 = malloc(sizeof(float) * ns),
          *c0 = malloc(sizeof(float) * ns);
    nr_init_uniform(x, nx, -1, 1, rng);
    nr_init_uniform(h0, ns, -0.5f, 0.5f, rng);
    nr_init_uniform(c0, ns, -0.5f, 0.5f, rng);
    float *out32 = calloc(no, sizeof(float)), *out16 = calloc(no, sizeof(float));
    float *hn32 = calloc(ns, sizeof(float)), *hn16 = calloc(ns, sizeof(float));
    float *cn32 = calloc(ns, sizeof(float)), *cn16 = calloc(ns, sizeof(float));
    nr_encoder_ws *ws = nr_encoder_ws_create(&enc, T, B, 0, 1, &err);
    CHECK(ws != NULL);
    const char *nm = cell == NR_CELL_GRU ? (reset_after ? "gru-after" : "gru-before")
                                         : nr_cell_name(cell);
    uint16_t *w16 = malloc(sizeof(uint16_t) * nr_encoder_whh_count(&enc));
    float *whh_saved = malloc(sizeof(float) * np);
    for (int Bq = 1; Bq <= B; Bq += 2) {
        /* float32 reference */
        nr_encoder_detach_f16(&enc);
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws, out32, hn32, cn32, x, lens, h0, c0, T, Bq, NULL,
                                        &err), 0);
        /* float16: attach, then zero the float32 W_hh so only the f16 copy can give the result */
        CHECK_INT_EQ(nr_encoder_attach_f16(&enc, w16, &err), 0);
        enc.f16_kernel = kernel;
        memcpy(whh_saved, p, sizeof(float) * np);
        for (int l = 0; l < L; l++)
            for (int d = 0; d < enc.dirs; d++)
                memset(p + enc.slot[l][d].w_hh, 0, sizeof(float) * (size_t)enc.gates * H * H);
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws, out16, hn16, cn16, x, lens, h0, c0, T, Bq, NULL,
                                        &err), 0);
        memcpy(p, whh_saved, sizeof(float) * np);
        size_t nob = (size_t)T * Bq * O, nsb = (size_t)S * Bq * H;
        double eo = rel_err(out16, out32, nob, 1e-1), eh = rel_err(hn16, hn32, nsb, 1e-1);
        double ec = cell == NR_CELL_LSTM ? rel_err(cn16, cn32, nsb, 1e-1) : 0;
        CHECK_MSG(eo <= 1e-5 && eh <= 1e-5 && ec <= 1e-5,
                  "%s %s kernel batch %d: relative error out %.3g hn %.3g cn %.3g", nm,
                  kernel_name(kernel), Bq, eo, eh, ec);
        printf("%-10s %-6s batch %d: max relative error out %.2g hn %.2g cn %.2g\n", nm,
               kernel_name(kernel), Bq, eo, eh, ec);
        /* masking: padded rows stay 0 */
        int zero = 1;
        for (int b = 0; b < Bq; b++)
            for (int t = lens[b]; t < T; t++)
                for (int o = 0; o < O; o++)
                    zero &= out16[((size_t)t * Bq + b) * O + o] == 0.0f;
        CHECK_MSG(zero, "%s batch %d: output at a padded step is not 0", nm, Bq);
    }
    /* sequence 1 (length 4) alone gives the outputs of its padded row in the batch (the steps'
     * products are bitwise alike; the input projection is one CBLAS GEMM over T*B rows, whose
     * summation order may depend on the row count) */
    {
        float *x1 = malloc(sizeof(float) * (size_t)4 * I), *o1 = calloc((size_t)4 * O, sizeof(float));
        float *h01 = malloc(sizeof(float) * (size_t)S * H), *c01 = malloc(sizeof(float) * (size_t)S * H);
        for (int t = 0; t < 4; t++)
            memcpy(x1 + (size_t)t * I, x + ((size_t)t * B + 1) * I, sizeof(float) * I);
        for (int s = 0; s < S; s++) {
            memcpy(h01 + (size_t)s * H, h0 + ((size_t)s * B + 1) * H, sizeof(float) * H);
            memcpy(c01 + (size_t)s * H, c0 + ((size_t)s * B + 1) * H, sizeof(float) * H);
        }
        CHECK_INT_EQ(nr_encoder_forward(&enc, ws, o1, NULL, NULL, x1, NULL, h01, c01, 4, 1, NULL,
                                        &err), 0);
        double e = 0;
        for (int t = 0; t < 4; t++) {
            double et = rel_err(o1 + (size_t)t * O, out16 + ((size_t)t * B + 1) * O, (size_t)O, 1e-1);
            e = et > e ? et : e;
        }
        CHECK_MSG(e <= 1e-5, "%s %s kernel: a sequence alone differs from its padded row by %.3g",
                  nm, kernel_name(kernel), e);
        free(x1);
        free(o1);
        free(h01);
        free(c01);
    }
    /* the halves given as stored (nr_encoder_attach_f16_filled; w16 holds them from the attach
     * above): accepted when they widen to the float32 W_hh bit for bit, refused with nothing
     * attached when one half differs (the last of the last layer and direction, one ulp off) */
    nr_encoder_detach_f16(&enc);
    CHECK_INT_EQ(nr_encoder_attach_f16_filled(&enc, w16, &err), 0);
    CHECK(enc.whh_f16[0][0] == w16 && enc.whh_f16[L - 1][enc.dirs - 1] != NULL);
    nr_encoder_detach_f16(&enc);
    size_t last = nr_encoder_whh_count(&enc) - 1;
    w16[last] ^= 1;
    CHECK(nr_encoder_attach_f16_filled(&enc, w16, &err) == NLPRNN_E_INVALID_ARG);
    CHECK(enc.whh_f16[0][0] == NULL && strstr(err.message, "float16 copy"));
    w16[last] ^= 1;
    /* values that are not float16 values are refused (nothing is rounded silently) */
    nr_encoder_detach_f16(&enc);
    p[enc.slot[0][0].w_hh + 5] = 0.1f; /* 0.1 is not a binary16 value */
    CHECK(nr_encoder_attach_f16(&enc, w16, &err) == NLPRNN_E_INVALID_ARG);
    CHECK(enc.whh_f16[0][0] == NULL && strstr(err.message, "not a float16 value"));
    nr_encoder_ws_free(ws);
    free(w16);
    free(whh_saved);
    free(p);
    free(x);
    free(h0);
    free(c0);
    free(out32);
    free(out16);
    free(hn32);
    free(hn16);
    free(cn32);
    free(cn16);
}

/* 2b. a batch of 10 sorted by falling length: the first steps have more than NR_F16_MAX_ROWS
 * running sequences (float32 W_hh through CBLAS), the later ones few enough for float16; both
 * kinds of step in one call give the float32 results. */
static void test_mixed(int kernel, nr_rng *rng)
{
    enum { I = 16, H = 24, T = 12, B = 10 };
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, I, H);
    nr_encoder enc;
    nlprnn_error err;
    float *p = fixture_encoder_f16(&enc, &cfg, 0, rng);
    if (!p) return;
    int lens[B];
    for (int b = 0; b < B; b++)
        lens[b] = T - b; /* 12, 11, ..., 3: steps 0-2 run 10 rows, step 4 on 8 or fewer */
    size_t nx = (size_t)T * B * I, no = (size_t)T * B * H;
    float *x = malloc(sizeof(float) * nx), *o32 = calloc(no, sizeof(float)),
          *o16 = calloc(no, sizeof(float));
    nr_init_uniform(x, nx, -1, 1, rng);
    nr_encoder_ws *ws = nr_encoder_ws_create(&enc, T, B, 0, 1, &err);
    uint16_t *w16 = malloc(sizeof(uint16_t) * nr_encoder_whh_count(&enc));
    CHECK_INT_EQ(nr_encoder_forward(&enc, ws, o32, NULL, NULL, x, lens, NULL, NULL, T, B, NULL, &err), 0);
    CHECK_INT_EQ(nr_encoder_attach_f16(&enc, w16, &err), 0);
    enc.f16_kernel = kernel;
    CHECK_INT_EQ(nr_encoder_forward(&enc, ws, o16, NULL, NULL, x, lens, NULL, NULL, T, B, NULL, &err), 0);
    double e = rel_err(o16, o32, no, 1e-1);
    CHECK_MSG(e <= 1e-5, "mixed CBLAS/f16 steps, %s kernel: relative error %.3g", kernel_name(kernel), e);
    nr_encoder_ws_free(ws);
    free(w16);
    free(p);
    free(x);
    free(o32);
    free(o16);
}

/* 3. the shipped Korean model: f16 W_hh kept by the loader, same logits as float32 */
static void test_shipped(void)
{
    nlprnn_classifier *m = NULL;
    nlprnn_error err;
    int rc = nlprnn_classifier_load("ko", &m, &err);
    CHECK_MSG(rc == 0, "shipped model 'ko': %s", rc ? err.message : "");
    if (rc)
        return;
    const nr_clf_net *net = nr_model_net(m);
    CHECK_MSG(net->enc.whh_f16[0][0] != NULL, "ko.nrm stores W_hh as f16 but the loader kept none");
    CHECK_MSG(net->emb16 != NULL, "ko.nrm stores its embedding as f16 but the loader kept none");
    /* nr_model_net filled the float32 table: the file's embedding read as float32, bit for bit */
    {
        nr_mf_reader *r = NULL;
        size_t shape[2] = {(size_t)net->cfg.vocab, (size_t)net->cfg.embed};
        float *ref = malloc(sizeof(float) * net->n_emb);
        CHECK_INT_EQ(nr_mf_open_file(&r, nlprnn_classifier_path(m), NULL, &err), 0);
        CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "embedding", ref, 2, shape, &err), 0);
        CHECK(memcmp(ref, net->emb.table, sizeof(float) * net->n_emb) == 0);
        nr_mf_close(r);
        free(ref);
    }
    nr_clf_net n32 = *net, nemb = *net; /* float32 everywhere; float32 embedding table only */
    nr_encoder_detach_f16(&n32.enc);
    n32.emb16 = NULL;
    nemb.emb16 = NULL;
    static const char *text = "배우들 연기가 정말 훌륭하고 스토리도 탄탄해서 두 시간이 금방 지나갔어요.";
    nlprnn_encoding *e = NULL;
    nlprnn_encoding_create(&e, NULL);
    CHECK_INT_EQ(nlprnn_tokenizer_encode(nlprnn_classifier_tokenizer(m), text, strlen(text), e, &err), 0);
    int T = (int)nlprnn_encoding_size(e), C = net->cfg.classes;
    CHECK(T > 3);
    const int32_t *ids = nlprnn_encoding_ids(e);
    float l16[16], l32[16], lemb[16];
    for (int pass = 0; pass < 3; pass++) {
        const nr_clf_net *use = pass == 1 ? &n32 : pass == 2 ? &nemb : net;
        nr_clf_scratch s;
        memset(&s, 0, sizeof s);
        CHECK_INT_EQ(nr_clf_scratch_reserve(&s, use, T, 1, 0, 1, &err), 0);
        nr_clf_fill_batch(&s, &ids, &T, 1);
        CHECK_INT_EQ(nr_clf_forward(use, &s, T, 1, NULL, &err), 0);
        memcpy(pass == 1 ? l32 : pass == 2 ? lemb : l16, s.logits, sizeof(float) * C);
        nr_clf_scratch_free(&s);
    }
    printf("ko.nrm logits: f16 path %.8g %.8g, float32 path %.8g %.8g\n", l16[0], l16[1], l32[0],
           l32[1]);
    CHECK_MSG(rel_err(l16, l32, (size_t)C, 1e-1) <= 1e-5, "ko logits f16 %.8g %.8g, f32 %.8g %.8g",
              l16[0], l16[1], l32[0], l32[1]);
    /* rows gathered from the float16 embedding are the float32 table's: the same logits, bit for bit */
    CHECK_MSG(memcmp(l16, lemb, sizeof(float) * C) == 0, "ko logits from the f16 embedding %.9g %.9g, "
              "from the float32 table %.9g %.9g", l16[0], l16[1], lemb[0], lemb[1]);
    nlprnn_encoding_free(e);
    nlprnn_classifier_free(m);
}

/* nr_f16_widen (model loading) on every GEMM path this CPU runs (its F16C loop serves the avx2
 * and avx512 paths): all 65,536 halves, from an odd byte address, give nr_f16_to_f32's bits (NaN
 * payloads included: a signalling NaN must not come back quieted); and a length that leaves a
 * tail of 5. */
static void test_widen(void)
{
    enum { N = 65536 };
    unsigned char *raw = malloc(2 * N + 1);
    float *out = malloc(N * sizeof *out);
    CHECK(raw && out);
    if (!raw || !out) return;
    unsigned char *in = raw + 1; /* unaligned */
    for (int i = 0; i < N; i++) {
        in[2 * i] = (unsigned char)(i & 0xFF);
        in[2 * i + 1] = (unsigned char)(i >> 8);
    }
    for (int p = NR_KPATH_PORTABLE; p < NR_KPATH_COUNT; p++) {
        if (!nr_kpath_usable(p)) continue;
        nr_kpath_set(p);
        for (int len = N; len >= N - 3; len -= 3) { /* 65536: no tail; 65533: a tail of 5 */
            memset(out, 0, N * sizeof *out);
            nr_f16_widen(out, in, (size_t)len);
            int bad = -1;
            for (int i = 0; i < len && bad < 0; i++) {
                float ref = nr_f16_to_f32((uint16_t)i);
                if (memcmp(&ref, &out[i], sizeof ref)) bad = i;
            }
            CHECK_MSG(bad < 0, "path %s, %d halves: half 0x%04x widened wrongly", nr_kpath_name(p),
                      len, bad);
            CHECK_MSG(len == N || out[len] == 0.0f, "path %s: wrote past %d halves",
                      nr_kpath_name(p), len);
        }
    }
    nr_kpath_set(-1);
    free(raw);
    free(out);
}

int main(void)
{
    test_widen();
    nr_rng rng;
    nr_rng_seed(&rng, 20261129);
    /* every kernel this CPU runs, whichever NLPRNN_KERNEL picks */
    int kernels[3], nk = 0;
    for (int k = NR_F16_SCALAR; k <= NR_F16_AVX512; k++)
        if (nr_f16_kernel_usable(k))
            kernels[nk++] = k;
        else
            printf("note: this CPU cannot run the %s kernel; not tested\n", kernel_name(k));
    for (int k = 0; k < nk; k++) {
        test_kernel(kernels[k], &rng);
        test_encoder(NR_CELL_RNN, 1, kernels[k], &rng);
        test_encoder(NR_CELL_LSTM, 1, kernels[k], &rng);
        test_encoder(NR_CELL_GRU, 1, kernels[k], &rng);
        test_encoder(NR_CELL_GRU, 0, kernels[k], &rng);
        test_mixed(kernels[k], &rng);
    }
    test_shipped();
    return nr_test_done("test_f16_infer");
}
