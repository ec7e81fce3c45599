/* tokenizer/bpe.c: stage 4b, byte-pair-encoding of one segment.
 *
 * A segment starts as characters: "▁" first when it follows whitespace, then one symbol per
 * character of the alphabet; a character outside the alphabet becomes its UTF-8 bytes as byte
 * pieces (or <unk>), which no merge touches. Then, as in training, the adjacent pair with the
 * lowest merge rank is merged (leftmost first) until no pair has a merge. Segments are at most
 * NR_MAX_SEGMENT_BYTES long, so the quadratic scan stays small.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

int nr_symbuf_reserve(nr_symbuf *sb, size_t cap) {
    if (cap <= sb->cap) return 0;
    size_t c = sb->cap ? sb->cap : 64;
    while (c < cap) c *= 2;
    int32_t *id = nr_realloc_array(sb->id, c, sizeof *id);
    if (!id) return -1;
    sb->id = id;
    uint32_t *s = nr_realloc_array(sb->start, c, sizeof *s);
    if (!s) return -1;
    sb->start = s;
    uint32_t *e = nr_realloc_array(sb->end, c, sizeof *e);
    if (!e) return -1;
    sb->end = e;
    sb->cap = c;
    return 0;
}

void nr_symbuf_free(nr_symbuf *sb) {
    if (!sb) return;
    free(sb->id);
    free(sb->start);
    free(sb->end);
    memset(sb, 0, sizeof *sb);
}

static size_t char_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

int nr_chars_to_symbols(const nlprnn_tokenizer *tok, const char *s, size_t n, int word_start,
                        nr_symbuf *sb) {
    if (nr_symbuf_reserve(sb, sb->n + n + 1)) return -1;
    if (word_start) {
        sb->id[sb->n] = tok->ws_id >= 0 ? tok->ws_id : NLPRNN_ID_UNK;
        sb->start[sb->n] = sb->end[sb->n] = 0;
        sb->n++;
    }
    size_t i = 0;
    while (i < n) {
        size_t k = char_len((unsigned char)s[i]);
        if (k > n - i) k = n - i;
        int32_t id = nr_vocab_find(&tok->vocab, s + i, k);
        if (id >= 0 && tok->vocab.kind[id] == NR_PIECE_NORMAL) {
            sb->id[sb->n] = id;
            sb->start[sb->n] = (uint32_t)i;
            sb->end[sb->n] = (uint32_t)(i + k);
            sb->n++;
        } else if (tok->byte_fallback) {
            for (size_t j = 0; j < k; j++) {
                sb->id[sb->n] = NLPRNN_NUM_SPECIAL_IDS + (unsigned char)s[i + j];
                sb->start[sb->n] = (uint32_t)i;
                sb->end[sb->n] = (uint32_t)(i + k);
                sb->n++;
            }
        } else {
            sb->id[sb->n] = NLPRNN_ID_UNK;
            sb->start[sb->n] = (uint32_t)i;
            sb->end[sb->n] = (uint32_t)(i + k);
            sb->n++;
        }
        i += k;
    }
    return 0;
}

int nr_bpe_encode_segment(const nlprnn_tokenizer *tok, const char *s, size_t n, int word_start,
                          nr_symbuf *sb) {
    size_t first = sb->n;
    if (nr_chars_to_symbols(tok, s, n, word_start, sb)) return -1;
    int32_t *id = sb->id + first;
    uint32_t *st = sb->start + first, *en = sb->end + first;
    size_t m = sb->n - first;
    /* the first symbol "▁" has an empty range; a merge takes the union of the ranges */
    for (;;) {
        int32_t best_rank = INT32_MAX, best_res = -1;
        size_t best = 0;
        for (size_t i = 0; i + 1 < m; i++) {
            int32_t res;
            int32_t r = nr_merges_find(&tok->merges, id[i], id[i + 1], &res);
            if (r >= 0 && r < best_rank) {
                best_rank = r;
                best_res = res;
                best = i;
            }
        }
        if (best_res < 0) break;
        id[best] = best_res;
        if (st[best] == en[best]) st[best] = st[best + 1]; /* "▁" takes its neighbour's start */
        en[best] = en[best + 1];
        memmove(id + best + 1, id + best + 2, (m - best - 2) * sizeof *id);
        memmove(st + best + 1, st + best + 2, (m - best - 2) * sizeof *st);
        memmove(en + best + 1, en + best + 2, (m - best - 2) * sizeof *en);
        m--;
    }
    if (word_start && m > 0 && st[0] == en[0] && n > 0) { /* a lone "▁": at the first char */
        st[0] = en[0] = 0;
    }
    sb->n = first + m;
    return 0;
}
