/* tokenizer/word.c: stage 4c, the word-level model: a segment (with its "▁" when it follows
 * whitespace) that is in the vocabulary is one id; any other segment falls back to characters
 * ("▁" plus one piece per character, byte pieces for characters outside the alphabet). */
#include <string.h>

#include "tokenizer/internal.h"

int nr_word_encode_segment(const nlprnn_tokenizer *tok, const char *s, size_t n, int word_start,
                           nr_symbuf *sb) {
    char key[NR_MAX_SEGMENT_BYTES + 8];
    size_t kl = 0;
    if (n <= NR_MAX_SEGMENT_BYTES) {
        if (word_start) {
            memcpy(key, NLPRNN_WORD_START, 3);
            kl = 3;
        }
        memcpy(key + kl, s, n);
        kl += n;
        int32_t id = nr_vocab_find(&tok->vocab, key, kl);
        if (id >= 0 && tok->vocab.kind[id] == NR_PIECE_NORMAL) {
            if (nr_symbuf_reserve(sb, sb->n + 1)) return -1;
            sb->id[sb->n] = id;
            sb->start[sb->n] = 0;
            sb->end[sb->n] = (uint32_t)n;
            sb->n++;
            return 0;
        }
    }
    return nr_chars_to_symbols(tok, s, n, word_start, sb);
}
