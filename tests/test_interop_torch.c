/* tests/test_interop_torch.c: weights between PyTorch and nlprnn, both ways, through safetensors.
 *
 * PyTorch -> nlprnn: tests/pytorch/interop_torch.py builds a small model in PyTorch (seeded),
 * writes it with its own small safetensors writer and computes its outputs in float64 for the
 * token ids of a few texts; nlprnn imports the file with the tokenizer whose ids those are and
 * must give the same outputs: class probabilities within 1e-5, log-probabilities of a text within
 * 1e-5 relative. Cases: a 2-layer bidirectional LSTM with max pooling and its configuration in
 * __metadata__; a GRU with mean pooling, no metadata (the pooling given as a setting) and modules
 * with other names (emb / encoder / head: found by shape); a bidirectional SimpleRNN with last
 * pooling; a 2-layer LSTM language model with a backward network; a tied GRU language model.
 *
 * nlprnn -> PyTorch: the shipped classifier (ko) and language model (ko-lm) are exported; the
 * script reads the files with its own reader, rebuilds the modules from __metadata__, loads the
 * tensors with load_state_dict(strict=True) (so every name and shape is PyTorch's) and computes
 * the outputs, which must equal nlprnn's to the same tolerances.
 *
 * Needs /usr/bin/python3 with torch (Debian: python3-torch, not part of the build's
 * requirements); without it the test is skipped (77) saying so.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
#include "testutil.h"

static const char *PY = "/usr/bin/python3";
static char dir[256];

static const char *const texts[] = {
    "정말 재미있는 영화였다. 배우들 연기가 최고!",
    "시간 아깝다 최악의 영화",
    "그냥 그랬어요",
    "The plot was thin but the music was lovely.",
    "ㅋㅋㅋ 다시 보고 싶다 진짜로",
    "별로",
};
#define NT (sizeof texts / sizeof texts[0])

static const char *tmp(const char *name) {
    static char buf[64][512];
    static int slot;
    char *p = buf[slot++ % 64];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

/* Token ids of every text, one line each, cut to max_tokens. */
static int write_ids(const char *path, const nlprnn_tokenizer *tok, int max_tokens) {
    FILE *fp = fopen(path, "w");
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    nlprnn_error err;
    int rc = fp && enc ? 0 : -1;
    for (size_t i = 0; i < NT && !rc; i++) {
        rc = nlprnn_tokenizer_encode(tok, texts[i], strlen(texts[i]), enc, &err);
        size_t n = nlprnn_encoding_size(enc);
        if (max_tokens > 0 && n > (size_t)max_tokens) n = (size_t)max_tokens;
        for (size_t k = 0; k < n && !rc; k++)
            fprintf(fp, "%s%d", k ? " " : "", (int)nlprnn_encoding_ids(enc)[k]);
        fputc('\n', fp);
    }
    nlprnn_encoding_free(enc);
    if (fp && fclose(fp)) rc = -1;
    return rc;
}

/* rows x cols numbers of a reference file. */
static int read_ref(const char *path, int rows, int cols, double *out) {
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    int n = 0;
    while (n < rows * cols && fscanf(fp, "%lf", &out[n]) == 1) n++;
    fclose(fp);
    return n == rows * cols ? 0 : -1;
}

/* The PyTorch side's jobs, run in one process at the end of the preparation (importing torch
 * takes seconds). */
static FILE *jobs;

static void job(const char *mode, const char *st, const char *ids, const char *ref, const char *keys) {
    fprintf(jobs, "%s %s %s %s %s\n", mode, st, ids, ref, keys);
}

static int run_jobs(const char *path) {
    char *out = NULL;
    int rc = nr_test_run(&out, "%s pytorch/interop_torch.py jobs %s 2>&1", PY, path);
    if (rc) fprintf(stderr, "interop_torch.py failed (%d):\n%s\n", rc, out ? out : "");
    free(out);
    return rc;
}

/* nlprnn's probabilities vs the reference for every text. */
static double compare_clf(const char *label, const nlprnn_classifier *m, const char *ref, int expect) {
    int C = nlprnn_classifier_num_classes(m);
    double want[NT * 16];
    CHECK_MSG(C <= 16 && read_ref(ref, (int)NT, C, want) == 0, "%s: reference %s", label, ref);
    nlprnn_classifier_ctx *ctx = NULL;
    nlprnn_classifier_ctx_create(m, 1, &ctx, NULL);
    double worst = 0;
    for (size_t i = 0; i < NT; i++) {
        float p[16];
        nlprnn_error err;
        int rc = nlprnn_classify(ctx, texts[i], strlen(texts[i]), p, NULL, &err);
        CHECK_MSG(rc == 0, "%s: classify: %s", label, err.message);
        for (int k = 0; k < C && !rc; k++) {
            double d = fabs(p[k] - want[i * C + k]);
            if (d > worst) worst = d;
            CHECK_MSG(!expect || d <= 1e-5, "%s: text %zu class %d: nlprnn %.9g, PyTorch %.9g",
                      label, i, k, p[k], want[i * C + k]);
        }
    }
    printf("%s: %d classes, %zu texts, largest difference %.3g\n", label, C, NT, worst);
    nlprnn_classifier_ctx_free(ctx);
    return worst;
}

static void compare_lm(const char *label, const nlprnn_lm *lm, const char *ref) {
    int dirs = 1 + nlprnn_lm_has_backward(lm);
    double want[NT * 2];
    CHECK_MSG(read_ref(ref, (int)NT, dirs, want) == 0, "%s: reference %s", label, ref);
    nlprnn_lm_ctx *ctx = NULL;
    nlprnn_lm_ctx_create(lm, &ctx, NULL);
    double worst = 0;
    for (size_t i = 0; i < NT; i++)
        for (int d = 0; d < dirs; d++) {
            double lp = 0;
            nlprnn_error err;
            int rc = nlprnn_lm_score(ctx, texts[i], strlen(texts[i]), d, &lp, NULL, &err);
            CHECK_MSG(rc == 0, "%s: score: %s", label, err.message);
            double w = want[i * dirs + d], rel = fabs(lp - w) / fabs(w);
            if (rel > worst) worst = rel;
            CHECK_MSG(rel <= 1e-5, "%s: text %zu direction %d: nlprnn %.9g, PyTorch %.9g", label, i,
                      d, lp, w);
        }
    printf("%s: %d direction(s), %zu texts, largest relative difference %.3g\n", label, dirs, NT,
           worst);
    nlprnn_lm_ctx_free(ctx);
}

/* The cases PyTorch makes: what the script builds, and the import's settings. */
typedef struct tcase {
    const char *label, *mode, *keys;
    const char *settings[2];
    size_t ns;
} tcase;

static const tcase cases[] = {
    {"torch lstm x2 bidirectional max -> nlprnn", "make-clf",
     "cell=lstm layers=2 bidirectional=1 embed=16 hidden=12 classes=3 pool=max seed=3", {0}, 0},
    {"torch gru mean, no metadata, modules emb/encoder/head -> nlprnn", "make-clf",
     "cell=gru layers=1 bidirectional=0 embed=10 hidden=14 classes=2 pool=mean seed=4 names=custom "
     "meta=none", {"pool=mean"}, 1},
    {"torch rnn bidirectional last -> nlprnn", "make-clf",
     "cell=rnn layers=1 bidirectional=1 embed=8 hidden=6 classes=4 pool=last seed=5", {0}, 0},
    {"torch lm lstm x2 + backward -> nlprnn", "make-lm",
     "cell=lstm layers=2 embed=12 hidden=20 backward=1 seed=6", {0}, 0},
    {"torch lm gru tied -> nlprnn", "make-lm", "cell=gru layers=1 embed=16 hidden=16 tied=1 seed=7",
     {0}, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

int main(void) {
    if (access(PY, X_OK) != 0 || nr_test_run(NULL, "%s -c 'import torch' >/dev/null 2>&1", PY) != 0) {
        printf("SKIP: %s cannot import torch (Debian: apt-get install python3-torch; optional, "
               "only this test uses it)\n", PY);
        return 77;
    }
    snprintf(dir, sizeof dir, "/tmp/nlprnn-interop-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    nlprnn_error err;
    nlprnn_tokenizer *tok = NULL;
    int rc = nlprnn_tokenizer_load(nr_test_data_path("tokenizer/nsmc8k.tok"), &tok, &err);
    CHECK_MSG(rc == 0, "tokenizer: %s", err.message);
    if (rc) return nr_test_done("test_interop_torch");

    /* ---- preparing: ids, nlprnn's exports, the PyTorch jobs ---- */
    const char *ids = tmp("ids.txt"), *jobs_path = tmp("jobs.txt");
    CHECK(write_ids(ids, tok, NLPRNN_CLASSIFY_MAX_TOKENS) == 0);
    jobs = fopen(jobs_path, "w");
    if (!jobs) return perror(jobs_path), 1;
    char st[NCASES][512], ref[NCASES][512], keys[512];
    for (size_t c = 0; c < NCASES; c++) {
        snprintf(st[c], sizeof st[c], "%s/case%zu.safetensors", dir, c);
        snprintf(ref[c], sizeof ref[c], "%s/case%zu.ref", dir, c);
        snprintf(keys, sizeof keys, "vocab=%d %s", (int)nlprnn_tokenizer_vocab_size(tok), cases[c].keys);
        job(cases[c].mode, st[c], ids, ref[c], keys);
    }
    /* the shipped models, exported for PyTorch to load */
    nlprnn_classifier *m = NULL;
    rc = nlprnn_classifier_load("ko", &m, &err);
    CHECK_MSG(rc == 0, "ko: %s", err.message);
    const char *ko_st = tmp("ko.safetensors"), *ko_ids = tmp("ko.ids"), *ko_ref = tmp("ko.ref");
    if (m) {
        rc = nlprnn_classifier_export(m, ko_st, NLPRNN_EXPORT_SAFETENSORS, &err);
        CHECK_MSG(rc == 0, "export ko: %s", err.message);
        CHECK(write_ids(ko_ids, nlprnn_classifier_tokenizer(m), nlprnn_classifier_max_tokens(m)) == 0);
        job("run-clf", ko_st, ko_ids, ko_ref, "");
    }
    nlprnn_lm *lm = NULL;
    rc = nlprnn_lm_load("ko", &lm, &err);
    CHECK_MSG(rc == 0, "ko-lm: %s", err.message);
    const char *lm_st = tmp("ko-lm.safetensors"), *lm_ids = tmp("ko-lm.ids"), *lm_ref = tmp("ko-lm.ref");
    if (lm) {
        rc = nlprnn_lm_export(lm, lm_st, NLPRNN_EXPORT_SAFETENSORS, &err);
        CHECK_MSG(rc == 0, "export ko-lm: %s", err.message);
        CHECK(write_ids(lm_ids, nlprnn_lm_tokenizer(lm), 0) == 0);
        job("run-lm", lm_st, lm_ids, lm_ref, "");
    }
    CHECK(fclose(jobs) == 0);
    int python_ok = run_jobs(jobs_path) == 0;
    const char *nrm = tmp("imported.nrm");
    CHECK_MSG(python_ok, "the PyTorch side failed");

    /* ---- PyTorch -> nlprnn: import, then the same outputs ---- */
    for (size_t c = 0; c < NCASES && python_ok; c++) {
        int r;
        const char *label = cases[c].label;
        if (!strcmp(cases[c].mode, "make-clf")) {
            r = nlprnn_classifier_import(st[c], tok, cases[c].settings, cases[c].ns, nrm, &err);
            CHECK_MSG(r == 0, "%s: import: %s", label, err.message);
            nlprnn_classifier *im = NULL;
            if (!r) r = nlprnn_classifier_load(nrm, &im, &err);
            CHECK_MSG(r == 0, "%s: load: %s", label, err.message);
            if (im) compare_clf(label, im, ref[c], 1);
            nlprnn_classifier_free(im);
            if (c == 0) {
                /* the comparison can fail: the same file pooled otherwise gives other numbers */
                static const char *const wrong[] = {"pool=mean"};
                r = nlprnn_classifier_import(st[c], tok, wrong, 1, nrm, &err);
                if (!r) r = nlprnn_classifier_load(nrm, &im, &err);
                CHECK_MSG(r == 0, "pool=mean: %s", err.message);
                if (im) {
                    double worst = compare_clf("(mean instead of max: must differ)", im, ref[c], 0);
                    CHECK_MSG(worst > 1e-3, "mean pooling gave the max pooling's outputs (%g)", worst);
                }
                nlprnn_classifier_free(im);
            }
        } else {
            r = nlprnn_lm_import(st[c], tok, NULL, 0, nrm, &err);
            CHECK_MSG(r == 0, "%s: import: %s", label, err.message);
            nlprnn_lm *il = NULL;
            if (!r) r = nlprnn_lm_load(nrm, &il, &err);
            CHECK_MSG(r == 0, "%s: load: %s", label, err.message);
            if (il) compare_lm(label, il, ref[c]);
            nlprnn_lm_free(il);
        }
    }

    /* ---- nlprnn -> PyTorch: PyTorch's outputs of the exported shipped models ---- */
    if (m && python_ok) compare_clf("nlprnn ko -> torch", m, ko_ref, 1);
    if (lm && python_ok) compare_lm("nlprnn ko-lm -> torch", lm, lm_ref);
    nlprnn_classifier_free(m);
    nlprnn_lm_free(lm);
    nlprnn_tokenizer_free(tok);
    nr_test_run(NULL, "rm -rf '%s'", dir);
    return nr_test_done("test_interop_torch");
}
