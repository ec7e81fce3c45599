/* tokenizer/pretokenize.c: stage 3, cut a whitespace-free chunk of normalized text into
 * segments: blank markers first ("[MASK]", runs of two or more '_'), then the PCRE2 pattern on
 * the text between them. Text the pattern does not match still becomes segments, so nothing is
 * ever dropped. Patterns run with PCRE2_UTF | PCRE2_UCP and are JIT-compiled when possible.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

/* The default pattern, alternatives tried in order at each position:
 *   Hangul runs (syllables, jamo, compatibility jamo)   극장에, ㅋㅋㅋ
 *   runs of other letters and marks                      iPhone, 漢字, é
 *   single digits                                        2 0 2 4
 *   one emoji with modifiers, variation selectors and ZWJ joins   👍🏽 👨‍👩‍👧
 *   one or two regional indicators (a flag)              🇰🇷
 *   runs of other symbols and punctuation                !!  ^^;;  ...
 */
const char nr_default_pattern[] =
    "\\p{Hangul}+"
    "|(?:(?!\\p{Hangul})[\\p{L}\\p{M}])+"
    "|\\p{N}"
    "|\\p{Extended_Pictographic}[\\x{1F3FB}-\\x{1F3FF}\\x{FE0F}]*"
    "(?:\\x{200D}\\p{Extended_Pictographic}[\\x{1F3FB}-\\x{1F3FF}\\x{FE0F}]*)*"
    "|[\\x{1F1E6}-\\x{1F1FF}]{1,2}"
    "|(?:(?!\\p{Extended_Pictographic}|[\\x{1F1E6}-\\x{1F1FF}])[^\\s\\p{L}\\p{N}\\p{M}])+";

int nr_pretok_init(nr_pretok *pt, const char *pattern, nlprnn_error *err) {
    memset(pt, 0, sizeof *pt);
    const char *src = pattern && *pattern ? pattern : nr_default_pattern;
    int code;
    PCRE2_SIZE eoff;
    pt->code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &code,
                             &eoff, NULL);
    if (!pt->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return nr_fail(err, NLPRNN_E_REGEX, -1, (long long)eoff,
                       "pre-tokenization pattern: %s at pattern offset %zu", (const char *)msg,
                       (size_t)eoff);
    }
    (void)pcre2_jit_compile(pt->code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    pt->pattern = nr_strdup(pattern && *pattern ? pattern : "");
    if (!pt->pattern) {
        pcre2_code_free(pt->code);
        pt->code = NULL;
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    return NLPRNN_OK;
}

void nr_pretok_free(nr_pretok *pt) {
    if (!pt) return;
    pcre2_code_free(pt->code);
    free(pt->pattern);
    memset(pt, 0, sizeof *pt);
}

static int push(nr_segvec *out, size_t b, size_t e, int ws, int mask) {
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        nr_segment *v = nr_realloc_array(out->v, cap, sizeof *v);
        if (!v) return -1;
        out->v = v;
        out->cap = cap;
    }
    nr_segment *g = &out->v[out->n++];
    g->begin = (uint32_t)b;
    g->end = (uint32_t)e;
    g->word_start = (uint8_t)ws;
    g->is_mask = (uint8_t)mask;
    return 0;
}

/* Append [b,e) as one or more segments of at most NR_MAX_SEGMENT_BYTES (cut before a UTF-8
 * lead byte). Only the first part keeps the word-start flag. */
static int push_text(nr_segvec *out, const char *s, size_t b, size_t e, int *ws) {
    while (b < e) {
        size_t end = e;
        if (end - b > NR_MAX_SEGMENT_BYTES) {
            end = b + NR_MAX_SEGMENT_BYTES;
            while (end > b + 1 && ((unsigned char)s[end] & 0xC0) == 0x80) end--;
        }
        if (push(out, b, end, *ws, 0)) return -1;
        *ws = 0;
        b = end;
    }
    return 0;
}

static size_t utf8_len_at(const char *s, size_t i) {
    unsigned char c = (unsigned char)s[i];
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static int run_pattern(const nr_pretok *pt, pcre2_match_data *md, const char *s, size_t b,
                       size_t e, int *ws, nr_segvec *out) {
    size_t pos = b;
    while (pos < e) {
        int rc = pcre2_match(pt->code, (PCRE2_SPTR)s, e, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc < 0) break; /* no further match (or a matching limit): the rest is one segment */
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t mb = ov[0], me = ov[1];
        if (mb > pos && push_text(out, s, pos, mb, ws)) return -1;
        if (me == mb) { /* empty match: take one character as its own segment */
            me = mb + utf8_len_at(s, mb);
            if (me > e) me = e;
        }
        if (push_text(out, s, mb, me, ws)) return -1;
        pos = me;
    }
    if (pos < e && push_text(out, s, pos, e, ws)) return -1;
    return 0;
}

/* Length of a blank marker starting at s[i], or 0. */
static size_t mask_at(const char *s, size_t n, size_t i) {
    if (s[i] == '_') {
        size_t j = i;
        while (j < n && s[j] == '_') j++;
        return j - i >= 2 ? j - i : 0;
    }
    if (s[i] == '[' && n - i >= 6 && memcmp(s + i, "[MASK]", 6) == 0) return 6;
    return 0;
}

int nr_pretokenize_chunk(const nr_pretok *pt, pcre2_match_data *md, const char *s, size_t n,
                         int word_start, nr_segvec *out) {
    int ws = word_start;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '_' && s[i] != '[') continue;
        size_t m = mask_at(s, n, i);
        if (!m) continue;
        if (i > start && run_pattern(pt, md, s, start, i, &ws, out)) return -1;
        if (push(out, i, i + m, ws, 1)) return -1;
        ws = 0;
        start = i + m;
        i = start - 1;
    }
    if (start < n && run_pattern(pt, md, s, start, n, &ws, out)) return -1;
    return 0;
}
