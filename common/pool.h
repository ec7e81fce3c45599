/* common/pool.h: the library's threads, owned in one place (internal, not installed).
 *
 *   nr_parallel_run   fork-join: run fn(ctx, i, n) for i = 0..n-1 and wait
 *   nr_job_start/wait the same in two halves, so the caller works between them
 *   nr_cpu_count      the cores this process may run on (its affinity mask)
 *   nr_blas_own       make the CBLAS run every call on the calling thread
 *
 * One process-wide pool of worker threads, modelled on zstd's common/pool.c: made on first use,
 * reused by every job, its workers sleep on a condition variable while there is nothing to do
 * (no thread ever spins waiting here), joined when the library is unloaded or the process exits.
 *
 * A job is n tasks fn(ctx, i, n). The task index decides the work (callers split by i, see
 * nr_split_range), never the thread that runs it, so results do not depend on how many threads
 * take part or which. Who runs a task: the caller runs task 0 (nr_parallel_run) and then, while it
 * waits, every task no worker has taken yet; idle workers take the others. So a job always
 * finishes even with no worker at all (one core, a forked child, a failed pthread_create), and a
 * task may itself run a job (nested jobs cannot deadlock: a waiting caller works on its own job).
 * The pool has at most nr_cpu_count() - 1 workers: n may exceed the cores (the tasks then share
 * them), but the threads running at once never do, so asking for more threads than cores costs
 * only the smaller pieces of work, not a fight for the cores.
 *
 * BLAS: nlprnn is the one owner of the threads. Every CBLAS call it makes must run on the thread
 * that makes it: nr_sgemm calls nr_blas_own() before each CBLAS call. The CBLAS is loaded when a
 * product first needs it (common/blas.h), and taken at once: with OpenBLAS (its
 * openblas_set_num_threads found when it loads) that sets openblas_set_num_threads(1) when
 * OpenBLAS is not single-threaded already, and stops OpenBLAS's worker threads
 * (blas_thread_shutdown_), which its pthreads build starts when it loads and which spin ~0.1 s
 * before they sleep. A CBLAS the application itself linked (in the process before nlprnn loads
 * it) is taken at the first model load (nr_mf_open_file calls nr_blas_own), so a one-shot
 * command does not carry a spinning thread;
 * OpenBLAS 0.3.21 has only this process-wide setting, so the process's other OpenBLAS calls run
 * single-threaded too from then on (an application that sets it back gets it set to 1 again at
 * nlprnn's next CBLAS call). With another CBLAS nothing is set: it should be one that runs on the
 * calling thread (reference BLAS, BLIS by default), see docs/api.md "Threads".
 */
#ifndef NR_COMMON_POOL_H
#define NR_COMMON_POOL_H

#include <pthread.h>

/* Largest thread count a caller may ask of the public API (threads parameters are 1..16, or 0 for
 * nr_default_threads()); per-worker arrays are sized by it. nr_parallel_run itself has no limit. */
#define NR_MAX_THREADS 16

/* A job of n tasks (see above). Lives with its caller (on the stack); fields are the pool's. */
typedef struct nr_job {
    void (*fn)(void *ctx, int i, int n);
    void *ctx;
    int n;
    int next;             /* first task nobody took yet (under the pool's lock) */
    int unfinished;       /* tasks taken or not that have not returned yet (under the lock) */
    int waiting;          /* the caller sleeps on done */
    int posted;           /* given to the pool (else nr_job_wait runs every task itself) */
    int queued;           /* in the pool's queue (under the lock) */
    pthread_cond_t done;
    struct nr_job *queue; /* next job with tasks left, in the pool's queue */
} nr_job;

/* Run fn(ctx, i, n) for i = 0..n-1 (n >= 1): task 0 on the calling thread, the others on pool
 * workers or, when none is free, on the calling thread too. Returns when all have returned. */
void nr_parallel_run(int n, void (*fn)(void *ctx, int i, int n), void *ctx);

/* nr_parallel_run in two halves: post tasks first..n-1 of fn (workers may start them at once),
 * return; nr_job_wait then runs the tasks no worker has taken and waits for the rest. Between the
 * two the caller does its own work; the job must stay alive until nr_job_wait returns. */
void nr_job_start(nr_job *job, int first, int n, void (*fn)(void *ctx, int i, int n), void *ctx);
void nr_job_wait(nr_job *job);

/* The cores this process may run on: the CPUs of its affinity mask (sched_getaffinity, read once,
 * at the first call), at least 1. Container CPU quotas (cgroup cpu.max) are not looked at. */
int nr_cpu_count(void);
/* The default of the threads parameters: nr_cpu_count(), at most NR_MAX_THREADS. */
int nr_default_threads(void);
/* Workers the pool may run besides the caller: nr_cpu_count() - 1 (0 on one core). */
int nr_pool_workers_max(void);

/* Make the CBLAS run on the calling thread (see above); loads nothing (a CBLAS not loaded yet is
 * taken when it loads). Cheap: call before every CBLAS call. */
void nr_blas_own(void);
/* The CBLAS's thread count as nlprnn sees it: OpenBLAS's openblas_get_num_threads(), or 0 when
 * the CBLAS has no such function or cannot be loaded (tests). Loads the CBLAS if it is not yet. */
int nr_blas_threads(void);

/* The part [*lo, *hi) of 0..total that task i of n takes: contiguous, in order, sizes differ by
 * at most one. */
void nr_split_range(int total, int i, int n, int *lo, int *hi);

#endif
