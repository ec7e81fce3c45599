/* common/pool.c: the library's one pool of worker threads, and the BLAS's threads (see
 * common/pool.h for the rules).
 *
 * State, all under pool.mu:
 *   head..tail   the jobs that still have tasks nobody took, in the order they were posted
 *   workers      threads started (th[0..workers)); idle: of them, asleep on pool.work
 *   stopping     set by pool_shutdown: workers leave once the queue is empty
 * A worker: sleep until the queue has a job; take its next task (the job leaves the queue with its
 * last task taken); run it without the lock; count it done, waking the job's caller if it sleeps
 * on job->done. A caller in nr_job_wait takes its own job's remaining tasks the same way, then
 * sleeps on job->done until the tasks workers took have returned. Nobody spins.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "common/pool.h"

#include <sched.h>
#include <unistd.h>

#include "common/blas.h"

/* most workers the pool will ever start (machines with more cores use this many + the caller) */
#define NR_POOL_MAX 255

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work; /* workers sleep here while the queue is empty */
    nr_job *head, *tail;
    int workers, idle, stopping;
    int cpus;            /* nr_cpu_count(), set once by pool_init */
    pthread_t th[NR_POOL_MAX];
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0, 1, {0}};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* fork(): the child has only the thread that forked. Hold the lock across the fork so the state
 * is consistent, then in the child start again with no worker and no queue (the jobs queued
 * belong to threads the child does not have). */
static void atfork_prepare(void)
{
    pthread_mutex_lock(&pool.mu);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&pool.mu);
}

static void atfork_child(void)
{
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.work, NULL);
    pool.head = pool.tail = NULL;
    pool.workers = pool.idle = 0;
}

static void pool_init(void)
{
    int n = 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n < 1) { /* more CPUs than a cpu_set_t holds, or no answer */
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c < 1 ? 1 : c > 4096 ? 4096 : (int)c;
    }
    pool.cpus = n;
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int nr_cpu_count(void)
{
    pthread_once(&pool_once, pool_init);
    return pool.cpus;
}

int nr_default_threads(void)
{
    int n = nr_cpu_count();
    return n < NR_MAX_THREADS ? n : NR_MAX_THREADS;
}

int nr_pool_workers_max(void)
{
    int n = nr_cpu_count() - 1;
    return n < NR_POOL_MAX ? n : NR_POOL_MAX;
}

/* Under the lock: take the next task of j (which has one left); j leaves the queue with its last. */
static int take_task(nr_job *j)
{
    int i = j->next++;
    if (j->next == j->n && j->queued) {
        nr_job **pp = &pool.head, *prev = NULL;
        while (*pp != j) {
            prev = *pp;
            pp = &(*pp)->queue;
        }
        *pp = j->queue;
        if (pool.tail == j)
            pool.tail = prev;
        j->queue = NULL;
        j->queued = 0;
    }
    return i;
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.head && !pool.stopping) {
            pool.idle++;
            pthread_cond_wait(&pool.work, &pool.mu);
            pool.idle--;
        }
        if (!pool.head)
            break; /* stopping, nothing left */
        nr_job *j = pool.head;
        int i = take_task(j);
        pthread_mutex_unlock(&pool.mu);
        j->fn(j->ctx, i, j->n);
        pthread_mutex_lock(&pool.mu);
        if (--j->unfinished == 0 && j->waiting)
            pthread_cond_signal(&j->done); /* under the lock: j lives until its caller sees this */
    }
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

/* The pool's workers leave with the library (dlclose) or the process: none may run code of an
 * unmapped library. Workers finish the queue first; a job posted afterwards runs on its caller. */
__attribute__((destructor)) static void pool_shutdown(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.stopping = 1;
    pthread_cond_broadcast(&pool.work);
    int n = pool.workers;
    pthread_mutex_unlock(&pool.mu);
    for (int k = 0; k < n; k++)
        pthread_join(pool.th[k], NULL);
    pthread_mutex_lock(&pool.mu);
    pool.workers = 0;
    pthread_mutex_unlock(&pool.mu);
}

void nr_job_start(nr_job *job, int first, int n, void (*fn)(void *ctx, int i, int n), void *ctx)
{
    job->fn = fn;
    job->ctx = ctx;
    job->n = n;
    job->next = first < n ? first : n;
    job->unfinished = n - job->next;
    job->waiting = 0;
    job->posted = job->queued = 0;
    job->queue = NULL;
    pthread_cond_init(&job->done, NULL);
    int want = job->unfinished, max = nr_pool_workers_max();
    if (want == 0 || max == 0)
        return; /* one core: nr_job_wait runs every task on the caller */
    job->posted = 1;
    pthread_mutex_lock(&pool.mu);
    job->queued = 1;
    if (pool.tail)
        pool.tail->queue = job;
    else
        pool.head = job;
    pool.tail = job;
    /* wake sleeping workers, one per task; start more (up to the cores) if that is not enough */
    int wake = want < pool.idle ? want : pool.idle;
    for (int k = 0; k < wake; k++)
        pthread_cond_signal(&pool.work);
    want -= wake;
    while (want > 0 && pool.workers < max && !pool.stopping &&
           pthread_create(&pool.th[pool.workers], NULL, worker_main, NULL) == 0) {
        pool.workers++;
        want--;
    }
    pthread_mutex_unlock(&pool.mu);
}

void nr_job_wait(nr_job *job)
{
    if (!job->posted) {
        /* never posted (one core): every task here, in order */
        while (job->next < job->n) {
            int i = job->next++;
            job->fn(job->ctx, i, job->n);
        }
        job->unfinished = 0;
    } else {
        pthread_mutex_lock(&pool.mu);
        while (job->next < job->n) {
            int i = take_task(job);
            pthread_mutex_unlock(&pool.mu);
            job->fn(job->ctx, i, job->n);
            pthread_mutex_lock(&pool.mu);
            job->unfinished--;
        }
        while (job->unfinished > 0) {
            job->waiting = 1;
            pthread_cond_wait(&job->done, &pool.mu);
        }
        pthread_mutex_unlock(&pool.mu);
    }
    pthread_cond_destroy(&job->done);
}

void nr_parallel_run(int n, void (*fn)(void *ctx, int i, int n), void *ctx)
{
    if (n <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    nr_job job;
    nr_job_start(&job, 1, n, fn, ctx);
    fn(ctx, 0, n);
    nr_job_wait(&job);
}

void nr_split_range(int total, int i, int n, int *lo, int *hi)
{
    int base = total / n, rem = total % n;
    *lo = i * base + (i < rem ? i : rem);
    *hi = *lo + base + (i < rem ? 1 : 0);
}

/* ---- the BLAS's threads ---------------------------------------------------------------------- */

static pthread_mutex_t blas_mu = PTHREAD_MUTEX_INITIALIZER;

void nr_blas_own(void)
{
    /* a CBLAS not loaded yet is taken when it loads (common/blas.c); one the application linked
     * is taken now */
    const nr_blas *b = nr_blas_present();
    if (!b || !b->get_num_threads || b->get_num_threads() == 1)
        return;
    /* one setter at a time: OpenBLAS's setter is not safe to run twice at once (its OpenMP build
     * frees per-thread buffers there) */
    pthread_mutex_lock(&blas_mu);
    if (b->get_num_threads() != 1) {
        b->set_num_threads(1);
        /* OpenBLAS's workers (started when it loaded) would only spin, then sleep: join them.
         * After the setter, which would start them again (its lazy re-init after a fork); a
         * thread calling the BLAS meanwhile sees one thread and runs without them. OpenBLAS
         * starts them again itself if an application later asks it for more threads. */
        if (b->thread_shutdown)
            b->thread_shutdown();
    }
    pthread_mutex_unlock(&blas_mu);
}

int nr_blas_threads(void)
{
    const nr_blas *b = nr_blas_get();
    return b && b->get_num_threads ? b->get_num_threads() : 0;
}
