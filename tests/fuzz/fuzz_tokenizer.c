/* tests/fuzz/fuzz_tokenizer.c: libFuzzer target for the whole encode path (UTF-8 check,
 * normalization with offsets, pre-tokenization, BPE/word model, chunk cache) and decode.
 * Byte 0 picks the settings: bits 0-1 normalization (nfkc, nfc, nfkc_cf, none), bit 2 the
 * invalid-UTF-8 policy (error, replace), bit 3 Hangul jamo (not with none), bit 4 the model (bpe, word),
 * bits 5-6 control characters (remove, space, keep). The rest is the text.
 * Invariants (a violation aborts): encode fails only with NLPRNN_E_UTF8 (and only under the
 * error policy); offsets lie inside the text with non-decreasing begins; every id is in range;
 * decode succeeds; without blank markers decode(encode(x)) == normalize(x); encoding twice
 * (the second time from the cache) gives the same ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlprnn.h"

static nlprnn_tokenizer *toks[128];
static nlprnn_encoding *enc;

static const char *train_text[] = {
    "극장에 갔다 영화가 정말 재밌었다 ㅋㅋㅋ", "배우들 연기가 최고다!! 강추합니다",
    "This movie was great, I loved it.", "2024년 12월 25일 3,000원 😀👍🏽",
    "Ｆｕｌｌｗｉｄｔｈ ｶﾀｶﾅ ① ﬁ café naïve", "주인공이 극장에서 친구를 만났다...",
};

static nlprnn_tokenizer *get(unsigned sel) {
    sel &= 127;
    if (toks[sel]) return toks[sel];
    static const char *norms[] = {"nfkc", "nfc", "nfkc_cf", "none"};
    static const char *ctrl[] = {"remove", "space", "keep", "remove"};
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    if (!o) abort();
    int rc = 0;
    rc |= nlprnn_tokenizer_params_set(o, "normalization", norms[sel & 3], NULL);
    rc |= nlprnn_tokenizer_params_set(o, "invalid-utf8", (sel >> 2) & 1 ? "replace" : "error", NULL);
    /* jamo needs a composing normalization: with "none" it is left off */
    rc |= nlprnn_tokenizer_params_set(o, "hangul-jamo", (sel & 3) != 3 && ((sel >> 3) & 1) ? "1" : "0", NULL);
    rc |= nlprnn_tokenizer_params_set(o, "model-type", (sel >> 4) & 1 ? "word" : "bpe", NULL);
    rc |= nlprnn_tokenizer_params_set(o, "control-chars", ctrl[(sel >> 5) & 3], NULL);
    rc |= nlprnn_tokenizer_params_set(o, "vocab-size", "400", NULL);
    rc |= nlprnn_tokenizer_params_set(o, "min-count", "1", NULL);
    if (rc) abort();
    nlprnn_error err;
    if (nlprnn_tokenizer_train_texts(o, train_text, NULL, sizeof train_text / sizeof *train_text,
                                     &toks[sel], &err)) {
        fprintf(stderr, "training failed: %s\n", err.message);
        abort();
    }
    nlprnn_tokenizer_params_free(o);
    return toks[sel];
}

static int has_marker(const char *s, size_t n) {
    for (size_t i = 0; i + 1 < n; i++)
        if ((s[i] == '_' && s[i + 1] == '_') || (s[i] == '[' && n - i >= 6 && !memcmp(s + i, "[MASK]", 6)))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned sel = data[0];
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    nlprnn_tokenizer *tok = get(sel);
    if (!enc) nlprnn_encoding_create(&enc, NULL);
    nlprnn_error err;
    int rc = nlprnn_tokenizer_encode(tok, text, n, enc, &err);
    if (rc) {
        if (rc != NLPRNN_E_UTF8 || ((sel >> 2) & 1)) abort();
        if (err.offset < 0 || (size_t)err.offset >= n) abort();
        return 0;
    }
    size_t m = nlprnn_encoding_size(enc);
    int32_t *ids = malloc((m + 1) * sizeof *ids);
    if (!ids) abort();
    if (m) /* an empty encoding may have no ids array yet (NULL): memcpy wants a pointer */
        memcpy(ids, nlprnn_encoding_ids(enc), m * sizeof *ids);
    const size_t *off = nlprnn_encoding_offsets(enc);
    size_t prev = 0;
    for (size_t i = 0; i < m; i++) {
        if (ids[i] < 0 || ids[i] >= nlprnn_tokenizer_vocab_size(tok)) abort();
        if (off[2 * i] > off[2 * i + 1] || off[2 * i + 1] > n || off[2 * i] < prev) abort();
        prev = off[2 * i];
    }
    char *dec = NULL, *norm = NULL;
    if (nlprnn_tokenizer_decode_alloc(tok, ids, m, &dec, NULL, &err)) abort();
    if (nlprnn_tokenizer_normalize(tok, text, n, &norm, NULL, &err)) abort();
    if (!has_marker(norm, strlen(norm)) && strcmp(dec, norm) != 0) {
        fprintf(stderr, "round trip mismatch:\n  norm: %s\n  dec:  %s\n", norm, dec);
        abort();
    }
    /* again: served from the chunk cache, must be identical */
    if (nlprnn_tokenizer_encode(tok, text, n, enc, &err) || nlprnn_encoding_size(enc) != m ||
        (m && memcmp(nlprnn_encoding_ids(enc), ids, m * sizeof *ids)))
        abort();
    nlprnn_free(dec);
    nlprnn_free(norm);
    free(ids);
    return 0;
}
