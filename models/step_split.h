/* models/step_split.h: two threads on the recurrent products of one sequence (private to
 * the encoder: models/encoder.c, encoder_recur.c, encoder_ws.c; implemented in
 * models/step_split.c).
 *
 * Used for batch-1 inference with a float16 W_hh and a workspace made with nthreads >= 2, on a
 * machine with 2 cores or more (nr_encoder_forward otherwise runs batch 1 on one thread). The caller's thread does everything as on one thread,
 * except that each product
 *   C (na, N) = A (na, H) W^T      W = rows [row0, row0+N) of the float16 W_hh (G*H, H)
 * is cut into SPLIT_CHUNKS (4) blocks of rows of W (bounds at multiples of 8), which the caller and a
 * helper claim one at a time from a shared counter. nr_gemm_f16 computes each element of C
 * from its own row of W and A alone (its accumulators are per (row, batch row),
 * models/gemv_f16.c), so whoever computes a block, the result has the bits of the product in one
 * piece. Handshake per product (C11 atomics):
 *   caller: write the job fields; ctr = seq << 8 (release); claim blocks (CAS ctr -> ctr + 1)
 *           and compute them; then wait until the helper's finished count covers the blocks it
 *           claimed (acquire)
 *   helper: on a new seq in ctr, claim blocks the same way, compute, hdone += 1 (release)
 * A helper that is not running (not started yet, descheduled on a busy machine, gone) costs
 * nothing but the blocks it already claimed: the caller takes the rest.
 * The helper is a task of the library's pool (common/pool.h). The caller posts one when a call
 * begins or a product is posted while no helper task is running or waiting to run (a sleeping
 * worker then wakes while the caller goes on alone). A helper polls for the next product for at
 * most SPLIT_LINGER_NS (50 us; the products of a sequence come microseconds apart, and so do the calls of
 * a stream of sequences) and then leaves: its task returns, the pool's worker sleeps, and the next
 * product or call posts a new task. The caller never waits for the helper to leave: once the last
 * product of a call is done the helper touches none of the call's memory, only this state (which
 * the workspace keeps; nr_encoder_ws_free sets quit and waits). For a block the helper holds, the
 * caller polls at most SPLIT_SPIN_NS (20 us; a block takes a few microseconds) and then sleeps on a
 * condition variable the helper signals after a block. So no thread waits awake for more than
 * tens of microseconds at a time. */
#ifndef NR_MODELS_STEP_SPLIT_H
#define NR_MODELS_STEP_SPLIT_H

#include <stdint.h>

typedef struct nr_step_split nr_step_split;

/* The split state of one workspace; NULL without memory (the caller then runs on one thread). */
nr_step_split *nr_step_split_create(void);
/* Makes every helper leave, waits for their tasks, frees (NULL: nothing). */
void nr_step_split_free(nr_step_split *sp);
/* A call begins (before its first projection, so a sleeping worker wakes during it) / ends.
 * wait_helper (tests): the caller waits for the helper to run and to finish a block of each
 * product before it claims any, and every call starts with a new helper. */
void nr_step_split_call_begin(nr_step_split *sp, int wait_helper);
void nr_step_split_call_end(nr_step_split *sp);
/* The caller's side of one product C (na, N) = A (na, H) W^T, W = w16's N rows of H float16
 * values (row stride H), with nr_gemm_f16's kernel `kernel`: the same bits as one
 * nr_gemm_f16 call over all N rows. */
void nr_step_split_product(nr_step_split *sp, float *C, int ldc, const float *A, int lda,
                           const uint16_t *w16, int N, int H, int na, int kernel);
/* Products the helper took part in so far (tests). */
long nr_step_split_products(const nr_step_split *sp);

#endif
