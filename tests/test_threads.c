/* tests/test_threads.c: one immutable tokenizer shared by 8 threads gives exactly the answers of
 * one thread (the thread rule of nlprnn/base.h). Each thread owns its nlprnn_encoding (per-thread
 * scratch); every thread walks the texts from a different starting point, several rounds, so that
 * the encodings' caches and the shared tokenizer are exercised concurrently. Run under
 * ThreadSanitizer by scripts/tsan.sh. Public header only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlprnn.h"
#include "testutil.h"

#define NTHREADS 8
#define ROUNDS 3
#define NTEXTS 64

static const char *base_texts[] = {
    "이 영화 정말 재미있어요! 배우들의 연기가 최고였습니다.",
    "스토리가 너무 지루하고 뻔했다... 시간 낭비",
    "The plot was thin, but the acting made up for it.",
    "I would not watch this again: 2 hours I will never get back.",
    "배경 음악이 좋았고 마지막 장면에서 울었어요 ㅠㅠ",
    "감독의 전작보다 훨씬 낫다. 10점 만점에 9점!",
    "A masterpiece of quiet, patient storytelling.",
    "Worst sequel ever 😡 — avoid at all costs.",
    "주인공이 ___ 때문에 집을 떠났다.",
    "연기는 [MASK] 했지만 각본이 아쉬웠다.",
    "Ｆｕｌｌｗｉｄｔｈ letters, ① circled digits and ﬁ ligatures normalize.",
    "tabs\tand\r\nnewlines   collapse into one space",
};
#define NBASE (sizeof base_texts / sizeof base_texts[0])

typedef struct {
    size_t n;
    int32_t *ids;
    size_t *offsets;
} result;

static char *texts[NTEXTS];
static result expected[NTEXTS];
static const nlprnn_tokenizer *shared_tok;

typedef struct {
    int index;
    int mismatches;
    int errors;
} worker;

static int same(const result *r, const nlprnn_encoding *enc) {
    size_t n = nlprnn_encoding_size(enc);
    if (n != r->n) return 0;
    if (n == 0) return 1;
    return memcmp(r->ids, nlprnn_encoding_ids(enc), n * sizeof(int32_t)) == 0 &&
           memcmp(r->offsets, nlprnn_encoding_offsets(enc), 2 * n * sizeof(size_t)) == 0;
}

static void *work(void *arg) {
    worker *w = arg;
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    if (!enc) {
        w->errors++;
        return NULL;
    }
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < NTEXTS; k++) {
            int i = (k * (w->index + 1) + w->index * 7 + round) % NTEXTS;
            nlprnn_error err;
            if (nlprnn_tokenizer_encode(shared_tok, texts[i], strlen(texts[i]), enc, &err) != 0) {
                w->errors++;
                continue;
            }
            if (!same(&expected[i], enc)) w->mismatches++;
        }
    }
    nlprnn_encoding_free(enc);
    return NULL;
}

int main(void) {
    /* 64 texts: the base texts and variations of them (different cache keys, same pieces). */
    for (int i = 0; i < NTEXTS; i++) {
        const char *b = base_texts[i % NBASE];
        size_t n = strlen(b) + 64;
        texts[i] = malloc(n);
        CHECK(texts[i] != NULL);
        if (!texts[i]) return nr_test_done("test_threads");
        if (i < (int)NBASE)
            snprintf(texts[i], n, "%s", b);
        else
            snprintf(texts[i], n, "%s %d번째 변형 variant %d", b, i, i * 37);
    }

    nlprnn_error err;
    nlprnn_tokenizer_params *opts = NULL;
    nlprnn_tokenizer_params_create(&opts, NULL);
    CHECK(opts != NULL);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(opts, "vocab-size", "400", &err), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(opts, "min-count", "1", &err), 0);
    nlprnn_tokenizer *tok = NULL;
    int rc = nlprnn_tokenizer_train_texts(opts, (const char *const *)texts, NULL, NTEXTS, &tok,
                                          &err);
    CHECK_MSG(rc == 0, "train: %s", err.message);
    nlprnn_tokenizer_params_free(opts);
    if (rc != 0) return nr_test_done("test_threads");
    shared_tok = tok;

    /* The answers of one thread. */
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    CHECK(enc != NULL);
    size_t total = 0;
    for (int i = 0; i < NTEXTS && enc; i++) {
        rc = nlprnn_tokenizer_encode(tok, texts[i], strlen(texts[i]), enc, &err);
        CHECK_MSG(rc == 0, "encode text %d: %s", i, err.message);
        size_t n = nlprnn_encoding_size(enc);
        expected[i].n = n;
        expected[i].ids = malloc((n + 1) * sizeof(int32_t));
        expected[i].offsets = malloc((2 * n + 1) * sizeof(size_t));
        CHECK(expected[i].ids && expected[i].offsets);
        if (n && expected[i].ids && expected[i].offsets) {
            memcpy(expected[i].ids, nlprnn_encoding_ids(enc), n * sizeof(int32_t));
            memcpy(expected[i].offsets, nlprnn_encoding_offsets(enc), 2 * n * sizeof(size_t));
        }
        total += n;
    }
    nlprnn_encoding_free(enc);
    CHECK(total > NTEXTS); /* every text gives pieces: the comparison below is not vacuous */

    /* The same answers from 8 threads sharing the tokenizer. */
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        w[t] = (worker){t, 0, 0};
        CHECK_INT_EQ(pthread_create(&th[t], NULL, work, &w[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK_MSG(w[t].mismatches == 0 && w[t].errors == 0,
                  "thread %d: %d mismatches, %d errors out of %d encodings", t, w[t].mismatches,
                  w[t].errors, ROUNDS * NTEXTS);
    }

    nlprnn_tokenizer_free(tok);
    for (int i = 0; i < NTEXTS; i++) {
        free(texts[i]);
        free(expected[i].ids);
        free(expected[i].offsets);
    }
    return nr_test_done("test_threads");
}
