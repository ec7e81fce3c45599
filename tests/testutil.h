/* tests/testutil.h: a tiny test harness. Every failed CHECK prints file:line and the test exits
 * non-zero at the end (nr_test_done). Tests needing ../shared call nr_test_shared_path(), which
 * exits 77 (CTest "skipped") with a message naming the missing path. */
#ifndef NR_TESTUTIL_H
#define NR_TESTUTIL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nlprnn.h"

extern int nr_test_failures;
extern int nr_test_checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        nr_test_checks++;                                                             \
        if (!(cond)) {                                                                \
            nr_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        nr_test_checks++;                                                             \
        if (!(cond)) {                                                                \
            nr_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
        }                                                                             \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                             \
    do {                                                                               \
        long long a_ = (long long)(a), b_ = (long long)(b);                            \
        CHECK_MSG(a_ == b_, "%s = %lld, expected %s = %lld", #a, a_, #b, b_);          \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                             \
    do {                                                                               \
        const char *a_ = (a), *b_ = (b);                                               \
        CHECK_MSG(a_ && b_ && strcmp(a_, b_) == 0, "got \"%s\", expected \"%s\"",      \
                  a_ ? a_ : "(null)", b_ ? b_ : "(null)");                             \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                          \
    do {                                                                               \
        double a_ = (double)(a), b_ = (double)(b);                                     \
        CHECK_MSG(fabs(a_ - b_) <= (tol), "%s = %.9g, expected %.9g (tol %g)", #a, a_, \
                  b_, (double)(tol));                                                  \
    } while (0)

/* Path of ../shared/<rel> (from $NLPRNN_SHARED); exits 77 with a message if it is missing. */
const char *nr_test_shared_path(const char *rel);
/* Path of tests/data/<rel> (from $NLPRNN_TESTDATA, or "data/<rel>"). */
const char *nr_test_data_path(const char *rel);
/* A scratch folder for one test program: nr_test_scratch_make("name") creates /tmp/nlprnn_name_XXXXXX
 * (a failure is a failed check), nr_test_scratch(file) is the path of a file in it (8 rotating
 * buffers, so a few can be used in one call) and nr_test_scratch_remove() deletes it whole. */
void nr_test_scratch_make(const char *name);
const char *nr_test_scratch(const char *file);
void nr_test_scratch_remove(void);
/* Run a shell command (printf-style); its stdout (the first 64 KiB) goes to *out (malloc'ed,
 * NUL-terminated; NULL out discards it). Returns the exit status, or -1 when it did not exit
 * normally. For tests of the nlprnn program ($NLPRNN_CLI). */
int nr_test_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run a command (printf-style; its stderr joined to its stdout; a test of the nlprnn program) and
 * CHECK that it exits with `code` and that its output holds every string of `must`
 * (MUST("a", "b")). */
#define MUST(...) ((const char *const[]){__VA_ARGS__, NULL})
void nr_test_expect(int code, const char *const *must, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* CPU seconds the whole process uses while the calling thread sleeps ms milliseconds. */
double nr_test_idle_cpu(int ms);
/* Wait (at most 3 s) until the process idles: a 50 ms sleep costing under 5 ms of CPU. OpenBLAS
 * (its pthreads build) starts its worker threads when the library loads, and they spin for about
 * 2^28 cycles (0.13 s here) before they sleep, whatever nlprnn does; a test that asserts that
 * nlprnn's threads burn no CPU while idle calls this once first, so it measures nlprnn's threads,
 * not OpenBLAS's start. */
void nr_test_wait_quiet_start(void);
/* nlprnn_forecaster_evaluate read into plain arrays: m gets the metrics table
 * (m[method * NLPRNN_METRICS + metric]); pred/truth get the arrays (free with nlprnn_free; NULL:
 * freed here); count/first (may be NULL) the samples and the first target's row. */
int nr_test_forecaster_eval(const nlprnn_forecaster *f, const nlprnn_series *s, int part, double *m,
                            double **pred, double **truth, size_t *count, size_t *first,
                            nlprnn_error *e);
/* Element (i, j) of op(A) op(B) in double (row-major; op(A) (M,K), op(B) (K,N), transposed when
 * tA / tB): returns sum_k op(A)[i][k] op(B)[k][j] and puts sum_k |op(A)[i][k] op(B)[k][j]| in
 * *mag, for the float32 bound of a product, (K + 2) 2^-24 (|alpha| mag + |beta c|). */
double nr_test_ref_dot(int tA, int tB, int K, const float *a, int lda, const float *b, int ldb,
                       int i, int j, double *mag);
/* The whole file at path (malloc'ed, one byte more than *n, which gets its size); NULL when it
 * cannot be read. */
unsigned char *nr_test_slurp(const char *path, size_t *n);
/* 1 when the files a and b both exist and hold the same bytes. */
int nr_test_same_file(const char *a, const char *b);
/* 1 if a and b have the same bits, or are both NaN (any payload): bit-identity checks. */
int nr_test_same_bits(float a, float b);
/* How many of the n pairs a[i], b[i] are not nr_test_same_bits. */
long nr_test_count_differ(const float *a, const float *b, size_t n);
/* A float in [0, 1) (24 random bits) from the xorshift64 state *s (not 0), which it advances. */
float nr_test_urand(uint64_t *s);
/* A word-model tokenizer (no byte fallback, min-count 1, vocab-size vocab) trained on the file
 * corpus, or NULL after a failed check. */
nlprnn_tokenizer *nr_test_word_tokenizer(const char *corpus, int vocab);
/* nr_test_word_tokenizer's tokenizer saved to path (a failed check says why); 0 when saved. */
int nr_test_word_tokenizer_save(const char *corpus, int vocab, const char *path);
/* Print a summary and return the process exit code (0 only when no check failed). */
int nr_test_done(const char *name);

#endif
