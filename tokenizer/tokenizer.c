/* tokenizer/tokenizer.c: glue of the stages: options, encode (with the per-encoding chunk
 * cache and offsets into the original text), decode, accessors and the tokenizer file format.
 *
 * File format (little-endian), version 1:
 *   "NLPRNTOK"                8-byte magic
 *   u32 version               1
 *   u64 size                  total bytes of the file, this field and the CRC included
 *   u32 n, n bytes            text header, "key=value\n" lines: every setting, readable with
 *                             `head -c 400 file.tok`
 *   u32 n, n bytes            pre-tokenization pattern ("" = the built-in default)
 *   u32 count                 pieces, in id order: u8 kind (0 normal, 1 special, 2 byte),
 *                             u32 len, len bytes of UTF-8
 *   u32 count                 merges, in rank order: i32 left, i32 right, i32 result
 *   u32 crc32                 zlib CRC32 of every byte before it
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tokenizer/internal.h"

#define TOK_MAGIC "NLPRNTOK"
#define TOK_VERSION 1u
#define CACHE_MAX_KEY 128        /* chunks longer than this are not cached */
#define CACHE_SLOTS (1u << 17)   /* power of two */
#define CACHE_MAX_USED (CACHE_SLOTS / 2)
/* Original bytes normalized at a time by encode (cut at ASCII whitespace, which no
 * normalization crosses), so its scratch is bounded whatever the text length. The fuzz build
 * sets NR_ENCODE_WINDOW to a few bytes so that short fuzz inputs cross many windows. */
#ifdef NR_ENCODE_WINDOW
#define ENCODE_WINDOW ((size_t)(NR_ENCODE_WINDOW))
#else
#define ENCODE_WINDOW ((size_t)1 << 20)
#endif

static int is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* ---- names of settings -------------------------------------------------------------------- */

static const char *const model_names[] = {"bpe", "word"};
static const char *const norm_names[] = {"nfkc", "nfc", "nfkc_cf", "none"};
static const char *const ctrl_names[] = {"remove", "space", "keep"};
static const char *const invalid_names[] = {"error", "replace"};

/* The training parameters (nlprnn_tokenizer_params_set/get), one row each, and the field each
 * sets: a string-valued one stores the index of its value's name (choices), an integer one is
 * checked against [lo, hi]. The pattern is the one text field (size 0). */
#define FIELD(f) offsetof(nlprnn_tokenizer_params, f), sizeof(((nlprnn_tokenizer_params *)0)->f)
static const struct {
    const char *name;
    const char *const *choices; /* string-valued: the names of the values (index = value) */
    int nchoices;
    long long lo, hi;           /* integer-valued: the range */
    size_t off, size;           /* the field: an int or a long long; size 0: the pattern */
} param_names[] = {
    {"model-type", model_names, 2, 0, 0, FIELD(model)},
    {"vocab-size", NULL, 0, NLPRNN_NUM_SPECIAL_IDS, 1000000, FIELD(vocab_size)},
    {"min-count", NULL, 0, 1, INT_MAX, FIELD(min_count)},
    {"normalization", norm_names, 4, 0, 0, FIELD(norm.form)},
    {"control-chars", ctrl_names, 3, 0, 0, FIELD(norm.control)},
    {"hangul-jamo", NULL, 0, 0, 1, FIELD(norm.jamo)},
    {"invalid-utf8", invalid_names, 2, 0, 0, FIELD(norm.invalid)},
    {"pattern", NULL, 0, 0, 0, 0, 0},
    {"seed", NULL, 0, 0, LLONG_MAX, FIELD(seed)},
    {"threads", NULL, 0, 1, 256, FIELD(threads)},
    {"byte-fallback", NULL, 0, 0, 1, FIELD(byte_fallback)},
    {"char-coverage-ppm", NULL, 0, 1, 1000000, FIELD(char_coverage_ppm)},
    {"max-piece-chars", NULL, 0, 1, 256, FIELD(max_piece_chars)},
    {"sample-lines", NULL, 0, 0, LLONG_MAX, FIELD(sample_lines)},
};
#undef FIELD
#define N_PARAM_NAMES (sizeof param_names / sizeof param_names[0])

static int name_index(const char *const *names, int n, const char *s) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], s)) return i;
    return -1;
}

/* ---- options ------------------------------------------------------------------------------ */

static void options_defaults(nlprnn_tokenizer_params *o) {
    memset(o, 0, sizeof *o);
    o->model = NR_MODEL_BPE;
    o->vocab_size = 8000;
    o->min_count = 2;
    o->seed = 0;
    o->threads = 1;
    o->sample_lines = 0;
    o->char_coverage_ppm = 999500;
    o->max_piece_chars = 16;
    o->byte_fallback = 1;
    o->norm.form = NR_NORM_NFKC;
    o->norm.control = NR_CTRL_REMOVE;
    o->norm.jamo = 0;
    o->norm.invalid = NR_INVALID_ERROR;
}

int nlprnn_tokenizer_params_create(nlprnn_tokenizer_params **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tokenizer parameters: out is NULL");
    *out = malloc(sizeof **out);
    if (!*out) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "tokenizer parameters: out of memory");
    options_defaults(*out);
    return 0;
}

void nlprnn_tokenizer_params_free(nlprnn_tokenizer_params *p) {
    if (!p) return;
    free(p->pattern);
    free(p);
}

/* ---- parameters by name ------------------------------------------------------------------- */

/* The row of a parameter's name, or -1. */
static int find_row(const char *name) {
    for (size_t i = 0; name && i < N_PARAM_NAMES; i++)
        if (!strcmp(param_names[i].name, name)) return (int)i;
    return -1;
}

static int param_row(const char *name, nlprnn_error *err) {
    int r = find_row(name);
    if (r >= 0) return r;
    char known[400];
    size_t n = 0;
    known[0] = 0;
    for (size_t i = 0; i < N_PARAM_NAMES && n < sizeof known; i++)
        n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "", param_names[i].name);
    nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tokenizer parameter '%s' does not exist (known: %s)",
            name ? name : "(null)", known);
    return -1;
}

static int range_fail(nlprnn_error *err, const char *name, long long v, long long lo,
                      long long hi) {
    return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                   "tokenizer parameter %s: %lld is out of range [%lld, %lld]", name, v, lo, hi);
}

/* Row r (not the pattern) set to v, the index of a value's name for a string-valued row, after
 * its range check: a refused value leaves the field as it was. */
static int param_store(nlprnn_tokenizer_params *o, int r, long long v, nlprnn_error *err) {
    long long lo = param_names[r].choices ? 0 : param_names[r].lo;
    long long hi = param_names[r].choices ? param_names[r].nchoices - 1 : param_names[r].hi;
    if (v < lo || v > hi) return range_fail(err, param_names[r].name, v, lo, hi);
    void *f = (char *)o + param_names[r].off;
    if (param_names[r].size == sizeof(int)) *(int *)f = (int)v;
    else *(long long *)f = v;
    return 0;
}

/* Row r's value (not the pattern), as param_store takes it. */
static long long param_load(const nlprnn_tokenizer_params *o, int r) {
    const void *f = (const char *)o + param_names[r].off;
    return param_names[r].size == sizeof(int) ? *(const int *)f : *(const long long *)f;
}

/* Row r set from its text: the pattern compiled to check it ("" or NULL: the default pattern),
 * a value's name looked up, an integer parsed. */
static int param_set_text(nlprnn_tokenizer_params *o, int r, const char *value, nlprnn_error *err) {
    const char *name = param_names[r].name;
    if (!param_names[r].size) {
        nr_pretok pt;
        int rc = nr_pretok_init(&pt, value, err);
        if (rc) return rc;
        nr_pretok_free(&pt);
        char *c = nr_strdup(value && *value ? value : NULL);
        if (value && *value && !c) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        free(o->pattern);
        o->pattern = c;
        return 0;
    }
    if (!value) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tokenizer option value is NULL");
    if (param_names[r].choices) {
        const char *const *names = param_names[r].choices;
        int nnames = param_names[r].nchoices;
        int i = name_index(names, nnames, value);
        if (i < 0) {
            char list[128] = "";
            for (int k = 0; k < nnames; k++) {
                strcat(list, k ? ", " : "");
                strcat(list, names[k]);
            }
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "tokenizer parameter %s: unknown value '%s' (expected one of: %s)", name,
                           value, list);
        }
        return param_store(o, r, i, err);
    }
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "tokenizer parameter %s: '%s' is not an integer", name, value);
    return param_store(o, r, v, err);
}

int nlprnn_tokenizer_params_set(nlprnn_tokenizer_params *p, const char *name, const char *value,
                                nlprnn_error *err) {
    int r = param_row(name, err);
    if (r < 0) return NLPRNN_E_INVALID_ARG;
    if (!p) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "options is NULL");
    return param_set_text(p, r, value, err);
}

int nlprnn_tokenizer_params_get(const nlprnn_tokenizer_params *p, const char *name, char *buf,
                                size_t cap, nlprnn_error *err) {
    if (!p || !buf || !cap) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "tokenizer parameters: NULL argument");
    int r = param_row(name, err);
    if (r < 0) return NLPRNN_E_INVALID_ARG;
    char tmp[64];
    const char *text = tmp;
    if (!param_names[r].size) {
        text = p->pattern ? p->pattern : "";
    } else {
        long long v = param_load(p, r);
        if (param_names[r].choices && v >= 0 && v < param_names[r].nchoices) text = param_names[r].choices[v];
        else snprintf(tmp, sizeof tmp, "%lld", v);
    }
    if (strlen(text) >= cap)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "tokenizer parameter %s: the value needs %zu bytes", name,
                       strlen(text) + 1);
    memcpy(buf, text, strlen(text) + 1);
    return 0;
}

/* ---- deprecated: the 0.1 functions by enum (docs/api.md "Changes in 0.2"), thin wrappers over
 * the parameters by name; 0.3 removes this section and nothing else ----------------------------- */

/* The enum functions take and give the stored values, which their macros name. */
_Static_assert(NLPRNN_TOKMODEL_BPE == NR_MODEL_BPE && NLPRNN_TOKMODEL_WORD == NR_MODEL_WORD &&
                   NLPRNN_NORM_NFKC == NR_NORM_NFKC && NLPRNN_NORM_NFC == NR_NORM_NFC &&
                   NLPRNN_NORM_NFKC_CF == NR_NORM_NFKC_CF && NLPRNN_NORM_NONE == NR_NORM_NONE,
               "the 0.1 value macros are the stored values");

/* The row of a 0.1 option number, or -1. */
static int opt_row(nlprnn_tokopt opt) {
    static const char *const opt_names[] = {
        [NLPRNN_TOKOPT_MODEL] = "model-type",
        [NLPRNN_TOKOPT_VOCAB_SIZE] = "vocab-size",
        [NLPRNN_TOKOPT_MIN_COUNT] = "min-count",
        [NLPRNN_TOKOPT_NORMALIZATION] = "normalization",
        [NLPRNN_TOKOPT_CONTROL_CHARS] = "control-chars",
        [NLPRNN_TOKOPT_HANGUL_JAMO] = "hangul-jamo",
        [NLPRNN_TOKOPT_INVALID_UTF8] = "invalid-utf8",
        [NLPRNN_TOKOPT_PATTERN] = "pattern",
        [NLPRNN_TOKOPT_SEED] = "seed",
        [NLPRNN_TOKOPT_THREADS] = "threads",
        [NLPRNN_TOKOPT_BYTE_FALLBACK] = "byte-fallback",
        [NLPRNN_TOKOPT_CHAR_COVERAGE_PPM] = "char-coverage-ppm",
        [NLPRNN_TOKOPT_MAX_PIECE_CHARS] = "max-piece-chars",
        [NLPRNN_TOKOPT_SAMPLE_LINES] = "sample-lines",
    };
    int i = (int)opt;
    return i >= 0 && i < (int)(sizeof opt_names / sizeof opt_names[0]) ? find_row(opt_names[i]) : -1;
}

int nlprnn_tokenizer_options_set_int(nlprnn_tokenizer_params *o, nlprnn_tokopt opt,
                                     long long v, nlprnn_error *err) {
    if (!o) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "options is NULL");
    int r = opt_row(opt);
    if (r < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "unknown tokenizer option %d", (int)opt);
    if (!param_names[r].size)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "tokenizer option pattern takes a string (use set_str)");
    return param_store(o, r, v, err);
}

int nlprnn_tokenizer_options_get_int(const nlprnn_tokenizer_params *o, nlprnn_tokopt opt,
                                     long long *value, nlprnn_error *err) {
    if (!o || !value) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "options_get_int: NULL argument");
    int r = opt_row(opt);
    if (r < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "unknown tokenizer option %d", (int)opt);
    if (!param_names[r].size)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "tokenizer option pattern is a string (no integer value)");
    *value = param_load(o, r);
    return 0;
}

int nlprnn_tokenizer_options_set_str(nlprnn_tokenizer_params *o, nlprnn_tokopt opt,
                                     const char *value, nlprnn_error *err) {
    if (!o) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "options is NULL");
    int r = opt_row(opt);
    if (r < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "unknown tokenizer option %d", (int)opt);
    return param_set_text(o, r, value, err);
}

/* ---- tokenizer basics --------------------------------------------------------------------- */

void nlprnn_tokenizer_free(nlprnn_tokenizer *tok) {
    if (!tok) return;
    nr_pretok_free(&tok->pt);
    nr_vocab_free(&tok->vocab);
    nr_merges_free(&tok->merges);
    free(tok->tables);
    free(tok);
}

int nr_tokenizer_finish(nlprnn_tokenizer *tok, nlprnn_error *err) {
    tok->ws_id = nr_vocab_find(&tok->vocab, NLPRNN_WORD_START, 3);
    uint64_t h = nr_hash_bytes(tok->pt.pattern ? tok->pt.pattern : "", tok->pt.pattern ? strlen(tok->pt.pattern) : 0);
    /* A loaded vocabulary's pieces lie one after the other, each with its NUL, in the arena:
     * one pass over those bytes then stands for them all, instead of a second hash of every
     * piece after vocab_put's. The value only needs to differ between vocabularies, not to be the same
     * for one vocabulary built two ways. */
    const nr_vocab *v = &tok->vocab;
    int32_t i = 1;
    while (i < v->n && v->piece[i] == v->piece[i - 1] + v->len[i - 1] + 1) i++;
    if (v->n && i == v->n)
        h = h * 31 + nr_hash_bytes(v->piece[0], (size_t)(v->piece[i - 1] - v->piece[0]) + v->len[i - 1]);
    else
        for (i = 0; i < v->n; i++) h = h * 31 + nr_hash_bytes(v->piece[i], v->len[i]);
    if (tok->merges.n) h ^= nr_hash_bytes(tok->merges.rule, (size_t)tok->merges.n * 3 * sizeof(int32_t));
    h ^= (uint64_t)(tok->model * 7 + tok->norm.form * 11 + tok->norm.control * 13 +
                    tok->norm.jamo * 17 + tok->norm.invalid * 19 + tok->byte_fallback * 23);
    tok->fingerprint = h;
    snprintf(tok->describe, sizeof tok->describe,
             "model=%s vocab=%d merges=%d normalization=%s control_chars=%s hangul_jamo=%d "
             "invalid_utf8=%s byte_fallback=%d pattern=%s",
             model_names[tok->model], (int)tok->vocab.n, (int)tok->merges.n,
             norm_names[tok->norm.form], ctrl_names[tok->norm.control], tok->norm.jamo,
             invalid_names[tok->norm.invalid], tok->byte_fallback,
             tok->pt.pattern && *tok->pt.pattern ? "custom" : "default");
    (void)err;
    return 0;
}

int32_t nlprnn_tokenizer_vocab_size(const nlprnn_tokenizer *tok) { return tok ? tok->vocab.n : 0; }

const char *nlprnn_tokenizer_piece(const nlprnn_tokenizer *tok, int32_t id) {
    if (!tok || id < 0 || id >= tok->vocab.n) return NULL;
    return tok->vocab.piece[id];
}

int32_t nlprnn_tokenizer_piece_id(const nlprnn_tokenizer *tok, const char *piece) {
    if (!tok || !piece) return -1;
    return nr_vocab_find(&tok->vocab, piece, strlen(piece));
}

int nlprnn_tokenizer_piece_is_word_start(const nlprnn_tokenizer *tok, int32_t id) {
    if (!tok || id < 0 || id >= tok->vocab.n || tok->vocab.kind[id] != NR_PIECE_NORMAL) return 0;
    return tok->vocab.len[id] >= 3 && memcmp(tok->vocab.piece[id], NLPRNN_WORD_START, 3) == 0;
}

int nlprnn_tokenizer_piece_is_special(const nlprnn_tokenizer *tok, int32_t id) {
    return tok && id >= 0 && id < NLPRNN_NUM_SPECIAL_IDS && id < tok->vocab.n;
}

int nlprnn_tokenizer_piece_is_byte(const nlprnn_tokenizer *tok, int32_t id) {
    return tok && id >= 0 && id < tok->vocab.n && tok->vocab.kind[id] == NR_PIECE_BYTE;
}

const char *nlprnn_tokenizer_model_name(const nlprnn_tokenizer *tok) {
    return tok ? model_names[tok->model] : NULL;
}

const char *nlprnn_tokenizer_describe(const nlprnn_tokenizer *tok) {
    return tok ? tok->describe : NULL;
}

int nlprnn_tokenizer_normalize(const nlprnn_tokenizer *tok, const char *text, size_t len,
                               char **out, size_t *out_len, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!tok || (!text && len) || !out)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "normalize: NULL argument");
    nr_normbuf nb = {0};
    int rc = nr_normalize(&tok->norm, 0, text ? text : "", len, &nb, 0, err);
    if (rc) {
        nr_normbuf_free(&nb);
        return rc;
    }
    char *s = malloc(nb.len + 1);
    if (!s) {
        nr_normbuf_free(&nb);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    if (nb.len) memcpy(s, nb.text, nb.len);
    s[nb.len] = '\0';
    *out = s;
    if (out_len) *out_len = nb.len;
    nr_normbuf_free(&nb);
    return 0;
}

/* ---- encoding ----------------------------------------------------------------------------- */

typedef struct cache_entry {
    uint64_t hash;   /* 0 = empty */
    uint32_t koff, klen;
    uint32_t voff, vn;
} cache_entry;

struct nlprnn_encoding {
    int32_t *ids;     /* (n) */
    size_t *offs;     /* (n,2) */
    size_t n, cap;
    nr_normbuf nb;
    nr_segvec segs;
    nr_symbuf sb;
    pcre2_match_data *md;
    const pcre2_code *md_code;
    /* chunk cache: normalized chunk bytes -> (id, start, end) triples */
    const nlprnn_tokenizer *ctok;
    uint64_t cfp;
    cache_entry *slots;
    uint32_t used;
    char *kpool;
    size_t klen, kcap;
    uint32_t *vpool;
    size_t vlen, vcap;
    nr_bpe_drop *drop;  /* set during nlprnn_tokenizer_encode_sample with dropout > 0: no cache */
};

int nlprnn_encoding_create(nlprnn_encoding **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encoding: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out ? 0 : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "encoding: out of memory");
}

void nlprnn_encoding_free(nlprnn_encoding *enc) {
    if (!enc) return;
    free(enc->ids);
    free(enc->offs);
    nr_normbuf_free(&enc->nb);
    free(enc->segs.v);
    nr_symbuf_free(&enc->sb);
    pcre2_match_data_free(enc->md);
    free(enc->slots);
    free(enc->kpool);
    free(enc->vpool);
    free(enc);
}

size_t nlprnn_encoding_size(const nlprnn_encoding *enc) { return enc ? enc->n : 0; }
/* Never NULL for an encoding, also before its first encode or after an empty one (callers may
 * memcpy 0 ids from it); NULL only for enc NULL. */
static const int32_t no_ids[1];
static const size_t no_offs[2];
const int32_t *nlprnn_encoding_ids(const nlprnn_encoding *enc) {
    return !enc ? NULL : enc->ids ? enc->ids : no_ids;
}
const size_t *nlprnn_encoding_offsets(const nlprnn_encoding *enc) {
    return !enc ? NULL : enc->offs ? enc->offs : no_offs;
}

static void cache_clear(nlprnn_encoding *enc) {
    if (enc->slots) memset(enc->slots, 0, CACHE_SLOTS * sizeof *enc->slots);
    enc->used = 0;
    enc->klen = 0;
    enc->vlen = 0;
}

static int out_reserve(nlprnn_encoding *enc, size_t need) {
    if (need <= enc->cap) return 0;
    size_t cap = enc->cap ? enc->cap : 256;
    while (cap < need) cap *= 2;
    int32_t *ids = nr_realloc_array(enc->ids, cap, sizeof *ids);
    if (!ids) return -1;
    enc->ids = ids;
    size_t *o = nr_realloc_array(enc->offs, cap, 2 * sizeof *o);
    if (!o) return -1;
    enc->offs = o;
    enc->cap = cap;
    return 0;
}

/* Encode chunk c[0..n) (a word start unless cut inside a long run) into enc->sb as
 * (id, start, end) relative to c. */
static int encode_chunk(const nlprnn_tokenizer *tok, nlprnn_encoding *enc, const char *c,
                        size_t n, int word_start) {
    enc->segs.n = 0;
    enc->sb.n = 0;
    if (nr_pretokenize_chunk(&tok->pt, enc->md, c, n, word_start, &enc->segs)) return -1;
    for (size_t k = 0; k < enc->segs.n; k++) {
        const nr_segment *g = &enc->segs.v[k];
        size_t first = enc->sb.n;
        if (g->is_mask) {
            if (nr_symbuf_reserve(&enc->sb, first + 1)) return -1;
            enc->sb.id[first] = NLPRNN_ID_MASK;
            enc->sb.start[first] = 0;
            enc->sb.end[first] = g->end - g->begin;
            enc->sb.n++;
        } else {
            int rc = tok->model == NR_MODEL_WORD
                         ? nr_word_encode_segment(tok, c + g->begin, g->end - g->begin,
                                                  g->word_start, &enc->sb)
                         : nr_bpe_encode_segment(tok, c + g->begin, g->end - g->begin,
                                                 g->word_start, &enc->sb, enc->drop);
            if (rc) return -1;
        }
        for (size_t i = first; i < enc->sb.n; i++) {
            enc->sb.start[i] += g->begin;
            enc->sb.end[i] += g->begin;
        }
    }
    return 0;
}

/* Look chunk up in the cache; on a miss encode it and remember it. Leaves the result as
 * *vals (triples) and *nv. */
static int chunk_ids(const nlprnn_tokenizer *tok, nlprnn_encoding *enc, const char *c, size_t n,
                     const uint32_t **vals, size_t *nv) {
    if (n > CACHE_MAX_KEY) goto uncached;
    if (!enc->slots) {
        enc->slots = calloc(CACHE_SLOTS, sizeof *enc->slots);
        if (!enc->slots) goto uncached;
    }
    uint64_t h = nr_hash_bytes(c, n) | 1;
    uint32_t m = CACHE_SLOTS - 1, s = (uint32_t)h & m;
    for (;;) {
        cache_entry *e = &enc->slots[s];
        if (!e->hash) break;
        if (e->hash == h && e->klen == n && memcmp(enc->kpool + e->koff, c, n) == 0) {
            *vals = enc->vpool + e->voff;
            *nv = e->vn;
            return 0;
        }
        s = (s + 1) & m;
    }
    if (encode_chunk(tok, enc, c, n, 1)) return -1;
    size_t vn = enc->sb.n;
    if (enc->used >= CACHE_MAX_USED || enc->klen + n > (1u << 22) ||
        enc->vlen + 3 * vn > (1u << 22)) {
        cache_clear(enc);
        s = (uint32_t)h & m;
        while (enc->slots[s].hash) s = (s + 1) & m;
    }
    if (enc->klen + n > enc->kcap) {
        size_t cap = enc->kcap ? enc->kcap * 2 : 65536;
        while (cap < enc->klen + n) cap *= 2;
        char *k = realloc(enc->kpool, cap);
        if (!k) goto store_failed;
        enc->kpool = k;
        enc->kcap = cap;
    }
    if (enc->vlen + 3 * vn > enc->vcap) {
        size_t cap = enc->vcap ? enc->vcap * 2 : 65536;
        while (cap < enc->vlen + 3 * vn) cap *= 2;
        uint32_t *v = nr_realloc_array(enc->vpool, cap, sizeof *v);
        if (!v) goto store_failed;
        enc->vpool = v;
        enc->vcap = cap;
    }
    cache_entry *e = &enc->slots[s];
    e->hash = h;
    e->koff = (uint32_t)enc->klen;
    e->klen = (uint32_t)n;
    e->voff = (uint32_t)enc->vlen;
    e->vn = (uint32_t)vn;
    memcpy(enc->kpool + enc->klen, c, n);
    enc->klen += n;
    for (size_t i = 0; i < vn; i++) {
        enc->vpool[enc->vlen + 3 * i] = (uint32_t)enc->sb.id[i];
        enc->vpool[enc->vlen + 3 * i + 1] = enc->sb.start[i];
        enc->vpool[enc->vlen + 3 * i + 2] = enc->sb.end[i];
    }
    enc->vlen += 3 * vn;
    enc->used++;
    *vals = enc->vpool + e->voff;
    *nv = vn;
    return 0;
store_failed:
uncached:
    if (encode_chunk(tok, enc, c, n, 1)) return -1;
    *vals = NULL;
    *nv = enc->sb.n;
    return 0;
}

/* End of the encoding window that starts at from. Preferred: just after the last ASCII
 * whitespace byte in the second half of the next ENCODE_WINDOW bytes (the windows then encode
 * exactly like the whole text). In a longer whitespace-free run: the last place there where
 * nr_can_cut allows a cut, else the first whitespace or allowed cut beyond; *mid = 1 then, and
 * the next window's first piece continues the word (as at a NR_MAX_SEGMENT_BYTES cut). Every
 * byte is looked at a bounded number of times, so windowing stays linear. */
static size_t window_end(const char *t, size_t from, size_t len, int *mid) {
    *mid = 0;
    if (len - from <= ENCODE_WINDOW) return len;
    size_t lim = from + ENCODE_WINDOW, half = from + ENCODE_WINDOW / 2;
    for (size_t i = lim; i > half; i--)
        if (is_ascii_space(t[i - 1])) return i;
    for (size_t i = lim; i > half; i--)
        if (nr_can_cut(t, len, i)) return *mid = 1, i;
    for (size_t i = lim; i < len; i++) {
        if (is_ascii_space(t[i])) return i + 1;
        if (nr_can_cut(t, len, i)) return *mid = 1, i;
    }
    return len;
}

/* Append the ids and original offsets of the normalized window in enc->nb to enc. cont: the
 * window's first chunk continues a word cut at the end of the previous window. */
static int encode_normalized(const nlprnn_tokenizer *tok, nlprnn_encoding *enc, int cont) {
    const char *s = enc->nb.text;
    size_t n = enc->nb.len, b = 0;
    while (b < n) {
        const char *sp = memchr(s + b, ' ', n - b);
        size_t e = sp ? (size_t)(sp - s) : n;
        const uint32_t *vals;
        size_t nv;
        if ((b == 0 && cont) || enc->drop) { /* a sampled encoding is not cached */
            if (encode_chunk(tok, enc, s + b, e - b, !(b == 0 && cont))) return -1;
            vals = NULL;
            nv = enc->sb.n;
        } else if (chunk_ids(tok, enc, s + b, e - b, &vals, &nv)) {
            return -1;
        }
        if (out_reserve(enc, enc->n + nv + 1)) return -1;
        for (size_t i = 0; i < nv; i++) {
            int32_t id;
            uint32_t ps, pe;
            if (vals) {
                id = (int32_t)vals[3 * i];
                ps = vals[3 * i + 1];
                pe = vals[3 * i + 2];
            } else {
                id = enc->sb.id[i];
                ps = enc->sb.start[i];
                pe = enc->sb.end[i];
            }
            size_t *o = enc->offs + 2 * enc->n;
            o[0] = enc->nb.obeg[b + ps];
            o[1] = pe > ps ? enc->nb.oend[b + pe - 1] : o[0];
            enc->ids[enc->n++] = id;
        }
        b = e + 1;
    }
    return 0;
}

/* Encode text[*pos..len) into enc (replacing its content): every window up to the end when
 * all != 0, else the one window starting at *pos; *pos advances past what was encoded. BOS goes
 * first when *pos is 0, EOS last when the end is reached. */
static int encode_from(const nlprnn_tokenizer *tok, const char *text, size_t len, size_t *pos,
                       int all, unsigned flags, nlprnn_encoding *enc, nlprnn_error *err) {
    if (enc) enc->n = 0;
    if (!tok || !enc || (!text && len) || !pos || *pos > len)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "encode: NULL argument or position");
    if (len > (size_t)INT32_MAX)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "encode: text of %zu bytes exceeds 2^31", len);
    if (enc->ctok != tok || enc->cfp != tok->fingerprint) {
        cache_clear(enc);
        enc->ctok = tok;
        enc->cfp = tok->fingerprint;
    }
    if (enc->md_code != tok->pt.code) {
        pcre2_match_data_free(enc->md);
        enc->md = pcre2_match_data_create_from_pattern(tok->pt.code, NULL);
        enc->md_code = enc->md ? tok->pt.code : NULL;
        if (!enc->md) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    const char *t = text ? text : "";
    size_t from = *pos;
    if ((flags & NLPRNN_ENCODE_BOS) && from == 0) {
        if (out_reserve(enc, 1)) goto nomem;
        enc->ids[0] = NLPRNN_ID_BOS;
        enc->offs[0] = enc->offs[1] = 0;
        enc->n = 1;
    }
    /* window by window: the scratch (normalized text + two offsets a byte) stays bounded. A
     * window that does not start after whitespace continues a word cut inside a long run. */
    do {
        int mid;
        int cont = from > 0 && !is_ascii_space(t[from - 1]);
        size_t to = window_end(t, from, len, &mid);
        int rc = nr_normalize_range(&tok->norm, tok->norm.jamo, t, from, to, &enc->nb, 1, err);
        if (rc) {
            enc->n = 0;
            return rc;
        }
        if (encode_normalized(tok, enc, cont)) goto nomem;
        from = to;
    } while (from < len && all);
    if ((flags & NLPRNN_ENCODE_EOS) && from == len) {
        if (out_reserve(enc, enc->n + 1)) goto nomem;
        enc->ids[enc->n] = NLPRNN_ID_EOS;
        enc->offs[2 * enc->n] = enc->offs[2 * enc->n + 1] = len;
        enc->n++;
    }
    *pos = from;
    return 0;
nomem:
    enc->n = 0;
    return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory while encoding");
}

int nlprnn_tokenizer_encode_flags(const nlprnn_tokenizer *tok, const char *text, size_t len,
                                  unsigned flags, nlprnn_encoding *enc, nlprnn_error *err) {
    size_t pos = 0;
    return encode_from(tok, text, len, &pos, 1, flags, enc, err);
}

int nlprnn_tokenizer_encode_part(const nlprnn_tokenizer *tok, const char *text, size_t len,
                                 size_t *pos, unsigned flags, nlprnn_encoding *enc,
                                 nlprnn_error *err) {
    return encode_from(tok, text, len, pos, 0, flags, enc, err);
}

int nlprnn_tokenizer_encode(const nlprnn_tokenizer *tok, const char *text, size_t len,
                            nlprnn_encoding *enc, nlprnn_error *err) {
    return nlprnn_tokenizer_encode_flags(tok, text, len, 0, enc, err);
}

int nlprnn_tokenizer_encode_sample(const nlprnn_tokenizer *tok, const char *text, size_t len,
                                   unsigned flags, double dropout, uint64_t seed,
                                   nlprnn_encoding *enc, nlprnn_error *err) {
    if (enc) enc->n = 0;
    if (!(dropout >= 0.0 && dropout <= 1.0)) /* NaN too */
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "encode_sample: dropout %g is not in [0, 1]", dropout);
    if (tok && dropout > 0 && tok->model != NR_MODEL_BPE)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "encode_sample: dropout needs a BPE tokenizer (this one is %s)",
                       model_names[tok->model]);
    size_t pos = 0;
    if (dropout == 0.0 || !enc) return encode_from(tok, text, len, &pos, 1, flags, enc, err);
    nr_bpe_drop d;
    d.p = dropout;
    nr_rng_seed(&d.rng, seed);
    enc->drop = &d;
    int rc = encode_from(tok, text, len, &pos, 1, flags, enc, err);
    enc->drop = NULL;
    return rc;
}

/* ---- decoding ----------------------------------------------------------------------------- */

typedef struct strbuf {
    char *s;
    size_t n, cap;
    int oom;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) {
            b->oom = 1;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
}

/* Append raw bytes from byte pieces, replacing ill-formed subsequences with U+FFFD. */
static void put_bytes_checked(strbuf *b, const unsigned char *raw, size_t n) {
    size_t i = 0;
    while (i < n) {
        int32_t cp;
        int k = nr_utf8_decode(raw + i, n - i, &cp);
        if (k > 0 && cp != 0) {
            sb_put(b, (const char *)raw + i, (size_t)k);
            i += (size_t)k;
        } else {
            sb_put(b, "\xEF\xBF\xBD", 3);
            i += k < 0 ? (size_t)-k : 1;
        }
    }
}

static int decode_core(const nlprnn_tokenizer *tok, const int32_t *ids, size_t n, strbuf *b,
                       nlprnn_error *err) {
    unsigned char raw[256];
    size_t nraw = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= tok->vocab.n)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, (long long)i,
                           "decode: id %d at position %zu is out of range [0, %d)", (int)id, i,
                           (int)tok->vocab.n);
        int kind = tok->vocab.kind[id];
        if (kind == NR_PIECE_BYTE) {
            if (nraw == sizeof raw) { /* flush up to the last lead byte: keep a char whole */
                size_t k = nraw - 1;
                while (k > 0 && (raw[k] & 0xC0) == 0x80 && nraw - k < 4) k--;
                if (k == 0 || (raw[k] & 0xC0) == 0x80) k = nraw;
                put_bytes_checked(b, raw, k);
                memmove(raw, raw + k, nraw - k);
                nraw -= k;
            }
            raw[nraw++] = (unsigned char)(id - NLPRNN_NUM_SPECIAL_IDS);
            continue;
        }
        if (nraw) {
            put_bytes_checked(b, raw, nraw);
            nraw = 0;
        }
        if (kind == NR_PIECE_SPECIAL) {
            if (id == NLPRNN_ID_MASK) sb_put(b, "___", 3);
            else if (id == NLPRNN_ID_UNK) sb_put(b, "\xEF\xBF\xBD", 3);
            continue;
        }
        const char *p = tok->vocab.piece[id];
        size_t len = tok->vocab.len[id], j = 0;
        while (j < len) {
            if (len - j >= 3 && memcmp(p + j, NLPRNN_WORD_START, 3) == 0) {
                if (b->n) sb_put(b, " ", 1);
                j += 3;
                continue;
            }
            size_t k = j;
            while (k < len && !(len - k >= 3 && memcmp(p + k, NLPRNN_WORD_START, 3) == 0)) k++;
            sb_put(b, p + j, k - j);
            j = k;
        }
    }
    if (nraw) put_bytes_checked(b, raw, nraw);
    if (b->oom) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory while decoding");
    if (tok->norm.jamo && b->n) b->n = nr_compose_jamo(b->s, b->n);
    sb_put(b, "", 0);
    if (b->oom) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory while decoding");
    if (b->s) b->s[b->n] = '\0';
    return 0;
}

int nlprnn_tokenizer_decode_alloc(const nlprnn_tokenizer *tok, const int32_t *ids, size_t n,
                                  char **out, size_t *out_len, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!tok || (!ids && n) || !out)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "decode: NULL argument");
    strbuf b = {0};
    int rc = decode_core(tok, ids, n, &b, err);
    if (rc) {
        free(b.s);
        return rc;
    }
    if (!b.s) {
        b.s = calloc(1, 1);
        if (!b.s) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    *out = b.s;
    if (out_len) *out_len = b.n;
    return 0;
}

int nlprnn_tokenizer_decode(const nlprnn_tokenizer *tok, const int32_t *ids, size_t n, char *buf,
                            size_t cap, size_t *needed, nlprnn_error *err) {
    if (!tok || (!ids && n) || (!buf && cap))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "decode: NULL argument");
    strbuf b = {0};
    int rc = decode_core(tok, ids, n, &b, err);
    if (rc) {
        free(b.s);
        return rc;
    }
    if (needed) *needed = b.n;
    if (cap <= b.n) {
        free(b.s);
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1,
                       "decode: buffer of %zu bytes is too small (%zu needed with the NUL)", cap,
                       b.n + 1);
    }
    if (b.n) memcpy(buf, b.s, b.n);
    buf[b.n] = '\0';
    free(b.s);
    return 0;
}

/* ---- file format -------------------------------------------------------------------------- */

static void put_u32(strbuf *b, uint32_t v) {
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    sb_put(b, (const char *)c, 4);
}

/* The text header of a tokenizer file: every setting as key=value lines, in a fixed order. The
 * loader accepts only this exact text for the settings it parsed (so a file is self-consistent
 * and load + save gives back the same bytes). */
static int format_header(const nlprnn_tokenizer *tok, char *hdr, size_t cap) {
    return snprintf(hdr, cap,
                    "nlprnn tokenizer\nmodel=%s\nvocab_size=%d\nmerges=%d\nnormalization=%s\n"
                    "control_chars=%s\nhangul_jamo=%d\ninvalid_utf8=%s\nbyte_fallback=%d\n"
                    "max_piece_chars=%d\npattern=%s\ntrained_vocab_size=%lld\nmin_count=%lld\n"
                    "seed=%lld\nsample_lines=%lld\nchar_coverage_ppm=%lld\n",
                    model_names[tok->model], (int)tok->vocab.n, (int)tok->merges.n,
                    norm_names[tok->norm.form], ctrl_names[tok->norm.control], tok->norm.jamo,
                    invalid_names[tok->norm.invalid], tok->byte_fallback, tok->max_piece_chars,
                    tok->pt.pattern && *tok->pt.pattern ? "custom" : "default",
                    tok->trained_vocab_size, tok->min_count, tok->seed, tok->sample_lines,
                    tok->char_coverage_ppm);
}

int nlprnn_tokenizer_save_memory(const nlprnn_tokenizer *tok, void **buf, size_t *n,
                                 nlprnn_error *err) {
    if (buf) *buf = NULL;
    if (!tok || !buf || !n) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "save: NULL argument");
    char hdr[1024];
    int hl = format_header(tok, hdr, sizeof hdr);
    strbuf b = {0};
    sb_put(&b, TOK_MAGIC, 8);
    put_u32(&b, TOK_VERSION);
    put_u32(&b, 0); /* size, patched below */
    put_u32(&b, 0);
    put_u32(&b, (uint32_t)hl);
    sb_put(&b, hdr, (size_t)hl);
    size_t pl = tok->pt.pattern ? strlen(tok->pt.pattern) : 0;
    put_u32(&b, (uint32_t)pl);
    sb_put(&b, tok->pt.pattern ? tok->pt.pattern : "", pl);
    put_u32(&b, (uint32_t)tok->vocab.n);
    for (int32_t i = 0; i < tok->vocab.n; i++) {
        char k = (char)tok->vocab.kind[i];
        sb_put(&b, &k, 1);
        put_u32(&b, tok->vocab.len[i]);
        sb_put(&b, tok->vocab.piece[i], tok->vocab.len[i]);
    }
    put_u32(&b, (uint32_t)tok->merges.n);
    for (int32_t i = 0; i < 3 * tok->merges.n; i++) put_u32(&b, (uint32_t)tok->merges.rule[i]);
    if (b.oom) {
        free(b.s);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    if (!b.oom) {
        uint64_t total = (uint64_t)b.n + 4;
        for (int i = 0; i < 8; i++) b.s[12 + i] = (char)(total >> (8 * i));
    }
    put_u32(&b, nr_crc32(0, b.s, b.n));
    if (b.oom) {
        free(b.s);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    }
    *buf = b.s;
    *n = b.n;
    return 0;
}

int nlprnn_tokenizer_save(const nlprnn_tokenizer *tok, const char *path, nlprnn_error *err) {
    if (!path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "save: NULL path");
    void *buf;
    size_t n;
    int rc = nlprnn_tokenizer_save_memory(tok, &buf, &n, err);
    if (rc) return rc;
    rc = nr_atomic_write_file(path, buf, n, err);
    free(buf);
    return rc;
}

typedef struct reader {
    const unsigned char *p;
    size_t n, pos;
    const char *name;
} reader;

static int rd_u32(reader *r, uint32_t *v, const char *what, nlprnn_error *err) {
    if (r->n - r->pos < 4)
        return nr_fail(err, r->pos < 20 ? NLPRNN_E_TRUNCATED : NLPRNN_E_FORMAT, -1, (long long)r->pos,
                       "%s: byte %zu: %s does not fit in the file", r->name, r->pos, what);
    const unsigned char *c = r->p + r->pos;
    *v = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
    r->pos += 4;
    return 0;
}

static int rd_bytes(reader *r, size_t len, const unsigned char **out, const char *what,
                    nlprnn_error *err) {
    if (r->n - r->pos < len)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)r->pos,
                       "%s: byte %zu: %s does not fit in the file", r->name, r->pos, what);
    *out = r->p + r->pos;
    r->pos += len;
    return 0;
}

/* Find "key=" in the header and return its value (up to the newline) in out. */
static int hdr_get(const char *hdr, size_t hl, const char *key, char *out, size_t cap) {
    size_t kl = strlen(key);
    size_t i = 0;
    while (i < hl) {
        size_t e = i;
        while (e < hl && hdr[e] != '\n') e++;
        if (e - i > kl && memcmp(hdr + i, key, kl) == 0 && hdr[i + kl] == '=') {
            size_t vl = e - i - kl - 1;
            if (vl >= cap) vl = cap - 1;
            memcpy(out, hdr + i + kl + 1, vl);
            out[vl] = '\0';
            return 1;
        }
        i = e + 1;
    }
    return 0;
}

static int load_impl(const unsigned char *p, size_t n, const char *name, nlprnn_tokenizer **out,
                     nlprnn_error *err) {
    reader r = {p, n, 0, name};
    if (n < 8 || memcmp(p, TOK_MAGIC, 8) != 0)
        return nr_fail(err, NLPRNN_E_MAGIC, -1, 0, "%s: not an nlprnn tokenizer file (no %s magic)",
                       name, TOK_MAGIC);
    r.pos = 8;
    uint32_t version, hl, pl, np, nm;
    int rc;
    if ((rc = rd_u32(&r, &version, "the version", err))) return rc;
    if (version != TOK_VERSION)
        return nr_fail(err, NLPRNN_E_VERSION, -1, 8,
                       "%s: tokenizer format version %u (this build reads version %u)", name,
                       version, TOK_VERSION);
    uint32_t lo32, hi32;
    if ((rc = rd_u32(&r, &lo32, "the size", err)) || (rc = rd_u32(&r, &hi32, "the size", err)))
        return rc;
    uint64_t total = (uint64_t)lo32 | (uint64_t)hi32 << 32;
    if (total < 24)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, 12, "%s: declared size %llu is impossible", name,
                       (unsigned long long)total);
    if ((uint64_t)n < total)
        return nr_fail(err, NLPRNN_E_TRUNCATED, -1, (long long)n,
                       "%s: file has %zu bytes, its header declares %llu (truncated)", name, n,
                       (unsigned long long)total);
    if ((uint64_t)n > total)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)total,
                       "%s: byte %llu: %llu unexpected bytes after the end", name,
                       (unsigned long long)total, (unsigned long long)(n - total));
    {
        const unsigned char *c = p + n - 4;
        uint32_t want = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
                        (uint32_t)c[3] << 24;
        if (want != nr_crc32(0, p, n - 4))
            return nr_fail(err, NLPRNN_E_CHECKSUM, -1, (long long)(n - 4),
                           "%s: checksum mismatch (file is corrupt)", name);
    }
    r.n = n - 4; /* the sections end where the CRC begins */
    const unsigned char *hdr = NULL, *pat = NULL;
    if ((rc = rd_u32(&r, &hl, "the header length", err))) return rc;
    if ((rc = rd_bytes(&r, hl, &hdr, "the header", err))) return rc;
    if ((rc = rd_u32(&r, &pl, "the pattern length", err))) return rc;
    if ((rc = rd_bytes(&r, pl, &pat, "the pattern", err))) return rc;
    if ((rc = rd_u32(&r, &np, "the piece count", err))) return rc;
    size_t pieces_at = r.pos;
    size_t text_bytes = 0; /* the pieces' texts, NULs included */
    for (uint32_t i = 0; i < np; i++) {
        const unsigned char *x = NULL;
        uint32_t len = 0;
        if ((rc = rd_bytes(&r, 1, &x, "a piece", err))) return rc;
        if ((rc = rd_u32(&r, &len, "a piece", err))) return rc;
        if ((rc = rd_bytes(&r, len, &x, "a piece", err))) return rc;
        text_bytes += (size_t)len + 1;
    }
    if ((rc = rd_u32(&r, &nm, "the merge count", err))) return rc;
    size_t merges_at = r.pos;
    if ((size_t)nm > (r.n - r.pos) / 12)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)r.pos,
                       "%s: byte %zu: the merges run past the end of the file", name, r.pos);
    r.pos += (size_t)nm * 12;
    if (r.pos != r.n)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)r.pos,
                       "%s: byte %zu: %zu unexpected bytes before the checksum", name, r.pos,
                       r.n - r.pos);

    nlprnn_tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    char v[64];
    const char *h = (const char *)hdr;
    struct { const char *key; const char *const *names; int nn; int *dst; } enums[] = {
        {"model", model_names, 2, &tok->model},
        {"normalization", norm_names, 4, &tok->norm.form},
        {"control_chars", ctrl_names, 3, &tok->norm.control},
        {"invalid_utf8", invalid_names, 2, &tok->norm.invalid}};
    for (size_t i = 0; i < sizeof enums / sizeof enums[0]; i++) {
        int k = hdr_get(h, hl, enums[i].key, v, sizeof v) ? name_index(enums[i].names, enums[i].nn, v) : -1;
        if (k < 0) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, 16, "%s: header: missing or bad '%s'", name,
                         enums[i].key);
            goto fail;
        }
        *enums[i].dst = k;
    }
    struct { const char *key; long long lo, hi; long long *dst; } ints[] = {
        {"hangul_jamo", 0, 1, NULL}, {"byte_fallback", 0, 1, NULL}, {"max_piece_chars", 1, 256, NULL},
        {"trained_vocab_size", 0, LLONG_MAX, &tok->trained_vocab_size},
        {"min_count", 0, LLONG_MAX, &tok->min_count}, {"seed", 0, LLONG_MAX, &tok->seed},
        {"sample_lines", 0, LLONG_MAX, &tok->sample_lines},
        {"char_coverage_ppm", 0, 1000000, &tok->char_coverage_ppm}};
    long long iv[8];
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        char *end;
        if (!hdr_get(h, hl, ints[i].key, v, sizeof v)) {
            iv[i] = 0;
            if (i < 3) { /* required */
                rc = nr_fail(err, NLPRNN_E_FORMAT, -1, 16, "%s: header: missing '%s'", name,
                             ints[i].key);
                goto fail;
            }
            continue;
        }
        iv[i] = strtoll(v, &end, 10);
        if (*end || iv[i] < ints[i].lo || iv[i] > ints[i].hi) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, 16, "%s: header: bad value '%s' for '%s'",
                         name, v, ints[i].key);
            goto fail;
        }
        if (ints[i].dst) *ints[i].dst = iv[i];
    }
    tok->norm.jamo = (int)iv[0];
    if (tok->norm.jamo && tok->norm.form == NR_NORM_NONE) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, 16,
                     "%s: header: hangul_jamo=1 needs a composing normalization", name);
        goto fail;
    }
    tok->byte_fallback = (int)iv[1];
    tok->max_piece_chars = (int)iv[2];
    char *pattern = malloc((size_t)pl + 1);
    if (!pattern) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        goto fail;
    }
    memcpy(pattern, pat, pl);
    pattern[pl] = '\0';
    if (strlen(pattern) != pl || nr_utf8_first_invalid(pattern, pl) != (size_t)-1) {
        free(pattern);
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: the pattern is not valid UTF-8", name);
        goto fail;
    }
    rc = nr_pretok_init(&tok->pt, pattern, err);
    free(pattern);
    if (rc == NLPRNN_E_REGEX) { /* the file is damaged (or from a PCRE2 that differs) */
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err ? err->message : "");
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: the stored %s", name, why);
    }
    if (rc) goto fail;
    /* the tables sized once for the file's pieces and merges (np and nm are bounded by the bytes
     * checked above) */
    if (nr_vocab_init(&tok->vocab) || np > INT32_MAX / 2 || nm > INT32_MAX / 2 ||
        !(tok->tables = nr_tok_tables(&tok->vocab, &tok->merges, (int32_t)np, text_bytes,
                                      (int32_t)nm))) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        goto fail;
    }
    uint32_t fixed = NLPRNN_NUM_SPECIAL_IDS + (tok->byte_fallback ? 256u : 0u);
    if (np < fixed) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)pieces_at,
                     "%s: %u pieces, fewer than the %u fixed ones", name, np, fixed);
        goto fail;
    }
    r.pos = pieces_at;
    for (uint32_t i = 0; i < np; i++) {
        size_t at = r.pos;
        int kind = p[r.pos];
        r.pos++;
        uint32_t len = 0;
        const unsigned char *x = NULL;
        rd_u32(&r, &len, "a piece", NULL);
        rd_bytes(&r, len, &x, "a piece", NULL);
        char fixed_name[8];
        int want = i < fixed ? nr_fixed_piece((int)i, fixed_name) : NR_PIECE_NORMAL;
        if (kind != want ||
            (i < fixed && (len != strlen(fixed_name) || memcmp(x, fixed_name, len))) ||
            len == 0 || nr_utf8_first_invalid((const char *)x, len) != (size_t)-1 ||
            memchr(x, 0, len)) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)at,
                         "%s: byte %zu: piece %u is malformed or misplaced", name, at, i);
            goto fail;
        }
        int32_t id = nr_vocab_add_new(&tok->vocab, (const char *)x, len, kind);
        if (id == -2) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)at,
                         "%s: byte %zu: piece %u is a duplicate", name, at, i);
            goto fail;
        }
        if (id < 0) {
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            goto fail;
        }
    }
    for (uint32_t i = 0; i < nm; i++) {
        size_t at = merges_at + (size_t)i * 12;
        r.pos = at;
        uint32_t a, bb, c;
        rd_u32(&r, &a, "", NULL);
        rd_u32(&r, &bb, "", NULL);
        rd_u32(&r, &c, "", NULL);
        const nr_vocab *vb = &tok->vocab;
        int ok = a < (uint32_t)vb->n && bb < (uint32_t)vb->n && c < (uint32_t)vb->n &&
                 vb->kind[a] == NR_PIECE_NORMAL && vb->kind[bb] == NR_PIECE_NORMAL &&
                 vb->len[c] == vb->len[a] + vb->len[bb] &&
                 memcmp(vb->piece[c], vb->piece[a], vb->len[a]) == 0 &&
                 memcmp(vb->piece[c] + vb->len[a], vb->piece[bb], vb->len[bb]) == 0;
        int added = ok ? nr_merges_add_new(&tok->merges, (int32_t)a, (int32_t)bb, (int32_t)c) : -2;
        if (added == -2) { /* malformed, or a pair already merged */
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)at,
                         "%s: byte %zu: merge %u is malformed", name, at, i);
            goto fail;
        }
        if (added) {
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            goto fail;
        }
    }
    if (tok->model == NR_MODEL_WORD && nm) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, (long long)merges_at,
                     "%s: a word-level tokenizer has merges", name);
        goto fail;
    }
    {
        char canon[1024];
        int cl = format_header(tok, canon, sizeof canon);
        if (cl < 0 || (uint32_t)cl != hl || memcmp(canon, hdr, hl) != 0) {
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, 20,
                         "%s: the header text does not match the file's settings (edited or "
                         "damaged)", name);
            goto fail;
        }
    }
    if ((rc = nr_tokenizer_finish(tok, err))) goto fail;
    *out = tok;
    return 0;
fail:
    nlprnn_tokenizer_free(tok);
    return rc;
}

int nlprnn_tokenizer_load_memory(const void *buf, size_t n, nlprnn_tokenizer **out,
                                 nlprnn_error *err) {
    if (out) *out = NULL;
    if (!buf || !out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "load: NULL argument");
    return load_impl(buf, n, "tokenizer", out, err);
}

/* The magic and the declared size (bytes 12..19) before the rest of the file is read. */
static int head_check(const unsigned char *h, size_t got, const char *path, uint64_t *declared,
                      nlprnn_error *err) {
    if (memcmp(h, TOK_MAGIC, got < 8 ? got : 8) != 0)
        return nr_fail(err, NLPRNN_E_MAGIC, -1, 0, "%s: not an nlprnn tokenizer file (no %s magic)",
                       path, TOK_MAGIC);
    if (got >= 20) {
        reader r = {h, got, 12, path};
        uint32_t lo = 0, hi = 0;
        rd_u32(&r, &lo, "the size", NULL);
        rd_u32(&r, &hi, "the size", NULL);
        *declared = (uint64_t)lo | (uint64_t)hi << 32;
    }
    return NLPRNN_OK;
}

int nlprnn_tokenizer_load(const char *path, nlprnn_tokenizer **out, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!path || !out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "load: NULL argument");
    char *data;
    size_t n;
    int rc = nr_read_file_checked(path, 20, head_check, &data, &n, (size_t)1 << 30, err);
    if (rc) return rc;
    rc = load_impl((const unsigned char *)data, n, path, out, err);
    free(data);
    return rc;
}
