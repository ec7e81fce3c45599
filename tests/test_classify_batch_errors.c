/* tests/test_classify_batch_errors.c: nlprnn_classify_batch_errors says where each bad document
 * of a batch is bad.
 *
 * 100 documents of the fixture tests/data/clf_test.tsv go to the shipped "ko" classifier in one
 * call, with contexts of 1 and 3 threads (3: the documents are tokenized by 3 workers, each
 * writing the records of its own range). Four of them are made bad: document K has a NUL byte on
 * its second line, document J an invalid UTF-8 sequence (an overlong form), document 5 only
 * spaces, document 90 is a NULL text of length 4. Checked:
 *   - each bad document's status and record: the code, the byte offset and line of the NUL byte /
 *     bad byte computed here by hand, and the whole record (code, line, offset, message) equal to
 *     the one nlprnn_classify gives for that text; the NULL text's record names its index;
 *   - every good document's record is cleared (code 0, line and offset -1, an empty message),
 *     whatever the array held before (it is filled with garbage first), and its probabilities
 *     are those of nlprnn_classify (within 1e-6: a batch of 64 is another row split) and those
 *     of nlprnn_classify_batch, bit for bit (doc_errs changes nothing else), also when doc_errs
 *     is NULL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlprnn.h"
#include "testutil.h"

#define N 100
#define K 37 /* a NUL byte on its second line */
#define J 81 /* invalid UTF-8 */
#define EMPTY 5
#define NULLDOC 90

static char *texts[N];
static size_t lens[N];

/* the first N documents of clf_test.tsv (id<TAB>document<TAB>label) */
static size_t read_docs(void) {
    FILE *fp = fopen(nr_test_data_path("clf_test.tsv"), "r");
    CHECK(fp != NULL);
    if (!fp) return 0;
    char line[4096];
    size_t n = 0;
    int header = 1;
    while (n < N && fgets(line, sizeof line, fp)) {
        char *a = strchr(line, '\t'), *b = a ? strchr(a + 1, '\t') : NULL;
        if (header || !b) {
            header = 0;
            continue;
        }
        *b = '\0';
        texts[n] = strdup(a + 1);
        lens[n] = strlen(a + 1);
        n++;
    }
    fclose(fp);
    return n;
}

/* texts[i] = its document + tail (tail_len bytes, may hold NUL) */
static void append(size_t i, const char *tail, size_t tail_len) {
    char *t = malloc(lens[i] + tail_len + 1);
    CHECK(t != NULL);
    if (!t) return;
    memcpy(t, texts[i], lens[i]);
    memcpy(t + lens[i], tail, tail_len);
    t[lens[i] + tail_len] = '\0';
    free(texts[i]);
    texts[i] = t;
    lens[i] += tail_len;
}

static int same_record(const nlprnn_error *a, const nlprnn_error *b) {
    return a->code == b->code && a->line == b->line && a->offset == b->offset &&
           strcmp(a->message, b->message) == 0;
}

static void run(const nlprnn_classifier *m, int threads) {
    int C = nlprnn_classifier_num_classes(m);
    nlprnn_classifier_ctx *ctx = NULL;
    nlprnn_error err;
    CHECK_INT_EQ(nlprnn_classifier_ctx_create(m, threads, &ctx, &err), 0);
    if (!ctx) return;
    float *probs = calloc((size_t)N * C, sizeof(float));
    float *plain = calloc((size_t)N * C, sizeof(float));
    float *nulled = calloc((size_t)N * C, sizeof(float));
    float *one = calloc((size_t)C, sizeof(float));
    int status[N], st_plain[N], st_nulled[N];
    nlprnn_error *doc_errs = malloc(N * sizeof *doc_errs);
    CHECK(probs && plain && nulled && one && doc_errs);
    if (!probs || !plain || !nulled || !one || !doc_errs) goto out;
    memset(doc_errs, 0x5A, N * sizeof *doc_errs); /* garbage: every record must be written */

    CHECK_INT_EQ(nlprnn_classify_batch_errors(ctx, (const char *const *)texts, lens, N, probs,
                                              status, doc_errs, &err),
                 0);
    CHECK_INT_EQ(nlprnn_classify_batch(ctx, (const char *const *)texts, lens, N, plain, st_plain,
                                       &err),
                 0);
    CHECK_INT_EQ(nlprnn_classify_batch_errors(ctx, (const char *const *)texts, lens, N, nulled,
                                              st_nulled, NULL, &err),
                 0);
    for (size_t i = 0; i < N; i++) /* a record left with garbage is still read safely below */
        doc_errs[i].message[sizeof doc_errs[i].message - 1] = '\0';
    CHECK(memcmp(probs, plain, (size_t)N * C * sizeof(float)) == 0);
    CHECK(memcmp(probs, nulled, (size_t)N * C * sizeof(float)) == 0);
    CHECK(memcmp(status, st_plain, sizeof status) == 0);
    CHECK(memcmp(status, st_nulled, sizeof status) == 0);

    /* the bad documents: the places worked out by hand */
    size_t nul_at = lens[K] - strlen("영화") - 1; /* ...\n좋은\0영화 */
    size_t bad_at = lens[J] - 4;                  /* ... \xE0\x80\x80x */
    CHECK_INT_EQ(status[K], NLPRNN_E_UTF8);
    CHECK_INT_EQ(doc_errs[K].code, NLPRNN_E_UTF8);
    CHECK_MSG(doc_errs[K].offset == (long long)nul_at && doc_errs[K].line == 2,
              "threads %d: document %d: the NUL byte at offset %lld line %lld, not %zu line 2 (%.120s)",
              threads, K, doc_errs[K].offset, doc_errs[K].line, nul_at, doc_errs[K].message);
    CHECK_INT_EQ(status[J], NLPRNN_E_UTF8);
    CHECK_INT_EQ(doc_errs[J].code, NLPRNN_E_UTF8);
    CHECK_MSG(doc_errs[J].offset == (long long)bad_at && doc_errs[J].line == 1,
              "threads %d: document %d: the bad byte at offset %lld line %lld, not %zu line 1 (%.120s)",
              threads, J, doc_errs[J].offset, doc_errs[J].line, bad_at, doc_errs[J].message);
    CHECK_INT_EQ(status[EMPTY], NLPRNN_E_EMPTY);
    CHECK_INT_EQ(doc_errs[EMPTY].code, NLPRNN_E_EMPTY);
    CHECK_INT_EQ(status[NULLDOC], NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(doc_errs[NULLDOC].code, NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(doc_errs[NULLDOC].message, "document 90") != NULL,
              "the NULL text's record does not name it: \"%.120s\"", doc_errs[NULLDOC].message);
    /* the records nlprnn_classify gives for the same texts */
    const size_t same[] = {K, J, EMPTY};
    for (size_t s = 0; s < sizeof same / sizeof same[0]; s++) {
        size_t i = same[s];
        nlprnn_error e1;
        memset(&e1, 0, sizeof e1);
        CHECK_INT_EQ(nlprnn_classify(ctx, texts[i], lens[i], one, NULL, &e1), status[i]);
        CHECK_MSG(same_record(&doc_errs[i], &e1),
                  "threads %d: document %zu: record (%d, line %lld, byte %lld, \"%.120s\") is not "
                  "nlprnn_classify's (%d, line %lld, byte %lld, \"%.120s\")",
                  threads, i, doc_errs[i].code, doc_errs[i].line, doc_errs[i].offset,
                  doc_errs[i].message, e1.code, e1.line, e1.offset, e1.message);
    }

    /* the good documents: cleared records, nlprnn_classify's probabilities */
    int good = 0, cleared = 0, close = 0, zero_rows = 0;
    for (size_t i = 0; i < N; i++) {
        if (i == K || i == J || i == EMPTY || i == NULLDOC) {
            for (int c = 0; c < C; c++) zero_rows += probs[i * C + c] == 0.0f;
            continue;
        }
        good++;
        cleared += status[i] == 0 && doc_errs[i].code == 0 && doc_errs[i].line == -1 &&
                   doc_errs[i].offset == -1 && doc_errs[i].message[0] == '\0';
        int ok = nlprnn_classify(ctx, texts[i], lens[i], one, NULL, &err) == 0;
        for (int c = 0; ok && c < C; c++) ok = fabsf(one[c] - probs[i * C + c]) <= 1e-6f;
        close += ok;
    }
    CHECK_INT_EQ(good, N - 4);
    CHECK_INT_EQ(cleared, good);
    CHECK_INT_EQ(close, good);
    CHECK_INT_EQ(zero_rows, 4 * C); /* a failed document's row is zeros */
out:
    free(probs);
    free(plain);
    free(nulled);
    free(one);
    free(doc_errs);
    nlprnn_classifier_ctx_free(ctx);
}

int main(void) {
    size_t n = read_docs();
    CHECK_INT_EQ((long long)n, N);
    if (n != N) return nr_test_done("test_classify_batch_errors");
    static const char nul_tail[] = "\n좋은\0영화"; /* the NUL on line 2 */
    append(K, nul_tail, sizeof nul_tail - 1);
    append(J, " \xE0\x80\x80x", 5); /* an overlong form of U+0000 */
    free(texts[EMPTY]);
    texts[EMPTY] = strdup("   ");
    lens[EMPTY] = 3;
    free(texts[NULLDOC]);
    texts[NULLDOC] = NULL;
    lens[NULLDOC] = 4;

    nlprnn_classifier *m = NULL;
    nlprnn_error err;
    int rc = nlprnn_classifier_load("ko", &m, &err);
    CHECK_MSG(rc == 0, "shipped model 'ko': %s", rc ? err.message : "");
    if (m) {
        run(m, 1);
        run(m, 3);
    }
    nlprnn_classifier_free(m);
    for (size_t i = 0; i < N; i++) free(texts[i]);
    return nr_test_done("test_classify_batch_errors");
}
