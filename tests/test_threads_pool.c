/* tests/test_threads_pool.c: the library's one pool of threads (common/pool.h) and the rule that
 * nlprnn is the one owner of the threads it computes with:
 *   - every task of a job runs exactly once with its index and n, for n = 1..300 (more tasks than
 *     cores), in nested jobs, and in jobs posted by 4 threads at once; nr_job_start/wait lets the
 *     caller work between the halves;
 *   - nothing spins: while a job's caller waits for a sleeping task, and while the process idles
 *     after jobs and after a large product through nr_sgemm, the process uses almost no CPU;
 *   - the BLAS is single-threaded once nlprnn has made a product (OpenBLAS builds);
 *   - results depend on the parts, not on the cores: a classifier trained with threads=3 in a
 *     child restricted to one CPU has the bits of the one trained with threads=3 on all cores;
 *     threads=0 (the default) means nr_default_threads() and is written into the model;
 *   - a forked child runs jobs (it inherits no worker).
 * Run under ThreadSanitizer by scripts/tsan.sh; the fork parts are skipped there (TSan does not
 * support starting threads after a fork of a multi-threaded process). */
#define _GNU_SOURCE /* sched_setaffinity */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/pool.h"
#include "tasks/classify/classifier.h"
#include "models/math.h"
#include "nlprnn.h"
#include "testutil.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

#define MAXT 512

typedef struct {
    _Atomic int hits[MAXT];
    _Atomic int bad_n;
    int n;
} record;

static void record_task(void *ctx, int i, int n)
{
    record *r = ctx;
    if (n != r->n || i < 0 || i >= n)
        atomic_fetch_add(&r->bad_n, 1);
    else
        atomic_fetch_add(&r->hits[i], 1);
}

/* 1 if every task 0..n-1 ran exactly once with the right n */
static int record_ok(record *r)
{
    if (atomic_load(&r->bad_n))
        return 0;
    for (int i = 0; i < r->n; i++)
        if (atomic_load(&r->hits[i]) != 1)
            return 0;
    return 1;
}

static int run_and_check(int n)
{
    record *r = calloc(1, sizeof *r);
    r->n = n;
    nr_parallel_run(n, record_task, r);
    int ok = record_ok(r);
    free(r);
    return ok;
}

/* ---- nested: 4 outer tasks, each running a job of 5 ------------------------------------------ */

typedef struct {
    record inner[4];
} nested;

static void outer_task(void *ctx, int i, int n)
{
    (void)n;
    nested *s = ctx;
    s->inner[i].n = 5;
    nr_parallel_run(5, record_task, &s->inner[i]);
}

/* ---- 4 threads posting jobs at once ---------------------------------------------------------- */

typedef struct {
    int seed, failures;
} poster;

static void *poster_main(void *arg)
{
    poster *p = arg;
    for (int k = 0; k < 150; k++) {
        int n = 1 + (p->seed * 7 + k * 13) % 9;
        if (k % 10 == 0) {
            nested *s = calloc(1, sizeof *s);
            nr_parallel_run(4, outer_task, s);
            for (int i = 0; i < 4; i++)
                p->failures += !record_ok(&s->inner[i]);
            free(s);
        } else {
            p->failures += !run_and_check(n);
        }
    }
    return NULL;
}

/* ---- CPU time: nothing spins ----------------------------------------------------------------- */

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0) {
    }
}


static void sleepy_task(void *ctx, int i, int n)
{
    (void)ctx;
    (void)n;
    if (i == n - 1)
        sleep_ms(300);
}

/* ---- training: the parts decide the bits, not the cores -------------------------------------- */

static char dir[256];

static nlprnn_classifier_params *params(const char *threads)
{
    nlprnn_classifier_params *p = NULL;
    nlprnn_classifier_params_create(&p, NULL);
    static const char *kv[][2] = {{"vocab", "300"},  {"embed", "16"}, {"hidden", "16"},
                                  {"epochs", "2"},   {"batch", "16"}, {"lr", "0.01"},
                                  {"patience", "0"}, {"valid", "0.1"}, {"seed", "7"},
                                  {"storage", "f32"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        CHECK_INT_EQ(nlprnn_classifier_params_set(p, kv[i][0], kv[i][1], NULL), 0);
    if (threads)
        CHECK_INT_EQ(nlprnn_classifier_params_set(p, "threads", threads, NULL), 0);
    return p;
}

static int train(const char *threads, const char *out)
{
    nlprnn_classifier_params *p = params(threads);
    nlprnn_error err;
    int rc = nlprnn_classifier_train(p, nr_test_data_path("clf_train.tsv"), NULL, out, 0, NULL,
                                     NULL, NULL, &err);
    if (rc)
        fprintf(stderr, "train (threads %s): %s\n", threads ? threads : "default", err.message);
    nlprnn_classifier_params_free(p);
    return rc;
}

/* In a child restricted to one CPU (before anything in this process used the pool): train with
 * threads=3 into out. Returns the child's exit status: 0 ok, 2 the pool still saw several
 * cores, 3 training failed. */
static int train_on_one_cpu(const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof set, &set) == 0) {
            int first = 0;
            while (first < CPU_SETSIZE && !CPU_ISSET(first, &set))
                first++;
            CPU_ZERO(&set);
            CPU_SET(first, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        if (nr_cpu_count() != 1 || nr_pool_workers_max() != 0)
            _exit(2);
        _exit(train("3", out) ? 3 : 0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static void test_training_cores(void)
{
    char one[300], all[300], def[300];
    snprintf(one, sizeof one, "%s/one-cpu.nrm", dir);
    snprintf(all, sizeof all, "%s/all-cpus.nrm", dir);
    snprintf(def, sizeof def, "%s/default.nrm", dir);
    CHECK_INT_EQ(train_on_one_cpu(one), 0);
    CHECK_INT_EQ(train("3", all), 0);
    nlprnn_classifier *a = NULL, *b = NULL;
    nlprnn_error err;
    CHECK_INT_EQ(nlprnn_classifier_load(one, &a, &err), 0);
    CHECK_INT_EQ(nlprnn_classifier_load(all, &b, &err), 0);
    if (a && b) {
        const nr_clf_net *na = nr_model_net(a), *nb = nr_model_net(b);
        CHECK_MSG(na->n_params == nb->n_params &&
                      memcmp(na->params, nb->params, na->n_params * sizeof(float)) == 0,
                  "threads=3: the weights trained on 1 core differ from those on %d cores",
                  nr_cpu_count());
    }
    nlprnn_classifier_free(a);
    nlprnn_classifier_free(b);
    /* the default: the cores this process may use, written into the model */
    CHECK_INT_EQ(train(NULL, def), 0);
    char *text = NULL, want[64];
    CHECK_INT_EQ(nlprnn_model_file_describe(def, &text, &err), 0);
    snprintf(want, sizeof want, "train.threads = %d\n", nr_default_threads());
    CHECK_MSG(text && strstr(text, want), "the model's description lacks \"%.*s\"",
              (int)strlen(want) - 1, want);
    nlprnn_free(text);
}

int main(void)
{
    nr_test_wait_quiet_start(); /* OpenBLAS's start-up spin is over before the CPU checks */
    snprintf(dir, sizeof dir, "/tmp/nlprnn_test_pool_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    /* first, before this process uses the pool (a child restricted to one CPU must read its own
     * affinity) */
    if (!UNDER_TSAN)
        test_training_cores();
    else
        fprintf(stderr, "test_threads_pool: fork parts skipped under ThreadSanitizer\n");

    int cpus = nr_cpu_count();
    CHECK(cpus >= 1);
    CHECK_INT_EQ(nr_pool_workers_max(), cpus - 1);
    CHECK_INT_EQ(nr_default_threads(), cpus < NR_MAX_THREADS ? cpus : NR_MAX_THREADS);

    /* every task once, with its index: from 1 task to many more than cores */
    static const int ns[] = {1, 2, 3, 5, 8, 17, 64, 300, MAXT};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        CHECK_MSG(run_and_check(ns[k]), "nr_parallel_run(%d): a task ran twice or not at all",
                  ns[k]);

    /* nested jobs */
    nested *s = calloc(1, sizeof *s);
    nr_parallel_run(4, outer_task, s);
    for (int i = 0; i < 4; i++)
        CHECK_MSG(record_ok(&s->inner[i]), "nested job %d: a task ran twice or not at all", i);
    free(s);

    /* the two halves, with the caller's own work between them */
    record *r = calloc(1, sizeof *r);
    r->n = 6;
    nr_job job;
    nr_job_start(&job, 2, 6, record_task, r);
    record_task(r, 0, 6);
    record_task(r, 1, 6);
    nr_job_wait(&job);
    CHECK_MSG(record_ok(r), "nr_job_start(2..5) + the caller's 0 and 1: a task ran twice or not");
    free(r);

    /* 4 threads posting jobs at once (plain and nested) */
    pthread_t th[4];
    poster ps[4];
    for (int t = 0; t < 4; t++) {
        ps[t] = (poster){t, 0};
        CHECK_INT_EQ(pthread_create(&th[t], NULL, poster_main, &ps[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        CHECK_MSG(ps[t].failures == 0, "poster %d: %d jobs went wrong", t, ps[t].failures);
    }

    /* nothing spins: a caller waiting for a task that sleeps 300 ms, then the idle pool */
    double c0 = cpu_seconds();
    nr_parallel_run(2, sleepy_task, NULL);
    double waited = cpu_seconds() - c0;
    CHECK_MSG(waited < 0.1, "waiting 300 ms for a sleeping task took %.3f s of CPU", waited);
    double idle = nr_test_idle_cpu(300);
    CHECK_MSG(idle < 0.06, "the idle pool used %.3f s of CPU in 300 ms", idle);

    /* the BLAS: single-threaded once nlprnn made a product, and idle afterwards */
    int n = 384;
    float *A = calloc((size_t)n * n, sizeof(float)), *B = calloc((size_t)n * n, sizeof(float)),
          *C = calloc((size_t)n * n, sizeof(float));
    for (size_t i = 0; i < (size_t)n * n; i++) {
        A[i] = (float)(i % 7) - 3.0f;
        B[i] = (float)(i % 5) - 2.0f;
    }
    for (int rep = 0; rep < 3; rep++)
        nr_sgemm(0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
    double want = 0;
    for (int k = 0; k < n; k++)
        want += (double)A[k] * B[(size_t)k * n];
    CHECK_NEAR(C[0], want, 1e-3);
    int bt = nr_blas_threads();
    CHECK_MSG(bt == 0 || bt == 1, "the BLAS has %d threads after nlprnn's products", bt);
    idle = nr_test_idle_cpu(300);
    CHECK_MSG(idle < 0.06, "after a %dx%d product the process used %.3f s of CPU in 300 ms idle",
              n, n, idle);
    free(A);
    free(B);
    free(C);

    /* a forked child: no worker inherited, jobs still run (and may start workers of its own) */
    if (!UNDER_TSAN) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(run_and_check(7) && run_and_check(64) ? 0 : 1);
        int st = -1;
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "jobs in a forked child failed");
    }

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    return nr_test_done("test_threads_pool");
}
