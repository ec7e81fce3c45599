/* tests/test_robust_loaders.c: loaders and inputs that used to give wrong results silently or
 * take unbounded memory or time (issue 13, defects 8, 9, 11, 14 and 15). Every file is made
 * here: a small classifier and language model built from random weights (no training), a
 * forecaster trained in a few milliseconds, and crafted copies of them.
 *
 *   8   NaN / infinite weights are refused by every loader (classifier, language model,
 *       forecaster; the shared tensor reader, so checkpoints too), float16 infinities included;
 *       huge finite weights never give a probability outside [0, 1] or a non-finite perplexity
 *   9   a config section of 100,000 keys is refused at once (it took 41 s in `info`), duplicate
 *       keys are found by sorting and named with both lines
 *   11  a classifier whose configuration fails the network check gets one clean message (the
 *       message was formatted into the buffer it was read from)
 *   14  a model or tokenizer "file" that is /dev/zero is refused after its first bytes; a model
 *       file is never read past its declared size; a classifier configuration beyond what
 *       training allows (max_tokens 2^20, embed 8192) is refused; a 20 MiB line stops
 *       tokenizer training with NLPRNN_E_LIMIT naming file:line; evaluation of a corpus of big
 *       rows keeps a bounded part in memory (peak measured in a child process)
 *   15  a series value of 1e308 is NLPRNN_E_DATA naming file:line; a value whose scaled form
 *       overflows the float range is NLPRNN_E_DATA naming its row; no metric is ever infinite
 * and the classifier's tokenizer section in both layouts (issue 15): written stored (a load reads
 * it without inflating), older files' zlib TOKN still read, both giving the same probabilities bit
 * for bit; relabelling an older file re-saves its TOKN stored with the same probabilities. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/common.h"
#include "corpora/dataset.h"
#include "tasks/classify/classifier.h"
#include "tasks/lm/lm.h"
#include "format/modelfile.h"
#include "nlprnn.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static char g_dir[256];

static const char *tmp(const char *name) {
    static char buf[16][512];
    static int k;
    char *b = buf[k++ % 16];
    snprintf(b, 512, "%s/%s", g_dir, name);
    return b;
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int contains(const char *s, const char *sub) { return s && strstr(s, sub) != NULL; }

/* ---- fixtures ------------------------------------------------------------------------------- */

static nlprnn_tokenizer *word_tokenizer(void) {
    static const char *texts[] = {"the cat sat on the mat", "a dog ran in the park",
                                  "the film was good", "the film was bad", "good cat bad dog"};
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    nlprnn_tokenizer *tok = NULL;
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "model-type", "word", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "min-count", "1", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "byte-fallback", "0", &e), 0);
    int rc = nlprnn_tokenizer_train_texts(o, texts, NULL, 5, &tok, &e);
    CHECK_MSG(rc == 0, "tokenizer: %s", e.message);
    nlprnn_tokenizer_params_free(o);
    return tok;
}

/* A classifier file with random weights (f32): cfg as given, head bias += head_bias. */
static int write_classifier(const char *path, nlprnn_tokenizer *tok, nr_clf_cfg cfg,
                            float head_bias, float head_weight_scale) {
    nlprnn_error e;
    cfg.vocab = nlprnn_tokenizer_vocab_size(tok);
    nr_clf_cfg bind = cfg; /* the network is bound with sane sizes; the file may say otherwise */
    if (bind.max_tokens > NR_CLF_MAX_TOKENS) bind.max_tokens = 64;
    if (!(bind.dropout >= 0 && bind.dropout < 1)) bind.dropout = 0;
    nr_clf_net net;
    int rc = nr_clf_net_bind(&net, &bind, NULL, &e);
    CHECK_MSG(rc == 0, "bind: %s", e.message);
    if (rc) return rc;
    float *params = calloc(net.n_params, sizeof *params);
    nr_clf_net_bind(&net, &bind, params, &e);
    nr_rng rng;
    nr_rng_seed(&rng, 3);
    for (size_t i = 0; i < net.n_params; i++) params[i] = 0.1f * (nr_rng_uniform(&rng) - 0.5f);
    for (int k = 0; k < cfg.classes; k++) net.head.b[k] += head_bias * (float)k;
    for (size_t i = 0; i < (size_t)cfg.classes * net.head.in; i++) net.head.w[i] *= head_weight_scale;
    nr_label_map labels;
    nr_label_map_init(&labels);
    nr_label_map_add(&labels, "neg", 3, &e);
    nr_label_map_add(&labels, "pos", 3, &e);
    nr_mf_writer *w = NULL;
    nr_mf_buf conf;
    nr_mf_buf_init(&conf);
    rc = nr_mf_writer_new(&w, NR_KIND_CLASSIFIER, &e);
    if (!rc) rc = nr_clf_put_cfg(&conf, &cfg, &e);
    if (!rc) rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, conf.data, conf.len, 0, &e);
    if (!rc) rc = nr_mf_add_tokenizer(w, "TOKN", tok, &e);
    if (!rc) rc = nr_label_map_save(&labels, w, "LABL", &e);
    if (!rc) rc = nr_clf_put_weights(w, "WGHT", &net, params, NR_DTYPE_F32, &e);
    if (!rc) rc = nr_mf_writer_save(w, path, &e);
    CHECK_MSG(rc == 0, "writing %s: %s", path, e.message);
    nr_mf_buf_free(&conf);
    nr_mf_writer_free(w);
    nr_label_map_free(&labels);
    free(params);
    return rc;
}

static nr_clf_cfg small_clf_cfg(void) {
    nr_clf_cfg c;
    memset(&c, 0, sizeof c);
    c.embed = 8;
    c.hidden = 8;
    c.layers = 1;
    c.cell = NR_CELL_LSTM;
    c.pool = NR_POOL_MAX;
    c.classes = 2;
    c.max_tokens = 64;
    c.bidirectional = 1;
    return c;
}

/* A language model with random weights (f32); out.bias of piece `piece` set to bias when
 * piece >= 0. embed/hidden/tied as given. */
static int write_lm(const char *path, const nlprnn_tokenizer *tok0, int embed, int hidden, int tied,
                    int piece, float bias) {
    nlprnn_error e;
    void *buf = NULL;
    size_t n = 0;
    nlprnn_tokenizer *tok = NULL;
    CHECK_INT_EQ(nlprnn_tokenizer_save_memory(tok0, &buf, &n, &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_load_memory(buf, n, &tok, &e), 0);
    nlprnn_free(buf);
    nr_lm_cfg c = {NR_CELL_LSTM, 1, embed, hidden, nlprnn_tokenizer_vocab_size(tok), tied};
    nr_lm_net net;
    nr_rng rng;
    nr_rng_seed(&rng, 5);
    int rc = nr_lm_net_create(&net, &c, NLPRNN_ID_PAD, &e);
    if (!rc) rc = nr_lm_net_init(&net, &rng, &e);
    CHECK_MSG(rc == 0, "lm net: %s", e.message);
    if (rc) {
        nlprnn_tokenizer_free(tok);
        return rc;
    }
    if (piece >= 0) net.out.b[piece] = bias;
    nlprnn_lm *lm = NULL;
    rc = nr_lm_assemble(&lm, tok, &net, NULL, "f32", &e);
    if (!rc) rc = nr_lm_save(lm, path, NR_DTYPE_F32, NULL, &e);
    CHECK_MSG(rc == 0, "lm save: %s", e.message);
    nlprnn_lm_free(lm);
    nr_lm_net_free(&net);
    return rc;
}

/* Copy model file src to dst, every section unchanged but tag: element idx of its tensor `name`
 * becomes v (the section's tensors are written back as float32, or as float16 with
 * as_f16, the value patched into the stored half directly). */
static int rewrite_tensor(const char *src, const char *dst, const char *tag, const char *name,
                          size_t idx, float v, int as_f16) {
    nlprnn_error e;
    nr_mf_reader *r = NULL;
    nr_mf_writer *w = NULL;
    int rc = nr_mf_open_file(&r, src, NULL, &e), hits = 0;
    if (!rc) rc = nr_mf_writer_new(&w, nr_mf_kind(r), &e);
    for (size_t i = 0; !rc && i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        if (strcmp(s->tag, tag)) {
            rc = nr_mf_add(w, s->tag, s->content, s->data, (size_t)s->raw_len, 0, &e);
            continue;
        }
        nr_mf_buf b;
        nr_mf_buf_init(&b);
        for (size_t k = 0; !rc && k < nr_mf_tensor_count(r, tag); k++) {
            nr_tensor_info ti;
            rc = nr_mf_tensor_at(r, tag, k, &ti, &e);
            float *x = rc ? NULL : malloc((ti.count ? ti.count : 1) * sizeof *x);
            if (!rc) rc = nr_mf_tensor_read_nonfinite(r, tag, ti.name, x, ti.ndim, ti.shape, &e);
            int hit = !rc && !strcmp(ti.name, name);
            hits += hit;
            if (hit && !as_f16) x[idx] = v;
            size_t at = b.len;
            if (!rc)
                rc = nr_tensor_put(&b, ti.name, x, ti.ndim, ti.shape,
                                   hit && as_f16 ? NR_DTYPE_F16 : NR_DTYPE_F32, &e);
            if (!rc && hit && as_f16) { /* half 0x7C00 = +inf, 0x7E00 = NaN */
                size_t head = 2 + strlen(ti.name) + 2 + 4 * (size_t)ti.ndim;
                uint16_t h = isnan(v) ? 0x7E00 : v > 0 ? 0x7C00 : 0xFC00;
                b.data[at + head + 2 * idx] = (unsigned char)h;
                b.data[at + head + 2 * idx + 1] = (unsigned char)(h >> 8);
            }
            free(x);
        }
        if (!rc) rc = nr_mf_add(w, tag, NR_MF_TENSORS, b.data, b.len, 0, &e);
        nr_mf_buf_free(&b);
    }
    if (!rc) rc = nr_mf_writer_save(w, dst, &e);
    CHECK_MSG(rc == 0, "rewrite %s: %s", src, e.message);
    CHECK_MSG(hits == 1, "rewrite %s: no tensor %s in section %s", src, name, tag);
    nr_mf_writer_free(w);
    nr_mf_close(r);
    return rc;
}

/* Copy src to dst with config key `key` of section CONF set to value (the line replaced). */
static int rewrite_conf(const char *src, const char *dst, const char *key, const char *value) {
    nlprnn_error e;
    nr_mf_reader *r = NULL;
    nr_mf_writer *w = NULL;
    int rc = nr_mf_open_file(&r, src, NULL, &e);
    if (!rc) rc = nr_mf_writer_new(&w, nr_mf_kind(r), &e);
    for (size_t i = 0; !rc && i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        if (strcmp(s->tag, "CONF")) {
            rc = nr_mf_add(w, s->tag, s->content, s->data, (size_t)s->raw_len, 0, &e);
            continue;
        }
        nr_mf_buf b;
        nr_mf_buf_init(&b);
        const char *p = (const char *)s->data, *end = p + s->raw_len;
        size_t kl = strlen(key);
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = (size_t)(nl - p) + 1;
            if (len > kl && !memcmp(p, key, kl) && p[kl] == '=')
                nr_mf_buf_printf(&b, &e, "%s=%s\n", key, value);
            else
                nr_mf_buf_put(&b, p, len, &e);
            p += len;
        }
        rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, b.data, b.len, 0, &e);
        nr_mf_buf_free(&b);
    }
    if (!rc) rc = nr_mf_writer_save(w, dst, &e);
    CHECK_MSG(rc == 0, "rewrite conf %s: %s", src, e.message);
    nr_mf_writer_free(w);
    nr_mf_close(r);
    return rc;
}

static void write_text(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(text, fp);
    fclose(fp);
}

/* ---- peak memory of a call, measured in a grandchild process ------------------------------- */

/* Runs fn(arg) in a fresh process (forked twice, so RUSAGE_CHILDREN holds that process alone)
 * and returns its peak resident set in KiB, or -1; *status gets fn's return value. */
static long peak_kb(int (*fn)(void *), void *arg, int *status) {
    int fd[2];
    if (pipe(fd)) return -1;
    pid_t a = fork();
    if (a < 0) return -1;
    if (a == 0) {
        close(fd[0]);
        long out[2] = {-1, -1};
        pid_t b = fork();
        if (b == 0) _exit(fn(arg) & 0xFF);
        int st = 0;
        if (b > 0 && waitpid(b, &st, 0) == b) {
            struct rusage ru;
            getrusage(RUSAGE_CHILDREN, &ru);
            out[0] = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
            out[1] = ru.ru_maxrss;
        }
        ssize_t wr = write(fd[1], out, sizeof out);
        (void)wr;
        _exit(0);
    }
    close(fd[1]);
    long in[2] = {-1, -1};
    ssize_t rd = read(fd[0], in, sizeof in);
    close(fd[0]);
    waitpid(a, NULL, 0);
    if (rd != (ssize_t)sizeof in) return -1;
    *status = (int)in[0];
    return in[1];
}

static int do_nothing(void *arg) {
    (void)arg;
    return 0;
}

/* ---- 8: non-finite weights -------------------------------------------------------------------- */

static void expect_nonfinite_refused(const char *what, int rc, const nlprnn_error *e,
                                     const char *path, const char *tensor) {
    CHECK_MSG(rc == NLPRNN_E_FORMAT, "%s: %s (%s)", what, nlprnn_status_name(rc), e->message);
    CHECK_MSG(contains(e->message, path) && contains(e->message, tensor) &&
                  (contains(e->message, "NaN") || contains(e->message, "infinite")),
              "%s: message \"%s\" does not name the file, the tensor and the value", what,
              e->message);
}

static void test_nonfinite_weights(nlprnn_tokenizer *tok) {
    nlprnn_error e;
    /* classifier: NaN in the head, +inf (float16) in the embedding */
    const char *clf = tmp("clf.nrm");
    if (write_classifier(clf, tok, small_clf_cfg(), 0, 1)) return;
    nlprnn_classifier *m = NULL;
    CHECK_INT_EQ(nlprnn_classifier_load(clf, &m, &e), 0);
    nlprnn_classifier_free(m);
    m = NULL;
    const char *bad = tmp("clf-nan.nrm");
    rewrite_tensor(clf, bad, "WGHT", "head.b", 1, NAN, 0);
    int rc = nlprnn_classifier_load(bad, &m, &e);
    expect_nonfinite_refused("classifier with a NaN bias", rc, &e, bad, "head.b");
    CHECK(m == NULL);
    rewrite_tensor(clf, bad, "WGHT", "embedding", 9, INFINITY, 1);
    rc = nlprnn_classifier_load(bad, &m, &e);
    expect_nonfinite_refused("classifier with an f16 infinity", rc, &e, bad, "embedding");

    /* language model: NaN in the output bias (was loaded: next printed nan, fill -nan) */
    const char *lm = tmp("lm.nrm");
    if (write_lm(lm, tok, 8, 8, 1, -1, 0)) return;
    nlprnn_lm *l = NULL;
    CHECK_INT_EQ(nlprnn_lm_load(lm, &l, &e), 0);
    nlprnn_lm_free(l);
    l = NULL;
    rewrite_tensor(lm, bad, "WFWD", "out.bias", 7, NAN, 0);
    rc = nlprnn_lm_load(bad, &l, &e);
    expect_nonfinite_refused("language model with a NaN bias", rc, &e, bad, "out.bias");
    CHECK(l == NULL);
    rewrite_tensor(lm, bad, "WFWD", "l0.w_hh", 3, -INFINITY, 0);
    rc = nlprnn_lm_load(bad, &l, &e);
    expect_nonfinite_refused("language model with -inf in W_hh", rc, &e, bad, "l0.w_hh");

    /* forecaster: NaN in the weights; its NaN validation losses stay allowed */
    double v[60];
    for (int i = 0; i < 60; i++) v[i] = sin(i * 0.3);
    nlprnn_series *s = NULL;
    nlprnn_forecaster_params *p = NULL;
    nlprnn_forecaster_params_create(&p, NULL);
    nlprnn_forecaster_params_set(p, "hidden", "3", NULL);
    nlprnn_forecaster_params_set(p, "window", "4", NULL);
    nlprnn_forecaster_params_set(p, "epochs", "2", NULL);
    nlprnn_forecaster_params_set(p, "valid", "0", NULL); /* NaN validation losses in the file */
    nlprnn_forecaster *f = NULL;
    CHECK_INT_EQ(nlprnn_series_create(v, 60, 1, NULL, &s, &e), 0);
    CHECK_INT_EQ(nlprnn_forecaster_train(s, p, NULL, NULL, &f, &e), 0);
    const char *fc = tmp("f.nrm");
    CHECK_INT_EQ(nlprnn_forecaster_save(f, fc, &e), 0);
    nlprnn_forecaster_free(f);
    f = NULL;
    CHECK_MSG(nlprnn_forecaster_load(fc, &f, &e) == 0, "forecaster with NaN valid losses: %s",
              e.message);
    nlprnn_forecaster_free(f);
    f = NULL;
    rewrite_tensor(fc, bad, "WGHT", "params", 2, NAN, 0);
    rc = nlprnn_forecaster_load(bad, &f, &e);
    expect_nonfinite_refused("forecaster with a NaN weight", rc, &e, bad, "params");
    nlprnn_series_free(s);
    nlprnn_forecaster_params_free(p);

    /* the shared reader, for any kind (checkpoints included) */
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    float x[3] = {1, NAN, 2};
    size_t shape[1] = {3};
    CHECK_INT_EQ(nr_tensor_put(&b, "m", x, 1, shape, NR_DTYPE_F32, &e), 0);
    nr_mf_writer *w = NULL;
    unsigned char *mem = NULL;
    size_t n = 0;
    nr_mf_writer_new(&w, NR_KIND_CHECKPOINT, &e);
    nr_mf_add(w, "OPTM", NR_MF_TENSORS, b.data, b.len, 0, &e);
    nr_mf_writer_to_mem(w, &mem, &n, &e);
    nr_mf_reader *r = NULL;
    CHECK_INT_EQ(nr_mf_open_mem(&r, mem, n, "ck.nrm", NULL, &e), 0);
    float y[3];
    if (r) {
        CHECK_INT_EQ(nr_mf_tensor_read(r, "OPTM", "m", y, 1, shape, &e), NLPRNN_E_FORMAT);
        CHECK(contains(e.message, "ck.nrm: section OPTM: tensor \"m\": element 1 is NaN"));
        CHECK_INT_EQ(nr_mf_tensor_read_nonfinite(r, "OPTM", "m", y, 1, shape, &e), 0);
    }
    nr_mf_close(r);
    free(mem);
    nr_mf_writer_free(w);
    nr_mf_buf_free(&b);
}

/* Huge but finite weights: probabilities stay in [0, 1], a perplexity that overflows is an
 * error, never "inf" (a huge bias printed probability 9669 and perplexity inf, exit 0). */
static void test_huge_weights(nlprnn_tokenizer *tok) {
    nlprnn_error e;
    int piece = nlprnn_tokenizer_piece_id(tok, "▁cat");
    CHECK(piece > 0);
    for (int k = 0; k < 2; k++) {
        float bias = k ? 3.0e38f : 1.0e30f;
        const char *lm = tmp("lm-huge.nrm");
        if (write_lm(lm, tok, 8, 8, 1, piece, bias)) return;
        nlprnn_lm *l = NULL;
        CHECK_INT_EQ(nlprnn_lm_load(lm, &l, &e), 0);
        if (!l) return;
        nlprnn_lm_ctx *ctx = NULL;
        nlprnn_lm_ctx_create(l, &ctx, NULL);
        nlprnn_lm_choice *ch = NULL;
        size_t nch = 0;
        int rc = nlprnn_lm_next(ctx, "the", 3, 5, &ch, &nch, &e);
        CHECK_MSG(rc == 0 || rc == NLPRNN_E_NUMERIC, "next: %s", e.message);
        for (size_t i = 0; !rc && i < nch; i++)
            CHECK_MSG(ch[i].prob >= 0 && ch[i].prob <= 1, "next: probability %g of '%s'",
                      ch[i].prob, ch[i].text);
        nlprnn_lm_choices_free(ch, nch);
        rc = nlprnn_lm_fill(ctx, "the ___ sat", 11, NULL, 0, 5, &ch, &nch, &e);
        CHECK_MSG(rc == 0 || rc == NLPRNN_E_NUMERIC, "fill: %s", e.message);
        for (size_t i = 0; !rc && i < nch; i++)
            CHECK_MSG(ch[i].prob >= 0 && ch[i].prob <= 1 && isfinite(ch[i].score),
                      "fill: probability %g, score %g", ch[i].prob, ch[i].score);
        nlprnn_lm_choices_free(ch, nch);
        double lp = 0;
        rc = nlprnn_lm_score(ctx, "the dog", 7, 0, &lp, NULL, &e);
        CHECK_MSG((rc == 0 && isfinite(lp)) || rc == NLPRNN_E_NUMERIC, "score: %s, %g",
                  nlprnn_status_name(rc), lp);
        char *gen = NULL;
        rc = nlprnn_lm_generate(ctx, "the", 3, 5, 1.0, 0, 1.0, 1, &gen, &e);
        CHECK_MSG(rc == 0 || rc == NLPRNN_E_NUMERIC, "generate: %s", e.message);
        nlprnn_free(gen);
        const char *txt = tmp("lm-eval.txt");
        write_text(txt, "the dog ran\na film was bad\n");
        nlprnn_lm_eval ev;
        memset(&ev, 0, sizeof ev);
        ev.size = sizeof ev;
        rc = nlprnn_lm_evaluate(l, txt, 0, 0, &ev, &e);
        CHECK_MSG(rc == NLPRNN_E_NUMERIC && contains(e.message, "not a finite number"),
                  "lm-eval with bias %g: %s, ppl %g (%s)", (double)bias, nlprnn_status_name(rc),
                  ev.ppl, e.message);
        nlprnn_lm_ctx_free(ctx);
        nlprnn_lm_free(l);
    }
    /* a classifier whose logits overflow: NLPRNN_E_NUMERIC, not NaN probabilities */
    const char *clf = tmp("clf-huge.nrm");
    if (write_classifier(clf, tok, small_clf_cfg(), 3.0e38f, 1e38f)) return;
    nlprnn_classifier *m = NULL;
    CHECK_INT_EQ(nlprnn_classifier_load(clf, &m, &e), 0);
    if (!m) return;
    nlprnn_classifier_ctx *c = NULL;
    nlprnn_classifier_ctx_create(m, 1, &c, NULL);
    float probs[2] = {-1, -1};
    int rc = nlprnn_classify(c, "the film was good", 17, probs, NULL, &e);
    CHECK_MSG(rc == NLPRNN_E_NUMERIC ||
                  (rc == 0 && probs[0] >= 0 && probs[0] <= 1 && probs[1] >= 0 && probs[1] <= 1),
              "classify with overflowing logits: %s, probabilities %g %g", nlprnn_status_name(rc),
              probs[0], probs[1]);
    nlprnn_classifier_ctx_free(c);
    nlprnn_classifier_free(m);
}

/* ---- 9: config sections ----------------------------------------------------------------------- */

static void test_config_keys(void) {
    nlprnn_error e;
    const size_t N = 100000;
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    for (size_t i = 0; i < N; i++) nr_mf_buf_printf(&b, &e, "key%zu=%zu\n", i, i);
    nr_conf c;
    double t0 = cpu_seconds();
    int rc = nr_conf_parse(&c, b.data, b.len, "big", &e);
    double t = cpu_seconds() - t0;
    CHECK_INT_EQ(rc, NLPRNN_E_FORMAT);
    CHECK_MSG(contains(e.message, "100000 keys") && contains(e.message, "4096"), "%s", e.message);
    CHECK_MSG(t < 1.0, "refusing 100,000 keys took %.2f s of CPU", t);
    /* the same as a model file given to `info` (took 41 s) */
    nr_mf_writer *w = NULL;
    nr_mf_writer_new(&w, NR_KIND_CLASSIFIER, &e);
    nr_mf_add(w, "CONF", NR_MF_CONFIG, b.data, b.len, 1, &e);
    const char *path = tmp("keys.nrm");
    CHECK_INT_EQ(nr_mf_writer_save(w, path, &e), 0);
    nr_mf_writer_free(w);
    char *text = NULL;
    t0 = cpu_seconds();
    rc = nlprnn_model_file_describe(path, &text, &e);
    t = cpu_seconds() - t0;
    CHECK_MSG(rc == NLPRNN_E_FORMAT && contains(e.message, path), "info: %s (%s)",
              nlprnn_status_name(rc), e.message);
    CHECK_MSG(t < 2.0, "info on 100,000 keys took %.2f s of CPU", t);
    nlprnn_free(text);

    /* the limit itself parses, every key is found, and fast */
    b.len = 0;
    for (size_t i = 0; i < NR_CONF_MAX_KEYS; i++)
        nr_mf_buf_printf(&b, &e, "k.%zu=%zu\n", (i * 7919) % NR_CONF_MAX_KEYS, i);
    t0 = cpu_seconds();
    rc = nr_conf_parse(&c, b.data, b.len, "max", &e);
    CHECK_MSG(rc == 0, "%d keys: %s", NR_CONF_MAX_KEYS, e.message);
    if (!rc) {
        for (size_t i = 0; i < NR_CONF_MAX_KEYS; i++) {
            char key[32];
            long long v = -1;
            snprintf(key, sizeof key, "k.%zu", (i * 7919) % NR_CONF_MAX_KEYS);
            CHECK(nr_conf_get_int(&c, key, &v, NULL) == 0 && v == (long long)i);
        }
        CHECK(!nr_conf_has(&c, "k.4096") && !nr_conf_has(&c, "k") && !nr_conf_has(&c, "k.10x"));
        nr_conf_free(&c);
    }
    t = cpu_seconds() - t0;
    CHECK_MSG(t < 1.0, "parsing and looking up %d keys took %.2f s of CPU", NR_CONF_MAX_KEYS, t);

    /* duplicates anywhere are found, named with both lines */
    b.len = 0;
    nr_mf_buf_printf(&b, &e, "zz=1\n");
    for (int i = 0; i < 1000; i++) nr_mf_buf_printf(&b, &e, "a%d=%d\n", i, i);
    nr_mf_buf_printf(&b, &e, "zz=2\n");
    rc = nr_conf_parse(&c, b.data, b.len, "dup", &e);
    CHECK_INT_EQ(rc, NLPRNN_E_FORMAT);
    CHECK_MSG(contains(e.message, "dup: key zz appears twice (lines 1 and 1002)") && e.line == 1002,
              "%s (line %lld)", e.message, e.line);
    nr_mf_buf_free(&b);
}

/* ---- 11: a message prefixed onto itself ------------------------------------------------------------ */

static void test_message_prefix(nlprnn_tokenizer *tok) {
    nlprnn_error e;
    nr_fail(&e, NLPRNN_E_DATA, 4, 17, "bad value %d", 7);
    CHECK_INT_EQ(nr_fail_prefix(&e, NLPRNN_E_FORMAT, NR_KEEP, NR_KEEP, "%s: section %s: ", "m.nrm",
                                "CONF"),
                 NLPRNN_E_FORMAT);
    CHECK_STR_EQ(e.message, "m.nrm: section CONF: bad value 7");
    CHECK(e.code == NLPRNN_E_FORMAT && e.line == 4 && e.offset == 17);
    CHECK_INT_EQ(nr_fail_prefix(NULL, NLPRNN_E_IO, -1, -1, "x"), NLPRNN_E_IO);

    /* a classifier whose configuration passes the key ranges but not the network check:
     * classifier.c formatted err->message into itself ("the message comes out garbled") */
    nr_clf_cfg cfg = small_clf_cfg();
    cfg.dropout = 1.5f;
    const char *path = tmp("clf-dropout.nrm");
    if (write_classifier(path, tok, cfg, 0, 1)) return;
    nlprnn_classifier *m = NULL;
    int rc = nlprnn_classifier_load(path, &m, &e);
    char want[700];
    snprintf(want, sizeof want, "%s: section CONF: classifier: invalid configuration (vocab %d,",
             path, nlprnn_tokenizer_vocab_size(tok));
    CHECK_MSG(rc == NLPRNN_E_FORMAT && !strncmp(e.message, want, strlen(want)) &&
                  contains(e.message, "dropout 1.5)"),
              "%s: \"%s\"", nlprnn_status_name(rc), e.message);
    const char *second = strstr(e.message + 1, "section CONF");
    CHECK_MSG(second && !strstr(second + 1, "section CONF"), "repeated prefix: \"%s\"", e.message);
    CHECK(m == NULL);
}

/* ---- 14: bounded memory ------------------------------------------------------------------------ */

static int load_dev_zero_model(void *arg) {
    (void)arg;
    nlprnn_classifier *m = NULL;
    nlprnn_error e;
    return nlprnn_classifier_load("/dev/zero", &m, &e) == NLPRNN_E_MAGIC && contains(e.message, "/dev/zero") ? 0 : 1;
}

static int load_dev_zero_tokenizer(void *arg) {
    (void)arg;
    nlprnn_tokenizer *t = NULL;
    nlprnn_error e;
    return nlprnn_tokenizer_load("/dev/zero", &t, &e) == NLPRNN_E_MAGIC ? 0 : 1;
}

static int eval_path(void *arg) {
    const char **a = arg; /* model, corpus */
    nlprnn_classifier *m = NULL;
    nlprnn_error e;
    if (nlprnn_classifier_load(a[0], &m, &e)) return 2;
    nlprnn_classifier_eval ev = {.size = sizeof ev};
    int rc = nlprnn_classifier_evaluate(m, a[1], NULL, NULL, 1, &ev, &e);
    if (rc) fprintf(stderr, "eval: %s\n", e.message);
    long long *cm = ev.confusion;
    int ok = !rc && ev.documents == 32 && ev.skipped == 0 && cm[0] + cm[1] + cm[2] + cm[3] == 32;
    nlprnn_free(cm);
    nlprnn_classifier_free(m);
    return ok ? 0 : 1;
}

static void test_memory_bounds(nlprnn_tokenizer *tok) {
    nlprnn_error e;
    int st = -1;
    long base = peak_kb(do_nothing, NULL, &st);
    CHECK(base > 0 && st == 0);
    /* /dev/zero as a model or tokenizer: refused after its first bytes (read 2 GiB before) */
    if (access("/dev/zero", R_OK) == 0) {
        long kb = peak_kb(load_dev_zero_model, NULL, &st);
        CHECK_MSG(st == 0, "/dev/zero as a model is not NLPRNN_E_MAGIC naming it");
        CHECK_MSG(kb >= 0 && kb - base < 256 * 1024, "/dev/zero as a model: peak %ld KiB (base %ld)",
                  kb, base);
        kb = peak_kb(load_dev_zero_tokenizer, NULL, &st);
        CHECK_MSG(st == 0, "/dev/zero as a tokenizer is not NLPRNN_E_MAGIC");
        CHECK_MSG(kb >= 0 && kb - base < 256 * 1024, "/dev/zero as a tokenizer: peak %ld KiB", kb);
    }
    /* bytes after a model's declared end are refused (without reading them all) */
    const char *clf = tmp("clf.nrm"), *longer = tmp("clf-longer.nrm");
    char *data = NULL;
    size_t n = 0;
    CHECK_INT_EQ(nr_read_file(clf, &data, &n, (size_t)1 << 30, &e), 0);
    FILE *fp = fopen(longer, "wb");
    if (fp && data) {
        fwrite(data, 1, n, fp);
        fwrite("tail bytes", 1, 10, fp);
        fclose(fp);
    }
    free(data);
    nlprnn_classifier *m = NULL;
    int rc = nlprnn_classifier_load(longer, &m, &e);
    CHECK_MSG(rc == NLPRNN_E_FORMAT && contains(e.message, "unexpected bytes after the end"),
              "%s: %s", nlprnn_status_name(rc), e.message);

    /* a configuration beyond what training allows (the loader took max_tokens = 2^20: 2.66 GB
     * and 12.5 s per document) */
    static const struct { const char *key, *value, *want; } caps[] = {
        {"max_tokens", "1048576", "max_tokens = 1048576 is out of range 1..65536"},
        {"embed", "8192", "embed = 8192 is out of range 1..4096"},
        {"hidden", "65536", "hidden = 65536 is out of range 1..4096"},
        {"vocab", "2000000", "vocab = 2000000 is out of range"}};
    for (size_t i = 0; i < sizeof caps / sizeof *caps; i++) {
        const char *bad = tmp("clf-cap.nrm");
        rewrite_conf(clf, bad, caps[i].key, caps[i].value);
        rc = nlprnn_classifier_load(bad, &m, &e);
        CHECK_MSG(rc == NLPRNN_E_FORMAT && contains(e.message, caps[i].want),
                  "%s=%s: %s (%s)", caps[i].key, caps[i].value, nlprnn_status_name(rc), e.message);
    }
    const char *lm = tmp("lm.nrm"), *badlm = tmp("lm-cap.nrm");
    rewrite_conf(lm, badlm, "embed", "8192");
    nlprnn_lm *l = NULL;
    rc = nlprnn_lm_load(badlm, &l, &e);
    CHECK_MSG(rc == NLPRNN_E_FORMAT && contains(e.message, "embed=8192 is out of range 1..4096"),
              "lm embed 8192: %s (%s)", nlprnn_status_name(rc), e.message);
    /* sizes within the limits that the file's weights do not hold are refused before the
     * network is allocated (16 layers of 4096: 8.6 GB) */
    const char *sizes[][2] = {{"layers", "16"}, {"hidden", "4096"}};
    rewrite_conf(lm, badlm, "hidden", "4096");
    rewrite_conf(badlm, tmp("lm-cap2.nrm"), "embed", "4096");
    rewrite_conf(tmp("lm-cap2.nrm"), badlm, "layers", "16");
    rc = nlprnn_lm_load(badlm, &l, &e);
    CHECK_MSG(rc == NLPRNN_E_FORMAT && contains(e.message, "impossible sizes") &&
                  contains(e.message, "section WFWD holds"),
              "lm of 16 x 4096 in a small file: %s (%s)", nlprnn_status_name(rc), e.message);
    for (int i = 0; i < 2; i++) {
        rewrite_conf(clf, tmp("clf-cap.nrm"), sizes[i][0], sizes[i][1]);
        rc = nlprnn_classifier_load(tmp("clf-cap.nrm"), &m, &e);
        CHECK_MSG(rc == NLPRNN_E_FORMAT && contains(e.message, "impossible sizes") &&
                      contains(e.message, "section WGHT holds"),
                  "classifier %s=%s in a small file: %s (%s)", sizes[i][0], sizes[i][1],
                  nlprnn_status_name(rc), e.message);
    }
    /* tied embeddings with embed != hidden is a bad file (was a usage error, exit 2) */
    rewrite_conf(lm, badlm, "hidden", "16");
    rc = nlprnn_lm_load(badlm, &l, &e);
    CHECK_MSG(rc == NLPRNN_E_FORMAT && contains(e.message, "needs embed = hidden"),
              "tied 8/16: %s (%s)", nlprnn_status_name(rc), e.message);

    /* tokenizer training on one endless line: NLPRNN_E_LIMIT naming file:line, as the bytes
     * arrive (it read a 2 GB line whole) */
    const char *gz = tmp("endless.txt.gz");
    gzFile g = gzopen(gz, "wb1");
    CHECK(g != NULL);
    if (g) {
        gzputs(g, "a first line\nand a second one\n");
        static char zeros[1 << 16];
        memset(zeros, '0', sizeof zeros);
        for (int i = 0; i < 20 * 16; i++) gzwrite(g, zeros, sizeof zeros); /* 20 MiB */
        gzputs(g, "\nlast\n");
        gzclose(g);
    }
    nlprnn_tokenizer *t = NULL;
    const char *paths[1] = {gz};
    rc = nlprnn_tokenizer_train_files(NULL, paths, 1, &t, &e);
    char want[600];
    snprintf(want, sizeof want, "%s:3: line is longer than the limit of 16777216 bytes", gz);
    CHECK_MSG(rc == NLPRNN_E_LIMIT && contains(e.message, want) && e.line == 3,
              "endless line: %s (%s)", nlprnn_status_name(rc), e.message);
    CHECK(t == NULL);
    nlprnn_tokenizer_free(t);

    /* evaluation of a corpus of big rows: 32 rows of 4 MiB (128 MiB of text) is read a part at
     * a time; it was read whole (a 2 MB gzip of such rows took 1.9 GB) */
    const char *tsv = tmp("bomb.tsv");
    fp = fopen(tsv, "wb");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs("id\tdocument\tlabel\n", fp);
    static char spaces[1 << 20];
    memset(spaces, ' ', sizeof spaces);
    for (int i = 0; i < 32; i++) {
        fprintf(fp, "%d\tthe cat ", i);
        for (int k = 0; k < 4; k++) fwrite(spaces, 1, sizeof spaces, fp);
        fprintf(fp, " sat\t%s\n", i % 2 ? "pos" : "neg");
    }
    fclose(fp);
    const char *args[2] = {clf, tsv};
    long kb = peak_kb(eval_path, args, &st);
    CHECK_MSG(st == 0, "evaluating the big rows failed (status %d)", st);
    if (UNDER_ASAN)
        fprintf(stderr, "(eval of 128 MiB of rows: peak %ld KiB over %ld; not checked under "
                        "AddressSanitizer, whose quarantine keeps freed parts)\n",
                kb - base, base);
    else
        CHECK_MSG(kb >= 0 && kb - base < 100 * 1024,
                  "evaluating 128 MiB of rows: peak %ld KiB above the %ld KiB baseline", kb - base,
                  base);
    unlink(tsv);
}

/* ---- 15: series values beyond the range ----------------------------------------------------------- */

static void test_series_range(void) {
    nlprnn_error e;
    const char *csv = tmp("big.csv");
    FILE *fp = fopen(csv, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs("t,value\n", fp);
    for (int i = 0; i < 100; i++) fprintf(fp, "%d,%s\n", i, i == 90 ? "1e308" : "20.5");
    fclose(fp);
    const char *cols[1] = {"value"};
    nlprnn_series *s = NULL;
    int rc = nlprnn_series_load_csv(csv, cols, 1, &s, &e);
    char want[600];
    snprintf(want, sizeof want, "%s:92: byte ", csv);
    CHECK_MSG(rc == NLPRNN_E_DATA && contains(e.message, want) && contains(e.message, "1e308") &&
                  e.line == 92,
              "1e308 in a CSV: %s (%s)", nlprnn_status_name(rc), e.message);
    CHECK(s == NULL);
    double v[50];
    for (int i = 0; i < 50; i++) v[i] = i == 40 ? -1e300 : 20 + sin(i);
    rc = nlprnn_series_create(v, 50, 1, NULL, &s, &e);
    CHECK_MSG(rc == NLPRNN_E_DATA && contains(e.message, "row 40"), "%s (%s)",
              nlprnn_status_name(rc), e.message);

    /* within the range, but far beyond the training rows: its scaled value overflows a float */
    fp = fopen(csv, "w");
    if (!fp) return;
    fputs("t,value\n", fp);
    for (int i = 0; i < 100; i++) fprintf(fp, "%d,%.17g\n", i, i == 95 ? 1e120 : 20 + sin(i * 0.4));
    fclose(fp);
    const char *train_csv = tmp("train.csv");
    fp = fopen(train_csv, "w");
    if (!fp) return;
    fputs("t,value\n", fp);
    for (int i = 0; i < 80; i++) fprintf(fp, "%d,%.17g\n", i, 20 + sin(i * 0.4));
    fclose(fp);
    nlprnn_series *tr = NULL;
    CHECK_INT_EQ(nlprnn_series_load_csv(train_csv, cols, 1, &tr, &e), 0);
    CHECK_INT_EQ(nlprnn_series_load_csv(csv, cols, 1, &s, &e), 0);
    nlprnn_forecaster_params *p = NULL;
    nlprnn_forecaster_params_create(&p, NULL);
    nlprnn_forecaster_params_set(p, "hidden", "3", NULL);
    nlprnn_forecaster_params_set(p, "window", "5", NULL);
    nlprnn_forecaster_params_set(p, "epochs", "2", NULL);
    nlprnn_forecaster *f = NULL;
    CHECK_INT_EQ(nlprnn_forecaster_train(tr, p, NULL, NULL, &f, &e), 0);
    if (f && s) {
        nlprnn_forecaster_eval fe = {.size = sizeof fe};
        rc = nlprnn_forecaster_evaluate(f, s, NLPRNN_PART_ALL, &fe, &e);
        nlprnn_free(fe.pred);
        nlprnn_free(fe.truth);
        snprintf(want, sizeof want, "%s:97: column 'value': value 1e+120 is", csv);
        CHECK_MSG(rc == NLPRNN_E_DATA && contains(e.message, want) && e.line == 97,
                  "eval with 1e120: %s (%s)", nlprnn_status_name(rc), e.message);
        double hist[10];
        for (int i = 0; i < 10; i++) hist[i] = i == 9 ? 1e120 : 20;
        double out[2];
        rc = nlprnn_forecaster_predict(f, hist, 10, 2, out, &e);
        CHECK_MSG(rc == NLPRNN_E_DATA && contains(e.message, "scaled"), "predict with 1e120: %s (%s)",
                  nlprnn_status_name(rc), e.message);
        /* a training series with values of 1e150 among small ones: either a clear error or
         * finite metrics, never an infinite one */
        nlprnn_series *wide = NULL;
        double w[100];
        for (int i = 0; i < 100; i++) w[i] = i % 17 == 3 ? (i % 2 ? 1e150 : -1e150) : sin(i);
        CHECK_INT_EQ(nlprnn_series_create(w, 100, 1, NULL, &wide, &e), 0);
        nlprnn_forecaster *g = NULL;
        rc = nlprnn_forecaster_train(wide, p, NULL, NULL, &g, &e);
        if (!rc) {
            nlprnn_forecaster_eval ge = {.size = sizeof ge};
            rc = nlprnn_forecaster_evaluate(g, wide, NLPRNN_PART_ALL, &ge, &e);
            for (int k = 0; !rc && k < NLPRNN_FORECAST_METHODS * NLPRNN_METRICS; k++)
                CHECK_MSG(isfinite(ge.metrics[k / NLPRNN_METRICS][k % NLPRNN_METRICS]), "metric %d is %g", k,
                          ge.metrics[k / NLPRNN_METRICS][k % NLPRNN_METRICS]);
            nlprnn_free(ge.pred);
            nlprnn_free(ge.truth);
        }
        CHECK_MSG(rc == 0 || rc == NLPRNN_E_DATA, "+-1e150: %s (%s)", nlprnn_status_name(rc),
                  e.message);
        nlprnn_forecaster_free(g);
        nlprnn_series_free(wide);
    }
    nlprnn_forecaster_free(f);
    nlprnn_forecaster_params_free(p);
    nlprnn_series_free(s);
    nlprnn_series_free(tr);
}

static int tokn_encoding(const char *path) {
    nlprnn_error e;
    nr_mf_reader *r = NULL;
    if (nr_mf_open_file(&r, path, NULL, &e)) {
        CHECK_MSG(0, "%s: %s", path, e.message);
        return -1;
    }
    const nr_mf_section *s = nr_mf_find(r, "TOKN");
    int enc = s ? s->encoding : -1;
    nr_mf_close(r);
    return enc;
}

/* probs (3 documents x 2 classes) of the classifier in path; 0 when it loads and classifies */
static int clf_probs(const char *path, float *probs) {
    static const char *docs[] = {"the film was good", "a dog ran in the park", "bad cat"};
    nlprnn_error e;
    nlprnn_classifier *m = NULL;
    nlprnn_classifier_ctx *c = NULL;
    int rc = nlprnn_classifier_load(path, &m, &e);
    if (!rc) rc = nlprnn_classifier_ctx_create(m, 1, &c, &e);
    for (int i = 0; !rc && i < 3; i++) rc = nlprnn_classify(c, docs[i], strlen(docs[i]), probs + 2 * i, NULL, &e);
    CHECK_MSG(rc == 0, "%s: %s", path, e.message);
    nlprnn_classifier_ctx_free(c);
    nlprnn_classifier_free(m);
    return rc;
}

/* Copy model file src to dst with its TOKN section compressed (as every file was written before
 * TOKN was stored), every other section as it is. 0 or the error code. */
static int rewrite_tokn_zlib(const char *src, const char *dst) {
    nlprnn_error e;
    nr_mf_reader *r = NULL;
    nr_mf_writer *w = NULL;
    int rc = nr_mf_open_file(&r, src, NULL, &e);
    if (!rc) rc = nr_mf_writer_new(&w, nr_mf_kind(r), &e);
    for (size_t i = 0; !rc && i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        rc = nr_mf_add(w, s->tag, s->content, s->data, (size_t)s->raw_len, !strcmp(s->tag, "TOKN"), &e);
    }
    if (!rc) rc = nr_mf_writer_save(w, dst, &e);
    CHECK_MSG(rc == 0, "rewrite: %s", e.message);
    nr_mf_writer_free(w);
    nr_mf_close(r);
    return rc;
}

static void test_tokn_layouts(nlprnn_tokenizer *tok) {
    const char *stored = tmp("tokn-stored.nrm"), *zlib = tmp("tokn-zlib.nrm"), *re = tmp("tokn-re.nrm");
    if (write_classifier(stored, tok, small_clf_cfg(), 0.5f, 1.0f)) return;
    CHECK_INT_EQ(tokn_encoding(stored), NR_MF_STORED);
    /* the same file with TOKN compressed, as every classifier was written before */
    nlprnn_error e;
    if (rewrite_tokn_zlib(stored, zlib)) return;
    CHECK_INT_EQ(tokn_encoding(zlib), NR_MF_ZLIB);
    float a[6], b[6], c[6];
    CHECK_INT_EQ(clf_probs(stored, a), 0);
    CHECK_INT_EQ(clf_probs(zlib, b), 0);
    CHECK_MSG(!memcmp(a, b, sizeof a), "TOKN stored and compressed give other probabilities");
    /* relabelling the older file writes TOKN stored; the probabilities stay the same */
    CHECK_INT_EQ(nlprnn_classifier_relabel(zlib, "neg=negative,pos=positive", re, &e), 0);
    CHECK_INT_EQ(tokn_encoding(re), NR_MF_STORED);
    CHECK_INT_EQ(clf_probs(re, c), 0);
    CHECK_MSG(!memcmp(a, c, sizeof a), "the relabelled file gives other probabilities");
}

/* log p of a few texts under language model file path, or NAN when it does not load */
static void lm_scores(const char *path, double out[3]) {
    static const char *texts[3] = {"the cat sat on the mat", "a dog ran", "good film bad film"};
    nlprnn_error e;
    nlprnn_lm *lm = NULL;
    nlprnn_lm_ctx *cx = NULL;
    for (int i = 0; i < 3; i++) out[i] = NAN;
    int rc = nlprnn_lm_load(path, &lm, &e);
    if (!rc) rc = nlprnn_lm_ctx_create(lm, &cx, &e);
    for (int i = 0; !rc && i < 3; i++)
        rc = nlprnn_lm_score(cx, texts[i], strlen(texts[i]), NLPRNN_LM_FORWARD, &out[i], NULL, &e);
    CHECK_MSG(rc == 0, "%s: %s", path, e.message);
    nlprnn_lm_ctx_free(cx);
    nlprnn_lm_free(lm);
}

/* Language models too are written with TOKN stored (tasks/lm/file.c); a file with TOKN compressed
 * (the shipped ko-lm.nrm until scripts/store-tokn.py re-saved it) loads the same tokenizer and
 * gives the same scores bit for bit. */
static void test_lm_tokn_layouts(nlprnn_tokenizer *tok) {
    const char *stored = tmp("lm-stored.nrm"), *zlib = tmp("lm-zlib.nrm");
    if (write_lm(stored, tok, 8, 8, 1, -1, 0)) return;
    CHECK_INT_EQ(tokn_encoding(stored), NR_MF_STORED);
    if (rewrite_tokn_zlib(stored, zlib)) return;
    CHECK_INT_EQ(tokn_encoding(zlib), NR_MF_ZLIB);
    double a[3], b[3];
    lm_scores(stored, a);
    lm_scores(zlib, b);
    CHECK_MSG(!memcmp(a, b, sizeof a) && isfinite(a[0]), "TOKN stored and compressed: %.17g / %.17g",
              a[0], b[0]);
}

/* A damaged tokenizer file whose tables hold no pieces and no text (a fuzz_tokenizer_load find,
 * tests/data/tokenizer/damaged_no_pieces.tok: size and CRC32 consistent, so the section parser
 * reads it): refused with NLPRNN_E_FORMAT. The loader's clean-up freed a pointer just past its
 * block of tables (an empty array at the block's end): glibc aborted ("munmap_chunk(): invalid
 * pointer"), ASan reports a bad free; the file is read from disk and from memory. */
static void test_damaged_tokenizer(void) {
    const char *path = nr_test_data_path("tokenizer/damaged_no_pieces.tok");
    size_t n = 0;
    unsigned char *data = nr_test_slurp(path, &n);
    CHECK(data && n == 296);
    if (!data) return;
    nlprnn_tokenizer *t = NULL;
    nlprnn_error err;
    int rc = nlprnn_tokenizer_load_memory(data, n, &t, &err);
    CHECK_MSG(rc == NLPRNN_E_FORMAT && strstr(err.message, "0 pieces"), "rc %d: %s", rc, err.message);
    CHECK(t == NULL);
    rc = nlprnn_tokenizer_load(path, &t, &err);
    CHECK_MSG(rc == NLPRNN_E_FORMAT && strstr(err.message, "damaged_no_pieces.tok"), "rc %d: %s", rc, err.message);
    free(data);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_robust_loaders_%d", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", g_dir);
    CHECK(system(cmd) == 0);
    nlprnn_tokenizer *tok = word_tokenizer();
    if (tok) {
        test_nonfinite_weights(tok);
        test_huge_weights(tok);
        test_message_prefix(tok);
        test_memory_bounds(tok);
        test_tokn_layouts(tok);
        test_lm_tokn_layouts(tok);
    }
    test_config_keys();
    test_series_range();
    test_damaged_tokenizer();
    nlprnn_tokenizer_free(tok);
    if (!getenv("KEEP")) snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir); else snprintf(cmd, sizeof cmd, "true");
    CHECK(system(cmd) == 0);
    return nr_test_done("test_robust_loaders");
}
