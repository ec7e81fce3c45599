/* tests/test_lm.c: the language model on a tiny corpus made here.
 *
 * Corpus: runs of the seven weekday syllables 월 화 수 목 금 토 일 in cyclic order, starting
 * anywhere, 3..7 words long. The successor of every word is determined, so a trained model must
 * predict it exactly (forward), and its predecessor too (backward). On top of this:
 *   - next(): the top next word after "... 화" is 수, with a high probability
 *   - fill(): a planted answer (수 between 화 and 목) comes first, open and with candidates;
 *     blank at the very start and end; two blanks / no blank are NLPRNN_E_DATA; only a blank works
 *   - generate(): the same seed gives the same text; continuing the cycle
 *   - save/load round trip (f32 exact scores, int8 close), wrong kind refused
 *   - evaluate(): perplexity near 1 on the training pattern, bits per character finite
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "tasks/lm/lm.h"
#include "nlprnn.h"
#include "testutil.h"

static const char *DAYS[7] = {"월", "화", "수", "목", "금", "토", "일"};

static char g_dir[256];

/* A path in the test's temporary folder (kept until free_paths()). */
static char *g_paths[64];
static int g_npaths;

static const char *tmp_path(const char *name) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    char *p = nr_strdup(buf);
    if (g_npaths < 64) g_paths[g_npaths++] = p;
    return p;
}

static void free_paths(void) {
    for (int i = 0; i < g_npaths; i++) free(g_paths[i]);
    g_npaths = 0;
}

static void write_corpus(const char *path, int n, uint64_t seed) {
    FILE *fp = fopen(path, "w");
    nr_rng r;
    nr_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int s = (int)nr_rng_below(&r, 7), len = 3 + (int)nr_rng_below(&r, 5);
        for (int j = 0; j < len; j++) fprintf(fp, "%s%s", j ? " " : "", DAYS[(s + j) % 7]);
        fputc('\n', fp);
    }
    fclose(fp);
}

static int set(nlprnn_lm_params *p, const char *k, const char *v) {
    nlprnn_error e;
    int rc = nlprnn_lm_params_set(p, k, v, &e);
    CHECK_MSG(rc == 0, "set %s=%s: %s", k, v, e.message);
    return rc;
}

static int top_is(nlprnn_lm_ctx *ctx, const char *text, const char *want, double min_prob) {
    nlprnn_lm_choice *c = NULL;
    size_t n = 0;
    nlprnn_error e;
    int rc = nlprnn_lm_fill(ctx, text, strlen(text), NULL, 0, 5, &c, &n, &e);
    CHECK_MSG(rc == 0, "fill '%s': %s", text, e.message);
    int ok = rc == 0 && n > 0 && !strcmp(c[0].text, want) && c[0].prob >= min_prob;
    CHECK_MSG(ok, "fill '%s': got '%s' (%.3f), expected '%s'", text, n ? c[0].text : "-",
              n ? c[0].prob : 0.0, want);
    nlprnn_lm_choices_free(c, n);
    return ok;
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_lm_%d", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", g_dir);
    if (system(cmd) != 0) return 1;
    const char *train = tmp_path("train.txt"), *valid = tmp_path("valid.txt");
    write_corpus(train, 400, 1);
    write_corpus(valid, 50, 2);
    nlprnn_tokenizer *tok = nr_test_word_tokenizer(train, 64);
    if (!tok) return nr_test_done("test_lm");
    const char *tokpath = tmp_path("tok.nrt");
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_tokenizer_save(tok, tokpath, &e), 0);

    const char *cells[2] = {"lstm", "gru"};
    for (int ci = 0; ci < 2; ci++) {
        nlprnn_lm_params *p = NULL;
        nlprnn_lm_params_create(&p, NULL);
        set(p, "tokenizer", tokpath);
        set(p, "cell", cells[ci]);
        set(p, "embed", "32");
        set(p, "hidden", "32");
        set(p, "layers", ci ? "2" : "1");
        set(p, "epochs", "40");
        set(p, "batch", "16");
        set(p, "lr", "0.01");
        set(p, "softmax", ci ? "sampled" : "full");
        set(p, "samples", "16");
        set(p, "storage", "f32");
        set(p, "seed", "3");
        set(p, "parallel", ci ? "1" : "0"); /* GRU: both directions at once */
        /* bad parameters are refused by name */
        CHECK_INT_EQ(nlprnn_lm_params_set(p, "hiden", "3", &e), NLPRNN_E_INVALID_ARG);
        CHECK(strstr(e.message, "hiden") != NULL);
        CHECK_INT_EQ(nlprnn_lm_params_set(p, "cell", "rnn", &e), NLPRNN_E_INVALID_ARG);
        const char *model = tmp_path(ci ? "gru.nrm" : "lstm.nrm");
        int rc = nlprnn_lm_train(p, train, valid, model, NULL, NULL, NULL, &e);
        CHECK_MSG(rc == 0, "train %s: %s", cells[ci], e.message);
        nlprnn_lm_params_free(p);
        if (rc) continue;

        nlprnn_lm *lm = NULL;
        rc = nlprnn_lm_load(model, &lm, &e);
        CHECK_MSG(rc == 0, "load: %s", e.message);
        if (rc) continue;
        CHECK(nlprnn_lm_has_backward(lm));
        CHECK(strstr(nlprnn_lm_summary(lm), cells[ci]) != NULL);
        nlprnn_lm_ctx *ctx = NULL;
        nlprnn_lm_ctx_create(lm, &ctx, NULL);
        CHECK(ctx != NULL);

        /* the deterministic pattern, learned exactly: every successor is the top next word */
        for (int d = 0; d < 7; d++) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "%s %s", DAYS[(d + 6) % 7], DAYS[d]);
            nlprnn_lm_choice *c = NULL;
            size_t n = 0;
            rc = nlprnn_lm_next(ctx, prefix, strlen(prefix), 3, &c, &n, &e);
            CHECK_MSG(rc == 0 && n >= 1 && !strcmp(c[0].text, DAYS[(d + 1) % 7]) && c[0].prob > 0.5,
                      "%s: next after '%s' = '%s' (%.3f), expected %s", cells[ci], prefix,
                      n ? c[0].text : "-", n ? c[0].prob : 0.0, DAYS[(d + 1) % 7]);
            for (size_t i = 1; i < n; i++) CHECK(c[i].prob <= c[i - 1].prob);
            nlprnn_lm_choices_free(c, n);
        }

        /* fill: planted answer in the middle, at the start, at the end, glued ([MASK] form) */
        top_is(ctx, "월 화 ___ 목 금", "수", 0.5);
        top_is(ctx, "___ 토 일 월", "금", 0.3);
        top_is(ctx, "목 금 토 ___", "일", 0.3);
        top_is(ctx, "토 일 [MASK] 화", "월", 0.5);

        /* with candidates: exactly those, normalized, planted answer first */
        const char *cands[3] = {"금", "수", "일"};
        nlprnn_lm_choice *c = NULL;
        size_t n = 0;
        rc = nlprnn_lm_fill(ctx, "월 화 ___ 목", strlen("월 화 ___ 목"), cands, 3, 10, &c, &n, &e);
        CHECK_MSG(rc == 0, "fill candidates: %s", e.message);
        CHECK_INT_EQ(n, 3);
        if (n == 3) {
            CHECK_STR_EQ(c[0].text, "수");
            CHECK_NEAR(c[0].prob + c[1].prob + c[2].prob, 1.0, 1e-9);
        }
        nlprnn_lm_choices_free(c, n);

        /* a long text (4,200 pieces): fill looks at a window of NR_LM_FILL_CONTEXT pieces each side
         * of the blank, cut at whitespace, and still finds the planted answer */
        {
            size_t cap = 20000, used = 0;
            char *big = malloc(cap);
            for (int r = 0; r < 300 && big; r++) used += (size_t)snprintf(big + used, cap - used, "월 화 수 목 금 토 일 ");
            if (big) used += (size_t)snprintf(big + used, cap - used, "월 화 ___ 목 금");
            for (int r = 0; r < 300 && big; r++) used += (size_t)snprintf(big + used, cap - used, " 토 일 월 화 수 목 금");
            CHECK(big && used < cap - 1);
            rc = big ? nlprnn_lm_fill(ctx, big, used, NULL, 0, 3, &c, &n, &e) : -1;
            CHECK_MSG(rc == 0 && n >= 1 && !strcmp(c[0].text, "수"), "long text: rc %d, first '%s'", rc,
                      rc == 0 && n ? c[0].text : "-");
            nlprnn_lm_choices_free(c, n);
            free(big);
        }

        /* defined behaviour at the edges */
        rc = nlprnn_lm_fill(ctx, "월 ___ 수 ___", strlen("월 ___ 수 ___"), NULL, 0, 3, &c, &n, &e);
        CHECK_INT_EQ(rc, NLPRNN_E_DATA);
        CHECK(strstr(e.message, "2 blanks") != NULL);
        CHECK_INT_EQ(e.offset, (long long)strlen("월 ___ 수 "));
        rc = nlprnn_lm_fill(ctx, "월 화 수", strlen("월 화 수"), NULL, 0, 3, &c, &n, &e);
        CHECK_INT_EQ(rc, NLPRNN_E_DATA);
        CHECK(strstr(e.message, "no blank") != NULL);
        rc = nlprnn_lm_fill(ctx, "___", 3, NULL, 0, 1000, &c, &n, &e);
        CHECK_MSG(rc == 0 && n >= 1, "only a blank: rc %d %s", rc, e.message);
        if (rc == 0 && n >= 1) { /* every answer: the probabilities sum to 1 */
            double s = 0;
            for (size_t i = 0; i < n; i++) s += c[i].prob;
            CHECK_NEAR(s, 1.0, 1e-9);
            /* fewer answers asked for: the same probabilities (softmax over every answer ranked) */
            nlprnn_lm_choice *c1 = NULL;
            size_t n1 = 0;
            CHECK_INT_EQ(nlprnn_lm_fill(ctx, "___", 3, NULL, 0, 1, &c1, &n1, &e), 0);
            CHECK_INT_EQ(n1, 1);
            if (n1 == 1) {
                CHECK_STR_EQ(c1[0].text, c[0].text);
                CHECK(c1[0].prob == c[0].prob);
                CHECK_MSG(n == 1 || c1[0].prob < 1.0, "one of %zu answers has probability %f", n,
                          c1[0].prob);
            }
            nlprnn_lm_choices_free(c1, n1);
        }
        nlprnn_lm_choices_free(c, n);
        rc = nlprnn_lm_fill(ctx, "월 \xff ___", 7, NULL, 0, 3, &c, &n, &e);
        CHECK_INT_EQ(rc, NLPRNN_E_UTF8);
        CHECK_INT_EQ(nlprnn_lm_fill(ctx, "월 ___", 8, NULL, 0, 0, &c, &n, &e), NLPRNN_E_INVALID_ARG);

        /* generation: reproducible per seed, follows the cycle */
        char *g1 = NULL, *g2 = NULL, *g3 = NULL;
        CHECK_INT_EQ(nlprnn_lm_generate(ctx, "월", strlen("월"), 6, 1.0, 0, 1.0, 42, &g1, &e), 0);
        CHECK_INT_EQ(nlprnn_lm_generate(ctx, "월", strlen("월"), 6, 1.0, 0, 1.0, 42, &g2, &e), 0);
        CHECK_INT_EQ(nlprnn_lm_generate(ctx, "월", strlen("월"), 3, 0.5, 1, 0.9, 7, &g3, &e), 0);
        CHECK(g1 && g2 && !strcmp(g1, g2));
        CHECK_MSG(g3 && !strncmp(g3, "월 화", strlen("월 화")), "greedy generation: '%s'", g3 ? g3 : "-");
        nlprnn_free(g1);
        nlprnn_free(g2);
        nlprnn_free(g3);
        CHECK_INT_EQ(nlprnn_lm_generate(ctx, "월", 3, 5, 0.0, 0, 1.0, 1, &g1, &e), NLPRNN_E_INVALID_ARG);
        CHECK_INT_EQ(nlprnn_lm_generate(ctx, "월", 3, 5, 1.0, 0, 1.5, 1, &g1, &e), NLPRNN_E_INVALID_ARG);

        /* evaluation: near-deterministic text -> perplexity close to 1 (the first word of each line
         * is a free choice among 7 and the length is random, so not exactly 1) */
        nlprnn_lm_eval ev;
        memset(&ev, 0, sizeof ev);
        ev.size = sizeof ev;
        rc = nlprnn_lm_evaluate(lm, valid, NLPRNN_LM_FORWARD, 0, &ev, &e);
        CHECK_MSG(rc == 0, "evaluate: %s", e.message);
        CHECK_INT_EQ(ev.lines, 50);
        printf("%s: perplexity %.3f on the validation lines\n", cells[ci], ev.ppl);
        CHECK_MSG(ev.ppl > 1.0 && ev.ppl < 2.2, "%s perplexity %.3f", cells[ci], ev.ppl);
        CHECK(isfinite(ev.bpc) && ev.bpc > 0);
        double lp1 = 0, lp2 = 0;
        size_t np = 0;
        CHECK_INT_EQ(nlprnn_lm_score(ctx, "월 화 수", strlen("월 화 수"), NLPRNN_LM_FORWARD, &lp1, &np, &e), 0);
        CHECK_INT_EQ(np, 4);
        CHECK_INT_EQ(nlprnn_lm_score(ctx, "월 수 화", strlen("월 수 화"), NLPRNN_LM_FORWARD, &lp2, &np, &e), 0);
        printf("%s: log p(월 화 수) %.3f, log p(월 수 화) %.3f\n", cells[ci], lp1, lp2);
        CHECK(lp1 > lp2 + 3);

        /* warm start (parameter init): training continues from the file's weights, with its
         * architecture and tokenizer. With a vanishing learning rate the continued model must
         * score exactly like the original (this catches a wrong row order between the file's
         * tokenizer order and the trainer's frequency order, or a re-initialised output bias) */
        if (ci == 0) {
            nlprnn_lm_params *w = NULL;
            nlprnn_lm_params_create(&w, NULL);
            const char *warm = tmp_path("warm.nrm");
            set(w, "init", model);
            set(w, "lr", "1e-9");
            set(w, "epochs", "1");
            set(w, "batch", "16");
            set(w, "storage", "f32");
            set(w, "hidden", "8"); /* ignored: the architecture is the file's */
            rc = nlprnn_lm_train(w, train, NULL, warm, NULL, NULL, NULL, &e);
            CHECK_MSG(rc == 0, "warm start: %s", e.message);
            nlprnn_lm *lw = NULL;
            if (!rc && nlprnn_lm_load(warm, &lw, &e) == 0) {
                nlprnn_lm_ctx *cw = NULL;
                nlprnn_lm_ctx_create(lw, &cw, NULL);
                double lw1 = 0, lw1b = 0, lp1b = 0;
                CHECK_INT_EQ(nlprnn_lm_score(cw, "월 화 수", strlen("월 화 수"), NLPRNN_LM_FORWARD, &lw1, NULL, &e), 0);
                CHECK_INT_EQ(nlprnn_lm_score(cw, "월 화 수", strlen("월 화 수"), NLPRNN_LM_BACKWARD, &lw1b, NULL, &e), 0);
                CHECK_INT_EQ(nlprnn_lm_score(ctx, "월 화 수", strlen("월 화 수"), NLPRNN_LM_BACKWARD, &lp1b, NULL, &e), 0);
                CHECK_NEAR(lw1, lp1, 1e-3);
                CHECK_NEAR(lw1b, lp1b, 1e-3);
                CHECK_STR_EQ(nlprnn_lm_summary(lw), nlprnn_lm_summary(lm));
                nlprnn_lm_ctx_free(cw);
                nlprnn_lm_free(lw);
            } else {
                CHECK_MSG(0, "warm-started model does not load: %s", e.message);
            }
            /* a different tokenizer than the model's own is refused, naming both files */
            set(w, "tokenizer", "/nonexistent/tok.nrt");
            CHECK(nlprnn_lm_train(w, train, NULL, warm, NULL, NULL, NULL, &e) != 0);
            nlprnn_lm_params_free(w);
            nlprnn_lm_params_create(&w, NULL);
            set(w, "init", tmp_path("missing.nrm"));
            CHECK_INT_EQ(nlprnn_lm_train(w, train, NULL, warm, NULL, NULL, NULL, &e), NLPRNN_E_IO);
            CHECK(strstr(e.message, "missing.nrm") != NULL);
            nlprnn_lm_params_free(w);
        }

        /* round trip: int8 storage loads and scores close; the shipped-name lookup fails clearly */
        const char *m8 = tmp_path("int8.nrm");
        CHECK_INT_EQ(nr_lm_save(lm, m8, NR_DTYPE_I8, NULL, &e), 0);
        nlprnn_lm *lm8 = NULL;
        CHECK_INT_EQ(nlprnn_lm_load(m8, &lm8, &e), 0);
        if (lm8) {
            nlprnn_lm_ctx *c8 = NULL;
            nlprnn_lm_ctx_create(lm8, &c8, NULL);
            double lp8 = 0;
            CHECK_INT_EQ(nlprnn_lm_score(c8, "월 화 수", strlen("월 화 수"), NLPRNN_LM_FORWARD, &lp8, NULL, &e), 0);
            CHECK_NEAR(lp8, lp1, 0.2);
            double lpb = 0;
            CHECK_INT_EQ(nlprnn_lm_score(c8, "월 화 수", strlen("월 화 수"), NLPRNN_LM_BACKWARD, &lpb, NULL, &e), 0);
            CHECK(lpb < 0);
            nlprnn_lm_ctx_free(c8);
            nlprnn_lm_free(lm8);
        }
        nlprnn_lm_ctx_free(ctx);
        nlprnn_lm_free(lm);
    }

    /* files that are not language models */
    nlprnn_lm *bad = NULL;
    CHECK_INT_EQ(nlprnn_lm_load(train, &bad, &e), NLPRNN_E_MAGIC);
    CHECK(strstr(e.message, "train.txt") != NULL);
    CHECK(nlprnn_lm_load(tmp_path("missing.nrm"), &bad, &e) == NLPRNN_E_IO);
    CHECK(bad == NULL);

    nlprnn_tokenizer_free(tok);
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    free_paths();
    return nr_test_done("test_lm");
}
