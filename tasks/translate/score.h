/* tasks/translate/score.h: BLEU and chrF as sacrebleu (2.x) computes them by default (internal side
 * of nlprnn_bleu / nlprnn_chrf).
 *
 * BLEU (Papineni et al. 2002; sacrebleu's BLEU(): tokenize='13a', smooth_method='exp', cased,
 * max order 4, one reference per segment):
 *   tokenize each line with mteval-v13a's rules (tokenizer_13a): drop "<skipped>", join "-\n",
 *   unescape &quot; &amp; &lt; &gt;; then pad ASCII punctuation other than ' - . , with spaces,
 *   split . and , off unless both neighbours are digits, split - after a digit, collapse white
 *   space (Python's str.split(): Unicode white space);
 *   per order n = 1..4, over the corpus: correct_n = Σ clipped matches, total_n = Σ max(0, len-n+1);
 *   p_n = correct_n / total_n, and when correct_n = 0 (exp smoothing) p_n = 1 / (2^k total_n) for
 *   the k-th such order; BP = exp(1 - r/c) when c < r (c, r: hypothesis and reference tokens);
 *   BLEU = 100 BP exp(Σ log p_n / 4); 0 when nothing matches at all; an order with total_n = 0
 *   ends the loop and leaves p_n = 0 (log 0 taken as -9999999999: BLEU ~ 0).
 * chrF (Popović 2015; sacrebleu's CHRF(): char_order 6, word_order 0, beta 2, white space
 *   removed, cased, eps_smoothing off): per order n = 1..6 over the corpus, character (code point)
 *   n-gram counts: hyp_n, ref_n, match_n = Σ min(count_hyp, count_ref); P_n = match_n / hyp_n,
 *   R_n = match_n / ref_n averaged over the orders with hyp_n > 0 and ref_n > 0;
 *   chrF = 100 (1+β²) P R / (β² P + R) (0 when P + R = 0).
 * N-grams are counted by 64-bit hashes of their bytes (sorted, then merged): a collision would
 * merge two n-grams, which for these sizes has a probability below 1e-12.
 */
#ifndef NR_TASKS_SCORE_H
#define NR_TASKS_SCORE_H

#include <stddef.h>

#include "common/common.h"

typedef struct nr_bleu_stats {
    double correct[4], total[4];
    double sys_len, ref_len;
} nr_bleu_stats;

typedef struct nr_chrf_stats {
    double hyp[6], ref[6], match[6];
} nr_chrf_stats;

/* The 13a tokenization of line (len bytes) as a new string of space-separated tokens (malloc'ed;
 * NULL when out of memory). */
char *nr_tok13a(const char *line, size_t len);

/* Add one segment (valid UTF-8, NUL-terminated) to the corpus statistics. 0 or NLPRNN_E_NOMEM. */
int nr_bleu_add(nr_bleu_stats *st, const char *hyp, const char *ref);
int nr_chrf_add(nr_chrf_stats *st, const char *hyp, const char *ref);
/* The corpus scores (0..100). detail (optional, 8): p_1..p_4 (percent), BP, c/r, c, r. */
double nr_bleu_score(const nr_bleu_stats *st, double *detail);
double nr_chrf_score(const nr_chrf_stats *st);

#endif
