/* tests/test_robust_encode.c: encoding very long texts (issue 8, resource limits).
 *
 * Encode works window by window (1 MiB of original text, cut at ASCII whitespace; inside a
 * longer whitespace-free run at a character that no normalization joins), so its scratch
 * memory is bounded whatever the length and only the result grows (4 + 16 bytes an id).
 * Checked here:
 *   - an 8 MiB single line (3 MiB under the sanitizers) encodes exactly like its whitespace-separated parts, offsets included;
 *   - the peak memory of that encode stays a small multiple of the text (Release builds: the
 *     old whole-text encode needed 17 bytes of scratch per byte, ~28x the input in the CLI);
 *   - a 6 MiB whitespace-free run (3 MiB) still round-trips (decode == normalize) with offsets that
 *     increase and stay inside the text;
 *   - nlprnn_tokenizer_encode_part, called to the end, gives exactly the whole encoding with
 *     one window's ids at a time (both texts);
 *   - an invalid byte far into a long text is reported at its true offset and line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "nlprnn.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif
/* Sizes: several 1 MiB windows either way; smaller under the sanitizers, which cannot measure
 * memory anyway and run the encoder ~15x slower. */
#define LONG_TEXT_MIB (UNDER_SANITIZER ? 3 : 8)
#define RUN_MIB (UNDER_SANITIZER ? 3 : 6)

static long peak_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Allowed rise of the peak for encoding n bytes into m ids: the result (20 bytes an id, its
 * arrays grown by doubling), one text size and 48 MB for the window scratch and the chunk cache.
 * The old whole-text encode needed 17 bytes of scratch per byte of text on top of the result. */
static long scratch_limit_kb(size_t m, size_t n) {
    return (long)((2 * m * 20 + n) / 1024) + 48 * 1024;
}

/* words repeated to n bytes (ending with a space) */
static char *make_text(const char *const *words, int nw, size_t n, size_t *len) {
    char *s = malloc(n + 64);
    size_t k = 0;
    for (int i = 0; k < n; i = (i + 7) % nw) {
        size_t l = strlen(words[i]);
        memcpy(s + k, words[i], l);
        k += l;
        s[k++] = ' ';
    }
    *len = k;
    return s;
}

static void check_split_equal(const nlprnn_tokenizer *tok, const char *s, size_t n) {
    nlprnn_encoding *whole = NULL, *part = NULL;
    nlprnn_encoding_create(&whole, NULL);
    nlprnn_encoding_create(&part, NULL);
    nlprnn_error err;
    long before = peak_kb();
    CHECK_INT_EQ(nlprnn_tokenizer_encode(tok, s, n, whole, &err), 0);
    long grew_kb = peak_kb() - before;
    size_t m = nlprnn_encoding_size(whole);
    const int32_t *ids = nlprnn_encoding_ids(whole);
    const size_t *off = nlprnn_encoding_offsets(whole);
    CHECK(m > n / 20);
    /* the result is 20 bytes an id; the scratch must not add more than a few times the text */
    long limit_kb = scratch_limit_kb(m, n);
    if (!UNDER_SANITIZER)
        CHECK_MSG(grew_kb < limit_kb, "encoding %zu bytes (%zu ids) raised the peak by %ld KB (limit %ld KB)",
                  n, m, grew_kb, limit_kb);
    /* the same text cut at spaces into parts of ~100 KB, encoded one by one */
    size_t at = 0, k = 0;
    int same = 1;
    while (at < n && same) {
        size_t e = at + 100000 < n ? at + 100000 : n;
        while (e < n && s[e - 1] != ' ') e++;
        CHECK_INT_EQ(nlprnn_tokenizer_encode(tok, s + at, e - at, part, &err), 0);
        size_t pm = nlprnn_encoding_size(part);
        const int32_t *pid = nlprnn_encoding_ids(part);
        const size_t *po = nlprnn_encoding_offsets(part);
        for (size_t i = 0; i < pm && same; i++, k++)
            same = k < m && pid[i] == ids[k] && po[2 * i] + at == off[2 * k] &&
                   po[2 * i + 1] + at == off[2 * k + 1];
        CHECK_MSG(same, "id %zu differs from the part-wise encoding", k - 1);
        at = e;
    }
    CHECK_INT_EQ(k, m);
    nlprnn_encoding_free(whole);
    nlprnn_encoding_free(part);
}

/* nlprnn_tokenizer_encode_part, called until the end, gives exactly the whole encoding (ids,
 * offsets, <bos>/<eos>), one window's ids at a time. */
static void check_parts_equal(const nlprnn_tokenizer *tok, const char *s, size_t n) {
    nlprnn_encoding *whole = NULL, *part = NULL;
    nlprnn_encoding_create(&whole, NULL);
    nlprnn_encoding_create(&part, NULL);
    nlprnn_error err;
    unsigned fl = NLPRNN_ENCODE_BOS | NLPRNN_ENCODE_EOS;
    CHECK_INT_EQ(nlprnn_tokenizer_encode_flags(tok, s, n, fl, whole, &err), 0);
    size_t m = nlprnn_encoding_size(whole), k = 0, pos = 0, parts = 0, most = 0;
    const int32_t *ids = nlprnn_encoding_ids(whole);
    const size_t *off = nlprnn_encoding_offsets(whole);
    int same = 1;
    while (pos < n && same) {
        size_t before = pos;
        CHECK_INT_EQ(nlprnn_tokenizer_encode_part(tok, s, n, &pos, fl, part, &err), 0);
        CHECK_MSG(pos > before && pos <= n, "encode_part did not advance: %zu -> %zu", before, pos);
        if (pos <= before) break;
        size_t pm = nlprnn_encoding_size(part);
        const int32_t *pid = nlprnn_encoding_ids(part);
        const size_t *po = nlprnn_encoding_offsets(part);
        for (size_t i = 0; i < pm && same; i++, k++)
            same = k < m && pid[i] == ids[k] && po[2 * i] == off[2 * k] &&
                   po[2 * i + 1] == off[2 * k + 1];
        parts++;
        if (pm > most) most = pm;
    }
    CHECK_MSG(same && k == m, "the parts differ from the whole encoding at id %zu of %zu", k, m);
    CHECK_MSG(parts >= n >> 20, "%zu parts for %zu bytes", parts, n);
    CHECK_MSG(most < m / 2, "one part held %zu of %zu ids", most, m);
    pos = n + 1;
    CHECK_INT_EQ(nlprnn_tokenizer_encode_part(tok, s, n, &pos, 0, part, &err), NLPRNN_E_INVALID_ARG);
    nlprnn_encoding_free(whole);
    nlprnn_encoding_free(part);
}

static void check_no_space_run(const nlprnn_tokenizer *tok) {
    /* RUN_MIB without whitespace: Hangul, Latin letters, digits and punctuation mixed */
    const char *unit = "극장에서봤어요Movie2024!!정말재미있었다";
    size_t ul = strlen(unit), n = 0, cap = ((size_t)RUN_MIB << 20) + ul;
    char *s = malloc(cap);
    while (n + ul <= cap) {
        memcpy(s + n, unit, ul);
        n += ul;
    }
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    nlprnn_error err;
    long before = peak_kb();
    CHECK_INT_EQ(nlprnn_tokenizer_encode(tok, s, n, enc, &err), 0);
    long grew_kb = peak_kb() - before;
    size_t m = nlprnn_encoding_size(enc);
    if (!UNDER_SANITIZER)
        CHECK_MSG(grew_kb < scratch_limit_kb(m, n),
                  "a %zu-byte run without whitespace raised the peak by %ld KB", n, grew_kb);
    const size_t *off = nlprnn_encoding_offsets(enc);
    int mono = 1;
    for (size_t i = 0; i < m && mono; i++)
        mono = off[2 * i] <= off[2 * i + 1] && off[2 * i + 1] <= n &&
               (i == 0 || off[2 * i] >= off[2 * i - 2]);
    CHECK_MSG(mono, "offsets of the long run are not increasing or leave the text");
    /* exactly one word-start piece: the cuts continue the word */
    int starts = 0;
    for (size_t i = 0; i < m; i++)
        starts += nlprnn_tokenizer_piece_is_word_start(tok, nlprnn_encoding_ids(enc)[i]);
    CHECK_INT_EQ(starts, 1);
    char *dec = NULL, *norm = NULL;
    size_t dl = 0, nl = 0;
    CHECK_INT_EQ(nlprnn_tokenizer_decode_alloc(tok, nlprnn_encoding_ids(enc), m, &dec, &dl, &err), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_normalize(tok, s, n, &norm, &nl, &err), 0);
    CHECK_MSG(dec && norm && dl == nl && memcmp(dec, norm, nl) == 0,
              "decode(encode(run)) differs from normalize(run) (%zu vs %zu bytes)", dl, nl);
    check_parts_equal(tok, s, n);
    nlprnn_free(dec);
    nlprnn_free(norm);
    nlprnn_encoding_free(enc);
    free(s);
}

static void check_late_error(const nlprnn_tokenizer *tok) {
    /* 3 MiB of lines, an invalid byte on line 40001 */
    size_t cap = (size_t)3 << 20, n = 0;
    char *s = malloc(cap + 64);
    long line = 1;
    while (n < cap) {
        memcpy(s + n, "영화 좋아요 12\n", strlen("영화 좋아요 12\n"));
        n += strlen("영화 좋아요 12\n");
        line++;
        if (line == 40001) break;
    }
    size_t bad = n + 3;
    memcpy(s + n, "abc\xC3(def", 8);
    n += 8;
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    nlprnn_error err;
    CHECK_INT_EQ(nlprnn_tokenizer_encode(tok, s, n, enc, &err), NLPRNN_E_UTF8);
    CHECK_INT_EQ(err.offset, (long long)bad);
    CHECK_INT_EQ(err.line, 40001);
    CHECK_INT_EQ(nlprnn_encoding_size(enc), 0);
    nlprnn_encoding_free(enc);
    free(s);
}

int main(void) {
    nlprnn_tokenizer *tok = NULL;
    nlprnn_error err;
    int rc = nlprnn_tokenizer_load(nr_test_data_path("tokenizer/nsmc8k.tok"), &tok, &err);
    CHECK_MSG(rc == 0, "load: %s", err.message);
    if (rc) return nr_test_done("test_robust_encode");
    const char *words[] = {"이", "영화", "정말", "재미있어요", "최고의", "작품입니다", "ok!",
                           "2024년", "배우들", "연기가", "👍", "Good", "…", "ㅋㅋㅋ"};
    size_t n;
    check_no_space_run(tok); /* first: the peak it measures is not hidden by a bigger one */
    char *text = make_text(words, (int)(sizeof words / sizeof words[0]), (size_t)LONG_TEXT_MIB << 20, &n);
    check_split_equal(tok, text, n);
    check_parts_equal(tok, text, n);
    free(text);
    check_late_error(tok);
    nlprnn_tokenizer_free(tok);
    return nr_test_done("test_robust_encode");
}
