/* tests/test_safetensors.c: the safetensors reader and writer (format/safetensors.h), the
 * import/export of classifiers and language models (nlprnn/interop.h) without PyTorch, and .vec
 * export.
 *
 *   - writer -> reader round trip: metadata, F32/F16 tensors, a scalar, an empty tensor, 8-byte
 *     alignment; F16/BF16/F64 read as float32; other dtypes refused on read;
 *   - the reader refuses, with its code and a message naming the problem, every malformed file of
 *     a table (header length, JSON, dtype, shape vs bytes, overlap, hole, trailing bytes,
 *     duplicates, unknown fields, non-finite values ...);
 *   - export -> import -> export of the shipped classifier and language model gives the same
 *     bytes (every weight survives exactly), and the imported models classify / score as the
 *     originals;
 *   - import refuses what does not fit (a left-over tensor, a tokenizer of another size, missing
 *     pooling, a metadata size that disagrees with the tensors, an unknown setting);
 *   - a .vec export reads back (the .vec loader of `train --vectors`) as the same table.
 */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "embed/embedding.h"
#include "format/safetensors.h"
#include "tasks/classify/classifier.h"
#include "nlprnn.h"
#include "testutil.h"

static char dir[256];

static const char *tmp(const char *name) {
    static char buf[32][512];
    static int slot;
    char *p = buf[slot++ % 32];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

/* A file from a header text and n data bytes (value i & 0xff). */
static unsigned char *make(const char *header, size_t ndata, size_t *n) {
    size_t hn = strlen(header);
    unsigned char *b = malloc(8 + hn + ndata + 1);
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)((uint64_t)hn >> (8 * k));
    memcpy(b + 8, header, hn);
    for (size_t i = 0; i < ndata; i++) b[8 + hn + i] = (unsigned char)i;
    *n = 8 + hn + ndata;
    return b;
}

/* The reader must refuse header+data with code and a message containing `want`. */
static void refuse(const char *header, size_t ndata, int code, const char *want) {
    size_t n;
    unsigned char *b = make(header, ndata, &n);
    nr_st_file *f = NULL;
    nlprnn_error err;
    nlprnn_error_clear(&err);
    int rc = nr_st_open_mem(&f, b, n, "bad.safetensors", &err);
    CHECK_MSG(rc == code && strstr(err.message, want) && strstr(err.message, "bad.safetensors"),
              "header %s: got %s \"%s\", expected %s with \"%s\"", header, nlprnn_status_name(rc),
              err.message, nlprnn_status_name(code), want);
    CHECK(f == NULL);
    nr_st_close(f);
    free(b);
}

static void test_round_trip(void) {
    nr_st_writer *w = NULL;
    nlprnn_error err;
    CHECK(nr_st_writer_new(&w, &err) == 0);
    float a[6] = {1, -2.5f, 3e-8f, 65504, -0.0f, 0.333333343f};
    size_t s23[2] = {2, 3}, s0[1] = {0}, s6[1] = {6};
    float scalar = 42;
    CHECK(nr_st_put_meta(w, "kind", "classifier", &err) == 0);
    CHECK(nr_st_put_meta(w, "labels", "neg\npos \"quoted\" \\ é", &err) == 0);
    CHECK(nr_st_put_meta(w, "kind", "again", &err) == NLPRNN_E_INVALID_ARG);
    CHECK(nr_st_put_f32(w, "a.weight", a, 2, s23, NR_ST_F32, &err) == 0);
    CHECK(nr_st_put_f32(w, "half", a, 1, s6, NR_ST_F16, &err) == 0);
    CHECK(nr_st_put_f32(w, "empty", a, 1, s0, NR_ST_F32, &err) == 0);
    CHECK(nr_st_put_f32(w, "scalar", &scalar, 0, NULL, NR_ST_F32, &err) == 0);
    CHECK(nr_st_put_f32(w, "a.weight", a, 1, s6, NR_ST_F32, &err) == NLPRNN_E_INVALID_ARG);
    CHECK(nr_st_put_f32(w, "__metadata__", a, 1, s6, NR_ST_F32, &err) == NLPRNN_E_INVALID_ARG);
    unsigned char *buf = NULL;
    size_t n = 0;
    CHECK(nr_st_writer_to_mem(w, &buf, &n, &err) == 0);
    nr_st_writer_free(w);
    uint64_t hn = 0;
    for (int k = 7; k >= 0; k--) hn = hn << 8 | buf[k];
    CHECK_MSG(hn % 8 == 0, "header length %llu is not a multiple of 8", (unsigned long long)hn);
    CHECK_INT_EQ(n, 8 + hn + 6 * 4 + 6 * 2 + 0 + 4);
    nr_st_file *f = NULL;
    int rc = nr_st_open_mem(&f, buf, n, "rt", &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (!rc) {
        CHECK_INT_EQ(nr_st_count(f), 4);
        CHECK_STR_EQ(nr_st_meta(f, "kind"), "classifier");
        CHECK_STR_EQ(nr_st_meta(f, "labels"), "neg\npos \"quoted\" \\ é");
        CHECK(nr_st_meta(f, "missing") == NULL);
        const nr_st_tensor *t = nr_st_find(f, "a.weight");
        CHECK(t && t->dtype == NR_ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
        float back[6];
        if (t) CHECK(nr_st_read_f32(f, t, back, &err) == 0 && !memcmp(back, a, sizeof a));
        t = nr_st_find(f, "half");
        if (t) {
            CHECK(nr_st_read_f32(f, t, back, &err) == 0);
            CHECK(back[0] == 1 && back[1] == -2.5f && back[3] == 65504 && fabsf(back[5] - a[5]) < 1e-3f);
        }
        t = nr_st_find(f, "empty");
        CHECK(t && t->count == 0 && t->begin == t->end);
        t = nr_st_find(f, "scalar");
        CHECK(t && t->ndim == 0 && t->count == 1);
        if (t) CHECK(nr_st_read_f32(f, t, back, &err) == 0 && back[0] == 42);
        CHECK(nr_st_find(f, "nope") == NULL);
    }
    nr_st_close(f);
    free(buf);
}

static void test_dtypes(void) {
    /* BF16 1.0 = 0x3F80, F64 -2.0, I32 7, F32 NaN */
    const char *h = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                    "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[2,10]},"
                    "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[10,14]},"
                    "\"n\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[14,18]},"
                    "\"big\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[18,26]}}";
    size_t n;
    unsigned char *b = make(h, 26, &n);
    unsigned char *d = b + 8 + strlen(h);
    d[0] = 0x80, d[1] = 0x3F;
    double m2 = -2.0, huge = 1e300;
    memcpy(d + 2, &m2, 8);
    int32_t seven = 7;
    memcpy(d + 10, &seven, 4);
    uint32_t nan = 0x7fc00000u;
    memcpy(d + 14, &nan, 4);
    memcpy(d + 18, &huge, 8);
    nr_st_file *f = NULL;
    nlprnn_error err;
    int rc = nr_st_open_mem(&f, b, n, "dt", &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    float v = 0;
    if (!rc) {
        CHECK(nr_st_read_f32(f, nr_st_find(f, "b"), &v, &err) == 0 && v == 1.0f);
        CHECK(nr_st_read_f32(f, nr_st_find(f, "d"), &v, &err) == 0 && v == -2.0f);
        CHECK(nr_st_read_f32(f, nr_st_find(f, "i"), &v, &err) == NLPRNN_E_UNSUPPORTED &&
              strstr(err.message, "I32"));
        CHECK(nr_st_read_f32(f, nr_st_find(f, "n"), &v, &err) == NLPRNN_E_FORMAT &&
              strstr(err.message, "not finite"));
        CHECK(nr_st_read_f32(f, nr_st_find(f, "big"), &v, &err) == NLPRNN_E_FORMAT &&
              strstr(err.message, "float32's range"));
    }
    nr_st_close(f);
    free(b);
}

/* A file of metadata and no tensors is valid (safetensors allows it): it opens with 0 tensors
 * (found by fuzz_safetensors: the layout check then sorted a NULL array, undefined behaviour that
 * the sanitizer build stops on) */
static void test_no_tensors(void) {
    static const char hdr[] = "{\"__metadata__\":{\"kind\":\"classifier\"}}";
    unsigned char buf[8 + sizeof hdr];
    size_t hl = sizeof hdr - 1;
    for (int k = 0; k < 8; k++) buf[k] = (unsigned char)((uint64_t)hl >> (8 * k));
    memcpy(buf + 8, hdr, hl);
    nr_st_file *f = NULL;
    nlprnn_error err;
    int rc = nr_st_open_mem(&f, buf, 8 + hl, "meta-only.safetensors", &err);
    CHECK_MSG(rc == NLPRNN_OK, "%s", err.message);
    if (rc) return;
    CHECK(nr_st_count(f) == 0);
    CHECK(nr_st_find(f, "kind") == NULL);
    CHECK(nr_st_meta(f, "kind") && !strcmp(nr_st_meta(f, "kind"), "classifier"));
    nr_st_close(f);
}

static void test_refusals(void) {
    nr_st_file *f = NULL;
    nlprnn_error err;
    unsigned char small[5] = {1, 2, 3, 4, 5};
    CHECK(nr_st_open_mem(&f, small, 5, "bad.safetensors", &err) == NLPRNN_E_TRUNCATED);
    CHECK(nr_st_open_mem(&f, small, 0, "bad.safetensors", &err) == NLPRNN_E_EMPTY);
    unsigned char huge[16] = {0, 0, 0, 0, 0, 0, 0, 1, '{', '}'};
    CHECK(nr_st_open_mem(&f, huge, 16, "bad.safetensors", &err) == NLPRNN_E_MAGIC &&
          strstr(err.message, "not a safetensors file"));
    /* a header over 100 MB in a file that holds it: refused before it is read (the pages of the
     * mapping beyond the first are never touched) */
    size_t big = 8 + (size_t)NR_ST_MAX_HEADER + 16;
    unsigned char *map = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    if (map != MAP_FAILED) {
        uint64_t hl = NR_ST_MAX_HEADER + 1;
        for (int k = 0; k < 8; k++) map[k] = (unsigned char)(hl >> (8 * k));
        map[8] = '{';
        int rc = nr_st_open_mem(&f, map, big, "big.safetensors", &err);
        CHECK_MSG(rc == NLPRNN_E_LIMIT && strstr(err.message, "over the limit of 100000000"),
                  "%s", err.message);
        munmap(map, big);
    }
    unsigned char longer[12] = {200, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' '};
    CHECK(nr_st_open_mem(&f, longer, 12, "bad.safetensors", &err) == NLPRNN_E_TRUNCATED);
    refuse("[]", 0, NLPRNN_E_MAGIC, "not a safetensors file");
    refuse("\x89NLPRNN\n", 0, NLPRNN_E_MAGIC, "not a safetensors file");
    refuse("{\"a\" {}}", 0, NLPRNN_E_FORMAT, "expected ':'");
    refuse("{\"a\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, NLPRNN_E_FORMAT,
           "unknown dtype");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, NLPRNN_E_FORMAT,
           "2 elements of F32 are 8 bytes");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
           6, NLPRNN_E_FORMAT, "overlaps");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
           12, NLPRNN_E_FORMAT, "[4, 8) belong to no tensor");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 6, NLPRNN_E_FORMAT,
           "at the end of the file belong to no tensor");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 2, NLPRNN_E_TRUNCATED,
           "truncated");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
           "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
           8, NLPRNN_E_FORMAT, "'a' appears twice");
    refuse("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
           NLPRNN_E_FORMAT, "dtype appears twice");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
           NLPRNN_E_FORMAT, "unknown field");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, NLPRNN_E_FORMAT, "lacks data_offsets");
    refuse("{\"__metadata__\":{\"k\":1}}", 0, NLPRNN_E_FORMAT, "must be a string");
    refuse("{\"__metadata__\":{},\"__metadata__\":{}}", 0, NLPRNN_E_FORMAT, "appears twice");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, NLPRNN_E_FORMAT,
           "shape must be");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, NLPRNN_E_FORMAT,
           "shape must be");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, NLPRNN_E_FORMAT,
           "END is before BEGIN");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, NLPRNN_E_FORMAT,
           "[BEGIN, END]");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
           NLPRNN_E_FORMAT, "at most 8");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
           NLPRNN_E_FORMAT, "overflows");
    refuse("{} x", 0, NLPRNN_E_FORMAT, "text after the header");
    refuse("{\"\xff\":1}", 0, NLPRNN_E_FORMAT, "invalid UTF-8");
    refuse("{\"\\ud800\":1}", 0, NLPRNN_E_FORMAT, "surrogate");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, NLPRNN_E_FORMAT,
           "expected ',' or '}'");
    refuse("{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4, NLPRNN_E_FORMAT,
           "leading zero");
    /* an error's offset is the byte in the file */
    size_t n;
    unsigned char *b = make("{\"a\" {}}", 0, &n);
    CHECK(nr_st_open_mem(&f, b, n, "x", &err) == NLPRNN_E_FORMAT && err.offset == 8 + 5);
    free(b);
    /* escapes decode; spaces may pad the header */
    b = make("{\"a\\u00e9\\ud83d\\ude00\\n\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}   ", 2,
             &n);
    int rc = nr_st_open_mem(&f, b, n, "esc", &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (!rc) CHECK(nr_st_find(f, "a\xc3\xa9\xf0\x9f\x98\x80\n") != NULL);
    nr_st_close(f);
    free(b);
}

/* a file made by writer calls, for the import refusals */
static const char *write_st(const char *name, int extra, int classes, const char *meta_layers) {
    const char *path = tmp(name);
    nr_st_writer *w = NULL;
    nlprnn_error err;
    int V = 8000, E = 4, H = 3, G = 4;
    float *z = calloc((size_t)V * E, sizeof(float));
    size_t se[2] = {(size_t)V, (size_t)E}, si[2] = {(size_t)G * H, (size_t)E},
           sh[2] = {(size_t)G * H, (size_t)H}, sb[1] = {(size_t)G * H}, sf[2] = {(size_t)classes, (size_t)H},
           sc[1] = {(size_t)classes};
    nr_st_writer_new(&w, &err);
    if (meta_layers) nr_st_put_meta(w, "layers", meta_layers, &err);
    nr_st_put_f32(w, "embedding.weight", z, 2, se, NR_ST_F32, &err);
    nr_st_put_f32(w, "lstm.weight_ih_l0", z, 2, si, NR_ST_F32, &err);
    nr_st_put_f32(w, "lstm.weight_hh_l0", z, 2, sh, NR_ST_F32, &err);
    nr_st_put_f32(w, "lstm.bias_ih_l0", z, 1, sb, NR_ST_F32, &err);
    nr_st_put_f32(w, "lstm.bias_hh_l0", z, 1, sb, NR_ST_F32, &err);
    nr_st_put_f32(w, "out.weight", z, 2, sf, NR_ST_F32, &err);
    nr_st_put_f32(w, "out.bias", z, 1, sc, NR_ST_F32, &err);
    if (extra) nr_st_put_f32(w, "norm.gamma", z, 1, sc, NR_ST_F32, &err);
    CHECK(nr_st_writer_save(w, path, &err) == 0);
    nr_st_writer_free(w);
    free(z);
    return path;
}

static void test_import_refusals(const nlprnn_tokenizer *tok, const nlprnn_tokenizer *other) {
    nlprnn_error err;
    const char *out = tmp("refused.nrm");
    static const char *const pool[] = {"pool=last"};
    const char *good = write_st("good.safetensors", 0, 2, NULL);
    int rc = nlprnn_classifier_import(good, tok, pool, 1, out, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    rc = nlprnn_classifier_import(good, tok, NULL, 0, out, &err);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(err.message, "pool=last|mean|max"), "%s", err.message);
    rc = nlprnn_classifier_import(good, other, pool, 1, out, &err);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(err.message, "tokenizer has"), "%s", err.message);
    static const char *const typo[] = {"pool=last", "pooling=max"};
    rc = nlprnn_classifier_import(good, tok, typo, 2, out, &err);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(err.message, "pooling=max"), "%s", err.message);
    static const char *const labels[] = {"pool=last", "labels=a,b,c"};
    rc = nlprnn_classifier_import(good, tok, labels, 2, out, &err);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(err.message, "more names"), "%s", err.message);
    static const char *const dup[] = {"pool=last", "labels=a,a"};
    rc = nlprnn_classifier_import(good, tok, dup, 2, out, &err);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(err.message, "twice"), "%s", err.message);
    const char *extra = write_st("extra.safetensors", 1, 2, NULL);
    rc = nlprnn_classifier_import(extra, tok, pool, 1, out, &err);
    CHECK_MSG(rc == NLPRNN_E_FORMAT && strstr(err.message, "'norm.gamma'") &&
                  strstr(err.message, "no place"),
              "%s", err.message);
    const char *meta = write_st("meta.safetensors", 0, 2, "3");
    rc = nlprnn_classifier_import(meta, tok, pool, 1, out, &err);
    CHECK_MSG(rc == NLPRNN_E_FORMAT && strstr(err.message, "layers=3") &&
                  strstr(err.message, "tensors give 1"),
              "%s", err.message);
    rc = nlprnn_lm_import(good, tok, NULL, 0, out, &err); /* a classifier is no language model */
    CHECK_MSG(rc == NLPRNN_E_FORMAT, "%s", err.message);
    rc = nlprnn_classifier_import(tmp("missing.safetensors"), tok, pool, 1, out, &err);
    CHECK_MSG(rc == NLPRNN_E_IO, "%s", err.message);
}

static int read_all(const char *path, unsigned char **buf, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    *buf = malloc((size_t)sz + 1);
    *n = fread(*buf, 1, (size_t)sz, fp);
    fclose(fp);
    return *n == (size_t)sz ? 0 : -1;
}

static int same_files(const char *a, const char *b) {
    unsigned char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int same = !read_all(a, &x, &nx) && !read_all(b, &y, &ny) && nx == ny && !memcmp(x, y, nx);
    free(x);
    free(y);
    return same;
}

static void test_classifier_round_trip(void) {
    nlprnn_error err;
    nlprnn_classifier *m = NULL, *m2 = NULL;
    int rc = nlprnn_classifier_load("ko", &m, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (rc) return;
    const char *st1 = tmp("ko1.safetensors"), *st2 = tmp("ko2.safetensors"), *nrm = tmp("ko.nrm");
    CHECK(nlprnn_classifier_export(m, st1, NLPRNN_EXPORT_SAFETENSORS, &err) == 0);
    rc = nlprnn_classifier_import(st1, nlprnn_classifier_tokenizer(m), NULL, 0, nrm, &err);
    CHECK_MSG(rc == 0, "import: %s", err.message);
    if (!rc) rc = nlprnn_classifier_load(nrm, &m2, &err);
    CHECK_MSG(rc == 0, "load: %s", err.message);
    if (m2) {
        CHECK(nlprnn_classifier_export(m2, st2, NLPRNN_EXPORT_SAFETENSORS, &err) == 0);
        CHECK_MSG(same_files(st1, st2), "export(import(export(ko))) differs from export(ko)");
        CHECK_STR_EQ(nlprnn_classifier_label(m2, 0), nlprnn_classifier_label(m, 0));
        CHECK_INT_EQ(nlprnn_classifier_max_tokens(m2), nlprnn_classifier_max_tokens(m));
        nlprnn_classifier_ctx *c1 = NULL, *c2 = NULL;
        nlprnn_classifier_ctx_create(m, 1, &c1, NULL);
        nlprnn_classifier_ctx_create(m2, 1, &c2, NULL);
        const char *t = "배우들 연기가 정말 좋았다";
        float p1[2], p2[2];
        CHECK(nlprnn_classify(c1, t, strlen(t), p1, NULL, &err) == 0);
        CHECK(nlprnn_classify(c2, t, strlen(t), p2, NULL, &err) == 0);
        CHECK_NEAR(p1[1], p2[1], 1e-5);
        nlprnn_classifier_ctx_free(c1);
        nlprnn_classifier_ctx_free(c2);
    }
    /* .vec: "V E" and V rows that the .vec loader reads back as the same table */
    const char *vec = tmp("ko.vec");
    CHECK(nlprnn_classifier_export(m, vec, NLPRNN_EXPORT_VEC, &err) == 0);
    const nr_clf_net *net = nr_model_net(m);
    int V = net->cfg.vocab, E = net->cfg.embed;
    FILE *fp = fopen(vec, "r");
    int v = 0, e = 0;
    CHECK(fp && fscanf(fp, "%d %d", &v, &e) == 2 && v == V && e == E);
    if (fp) fclose(fp);
    float *table = calloc((size_t)V * E, sizeof(float));
    nr_embedding emb;
    const char **pieces = calloc((size_t)V, sizeof *pieces);
    for (int i = 0; i < V; i++) pieces[i] = nlprnn_tokenizer_piece(nlprnn_classifier_tokenizer(m), i);
    size_t matched = 0;
    CHECK(nr_embedding_bind(&emb, V, E, -1, table, &err) == 0);
    rc = nr_embedding_load_vec_pieces(&emb, vec, pieces, V, &matched, &err);
    CHECK_MSG(rc == 0 && matched == (size_t)V, "%s (%zu rows)", err.message, matched);
    CHECK_MSG(!memcmp(table, net->emb.table, (size_t)V * E * sizeof(float)),
              "the .vec file does not read back as the same table");
    free(table);
    free(pieces);
    CHECK(nlprnn_classifier_export(m, vec, 7, &err) == NLPRNN_E_INVALID_ARG);
    nlprnn_classifier_free(m2);
    nlprnn_classifier_free(m);
}

static void test_lm_round_trip(void) {
    nlprnn_error err;
    nlprnn_lm *lm = NULL, *lm2 = NULL;
    int rc = nlprnn_lm_load("ko", &lm, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (rc) return;
    const char *st1 = tmp("lm1.safetensors"), *st2 = tmp("lm2.safetensors"), *nrm = tmp("lm.nrm");
    CHECK(nlprnn_lm_export(lm, st1, NLPRNN_EXPORT_SAFETENSORS, &err) == 0);
    rc = nlprnn_lm_import(st1, nlprnn_lm_tokenizer(lm), NULL, 0, nrm, &err);
    CHECK_MSG(rc == 0, "import: %s", err.message);
    if (!rc) rc = nlprnn_lm_load(nrm, &lm2, &err);
    CHECK_MSG(rc == 0, "load: %s", err.message);
    if (lm2) {
        CHECK(nlprnn_lm_export(lm2, st2, NLPRNN_EXPORT_SAFETENSORS, &err) == 0);
        CHECK_MSG(same_files(st1, st2), "export(import(export(ko-lm))) differs from export(ko-lm)");
        CHECK_INT_EQ(nlprnn_lm_has_backward(lm2), nlprnn_lm_has_backward(lm));
        nlprnn_lm_ctx *c1 = NULL, *c2 = NULL;
        nlprnn_lm_ctx_create(lm, &c1, NULL);
        nlprnn_lm_ctx_create(lm2, &c2, NULL);
        const char *t = "주말에 영화를 보러 극장에 간다";
        double a = 0, b = 1;
        CHECK(nlprnn_lm_score(c1, t, strlen(t), 0, &a, NULL, &err) == 0);
        CHECK(nlprnn_lm_score(c2, t, strlen(t), 0, &b, NULL, &err) == 0);
        CHECK_MSG(a == b, "score %.17g vs %.17g", a, b);
        nlprnn_lm_ctx_free(c1);
        nlprnn_lm_ctx_free(c2);
    }
    static const char *const bad[] = {"tied=2"};
    rc = nlprnn_lm_import(st1, nlprnn_lm_tokenizer(lm), bad, 1, nrm, &err);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(err.message, "tied"), "%s", err.message);
    nlprnn_lm_free(lm2);
    nlprnn_lm_free(lm);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/nlprnn-st-XXXXXX");
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
    test_round_trip();
    test_dtypes();
    test_no_tensors();
    test_refusals();
    nlprnn_error err;
    nlprnn_tokenizer *tok = NULL, *other = NULL;
    int rc = nlprnn_tokenizer_load(nr_test_data_path("tokenizer/nsmc8k.tok"), &tok, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    nlprnn_classifier *ko = NULL;
    rc |= nlprnn_classifier_load("ko", &ko, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (!rc) {
        other = (nlprnn_tokenizer *)nlprnn_classifier_tokenizer(ko);
        test_import_refusals(tok, other);
    }
    nlprnn_classifier_free(ko);
    nlprnn_tokenizer_free(tok);
    test_classifier_round_trip();
    test_lm_round_trip();
    nr_test_run(NULL, "rm -rf '%s'", dir);
    return nr_test_done("test_safetensors");
}
