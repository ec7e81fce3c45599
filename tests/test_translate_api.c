/* tests/test_translate_api.c: the translator through the public API and the program.
 *
 *   - training on a small made-up TSV of pairs (word-for-word Korean-like -> English-like, words
 *     from two small lexicons), saving and loading: the loaded model translates exactly as the
 *     trained one (text and log-probability), float16 storage loads too;
 *   - keep: the model's validation loss is the lowest epoch's with keep=best (the default), the
 *     last epoch's with keep=last; other values refused;
 *   - progress: nlprnn_translator_train_ctl trains the model of nlprnn_translator_train byte for
 *     byte; its record: size == sizeof, a message first, steps +1 per step (= batches of the
 *     epochs before + batch), batch <= batches, phase 2 once per epoch in order with the losses
 *     the once-per-epoch callback gets; a non-zero return from a step stops with
 *     NLPRNN_E_INTERRUPTED and no call after it;
 *   - resume: a run stopped after its first epoch (progress callback) and resumed from its
 *     checkpoint writes a model file byte-identical to an uninterrupted run (with dropout and BPE
 *     dropout); bpe-dropout is in the model file's CONF only when it was used;
 *   - ema (averaged weights): refused out of [0, 1) and as NaN; in the model file's CONF only when
 *     used; a model other than the run without it (whose training weights it shares); a run with
 *     it stopped after its first epoch and resumed writes the same file as an uninterrupted one;
 *   - split-seed: split-seed = seed trains as the default does; the tokenizers are the same for
 *     every seed and split-seed; split-seed is in CONF only when set, and read back;
 *   - bad files: a flipped byte (checksum), a truncated file, another kind of model file, a
 *     missing file: each an error naming the file; bad pair files: a missing column (line 1),
 *     invalid UTF-8 (line and byte), too few columns;
 *   - translate: invalid UTF-8 (byte offset), an empty text, attention rows that are
 *     distributions, beam 1 = the default, options out of range;
 *   - nlprnn_translate_batch: the translations and log-probabilities of nlprnn_translate one by
 *     one (greedy, beam, sampling), an empty text, invalid UTF-8 naming the text; sampling
 *     reproducible from the seed; the options' ranges;
 *   - kept packs: one context translating the same texts again (either order, beams 1/3/5, its
 *     workspace growing, batch decoding in between) gives the bits of a fresh translator each;
 *   - decoding defaults stored in the model file (section DECO): set on a translator or given as
 *     training parameters, read back after saving and loading, shown in the summary; a file
 *     without them (one made before them) starts from word reward 0, min-ratio 0, combine logp; a
 *     context starts from the stored values (its translations those of explicit options on the
 *     same weights without them) and explicit options win; bad values refused (the API, the
 *     training parameters, a file's DECO: NLPRNN_E_FORMAT naming the section);
 *   - nlprnn_bleu / nlprnn_chrf: a hand-computed case, invalid UTF-8 naming the segment;
 *   - the program: translate (argument, file, stdin, --format json), translate-eval (--hyp:
 *     BLEU 100 on the references themselves; with the model), exit codes 2, 3, 4, 5.
 * Needs the program ($NLPRNN_CLI) for the last part. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "format/modelfile.h" /* a crafted DECO section */
#include "nlprnn.h"
#include "testutil.h"


static void put(const char *name, const char *text) {
    FILE *fp = fopen(nr_test_scratch(name), "wb");
    fputs(text, fp);
    fclose(fp);
}

static const char *const KO[] = {"가나", "다라", "마바", "사아", "자차", "카타", "파하", "고노"};
static const char *const EN[] = {"cat", "dog", "tree", "sun", "moon", "red", "big", "run"};

/* 240 pairs: 2..4 words, the English words in the same order, a header with a third column. */
static void make_pairs(void) {
    FILE *fp = fopen(nr_test_scratch("pairs.tsv"), "wb");
    fprintf(fp, "en\tko\tnote\n");
    unsigned s = 7;
    for (int i = 0; i < 240; i++) {
        int n = 2 + (int)((s = s * 1103515245u + 12345u) >> 16) % 3, w[4];
        for (int j = 0; j < n; j++) w[j] = (int)((s = s * 1103515245u + 12345u) >> 16) % 8;
        for (int j = 0; j < n; j++) fprintf(fp, "%s%s", j ? " " : "", EN[w[j]]);
        fputc('\t', fp);
        for (int j = 0; j < n; j++) fprintf(fp, "%s%s", j ? " " : "", KO[w[j]]);
        fprintf(fp, "\tpair %d\n", i);
    }
    fclose(fp);
}

static nlprnn_translator_params *small_params(void) {
    nlprnn_translator_params *p = NULL;
    nlprnn_translator_params_create(&p, NULL);
    const char *kv[][2] = {{"src-vocab", "262"}, {"tgt-vocab", "262"}, {"embed", "16"}, {"hidden", "16"},
                           {"epochs", "3"},      {"batch", "16"},      {"valid", "0.1"}, {"lr", "0.01"}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) CHECK_INT_EQ(nlprnn_translator_params_set(p, kv[i][0], kv[i][1], NULL), 0);
    return p;
}

static int stop_after_first(void *user, int epoch, double loss, double valid) {
    (void)user, (void)loss, (void)valid;
    return epoch >= 1;
}

static void test_train_save_load(void) {
    nlprnn_error err;
    nlprnn_translator_params *p = small_params();
    nlprnn_translator *t = NULL, *u = NULL;
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, NULL, NULL, &t, &err), 0);
    CHECK(t != NULL);
    if (!t) return;
    CHECK(strstr(nlprnn_translator_summary(t), "ko -> en") != NULL);
    CHECK_STR_EQ(nlprnn_translator_column(t, 0), "ko");
    CHECK_STR_EQ(nlprnn_translator_column(t, 1), "en");
    /* one tokenizer a side (not joint; which is which: test_shipped) */
    CHECK(nlprnn_translator_tokenizer(t, 0) != NULL && nlprnn_translator_tokenizer(t, 1) != NULL);
    CHECK(nlprnn_translator_tokenizer(t, 0) != nlprnn_translator_tokenizer(t, 1));
    CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("m.nrm"), &err), 0);
    /* the tokenizers are written stored, as every kind writes them (nr_mf_add_tokenizer) */
    char *desc = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("m.nrm"), &desc, &err), 0);
    const char *toks = desc ? strstr(desc, "section TOKS  raw, stored,") : NULL;
    CHECK_MSG(toks != NULL, "TOKS stored: %.400s", desc ? desc : err.message);
    nlprnn_free(desc);
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("m.nrm"), &u, &err), 0);
    nlprnn_translator_ctx *a = NULL, *b = NULL;
    CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &a, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_create(u, &b, &err), 0);
    const char *texts[] = {"가나 다라", "마바 사아 자차", "카타", "파하 고노 가나 다라"};
    for (int beam = 1; beam <= 3; beam += 2) {
        CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BEAM, beam, &err), 0);
        CHECK_INT_EQ(nlprnn_translator_ctx_set(b, NLPRNN_TRANSLATE_BEAM, beam, &err), 0);
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            CHECK_INT_EQ(nlprnn_translate(a, texts[i], strlen(texts[i]), &err), 0);
            CHECK_INT_EQ(nlprnn_translate(b, texts[i], strlen(texts[i]), &err), 0);
            CHECK_STR_EQ(nlprnn_translate_text(a, NULL), nlprnn_translate_text(b, NULL));
            CHECK(nlprnn_translate_logprob(a) == nlprnn_translate_logprob(b));
            CHECK(nlprnn_translate_logprob(a) < 0);
            size_t S = nlprnn_translate_src_len(a), T = nlprnn_translate_tgt_len(a);
            CHECK(S >= 2);
            const float *att = nlprnn_translate_attention(a);
            CHECK(att != NULL);
            for (size_t j = 0; att && j <= T; j++) {
                double sum = 0;
                for (size_t k = 0; k < S; k++) sum += att[j * S + k];
                CHECK_NEAR(sum, 1.0, 1e-5);
            }
            CHECK(nlprnn_translate_piece(a, 0, 0) != NULL);
            CHECK(nlprnn_translate_piece(a, 0, S) == NULL);
            CHECK(nlprnn_translate_piece(a, 1, T) == NULL);
        }
    }
    /* bad UTF-8: the byte; an empty text: an empty translation */
    CHECK_INT_EQ(nlprnn_translate(a, "가\xff", 4, &err), NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.offset, 3);
    CHECK_INT_EQ(nlprnn_translate(a, "", 0, &err), 0);
    CHECK_STR_EQ(nlprnn_translate_text(a, NULL), "");
    CHECK(nlprnn_translate_attention(a) == NULL);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BEAM, 0, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BEAM, 65, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_MAX_RATIO, 0, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, (nlprnn_translator_opt)99, 1, &err), NLPRNN_E_INVALID_ARG);
    nlprnn_translator_ctx_free(a);
    nlprnn_translator_ctx_free(b);
    nlprnn_translator_free(u);
    /* float16 storage: smaller, loads, translates */
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "store", "f16", &err), 0);
    nlprnn_translator_free(t);
    t = NULL;
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, NULL, NULL, &t, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("m16.nrm"), &err), 0);
    size_t n32 = 0, n16 = 0;
    free(nr_test_slurp(nr_test_scratch("m.nrm"), &n32));
    free(nr_test_slurp(nr_test_scratch("m16.nrm"), &n16));
    CHECK(n16 < n32);
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("m16.nrm"), &u, &err), 0);
    CHECK(strstr(nlprnn_translator_summary(u), "dropout") == NULL); /* none by default */
    nlprnn_translator_free(u);
    nlprnn_translator_free(t);
    nlprnn_translator_params_free(p);
}

/* The validation losses of the epochs (progress callback). */
typedef struct vhist {
    double v[16];
    int n;
} vhist;

static int record_valid(void *user, int epoch, double loss, double valid) {
    (void)epoch, (void)loss;
    vhist *h = user;
    if (h->n < 16) h->v[h->n++] = valid;
    return 0;
}

/* "validation loss X" of the summary, as the number it prints */
static double summary_valid(const nlprnn_translator *t) {
    const char *s = strstr(nlprnn_translator_summary(t), "validation loss ");
    return s ? atof(s + strlen("validation loss ")) : NAN;
}

static void test_keep(void) {
    nlprnn_error err;
    nlprnn_translator_params *p = small_params();
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "epochs", "6", &err), 0);
    /* a constant high rate: the validation loss is not lowest at the end (with this seed) */
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "lr", "0.5", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "min-lr", "0.5", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "keep", "middle", &err), NLPRNN_E_INVALID_ARG);
    char buf[16];
    CHECK_INT_EQ(nlprnn_translator_params_get(p, "keep", buf, sizeof buf, &err), 0);
    CHECK_STR_EQ(buf, "best");
    vhist first = {{0}, 0};
    for (int last = 0; last < 2; last++) {
        CHECK_INT_EQ(nlprnn_translator_params_set(p, "keep", last ? "last" : "best", &err), 0);
        vhist h = {{0}, 0};
        nlprnn_translator *t = NULL;
        CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, record_valid, &h, &t, &err), 0);
        if (!t) break;
        CHECK_INT_EQ(h.n, 6);
        double lo = h.v[0];
        for (int i = 1; i < h.n; i++) lo = fmin(lo, h.v[i]);
        double want = last ? h.v[h.n - 1] : lo;
        printf("keep %s: epochs' validation losses %.4f .. last %.4f, lowest %.4f; model %s\n", last ? "last" : "best",
               h.v[0], h.v[h.n - 1], lo, nlprnn_translator_summary(t));
        CHECK_NEAR(summary_valid(t), want, 0.00006); /* printed with 4 decimals */
        if (!last) first = h;
        else CHECK(!memcmp(first.v, h.v, sizeof h.v)); /* keep changes the result, not the training */
        nlprnn_translator_free(t);
    }
    nlprnn_translator_params_free(p);
}

/* ---- progress: the record of nlprnn_translator_train_ctl ---------------------------------------- */

typedef struct tr_log {
    int n, stop_step, asked, after_stop;
    nlprnn_translator_progress rec[2048];
} tr_log;

static int tr_record(void *user, const nlprnn_translator_progress *p) {
    tr_log *g = user;
    if (g->asked) g->after_stop++;
    if (g->n < 2048) g->rec[g->n++] = *p;
    int stop = p->phase == 1 && p->steps == g->stop_step;
    if (stop) g->asked = 1;
    return stop;
}

typedef struct tr_epochs {
    int n, epoch[16];
    double loss[16], valid[16];
} tr_epochs;

static int tr_epoch(void *user, int epoch, double loss, double valid) {
    tr_epochs *h = user;
    if (h->n < 16) h->epoch[h->n] = epoch, h->loss[h->n] = loss, h->valid[h->n] = valid, h->n++;
    return 0;
}

static void test_progress(void) {
    nlprnn_error err;
    nlprnn_translator_params *p = small_params(); /* 3 epochs */
    nlprnn_translator *t = NULL;
    tr_epochs h = {0, {0}, {0}, {0}};
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, tr_epoch, &h, &t, &err), 0);
    if (t) CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("prog-a.nrm"), &err), 0);
    nlprnn_translator_free(t);
    t = NULL;
    CHECK_INT_EQ(h.n, 3);
    tr_log *g = calloc(1, sizeof *g);
    CHECK_INT_EQ(nlprnn_translator_train_ctl(nr_test_scratch("pairs.tsv"), p, NULL, tr_record, g, &t, &err), 0);
    if (t) CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("prog-b.nrm"), &err), 0);
    nlprnn_translator_free(t);
    t = NULL;
    size_t na = 0, nb = 0;
    unsigned char *a = nr_test_slurp(nr_test_scratch("prog-a.nrm"), &na), *b = nr_test_slurp(nr_test_scratch("prog-b.nrm"), &nb);
    CHECK_MSG(a && b && na == nb && na > 0 && !memcmp(a, b, na), "the two entry points train different models (%zu, %zu bytes)",
              na, nb);
    free(a);
    free(b);
    int steps = 0, epochs = 0, msgs = 0;
    long long last = 0, batches = 0;
    for (int i = 0; i < g->n; i++) {
        const nlprnn_translator_progress *r = &g->rec[i];
        CHECK_MSG(r->size == sizeof *r, "call %d: size %zu", i, r->size);
        CHECK_INT_EQ(r->epochs, 3);
        CHECK(r->steps >= last);
        if (r->phase == 0) {
            msgs++;
            CHECK(r->message != NULL);
            continue;
        }
        CHECK_MSG(r->batch >= 1 && r->batch <= r->batches, "call %d: batch %lld of %lld", i, r->batch, r->batches);
        if (!batches) batches = r->batches;
        CHECK(r->batches == batches && isfinite(r->loss) && r->tokens_per_sec > 0 && r->lr > 0);
        if (r->phase == 1) {
            steps++;
            CHECK_MSG(r->steps == last + 1 && r->steps == (long long)epochs * batches + r->batch,
                      "call %d: step %lld (batch %lld of epoch %d) after %lld", i, r->steps, r->batch, r->epoch, last);
            CHECK(r->epoch == epochs + 1 && r->eta >= 0 && isnan(r->valid_loss));
        } else {
            CHECK_INT_EQ(r->phase, 2);
            epochs++;
            CHECK_INT_EQ(r->epoch, epochs);
            CHECK(r->steps == (long long)epochs * batches && r->eta == 0 && r->best_epoch >= 1 && r->best_epoch <= epochs);
            if (epochs <= h.n)
                CHECK_MSG(h.epoch[epochs - 1] == epochs && r->loss == h.loss[epochs - 1] && r->valid_loss == h.valid[epochs - 1],
                          "epoch %d: loss %g valid %g; the once-per-epoch callback got %g %g", epochs, r->loss,
                          r->valid_loss, h.loss[epochs - 1], h.valid[epochs - 1]);
        }
        last = r->steps;
    }
    printf("progress: %d calls (%d messages, %d steps, %d epochs of %lld batches)\n", g->n, msgs, steps, epochs, batches);
    CHECK(epochs == 3 && batches > 1 && steps == 3 * batches && msgs >= 1 && g->rec[0].phase == 0);
    /* a non-zero return from a step stops: NLPRNN_E_INTERRUPTED, no model, no call after it */
    memset(g, 0, sizeof *g);
    g->stop_step = (int)batches + 1;
    CHECK_INT_EQ(nlprnn_translator_train_ctl(nr_test_scratch("pairs.tsv"), p, NULL, tr_record, g, &t, &err),
                 NLPRNN_E_INTERRUPTED);
    CHECK(t == NULL && g->asked && g->after_stop == 0);
    free(g);
    nlprnn_translator_params_free(p);
}

/* nlprnn_translate_batch = nlprnn_translate on each text. */
static void check_batch_same(nlprnn_translator_ctx *a, const char *const *texts, size_t n, const char *what) {
    nlprnn_error err;
    size_t lens[16];
    for (size_t i = 0; i < n; i++) lens[i] = strlen(texts[i]);
    CHECK_INT_EQ(nlprnn_translate_batch(a, texts, lens, n, &err), 0);
    char *got[16];
    double lp[16];
    for (size_t i = 0; i < n; i++) {
        size_t l = 0;
        const char *s = nlprnn_translate_batch_text(a, i, &l);
        CHECK(s != NULL && strlen(s) == l);
        got[i] = strdup(s ? s : "");
        lp[i] = nlprnn_translate_batch_logprob(a, i);
    }
    CHECK(nlprnn_translate_batch_text(a, n, NULL) == NULL);
    CHECK(isnan(nlprnn_translate_batch_logprob(a, n)));
    for (size_t i = 0; i < n; i++) {
        CHECK_INT_EQ(nlprnn_translate(a, texts[i], lens[i], &err), 0);
        CHECK_MSG(!strcmp(got[i], nlprnn_translate_text(a, NULL)), "%s: text %zu: batch '%s', alone '%s'", what, i,
                  got[i], nlprnn_translate_text(a, NULL));
        CHECK_NEAR(lp[i], nlprnn_translate_logprob(a), 1e-4 * fabs(lp[i]) + 1e-5);
        free(got[i]);
    }
    CHECK(nlprnn_translate_batch_text(a, 0, NULL) == NULL); /* a single call clears the batch */
}

static void test_batch(void) {
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    nlprnn_translator_ctx *a = NULL;
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("m.nrm"), &t, &err), 0);
    if (!t) return;
    CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &a, &err), 0);
    const char *texts[] = {"가나 다라", "마바 사아 자차 카타 파하", "", "카타", "파하 고노 가나 다라", "다라 다라"};
    size_t n = sizeof texts / sizeof *texts;
    check_batch_same(a, texts, n, "greedy");
    CHECK_STR_EQ(nlprnn_translate_batch_text(a, 2, NULL) ? "x" : "", ""); /* cleared by the check's singles */
    /* fewer rows than texts: a finished text's row takes the next one; the same translations */
    for (int rows = 1; rows <= 3; rows++) {
        CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BATCH, rows, &err), 0);
        check_batch_same(a, texts, n, rows == 1 ? "greedy, 1 row" : rows == 2 ? "greedy, 2 rows" : "greedy, 3 rows");
    }
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BATCH, 0, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BATCH, 1025, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BATCH, 2.5, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BATCH, 64, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BEAM, 3, &err), 0);
    check_batch_same(a, texts, n, "beam 3");
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_SAMPLE, 1, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_TEMPERATURE, 1.5, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_TOP_K, 5, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_SEED, 12345, &err), 0);
    check_batch_same(a, texts, n, "sampling");
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BATCH, 2, &err), 0);
    check_batch_same(a, texts, n, "sampling, 2 rows");
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_BATCH, 64, &err), 0);
    /* sampling: the same seed gives the same text; over many seeds, more than one text */
    char first[256] = "";
    int differ = 0;
    for (int seed = 1; seed <= 20; seed++) {
        CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_SEED, seed, &err), 0);
        CHECK_INT_EQ(nlprnn_translate(a, texts[1], strlen(texts[1]), &err), 0);
        char once[256];
        snprintf(once, sizeof once, "%s", nlprnn_translate_text(a, NULL));
        CHECK_INT_EQ(nlprnn_translate(a, texts[1], strlen(texts[1]), &err), 0);
        CHECK_STR_EQ(once, nlprnn_translate_text(a, NULL));
        if (seed == 1) snprintf(first, sizeof first, "%s", once);
        else differ += strcmp(first, once) != 0;
    }
    CHECK_MSG(differ > 0, "20 seeds sampled the same translation");
    /* options out of range */
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_SAMPLE, 2, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_TEMPERATURE, 0, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_TOP_K, 1.5, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_SEED, -1, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_WORD_REWARD, 5.5, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "word-reward") != NULL);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_WORD_REWARD, NAN, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_WORD_REWARD, -5, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_MIN_RATIO, -0.1, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "min-ratio") != NULL);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_MIN_RATIO, 0, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_MIN_FROM, -1, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "min-from") != NULL);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_MIN_FROM, 2.5, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_MIN_FROM, 1025, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_MIN_FROM, NAN, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_MIN_FROM, 1024, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(a, NLPRNN_TRANSLATE_MIN_FROM, 0, &err), 0);
    /* invalid UTF-8 in text 2: the text and the byte */
    const char *bad[] = {"가나", "다\xff", "마바"};
    size_t bl[] = {6, 4, 6};
    CHECK_INT_EQ(nlprnn_translate_batch(a, bad, bl, 3, &err), NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.line, 2);
    CHECK_INT_EQ(err.offset, 3);
    CHECK(nlprnn_translate_batch_text(a, 0, NULL) == NULL);
    CHECK_INT_EQ(nlprnn_translate_batch(a, NULL, bl, 3, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translate_batch(a, NULL, NULL, 0, &err), 0);
    nlprnn_translator_ctx_free(a);
    nlprnn_translator_free(t);
}

static void test_resume(void) {
    nlprnn_error err;
    nlprnn_translator_params *p = small_params();
    /* with dropout: its masks are drawn from (seed, epoch, batch), so a resume repeats them */
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "emb-dropout", "0.1", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "out-dropout", "0.25", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "out-dropout", "0.95", &err), NLPRNN_E_INVALID_ARG);
    /* BPE dropout: the pairs' segmentations drawn from (seed, epoch, pair, side), so a resume
     * repeats them too; it needs merges, so vocabularies larger than the 262 fixed ids */
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "bpe-dropout", "0.3", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "bpe-dropout", "1.5", &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "src-vocab", "300", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "tgt-vocab", "300", &err), 0);
    nlprnn_translator *t = NULL, *u = NULL;
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, NULL, NULL, &t, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("whole.nrm"), &err), 0);
    /* the rates are saved in the model file's CONF and read back */
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("whole.nrm"), &u, &err), 0);
    CHECK(u && strstr(nlprnn_translator_summary(u), "dropout embeddings 0.1, output 0.25, BPE dropout 0.3") != NULL);
    char *desc = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("whole.nrm"), &desc, &err), 0);
    CHECK_MSG(desc && strstr(desc, "bpe-dropout = "), "%.600s", desc ? desc : err.message);
    nlprnn_free(desc);
    /* trained without it (test_train_save_load's m.nrm): not in CONF, as in the files made
     * before the option (which load with bpe-dropout 0) */
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("m.nrm"), &desc, &err), 0);
    CHECK(desc && strstr(desc, "out-dropout") && !strstr(desc, "bpe-dropout"));
    nlprnn_free(desc);
    CHECK_STR_EQ(nlprnn_translator_summary(u), nlprnn_translator_summary(t));
    nlprnn_translator_free(u);
    nlprnn_translator_free(t);
    t = NULL;
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "checkpoint", nr_test_scratch("ck.nrm"), &err), 0);
    nlprnn_train_ctl *ctl = NULL;
    CHECK_INT_EQ(nlprnn_train_ctl_create(&ctl, &err), 0);
    int rc = nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, ctl, stop_after_first, NULL, &t, &err);
    CHECK_INT_EQ(rc, NLPRNN_E_INTERRUPTED);
    CHECK(t == NULL);
    CHECK(access(nr_test_scratch("ck.nrm"), F_OK) == 0);
    nlprnn_train_ctl_set_resume(ctl, 1);
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, ctl, NULL, NULL, &t, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("resumed.nrm"), &err), 0);
    CHECK_MSG(nr_test_same_file(nr_test_scratch("whole.nrm"), nr_test_scratch("resumed.nrm")),
              "a resumed run wrote a different model file than the uninterrupted run");
    /* a resume on other data is refused */
    nlprnn_translator_free(t);
    t = NULL;
    put("other.tsv", "ko\ten\n가나\tcat\n다라\tdog\n가나 다라\tcat dog\n");
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "valid", "0", &err), 0);
    CHECK(nlprnn_translator_train(nr_test_scratch("other.tsv"), p, ctl, NULL, NULL, &t, &err) != 0);
    nlprnn_train_ctl_free(ctl);
    nlprnn_translator_params_free(p);
}

static void test_ema(void) {
    nlprnn_error err;
    nlprnn_translator_params *p = small_params();
    const char *bad[] = {"1", "1.5", "-0.1", "nan", "0.9x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_INT_EQ(nlprnn_translator_params_set(p, "ema", bad[i], &err), NLPRNN_E_INVALID_ARG);
        CHECK_MSG(strstr(err.message, "ema") && strstr(err.message, "[0, 1)"), "%s", err.message);
    }
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "emb-dropout", "0.1", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "ema", "0.9", &err), 0);
    nlprnn_translator *t = NULL;
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, NULL, NULL, &t, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("ema.nrm"), &err), 0);
    nlprnn_translator_free(t);
    t = NULL;
    char *desc = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("ema.nrm"), &desc, &err), 0);
    CHECK_MSG(desc && strstr(desc, "ema = 0.9"), "%.600s", desc ? desc : err.message);
    nlprnn_free(desc);
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("m.nrm"), &desc, &err), 0);
    CHECK(desc && !strstr(desc, "ema ="));
    nlprnn_free(desc);
    /* the same run without it: another model */
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "ema", "0", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, NULL, NULL, &t, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("noema.nrm"), &err), 0);
    nlprnn_translator_free(t);
    t = NULL;
    CHECK(!nr_test_same_file(nr_test_scratch("ema.nrm"), nr_test_scratch("noema.nrm")));
    /* stopped after the first epoch, resumed: the file of the uninterrupted run */
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "ema", "0.9", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "checkpoint", nr_test_scratch("ck-ema.nrm"), &err), 0);
    nlprnn_train_ctl *ctl = NULL;
    CHECK_INT_EQ(nlprnn_train_ctl_create(&ctl, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, ctl, stop_after_first, NULL, &t, &err),
                 NLPRNN_E_INTERRUPTED);
    /* resuming it without ema is refused (another parameter) */
    nlprnn_train_ctl_set_resume(ctl, 1);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "ema", "0", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, ctl, NULL, NULL, &t, &err), NLPRNN_E_STATE);
    CHECK_MSG(strstr(err.message, "ema=0.9"), "%s", err.message);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "ema", "0.9", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, ctl, NULL, NULL, &t, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("ema-resumed.nrm"), &err), 0);
    CHECK_MSG(nr_test_same_file(nr_test_scratch("ema.nrm"), nr_test_scratch("ema-resumed.nrm")),
              "a resumed run with ema wrote a different model file than the uninterrupted run");
    nlprnn_translator_free(t);
    nlprnn_train_ctl_free(ctl);
    nlprnn_translator_params_free(p);
}

static void test_bad_files(void) {
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    size_t n = 0;
    unsigned char *b = nr_test_slurp(nr_test_scratch("m.nrm"), &n);
    CHECK(b && n > 1000);
    if (!b) return;
    /* a flipped byte in the middle: a checksum error naming the file */
    b[n / 2] ^= 0x40;
    FILE *fp = fopen(nr_test_scratch("flip.nrm"), "wb");
    fwrite(b, 1, n, fp);
    fclose(fp);
    b[n / 2] ^= 0x40;
    int rc = nlprnn_translator_load(nr_test_scratch("flip.nrm"), &t, &err);
    CHECK_MSG(rc == NLPRNN_E_CHECKSUM && strstr(err.message, "flip.nrm"), "%s %s", nlprnn_status_name(rc), err.message);
    CHECK(t == NULL);
    /* truncated */
    fp = fopen(nr_test_scratch("cut.nrm"), "wb");
    fwrite(b, 1, n - 100, fp);
    fclose(fp);
    rc = nlprnn_translator_load(nr_test_scratch("cut.nrm"), &t, &err);
    CHECK_MSG(rc == NLPRNN_E_TRUNCATED && strstr(err.message, "cut.nrm"), "%s %s", nlprnn_status_name(rc), err.message);
    free(b);
    /* a tokenizer file is another kind */
    nlprnn_tokenizer *tok = NULL;
    const char *txt[] = {"a b c", "d e f"};
    CHECK_INT_EQ(nlprnn_tokenizer_train_texts(NULL, txt, NULL, 2, &tok, &err), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_save(tok, nr_test_scratch("tok.tok"), &err), 0);
    nlprnn_tokenizer_free(tok);
    rc = nlprnn_translator_load(nr_test_scratch("tok.tok"), &t, &err);
    CHECK_MSG(rc == NLPRNN_E_UNSUPPORTED || rc == NLPRNN_E_MAGIC, "%s %s", nlprnn_status_name(rc), err.message);
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("missing.nrm"), &t, &err), NLPRNN_E_IO);
    /* bad pair files */
    nlprnn_translator_params *p = small_params();
    put("nocol.tsv", "en\tde\ncat\tKatze\n");
    rc = nlprnn_translator_train(nr_test_scratch("nocol.tsv"), p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == NLPRNN_E_DATA && err.line == 1 && strstr(err.message, "'ko'"), "%s", err.message);
    put("utf8.tsv", "en\tko\ncat\t가나\ndog\t\xc3\x28\n");
    rc = nlprnn_translator_train(nr_test_scratch("utf8.tsv"), p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == NLPRNN_E_UTF8 && err.line == 3 && strstr(err.message, "utf8.tsv:3"), "%s", err.message);
    put("short.tsv", "en\tko\ncat\t가나\ndog\n");
    rc = nlprnn_translator_train(nr_test_scratch("short.tsv"), p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == NLPRNN_E_DATA && err.line == 3, "%s", err.message);
    CHECK(t == NULL);
    nlprnn_translator_params_free(p);
}

/* The texts' greedy translations by a fresh context of t (options: NULL, or pairs opt, value
 * ending with opt 0) into out[i]; also the largest target/source token ratio into *ratio. */
enum { DECO_NT = 4 };
static const char *const DECO_TEXTS[DECO_NT] = {"가나 다라", "마바 사아 자차", "카타", "파하 고노 가나 다라"};
static void deco_translate(const nlprnn_translator *t, const double *opts, char out[][256], double *ratio) {
    nlprnn_error err;
    nlprnn_translator_ctx *c = NULL;
    CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &c, &err), 0);
    for (int k = 0; opts && opts[k] != 0; k += 2)
        CHECK_INT_EQ(nlprnn_translator_ctx_set(c, (nlprnn_translator_opt)opts[k], opts[k + 1], &err), 0);
    *ratio = 0;
    for (int i = 0; c && i < DECO_NT; i++) {
        out[i][0] = 0;
        CHECK_INT_EQ(nlprnn_translate(c, DECO_TEXTS[i], strlen(DECO_TEXTS[i]), &err), 0);
        snprintf(out[i], 256, "%s", nlprnn_translate_text(c, NULL));
        double r = (double)nlprnn_translate_tgt_len(c) / (double)nlprnn_translate_src_len(c);
        if (r > *ratio) *ratio = r;
    }
    nlprnn_translator_ctx_free(c);
}

static double get_default(const nlprnn_translator *t, nlprnn_translator_opt opt) {
    double v = NAN;
    nlprnn_error err;
    CHECK_INT_EQ(nlprnn_translator_get_default(t, opt, &v, &err), 0);
    return v;
}

/* The minimum length's threshold (NLPRNN_TRANSLATE_MIN_FROM) on each of DECO_TEXTS: min-ratio 3
 * from the text's own source length n gives the output (text and target tokens) of min-ratio 3
 * alone, from n + 1 that of min-ratio 0; returns the texts whose two outputs differ (the check is
 * vacuous without them). The tests' model seldom ends before the length limit: word reward -5
 * makes it end early, so that the minimum has outputs to lengthen. */
static void min_from_out(nlprnn_translator_ctx *c, const char *s, char *out, size_t cap) {
    nlprnn_error err;
    CHECK_INT_EQ(nlprnn_translate(c, s, strlen(s), &err), 0);
    snprintf(out, cap, "%zu tokens: %s", nlprnn_translate_tgt_len(c), nlprnn_translate_text(c, NULL));
}
static int check_min_from(const nlprnn_translator *t) {
    nlprnn_error err;
    nlprnn_translator_ctx *c = NULL;
    CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &c, &err), 0);
    if (c) CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_WORD_REWARD, -5, &err), 0);
    int moved = 0;
    for (int i = 0; c && i < DECO_NT; i++) {
        const char *s = DECO_TEXTS[i];
        char with[300], without[300], got[300];
        CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_MIN_FROM, 0, &err), 0);
        CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_MIN_RATIO, 3, &err), 0);
        min_from_out(c, s, with, sizeof with);
        double n = (double)nlprnn_translate_src_len(c);
        CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_MIN_RATIO, 0, &err), 0);
        min_from_out(c, s, without, sizeof without);
        CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_MIN_RATIO, 3, &err), 0);
        for (int k = 0; k < 2; k++) {
            CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_MIN_FROM, n + k, &err), 0);
            min_from_out(c, s, got, sizeof got);
            CHECK_MSG(!strcmp(got, k ? without : with), "'%s' (%g tokens), min-ratio 3 from %g: '%s', want '%s'", s,
                      n, n + k, got, k ? without : with);
        }
        moved += strcmp(with, without) != 0;
    }
    nlprnn_translator_ctx_free(c);
    return moved;
}

static void test_decoding_defaults(void) {
    nlprnn_error err;
    nlprnn_translator *m = NULL, *d = NULL, *old = NULL;
    /* a file without stored defaults: this build's m.nrm (trained without them) and a file made
     * before DECO existed (the fuzz corpus's): word reward 0, min-ratio 0, the library's rule */
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("m.nrm"), &m, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_data_path("../fuzz/corpus/fuzz_translate_load/lstm_general.nrm"),
                                        &old, &err), 0);
    if (!m || !old) return;
    char *desc = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("m.nrm"), &desc, &err), 0);
    CHECK(desc && !strstr(desc, "DECO"));
    nlprnn_free(desc);
    for (int k = 0; k < 2; k++) {
        const nlprnn_translator *t = k ? old : m;
        CHECK(get_default(t, NLPRNN_TRANSLATE_WORD_REWARD) == 0);
        CHECK(get_default(t, NLPRNN_TRANSLATE_MIN_RATIO) == 0);
        CHECK(get_default(t, NLPRNN_TRANSLATE_MIN_FROM) == 0);
        CHECK(get_default(t, NLPRNN_TRANSLATE_COMBINE) == 1);
        CHECK(get_default(t, NLPRNN_TRANSLATE_BEAM) == 1);
        CHECK(get_default(t, NLPRNN_TRANSLATE_BATCH) == 64);
        CHECK(!strstr(nlprnn_translator_summary(t), "decoding defaults"));
    }
    /* the threshold of the minimum length, on a model without stored defaults */
    CHECK_MSG(check_min_from(m) > 0, "min-ratio 3 changed none of the %d outputs", DECO_NT);
    /* stored on a translator, saved, read back */
    CHECK_INT_EQ(nlprnn_translator_set_default(m, NLPRNN_TRANSLATE_WORD_REWARD, 2, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_set_default(m, NLPRNN_TRANSLATE_MIN_RATIO, 1.5, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_set_default(m, NLPRNN_TRANSLATE_MIN_FROM, 3, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_set_default(m, NLPRNN_TRANSLATE_COMBINE, 0, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_save(m, nr_test_scratch("deco.nrm"), &err), 0);
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("deco.nrm"), &d, &err), 0);
    if (!d) return;
    CHECK(get_default(d, NLPRNN_TRANSLATE_WORD_REWARD) == 2);
    CHECK(get_default(d, NLPRNN_TRANSLATE_MIN_RATIO) == 1.5);
    CHECK(get_default(d, NLPRNN_TRANSLATE_MIN_FROM) == 3);
    CHECK(get_default(d, NLPRNN_TRANSLATE_COMBINE) == 0);
    CHECK_MSG(strstr(nlprnn_translator_summary(d),
                     "; decoding defaults: word-reward 2, min-ratio 1.5, min-from 3, combine prob"),
              "%s", nlprnn_translator_summary(d));
    desc = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("deco.nrm"), &desc, &err), 0);
    CHECK_MSG(desc && strstr(desc, "section DECO") && strstr(desc, "word-reward = 2") &&
              strstr(desc, "min-ratio = 1.5") && strstr(desc, "min-from = 3") && strstr(desc, "combine = prob"),
              "%.2000s", desc ? desc : "");
    nlprnn_free(desc);
    /* a context starts from them: the translations of explicit options on the weights without
     * stored defaults (m2: m.nrm again); min-ratio 1.5 makes every output at least that long, so
     * the check is not vacuous */
    nlprnn_translator *m2 = NULL;
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("m.nrm"), &m2, &err), 0);
    char a[DECO_NT][256], b[DECO_NT][256];
    double ra = 0, rb = 0;
    const double expl[] = {NLPRNN_TRANSLATE_WORD_REWARD, 2, NLPRNN_TRANSLATE_MIN_RATIO, 1.5,
                           NLPRNN_TRANSLATE_MIN_FROM, 3, 0};
    deco_translate(d, NULL, a, &ra);
    deco_translate(m2, expl, b, &rb);
    for (int i = 0; i < DECO_NT; i++) CHECK_STR_EQ(a[i], b[i]);
    CHECK_MSG(ra >= 1.5 && rb >= 1.5, "ratios %g %g", ra, rb);
    /* explicit options win over the stored ones */
    const double neutral[] = {NLPRNN_TRANSLATE_WORD_REWARD, 0, NLPRNN_TRANSLATE_MIN_RATIO, 0, 0};
    deco_translate(d, neutral, a, &ra);
    deco_translate(m2, NULL, b, &rb);
    for (int i = 0; i < DECO_NT; i++) CHECK_STR_EQ(a[i], b[i]);
    /* bad values and options that are not stored */
    CHECK_INT_EQ(nlprnn_translator_set_default(d, NLPRNN_TRANSLATE_WORD_REWARD, 6, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "word-reward") != NULL);
    CHECK_INT_EQ(nlprnn_translator_set_default(d, NLPRNN_TRANSLATE_MIN_RATIO, NAN, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_set_default(d, NLPRNN_TRANSLATE_COMBINE, 2, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_set_default(d, NLPRNN_TRANSLATE_MIN_FROM, -1, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "min-from") != NULL);
    CHECK_INT_EQ(nlprnn_translator_set_default(d, NLPRNN_TRANSLATE_MIN_FROM, 0.5, &err), NLPRNN_E_INVALID_ARG);
    CHECK(get_default(d, NLPRNN_TRANSLATE_MIN_FROM) == 3);
    CHECK_INT_EQ(nlprnn_translator_set_default(d, NLPRNN_TRANSLATE_BEAM, 3, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "not stored") != NULL);
    CHECK_INT_EQ(nlprnn_translator_set_default(NULL, NLPRNN_TRANSLATE_WORD_REWARD, 1, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_get_default(d, (nlprnn_translator_opt)99, &ra, &err), NLPRNN_E_INVALID_ARG);
    CHECK(get_default(d, NLPRNN_TRANSLATE_WORD_REWARD) == 2); /* unchanged by the refused calls */
    /* the word reward and min-ratio back to neutral, the rule still stored: DECO says all three */
    CHECK_INT_EQ(nlprnn_translator_set_default(d, NLPRNN_TRANSLATE_WORD_REWARD, 0, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_set_default(d, NLPRNN_TRANSLATE_MIN_RATIO, 0, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_set_default(d, NLPRNN_TRANSLATE_MIN_FROM, 0, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_save(d, nr_test_scratch("deco0.nrm"), &err), 0);
    desc = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("deco0.nrm"), &desc, &err), 0);
    /* min-from 0 is not written (files without it stay byte for byte as before it) */
    CHECK(desc && strstr(desc, "section DECO") && strstr(desc, "combine = prob") && strstr(desc, "min-ratio = 0") &&
          !strstr(desc, "min-from"));
    nlprnn_free(desc);
    /* a file whose DECO says a value out of range, or an unknown rule: NLPRNN_E_FORMAT naming the
     * file and the section; an unknown key is ignored (a later build's default) */
    static const char *const bad[] = {"word-reward=9\n", "min-ratio=-1\n", "word-reward=x\n", "combine=max\n",
                                      "min-from=-1\n", "min-from=2.5\n", "min-from=1025\n",
                                      "word-reward=0.5\nbeam=4\n"};
    for (int k = 0; k < 8; k++) {
        nr_mf_reader *r = NULL;
        nr_mf_writer *w = NULL;
        CHECK_INT_EQ(nr_mf_open_file(&r, nr_test_scratch("m.nrm"), NULL, &err), 0);
        CHECK_INT_EQ(nr_mf_writer_new(&w, "TRNS", &err), 0);
        for (size_t i = 0; r && w && i < nr_mf_section_count(r); i++) {
            const nr_mf_section *sec = nr_mf_section_at(r, i);
            CHECK_INT_EQ(nr_mf_add(w, sec->tag, sec->content, sec->data, (size_t)sec->raw_len, 0, &err), 0);
        }
        if (w) CHECK_INT_EQ(nr_mf_add(w, "DECO", NR_MF_CONFIG, bad[k], strlen(bad[k]), 0, &err), 0);
        if (w) CHECK_INT_EQ(nr_mf_writer_save(w, nr_test_scratch("baddeco.nrm"), &err), 0);
        nr_mf_writer_free(w);
        nr_mf_close(r);
        nlprnn_translator *x = NULL;
        int rc = nlprnn_translator_load(nr_test_scratch("baddeco.nrm"), &x, &err);
        if (k < 7)
            CHECK_MSG(rc == NLPRNN_E_FORMAT && strstr(err.message, "baddeco.nrm") && strstr(err.message, "DECO"),
                      "%s: %s %s", bad[k], nlprnn_status_name(rc), err.message);
        else
            CHECK_MSG(rc == 0 && x && get_default(x, NLPRNN_TRANSLATE_WORD_REWARD) == 0.5, "%s: %s", bad[k],
                      rc ? err.message : "");
        nlprnn_translator_free(x);
    }
    /* training parameters: stored in the model, not in CONF; out of range refused */
    nlprnn_translator_params *p = small_params();
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "epochs", "1", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "word-reward", "6", &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "word-reward") != NULL);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "min-ratio", "-0.5", &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "word-reward", "0.75", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "min-ratio", "0.5", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "min-from", "-1", &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "min-from") != NULL);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "min-from", "4", &err), 0);
    nlprnn_translator *t = NULL, *u = NULL;
    CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, NULL, NULL, &t, &err), 0);
    if (t) {
        CHECK(get_default(t, NLPRNN_TRANSLATE_WORD_REWARD) == 0.75);
        CHECK(get_default(t, NLPRNN_TRANSLATE_MIN_RATIO) == 0.5);
        CHECK(get_default(t, NLPRNN_TRANSLATE_MIN_FROM) == 4);
        CHECK(get_default(t, NLPRNN_TRANSLATE_COMBINE) == 1);
        CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch("trdeco.nrm"), &err), 0);
        CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("trdeco.nrm"), &u, &err), 0);
        CHECK(u && get_default(u, NLPRNN_TRANSLATE_WORD_REWARD) == 0.75);
        CHECK(u && get_default(u, NLPRNN_TRANSLATE_MIN_RATIO) == 0.5);
        CHECK(u && get_default(u, NLPRNN_TRANSLATE_MIN_FROM) == 4);
        CHECK_STR_EQ(u ? nlprnn_translator_summary(u) : "", nlprnn_translator_summary(t));
        desc = NULL;
        CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("trdeco.nrm"), &desc, &err), 0);
        const char *conf_end = desc ? strstr(desc, "section TOKS") : NULL;
        const char *wr = desc ? strstr(desc, "word-reward") : NULL;
        CHECK_MSG(conf_end && wr > conf_end && strstr(conf_end, "word-reward = 0.75"), "%.3000s", desc ? desc : "");
        nlprnn_free(desc);
    }
    nlprnn_translator_free(t);
    nlprnn_translator_free(u);
    nlprnn_translator_params_free(p);
    nlprnn_translator_free(m2);
    nlprnn_translator_free(d);
    nlprnn_translator_free(m);
    nlprnn_translator_free(old);
}

static void test_scores(void) {
    const char *h[] = {"the cat sat on the mat"}, *r[] = {"the cat is on the mat"};
    double s = -1, d[8];
    nlprnn_error err;
    CHECK_INT_EQ(nlprnn_bleu(h, r, 1, &s, d, &err), 0);
    CHECK_NEAR(s, 100.0 / pow(48.0, 0.25), 1e-9);
    CHECK_INT_EQ(nlprnn_chrf(h, h, 1, &s, &err), 0);
    CHECK_NEAR(s, 100.0, 1e-9);
    const char *bad[] = {"ok", "x\xff"};
    const char *ref2[] = {"ok", "x"};
    CHECK_INT_EQ(nlprnn_bleu(bad, ref2, 2, &s, NULL, &err), NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.line, 2);
    CHECK_INT_EQ(err.offset, 1);
    CHECK_INT_EQ(nlprnn_chrf(ref2, bad, 2, &s, &err), NLPRNN_E_UTF8);
    CHECK_INT_EQ(nlprnn_bleu(h, r, 0, &s, NULL, &err), 0);
    CHECK_NEAR(s, 0.0, 0);
}

/* The shipped model (pretrained/ko-en.nrm) loads by its bare name and translates everyday
 * sentences into non-empty English; beam 5 works on it; its attention rows are distributions. */
static void test_shipped(void) {
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    nlprnn_translator_ctx *c = NULL;
    CHECK_INT_EQ(nlprnn_translator_load("ko-en", &t, &err), 0);
    if (!t) return;
    CHECK(strstr(nlprnn_translator_summary(t), "ko -> en") != NULL);
    CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &c, &err), 0);
    const char *texts[] = {"고마워요.", "이 책은 누구의 것입니까?", "톰은 어디에 있어요?"};
    /* the source side's tokenizer is the one translating encodes with: its pieces of a text are
     * the source tokens (the same text in the target side's tokenizer is cut otherwise) */
    const nlprnn_tokenizer *tsrc = nlprnn_translator_tokenizer(t, 0), *ttgt = nlprnn_translator_tokenizer(t, 1);
    CHECK(tsrc != NULL && ttgt != NULL && tsrc != ttgt);
    nlprnn_encoding *enc = NULL, *etgt = NULL;
    CHECK_INT_EQ(nlprnn_encoding_create(&enc, &err), 0);
    CHECK_INT_EQ(nlprnn_encoding_create(&etgt, &err), 0);
    const char *ko = texts[1];
    CHECK_INT_EQ(nlprnn_translate(c, ko, strlen(ko), &err), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_encode(tsrc, ko, strlen(ko), enc, &err), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_encode(ttgt, ko, strlen(ko), etgt, &err), 0);
    size_t n = nlprnn_encoding_size(enc), S0 = nlprnn_translate_src_len(c), same = 0;
    CHECK_MSG(n == S0 || n + 1 == S0, "'%s': %zu pieces, %zu source tokens", ko, n, S0);
    for (size_t k = 0; k < n && k < S0; k++)
        CHECK_STR_EQ(nlprnn_translate_piece(c, 0, k), nlprnn_tokenizer_piece(tsrc, nlprnn_encoding_ids(enc)[k]));
    for (size_t k = 0; k < n && k < nlprnn_encoding_size(etgt); k++)
        same += !strcmp(nlprnn_tokenizer_piece(tsrc, nlprnn_encoding_ids(enc)[k]),
                        nlprnn_tokenizer_piece(ttgt, nlprnn_encoding_ids(etgt)[k]));
    CHECK_MSG(n != nlprnn_encoding_size(etgt) || same < n, "both sides cut '%s' alike: the check cannot tell them apart", ko);
    nlprnn_encoding_free(enc);
    nlprnn_encoding_free(etgt);
    for (int beam = 1; beam <= 5; beam += 4) {
        CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_BEAM, beam, &err), 0);
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            CHECK_INT_EQ(nlprnn_translate(c, texts[i], strlen(texts[i]), &err), 0);
            size_t len = 0;
            const char *out = nlprnn_translate_text(c, &len);
            CHECK(out && len > 0);
            size_t S = nlprnn_translate_src_len(c), T = nlprnn_translate_tgt_len(c);
            const float *a = nlprnn_translate_attention(c);
            for (size_t j = 0; a && j <= T; j++) {
                double sum = 0;
                for (size_t k = 0; k < S; k++) sum += a[j * S + k];
                CHECK_NEAR(sum, 1.0, 1e-5);
            }
        }
    }
    nlprnn_translator_ctx_free(c);
    nlprnn_translator_free(t);
}

/* One translation's result: the text and the log-probability's bits. */
typedef struct tr_out {
    char text[512];
    double logp;
} tr_out;

static int same_out(const tr_out *a, const char *text, double logp) {
    return !strcmp(a->text, text) && !memcmp(&a->logp, &logp, sizeof logp);
}

/* A context keeps the decoder's packed weights for its life (nr_s2s_ws_keep_pack; tasks/translate/
 * api.c): the same texts translated again and again in one context, in either order, mixed with
 * batch decoding and with beam widths that make its workspace grow, give the bits of a fresh
 * translator and context for each text. model: a file or a shipped name. */
static void check_kept_packs(const char *model, const char *const *texts, size_t n, const char *what) {
    enum { NT = 8 };
    static const int beams[] = {1, 3, 5};
    nlprnn_error err;
    tr_out ref[3][NT], refb[3][NT]; /* each text alone; the texts as a batch */
    size_t lens[NT];
    CHECK(n <= NT);
    for (size_t i = 0; i < n; i++) lens[i] = strlen(texts[i]);
    for (int b = 0; b < 3; b++) /* fresh translator and context for each text, and for the batch */
        for (size_t i = 0; i <= n; i++) {
            nlprnn_translator *t = NULL;
            nlprnn_translator_ctx *c = NULL;
            CHECK_INT_EQ(nlprnn_translator_load(model, &t, &err), 0);
            if (t) CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &c, &err), 0);
            if (c) CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_BEAM, beams[b], &err), 0);
            if (i == n) { /* the batch (greedy: decoded together; a beam: one by one) */
                int rc = c ? nlprnn_translate_batch(c, texts, lens, n, &err) : -1;
                CHECK_INT_EQ(rc, 0);
                for (size_t j = 0; j < n; j++) {
                    const char *s = rc ? NULL : nlprnn_translate_batch_text(c, j, NULL);
                    snprintf(refb[b][j].text, sizeof refb[b][j].text, "%s", s ? s : "");
                    refb[b][j].logp = rc ? NAN : nlprnn_translate_batch_logprob(c, j);
                }
            } else {
                int rc = c ? nlprnn_translate(c, texts[i], lens[i], &err) : -1;
                CHECK_INT_EQ(rc, 0);
                snprintf(ref[b][i].text, sizeof ref[b][i].text, "%s", rc ? "" : nlprnn_translate_text(c, NULL));
                ref[b][i].logp = rc ? NAN : nlprnn_translate_logprob(c);
            }
            nlprnn_translator_ctx_free(c);
            nlprnn_translator_free(t);
        }
    nlprnn_translator *t = NULL;
    nlprnn_translator_ctx *c = NULL;
    CHECK_INT_EQ(nlprnn_translator_load(model, &t, &err), 0);
    if (t) CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &c, &err), 0);
    if (!c) {
        nlprnn_translator_free(t);
        return;
    }
    /* beams 1 3 5 3 1 5: the workspace grows (a wider beam, a longer text) while packs are kept */
    static const int order[] = {0, 1, 2, 1, 0, 2};
    for (int pass = 0; pass < 6; pass++) {
        int b = order[pass];
        CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_BEAM, beams[b], &err), 0);
        for (size_t k = 0; k < n; k++) {
            size_t i = pass % 2 ? n - 1 - k : k; /* forward, then backward */
            CHECK_INT_EQ(nlprnn_translate(c, texts[i], lens[i], &err), 0);
            CHECK_MSG(same_out(&ref[b][i], nlprnn_translate_text(c, NULL), nlprnn_translate_logprob(c)),
                      "%s: beam %d, pass %d, text %zu: '%s' %.17g, fresh '%s' %.17g", what, beams[b], pass, i,
                      nlprnn_translate_text(c, NULL), nlprnn_translate_logprob(c), ref[b][i].text, ref[b][i].logp);
            if (k == n / 2) { /* a batch decoding in the middle (greedy or the beam, one by one) */
                CHECK_INT_EQ(nlprnn_translate_batch(c, texts, lens, n, &err), 0);
                for (size_t j = 0; j < n; j++) {
                    const char *s = nlprnn_translate_batch_text(c, j, NULL);
                    CHECK_MSG(s && same_out(&refb[b][j], s, nlprnn_translate_batch_logprob(c, j)),
                              "%s: beam %d, batch, text %zu: '%s', fresh '%s'", what, beams[b], j, s ? s : "",
                              refb[b][j].text);
                }
            }
        }
    }
    nlprnn_translator_ctx_free(c);
    nlprnn_translator_free(t);
}

static void test_kept_packs(void) {
    const char *small[] = {"가나", "마바 사아 자차 카타 파하 고노 가나 다라 마바", "카타 파하", "", "다라 다라 고노"};
    check_kept_packs(nr_test_scratch("m.nrm"), small, sizeof small / sizeof *small, "small model");
    const char *ko[] = {"고마워요.", "이 책은 누구의 것입니까? 저는 모르겠어요.", "톰은 어디에 있어요?"};
    check_kept_packs("ko-en", ko, sizeof ko / sizeof *ko, "ko-en");
}

/* The shipped ensemble over a stream of texts longer than its rows (nlprnn_translate_batch with
 * NLPRNN_TRANSLATE_BATCH 16 and 8, then 64 rows): every text gets the translation it gets alone,
 * and its log-probability within 1e-5 relative (one text alone takes the one-row kernel, whose
 * sums run in lanes of k, 32 rows or more the GEMM's one chain over k: models/kernels/
 * gemv_tmpl.h; 5e-8 to 2e-7 apart here); the texts are enough source tokens for the layer-0 table (tasks/translate/api.c) and
 * refill the rows many times, in every length. */
static void test_shipped_stream(void) {
    enum { NT = 90 };
    static const char *const words[] = {"저는", "톰은", "학교에", "어제", "책을", "정말", "고마워요", "어디에",
                                        "있어요", "먹었어요", "친구와", "같이", "가고", "싶어요", "오늘",
                                        "비가", "와요", "누구의", "것입니까", "모르겠어요"};
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    nlprnn_translator_ctx *c = NULL;
    CHECK_INT_EQ(nlprnn_translator_load("ko-en", &t, &err), 0);
    if (t) CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &c, &err), 0);
    if (!c) {
        nlprnn_translator_free(t);
        return;
    }
    static char buf[NT][256];
    const char *texts[NT];
    size_t lens[NT];
    unsigned long long x = 19; /* a linear congruential generator (Knuth's MMIX constants) */
#define NEXT(n) ((x = x * 6364136223846793005ULL + 1442695040888963407ULL), (int)((x >> 33) % (n)))
    for (int i = 0; i < NT; i++) { /* 1 to 14 words, a full stop */
        int nw = 1 + NEXT(14), o = 0;
        for (int w = 0; w < nw; w++)
            o += snprintf(buf[i] + o, sizeof buf[i] - (size_t)o, "%s%s", w ? " " : "",
                          words[NEXT((int)(sizeof words / sizeof *words))]);
        snprintf(buf[i] + o, sizeof buf[i] - (size_t)o, ".");
        texts[i] = buf[i], lens[i] = strlen(buf[i]);
    }
#undef NEXT
    static tr_out alone[NT];
    for (int i = 0; i < NT; i++) {
        CHECK_INT_EQ(nlprnn_translate(c, texts[i], lens[i], &err), 0);
        snprintf(alone[i].text, sizeof alone[i].text, "%s", nlprnn_translate_text(c, NULL));
        alone[i].logp = nlprnn_translate_logprob(c);
    }
    static const int rows[] = {16, 8, 64};
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_BATCH, rows[r], &err), 0);
        CHECK_INT_EQ(nlprnn_translate_batch(c, texts, lens, NT, &err), 0);
        for (int i = 0; i < NT; i++) {
            const char *s = nlprnn_translate_batch_text(c, (size_t)i, NULL);
            double lp = nlprnn_translate_batch_logprob(c, (size_t)i);
            CHECK_MSG(s && !strcmp(s, alone[i].text), "ko-en stream in %d rows: text %d '%s': '%s', alone '%s'",
                      rows[r], i, texts[i], s ? s : "", alone[i].text);
            CHECK_MSG(fabs(lp - alone[i].logp) <= 1e-5 * fabs(lp), "ko-en stream in %d rows: text %d: log p %.17g, alone %.17g",
                      rows[r], i, lp, alone[i].logp);
        }
    }
    nlprnn_translator_ctx_free(c);
    nlprnn_translator_free(t);
}

static void cli_sigterm(const char *cli);
static int file_has(const char *path, const char *what);

/* ---- the program ---------------------------------------------------------------------------- */

static void test_cli(void) {
    const char *cli = getenv("NLPRNN_CLI");
    if (!cli) {
        fprintf(stderr, "test_translate_api: NLPRNN_CLI not set; the program's part is not run\n");
        return;
    }
    char m[512];
    snprintf(m, sizeof m, "%s", nr_test_scratch("m.nrm"));
    nr_test_expect(0, MUST(""), "'%s' translate -m '%s' '가나 다라'", cli, m);
    put("in.txt", "가나\n다라 마바\n");
    char *out = NULL;
    CHECK_INT_EQ(nr_test_run(&out, "'%s' translate -m '%s' -i '%s' | wc -l", cli, m, nr_test_scratch("in.txt")), 0);
    CHECK(out && atoi(out) == 2);
    free(out);
    CHECK_INT_EQ(nr_test_run(&out, "'%s' translate -m '%s' - < '%s' | wc -l", cli, m, nr_test_scratch("in.txt")), 0);
    CHECK(out && atoi(out) == 2);
    free(out);
    nr_test_expect(0, MUST("{\"text\":", "\"attention\":[[", "\"src\":[", "\"logprob\":"),
                   "'%s' translate -m '%s' --format json --beam 3 '가나 다라'", cli, m);
    /* bad input: exit 3 naming FILE:LINE: byte B; the lines before are printed */
    put("bad.txt", "가나\n다\xff\n");
    nr_test_expect(3, MUST("bad.txt:2: byte 3: invalid UTF-8"), "'%s' translate -m '%s' -i '%s'", cli, m,
                   nr_test_scratch("bad.txt"));
    nr_test_expect(3, MUST("bad.txt:2: byte 3: invalid UTF-8"), "'%s' translate -m '%s' --batch 4 -i '%s'", cli, m,
                   nr_test_scratch("bad.txt"));
    /* --batch: the same lines as one at a time (path_in has 4 buffers: copies of the paths) */
    put("many.txt", "가나\n다라 마바\n\n카타 파하 고노\n사아\n");
    char many[512], one[512], bat[512];
    snprintf(many, sizeof many, "%s", nr_test_scratch("many.txt"));
    snprintf(one, sizeof one, "%s", nr_test_scratch("one.out"));
    snprintf(bat, sizeof bat, "%s", nr_test_scratch("batch.out"));
    CHECK_INT_EQ(nr_test_run(NULL, "'%s' translate -m '%s' -i '%s' > '%s' && '%s' translate -m '%s' --batch 3 -i '%s' > '%s'",
                             cli, m, many, one, cli, m, many, bat), 0);
    CHECK(nr_test_same_file(one, bat));
    CHECK_INT_EQ(nr_test_run(NULL, "'%s' translate -m '%s' --sample --seed 3 --top-k 4 -i '%s' > '%s' && '%s' translate "
                             "-m '%s' --sample --seed 3 --top-k 4 --batch 2 -i '%s' > '%s'", cli, m, many, one, cli, m,
                             many, bat), 0);
    CHECK(nr_test_same_file(one, bat));
    /* decoding defaults: translate-pack stores them (its summary line and nlprnn info say so);
     * translate starts from them, its own options win */
    {
        char d2[512];
        snprintf(d2, sizeof d2, "%s", nr_test_scratch("d2.nrm"));
        nr_test_expect(0, MUST("decoding defaults: word-reward 2, min-ratio 1.5"),
                       "'%s' translate-pack -o '%s' --word-reward 2 --min-ratio 1.5 '%s'", cli, d2, m);
        nr_test_expect(0, MUST("section DECO", "word-reward = 2", "min-ratio = 1.5"), "'%s' info '%s'", cli, d2);
        CHECK_INT_EQ(nr_test_run(NULL, "'%s' translate -m '%s' -i '%s' > '%s' && '%s' translate -m '%s' --word-reward 2 "
                                 "--min-ratio 1.5 -i '%s' > '%s'", cli, d2, many, one, cli, m, many, bat), 0);
        CHECK(nr_test_same_file(one, bat));
        /* --min-from: stored by translate-pack (the first MODEL's word reward and min-ratio kept),
         * the same translations as given to translate, to translate-eval --hyp-less scoring too */
        char d3[512];
        snprintf(d3, sizeof d3, "%s", nr_test_scratch("d3.nrm"));
        nr_test_expect(0, MUST("decoding defaults: word-reward 2, min-ratio 1.5, min-from 4"),
                       "'%s' translate-pack -o '%s' --min-from 4 '%s'", cli, d3, d2);
        nr_test_expect(0, MUST("section DECO", "min-from = 4"), "'%s' info '%s'", cli, d3);
        CHECK_INT_EQ(nr_test_run(NULL, "'%s' translate -m '%s' -i '%s' > '%s' && '%s' translate -m '%s' --word-reward 2 "
                                 "--min-ratio 1.5 --min-from 4 -i '%s' > '%s'", cli, d3, many, one, cli, m, many, bat), 0);
        CHECK(nr_test_same_file(one, bat));
        CHECK_INT_EQ(nr_test_run(NULL, "'%s' translate -m '%s' --min-from 0 -i '%s' > '%s' && '%s' translate -m '%s' -i "
                                 "'%s' > '%s'", cli, d3, many, one, cli, d2, many, bat), 0);
        CHECK(nr_test_same_file(one, bat));
        nr_test_expect(2, MUST("--min-from"), "'%s' translate-pack -o '%s' --min-from -1 '%s'", cli, d3, m);
        nr_test_expect(2, MUST("--min-from"), "'%s' translate-pack -o '%s' --min-from 1025 '%s'", cli, d3, m);
        nr_test_expect(2, MUST("--min-from"), "'%s' translate -m '%s' --min-from 1.5 hi", cli, m);
        nr_test_expect(2, MUST("--min-from"), "'%s' translate-eval -m '%s' --min-from x '%s'", cli, m,
                       nr_test_scratch("pairs.tsv"));
        nr_test_expect(2, MUST("min-from"), "'%s' translate-train -o x.nrm --min-from -2 '%s'", cli,
                       nr_test_scratch("pairs.tsv"));
        CHECK_INT_EQ(nr_test_run(NULL, "'%s' translate -m '%s' --word-reward 0 --min-ratio 0 -i '%s' > '%s' && '%s' "
                                 "translate -m '%s' -i '%s' > '%s'", cli, d2, many, one, cli, m, many, bat), 0);
        CHECK(nr_test_same_file(one, bat));
        nr_test_expect(2, MUST("--word-reward"), "'%s' translate-pack -o '%s' --word-reward 6 '%s'", cli, d2, m);
        nr_test_expect(2, MUST("--min-ratio"), "'%s' translate-pack -o '%s' --min-ratio -1 '%s'", cli, d2, m);
        nr_test_expect(2, MUST("--combine"), "'%s' translate-pack -o '%s' --combine max '%s'", cli, d2, m);
        nr_test_expect(2, MUST("word-reward"), "'%s' translate-train -o x.nrm --word-reward 9 '%s'", cli,
                       nr_test_scratch("pairs.tsv"));
    }
    nr_test_expect(2, MUST("--sample"), "'%s' translate -m '%s' --sample --beam 2 hi", cli, m);
    nr_test_expect(2, MUST("--batch"), "'%s' translate -m '%s' --format json --batch 2 hi", cli, m);
    nr_test_expect(2, MUST("--temperature"), "'%s' translate -m '%s' --sample --temperature 0 hi", cli, m);
    nr_test_expect(4, MUST("nope.txt"), "'%s' translate -m '%s' -i '%s'", cli, m, nr_test_scratch("nope.txt"));
    nr_test_expect(5, MUST("flip.nrm"), "'%s' translate -m '%s' hi", cli, nr_test_scratch("flip.nrm"));
    nr_test_expect(2, MUST("--beam"), "'%s' translate -m '%s' --beam 0 hi", cli, m);
    nr_test_expect(2, MUST("--word-reward"), "'%s' translate -m '%s' --word-reward 6 hi", cli, m);
    nr_test_expect(2, MUST("--min-ratio"), "'%s' translate -m '%s' --min-ratio -1 hi", cli, m);
    nr_test_expect(2, MUST("--bogus"), "'%s' translate --bogus", cli);
    /* translate-eval: --hyp with the references themselves is BLEU 100, chrF 100 */
    put("refs.txt", "");
    CHECK_INT_EQ(nr_test_run(NULL, "cut -f1 '%s' | tail -n +2 > '%s'", nr_test_scratch("pairs.tsv"), nr_test_scratch("refs.txt")), 0);
    nr_test_expect(0, MUST("pairs\t240", "BLEU\t100.00", "chrF\t100.00"), "'%s' translate-eval --hyp '%s' '%s'", cli,
                   nr_test_scratch("refs.txt"), nr_test_scratch("pairs.tsv"));
    nr_test_expect(0, MUST("pairs\t240", "BLEU\t", "chrF\t", "sentences/s\t"), "'%s' translate-eval -m '%s' '%s'",
                   cli, m, nr_test_scratch("pairs.tsv"));
    /* the pairs gzipped (read through zlib: no gzip program needed); cut short: exit 4, said so */
    CHECK_INT_EQ(nr_test_run(NULL, "gzip -c '%s' > '%s' && head -c 200 '%s' > '%s'", nr_test_scratch("pairs.tsv"),
                             nr_test_scratch("pairs.tsv.gz"), nr_test_scratch("pairs.tsv.gz"), nr_test_scratch("cut.tsv.gz")),
                 0);
    nr_test_expect(0, MUST("pairs\t240", "BLEU\t100.00"), "'%s' translate-eval --hyp '%s' '%s'", cli,
                   nr_test_scratch("refs.txt"), nr_test_scratch("pairs.tsv.gz"));
    nr_test_expect(4, MUST("cut.tsv.gz: the gzip stream ends early"), "'%s' translate-eval -m '%s' '%s'", cli, m,
                   nr_test_scratch("cut.tsv.gz"));
    nr_test_expect(3, MUST("nocol.tsv:1", "'ko'"), "'%s' translate-eval -m '%s' '%s'", cli, m, nr_test_scratch("nocol.tsv"));
    nr_test_expect(3, MUST("utf8.tsv:3: byte 0: invalid UTF-8"), "'%s' translate-eval -m '%s' '%s'", cli, m,
                   nr_test_scratch("utf8.tsv"));
    nr_test_expect(3, MUST("utf8.tsv:3: byte 0: invalid UTF-8"), "'%s' translate-eval -m '%s' --batch 8 '%s'", cli, m,
                   nr_test_scratch("utf8.tsv"));
    /* translate-eval --batch: the same translations and scores */
    {
        char pairs[512], e1[512], e16[512], s1[512], s16[512];
        snprintf(pairs, sizeof pairs, "%s", nr_test_scratch("pairs.tsv"));
        snprintf(e1, sizeof e1, "%s", nr_test_scratch("e1.out"));
        snprintf(e16, sizeof e16, "%s", nr_test_scratch("e16.out"));
        snprintf(s1, sizeof s1, "%s", nr_test_scratch("s1.out"));
        snprintf(s16, sizeof s16, "%s", nr_test_scratch("s16.out"));
        CHECK_INT_EQ(nr_test_run(NULL, "'%s' translate-eval -m '%s' -o '%s' '%s' | head -3 > '%s' && '%s' translate-eval "
                                 "-m '%s' --batch 16 -o '%s' '%s' | head -3 > '%s'", cli, m, e1, pairs, s1, cli, m, e16,
                                 pairs, s16), 0);
        CHECK(nr_test_same_file(e1, e16));
        CHECK(nr_test_same_file(s1, s16));
        CHECK(file_has(s16, "pairs\t240"));
    }
    /* translate-train: usage, bad data */
    nr_test_expect(2, MUST("-o MODEL"), "'%s' translate-train '%s'", cli, nr_test_scratch("pairs.tsv"));
    nr_test_expect(2, MUST("hidden"), "'%s' translate-train -o x.nrm --hidden 0 '%s'", cli, nr_test_scratch("pairs.tsv"));
    nr_test_expect(2, MUST("ema", "[0, 1)"), "'%s' translate-train -o x.nrm --ema 1 '%s'", cli, nr_test_scratch("pairs.tsv"));
    nr_test_expect(2, MUST("ema", "[0, 1)"), "'%s' translate-train -o x.nrm --ema -0.5 '%s'", cli, nr_test_scratch("pairs.tsv"));
    nr_test_expect(2, MUST("ema", "[0, 1)"), "'%s' translate-train -o x.nrm --ema nan '%s'", cli, nr_test_scratch("pairs.tsv"));
    nr_test_expect(3, MUST("utf8.tsv:3"), "'%s' translate-train -q -o '%s' '%s'", cli, nr_test_scratch("x.nrm"),
                   nr_test_scratch("utf8.tsv"));
    nr_test_expect(0, MUST("BLEU"), "'%s' translate-train -q -o '%s' --src-vocab 262 --tgt-vocab 262 --embed 8 "
                   "--hidden 8 --epochs 1 '%s' && '%s' translate-eval -m '%s' '%s'", cli, nr_test_scratch("x.nrm"),
                   nr_test_scratch("pairs.tsv"), cli, nr_test_scratch("x.nrm"), nr_test_scratch("pairs.tsv"));
    cli_sigterm(cli);
}

static int file_has(const char *path, const char *what) {
    size_t n = 0;
    unsigned char *b = nr_test_slurp(path, &n);
    int has = b && (b[n] = 0, strstr((char *)b, what) != NULL);
    free(b);
    return has;
}

/* translate-train gets SIGTERM once it trains: it writes the checkpoint and exits 130. */
static void cli_sigterm(const char *cli) {
    char cmd[4096], log[512], ck[512];
    snprintf(log, sizeof log, "%s", nr_test_scratch("train.log"));
    snprintf(ck, sizeof ck, "%s", nr_test_scratch("ck-cli.nrm"));
    snprintf(cmd, sizeof cmd,
             "exec '%s' translate-train -o '%s' --checkpoint '%s' --src-vocab 262 --tgt-vocab 262 --embed 8 "
             "--hidden 8 --epochs 100000 '%s' >'%s' 2>&1",
             cli, nr_test_scratch("sig.nrm"), ck, nr_test_scratch("pairs.tsv"), log);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    if (pid <= 0) return;
    int training = 0; /* wait until an epoch is done (at most 120 s) */
    for (int i = 0; i < 1200 && !training; i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        training = file_has(log, "epoch 1:");
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            CHECK_MSG(0, "translate-train ended before the signal");
            return;
        }
    }
    CHECK_MSG(training, "translate-train did not finish an epoch within 120 s");
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 130, "translate-train after SIGTERM: %s %d",
              WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    CHECK_MSG(access(ck, F_OK) == 0, "translate-train after SIGTERM left no checkpoint");
    CHECK(access(nr_test_scratch("sig.nrm"), F_OK) != 0);
}

/* The stored bytes of section `tag` of a model file (docs/formats.md: 40-byte sections from byte
 * 40, each padded to a multiple of 8), in a malloc'd buffer; NULL when absent. */
static unsigned char *section_bytes(const char *path, const char *tag, size_t *len) {
    size_t n = 0;
    unsigned char *b = nr_test_slurp(path, &n), *out = NULL;
    size_t at = 40;
    while (b && !out && at + 40 <= n) {
        uint64_t sl = 0;
        for (int k = 7; k >= 0; k--) sl = sl << 8 | b[at + 8 + k];
        if (at + 40 + sl > n) break;
        if (!memcmp(b + at, tag, 4)) {
            out = malloc(sl ? sl : 1);
            memcpy(out, b + at + 40, sl);
            *len = sl;
        }
        at += 40 + (sl + 7) / 8 * 8;
    }
    free(b);
    return out;
}

static int same_section(const char *a, const char *b, const char *tag) {
    size_t na = 0, nb = 0;
    unsigned char *x = section_bytes(a, tag, &na), *y = section_bytes(b, tag, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x), free(y);
    return same;
}

/* split-seed: the held-out split is drawn from it (0: from the seed), so runs that differ only
 * in seed can hold out the same pairs. Seed 2 with split-seed 2 is seed 2 with the default (the
 * same training, validation loss and translations; split-seed is in CONF only when it was set);
 * the tokenizers are trained on all the pairs, so every seed and split has the same ones. */
static void test_split_seed(void) {
    nlprnn_error err;
    nlprnn_translator_params *p = small_params();
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "src-vocab", "300", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "tgt-vocab", "300", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "epochs", "1", &err), 0);
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "valid", "0.2", &err), 0);
    char buf[32];
    CHECK_INT_EQ(nlprnn_translator_params_get(p, "split-seed", buf, sizeof buf, &err), 0);
    CHECK_STR_EQ(buf, "0");
    CHECK_INT_EQ(nlprnn_translator_params_set(p, "split-seed", "-1", &err), NLPRNN_E_INVALID_ARG);
    static const char *const runs[][3] = {{"1", "0", "s1.nrm"}, {"2", "0", "s2.nrm"}, {"2", "2", "s2x2.nrm"},
                                          {"2", "1", "s2x1.nrm"}};
    char summary[4][512];
    const char *text = "마바 사아 자차";
    char out[4][128];
    for (int r = 0; r < 4; r++) {
        CHECK_INT_EQ(nlprnn_translator_params_set(p, "seed", runs[r][0], &err), 0);
        CHECK_INT_EQ(nlprnn_translator_params_set(p, "split-seed", runs[r][1], &err), 0);
        nlprnn_translator *t = NULL;
        summary[r][0] = out[r][0] = 0;
        CHECK_INT_EQ(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, NULL, NULL, &t, &err), 0);
        if (!t) continue;
        CHECK_INT_EQ(nlprnn_translator_save(t, nr_test_scratch(runs[r][2]), &err), 0);
        snprintf(summary[r], sizeof summary[r], "%s", nlprnn_translator_summary(t));
        nlprnn_translator_ctx *c = NULL;
        CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &c, &err), 0);
        if (c && nlprnn_translate(c, text, strlen(text), &err) == 0)
            snprintf(out[r], sizeof out[r], "%s", nlprnn_translate_text(c, NULL));
        nlprnn_translator_ctx_free(c);
        nlprnn_translator_free(t);
    }
    /* split-seed = seed: the default's training exactly */
    CHECK_STR_EQ(summary[2], summary[1]);
    CHECK_STR_EQ(out[2], out[1]);
    CHECK(same_section(nr_test_scratch("s2.nrm"), nr_test_scratch("s2x2.nrm"), "WGHT"));
    /* the same tokenizers for every seed and split */
    for (int r = 1; r < 4; r++)
        for (int side = 0; side < 2; side++)
            CHECK_MSG(same_section(nr_test_scratch("s1.nrm"), nr_test_scratch(runs[r][2]), side ? "TOKT" : "TOKS"),
                      "%s: section %s differs from seed 1's", runs[r][2], side ? "TOKT" : "TOKS");
    /* in CONF only when set, read back */
    char *desc = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("s2.nrm"), &desc, &err), 0);
    CHECK(desc && strstr(desc, "seed = 2") && !strstr(desc, "split-seed"));
    nlprnn_free(desc);
    desc = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("s2x1.nrm"), &desc, &err), 0);
    CHECK_MSG(desc && strstr(desc, "split-seed = 1"), "%.900s", desc ? desc : err.message);
    nlprnn_free(desc);
    nlprnn_translator *u = NULL;
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("s2x1.nrm"), &u, &err), 0);
    CHECK_STR_EQ(u ? nlprnn_translator_summary(u) : "", summary[3]);
    nlprnn_translator_free(u);
    nlprnn_translator_params_free(p);
}

int main(void) {
    nr_test_scratch_make("test_translate");
    make_pairs();
    test_train_save_load();
    test_keep();
    test_progress();
    test_batch();
    test_resume();
    test_ema();
    test_split_seed();
    test_bad_files();
    test_decoding_defaults();
    test_scores();
    test_shipped();
    test_kept_packs();
    test_shipped_stream();
    test_cli();
    nr_test_scratch_remove();
    return nr_test_done("test_translate_api");
}
