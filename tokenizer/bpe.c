/* tokenizer/bpe.c: stage 4b, byte-pair-encoding of one segment.
 *
 * A segment starts as characters: "▁" first when it follows whitespace, then one symbol per
 * character of the alphabet; a character outside the alphabet becomes its UTF-8 bytes as byte
 * pieces (or <unk>), which no merge touches. Then, as in training, the adjacent pair with the
 * lowest merge rank is merged (leftmost first) until no pair has a merge. Segments are at most
 * NR_MAX_SEGMENT_BYTES long; the rank of every adjacent pair is kept, so a merge costs one scan
 * and two lookups.
 *
 * BPE dropout (Provilkov, Emelianenko and Voita 2020, "BPE-Dropout: Simple and Effective Subword
 * Regularization", Algorithm 1), when a nr_bpe_drop is given: at every merge step each pair that
 * has a merge is dropped with probability p for that step (one fresh draw per pair and step),
 * the surviving pair of lowest rank is merged (leftmost first), and the segment is finished
 * when no pair survives a step. p = 0 is the plain encoding; p = 1 leaves the characters.
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

/* One draw: 1 when a pair is dropped. 53-bit uniform in [0, 1), so p = 1 always drops. */
static int dropped(nr_bpe_drop *d) {
    return (double)(nr_rng_u64(&d->rng) >> 11) * 0x1p-53 < d->p;
}

int nr_bpe_encode_segment(const nlprnn_tokenizer *tok, const char *s, size_t n, int word_start,
                          nr_symbuf *sb, nr_bpe_drop *drop) {
    size_t first = sb->n;
    if (nr_chars_to_symbols(tok, s, n, word_start, sb)) return -1;
    int32_t *id = sb->id + first;
    uint32_t *st = sb->start + first, *en = sb->end + first;
    size_t m = sb->n - first;
    if (m > NR_MAX_SEGMENT_BYTES + 1) return -1; /* cannot happen: segments are cut shorter */
    /* rank[i], res[i]: the merge of pair (i, i+1), INT32_MAX when none; after a merge only the
     * two pairs around it change, so each step costs one scan plus two lookups */
    int32_t rank[NR_MAX_SEGMENT_BYTES + 2], res[NR_MAX_SEGMENT_BYTES + 2];
    for (size_t i = 0; i + 1 < m; i++) {
        int32_t r = nr_merges_find(&tok->merges, id[i], id[i + 1], &res[i]);
        rank[i] = r >= 0 ? r : INT32_MAX;
    }
    while (m > 1) {
        int32_t best_rank = INT32_MAX;
        size_t best = 0;
        /* with dropout a pair is drawn only when it would be the best so far: a pair of higher
         * rank cannot win whatever its draw, so the outcome is that of drawing every pair */
        for (size_t i = 0; i + 1 < m; i++)
            if (rank[i] < best_rank && !(drop && dropped(drop))) {
                best_rank = rank[i];
                best = i;
            }
        if (best_rank == INT32_MAX) break;
        /* the first symbol "▁" has an empty range; a merge takes the union of the ranges */
        id[best] = res[best];
        if (st[best] == en[best]) st[best] = st[best + 1];
        en[best] = en[best + 1];
        size_t tail = m - best - 2;
        memmove(id + best + 1, id + best + 2, tail * sizeof *id);
        memmove(st + best + 1, st + best + 2, tail * sizeof *st);
        memmove(en + best + 1, en + best + 2, tail * sizeof *en);
        if (tail > 1) { /* pairs best+2.. become best+1.. */
            memmove(rank + best + 1, rank + best + 2, (tail - 1) * sizeof *rank);
            memmove(res + best + 1, res + best + 2, (tail - 1) * sizeof *res);
        }
        m--;
        if (best > 0) {
            int32_t r = nr_merges_find(&tok->merges, id[best - 1], id[best], &res[best - 1]);
            rank[best - 1] = r >= 0 ? r : INT32_MAX;
        }
        if (best + 1 < m) {
            int32_t r = nr_merges_find(&tok->merges, id[best], id[best + 1], &res[best]);
            rank[best] = r >= 0 ? r : INT32_MAX;
        }
    }
    if (word_start && m > 0 && st[0] == en[0] && n > 0) { /* a lone "▁": at the first char */
        st[0] = en[0] = 0;
    }
    sb->n = first + m;
    return 0;
}
