/* tests/test_tokenizer_train.c: training. A synthetic Korean/English corpus (nouns x particles
 * x verbs, generated here) is enough to check that frequent particles become their own pieces
 * (극장에 -> ▁극장 + 에), that training is deterministic (same bytes twice, with 1 or 3 threads,
 * the same sample for the same seed), the word-level model, the jamo option, a custom
 * pattern, minimum counts and option errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlprnn.h"
#include "testutil.h"

static const char *nouns[] = {"극장", "영화", "배우", "친구", "감독", "주인공", "음악", "장면"};
static const char *particles[] = {"에", "에서", "이", "가", "을", "를", "은", "는", "도", "의", "와", "과"};
static const char *verbs[] = {"갔다", "봤다", "좋았다", "별로였다", "최고다", "재밌다"};
static const char *english[] = {"the movie was good", "the actor was great", "good music and a good story"};

#define NTEXTS 1200
static char *texts[NTEXTS];

static void make_corpus(void) {
    unsigned x = 12345;
    for (int i = 0; i < NTEXTS; i++) {
        char buf[256];
        size_t w = 0;
        int words = 2 + (int)((x >> 16) % 3);
        for (int k = 0; k < words; k++) {
            x = x * 1103515245u + 12345u;
            const char *nn = nouns[(x >> 16) % 8];
            x = x * 1103515245u + 12345u;
            const char *pp = particles[(x >> 16) % 12];
            w += (size_t)snprintf(buf + w, sizeof buf - w, "%s%s ", nn, pp);
        }
        x = x * 1103515245u + 12345u;
        w += (size_t)snprintf(buf + w, sizeof buf - w, "%s", verbs[(x >> 16) % 6]);
        if (i % 10 == 0) snprintf(buf + w, sizeof buf - w, " %s", english[(x >> 8) % 3]);
        texts[i] = strdup(buf);
    }
}

static nlprnn_tokenizer *train(const char *const *kv, size_t nkv, nlprnn_error *err) {
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    static const char *const ids[] = {"model-type", "vocab-size", "threads", "hangul-jamo",
                                      "sample-lines", "seed", "pattern", "min-count"};
    static const char *names[] = {"model", "vocab", "threads", "jamo", "sample", "seed", "pattern", "min"};
    CHECK(nlprnn_tokenizer_params_set(o, "vocab-size", "370", err) == 0);
    for (size_t i = 0; i + 1 < nkv; i += 2)
        for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++)
            if (!strcmp(kv[i], names[k]))
                CHECK_MSG(nlprnn_tokenizer_params_set(o, ids[k], kv[i + 1], err) == 0, "%s",
                          err->message);
    nlprnn_tokenizer *tok = NULL;
    int rc = nlprnn_tokenizer_train_texts(o, (const char *const *)texts, NULL, NTEXTS, &tok, err);
    CHECK_MSG(rc == 0, "%s", err->message);
    nlprnn_tokenizer_params_free(o);
    return tok;
}

static void pieces(const nlprnn_tokenizer *tok, const char *text, char *out, size_t cap) {
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    nlprnn_error err;
    out[0] = '\0';
    if (nlprnn_tokenizer_encode(tok, text, strlen(text), enc, &err) == 0) {
        size_t w = 0;
        for (size_t i = 0; i < nlprnn_encoding_size(enc); i++)
            w += (size_t)snprintf(out + w, cap - w, "%s%s", i ? " " : "",
                                  nlprnn_tokenizer_piece(tok, nlprnn_encoding_ids(enc)[i]));
    }
    nlprnn_encoding_free(enc);
}

static int same_bytes(const nlprnn_tokenizer *a, const nlprnn_tokenizer *b) {
    void *x, *y;
    size_t nx, ny;
    if (nlprnn_tokenizer_save_memory(a, &x, &nx, NULL) || nlprnn_tokenizer_save_memory(b, &y, &ny, NULL))
        return 0;
    int same = nx == ny && memcmp(x, y, nx) == 0;
    nlprnn_free(x);
    nlprnn_free(y);
    return same;
}

/* The training parameters by name (nlprnn_tokenizer_params_set/get): every default, every range
 * end accepted and one past it refused with its exact message (the value kept), every value name,
 * and each message of a bad name, value or argument. Pins what the by-name API says, so a change of
 * how it is implemented cannot change it unseen. */
static void test_params_by_name(void) {
    static const struct {
        const char *name, *def;
        long long lo, hi; /* integer range (lo > hi: string-valued) */
    } rows[] = {
        {"model-type", "bpe", 1, 0},
        {"vocab-size", "8000", NLPRNN_NUM_SPECIAL_IDS, 1000000},
        {"min-count", "2", 1, 2147483647},
        {"normalization", "nfkc", 1, 0},
        {"control-chars", "remove", 1, 0},
        {"hangul-jamo", "0", 0, 1},
        {"invalid-utf8", "error", 1, 0},
        {"pattern", "", 1, 0},
        {"seed", "0", 0, 9223372036854775807LL},
        {"threads", "1", 1, 256},
        {"byte-fallback", "1", 0, 1},
        {"char-coverage-ppm", "999500", 1, 1000000},
        {"max-piece-chars", "16", 1, 256},
        {"sample-lines", "0", 0, 9223372036854775807LL},
    };
    nlprnn_error err;
    nlprnn_tokenizer_params *o = NULL;
    CHECK_INT_EQ(nlprnn_tokenizer_params_create(&o, &err), 0);
    char got[64], want[200], v[32];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *n = rows[i].name;
        CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, n, got, sizeof got, &err), 0);
        CHECK_MSG(!strcmp(got, rows[i].def), "%s: default \"%s\", expected \"%s\"", n, got, rows[i].def);
        if (rows[i].lo > rows[i].hi) continue;
        for (int end = 0; end < 2; end++) {
            long long x = end ? rows[i].hi : rows[i].lo;
            snprintf(v, sizeof v, "%lld", x);
            CHECK_MSG(nlprnn_tokenizer_params_set(o, n, v, &err) == 0, "%s = %s: %s", n, v, err.message);
            CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, n, got, sizeof got, &err), 0);
            CHECK_STR_EQ(got, v);
            if (end && x == 9223372036854775807LL) continue; /* no integer past it */
            snprintf(v, sizeof v, "%lld", end ? x + 1 : x - 1);
            CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, n, v, &err), NLPRNN_E_INVALID_ARG);
            snprintf(want, sizeof want, "tokenizer parameter %s: %s is out of range [%lld, %lld]", n, v,
                     rows[i].lo, rows[i].hi);
            CHECK_STR_EQ(err.message, want);
            CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, n, got, sizeof got, &err), 0);
            snprintf(v, sizeof v, "%lld", x);
            CHECK_STR_EQ(got, v); /* a refused value leaves the parameter as it was */
        }
    }
    /* every value name of the string-valued parameters, read back as set */
    const char *named[][2] = {{"model-type", "word"}, {"model-type", "bpe"}, {"normalization", "nfc"},
                              {"normalization", "nfkc_cf"}, {"normalization", "none"},
                              {"normalization", "nfkc"}, {"control-chars", "space"},
                              {"control-chars", "keep"}, {"control-chars", "remove"},
                              {"invalid-utf8", "replace"}, {"invalid-utf8", "error"},
                              {"pattern", "[a-z]+"}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, named[i][0], named[i][1], &err), 0);
        CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, named[i][0], got, sizeof got, &err), 0);
        CHECK_STR_EQ(got, named[i][1]);
    }
    /* the pattern: "" and NULL both give back the default pattern; one that does not compile is
     * NLPRNN_E_REGEX and keeps the one set */
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "pattern", "(unclosed", &err), NLPRNN_E_REGEX);
    CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, "pattern", got, sizeof got, &err), 0);
    CHECK_STR_EQ(got, "[a-z]+");
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "pattern", "", &err), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, "pattern", got, sizeof got, &err), 0);
    CHECK_STR_EQ(got, "");
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "pattern", "\\S+", &err), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "pattern", NULL, &err), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, "pattern", got, sizeof got, &err), 0);
    CHECK_STR_EQ(got, "");

    /* the messages of a bad name, value or argument */
    static const struct {
        const char *name, *value, *message;
    } bad[] = {
        {"model-type", "unigram",
         "tokenizer parameter model-type: unknown value 'unigram' (expected one of: bpe, word)"},
        {"model-type", "1", "tokenizer parameter model-type: unknown value '1' (expected one of: bpe, word)"},
        {"normalization", "NFKC",
         "tokenizer parameter normalization: unknown value 'NFKC' (expected one of: nfkc, nfc, nfkc_cf, none)"},
        {"control-chars", "drop",
         "tokenizer parameter control-chars: unknown value 'drop' (expected one of: remove, space, keep)"},
        {"invalid-utf8", "skip",
         "tokenizer parameter invalid-utf8: unknown value 'skip' (expected one of: error, replace)"},
        {"vocab-size", "12x", "tokenizer parameter vocab-size: '12x' is not an integer"},
        {"threads", "", "tokenizer parameter threads: '' is not an integer"},
        {"seed", "9223372036854775808", "tokenizer parameter seed: '9223372036854775808' is not an integer"},
        {"vocab-size", NULL, "tokenizer option value is NULL"},
        {"model-type", NULL, "tokenizer option value is NULL"},
        {"vocab", "300", "tokenizer parameter 'vocab' does not exist (known: model-type, vocab-size, min-count, "
                         "normalization, control-chars, hangul-jamo, invalid-utf8, pattern, seed, threads, "
                         "byte-fallback, char-coverage-ppm, max-piece-chars, sample-lines)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, bad[i].name, bad[i].value, &err), NLPRNN_E_INVALID_ARG);
        CHECK_STR_EQ(err.message, bad[i].message);
    }
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(NULL, "seed", "1", &err), NLPRNN_E_INVALID_ARG);
    CHECK_STR_EQ(err.message, "options is NULL");
    CHECK_INT_EQ(nlprnn_tokenizer_params_get(NULL, "seed", got, sizeof got, &err), NLPRNN_E_INVALID_ARG);
    CHECK_STR_EQ(err.message, "tokenizer parameters: NULL argument");
    CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, "sed", got, sizeof got, &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "tokenizer parameter 'sed' does not exist (known: model-type, ") == err.message);
    CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, "normalization", got, 4, &err), NLPRNN_E_LIMIT);
    CHECK_STR_EQ(err.message, "tokenizer parameter normalization: the value needs 5 bytes");
    CHECK_INT_EQ(nlprnn_tokenizer_params_get(o, "normalization", got, 5, &err), 0);
    CHECK_STR_EQ(got, "nfkc");
    nlprnn_tokenizer_params_free(o);
}

int main(void) {
    make_corpus();
    nlprnn_error err;
    char got[1024];

    nlprnn_tokenizer *bpe = train(NULL, 0, &err);
    CHECK_INT_EQ(nlprnn_tokenizer_vocab_size(bpe), 370);
    pieces(bpe, "극장에 갔다", got, sizeof got);
    CHECK_STR_EQ(got, "▁극장 에 ▁갔다");
    pieces(bpe, "주인공이 배우를 봤다", got, sizeof got);
    CHECK_STR_EQ(got, "▁주인공 이 ▁배우 를 ▁봤다");
    pieces(bpe, "영화에서 음악과", got, sizeof got);
    CHECK_STR_EQ(got, "▁영화 에서 ▁음악 과");

    /* deterministic: again, and with 3 threads */
    const char *t3[] = {"threads", "3"};
    nlprnn_tokenizer *again = train(NULL, 0, &err), *threaded = train(t3, 2, &err);
    CHECK(same_bytes(bpe, again));
    CHECK(same_bytes(bpe, threaded));
    nlprnn_tokenizer_free(again);
    nlprnn_tokenizer_free(threaded);

    /* sampling: same seed -> same tokenizer */
    const char *s1[] = {"sample", "300", "seed", "7"}, *s2[] = {"sample", "300", "seed", "8"};
    nlprnn_tokenizer *a = train(s1, 4, &err), *b = train(s1, 4, &err), *c = train(s2, 4, &err);
    CHECK(same_bytes(a, b));
    CHECK(a && c && !same_bytes(a, c));
    nlprnn_tokenizer_free(a);
    nlprnn_tokenizer_free(b);
    nlprnn_tokenizer_free(c);

    /* min_count larger than every pair count: no merges at all, only characters */
    const char *mc[] = {"min", "1000000"};
    nlprnn_tokenizer *nomerge = train(mc, 2, &err);
    pieces(nomerge, "극장에", got, sizeof got);
    CHECK_STR_EQ(got, "▁ 극 장 에");

    /* word model: whole frequent words, characters otherwise */
    const char *wm[] = {"model", "word", "vocab", "500"};
    nlprnn_tokenizer *word = train(wm, 4, &err);
    CHECK_STR_EQ(nlprnn_tokenizer_model_name(word), "word");
    pieces(word, "극장에 갔다 낯선말", got, sizeof got);
    CHECK_STR_EQ(got, "▁극장에 ▁갔다 ▁ <0xEB> <0x82> <0xAF> <0xEC> <0x84> <0xA0> <0xEB> <0xA7> <0x90>");
    /* word files load back and encode alike */
    void *buf;
    size_t n;
    nlprnn_tokenizer *wl = NULL;
    CHECK(nlprnn_tokenizer_save_memory(word, &buf, &n, &err) == 0);
    CHECK(nlprnn_tokenizer_load_memory(buf, n, &wl, &err) == 0);
    CHECK(same_bytes(word, wl));
    nlprnn_free(buf);
    nlprnn_tokenizer_free(wl);

    /* jamo: pieces are jamo, decode recomposes syllables */
    const char *jm[] = {"jamo", "1", "vocab", "420"};
    nlprnn_tokenizer *jamo = train(jm, 4, &err);
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    CHECK(nlprnn_tokenizer_encode(jamo, "극장에 갔다", strlen("극장에 갔다"), enc, &err) == 0);
    CHECK(nlprnn_encoding_size(enc) >= 2);
    CHECK_STR_EQ(nlprnn_tokenizer_piece(jamo, nlprnn_encoding_ids(enc)[0]),
                 "▁\xe1\x84\x80\xe1\x85\xb3\xe1\x86\xa8\xe1\x84\x8c\xe1\x85\xa1\xe1\x86\xbc"); /* ▁극장 in jamo */
    char *dec = NULL;
    CHECK(nlprnn_tokenizer_decode_alloc(jamo, nlprnn_encoding_ids(enc), nlprnn_encoding_size(enc),
                                        &dec, NULL, &err) == 0);
    CHECK_STR_EQ(dec, "극장에 갔다");
    nlprnn_free(dec);
    nlprnn_encoding_free(enc);

    /* a custom pattern: one Hangul syllable per segment, so no piece spans two syllables */
    const char *pt[] = {"pattern", "\\p{Hangul}"};
    nlprnn_tokenizer *chunky = train(pt, 2, &err);
    pieces(chunky, "극장에 good", got, sizeof got);
    CHECK_STR_EQ(got, "▁극 장 에 ▁good");
    CHECK(strstr(nlprnn_tokenizer_describe(chunky), "pattern=custom") != NULL);

    /* option errors */
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    CHECK(nlprnn_tokenizer_params_set(o, "model-type", "unigram?", &err) == NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "bpe, word") != NULL);
    CHECK(nlprnn_tokenizer_params_set(o, "vocab-size", "3", &err) == NLPRNN_E_INVALID_ARG);
    CHECK(nlprnn_tokenizer_params_set(o, "vocab-size", "12x", &err) == NLPRNN_E_INVALID_ARG);
    CHECK(nlprnn_tokenizer_params_set(o, "pattern", "(unclosed", &err) == NLPRNN_E_REGEX);
    CHECK(strstr(err.message, "pattern") != NULL);
    CHECK(nlprnn_tokenizer_params_set(o, "vocab", "300", &err) == NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "'vocab' does not exist") && strstr(err.message, "vocab-size"));
    char got8[16];
    CHECK(nlprnn_tokenizer_params_get(o, "vocab-size", got8, sizeof got8, &err) == 0 && !strcmp(got8, "8000"));
    CHECK(nlprnn_tokenizer_params_get(o, "model-type", got8, sizeof got8, &err) == 0 && !strcmp(got8, "bpe"));
    CHECK(nlprnn_tokenizer_params_get(o, "vocab-size", got8, 4, &err) == NLPRNN_E_LIMIT);
    CHECK(nlprnn_tokenizer_params_set(o, "normalization", "nfkc_cf", &err) == 0);
    nlprnn_tokenizer *none = NULL;
    CHECK(nlprnn_tokenizer_train_texts(o, NULL, NULL, 0, &none, &err) == NLPRNN_E_EMPTY);
    CHECK(nlprnn_tokenizer_params_set(o, "vocab-size", "261", &err) == 0);
    CHECK(nlprnn_tokenizer_train_texts(o, (const char *const *)texts, NULL, 10, &none, &err) ==
          NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "at least 262") != NULL);
    CHECK(nlprnn_tokenizer_params_set(o, "byte-fallback", "0", &err) == 0);
    CHECK(nlprnn_tokenizer_train_texts(o, (const char *const *)texts, NULL, 10, &none, &err) == 0);
    CHECK(none && nlprnn_tokenizer_vocab_size(none) > 6 && nlprnn_tokenizer_vocab_size(none) <= 261);
    CHECK(nlprnn_tokenizer_piece_is_byte(none, 5) == 0);
    nlprnn_tokenizer_free(none);
    none = NULL;
    CHECK(nlprnn_tokenizer_params_set(o, "normalization", "none", &err) == 0);
    CHECK(nlprnn_tokenizer_params_set(o, "hangul-jamo", "1", &err) == 0);
    CHECK(nlprnn_tokenizer_train_texts(o, (const char *const *)texts, NULL, 10, &none, &err) ==
          NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "hangul-jamo") != NULL);
    nlprnn_tokenizer_params_free(o);

    nlprnn_tokenizer_free(bpe);
    nlprnn_tokenizer_free(nomerge);
    nlprnn_tokenizer_free(word);
    nlprnn_tokenizer_free(jamo);
    nlprnn_tokenizer_free(chunky);
    for (int i = 0; i < NTEXTS; i++) free(texts[i]);
    test_params_by_name();
    return nr_test_done("test_tokenizer_train");
}
