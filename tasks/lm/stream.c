/* tasks/lm/stream.c: the batcher of stream mode (layout and windows: tasks/lm/stream.h). */
#include "tasks/lm/stream.h"

#include <stdlib.h>
#include <string.h>

int nr_lm_stream_create(nr_lm_stream *s, size_t total, int B, int N, int32_t bos, nlprnn_error *err) {
    memset(s, 0, sizeof *s);
    if (B < 1 || N < 1) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "stream mode: %d streams, windows of %d", B, N);
    size_t len = total / (size_t)B;
    if (len < 2)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "bptt: the training text has %zu pieces, too few for batch %d streams of at least 2 "
                       "pieces each (lower batch)",
                       total, B);
    s->ids = nr_malloc_array(len * (size_t)B, sizeof(int32_t));
    if (!s->ids) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory (%d streams of %zu pieces)", B, len);
    s->len = len;
    s->B = B;
    s->N = N;
    s->windows = (long long)((len - 1 + (size_t)N - 1) / (size_t)N);
    s->bos = bos;
    return NLPRNN_OK;
}

void nr_lm_stream_free(nr_lm_stream *s) {
    free(s->ids);
    memset(s, 0, sizeof *s);
}

void nr_lm_stream_fill(nr_lm_stream *s, const int32_t *ids, const size_t *start, const int32_t *order,
                       size_t n, int dir) {
    size_t cap = s->len * (size_t)s->B, at = 0;
    for (size_t r = 0; r < n && at < cap; r++) {
        const int32_t *x = ids + start[order[r]];
        size_t m = start[order[r] + 1] - start[order[r]]; /* <bos> x_1 .. x_{m-2} <eos> */
        for (size_t i = 0; i < m && at < cap; i++) {
            /* backward: <bos>, then x_{m-2} .. x_1, then <eos> (the sentence-batch reader's order) */
            size_t j = !dir || i == 0 || i == m - 1 ? i : m - 1 - i;
            s->ids[at++] = x[j];
        }
    }
}

int nr_lm_stream_window(const nr_lm_stream *s, long long k, int lo, int hi, int *in, int *tgt, int *count) {
    size_t p0 = (size_t)k * (size_t)s->N;
    int T = (int)(s->len - 1 - p0 < (size_t)s->N ? s->len - 1 - p0 : (size_t)s->N), nb = hi - lo, cnt = 0;
    for (int b = 0; b < nb; b++) {
        const int32_t *st = s->ids + (size_t)(lo + b) * s->len + p0;
        for (int i = 0; i < T; i++) {
            size_t q = (size_t)i * (size_t)nb + (size_t)b;
            int y = st[i + 1] == s->bos ? -1 : st[i + 1];
            cnt += y >= 0;
            if (!in) continue; /* counting only */
            in[q] = st[i];
            tgt[q] = y;
        }
    }
    if (count) *count = cnt;
    return T;
}
