/* tokenizer/utf8.c: stage 1, strict UTF-8 decoding.
 *
 * Well-formed sequences are exactly those of Unicode Table 3-7: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF. On an ill-formed sequence the decoder
 * reports the length of its "maximal subpart" (Unicode 3.9, U+FFFD substitution of maximal
 * subparts), so the replace policy emits one U+FFFD per maximal subpart, like ICU and Python.
 */
#include "tokenizer/internal.h"

int nr_utf8_decode(const unsigned char *s, size_t n, int32_t *cp) {
    unsigned b0 = s[0];
    if (b0 < 0x80) {
        *cp = (int32_t)b0;
        return 1;
    }
    int need;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    int32_t c;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        c = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        c = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;      /* overlong */
        else if (b0 == 0xED) hi = 0x9F; /* surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        c = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;      /* overlong */
        else if (b0 == 0xF4) hi = 0x8F; /* above U+10FFFF */
    } else {
        return -1; /* stray continuation byte, C0, C1, F5..FF */
    }
    for (int k = 1; k <= need; k++) {
        if ((size_t)k >= n) return -k; /* truncated */
        unsigned b = s[k];
        unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) return -k;
        c = (c << 6) | (int32_t)(b & 0x3F);
    }
    *cp = c;
    return need + 1;
}

int nr_utf8_encode(int32_t cp, char *out) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

long long nr_line_of(const char *s, size_t off) {
    long long line = 1;
    for (size_t i = 0; i < off; i++) line += s[i] == '\n';
    return line;
}

size_t nr_utf8_first_invalid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        int k = nr_utf8_decode(u + i, n - i, &cp);
        if (k < 0) return i;
        i += (size_t)k;
    }
    return (size_t)-1;
}
