/* tests/test_lm_stream.c: stream mode of language-model training (`bptt N`: truncated BPTT over
 * streams of reviews; tasks/lm/stream.h, tasks/lm/train.c).
 *
 *   - the layout, by hand: three reviews in a given order laid out as 2 streams (the piece left
 *     over is dropped), cut into windows of 2 steps (the last one shorter); which piece each stream
 *     and window holds as input and target, <bos> never a target; the backward direction reads
 *     each review reversed; a worker's part (streams lo..hi-1); the target count; a text too short
 *     for the streams refused
 *   - the state is carried: with the weights held still (SGD, lr 1e-9, from a model trained on
 *     text where the next word depends on the words before), the epoch's mean loss is the same
 *     for windows of 1, 3, 6 steps and for one window holding each whole stream (the same
 *     targets, each from the same state): within 1e-5 (the sums of the windows in another order).
 *     With the state reset at a window's start instead (h0 = c0 = 0: measured by breaking the
 *     carry) the losses were 1.031 (bptt 6), 1.115 (3) and 1.309 (1) against 0.943 for one window
 *     and this test failed 7 checks. At threads 2 too (each worker carries its own streams)
 *   - bptt-reset bos (test_reset): with one stream the epoch's loss (weights still) is the mean of
 *     each review's loss from a zero state (lm-eval), for any window, and without the option it is
 *     not; with 4 streams the same for every window and at threads 1 and 2
 *   - bad values refused with a message naming bptt: -1, 5000, "x"; batch too large for the text */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tasks/lm/stream.h"
#include "nlprnn.h"
#include "testutil.h"

/* ---- layout ------------------------------------------------------------------------------------- */

enum { BOS = 2, EOS = 3 };

/* window k of streams lo..hi-1 of s: its inputs and targets against the expected (T, hi-lo) */
static void check_window(const nr_lm_stream *s, long long k, int lo, int hi, int T, const int *in,
                         const int *tgt, int count, const char *what) {
    int gin[16], gtgt[16], cnt = -1;
    int got = nr_lm_stream_window(s, k, lo, hi, gin, gtgt, &cnt);
    CHECK_MSG(got == T, "%s window %lld: T = %d, expected %d", what, k, got, T);
    if (got != T) return;
    for (int i = 0; i < T * (hi - lo); i++)
        CHECK_MSG(gin[i] == in[i] && gtgt[i] == tgt[i], "%s window %lld row %d: in %d tgt %d, expected %d %d",
                  what, k, i, gin[i], gtgt[i], in[i], tgt[i]);
    CHECK_MSG(cnt == count, "%s window %lld: %d targets, expected %d", what, k, cnt, count);
    int only = -1;
    nr_lm_stream_window(s, k, lo, hi, NULL, NULL, &only);
    CHECK_INT_EQ(only, count);
}

static void test_layout(void) {
    /* review 0 = <bos> 10 11 <eos>, review 1 = <bos> 12 <eos>, review 2 = <bos> 13 14 15 <eos>:
     * 13 pieces */
    static const int32_t ids[] = {BOS, 10, 11, EOS, BOS, 12, EOS, BOS, 13, 14, 15, EOS};
    (void)ids;
    static const int32_t all[] = {BOS, 10, 11, EOS, BOS, 12, EOS, BOS, 13, 14, 15, EOS, 0};
    static const size_t start[] = {0, 4, 7, 12};
    static const int32_t order[] = {2, 0, 1};
    nr_lm_stream s;
    nlprnn_error e;
    /* 12 pieces in 2 streams: 6 each; windows of 2 over 5 input positions: 2, 2, 1 */
    int rc = nr_lm_stream_create(&s, 12, 2, 2, BOS, &e);
    CHECK_MSG(rc == 0, "create: %s", e.message);
    if (rc) return;
    CHECK_INT_EQ(s.len, 6);
    CHECK_INT_EQ(s.windows, 3);
    nr_lm_stream_fill(&s, all, start, order, 3, 0);
    /* the text in order 2, 0, 1: <bos> 13 14 15 <eos> <bos> | 10 11 <eos> <bos> 12 <eos> */
    static const int32_t fwd[12] = {BOS, 13, 14, 15, EOS, BOS, 10, 11, EOS, BOS, 12, EOS};
    CHECK_MSG(!memcmp(s.ids, fwd, sizeof fwd), "forward streams differ");
    /* time-major (T, 2): [t][stream] */
    check_window(&s, 0, 0, 2, 2, (const int[]){BOS, 10, 13, 11}, (const int[]){13, 11, 14, EOS}, 4, "forward");
    /* stream 1's <eos> -> <bos>: masked */
    check_window(&s, 1, 0, 2, 2, (const int[]){14, EOS, 15, BOS}, (const int[]){15, -1, EOS, 12}, 3, "forward");
    /* the last window: one step; stream 0's <eos> -> <bos> masked */
    check_window(&s, 2, 0, 2, 1, (const int[]){EOS, 12}, (const int[]){-1, EOS}, 1, "forward");
    /* a worker's part: stream 1 alone */
    check_window(&s, 1, 1, 2, 2, (const int[]){EOS, BOS}, (const int[]){-1, 12}, 1, "forward, stream 1");
    /* backward: each review reversed between its <bos> and <eos>, in the same order */
    nr_lm_stream_fill(&s, all, start, order, 3, 1);
    static const int32_t bwd[12] = {BOS, 15, 14, 13, EOS, BOS, 11, 10, EOS, BOS, 12, EOS};
    CHECK_MSG(!memcmp(s.ids, bwd, sizeof bwd), "backward streams differ");
    check_window(&s, 0, 0, 2, 2, (const int[]){BOS, 11, 15, 10}, (const int[]){15, 10, 14, EOS}, 4, "backward");
    nr_lm_stream_free(&s);
    /* windows of 5 (the whole stream less one) and of 100 (longer than a stream): one window */
    for (int N = 5; N <= 100; N += 95) {
        rc = nr_lm_stream_create(&s, 12, 2, N, BOS, &e);
        CHECK(rc == 0 && s.windows == 1);
        if (!rc) {
            nr_lm_stream_fill(&s, all, start, order, 3, 0);
            int in[16], tgt[16];
            CHECK_INT_EQ(nr_lm_stream_window(&s, 0, 0, 2, in, tgt, NULL), 5);
        }
        nr_lm_stream_free(&s);
    }
    /* 13 pieces, 3 streams: 4 each, the 13th left out */
    rc = nr_lm_stream_create(&s, 13, 3, 2, BOS, &e);
    CHECK(rc == 0 && s.len == 4 && s.windows == 2);
    nr_lm_stream_free(&s);
    /* 12 pieces for 7 streams: 1 piece each, no step: refused */
    rc = nr_lm_stream_create(&s, 12, 7, 2, BOS, &e);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(e.message, "batch 7"), "too short: %d %s", rc, e.message);
    nr_lm_stream_free(&s);
}

/* ---- the state is carried ------------------------------------------------------------------------ */

static char g_tok[600], g_corpus[600];

typedef struct seen {
    double loss; /* the direction's mean training loss of its last epoch (phase 2) */
} seen;

static int on_progress(void *user, const nlprnn_lm_progress *p) {
    if (p->phase == 2) ((seen *)user)->loss = p->loss;
    return 0;
}

/* Train (forward only) with the common settings plus kv into out; *loss: the last epoch's mean
 * training loss. */
static int train(const char *out, const char *const *kv, double *loss, nlprnn_error *err) {
    static const char *const common[] = {"embed", "16", "hidden", "16", "batch", "4", "seed", "3", "storage",
                                         "f32", "directions", "forward", "valid-lines", "4", NULL};
    nlprnn_lm_params *p = NULL;
    int rc = nlprnn_lm_params_create(&p, err);
    if (!rc) rc = nlprnn_lm_params_set(p, "tokenizer", g_tok, err);
    for (int i = 0; !rc && common[i]; i += 2) rc = nlprnn_lm_params_set(p, common[i], common[i + 1], err);
    for (int i = 0; !rc && kv[i]; i += 2) rc = nlprnn_lm_params_set(p, kv[i], kv[i + 1], err);
    seen s = {NAN};
    if (!rc) rc = nlprnn_lm_train(p, g_corpus, g_corpus, out, NULL, on_progress, &s, err);
    nlprnn_lm_params_free(p);
    if (loss) *loss = s.loss;
    return rc;
}

/* bptt-reset bos, the weights held still (SGD, lr 1e-9) on the model test_carry trained:
 *   - one stream (batch 1: no review cut, no piece left over): the epoch's mean loss is the mean
 *     over the text of each review scored alone from a zero state (nlprnn_lm_evaluate: nll /
 *     pieces), for windows of 1, 3 and 6 steps; without the option it is not (the state the
 *     review before left is read);
 *   - 4 streams: the same loss for windows of 1, 3, 6 and one window a stream (a review's state
 *     is carried across windows, zeroed at its <bos>), at threads 1 and 2 (each worker its own
 *     streams). */
static void test_reset(const char *model) {
    nlprnn_error e;
    nlprnn_lm *lm = NULL;
    int rc = nlprnn_lm_load(model, &lm, &e);
    CHECK_MSG(rc == 0, "load: %s", e.message);
    if (rc) return;
    nlprnn_lm_eval ev;
    memset(&ev, 0, sizeof ev);
    ev.size = sizeof ev;
    rc = nlprnn_lm_evaluate(lm, g_corpus, 0, 0, &ev, &e);
    nlprnn_lm_free(lm);
    CHECK_MSG(rc == 0, "evaluate: %s", e.message);
    if (rc) return;
    double alone = ev.nll / (double)ev.pieces;
    printf("each review alone from a zero state (lm-eval): %.7f over %lld pieces\n", alone, ev.pieces);
    static const char *const Ns[] = {"1", "3", "6", "4096"};
    for (int k = 0; k < 3; k++)
        for (int r = 0; r < 2; r++) {
            const char *const kv[] = {"init", model, "bptt", Ns[k], "bptt-reset", r ? "bos" : "none", "batch", "1",
                                      "optimizer", "sgd", "lr", "1e-9", "clip", "0", "epochs", "1", "softmax", "full",
                                      "threads", "1", NULL};
            double l = NAN;
            rc = train(nr_test_scratch("held.nrm"), kv, &l, &e);
            CHECK_MSG(rc == 0, "bptt %s reset %d: %s", Ns[k], r, e.message);
            printf("batch 1, bptt %s, bptt-reset %s: epoch loss %.7f\n", Ns[k], r ? "bos " : "none", l);
            if (r)
                CHECK_MSG(fabs(l - alone) <= 1e-5 * fabs(alone),
                          "bptt-reset bos, bptt %s: loss %.7f, the reviews alone %.7f", Ns[k], l, alone);
            else
                CHECK_MSG(fabs(l - alone) > 2e-4 * fabs(alone),
                          "without bptt-reset, bptt %s: loss %.7f = the reviews alone %.7f: the test cannot see "
                          "a missing reset", Ns[k], l, alone);
        }
    double ref = NAN;
    for (int th = 1; th <= 2; th++)
        for (int k = 3; k >= 0; k--) {
            const char *const kv[] = {"init", model, "bptt", Ns[k], "bptt-reset", "bos", "optimizer", "sgd", "lr",
                                      "1e-9", "clip", "0", "epochs", "1", "softmax", "full", "threads",
                                      th == 1 ? "1" : "2", NULL};
            double l = NAN;
            rc = train(nr_test_scratch("held.nrm"), kv, &l, &e);
            CHECK_MSG(rc == 0, "batch 4 bptt %s threads %d: %s", Ns[k], th, e.message);
            printf("batch 4, bptt %4s, bptt-reset bos, threads %d: epoch loss %.7f\n", Ns[k], th, l);
            if (th == 1 && k == 3) ref = l;
            else
                CHECK_MSG(fabs(l - ref) <= 1e-5 * fabs(ref), "bptt-reset bos, threads %d, bptt %s: loss %.7f, "
                          "threads 1 one window %.7f", th, Ns[k], l, ref);
        }
}

static void test_carry(void) {
    /* a model that has learnt the text (the key at the end of a line) */
    char model[620];
    snprintf(model, sizeof model, "%s", nr_test_scratch("week.nrm"));
    nlprnn_error e;
    static const char *const learn[] = {"bptt", "6", "epochs", "20", "lr", "0.02", "softmax", "full", NULL};
    double l0 = NAN;
    int rc = train(model, learn, &l0, &e);
    CHECK_MSG(rc == 0, "training: %s", e.message);
    if (rc) return;
    printf("trained: last epoch's loss %.4f\n", l0);
    CHECK_MSG(l0 < 1.0, "the week was not learnt (loss %g): the test would not see a lost state", l0);
    /* the same weights (lr 1e-9), the same streams (batch 4, seed 3, epoch 0), other windows */
    for (int th = 1; th <= 2; th++) {
        char thr[8];
        snprintf(thr, sizeof thr, "%d", th);
        static const char *const Ns[] = {"1", "3", "6", "4096"};
        double ref = NAN;
        for (int k = 3; k >= 0; k--) {
            const char *const kv[] = {"init", model, "bptt", Ns[k], "optimizer", "sgd", "lr", "1e-9", "clip",
                                      "0", "epochs", "1", "softmax", "full", "threads", thr, NULL};
            double l = NAN;
            rc = train(nr_test_scratch("held.nrm"), kv, &l, &e);
            CHECK_MSG(rc == 0, "bptt %s: %s", Ns[k], e.message);
            printf("threads %d, bptt %4s: epoch loss %.7f\n", th, Ns[k], l);
            if (k == 3) ref = l; /* one window a stream */
            else
                CHECK_MSG(fabs(l - ref) <= 1e-5 * fabs(ref), "threads %d: bptt %s gives loss %.7f, one window %.7f",
                          th, Ns[k], l, ref);
        }
    }
    test_reset(model);
    unlink(model);
    unlink(nr_test_scratch("held.nrm"));
}

/* ---- bad values --------------------------------------------------------------------------------- */

static void test_refused(void) {
    nlprnn_lm_params *p = NULL;
    nlprnn_error e;
    CHECK(nlprnn_lm_params_create(&p, &e) == 0);
    static const char *const bad[] = {"-1", "5000", "x", "3.5"};
    for (int i = 0; p && i < 4; i++) {
        int rc = nlprnn_lm_params_set(p, "bptt", bad[i], &e);
        CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(e.message, "bptt"), "bptt %s: %d %s", bad[i], rc, e.message);
    }
    nlprnn_lm_params_free(p);
    /* 400 lines of ~7 pieces for 4096 streams: too few pieces */
    static const char *const big[] = {"bptt", "8", "batch", "4096", "epochs", "1", NULL};
    int rc = train(nr_test_scratch("big.nrm"), big, NULL, &e);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(e.message, "bptt") && strstr(e.message, "batch 4096"),
              "batch 4096: %d %s", rc, e.message);
}

int main(void) {
    test_layout();
    nr_test_scratch_make("test_lm_stream");
    snprintf(g_corpus, sizeof g_corpus, "%s", nr_test_scratch("week.txt"));
    snprintf(g_tok, sizeof g_tok, "%s", nr_test_scratch("week.tok"));
    /* a line: a key ka..kf, 3 to 5 day names of the week from any day on, the key again: the last
     * word needs the key seen 4 to 6 steps before, so a state lost at a window's start shows */
    FILE *fp = fopen(g_corpus, "w");
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    unsigned s = 12345;
    for (int i = 0; fp && i < 400; i++) {
        s = s * 1103515245u + 12345u;
        int st = (int)((s >> 16) % 7), len = 3 + (int)((s >> 8) % 3), key = (int)((s >> 20) % 6);
        fprintf(fp, "k%c", 'a' + key);
        for (int j = 0; j < len; j++) fprintf(fp, " %s", days[(st + j) % 7]);
        fprintf(fp, " k%c\n", 'a' + key);
    }
    CHECK(fp && fclose(fp) == 0);
    int rc = nr_test_word_tokenizer_save(g_corpus, 40, g_tok);
    if (!rc) {
        test_carry();
        test_refused();
    }
    nr_test_scratch_remove();
    return nr_test_done("test_lm_stream");
}
