/* tests/test_threads_lm.c: 8 threads using ONE shared language model (each with its own
 * nlprnn_lm_ctx) give exactly the answers of one thread: sentence scores in both directions,
 * next-word lists and fill-in-the-blank rankings, compared bit for bit (the thread rule of
 * nlprnn/lm.h). A tiny model is trained here on the fixture's review texts. Run under
 * ThreadSanitizer by scripts/tsan.sh. Public header only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
#include "testutil.h"

#define NTHREADS 8
#define MAXDOCS 64
#define K 3

static char *docs[MAXDOCS];   /* sentences */
static char *blanks[MAXDOCS]; /* the same with the second word replaced by "___" */
static size_t ndocs;
static const nlprnn_lm *shared_lm;

typedef struct {
    double score[2];
    size_t n_next, n_fill;
    double next_p[K], fill_p[K];
    char *next_w[K], *fill_w[K];
} answer;
static answer expected[MAXDOCS];

static const char *const cands[] = {"영화", "최고", "the", "스토리"};

/* Compute every answer for document i into a (texts strdup'ed). Returns 0 or a status. */
static int compute(nlprnn_lm_ctx *ctx, size_t i, answer *a) {
    nlprnn_error err;
    memset(a, 0, sizeof *a);
    for (int d = 0; d < 2; d++) {
        int rc = nlprnn_lm_score(ctx, docs[i], strlen(docs[i]), d, &a->score[d], NULL, &err);
        if (rc) return rc;
    }
    nlprnn_lm_choice *c = NULL;
    size_t n = 0;
    int rc = nlprnn_lm_next(ctx, docs[i], strlen(docs[i]), K, &c, &n, &err);
    if (rc) return rc;
    a->n_next = n;
    for (size_t j = 0; j < n && j < K; j++) {
        a->next_p[j] = c[j].prob;
        a->next_w[j] = strdup(c[j].text);
    }
    nlprnn_lm_choices_free(c, n);
    rc = nlprnn_lm_fill(ctx, blanks[i], strlen(blanks[i]), cands, 4, K, &c, &n, &err);
    if (rc) return rc;
    a->n_fill = n;
    for (size_t j = 0; j < n && j < K; j++) {
        a->fill_p[j] = c[j].prob;
        a->fill_w[j] = strdup(c[j].text);
    }
    nlprnn_lm_choices_free(c, n);
    return 0;
}

static void release(answer *a) {
    for (int j = 0; j < K; j++) {
        free(a->next_w[j]);
        free(a->fill_w[j]);
    }
}

static int same(const answer *a, const answer *b) {
    if (memcmp(a->score, b->score, sizeof a->score) || a->n_next != b->n_next ||
        a->n_fill != b->n_fill)
        return 0;
    for (size_t j = 0; j < a->n_next && j < K; j++)
        if (memcmp(&a->next_p[j], &b->next_p[j], sizeof(double)) ||
            strcmp(a->next_w[j], b->next_w[j]))
            return 0;
    for (size_t j = 0; j < a->n_fill && j < K; j++)
        if (memcmp(&a->fill_p[j], &b->fill_p[j], sizeof(double)) ||
            strcmp(a->fill_w[j], b->fill_w[j]))
            return 0;
    return 1;
}

typedef struct {
    int index, mismatches, errors;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    nlprnn_lm_ctx *ctx = NULL;
    nlprnn_lm_ctx_create(shared_lm, &ctx, NULL);
    if (!ctx) {
        w->errors++;
        return NULL;
    }
    for (size_t k = 0; k < ndocs; k++) {
        size_t i = (k + (size_t)w->index * 5) % ndocs;
        answer a;
        if (compute(ctx, i, &a) != 0)
            w->errors++;
        else if (!same(&a, &expected[i]))
            w->mismatches++;
        release(&a);
    }
    nlprnn_lm_ctx_free(ctx);
    return NULL;
}

/* Documents of the fixture (second TSV column) with at least two words. */
static void read_docs(const char *path, FILE *text_out) {
    FILE *fp = fopen(path, "r");
    CHECK_MSG(fp != NULL, "cannot open %s", path);
    if (!fp) return;
    char line[4096];
    int header = 1;
    while (fgets(line, sizeof line, fp)) {
        if (header) {
            header = 0;
            continue;
        }
        char *a = strchr(line, '\t');
        char *b = a ? strchr(a + 1, '\t') : NULL;
        if (!b) continue;
        *b = '\0';
        fprintf(text_out, "%s\n", a + 1);
        char *sp1 = strchr(a + 1, ' ');
        char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (ndocs < MAXDOCS && sp2) {
            docs[ndocs] = strdup(a + 1);
            size_t n = strlen(a + 1) + 8;
            blanks[ndocs] = malloc(n);
            if (blanks[ndocs])
                snprintf(blanks[ndocs], n, "%.*s ___%s", (int)(sp1 - (a + 1)), a + 1, sp2);
            ndocs++;
        }
    }
    fclose(fp);
}

int main(void) {
    char dir[] = "/tmp/nlprnn-threads-lm-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char text_path[128], tok_path[128], model_path[128];
    snprintf(text_path, sizeof text_path, "%s/text.txt", dir);
    snprintf(tok_path, sizeof tok_path, "%s/tok.tok", dir);
    snprintf(model_path, sizeof model_path, "%s/lm.nrm", dir);
    FILE *tf = fopen(text_path, "w");
    CHECK(tf != NULL);
    if (!tf) return nr_test_done("test_threads_lm");
    read_docs(nr_test_data_path("clf_train.tsv"), tf);
    fclose(tf);
    CHECK_MSG(ndocs >= 32, "only %zu documents", ndocs);

    /* A tokenizer and a tiny forward + backward LSTM language model. */
    nlprnn_error err;
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    CHECK(o != NULL);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "vocab-size", "400", &err), 0);
    const char *paths[] = {text_path};
    nlprnn_tokenizer *tok = NULL;
    int rc = nlprnn_tokenizer_train_files(o, paths, 1, &tok, &err);
    CHECK_MSG(rc == 0, "tokenizer: %s", err.message);
    nlprnn_tokenizer_params_free(o);
    if (rc == 0) CHECK_INT_EQ(nlprnn_tokenizer_save(tok, tok_path, &err), 0);
    nlprnn_tokenizer_free(tok);

    nlprnn_lm_params *p = NULL;

    nlprnn_lm_params_create(&p, NULL);
    CHECK(p != NULL);
    static const char *kv[][2] = {{"embed", "16"},     {"hidden", "16"}, {"softmax", "full"},
                                  {"batch", "16"},     {"epochs", "2"},  {"max-len", "32"},
                                  {"storage", "f32"},  {"seed", "5"},    {"lr", "0.01"}};
    CHECK_INT_EQ(nlprnn_lm_params_set(p, "tokenizer", tok_path, &err), 0);
    for (size_t i = 0; p && i < sizeof kv / sizeof kv[0]; i++)
        CHECK_MSG(nlprnn_lm_params_set(p, kv[i][0], kv[i][1], &err) == 0, "%s: %s", kv[i][0],
                  err.message);
    rc = nlprnn_lm_train(p, text_path, NULL, model_path, NULL, NULL, NULL, &err);
    CHECK_MSG(rc == 0, "lm train: %s", err.message);
    nlprnn_lm_params_free(p);
    nlprnn_lm *lm = NULL;
    if (rc == 0) {
        rc = nlprnn_lm_load(model_path, &lm, &err);
        CHECK_MSG(rc == 0, "load: %s", err.message);
    }
    unlink(text_path);
    unlink(tok_path);
    unlink(model_path);
    rmdir(dir);
    if (!lm) return nr_test_done("test_threads_lm");
    CHECK(nlprnn_lm_has_backward(lm));
    shared_lm = lm;

    /* The answers of one thread. */
    nlprnn_lm_ctx *ctx = NULL;
    nlprnn_lm_ctx_create(lm, &ctx, NULL);
    CHECK(ctx != NULL);
    int varied = 0;
    for (size_t i = 0; ctx && i < ndocs; i++) {
        rc = compute(ctx, i, &expected[i]);
        CHECK_MSG(rc == 0, "document %zu: %s", i, nlprnn_status_name(rc));
        CHECK(expected[i].n_next >= 1 && expected[i].n_fill >= 1);
        if (i && expected[i].score[0] != expected[0].score[0]) varied = 1;
    }
    CHECK(varied); /* the answers depend on the text: the comparison below can fail */
    nlprnn_lm_ctx_free(ctx);

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
                  "thread %d: %d mismatches, %d errors out of %zu documents", t, w[t].mismatches,
                  w[t].errors, ndocs);
    }

    nlprnn_lm_free(lm);
    for (size_t i = 0; i < ndocs; i++) {
        release(&expected[i]);
        free(docs[i]);
        free(blanks[i]);
    }
    return nr_test_done("test_threads_lm");
}
