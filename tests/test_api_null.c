/* tests/test_api_null.c: every public function called with NULL arguments (issue 13, defect 23).
 *
 * The rule (include/nlprnn/base.h, "NULL arguments"): free functions accept NULL; a fallible
 * function given NULL for a pointer it needs returns NLPRNN_E_INVALID_ARG with a message (and
 * its output handle, when it has one, is NULL); a create function returns NULL; a getter given a
 * NULL object returns its documented neutral value (0, NULL, -1 for ids, NaN for an option); a
 * void function given a NULL object does nothing and sets its outputs to those neutral values.
 * Optional pointers ("may be NULL" in the headers) are passed as NULL too and must work.
 *
 * Each call runs with a handler for SIGSEGV/SIGBUS/SIGFPE that names the call before the test
 * dies, so a crash says which function it was. The test also reads the public headers and fails
 * when a function declared there is not called in this file, so a new function cannot be added
 * without its NULL checks.
 *
 * Uses the public header only (plus testutil), like an application. The objects the calls need
 * are made here: a tokenizer trained on a few texts, the shipped "en" classifier and "ko"
 * language model (pretrained/, found by name), a small series and forecaster, a layer. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
#include "testutil.h"

static const char *volatile g_call = "(setup)";

static void on_crash(int sig) {
    static const char msg[] = "test_api_null: crashed (signal) in: ";
    ssize_t w = write(2, msg, sizeof msg - 1);
    const char *c = (const char *)g_call;
    w = write(2, c, strlen(c));
    w = write(2, "\n", 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* A fallible call that must answer NLPRNN_E_INVALID_ARG with a message, with an error record
 * and again without one (NULL is allowed for err everywhere). */
#define INVALID(call_with_err, call_without_err)                                                 \
    do {                                                                                         \
        nlprnn_error e_;                                                                         \
        nlprnn_error_clear(&e_);                                                                 \
        g_call = #call_with_err;                                                                 \
        int rc_ = (call_with_err);                                                               \
        CHECK_MSG(rc_ == NLPRNN_E_INVALID_ARG && e_.code == rc_ && e_.message[0],                \
                  "%s: %s \"%s\"", #call_with_err, nlprnn_status_name(rc_), e_.message);         \
        g_call = #call_without_err;                                                              \
        rc_ = (call_without_err);                                                                \
        CHECK_MSG(rc_ == NLPRNN_E_INVALID_ARG, "%s: %s", #call_without_err,                      \
                  nlprnn_status_name(rc_));                                                      \
    } while (0)
#define E (&e_)

/* A call that must succeed (optional NULL pointers). */
#define OK(call)                                                                                 \
    do {                                                                                         \
        nlprnn_error e_;                                                                         \
        nlprnn_error_clear(&e_);                                                                 \
        g_call = #call;                                                                          \
        int rc_ = (call);                                                                        \
        CHECK_MSG(rc_ == NLPRNN_OK, "%s: %s \"%s\"", #call, nlprnn_status_name(rc_), e_.message); \
    } while (0)

/* A value-returning call (getter, create) with its expected neutral value. */
#define SAME(call, want)                                                                         \
    do {                                                                                         \
        g_call = #call;                                                                          \
        CHECK((call) == (want));                                                                 \
    } while (0)
#define VOID(call)                                                                               \
    do {                                                                                         \
        g_call = #call;                                                                          \
        call;                                                                                    \
    } while (0)

static char g_dir[256];

static const char *tmp(const char *name) {
    static char buf[8][512];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 512, "%s/%s", g_dir, name);
    return b;
}

static void write_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(text, fp);
    fclose(fp);
}

/* ---- base ------------------------------------------------------------------------------------ */

static void test_base(void) {
    SAME(nlprnn_version_string() != NULL, 1);
    SAME(nlprnn_version_number(), NLPRNN_VERSION_NUMBER);
    SAME(nlprnn_status_name(12345) != NULL, 1);
    SAME(nlprnn_status_text(12345) != NULL, 1);
    VOID(nlprnn_error_clear(NULL));
    VOID(nlprnn_free(NULL));
}

/* ---- tokenizer --------------------------------------------------------------------------------- */

static nlprnn_tokenizer *make_tokenizer(void) {
    static const char *texts[] = {"the cat sat", "the dog sat", "a cat ran", "the cat ran"};
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer *tok = NULL;
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_tokenizer_params_create(&o, &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "model-type", "word", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "min-count", "1", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_train_texts(o, texts, NULL, 4, &tok, &e), 0);
    nlprnn_tokenizer_params_free(o);
    return tok;
}

static void test_tokenizer(nlprnn_tokenizer *tok) {
    nlprnn_tokenizer *out = (nlprnn_tokenizer *)&out; /* must become NULL */
    INVALID(nlprnn_tokenizer_load(NULL, &out, E), nlprnn_tokenizer_load(NULL, &out, NULL));
    CHECK(out == NULL);
    INVALID(nlprnn_tokenizer_load(tmp("x.tok"), NULL, E), nlprnn_tokenizer_load("x", NULL, NULL));
    INVALID(nlprnn_tokenizer_load_memory(NULL, 10, &out, E),
            nlprnn_tokenizer_load_memory(NULL, 10, &out, NULL));
    INVALID(nlprnn_tokenizer_load_memory("abc", 3, NULL, E),
            nlprnn_tokenizer_load_memory("abc", 3, NULL, NULL));
    INVALID(nlprnn_tokenizer_save(NULL, tmp("t.tok"), E), nlprnn_tokenizer_save(NULL, "t", NULL));
    INVALID(nlprnn_tokenizer_save(tok, NULL, E), nlprnn_tokenizer_save(tok, NULL, NULL));
    void *buf = NULL;
    size_t n = 0;
    INVALID(nlprnn_tokenizer_save_memory(NULL, &buf, &n, E),
            nlprnn_tokenizer_save_memory(NULL, &buf, &n, NULL));
    INVALID(nlprnn_tokenizer_save_memory(tok, NULL, &n, E),
            nlprnn_tokenizer_save_memory(tok, NULL, &n, NULL));
    INVALID(nlprnn_tokenizer_save_memory(tok, &buf, NULL, E),
            nlprnn_tokenizer_save_memory(tok, &buf, NULL, NULL));
    VOID(nlprnn_tokenizer_free(NULL));

    SAME(nlprnn_tokenizer_vocab_size(NULL), 0);
    SAME(nlprnn_tokenizer_piece(NULL, 5), NULL);
    SAME(nlprnn_tokenizer_piece_id(NULL, "cat"), -1);
    SAME(nlprnn_tokenizer_piece_id(tok, NULL), -1);
    SAME(nlprnn_tokenizer_piece_is_word_start(NULL, 5), 0);
    SAME(nlprnn_tokenizer_piece_is_special(NULL, 0), 0);
    SAME(nlprnn_tokenizer_piece_is_byte(NULL, 10), 0);
    SAME(nlprnn_tokenizer_model_name(NULL), NULL);
    SAME(nlprnn_tokenizer_describe(NULL), NULL);

    char *s = NULL;
    size_t sl = 0;
    INVALID(nlprnn_tokenizer_normalize(NULL, "a", 1, &s, &sl, E),
            nlprnn_tokenizer_normalize(NULL, "a", 1, &s, &sl, NULL));
    INVALID(nlprnn_tokenizer_normalize(tok, NULL, 1, &s, &sl, E),
            nlprnn_tokenizer_normalize(tok, NULL, 1, &s, &sl, NULL));
    INVALID(nlprnn_tokenizer_normalize(tok, "a", 1, NULL, &sl, E),
            nlprnn_tokenizer_normalize(tok, "a", 1, NULL, &sl, NULL));
    OK(nlprnn_tokenizer_normalize(tok, "a", 1, &s, NULL, E)); /* out_len is optional */
    nlprnn_free(s);

    nlprnn_encoding *enc = (nlprnn_encoding *)&enc;
    INVALID(nlprnn_encoding_create(NULL, E), nlprnn_encoding_create(NULL, NULL));
    OK(nlprnn_encoding_create(&enc, E));
    /* an encoding before its first encode: 0 ids, and the arrays are not NULL (callers memcpy 0
     * ids from them; a NULL source is undefined behaviour for memcpy even then) */
    SAME(nlprnn_encoding_size(enc), 0);
    CHECK(nlprnn_encoding_ids(enc) != NULL);
    CHECK(nlprnn_encoding_offsets(enc) != NULL);
    CHECK(enc != NULL);
    VOID(nlprnn_encoding_free(NULL));
    INVALID(nlprnn_tokenizer_encode(NULL, "a", 1, enc, E), nlprnn_tokenizer_encode(NULL, "a", 1, enc, NULL));
    INVALID(nlprnn_tokenizer_encode(tok, NULL, 1, enc, E), nlprnn_tokenizer_encode(tok, NULL, 1, enc, NULL));
    INVALID(nlprnn_tokenizer_encode(tok, "a", 1, NULL, E), nlprnn_tokenizer_encode(tok, "a", 1, NULL, NULL));
    INVALID(nlprnn_tokenizer_encode_flags(NULL, "a", 1, 0, enc, E),
            nlprnn_tokenizer_encode_flags(NULL, "a", 1, 0, enc, NULL));
    INVALID(nlprnn_tokenizer_encode_flags(tok, NULL, 1, 0, enc, E),
            nlprnn_tokenizer_encode_flags(tok, NULL, 1, 0, enc, NULL));
    INVALID(nlprnn_tokenizer_encode_flags(tok, "a", 1, 0, NULL, E),
            nlprnn_tokenizer_encode_flags(tok, "a", 1, 0, NULL, NULL));
    size_t pos = 0;
    for (int k = 0; k < 2; k++) { /* dropout 0 (the plain path) and 0.5 */
        double p = k ? 0.5 : 0.0;
        INVALID(nlprnn_tokenizer_encode_sample(NULL, "a", 1, 0, p, 1, enc, E),
                nlprnn_tokenizer_encode_sample(NULL, "a", 1, 0, p, 1, enc, NULL));
        INVALID(nlprnn_tokenizer_encode_sample(tok, NULL, 1, 0, p, 1, enc, E),
                nlprnn_tokenizer_encode_sample(tok, NULL, 1, 0, p, 1, enc, NULL));
        INVALID(nlprnn_tokenizer_encode_sample(tok, "a", 1, 0, p, 1, NULL, E),
                nlprnn_tokenizer_encode_sample(tok, "a", 1, 0, p, 1, NULL, NULL));
    }
    INVALID(nlprnn_tokenizer_encode_part(NULL, "a", 1, &pos, 0, enc, E),
            nlprnn_tokenizer_encode_part(NULL, "a", 1, &pos, 0, enc, NULL));
    INVALID(nlprnn_tokenizer_encode_part(tok, NULL, 1, &pos, 0, enc, E),
            nlprnn_tokenizer_encode_part(tok, NULL, 1, &pos, 0, enc, NULL));
    INVALID(nlprnn_tokenizer_encode_part(tok, "a", 1, NULL, 0, enc, E),
            nlprnn_tokenizer_encode_part(tok, "a", 1, NULL, 0, enc, NULL));
    INVALID(nlprnn_tokenizer_encode_part(tok, "a", 1, &pos, 0, NULL, E),
            nlprnn_tokenizer_encode_part(tok, "a", 1, &pos, 0, NULL, NULL));
    SAME(nlprnn_encoding_size(NULL), 0);
    SAME(nlprnn_encoding_ids(NULL), NULL);
    SAME(nlprnn_encoding_offsets(NULL), NULL);

    int32_t ids[2] = {5, 6};
    char dbuf[64];
    size_t need = 0;
    INVALID(nlprnn_tokenizer_decode(NULL, ids, 2, dbuf, sizeof dbuf, &need, E),
            nlprnn_tokenizer_decode(NULL, ids, 2, dbuf, sizeof dbuf, &need, NULL));
    INVALID(nlprnn_tokenizer_decode(tok, NULL, 2, dbuf, sizeof dbuf, &need, E),
            nlprnn_tokenizer_decode(tok, NULL, 2, dbuf, sizeof dbuf, &need, NULL));
    INVALID(nlprnn_tokenizer_decode(tok, ids, 2, NULL, 10, &need, E), /* NULL buf needs cap 0 */
            nlprnn_tokenizer_decode(tok, ids, 2, NULL, 10, &need, NULL));
    OK(nlprnn_tokenizer_decode(tok, ids, 2, dbuf, sizeof dbuf, NULL, E)); /* needed is optional */
    OK(nlprnn_tokenizer_decode(tok, NULL, 0, dbuf, sizeof dbuf, &need, E)); /* no ids */
    {
        nlprnn_error e_;
        g_call = "nlprnn_tokenizer_decode(tok, ids, 2, NULL, 0, &need, E)";
        int rc = nlprnn_tokenizer_decode(tok, ids, 2, NULL, 0, &need, &e_);
        CHECK_MSG(rc == NLPRNN_E_LIMIT && need > 0, "decode into NULL/0: %s, need %zu",
                  nlprnn_status_name(rc), need); /* the documented way to ask for the size */
    }
    INVALID(nlprnn_tokenizer_decode_alloc(NULL, ids, 2, &s, &sl, E),
            nlprnn_tokenizer_decode_alloc(NULL, ids, 2, &s, &sl, NULL));
    INVALID(nlprnn_tokenizer_decode_alloc(tok, NULL, 2, &s, &sl, E),
            nlprnn_tokenizer_decode_alloc(tok, NULL, 2, &s, &sl, NULL));
    INVALID(nlprnn_tokenizer_decode_alloc(tok, ids, 2, NULL, &sl, E),
            nlprnn_tokenizer_decode_alloc(tok, ids, 2, NULL, &sl, NULL));
    OK(nlprnn_tokenizer_decode_alloc(tok, ids, 2, &s, NULL, E)); /* out_len is optional */
    nlprnn_free(s);
    nlprnn_encoding_free(enc);

    nlprnn_tokenizer_params *o = (nlprnn_tokenizer_params *)&o;
    INVALID(nlprnn_tokenizer_params_create(NULL, E), nlprnn_tokenizer_params_create(NULL, NULL));
    OK(nlprnn_tokenizer_params_create(&o, E));
    CHECK(o != NULL);
    VOID(nlprnn_tokenizer_params_free(NULL));
    char vbuf[64];
    INVALID(nlprnn_tokenizer_params_set(NULL, "seed", "1", E), nlprnn_tokenizer_params_set(NULL, "seed", "1", NULL));
    INVALID(nlprnn_tokenizer_params_set(o, NULL, "1", E), nlprnn_tokenizer_params_set(o, NULL, "1", NULL));
    INVALID(nlprnn_tokenizer_params_set(o, "model-type", NULL, E),
            nlprnn_tokenizer_params_set(o, "model-type", NULL, NULL));
    INVALID(nlprnn_tokenizer_params_get(NULL, "seed", vbuf, sizeof vbuf, E),
            nlprnn_tokenizer_params_get(NULL, "seed", vbuf, sizeof vbuf, NULL));
    INVALID(nlprnn_tokenizer_params_get(o, NULL, vbuf, sizeof vbuf, E),
            nlprnn_tokenizer_params_get(o, NULL, vbuf, sizeof vbuf, NULL));
    INVALID(nlprnn_tokenizer_params_get(o, "seed", NULL, sizeof vbuf, E),
            nlprnn_tokenizer_params_get(o, "seed", NULL, sizeof vbuf, NULL));
    OK(nlprnn_tokenizer_params_get(o, "seed", vbuf, sizeof vbuf, E));
    const char *texts2[2] = {"a b", NULL};
    INVALID(nlprnn_tokenizer_train_texts(o, texts2, NULL, 1, NULL, E),
            nlprnn_tokenizer_train_texts(o, texts2, NULL, 1, NULL, NULL));
    INVALID(nlprnn_tokenizer_train_texts(o, NULL, NULL, 2, &out, E),
            nlprnn_tokenizer_train_texts(o, NULL, NULL, 2, &out, NULL));
    INVALID(nlprnn_tokenizer_train_texts(o, texts2, NULL, 2, &out, E), /* texts[1] is NULL */
            nlprnn_tokenizer_train_texts(o, texts2, NULL, 2, &out, NULL));
    CHECK(out == NULL);
    const char *paths[2] = {tmp("corpus.txt"), NULL};
    INVALID(nlprnn_tokenizer_train_files(o, paths, 1, NULL, E),
            nlprnn_tokenizer_train_files(o, paths, 1, NULL, NULL));
    INVALID(nlprnn_tokenizer_train_files(o, NULL, 1, &out, E),
            nlprnn_tokenizer_train_files(o, NULL, 1, &out, NULL));
    INVALID(nlprnn_tokenizer_train_files(o, paths, 2, &out, E), /* paths[1] is NULL */
            nlprnn_tokenizer_train_files(o, paths, 2, &out, NULL));
    CHECK(out == NULL);
    /* opts NULL means the defaults */
    const char *one[1] = {"x y z"};
    g_call = "nlprnn_tokenizer_train_texts(NULL, ...)";
    nlprnn_error e2;
    int rc = nlprnn_tokenizer_train_texts(NULL, one, NULL, 1, &out, &e2);
    CHECK_MSG(rc != NLPRNN_E_INVALID_ARG, "train_texts with default options: %s", e2.message);
    nlprnn_tokenizer_free(out);
    nlprnn_tokenizer_params_free(o);
}

/* ---- layers ------------------------------------------------------------------------------------ */

static void test_layers(void) {
    nlprnn_error e;
    nlprnn_layer *l = NULL;
    CHECK_INT_EQ(nlprnn_layer_create(NLPRNN_LAYER_LSTM, 3, 4, 1, &l, &e), 0);
    CHECK(l != NULL);
    nlprnn_optimizer *opt = NULL;
    CHECK_INT_EQ(nlprnn_optimizer_create(NLPRNN_OPT_ADAM, &opt, &e), 0);
    CHECK(opt != NULL);
    INVALID(nlprnn_layer_create(NLPRNN_LAYER_LSTM, 3, 4, 1, NULL, E),
            nlprnn_layer_create(NLPRNN_LAYER_LSTM, 3, 4, 1, NULL, NULL));
    INVALID(nlprnn_optimizer_create(NLPRNN_OPT_ADAM, NULL, E), nlprnn_optimizer_create(NLPRNN_OPT_ADAM, NULL, NULL));
    VOID(nlprnn_layer_free(NULL));
    VOID(nlprnn_optimizer_free(NULL));
    nlprnn_layer *l2 = NULL;
    SAME(nlprnn_layer_create(NLPRNN_LAYER_LSTM, 3, 4, 1, &l2, NULL), 0); /* err may be NULL */
    CHECK(l2 != NULL);
    nlprnn_layer_free(l2);
    INVALID(nlprnn_layer_set_option(NULL, NLPRNN_LAYER_THREADS, 1, E),
            nlprnn_layer_set_option(NULL, NLPRNN_LAYER_THREADS, 1, NULL));
    g_call = "nlprnn_layer_get_option(NULL, ...)";
    CHECK(isnan(nlprnn_layer_get_option(NULL, NLPRNN_LAYER_LAYERS)));
    int dims[3] = {7, 7, 7};
    SAME(nlprnn_layer_output_shape(NULL, 2, 5, dims), 0);
    SAME(nlprnn_layer_output_shape(l, 2, 5, NULL), 0);
    SAME(nlprnn_layer_state_size(NULL, 2), 0);
    SAME(nlprnn_layer_param_count(NULL), 0);
    SAME(nlprnn_layer_grad(NULL), NULL);
    VOID(nlprnn_layer_zero_grad(NULL));

    float in[2 * 5 * 3] = {0}, out[2 * 5 * 4] = {0}, w[1000];
    INVALID(nlprnn_layer_forward(NULL, out, NULL, NULL, in, 2, 5, NULL, NULL, NULL, 0, E),
            nlprnn_layer_forward(NULL, out, NULL, NULL, in, 2, 5, NULL, NULL, NULL, 0, NULL));
    INVALID(nlprnn_layer_forward(l, NULL, NULL, NULL, in, 2, 5, NULL, NULL, NULL, 0, E),
            nlprnn_layer_forward(l, NULL, NULL, NULL, in, 2, 5, NULL, NULL, NULL, 0, NULL));
    INVALID(nlprnn_layer_forward(l, out, NULL, NULL, NULL, 2, 5, NULL, NULL, NULL, 0, E),
            nlprnn_layer_forward(l, out, NULL, NULL, NULL, 2, 5, NULL, NULL, NULL, 0, NULL));
    OK(nlprnn_layer_forward(l, out, NULL, NULL, in, 2, 5, NULL, NULL, NULL, 1, E));
    INVALID(nlprnn_layer_backward(NULL, NULL, NULL, NULL, NULL, NULL, NULL, E),
            nlprnn_layer_backward(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
    OK(nlprnn_layer_backward(l, NULL, NULL, NULL, NULL, NULL, NULL, E)); /* all optional */
    size_t np = nlprnn_layer_param_count(l);
    CHECK(np <= 1000);
    INVALID(nlprnn_layer_get_weights(NULL, w, np, E), nlprnn_layer_get_weights(NULL, w, np, NULL));
    INVALID(nlprnn_layer_get_weights(l, NULL, np, E), nlprnn_layer_get_weights(l, NULL, np, NULL));
    INVALID(nlprnn_layer_set_weights(NULL, w, np, E), nlprnn_layer_set_weights(NULL, w, np, NULL));
    INVALID(nlprnn_layer_set_weights(l, NULL, np, E), nlprnn_layer_set_weights(l, NULL, np, NULL));
    INVALID(nlprnn_optimizer_set_option(NULL, NLPRNN_OPTIMIZER_LR, 0.1, E),
            nlprnn_optimizer_set_option(NULL, NLPRNN_OPTIMIZER_LR, 0.1, NULL));
    INVALID(nlprnn_optimizer_step(NULL, l, NULL, E), nlprnn_optimizer_step(NULL, l, NULL, NULL));
    INVALID(nlprnn_optimizer_step(opt, NULL, NULL, E), nlprnn_optimizer_step(opt, NULL, NULL, NULL));
    OK(nlprnn_optimizer_step(opt, l, NULL, E)); /* grad_norm is optional */
    float target[2 * 4] = {0};
    INVALID(nlprnn_layer_train_step(NULL, opt, in, 2, 5, NULL, target, NULL, E),
            nlprnn_layer_train_step(NULL, opt, in, 2, 5, NULL, target, NULL, NULL));
    INVALID(nlprnn_layer_train_step(l, NULL, in, 2, 5, NULL, target, NULL, E),
            nlprnn_layer_train_step(l, NULL, in, 2, 5, NULL, target, NULL, NULL));
    INVALID(nlprnn_layer_train_step(l, opt, NULL, 2, 5, NULL, target, NULL, E),
            nlprnn_layer_train_step(l, opt, NULL, 2, 5, NULL, target, NULL, NULL));
    INVALID(nlprnn_layer_train_step(l, opt, in, 2, 5, NULL, NULL, NULL, E),
            nlprnn_layer_train_step(l, opt, in, 2, 5, NULL, NULL, NULL, NULL));
    OK(nlprnn_layer_train_step(l, opt, in, 2, 5, NULL, target, NULL, E));
    nlprnn_optimizer *o2 = NULL;
    SAME(nlprnn_optimizer_create(NLPRNN_OPT_SGD, &o2, NULL), 0);
    CHECK(o2 != NULL);
    nlprnn_optimizer_free(o2);
    nlprnn_optimizer_free(opt);
    nlprnn_layer_free(l);
}

/* ---- classifier -------------------------------------------------------------------------------- */

static void test_classifier(void) {
    nlprnn_error e;
    nlprnn_classifier *m = NULL;
    int rc = nlprnn_classifier_load("en", &m, &e);
    CHECK_MSG(rc == 0, "loading the shipped 'en' classifier: %s", e.message);
    if (rc) return;
    char buf[512];
    nlprnn_classifier *out = (nlprnn_classifier *)&out;
    INVALID(nlprnn_model_find(NULL, buf, sizeof buf, E), nlprnn_model_find(NULL, buf, sizeof buf, NULL));
    INVALID(nlprnn_model_find("en", NULL, sizeof buf, E), nlprnn_model_find("en", NULL, sizeof buf, NULL));
    INVALID(nlprnn_classifier_load(NULL, &out, E), nlprnn_classifier_load(NULL, &out, NULL));
    CHECK(out == NULL);
    INVALID(nlprnn_classifier_load("en", NULL, E), nlprnn_classifier_load("en", NULL, NULL));
    VOID(nlprnn_classifier_free(NULL));
    SAME(nlprnn_classifier_num_classes(NULL), 0);
    SAME(nlprnn_classifier_label(NULL, 0), NULL);
    SAME(nlprnn_classifier_data_label(NULL, 0), NULL);
    INVALID(nlprnn_classifier_relabel(NULL, "0=a", "/tmp/nlprnn_null_relabel.nrm", E),
            nlprnn_classifier_relabel(NULL, "0=a", "/tmp/nlprnn_null_relabel.nrm", NULL));
    INVALID(nlprnn_classifier_relabel("en", "0=a", NULL, E), nlprnn_classifier_relabel("en", "0=a", NULL, NULL));
    CHECK(access("/tmp/nlprnn_null_relabel.nrm", F_OK) != 0);
    SAME(nlprnn_classifier_max_tokens(NULL), 0);
    SAME(nlprnn_classifier_tokenizer(NULL), NULL);
    SAME(nlprnn_classifier_path(NULL), NULL);
    SAME(nlprnn_classifier_summary(NULL), NULL);
    char *text = (char *)&text;
    INVALID(nlprnn_model_file_describe(NULL, &text, E), nlprnn_model_file_describe(NULL, &text, NULL));
    CHECK(text == NULL);
    INVALID(nlprnn_model_file_describe("en", NULL, E), nlprnn_model_file_describe("en", NULL, NULL));

    nlprnn_classifier_ctx *c = (nlprnn_classifier_ctx *)&c;
    INVALID(nlprnn_classifier_ctx_create(NULL, 1, &c, E), nlprnn_classifier_ctx_create(NULL, 1, &c, NULL));
    CHECK(c == NULL);
    INVALID(nlprnn_classifier_ctx_create(m, 1, NULL, E), nlprnn_classifier_ctx_create(m, 1, NULL, NULL));
    VOID(nlprnn_classifier_ctx_free(NULL));
    OK(nlprnn_classifier_ctx_create(m, 1, &c, E));
    CHECK(c != NULL);
    float probs[2 * 8];
    int status[2];
    INVALID(nlprnn_classify(NULL, "good", 4, probs, NULL, E), nlprnn_classify(NULL, "good", 4, probs, NULL, NULL));
    INVALID(nlprnn_classify(c, NULL, 4, probs, NULL, E), nlprnn_classify(c, NULL, 4, probs, NULL, NULL));
    INVALID(nlprnn_classify(c, "good", 4, NULL, NULL, E), nlprnn_classify(c, "good", 4, NULL, NULL, NULL));
    OK(nlprnn_classify(c, "good film", 9, probs, NULL, E)); /* n_tokens is optional */
    const char *texts[2] = {"a good film", NULL};
    INVALID(nlprnn_classify_batch(NULL, texts, NULL, 1, probs, status, E),
            nlprnn_classify_batch(NULL, texts, NULL, 1, probs, status, NULL));
    INVALID(nlprnn_classify_batch(c, NULL, NULL, 1, probs, status, E),
            nlprnn_classify_batch(c, NULL, NULL, 1, probs, status, NULL));
    INVALID(nlprnn_classify_batch(c, texts, NULL, 1, NULL, status, E),
            nlprnn_classify_batch(c, texts, NULL, 1, NULL, status, NULL));
    INVALID(nlprnn_classify_batch(c, texts, NULL, 1, probs, NULL, E),
            nlprnn_classify_batch(c, texts, NULL, 1, probs, NULL, NULL));
    /* a NULL text inside the array is that document's own status; the others are classified */
    OK(nlprnn_classify_batch(c, texts, NULL, 2, probs, status, E));
    CHECK_INT_EQ(status[0], 0);
    CHECK_INT_EQ(status[1], NLPRNN_E_INVALID_ARG);
    size_t lens[2] = {11, 0}; /* NULL with length 0: an empty text */
    OK(nlprnn_classify_batch(c, texts, lens, 2, probs, status, E));
    CHECK_INT_EQ(status[0], 0);
    CHECK_INT_EQ(status[1], NLPRNN_E_EMPTY);
    OK(nlprnn_classify_batch(c, NULL, NULL, 0, NULL, NULL, E)); /* nothing to do */
    /* the same with the per-document records: doc_errs is optional */
    nlprnn_error doc_errs[2];
    INVALID(nlprnn_classify_batch_errors(NULL, texts, NULL, 1, probs, status, doc_errs, E),
            nlprnn_classify_batch_errors(NULL, texts, NULL, 1, probs, status, doc_errs, NULL));
    INVALID(nlprnn_classify_batch_errors(c, NULL, NULL, 1, probs, status, doc_errs, E),
            nlprnn_classify_batch_errors(c, NULL, NULL, 1, probs, status, doc_errs, NULL));
    INVALID(nlprnn_classify_batch_errors(c, texts, NULL, 1, NULL, status, doc_errs, E),
            nlprnn_classify_batch_errors(c, texts, NULL, 1, NULL, status, doc_errs, NULL));
    INVALID(nlprnn_classify_batch_errors(c, texts, NULL, 1, probs, NULL, doc_errs, E),
            nlprnn_classify_batch_errors(c, texts, NULL, 1, probs, NULL, doc_errs, NULL));
    OK(nlprnn_classify_batch_errors(c, texts, NULL, 2, probs, status, NULL, E));
    CHECK_INT_EQ(status[1], NLPRNN_E_INVALID_ARG);
    OK(nlprnn_classify_batch_errors(c, texts, NULL, 2, probs, status, doc_errs, E));
    CHECK_INT_EQ(status[0], 0);
    CHECK_INT_EQ(doc_errs[0].code, 0);
    CHECK_INT_EQ(status[1], NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(doc_errs[1].code, NLPRNN_E_INVALID_ARG);
    CHECK(doc_errs[1].message[0] != '\0');
    OK(nlprnn_classify_batch_errors(c, texts, lens, 2, probs, status, doc_errs, E));
    CHECK_INT_EQ(doc_errs[1].code, NLPRNN_E_EMPTY);
    OK(nlprnn_classify_batch_errors(c, NULL, NULL, 0, NULL, NULL, NULL, E)); /* nothing to do */

    const char *tsv = nr_test_data_path("clf_test.tsv");
    nlprnn_classifier_eval ev = {.size = sizeof ev};
    INVALID(nlprnn_classifier_evaluate(NULL, tsv, NULL, NULL, 1, &ev, E),
            nlprnn_classifier_evaluate(NULL, tsv, NULL, NULL, 1, &ev, NULL));
    INVALID(nlprnn_classifier_evaluate(m, NULL, NULL, NULL, 1, &ev, E),
            nlprnn_classifier_evaluate(m, NULL, NULL, NULL, 1, &ev, NULL));
    CHECK(ev.confusion == NULL);
    INVALID(nlprnn_classifier_evaluate(m, tsv, NULL, NULL, 1, NULL, E),
            nlprnn_classifier_evaluate(m, tsv, NULL, NULL, 1, NULL, NULL));
    nlprnn_classifier_eval small = {.size = sizeof(size_t)}; /* does not reach the confusion matrix */
    INVALID(nlprnn_classifier_evaluate(m, tsv, NULL, NULL, 1, &small, E),
            nlprnn_classifier_evaluate(m, tsv, NULL, NULL, 1, &small, NULL));

    nlprnn_classifier_params *p = (nlprnn_classifier_params *)&p;
    INVALID(nlprnn_classifier_params_create(NULL, E), nlprnn_classifier_params_create(NULL, NULL));
    OK(nlprnn_classifier_params_create(&p, E));
    CHECK(p != NULL);
    VOID(nlprnn_classifier_params_free(NULL));
    INVALID(nlprnn_classifier_params_set(NULL, "hidden", "8", E), nlprnn_classifier_params_set(NULL, "hidden", "8", NULL));
    INVALID(nlprnn_classifier_params_set(p, NULL, "8", E), nlprnn_classifier_params_set(p, NULL, "8", NULL));
    INVALID(nlprnn_classifier_params_set(p, "hidden", NULL, E), nlprnn_classifier_params_set(p, "hidden", NULL, NULL));
    INVALID(nlprnn_classifier_params_get(NULL, "hidden", buf, sizeof buf, E),
            nlprnn_classifier_params_get(NULL, "hidden", buf, sizeof buf, NULL));
    INVALID(nlprnn_classifier_params_get(p, NULL, buf, sizeof buf, E),
            nlprnn_classifier_params_get(p, NULL, buf, sizeof buf, NULL));
    INVALID(nlprnn_classifier_params_get(p, "hidden", NULL, sizeof buf, E),
            nlprnn_classifier_params_get(p, "hidden", NULL, sizeof buf, NULL));
    {
        char range[64];
        OK(nlprnn_classifier_param_info(0, NULL, NULL, NULL, NULL, 0, E)); /* every output is optional */
        OK(nlprnn_classifier_param_info(0, NULL, NULL, NULL, range, sizeof range, E));
        INVALID(nlprnn_classifier_param_info(-1, NULL, NULL, NULL, NULL, 0, E),
                nlprnn_classifier_param_info(-1, NULL, NULL, NULL, NULL, 0, NULL));
    }
    const char *out_nrm = tmp("c.nrm");
    INVALID(nlprnn_classifier_train(NULL, tsv, NULL, out_nrm, 0, NULL, NULL, NULL, E),
            nlprnn_classifier_train(NULL, tsv, NULL, out_nrm, 0, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_classifier_train(p, NULL, NULL, out_nrm, 0, NULL, NULL, NULL, E),
            nlprnn_classifier_train(p, NULL, NULL, out_nrm, 0, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_classifier_train(p, tsv, NULL, NULL, 0, NULL, NULL, NULL, E),
            nlprnn_classifier_train(p, tsv, NULL, NULL, 0, NULL, NULL, NULL, NULL));
    nlprnn_classifier_params_free(p);
    nlprnn_classifier_ctx_free(c);
    nlprnn_classifier_free(m);
}

/* ---- language model ---------------------------------------------------------------------------- */

static void test_lm(void) {
    nlprnn_error e;
    nlprnn_lm *lm = NULL;
    int rc = nlprnn_lm_load("ko", &lm, &e);
    CHECK_MSG(rc == 0, "loading the shipped 'ko' language model: %s", e.message);
    nlprnn_lm *out = (nlprnn_lm *)&out;
    INVALID(nlprnn_lm_load(NULL, &out, E), nlprnn_lm_load(NULL, &out, NULL));
    CHECK(out == NULL);
    INVALID(nlprnn_lm_load("ko", NULL, E), nlprnn_lm_load("ko", NULL, NULL));
    VOID(nlprnn_lm_free(NULL));
    SAME(nlprnn_lm_tokenizer(NULL), NULL);
    SAME(nlprnn_lm_has_backward(NULL), 0);
    SAME(nlprnn_lm_summary(NULL), NULL);
    int V = 7, Ed = 7, H = 7, L = 7;
    const char *cell = "x";
    VOID(nlprnn_lm_dims(NULL, &V, &Ed, &H, &L, &cell));
    CHECK(V == 0 && Ed == 0 && H == 0 && L == 0 && cell == NULL);
    const float *emb = (const float *)&emb, *encw = (const float *)&encw;
    size_t ne = 7;
    VOID(nlprnn_lm_forward_weights(NULL, &emb, &encw, &ne));
    CHECK(emb == NULL && encw == NULL && ne == 0);
    const float *ow = (const float *)&ow, *ob = (const float *)&ob;
    emb = (const float *)&emb, encw = (const float *)&encw, ne = 7;
    INVALID(nlprnn_lm_weights(NULL, 0, &emb, &encw, &ne, &ow, &ob, E),
            nlprnn_lm_weights(NULL, 0, &emb, &encw, &ne, &ow, &ob, NULL));
    CHECK(emb == NULL && encw == NULL && ne == 0 && ow == NULL && ob == NULL);
    nlprnn_lm_ctx *ctx = (nlprnn_lm_ctx *)&ctx;
    INVALID(nlprnn_lm_ctx_create(NULL, &ctx, E), nlprnn_lm_ctx_create(NULL, &ctx, NULL));
    CHECK(ctx == NULL);
    VOID(nlprnn_lm_ctx_free(NULL));
    VOID(nlprnn_lm_choices_free(NULL, 3));
    if (rc) return;
    VOID(nlprnn_lm_dims(lm, NULL, NULL, NULL, NULL, NULL)); /* every output is optional */
    VOID(nlprnn_lm_forward_weights(lm, NULL, NULL, NULL));
    OK(nlprnn_lm_weights(lm, 0, NULL, NULL, NULL, NULL, NULL, E)); /* every output is optional */
    INVALID(nlprnn_lm_weights(lm, -1, NULL, NULL, NULL, NULL, NULL, E),
            nlprnn_lm_weights(lm, -1, NULL, NULL, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_lm_ctx_create(lm, NULL, E), nlprnn_lm_ctx_create(lm, NULL, NULL));
    OK(nlprnn_lm_ctx_create(lm, &ctx, E));
    CHECK(ctx != NULL);
    double lp = 0;
    INVALID(nlprnn_lm_score(NULL, "영화", 6, 0, &lp, NULL, E), nlprnn_lm_score(NULL, "영화", 6, 0, &lp, NULL, NULL));
    INVALID(nlprnn_lm_score(ctx, NULL, 6, 0, &lp, NULL, E), nlprnn_lm_score(ctx, NULL, 6, 0, &lp, NULL, NULL));
    INVALID(nlprnn_lm_score(ctx, "영화", 6, 0, NULL, NULL, E), nlprnn_lm_score(ctx, "영화", 6, 0, NULL, NULL, NULL));
    OK(nlprnn_lm_score(ctx, "영화", 6, 0, &lp, NULL, E)); /* n_pred is optional */
    nlprnn_lm_choice *ch = (nlprnn_lm_choice *)&ch;
    size_t n = 7;
    INVALID(nlprnn_lm_next(NULL, "영화", 6, 3, &ch, &n, E), nlprnn_lm_next(NULL, "영화", 6, 3, &ch, &n, NULL));
    INVALID(nlprnn_lm_next(ctx, NULL, 6, 3, &ch, &n, E), nlprnn_lm_next(ctx, NULL, 6, 3, &ch, &n, NULL));
    INVALID(nlprnn_lm_next(ctx, "영화", 6, 3, NULL, &n, E), nlprnn_lm_next(ctx, "영화", 6, 3, NULL, &n, NULL));
    INVALID(nlprnn_lm_next(ctx, "영화", 6, 3, &ch, NULL, E), nlprnn_lm_next(ctx, "영화", 6, 3, &ch, NULL, NULL));
    const char *cands[2] = {"좋은", NULL};
    INVALID(nlprnn_lm_fill(NULL, "___ 영화", 10, NULL, 0, 3, &ch, &n, E),
            nlprnn_lm_fill(NULL, "___ 영화", 10, NULL, 0, 3, &ch, &n, NULL));
    INVALID(nlprnn_lm_fill(ctx, NULL, 10, NULL, 0, 3, &ch, &n, E),
            nlprnn_lm_fill(ctx, NULL, 10, NULL, 0, 3, &ch, &n, NULL));
    INVALID(nlprnn_lm_fill(ctx, "___ 영화", 10, NULL, 0, 3, NULL, &n, E),
            nlprnn_lm_fill(ctx, "___ 영화", 10, NULL, 0, 3, NULL, &n, NULL));
    INVALID(nlprnn_lm_fill(ctx, "___ 영화", 10, NULL, 0, 3, &ch, NULL, E),
            nlprnn_lm_fill(ctx, "___ 영화", 10, NULL, 0, 3, &ch, NULL, NULL));
    INVALID(nlprnn_lm_fill(ctx, "___ 영화", 10, cands, 2, 3, &ch, &n, E), /* cands[1] is NULL */
            nlprnn_lm_fill(ctx, "___ 영화", 10, cands, 2, 3, &ch, &n, NULL));
    INVALID(nlprnn_lm_fill(ctx, "___ 영화", 10, NULL, 2, 3, &ch, &n, E), /* n_cand without them */
            nlprnn_lm_fill(ctx, "___ 영화", 10, NULL, 2, 3, &ch, &n, NULL));
    INVALID(nlprnn_lm_fill_calibrated(NULL, "___ 영화", 10, NULL, 0, 3, 0.5, &ch, &n, E),
            nlprnn_lm_fill_calibrated(NULL, "___ 영화", 10, NULL, 0, 3, 0.5, &ch, &n, NULL));
    INVALID(nlprnn_lm_fill_calibrated(ctx, NULL, 10, NULL, 0, 3, 0.5, &ch, &n, E),
            nlprnn_lm_fill_calibrated(ctx, NULL, 10, NULL, 0, 3, 0.5, &ch, &n, NULL));
    INVALID(nlprnn_lm_fill_calibrated(ctx, "___ 영화", 10, cands, 2, 3, 0.5, &ch, &n, E),
            nlprnn_lm_fill_calibrated(ctx, "___ 영화", 10, cands, 2, 3, 0.5, &ch, &n, NULL));
    OK(nlprnn_lm_fill(ctx, "___ 영화", 10, cands, 1, 3, &ch, &n, E));
    nlprnn_lm_choices_free(ch, n);
    char *gen = (char *)&gen;
    INVALID(nlprnn_lm_generate(NULL, "영화", 6, 3, 1.0, 0, 1.0, 1, &gen, E),
            nlprnn_lm_generate(NULL, "영화", 6, 3, 1.0, 0, 1.0, 1, &gen, NULL));
    INVALID(nlprnn_lm_generate(ctx, NULL, 6, 3, 1.0, 0, 1.0, 1, &gen, E),
            nlprnn_lm_generate(ctx, NULL, 6, 3, 1.0, 0, 1.0, 1, &gen, NULL));
    INVALID(nlprnn_lm_generate(ctx, "영화", 6, 3, 1.0, 0, 1.0, 1, NULL, E),
            nlprnn_lm_generate(ctx, "영화", 6, 3, 1.0, 0, 1.0, 1, NULL, NULL));
    nlprnn_lm_eval ev;
    memset(&ev, 0, sizeof ev);
    ev.size = sizeof ev;
    const char *txt = tmp("lm.txt");
    write_file(txt, "좋은 영화\n");
    INVALID(nlprnn_lm_evaluate(NULL, txt, 0, 0, &ev, E), nlprnn_lm_evaluate(NULL, txt, 0, 0, &ev, NULL));
    INVALID(nlprnn_lm_evaluate(lm, NULL, 0, 0, &ev, E), nlprnn_lm_evaluate(lm, NULL, 0, 0, &ev, NULL));
    INVALID(nlprnn_lm_evaluate(lm, txt, 0, 0, NULL, E), nlprnn_lm_evaluate(lm, txt, 0, 0, NULL, NULL));

    nlprnn_lm_params *p = (nlprnn_lm_params *)&p;
    INVALID(nlprnn_lm_params_create(NULL, E), nlprnn_lm_params_create(NULL, NULL));
    OK(nlprnn_lm_params_create(&p, E));
    CHECK(p != NULL);
    char pbuf[64];
    INVALID(nlprnn_lm_params_get(NULL, "hidden", pbuf, sizeof pbuf, E),
            nlprnn_lm_params_get(NULL, "hidden", pbuf, sizeof pbuf, NULL));
    INVALID(nlprnn_lm_params_get(p, NULL, pbuf, sizeof pbuf, E), nlprnn_lm_params_get(p, NULL, pbuf, sizeof pbuf, NULL));
    OK(nlprnn_lm_param_info(0, NULL, NULL, NULL, NULL, 0, E)); /* every output is optional */
    OK(nlprnn_lm_param_info(0, NULL, NULL, NULL, pbuf, sizeof pbuf, E));
    INVALID(nlprnn_lm_param_info(-1, NULL, NULL, NULL, NULL, 0, E), nlprnn_lm_param_info(-1, NULL, NULL, NULL, NULL, 0, NULL));
    INVALID(nlprnn_lm_params_get(p, "hidden", NULL, sizeof pbuf, E),
            nlprnn_lm_params_get(p, "hidden", NULL, sizeof pbuf, NULL));
    VOID(nlprnn_lm_params_free(NULL));
    INVALID(nlprnn_lm_params_set(NULL, "hidden", "8", E), nlprnn_lm_params_set(NULL, "hidden", "8", NULL));
    INVALID(nlprnn_lm_params_set(p, NULL, "8", E), nlprnn_lm_params_set(p, NULL, "8", NULL));
    INVALID(nlprnn_lm_params_set(p, "hidden", NULL, E), nlprnn_lm_params_set(p, "hidden", NULL, NULL));
    const char *lmout = tmp("lm.nrm");
    INVALID(nlprnn_lm_train(NULL, txt, NULL, lmout, NULL, NULL, NULL, E),
            nlprnn_lm_train(NULL, txt, NULL, lmout, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_lm_train(p, NULL, NULL, lmout, NULL, NULL, NULL, E),
            nlprnn_lm_train(p, NULL, NULL, lmout, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_lm_train(p, txt, NULL, NULL, NULL, NULL, NULL, E),
            nlprnn_lm_train(p, txt, NULL, NULL, NULL, NULL, NULL, NULL));
    nlprnn_lm_params_free(p);
    nlprnn_lm_ctx_free(ctx);
    nlprnn_lm_free(lm);
}

/* ---- series and forecasting ---------------------------------------------------------------------- */

static void test_forecast(void) {
    double v[40];
    for (int i = 0; i < 40; i++) v[i] = sin(i * 0.5);
    nlprnn_series *s = (nlprnn_series *)&s;
    const char *cols[2] = {"value", NULL};
    const char *csv = tmp("s.csv");
    write_file(csv, "value\n1\n2\n3\n4\n5\n");
    INVALID(nlprnn_series_load_csv(csv, cols, 1, NULL, E), nlprnn_series_load_csv(csv, cols, 1, NULL, NULL));
    INVALID(nlprnn_series_load_csv(NULL, cols, 1, &s, E), nlprnn_series_load_csv(NULL, cols, 1, &s, NULL));
    CHECK(s == NULL);
    INVALID(nlprnn_series_load_csv(csv, NULL, 1, &s, E), nlprnn_series_load_csv(csv, NULL, 1, &s, NULL));
    INVALID(nlprnn_series_load_csv(csv, cols, 2, &s, E), /* cols[1] is NULL */
            nlprnn_series_load_csv(csv, cols, 2, &s, NULL));
    INVALID(nlprnn_series_create(v, 40, 1, NULL, NULL, E), nlprnn_series_create(v, 40, 1, NULL, NULL, NULL));
    INVALID(nlprnn_series_create(NULL, 40, 1, NULL, &s, E), nlprnn_series_create(NULL, 40, 1, NULL, &s, NULL));
    INVALID(nlprnn_series_create_sine(40, 8, 0.1, 1, NULL, E), nlprnn_series_create_sine(40, 8, 0.1, 1, NULL, NULL));
    OK(nlprnn_series_create(v, 20, 2, cols, &s, E)); /* cols[1] NULL: that column is "x1" */
    SAME(strcmp(nlprnn_series_column(s, 1), "x1"), 0);
    nlprnn_series_free(s);
    OK(nlprnn_series_create(v, 40, 1, NULL, &s, E)); /* names are optional */
    VOID(nlprnn_series_free(NULL));
    SAME(nlprnn_series_length(NULL), 0);
    SAME(nlprnn_series_features(NULL), 0);
    SAME(nlprnn_series_values(NULL), NULL);
    SAME(nlprnn_series_column(NULL, 0), NULL);
    size_t count = 0;
    OK(nlprnn_window_count(40, 3, 1, NULL, E)); /* count is optional (a check alone) */
    double x[3 * 4], y[4];
    INVALID(nlprnn_series_windows(NULL, 0, 3, 1, 0, 4, x, y, E),
            nlprnn_series_windows(NULL, 0, 3, 1, 0, 4, x, y, NULL));
    OK(nlprnn_series_windows(s, 0, 3, 1, 0, 4, NULL, NULL, E)); /* x and y are optional */
    OK(nlprnn_window_count(40, 3, 1, &count, E));

    nlprnn_forecaster_params *p = (nlprnn_forecaster_params *)&p;
    INVALID(nlprnn_forecaster_params_create(NULL, E), nlprnn_forecaster_params_create(NULL, NULL));
    OK(nlprnn_forecaster_params_create(&p, E));
    CHECK(p != NULL);
    VOID(nlprnn_forecaster_params_free(NULL));
    char buf[256];
    INVALID(nlprnn_forecaster_params_set(NULL, "hidden", "2", E), nlprnn_forecaster_params_set(NULL, "hidden", "2", NULL));
    INVALID(nlprnn_forecaster_params_set(p, NULL, "2", E), nlprnn_forecaster_params_set(p, NULL, "2", NULL));
    INVALID(nlprnn_forecaster_params_set(p, "hidden", NULL, E), nlprnn_forecaster_params_set(p, "hidden", NULL, NULL));
    INVALID(nlprnn_forecaster_params_get(NULL, "hidden", buf, sizeof buf, E),
            nlprnn_forecaster_params_get(NULL, "hidden", buf, sizeof buf, NULL));
    INVALID(nlprnn_forecaster_params_get(p, NULL, buf, sizeof buf, E),
            nlprnn_forecaster_params_get(p, NULL, buf, sizeof buf, NULL));
    INVALID(nlprnn_forecaster_params_get(p, "hidden", NULL, sizeof buf, E),
            nlprnn_forecaster_params_get(p, "hidden", NULL, sizeof buf, NULL));
    OK(nlprnn_forecaster_param_info(0, NULL, NULL, NULL, NULL, 0, E)); /* every output is optional */
    OK(nlprnn_forecaster_param_info(0, NULL, NULL, NULL, buf, sizeof buf, E));
    INVALID(nlprnn_forecaster_param_info(-1, NULL, NULL, NULL, NULL, 0, E),
            nlprnn_forecaster_param_info(-1, NULL, NULL, NULL, NULL, 0, NULL));
    nlprnn_forecaster_params_set(p, "hidden", "2", NULL);
    nlprnn_forecaster_params_set(p, "window", "3", NULL);
    nlprnn_forecaster_params_set(p, "epochs", "1", NULL);
    nlprnn_forecaster *f = (nlprnn_forecaster *)&f;
    INVALID(nlprnn_forecaster_train(s, p, NULL, NULL, NULL, E), nlprnn_forecaster_train(s, p, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_forecaster_train(NULL, p, NULL, NULL, &f, E), nlprnn_forecaster_train(NULL, p, NULL, NULL, &f, NULL));
    CHECK(f == NULL);
    INVALID(nlprnn_forecaster_train(s, NULL, NULL, NULL, &f, E), nlprnn_forecaster_train(s, NULL, NULL, NULL, &f, NULL));
    OK(nlprnn_forecaster_train(s, p, NULL, NULL, &f, E)); /* progress and user are optional */
    const char *fpath = tmp("f.nrm");
    INVALID(nlprnn_forecaster_save(NULL, fpath, E), nlprnn_forecaster_save(NULL, fpath, NULL));
    INVALID(nlprnn_forecaster_save(f, NULL, E), nlprnn_forecaster_save(f, NULL, NULL));
    nlprnn_forecaster *g = (nlprnn_forecaster *)&g;
    INVALID(nlprnn_forecaster_load(fpath, NULL, E), nlprnn_forecaster_load(fpath, NULL, NULL));
    INVALID(nlprnn_forecaster_load(NULL, &g, E), nlprnn_forecaster_load(NULL, &g, NULL));
    CHECK(g == NULL);
    VOID(nlprnn_forecaster_free(NULL));
    INVALID(nlprnn_forecaster_get(NULL, "hidden", buf, sizeof buf, E),
            nlprnn_forecaster_get(NULL, "hidden", buf, sizeof buf, NULL));
    INVALID(nlprnn_forecaster_get(f, NULL, buf, sizeof buf, E), nlprnn_forecaster_get(f, NULL, buf, sizeof buf, NULL));
    INVALID(nlprnn_forecaster_get(f, "hidden", NULL, sizeof buf, E),
            nlprnn_forecaster_get(f, "hidden", NULL, sizeof buf, NULL));
    int ep = 7;
    const double *ht = (const double *)&ht, *hv = (const double *)&hv;
    VOID(nlprnn_forecaster_history(NULL, &ep, &ht, &hv));
    CHECK(ep == 0 && ht == NULL && hv == NULL);
    VOID(nlprnn_forecaster_history(f, NULL, NULL, NULL));
    int dw = 7, dh = 7, dt = 7, dfe = 7;
    VOID(nlprnn_forecaster_dims(NULL, &dw, &dh, &dt, &dfe));
    CHECK(dw == 0 && dh == 0 && dt == 0 && dfe == 0);
    VOID(nlprnn_forecaster_dims(f, NULL, NULL, NULL, NULL)); /* every output is optional */
    size_t sfirst = 0, scount = 0;
    INVALID(nlprnn_forecaster_split(NULL, 40, NLPRNN_PART_ALL, &sfirst, &scount, E),
            nlprnn_forecaster_split(NULL, 40, NLPRNN_PART_ALL, &sfirst, &scount, NULL));
    INVALID(nlprnn_forecaster_split(f, 40, NLPRNN_PART_ALL, NULL, &scount, E),
            nlprnn_forecaster_split(f, 40, NLPRNN_PART_ALL, NULL, &scount, NULL));
    INVALID(nlprnn_forecaster_split(f, 40, NLPRNN_PART_ALL, &sfirst, NULL, E),
            nlprnn_forecaster_split(f, 40, NLPRNN_PART_ALL, &sfirst, NULL, NULL));
    OK(nlprnn_forecaster_split(f, 40, NLPRNN_PART_ALL, &sfirst, &scount, E));
    CHECK(sfirst == 0 && scount == 40);
    double out[3];
    nlprnn_forecaster_eval fe = {.size = sizeof fe};
    INVALID(nlprnn_forecaster_evaluate(NULL, s, NLPRNN_PART_ALL, &fe, E),
            nlprnn_forecaster_evaluate(NULL, s, NLPRNN_PART_ALL, &fe, NULL));
    INVALID(nlprnn_forecaster_evaluate(f, NULL, NLPRNN_PART_ALL, &fe, E),
            nlprnn_forecaster_evaluate(f, NULL, NLPRNN_PART_ALL, &fe, NULL));
    INVALID(nlprnn_forecaster_evaluate(f, s, NLPRNN_PART_ALL, NULL, E),
            nlprnn_forecaster_evaluate(f, s, NLPRNN_PART_ALL, NULL, NULL));
    OK(nlprnn_forecaster_evaluate(f, s, NLPRNN_PART_ALL, &fe, E));
    nlprnn_free(fe.pred);
    nlprnn_free(fe.truth);
    INVALID(nlprnn_forecaster_predict(NULL, v, 40, 1, out, E), nlprnn_forecaster_predict(NULL, v, 40, 1, out, NULL));
    INVALID(nlprnn_forecaster_predict(f, NULL, 40, 1, out, E), nlprnn_forecaster_predict(f, NULL, 40, 1, out, NULL));
    INVALID(nlprnn_forecaster_predict(f, v, 40, 1, NULL, E), nlprnn_forecaster_predict(f, v, 40, 1, NULL, NULL));

    double norms[5], loss[3], gn[3];
    int div = 0;
    INVALID(nlprnn_gradflow_norms(NULL, 4, 5, 2, 1.0, NAN, 1, norms, E),
            nlprnn_gradflow_norms(NULL, 4, 5, 2, 1.0, NAN, 1, norms, NULL));
    INVALID(nlprnn_gradflow_norms("lstm", 4, 5, 2, 1.0, NAN, 1, NULL, E),
            nlprnn_gradflow_norms("lstm", 4, 5, 2, 1.0, NAN, 1, NULL, NULL));
    /* a NaN or infinite gain is a bad argument, not undefined behaviour (models/cells.h) */
    INVALID(nlprnn_gradflow_norms("lstm", 4, 5, 2, NAN, NAN, 1, norms, E),
            nlprnn_gradflow_norms("lstm", 4, 5, 2, NAN, NAN, 1, norms, NULL));
    INVALID(nlprnn_gradflow_norms("rnn", 4, 5, 2, INFINITY, NAN, 1, norms, E),
            nlprnn_gradflow_norms("rnn", 4, 5, 2, INFINITY, NAN, 1, norms, NULL));
    INVALID(nlprnn_gradflow_train(NULL, 4, 5, 2, 1.0, 0.1, 1.0, 3, 1, loss, gn, &div, E),
            nlprnn_gradflow_train(NULL, 4, 5, 2, 1.0, 0.1, 1.0, 3, 1, loss, gn, &div, NULL));
    INVALID(nlprnn_gradflow_train("gru", 4, 5, 2, 1.0, 0.1, 1.0, 3, 1, NULL, gn, &div, E),
            nlprnn_gradflow_train("gru", 4, 5, 2, 1.0, 0.1, 1.0, 3, 1, NULL, gn, &div, NULL));
    INVALID(nlprnn_gradflow_train("gru", 4, 5, 2, 1.0, 0.1, 1.0, 3, 1, loss, NULL, &div, E),
            nlprnn_gradflow_train("gru", 4, 5, 2, 1.0, 0.1, 1.0, 3, 1, loss, NULL, &div, NULL));
    INVALID(nlprnn_gradflow_train("gru", 4, 5, 2, NAN, 0.1, 1.0, 3, 1, loss, gn, &div, E),
            nlprnn_gradflow_train("gru", 4, 5, 2, NAN, 0.1, 1.0, 3, 1, loss, gn, &div, NULL));
    OK(nlprnn_gradflow_train("gru", 4, 5, 2, 1.0, 0.1, 1.0, 3, 1, loss, gn, NULL, E));
    nlprnn_forecaster_free(f);
    nlprnn_forecaster_params_free(p);
    nlprnn_series_free(s);
}

/* ---- tagger and spacing ------------------------------------------------------------------------ */

static void test_tagger(void) {
    char buf[64], range[64];
    nlprnn_tagger_params *p = (nlprnn_tagger_params *)&p;
    INVALID(nlprnn_tagger_params_create(NULL, E), nlprnn_tagger_params_create(NULL, NULL));
    OK(nlprnn_tagger_params_create(&p, E));
    CHECK(p != NULL);
    VOID(nlprnn_tagger_params_free(NULL));
    INVALID(nlprnn_tagger_params_set(NULL, "hidden", "2", E), nlprnn_tagger_params_set(NULL, "hidden", "2", NULL));
    INVALID(nlprnn_tagger_params_set(p, NULL, "2", E), nlprnn_tagger_params_set(p, NULL, "2", NULL));
    INVALID(nlprnn_tagger_params_set(p, "hidden", NULL, E), nlprnn_tagger_params_set(p, "hidden", NULL, NULL));
    INVALID(nlprnn_tagger_params_get(NULL, "hidden", buf, sizeof buf, E),
            nlprnn_tagger_params_get(NULL, "hidden", buf, sizeof buf, NULL));
    INVALID(nlprnn_tagger_params_get(p, NULL, buf, sizeof buf, E), nlprnn_tagger_params_get(p, NULL, buf, sizeof buf, NULL));
    INVALID(nlprnn_tagger_params_get(p, "hidden", NULL, sizeof buf, E),
            nlprnn_tagger_params_get(p, "hidden", NULL, sizeof buf, NULL));
    OK(nlprnn_tagger_param_info(0, NULL, NULL, NULL, NULL, 0, E)); /* every output is optional */
    OK(nlprnn_tagger_param_info(0, NULL, NULL, NULL, range, sizeof range, E));
    INVALID(nlprnn_tagger_param_info(-1, NULL, NULL, NULL, NULL, 0, E), nlprnn_tagger_param_info(-1, NULL, NULL, NULL, NULL, 0, NULL));
    nlprnn_tagger_params_set(p, "format", "tagged", NULL);
    nlprnn_tagger_params_set(p, "hidden", "2", NULL);
    nlprnn_tagger_params_set(p, "embed", "2", NULL);
    nlprnn_tagger_params_set(p, "layers", "1", NULL);
    nlprnn_tagger_params_set(p, "epochs", "1", NULL);
    nlprnn_tagger_params_set(p, "min-count", "1", NULL);
    write_file(tmp("tags.tsv"), "a\tX\nb\tY\n\nb\tY\na\tX\n");
    const char *paths[] = {tmp("tags.tsv")};
    nlprnn_tagger *t = (nlprnn_tagger *)&t;
    INVALID(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, NULL, E), nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_tagger_train(NULL, 1, p, NULL, NULL, NULL, &t, E), nlprnn_tagger_train(NULL, 1, p, NULL, NULL, NULL, &t, NULL));
    CHECK(t == NULL);
    INVALID(nlprnn_tagger_train(paths, 1, NULL, NULL, NULL, NULL, &t, E), nlprnn_tagger_train(paths, 1, NULL, NULL, NULL, NULL, &t, NULL));
    OK(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &t, E)); /* ctl, progress, user optional */
    nlprnn_tagger *tc = (nlprnn_tagger *)&tc;
    INVALID(nlprnn_tagger_train_ctl(paths, 1, p, NULL, NULL, NULL, NULL, E), nlprnn_tagger_train_ctl(paths, 1, p, NULL, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_tagger_train_ctl(NULL, 1, p, NULL, NULL, NULL, &tc, E), nlprnn_tagger_train_ctl(NULL, 1, p, NULL, NULL, NULL, &tc, NULL));
    CHECK(tc == NULL);
    INVALID(nlprnn_tagger_train_ctl(paths, 1, NULL, NULL, NULL, NULL, &tc, E), nlprnn_tagger_train_ctl(paths, 1, NULL, NULL, NULL, NULL, &tc, NULL));
    OK(nlprnn_tagger_train_ctl(paths, 1, p, NULL, NULL, NULL, &tc, E)); /* ctl, progress, user optional */
    nlprnn_tagger_free(tc);
    INVALID(nlprnn_tagger_save(NULL, tmp("t.nrm"), E), nlprnn_tagger_save(NULL, tmp("t.nrm"), NULL));
    INVALID(nlprnn_tagger_save(t, NULL, E), nlprnn_tagger_save(t, NULL, NULL));
    INVALID(nlprnn_tagger_save_stored(NULL, tmp("t.nrm"), "f16", E), nlprnn_tagger_save_stored(NULL, tmp("t.nrm"), "f16", NULL));
    INVALID(nlprnn_tagger_save_stored(t, NULL, "f16", E), nlprnn_tagger_save_stored(t, NULL, "f16", NULL));
    INVALID(nlprnn_tagger_save_stored(t, tmp("t.nrm"), "int8", E), nlprnn_tagger_save_stored(t, tmp("t.nrm"), "int8", NULL));
    nlprnn_tagger *g = (nlprnn_tagger *)&g;
    INVALID(nlprnn_tagger_load(NULL, &g, E), nlprnn_tagger_load(NULL, &g, NULL));
    CHECK(g == NULL);
    INVALID(nlprnn_tagger_load("ko-space", NULL, E), nlprnn_tagger_load("ko-space", NULL, NULL));
    const char *gpaths[2] = {"ko-space", NULL};
    g = (nlprnn_tagger *)&g;
    INVALID(nlprnn_tagger_load_ensemble(NULL, 1, &g, E), nlprnn_tagger_load_ensemble(NULL, 1, &g, NULL));
    CHECK(g == NULL);
    INVALID(nlprnn_tagger_load_ensemble(gpaths, 1, NULL, E), nlprnn_tagger_load_ensemble(gpaths, 1, NULL, NULL));
    INVALID(nlprnn_tagger_load_ensemble(gpaths, 2, &g, E), nlprnn_tagger_load_ensemble(gpaths, 2, &g, NULL));
    CHECK(g == NULL);
    SAME(nlprnn_tagger_members(NULL), 0);
    VOID(nlprnn_tagger_free(NULL));
    SAME(nlprnn_tagger_is_spacing(NULL), -1);
    SAME(nlprnn_tagger_num_labels(NULL), 0);
    SAME(nlprnn_tagger_label(NULL, 0) == NULL, 1);
    SAME(nlprnn_tagger_num_units(NULL), 0);
    SAME(nlprnn_tagger_summary(NULL) == NULL, 1);
    nlprnn_tagger_ctx *c = (nlprnn_tagger_ctx *)&c;
    INVALID(nlprnn_tagger_ctx_create(t, 1, NULL, E), nlprnn_tagger_ctx_create(t, 1, NULL, NULL));
    INVALID(nlprnn_tagger_ctx_create(NULL, 1, &c, E), nlprnn_tagger_ctx_create(NULL, 1, &c, NULL));
    CHECK(c == NULL);
    VOID(nlprnn_tagger_ctx_free(NULL));
    OK(nlprnn_tagger_ctx_create(t, 1, &c, E));
    const char *tok[] = {"a", "b"};
    int lab[2];
    INVALID(nlprnn_tag(NULL, tok, 2, lab, NULL, E), nlprnn_tag(NULL, tok, 2, lab, NULL, NULL));
    INVALID(nlprnn_tag(c, NULL, 2, lab, NULL, E), nlprnn_tag(c, NULL, 2, lab, NULL, NULL));
    INVALID(nlprnn_tag(c, tok, 2, NULL, NULL, E), nlprnn_tag(c, tok, 2, NULL, NULL, NULL));
    OK(nlprnn_tag(c, tok, 2, lab, NULL, E)); /* probs optional */
    nlprnn_tagger_ctx_free(c);
    nlprnn_tagger_free(t);
    /* spacing, with the shipped model */
    OK(nlprnn_tagger_load("ko-space", &t, E));
    c = NULL;
    if (t) OK(nlprnn_tagger_ctx_create(t, 1, &c, E));
    INVALID(nlprnn_space(NULL, "가나", 6, 0, E), nlprnn_space(NULL, "가나", 6, 0, NULL));
    INVALID(nlprnn_space(c, NULL, 6, 0, E), nlprnn_space(c, NULL, 6, 0, NULL));
    OK(nlprnn_space(c, NULL, 0, 0, E)); /* an empty text */
    const char *texts[] = {"가나"};
    size_t lens[] = {6};
    int st[1];
    INVALID(nlprnn_space_batch(NULL, texts, lens, 1, 0, st, E), nlprnn_space_batch(NULL, texts, lens, 1, 0, st, NULL));
    INVALID(nlprnn_space_batch(c, NULL, lens, 1, 0, st, E), nlprnn_space_batch(c, NULL, lens, 1, 0, st, NULL));
    INVALID(nlprnn_space_batch(c, texts, NULL, 1, 0, st, E), nlprnn_space_batch(c, texts, NULL, 1, 0, st, NULL));
    INVALID(nlprnn_space_batch(c, texts, lens, 1, 0, NULL, E), nlprnn_space_batch(c, texts, lens, 1, 0, NULL, NULL));
    OK(nlprnn_space_batch(c, texts, lens, 1, 0, st, E));
    size_t n = 1;
    SAME(nlprnn_space_text(NULL, 0, &n) == NULL, 1);
    CHECK(n == 0);
    SAME(nlprnn_space_text(c, 0, NULL) != NULL, 1); /* len optional */
    SAME(nlprnn_space_units(NULL, 0), 0);
    INVALID(nlprnn_space_unit(NULL, 0, 0, NULL, NULL, NULL, E), nlprnn_space_unit(NULL, 0, 0, NULL, NULL, NULL, NULL));
    OK(nlprnn_space_unit(c, 0, 0, NULL, NULL, NULL, E)); /* every output optional */
    nlprnn_tagger_ctx_free(c);
    nlprnn_tagger_free(t);
    nlprnn_tagger_params_free(p);
}

/* ---- translation (nlprnn/translate.h) ---------------------------------------------------------- */

static void test_translate(void) {
    const char *pairs = tmp("pairs.tsv");
    write_file(pairs, "ko\ten\n가나\tcat\n다라\tdog\n가나 다라\tcat dog\n다라 가나\tdog cat\n");
    nlprnn_translator_params *p = (nlprnn_translator_params *)&p;
    INVALID(nlprnn_translator_params_create(NULL, E), nlprnn_translator_params_create(NULL, NULL));
    OK(nlprnn_translator_params_create(&p, E));
    CHECK(p != NULL);
    VOID(nlprnn_translator_params_free(NULL));
    char buf[256];
    INVALID(nlprnn_translator_params_set(NULL, "hidden", "4", E), nlprnn_translator_params_set(NULL, "hidden", "4", NULL));
    INVALID(nlprnn_translator_params_set(p, NULL, "4", E), nlprnn_translator_params_set(p, NULL, "4", NULL));
    INVALID(nlprnn_translator_params_set(p, "hidden", NULL, E), nlprnn_translator_params_set(p, "hidden", NULL, NULL));
    INVALID(nlprnn_translator_params_get(NULL, "hidden", buf, sizeof buf, E),
            nlprnn_translator_params_get(NULL, "hidden", buf, sizeof buf, NULL));
    INVALID(nlprnn_translator_params_get(p, NULL, buf, sizeof buf, E),
            nlprnn_translator_params_get(p, NULL, buf, sizeof buf, NULL));
    INVALID(nlprnn_translator_params_get(p, "hidden", NULL, sizeof buf, E),
            nlprnn_translator_params_get(p, "hidden", NULL, sizeof buf, NULL));
    INVALID(nlprnn_translator_param_info(-1, NULL, NULL, NULL, NULL, 0, E),
            nlprnn_translator_param_info(-1, NULL, NULL, NULL, NULL, 0, NULL));
    OK(nlprnn_translator_param_info(0, NULL, NULL, NULL, NULL, 0, E)); /* every output is optional */
    const char *kv[][2] = {{"src-vocab", "262"}, {"tgt-vocab", "262"}, {"embed", "4"}, {"hidden", "4"},
                           {"epochs", "1"}, {"valid", "0"}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) nlprnn_translator_params_set(p, kv[i][0], kv[i][1], NULL);
    nlprnn_translator *t = (nlprnn_translator *)&t;
    INVALID(nlprnn_translator_train(pairs, p, NULL, NULL, NULL, NULL, E),
            nlprnn_translator_train(pairs, p, NULL, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_translator_train(NULL, p, NULL, NULL, NULL, &t, E),
            nlprnn_translator_train(NULL, p, NULL, NULL, NULL, &t, NULL));
    CHECK(t == NULL);
    INVALID(nlprnn_translator_train(pairs, NULL, NULL, NULL, NULL, &t, E),
            nlprnn_translator_train(pairs, NULL, NULL, NULL, NULL, &t, NULL));
    OK(nlprnn_translator_train(pairs, p, NULL, NULL, NULL, &t, E)); /* ctl, progress, user optional */
    nlprnn_translator *tc = (nlprnn_translator *)&tc;
    INVALID(nlprnn_translator_train_ctl(pairs, p, NULL, NULL, NULL, NULL, E),
            nlprnn_translator_train_ctl(pairs, p, NULL, NULL, NULL, NULL, NULL));
    INVALID(nlprnn_translator_train_ctl(NULL, p, NULL, NULL, NULL, &tc, E),
            nlprnn_translator_train_ctl(NULL, p, NULL, NULL, NULL, &tc, NULL));
    CHECK(tc == NULL);
    INVALID(nlprnn_translator_train_ctl(pairs, NULL, NULL, NULL, NULL, &tc, E),
            nlprnn_translator_train_ctl(pairs, NULL, NULL, NULL, NULL, &tc, NULL));
    OK(nlprnn_translator_train_ctl(pairs, p, NULL, NULL, NULL, &tc, E)); /* ctl, progress, user optional */
    nlprnn_translator_free(tc);
    const char *path = tmp("t.nrm");
    INVALID(nlprnn_translator_save(NULL, path, E), nlprnn_translator_save(NULL, path, NULL));
    INVALID(nlprnn_translator_save(t, NULL, E), nlprnn_translator_save(t, NULL, NULL));
    OK(nlprnn_translator_save(t, path, E));
    INVALID(nlprnn_translator_save_stored(NULL, path, "int8", E), nlprnn_translator_save_stored(NULL, path, "int8", NULL));
    INVALID(nlprnn_translator_save_stored(t, NULL, "int8", E), nlprnn_translator_save_stored(t, NULL, "int8", NULL));
    INVALID(nlprnn_translator_save_stored(t, path, "int4", E), nlprnn_translator_save_stored(t, path, "int4", NULL));
    OK(nlprnn_translator_save_stored(t, path, NULL, E)); /* NULL: keep */
    nlprnn_translator *u = (nlprnn_translator *)&u;
    INVALID(nlprnn_translator_load(NULL, &u, E), nlprnn_translator_load(NULL, &u, NULL));
    CHECK(u == NULL);
    INVALID(nlprnn_translator_load(path, NULL, E), nlprnn_translator_load(path, NULL, NULL));
    const char *paths[2] = {path, NULL};
    u = (nlprnn_translator *)&u;
    INVALID(nlprnn_translator_load_ensemble(NULL, 1, &u, E), nlprnn_translator_load_ensemble(NULL, 1, &u, NULL));
    CHECK(u == NULL);
    INVALID(nlprnn_translator_load_ensemble(paths, 1, NULL, E), nlprnn_translator_load_ensemble(paths, 1, NULL, NULL));
    INVALID(nlprnn_translator_load_ensemble(paths, 2, &u, E), nlprnn_translator_load_ensemble(paths, 2, &u, NULL));
    CHECK(u == NULL);
    SAME(nlprnn_translator_members(NULL), 0);
    VOID(nlprnn_translator_free(NULL));
    SAME(strcmp(nlprnn_translator_summary(NULL), ""), 0);
    SAME(nlprnn_translator_column(NULL, 0), NULL);
    SAME(nlprnn_translator_tokenizer(NULL, 0), NULL);
    SAME(nlprnn_translator_tokenizer(NULL, 1), NULL);
    nlprnn_translator_ctx *c = (nlprnn_translator_ctx *)&c;
    INVALID(nlprnn_translator_ctx_create(t, NULL, E), nlprnn_translator_ctx_create(t, NULL, NULL));
    INVALID(nlprnn_translator_ctx_create(NULL, &c, E), nlprnn_translator_ctx_create(NULL, &c, NULL));
    CHECK(c == NULL);
    VOID(nlprnn_translator_ctx_free(NULL));
    INVALID(nlprnn_translator_ctx_set(NULL, NLPRNN_TRANSLATE_BEAM, 2, E),
            nlprnn_translator_ctx_set(NULL, NLPRNN_TRANSLATE_BEAM, 2, NULL));
    INVALID(nlprnn_translator_set_default(NULL, NLPRNN_TRANSLATE_WORD_REWARD, 0, E),
            nlprnn_translator_set_default(NULL, NLPRNN_TRANSLATE_WORD_REWARD, 0, NULL));
    double dv = 0;
    INVALID(nlprnn_translator_get_default(NULL, NLPRNN_TRANSLATE_WORD_REWARD, &dv, E),
            nlprnn_translator_get_default(NULL, NLPRNN_TRANSLATE_WORD_REWARD, &dv, NULL));
    INVALID(nlprnn_translator_get_default(t, NLPRNN_TRANSLATE_WORD_REWARD, NULL, E),
            nlprnn_translator_get_default(t, NLPRNN_TRANSLATE_WORD_REWARD, NULL, NULL));
    OK(nlprnn_translator_ctx_create(t, &c, E));
    INVALID(nlprnn_translate(NULL, "x", 1, E), nlprnn_translate(NULL, "x", 1, NULL));
    INVALID(nlprnn_translate(c, NULL, 1, E), nlprnn_translate(c, NULL, 1, NULL));
    OK(nlprnn_translate(c, NULL, 0, E)); /* NULL with length 0: the empty text */
    size_t len = 7;
    SAME(nlprnn_translate_text(NULL, &len), NULL);
    CHECK(len == 0);
    SAME(nlprnn_translate_text(c, NULL) != NULL, 1); /* len is optional */
    SAME(isnan(nlprnn_translate_logprob(NULL)), 1);
    SAME(nlprnn_translate_src_len(NULL), 0);
    SAME(nlprnn_translate_tgt_len(NULL), 0);
    SAME(nlprnn_translate_piece(NULL, 0, 0), NULL);
    SAME(nlprnn_translate_attention(NULL), NULL);
    const char *bt[] = {"x", NULL};
    size_t bl[] = {1, 0};
    INVALID(nlprnn_translate_batch(NULL, bt, bl, 2, E), nlprnn_translate_batch(NULL, bt, bl, 2, NULL));
    INVALID(nlprnn_translate_batch(c, NULL, bl, 2, E), nlprnn_translate_batch(c, NULL, bl, 2, NULL));
    INVALID(nlprnn_translate_batch(c, bt, NULL, 2, E), nlprnn_translate_batch(c, bt, NULL, 2, NULL));
    OK(nlprnn_translate_batch(c, bt, bl, 2, E)); /* NULL with length 0: the empty text */
    OK(nlprnn_translate_batch(c, NULL, NULL, 0, E));
    SAME(nlprnn_translate_batch_text(NULL, 0, &len), NULL);
    CHECK(len == 0);
    SAME(nlprnn_translate_batch_text(c, 0, NULL), NULL); /* out of range */
    SAME(isnan(nlprnn_translate_batch_logprob(NULL, 0)), 1);
    double score = 0;
    const char *h[] = {"a"};
    INVALID(nlprnn_bleu(NULL, h, 1, &score, NULL, E), nlprnn_bleu(NULL, h, 1, &score, NULL, NULL));
    INVALID(nlprnn_bleu(h, NULL, 1, &score, NULL, E), nlprnn_bleu(h, NULL, 1, &score, NULL, NULL));
    INVALID(nlprnn_bleu(h, h, 1, NULL, NULL, E), nlprnn_bleu(h, h, 1, NULL, NULL, NULL));
    OK(nlprnn_bleu(NULL, NULL, 0, &score, NULL, E)); /* no segments; detail is optional */
    INVALID(nlprnn_chrf(NULL, h, 1, &score, E), nlprnn_chrf(NULL, h, 1, &score, NULL));
    INVALID(nlprnn_chrf(h, NULL, 1, &score, E), nlprnn_chrf(h, NULL, 1, &score, NULL));
    INVALID(nlprnn_chrf(h, h, 1, NULL, E), nlprnn_chrf(h, h, 1, NULL, NULL));
    nlprnn_translator_ctx_free(c);
    nlprnn_translator_free(t);
    nlprnn_translator_params_free(p);
}

/* ---- training control (nlprnn/train.h): a NULL communicator is this process alone ------------ */

static void test_train_ctl(void) {
    SAME(nlprnn_comm_rank(NULL), 0);
    SAME(nlprnn_comm_size(NULL), 1);
    VOID(nlprnn_comm_abort(NULL, 0)); /* one process: returns */
    VOID(nlprnn_comm_free(NULL));
    INVALID(nlprnn_train_ctl_create(NULL, E), nlprnn_train_ctl_create(NULL, NULL));
    VOID(nlprnn_train_ctl_free(NULL));
    VOID(nlprnn_train_ctl_set_stop(NULL, NULL));
    VOID(nlprnn_train_ctl_set_resume(NULL, 1));
    VOID(nlprnn_train_ctl_set_comm(NULL, NULL));
    INVALID(nlprnn_classifier_train_ctl(NULL, "x.tsv", NULL, "x.nrm", NULL, NULL, NULL, E),
            nlprnn_classifier_train_ctl(NULL, "x.tsv", NULL, "x.nrm", NULL, NULL, NULL, NULL));
    INVALID(nlprnn_lm_train_ctl(NULL, "x.txt", NULL, "x.nrm", NULL, NULL, NULL, E),
            nlprnn_lm_train_ctl(NULL, "x.txt", NULL, "x.nrm", NULL, NULL, NULL, NULL));
    INVALID(nlprnn_forecaster_train_ctl(NULL, NULL, NULL, NULL, NULL, NULL, E),
            nlprnn_forecaster_train_ctl(NULL, NULL, NULL, NULL, NULL, NULL, NULL));
}

/* ---- output files (nlprnn/files.h) ------------------------------------------------------------- */

static void test_files(void) {
    const char *path = tmp("out.txt");
    const char *others[1] = {tmp("corpus.txt")};
    INVALID(nlprnn_output_check(NULL, others, 1, E), nlprnn_output_check(NULL, others, 1, NULL));
    INVALID(nlprnn_output_check(path, NULL, 1, E), nlprnn_output_check(path, NULL, 1, NULL));
    OK(nlprnn_output_check(path, NULL, 0, E)); /* no others: others may be NULL */
    nlprnn_output *o = (nlprnn_output *)&o;
    INVALID(nlprnn_output_open(NULL, &o, E), nlprnn_output_open(NULL, &o, NULL));
    CHECK(o == NULL);
    INVALID(nlprnn_output_open(path, NULL, E), nlprnn_output_open(path, NULL, NULL));
    SAME(nlprnn_output_stream(NULL), NULL);
    INVALID(nlprnn_output_commit(NULL, E), nlprnn_output_commit(NULL, NULL));
    VOID(nlprnn_output_abort(NULL));
    /* a real one, err NULL: written and committed */
    o = NULL;
    CHECK_INT_EQ(nlprnn_output_open(path, &o, NULL), 0);
    CHECK(o != NULL && nlprnn_output_stream(o) != NULL);
    if (o) {
        fputs("x\n", nlprnn_output_stream(o));
        CHECK_INT_EQ(nlprnn_output_commit(o, NULL), 0);
    }
    CHECK(access(path, F_OK) == 0);
}

/* ---- export and import (nlprnn/interop.h) -------------------------------------------------------- */

static void test_interop(void) {
    nlprnn_error e;
    nlprnn_classifier *m = NULL;
    nlprnn_lm *lm = NULL;
    int rc = nlprnn_classifier_load("en", &m, &e);
    CHECK_MSG(rc == 0, "loading the shipped 'en' classifier: %s", e.message);
    rc = nlprnn_lm_load("ko", &lm, &e);
    CHECK_MSG(rc == 0, "loading the shipped 'ko' language model: %s", e.message);
    if (!m || !lm) {
        nlprnn_classifier_free(m);
        nlprnn_lm_free(lm);
        return;
    }
    const nlprnn_tokenizer *tok = nlprnn_classifier_tokenizer(m);
    const char *st = tmp("en.safetensors"), *nrm = tmp("en-imported.nrm");
    const int F = NLPRNN_EXPORT_SAFETENSORS;
    INVALID(nlprnn_classifier_export(NULL, st, F, E), nlprnn_classifier_export(NULL, st, F, NULL));
    INVALID(nlprnn_classifier_export(m, NULL, F, E), nlprnn_classifier_export(m, NULL, F, NULL));
    INVALID(nlprnn_classifier_import(NULL, tok, NULL, 0, nrm, E),
            nlprnn_classifier_import(NULL, tok, NULL, 0, nrm, NULL));
    INVALID(nlprnn_classifier_import(st, NULL, NULL, 0, nrm, E),
            nlprnn_classifier_import(st, NULL, NULL, 0, nrm, NULL));
    INVALID(nlprnn_classifier_import(st, tok, NULL, 1, nrm, E),
            nlprnn_classifier_import(st, tok, NULL, 1, nrm, NULL));
    INVALID(nlprnn_classifier_import(st, tok, NULL, 0, NULL, E),
            nlprnn_classifier_import(st, tok, NULL, 0, NULL, NULL));
    /* settings NULL with 0 of them is allowed: a real export and import */
    OK(nlprnn_classifier_export(m, st, F, E));
    OK(nlprnn_classifier_import(st, tok, NULL, 0, nrm, E));
    const nlprnn_tokenizer *ltok = nlprnn_lm_tokenizer(lm);
    const char *lst = tmp("lm.safetensors"), *lnrm = tmp("lm-imported.nrm");
    INVALID(nlprnn_lm_export(NULL, lst, F, E), nlprnn_lm_export(NULL, lst, F, NULL));
    INVALID(nlprnn_lm_export(lm, NULL, F, E), nlprnn_lm_export(lm, NULL, F, NULL));
    INVALID(nlprnn_lm_import(NULL, ltok, NULL, 0, lnrm, E), nlprnn_lm_import(NULL, ltok, NULL, 0, lnrm, NULL));
    INVALID(nlprnn_lm_import(lst, NULL, NULL, 0, lnrm, E), nlprnn_lm_import(lst, NULL, NULL, 0, lnrm, NULL));
    INVALID(nlprnn_lm_import(lst, ltok, NULL, 1, lnrm, E), nlprnn_lm_import(lst, ltok, NULL, 1, lnrm, NULL));
    INVALID(nlprnn_lm_import(lst, ltok, NULL, 0, NULL, E), nlprnn_lm_import(lst, ltok, NULL, 0, NULL, NULL));
    nlprnn_lm_free(lm);
    nlprnn_classifier_free(m);
}

/* ---- coverage: every function of the public headers is called above ------------------------------ */

static void test_coverage(void) {
    /* the headers beside this file's folder: __FILE__ is the absolute path CMake compiles; the
     * list of parts is the one public header's #include "nlprnn/X.h" lines, so a new part is
     * covered without editing this test */
    char dir[400];
    snprintf(dir, sizeof dir, "%.399s", __FILE__);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    static char headers[32][48];
    size_t n_headers = 0;
    {
        char path[512];
        snprintf(path, sizeof path, "%.400s/../include/nlprnn.h", dir);
        FILE *fp = fopen(path, "r");
        CHECK_MSG(fp != NULL, "cannot read %s", path);
        char line[256];
        while (fp && fgets(line, sizeof line, fp)) {
            const char *p = strstr(line, "#include \"nlprnn/");
            if (!p || n_headers == sizeof headers / sizeof *headers) continue;
            p += strlen("#include \"nlprnn/");
            size_t k = strcspn(p, "\"");
            if (k == 0 || k >= sizeof headers[0]) continue;
            memcpy(headers[n_headers], p, k);
            headers[n_headers++][k] = '\0';
        }
        if (fp) fclose(fp);
        CHECK_MSG(n_headers >= 8, "only %zu parts found in include/nlprnn.h", n_headers);
    }
    FILE *self = fopen(__FILE__, "r");
    CHECK_MSG(self != NULL, "cannot read %s", __FILE__);
    if (!self) return;
    static char src[1 << 17];
    size_t ns = fread(src, 1, sizeof src - 1, self);
    src[ns] = '\0';
    fclose(self);
    int functions = 0;
    for (size_t h = 0; h < n_headers; h++) {
        char path[512];
        snprintf(path, sizeof path, "%.400s/../include/nlprnn/%.40s", dir, headers[h]);
        FILE *fp = fopen(path, "r");
        CHECK_MSG(fp != NULL, "cannot read %s", path);
        if (!fp) continue;
        char line[1024], decl[2048];
        while (fgets(line, sizeof line, fp)) {
            if (!strstr(line, "NLPRNN_API ")) continue;
            /* the whole declaration (to its ';'): a deprecated alias (NLPRNN_DEPRECATED) is a
             * thin wrapper of its replacement, which is the one called here (test_deprecated
             * compares the two) */
            snprintf(decl, sizeof decl, "%s", line);
            while (!strchr(decl, ';') && fgets(line, sizeof line, fp)) {
                size_t dl = strlen(decl);
                snprintf(decl + dl, sizeof decl - dl, "%s", line);
            }
            if (strstr(decl, "NLPRNN_DEPRECATED")) continue;
            const char *p = strstr(decl, "nlprnn_");
            while (p && p[strcspn(p, "( ")] != '(') p = strstr(p + 1, "nlprnn_");
            if (!p) continue;
            char name[128];
            size_t k = strcspn(p, "(");
            if (k >= sizeof name) continue;
            memcpy(name, p, k);
            name[k] = '\0';
            char call[160];
            snprintf(call, sizeof call, "%s(", name);
            functions++;
            /* the declaration's name followed by '(' somewhere after this function's body */
            const char *body = strstr(src, "static void test_base");
            CHECK_MSG(body && strstr(body, call), "%s (%s) is not called by this test", name,
                      headers[h]);
        }
        fclose(fp);
    }
    CHECK_MSG(functions > 100, "only %d public functions found in the headers", functions);
}

int main(void) {
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_api_null_%d", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", g_dir);
    CHECK(system(cmd) == 0);
    write_file(tmp("corpus.txt"), "a b c\n");
    test_base();
    nlprnn_tokenizer *tok = make_tokenizer();
    CHECK(tok != NULL);
    if (tok) test_tokenizer(tok);
    nlprnn_tokenizer_free(tok);
    test_layers();
    test_classifier();
    test_lm();
    test_forecast();
    test_tagger();
    test_translate();
    test_train_ctl();
    test_files();
    test_interop();
    test_coverage();
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    CHECK(system(cmd) == 0);
    return nr_test_done("test_api_null");
}
