/* tokenizer/trainer.c: the training side of stages 2-4.
 *
 *   1. read lines (files through zlib's gzopen, which reads plain files too), optionally a
 *      seeded random sample of them
 *   2. normalize + pre-tokenize every line and count segments ("▁" + segment when it follows
 *      whitespace), in `threads` parts on the library's pool, each with its own count table (merged at the end;
 *      counts are sums, so the result does not depend on the thread count)
 *   3. alphabet: the most frequent characters covering char_coverage_ppm of all character
 *      occurrences (ties broken by the character's bytes)
 *   4a. BPE: repeatedly merge the most frequent adjacent pair (ties: smaller left id, then
 *       smaller right id) until the vocabulary is full or the best pair occurs fewer than
 *       min_count times. Pair counts are updated incrementally: every pair remembers the words
 *       it occurs in, and a max-heap with lazy invalidation finds the best pair.
 *   4b. word: the most frequent segments with at least min_count occurrences.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/pool.h"
#include "corpora/reader.h" /* NR_DEFAULT_MAX_LINE: the corpus readers' line limit */
#include "tokenizer/internal.h"

/* ---- a string -> count table ------------------------------------------------------------- */

typedef struct strmap {
    int32_t *slots;   /* entry index or -1 */
    size_t nslots;    /* power of two */
    uint64_t *hash;   /* (n) */
    size_t *koff;     /* (n) */
    uint32_t *klen;   /* (n) */
    int64_t *count;   /* (n) */
    size_t n, cap;
    char *pool;
    size_t plen, pcap;
} strmap;

static void strmap_free(strmap *m) {
    free(m->slots);
    free(m->hash);
    free(m->koff);
    free(m->klen);
    free(m->count);
    free(m->pool);
    memset(m, 0, sizeof *m);
}

static int strmap_add(strmap *m, const char *k, size_t kl, uint64_t h, int64_t c) {
    if ((m->n + 1) * 2 > m->nslots) {
        size_t ns = m->nslots ? m->nslots * 2 : 1 << 16;
        int32_t *sl = malloc(ns * sizeof *sl);
        if (!sl) return -1;
        memset(sl, 0xff, ns * sizeof *sl);
        for (size_t i = 0; i < m->n; i++) {
            size_t s = m->hash[i] & (ns - 1);
            while (sl[s] >= 0) s = (s + 1) & (ns - 1);
            sl[s] = (int32_t)i;
        }
        free(m->slots);
        m->slots = sl;
        m->nslots = ns;
    }
    size_t mask = m->nslots - 1, s = h & mask;
    for (;;) {
        int32_t e = m->slots[s];
        if (e < 0) break;
        if (m->hash[e] == h && m->klen[e] == kl && memcmp(m->pool + m->koff[e], k, kl) == 0) {
            m->count[e] += c;
            return 0;
        }
        s = (s + 1) & mask;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1 << 15;
        uint64_t *hh = nr_realloc_array(m->hash, cap, sizeof *hh);
        if (!hh) return -1;
        m->hash = hh;
        size_t *ko = nr_realloc_array(m->koff, cap, sizeof *ko);
        if (!ko) return -1;
        m->koff = ko;
        uint32_t *kk = nr_realloc_array(m->klen, cap, sizeof *kk);
        if (!kk) return -1;
        m->klen = kk;
        int64_t *cc = nr_realloc_array(m->count, cap, sizeof *cc);
        if (!cc) return -1;
        m->count = cc;
        m->cap = cap;
    }
    if (m->plen + kl > m->pcap) {
        size_t cap = m->pcap ? m->pcap * 2 : 1 << 20;
        while (cap < m->plen + kl) cap *= 2;
        char *p = realloc(m->pool, cap);
        if (!p) return -1;
        m->pool = p;
        m->pcap = cap;
    }
    memcpy(m->pool + m->plen, k, kl);
    m->hash[m->n] = h;
    m->koff[m->n] = m->plen;
    m->klen[m->n] = (uint32_t)kl;
    m->count[m->n] = c;
    m->slots[s] = (int32_t)m->n;
    m->plen += kl;
    m->n++;
    return 0;
}

/* ---- lines -------------------------------------------------------------------------------- */

typedef struct line {
    const char *p;
    size_t len;
    long long lineno;   /* 1-based line in its file (or text index + 1) */
    long long offset;   /* byte offset of the line in its (decompressed) file */
    int src;            /* file index, or -1 for texts */
} line;

typedef struct lineset {
    line *v;
    size_t n, cap;
    char **bufs;        /* file contents kept alive */
    size_t nbufs;
} lineset;

static void lineset_free(lineset *ls) {
    for (size_t i = 0; i < ls->nbufs; i++) free(ls->bufs[i]);
    free(ls->bufs);
    free(ls->v);
    memset(ls, 0, sizeof *ls);
}

static int lineset_push(lineset *ls, const char *p, size_t len, long long no, long long off,
                        int src) {
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 1 << 14;
        line *v = nr_realloc_array(ls->v, cap, sizeof *v);
        if (!v) return -1;
        ls->v = v;
        ls->cap = cap;
    }
    ls->v[ls->n++] = (line){p, len, no, off, src};
    return 0;
}

static int line_too_long(const char *path, long long lineno, size_t offset, nlprnn_error *err) {
    return nr_fail(err, NLPRNN_E_LIMIT, lineno, (long long)offset,
                   "%s:%lld: line is longer than the limit of %zu bytes", path, lineno,
                   (size_t)NR_DEFAULT_MAX_LINE);
}

/* Read a whole file (the trainer counts over every line), checking the line lengths as the
 * bytes arrive: a line longer than the corpus readers' limit (NR_DEFAULT_MAX_LINE, without its
 * ending) is NLPRNN_E_LIMIT naming file:line once that many bytes are in, so a single endless
 * line (a 2 GB line from a small gzip) never fills memory. */
static int read_file_lines(const char *path, int src, lineset *ls, nlprnn_error *err) {
    gzFile gz = gzopen(path, "rb");
    if (!gz) return nr_fail(err, NLPRNN_E_IO, -1, -1, "%s: cannot open", path);
    gzbuffer(gz, 1 << 18);
    size_t cap = 1 << 20, n = 0, line_start = 0;
    long long lineno = 1;
    char *buf = malloc(cap);
    if (!buf) {
        gzclose(gz);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    for (;;) {
        if (cap - n < (1 << 18)) {
            char *t = realloc(buf, cap * 2);
            if (!t) {
                free(buf);
                gzclose(gz);
                return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
            }
            buf = t;
            cap *= 2;
        }
        int r = gzread(gz, buf + n, (unsigned)(cap - n > (1u << 30) ? (1u << 30) : cap - n));
        int e = Z_OK;
        const char *msg = r <= 0 ? gzerror(gz, &e) : NULL;
        if (r < 0 || (r == 0 && e != Z_OK)) {
            /* a truncated (Z_BUF_ERROR) or corrupt (Z_DATA_ERROR) gzip stream is bad input
             * data, as in corpora/reader.c; anything else is a read error */
            int code = e == Z_BUF_ERROR || e == Z_DATA_ERROR ? NLPRNN_E_DATA : NLPRNN_E_IO;
            if (e == Z_BUF_ERROR)
                nr_fail(err, code, -1, (long long)n,
                        "%s: byte %zu: the gzip stream ends early (truncated file)", path, n);
            else
                nr_fail(err, code, -1, (long long)n, "%s: byte %zu: %s: %s", path, n,
                        code == NLPRNN_E_DATA ? "corrupt gzip stream" : "read error", msg);
            free(buf);
            gzclose(gz);
            return code;
        }
        if (r == 0) break;
        for (const char *p = buf + n, *end = buf + n + r;
             p < end && (p = memchr(p, '\n', (size_t)(end - p))); p++) {
            if ((size_t)(p - buf) - line_start > NR_DEFAULT_MAX_LINE + 1) /* + a "\r" */
                break;
            line_start = (size_t)(p - buf) + 1;
            lineno++;
        }
        n += (size_t)r;
        if (n - line_start > NR_DEFAULT_MAX_LINE + 1) {
            free(buf);
            gzclose(gz);
            return line_too_long(path, lineno, line_start, err);
        }
    }
    gzclose(gz);
    char **bufs = nr_realloc_array(ls->bufs, ls->nbufs + 1, sizeof *bufs);
    if (!bufs) {
        free(buf);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    ls->bufs = bufs;
    ls->bufs[ls->nbufs++] = buf;
    /* a UTF-8 byte order mark at the start of the file is not text (offsets still count it) */
    size_t b = n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0;
    long long no = 1;
    while (b < n) {
        const char *nl = memchr(buf + b, '\n', n - b);
        size_t e = nl ? (size_t)(nl - buf) : n;
        size_t len = e - b;
        if (len && buf[b + len - 1] == '\r') len--;
        if (len > NR_DEFAULT_MAX_LINE) return line_too_long(path, no, b, err);
        if (lineset_push(ls, buf + b, len, no, (long long)b, src))
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        no++;
        b = e + 1;
    }
    return 0;
}

/* ---- counting ----------------------------------------------------------------------------- */

typedef struct counter {
    const nlprnn_tokenizer *tok;  /* settings + pattern */
    const line *lines;
    size_t begin, end;
    strmap words;
    int rc;
    size_t bad_line;              /* index of the first line that failed */
    nlprnn_error err;
} counter;

static void count_task(void *ctx, int t, int n) {
    (void)n;
    counter *c = (counter *)ctx + t;
    nr_normbuf nb = {0};
    nr_segvec segs = {0};
    char key[NR_MAX_SEGMENT_BYTES + 3];
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(c->tok->pt.code, NULL);
    if (!md) {
        c->rc = nr_fail(&c->err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        c->bad_line = c->begin;
        return;
    }
    for (size_t i = c->begin; i < c->end && !c->rc; i++) {
        const line *ln = &c->lines[i];
        int rc = nr_normalize(&c->tok->norm, c->tok->norm.jamo, ln->p, ln->len, &nb, 0, &c->err);
        if (rc) {
            c->rc = rc;
            c->bad_line = i;
            break;
        }
        size_t b = 0;
        while (b < nb.len) {
            const char *sp = memchr(nb.text + b, ' ', nb.len - b);
            size_t e = sp ? (size_t)(sp - nb.text) : nb.len;
            segs.n = 0;
            if (nr_pretokenize_chunk(&c->tok->pt, md, nb.text + b, e - b, 1, &segs)) {
                c->rc = nr_fail(&c->err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                c->bad_line = i;
                break;
            }
            for (size_t k = 0; k < segs.n; k++) {
                const nr_segment *g = &segs.v[k];
                if (g->is_mask) continue;
                size_t kl = 0;
                if (g->word_start) {
                    memcpy(key, NLPRNN_WORD_START, 3);
                    kl = 3;
                }
                memcpy(key + kl, nb.text + b + g->begin, g->end - g->begin);
                kl += g->end - g->begin;
                if (strmap_add(&c->words, key, kl, nr_hash_bytes(key, kl), 1)) {
                    c->rc = nr_fail(&c->err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                    c->bad_line = i;
                    break;
                }
            }
            b = e + 1;
        }
    }
    pcre2_match_data_free(md);
    free(segs.v);
    nr_normbuf_free(&nb);
}

/* ---- alphabet ----------------------------------------------------------------------------- */

typedef struct charcount {
    char s[4];
    int len;
    int64_t count;
} charcount;

static int cmp_charcount(const void *a, const void *b) {
    const charcount *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    int c = memcmp(x->s, y->s, (size_t)(x->len < y->len ? x->len : y->len));
    return c ? c : x->len - y->len;
}

static size_t char_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

/* ---- BPE ---------------------------------------------------------------------------------- */

typedef struct heapent {
    int64_t count;
    int32_t pair;
} heapent;

typedef struct bpe {
    /* words */
    size_t nw;
    int32_t *sym;        /* symbol pool */
    size_t *woff;        /* (nw) */
    uint32_t *wlen;      /* (nw) current length */
    int64_t *wcount;     /* (nw) */
    uint32_t *wstamp;    /* (nw) last merge that visited the word */
    /* pairs */
    int32_t *pslots;
    size_t pnslots;
    int32_t *pl, *pr;
    int64_t *pcount, *ppushed;
    uint8_t *pdead;
    uint32_t *pstamp;
    int32_t **where;
    uint32_t *wn, *wcap;
    size_t np, pcap;
    /* heap */
    heapent *heap;
    size_t nh, hcap;
    int32_t *dirty;
    size_t ndirty, dcap;
    const nr_vocab *vocab;
    int oom;
} bpe;

static uint64_t pkey(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }
static uint64_t mix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static int heap_less(const bpe *B, heapent x, heapent y) { /* x before y? */
    if (x.count != y.count) return x.count > y.count;
    if (B->pl[x.pair] != B->pl[y.pair]) return B->pl[x.pair] < B->pl[y.pair];
    return B->pr[x.pair] < B->pr[y.pair];
}

static void heap_push(bpe *B, int64_t count, int32_t p) {
    if (B->nh == B->hcap) {
        size_t cap = B->hcap ? B->hcap * 2 : 1 << 16;
        heapent *h = nr_realloc_array(B->heap, cap, sizeof *h);
        if (!h) {
            B->oom = 1;
            return;
        }
        B->heap = h;
        B->hcap = cap;
    }
    heapent e = {count, p};
    size_t i = B->nh++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!heap_less(B, e, B->heap[up])) break;
        B->heap[i] = B->heap[up];
        i = up;
    }
    B->heap[i] = e;
    B->ppushed[p] = count;
}

static heapent heap_pop(bpe *B) {
    heapent top = B->heap[0], last = B->heap[--B->nh];
    size_t i = 0, n = B->nh;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_less(B, B->heap[c + 1], B->heap[c])) c++;
        if (!heap_less(B, B->heap[c], last)) break;
        B->heap[i] = B->heap[c];
        i = c;
    }
    if (n) B->heap[i] = last;
    return top;
}

static int32_t pair_get(bpe *B, int32_t a, int32_t b) {
    uint64_t k = pkey(a, b);
    if ((B->np + 1) * 2 > B->pnslots) {
        size_t ns = B->pnslots ? B->pnslots * 2 : 1 << 16;
        int32_t *sl = malloc(ns * sizeof *sl);
        if (!sl) return -1;
        memset(sl, 0xff, ns * sizeof *sl);
        for (size_t i = 0; i < B->np; i++) {
            size_t s = mix64(pkey(B->pl[i], B->pr[i])) & (ns - 1);
            while (sl[s] >= 0) s = (s + 1) & (ns - 1);
            sl[s] = (int32_t)i;
        }
        free(B->pslots);
        B->pslots = sl;
        B->pnslots = ns;
    }
    size_t mask = B->pnslots - 1, s = mix64(k) & mask;
    for (;;) {
        int32_t e = B->pslots[s];
        if (e < 0) break;
        if (B->pl[e] == a && B->pr[e] == b) return e;
        s = (s + 1) & mask;
    }
    if (B->np == B->pcap) {
        size_t cap = B->pcap ? B->pcap * 2 : 1 << 16;
#define GROW(f)                                                        \
    do {                                                               \
        void *t_ = nr_realloc_array(B->f, cap, sizeof *B->f);          \
        if (!t_) return -1;                                            \
        B->f = t_;                                                     \
    } while (0)
        GROW(pl);
        GROW(pr);
        GROW(pcount);
        GROW(ppushed);
        GROW(pdead);
        GROW(pstamp);
        GROW(where);
        GROW(wn);
        GROW(wcap);
#undef GROW
        B->pcap = cap;
    }
    int32_t e = (int32_t)B->np++;
    B->pl[e] = a;
    B->pr[e] = b;
    B->pcount[e] = 0;
    B->ppushed[e] = 0;
    B->pdead[e] = 0;
    B->pstamp[e] = 0;
    B->where[e] = NULL;
    B->wn[e] = B->wcap[e] = 0;
    B->pslots[s] = e;
    return e;
}

/* Add c (may be negative) to every adjacent pair of word w; when adding, remember w. */
static void word_pairs(bpe *B, size_t w, int64_t c, uint32_t stamp) {
    const int32_t *s = B->sym + B->woff[w];
    uint32_t n = B->wlen[w];
    for (uint32_t i = 0; i + 1 < n; i++) {
        if (s[i] < 0 || s[i + 1] < 0) continue;
        int32_t p = pair_get(B, s[i], s[i + 1]);
        if (p < 0) {
            B->oom = 1;
            return;
        }
        B->pcount[p] += c;
        if (c > 0) {
            if (!B->wn[p] || B->where[p][B->wn[p] - 1] != (int32_t)w) {
                if (B->wn[p] == B->wcap[p]) {
                    uint32_t cap = B->wcap[p] ? B->wcap[p] * 2 : 4;
                    int32_t *t = nr_realloc_array(B->where[p], cap, sizeof *t);
                    if (!t) {
                        B->oom = 1;
                        return;
                    }
                    B->where[p] = t;
                    B->wcap[p] = cap;
                }
                B->where[p][B->wn[p]++] = (int32_t)w;
            }
        }
        if (stamp && B->pstamp[p] != stamp) {
            B->pstamp[p] = stamp;
            if (B->ndirty == B->dcap) {
                size_t cap = B->dcap ? B->dcap * 2 : 1024;
                int32_t *t = nr_realloc_array(B->dirty, cap, sizeof *t);
                if (!t) {
                    B->oom = 1;
                    return;
                }
                B->dirty = t;
                B->dcap = cap;
            }
            B->dirty[B->ndirty++] = p;
        }
    }
}

static void bpe_free(bpe *B) {
    free(B->sym);
    free(B->woff);
    free(B->wlen);
    free(B->wcount);
    free(B->wstamp);
    free(B->pslots);
    free(B->pl);
    free(B->pr);
    free(B->pcount);
    free(B->ppushed);
    free(B->pdead);
    free(B->pstamp);
    for (size_t i = 0; i < B->np; i++) free(B->where[i]);
    free(B->where);
    free(B->wn);
    free(B->wcap);
    free(B->heap);
    free(B->dirty);
}

static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static int train_bpe(nlprnn_tokenizer *tok, const strmap *words, long long target,
                     long long min_count, nlprnn_error *err) {
    bpe B;
    memset(&B, 0, sizeof B);
    B.vocab = &tok->vocab;
    B.nw = words->n;
    size_t total = 0;
    for (size_t w = 0; w < words->n; w++) total += words->klen[w];
    B.sym = nr_malloc_array(total + 1, sizeof *B.sym);
    B.woff = nr_malloc_array(B.nw + 1, sizeof *B.woff);
    B.wlen = nr_malloc_array(B.nw + 1, sizeof *B.wlen);
    B.wcount = nr_malloc_array(B.nw + 1, sizeof *B.wcount);
    B.wstamp = nr_calloc_array(B.nw + 1, sizeof *B.wstamp);
    if (!B.sym || !B.woff || !B.wlen || !B.wcount || !B.wstamp) goto nomem;
    size_t at = 0;
    for (size_t w = 0; w < words->n; w++) {
        const char *k = words->pool + words->koff[w];
        size_t kl = words->klen[w], i = 0;
        B.woff[w] = at;
        while (i < kl) {
            size_t cl = char_len((unsigned char)k[i]);
            if (cl > kl - i) cl = kl - i;
            int32_t id = nr_vocab_find(&tok->vocab, k + i, cl);
            B.sym[at++] = id >= 0 && tok->vocab.kind[id] == NR_PIECE_NORMAL ? id : -1;
            i += cl;
        }
        B.wlen[w] = (uint32_t)(at - B.woff[w]);
        B.wcount[w] = words->count[w];
        word_pairs(&B, w, words->count[w], 0);
        if (B.oom) goto nomem;
    }
    for (size_t p = 0; p < B.np; p++)
        if (B.pcount[p] > 0) heap_push(&B, B.pcount[p], (int32_t)p);
    if (B.oom) goto nomem;
    uint32_t stamp = 0;
    char piece[4 * 256 + 8];
    while (tok->vocab.n < target && B.nh) {
        heapent top = heap_pop(&B);
        int32_t p = top.pair;
        if (B.pdead[p]) continue;
        if (top.count != B.pcount[p]) {
            if (top.count > B.pcount[p] && B.pcount[p] > 0) heap_push(&B, B.pcount[p], p);
            if (B.oom) goto nomem;
            continue;
        }
        if (top.count < min_count) break;
        int32_t L = B.pl[p], R = B.pr[p];
        size_t ll = tok->vocab.len[L], rl = tok->vocab.len[R];
        B.pdead[p] = 1;
        if (utf8_chars(tok->vocab.piece[L], ll) + utf8_chars(tok->vocab.piece[R], rl) >
                (size_t)tok->max_piece_chars ||
            ll + rl > sizeof piece)
            continue;
        memcpy(piece, tok->vocab.piece[L], ll);
        memcpy(piece + ll, tok->vocab.piece[R], rl);
        int32_t id = nr_vocab_find(&tok->vocab, piece, ll + rl);
        if (id < 0) id = nr_vocab_add(&tok->vocab, piece, ll + rl, NR_PIECE_NORMAL);
        if (id < 0 || nr_merges_add(&tok->merges, L, R, id)) goto nomem;
        stamp++;
        B.ndirty = 0;
        /* where[p] may grow while we walk it (a word can gain the pair again); walk a snapshot */
        uint32_t nwhere = B.wn[p];
        for (uint32_t k = 0; k < nwhere; k++) {
            int32_t w = B.where[p][k];
            if (B.wstamp[w] == stamp) continue;
            B.wstamp[w] = stamp;
            int32_t *s = B.sym + B.woff[w];
            uint32_t n = B.wlen[w], i;
            for (i = 0; i + 1 < n; i++)
                if (s[i] == L && s[i + 1] == R) break;
            if (i + 1 >= n) continue; /* stale entry */
            word_pairs(&B, (size_t)w, -B.wcount[w], stamp);
            uint32_t o = 0;
            for (i = 0; i < n; i++) {
                if (i + 1 < n && s[i] == L && s[i + 1] == R) {
                    s[o++] = id;
                    i++;
                } else {
                    s[o++] = s[i];
                }
            }
            B.wlen[w] = o;
            word_pairs(&B, (size_t)w, B.wcount[w], stamp);
            if (B.oom) goto nomem;
        }
        free(B.where[p]);
        B.where[p] = NULL;
        B.wn[p] = B.wcap[p] = 0;
        for (size_t d = 0; d < B.ndirty; d++) {
            int32_t q = B.dirty[d];
            if (!B.pdead[q] && B.pcount[q] > B.ppushed[q]) heap_push(&B, B.pcount[q], q);
            else if (B.pcount[q] < B.ppushed[q] && B.pcount[q] <= 0) B.ppushed[q] = 0;
        }
        if (B.oom) goto nomem;
    }
    bpe_free(&B);
    return 0;
nomem:
    bpe_free(&B);
    return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory while training BPE");
}

/* ---- word model --------------------------------------------------------------------------- */


typedef struct wordref {
    int64_t count;
    const char *s;
    uint32_t len;
} wordref;

static int cmp_wordref(const void *a, const void *b) {
    const wordref *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (int)x->len - (int)y->len;
}

static int train_word(nlprnn_tokenizer *tok, const strmap *words, long long target,
                      long long min_count, nlprnn_error *err) {
    wordref *v = nr_malloc_array(words->n + 1, sizeof *v);
    if (!v) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    size_t n = 0;
    for (size_t w = 0; w < words->n; w++)
        if (words->count[w] >= min_count)
            v[n++] = (wordref){words->count[w], words->pool + words->koff[w], words->klen[w]};
    qsort(v, n, sizeof *v, cmp_wordref);
    for (size_t i = 0; i < n && tok->vocab.n < target; i++) {
        if (nr_vocab_find(&tok->vocab, v[i].s, v[i].len) >= 0) continue;
        if (nr_vocab_add(&tok->vocab, v[i].s, v[i].len, NR_PIECE_NORMAL) < 0) {
            free(v);
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        }
    }
    free(v);
    return 0;
}

/* ---- driver ------------------------------------------------------------------------------- */

static int train_lines(const nlprnn_tokenizer_params *opts, lineset *ls,
                       const char *const *paths, nlprnn_tokenizer **out, nlprnn_error *err) {
    nlprnn_tokenizer_params defaults;
    if (!opts) {
        nlprnn_tokenizer_params *d = NULL;
        nlprnn_tokenizer_params_create(&d, NULL);
        if (!d) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        defaults = *d;
        free(d);
        opts = &defaults;
    }
    if (ls->n == 0) return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "no training text");
    long long fixed = NLPRNN_NUM_SPECIAL_IDS + (opts->byte_fallback ? 256 : 0) + 1;
    if (opts->vocab_size < fixed)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "vocab-size %lld is too small: at least %lld ids (5 specials%s and \"▁\")",
                       opts->vocab_size, fixed, opts->byte_fallback ? ", 256 byte pieces" : "");
    if (opts->norm.jamo && opts->norm.form == NR_NORM_NONE)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "hangul-jamo needs a composing normalization (nfkc, nfc or nfkc_cf): "
                       "with 'none', decode could not tell input jamo from split syllables");
    /* optional seeded sample (reservoir sampling, then back in input order) */
    size_t *pick = NULL, npick = ls->n;
    if (opts->sample_lines > 0 && (size_t)opts->sample_lines < ls->n) {
        npick = (size_t)opts->sample_lines;
        pick = nr_malloc_array(npick, sizeof *pick);
        if (!pick) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        nr_rng rng;
        nr_rng_seed(&rng, (uint64_t)opts->seed);
        for (size_t i = 0; i < ls->n; i++) {
            if (i < npick) pick[i] = i;
            else {
                uint64_t j = nr_rng_below(&rng, i + 1);
                if (j < npick) pick[j] = i;
            }
        }
        /* sort indices (insertion of a counting bitmap keeps it O(n)) */
        uint8_t *mark = calloc(ls->n, 1);
        if (!mark) {
            free(pick);
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        }
        for (size_t i = 0; i < npick; i++) mark[pick[i]] = 1;
        size_t k = 0;
        for (size_t i = 0; i < ls->n; i++)
            if (mark[i]) ls->v[k++] = ls->v[i];
        free(mark);
        free(pick);
        ls->n = k;
    }

    nlprnn_tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    tok->model = opts->model;
    tok->norm = opts->norm;
    tok->byte_fallback = opts->byte_fallback;
    tok->max_piece_chars = opts->max_piece_chars;
    tok->trained_vocab_size = opts->vocab_size;
    tok->min_count = opts->min_count;
    tok->seed = opts->seed;
    tok->sample_lines = opts->sample_lines;
    tok->char_coverage_ppm = opts->char_coverage_ppm;
    int rc = nr_pretok_init(&tok->pt, opts->pattern, err);
    if (rc) goto fail;
    if (nr_vocab_init(&tok->vocab) || nr_vocab_add_fixed(&tok->vocab, tok->byte_fallback)) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        goto fail;
    }

    /* count segments on T threads */
    size_t T = (size_t)opts->threads;
    if (T > ls->n) T = ls->n;
    counter *cs = calloc(T, sizeof *cs);
    if (!cs) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        goto fail;
    }
    for (size_t t = 0; t < T; t++) {
        cs[t].tok = tok;
        cs[t].lines = ls->v;
        cs[t].begin = ls->n * t / T;
        cs[t].end = ls->n * (t + 1) / T;
    }
    nr_parallel_run((int)T, count_task, cs);
    size_t bad = (size_t)-1, bt = 0;
    for (size_t t = 0; t < T; t++)
        if (cs[t].rc && cs[t].bad_line < bad) {
            bad = cs[t].bad_line;
            bt = t;
        }
    if (bad != (size_t)-1) {
        const line *ln = &ls->v[bad];
        const nlprnn_error *e = &cs[bt].err;
        rc = cs[bt].rc;
        if (rc == NLPRNN_E_UTF8) {
            const char *why = strstr(e->message, "invalid UTF-8");
            if (!why) why = "invalid UTF-8";
            if (ln->src >= 0)
                nr_fail(err, rc, ln->lineno, ln->offset + e->offset, "%s:%lld: byte %lld: %s",
                        paths[ln->src], ln->lineno, ln->offset + e->offset, why);
            else
                nr_fail(err, rc, ln->lineno, e->offset, "text %lld: byte %lld: %s", ln->lineno - 1,
                        e->offset, why);
        } else if (err) {
            *err = *e;
        }
    }
    strmap words = {0};
    for (size_t t = 0; t < T && !rc; t++) {
        strmap *m = &cs[t].words;
        if (t == 0) {
            words = *m;
            memset(m, 0, sizeof *m);
            continue;
        }
        for (size_t i = 0; i < m->n; i++)
            if (strmap_add(&words, m->pool + m->koff[i], m->klen[i], m->hash[i], m->count[i])) {
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                break;
            }
    }
    for (size_t t = 0; t < T; t++) strmap_free(&cs[t].words);
    free(cs);
    if (rc) {
        strmap_free(&words);
        goto fail;
    }

    /* alphabet by coverage */
    {
        strmap chars = {0};
        int64_t total = 0;
        for (size_t w = 0; w < words.n && !rc; w++) {
            const char *k = words.pool + words.koff[w];
            size_t kl = words.klen[w], i = 0;
            while (i < kl) {
                size_t cl = char_len((unsigned char)k[i]);
                if (cl > kl - i) cl = kl - i;
                if (strmap_add(&chars, k + i, cl, nr_hash_bytes(k + i, cl), words.count[w])) {
                    rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                    break;
                }
                total += words.count[w];
                i += cl;
            }
        }
        charcount *cc = rc ? NULL : nr_malloc_array(chars.n + 1, sizeof *cc);
        if (!rc && !cc) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        if (!rc) {
            for (size_t i = 0; i < chars.n; i++) {
                cc[i].len = (int)chars.klen[i];
                memcpy(cc[i].s, chars.pool + chars.koff[i], chars.klen[i]);
                cc[i].count = chars.count[i];
            }
            qsort(cc, chars.n, sizeof *cc, cmp_charcount);
            int64_t covered = 0;
            double need = (double)total * (double)opts->char_coverage_ppm / 1e6;
            /* "▁" always belongs to the alphabet */
            if (nr_vocab_add(&tok->vocab, NLPRNN_WORD_START, 3, NR_PIECE_NORMAL) < 0)
                rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            for (size_t i = 0; i < chars.n && !rc && tok->vocab.n < opts->vocab_size; i++) {
                if (cc[i].len == 3 && !memcmp(cc[i].s, NLPRNN_WORD_START, 3)) {
                    covered += cc[i].count;
                    continue;
                }
                if ((double)covered >= need) break;
                if (nr_vocab_add(&tok->vocab, cc[i].s, (size_t)cc[i].len, NR_PIECE_NORMAL) < 0)
                    rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
                covered += cc[i].count;
            }
        }
        free(cc);
        strmap_free(&chars);
    }
    if (!rc) {
        rc = tok->model == NR_MODEL_WORD
                 ? train_word(tok, &words, opts->vocab_size, opts->min_count, err)
                 : train_bpe(tok, &words, opts->vocab_size, opts->min_count, err);
    }
    strmap_free(&words);
    if (rc) goto fail;
    if ((rc = nr_tokenizer_finish(tok, err))) goto fail;
    *out = tok;
    return 0;
fail:
    nlprnn_tokenizer_free(tok);
    return rc;
}

int nlprnn_tokenizer_train_texts(const nlprnn_tokenizer_params *opts, const char *const *texts,
                                 const size_t *lens, size_t n, nlprnn_tokenizer **out,
                                 nlprnn_error *err) {
    if (out) *out = NULL;
    if (!out || (!texts && n))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "train: NULL argument");
    lineset ls = {0};
    for (size_t i = 0; i < n; i++) {
        if (!texts[i]) {
            lineset_free(&ls);
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "train: text %zu is NULL", i);
        }
        if (lineset_push(&ls, texts[i], lens ? lens[i] : strlen(texts[i]), (long long)i + 1, 0, -1)) {
            lineset_free(&ls);
            return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        }
    }
    int rc = train_lines(opts, &ls, NULL, out, err);
    lineset_free(&ls);
    return rc;
}

int nlprnn_tokenizer_train_files(const nlprnn_tokenizer_params *opts, const char *const *paths,
                                 size_t n, nlprnn_tokenizer **out, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!out || (!paths && n))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "train: NULL argument");
    for (size_t i = 0; i < n; i++)
        if (!paths[i]) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "train: path %zu is NULL", i);
    lineset ls = {0};
    for (size_t i = 0; i < n; i++) {
        int rc = read_file_lines(paths[i], (int)i, &ls, err);
        if (rc) {
            lineset_free(&ls);
            return rc;
        }
    }
    int rc = train_lines(opts, &ls, paths, out, err);
    lineset_free(&ls);
    return rc;
}
