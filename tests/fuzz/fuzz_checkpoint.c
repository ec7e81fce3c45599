/* tests/fuzz/fuzz_checkpoint.c: libFuzzer target for the checkpoint reader of classifier
 * training (`nlprnn train --resume`): the whole resume path of nlprnn_classifier_train, i.e.
 * the container, the classifier parts (config, tokenizer, classes), the training parameters,
 * the state (position, record, running sums, step count), the weights, the best weights and
 * Adam's moments, and then the training that continues from them.
 *
 * Once, in a temporary folder (relative names, so that the checkpoint's text is the same on
 * every run): a 48-row corpus, a word-level tokenizer of 64 ids and a run of a tiny GRU
 * classifier (2 units, 2 epochs of 6 batches) stopped at epoch 2 batch 2, whose checkpoint is
 * the base. Resuming the base must succeed (checked once). Each input then crafts a checkpoint
 * from the base with valid CRCs (the container is fuzz_modelfile's business) and resumes it:
 *   byte 0 % 4 == 0: the rest is "key=value" lines that override or add keys of the CONF
 *                    section (the state fields are reached at once);
 *                 1: the rest replaces the CONF section;
 *                 2: byte 1 picks a section (CONF, TOKN, LABL, WGHT, BEST, OPTM), the rest of
 *                    the bytes replace it (content type kept);
 *                 3: the state fields as numbers: per field one control byte (keep the base's
 *                    value, add a small signed delta, a small signed value, any 64-bit value,
 *                    or for the floats one of nan, inf, -inf, -1, 0, 1, 1e308, -0.5), so that
 *                    negative, huge and off-by-one values come at once (text mutations rarely
 *                    make a minus sign or 19 digits).
 * Invariants (a violation aborts): a failed resume reports its status with a message and writes
 * no model; a successful one writes a model that loads. ASan/UBSan catch the rest (the
 * out-of-bounds batch index and the signed overflows of issue 13 were found with crafted
 * checkpoints like these).
 * NLPRNN_FUZZ_SEEDS_OUT=DIR: write seed inputs (the base's CONF and sections) to DIR and exit;
 * tests/fuzz/corpus/fuzz_checkpoint/ was made so. */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "nlprnn.h"

static nlprnn_classifier_params *g_params;
static int g_home = -1, g_work = -1; /* the caller's folder (libFuzzer reads its corpus there) and ours */
static char g_dir[] = "/tmp/nlprnn_fuzz_ckpt_XXXXXX"; /* ours, removed at exit */
static unsigned char *g_base; /* the base checkpoint's bytes */
static size_t g_base_len;

static void check(int cond, const char *what, const nlprnn_error *err) {
    if (!cond) {
        fprintf(stderr, "fuzz_checkpoint: invariant violated: %s%s%s\n", what, err ? ": " : "",
                err ? err->message : "");
        abort();
    }
}

static int stop_at(void *user, const nlprnn_classifier_progress *p) {
    (void)user;
    return p->phase == 1 && p->epoch == 2 && p->batch == 2;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *fp = fopen(path, "wb");
    check(fp && fwrite(data, 1, n, fp) == n && fclose(fp) == 0, "writing a file", NULL);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void base_values(void);

/* At exit (libFuzzer ends a -runs=N or -max_total_time run with exit()): back to the caller's
 * folder and our temporary folder removed with what the runs wrote in it (flat: no subfolders). */
static void remove_work(void) {
    if (g_home >= 0 && fchdir(g_home) != 0) return;
    DIR *d = opendir(g_dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[sizeof g_dir + 260];
        snprintf(path, sizeof path, "%s/%s", g_dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(g_dir);
}

static void setup(void) {
    g_home = open(".", O_RDONLY | O_DIRECTORY);
    check(g_home >= 0 && mkdtemp(g_dir) && chdir(g_dir) == 0, "temporary folder", NULL);
    atexit(remove_work);
    g_work = open(".", O_RDONLY | O_DIRECTORY);
    check(g_work >= 0, "temporary folder", NULL);
    static const char *const words[] = {"good", "great", "fun", "bad", "boring", "awful",
                                        "movie", "film", "plot", "actor"};
    FILE *fp = fopen("data.tsv", "w");
    check(fp != NULL, "data.tsv", NULL);
    fprintf(fp, "id\tdocument\tlabel\n");
    for (int i = 0; i < 48; i++) {
        int pos = i % 2;
        fprintf(fp, "%d\t%s %s %s %s\t%d\n", i, words[6 + i % 4], words[pos ? i % 3 : 3 + i % 3],
                words[(i * 7) % 10], words[pos ? (i + 1) % 3 : 3 + (i + 2) % 3], pos);
    }
    check(fclose(fp) == 0, "data.tsv", NULL);
    nlprnn_error err;
    nlprnn_tokenizer_params *o = NULL;
    check(!nlprnn_tokenizer_params_create(&o, &err) &&
              !nlprnn_tokenizer_params_set(o, "model-type", "word", &err) &&
              !nlprnn_tokenizer_params_set(o, "vocab-size", "64", &err) &&
              !nlprnn_tokenizer_params_set(o, "byte-fallback", "0", &err) &&
              !nlprnn_tokenizer_params_set(o, "min-count", "1", &err),
          "tokenizer options", &err);
    const char *paths[1] = {"data.tsv"};
    nlprnn_tokenizer *tok = NULL;
    check(!nlprnn_tokenizer_train_files(o, paths, 1, &tok, &err) &&
              !nlprnn_tokenizer_save(tok, "tok.tok", &err),
          "tokenizer", &err);
    nlprnn_tokenizer_params_free(o);
    nlprnn_tokenizer_free(tok);
    static const char *const kv[][2] = {
        {"tokenizer", "tok.tok"}, {"checkpoint", "ck.ckpt"}, {"embed", "2"}, {"hidden", "2"},
        {"cell", "gru"}, {"bidirectional", "0"}, {"epochs", "2"}, {"batch", "8"},
        {"threads", "1"}, {"valid", "0.1"}, {"seed", "1"}, {"patience", "0"}, {"storage", "f32"}};
    check(!nlprnn_classifier_params_create(&g_params, &err), "parameters", &err);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        check(!nlprnn_classifier_params_set(g_params, kv[i][0], kv[i][1], &err), kv[i][0], &err);
    int rc = nlprnn_classifier_train(g_params, "data.tsv", NULL, "out.nrm", 0, NULL, stop_at, NULL, &err);
    check(rc == NLPRNN_E_INTERRUPTED, "the base run stops with a checkpoint", &err);
    check(!nr_read_file("ck.ckpt", (char **)&g_base, &g_base_len, 1 << 20, &err), "base", &err);
    /* the base resumes */
    rc = nlprnn_classifier_train(g_params, "data.tsv", NULL, "out.nrm", 1, NULL, NULL, NULL, &err);
    check(rc == 0 && exists("out.nrm"), "the base checkpoint resumes", &err);
    unlink("out.nrm");
    base_values();
}

/* The base with section `tag` replaced by data[0..n) (tag NULL: unchanged), CONF lines
 * overridden by `over` (NULL: none), written to ck.ckpt. */
static void craft(const char *tag, const void *data, size_t n, const char *over, size_t over_n) {
    nr_mf_reader *r = NULL;
    nr_mf_writer *w = NULL;
    nlprnn_error err;
    check(!nr_mf_open_mem(&r, g_base, g_base_len, "base", "CKPT", &err) &&
              !nr_mf_writer_new(&w, "CKPT", &err),
          "base reopens", &err);
    for (size_t i = 0; i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        if (tag && !strcmp(s->tag, tag)) {
            check(!nr_mf_add(w, s->tag, s->content, data, n, 0, &err), "add", &err);
        } else if (over && !strcmp(s->tag, "CONF")) {
            /* the base's lines whose key the overrides do not set, then the overrides */
            nr_mf_buf b;
            nr_mf_buf_init(&b);
            const char *t = (const char *)s->data, *end = t + s->raw_len;
            while (t < end) {
                const char *nl = memchr(t, '\n', (size_t)(end - t));
                size_t len = nl ? (size_t)(nl - t + 1) : (size_t)(end - t);
                const char *eq = memchr(t, '=', len);
                size_t kl = eq ? (size_t)(eq - t) : len;
                int overridden = 0;
                for (const char *o = over; o < over + over_n;) {
                    const char *onl = memchr(o, '\n', (size_t)(over + over_n - o));
                    size_t ol = onl ? (size_t)(onl - o) : (size_t)(over + over_n - o);
                    if (ol > kl && o[kl] == '=' && !memcmp(o, t, kl)) overridden = 1;
                    o += ol + 1;
                }
                if (!overridden) nr_mf_buf_put(&b, t, len, &err);
                t += len;
            }
            nr_mf_buf_put(&b, over, over_n, &err);
            if (over_n && over[over_n - 1] != '\n') nr_mf_buf_put(&b, "\n", 1, &err);
            check(!nr_mf_add(w, "CONF", s->content, b.data, b.len, 0, &err), "add CONF", &err);
            nr_mf_buf_free(&b);
        } else {
            check(!nr_mf_add(w, s->tag, s->content, s->data, (size_t)s->raw_len, 0, &err), "copy", &err);
        }
    }
    unsigned char *file = NULL;
    size_t len = 0;
    check(!nr_mf_writer_to_mem(w, &file, &len, &err), "serialize", &err);
    write_bytes("ck.ckpt", file, len);
    free(file);
    nr_mf_writer_free(w);
    nr_mf_close(r);
}

/* Mode 3: the state fields of the base, rewritten from the input's bytes into "key=value" lines. */
static const char *const int_keys[] = {"state.epoch",     "state.batch",      "state.best_epoch",
                                       "state.bad_epochs", "state.ep_correct", "state.ep_count",
                                       "state.ep_tokens",  "state.optim_step", "state.stopped_early",
                                       "data.train_docs",  "data.valid_docs",  "data.train_tokens"};
static const char *const float_keys[] = {"state.best_acc", "state.best_loss", "state.ep_loss"};
#define NINT (sizeof int_keys / sizeof int_keys[0])
#define NFLOAT (sizeof float_keys / sizeof float_keys[0])
static long long g_int[NINT];
static double g_float[NFLOAT];

static void base_values(void) {
    nr_mf_reader *r = NULL;
    nr_conf c;
    nlprnn_error err;
    check(!nr_mf_open_mem(&r, g_base, g_base_len, "base", "CKPT", &err) && !nr_mf_get_conf(r, "CONF", &c, &err),
          "base CONF", &err);
    for (size_t i = 0; i < NINT; i++) check(!nr_conf_get_int(&c, int_keys[i], &g_int[i], &err), int_keys[i], &err);
    for (size_t i = 0; i < NFLOAT; i++) check(!nr_conf_get_float(&c, float_keys[i], &g_float[i], &err), float_keys[i], &err);
    nr_conf_free(&c);
    nr_mf_close(r);
}

/* Consume the input's bytes into override lines (at most cap bytes of text). */
static size_t numbers(const unsigned char *d, size_t n, char *out, size_t cap) {
    static const double specials[8] = {NAN, INFINITY, -INFINITY, -1, 0, 1, 1e308, -0.5};
    size_t at = 0, len = 0;
    for (size_t i = 0; i < NINT + NFLOAT && at < n; i++) {
        int c = d[at++] % 4;
        char val[64];
        if (i < NINT) {
            long long v = g_int[i];
            if (c == 1 && at < n) v += (signed char)d[at++];
            else if (c == 2 && at < n) v = (signed char)d[at++];
            else if (c == 3 && at + 8 <= n) {
                unsigned long long u = 0;
                for (int k = 0; k < 8; k++) u |= (unsigned long long)d[at++] << (8 * k);
                memcpy(&v, &u, sizeof v);
            }
            snprintf(val, sizeof val, "%lld", v);
        } else {
            double v = g_float[i - NINT];
            if (c && at < n) v = c == 1 ? specials[d[at++] % 8] : v * (double)(signed char)d[at++] / 16.0;
            snprintf(val, sizeof val, "%.17g", v);
        }
        const char *key = i < NINT ? int_keys[i] : float_keys[i - NINT];
        int w = snprintf(out + len, cap - len, "%s=%s\n", key, val);
        if (w < 0 || (size_t)w >= cap - len) break;
        len += (size_t)w;
    }
    return len;
}

static const char *const tags[] = {"CONF", "TOKN", "LABL", "WGHT", "BEST", "OPTM"};
#define NTAGS (sizeof tags / sizeof tags[0])

/* Seeds: each section of the base as a mode-2 input, its CONF as a mode-1 input, a few
 * mode-0 overrides. */
static void dump_seeds(const char *dir) {
    nr_mf_reader *r = NULL;
    nlprnn_error err;
    check(!nr_mf_open_mem(&r, g_base, g_base_len, "base", "CKPT", &err), "base", &err);
    char path[1024];
    for (size_t k = 0; k < NTAGS; k++) {
        const nr_mf_section *s = nr_mf_find(r, tags[k]);
        if (!s || s->raw_len > 4000) continue;
        unsigned char *buf = malloc((size_t)s->raw_len + 2);
        buf[0] = 2;
        buf[1] = (unsigned char)k;
        memcpy(buf + 2, s->data, (size_t)s->raw_len);
        snprintf(path, sizeof path, "%s/section_%s", dir, tags[k]);
        write_bytes(path, buf, (size_t)s->raw_len + 2);
        if (k == 0) {
            buf[1] = 1;
            snprintf(path, sizeof path, "%s/conf", dir);
            write_bytes(path, buf + 1, (size_t)s->raw_len + 1);
        }
        free(buf);
    }
    static const char *const over[] = {"\0state.batch=3\nstate.optim_step=9\nstate.ep_count=24\n",
                                       "\0state.epoch=0\nstate.batch=0\nstate.optim_step=0\n",
                                       "\0state.stopped_early=1\n"};
    for (size_t k = 0; k < sizeof over / sizeof over[0]; k++) {
        snprintf(path, sizeof path, "%s/override_%zu", dir, k);
        write_bytes(path, over[k], 1 + strlen(over[k] + 1));
    }
    /* mode 3: every field kept (the base), and the batch moved by -1 */
    static const unsigned char keep[1 + NINT + NFLOAT] = {3};
    snprintf(path, sizeof path, "%s/numbers_base", dir);
    write_bytes(path, keep, sizeof keep);
    static const unsigned char minus[] = {3, 0, 1, 0xFF};
    snprintf(path, sizeof path, "%s/numbers_batch_minus_1", dir);
    write_bytes(path, minus, sizeof minus);
    nr_mf_close(r);
}

static void resume_one(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (!g_base) {
        setup();
        const char *seeds = getenv("NLPRNN_FUZZ_SEEDS_OUT");
        if (seeds) {
            check(fchdir(g_home) == 0, "back home", NULL);
            dump_seeds(seeds);
            _exit(0); /* not exit(): libFuzzer reports an exit from the target as a crash */
        }
    } else {
        check(fchdir(g_work) == 0, "into the temporary folder", NULL);
    }
    resume_one(data, size);
    check(fchdir(g_home) == 0, "back home", NULL); /* libFuzzer writes its corpus there */
    return 0;
}

static void resume_one(const unsigned char *data, size_t size) {
    if (size < 1) return;
    int mode = data[0] % 4;
    char over[2048];
    if (mode == 3) craft(NULL, NULL, 0, over, numbers(data + 1, size - 1, over, sizeof over));
    else if (mode == 0) craft(NULL, NULL, 0, (const char *)data + 1, size - 1);
    else if (mode == 1) craft("CONF", data + 1, size - 1, NULL, 0);
    else if (size >= 2) craft(tags[data[1] % NTAGS], data + 2, size - 2, NULL, 0);
    else return;
    nlprnn_error err;
    nlprnn_error_clear(&err);
    int rc = nlprnn_classifier_train(g_params, "data.tsv", NULL, "out.nrm", 1, NULL, NULL, NULL, &err);
    if (rc) {
        check(err.code == rc && err.message[0], "a failure has its status and a message", &err);
        check(!exists("out.nrm"), "a failed resume writes no model", &err);
    } else {
        nlprnn_classifier *m = NULL;
        check(!nlprnn_classifier_load("out.nrm", &m, &err), "the resumed model loads", &err);
        nlprnn_classifier_free(m);
        unlink("out.nrm");
    }
}
