/* tokenizer/normalize.c: stage 2, normalization with an alignment back to the original bytes.
 *
 * The text is cut into normalization chunks: a chunk starts at a code point whose (full)
 * decomposition begins with a starter (canonical combining class 0) that can never compose
 * with what precedes it (not the second half of a primary composite, not a Hangul V or T
 * jamo). No normalization form moves characters across such a boundary, so each chunk is
 * normalized on its own (decompose -> canonical reordering -> compose, utf8proc), and every
 * byte it produces is mapped to the chunk's original byte range. Chunks of one code point
 * without a decomposition (ASCII, precomposed Hangul, most CJK) take a fast path.
 *
 * Whitespace (ASCII whitespace, NEL, Zs/Zl/Zp, U+2581 "▁" (the word-start marker, as in
 * SentencePiece), and anything normalization turns into a space)
 * collapses to one U+0020 between non-space characters; leading and trailing whitespace
 * vanish. The space takes the original range of the first whitespace character of its run.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer/internal.h"

#define HANGUL_SBASE 0xAC00
#define HANGUL_LBASE 0x1100
#define HANGUL_VBASE 0x1161
#define HANGUL_TBASE 0x11A7
#define HANGUL_LCOUNT 19
#define HANGUL_VCOUNT 21
#define HANGUL_TCOUNT 28
#define HANGUL_NCOUNT (HANGUL_VCOUNT * HANGUL_TCOUNT)
#define HANGUL_SCOUNT (HANGUL_LCOUNT * HANGUL_NCOUNT)

void nr_normbuf_free(nr_normbuf *nb) {
    if (!nb) return;
    free(nb->text);
    free(nb->obeg);
    free(nb->oend);
    free(nb->chunk);
    memset(nb, 0, sizeof *nb);
}

static int is_space_cp(int32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 ||
           c == 0x2581; /* the word-start marker itself: in the text it can only mean a space */
}

static int is_control_cp(int32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

/* Can a chunk start at a code point whose decomposition begins with c? */
static int starts_chunk(int32_t c) {
    if (c < 0x300) return 1;
    if (c >= 0x1161 && c <= 0x1175) return 0; /* Hangul V jamo: composes with L */
    if (c >= 0x11A8 && c <= 0x11C2) return 0; /* Hangul T jamo: composes with LV */
    const utf8proc_property_t *p = utf8proc_get_property(c);
    if (p->combining_class) return 0;
    if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000) return 0; /* second of a pair */
    return 1;
}

typedef struct normstate {
    nr_normbuf *nb;
    int track, jamo, pending, ok;
    size_t pbeg, pend;     /* original range of the pending space */
    size_t clen;           /* code points in the current chunk */
    size_t cbeg, cend;     /* original range of the current chunk */
} normstate;

static int grow_out(normstate *st, size_t extra) {
    nr_normbuf *nb = st->nb;
    if (nb->len + extra <= nb->cap && (!st->track || nb->len + extra <= nb->ocap)) return 0;
    size_t cap = nb->cap ? nb->cap : 256;
    while (cap < nb->len + extra) cap *= 2;
    if (cap > nb->cap) {
        char *t = realloc(nb->text, cap);
        if (!t) return -1;
        nb->text = t;
        nb->cap = cap;
    }
    if (st->track && nb->ocap < nb->cap) {
        size_t *b = nr_realloc_array(nb->obeg, nb->cap, sizeof *b);
        if (!b) return -1;
        nb->obeg = b;
        size_t *e = nr_realloc_array(nb->oend, nb->cap, sizeof *e);
        if (!e) return -1;
        nb->oend = e;
        nb->ocap = nb->cap;
    }
    return 0;
}

static void put(normstate *st, const char *b, int k, size_t ob, size_t oe) {
    nr_normbuf *nb = st->nb;
    if (grow_out(st, (size_t)k + 1)) {
        st->ok = 0;
        return;
    }
    for (int i = 0; i < k; i++) {
        nb->text[nb->len] = b[i];
        if (st->track) {
            nb->obeg[nb->len] = ob;
            nb->oend[nb->len] = oe;
        }
        nb->len++;
    }
}

static void emit(normstate *st, int32_t cp, size_t ob, size_t oe) {
    if (is_space_cp(cp)) {
        if (!st->pending) {
            st->pending = 1;
            st->pbeg = ob;
            st->pend = oe;
        }
        return;
    }
    if (st->pending) {
        if (st->nb->len) put(st, " ", 1, st->pbeg, st->pend);
        st->pending = 0;
    }
    char u[4];
    if (st->jamo && cp >= HANGUL_SBASE && cp < HANGUL_SBASE + HANGUL_SCOUNT) {
        int32_t s = cp - HANGUL_SBASE;
        int32_t l = HANGUL_LBASE + s / HANGUL_NCOUNT;
        int32_t v = HANGUL_VBASE + (s % HANGUL_NCOUNT) / HANGUL_TCOUNT;
        int32_t t = HANGUL_TBASE + s % HANGUL_TCOUNT;
        put(st, u, nr_utf8_encode(l, u), ob, oe);
        put(st, u, nr_utf8_encode(v, u), ob, oe);
        if (t != HANGUL_TBASE) put(st, u, nr_utf8_encode(t, u), ob, oe);
        return;
    }
    put(st, u, nr_utf8_encode(cp, u), ob, oe);
}

static void flush_chunk(normstate *st) {
    nr_normbuf *nb = st->nb;
    size_t n = st->clen;
    if (!n) return;
    int32_t *c = nb->chunk;
    if (n > 1) {
        /* canonical ordering: stable sort of each run of non-starters by combining class */
        for (size_t i = 1; i < n; i++) {
            int cc = utf8proc_get_property(c[i])->combining_class;
            if (!cc) continue;
            int32_t x = c[i];
            size_t j = i;
            while (j > 0) {
                int pc = utf8proc_get_property(c[j - 1])->combining_class;
                if (pc <= cc) break; /* starters (0) stop the run */
                c[j] = c[j - 1];
                j--;
            }
            c[j] = x;
        }
        utf8proc_ssize_t m = utf8proc_normalize_utf32(c, (utf8proc_ssize_t)n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
        n = m > 0 ? (size_t)m : 0;
    }
    for (size_t i = 0; i < n; i++) emit(st, c[i], st->cbeg, st->cend);
    st->clen = 0;
}

static int chunk_room(normstate *st, size_t extra) {
    nr_normbuf *nb = st->nb;
    if (st->clen + extra <= nb->chunk_cap) return 0;
    size_t cap = nb->chunk_cap ? nb->chunk_cap : 64;
    while (cap < st->clen + extra) cap *= 2;
    int32_t *t = nr_realloc_array(nb->chunk, cap, sizeof *t);
    if (!t) return -1;
    nb->chunk = t;
    nb->chunk_cap = cap;
    return 0;
}

static const char *invalid_reason(const unsigned char *s, size_t n, int k) {
    unsigned b0 = s[0];
    if (b0 >= 0x80 && b0 <= 0xBF) return "stray continuation byte";
    if (b0 == 0xC0 || b0 == 0xC1) return "overlong form";
    if (b0 >= 0xF5) return "byte that never appears in UTF-8";
    if ((size_t)k >= n) return "truncated sequence";
    unsigned b1 = s[1];
    if (k == 1 && b1 >= 0x80 && b1 <= 0xBF) {
        if (b0 == 0xE0 || b0 == 0xF0) return "overlong form";
        if (b0 == 0xED) return "surrogate code point";
        if (b0 == 0xF4) return "code point above U+10FFFF";
    }
    return "truncated sequence (missing continuation byte)";
}

int nr_normalize(const nr_normcfg *cfg, int jamo, const char *s, size_t n, nr_normbuf *nb,
                 int track, nlprnn_error *err) {
    return nr_normalize_range(cfg, jamo, s, 0, n, nb, track, err);
}

int nr_normalize_range(const nr_normcfg *cfg, int jamo, const char *s, size_t from, size_t n,
                       nr_normbuf *nb, int track, nlprnn_error *err) {
    normstate st = {nb, track, jamo, 0, 1, 0, 0, 0, 0, 0};
    nb->len = 0;
    const unsigned char *u = (const unsigned char *)s;
    int form = cfg->form;
    int casefold = form == NR_NORM_NFKC_CF;
    utf8proc_option_t dopt = UTF8PROC_DECOMPOSE;
    if (form == NR_NORM_NFKC || form == NR_NORM_NFKC_CF) dopt |= UTF8PROC_COMPAT;
    if (casefold) dopt |= UTF8PROC_CASEFOLD;
    if (from > n) from = n;
    if (grow_out(&st, n - from + 16)) goto nomem;
    size_t i = from;
    while (i < n) {
        int32_t cp;
        int k;
        if (u[i] < 0x80 && u[i] != 0) {
            cp = u[i];
            k = 1;
        } else {
            k = u[i] ? nr_utf8_decode(u + i, n - i, &cp) : 1;
            if (u[i] == 0) cp = 0;
            if (k < 0 || cp == 0) {
                int bad = k < 0 ? -k : 1;
                if (cfg->invalid == NR_INVALID_ERROR) {
                    const char *why = cp == 0 && k > 0 ? "NUL byte" : invalid_reason(u + i, n - i, bad);
                    long long line = nr_line_of(s, i);
                    return nr_fail(err, NLPRNN_E_UTF8, line, (long long)i,
                                   "line %lld: byte %zu: invalid UTF-8: %s (0x%02X)", line, i, why,
                                   u[i]);
                }
                cp = 0xFFFD;
                k = bad;
            }
        }
        size_t ob = i, oe = i + (size_t)k;
        i = oe;
        if (is_control_cp(cp) && !is_space_cp(cp)) {
            if (cfg->control == NR_CTRL_REMOVE) continue;
            if (cfg->control == NR_CTRL_SPACE) cp = ' ';
        }
        if (is_space_cp(cp)) {
            flush_chunk(&st);
            emit(&st, cp, ob, oe);
            continue;
        }
        if (form == NR_NORM_NONE) {
            emit(&st, cp, ob, oe);
            continue;
        }
        if (chunk_room(&st, 32)) goto nomem;
        int32_t *dst = nb->chunk + st.clen;
        size_t m;
        if (cp < 0x80) {
            dst[0] = casefold && cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
            m = 1;
        } else {
            const utf8proc_property_t *p = utf8proc_get_property(cp);
            if (p->decomp_seqindex == UINT16_MAX &&
                !(casefold && p->casefold_seqindex != UINT16_MAX)) {
                dst[0] = cp;
                m = 1;
            } else {
                int lbc = 0;
                utf8proc_ssize_t r =
                    utf8proc_decompose_char(cp, dst, (utf8proc_ssize_t)(nb->chunk_cap - st.clen),
                                            dopt, &lbc);
                if (r < 0 || r > 32) {
                    dst[0] = cp;
                    m = 1;
                } else {
                    m = (size_t)r;
                }
            }
        }
        if (m && starts_chunk(dst[0]) && st.clen) {
            /* move the new code points to the front of a fresh chunk */
            int32_t tmp[32];
            memcpy(tmp, dst, m * sizeof *tmp);
            flush_chunk(&st);
            memcpy(nb->chunk, tmp, m * sizeof *tmp);
            st.cbeg = ob;
        } else if (!st.clen) {
            st.cbeg = ob;
        }
        st.clen += m;
        st.cend = oe;
        if (!st.ok) goto nomem;
    }
    flush_chunk(&st);
    if (!st.ok) goto nomem;
    return NLPRNN_OK;
nomem:
    return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory while normalizing");
}

/* A "plain" code point for nr_can_cut: ASCII graphic except '_' (blank markers), or a letter
 * or digit that is its own normalization in every form (no decomposition, no case folding)
 * and starts a normalization chunk. */
static int plain_cp(int32_t c) {
    if (c < 0x80) return c > 0x20 && c < 0x7F && c != '_';
    const utf8proc_property_t *p = utf8proc_get_property(c);
    if (p->category < UTF8PROC_CATEGORY_LU || p->category > UTF8PROC_CATEGORY_NO) return 0;
    if (p->category >= UTF8PROC_CATEGORY_MN && p->category <= UTF8PROC_CATEGORY_ME) return 0;
    return p->decomp_seqindex == UINT16_MAX && p->casefold_seqindex == UINT16_MAX &&
           starts_chunk(c);
}

int nr_can_cut(const char *s, size_t n, size_t p) {
    if (p == 0 || p >= n) return 0;
    const unsigned char *u = (const unsigned char *)s;
    if ((u[p] & 0xC0) == 0x80) return 0;
    size_t q = p - 1;
    while (q > 0 && p - q < 4 && (u[q] & 0xC0) == 0x80) q--;
    int32_t a, b;
    if (nr_utf8_decode(u + q, p - q, &a) != (int)(p - q) || nr_utf8_decode(u + p, n - p, &b) <= 0)
        return 0;
    if (!plain_cp(a) || !plain_cp(b)) return 0;
    for (size_t k = p >= 5 ? p - 5 : 0; k < p; k++) /* never inside "[MASK]" */
        if (n - k >= 6 && memcmp(s + k, "[MASK]", 6) == 0) return 0;
    return 1;
}

size_t nr_compose_jamo(char *s, size_t n) {
    /* L V (T) sequences of conjoining jamo -> syllables; everything else copied. */
    size_t r = 0, w = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (r < n) {
        int32_t l, v, t;
        int kl = nr_utf8_decode(u + r, n - r, &l);
        if (kl == 3 && l >= HANGUL_LBASE && l < HANGUL_LBASE + HANGUL_LCOUNT && r + 3 < n) {
            int kv = nr_utf8_decode(u + r + 3, n - r - 3, &v);
            if (kv == 3 && v >= HANGUL_VBASE && v < HANGUL_VBASE + HANGUL_VCOUNT) {
                int32_t syl = HANGUL_SBASE + ((l - HANGUL_LBASE) * HANGUL_VCOUNT + (v - HANGUL_VBASE)) *
                                                 HANGUL_TCOUNT;
                size_t used = 6;
                if (r + 6 < n) {
                    int kt = nr_utf8_decode(u + r + 6, n - r - 6, &t);
                    if (kt == 3 && t > HANGUL_TBASE && t < HANGUL_TBASE + HANGUL_TCOUNT) {
                        syl += t - HANGUL_TBASE;
                        used = 9;
                    }
                }
                char buf[4];
                int k = nr_utf8_encode(syl, buf);
                memcpy(s + w, buf, (size_t)k); /* 3 bytes <= used: never overtakes r */
                w += (size_t)k;
                r += used;
                continue;
            }
        }
        size_t k = kl > 0 ? (size_t)kl : 1;
        memmove(s + w, s + r, k);
        w += k;
        r += k;
    }
    return w;
}
