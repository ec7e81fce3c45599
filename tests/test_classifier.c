/* tests/test_classifier.c: the classifier end to end on the project's own fixture
 * (tests/data/clf_train.tsv / clf_test.tsv, made by tests/data/make_clf_fixture.py):
 *   train (seconds) -> save -> load -> classify (one, batch) -> evaluate -> predictions checked;
 *   f16/int8 storage within 0.5 accuracy points of f32; interrupted (callback and stop flag) and
 *   resumed training gives bit-identical weights; shipped-name lookup through NLPRNN_MODEL_DIR;
 *   corrupt files (truncated at every section boundary, flipped bytes, wrong magic/version/kind)
 *   refused with a code and a message, never a crash; the ULMFiT options (test_ulmfit): concat
 *   pooling saved in CONF, loaded, predicting as the training forward does; gradual unfreezing
 *   freezes exactly the layers it says epoch by epoch; interrupted + resumed with every option
 *   on == uninterrupted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tasks/classify/classifier.h"
#include "format/modelfile.h"
#include "models/kernels/kernels.h"
#include "nlprnn.h"
#include "testutil.h"

static char dir[256];

static nlprnn_classifier_params *small_params(const char *storage) {
    nlprnn_classifier_params *p = NULL;
    nlprnn_classifier_params_create(&p, NULL);
    static const char *kv[][2] = {{"vocab", "300"}, {"embed", "16"},   {"hidden", "16"},
                                  {"epochs", "6"},  {"batch", "16"},   {"threads", "1"},
                                  {"lr", "0.01"},   {"patience", "0"}, {"valid", "0.1"},
                                  {"seed", "7"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        CHECK_INT_EQ(nlprnn_classifier_params_set(p, kv[i][0], kv[i][1], NULL), 0);
    CHECK_INT_EQ(nlprnn_classifier_params_set(p, "storage", storage, NULL), 0);
    return p;
}

static double accuracy_of(const char *model_path, const char *data) {
    nlprnn_classifier *m = NULL;
    nlprnn_error err;
    if (nlprnn_classifier_load(model_path, &m, &err)) {
        fprintf(stderr, "load %s: %s\n", model_path, err.message);
        return -1;
    }
    nlprnn_classifier_eval ev = {.size = sizeof ev};
    int rc = nlprnn_classifier_evaluate(m, data, NULL, NULL, 1, &ev, &err);
    CHECK_MSG(rc == 0, "evaluate: %s", err.message);
    double acc = -1;
    long long *cm = ev.confusion;
    if (!rc) {
        int C = nlprnn_classifier_num_classes(m);
        long long ok = 0;
        for (int k = 0; k < C; k++) ok += cm[k * C + k];
        acc = (double)ok / (double)ev.documents;
        CHECK_INT_EQ(ev.classes, C);
        CHECK_NEAR(ev.accuracy, acc, 1e-12);
        CHECK(ev.macro_f1 > 0 && ev.macro_f1 <= ev.accuracy + 0.1);
        CHECK(ev.log_loss > 0 && ev.log_loss < 0.7);
        CHECK_INT_EQ(ev.skipped, 0);
    }
    nlprnn_free(cm);
    nlprnn_classifier_free(m);
    return acc;
}

static int stop_at_batch(void *user, const nlprnn_classifier_progress *p) {
    long long *when = user; /* {epoch, batch} */
    return p->phase == 1 && p->epoch == when[0] && p->batch == when[1];
}

static int read_all(const char *path, unsigned char **data, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    *data = malloc((size_t)sz + 1);
    *n = fread(*data, 1, (size_t)sz, fp);
    fclose(fp);
    return *n == (size_t)sz ? 0 : -1;
}

static void write_all(const char *path, const unsigned char *data, size_t n) {
    FILE *fp = fopen(path, "wb");
    fwrite(data, 1, n, fp);
    fclose(fp);
}

/* The bytes as a file must be refused by nlprnn_classifier_load with a message. */
static int refused(const char *path, const unsigned char *data, size_t n, int *code) {
    write_all(path, data, n);
    nlprnn_classifier *m = NULL;
    nlprnn_error err;
    nlprnn_error_clear(&err);
    int rc = nlprnn_classifier_load(path, &m, &err);
    nlprnn_classifier_free(m);
    if (code) *code = rc;
    return rc < 0 && err.message[0] != 0;
}

static void test_corruption(const char *model) {
    unsigned char *data = NULL;
    size_t n = 0;
    CHECK_INT_EQ(read_all(model, &data, &n), 0);
    char bad[300];
    snprintf(bad, sizeof bad, "%s/bad.nrm", dir);
    unsigned char *copy = malloc(n);
    int code;

    /* truncated at every section boundary (and one byte either side), and at every 97th byte */
    nr_mf_reader *r = NULL;
    CHECK_INT_EQ(nr_mf_open_mem(&r, data, n, "mem", NR_KIND_CLASSIFIER, NULL), 0);
    size_t ns = r ? nr_mf_section_count(r) : 0;
    CHECK(ns >= 4);
    int cuts = 0;
    for (size_t i = 0; i <= ns; i++) {
        size_t at = i < ns ? (size_t)nr_mf_section_at(r, i)->offset : n - NR_MF_TRAILER_SIZE;
        for (long d = -1; d <= 1; d++) {
            size_t len = at + d;
            if (len >= n) continue;
            CHECK_MSG(refused(bad, data, len, &code), "truncated at %zu", len);
            CHECK_MSG(code == NLPRNN_E_TRUNCATED || code == NLPRNN_E_MAGIC, "cut %zu: %d", len, code);
            cuts++;
        }
    }
    nr_mf_close(r);
    for (size_t len = 0; len < n; len += 97) CHECK_MSG(refused(bad, data, len, NULL), "cut at %zu", len);
    CHECK(cuts >= 12);

    /* one flipped byte anywhere: header, section headers, payloads, padding, trailer */
    size_t step = n / 400 + 1;
    for (size_t i = 0; i < n; i += (i < 64 ? 1 : step)) {
        memcpy(copy, data, n);
        copy[i] ^= 0x5A;
        CHECK_MSG(refused(bad, copy, n, &code), "flipped byte %zu accepted", i);
    }

    /* wrong magic, newer version (with a valid header CRC), another kind */
    memcpy(copy, data, n);
    copy[1] = 'X';
    CHECK(refused(bad, copy, n, &code));
    CHECK_INT_EQ(code, NLPRNN_E_MAGIC);
    memcpy(copy, data, n);
    copy[12] = 3; /* newer than this build reads (2) */
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), copy, 36);
    for (int k = 0; k < 4; k++) copy[36 + k] = (unsigned char)(crc >> (8 * k));
    CHECK(refused(bad, copy, n, &code));
    CHECK_INT_EQ(code, NLPRNN_E_VERSION);
    CHECK(refused(bad, (const unsigned char *)"hello, world\n", 13, &code));
    CHECK_INT_EQ(code, NLPRNN_E_MAGIC);
    CHECK(refused(bad, (const unsigned char *)"", 0, &code));
    free(copy);
    free(data);
    unlink(bad);
}

/* Large batch calls tokenize on the workers (contiguous ranges of documents) and gather layer 0's
 * projection from the context's table of rows per id (classifier.c, tokenize_docs, table_fill):
 * the statuses and probabilities are bit for bit those of one thread computing the projection per
 * call, with 1 and 2 threads, over repeated calls (rows made by an earlier call reused), bad
 * documents in the middle of both workers' ranges; the table is used exactly when the kernel path
 * has our kernel for the projection. */
static void test_table(const nlprnn_classifier *m, const char *data) {
    enum { MAXD = 256 };
    char *docs[MAXD];
    size_t n = 0;
    FILE *fp = fopen(data, "r");
    CHECK(fp != NULL);
    char line[4096];
    while (fp && n < MAXD && fgets(line, sizeof line, fp)) {
        char *a = strchr(line, '\t'), *b = a ? strchr(a + 1, '\t') : NULL;
        if (!a || !b || !strcmp(line, "id\tdocument\tlabel\n")) continue;
        *b = 0;
        /* an empty document and invalid UTF-8 in each half */
        docs[n] = strdup(n == 40 ? "" : n == 150 ? "좋아\xff요" : a + 1);
        n++;
    }
    if (fp) fclose(fp);
    CHECK_MSG(n >= 150, "%zu documents in %s", n, data);
    const nr_clf_net *net = nr_model_net(m);
    int GH = net->enc.gates * net->cfg.hidden;
    int expect_table = nr_kgemm_use(nr_kpath(), 0, 1, 64, GH, net->cfg.embed, 0);
    float *ref = calloc(n * 2, sizeof(float)), *got = calloc(n * 2, sizeof(float));
    int *st_ref = calloc(n, sizeof(int)), *st = calloc(n, sizeof(int));
    nlprnn_error err;
    /* the reference: the same call on one thread without the table (a call's batches depend on
     * its documents: other calls may round differently on paths whose products depend on M) */
    nlprnn_classifier_ctx *one = NULL;
    nlprnn_classifier_ctx_create(m, 1, &one, NULL);
    CHECK(one != NULL);
    if (one) nr_clf_ctx_table(one, 0);
    for (int threads = 1; threads <= 2; threads++)
        for (int table = 0; table <= 1; table++) {
            nlprnn_classifier_ctx *ctx = NULL;
            nlprnn_classifier_ctx_create(m, threads, &ctx, NULL);
            CHECK(ctx != NULL);
            if (!ctx) continue;
            nr_clf_ctx_table(ctx, table);
            /* 100 documents, then all: the second call meets rows made by the first */
            size_t count[2] = {100, n};
            for (int k = 0; k < 2; k++) {
                CHECK_INT_EQ(nlprnn_classify_batch(one, (const char *const *)docs, NULL, count[k], ref, st_ref, &err), 0);
                CHECK(st_ref[40] == NLPRNN_E_EMPTY && (k == 0 || st_ref[150] == NLPRNN_E_UTF8) && st_ref[41] == 0);
                CHECK_INT_EQ(nlprnn_classify_batch(ctx, (const char *const *)docs, NULL, count[k], got, st, &err), 0);
                CHECK_MSG(memcmp(st_ref, st, count[k] * sizeof(int)) == 0,
                          "threads %d, table %d, %zu documents: statuses differ", threads, table, count[k]);
                CHECK_MSG(memcmp(ref, got, count[k] * 2 * sizeof(float)) == 0,
                          "threads %d, table %d, %zu documents: probabilities differ", threads, table, count[k]);
            }
            size_t rows = nr_clf_ctx_table_rows(ctx);
            printf("threads %d, table %d (%s path): %zu rows\n", threads, table, nr_kpath_name(nr_kpath()), rows);
            CHECK_MSG(table && expect_table ? rows > 50 : rows == 0, "table rows %zu", rows);
            nlprnn_classifier_ctx_free(ctx);
        }
    nlprnn_classifier_ctx_free(one);
    for (size_t i = 0; i < n; i++) free(docs[i]);
    free(ref);
    free(got);
    free(st_ref);
    free(st);
}

/* The shipped classifier (pretrained/ko.nrm: 16,000 ids) on 300 documents of random Hangul
 * syllables, over 512 new ids in the first call (558 on ko.tok): the table's rows are made by both
 * workers (table_fill splits the new ids when there are NR_CLF_TABLE_CHUNK or more a worker);
 * the probabilities are bit for bit those of one thread without the table. */
static void test_table_shipped(void) {
    enum { N = 300 };
    nlprnn_classifier *m = NULL;
    nlprnn_error err;
    if (nlprnn_classifier_load("../pretrained/ko.nrm", &m, &err)) {
        CHECK_MSG(0, "../pretrained/ko.nrm: %s", err.message);
        return;
    }
    char *docs[N];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        int nsyl = 2 + i % 23;
        docs[i] = malloc((size_t)nsyl * 4 + 1);
        size_t k = 0;
        for (int j = 0; docs[i] && j < nsyl; j++) {
            seed = seed * 1103515245u + 12345u;
            unsigned cp = 0xAC00 + (seed >> 8) % 11172; /* a Hangul syllable */
            if (j % 4 == 3) docs[i][k++] = ' ';
            docs[i][k++] = (char)(0xE0 | (cp >> 12));
            docs[i][k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            docs[i][k++] = (char)(0x80 | (cp & 0x3F));
        }
        if (docs[i]) docs[i][k] = 0;
    }
    float *ref = calloc(N * 2, sizeof(float)), *got = calloc(N * 2, sizeof(float));
    int st_ref[N], st[N];
    nlprnn_classifier_ctx *one = NULL, *ctx = NULL;
    nlprnn_classifier_ctx_create(m, 1, &one, NULL);
    CHECK(one != NULL);
    if (one) nr_clf_ctx_table(one, 0);
    for (int threads = 1; threads <= 2 && one && ref && got; threads++) {
        nlprnn_classifier_ctx_create(m, threads, &ctx, NULL);
        CHECK(ctx != NULL);
        if (!ctx) break;
        CHECK_INT_EQ(nlprnn_classify_batch(one, (const char *const *)docs, NULL, N, ref, st_ref, &err), 0);
        CHECK_INT_EQ(nlprnn_classify_batch(ctx, (const char *const *)docs, NULL, N, got, st, &err), 0);
        CHECK(memcmp(st_ref, st, sizeof st) == 0);
        CHECK_MSG(memcmp(ref, got, N * 2 * sizeof(float)) == 0, "shipped, threads %d: probabilities differ", threads);
        size_t rows = nr_clf_ctx_table_rows(ctx);
        int expect = nr_kgemm_use(nr_kpath(), 0, 1, 64, 4 * 128, 128, 0);
        printf("shipped ko.nrm, %d threads: %zu table rows\n", threads, rows);
        CHECK_MSG(expect ? rows >= 512 : rows == 0, "table rows %zu", rows); /* 2 workers: >= 2 chunks of new ids */
        nlprnn_classifier_ctx_free(ctx);
    }
    nlprnn_classifier_ctx_free(one);
    for (int i = 0; i < N; i++) free(docs[i]);
    free(ref);
    free(got);
    nlprnn_classifier_free(m);
}

static nlprnn_classifier *train_load(nlprnn_classifier_params *p, const char *train, const char *name) {
    char path[320];
    nlprnn_error err;
    snprintf(path, sizeof path, "%s/%s.nrm", dir, name);
    int rc = nlprnn_classifier_train(p, train, NULL, path, 0, NULL, NULL, NULL, &err);
    CHECK_MSG(rc == 0, "%s: %s", name, err.message);
    nlprnn_classifier *m = NULL;
    if (!rc) CHECK_INT_EQ(nlprnn_classifier_load(path, &m, &err), 0);
    return m;
}

/* 1 if the floats [a, b) of the two models' blocks are the same bits. */
static int same_range(const nlprnn_classifier *x, const nlprnn_classifier *y, size_t a, size_t b) {
    return !memcmp(nr_model_net(x)->params + a, nr_model_net(y)->params + a, (b - a) * sizeof(float));
}

static void test_ulmfit(const char *train) {
    nlprnn_error err;
    /* concat pooling (with stlr, discriminative rates and unfreezing): the file says concat, the
     * head reads 3 O features, and the loaded model predicts what the training forward computes */
    nlprnn_classifier_params *p = small_params("f32");
    static const char *kv[][2] = {{"pool", "concat"}, {"lr-schedule", "stlr"}, {"lr-layer-decay", "2.6"},
                                  {"unfreeze", "1"}, {"epochs", "3"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        CHECK_INT_EQ(nlprnn_classifier_params_set(p, kv[i][0], kv[i][1], NULL), 0);
    CHECK(nlprnn_classifier_params_set(p, "lr-layer-decay", "0.5", &err) == NLPRNN_E_INVALID_ARG);
    CHECK(nlprnn_classifier_params_set(p, "pool", "attention", &err) == NLPRNN_E_INVALID_ARG);
    nlprnn_classifier *m = train_load(p, train, "concat");
    if (m) {
        const nr_clf_net *net = nr_model_net(m);
        CHECK_INT_EQ(net->cfg.pool, NR_POOL_CONCAT);
        CHECK_INT_EQ(net->pooled, 3 * net->enc.out_size);
        CHECK(strstr(nlprnn_classifier_summary(m), "pool=concat") != NULL);
        const char *docs[3] = {"정말 최고 명작 강추", "최악 지루 돈아깝다 노잼", "영화 감독 great"};
        nlprnn_classifier_ctx *ctx = NULL;
        CHECK_INT_EQ(nlprnn_classifier_ctx_create(m, 1, &ctx, &err), 0);
        nlprnn_encoding *enc = NULL;
        nlprnn_encoding_create(&enc, NULL);
        nr_clf_scratch s;
        memset(&s, 0, sizeof s);
        CHECK_INT_EQ(nr_clf_scratch_reserve(&s, net, 64, 1, 1, 1, NULL), 0);
        for (int i = 0; i < 3 && ctx; i++) {
            float pr[2];
            CHECK_INT_EQ(nlprnn_classify(ctx, docs[i], strlen(docs[i]), pr, NULL, &err), 0);
            /* the training forward (arg max kept, no dropout) on the same ids */
            CHECK_INT_EQ(nlprnn_tokenizer_encode(nlprnn_classifier_tokenizer(m), docs[i], strlen(docs[i]), enc, NULL), 0);
            const int32_t *ids = nlprnn_encoding_ids(enc);
            int len = (int)nlprnn_encoding_size(enc);
            int T = nr_clf_fill_batch(&s, &ids, &len, 1);
            CHECK_INT_EQ(nr_clf_forward(net, &s, T, 1, NULL, NULL), 0);
            double z = exp((double)s.logits[1] - s.logits[0]);
            CHECK_NEAR(pr[1], z / (1 + z), 1e-5);
        }
        nr_clf_scratch_free(&s);
        nlprnn_encoding_free(enc);
        /* through safetensors and back (the head's input is 3 O wide; pool=concat in the
         * metadata): the same probabilities */
        char st[320], back[320];
        snprintf(st, sizeof st, "%s/concat.safetensors", dir);
        snprintf(back, sizeof back, "%s/concat-back.nrm", dir);
        CHECK_INT_EQ(nlprnn_classifier_export(m, st, NLPRNN_EXPORT_SAFETENSORS, &err), 0);
        CHECK_INT_EQ(nlprnn_classifier_import(st, nlprnn_classifier_tokenizer(m), NULL, 0, back, &err), 0);
        nlprnn_classifier *mb = NULL;
        CHECK_INT_EQ(nlprnn_classifier_load(back, &mb, &err), 0);
        nlprnn_classifier_ctx *cb = NULL;
        if (mb) CHECK_INT_EQ(nlprnn_classifier_ctx_create(mb, 1, &cb, &err), 0);
        for (int i = 0; i < 3 && ctx && cb; i++) {
            float pa[2], pb[2];
            CHECK_INT_EQ(nlprnn_classify(ctx, docs[i], strlen(docs[i]), pa, NULL, &err), 0);
            CHECK_INT_EQ(nlprnn_classify(cb, docs[i], strlen(docs[i]), pb, NULL, &err), 0);
            CHECK_NEAR(pa[1], pb[1], 1e-5);
        }
        nlprnn_classifier_ctx_free(cb);
        nlprnn_classifier_free(mb);
        nlprnn_classifier_ctx_free(ctx);
    }

    /* interrupted in epoch 2 and resumed, every option on: the same bits as the run above */
    char res[320], ck[330];
    snprintf(res, sizeof res, "%s/concat-res.nrm", dir);
    snprintf(ck, sizeof ck, "%s.ckpt", res);
    long long when[2] = {2, 4};
    CHECK_INT_EQ(nlprnn_classifier_train(p, train, NULL, res, 0, NULL, stop_at_batch, when, &err),
                 NLPRNN_E_INTERRUPTED);
    nlprnn_classifier_params *q = small_params("f32");
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) nlprnn_classifier_params_set(q, kv[i][0], kv[i][1], NULL);
    nlprnn_classifier_params_set(q, "lr-layer-decay", "2", NULL);
    CHECK_INT_EQ(nlprnn_classifier_train(q, train, NULL, res, 1, NULL, NULL, NULL, &err), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(err.message, "lr-layer-decay=2.6") != NULL, "%s", err.message);
    nlprnn_classifier_params_free(q);
    CHECK_INT_EQ(nlprnn_classifier_train(p, train, NULL, res, 1, NULL, NULL, NULL, &err), 0);
    nlprnn_classifier *mr = NULL;
    CHECK_INT_EQ(nlprnn_classifier_load(res, &mr, &err), 0);
    if (m && mr)
        CHECK_MSG(same_range(m, mr, 0, nr_model_net(m)->n_params), "resumed weights differ");
    nlprnn_classifier_free(mr);
    nlprnn_classifier_free(m);
    nlprnn_classifier_params_free(p);

    /* gradual unfreezing, 2 layers, no validation (the last weights are the result): epoch 1 trains
     * the head only (the rest is the seed's initial weights whatever the rate), epoch 2 also layer
     * 1, not layer 0 nor the embedding */
    nlprnn_classifier *u1 = NULL, *u1b = NULL, *u2 = NULL, *f1 = NULL;
    for (int k = 0; k < 4; k++) {
        p = small_params("f32");
        nlprnn_classifier_params_set(p, "layers", "2", NULL);
        nlprnn_classifier_params_set(p, "valid", "0", NULL);
        nlprnn_classifier_params_set(p, "unfreeze", k == 3 ? "0" : "1", NULL);
        nlprnn_classifier_params_set(p, "epochs", k == 2 ? "2" : "1", NULL);
        if (k == 1) nlprnn_classifier_params_set(p, "lr", "0.003", NULL);
        nlprnn_classifier *mk = train_load(p, train, k == 0 ? "u1" : k == 1 ? "u1b" : k == 2 ? "u2" : "f1");
        *(k == 0 ? &u1 : k == 1 ? &u1b : k == 2 ? &u2 : &f1) = mk;
        nlprnn_classifier_params_free(p);
    }
    if (u1 && u1b && u2 && f1) {
        const nr_clf_net *n = nr_model_net(u1);
        size_t l1 = n->n_emb + n->enc.slot[1][0].w_ih, hb = n->n_emb + n->n_enc, np = n->n_params;
        CHECK_MSG(same_range(u1, u1b, 0, hb), "epoch 1 changed the encoder or the embedding");
        CHECK_MSG(!same_range(u1, u1b, hb, np), "the heads of two rates are the same");
        CHECK_MSG(!same_range(u1, f1, 0, hb), "without --unfreeze the encoder trains in epoch 1");
        CHECK_MSG(same_range(u1, u2, 0, l1), "epoch 2 changed layer 0 or the embedding");
        CHECK_MSG(!same_range(u1, u2, l1, hb), "epoch 2 did not train layer 1");
    }
    nlprnn_classifier_free(u1);
    nlprnn_classifier_free(u1b);
    nlprnn_classifier_free(u2);
    nlprnn_classifier_free(f1);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/nlprnn_test_clf_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const char *train = nr_test_data_path("clf_train.tsv");
    char test_path[512];
    snprintf(test_path, sizeof test_path, "%s", nr_test_data_path("clf_test.tsv"));
    char m32[300], m16[300], m8[300], mres[300], ckpt[300];
    snprintf(m32, sizeof m32, "%s/fx.nrm", dir);
    snprintf(m16, sizeof m16, "%s/fx16.nrm", dir);
    snprintf(m8, sizeof m8, "%s/fx8.nrm", dir);
    snprintf(mres, sizeof mres, "%s/resumed.nrm", dir);
    snprintf(ckpt, sizeof ckpt, "%s/resumed.nrm.ckpt", dir);
    nlprnn_error err;

    /* ---- parameters -------------------------------------------------------------------------- */
    nlprnn_classifier_params *p = small_params("f32");
    char buf[64];
    CHECK(nlprnn_classifier_params_set(p, "cell", "transformer", &err) == NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "cell") != NULL);
    CHECK(nlprnn_classifier_params_set(p, "hidden", "0", &err) == NLPRNN_E_INVALID_ARG);
    CHECK(nlprnn_classifier_params_set(p, "no-such", "1", &err) == NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_classifier_params_get(p, "pool", buf, sizeof buf, NULL), 0);
    CHECK_STR_EQ(buf, "max");

    /* ---- train, save, load, classify --------------------------------------------------------- */
    int rc = nlprnn_classifier_train(p, train, NULL, m32, 0, NULL, NULL, NULL, &err);
    CHECK_MSG(rc == 0, "train: %s", err.message);
    CHECK(access(m32, R_OK) == 0);
    char ck32[320];
    snprintf(ck32, sizeof ck32, "%s.ckpt", m32);
    CHECK(access(ck32, F_OK) != 0); /* a finished run leaves no checkpoint */
    double a32 = accuracy_of(m32, test_path);
    printf("f32: test accuracy %.4f\n", a32);
    CHECK_MSG(a32 >= 0.95, "f32 accuracy %.4f", a32);

    nlprnn_classifier *m = NULL;
    CHECK_INT_EQ(nlprnn_classifier_load(m32, &m, &err), 0);
    if (m) {
        CHECK_INT_EQ(nlprnn_classifier_num_classes(m), 2);
        CHECK_STR_EQ(nlprnn_classifier_label(m, 0), "0");
        CHECK_STR_EQ(nlprnn_classifier_label(m, 1), "1");
        CHECK(nlprnn_classifier_label(m, 2) == NULL);
        CHECK(strstr(nlprnn_classifier_summary(m), "cell=lstm") != NULL);
        nlprnn_classifier_ctx *ctx = NULL;
        nlprnn_classifier_ctx_create(m, 1, &ctx, NULL);
        float pr[2];
        const char *pos = "정말 최고 명작 강추", *neg = "최악 지루 돈아깝다 노잼";
        CHECK_INT_EQ(nlprnn_classify(ctx, pos, strlen(pos), pr, NULL, &err), 0);
        printf("positive review: p(1) = %.4f\n", pr[1]);
        CHECK_MSG(pr[1] > 0.9f, "positive review: p(1) = %f", pr[1]);
        CHECK_NEAR(pr[0] + pr[1], 1.0, 1e-5);
        CHECK_INT_EQ(nlprnn_classify(ctx, neg, strlen(neg), pr, NULL, &err), 0);
        printf("negative review: p(0) = %.4f\n", pr[0]);
        CHECK_MSG(pr[0] > 0.9f, "negative review: p(0) = %f", pr[0]);
        /* errors: empty, whitespace only, invalid UTF-8 (with its byte offset) */
        CHECK_INT_EQ(nlprnn_classify(ctx, "", 0, pr, NULL, &err), NLPRNN_E_EMPTY);
        CHECK_INT_EQ(nlprnn_classify(ctx, "  \n ", 4, pr, NULL, &err), NLPRNN_E_EMPTY);
        CHECK_INT_EQ(nlprnn_classify(ctx, "좋아\xff요", 7, pr, NULL, &err), NLPRNN_E_UTF8);
        CHECK_INT_EQ(err.offset, 6);
        /* a long document is cut to max_tokens and still classified */
        size_t big = 200000;
        char *longdoc = malloc(big + 1);
        for (size_t i = 0; i < big; i++) longdoc[i] = "great movie "[i % 12];
        size_t ntok = 0;
        CHECK_INT_EQ(nlprnn_classify(ctx, longdoc, big, pr, &ntok, &err), 0);
        CHECK(ntok > (size_t)nlprnn_classifier_max_tokens(m));
        free(longdoc);
        /* batch == one by one, in input order, bad documents flagged */
        const char *texts[6] = {pos, "", neg, "영화 감독 great", "\xc3", "boring awful 실망"};
        float bp[12], one[2];
        int st[6];
        CHECK_INT_EQ(nlprnn_classify_batch(ctx, texts, NULL, 6, bp, st, &err), 0);
        CHECK_INT_EQ(st[1], NLPRNN_E_EMPTY);
        CHECK_INT_EQ(st[4], NLPRNN_E_UTF8);
        CHECK(bp[2] == 0 && bp[3] == 0);
        for (int i = 0; i < 6; i++) {
            if (st[i]) continue;
            CHECK_INT_EQ(nlprnn_classify(ctx, texts[i], strlen(texts[i]), one, NULL, &err), 0);
            CHECK_NEAR(one[0], bp[2 * i], 1e-5);
            CHECK_NEAR(one[1], bp[2 * i + 1], 1e-5);
        }
        nlprnn_classifier_ctx_free(ctx);
        /* a context with 2 threads gives the same probabilities */
        nlprnn_classifier_ctx_create(m, 2, &ctx, NULL);
        float bp2[12];
        CHECK_INT_EQ(nlprnn_classify_batch(ctx, texts, NULL, 6, bp2, st, &err), 0);
        for (int i = 0; i < 12; i++) CHECK_NEAR(bp2[i], bp[i], 1e-5);
        nlprnn_classifier_ctx_free(ctx);
        nlprnn_classifier_ctx *bad = NULL;
        CHECK_INT_EQ(nlprnn_classifier_ctx_create(m, -1, &bad, &err), NLPRNN_E_INVALID_ARG);
        CHECK(bad == NULL && strstr(err.message, "threads -1"));
        CHECK_INT_EQ(nlprnn_classifier_ctx_create(m, NR_MAX_THREADS + 1, &bad, &err), NLPRNN_E_INVALID_ARG);
        CHECK(bad == NULL);
        /* 0: as many threads as cores, the same probabilities */
        nlprnn_classifier_ctx_create(m, 0, &ctx, NULL);
        CHECK(ctx != NULL);
        if (ctx) {
            CHECK_INT_EQ(nlprnn_classify_batch(ctx, texts, NULL, 6, bp2, st, &err), 0);
            for (int i = 0; i < 12; i++) CHECK_NEAR(bp2[i], bp[i], 1e-5);
        }
        nlprnn_classifier_ctx_free(ctx);
        test_table(m, test_path);
    }
    test_table_shipped();

    /* ---- storage: float16 and int8 within 0.5 points of float32 ------------------------------ */
    nlprnn_classifier_params *p16 = small_params("f16"), *p8 = small_params("int8");
    CHECK_INT_EQ(nlprnn_classifier_train(p16, train, NULL, m16, 0, NULL, NULL, NULL, &err), 0);
    CHECK_INT_EQ(nlprnn_classifier_train(p8, train, NULL, m8, 0, NULL, NULL, NULL, &err), 0);
    double a16 = accuracy_of(m16, test_path), a8 = accuracy_of(m8, test_path);
    printf("test accuracy: f32 %.4f, f16 %.4f, int8 %.4f\n", a32, a16, a8);
    CHECK_MSG(a16 >= a32 - 0.005, "f16 %.4f vs f32 %.4f", a16, a32);
    CHECK_MSG(a8 >= a32 - 0.005, "int8 %.4f vs f32 %.4f", a8, a32);
    nlprnn_classifier_params_free(p16);
    nlprnn_classifier_params_free(p8);

    /* ---- interrupted and resumed training gives the same weights ------------------------------ */
    long long when[2] = {3, 5}; /* stop in the middle of epoch 3 */
    rc = nlprnn_classifier_train(p, train, NULL, mres, 0, NULL, stop_at_batch, when, &err);
    CHECK_INT_EQ(rc, NLPRNN_E_INTERRUPTED);
    CHECK(strstr(err.message, "--resume") != NULL);
    CHECK(access(ckpt, R_OK) == 0);
    CHECK(access(mres, F_OK) != 0);
    /* the checkpoint is not a classifier */
    nlprnn_classifier *bad = NULL;
    CHECK_INT_EQ(nlprnn_classifier_load(ckpt, &bad, &err), NLPRNN_E_UNSUPPORTED);
    /* resuming with other parameters is refused */
    nlprnn_classifier_params *other = small_params("f32");
    nlprnn_classifier_params_set(other, "hidden", "17", NULL);
    CHECK_INT_EQ(nlprnn_classifier_train(other, train, NULL, mres, 1, NULL, NULL, NULL, &err),
                 NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(err.message, "hidden=") != NULL, "%s", err.message);
    nlprnn_classifier_params_free(other);
    /* a stop flag set before the first batch of the resumed run: another checkpoint, same place */
    volatile int stop = 1;
    CHECK_INT_EQ(nlprnn_classifier_train(p, train, NULL, mres, 1, &stop, NULL, NULL, &err),
                 NLPRNN_E_INTERRUPTED);
    rc = nlprnn_classifier_train(p, train, NULL, mres, 1, NULL, NULL, NULL, &err);
    CHECK_MSG(rc == 0, "resume: %s", err.message);
    nlprnn_classifier *mr = NULL;
    CHECK_INT_EQ(nlprnn_classifier_load(mres, &mr, &err), 0);
    if (m && mr) {
        const nr_clf_net *a = nr_model_net(m), *b = nr_model_net(mr);
        CHECK_INT_EQ(a->n_params, b->n_params);
        CHECK_MSG(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0,
                  "resumed weights differ from the uninterrupted run");
    }
    nlprnn_classifier_free(mr);
    CHECK_INT_EQ(nlprnn_classifier_train(p, train, NULL, mres, 1, NULL, NULL, NULL, &err),
                 NLPRNN_E_IO); /* no checkpoint left to resume from */

    /* the same with two data-parallel workers: interrupted + resumed == uninterrupted */
    char w2a[300], w2b[300];
    snprintf(w2a, sizeof w2a, "%s/w2a.nrm", dir);
    snprintf(w2b, sizeof w2b, "%s/w2b.nrm", dir);
    nlprnn_classifier_params *p2 = small_params("f32");
    nlprnn_classifier_params_set(p2, "threads", "2", NULL);
    nlprnn_classifier_params_set(p2, "epochs", "3", NULL);
    CHECK_INT_EQ(nlprnn_classifier_train(p2, train, NULL, w2a, 0, NULL, NULL, NULL, &err), 0);
    long long when2[2] = {2, 9};
    CHECK_INT_EQ(nlprnn_classifier_train(p2, train, NULL, w2b, 0, NULL, stop_at_batch, when2, &err),
                 NLPRNN_E_INTERRUPTED);
    CHECK_INT_EQ(nlprnn_classifier_train(p2, train, NULL, w2b, 1, NULL, NULL, NULL, &err), 0);
    nlprnn_classifier *ma = NULL, *mb = NULL;
    CHECK_INT_EQ(nlprnn_classifier_load(w2a, &ma, &err), 0);
    CHECK_INT_EQ(nlprnn_classifier_load(w2b, &mb, &err), 0);
    if (ma && mb)
        CHECK_MSG(memcmp(nr_model_net(ma)->params, nr_model_net(mb)->params,
                         nr_model_net(ma)->n_params * sizeof(float)) == 0,
                  "2 workers: resumed weights differ");
    double a2 = accuracy_of(w2a, test_path);
    printf("2 workers, 3 epochs: test accuracy %.4f\n", a2);
    CHECK_MSG(a2 >= 0.9, "2 workers learn too: %.4f", a2);
    nlprnn_classifier_free(ma);
    nlprnn_classifier_free(mb);
    nlprnn_classifier_params_free(p2);
    unlink(w2a);
    unlink(w2b);

    /* ---- ULMFiT fine-tuning options ------------------------------------------------------------ */
    test_ulmfit(train);

    /* ---- shipped names ------------------------------------------------------------------------ */
    setenv("NLPRNN_MODEL_DIR", dir, 1);
    char found[512];
    CHECK_INT_EQ(nlprnn_model_find("fx", found, sizeof found, &err), 0);
    CHECK_STR_EQ(found, m32);
    nlprnn_classifier *byname = NULL;
    CHECK_INT_EQ(nlprnn_classifier_load("fx", &byname, &err), 0);
    nlprnn_classifier_free(byname);
    CHECK_INT_EQ(nlprnn_classifier_load("no-such-model", &byname, &err), NLPRNN_E_IO);
    CHECK(strstr(err.message, "no-such-model") != NULL);
    CHECK_INT_EQ(nlprnn_model_find("../etc", found, sizeof found, &err), NLPRNN_E_INVALID_ARG);
    char *text = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(m32, &text, &err), 0);
    CHECK(text && strstr(text, "embedding") && strstr(text, "labels: 0 1"));
    nlprnn_free(text);

    /* ---- corrupt files ------------------------------------------------------------------------ */
    test_corruption(m16);

    /* ---- evaluation errors: unknown label names file:line ------------------------------------- */
    char odd[300];
    snprintf(odd, sizeof odd, "%s/odd.tsv", dir);
    FILE *fp = fopen(odd, "w");
    fprintf(fp, "id\tdocument\tlabel\n1\t최고\t1\n2\t최악\tneutral\n");
    fclose(fp);
    nlprnn_classifier_eval ev = {.size = sizeof ev};
    CHECK_INT_EQ(nlprnn_classifier_evaluate(m, odd, NULL, NULL, 1, &ev, &err), NLPRNN_E_DATA);
    CHECK(ev.confusion == NULL);
    CHECK_MSG(strstr(err.message, "odd.tsv:3") != NULL, "%s", err.message);
    unlink(odd);

    nlprnn_classifier_free(m);
    nlprnn_classifier_params_free(p);
    /* the folder holds more files than these (the interop and pooling checks write theirs): all go */
    CHECK_INT_EQ(nr_test_run(NULL, "rm -rf '%s'", dir), 0);
    return nr_test_done("test_classifier");
}
