/* models/step_split.c: two threads on the recurrent products of one sequence; the design and
 * the handshake are described in models/step_split.h. */
#include "models/step_split.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common/pool.h"
#include "models/gemv_f16.h"

#define SPLIT_CHUNKS 4
#define SPLIT_LINGER_NS 50000
#define SPLIT_SPIN_NS 20000
struct nr_step_split {
    const uint16_t *w16;  /* first row of this product's W (row0 already applied) */
    float *C;
    const float *A;
    int ldc, lda, N, H, na, kernel;
    long long seq;        /* caller: products posted */
    _Atomic int wait_helper; /* tests: the caller waits for the helper to run and to finish a
                                block of each product before it claims any; no time-out */
    long products;        /* products the helper took part in (read by tests) */
    _Atomic long long ctr; /* seq << 8 | next block to claim */
    _Atomic long long hdone; /* blocks the helper finished, over all products */
    _Atomic int quit;     /* helpers leave at once (nr_encoder_ws_free, end of a test call) */
    _Atomic int alive;    /* a helper is running */
    _Atomic long long exits; /* helper tasks that have returned */
    _Atomic int caller_sleeps; /* the caller sleeps on cv for the helper's block */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long long posted;     /* caller: helper tasks posted; task k is job[k & 1] */
    nr_job job[2];
    int pending[2];       /* caller: job[k] posted and not waited for yet */
};

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* tests only (wait_helper): sleep in steps of 20 us until *flag differs from value */
static void sleep_until_changed(_Atomic long long *flag, long long value)
{
    struct timespec d = {0, 20000};
    while (atomic_load_explicit(flag, memory_order_acquire) == value)
        nanosleep(&d, NULL);
}

/* Rows [lo, hi) of block c of a product with N rows: bounds at multiples of 8 */
static int split_bound(int N, int c)
{
    int b = (int)(((long long)N * c / SPLIT_CHUNKS + 7) & ~7LL);
    return b < N ? b : N;
}

static void split_block(const nr_step_split *sp, int c)
{
    int lo = split_bound(sp->N, c), hi = c + 1 == SPLIT_CHUNKS ? sp->N : split_bound(sp->N, c + 1);
    if (hi > lo)
        nr_gemm_f16(sp->C + lo, sp->ldc, sp->A, sp->lda, sp->w16 + (size_t)lo * sp->H, sp->H,
                    hi - lo, sp->H, sp->na, sp->kernel);
}

/* Claim the next block of product seq: its index, or -1 when none is left (or seq is over). */
static int split_claim(nr_step_split *sp, long long seq)
{
    long long v = atomic_load_explicit(&sp->ctr, memory_order_acquire);
    while ((v >> 8) == seq && (v & 255) < SPLIT_CHUNKS)
        if (atomic_compare_exchange_weak_explicit(&sp->ctr, &v, v + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return (int)(v & 255);
    return -1;
}

/* The helper (a pool task): blocks of each new product, until quit or until no product came for
 * SPLIT_LINGER_NS. */
static void split_helper_task(void *ctx, int i, int n)
{
    (void)i;
    (void)n;
    nr_step_split *sp = ctx;
    if (!atomic_load_explicit(&sp->quit, memory_order_acquire)) {
        atomic_store_explicit(&sp->alive, 1, memory_order_release);
        long long seen = -1, deadline = mono_ns() + SPLIT_LINGER_NS;
        for (unsigned polls = 1;; polls++) {
            long long v = atomic_load_explicit(&sp->ctr, memory_order_acquire);
            if ((v >> 8) != seen) {
                long long seq = v >> 8;
                int c;
                while ((c = split_claim(sp, seq)) >= 0) {
                    split_block(sp, c);
                    atomic_fetch_add_explicit(&sp->hdone, 1, memory_order_seq_cst);
                    if (atomic_load_explicit(&sp->caller_sleeps, memory_order_seq_cst)) {
                        pthread_mutex_lock(&sp->mu);
                        pthread_cond_signal(&sp->cv);
                        pthread_mutex_unlock(&sp->mu);
                    }
                }
                seen = seq;
                deadline = mono_ns() + SPLIT_LINGER_NS;
                continue;
            }
            if (atomic_load_explicit(&sp->quit, memory_order_acquire))
                break;
            if (polls % 32 == 0 && !atomic_load_explicit(&sp->wait_helper, memory_order_relaxed) &&
                mono_ns() > deadline)
                break; /* no product for a while: the caller goes on alone */
            cpu_relax();
        }
        atomic_store_explicit(&sp->alive, 0, memory_order_release);
    }
    atomic_fetch_add_explicit(&sp->exits, 1, memory_order_release);
}

/* Post a helper task unless one is running or waiting to run. Task k uses job[k & 1]; the task
 * before it on that job left before task k-1 was posted, so waiting for it does not block. */
static void split_ensure_helper(nr_step_split *sp)
{
    if (atomic_load_explicit(&sp->exits, memory_order_acquire) != sp->posted)
        return;
    int k = (int)(sp->posted & 1);
    if (sp->pending[k])
        nr_job_wait(&sp->job[k]);
    nr_job_start(&sp->job[k], 0, 1, split_helper_task, sp);
    sp->pending[k] = 1;
    sp->posted++;
}

/* Make every helper leave and wait for their tasks (workspace freed; end of a test call). */
static void split_drain(nr_step_split *sp)
{
    atomic_store_explicit(&sp->quit, 1, memory_order_release);
    for (int k = 0; k < 2; k++)
        if (sp->pending[k]) {
            nr_job_wait(&sp->job[k]);
            sp->pending[k] = 0;
        }
    atomic_store_explicit(&sp->quit, 0, memory_order_release);
}

nr_step_split *nr_step_split_create(void)
{
    nr_step_split *sp = calloc(1, sizeof *sp);
    if (!sp)
        return NULL;
    atomic_init(&sp->ctr, SPLIT_CHUNKS); /* "product 0", all claimed: a helper that starts before
                                          * the first product finds nothing to take */
    atomic_init(&sp->hdone, 0);
    atomic_init(&sp->quit, 0);
    atomic_init(&sp->alive, 0);
    atomic_init(&sp->exits, 0);
    atomic_init(&sp->caller_sleeps, 0);
    atomic_init(&sp->wait_helper, 0);
    if (pthread_mutex_init(&sp->mu, NULL) != 0) {
        free(sp);
        return NULL;
    }
    if (pthread_cond_init(&sp->cv, NULL) != 0) {
        pthread_mutex_destroy(&sp->mu);
        free(sp);
        return NULL;
    }
    return sp;
}

void nr_step_split_free(nr_step_split *sp)
{
    if (!sp)
        return;
    split_drain(sp);
    pthread_cond_destroy(&sp->cv);
    pthread_mutex_destroy(&sp->mu);
    free(sp);
}

void nr_step_split_call_begin(nr_step_split *sp, int wait_helper)
{
    atomic_store_explicit(&sp->wait_helper, wait_helper ? 1 : 0, memory_order_relaxed);
    split_ensure_helper(sp);
}

void nr_step_split_call_end(nr_step_split *sp)
{
    if (sp->wait_helper)
        split_drain(sp); /* tests: every call starts with a new helper */
}

void nr_step_split_product(nr_step_split *sp, float *C, int ldc, const float *A, int lda,
                           const uint16_t *w16, int N, int H, int na, int kernel)
{
    if (N < 16) { /* too small to split: the whole product here (the same bits) */
        nr_gemm_f16(C, ldc, A, lda, w16, H, N, H, na, kernel);
        return;
    }
    split_ensure_helper(sp);
    if (sp->wait_helper) { /* tests: the helper must be running */
        struct timespec d = {0, 20000};
        while (!atomic_load_explicit(&sp->alive, memory_order_acquire))
            nanosleep(&d, NULL);
    }
    if (!atomic_load_explicit(&sp->alive, memory_order_acquire)) {
        /* no helper running: the whole product here (the same bits) */
        nr_gemm_f16(C, ldc, A, lda, w16, H, N, H, na, kernel);
        return;
    }
    long long hd0 = atomic_load_explicit(&sp->hdone, memory_order_acquire);
    sp->w16 = w16;
    sp->C = C;
    sp->A = A;
    sp->ldc = ldc;
    sp->lda = lda;
    sp->N = N;
    sp->H = H;
    sp->na = na;
    sp->kernel = kernel;
    long long seq = ++sp->seq;
    atomic_store_explicit(&sp->ctr, seq << 8, memory_order_release);
    if (sp->wait_helper)
        sleep_until_changed(&sp->hdone, hd0);
    int mine = 0, c;
    while ((c = split_claim(sp, seq)) >= 0) {
        split_block(sp, c);
        mine++;
    }
    long long target = hd0 + (SPLIT_CHUNKS - mine); /* hdone only grows */
    if (atomic_load_explicit(&sp->hdone, memory_order_acquire) < target) {
        /* the helper holds a block: poll briefly, then sleep until it signals */
        long long deadline = mono_ns() + SPLIT_SPIN_NS;
        unsigned polls = 0;
        while (atomic_load_explicit(&sp->hdone, memory_order_acquire) < target &&
               (++polls % 32 != 0 || mono_ns() < deadline))
            cpu_relax();
        if (atomic_load_explicit(&sp->hdone, memory_order_acquire) < target) {
            pthread_mutex_lock(&sp->mu);
            atomic_store_explicit(&sp->caller_sleeps, 1, memory_order_seq_cst);
            while (atomic_load_explicit(&sp->hdone, memory_order_seq_cst) < target)
                pthread_cond_wait(&sp->cv, &sp->mu);
            atomic_store_explicit(&sp->caller_sleeps, 0, memory_order_relaxed);
            pthread_mutex_unlock(&sp->mu);
        }
    }
    sp->products += mine < SPLIT_CHUNKS;
}

long nr_step_split_products(const nr_step_split *sp)
{
    return sp ? sp->products : 0;
}
