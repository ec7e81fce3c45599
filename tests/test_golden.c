/* tests/test_golden.c: recorded outputs that a refactoring must not change.
 *
 * Two records, each a text file of "key<TAB>value" lines under tests/data/golden/:
 *
 *   shipped.txt   what every shipped model (pretrained/ko.nrm, en.nrm, ko-lm.nrm, ko-space.nrm, ko-en.nrm, en-ko.nrm) gives through
 *                 the public API: class probabilities of fixed texts (single and batch calls),
 *                 language-model scores of fixed sentences in both directions, next words, fill
 *                 (open and with candidates, calibrated and not), generated text with fixed
 *                 seeds, respaced texts, translations (greedy, beam 5, a batch, sampled with a seed)
 *                 with their log-probabilities, the summary lines and `nlprnn info`'s description
 *                 of each file.
 *   trained.txt   what small models trained here give: a forecaster on a synthetic series, a
 *                 classifier on tests/data/clf_train.tsv and a language model on a generated
 *                 corpus (deterministic: fixed seeds, one thread).
 *
 * Every floating-point value is written as a C99 hex float (exact) followed by %.9g for readers.
 *
 * Comparison. The first line of each record names the kernel path that produced it: our GEMM
 * kernels' path and the float16 matrix-vector kernel (models/kernels/kernels.h: NLPRNN_KERNEL, or
 * the best this CPU runs), OPENBLAS_CORETYPE (which the environment pins) and the BLAS's thread
 * count as the library runs it (always 1 with OpenBLAS: the library sets it, common/pool.h;
 * OpenBLAS splits a product over its threads differently).
 * When the running kernel path is the recorded one, every line must be byte-identical. On another
 * kernel path (another CPU, OpenBLAS choosing its own kernels or threads), sums are rounded in
 * another order: the shipped models' numbers then only have to agree to a relative 1e-4
 * (absolute 1e-6 near 0) and every word must still be the same; trained.txt is then not compared
 * at all (training amplifies rounding differences, so its outcome is no tolerance question). The
 * test says which mode it used. A new kernel that the library may pick by itself (by CPU
 * feature) must add its name to kernel_line() below, so that this test knows which path ran.
 *
 * Re-recording: NLPRNN_GOLDEN_RECORD=1 ctest --test-dir build -R test_golden (or run the test
 * binary from tests/ with that variable) rewrites both files. Do it only for a change that is
 * meant to change these numbers -- a new kernel that rounds differently, a deliberate change of
 * training arithmetic -- and say in the commit message which lines changed and why. shipped.txt
 * in particular is the promise that every shipped model answers as before: a refactoring, a file
 * move, a new trainer must leave it untouched. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/pool.h"
#include "format/modelfile.h"
#include "models/gemv_f16.h"
#include "models/kernels/kernels.h"
#include "nlprnn.h"
#include "testutil.h"

/* ---- the record being built ------------------------------------------------------------------ */

typedef struct text {
    char *s;
    size_t n, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (t->s && t->n + (size_t)k < t->cap) {
            t->n += (size_t)k;
            return;
        }
        size_t nc = (t->cap + (size_t)k + 1) * 2;
        char *ns = realloc(t->s, nc);
        if (!ns) abort();
        t->s = ns;
        t->cap = nc;
    }
}

/* key<TAB>hexfloat (decimal) */
static void put_num(text *t, const char *key, double v) { put(t, "%s\t%a (%.9g)\n", key, v, v); }

/* A string value on one line: tabs, newlines and backslashes escaped. */
static void put_str(text *t, const char *key, const char *s) {
    put(t, "%s\t", key);
    for (; s && *s; s++) {
        if (*s == '\n') put(t, "\\n");
        else if (*s == '\t') put(t, "\\t");
        else if (*s == '\\') put(t, "\\\\");
        else put(t, "%c", *s);
    }
    put(t, "\n");
}

static void put_fail(text *t, const char *key, int rc, const nlprnn_error *e) {
    put(t, "%s\terror %s: %s\n", key, nlprnn_status_name(rc), e->message);
}

static const char *kernel_line(void) {
    static char buf[200];
    const char *core = getenv("OPENBLAS_CORETYPE");
    /* the BLAS's threads as the library runs it (it sets OpenBLAS to 1 itself: common/pool.h);
     * "(auto)" for a CBLAS whose threads the library cannot read */
    char nt[16] = "(auto)";
    nr_blas_own();
    if (nr_blas_threads() > 0) snprintf(nt, sizeof nt, "%d", nr_blas_threads());
    snprintf(buf, sizeof buf,
             "kernels\tgemm=%s f16=%s openblas_coretype=%s openblas_num_threads=%s",
             nr_kpath_name(nr_kpath()), nr_f16_kernel_name(nr_f16_kernel_best()),
             core && *core ? core : "(auto)", nt);
    return buf;
}

/* ---- shipped models ---------------------------------------------------------------------------- */

static const char *const KO_TEXTS[] = {
    "이 영화 정말 재미있어요. 배우들 연기가 최고!",
    "시간 낭비였다. 스토리도 엉망이고 지루하다.",
    "그냥 그랬어요",
    "ㅋㅋㅋㅋ 대박",
    "Great movie, 강추합니다",
    "연출은 좋았지만 결말이 아쉽다",
};
static const char *const EN_TEXTS[] = {
    "An absolute masterpiece, moving and beautifully shot.",
    "Dull, predictable and far too long. I want my money back.",
    "It was fine.",
    "Not bad at all, though the ending drags.",
    "영화 good",
    "The worst film I have seen this year, and I loved every minute of it.",
};

static void classifier_record(text *t, const char *name, const char *const *texts, size_t n) {
    nlprnn_error e;
    nlprnn_classifier *m = NULL;
    int rc = nlprnn_classifier_load(name, &m, &e);
    CHECK_MSG(rc == 0, "load shipped classifier '%s': %s", name, e.message);
    if (rc) {
        put_fail(t, name, rc, &e);
        return;
    }
    char key[128];
    snprintf(key, sizeof key, "clf.%s.summary", name);
    put_str(t, key, nlprnn_classifier_summary(m));
    int C = nlprnn_classifier_num_classes(m);
    snprintf(key, sizeof key, "clf.%s.classes", name);
    put(t, "%s\t%d max_tokens=%d\n", key, C, nlprnn_classifier_max_tokens(m));
    for (int c = 0; c < C; c++) {
        snprintf(key, sizeof key, "clf.%s.label.%d", name, c);
        put_str(t, key, nlprnn_classifier_label(m, c));
    }
    nlprnn_classifier_ctx *ctx = NULL;
    nlprnn_classifier_ctx_create(m, 1, &ctx, NULL);
    CHECK(ctx != NULL);
    float probs[64];
    for (size_t i = 0; ctx && i < n; i++) {
        size_t ntok = 0;
        rc = nlprnn_classify(ctx, texts[i], strlen(texts[i]), probs, &ntok, &e);
        snprintf(key, sizeof key, "clf.%s.text.%zu", name, i);
        if (rc) {
            put_fail(t, key, rc, &e);
            continue;
        }
        put(t, "%s.tokens\t%zu\n", key, ntok);
        for (int c = 0; c < C && c < 64; c++) {
            char k2[160];
            snprintf(k2, sizeof k2, "%s.p%d", key, c);
            put_num(t, k2, probs[c]);
        }
    }
    /* the batched path (length buckets, another code path) gives the same numbers */
    float *bp = calloc(n * (size_t)C, sizeof(float));
    int *st = calloc(n, sizeof(int));
    if (ctx && bp && st) {
        rc = nlprnn_classify_batch(ctx, (const char *const *)texts, NULL, n, bp, st, &e);
        CHECK_MSG(rc == 0, "classify_batch: %s", e.message);
        for (size_t i = 0; !rc && i < n; i++)
            for (int c = 0; c < C; c++) {
                snprintf(key, sizeof key, "clf.%s.batch.%zu.p%d", name, i, c);
                put_num(t, key, bp[i * (size_t)C + (size_t)c]);
            }
    }
    free(bp);
    free(st);
    nlprnn_classifier_ctx_free(ctx);
    nlprnn_classifier_free(m);
}

static void choices_record(text *t, const char *key, int rc, const nlprnn_error *e,
                           nlprnn_lm_choice *c, size_t n) {
    if (rc) {
        put_fail(t, key, rc, e);
        return;
    }
    put(t, "%s.n\t%zu\n", key, n);
    for (size_t i = 0; i < n; i++) {
        char k2[200];
        snprintf(k2, sizeof k2, "%s.%zu.text", key, i);
        put_str(t, k2, c[i].text);
        snprintf(k2, sizeof k2, "%s.%zu.prob", key, i);
        put_num(t, k2, c[i].prob);
        snprintf(k2, sizeof k2, "%s.%zu.score", key, i);
        put_num(t, k2, c[i].score);
    }
    nlprnn_lm_choices_free(c, n);
}

/* Scores, next words and generated text of a language model (shipped or trained here). */
static void lm_queries(text *t, const char *pre, nlprnn_lm *lm, const char *const *sentences,
                       size_t ns, const char *const *prefixes, size_t np, const char *const *fills,
                       size_t nf, const char *const *cands, size_t nc) {
    nlprnn_error e;
    char key[160];
    snprintf(key, sizeof key, "%s.summary", pre);
    put_str(t, key, nlprnn_lm_summary(lm));
    nlprnn_lm_ctx *ctx = NULL;
    nlprnn_lm_ctx_create(lm, &ctx, NULL);
    CHECK(ctx != NULL);
    if (!ctx) return;
    for (size_t i = 0; i < ns; i++)
        for (int d = 0; d < 2; d++) {
            if (d == NLPRNN_LM_BACKWARD && !nlprnn_lm_has_backward(lm)) continue;
            double lp = 0;
            size_t npred = 0;
            int rc = nlprnn_lm_score(ctx, sentences[i], strlen(sentences[i]), d, &lp, &npred, &e);
            snprintf(key, sizeof key, "%s.score.%zu.%s", pre, i, d ? "bwd" : "fwd");
            if (rc) put_fail(t, key, rc, &e);
            else {
                put_num(t, key, lp);
                put(t, "%s.pieces\t%zu\n", key, npred);
            }
        }
    for (size_t i = 0; i < np; i++) {
        nlprnn_lm_choice *c = NULL;
        size_t n = 0;
        int rc = nlprnn_lm_next(ctx, prefixes[i], strlen(prefixes[i]), 5, &c, &n, &e);
        snprintf(key, sizeof key, "%s.next.%zu", pre, i);
        choices_record(t, key, rc, &e, c, n);
    }
    for (size_t i = 0; i < nf; i++) {
        static const double alphas[2] = {NLPRNN_LM_FILL_ALPHA, 0.0};
        for (int a = 0; a < 2; a++) {
            nlprnn_lm_choice *c = NULL;
            size_t n = 0;
            int rc = nlprnn_lm_fill_calibrated(ctx, fills[i], strlen(fills[i]), NULL, 0, 5, alphas[a],
                                               &c, &n, &e);
            snprintf(key, sizeof key, "%s.fill.%zu.open.a%d", pre, i, a);
            choices_record(t, key, rc, &e, c, n);
            if (!nc) continue;
            rc = nlprnn_lm_fill_calibrated(ctx, fills[i], strlen(fills[i]), cands, nc, (int)nc,
                                           alphas[a], &c, &n, &e);
            snprintf(key, sizeof key, "%s.fill.%zu.cands.a%d", pre, i, a);
            choices_record(t, key, rc, &e, c, n);
        }
    }
    for (uint64_t seed = 1; seed <= 2; seed++) {
        const char *prompt = np ? prefixes[0] : "";
        char *out = NULL;
        int rc = nlprnn_lm_generate(ctx, prompt, strlen(prompt), 20, 0.8, 40, 0.95, seed, &out, &e);
        snprintf(key, sizeof key, "%s.generate.seed%llu", pre, (unsigned long long)seed);
        if (rc) put_fail(t, key, rc, &e);
        else put_str(t, key, out);
        nlprnn_free(out);
    }
    nlprnn_lm_ctx_free(ctx);
}

static void info_record(text *t, const char *file) {
    nlprnn_error e;
    char path[4096], key[128];
    snprintf(key, sizeof key, "info.%s", file);
    int rc = nlprnn_model_find(file, path, sizeof path, &e);
    char *info = NULL;
    if (!rc) rc = nr_mf_describe_file(path, &info, &e); /* the records of 0.1: container only (nr_mf_describe) */
    CHECK_MSG(rc == 0, "info %s: %s", file, e.message);
    if (rc) {
        put_fail(t, key, rc, &e);
        return;
    }
    /* one record line per line of the description */
    int line = 0;
    for (char *s = info; *s;) {
        char *nl = strchr(s, '\n');
        if (nl) *nl = 0;
        char k2[160];
        snprintf(k2, sizeof k2, "%s.%03d", key, line++);
        /* the file's absolute path depends on where the repository is checked out: keep its
         * last component ("file:     ko.nrm") */
        const char *slash = strrchr(s, '/');
        if (!strncmp(s, "file:", 5) && slash) {
            char fl[600];
            snprintf(fl, sizeof fl, "%.*s%s", (int)strspn(s + 5, " ") + 5, s, slash + 1);
            put_str(t, k2, fl);
        } else {
            put_str(t, k2, s);
        }
        if (!nl) break;
        s = nl + 1;
    }
    nlprnn_free(info);
}

/* The spacing model: the respaced texts and every character's probability of a space after it. */
static void spacing_record(text *t) {
    static const char *const texts[] = {"아버지가방에들어가신다", "오늘은날씨가정말좋습니다",
                                        "그는 학교에가지않았다", ""};
    nlprnn_error e;
    nlprnn_tagger *tg = NULL;
    nlprnn_tagger_ctx *ctx = NULL;
    int rc = nlprnn_tagger_load("ko-space", &tg, &e);
    if (!rc) rc = nlprnn_tagger_ctx_create(tg, 1, &ctx, &e);
    CHECK_MSG(rc == 0, "load shipped spacing model 'ko-space': %s", e.message);
    if (rc) put_fail(t, "space.ko", rc, &e);
    for (unsigned flags = 0; !rc && flags <= NLPRNN_SPACE_KEEP; flags++) {
        size_t lens[4];
        int st[4];
        for (int i = 0; i < 4; i++) lens[i] = strlen(texts[i]);
        rc = nlprnn_space_batch(ctx, texts, lens, 4, flags, st, &e);
        if (rc) put_fail(t, "space.ko.batch", rc, &e);
        for (size_t i = 0; !rc && i < 4; i++) {
            char key[96];
            snprintf(key, sizeof key, "space.ko.%s.%zu", flags ? "keep" : "plain", i);
            put_str(t, key, nlprnn_space_text(ctx, i, NULL));
            for (size_t j = 0; j < nlprnn_space_units(ctx, i); j++) {
                float p = 0;
                nlprnn_space_unit(ctx, i, j, NULL, &p, NULL, NULL);
                char k2[128];
                snprintf(k2, sizeof k2, "%s.p%zu", key, j);
                put_num(t, k2, p);
            }
        }
    }
    if (tg) put_str(t, "space.ko.summary", nlprnn_tagger_summary(tg));
    nlprnn_tagger_ctx_free(ctx);
    nlprnn_tagger_free(tg);
}

/* A shipped translator (ko-en, en-ko): greedy, beam 5 and a batch of fixed sentences, one sampled
 * with a seed; the texts and the log-probabilities. */
enum { TR_TEXTS = 5 };
static const char *const KO_EN_TEXTS[TR_TEXTS] = {"고마워요.", "이 책은 누구의 것입니까?", "톰은 어디에 있어요?",
                                                  "나는 어제 친구와 함께 영화를 봤다.", ""};
static const char *const EN_KO_TEXTS[TR_TEXTS] = {"Thank you.", "Whose book is this?", "Where is Tom?",
                                                  "I watched a movie with my friend yesterday.", ""};

static void translation_record(text *t, const char *name, const char *const *texts) {
    enum { N = TR_TEXTS };
    nlprnn_error e;
    nlprnn_translator *tr = NULL;
    nlprnn_translator_ctx *ctx = NULL;
    int rc = nlprnn_translator_load(name, &tr, &e);
    if (!rc) rc = nlprnn_translator_ctx_create(tr, &ctx, &e);
    CHECK_MSG(rc == 0, "load shipped translator '%s': %s", name, e.message);
    char key[96];
    snprintf(key, sizeof key, "translate.%s", name);
    if (rc) put_fail(t, key, rc, &e);
    for (int beam = 1; !rc && beam <= 5; beam += 4) {
        rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_BEAM, beam, &e);
        for (size_t i = 0; !rc && i < N; i++) {
            snprintf(key, sizeof key, "translate.%s.beam%d.%zu", name, beam, i);
            rc = nlprnn_translate(ctx, texts[i], strlen(texts[i]), &e);
            if (rc) {
                put_fail(t, key, rc, &e);
                break;
            }
            put_str(t, key, nlprnn_translate_text(ctx, NULL));
            snprintf(key, sizeof key, "translate.%s.beam%d.%zu.logprob", name, beam, i);
            put_num(t, key, nlprnn_translate_logprob(ctx));
        }
    }
    size_t lens[N];
    for (size_t i = 0; i < N; i++) lens[i] = strlen(texts[i]);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_BEAM, 1, &e);
    if (!rc) {
        rc = nlprnn_translate_batch(ctx, texts, lens, N, &e);
        snprintf(key, sizeof key, "translate.%s.batch", name);
        if (rc) put_fail(t, key, rc, &e);
        for (size_t i = 0; !rc && i < N; i++) {
            snprintf(key, sizeof key, "translate.%s.batch.%zu", name, i);
            put_str(t, key, nlprnn_translate_batch_text(ctx, i, NULL));
        }
    }
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_SAMPLE, 1, &e);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_TOP_K, 10, &e);
    if (!rc) rc = nlprnn_translator_ctx_set(ctx, NLPRNN_TRANSLATE_SEED, 7, &e);
    if (!rc) rc = nlprnn_translate(ctx, texts[1], lens[1], &e);
    snprintf(key, sizeof key, rc ? "translate.%s.sample" : "translate.%s.sample.seed7", name);
    if (rc) put_fail(t, key, rc, &e);
    else put_str(t, key, nlprnn_translate_text(ctx, NULL));
    snprintf(key, sizeof key, "translate.%s.summary", name);
    if (tr) put_str(t, key, nlprnn_translator_summary(tr));
    nlprnn_translator_ctx_free(ctx);
    nlprnn_translator_free(tr);
}

static void shipped_record(text *t) {
    classifier_record(t, "ko", KO_TEXTS, sizeof KO_TEXTS / sizeof *KO_TEXTS);
    classifier_record(t, "en", EN_TEXTS, sizeof EN_TEXTS / sizeof *EN_TEXTS);

    nlprnn_error e;
    nlprnn_lm *lm = NULL;
    int rc = nlprnn_lm_load("ko", &lm, &e);
    CHECK_MSG(rc == 0, "load shipped language model 'ko': %s", e.message);
    if (rc) put_fail(t, "lm.ko", rc, &e);
    else {
        static const char *const sentences[] = {"오늘은 날씨가 좋아서 공원에 산책을 갔다.",
                                                "그 영화는 생각보다 재미있었다.", ""};
        static const char *const prefixes[] = {"나는 어제 친구와 함께", "이 영화는"};
        static const char *const fills[] = {"난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다.",
                                            "___ 날씨가 정말 좋다."};
        static const char *const cands[] = {"영화", "집", "곳", "힘", "극장", "영화관"};
        lm_queries(t, "lm.ko", lm, sentences, 3, prefixes, 2, fills, 2, cands, 6);
        int V = 0, E = 0, H = 0, L = 0;
        const char *cell = NULL;
        nlprnn_lm_dims(lm, &V, &E, &H, &L, &cell);
        put(t, "lm.ko.dims\tV=%d E=%d H=%d L=%d cell=%s\n", V, E, H, L, cell ? cell : "?");
        nlprnn_lm_free(lm);
    }
    info_record(t, "ko");
    info_record(t, "en");
    info_record(t, "ko-lm");
    spacing_record(t);
    info_record(t, "ko-space");
    translation_record(t, "ko-en", KO_EN_TEXTS);
    info_record(t, "ko-en");
    translation_record(t, "en-ko", EN_KO_TEXTS);
    info_record(t, "en-ko");
}

/* ---- models trained here ----------------------------------------------------------------------- */

static char g_dir[256];

static void forecaster_record(text *t) {
    /* a noisy two-period sine with a trend, 400 rows, noise from a fixed LCG */
    enum { N = 400 };
    double *v = malloc(N * sizeof *v);
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double noise = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.2;
        v[i] = 10 + 0.01 * i + sin(i * 0.21) + 0.5 * sin(i * 0.05) + noise;
    }
    nlprnn_error e;
    nlprnn_series *ser = NULL;
    const char *names[1] = {"value"};
    int rc = nlprnn_series_create(v, N, 1, names, &ser, &e);
    CHECK_MSG(rc == 0, "series: %s", e.message);
    free(v);
    if (rc) return;
    static const char *const cfg[][2] = {{"cell", "gru"}, {"hidden", "8"},   {"window", "12"},
                                         {"epochs", "4"}, {"batch", "16"},   {"lr", "0.01"},
                                         {"seed", "7"},   {"patience", "0"}, {"clip", "1"}};
    for (int relative = 0; relative < 2; relative++) {
        nlprnn_forecaster_params *p = NULL;
        nlprnn_forecaster_params_create(&p, NULL);
        for (size_t i = 0; i < sizeof cfg / sizeof *cfg; i++)
            CHECK_INT_EQ(nlprnn_forecaster_params_set(p, cfg[i][0], cfg[i][1], &e), 0);
        CHECK_INT_EQ(nlprnn_forecaster_params_set(p, "relative", relative ? "1" : "0", &e), 0);
        nlprnn_forecaster *f = NULL;
        rc = nlprnn_forecaster_train(ser, p, NULL, NULL, &f, &e);
        nlprnn_forecaster_params_free(p);
        char key[128];
        snprintf(key, sizeof key, "fc%d", relative);
        CHECK_MSG(rc == 0, "forecaster training: %s", e.message);
        if (rc) {
            put_fail(t, key, rc, &e);
            continue;
        }
        int ep = 0;
        const double *tr = NULL, *va = NULL;
        nlprnn_forecaster_history(f, &ep, &tr, &va);
        char k2[160], buf[256];
        for (int i = 0; i < ep; i++) {
            snprintf(k2, sizeof k2, "%s.history.%d.train", key, i);
            put_num(t, k2, tr[i]);
            snprintf(k2, sizeof k2, "%s.history.%d.valid", key, i);
            put_num(t, k2, va[i]);
        }
        static const char *const gets[] = {"best_epoch", "scaler_a", "scaler_b", "columns"};
        for (size_t i = 0; i < 4; i++) {
            snprintf(k2, sizeof k2, "%s.%s", key, gets[i]);
            if (nlprnn_forecaster_get(f, gets[i], buf, sizeof buf, &e) == 0) put_str(t, k2, buf);
            else put_fail(t, k2, e.code, &e);
        }
        double m[NLPRNN_FORECAST_METHODS * NLPRNN_METRICS];
        for (int part = NLPRNN_PART_TRAIN; part <= NLPRNN_PART_TEST; part++) {
            rc = nr_test_forecaster_eval(f, ser, part, m, NULL, NULL, NULL, NULL, &e);
            CHECK_MSG(rc == 0, "eval: %s", e.message);
            for (int i = 0; !rc && i < NLPRNN_FORECAST_METHODS * NLPRNN_METRICS; i++) {
                snprintf(k2, sizeof k2, "%s.eval.part%d.m%d", key, part, i);
                put_num(t, k2, m[i]);
            }
        }
        /* predictions from the series' last 12 rows, fed back; the same after save + load */
        const double *x = nlprnn_series_values(ser);
        double out[6], out2[6];
        rc = nlprnn_forecaster_predict(f, x + N - 12, 12, 6, out, &e);
        CHECK_MSG(rc == 0, "predict: %s", e.message);
        for (int i = 0; !rc && i < 6; i++) {
            snprintf(k2, sizeof k2, "%s.predict.%d", key, i);
            put_num(t, k2, out[i]);
        }
        char path[400];
        snprintf(path, sizeof path, "%s/fc%d.nrm", g_dir, relative);
        nlprnn_forecaster *g = NULL;
        rc = nlprnn_forecaster_save(f, path, &e);
        if (!rc) rc = nlprnn_forecaster_load(path, &g, &e);
        if (!rc) rc = nlprnn_forecaster_predict(g, x + N - 12, 12, 6, out2, &e);
        CHECK_MSG(rc == 0, "save/load/predict: %s", e.message);
        if (!rc) CHECK(memcmp(out, out2, sizeof out) == 0);
        nlprnn_forecaster_free(g);
        nlprnn_forecaster_free(f);
    }
    nlprnn_series_free(ser);
}

static void classifier_trained_record(text *t) {
    nlprnn_error e;
    char model[400];
    snprintf(model, sizeof model, "%s/clf.nrm", g_dir);
    nlprnn_classifier_params *p = NULL;
    nlprnn_classifier_params_create(&p, NULL);
    static const char *const cfg[][2] = {
        {"vocab", "300"}, {"embed", "16"},  {"hidden", "16"},  {"epochs", "3"},   {"batch", "16"},
        {"threads", "1"}, {"seed", "5"},    {"valid", "0.1"},  {"storage", "f32"}, {"patience", "0"},
        {"cell", "gru"},  {"pool", "mean"}, {"lr", "0.01"},    {"dropout", "0.1"}};
    for (size_t i = 0; i < sizeof cfg / sizeof *cfg; i++)
        CHECK_INT_EQ(nlprnn_classifier_params_set(p, cfg[i][0], cfg[i][1], &e), 0);
    int rc = nlprnn_classifier_train(p, nr_test_data_path("clf_train.tsv"), NULL, model, 0, NULL, NULL,
                                     NULL, &e);
    nlprnn_classifier_params_free(p);
    CHECK_MSG(rc == 0, "classifier training: %s", e.message);
    if (rc) {
        put_fail(t, "clf.trained", rc, &e);
        return;
    }
    static const char *const texts[] = {"최고 재미 감동 the best", "쓰레기 최악 지루 boring",
                                        "스토리 영화 오늘 한번"};
    nlprnn_classifier *m = NULL;
    rc = nlprnn_classifier_load(model, &m, &e);
    CHECK_MSG(rc == 0, "load: %s", e.message);
    if (rc) return;
    put_str(t, "clf.trained.summary", nlprnn_classifier_summary(m));
    nlprnn_classifier_ctx *ctx = NULL;
    nlprnn_classifier_ctx_create(m, 1, &ctx, NULL);
    float probs[8];
    for (size_t i = 0; ctx && i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "clf.trained.text.%zu", i);
        rc = nlprnn_classify(ctx, texts[i], strlen(texts[i]), probs, NULL, &e);
        if (rc) put_fail(t, key, rc, &e);
        else
            for (int c = 0; c < nlprnn_classifier_num_classes(m) && c < 8; c++) {
                char k2[96];
                snprintf(k2, sizeof k2, "%s.p%d", key, c);
                put_num(t, k2, probs[c]);
            }
    }
    nlprnn_classifier_eval ev = {.size = sizeof ev};
    rc = nlprnn_classifier_evaluate(m, nr_test_data_path("clf_test.tsv"), NULL, NULL, 1, &ev, &e);
    CHECK_MSG(rc == 0, "evaluate: %s", e.message);
    long long *conf = ev.confusion;
    if (!rc) {
        put(t, "clf.trained.eval.docs\t%lld skipped=%lld\n", ev.documents, ev.skipped);
        put(t, "clf.trained.eval.confusion\t%lld %lld %lld %lld\n", conf[0], conf[1], conf[2], conf[3]);
        put_num(t, "clf.trained.eval.log_loss", ev.log_loss);
    }
    nlprnn_free(conf);
    nlprnn_classifier_ctx_free(ctx);
    nlprnn_classifier_free(m);
}

static const char *const DAYS[7] = {"월", "화", "수", "목", "금", "토", "일"};

static void lm_trained_record(text *t) {
    nlprnn_error e;
    char corpus[400], tokp[400], model[400];
    snprintf(corpus, sizeof corpus, "%s/lm.txt", g_dir);
    snprintf(tokp, sizeof tokp, "%s/lm.tok", g_dir);
    snprintf(model, sizeof model, "%s/lm.nrm", g_dir);
    FILE *fp = fopen(corpus, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    nr_rng r;
    nr_rng_seed(&r, 11);
    for (int i = 0; i < 300; i++) {
        int s0 = (int)nr_rng_below(&r, 7), len = 3 + (int)nr_rng_below(&r, 5);
        for (int j = 0; j < len; j++) fprintf(fp, "%s%s", j ? " " : "", DAYS[(s0 + j) % 7]);
        fputc('\n', fp);
    }
    fclose(fp);
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    nlprnn_tokenizer *tok = NULL;
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "model-type", "word", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "vocab-size", "64", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "byte-fallback", "0", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "min-count", "1", &e), 0);
    const char *paths[1] = {corpus};
    int rc = nlprnn_tokenizer_train_files(o, paths, 1, &tok, &e);
    nlprnn_tokenizer_params_free(o);
    if (!rc) rc = nlprnn_tokenizer_save(tok, tokp, &e);
    nlprnn_tokenizer_free(tok);
    CHECK_MSG(rc == 0, "tokenizer: %s", e.message);
    if (rc) return;
    static const char *const cfgs[2][9][2] = {
        {{"cell", "lstm"}, {"softmax", "full"}, {"embed", "16"}, {"hidden", "16"}, {"epochs", "3"},
         {"batch", "8"}, {"lr", "0.01"}, {"seed", "4"}, {"storage", "f32"}},
        {{"cell", "gru"}, {"softmax", "sampled"}, {"embed", "16"}, {"hidden", "16"}, {"epochs", "2"},
         {"batch", "8"}, {"samples", "8"}, {"seed", "4"}, {"dropout", "0.1"}}};
    for (int k = 0; k < 2; k++) {
        nlprnn_lm_params *p = NULL;
        nlprnn_lm_params_create(&p, NULL);
        CHECK_INT_EQ(nlprnn_lm_params_set(p, "tokenizer", tokp, &e), 0);
        for (int i = 0; i < 9; i++) CHECK_INT_EQ(nlprnn_lm_params_set(p, cfgs[k][i][0], cfgs[k][i][1], &e), 0);
        if (k == 1) CHECK_INT_EQ(nlprnn_lm_params_set(p, "layers", "2", &e), 0);
        /* one worker whatever the cores (the default, 0, is the cores: W changes the sums and,
         * with dropout, the masks) */
        CHECK_INT_EQ(nlprnn_lm_params_set(p, "threads", "1", &e), 0);
        rc = nlprnn_lm_train(p, corpus, NULL, model, NULL, NULL, NULL, &e);
        nlprnn_lm_params_free(p);
        char pre[32];
        snprintf(pre, sizeof pre, "lm.trained%d", k);
        CHECK_MSG(rc == 0, "lm training: %s", e.message);
        if (rc) {
            put_fail(t, pre, rc, &e);
            continue;
        }
        nlprnn_lm *lm = NULL;
        rc = nlprnn_lm_load(model, &lm, &e);
        CHECK_MSG(rc == 0, "lm load: %s", e.message);
        if (rc) continue;
        static const char *const sentences[] = {"월 화 수 목", "금 토 일 월 화", "수 월"};
        static const char *const prefixes[] = {"월 화", "토"};
        static const char *const fills[] = {"월 화 ___ 목 금"};
        static const char *const cands[] = {"수", "목", "일"};
        lm_queries(t, pre, lm, sentences, 3, prefixes, 2, fills, 1, cands, 3);
        nlprnn_lm_free(lm);
    }
}

/* ---- compare or record ------------------------------------------------------------------------- */

static char *read_all(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    text t = {0};
    char buf[65536];
    size_t k;
    put(&t, "%s", "");
    while ((k = fread(buf, 1, sizeof buf, fp)) > 0) put(&t, "%.*s", (int)k, buf);
    fclose(fp);
    return t.s;
}

/* Numbers in the same place agree within tolerance and everything else is identical. */
static int same_within(const char *a, const char *b) {
    while (*a && *b) {
        if (a[0] == '0' && a[1] == 'x' && b[0] == '0' && b[1] == 'x') { /* hex float */
            char *ea, *eb;
            double x = strtod(a, &ea), y = strtod(b, &eb);
            if (!(x == y || fabs(x - y) <= 1e-6 || fabs(x - y) <= 1e-4 * fmax(fabs(x), fabs(y))))
                return 0;
            a = ea, b = eb;
            if (*a == ' ' && a[1] == '(') a = strchr(a, ')') ? strchr(a, ')') + 1 : a;
            if (*b == ' ' && b[1] == '(') b = strchr(b, ')') ? strchr(b, ')') + 1 : b;
            continue;
        }
        if (*a != *b) return 0;
        a++, b++;
    }
    return *a == *b;
}

/* tolerant: on another kernel path, compare numbers within tolerance (else: skip the record, for
 * training amplifies rounding differences and its outcome is not a tolerance question). */
static void compare(const char *name, const char *path, const char *got, int tolerant) {
    char *want = read_all(path);
    CHECK_MSG(want != NULL, "%s: cannot read %s (record it with NLPRNN_GOLDEN_RECORD=1)", name, path);
    if (!want) return;
    const char *kl = kernel_line();
    size_t kn = strlen(kl);
    int exact = !strncmp(want, kl, kn) && want[kn] == '\n';
    if (!exact && !tolerant) {
        printf("%s: recorded on another kernel path (%.*s); not compared\n", name,
               (int)strcspn(want, "\n"), want);
        free(want);
        return;
    }
    if (!exact) printf("%s: recorded on another kernel path; numbers compared to 1e-4 relative\n", name);
    /* line by line, both sides in the same order */
    const char *a = want, *b = got;
    int line = 1, shown = 0, bad = 0;
    while (*a || *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        char *sa = strndup(a, la), *sb = strndup(b, lb);
        int ok = line == 1 || (exact ? !strcmp(sa, sb) : same_within(sa, sb));
        if (!ok) {
            bad++;
            if (shown++ < 20)
                fprintf(stderr, "%s:%d: recorded: %s\n%*s  now:      %s\n", path, line, sa,
                        (int)strlen(path) + (line > 9 ? 3 : 2) + (line > 99 ? 1 : 0), "", sb);
        }
        free(sa);
        free(sb);
        a = ea ? ea + 1 : a + la;
        b = eb ? eb + 1 : b + lb;
        line++;
    }
    CHECK_MSG(bad == 0,
              "%s: %d line%s differ from %s. If that change is intended (a kernel that rounds "
              "differently, a deliberate change of training arithmetic), re-record with "
              "NLPRNN_GOLDEN_RECORD=1 and say why in the commit message",
              name, bad, bad == 1 ? "" : "s", path);
    free(want);
}

static void finish(const char *name, const char *rel, text *t, int tolerant) {
    char path[4096];
    snprintf(path, sizeof path, "%s", nr_test_data_path(rel));
    const char *rec = getenv("NLPRNN_GOLDEN_RECORD");
    if (rec && !strcmp(rec, "1")) {
        FILE *fp = fopen(path, "wb");
        CHECK_MSG(fp != NULL, "cannot write %s", path);
        if (fp) {
            CHECK(fwrite(t->s, 1, t->n, fp) == t->n);
            CHECK(fclose(fp) == 0);
            printf("%s: recorded %s (%zu bytes)\n", name, path, t->n);
        }
    } else {
        compare(name, path, t->s, tolerant);
    }
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_golden_%d", (int)getpid());
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", g_dir);
    if (system(cmd) != 0) return 1;

    text shipped = {0};
    put(&shipped, "%s\n", kernel_line());
    shipped_record(&shipped);
    finish("shipped models", "golden/shipped.txt", &shipped, 1);

    text trained = {0};
    put(&trained, "%s\n", kernel_line());
    forecaster_record(&trained);
    classifier_trained_record(&trained);
    lm_trained_record(&trained);
    finish("models trained here", "golden/trained.txt", &trained, 0);

    free(shipped.s);
    free(trained.s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return nr_test_done("test_golden");
}
