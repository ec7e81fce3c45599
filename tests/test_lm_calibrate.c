/* tests/test_lm_calibrate.c: calibrated fill (nlprnn_lm_fill_calibrated) on a tiny corpus made here.
 *
 * Corpus (word pieces), made so that a frequent generic word beats the fitting rare one on the
 * plain sentence probability:
 *   "영화 보러 극장 간다"  x30    the cue 영화 with the rare fitting word 극장
 *   "영화 보러 집 간다"    x50    ... and with the generic 집 (more often: p(집 | 영화..) = 0.625)
 *   "C 보러 집 간다"       x60    for five other cues C (집 everywhere else)
 *   "보러 집 간다" x70, "보러 극장 간다" x6   the local frame without a cue (the prior)
 * Query "영화 보러 ___ 간다" with candidates 집, 극장:
 *   - alpha = 0: 집 first (sentence probability, the old ranking), and nlprnn_lm_fill_calibrated
 *     with alpha 0 gives exactly nlprnn_lm_fill's answers, scores and probabilities (open and with
 *     candidates);
 *   - alpha = 1: 극장 first (its PMI with the cue is high, 집's is low);
 *   - the score change between two candidates is -alpha times the difference of their priors,
 *     the prior being the local frame "보러 s" (the word before the blank and the blank's word) scored alone (mean of the two directions);
 *   - alpha outside [0, 2] is NLPRNN_E_INVALID_ARG.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "nlprnn.h"
#include "testutil.h"

static char g_dir[256];

static void path_in(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", g_dir, name); }

static void write_corpus(const char *path, uint64_t seed) {
    static const char *cues[5] = {"밥", "잠", "책", "옷", "차"};
    const char *lines[600];
    char store[600][64];
    int n = 0;
    for (int i = 0; i < 30; i++) lines[n++] = "영화 보러 극장 간다";
    for (int i = 0; i < 50; i++) lines[n++] = "영화 보러 집 간다";
    for (int c = 0; c < 5; c++)
        for (int i = 0; i < 60; i++) {
            snprintf(store[n], sizeof store[n], "%s 보러 집 간다", cues[c]);
            lines[n] = store[n];
            n++;
        }
    for (int i = 0; i < 70; i++) lines[n++] = "보러 집 간다";
    for (int i = 0; i < 6; i++) lines[n++] = "보러 극장 간다";
    nr_rng r;
    nr_rng_seed(&r, seed);
    for (int i = n - 1; i > 0; i--) { /* shuffle */
        int j = (int)nr_rng_below(&r, (uint64_t)i + 1);
        const char *t = lines[i];
        lines[i] = lines[j];
        lines[j] = t;
    }
    FILE *fp = fopen(path, "w");
    for (int i = 0; i < n; i++) fprintf(fp, "%s\n", lines[i]);
    fclose(fp);
}

static int set(nlprnn_lm_params *p, const char *k, const char *v) {
    nlprnn_error e;
    int rc = nlprnn_lm_params_set(p, k, v, &e);
    CHECK_MSG(rc == 0, "set %s=%s: %s", k, v, e.message);
    return rc;
}

/* Mean over the two directions of log p(<bos> text <eos>). */
static double score2(nlprnn_lm_ctx *ctx, const char *text) {
    double f = 0, b = 0;
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_lm_score(ctx, text, strlen(text), NLPRNN_LM_FORWARD, &f, NULL, &e), 0);
    CHECK_INT_EQ(nlprnn_lm_score(ctx, text, strlen(text), NLPRNN_LM_BACKWARD, &b, NULL, &e), 0);
    return (f + b) / 2;
}

/* The score of candidate `want` among c[0..n). */
static double score_of(const nlprnn_lm_choice *c, size_t n, const char *want) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].text, want)) return c[i].score;
    CHECK_MSG(0, "'%s' not among the answers", want);
    return 0;
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_lm_calibrate_%d", (int)getpid());
    char cmd[600], train[300], tokpath[300], model[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", g_dir);
    if (system(cmd) != 0) return 1;
    path_in(train, sizeof train, "train.txt");
    path_in(tokpath, sizeof tokpath, "tok.nrt");
    path_in(model, sizeof model, "lm.nrm");
    write_corpus(train, 1);

    nlprnn_error e;
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    nlprnn_tokenizer *tok = NULL;
    CHECK(o != NULL);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "model-type", "word", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "vocab-size", "64", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "byte-fallback", "0", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "min-count", "1", &e), 0);
    const char *paths[1] = {train};
    int rc = nlprnn_tokenizer_train_files(o, paths, 1, &tok, &e);
    CHECK_MSG(rc == 0, "tokenizer training: %s", e.message);
    nlprnn_tokenizer_params_free(o);
    if (rc) return nr_test_done("test_lm_calibrate");
    CHECK_INT_EQ(nlprnn_tokenizer_save(tok, tokpath, &e), 0);
    nlprnn_tokenizer_free(tok);

    nlprnn_lm_params *p = NULL;

    nlprnn_lm_params_create(&p, NULL);
    set(p, "tokenizer", tokpath);
    set(p, "cell", "lstm");
    set(p, "embed", "32");
    set(p, "hidden", "32");
    set(p, "layers", "1");
    set(p, "epochs", "30");
    set(p, "batch", "16");
    set(p, "lr", "0.01");
    set(p, "softmax", "full");
    set(p, "storage", "f32");
    set(p, "seed", "3");
    rc = nlprnn_lm_train(p, train, train, model, NULL, NULL, NULL, &e);
    CHECK_MSG(rc == 0, "train: %s", e.message);
    nlprnn_lm_params_free(p);
    nlprnn_lm *lm = NULL;
    if (!rc) {
        rc = nlprnn_lm_load(model, &lm, &e);
        CHECK_MSG(rc == 0, "load: %s", e.message);
    }
    nlprnn_lm_ctx *ctx = NULL;
    if (lm) nlprnn_lm_ctx_create(lm, &ctx, NULL);
    if (ctx) {
        const char *q = "영화 보러 ___ 간다";
        const char *cands[2] = {"집", "극장"};
        nlprnn_lm_choice *c0 = NULL, *ca = NULL, *c1 = NULL;
        size_t n0 = 0, na = 0, n1 = 0;
        /* nlprnn_lm_fill is exactly the default calibration, NLPRNN_LM_FILL_ALPHA (what `nlprnn
         * fill` uses); c0: alpha 0, the plain sentence probability (candidates, then open) */
        for (int open = 0; open < 2; open++) {
            nlprnn_lm_choice *cd = NULL;
            size_t nd = 0;
            CHECK_INT_EQ(nlprnn_lm_fill(ctx, q, strlen(q), open ? NULL : cands, open ? 0 : 2, 5, &cd, &nd, &e), 0);
            CHECK_INT_EQ(nlprnn_lm_fill_calibrated(ctx, q, strlen(q), open ? NULL : cands, open ? 0 : 2, 5,
                                                   NLPRNN_LM_FILL_ALPHA, &ca, &na, &e), 0);
            CHECK_INT_EQ(na, nd);
            for (size_t i = 0; i < nd && i < na; i++) {
                CHECK_STR_EQ(ca[i].text, cd[i].text);
                CHECK(ca[i].score == cd[i].score);
                CHECK(ca[i].prob == cd[i].prob);
            }
            nlprnn_lm_choices_free(cd, nd);
            CHECK_INT_EQ(nlprnn_lm_fill_calibrated(ctx, q, strlen(q), open ? NULL : cands, open ? 0 : 2, 5, 0.0,
                                                   &c0, &n0, &e), 0);
            if (!open && n0 == 2)
                printf("alpha 0: %s %.3f, %s %.3f\n", c0[0].text, c0[0].prob, c0[1].text, c0[1].prob);
            if (!open && n0 == 2) /* the generic word wins on sentence probability */
                CHECK_MSG(!strcmp(c0[0].text, "집"), "alpha 0: got %s %.3f, %s %.3f (expected 집 first)",
                          c0[0].text, c0[0].prob, c0[1].text, c0[1].prob);
            if (open) continue;
            /* alpha 1: the fitting rare word wins; score change = -alpha * prior difference */
            CHECK_INT_EQ(nlprnn_lm_fill_calibrated(ctx, q, strlen(q), cands, 2, 5, 1.0, &c1, &n1, &e), 0);
            CHECK_INT_EQ(n1, 2);
            if (n1 == 2) {
                printf("alpha 1: %s %.3f, %s %.3f\n", c1[0].text, c1[0].prob, c1[1].text, c1[1].prob);
                CHECK_MSG(!strcmp(c1[0].text, "극장"), "alpha 1: got %s %.3f, %s %.3f (expected 극장 first)",
                          c1[0].text, c1[0].prob, c1[1].text, c1[1].prob);
                double d0 = score_of(c0, n0, "극장") - score_of(c0, n0, "집");
                double d1 = score_of(c1, n1, "극장") - score_of(c1, n1, "집");
                double pr = score2(ctx, "보러 극장") - score2(ctx, "보러 집");
                CHECK_NEAR(d1 - d0, -pr, 1e-3);
                CHECK(pr < 0); /* 극장 is the rarer one in the neutral frame */
            }
            nlprnn_lm_choices_free(c1, n1);
            nlprnn_lm_choices_free(c0, n0);
            nlprnn_lm_choices_free(ca, na);
            c0 = ca = NULL;
            n0 = na = 0;
        }
        nlprnn_lm_choices_free(c0, n0);
        nlprnn_lm_choices_free(ca, na);
        /* alpha out of range */
        CHECK_INT_EQ(nlprnn_lm_fill_calibrated(ctx, q, strlen(q), cands, 2, 5, -0.5, &c1, &n1, &e),
                     NLPRNN_E_INVALID_ARG);
        CHECK_INT_EQ(nlprnn_lm_fill_calibrated(ctx, q, strlen(q), cands, 2, 5, NAN, &c1, &n1, &e),
                     NLPRNN_E_INVALID_ARG);
        CHECK(strstr(e.message, "alpha") != NULL);
    }
    nlprnn_lm_ctx_free(ctx);
    nlprnn_lm_free(lm);
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return nr_test_done("test_lm_calibrate");
}
