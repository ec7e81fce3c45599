/* tests/test_threads_classify.c: 8 threads classifying through ONE shared nlprnn_classifier give
 * exactly the answers of one thread (the thread rule of nlprnn/classifier.h: the model is
 * immutable and shared, each thread owns its nlprnn_classifier_ctx).
 *
 * A small model is trained on the fixture tests/data/clf_train.tsv; the 200 documents of
 * clf_test.tsv are classified once on the main thread (one by one and in batches of 16), then by
 * 8 threads at once, each walking the documents from its own starting point and comparing every
 * probability bit for bit. Run under ThreadSanitizer by scripts/tsan.sh. Public header only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
#include "testutil.h"

#define NTHREADS 8
#define MAXDOCS 256
#define BATCH 16

static char *docs[MAXDOCS];
static size_t ndocs;
static int nclasses;
static const nlprnn_classifier *shared_model;
static float *single_probs; /* (ndocs, C): nlprnn_classify, one document a call */
static float *batch_probs;  /* (ndocs, C): nlprnn_classify_batch, BATCH documents a call */

typedef struct {
    int index;
    int mismatches;
    int errors;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    nlprnn_classifier_ctx *ctx = NULL;
    nlprnn_classifier_ctx_create(shared_model, 1, &ctx, NULL);
    float *probs = malloc((size_t)nclasses * BATCH * sizeof *probs);
    int status[BATCH];
    if (!ctx || !probs) {
        w->errors++;
        nlprnn_classifier_ctx_free(ctx);
        free(probs);
        return NULL;
    }
    nlprnn_error err;
    /* One by one, starting at a different document in each thread. */
    for (size_t k = 0; k < ndocs; k++) {
        size_t i = (k + (size_t)w->index * 29) % ndocs;
        if (nlprnn_classify(ctx, docs[i], strlen(docs[i]), probs, NULL, &err) != 0) {
            w->errors++;
            continue;
        }
        if (memcmp(probs, single_probs + i * (size_t)nclasses, (size_t)nclasses * sizeof *probs))
            w->mismatches++;
    }
    /* The same batches as the main thread, in reverse order in odd threads. */
    size_t nb = (ndocs + BATCH - 1) / BATCH;
    for (size_t k = 0; k < nb; k++) {
        size_t b = (w->index & 1) ? nb - 1 - k : k;
        size_t first = b * BATCH, n = ndocs - first < BATCH ? ndocs - first : BATCH;
        if (nlprnn_classify_batch(ctx, (const char *const *)docs + first, NULL, n, probs, status,
                                  &err) != 0) {
            w->errors++;
            continue;
        }
        if (memcmp(probs, batch_probs + first * (size_t)nclasses,
                   n * (size_t)nclasses * sizeof *probs))
            w->mismatches++;
    }
    nlprnn_classifier_ctx_free(ctx);
    free(probs);
    return NULL;
}

static void read_docs(const char *path) {
    FILE *fp = fopen(path, "r");
    CHECK_MSG(fp != NULL, "cannot open %s", path);
    if (!fp) return;
    char line[4096];
    int header = 1;
    while (ndocs < MAXDOCS && fgets(line, sizeof line, fp)) {
        if (header) { /* id<TAB>document<TAB>label */
            header = 0;
            continue;
        }
        char *a = strchr(line, '\t');
        char *b = a ? strchr(a + 1, '\t') : NULL;
        if (!b) continue;
        *b = '\0';
        docs[ndocs++] = strdup(a + 1);
    }
    fclose(fp);
}

int main(void) {
    read_docs(nr_test_data_path("clf_test.tsv"));
    CHECK_MSG(ndocs >= 100, "only %zu documents read", ndocs);

    char dir[] = "/tmp/nlprnn-threads-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char model_path[128];
    snprintf(model_path, sizeof model_path, "%s/threads.nrm", dir);

    /* A small model: the test is about sharing, not accuracy. */
    nlprnn_error err;
    nlprnn_classifier_params *p = NULL;
    nlprnn_classifier_params_create(&p, NULL);
    CHECK(p != NULL);
    static const char *kv[][2] = {{"vocab", "300"}, {"embed", "16"},   {"hidden", "16"},
                                  {"epochs", "2"},  {"batch", "16"},   {"threads", "1"},
                                  {"lr", "0.01"},   {"patience", "0"}, {"valid", "0.1"},
                                  {"seed", "3"},    {"storage", "f32"}};
    for (size_t i = 0; p && i < sizeof kv / sizeof kv[0]; i++)
        CHECK_INT_EQ(nlprnn_classifier_params_set(p, kv[i][0], kv[i][1], &err), 0);
    int rc = nlprnn_classifier_train(p, nr_test_data_path("clf_train.tsv"), NULL, model_path, 0,
                                     NULL, NULL, NULL, &err);
    CHECK_MSG(rc == 0, "train: %s", err.message);
    nlprnn_classifier_params_free(p);

    nlprnn_classifier *model = NULL;
    if (rc == 0) {
        rc = nlprnn_classifier_load(model_path, &model, &err);
        CHECK_MSG(rc == 0, "load: %s", err.message);
    }
    unlink(model_path);
    rmdir(dir);
    if (!model || ndocs == 0) return nr_test_done("test_threads_classify");
    shared_model = model;
    nclasses = nlprnn_classifier_num_classes(model);
    CHECK_INT_EQ(nclasses, 2);

    /* The answers of one thread. */
    single_probs = calloc(ndocs * (size_t)nclasses, sizeof *single_probs);
    batch_probs = calloc(ndocs * (size_t)nclasses, sizeof *batch_probs);
    int *status = calloc(ndocs, sizeof *status);
    nlprnn_classifier_ctx *ctx = NULL;
    nlprnn_classifier_ctx_create(model, 1, &ctx, NULL);
    CHECK(single_probs && batch_probs && status && ctx);
    if (!single_probs || !batch_probs || !status || !ctx) return nr_test_done("test_threads_classify");
    int distinct = 0;
    for (size_t i = 0; i < ndocs; i++) {
        rc = nlprnn_classify(ctx, docs[i], strlen(docs[i]), single_probs + i * (size_t)nclasses,
                             NULL, &err);
        CHECK_MSG(rc == 0, "document %zu: %s", i, err.message);
        if (i > 0 && single_probs[i * (size_t)nclasses] != single_probs[0]) distinct = 1;
    }
    CHECK(distinct); /* the model does not answer every document alike: the test can fail */
    for (size_t first = 0; first < ndocs; first += BATCH) {
        size_t n = ndocs - first < BATCH ? ndocs - first : BATCH;
        CHECK_INT_EQ(nlprnn_classify_batch(ctx, (const char *const *)docs + first, NULL, n,
                                           batch_probs + first * (size_t)nclasses,
                                           status + first, &err),
                     0);
        for (size_t i = first; i < first + n; i++) CHECK_INT_EQ(status[i], 0);
    }
    nlprnn_classifier_ctx_free(ctx);

    /* The same answers from 8 threads sharing the model. */
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        w[t] = (worker){t, 0, 0};
        CHECK_INT_EQ(pthread_create(&th[t], NULL, work, &w[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK_MSG(w[t].mismatches == 0 && w[t].errors == 0,
                  "thread %d: %d mismatches, %d errors", t, w[t].mismatches, w[t].errors);
    }

    nlprnn_classifier_free(model);
    for (size_t i = 0; i < ndocs; i++) free(docs[i]);
    free(single_probs);
    free(batch_probs);
    free(status);
    return nr_test_done("test_threads_classify");
}
