/* tests/testutil.c */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

int nr_test_failures = 0;
int nr_test_checks = 0;

const char *nr_test_shared_path(const char *rel) {
    static char buf[8][4096];
    static int slot = 0;
    const char *base = getenv("NLPRNN_SHARED");
    if (!base || !*base) base = "../../shared";
    char *p = buf[slot++ % 8];
    snprintf(p, 4096, "%s/%s", base, rel);
    if (access(p, R_OK) != 0) {
        printf("SKIP: %s is missing (the shared corpora are not on this machine)\n", p);
        exit(77);
    }
    return p;
}

const char *nr_test_data_path(const char *rel) {
    static char buf[8][4096];
    static int slot = 0;
    const char *base = getenv("NLPRNN_TESTDATA");
    if (!base || !*base) base = "data";
    char *p = buf[slot++ % 8];
    snprintf(p, 4096, "%s/%s", base, rel);
    return p;
}

static char scratch_dir[256];

void nr_test_scratch_make(const char *name) {
    snprintf(scratch_dir, sizeof scratch_dir, "/tmp/nlprnn_%s_XXXXXX", name);
    CHECK_MSG(mkdtemp(scratch_dir) != NULL, "mkdtemp %s failed", scratch_dir);
}

const char *nr_test_scratch(const char *file) {
    static char buf[8][512];
    static int slot = 0;
    char *p = buf[slot++ % 8];
    snprintf(p, 512, "%s/%s", scratch_dir, file);
    return p;
}

void nr_test_scratch_remove(void) {
    if (scratch_dir[0]) CHECK_INT_EQ(nr_test_run(NULL, "rm -rf '%s'", scratch_dir), 0);
}

nlprnn_tokenizer *nr_test_word_tokenizer(const char *corpus, int vocab) {
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_error e;
    nlprnn_tokenizer *tok = NULL;
    char v[16];
    snprintf(v, sizeof v, "%d", vocab);
    int rc = nlprnn_tokenizer_params_create(&o, &e);
    if (!rc) rc = nlprnn_tokenizer_params_set(o, "model-type", "word", &e);
    if (!rc) rc = nlprnn_tokenizer_params_set(o, "vocab-size", v, &e);
    if (!rc) rc = nlprnn_tokenizer_params_set(o, "byte-fallback", "0", &e);
    if (!rc) rc = nlprnn_tokenizer_params_set(o, "min-count", "1", &e);
    if (!rc) rc = nlprnn_tokenizer_train_files(o, &corpus, 1, &tok, &e);
    CHECK_MSG(rc == 0, "tokenizer training on %s: %s", corpus, e.message);
    nlprnn_tokenizer_params_free(o);
    return tok;
}

int nr_test_word_tokenizer_save(const char *corpus, int vocab, const char *path) {
    nlprnn_tokenizer *tok = nr_test_word_tokenizer(corpus, vocab);
    nlprnn_error e;
    int rc = tok ? nlprnn_tokenizer_save(tok, path, &e) : NLPRNN_E_STATE;
    CHECK_MSG(!tok || rc == 0, "saving the tokenizer to %s: %s", path, e.message);
    nlprnn_tokenizer_free(tok);
    return rc;
}

void nr_test_expect(int code, const char *const *must, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *o = NULL;
    int rc = nr_test_run(&o, "%s 2>&1", cmd);
    int ok = rc == code && o;
    for (size_t i = 0; ok && must[i]; i++)
        ok = strstr(o, must[i]) != NULL;
    CHECK_MSG(ok, "%s: exit %d (expected %d): %s", cmd, rc, code, o ? o : "");
    free(o);
}

static double process_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double nr_test_idle_cpu(int ms)
{
    struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};
    double c0 = process_cpu();
    while (nanosleep(&d, &d) != 0) {
    }
    return process_cpu() - c0;
}

void nr_test_wait_quiet_start(void)
{
    for (int i = 0; i < 60 && nr_test_idle_cpu(50) >= 0.005; i++) {
    }
}

int nr_test_done(const char *name) {
    if (nr_test_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, nr_test_failures, nr_test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, nr_test_checks);
    return 0;
}

int nr_test_run(char **out, const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - 1 - n, p)) > 0) n += k;
    if (buf) buf[n] = 0;
    int st = pclose(p);
    if (out) *out = buf;
    else free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int nr_test_forecaster_eval(const nlprnn_forecaster *f, const nlprnn_series *s, int part, double *m,
                            double **pred, double **truth, size_t *count, size_t *first,
                            nlprnn_error *e) {
    nlprnn_forecaster_eval ev = {.size = sizeof ev};
    int rc = nlprnn_forecaster_evaluate(f, s, part, &ev, e);
    if (rc) return rc;
    memcpy(m, ev.metrics, sizeof ev.metrics);
    if (pred) *pred = ev.pred;
    else nlprnn_free(ev.pred);
    if (truth) *truth = ev.truth;
    else nlprnn_free(ev.truth);
    if (count) *count = ev.count;
    if (first) *first = ev.first_row;
    return 0;
}

double nr_test_ref_dot(int tA, int tB, int K, const float *a, int lda, const float *b, int ldb,
                       int i, int j, double *mag) {
    double r = 0, m = 0;
    for (int k = 0; k < K; k++) {
        double x = tA ? a[(size_t)k * lda + i] : a[(size_t)i * lda + k];
        double y = tB ? b[(size_t)j * ldb + k] : b[(size_t)k * ldb + j];
        r += x * y;
        m += fabs(x * y);
    }
    *mag = m;
    return r;
}

unsigned char *nr_test_slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
    *n = b ? fread(b, 1, (size_t)sz, fp) : 0;
    fclose(fp);
    return b;
}

int nr_test_same_file(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    unsigned char *x = nr_test_slurp(a, &na), *y = nr_test_slurp(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x), free(y);
    return same;
}

int nr_test_same_bits(float a, float b) {
    return (a != a && b != b) || memcmp(&a, &b, sizeof a) == 0;
}

long nr_test_count_differ(const float *a, const float *b, size_t n) {
    long bad = 0;
    for (size_t i = 0; i < n; i++) bad += !nr_test_same_bits(a[i], b[i]);
    return bad;
}

float nr_test_urand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (float)(*s >> 40) / 16777216.0f;
}
