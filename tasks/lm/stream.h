/* tasks/lm/stream.h: the batcher of stream mode (`bptt N`, truncated backpropagation through time
 * over streams of reviews; internal).
 *
 * The epoch's text is its reviews in the epoch's order, each as the network reads it
 * (forward: <bos> x_1 .. x_m <eos>; backward: <bos> x_m .. x_1 <eos>), back to back. That text is
 * cut into B streams of len = floor(total / B) pieces each, stream b holding the pieces
 * [b len, (b + 1) len) (the last total - B len pieces are left out, as PyTorch's
 * word_language_model's batchify does), and every stream into windows of N steps: window k has the
 * inputs at positions kN .. kN + T - 1 of each stream, T = min(N, len - 1 - kN), and as targets the
 * pieces one position later. A target that is <bos> (the step from one review's <eos> to the next
 * review's <bos>) is masked (-1): a review's first piece is predicted from its <bos>, as when it
 * is scored, and <bos> is never a target. windows = ceil((len - 1) / N).
 *
 * The trainer carries each stream's state (every layer's h, and c for an LSTM) from one window to
 * the next, detached (no gradient crosses a window's start), and zeroes it at an epoch's start;
 * with bptt-reset bos also at every input that is <bos> (a review's start, inside a window too). */
#ifndef NR_TASKS_LM_STREAM_H
#define NR_TASKS_LM_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

typedef struct nr_lm_stream {
    int32_t *ids;      /* (B,len) the streams: stream b is ids[b len .. (b + 1) len) */
    size_t len;        /* pieces per stream (>= 2) */
    int B;             /* streams */
    int N;             /* steps per window (bptt) */
    long long windows; /* ceil((len - 1) / N) */
    int32_t bos;       /* the id that begins a review: never a target */
} nr_lm_stream;

/* The layout for a text of `total` pieces (every review with its <bos> and <eos>) in B streams
 * and windows of N steps. NLPRNN_E_INVALID_ARG when a stream would hold fewer than 2 pieces (the
 * text is too short for B streams). */
int nr_lm_stream_create(nr_lm_stream *s, size_t total, int B, int N, int32_t bos, nlprnn_error *err);
void nr_lm_stream_free(nr_lm_stream *s); /* zeroed afterwards; a zeroed one is fine */

/* Lay out an epoch: the reviews order[0 .. n) (indices into start), review i being
 * ids[start[i] .. start[i + 1]) = <bos> x_1 .. x_m <eos>; dir 1 reads each reversed
 * (<bos> x_m .. x_1 <eos>). The reviews must hold the `total` pieces given to create. */
void nr_lm_stream_fill(nr_lm_stream *s, const int32_t *ids, const size_t *start, const int32_t *order,
                       size_t n, int dir);

/* Window k (0 <= k < windows) of the streams lo .. hi - 1: in and tgt (T, hi - lo) time-major,
 * masked targets -1; returns T. *count (may be NULL) gets the targets that are not masked. in and
 * tgt NULL: only counts. */
int nr_lm_stream_window(const nr_lm_stream *s, long long k, int lo, int hi, int *in, int *tgt, int *count);

#endif
