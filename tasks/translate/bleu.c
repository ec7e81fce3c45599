/* tasks/translate/bleu.c: BLEU (13a tokenizer, exp smoothing) and chrF (characters 1-6, beta 2)
 * exactly as sacrebleu computes them by default. The definitions are in score.h. */
#include "tasks/translate/score.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- white space and code points --------------------------------------------------------------- */

/* Decode the code point at s (valid UTF-8 assumed; a bad byte counts as one code point). */
static size_t cp_at(const unsigned char *s, size_t n, uint32_t *cp) {
    size_t bad, k = nr_utf8_seq(s, n, &bad);
    if (!k) {
        *cp = 0xFFFD;
        return bad;
    }
    uint32_t c = s[0];
    if (k == 2) c = ((c & 0x1F) << 6) | (s[1] & 0x3F);
    else if (k == 3) c = ((c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    else if (k == 4)
        c = ((c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) |
            (s[3] & 0x3F);
    *cp = c;
    return k;
}

/* Python's str.isspace(): bidirectional class WS, B or S, or category Zs. */
static int py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* ---- the 13a tokenizer --------------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
/* [\{-\~\[-\` -\&\(-\+\:-\@\/] */
static int punct13a(unsigned char c) {
    return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
           (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

/* One re.sub pass of a 1- or 2-character rule, scanning left to right without overlaps (the
 * rules' characters are ASCII, so scanning bytes is scanning code points). */
enum { R_PUNCT, R_PERIOD_AFTER, R_PERIOD_BEFORE, R_DASH };
static void pass(sbuf *out, const char *s, size_t n, int rule) {
    size_t i = 0;
    while (i < n) {
        unsigned char a = (unsigned char)s[i], b = i + 1 < n ? (unsigned char)s[i + 1] : 0;
        int two = i + 1 < n;
        if (rule == R_PUNCT && punct13a(a)) { /* ([punct]) -> ' \1 ' */
            sb_put(out, " ", 1), sb_put(out, (const char *)&s[i], 1), sb_put(out, " ", 1);
            i += 1;
        } else if (rule == R_PERIOD_AFTER && two && !is_digit(a) && (b == '.' || b == ',')) {
            /* ([^0-9])([\.,]) -> '\1 \2 ' */
            sb_put(out, &s[i], 1), sb_put(out, " ", 1), sb_put(out, &s[i + 1], 1), sb_put(out, " ", 1);
            i += 2;
        } else if (rule == R_PERIOD_BEFORE && two && (a == '.' || a == ',') && !is_digit(b)) {
            /* ([\.,])([^0-9]) -> ' \1 \2' : \2 is a whole code point */
            uint32_t cp;
            size_t k = cp_at((const unsigned char *)s + i + 1, n - i - 1, &cp);
            sb_put(out, " ", 1), sb_put(out, &s[i], 1), sb_put(out, " ", 1), sb_put(out, &s[i + 1], k);
            i += 1 + k;
        } else if (rule == R_DASH && two && is_digit(a) && b == '-') { /* ([0-9])(-) -> '\1 \2 ' */
            sb_put(out, &s[i], 1), sb_put(out, " ", 1), sb_put(out, "-", 1), sb_put(out, " ", 1);
            i += 2;
        } else {
            /* copy one whole code point: ([^0-9]) of R_PERIOD_AFTER must see a multi-byte
             * character as one (its last byte is never '.' or ',') */
            uint32_t cp;
            size_t k = cp_at((const unsigned char *)s + i, n - i, &cp);
            if (rule == R_PERIOD_AFTER && k > 1 && i + k < n && (s[i + k] == '.' || s[i + k] == ',')) {
                sb_put(out, &s[i], k), sb_put(out, " ", 1), sb_put(out, &s[i + k], 1), sb_put(out, " ", 1);
                i += k + 1;
                continue;
            }
            sb_put(out, &s[i], k);
            i += k;
        }
    }
}

/* Replace every occurrence of `from` by `to` (to no longer than from) in place; returns the length. */
static size_t replace_all(char *s, size_t n, const char *from, const char *to) {
    size_t lf = strlen(from), lt = strlen(to), w = 0;
    for (size_t r = 0; r < n;) {
        if (r + lf <= n && !memcmp(s + r, from, lf)) {
            memcpy(s + w, to, lt);
            w += lt, r += lf;
        } else {
            s[w++] = s[r++];
        }
    }
    s[w] = 0;
    return w;
}

char *nr_tok13a(const char *line, size_t len) {
    char *s = malloc(len + 3);
    if (!s) return NULL;
    /* ' ' + line + ' ' after the language-independent part */
    s[0] = ' ';
    memcpy(s + 1, line, len);
    s[len + 1] = 0;
    size_t n = len + 1;
    n = replace_all(s, n, "<skipped>", "");
    n = replace_all(s, n, "-\n", "");
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n') s[i] = ' ';
    if (memchr(s, '&', n)) {
        n = replace_all(s, n, "&quot;", "\"");
        n = replace_all(s, n, "&amp;", "&");
        n = replace_all(s, n, "&lt;", "<");
        n = replace_all(s, n, "&gt;", ">");
    }
    s[n++] = ' ';
    s[n] = 0;
    sbuf a = {0}, b = {0};
    pass(&a, s, n, R_PUNCT);
    pass(&b, a.p ? a.p : "", a.n, R_PERIOD_AFTER);
    a.n = 0;
    pass(&a, b.p ? b.p : "", b.n, R_PERIOD_BEFORE);
    b.n = 0;
    pass(&b, a.p ? a.p : "", a.n, R_DASH);
    free(s);
    free(a.p);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    /* ' '.join(line.split()) */
    sbuf o = {0};
    sb_put(&o, "", 0);
    size_t i = 0;
    while (i < b.n) {
        uint32_t cp;
        size_t k = cp_at((const unsigned char *)b.p + i, b.n - i, &cp);
        if (py_space(cp)) {
            i += k;
            continue;
        }
        size_t j = i;
        while (j < b.n) {
            k = cp_at((const unsigned char *)b.p + j, b.n - j, &cp);
            if (py_space(cp)) break;
            j += k;
        }
        if (o.n) sb_put(&o, " ", 1);
        sb_put(&o, b.p + i, j - i);
        i = j;
    }
    free(b.p);
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    return o.p;
}

/* ---- n-gram counting by hashes ------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Σ over distinct hashes of min(count in a, count in b); both sorted. */
static double clipped_matches(const uint64_t *a, size_t na, const uint64_t *b, size_t nb) {
    size_t i = 0, j = 0;
    double m = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j]) i++;
        else if (a[i] > b[j]) j++;
        else {
            uint64_t v = a[i];
            size_t ca = 0, cb = 0;
            while (i < na && a[i] == v) i++, ca++;
            while (j < nb && b[j] == v) j++, cb++;
            m += (double)(ca < cb ? ca : cb);
        }
    }
    return m;
}

/* Units of a string: start offsets (n+1 entries, the last = end). BLEU: space-separated tokens of
 * a 13a string; chrF: the code points of the string without white space (copied to *flat). */
static size_t *tokens_of(const char *s, size_t *n) {
    size_t len = strlen(s), cnt = 0, cap = 16;
    size_t *off = malloc(cap * sizeof *off);
    if (!off) return NULL;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == ' ') continue;
        if (i == 0 || s[i - 1] == ' ') {
            if (cnt + 2 > cap) {
                size_t *p = realloc(off, (cap *= 2) * sizeof *off);
                if (!p) return free(off), NULL;
                off = p;
            }
            off[cnt++] = i;
        }
    }
    *n = cnt;
    return off;
}

/* Hashes of the n-grams of order k of tokens off (cnt; token i is s[off[i] .. next space)). */
static uint64_t *token_ngrams(const char *s, const size_t *off, size_t cnt, int k, size_t *m) {
    *m = cnt >= (size_t)k ? cnt - (size_t)k + 1 : 0;
    uint64_t *h = malloc((*m + 1) * sizeof *h);
    if (!h) return NULL;
    for (size_t i = 0; i < *m; i++) {
        uint64_t v = 1469598103934665603ULL;
        for (int j = 0; j < k; j++) {
            const char *t = s + off[i + (size_t)j];
            size_t l = strcspn(t, " ");
            v = fnv(v, t, l);
            v = fnv(v, "\x1f", 1); /* separator: "a b" != "ab" */
        }
        h[i] = v;
    }
    qsort(h, *m, sizeof *h, cmp_u64);
    return h;
}

int nr_bleu_add(nr_bleu_stats *st, const char *hyp, const char *ref) {
    char *th = nr_tok13a(hyp, strlen(hyp)), *tr = nr_tok13a(ref, strlen(ref));
    size_t nh = 0, nr = 0, *oh = NULL, *orf = NULL;
    int rc = NLPRNN_E_NOMEM;
    if (!th || !tr) goto done;
    oh = tokens_of(th, &nh), orf = tokens_of(tr, &nr);
    if (!oh || !orf) goto done;
    st->sys_len += (double)nh;
    st->ref_len += (double)nr;
    for (int k = 1; k <= 4; k++) {
        size_t mh, mr;
        uint64_t *hh = token_ngrams(th, oh, nh, k, &mh), *hr = token_ngrams(tr, orf, nr, k, &mr);
        if (!hh || !hr) {
            free(hh), free(hr);
            goto done;
        }
        st->total[k - 1] += (double)mh;
        st->correct[k - 1] += clipped_matches(hh, mh, hr, mr);
        free(hh), free(hr);
    }
    rc = 0;
done:
    free(th), free(tr), free(oh), free(orf);
    return rc;
}

double nr_bleu_score(const nr_bleu_stats *st, double *detail) {
    double c = st->sys_len, r = st->ref_len;
    double bp = c < r ? (c > 0 ? exp(1.0 - r / c) : 0.0) : 1.0;
    double p[4] = {0, 0, 0, 0};
    int any = 0;
    for (int k = 0; k < 4; k++) any |= st->correct[k] > 0;
    double score = 0;
    if (any) {
        double smooth = 1.0;
        for (int k = 0; k < 4; k++) {
            if (st->total[k] == 0) break;
            if (st->correct[k] == 0) {
                smooth *= 2;
                p[k] = 100.0 / (smooth * st->total[k]);
            } else {
                p[k] = 100.0 * st->correct[k] / st->total[k];
            }
        }
        double s = 0;
        for (int k = 0; k < 4; k++) s += p[k] > 0 ? log(p[k]) : -9999999999.0;
        score = bp * exp(s / 4);
    }
    if (detail) {
        for (int k = 0; k < 4; k++) detail[k] = p[k];
        detail[4] = bp;
        detail[5] = r > 0 ? c / r : 0;
        detail[6] = c;
        detail[7] = r;
    }
    return score;
}

/* ---- chrF ------------------------------------------------------------------------------------- */

/* Code-point start offsets of s without white space, into a packed copy *flat. */
static size_t *chars_of(const char *s, char **flat, size_t *n) {
    size_t len = strlen(s), cnt = 0, w = 0;
    size_t *off = malloc((len + 1) * sizeof *off);
    char *f = malloc(len + 1);
    if (!off || !f) return free(off), free(f), NULL;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = cp_at((const unsigned char *)s + i, len - i, &cp);
        if (!py_space(cp)) {
            off[cnt++] = w;
            memcpy(f + w, s + i, k);
            w += k;
        }
        i += k;
    }
    off[cnt] = w;
    *flat = f, *n = cnt;
    return off;
}

static uint64_t *char_ngrams(const char *f, const size_t *off, size_t cnt, int k, size_t *m) {
    *m = cnt >= (size_t)k ? cnt - (size_t)k + 1 : 0;
    uint64_t *h = malloc((*m + 1) * sizeof *h);
    if (!h) return NULL;
    for (size_t i = 0; i < *m; i++)
        h[i] = fnv(1469598103934665603ULL, f + off[i], off[i + (size_t)k] - off[i]);
    qsort(h, *m, sizeof *h, cmp_u64);
    return h;
}

int nr_chrf_add(nr_chrf_stats *st, const char *hyp, const char *ref) {
    char *fh = NULL, *fr = NULL;
    size_t nh = 0, nr = 0, *oh = chars_of(hyp, &fh, &nh), *orf = chars_of(ref, &fr, &nr);
    int rc = NLPRNN_E_NOMEM;
    if (!oh || !orf) goto done;
    for (int k = 1; k <= 6; k++) {
        size_t mh, mr;
        uint64_t *hh = char_ngrams(fh, oh, nh, k, &mh), *hr = char_ngrams(fr, orf, nr, k, &mr);
        if (!hh || !hr) {
            free(hh), free(hr);
            goto done;
        }
        st->hyp[k - 1] += (double)mh;
        st->ref[k - 1] += (double)mr;
        st->match[k - 1] += clipped_matches(hh, mh, hr, mr);
        free(hh), free(hr);
    }
    rc = 0;
done:
    free(fh), free(fr), free(oh), free(orf);
    return rc;
}

double nr_chrf_score(const nr_chrf_stats *st) {
    const double beta2 = 4.0; /* β = 2 */
    double P = 0, R = 0;
    int eff = 0;
    for (int k = 0; k < 6; k++)
        if (st->hyp[k] > 0 && st->ref[k] > 0) {
            P += st->match[k] / st->hyp[k];
            R += st->match[k] / st->ref[k];
            eff++;
        }
    if (eff) P /= eff, R /= eff;
    if (P + R == 0) return 0.0;
    return 100.0 * (1 + beta2) * P * R / (beta2 * P + R);
}
