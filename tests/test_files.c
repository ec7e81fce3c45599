/* tests/test_files.c: nothing a run writes is lost, misplaced or half-written (issue 13). One
 * section per defect; every file is made here, in a temporary folder:
 *   1  a checkpoint whose state is out of range or inconsistent (negative or huge batch / epoch,
 *      overflowing step, NaN record, negative Adam moment) is refused naming the file and the
 *      key (NLPRNN_E_FORMAT), one with other classes as other data (NLPRNN_E_INVALID_ARG), before
 *      any training, no model written; the untouched checkpoint resumes (control);
 *   2  --checkpoint equal to the output, to the training corpus or to another existing file is
 *      refused before training and nothing is deleted; an old checkpoint may be reused;
 *   3  the writer replaces only a regular file: a FIFO, symbolic links (to a file and to
 *      /dev/null), a folder and, where mknod is allowed, a character device are refused and left
 *      as they were (also when one appears between open and commit);
 *   5  an output that is an input (same device and inode: the same name, another spelling, a hard
 *      link) is refused by train, tokenizer-train, lm-train, forecast train and forecast eval;
 *   6  file names that are not UTF-8 (training data, tokenizer) train, checkpoint and resume; the
 *      model stores the name with the bad byte as \xFF;
 *   7  an interrupted lm-train leaves an existing model byte for byte and writes OUT.partial
 *      (the forward network only when the backward one had not started), named in the message;
 *  10  new files get 0666 minus the umask; a replaced file keeps its mode;
 *  22  CSV and SVG outputs (forecast sine, forecast eval --out, gradflow --csv/--plot) are atomic:
 *      over RLIMIT_FSIZE they exit 4 with a message naming the file, the old file stays and no
 *      temporary is left.
 */
#define _XOPEN_SOURCE 700 /* mknod */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "nlprnn.h"
#include "testutil.h"

static char g_dir[256];
static const char *g_cli;

static const char *path_in(const char *name) {
    static char buf[16][600];
    static int slot;
    char *p = buf[slot++ % 16];
    snprintf(p, 600, "%s/%s", g_dir, name);
    return p;
}

static void write_text(const char *path, const char *text) {
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs(text, fp);
    fclose(fp);
}

static unsigned char *read_all(const char *path, size_t *n) {
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 1 << 16, len = 0, k;
    unsigned char *buf = malloc(cap);
    while (buf && (k = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += k;
        if (len < cap) continue;
        unsigned char *nb = realloc(buf, cap * 2);
        if (!nb) free(buf);
        buf = nb;
        cap *= 2;
    }
    fclose(fp);
    *n = buf ? len : 0;
    return buf;
}

/* 1 when path holds exactly data[0..n) */
static int holds(const char *path, const void *data, size_t n) {
    size_t m;
    unsigned char *got = read_all(path, &m);
    int same = got && m == n && memcmp(got, data, n) == 0;
    free(got);
    return same;
}

static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Temporary files of the atomic writer (NAME.tmp.XXXXXX) left in the folder. */
static int temporaries(void) {
    DIR *d = opendir(g_dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

/* Copy the header and the first `rows` rows of the test corpus. */
static void make_corpus(const char *dst, int rows) {
    FILE *in = fopen(nr_test_data_path("clf_train.tsv"), "rb"), *out = fopen(dst, "wb");
    CHECK(in && out);
    char line[4096];
    for (int i = 0; in && out && i <= rows && fgets(line, sizeof line, in); i++) fputs(line, out);
    if (in) fclose(in);
    if (out) fclose(out);
}

/* Run a shell command in the folder, "$NLPRNN_CLI" being the program; stdout and stderr go to
 * *out (NULL: discarded). Returns the exit status. */
static int run_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run_sh(char **out, const char *fmt, ...) {
    char cmd[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *o = NULL;
    int rc = nr_test_run(&o, "cd '%s' && ( %s ) 2>&1", g_dir, cmd);
    if (out) *out = o;
    else free(o);
    return rc;
}
#define RUN(out, ...) run_sh(out, "\"$NLPRNN_CLI\" " __VA_ARGS__)

static int contains(const char *text, const char *what) { return text && strstr(text, what); }

/* ---- 3 and 10: the writer ------------------------------------------------------------------- */

static int refused_by_writer(const char *path, const char *kind) {
    nlprnn_output *o = (nlprnn_output *)1;
    nlprnn_error e;
    int rc = nlprnn_output_open(path, &o, &e);
    CHECK_MSG(rc == NLPRNN_E_IO && o == NULL, "%s: open gave %d", path, rc);
    CHECK_MSG(contains(e.message, path) && contains(e.message, kind) &&
                  contains(e.message, "only a regular file"),
              "%s", e.message);
    CHECK_INT_EQ(nr_atomic_write_file(path, "x", 1, &e), NLPRNN_E_IO);
    return rc == NLPRNN_E_IO;
}

static void test_writer_rule(void) {
    /* a FIFO: refused, still a FIFO (nothing blocks: it is never opened) */
    const char *fifo = path_in("fifo");
    CHECK_INT_EQ(mkfifo(fifo, 0600), 0);
    refused_by_writer(fifo, "named pipe");
    struct stat st;
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    /* symbolic links: to a regular file (which stays as it was) and to /dev/null */
    const char *target = path_in("target.txt"), *link1 = path_in("link1"), *link2 = path_in("link2");
    write_text(target, "keep\n");
    CHECK_INT_EQ(symlink(target, link1), 0);
    CHECK_INT_EQ(symlink("/dev/null", link2), 0);
    refused_by_writer(link1, "symbolic link");
    refused_by_writer(link2, "symbolic link");
    CHECK(lstat(link1, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(lstat(link2, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(holds(target, "keep\n", 5));
    /* a folder */
    const char *folder = path_in("folder");
    CHECK_INT_EQ(mkdir(folder, 0700), 0);
    refused_by_writer(folder, "folder");
    /* a copy of /dev/full (needs CAP_MKNOD: run where allowed, said when not) */
    const char *full = path_in("full");
    if (mknod(full, S_IFCHR | 0666, makedev(1, 7)) == 0) {
        refused_by_writer(full, "character device");
        CHECK(lstat(full, &st) == 0 && S_ISCHR(st.st_mode));
        unlink(full);
    } else {
        printf("note: mknod not permitted here (%s): the character-device case was not run; the "
               "FIFO, link and folder cases cover the same rule\n", strerror(errno));
    }
    /* a node that appears between open and commit: refused at commit, left in place */
    const char *late = path_in("late");
    nlprnn_output *o;
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_output_open(late, &o, &e), 0);
    fputs("new\n", nlprnn_output_stream(o));
    CHECK_INT_EQ(mkfifo(late, 0600), 0);
    CHECK_INT_EQ(nlprnn_output_commit(o, &e), NLPRNN_E_IO);
    CHECK(contains(e.message, "named pipe"));
    CHECK(lstat(late, &st) == 0 && S_ISFIFO(st.st_mode));
    CHECK_INT_EQ(temporaries(), 0);
    unlink(late);
    /* the same through the program: tokenizer-train and forecast sine refuse a FIFO / a link
     * with exit 4, before training */
    make_corpus(path_in("tt.tsv"), 100);
    char *out = NULL;
    int rc = RUN(&out, "tokenizer-train --input tt.tsv --output fifo --vocab-size 300");
    CHECK_MSG(rc == 4 && contains(out, "named pipe"), "tokenizer-train --output FIFO: exit %d: %s", rc, out);
    free(out);
    rc = RUN(&out, "forecast sine -o link2 --length 10");
    CHECK_MSG(rc == 4 && contains(out, "symbolic link"), "forecast sine -o link: exit %d: %s", rc, out);
    free(out);
    rc = RUN(&out, "train tt.tsv -o link1 --vocab 300 --embed 4 --hidden 4 --epochs 1 -q");
    CHECK_MSG(rc == 4 && contains(out, "symbolic link") && !contains(out, "epoch"),
              "train -o link: exit %d: %s", rc, out);
    free(out);
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    CHECK(lstat(link2, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(holds(target, "keep\n", 5));
    CHECK_INT_EQ(temporaries(), 0);
}

static int mode_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void test_modes(void) {
    nlprnn_error e;
    const char *a = path_in("mode-a"), *b = path_in("mode-b");
    mode_t old = umask(077);
    CHECK_INT_EQ(nr_atomic_write_file(a, "1", 1, &e), 0);
    CHECK_MSG(mode_of(a) == 0600, "umask 077: mode %o", mode_of(a));
    umask(022);
    CHECK_INT_EQ(nr_atomic_write_file(b, "1", 1, &e), 0);
    CHECK_MSG(mode_of(b) == 0644, "umask 022: mode %o", mode_of(b));
    /* replacing keeps the mode, whatever the umask */
    CHECK_INT_EQ(chmod(b, 0640), 0);
    umask(0);
    CHECK_INT_EQ(nr_atomic_write_file(b, "2", 1, &e), 0);
    CHECK_MSG(mode_of(b) == 0640, "replaced 0640 file: mode %o", mode_of(b));
    CHECK_INT_EQ(chmod(a, 0600), 0);
    umask(022);
    CHECK_INT_EQ(nr_atomic_write_file(a, "2", 1, &e), 0);
    CHECK_MSG(mode_of(a) == 0600, "replaced 0600 file: mode %o", mode_of(a));
    umask(old);
    /* through the program: a tokenizer and a model under umask 077; a 0600 model replaced under
     * umask 022 stays 0600 */
    make_corpus(path_in("m.tsv"), 120);
    int rc = run_sh(NULL, "umask 077; \"$NLPRNN_CLI\" tokenizer-train --input m.tsv --output m.tok "
                          "--vocab-size 300");
    CHECK_INT_EQ(rc, 0);
    CHECK_MSG(mode_of(path_in("m.tok")) == 0600, "tokenizer under umask 077: %o", mode_of(path_in("m.tok")));
    rc = run_sh(NULL, "umask 077; \"$NLPRNN_CLI\" train m.tsv -o m.nrm --tokenizer m.tok --embed 4 "
                      "--hidden 4 --epochs 1 -q");
    CHECK_INT_EQ(rc, 0);
    CHECK_MSG(mode_of(path_in("m.nrm")) == 0600, "model under umask 077: %o", mode_of(path_in("m.nrm")));
    rc = run_sh(NULL, "umask 022; \"$NLPRNN_CLI\" train m.tsv -o m.nrm --tokenizer m.tok --embed 4 "
                      "--hidden 4 --epochs 1 -q");
    CHECK_INT_EQ(rc, 0);
    CHECK_MSG(mode_of(path_in("m.nrm")) == 0600, "replaced 0600 model: %o", mode_of(path_in("m.nrm")));
}

/* ---- 5: output == input ------------------------------------------------------------------- */

static void test_same_file(void) {
    nlprnn_error e;
    const char *a = path_in("same-a.txt"), *hard = path_in("same-hard.txt");
    write_text(a, "input\n");
    CHECK_INT_EQ(link(a, hard), 0);
    char other_spelling[700];
    snprintf(other_spelling, sizeof other_spelling, "%s/./folder/../same-a.txt", g_dir);
    const char *ins[3] = {NULL, "", a};
    CHECK_INT_EQ(nlprnn_output_check(hard, ins, 3, &e), NLPRNN_E_INVALID_ARG);
    CHECK(contains(e.message, "same file") && contains(e.message, hard) && contains(e.message, a));
    CHECK_INT_EQ(nlprnn_output_check(other_spelling, ins, 3, &e), NLPRNN_E_INVALID_ARG);
    /* two outputs that do not exist yet, spelled differently */
    char new1[700], new2[700];
    snprintf(new1, sizeof new1, "%s/new.out", g_dir);
    snprintf(new2, sizeof new2, "%s/folder/../new.out", g_dir);
    const char *o2[1] = {new2};
    CHECK_INT_EQ(nlprnn_output_check(new1, o2, 1, &e), NLPRNN_E_INVALID_ARG);
    /* different files are fine */
    const char *b = path_in("same-b.txt");
    write_text(b, "other\n");
    CHECK_INT_EQ(nlprnn_output_check(b, ins, 3, &e), 0);
    CHECK_INT_EQ(nlprnn_output_check(path_in("absent.out"), ins, 3, &e), 0);

    /* through the program: every command with inputs and outputs refuses, exit 2, and the input
     * is left as it was */
    const char *d = path_in("d.tsv");
    make_corpus(d, 150);
    size_t dn;
    unsigned char *dd = read_all(d, &dn);
    CHECK_INT_EQ(link(d, path_in("d-hard.tsv")), 0);
    static const char *const cmds[] = {
        "train d.tsv -o d.tsv --vocab 300 --embed 4 --hidden 4 --epochs 1 -q",
        "train d.tsv -o d-hard.tsv --vocab 300 --embed 4 --hidden 4 --epochs 1 -q",
        "train d.tsv --valid ./d.tsv -o m5.nrm --checkpoint d-hard.tsv --vocab 300 --epochs 1 -q",
        "tokenizer-train --input d.tsv --output d-hard.tsv --vocab-size 300",
        "tokenizer-train --input m.tsv --input d.tsv --output ./d.tsv --vocab-size 300",
        "lm-train --tokenizer d.tsv --input m.tsv --output d-hard.tsv --embed 4 --hidden 4",
        "lm-train --tokenizer m.tok --input d.tsv --output d.tsv --embed 4 --hidden 4",
        "forecast train --csv d.tsv --column id -o d-hard.tsv --epochs 1",
        "forecast eval f.nrm --csv d.tsv --out d.tsv",
        "forecast eval f.nrm --csv s.csv --out p.svg --plot p.svg",
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *out = NULL;
        int rc = RUN(&out, "%s", cmds[i]);
        CHECK_MSG(rc == 2 && contains(out, "same file"), "'%s': exit %d: %s", cmds[i], rc, out);
        free(out);
        CHECK_MSG(holds(d, dd, dn), "'%s' changed d.tsv", cmds[i]);
    }
    free(dd);
    CHECK(!exists(path_in("m5.nrm")));
    CHECK_INT_EQ(temporaries(), 0);
}

/* ---- 1 and 2: checkpoints ------------------------------------------------------------------- */

static nlprnn_classifier_params *tiny_params(const char *ckpt, const char *tok) {
    nlprnn_classifier_params *p = NULL;
    CHECK_INT_EQ(nlprnn_classifier_params_create(&p, NULL), 0);
    static const char *kv[][2] = {{"embed", "8"},   {"hidden", "8"},   {"epochs", "2"},
                                  {"batch", "16"},  {"threads", "1"},  {"valid", "0.1"},
                                  {"seed", "3"},    {"patience", "0"}, {"storage", "f32"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        CHECK_INT_EQ(nlprnn_classifier_params_set(p, kv[i][0], kv[i][1], NULL), 0);
    CHECK_INT_EQ(nlprnn_classifier_params_set(p, "checkpoint", ckpt, NULL), 0);
    CHECK_INT_EQ(nlprnn_classifier_params_set(p, "tokenizer", tok, NULL), 0);
    return p;
}

static int stop_at(void *user, const nlprnn_classifier_progress *p) {
    const long long *when = user; /* {epoch, batch} */
    return p->phase == 1 && p->epoch == when[0] && p->batch == when[1];
}

/* Rewrite the checkpoint src into dst with key=value in its CONF (conf_key != NULL), or with
 * section tag replaced by the given bytes (content type kept). */
static void craft(const char *src, const char *dst, const char *conf_key, const char *value,
                  const char *tag, const void *bytes, size_t nbytes) {
    nr_mf_reader *r = NULL;
    nr_mf_writer *w = NULL;
    nlprnn_error e;
    CHECK_INT_EQ(nr_mf_open_file(&r, src, "CKPT", &e), 0);
    CHECK_INT_EQ(nr_mf_writer_new(&w, "CKPT", &e), 0);
    if (!r || !w) return;
    for (size_t i = 0; i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        if (conf_key && !strcmp(s->tag, "CONF")) {
            nr_mf_buf b;
            nr_mf_buf_init(&b);
            size_t kl = strlen(conf_key);
            const char *t = (const char *)s->data, *end = t + s->raw_len;
            int found = 0;
            while (t < end) {
                const char *nl = memchr(t, '\n', (size_t)(end - t));
                size_t len = nl ? (size_t)(nl - t + 1) : (size_t)(end - t);
                if (len > kl && !memcmp(t, conf_key, kl) && t[kl] == '=') {
                    nr_mf_buf_printf(&b, &e, "%s=%s\n", conf_key, value);
                    found = 1;
                } else {
                    nr_mf_buf_put(&b, t, len, &e);
                }
                t += len;
            }
            CHECK_MSG(found, "key %s not in the checkpoint", conf_key);
            CHECK_INT_EQ(nr_mf_add(w, s->tag, s->content, b.data, b.len, 0, &e), 0);
            nr_mf_buf_free(&b);
        } else if (tag && !strcmp(s->tag, tag)) {
            CHECK_INT_EQ(nr_mf_add(w, s->tag, s->content, bytes, nbytes, 0, &e), 0);
        } else {
            CHECK_INT_EQ(nr_mf_add(w, s->tag, s->content, s->data, (size_t)s->raw_len, 0, &e), 0);
        }
    }
    CHECK_INT_EQ(nr_mf_writer_save(w, dst, &e), 0);
    nr_mf_writer_free(w);
    nr_mf_close(r);
}

static void test_checkpoints(void) {
    nlprnn_error e;
    const char *data = path_in("c.tsv"), *tok = path_in("c.tok"), *ckpt = path_in("c.ckpt"),
               *orig = path_in("c-orig.ckpt"), *out = path_in("c.nrm");
    make_corpus(data, 200);
    CHECK_INT_EQ(RUN(NULL, "tokenizer-train --input c.tsv --output c.tok --vocab-size 300"), 0);
    nlprnn_classifier_params *p = tiny_params(ckpt, tok);
    long long when[2] = {2, 3};
    int rc = nlprnn_classifier_train(p, data, NULL, out, 0, NULL, stop_at, when, &e);
    CHECK_MSG(rc == NLPRNN_E_INTERRUPTED, "interrupt: %d %s", rc, e.message);
    CHECK(!exists(out) && exists(ckpt));
    CHECK_INT_EQ(rename(ckpt, orig), 0);

    /* 1: every state field out of range, or inconsistent with the others or with the data */
    static const char *const bad[][2] = {
        {"state.batch", "-5"},           {"state.batch", "1000000"},
        {"state.epoch", "-1000000"},     {"state.epoch", "1000000"},
        {"state.epoch", "9223372036854775807"},
        {"state.optim_step", "9223372036854775807"},
        {"state.optim_step", "-1"},      {"state.optim_step", "5"},
        {"state.ep_count", "-1"},        {"state.ep_count", "100000"},
        {"state.ep_correct", "99999"},   {"state.ep_tokens", "-3"},
        {"state.best_epoch", "5"},       {"state.bad_epochs", "-1"},
        {"state.best_acc", "nan"},       {"state.best_acc", "3"},
        {"state.best_loss", "-1"},       {"state.ep_loss", "nan"},
        {"state.ep_loss", "-2"},         {"state.stopped_early", "7"},
        {"state.batch", "x"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        craft(orig, ckpt, bad[i][0], bad[i][1], NULL, NULL, 0);
        rc = nlprnn_classifier_train(p, data, NULL, out, 1, NULL, NULL, NULL, &e);
        const char *key = bad[i][0] + 6; /* without "state." (the record names both fields) */
        CHECK_MSG(rc == NLPRNN_E_FORMAT && contains(e.message, ckpt) && contains(e.message, key),
                  "%s=%s: rc %d: %s", bad[i][0], bad[i][1], rc, e.message);
        CHECK_MSG(!exists(out), "%s=%s: a model was written", bad[i][0], bad[i][1]);
    }
    /* Adam's moments: a negative second moment, a NaN first moment */
    nr_mf_reader *r = NULL;
    CHECK_INT_EQ(nr_mf_open_file(&r, orig, "CKPT", &e), 0);
    nr_tensor_info ti;
    CHECK_INT_EQ(nr_mf_tensor_info(r, "OPTM", "m", &ti, &e), 0);
    size_t np = ti.count;
    nr_mf_close(r);
    float *zeros = calloc(np, sizeof(float)), *odd = calloc(np, sizeof(float));
    for (int variant = 0; variant < 2 && zeros && odd; variant++) {
        odd[np / 2] = variant ? NAN : -1.0f;
        nr_mf_buf b;
        nr_mf_buf_init(&b);
        size_t shape[1] = {np};
        CHECK_INT_EQ(nr_tensor_put(&b, "m", variant ? odd : zeros, 1, shape, NR_DTYPE_F32, &e), 0);
        CHECK_INT_EQ(nr_tensor_put(&b, "v", variant ? zeros : odd, 1, shape, NR_DTYPE_F32, &e), 0);
        craft(orig, ckpt, NULL, NULL, "OPTM", b.data, b.len);
        nr_mf_buf_free(&b);
        rc = nlprnn_classifier_train(p, data, NULL, out, 1, NULL, NULL, NULL, &e);
        CHECK_MSG(rc == NLPRNN_E_FORMAT && contains(e.message, ckpt) && contains(e.message, "OPTM"),
                  "OPTM variant %d: rc %d: %s", variant, rc, e.message);
        CHECK(!exists(out));
    }
    free(zeros);
    free(odd);
    /* the classes in another order: another data set */
    nr_mf_buf lb;
    nr_mf_buf_init(&lb);
    const char *swapped[2] = {"1", "0"};
    CHECK_INT_EQ(nr_strings_put(&lb, swapped, 2, &e), 0);
    craft(orig, ckpt, NULL, NULL, "LABL", lb.data, lb.len);
    nr_mf_buf_free(&lb);
    rc = nlprnn_classifier_train(p, data, NULL, out, 1, NULL, NULL, NULL, &e);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && contains(e.message, ckpt) && contains(e.message, "classes"),
              "swapped labels: rc %d: %s", rc, e.message);
    CHECK(!exists(out));

    /* control: the checkpoint as written resumes, finishes and is deleted */
    craft(orig, ckpt, NULL, NULL, NULL, NULL, 0);
    rc = nlprnn_classifier_train(p, data, NULL, out, 1, NULL, NULL, NULL, &e);
    CHECK_MSG(rc == 0, "resume of the untouched checkpoint: %s", e.message);
    CHECK(exists(out) && !exists(ckpt));
    nlprnn_classifier_params_free(p);

    /* 2: --checkpoint equal to the output (existing or not), to the corpus, or to another file:
     * exit 2 before training, nothing deleted or changed */
    size_t on, dn;
    unsigned char *od = read_all(out, &on), *dd = read_all(data, &dn);
    static const char *const cmds[] = {
        "train c.tsv -o c.nrm --checkpoint c.nrm --tokenizer c.tok --epochs 1 -q",
        "train c.tsv -o new.nrm --checkpoint ./new.nrm --tokenizer c.tok --epochs 1 -q",
        "train c.tsv -o new.nrm --checkpoint c.tsv --tokenizer c.tok --epochs 1 -q",
        "train c.tsv -o new.nrm --checkpoint c.nrm --tokenizer c.tok --epochs 1 -q",
        "train c.tsv -o new.nrm --checkpoint c.tok --tokenizer c.tok --epochs 1 -q",
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char *o = NULL;
        rc = RUN(&o, "%s", cmds[i]);
        CHECK_MSG(rc == 2 && (contains(o, "same file") || contains(o, "not a training checkpoint")),
                  "'%s': exit %d: %s", cmds[i], rc, o);
        free(o);
    }
    CHECK(holds(out, od, on) && holds(data, dd, dn));
    CHECK(!exists(path_in("new.nrm")) && exists(tok));
    free(od);
    free(dd);
    /* an old checkpoint at that path is no loss: the run overwrites it and deletes it at the end */
    CHECK_INT_EQ(RUN(NULL, "train c.tsv -o new.nrm --checkpoint c-orig.ckpt --tokenizer c.tok "
                           "--embed 4 --hidden 4 --epochs 1 -q"), 0);
    CHECK(exists(path_in("new.nrm")) && !exists(orig));
    CHECK_INT_EQ(temporaries(), 0);
}

/* ---- 6: file names that are not UTF-8 ------------------------------------------------------ */

static void test_bad_names(void) {
    nlprnn_error e;
    const char *data = path_in("bad\xff" "name.tsv"), *tok = path_in("tok\xfe.tok"),
               *ckpt = path_in("x\xff.ckpt"), *out = path_in("u.nrm");
    make_corpus(data, 200);
    CHECK_INT_EQ(RUN(NULL, "tokenizer-train --input 'bad\xff" "name.tsv' --output 'tok\xfe.tok' "
                           "--vocab-size 300"), 0);
    /* interrupted, checkpointed and resumed with those names */
    nlprnn_classifier_params *p = tiny_params(ckpt, tok);
    long long when[2] = {1, 2};
    int rc = nlprnn_classifier_train(p, data, NULL, out, 0, NULL, stop_at, when, &e);
    CHECK_MSG(rc == NLPRNN_E_INTERRUPTED && exists(ckpt), "interrupt: %d %s", rc, e.message);
    rc = nlprnn_classifier_train(p, data, NULL, out, 1, NULL, NULL, NULL, &e);
    CHECK_MSG(rc == 0, "resume with non-UTF-8 names: %s", e.message);
    nlprnn_classifier_params_free(p);
    char *info = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(out, &info, &e), 0);
    CHECK_MSG(contains(info, "bad\\xFFname.tsv"), "train.file not stored escaped");
    nlprnn_free(info);
    /* the program, as in the report */
    char *o = NULL;
    rc = RUN(&o, "train 'bad\xff" "name.tsv' -o u2.nrm --tokenizer 'tok\xfe.tok' --embed 4 --hidden 4 "
                 "--epochs 2 -q");
    CHECK_MSG(rc == 0 && exists(path_in("u2.nrm")), "train with a non-UTF-8 name: exit %d: %s", rc, o);
    free(o);
}

/* ---- 7: an interrupted lm-train ------------------------------------------------------------ */

static volatile int g_lm_stop;

static int lm_stop_at_50(void *user, const nlprnn_lm_progress *p) {
    (void)user;
    if (p->phase == 1 && p->direction == 0 && p->step >= 50) g_lm_stop = 1;
    return 0;
}

static void lm_set(nlprnn_lm_params *p, const char *k, const char *v) {
    nlprnn_error e;
    CHECK_MSG(nlprnn_lm_params_set(p, k, v, &e) == 0, "%s=%s: %s", k, v, e.message);
}

static void test_lm_interrupt(void) {
    nlprnn_error e;
    const char *text = path_in("lm.txt"), *tok = path_in("m.tok"), *model = path_in("lm.nrm");
    FILE *fp = fopen(text, "w");
    for (int i = 0; fp && i < 400; i++)
        fprintf(fp, "감독 영화 좋아요 %d 스토리 the movie %d\n", i % 7, i % 5);
    if (fp) fclose(fp);
    nlprnn_lm_params *p = NULL;
    CHECK_INT_EQ(nlprnn_lm_params_create(&p, NULL), 0);
    static const char *kv[][2] = {{"embed", "8"},  {"hidden", "8"},     {"batch", "8"},
                                  {"epochs", "2"}, {"softmax", "full"}, {"storage", "f32"},
                                  {"parallel", "0"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) lm_set(p, kv[i][0], kv[i][1]);
    lm_set(p, "tokenizer", tok);
    int rc = nlprnn_lm_train(p, text, NULL, model, NULL, NULL, NULL, &e);
    CHECK_MSG(rc == 0, "lm-train: %s", e.message);
    size_t mn;
    unsigned char *md = read_all(model, &mn);
    /* stopped in the forward direction: the finished model stays, byte for byte */
    g_lm_stop = 0;
    lm_set(p, "seed", "9");
    rc = nlprnn_lm_train(p, text, NULL, model, &g_lm_stop, lm_stop_at_50, NULL, &e);
    char partial[700];
    snprintf(partial, sizeof partial, "%s.partial", model);
    CHECK_MSG(rc == NLPRNN_E_INTERRUPTED && contains(e.message, partial) &&
                  contains(e.message, "was not written"),
              "interrupted lm-train: rc %d: %s", rc, e.message);
    CHECK_MSG(md && holds(model, md, mn), "the finished model was replaced");
    free(md);
    /* the partial model: the forward network only (the backward one had not started) */
    nlprnn_lm *lm = NULL;
    rc = nlprnn_lm_load(partial, &lm, &e);
    CHECK_MSG(rc == 0, "load %s: %s", partial, e.message);
    if (!rc) CHECK(!nlprnn_lm_has_backward(lm));
    nlprnn_lm_free(lm);
    char *info = NULL;
    CHECK_INT_EQ(nlprnn_model_file_describe(partial, &info, &e), 0);
    CHECK(contains(info, "train.interrupted"));
    nlprnn_free(info);
    /* no model before: none after either */
    const char *fresh = path_in("lm-fresh.nrm");
    g_lm_stop = 0;
    rc = nlprnn_lm_train(p, text, NULL, fresh, &g_lm_stop, lm_stop_at_50, NULL, &e);
    CHECK_INT_EQ(rc, NLPRNN_E_INTERRUPTED);
    CHECK(!exists(fresh));
    nlprnn_lm_params_free(p);
    CHECK_INT_EQ(temporaries(), 0);
}

/* ---- 22: CSV and SVG outputs on a full disk -------------------------------------------------- */

static void full_disk(const char *args, const char *target, int need_plot) {
    write_text(path_in(target), "OLD\n");
    char *out = NULL;
    /* SIGXFSZ ignored, so that a write past the limit fails with EFBIG instead of killing; 8
     * blocks (4 KB in dash, 8 KB in bash): PLplot itself needs a 1.1 KB temporary file at
     * plinit (and crashes in plend when it cannot write it), the outputs here are larger */
    int rc = run_sh(&out, "trap '' XFSZ; ulimit -f 8; \"$NLPRNN_CLI\" %s > /dev/null", args);
    if (need_plot && contains(out, "without PLplot")) {
        printf("note: built without PLplot: '%s' not run\n", args);
        free(out);
        return;
    }
    CHECK_MSG(rc == 4 && contains(out, target) && contains(out, "write failed"),
              "'%s' over RLIMIT_FSIZE: exit %d: %s", args, rc, out);
    free(out);
    CHECK_MSG(holds(path_in(target), "OLD\n", 4), "'%s': the old %s was not kept", args, target);
    CHECK_INT_EQ(temporaries(), 0);
}

static void test_full_disk(void) {
    /* in the library: the error comes at commit, naming the file; the old one stays */
    nlprnn_error e;
    const char *keep = path_in("keep.bin");
    write_text(keep, "OLD\n");
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK_INT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
    nlprnn_output *o;
    CHECK_INT_EQ(nlprnn_output_open(keep, &o, &e), 0);
    for (int i = 0; i < 1000; i++) fprintf(nlprnn_output_stream(o), "line %d of a long table\n", i);
    int rc = nlprnn_output_commit(o, &e);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CHECK_MSG(rc == NLPRNN_E_IO && contains(e.message, keep) && contains(e.message, "write failed"),
              "commit over RLIMIT_FSIZE: %d %s", rc, e.message);
    CHECK(holds(keep, "OLD\n", 4));
    CHECK_INT_EQ(temporaries(), 0);

    /* through the program */
    full_disk("forecast sine -o s.csv --length 100000", "s.csv", 0);
    full_disk("gradflow --length 3000 --hidden 4 --batch 1 --csv g.csv", "g.csv", 0);
    full_disk("gradflow --length 300 --hidden 4 --batch 1 --plot g.svg", "g.svg", 1);
    CHECK_INT_EQ(RUN(NULL, "forecast sine -o s.csv --length 1000"), 0);
    CHECK_INT_EQ(RUN(NULL, "forecast train --csv s.csv --column value -o f.nrm --epochs 1 "
                           "--hidden 4 --window 5 --quiet"), 0);
    full_disk("forecast eval f.nrm --csv s.csv --part all --out p.csv", "p.csv", 0);
    /* a folder that does not exist: a message, not only exit 4 */
    char *out = NULL;
    rc = RUN(&out, "gradflow --length 20 --csv no/such/g.csv");
    CHECK_MSG(rc == 4 && contains(out, "no/such/g.csv"), "gradflow --csv no/such: %d %s", rc, out);
    free(out);
}

int main(void) {
    g_cli = getenv("NLPRNN_CLI");
    if (!g_cli || access(g_cli, X_OK)) {
        fprintf(stderr, "test_files: NLPRNN_CLI (the nlprnn program) is not set or not executable: skipped\n");
        return 77;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_files_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_writer_rule();
    test_modes();
    test_same_file();
    test_checkpoints();
    test_bad_names();
    test_lm_interrupt();
    test_full_disk();
    int rc = nr_test_done("test_files");
    if (rc == 0) nr_test_run(NULL, "rm -rf '%s'", g_dir);
    else fprintf(stderr, "test_files: files kept in %s\n", g_dir);
    return rc;
}
