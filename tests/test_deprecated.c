/* tests/test_deprecated.c: the 0.1 names that 0.2 renamed (docs/api.md "Changes in 0.2") still
 * work for one release and give what their replacements give: the classifier's generic names
 * (nlprnn_model_*, nlprnn_context_*, nlprnn_train_params_*; nlprnn_model_data_label and
 * nlprnn_model_relabel, named so for a short while before 0.2), the _new/_options constructors, the
 * forecaster's parameter and series names, nlprnn_model_file_info; the translator's first names
 * (nlprnn_translate_params/_ctx/_opt/_progress_fn and their functions, renamed under 0.2); the
 * progress types named after no handle (nlprnn_train_progress/_fn, the classifier's, and
 * nlprnn_forecast_progress_fn). Uses the public API only and the shipped models "ko" and "ko-en"
 * (pretrained/, found by name from the build tree). */
#define NLPRNN_NO_DEPRECATION_WARNINGS /* this test calls the deprecated names on purpose */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
#include "testutil.h"

static char tmpdir[256];

static void test_classifier(void) {
    nlprnn_error e;
    nlprnn_model *old = NULL;
    nlprnn_classifier *m = NULL;
    CHECK_INT_EQ(nlprnn_model_load("ko", &old, &e), 0);
    CHECK_INT_EQ(nlprnn_classifier_load("ko", &m, &e), 0);
    if (!old || !m) {
        nlprnn_model_free(old);
        nlprnn_classifier_free(m);
        return;
    }
    CHECK_INT_EQ(nlprnn_model_num_classes(old), nlprnn_classifier_num_classes(m));
    for (int i = 0; i < nlprnn_classifier_num_classes(m); i++)
        CHECK_STR_EQ(nlprnn_model_label(old, i), nlprnn_classifier_label(m, i));
    CHECK_INT_EQ(nlprnn_model_max_tokens(old), nlprnn_classifier_max_tokens(m));
    CHECK_STR_EQ(nlprnn_model_path(old), nlprnn_classifier_path(m));
    CHECK_STR_EQ(nlprnn_model_summary(old), nlprnn_classifier_summary(m));
    CHECK(nlprnn_model_tokenizer(old) != NULL);
    for (int i = 0; i < nlprnn_classifier_num_classes(m); i++)
        CHECK_STR_EQ(nlprnn_model_data_label(old, i), nlprnn_classifier_data_label(m, i));
    /* nlprnn_model_relabel writes what nlprnn_classifier_relabel writes */
    char r1[400], r2[400];
    snprintf(r1, sizeof r1, "%s/relabel-old.nrm", tmpdir);
    snprintf(r2, sizeof r2, "%s/relabel-new.nrm", tmpdir);
    CHECK_INT_EQ(nlprnn_model_relabel("ko", "0=bad,1=good", r1, &e), 0);
    CHECK_INT_EQ(nlprnn_classifier_relabel("ko", "0=bad,1=good", r2, &e), 0);
    {
        char *b1 = NULL, *b2 = NULL;
        size_t n1 = 0, n2 = 0;
        FILE *f1 = fopen(r1, "rb"), *f2 = fopen(r2, "rb");
        CHECK(f1 && f2);
        if (f1 && f2) {
            fseek(f1, 0, SEEK_END), n1 = (size_t)ftell(f1), rewind(f1);
            fseek(f2, 0, SEEK_END), n2 = (size_t)ftell(f2), rewind(f2);
            b1 = malloc(n1 + 1), b2 = malloc(n2 + 1);
            CHECK(b1 && b2 && fread(b1, 1, n1, f1) == n1 && fread(b2, 1, n2, f2) == n2);
            CHECK_MSG(n1 == n2 && b1 && b2 && !memcmp(b1, b2, n1), "relabelled files differ");
        }
        if (f1) fclose(f1);
        if (f2) fclose(f2);
        free(b1);
        free(b2);
        remove(r1);
        remove(r2);
    }

    /* the old context constructor: NULL without a reason on a bad argument, a working context
     * otherwise; the new one says why */
    CHECK(nlprnn_context_create(m, -1) == NULL);
    nlprnn_classifier_ctx *bad = NULL;
    CHECK_INT_EQ(nlprnn_classifier_ctx_create(m, -1, &bad, &e), NLPRNN_E_INVALID_ARG);
    CHECK(bad == NULL);
    CHECK_MSG(strstr(e.message, "threads") != NULL, "%s", e.message);
    nlprnn_context *octx = nlprnn_context_create(old, 1);
    nlprnn_classifier_ctx *ctx = NULL;
    CHECK_INT_EQ(nlprnn_classifier_ctx_create(m, 1, &ctx, &e), 0);
    CHECK(octx != NULL);
    const char *text = "정말 재미있는 영화였다";
    float p_old[16] = {0}, p_new[16] = {0};
    if (octx && ctx) {
        CHECK_INT_EQ(nlprnn_classify(octx, text, strlen(text), p_old, NULL, &e), 0);
        CHECK_INT_EQ(nlprnn_classify(ctx, text, strlen(text), p_new, NULL, &e), 0);
        for (int i = 0; i < nlprnn_classifier_num_classes(m) && i < 16; i++) CHECK(p_old[i] == p_new[i]);
    }
    nlprnn_context_free(octx);
    nlprnn_classifier_ctx_free(ctx);
    nlprnn_context_free(NULL);

    /* nlprnn_model_evaluate's figures are nlprnn_classifier_evaluate's */
    char path[400];
    snprintf(path, sizeof path, "%s/eval.tsv", tmpdir);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp) {
        fprintf(fp, "document\tlabel\n정말 재미있는 영화였다\t%s\n시간 아까운 최악의 영화\t%s\n"
                    "배우들 연기가 좋았다\t%s\n",
                nlprnn_classifier_label(m, 1), nlprnn_classifier_label(m, 0),
                nlprnn_classifier_label(m, 1));
        fclose(fp);
        long long *conf = NULL, docs = -1, skipped = -1;
        double ll = NAN;
        CHECK_INT_EQ(nlprnn_model_evaluate(old, path, NULL, NULL, 1, &conf, &docs, &skipped, &ll, &e), 0);
        nlprnn_classifier_eval res = {.size = sizeof res};
        CHECK_INT_EQ(nlprnn_classifier_evaluate(m, path, NULL, NULL, 1, &res, &e), 0);
        CHECK_INT_EQ(docs, 3);
        CHECK_INT_EQ(docs, res.documents);
        CHECK_INT_EQ(skipped, res.skipped);
        CHECK_NEAR(ll, res.log_loss, 1e-12);
        int C = res.classes;
        if (conf && res.confusion)
            for (int i = 0; i < C * C; i++) CHECK_INT_EQ(conf[i], res.confusion[i]);
        nlprnn_free(conf);
        nlprnn_free(res.confusion);
        remove(path);
    }

    /* nlprnn_model_file_info still describes a file (the container only) */
    char *info = NULL;
    CHECK_INT_EQ(nlprnn_model_file_info(nlprnn_classifier_path(m), &info, &e), 0);
    CHECK(info && strstr(info, "CLSF") != NULL);
    nlprnn_free(info);
    nlprnn_model_free(old);
    nlprnn_classifier_free(m);
}

/* every deprecated parameter constructor gives the defaults of its replacement, and set/get
 * through the old names act on the same object */
static void test_params(void) {
    nlprnn_error e;
    char a[64], b[64];

    nlprnn_train_params *tp = nlprnn_train_params_new();
    nlprnn_classifier_params *cp = NULL;
    CHECK_INT_EQ(nlprnn_classifier_params_create(&cp, &e), 0);
    CHECK(tp && cp);
    if (tp && cp) {
        CHECK_INT_EQ(nlprnn_train_params_get(tp, "hidden", a, sizeof a, &e), 0);
        CHECK_INT_EQ(nlprnn_classifier_params_get(cp, "hidden", b, sizeof b, &e), 0);
        CHECK_STR_EQ(a, b);
        CHECK_INT_EQ(nlprnn_train_params_set(tp, "hidden", "17", &e), 0);
        CHECK_INT_EQ(nlprnn_classifier_params_get(tp, "hidden", a, sizeof a, &e), 0);
        CHECK_STR_EQ(a, "17");
        CHECK_INT_EQ(nlprnn_train_params_set(tp, "colour", "red", &e), NLPRNN_E_INVALID_ARG);
    }
    nlprnn_train_params_free(tp);
    nlprnn_classifier_params_free(cp);

    nlprnn_lm_params *lp = nlprnn_lm_params_new(), *lq = NULL;
    CHECK_INT_EQ(nlprnn_lm_params_create(&lq, &e), 0);
    CHECK(lp && lq);
    if (lp && lq) {
        CHECK_INT_EQ(nlprnn_lm_params_get(lp, "hidden", a, sizeof a, &e), 0);
        CHECK_INT_EQ(nlprnn_lm_params_get(lq, "hidden", b, sizeof b, &e), 0);
        CHECK_STR_EQ(a, b);
    }
    nlprnn_lm_params_free(lp);
    nlprnn_lm_params_free(lq);

    nlprnn_forecast_params *fp = nlprnn_forecast_params_new();
    nlprnn_forecaster_params *fq = NULL;
    CHECK_INT_EQ(nlprnn_forecaster_params_create(&fq, &e), 0);
    CHECK(fp && fq);
    if (fp && fq) {
        CHECK_INT_EQ(nlprnn_forecast_params_get(fp, "window", a, sizeof a, &e), 0);
        CHECK_INT_EQ(nlprnn_forecaster_params_get(fq, "window", b, sizeof b, &e), 0);
        CHECK_STR_EQ(a, b);
        CHECK_INT_EQ(nlprnn_forecast_params_set(fp, "cell", "gru", &e), 0);
        CHECK_INT_EQ(nlprnn_forecaster_params_get(fp, "cell", a, sizeof a, &e), 0);
        CHECK_STR_EQ(a, "gru");
        CHECK_INT_EQ(nlprnn_forecast_params_set(fp, "cell", "lstm2", &e), NLPRNN_E_INVALID_ARG);
    }
    nlprnn_forecast_params_free(fp);
    nlprnn_forecaster_params_free(fq);

    nlprnn_tokenizer_options *to = nlprnn_tokenizer_options_create();
    CHECK(to != NULL);
    if (to) {
        long long v = -1;
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_int(to, NLPRNN_TOKOPT_VOCAB_SIZE, 1234, &e), 0);
        CHECK_INT_EQ(nlprnn_tokenizer_options_get_int(to, NLPRNN_TOKOPT_VOCAB_SIZE, &v, &e), 0);
        CHECK_INT_EQ(v, 1234);
        CHECK_INT_EQ(nlprnn_tokenizer_params_get(to, "vocab-size", a, sizeof a, &e), 0);
        CHECK_STR_EQ(a, "1234");
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_str(to, NLPRNN_TOKOPT_MODEL, "word", &e), 0);
        CHECK_INT_EQ(nlprnn_tokenizer_options_get_int(to, NLPRNN_TOKOPT_MODEL, &v, &e), 0);
        CHECK_INT_EQ(v, NLPRNN_TOKMODEL_WORD);
        /* the enum functions' own messages, and the by-name checks they share */
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_int(to, NLPRNN_TOKOPT_MODEL, 2, &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "tokenizer parameter model-type: 2 is out of range [0, 1]");
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_int(to, NLPRNN_TOKOPT_THREADS, 257, &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "tokenizer parameter threads: 257 is out of range [1, 256]");
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_int(to, NLPRNN_TOKOPT_PATTERN, 1, &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "tokenizer option pattern takes a string (use set_str)");
        CHECK_INT_EQ(nlprnn_tokenizer_options_get_int(to, NLPRNN_TOKOPT_PATTERN, &v, &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "tokenizer option pattern is a string (no integer value)");
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_int(to, (nlprnn_tokopt)99, 1, &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "unknown tokenizer option 99");
        CHECK_INT_EQ(nlprnn_tokenizer_options_get_int(to, (nlprnn_tokopt)0, &v, &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "unknown tokenizer option 0");
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_str(to, (nlprnn_tokopt)99, "5", &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "unknown tokenizer option 99");
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_int(NULL, NLPRNN_TOKOPT_SEED, 1, &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "options is NULL");
        CHECK_INT_EQ(nlprnn_tokenizer_options_get_int(to, NLPRNN_TOKOPT_SEED, NULL, &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "options_get_int: NULL argument");
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_str(to, NLPRNN_TOKOPT_VOCAB_SIZE, "4", &e), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(e.message, "tokenizer parameter vocab-size: 4 is out of range [5, 1000000]");
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_str(to, NLPRNN_TOKOPT_PATTERN, "(", &e), NLPRNN_E_REGEX);
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_str(to, NLPRNN_TOKOPT_NORMALIZATION, "nfc", &e), 0);
        CHECK_INT_EQ(nlprnn_tokenizer_options_get_int(to, NLPRNN_TOKOPT_NORMALIZATION, &v, &e), 0);
        CHECK_INT_EQ(v, NLPRNN_NORM_NFC);
        CHECK_INT_EQ(nlprnn_tokenizer_options_set_int(to, NLPRNN_TOKOPT_CONTROL_CHARS, 2, &e), 0);
        CHECK_INT_EQ(nlprnn_tokenizer_params_get(to, "control-chars", a, sizeof a, &e), 0);
        CHECK_STR_EQ(a, "keep");
        CHECK_INT_EQ(nlprnn_tokenizer_options_get_int(to, NLPRNN_TOKOPT_SAMPLE_LINES, &v, &e), 0);
        CHECK_INT_EQ(v, 0);
    }
    nlprnn_tokenizer_options_free(to);
}

/* the series constructors whose out-handle came first */
static void test_series(void) {
    nlprnn_error e;
    const double v[6] = {1, 10, 2, 20, 3, 30};
    const char *names[2] = {"a", "b"};
    nlprnn_series *s_old = NULL, *s_new = NULL;
    CHECK_INT_EQ(nlprnn_series_from_values(&s_old, v, 3, 2, names, &e), 0);
    CHECK_INT_EQ(nlprnn_series_create(v, 3, 2, names, &s_new, &e), 0);
    CHECK(s_old && s_new);
    if (s_old && s_new) {
        CHECK_INT_EQ(nlprnn_series_length(s_old), 3);
        CHECK_INT_EQ(nlprnn_series_features(s_old), 2);
        CHECK(!memcmp(nlprnn_series_values(s_old), nlprnn_series_values(s_new), sizeof v));
        CHECK_STR_EQ(nlprnn_series_column(s_old, 1), "b");
    }
    nlprnn_series_free(s_old);
    nlprnn_series_free(s_new);

    char path[400];
    snprintf(path, sizeof path, "%s/s.csv", tmpdir);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs("t,a,b\n0,1,10\n1,2,20\n2,3,30\n", fp);
    fclose(fp);
    const char *cols[2] = {"a", "b"};
    s_old = s_new = NULL;
    CHECK_INT_EQ(nlprnn_series_read_csv(&s_old, path, cols, 2, &e), 0);
    CHECK_INT_EQ(nlprnn_series_load_csv(path, cols, 2, &s_new, &e), 0);
    if (s_old && s_new) {
        CHECK_INT_EQ(nlprnn_series_length(s_old), 3);
        CHECK(!memcmp(nlprnn_series_values(s_old), v, sizeof v));
        CHECK(!memcmp(nlprnn_series_values(s_new), v, sizeof v));
    }
    nlprnn_series_free(s_old);
    nlprnn_series_free(s_new);
    /* a reading error comes back through the old name too, naming the file */
    s_old = NULL;
    snprintf(path, sizeof path, "%s/missing.csv", tmpdir);
    CHECK_INT_EQ(nlprnn_series_read_csv(&s_old, path, cols, 2, &e), NLPRNN_E_IO);
    CHECK(s_old == NULL);
    CHECK_MSG(strstr(e.message, "missing.csv") != NULL, "%s", e.message);
    remove(path);
}

/* the translator's first names (nlprnn_translate_params/_ctx/_opt/_progress_fn and their functions):
 * the same parameters, the same table, the same translations and errors as the new names */
static int progress_calls;
static int count_progress(void *user, int epoch, double train_loss, double valid_loss) {
    (void)user, (void)epoch, (void)train_loss, (void)valid_loss;
    progress_calls++;
    return 0;
}

static void test_translator(void) {
    nlprnn_error e;
    /* parameters: set through the old names, read through both */
    nlprnn_translate_params *po = NULL;
    nlprnn_translator_params *pn = NULL;
    CHECK_INT_EQ(nlprnn_translate_params_create(&po, &e), 0);
    CHECK_INT_EQ(nlprnn_translator_params_create(&pn, &e), 0);
    if (!po || !pn) {
        nlprnn_translate_params_free(po);
        nlprnn_translator_params_free(pn);
        return;
    }
    char a[64], b[64];
    CHECK_INT_EQ(nlprnn_translate_params_set(po, "hidden", "24", &e), 0);
    CHECK_INT_EQ(nlprnn_translate_params_get(po, "hidden", a, sizeof a, &e), 0);
    CHECK_STR_EQ(a, "24");
    CHECK_INT_EQ(nlprnn_translator_params_get(po, "hidden", b, sizeof b, &e), 0);
    CHECK_STR_EQ(b, "24");
    CHECK_INT_EQ(nlprnn_translator_params_get(pn, "hidden", b, sizeof b, &e), 0);
    CHECK_INT_EQ(nlprnn_translate_params_get(pn, "embed", a, sizeof a, &e), 0);
    CHECK_INT_EQ(nlprnn_translator_params_get(pn, "embed", b, sizeof b, &e), 0);
    CHECK_STR_EQ(a, b);
    CHECK_INT_EQ(nlprnn_translate_params_set(po, "no-such-parameter", "1", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "no-such-parameter") != NULL, "%s", e.message);
    CHECK_INT_EQ(nlprnn_translate_params_get(po, "no-such-parameter", a, sizeof a, &e), NLPRNN_E_INVALID_ARG);
    /* the one parameter table, row by row, through both names */
    int rows = 0;
    for (int i = 0;; i++) {
        const char *n1 = NULL, *d1 = NULL, *h1 = NULL, *n2 = NULL, *d2 = NULL, *h2 = NULL;
        char r1[128], r2[128];
        int s1 = nlprnn_translate_param_info(i, &n1, &d1, &h1, r1, sizeof r1, &e);
        int s2 = nlprnn_translator_param_info(i, &n2, &d2, &h2, r2, sizeof r2, NULL);
        CHECK_INT_EQ(s1, s2);
        if (s1 != NLPRNN_OK || s2 != NLPRNN_OK) break;
        CHECK_STR_EQ(n1, n2);
        CHECK_STR_EQ(d1, d2);
        CHECK_STR_EQ(h1, h2);
        CHECK_STR_EQ(r1, r2);
        rows++;
    }
    CHECK_INT_EQ(e.code, NLPRNN_E_INVALID_ARG); /* past the last row */
    CHECK(rows > 30);

    /* training with the old parameter and progress types: the new names' model */
    char pairs[400], m1[400], m2[400];
    snprintf(pairs, sizeof pairs, "%s/pairs.tsv", tmpdir);
    FILE *fp = fopen(pairs, "w");
    CHECK(fp != NULL);
    if (fp) {
        static const char *const src[] = {"가나", "다라", "마바", "사아"}, *const tgt[] = {"cat", "dog", "sun", "red"};
        fputs("ko\ten\n", fp);
        for (int i = 0; i < 64; i++)
            fprintf(fp, "%s %s\t%s %s\n", src[i % 4], src[(i / 4) % 4], tgt[i % 4], tgt[(i / 4) % 4]);
        fclose(fp);
    }
    const char *kv[][2] = {{"src-vocab", "262"}, {"tgt-vocab", "262"}, {"embed", "8"}, {"hidden", "8"},
                           {"epochs", "2"},      {"batch", "16"},      {"valid", "0.1"}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) {
        CHECK_INT_EQ(nlprnn_translate_params_set(po, kv[i][0], kv[i][1], &e), 0);
        CHECK_INT_EQ(nlprnn_translator_params_set(pn, kv[i][0], kv[i][1], &e), 0);
    }
    nlprnn_translate_progress_fn old_fn = count_progress;
    nlprnn_translator *t1 = NULL, *t2 = NULL;
    progress_calls = 0;
    CHECK_INT_EQ(nlprnn_translator_train(pairs, po, NULL, old_fn, NULL, &t1, &e), 0);
    CHECK_INT_EQ(progress_calls, 2);
    CHECK_INT_EQ(nlprnn_translator_train(pairs, pn, NULL, NULL, NULL, &t2, &e), 0);
    if (t1 && t2) {
        snprintf(m1, sizeof m1, "%s/t1.nrm", tmpdir);
        snprintf(m2, sizeof m2, "%s/t2.nrm", tmpdir);
        CHECK_INT_EQ(nlprnn_translator_save(t1, m1, &e), 0);
        CHECK_INT_EQ(nlprnn_translator_save(t2, m2, &e), 0);
        CHECK_STR_EQ(nlprnn_translator_summary(t1), nlprnn_translator_summary(t2));
        remove(m1);
        remove(m2);
    }
    nlprnn_translator_free(t1);
    nlprnn_translator_free(t2);
    remove(pairs);
    nlprnn_translate_params_free(po);
    nlprnn_translator_params_free(pn);
    nlprnn_translate_params_free(NULL);

    /* contexts on the shipped ko-en: the old names translate as the new ones */
    nlprnn_translator *t = NULL;
    CHECK_INT_EQ(nlprnn_translator_load("ko-en", &t, &e), 0);
    if (!t) return;
    nlprnn_translate_ctx *co = NULL;
    nlprnn_translator_ctx *cn = NULL;
    CHECK_INT_EQ(nlprnn_translate_ctx_create(t, &co, &e), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &cn, &e), 0);
    if (co && cn) {
        nlprnn_translate_opt beam = NLPRNN_TRANSLATE_BEAM;
        CHECK_INT_EQ(nlprnn_translate_ctx_set(co, beam, 3, &e), 0);
        CHECK_INT_EQ(nlprnn_translator_ctx_set(cn, NLPRNN_TRANSLATE_BEAM, 3, &e), 0);
        const char *text = "이 책은 너무 어려워요.";
        CHECK_INT_EQ(nlprnn_translate(co, text, strlen(text), &e), 0);
        CHECK_INT_EQ(nlprnn_translate(cn, text, strlen(text), &e), 0);
        CHECK(nlprnn_translate_text(co, NULL) && nlprnn_translate_text(co, NULL)[0]);
        CHECK_STR_EQ(nlprnn_translate_text(co, NULL), nlprnn_translate_text(cn, NULL));
        CHECK(nlprnn_translate_logprob(co) == nlprnn_translate_logprob(cn));
        /* a beam width out of range is refused through the old name, naming the option */
        CHECK_INT_EQ(nlprnn_translate_ctx_set(co, NLPRNN_TRANSLATE_BEAM, 65, &e), NLPRNN_E_INVALID_ARG);
        CHECK_MSG(strstr(e.message, "beam") != NULL, "%s", e.message);
        /* the decoding defaults take the old option type too */
        double v1 = NAN, v2 = NAN;
        nlprnn_translate_opt wr = NLPRNN_TRANSLATE_WORD_REWARD;
        CHECK_INT_EQ(nlprnn_translator_get_default(t, wr, &v1, &e), 0);
        CHECK_INT_EQ(nlprnn_translator_get_default(t, NLPRNN_TRANSLATE_WORD_REWARD, &v2, &e), 0);
        CHECK(v1 == v2);
    }
    nlprnn_translate_ctx_free(co);
    nlprnn_translator_ctx_free(cn);
    nlprnn_translate_ctx_free(NULL);
    nlprnn_translator_free(t);
}

/* The progress types of 0.1, named after no handle: the very types of their replacements (not
 * merely compatible ones), so a callback written with the old names is the new one. */
_Static_assert(_Generic((nlprnn_train_progress *)0, nlprnn_classifier_progress *: 1, default: 0),
               "nlprnn_train_progress is nlprnn_classifier_progress");
_Static_assert(_Generic((nlprnn_train_progress_fn)0, nlprnn_classifier_progress_fn: 1, default: 0),
               "nlprnn_train_progress_fn is nlprnn_classifier_progress_fn");
_Static_assert(_Generic((nlprnn_forecast_progress_fn)0, nlprnn_forecaster_progress_fn: 1, default: 0),
               "nlprnn_forecast_progress_fn is nlprnn_forecaster_progress_fn");

/* What a classifier's progress callback saw: the calls per phase, the epochs at the ends of
 * epochs, a record of the wrong size, and the call at which it asks to stop (0: never). */
typedef struct {
    int calls, phase[3], epoch_end[8], bad_size, stop_at;
} clf_seen;

/* written with the old names only */
static int old_clf_progress(void *user, const nlprnn_train_progress *p) {
    clf_seen *s = user;
    s->calls++;
    if (p->size != sizeof(nlprnn_train_progress)) s->bad_size++;
    if (p->phase >= 0 && p->phase <= 2) s->phase[p->phase]++;
    if (p->phase == 2 && s->phase[2] <= 8) s->epoch_end[s->phase[2] - 1] = p->epoch;
    return s->stop_at && s->calls == s->stop_at;
}

static void test_classifier_progress(void) {
    nlprnn_error e;
    char train[400], out[400], ckpt[420];
    snprintf(train, sizeof train, "%s/clf.tsv", tmpdir);
    snprintf(out, sizeof out, "%s/clf.nrm", tmpdir);
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", out);
    FILE *fp = fopen(train, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    static const char *const good[] = {"좋은 영화", "정말 재미있다", "배우 연기 최고"},
                             *const bad[] = {"지루한 영화", "시간 아깝다", "연기 최악"};
    fputs("document\tlabel\n", fp);
    for (int i = 0; i < 48; i++) fprintf(fp, "%s\t%d\n", i % 2 ? good[i % 3] : bad[i % 3], i % 2);
    fclose(fp);
    nlprnn_classifier_params *p = NULL;
    CHECK_INT_EQ(nlprnn_classifier_params_create(&p, &e), 0);
    if (!p) return;
    const char *kv[][2] = {{"vocab", "270"}, {"embed", "8"}, {"hidden", "8"},   {"epochs", "2"},
                           {"batch", "16"},  {"valid", "0"}, {"threads", "1"}, {"seed", "5"}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        CHECK_INT_EQ(nlprnn_classifier_params_set(p, kv[i][0], kv[i][1], &e), 0);

    /* the old callback type, called as the new one: every phase, each epoch's end once */
    nlprnn_train_progress_fn old_fn = old_clf_progress;
    clf_seen seen = {0};
    int rc = nlprnn_classifier_train(p, train, NULL, out, 0, NULL, old_fn, &seen, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    CHECK(seen.phase[0] >= 1);
    CHECK(seen.phase[1] >= 2); /* 48 rows in batches of 16: 3 a epoch */
    CHECK_INT_EQ(seen.phase[2], 2);
    CHECK_INT_EQ(seen.epoch_end[0], 1);
    CHECK_INT_EQ(seen.epoch_end[1], 2);
    CHECK_INT_EQ(seen.bad_size, 0);
    const int calls = seen.calls;
    nlprnn_classifier *m = NULL;
    CHECK_INT_EQ(nlprnn_classifier_load(out, &m, &e), 0);
    nlprnn_classifier_free(m);
    remove(out);
    remove(ckpt);

    /* the same training through nlprnn_classifier_train_ctl with the new type gets the same calls */
    nlprnn_classifier_progress_fn new_fn = old_fn;
    clf_seen seen2 = {0};
    CHECK_INT_EQ(nlprnn_classifier_train_ctl(p, train, NULL, out, NULL, new_fn, &seen2, &e), 0);
    CHECK_INT_EQ(seen2.calls, calls);
    CHECK(!memcmp(seen2.phase, seen.phase, sizeof seen.phase));
    remove(out);
    remove(ckpt);

    /* a non-zero return from the old-typed callback stops training */
    clf_seen stop = {.stop_at = seen.phase[0] + 1}; /* the first training step */
    CHECK_INT_EQ(nlprnn_classifier_train(p, train, NULL, out, 0, NULL, old_fn, &stop, &e),
                 NLPRNN_E_INTERRUPTED);
    CHECK_INT_EQ(stop.calls, stop.stop_at);
    CHECK_INT_EQ(stop.phase[2], 0);
    remove(out);
    remove(ckpt);
    remove(train);
    nlprnn_classifier_params_free(p);
}

/* What a forecaster's progress callback saw: its epochs and losses; stop at an epoch (0: never). */
typedef struct {
    int calls, epochs[8], stop_at;
    double train[8], valid[8];
} fc_seen;

/* written with the old names only */
static int old_fc_progress(void *user, int epoch, double train_loss, double valid_loss) {
    fc_seen *s = user;
    if (s->calls < 8) {
        s->epochs[s->calls] = epoch;
        s->train[s->calls] = train_loss;
        s->valid[s->calls] = valid_loss;
    }
    s->calls++;
    return s->stop_at && epoch == s->stop_at;
}

static void test_forecaster_progress(void) {
    nlprnn_error e;
    nlprnn_series *s = NULL;
    CHECK_INT_EQ(nlprnn_series_create_sine(200, 20, 0.05, 11, &s, &e), 0);
    nlprnn_forecaster_params *p = NULL;
    CHECK_INT_EQ(nlprnn_forecaster_params_create(&p, &e), 0);
    if (!s || !p) {
        nlprnn_series_free(s);
        nlprnn_forecaster_params_free(p);
        return;
    }
    const char *kv[][2] = {{"hidden", "4"},  {"window", "8"}, {"epochs", "3"},
                           {"batch", "16"},  {"threads", "1"}, {"seed", "2"}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        CHECK_INT_EQ(nlprnn_forecaster_params_set(p, kv[i][0], kv[i][1], &e), 0);

    /* the old callback type: once per epoch, in order, with the losses the forecaster keeps */
    nlprnn_forecast_progress_fn old_fn = old_fc_progress;
    fc_seen seen = {0};
    nlprnn_forecaster *f = NULL;
    CHECK_INT_EQ(nlprnn_forecaster_train(s, p, old_fn, &seen, &f, &e), 0);
    CHECK_INT_EQ(seen.calls, 3);
    int n = 0;
    const double *tr = NULL, *va = NULL;
    if (f) nlprnn_forecaster_history(f, &n, &tr, &va);
    CHECK_INT_EQ(n, 3);
    for (int i = 0; i < 3 && i < n && tr && va; i++) {
        CHECK_INT_EQ(seen.epochs[i], i + 1);
        CHECK(isfinite(seen.train[i]) && isfinite(seen.valid[i]));
        CHECK(seen.train[i] == tr[i]);
        CHECK(seen.valid[i] == va[i]);
    }
    nlprnn_forecaster_free(f);

    /* the same training through _train_ctl with the new type: the same calls, the same losses */
    nlprnn_forecaster_progress_fn new_fn = old_fn;
    fc_seen seen2 = {0};
    f = NULL;
    CHECK_INT_EQ(nlprnn_forecaster_train_ctl(s, p, NULL, new_fn, &seen2, &f, &e), 0);
    CHECK_INT_EQ(seen2.calls, 3);
    CHECK(!memcmp(seen2.epochs, seen.epochs, sizeof seen.epochs));
    for (int i = 0; i < 3; i++) CHECK(seen2.train[i] == seen.train[i]);
    nlprnn_forecaster_free(f);

    /* a non-zero return from the old-typed callback stops after that epoch, with no model */
    fc_seen stop = {.stop_at = 2};
    f = NULL;
    CHECK_INT_EQ(nlprnn_forecaster_train(s, p, old_fn, &stop, &f, &e), NLPRNN_E_INTERRUPTED);
    CHECK(f == NULL);
    CHECK_INT_EQ(stop.calls, 2);
    nlprnn_forecaster_free(f);
    nlprnn_series_free(s);
    nlprnn_forecaster_params_free(p);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nlprnn-test-deprecated-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_classifier();
    test_params();
    test_series();
    test_translator();
    test_classifier_progress();
    test_forecaster_progress();
    char s[400];
    snprintf(s, sizeof s, "%s/s.csv", tmpdir);
    remove(s);
    rmdir(tmpdir);
    return nr_test_done("test_deprecated");
}
