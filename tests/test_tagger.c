/* tests/test_tagger.c: the sequence tagger (tasks/tag/, nlprnn/tagger.h).
 *
 *   gradient   finite-difference check of embedding + hints + encoder + head + loss along random
 *              directions (GRU and LSTM, 2 bidirectional layers, padded batch, hints), per block
 *              and over the whole block; a corrupted gradient must fail the check
 *   units      NFC, white space kinds, the byte of invalid UTF-8 and of a NUL
 *   tagger     a tiny tagger trained from a tagged file written here learns a deterministic
 *              labelling that needs the next token (so the backward direction): accuracy on
 *              unseen sentences >= 0.97 (a learnt rule gives 1.0; the best rule without context
 *              0.75), save/load gives the same labels, bad tagged files name file:line: byte
 *   spacing    a tiny spacing model trained from spaced text of a made-up lexicon respaces
 *              unseen sentences exactly (>= 95% of them; the rule is deterministic), a long text
 *              runs in windows, --keep-spaces keeps a well-spaced text, errors of nlprnn_space
 *   progress   nlprnn_tagger_train_ctl trains the model of nlprnn_tagger_train byte for byte; its
 *              record: size == sizeof, a message first, steps +1 per phase-1 call (= batches of
 *              the epochs before + batch), batch <= batches, phase 2 once per epoch in order with
 *              the loss and validation accuracy the once-per-epoch callback gets, best epoch and
 *              improved; a non-zero return from a step or an epoch's end stops with
 *              NLPRNN_E_INTERRUPTED and no call after it; resumed from the checkpoint of a stop
 *              at epoch 1's end, the steps go on from batches + 1
 *   resume     stopped after epoch 2 (checkpoint) and resumed gives the model file of an
 *              uninterrupted run byte for byte (2 workers, dropout, hints and noise on); a resume
 *              on other data is refused
 *   jamo       the gradient check with the jamo tables (jamo=1: their block checked too, a wrong
 *              final's gradient caught); nr_jamo_code on hand-picked syllables (가 = ㄱ ㅏ no final,
 *              닭 = ㄷ ㅏ ㄺ, 힣 the last) and non-syllables; a tiny spacing model whose rule is "a
 *              space after a syllable with the final ㄹ", tested on syllables it never saw (unknown
 *              units): with jamo >= 95 % of the decisions right, without < 85 % (all unknown
 *              syllables are one unit to it, so it cannot know the rule: not a chaotic outcome);
 *              save/load gives the same probabilities; a pack of a jamo and a plain model (either
 *              first) is their mean; token taggers refuse jamo
 *   conv       the gradient check with the convolution in front (GRU and LSTM; with jamo too): its
 *              weights and bias as blocks, the embedding's through it, a wrong bias gradient and a
 *              wrong weight of the last offset caught; masking: a row's logits do not move when the
 *              other rows, the batch's length or its own padded steps change; a token tagger with
 *              conv 3 learns "both neighbours are the same token" (>= 0.97 on unseen sentences; the
 *              best rule without both neighbours 0.75), the same with 2 training workers (within
 *              2e-3) and 2 inference threads (1e-5); save/load gives the same probabilities; packs
 *              of a plain and a conv model (either first) are their mean; bad conv values in CONF
 *              are NLPRNN_E_FORMAT naming the file; init-from keeps the convolution; an even width
 *              is refused
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
#include "tasks/tag/tagger.h"
#include "testutil.h"

/* ---- gradient check ------------------------------------------------------------------------- */

typedef struct gctx {
    nr_tag_net *net;
    nr_tag_scratch *sc;
    int T, B;
} gctx;

static double loss_of(gctx *g) {
    nr_tag_forward(g->sc, g->net, g->T, g->B, NULL, NULL);
    /* mean cross-entropy over the real steps, in double */
    int C = g->net->C;
    double L = 0;
    int n = 0;
    for (int i = 0; i < g->T * g->B; i++) {
        int y = g->sc->tgt[i];
        if (y < 0) continue;
        const float *z = g->sc->logits + (size_t)i * C;
        double mx = z[0], s = 0;
        for (int c = 1; c < C; c++) mx = z[c] > mx ? z[c] : mx;
        for (int c = 0; c < C; c++) s += exp(z[c] - mx);
        L += mx + log(s) - z[y];
        n++;
    }
    return L / n;
}

/* Directional derivative along a random unit direction over params[lo, hi): analytic g.u against
 * a Richardson-extrapolated central difference. 1 when they agree. */
static int dir_check(gctx *g, float *p, const float *grad, size_t lo, size_t hi, nr_rng *rng, const char *what,
                     int report) {
    size_t n = hi - lo;
    double *u = malloc(n * sizeof *u), nrm = 0, an = 0;
    float *save = malloc(n * sizeof *save);
    for (size_t k = 0; k < n; k++) u[k] = nr_rng_normal(rng), nrm += u[k] * u[k];
    nrm = sqrt(nrm);
    for (size_t k = 0; k < n; k++) u[k] /= nrm, an += u[k] * grad[lo + k];
    memcpy(save, p + lo, n * sizeof *save);
    double fd[2];
    for (int r = 0; r < 2; r++) {
        double h = r == 0 ? 2e-2 : 1e-2;
        for (size_t k = 0; k < n; k++) p[lo + k] = (float)(save[k] + h * u[k]);
        double lp = loss_of(g);
        for (size_t k = 0; k < n; k++) p[lo + k] = (float)(save[k] - h * u[k]);
        double lm = loss_of(g);
        fd[r] = (lp - lm) / (2 * h);
    }
    memcpy(p + lo, save, n * sizeof *save);
    double num = (4 * fd[1] - fd[0]) / 3;
    double tol = 2e-3 * fmax(fabs(num), fabs(an)) + 2e-4;
    int ok = fabs(num - an) <= tol;
    if (!ok && report)
        fprintf(stderr, "  %s: analytic %.8g, numeric %.8g (diff %.3g, tol %.3g)\n", what, an, num, fabs(num - an), tol);
    free(u);
    free(save);
    return ok;
}

/* The convolution recomputed directly from its definition (tasks/tag/tagger.h) from the x of the
 * last forward (sc->x, E per step): the largest |relu(a) - c| over the real steps against sc->cv,
 * and the smallest |a| (how near a ReLU kink the batch is). */
static void conv_reference(const nr_tag_net *net, const nr_tag_scratch *sc, int T, int B, double *maxdiff,
                           double *minabs) {
    int K = net->K, r = K / 2, E = net->E, F = net->F;
    *maxdiff = 0, *minabs = 1e30;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < sc->len[b]; t++)
            for (int f = 0; f < F; f++) {
                double a = net->conv_b[f];
                for (int k = 0; k < K; k++) {
                    int tt = t + k - r;
                    if (tt < 0 || tt >= sc->len[b]) continue; /* 'same' padding: zeros */
                    for (int e = 0; e < E; e++)
                        a += (double)net->conv_w[((size_t)f * K + k) * E + e] * sc->x[((size_t)tt * B + b) * E + e];
                }
                double c = sc->cv[((size_t)t * B + b) * F + f];
                *maxdiff = fmax(*maxdiff, fabs((a > 0 ? a : 0) - c));
                *minabs = fmin(*minabs, fabs(a));
            }
}

static void test_gradient(int cell, int jamo, int conv) {
    nr_encoder_cfg ec;
    nr_encoder_cfg_default(&ec, 5, 4);
    ec.cell = cell;
    ec.layers = 2;
    ec.bidirectional = 1;
    const int V = 9, C = 3, T = 6, B = 3;
    nr_tag_net net;
    nr_tag_front fr = {jamo, conv, 3};
    CHECK(nr_tag_net_bind(&net, &ec, V, C, &fr, NULL, NULL) == 0);
    float *p = calloc(net.n_params, sizeof *p), *grad = calloc(net.n_params, sizeof *grad);
    CHECK(nr_tag_net_bind(&net, &ec, V, C, &fr, p, NULL) == 0);
    nr_rng rng;
    nr_rng_seed(&rng, 7 + (uint64_t)cell);
    CHECK(nr_tag_net_init(&net, &rng, NULL) == 0);
    /* hints start at 0: give them values so their gradient is not trivially checked at 0 */
    for (int k = 0; k < NR_HINTS * net.E; k++) net.hint[k] = 0.3f * nr_rng_normal(&rng);
    if (jamo) { /* the jamo tables too start at 0 */
        CHECK_INT_EQ((long long)(net.off_conv - net.off_jamo), (long long)NR_JAMO_ROWS * net.E);
        for (size_t k = net.off_jamo; k < net.off_conv; k++) CHECK(p[k] == 0.0f);
        for (size_t k = net.off_jamo; k < net.off_conv; k++) p[k] = 0.3f * (float)nr_rng_normal(&rng);
    } else {
        CHECK(net.off_jamo == net.off_conv && net.jamo_i == NULL);
    }
    size_t off_cb = net.off_conv + (size_t)net.F * (size_t)net.K * (size_t)net.E; /* conv bias bc */
    if (conv) { /* Wc (F,K E) then bc (F) before the encoder, which reads E + F */
        CHECK_INT_EQ((long long)(net.off_enc - net.off_conv), 3LL * (conv * net.E + 1));
        CHECK_INT_EQ(net.I, net.E + 3);
        for (size_t k = off_cb; k < net.off_enc; k++) CHECK(p[k] == 0.0f);
        /* larger weights and a bias away from 0: pre-activations spread over both sides of the ReLU */
        for (size_t k = net.off_conv; k < off_cb; k++) p[k] *= 4.0f;
        for (size_t k = off_cb; k < net.off_enc; k++) p[k] = 0.3f * (float)nr_rng_normal(&rng);
    } else {
        CHECK(net.off_conv == net.off_enc && net.conv_w == NULL && net.I == net.E);
    }
    for (size_t k = net.off_head; k < net.n_params; k++) p[k] *= 3.0f; /* larger logits */
    nr_tag_scratch sc;
    CHECK(nr_tag_scratch_init(&sc, &net, T, B, 1, 1, NULL) == 0);
    int len[3] = {6, 4, 1};
    for (int b = 0; b < B; b++) {
        sc.len[b] = len[b];
        for (int t = 0; t < T; t++) {
            int k = t * B + b, real = t < len[b];
            sc.ids[k] = real ? 1 + (int)nr_rng_below(&rng, (uint64_t)V - 1) : NR_UNIT_PAD;
            sc.hints[k] = real ? (int)nr_rng_below(&rng, NR_HINTS) : 0;
            /* jamo codes: a few fixed rows, so rows repeat (scatter-add); padded steps get a code the
             * forward must ignore */
            static const char *const SYL[] = {"가", "닭", "힣", "각", "a"};
            const char *sy = SYL[nr_rng_below(&rng, 5)];
            sc.jam[k] = real ? nr_jamo_code(sy, strlen(sy)) : nr_jamo_code("닭", 3);
            sc.tgt[k] = real ? (int)nr_rng_below(&rng, (uint64_t)C) : -1;
        }
    }
    gctx g = {&net, &sc, T, B};
    CHECK(nr_tag_forward(&sc, &net, T, B, NULL, NULL) == 0);
    if (conv) { /* the forward against the definition; a bias that keeps every |a| >= 0.1, so the
                 * finite differences (steps <= 0.02) do not cross a ReLU kink */
        double md = 0, mn = 0;
        for (int tries = 0; tries < 1000; tries++) {
            conv_reference(&net, &sc, T, B, &md, &mn);
            CHECK_MSG(md < 1e-5, "conv forward differs from its definition by %g", md);
            if (mn >= 0.1) break;
            for (size_t k = off_cb; k < net.off_enc; k++) p[k] = 0.3f * (float)nr_rng_normal(&rng);
            CHECK(nr_tag_forward(&sc, &net, T, B, NULL, NULL) == 0);
        }
        CHECK_MSG(mn >= 0.1, "no bias found that keeps the pre-activations off the kink (%g)", mn);
    }
    double ls = 0;
    int cnt = 0, ok = 0;
    size_t nr = 0;
    CHECK(nr_tag_backward(&sc, &net, grad, T, B, 1.0, &ls, &cnt, &ok, &nr, NULL) == 0);
    CHECK_INT_EQ(cnt, 11);
    CHECK_NEAR(ls / cnt, loss_of(&g), 1e-5);
    CHECK_MSG(nr >= 1 && nr <= 8, "touched rows %zu", nr);
    for (size_t i = 0; i < nr; i++) CHECK(sc.rows[i] != NR_UNIT_PAD);
    /* padding row: no gradient */
    for (int k = 0; k < net.E; k++) CHECK(grad[k] == 0.0f);
    struct {
        const char *name;
        size_t lo, hi;
    } blocks[] = {{"embedding", 0, net.off_hint},
                  {"hints", net.off_hint, net.off_jamo},
                  {"jamo", net.off_jamo, net.off_conv},
                  {"conv weights", net.off_conv, off_cb},
                  {"conv bias", off_cb, net.off_enc},
                  {"encoder", net.off_enc, net.off_head},
                  {"head", net.off_head, net.n_params},
                  {"all", 0, net.n_params}};
    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++)
        for (int rep = 0; rep < 3 && blocks[b].hi > blocks[b].lo; rep++)
            CHECK_MSG(dir_check(&g, p, grad, blocks[b].lo, blocks[b].hi, &rng, blocks[b].name, 1),
                      "%s gradient (%s, jamo %d, conv %d), direction %d", blocks[b].name,
                      cell == NR_CELL_GRU ? "gru" : "lstm", jamo, conv, rep);
    if (conv) { /* a wrong bias gradient, and a wrong weight of the last offset (k = K-1), are caught */
        size_t bad[2] = {off_cb + 1, net.off_conv + (size_t)(conv - 1) * (size_t)net.E + 2};
        for (int i = 0; i < 2; i++) {
            grad[bad[i]] += 0.5f;
            int caught = 0;
            for (int rep = 0; rep < 3; rep++)
                caught += !dir_check(&g, p, grad, net.off_conv, net.off_enc, &rng, "corrupted conv", 0);
            CHECK_MSG(caught >= 2, "a corrupted conv gradient (%d) passed the check %d times of 3", i, 3 - caught);
            grad[bad[i]] -= 0.5f;
        }
    }
    if (jamo) { /* the final ㄺ's row of 닭 (a row the batch uses) with a wrong gradient is caught */
        int ji, jm, jf;
        nr_jamo_rows(nr_jamo_code("닭", 3), &ji, &jm, &jf);
        float *gf = grad + net.off_jamo + ((size_t)NR_JAMO_I + NR_JAMO_M + (size_t)jf) * (size_t)net.E;
        gf[0] += 0.5f;
        int caught = 0;
        for (int rep = 0; rep < 3; rep++)
            caught += !dir_check(&g, p, grad, net.off_jamo, net.off_conv, &rng, "corrupted jamo", 0);
        CHECK_MSG(caught >= 2, "a corrupted jamo gradient passed the check %d times of 3", 3 - caught);
        gf[0] -= 0.5f;
    }
    /* the check can fail: a wrong hint gradient is caught */
    grad[net.off_hint + 1] += 0.5f;
    int caught = 0;
    for (int rep = 0; rep < 3; rep++)
        caught += !dir_check(&g, p, grad, net.off_hint, net.off_jamo, &rng, "corrupted", 0);
    CHECK_MSG(caught >= 2, "a corrupted gradient passed the check %d times of 3", 3 - caught);
    nr_tag_scratch_free(&sc);
    free(p);
    free(grad);
}

/* ---- units of a text -------------------------------------------------------------------------- */

static void test_units(void) {
    nr_units u;
    memset(&u, 0, sizeof u);
    nlprnn_error err;
    /* decomposed jamo (U+1100 U+1161 = 가) become one syllable; tab, NBSP, ideographic space */
    const char *s = " \xe1\x84\x80\xe1\x85\xa1\xeb\x82\x98\t\xc2\xa0\xeb\x8b\xa4\xe3\x80\x80\xeb\x9d\xbc ";
    CHECK(nr_units_of_text(&u, s, strlen(s), &err) == 0);
    CHECK_INT_EQ(u.n, 4);
    CHECK_STR_EQ(u.text, "가나다라");
    CHECK(u.space_after[0] == 0 && u.space_after[1] == 1 && u.space_after[2] == 1 && u.space_after[3] == 0);
    CHECK_INT_EQ(u.start[1], 3);
    const char bad[] = "가나\xe0\x80\xaf다";
    CHECK_INT_EQ(nr_units_of_text(&u, bad, sizeof bad - 1, &err), NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.offset, 6);
    const char nul[] = "ab\0c";
    CHECK_INT_EQ(nr_units_of_text(&u, nul, 4, &err), NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.offset, 2);
    CHECK(nr_units_of_text(&u, "", 0, &err) == 0 && u.n == 0);
    nr_units_free(&u);
}

/* ---- a tiny tagger from a tagged file ------------------------------------------------------------- */

static const char *const WORDS[] = {"the", "cat", "dog", "runs", "sees", "a", "red", "big"};

/* The label of token i: "N" for nouns, "V" for verbs, and for determiners and adjectives the
 * label says whether the next token is a noun ("D+" / "D-"): one cannot tell from the token. */
static const char *label_of(const int *s, int n, int i) {
    int w = s[i];
    if (w == 1 || w == 2) return "N";
    if (w == 3 || w == 4) return "V";
    int next_noun = i + 1 < n && (s[i + 1] == 1 || s[i + 1] == 2);
    return next_noun ? "D+" : "D-";
}

/* A made-up tagging task: sentences of 3..10 tokens drawn from words[0..nw), labelled by lab. */
typedef struct tag_task {
    const char *const *words;
    int nw;
    const char *(*lab)(const int *s, int n, int i);
} tag_task;

static void write_tagged(const char *path, int n_sent, uint64_t seed, const tag_task *tk) {
    FILE *fp = fopen(path, "w");
    nr_rng r;
    nr_rng_seed(&r, seed);
    for (int k = 0; k < n_sent; k++) {
        int s[12], n = 3 + (int)nr_rng_below(&r, 8);
        for (int i = 0; i < n; i++) s[i] = (int)nr_rng_below(&r, (uint64_t)tk->nw);
        for (int i = 0; i < n; i++) fprintf(fp, "%s\t%s\n", tk->words[s[i]], tk->lab(s, n, i));
        fprintf(fp, "\n");
    }
    fclose(fp);
}

/* Accuracy over n_sent unseen sentences of the task (drawn from seed), tagged with `threads`;
 * the first n_pr probabilities of the first label into pr (NULL: none). */
static double tag_accuracy(const nlprnn_tagger *t, const tag_task *tk, uint64_t seed, int n_sent, int threads,
                           float *pr, int n_pr) {
    nlprnn_tagger_ctx *ctx = NULL;
    nlprnn_error err;
    CHECK(nlprnn_tagger_ctx_create(t, threads, &ctx, &err) == 0);
    nr_rng r;
    nr_rng_seed(&r, seed);
    long ok = 0, all = 0;
    int np = 0;
    for (int k = 0; k < n_sent && ctx; k++) {
        int s[12], lab[12], n = 3 + (int)nr_rng_below(&r, 8);
        float q[12];
        const char *tok[12];
        for (int i = 0; i < n; i++) s[i] = (int)nr_rng_below(&r, (uint64_t)tk->nw), tok[i] = tk->words[s[i]];
        CHECK(nlprnn_tag(ctx, tok, (size_t)n, lab, q, &err) == 0);
        for (int i = 0; i < n; i++) {
            ok += !strcmp(nlprnn_tagger_label(t, lab[i]), tk->lab(s, n, i)), all++;
            if (pr && np < n_pr) pr[np++] = lab[i] == 0 ? q[i] : 1 - q[i]; /* two labels */
        }
    }
    nlprnn_tagger_ctx_free(ctx);
    return all ? (double)ok / (double)all : 0;
}

static const tag_task POS = {WORDS, 8, label_of};

static void test_tiny_tagger(const char *dir) {
    char train[512], model[600], bad[512];
    snprintf(train, sizeof train, "%s/train.tsv", dir);
    snprintf(model, sizeof model, "%s/tagger.nrm", dir);
    write_tagged(train, 400, 11, &POS);
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    nlprnn_error err;
    const char *set[][2] = {{"format", "tagged"}, {"embed", "16"}, {"hidden", "16"}, {"layers", "1"},
                            {"epochs", "12"}, {"batch", "16"}, {"lr", "0.01"}, {"min-lr", "0.001"},
                            {"min-count", "1"}, {"dropout", "0"}, {"valid", "0.1"}};
    for (size_t i = 0; i < sizeof set / sizeof *set; i++) CHECK(nlprnn_tagger_params_set(p, set[i][0], set[i][1], &err) == 0);
    CHECK_INT_EQ(nlprnn_tagger_params_set(p, "hidden", "0", &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "hidden") != NULL);
    nlprnn_tagger *t = NULL;
    const char *paths[] = {train};
    int rc = nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == 0, "train: %s", err.message);
    if (rc) {
        nlprnn_tagger_params_free(p);
        return;
    }
    CHECK_INT_EQ(nlprnn_tagger_is_spacing(t), 0);
    CHECK_INT_EQ(nlprnn_tagger_num_labels(t), 4);
    CHECK_STR_EQ(nlprnn_tagger_label(t, 0), "D+"); /* sorted, not in order of appearance */
    CHECK_INT_EQ(nlprnn_tagger_num_units(t), 10);
    double acc = tag_accuracy(t, &POS, 99, 200, 1, NULL, 0);
    printf("tiny tagger: accuracy on unseen sentences %.4f (%s)\n", acc, nlprnn_tagger_summary(t));
    CHECK_MSG(acc >= 0.97, "accuracy %.4f < 0.97", acc);
    /* save, load: the same labels and probabilities */
    CHECK(nlprnn_tagger_save(t, model, &err) == 0);
    nlprnn_tagger *t2 = NULL;
    CHECK(nlprnn_tagger_load(model, &t2, &err) == 0);
    if (t2) {
        nlprnn_tagger_ctx *c1 = NULL, *c2 = NULL;
        nlprnn_tagger_ctx_create(t, 1, &c1, NULL);
        nlprnn_tagger_ctx_create(t2, 1, &c2, NULL);
        const char *tok[] = {"a", "red", "cat", "sees", "the", "unknown-word", "dog"};
        int l1[7], l2[7];
        float p1[7], p2[7];
        CHECK(nlprnn_tag(c1, tok, 7, l1, p1, &err) == 0);
        CHECK(nlprnn_tag(c2, tok, 7, l2, p2, &err) == 0);
        for (int i = 0; i < 7; i++) CHECK(l1[i] == l2[i] && p1[i] == p2[i]);
        CHECK_INT_EQ(nlprnn_space(c1, "x", 1, 0, &err), NLPRNN_E_UNSUPPORTED);
        nlprnn_tagger_ctx_free(c1);
        nlprnn_tagger_ctx_free(c2);
        CHECK_STR_EQ(nlprnn_tagger_summary(t2), nlprnn_tagger_summary(t));
    }
    nlprnn_tagger_free(t2);
    nlprnn_tagger_free(t);
    /* a model file of another kind, and not a model file */
    CHECK_INT_EQ(nlprnn_tagger_load(train, &t2, &err), NLPRNN_E_MAGIC);
    /* bad tagged files: no TAB, an empty label, invalid UTF-8 */
    const char *bads[][2] = {{"cat\tN\ndog N\n", "bad.tsv:2: byte 6: expected token<TAB>label"},
                             {"cat\tN\n\ndog\t\n", "bad.tsv:3: byte 7: expected token<TAB>label"},
                             {"cat\tN\nd\xffg\tN\n", "bad.tsv:2: byte 7: invalid UTF-8"}};
    snprintf(bad, sizeof bad, "%s/bad.tsv", dir);
    for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
        FILE *fp = fopen(bad, "w");
        fputs(bads[i][0], fp);
        fclose(fp);
        const char *bp[] = {bad};
        t = NULL;
        rc = nlprnn_tagger_train(bp, 1, p, NULL, NULL, NULL, &t, &err);
        CHECK_MSG(rc == (i == 2 ? NLPRNN_E_UTF8 : NLPRNN_E_DATA), "bad file %zu: %d %s", i, rc, err.message);
        CHECK_MSG(strstr(err.message, bads[i][1]) != NULL, "bad file %zu: '%s' lacks '%s'", i, err.message, bads[i][1]);
        CHECK(t == NULL);
    }
    nlprnn_tagger_params_free(p);
}

/* ---- a tiny spacing model ------------------------------------------------------------------------- */

/* Words of a made-up lexicon: every word ends with one of the syllables 다/요/고, which occur
 * nowhere else, so the spaces of a text are a function of its characters. */
static const char *const LEX[] = {"가나다", "라마요", "바사고", "아자차다", "카타요", "파하고", "나라다", "마바사요"};

static void make_sentence(nr_rng *r, char *out, size_t cap, int spaced) {
    int n = 2 + (int)nr_rng_below(r, 6);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i && spaced) strncat(out, " ", cap - strlen(out) - 1);
        strncat(out, LEX[nr_rng_below(r, 8)], cap - strlen(out) - 1);
    }
}

static void test_tiny_spacing(const char *dir) {
    char train[512], model[600];
    snprintf(train, sizeof train, "%s/spaced.txt", dir);
    snprintf(model, sizeof model, "%s/space.nrm", dir);
    FILE *fp = fopen(train, "w");
    nr_rng r;
    nr_rng_seed(&r, 5);
    char s[512];
    for (int k = 0; k < 300; k++) {
        make_sentence(&r, s, sizeof s, 1);
        fprintf(fp, "%s\n", s);
    }
    fclose(fp);
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    nlprnn_error err;
    const char *set[][2] = {{"embed", "16"}, {"hidden", "16"}, {"layers", "1"}, {"epochs", "8"}, {"batch", "16"},
                            {"lr", "0.01"}, {"min-lr", "0.001"}, {"min-count", "1"}, {"max-len", "24"},
                            {"hints", "0.5"}, {"dropout", "0"}};
    for (size_t i = 0; i < sizeof set / sizeof *set; i++) CHECK(nlprnn_tagger_params_set(p, set[i][0], set[i][1], &err) == 0);
    nlprnn_tagger *t = NULL;
    const char *paths[] = {train};
    int rc = nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == 0, "train: %s", err.message);
    nlprnn_tagger_params_free(p);
    if (rc) return;
    CHECK_INT_EQ(nlprnn_tagger_is_spacing(t), 1);
    CHECK_STR_EQ(nlprnn_tagger_label(t, 1), "space");
    nlprnn_tagger_ctx *ctx = NULL;
    CHECK(nlprnn_tagger_ctx_create(t, 2, &ctx, &err) == 0);
    nr_rng_seed(&r, 1234);
    int exact = 0, kept = 0, N = 100;
    char sp[512], joined[512];
    for (int k = 0; k < N; k++) {
        nr_rng r2 = r;
        make_sentence(&r, sp, sizeof sp, 1);
        make_sentence(&r2, joined, sizeof joined, 0);
        CHECK(nlprnn_space(ctx, joined, strlen(joined), 0, &err) == 0);
        exact += !strcmp(nlprnn_space_text(ctx, 0, NULL), sp);
        CHECK(nlprnn_space(ctx, sp, strlen(sp), NLPRNN_SPACE_KEEP, &err) == 0);
        kept += !strcmp(nlprnn_space_text(ctx, 0, NULL), sp);
    }
    printf("tiny spacing: %d of %d unseen sentences respaced exactly, %d of %d kept with hints\n", exact, N, kept, N);
    CHECK_MSG(exact >= 95, "%d of %d exact", exact, N);
    CHECK_MSG(kept >= 95, "%d of %d kept", kept, N);
    /* a long text (many windows of 24 units) and a batch: the same as one by one */
    char longs[8192] = "", longj[8192] = "";
    nr_rng_seed(&r, 77);
    for (int k = 0; k < 40; k++) {
        nr_rng r2 = r;
        make_sentence(&r, sp, sizeof sp, 1);
        make_sentence(&r2, joined, sizeof joined, 0);
        if (k) strcat(longs, " ");
        strcat(longs, sp);
        strcat(longj, joined);
    }
    CHECK(nlprnn_space(ctx, longj, strlen(longj), 0, &err) == 0);
    char *o = strdup(nlprnn_space_text(ctx, 0, NULL)); /* the context's buffer is reused */
    size_t diff = 0, i = 0, j = 0;
    while (o[i] && longs[j]) { /* count differing space decisions */
        if (o[i] == longs[j]) i++, j++;
        else if (o[i] == ' ') i++, diff++;
        else j++, diff++;
    }
    printf("tiny spacing: a text of %zu units, %zu space decisions differ\n", nlprnn_space_units(ctx, 0), diff);
    CHECK_MSG(diff <= 3, "%zu decisions differ in the long text", diff);
    const char *texts[] = {"가나다라마요", "", "바사고\xff", longj};
    size_t lens[] = {strlen(texts[0]), 0, strlen(texts[2]), strlen(longj)};
    int st[4];
    CHECK(nlprnn_space_batch(ctx, texts, lens, 4, 0, st, &err) == 0);
    CHECK(st[0] == 0 && st[1] == 0 && st[2] == NLPRNN_E_UTF8 && st[3] == 0);
    CHECK_STR_EQ(nlprnn_space_text(ctx, 0, NULL), "가나다 라마요");
    CHECK_STR_EQ(nlprnn_space_text(ctx, 1, NULL), "");
    CHECK(nlprnn_space_text(ctx, 2, NULL) == NULL);
    CHECK_STR_EQ(nlprnn_space_text(ctx, 3, NULL), o);
    free(o);
    size_t end = 0;
    float pr = 0;
    int has = 0;
    CHECK(nlprnn_space_unit(ctx, 0, 2, &end, &pr, &has, &err) == 0);
    CHECK(end == 9 && has == 1 && pr > 0.5f);
    CHECK_INT_EQ(nlprnn_space_unit(ctx, 0, 6, &end, &pr, &has, &err), NLPRNN_E_INVALID_ARG);
    /* errors of one text: the byte */
    CHECK_INT_EQ(nlprnn_space(ctx, "가나\xed\xa0\x80", 9, 0, &err), NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.offset, 6);
    CHECK(strstr(err.message, "byte 6: invalid UTF-8") != NULL);
    CHECK_INT_EQ(nlprnn_space(ctx, "가", 3, 8, &err), NLPRNN_E_INVALID_ARG);
    int l[1];
    const char *tk[] = {"가"};
    CHECK_INT_EQ(nlprnn_tag(ctx, tk, 1, l, NULL, &err), NLPRNN_E_UNSUPPORTED);
    nlprnn_tagger_ctx_free(ctx);
    CHECK(nlprnn_tagger_save(t, model, &err) == 0);
    nlprnn_tagger_free(t);
    /* a truncated model file */
    FILE *f = fopen(model, "r+b");
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fclose(f);
    CHECK(truncate(model, sz / 2) == 0);
    CHECK_INT_EQ(nlprnn_tagger_load(model, &t, &err), NLPRNN_E_TRUNCATED);
    CHECK(t == NULL);
    nlprnn_tagger_free(NULL);
    nlprnn_tagger_ctx_free(NULL);
}

/* ---- resume: stopped after epoch 2 and resumed = uninterrupted, byte for byte ---------------- */

static int stop_after_2(void *user, int epoch, double loss, double acc) {
    (void)user, (void)loss, (void)acc;
    return epoch == 2;
}

static unsigned char *read_all(const char *path, long *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    *n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*n + 1);
    if (b && fread(b, 1, (size_t)*n, fp) != (size_t)*n) *n = -1;
    fclose(fp);
    return b;
}

static void test_resume(const char *dir) {
    char train[512], ck[600], a[600], b[600];
    snprintf(train, sizeof train, "%s/spaced.txt", dir); /* written by test_tiny_spacing */
    snprintf(ck, sizeof ck, "%s/run.ckpt", dir);
    snprintf(a, sizeof a, "%s/a.nrm", dir);
    snprintf(b, sizeof b, "%s/b.nrm", dir);
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    nlprnn_error err;
    const char *set[][2] = {{"embed", "8"}, {"hidden", "8"}, {"layers", "2"}, {"epochs", "4"}, {"batch", "16"},
                            {"min-count", "1"}, {"max-len", "24"}, {"hints", "0.5"}, {"noise", "0.1"},
                            {"dropout", "0.2"}, {"threads", "2"}, {"checkpoint", ck}};
    for (size_t i = 0; i < sizeof set / sizeof *set; i++) CHECK(nlprnn_tagger_params_set(p, set[i][0], set[i][1], &err) == 0);
    const char *paths[] = {train};
    nlprnn_tagger *t = NULL;
    int rc = nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (t) CHECK(nlprnn_tagger_save(t, a, &err) == 0);
    nlprnn_tagger_free(t);
    t = NULL;
    unlink(ck);
    rc = nlprnn_tagger_train(paths, 1, p, NULL, stop_after_2, NULL, &t, &err);
    CHECK_INT_EQ(rc, NLPRNN_E_INTERRUPTED);
    CHECK(t == NULL && access(ck, R_OK) == 0);
    nlprnn_train_ctl *ctl = NULL;
    CHECK(nlprnn_train_ctl_create(&ctl, &err) == 0);
    nlprnn_train_ctl_set_resume(ctl, 1);
    rc = nlprnn_tagger_train(paths, 1, p, ctl, NULL, NULL, &t, &err);
    CHECK_MSG(rc == 0, "resume: %s", err.message);
    if (t) CHECK(nlprnn_tagger_save(t, b, &err) == 0);
    nlprnn_tagger_free(t);
    long na = 0, nb = 0;
    unsigned char *ba = read_all(a, &na), *bb = read_all(b, &nb);
    CHECK_MSG(ba && bb && na == nb && na > 0 && !memcmp(ba, bb, (size_t)na), "resumed model differs (%ld vs %ld bytes)", na, nb);
    free(ba);
    free(bb);
    /* a resume on other data is refused */
    FILE *fp = fopen(train, "a");
    fputs("가나다 라마요\n", fp);
    fclose(fp);
    t = NULL;
    CHECK_INT_EQ(nlprnn_tagger_train(paths, 1, p, ctl, NULL, NULL, &t, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "other data") != NULL);
    nlprnn_train_ctl_free(ctl);
    nlprnn_tagger_params_free(p);
}

/* ---- progress: the record of nlprnn_tagger_train_ctl ------------------------------------------ */

#define PR_MAX 4096
typedef struct pr_log {
    int n, stop_step, stop_epoch; /* stop: return 1 from the phase-1 call at step stop_step, or the
                                     phase-2 call of epoch stop_epoch (0: never) */
    int after_stop;               /* calls after the one that asked to stop */
    int asked;
    nlprnn_tagger_progress rec[PR_MAX];
} pr_log;

static int pr_record(void *user, const nlprnn_tagger_progress *p) {
    pr_log *g = user;
    if (g->asked) g->after_stop++;
    if (g->n < PR_MAX) g->rec[g->n++] = *p;
    int stop = (p->phase == 1 && p->steps == g->stop_step) || (p->phase == 2 && p->epoch == g->stop_epoch);
    if (stop) g->asked = 1;
    return stop;
}

typedef struct ep_log {
    int n;
    int epoch[16];
    double loss[16], acc[16];
} ep_log;

static int ep_record(void *user, int epoch, double loss, double acc) {
    ep_log *g = user;
    if (g->n < 16) {
        g->epoch[g->n] = epoch;
        g->loss[g->n] = loss;
        g->acc[g->n] = acc;
        g->n++;
    }
    return 0;
}

static void test_progress(const char *dir) {
    char train[512], a[600], b[600];
    snprintf(train, sizeof train, "%s/spaced.txt", dir); /* written by test_tiny_spacing */
    snprintf(a, sizeof a, "%s/prog-a.nrm", dir);
    snprintf(b, sizeof b, "%s/prog-b.nrm", dir);
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    nlprnn_error err;
    const int E = 3;
    const char *set[][2] = {{"embed", "8"}, {"hidden", "8"}, {"layers", "1"}, {"epochs", "3"}, {"batch", "16"},
                            {"min-count", "1"}, {"max-len", "24"}, {"hints", "0.5"}, {"valid", "0.1"}};
    for (size_t i = 0; i < sizeof set / sizeof *set; i++) CHECK(nlprnn_tagger_params_set(p, set[i][0], set[i][1], &err) == 0);
    const char *paths[] = {train};
    /* the once-per-epoch callback (nlprnn_tagger_train) */
    ep_log *ep = calloc(1, sizeof *ep);
    nlprnn_tagger *t = NULL;
    int rc = nlprnn_tagger_train(paths, 1, p, NULL, ep_record, ep, &t, &err);
    CHECK_MSG(rc == 0, "train: %s", err.message);
    if (t) CHECK(nlprnn_tagger_save(t, a, &err) == 0);
    nlprnn_tagger_free(t);
    CHECK_INT_EQ(ep->n, E);
    /* the record (nlprnn_tagger_train_ctl): the same training */
    pr_log *g = calloc(1, sizeof *g);
    t = NULL;
    rc = nlprnn_tagger_train_ctl(paths, 1, p, NULL, pr_record, g, &t, &err);
    CHECK_MSG(rc == 0, "train_ctl: %s", err.message);
    if (t) CHECK(nlprnn_tagger_save(t, b, &err) == 0);
    nlprnn_tagger_free(t);
    long na = 0, nb = 0;
    unsigned char *ba = read_all(a, &na), *bb = read_all(b, &nb);
    CHECK_MSG(ba && bb && na == nb && na > 0 && !memcmp(ba, bb, (size_t)na),
              "the two entry points train different models (%ld vs %ld bytes)", na, nb);
    free(ba);
    free(bb);
    CHECK(g->n < PR_MAX);
    int n_steps = 0, n_epochs = 0, n_msg = 0, best = 0;
    long long last_steps = 0, batches = 0;
    double best_acc = -1, best_loss = INFINITY;
    for (int i = 0; i < g->n; i++) {
        const nlprnn_tagger_progress *r = &g->rec[i];
        CHECK_MSG(r->size == sizeof(nlprnn_tagger_progress), "call %d: size %zu", i, r->size);
        CHECK(NLPRNN_HAS_FIELD(nlprnn_tagger_progress, r, improved));
        CHECK_INT_EQ(r->epochs, E);
        CHECK_MSG(r->steps >= last_steps, "call %d: steps %lld after %lld", i, r->steps, last_steps);
        if (r->phase == 0) {
            n_msg++;
            CHECK(r->message != NULL && r->message[0]);
            continue;
        }
        CHECK(r->message == NULL);
        CHECK_MSG(r->batch >= 1 && r->batch <= r->batches, "call %d: batch %lld of %lld", i, r->batch, r->batches);
        if (batches == 0) batches = r->batches;
        CHECK_INT_EQ((int)r->batches, (int)batches);
        CHECK(isfinite(r->loss) && r->loss > 0 && r->accuracy >= 0 && r->accuracy <= 1);
        CHECK(r->units_per_sec > 0 && r->elapsed >= 0 && r->lr > 0);
        if (r->phase == 1) {
            n_steps++;
            CHECK_MSG(r->steps == last_steps + 1, "call %d: step %lld after %lld", i, r->steps, last_steps);
            CHECK_MSG(r->epoch == n_epochs + 1, "call %d: a step of epoch %d after %d epochs", i, r->epoch, n_epochs);
            CHECK_MSG(r->steps == (long long)n_epochs * batches + r->batch, "call %d: step %lld is not batch %lld of epoch %d",
                      i, r->steps, r->batch, r->epoch);
            CHECK(r->eta >= 0 && isnan(r->valid_accuracy) && r->improved == 0);
        } else {
            CHECK_INT_EQ(r->phase, 2);
            n_epochs++;
            CHECK_INT_EQ(r->epoch, n_epochs);
            CHECK(r->batch == r->batches && r->steps == (long long)n_epochs * batches && r->eta == 0);
            CHECK(r->valid_accuracy >= 0 && r->valid_accuracy <= 1 && isfinite(r->valid_loss));
            if (n_epochs <= ep->n) { /* what the once-per-epoch callback saw */
                CHECK_INT_EQ(ep->epoch[n_epochs - 1], n_epochs);
                CHECK(r->loss == ep->loss[n_epochs - 1] && r->valid_accuracy == ep->acc[n_epochs - 1]);
            }
            int imp = r->valid_accuracy > best_acc || (r->valid_accuracy == best_acc && r->valid_loss < best_loss);
            if (imp) best_acc = r->valid_accuracy, best_loss = r->valid_loss, best = n_epochs;
            CHECK_MSG(r->improved == imp && r->best_epoch == best, "epoch %d: improved %d best %d (expected %d, %d)",
                      n_epochs, r->improved, r->best_epoch, imp, best);
        }
        last_steps = r->steps;
    }
    printf("progress: %d calls (%d messages, %d steps, %d epochs of %lld batches)\n", g->n, n_msg, n_steps,
           n_epochs, batches);
    CHECK_INT_EQ(n_epochs, E);
    CHECK(batches > 2 && n_steps == E * batches && n_msg >= 1 && g->rec[0].phase == 0);
    /* stopping from a step: NLPRNN_E_INTERRUPTED, no model, no call after it */
    memset(g, 0, sizeof *g);
    g->stop_step = (int)batches + 2;
    t = NULL;
    rc = nlprnn_tagger_train_ctl(paths, 1, p, NULL, pr_record, g, &t, &err);
    CHECK_INT_EQ(rc, NLPRNN_E_INTERRUPTED);
    CHECK(t == NULL && g->asked && g->after_stop == 0);
    CHECK(g->n > 0 && g->rec[g->n - 1].phase == 1 && g->rec[g->n - 1].epoch == 2);
    /* stopping at the end of epoch 1 */
    memset(g, 0, sizeof *g);
    g->stop_epoch = 1;
    rc = nlprnn_tagger_train_ctl(paths, 1, p, NULL, pr_record, g, &t, &err);
    CHECK_INT_EQ(rc, NLPRNN_E_INTERRUPTED);
    CHECK(t == NULL && g->asked && g->after_stop == 0);
    /* stopped at the end of epoch 1 with a checkpoint and resumed: the steps go on from there */
    char ck[600];
    snprintf(ck, sizeof ck, "%s/prog.ckpt", dir);
    CHECK(nlprnn_tagger_params_set(p, "checkpoint", ck, &err) == 0);
    memset(g, 0, sizeof *g);
    g->stop_epoch = 1;
    CHECK_INT_EQ(nlprnn_tagger_train_ctl(paths, 1, p, NULL, pr_record, g, &t, &err), NLPRNN_E_INTERRUPTED);
    nlprnn_train_ctl *ctl = NULL;
    CHECK(nlprnn_train_ctl_create(&ctl, &err) == 0);
    nlprnn_train_ctl_set_resume(ctl, 1);
    memset(g, 0, sizeof *g);
    rc = nlprnn_tagger_train_ctl(paths, 1, p, ctl, pr_record, g, &t, &err);
    CHECK_MSG(rc == 0, "resume: %s", err.message);
    int first = 0;
    while (first < g->n && g->rec[first].phase != 1) first++;
    CHECK_MSG(first < g->n && g->rec[first].epoch == 2 && g->rec[first].steps == batches + 1,
              "resumed: the first step is %lld of epoch %d", first < g->n ? g->rec[first].steps : -1LL,
              first < g->n ? g->rec[first].epoch : -1);
    CHECK(g->n > 0 && g->rec[g->n - 1].phase == 2 && g->rec[g->n - 1].steps == (long long)E * batches);
    nlprnn_tagger_free(t);
    t = NULL;
    nlprnn_train_ctl_free(ctl);
    CHECK(nlprnn_tagger_params_set(p, "checkpoint", "", &err) == 0);
    /* no callback */
    rc = nlprnn_tagger_train_ctl(paths, 1, p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    nlprnn_tagger_free(t);
    free(g);
    free(ep);
    nlprnn_tagger_params_free(p);
}

/* ---- fine-tuning: --init-from ------------------------------------------------------------------ */

/* Probabilities of one tagged sentence under t. */
static void probs_of(const nlprnn_tagger *t, float *pr, int *lab) {
    const char *tok[] = {"a", "red", "fox", "sees", "the", "big", "dog"};
    nlprnn_tagger_ctx *ctx = NULL;
    nlprnn_error err;
    CHECK(nlprnn_tagger_ctx_create(t, 1, &ctx, &err) == 0);
    if (ctx) CHECK(nlprnn_tag(ctx, tok, 7, lab, pr, &err) == 0);
    nlprnn_tagger_ctx_free(ctx);
}

/* A model trained with init-from starts from the initial model: its units (a unit new in the data
 * is <unk>), its labels and shape (whatever the parameters say), its weights (with a vanishing
 * learning rate the result predicts as the initial model does; the same run without init-from
 * does not). Bad uses: a label the initial model lacks, the other format, a missing file. */
static void test_init_from(const char *dir) {
    char model[600], train[600], path3[600];
    snprintf(model, sizeof model, "%s/tagger.nrm", dir); /* written by test_tiny_tagger */
    snprintf(train, sizeof train, "%s/train2.tsv", dir);
    snprintf(path3, sizeof path3, "%s/train3.tsv", dir);
    FILE *fp = fopen(train, "w");
    fputs("a\tD+\nred\tD+\nfox\tN\nruns\tV\n\nowl\tN\nsees\tV\nthe\tD+\ndog\tN\nsees\tV\nthe\tD-\nbig\tD-\n\n", fp);
    fclose(fp);
    fp = fopen(path3, "w");
    fputs("a\tD+\nfox\tX\n\n", fp);
    fclose(fp);
    nlprnn_error err;
    nlprnn_tagger *a = NULL;
    CHECK_MSG(nlprnn_tagger_load(model, &a, &err) == 0, "%s", err.message);
    if (!a) return;
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    const char *set[][2] = {{"format", "tagged"}, {"embed", "8"}, {"hidden", "24"}, {"layers", "2"},
                            {"epochs", "1"},      {"batch", "2"}, {"lr", "1e-9"},   {"min-lr", "1e-9"},
                            {"min-count", "1"},   {"dropout", "0"}, {"valid", "0"}};
    for (size_t i = 0; i < sizeof set / sizeof *set; i++) CHECK(nlprnn_tagger_params_set(p, set[i][0], set[i][1], &err) == 0);
    const char *paths[] = {train};
    float pa[7], pb[7], pc[7];
    int la[7], lb[7], lc[7];
    probs_of(a, pa, la);
    /* without init-from: a network of its own (the control: its probabilities are not a's) */
    nlprnn_tagger *c = NULL;
    CHECK_MSG(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &c, &err) == 0, "%s", err.message);
    if (c) {
        CHECK_INT_EQ(nlprnn_tagger_num_units(c), 11); /* <pad> <unk> and 9 words */
        probs_of(c, pc, lc);
        float far = 0;
        for (int i = 0; i < 7; i++) far = fmaxf(far, fabsf(pc[i] - pa[i]));
        CHECK_MSG(far > 0.1f, "an untrained model predicts like the trained one (%g)", far);
    }
    nlprnn_tagger_free(c);
    CHECK(nlprnn_tagger_params_set(p, "init-from", model, &err) == 0);
    nlprnn_tagger *b = NULL;
    CHECK_MSG(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &b, &err) == 0, "%s", err.message);
    if (b) {
        CHECK_INT_EQ(nlprnn_tagger_num_units(b), nlprnn_tagger_num_units(a)); /* "fox" is <unk> */
        CHECK_INT_EQ(nlprnn_tagger_num_labels(b), nlprnn_tagger_num_labels(a));
        probs_of(b, pb, lb);
        for (int i = 0; i < 7; i++)
            CHECK_MSG(la[i] == lb[i] && fabsf(pa[i] - pb[i]) < 1e-4f, "token %d: label %d/%d, p %g/%g", i, la[i],
                      lb[i], pa[i], pb[i]);
        char buf[64];
        CHECK(nlprnn_tagger_params_get(p, "embed", buf, sizeof buf, &err) == 0 && !strcmp(buf, "8"));
        CHECK_MSG(strstr(nlprnn_tagger_summary(b), "embed 16") != NULL, "shape not the initial model's: %s",
                  nlprnn_tagger_summary(b));
    }
    nlprnn_tagger_free(b);
    /* a label the initial model does not have */
    const char *p3[] = {path3};
    b = NULL;
    CHECK_INT_EQ(nlprnn_tagger_train(p3, 1, p, NULL, NULL, NULL, &b, &err), NLPRNN_E_DATA);
    CHECK_MSG(strstr(err.message, "'X'") != NULL, "%s", err.message);
    CHECK(b == NULL);
    /* a tagged model for spacing data */
    CHECK(nlprnn_tagger_params_set(p, "format", "spacing", &err) == 0);
    CHECK_INT_EQ(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &b, &err), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(err.message, "tagged model") != NULL, "%s", err.message);
    /* a missing initial model: the error names it */
    CHECK(nlprnn_tagger_params_set(p, "format", "tagged", &err) == 0);
    CHECK(nlprnn_tagger_params_set(p, "init-from", "/nonexistent/init.nrm", &err) == 0);
    CHECK(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &b, &err) != 0);
    CHECK_MSG(strstr(err.message, "/nonexistent/init.nrm") != NULL, "%s", err.message);
    CHECK(b == NULL);
    nlprnn_tagger_params_free(p);
    nlprnn_tagger_free(a);
}

/* ---- jamo ------------------------------------------------------------------------------------ */

/* The rows (initial, medial, final) of a string's jamo code. */
static void rows_of(const char *s, int *ji, int *jm, int *jf) { nr_jamo_rows(nr_jamo_code(s, strlen(s)), ji, jm, jf); }

static void test_jamo_code(void) {
    int i, m, f;
    rows_of("가", &i, &m, &f); /* U+AC00: ㄱ ㅏ, no final: rows 1 1 1 */
    CHECK(i == 1 && m == 1 && f == 1);
    rows_of("닭", &i, &m, &f); /* U+B2ED: ㄷ (initial 3) ㅏ (medial 0) ㄺ (final 9) */
    CHECK_MSG(i == 4 && m == 1 && f == 10, "닭: %d %d %d", i, m, f);
    rows_of("힣", &i, &m, &f); /* U+D7A3, the last: ㅎ (18) ㅣ (20) ㅎ (27) */
    CHECK_MSG(i == 19 && m == 21 && f == 28, "힣: %d %d %d", i, m, f);
    CHECK(i < NR_JAMO_I && m < NR_JAMO_M && f < NR_JAMO_F);
    rows_of("을", &i, &m, &f); /* ㅇ (11) ㅡ (18) ㄹ (8) */
    CHECK_MSG(i == 12 && m == 19 && f == 9, "을: %d %d %d", i, m, f);
    rows_of("는", &i, &m, &f); /* ㄴ (2) ㅡ (18) ㄴ (4) */
    CHECK_MSG(i == 3 && m == 19 && f == 5, "는: %d %d %d", i, m, f);
    /* not one Hangul syllable: 0, whose rows are the "none" rows 0 0 0 */
    const char *const NOT[] = {"a", "가나", "\xea\xaf\xbf" /* U+ABFF */, "\xed\x9e\xa4" /* U+D7A4 */,
                               "ㄱ" /* U+3131, a jamo letter */, "\xf0\x9f\x98\x80" /* U+1F600 */, "", "。"};
    for (size_t k = 0; k < sizeof NOT / sizeof *NOT; k++)
        CHECK_MSG(nr_jamo_code(NOT[k], strlen(NOT[k])) == 0, "'%s' has a jamo code", NOT[k]);
    CHECK(nr_jamo_code("가", 2) == 0); /* a cut sequence */
    nr_jamo_rows(0, &i, &m, &f);
    CHECK(i == 0 && m == 0 && f == 0);
    /* every syllable: its code decodes to the arithmetic's rows, all codes distinct and non-zero */
    int bad = 0;
    for (unsigned cp = 0xAC00; cp <= 0xD7A3; cp++) {
        char u[4] = {(char)(0xE0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3F)), (char)(0x80 | (cp & 0x3F)), 0};
        unsigned s = cp - 0xAC00;
        uint16_t c = nr_jamo_code(u, 3);
        nr_jamo_rows(c, &i, &m, &f);
        bad += c == 0 || i != 1 + (int)(s / 588) || m != 1 + (int)(s % 588 / 28) || f != 1 + (int)(s % 28);
    }
    CHECK_INT_EQ(bad, 0);
}

/* Syllable (initial a, medial b, final c) as UTF-8 into out (4 bytes). */
static void syllable(int a, int b, int c, char *out) {
    unsigned cp = 0xAC00 + (unsigned)((a * 21 + b) * 28 + c);
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    out[3] = 0;
}

/* A sentence of 3..10 syllables whose (initial, medial) have the parity `odd`, finals none, ㄴ or
 * ㄹ; a space after each one with ㄹ but the last (when spaced). */
static void jamo_sentence(nr_rng *r, int odd, int spaced, char *out) {
    static const int FIN[] = {0, 4, 8};
    int n = 3 + (int)nr_rng_below(r, 8);
    char *w = out;
    for (int k = 0; k < n; k++) {
        int a = (int)nr_rng_below(r, 19), par = (odd + a) & 1; /* b's parity makes a + b's */
        int b = par + 2 * (int)nr_rng_below(r, par ? 10 : 11), c = FIN[nr_rng_below(r, 3)];
        syllable(a, b, c, w);
        w += 3;
        if (spaced && c == 8 && k + 1 < n) *w++ = ' ';
    }
    *w = 0;
}

/* Space decisions right (of all but the last unit) over 200 unseen sentences of parity `odd`. */
static double jamo_accuracy(const nlprnn_tagger *t, int odd, float *probs_out, int n_probs) {
    nlprnn_tagger_ctx *ctx = NULL;
    nlprnn_error err;
    CHECK(nlprnn_tagger_ctx_create(t, 1, &ctx, &err) == 0);
    if (!ctx) return 0;
    nr_rng r;
    nr_rng_seed(&r, 99);
    long right = 0, all = 0;
    int np = 0;
    char sp[128], joined[128];
    for (int k = 0; k < 200; k++) {
        nr_rng r2 = r;
        jamo_sentence(&r, odd, 1, sp);
        jamo_sentence(&r2, odd, 0, joined);
        CHECK(nlprnn_space(ctx, joined, strlen(joined), 0, &err) == 0);
        size_t n = nlprnn_space_units(ctx, 0);
        for (size_t j = 0; j + 1 < n; j++) {
            float pr = 0;
            int has = 0;
            nlprnn_space_unit(ctx, 0, j, NULL, &pr, &has, NULL);
            unsigned cp = ((unsigned)(joined[3 * j] & 0x0F) << 12) | ((unsigned)(joined[3 * j + 1] & 0x3F) << 6) |
                          (unsigned)(joined[3 * j + 2] & 0x3F);
            right += has == ((cp - 0xAC00) % 28 == 8);
            all++;
            if (probs_out && np < n_probs) probs_out[np++] = pr;
        }
    }
    nlprnn_tagger_ctx_free(ctx);
    return (double)right / (double)all;
}

/* Models with and without a feature in front (plain, feat; p0, p1 their probabilities by probs):
 * saved to m0, m1, feat loaded back gives the same summary and probabilities; a pack of the two
 * (either first), saved to pk and loaded, gives the mean of their probabilities. */
static void check_file_and_pack(const nlprnn_tagger *plain, const nlprnn_tagger *feat, const char *m0, const char *m1,
                                const char *pk, void (*probs)(const nlprnn_tagger *, float *), const float *p0,
                                const float *p1) {
    nlprnn_error err;
    float q[64];
    CHECK(nlprnn_tagger_save(feat, m1, &err) == 0);
    CHECK(nlprnn_tagger_save(plain, m0, &err) == 0);
    nlprnn_tagger *l = NULL;
    CHECK(nlprnn_tagger_load(m1, &l, &err) == 0);
    if (l) {
        CHECK_STR_EQ(nlprnn_tagger_summary(l), nlprnn_tagger_summary(feat));
        probs(l, q);
        CHECK(memcmp(p1, q, sizeof q) == 0);
    }
    nlprnn_tagger_free(l);
    for (int order = 0; order < 2; order++) {
        const char *both[] = {order ? m1 : m0, order ? m0 : m1};
        nlprnn_tagger *e = NULL;
        CHECK(nlprnn_tagger_load_ensemble(both, 2, &e, &err) == 0);
        if (e) CHECK(nlprnn_tagger_save(e, pk, &err) == 0);
        nlprnn_tagger_free(e);
        e = NULL;
        CHECK(nlprnn_tagger_load(pk, &e, &err) == 0);
        if (e) {
            CHECK_INT_EQ(nlprnn_tagger_members(e), 2);
            probs(e, q);
            for (int k = 0; k < 64; k++) CHECK_NEAR(q[k], (p0[k] + p1[k]) / 2, 1e-6);
        }
        nlprnn_tagger_free(e);
    }
}

static void jamo_probs(const nlprnn_tagger *t, float *pr) { jamo_accuracy(t, 1, pr, 64); }

static nlprnn_tagger *train_jamo(const char *train, int jamo) {
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    nlprnn_error err;
    const char *set[][2] = {{"embed", "16"}, {"hidden", "16"}, {"layers", "1"}, {"epochs", "6"}, {"batch", "16"},
                            {"lr", "0.01"}, {"min-lr", "0.001"}, {"min-count", "1"}, {"max-len", "32"},
                            {"hints", "0"}, {"dropout", "0"}, {"valid", "0"}, {"seed", "3"}};
    for (size_t i = 0; i < sizeof set / sizeof *set; i++) CHECK(nlprnn_tagger_params_set(p, set[i][0], set[i][1], &err) == 0);
    CHECK(nlprnn_tagger_params_set(p, "jamo", jamo ? "1" : "0", &err) == 0);
    nlprnn_tagger *t = NULL;
    const char *paths[] = {train};
    int rc = nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == 0, "train (jamo %d): %s", jamo, err.message);
    nlprnn_tagger_params_free(p);
    return t;
}

static void test_jamo_spacing(const char *dir) {
    char train[512], m0[600], m1[600], pk[600];
    snprintf(train, sizeof train, "%s/jamo.txt", dir);
    snprintf(m0, sizeof m0, "%s/jamo0.nrm", dir);
    snprintf(m1, sizeof m1, "%s/jamo1.nrm", dir);
    snprintf(pk, sizeof pk, "%s/jamo01.nrm", dir);
    FILE *fp = fopen(train, "w");
    nr_rng r;
    nr_rng_seed(&r, 11);
    char s[128];
    for (int k = 0; k < 600; k++) { /* even syllables only: the odd ones are unknown units */
        jamo_sentence(&r, 0, 1, s);
        fprintf(fp, "%s\n", s);
    }
    fclose(fp);
    nlprnn_tagger *t0 = train_jamo(train, 0), *t1 = train_jamo(train, 1);
    if (!t0 || !t1) {
        nlprnn_tagger_free(t0);
        nlprnn_tagger_free(t1);
        return;
    }
    CHECK(strstr(nlprnn_tagger_summary(t1), "embed 16 + jamo,") != NULL);
    CHECK(strstr(nlprnn_tagger_summary(t0), "jamo") == NULL);
    CHECK_INT_EQ(nlprnn_tagger_num_units(t0), nlprnn_tagger_num_units(t1));
    float p1[64], p0[64];
    double seen0 = jamo_accuracy(t0, 0, NULL, 0), seen1 = jamo_accuracy(t1, 0, NULL, 0);
    double un0 = jamo_accuracy(t0, 1, p0, 64), un1 = jamo_accuracy(t1, 1, p1, 64);
    printf("jamo spacing: decisions right on seen / unseen syllables: without jamo %.3f / %.3f, with %.3f / %.3f\n",
           seen0, un0, seen1, un1);
    CHECK_MSG(seen0 >= 0.95 && seen1 >= 0.95, "seen syllables: %.3f %.3f", seen0, seen1);
    CHECK_MSG(un1 >= 0.95, "unseen syllables with jamo: %.3f", un1);
    CHECK_MSG(un0 < 0.85, "unseen syllables without jamo: %.3f (they are all one unit to it)", un0);
    check_file_and_pack(t0, t1, m0, m1, pk, jamo_probs, p0, p1);
    nlprnn_error err;
    /* fine-tuning from a jamo model keeps jamo (the shape of the initial model) */
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    CHECK(nlprnn_tagger_params_set(p, "init-from", m1, &err) == 0);
    CHECK(nlprnn_tagger_params_set(p, "epochs", "1", &err) == 0);
    CHECK(nlprnn_tagger_params_set(p, "max-len", "32", &err) == 0);
    nlprnn_tagger *f = NULL;
    const char *paths[] = {train};
    CHECK(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &f, &err) == 0);
    if (f) CHECK(strstr(nlprnn_tagger_summary(f), "+ jamo") != NULL);
    nlprnn_tagger_free(f);
    /* token taggers: no jamo */
    CHECK(nlprnn_tagger_params_set(p, "init-from", "", &err) == 0);
    CHECK(nlprnn_tagger_params_set(p, "format", "tagged", &err) == 0);
    CHECK(nlprnn_tagger_params_set(p, "jamo", "1", &err) == 0);
    f = NULL;
    CHECK_INT_EQ(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &f, &err), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(err.message, "jamo") != NULL, "%s", err.message);
    CHECK(f == NULL);
    CHECK_INT_EQ(nlprnn_tagger_params_set(p, "jamo", "2", &err), NLPRNN_E_INVALID_ARG);
    nlprnn_tagger_params_free(p);
    nlprnn_tagger_free(t0);
    nlprnn_tagger_free(t1);
}

/* ---- convolution in front ---------------------------------------------------------------------- */

/* Padding and lengths: a row's logits do not depend on the other rows of its batch, on the
 * batch's T, nor on what the padded steps of its own row hold (ids, hints: a window reaching past
 * the row's end reads zeros). Row 1 (3 units) alone (T=3, B=1) against row 1 of a batch of 3
 * (T=7), then with the other rows and row 1's padding replaced by other units. */
static void test_conv_mask(void) {
    nr_encoder_cfg ec;
    nr_encoder_cfg_default(&ec, 6, 5);
    ec.cell = NR_CELL_GRU;
    ec.layers = 2;
    ec.bidirectional = 1;
    const int V = 11, C = 2, T = 7, B = 3, L1 = 3;
    nr_tag_front fr = {0, 5, 4};
    nr_tag_net net;
    CHECK(nr_tag_net_bind(&net, &ec, V, C, &fr, NULL, NULL) == 0);
    float *p = calloc(net.n_params, sizeof *p);
    CHECK(nr_tag_net_bind(&net, &ec, V, C, &fr, p, NULL) == 0);
    nr_rng rng;
    nr_rng_seed(&rng, 5);
    CHECK(nr_tag_net_init(&net, &rng, NULL) == 0);
    for (size_t k = net.off_conv; k < net.off_enc; k++) p[k] = 0.5f * (float)nr_rng_normal(&rng);
    for (int k = 0; k < NR_HINTS * net.E; k++) net.hint[k] = 0.3f * (float)nr_rng_normal(&rng);
    const int row1[3] = {4, 7, 2}, hint1[3] = {1, 2, 0};
    nr_tag_scratch one, many;
    CHECK(nr_tag_scratch_init(&one, &net, T, B, 0, 1, NULL) == 0);
    CHECK(nr_tag_scratch_init(&many, &net, T, B, 0, 1, NULL) == 0);
    one.len[0] = L1;
    for (int t = 0; t < L1; t++) one.ids[t] = row1[t], one.hints[t] = hint1[t];
    CHECK(nr_tag_forward(&one, &net, L1, 1, NULL, NULL) == 0);
    float ref[3 * 2], first[3 * 2];
    memcpy(ref, one.logits, sizeof ref);
    for (int round = 0; round < 2; round++) {
        int len[3] = {7, L1, 5};
        for (int b = 0; b < B; b++) {
            many.len[b] = len[b];
            for (int t = 0; t < T; t++) {
                int k = t * B + b;
                if (b == 1 && t < L1) {
                    many.ids[k] = row1[t], many.hints[k] = hint1[t];
                } else if (b == 1) { /* row 1's padding: round 0 as a caller fills it, round 1 other units */
                    many.ids[k] = round ? 1 + (int)nr_rng_below(&rng, V - 1) : NR_UNIT_PAD;
                    many.hints[k] = round ? 2 : NR_HINT_NONE;
                } else { /* the other rows: other units each round */
                    many.ids[k] = t < len[b] ? 1 + (int)nr_rng_below(&rng, V - 1) : NR_UNIT_PAD;
                    many.hints[k] = t < len[b] ? (int)nr_rng_below(&rng, NR_HINTS) : 0;
                }
            }
        }
        CHECK(nr_tag_forward(&many, &net, T, B, NULL, NULL) == 0);
        for (int t = 0; t < L1; t++)
            for (int c = 0; c < C; c++) {
                float z = many.logits[((size_t)t * B + 1) * C + c];
                CHECK_NEAR(z, ref[t * C + c], 1e-5); /* other product shapes: rounding may differ */
                if (round == 0) first[t * C + c] = z;
                else CHECK_MSG(z == first[t * C + c], "row 1 step %d moved when other rows or its padding changed", t);
            }
        for (int t = L1; t < T; t++) /* c = 0 at row 1's padded steps */
            for (int f = 0; f < net.F; f++) CHECK(many.cv[((size_t)t * B + 1) * net.F + f] == 0.0f);
    }
    nr_tag_scratch_free(&one);
    nr_tag_scratch_free(&many);
    free(p);
}

/* A task for a window: tokens w0..w3 at random; a token's label is "S" when the tokens on both
 * sides of it exist and are the same, else "D" (about 3/4 of the tokens: "D" everywhere is right
 * on 0.75 of them; the rule needs both neighbours). */
static const char *const CW[] = {"w0", "w1", "w2", "w3"};

static const char *same_of(const int *s, int n, int i) {
    return i > 0 && i + 1 < n && s[i - 1] == s[i + 1] ? "S" : "D";
}

static const tag_task SAME = {CW, 4, same_of};

static void same_probs(const nlprnn_tagger *t, float *pr) { tag_accuracy(t, &SAME, 77, 200, 1, pr, 64); }

static nlprnn_tagger *train_same(const char *path, int conv, int threads, const char *init_from) {
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    nlprnn_error err;
    char cv[16], th[16];
    snprintf(cv, sizeof cv, "%d", conv);
    snprintf(th, sizeof th, "%d", threads);
    const char *set[][2] = {{"format", "tagged"}, {"embed", "8"}, {"hidden", "8"}, {"layers", "1"},
                            {"epochs", init_from ? "1" : "10"}, {"batch", "16"}, {"lr", "0.01"},
                            {"min-lr", "0.001"}, {"min-count", "1"}, {"dropout", "0"}, {"valid", "0"},
                            {"seed", "2"}, {"conv", cv}, {"conv-channels", "16"}, {"threads", th},
                            {"init-from", init_from ? init_from : ""}};
    for (size_t i = 0; i < sizeof set / sizeof *set; i++)
        CHECK_MSG(nlprnn_tagger_params_set(p, set[i][0], set[i][1], &err) == 0, "%s", err.message);
    nlprnn_tagger *t = NULL;
    const char *paths[] = {path};
    int rc = nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == 0, "train (conv %d, %d threads): %s", conv, threads, err.message);
    nlprnn_tagger_params_free(p);
    return t;
}

/* 1 when the n bytes b hold the string s. */
static int has_bytes(const unsigned char *b, long n, const char *s) {
    size_t m = strlen(s);
    for (long i = 0; i + (long)m <= n; i++)
        if (!memcmp(b + i, s, m)) return 1;
    return 0;
}

/* Save t with its conv set to `conv` and channels to `ch` in CONF (the weights as they are). */
static int save_conf_as(nlprnn_tagger *t, const char *path, int conv, int ch) {
    int c0 = t->p.conv, h0 = t->p.conv_channels;
    t->p.conv = conv, t->p.conv_channels = ch;
    int rc = nlprnn_tagger_save(t, path, NULL);
    t->p.conv = c0, t->p.conv_channels = h0;
    return rc;
}

static void test_conv_tagger(const char *dir) {
    char train[512], m0[600], m3[600], pk[600], bad[600];
    snprintf(train, sizeof train, "%s/same.tsv", dir);
    snprintf(m0, sizeof m0, "%s/same0.nrm", dir);
    snprintf(m3, sizeof m3, "%s/same3.nrm", dir);
    snprintf(pk, sizeof pk, "%s/same03.nrm", dir);
    snprintf(bad, sizeof bad, "%s/samebad.nrm", dir);
    write_tagged(train, 500, 13, &SAME);
    nlprnn_tagger *t3 = train_same(train, 3, 1, NULL), *t0 = train_same(train, 0, 1, NULL);
    nlprnn_tagger *t3b = train_same(train, 3, 2, NULL);
    if (!t3 || !t0 || !t3b) {
        nlprnn_tagger_free(t3);
        nlprnn_tagger_free(t0);
        nlprnn_tagger_free(t3b);
        return;
    }
    CHECK_MSG(strstr(nlprnn_tagger_summary(t3), "embed 8 + conv 3 x 16,") != NULL, "%s", nlprnn_tagger_summary(t3));
    CHECK(strstr(nlprnn_tagger_summary(t0), "conv") == NULL);
    float p3[64], p3b[64], p3t[64], p0[64];
    double a3 = tag_accuracy(t3, &SAME, 77, 200, 1, p3, 64), a0 = tag_accuracy(t0, &SAME, 77, 200, 1, p0, 64);
    printf("conv tagger: same-neighbours accuracy on unseen sentences: conv 3 %.4f, no conv %.4f (%s)\n", a3, a0,
           nlprnn_tagger_summary(t3));
    CHECK_MSG(a3 >= 0.97, "conv 3: accuracy %.4f < 0.97 (the best rule without both neighbours: 0.75)", a3);
    /* threads: inference with 2 threads the same probabilities; training with 2 workers within rounding */
    tag_accuracy(t3, &SAME, 77, 200, 2, p3t, 64);
    double a3b = tag_accuracy(t3b, &SAME, 77, 200, 1, p3b, 64);
    CHECK_MSG(a3b >= 0.97, "conv 3, 2 training threads: accuracy %.4f", a3b);
    for (int k = 0; k < 64; k++) {
        CHECK_NEAR(p3t[k], p3[k], 1e-5);
        CHECK_NEAR(p3b[k], p3[k], 2e-3);
    }
    check_file_and_pack(t0, t3, m0, m3, pk, same_probs, p0, p3);
    /* the plain model's file says nothing of conv (files without it as before the option) */
    long nf = 0;
    unsigned char *bytes = read_all(m0, &nf);
    CHECK(bytes && nf > 0 && !has_bytes(bytes, nf, "conv"));
    free(bytes);
    bytes = read_all(m3, &nf);
    CHECK(bytes && nf > 0 && has_bytes(bytes, nf, "conv-channels"));
    free(bytes);
    nlprnn_error err;
    /* bad values in CONF: refused as NLPRNN_E_FORMAT naming the file */
    const int bads[][2] = {{4, 16}, {3, 0}, {33, 16}, {-1, 16}, {3, 5000}};
    for (size_t i = 0; i < sizeof bads / sizeof *bads; i++) {
        CHECK(save_conf_as(t3, bad, bads[i][0], bads[i][1]) == 0);
        nlprnn_tagger *b = NULL;
        int rc = nlprnn_tagger_load(bad, &b, &err);
        CHECK_MSG(rc == NLPRNN_E_FORMAT, "conv %d channels %d: %d %s", bads[i][0], bads[i][1], rc, err.message);
        CHECK_MSG(strstr(err.message, "samebad.nrm") != NULL, "'%s' does not name the file", err.message);
        if (i == 0) CHECK_MSG(strstr(err.message, "odd") != NULL, "'%s' does not say why", err.message);
        CHECK(b == NULL);
    }
    /* conv 5 in CONF over conv 3's weights: the weight count is refused */
    CHECK(save_conf_as(t3, bad, 5, 16) == 0);
    nlprnn_tagger *b = NULL;
    CHECK_INT_EQ(nlprnn_tagger_load(bad, &b, &err), NLPRNN_E_FORMAT);
    CHECK_MSG(strstr(err.message, "conv 5") != NULL, "%s", err.message);
    /* fine-tuning keeps the convolution; an even width is refused before any reading */
    nlprnn_tagger *f = train_same(train, 0, 1, m3);
    if (f) CHECK(strstr(nlprnn_tagger_summary(f), "+ conv 3 x 16") != NULL);
    nlprnn_tagger_free(f);
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    CHECK(nlprnn_tagger_params_set(p, "conv", "4", &err) == 0);
    const char *paths[] = {train};
    f = NULL;
    CHECK_INT_EQ(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &f, &err), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(err.message, "conv 4: the width is odd") != NULL, "%s", err.message);
    CHECK_INT_EQ(nlprnn_tagger_params_set(p, "conv", "33", &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_tagger_params_set(p, "conv-channels", "0", &err), NLPRNN_E_INVALID_ARG);
    nlprnn_tagger_params_free(p);
    nlprnn_tagger_free(t0);
    nlprnn_tagger_free(t3);
    nlprnn_tagger_free(t3b);
}

int main(void) {
    test_gradient(NR_CELL_GRU, 0, 0);
    test_gradient(NR_CELL_LSTM, 0, 0);
    test_gradient(NR_CELL_GRU, 1, 0);
    test_gradient(NR_CELL_LSTM, 1, 0);
    test_gradient(NR_CELL_GRU, 0, 3);
    test_gradient(NR_CELL_LSTM, 0, 3);
    test_gradient(NR_CELL_GRU, 1, 5);
    test_conv_mask();
    test_units();
    test_jamo_code();
    char dir[] = "/tmp/nlprnn-test-tagger-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    test_tiny_tagger(dir);
    test_init_from(dir);
    test_tiny_spacing(dir);
    test_progress(dir);
    test_resume(dir);
    test_jamo_spacing(dir);
    test_conv_tagger(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return nr_test_done("test_tagger");
}
