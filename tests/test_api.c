/* tests/test_api.c: checks that use the public header only (what an application sees).
 *
 *   - the version macros agree with the library's runtime version functions;
 *   - every status code has a distinct, stable name and a description, unknown codes are named;
 *   - the error record keeps its documented ABI layout;
 *   - every free function accepts NULL;
 *   - every loader answers a missing file and a file of another kind with a clear error. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "nlprnn.h"
#include "testutil.h"

static void test_version(void) {
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", NLPRNN_VERSION_MAJOR, NLPRNN_VERSION_MINOR,
             NLPRNN_VERSION_PATCH);
    CHECK_STR_EQ(NLPRNN_VERSION_STRING, buf);
    CHECK_STR_EQ(nlprnn_version_string(), buf);
    CHECK_INT_EQ(nlprnn_version_number(), NLPRNN_VERSION_NUMBER);
    CHECK_INT_EQ(NLPRNN_VERSION_NUMBER,
                 NLPRNN_VERSION_MAJOR * 10000 + NLPRNN_VERSION_MINOR * 100 + NLPRNN_VERSION_PATCH);
}

/* The codes and their names are fixed forever (base.h): this table is the contract. */
static const struct {
    int code;
    const char *name;
} codes[] = {
    {NLPRNN_OK, "NLPRNN_OK"},
    {NLPRNN_E_INVALID_ARG, "NLPRNN_E_INVALID_ARG"},
    {NLPRNN_E_NOMEM, "NLPRNN_E_NOMEM"},
    {NLPRNN_E_IO, "NLPRNN_E_IO"},
    {NLPRNN_E_UTF8, "NLPRNN_E_UTF8"},
    {NLPRNN_E_FORMAT, "NLPRNN_E_FORMAT"},
    {NLPRNN_E_VERSION, "NLPRNN_E_VERSION"},
    {NLPRNN_E_CHECKSUM, "NLPRNN_E_CHECKSUM"},
    {NLPRNN_E_TRUNCATED, "NLPRNN_E_TRUNCATED"},
    {NLPRNN_E_MAGIC, "NLPRNN_E_MAGIC"},
    {NLPRNN_E_DATA, "NLPRNN_E_DATA"},
    {NLPRNN_E_REGEX, "NLPRNN_E_REGEX"},
    {NLPRNN_E_LIMIT, "NLPRNN_E_LIMIT"},
    {NLPRNN_E_UNSUPPORTED, "NLPRNN_E_UNSUPPORTED"},
    {NLPRNN_E_INTERRUPTED, "NLPRNN_E_INTERRUPTED"},
    {NLPRNN_E_NUMERIC, "NLPRNN_E_NUMERIC"},
    {NLPRNN_E_EMPTY, "NLPRNN_E_EMPTY"},
    {NLPRNN_E_STATE, "NLPRNN_E_STATE"},
};
#define NCODES (sizeof codes / sizeof codes[0])

static void test_status_names(void) {
    for (size_t i = 0; i < NCODES; i++) {
        CHECK_INT_EQ(codes[i].code, -(int)i); /* dense, 0 down to -17, never renumbered */
        CHECK_STR_EQ(nlprnn_status_name(codes[i].code), codes[i].name);
        const char *text = nlprnn_status_text(codes[i].code);
        CHECK(text != NULL && text[0] != '\0');
        for (size_t j = 0; j < i; j++) {
            CHECK_MSG(strcmp(nlprnn_status_text(codes[j].code), text) != 0,
                      "codes %d and %d share the description \"%s\"", codes[j].code,
                      codes[i].code, text);
        }
    }
    /* Unknown codes (future ones, positive ones) still get a name and a text, never NULL. */
    const int unknown[] = {1, 7, -18, -1000, 2147483647, -2147483647 - 1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *n = nlprnn_status_name(unknown[i]);
        const char *t = nlprnn_status_text(unknown[i]);
        CHECK(n != NULL && strncmp(n, "NLPRNN_", 7) == 0);
        CHECK(t != NULL && t[0] != '\0');
        for (size_t j = 0; j < NCODES; j++) CHECK(n == NULL || strcmp(n, codes[j].name) != 0);
    }
}

static void test_error_record(void) {
    /* The layout is part of the ABI (base.h): 512 bytes, fields at fixed offsets. */
    CHECK_INT_EQ(sizeof(nlprnn_error), 512);
    CHECK_INT_EQ(offsetof(nlprnn_error, code), 0);
    CHECK_INT_EQ(offsetof(nlprnn_error, line), 8);
    CHECK_INT_EQ(offsetof(nlprnn_error, offset), 16);
    CHECK_INT_EQ(offsetof(nlprnn_error, message), 24);
    nlprnn_error e;
    memset(&e, 0x5a, sizeof e);
    nlprnn_error_clear(&e);
    CHECK_INT_EQ(e.code, NLPRNN_OK);
    CHECK_INT_EQ(e.line, -1);
    CHECK_INT_EQ(e.offset, -1);
    CHECK_STR_EQ(e.message, "");
    nlprnn_error_clear(NULL); /* allowed */
}

static void test_null_frees(void) {
    /* Every free function of the API accepts NULL and does nothing. */
    nlprnn_free(NULL);
    nlprnn_tokenizer_free(NULL);
    nlprnn_encoding_free(NULL);
    nlprnn_tokenizer_params_free(NULL);
    nlprnn_layer_free(NULL);
    nlprnn_optimizer_free(NULL);
    nlprnn_classifier_free(NULL);
    nlprnn_classifier_ctx_free(NULL);
    nlprnn_classifier_params_free(NULL);
    nlprnn_lm_free(NULL);
    nlprnn_lm_ctx_free(NULL);
    nlprnn_lm_choices_free(NULL, 0);
    nlprnn_lm_params_free(NULL);
    nlprnn_series_free(NULL);
    nlprnn_forecaster_params_free(NULL);
    nlprnn_forecaster_free(NULL);
}

/* Every loader answers a missing file with NLPRNN_E_IO and a message naming the path, and a
 * file that is not an nlprnn file of its kind with a file error (never a crash, never success);
 * the output handle stays NULL in both cases. */
#define MISSING "/nonexistent-nlprnn-dir/missing.nrm"
static void check_missing(const char *what, int rc, const void *out, const nlprnn_error *err) {
    CHECK_MSG(rc == NLPRNN_E_IO, "%s: %s instead of NLPRNN_E_IO", what, nlprnn_status_name(rc));
    CHECK_MSG(err->code == rc, "%s: err.code %d, returned %d", what, err->code, rc);
    CHECK_MSG(strstr(err->message, MISSING) != NULL, "%s: message \"%s\" does not name the path",
              what, err->message);
    CHECK_MSG(out == NULL, "%s: output handle set on failure", what);
}

static int is_file_error(int rc) {
    return rc == NLPRNN_E_MAGIC || rc == NLPRNN_E_FORMAT || rc == NLPRNN_E_TRUNCATED ||
           rc == NLPRNN_E_VERSION || rc == NLPRNN_E_CHECKSUM || rc == NLPRNN_E_UNSUPPORTED;
}

static void check_not_ours(const char *what, int rc, const void *out, const nlprnn_error *err,
                           const char *path) {
    CHECK_MSG(is_file_error(rc), "%s on a TSV file: %s (%s)", what, nlprnn_status_name(rc),
              err->message);
    CHECK_MSG(strstr(err->message, "clf_test.tsv") != NULL, "%s: message \"%s\" does not name %s",
              what, err->message, path);
    CHECK_MSG(out == NULL, "%s: output handle set on failure", what);
}

static void test_loaders(void) {
    nlprnn_error err;
    nlprnn_tokenizer *tok = NULL;
    nlprnn_classifier *model = NULL;
    nlprnn_lm *lm = NULL;
    nlprnn_forecaster *fc = NULL;
    char *text = NULL;
    check_missing("nlprnn_tokenizer_load", nlprnn_tokenizer_load(MISSING, &tok, &err), tok, &err);
    check_missing("nlprnn_classifier_load", nlprnn_classifier_load(MISSING, &model, &err), model, &err);
    check_missing("nlprnn_lm_load", nlprnn_lm_load(MISSING, &lm, &err), lm, &err);
    check_missing("nlprnn_forecaster_load", nlprnn_forecaster_load(MISSING, &fc, &err), fc, &err);
    check_missing("nlprnn_model_file_describe", nlprnn_model_file_describe(MISSING, &text, &err), text,
                  &err);

    const char *tsv = nr_test_data_path("clf_test.tsv");
    check_not_ours("nlprnn_tokenizer_load", nlprnn_tokenizer_load(tsv, &tok, &err), tok, &err, tsv);
    check_not_ours("nlprnn_classifier_load", nlprnn_classifier_load(tsv, &model, &err), model, &err, tsv);
    check_not_ours("nlprnn_lm_load", nlprnn_lm_load(tsv, &lm, &err), lm, &err, tsv);
    check_not_ours("nlprnn_forecaster_load", nlprnn_forecaster_load(tsv, &fc, &err), fc, &err, tsv);
    check_not_ours("nlprnn_model_file_describe", nlprnn_model_file_describe(tsv, &text, &err), text,
                   &err, tsv);
    nlprnn_tokenizer_free(tok);
    nlprnn_classifier_free(model);
    nlprnn_lm_free(lm);
    nlprnn_forecaster_free(fc);
    nlprnn_free(text);

    /* A NULL error record is allowed everywhere. */
    CHECK_INT_EQ(nlprnn_tokenizer_load(MISSING, &tok, NULL), NLPRNN_E_IO);
    CHECK_INT_EQ(nlprnn_classifier_load(MISSING, &model, NULL), NLPRNN_E_IO);
}

int main(void) {
    test_version();
    test_status_names();
    test_error_record();
    test_null_frees();
    test_loaders();
    return nr_test_done("test_api");
}
