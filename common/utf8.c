/* common/utf8.c: UTF-8 validation shared by the readers (corpora/) and the model-file container
 * (format/). The tokenizer decodes code points itself (tokenizer/utf8.c). */
#include <stdio.h>
#include <string.h>

#include "common/common.h"

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when s[0] starts an invalid one.
 * When 0, *bad receives the length of the maximal invalid subsequence (>= 1), as defined by
 * Unicode 15, 3.9 "U+FFFD Substitution of Maximal Subparts". */
size_t nr_utf8_seq(const unsigned char *s, size_t n, size_t *bad) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) need = 2, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) need = 2;
    else if (c == 0xED) need = 2, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) need = 2;
    else if (c == 0xF0) need = 3, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) need = 3, hi = 0x8F;
    else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i <= need; i++) {
        if (i >= n) break;
        unsigned b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    }
    if (i == need + 1) return need + 1;
    *bad = i;
    return 0;
}

size_t nr_utf8_check(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* fast path for ASCII runs */
        while (i < n && s[i] < 0x80) i++;
        if (i >= n) break;
        size_t bad = 0, k = nr_utf8_seq(s + i, n - i, &bad);
        if (!k) return i;
        i += k;
    }
    return n;
}

size_t nr_utf8_escape(const char *s, char *out, size_t cap) {
    size_t n = strlen(s), i = 0, o = 0;
    if (cap == 0) return 0;
    while (i < n) {
        size_t k = nr_utf8_check(s + i, n - i); /* a valid run, then (if k < n - i) a bad byte */
        if (o + k >= cap) { /* cut the run at a character boundary */
            size_t take = cap - 1 - o;
            while (take > 0 && ((unsigned char)s[i + take] & 0xC0) == 0x80) take--;
            memcpy(out + o, s + i, take);
            o += take;
            break;
        }
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
        if (i == n || o + 4 >= cap) break;
        snprintf(out + o, 5, "\\x%02X", (unsigned)(unsigned char)s[i]);
        o += 4;
        i++;
    }
    out[o] = '\0';
    return o;
}
