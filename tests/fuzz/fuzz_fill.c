/* tests/fuzz/fuzz_fill.c: libFuzzer target for the fill-in-the-blank parser and search, and the
 * next-word search (nlprnn_lm_fill, nlprnn_lm_next, nlprnn_lm_score) on a tiny language model
 * built once in memory (a BPE tokenizer trained on a few sentences, forward and backward LSTMs
 * of 8 units with seeded random weights: the answers are meaningless, the code paths are real).
 * Byte 0: bit 0 = rank candidates (the text after the first '\n', split at '\n') or let the model
 * propose; bits 1-3 = k (1..8). The rest (up to 256 bytes) is the sentence.
 * The seed only_blank ("___" alone) reproduces the undefined behaviour this target found in
 * models/lm.c (qsort(NULL, 0, ...) when the beams propose nothing; fixed in 1227827: fill then
 * returns 0 answers, as nlprnn/lm.h documents).
 * Invariants (a violation aborts): fill fails only with NLPRNN_E_DATA (no blank / two blanks),
 * NLPRNN_E_UTF8 or NLPRNN_E_INVALID_ARG; a success gives at most k answers (at least one when
 * ranking candidates), best first, with probabilities in [0, 1] and NUL-terminated texts; the
 * probabilities are over every answer ranked, so they sum to 1 when fewer than k answers came
 * back (all of them) and to at most 1 otherwise; next and score behave alike. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "models/encoder.h"
#include "tasks/lm/lm.h"
#include "nlprnn.h"

static nlprnn_lm *lm;
static nlprnn_lm_ctx *ctx;

static void check(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_fill: invariant violated: %s\n", what);
        abort();
    }
}

static void build(void) {
    static const char *texts[] = {
        "난 주말이면 영화를 보기 위해 우리 동네의 극장에 간다.", "이 영화 정말 재미있어요 최고",
        "극장에서 친구를 만났다", "The movie was great and I loved it.", "배우들 연기가 좋았다",
        "도서관에 가서 책을 읽었다", "오늘 날씨가 정말 좋다 ㅋㅋ", "2024년 12월 25일 😀",
    };
    nlprnn_error err;
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    check(o != NULL, "options");
    nlprnn_tokenizer_params_set(o, "vocab-size", "320", &err);
    nlprnn_tokenizer_params_set(o, "min-count", "1", &err);
    nlprnn_tokenizer *tok = NULL;
    check(nlprnn_tokenizer_train_texts(o, texts, NULL, sizeof texts / sizeof texts[0], &tok, &err) == 0,
          "tokenizer training");
    nlprnn_tokenizer_params_free(o);
    nr_lm_cfg cfg = {NR_CELL_LSTM, 1, 8, 8, nlprnn_tokenizer_vocab_size(tok), 1};
    nr_lm_net fwd, bwd;
    nr_rng rng;
    nr_rng_seed(&rng, 1);
    check(nr_lm_net_create(&fwd, &cfg, NLPRNN_ID_PAD, &err) == 0 &&
              nr_lm_net_init(&fwd, &rng, &err) == 0 &&
              nr_lm_net_create(&bwd, &cfg, NLPRNN_ID_PAD, &err) == 0 &&
              nr_lm_net_init(&bwd, &rng, &err) == 0,
          "network creation");
    check(nr_lm_assemble(&lm, tok, &fwd, &bwd, "f32", &err) == 0, "assembling the model");
    nlprnn_lm_ctx_create(lm, &ctx, NULL);
    check(ctx != NULL, "context");
}

/* min_n: 1 where an answer is always due (ranking candidates, next word), 0 where the model may
 * have nothing to propose (fill without candidates, nlprnn/lm.h). */
static void check_choices(const nlprnn_lm_choice *c, size_t n, int k, int normalized, size_t min_n) {
    check(n >= min_n && n <= (size_t)k, "answer count outside min..k");
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        check(c[i].text != NULL, "answer text NULL");
        check(c[i].prob >= 0 && c[i].prob <= 1 + 1e-9, "probability outside [0, 1]");
        check(!isnan(c[i].score), "score NaN");
        if (i) check(c[i].score <= c[i - 1].score + 1e-9, "answers not best first");
        sum += c[i].prob;
    }
    if (normalized && n && n < (size_t)k) check(fabs(sum - 1) < 1e-6, "all the answers: probabilities do not sum to 1");
    if (normalized) check(sum <= 1 + 1e-6, "fill probabilities sum to more than 1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!lm) build();
    if (size < 1) return 0;
    unsigned sel = data[0];
    int k = 1 + (int)((sel >> 1) & 7);
    data++;
    size--;
    if (size > 256) size = 256;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';

    /* With candidates: the sentence is the first line, each further line is one candidate. */
    size_t len = size;
    const char *cand[16];
    size_t ncand = 0;
    if (sel & 1) {
        char *nl = memchr(buf, '\n', size);
        if (nl) {
            len = (size_t)(nl - buf);
            char *p = nl + 1, *end = buf + size;
            while (p <= end && ncand < 16) {
                char *q = memchr(p, '\n', (size_t)(end - p));
                if (!q) q = end;
                *q = '\0';
                cand[ncand++] = p;
                p = q + 1;
            }
        }
    }
    nlprnn_error err;
    nlprnn_lm_choice *out = NULL;
    size_t n = 0;
    int rc = nlprnn_lm_fill(ctx, buf, len, ncand ? cand : NULL, ncand, k, &out, &n, &err);
    if (rc == NLPRNN_OK) {
        check_choices(out, n, k, 1, ncand ? 1 : 0);
        nlprnn_lm_choices_free(out, n);
    } else {
        check(rc == NLPRNN_E_DATA || rc == NLPRNN_E_UTF8 || rc == NLPRNN_E_INVALID_ARG,
              "fill: undocumented status");
        check(err.code == rc && err.message[0], "fill: no message");
    }

    out = NULL;
    n = 0;
    rc = nlprnn_lm_next(ctx, buf, len, k, &out, &n, &err);
    if (rc == NLPRNN_OK) {
        check_choices(out, n, k, 0, 1);
        nlprnn_lm_choices_free(out, n);
    } else {
        check(rc == NLPRNN_E_UTF8 || rc == NLPRNN_E_INVALID_ARG, "next: undocumented status");
    }

    double lp = 0;
    size_t npred = 0;
    rc = nlprnn_lm_score(ctx, buf, len, NLPRNN_LM_BACKWARD, &lp, &npred, &err);
    if (rc == NLPRNN_OK) {
        check(lp <= 1e-9 && npred >= 1 && !isnan(lp), "score: log-probability above 0 or NaN");
    } else {
        check(rc == NLPRNN_E_UTF8, "score: undocumented status");
    }
    free(buf);
    return 0;
}
