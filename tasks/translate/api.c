/* tasks/translate/api.c: the public functions of nlprnn/translate.h that use a translator
 * (contexts and translation) and the corpus scores. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tasks/translate/score.h"
#include "tasks/translate/translate.h"


struct nlprnn_translator_ctx {
    const nlprnn_translator *t;
    int nm;                              /* members (1: one model) */
    const nr_s2s *net[NR_S2S_MAX_ENS];   /* (nm) the members' networks */
    nr_s2s_ws *ws[NR_S2S_MAX_ENS];       /* (nm) a workspace each */
    int ws_Ts, ws_B;       /* the workspaces' capacity */
    int combine;           /* NR_COMBINE_* */
    int beam;
    int rows;              /* NLPRNN_TRANSLATE_BATCH: rows decoded at once by nlprnn_translate_batch */
    double alpha, ratio, reward, min_ratio;
    int min_from;
    nr_s2s_sample sample;
    nlprnn_encoding *enc;
    int *src, *out;        /* (cap_src), (cap_out) */
    float *attn;           /* ((cap_out+1) * cap_src) */
    size_t cap_src, cap_out;
    size_t src_n, out_n;
    char *text;
    size_t text_len;
    double logp;
    /* layer 0 of each member's encoder from a table of the source ids' projections, rows made
     * when a batch call first meets their id (have[id] = 1); tab_state -1: not used (a path
     * without the kernel, no memory) */
    float *ptab[NR_S2S_MAX_ENS];
    unsigned char *have;
    int tab_state;
    /* the last batch: texts, their lengths and log-probabilities */
    char **btext;
    size_t *blen;
    double *blogp;
    size_t bn;
};

/* The library's starting values of the options (a model file's DECO section overrides the word
 * reward, the minimum length and the combination rule: nr_tr_deco). */
#define DEF_BEAM 1
#define DEF_ROWS 64
#define DEF_ALPHA 1.0
#define DEF_RATIO 3.0
#define DEF_TEMPERATURE 1.0f
#define DEF_TOP_K 0
#define DEF_SEED 1
#define DEF_COMBINE NR_COMBINE_LOGP /* the better rule on the held-out pairs (docs/translate.md) */

/* A translation's text: the pieces decoded, then runs of spaces made one and the ends trimmed (a
 * decoder may write a lone word-start piece before another, "▁" "▁주말", which decodes to two
 * spaces; the tokenizer's decode keeps them, as a round trip of the source text must). */
static int decode_text(const nlprnn_tokenizer *tok, const int32_t *ids, size_t n, char **text, size_t *len,
                       nlprnn_error *err) {
    int rc = nlprnn_tokenizer_decode_alloc(tok, ids, n, text, len, err);
    if (rc || !*text) return rc;
    char *s = *text;
    size_t o = 0;
    for (size_t i = 0; i < *len; i++)
        if (s[i] != ' ' || (o > 0 && s[o - 1] != ' ')) s[o++] = s[i];
    while (o > 0 && s[o - 1] == ' ') o--;
    s[o] = '\0';
    *len = o;
    return NLPRNN_OK;
}

static void batch_clear(nlprnn_translator_ctx *c) {
    for (size_t i = 0; i < c->bn; i++) free(c->btext[i]);
    free(c->btext), free(c->blen), free(c->blogp);
    c->btext = NULL, c->blen = NULL, c->blogp = NULL, c->bn = 0;
}

int nlprnn_translator_ctx_create(const nlprnn_translator *t, nlprnn_translator_ctx **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: out is NULL");
    *out = NULL;
    if (!t) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: translator is NULL");
    nlprnn_translator_ctx *c = calloc(1, sizeof *c);
    if (!c || nlprnn_encoding_create(&c->enc, NULL)) {
        free(c);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    }
    /* the library's defaults, then the model's stored ones (nlprnn_translator_get_default) */
    c->t = t, c->beam = DEF_BEAM, c->rows = DEF_ROWS, c->alpha = DEF_ALPHA, c->ratio = DEF_RATIO, c->logp = NAN;
    c->sample = (nr_s2s_sample){0, DEF_TEMPERATURE, DEF_TOP_K, DEF_SEED};
    c->reward = t->deco.word_reward, c->min_ratio = t->deco.min_ratio, c->min_from = t->deco.min_from;
    c->combine = t->deco.combine >= 0 ? t->deco.combine : DEF_COMBINE;
    c->nm = nr_translator_members(t);
    for (int m = 0; m < c->nm; m++) c->net[m] = &nr_translator_member(t, m)->net;
    *out = c;
    return NLPRNN_OK;
}

void nlprnn_translator_ctx_free(nlprnn_translator_ctx *c) {
    if (!c) return;
    batch_clear(c);
    for (int m = 0; m < c->nm; m++) nr_s2s_ws_free(c->ws[m]), free(c->ptab[m]);
    free(c->have);
    nlprnn_encoding_free(c->enc);
    free(c->src), free(c->out), free(c->attn), free(c->text);
    free(c);
}

int nr_translate_opt_check(nlprnn_translator_opt opt, double v, nlprnn_error *err) {
    switch (opt) {
    case NLPRNN_TRANSLATE_BEAM:
        if (!(v >= 1 && v <= 64) || v != floor(v))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: beam %g (1..64)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_LEN_ALPHA:
        if (!(v >= 0 && v <= 5)) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: len-alpha %g (0..5)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_MAX_RATIO:
        if (!(v >= 0.1 && v <= 100))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: max-ratio %g (0.1..100)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_SAMPLE:
        if (v != 0 && v != 1) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: sample %g (0 or 1)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_TEMPERATURE:
        if (!(v >= 0.01 && v <= 100))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: temperature %g (0.01..100)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_TOP_K:
        if (!(v >= 0 && v <= 1000000) || v != floor(v))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: top-k %g (0..1000000)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_SEED:
        if (!(v >= 0 && v <= 9007199254740992.0) || v != floor(v))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: seed %g (an integer 0..2^53)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_WORD_REWARD:
        if (!(v >= -5 && v <= 5))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: word-reward %g (-5..5)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_MIN_RATIO:
        if (!(v >= 0 && v <= 100))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: min-ratio %g (0..100)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_MIN_FROM:
        if (!(v >= 0 && v <= NR_TR_MAX_SRC) || v != floor(v))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: min-from %g (an integer 0..%d)", v,
                           NR_TR_MAX_SRC);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_COMBINE:
        if (v != NR_COMBINE_PROB && v != NR_COMBINE_LOGP)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: combine %g (0 or 1)", v);
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_BATCH:
        if (!(v >= 1 && v <= 1024) || v != floor(v))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: batch %g (1..1024)", v);
        return NLPRNN_OK;
    }
    return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: unknown option %d", (int)opt);
}

int nlprnn_translator_ctx_set(nlprnn_translator_ctx *c, nlprnn_translator_opt opt, double v, nlprnn_error *err) {
    if (!c) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: context is NULL");
    int rc = nr_translate_opt_check(opt, v, err);
    if (rc) return rc;
    switch (opt) {
    case NLPRNN_TRANSLATE_BEAM: c->beam = (int)v; break;
    case NLPRNN_TRANSLATE_LEN_ALPHA: c->alpha = v; break;
    case NLPRNN_TRANSLATE_MAX_RATIO: c->ratio = v; break;
    case NLPRNN_TRANSLATE_SAMPLE: c->sample.on = (int)v; break;
    case NLPRNN_TRANSLATE_TEMPERATURE: c->sample.temperature = (float)v; break;
    case NLPRNN_TRANSLATE_TOP_K: c->sample.top_k = (int)v; break;
    case NLPRNN_TRANSLATE_SEED: c->sample.seed = (uint64_t)v; break;
    case NLPRNN_TRANSLATE_WORD_REWARD: c->reward = v; break;
    case NLPRNN_TRANSLATE_MIN_RATIO: c->min_ratio = v; break;
    case NLPRNN_TRANSLATE_MIN_FROM: c->min_from = (int)v; break;
    case NLPRNN_TRANSLATE_COMBINE: c->combine = (int)v; break;
    case NLPRNN_TRANSLATE_BATCH: c->rows = (int)v; break;
    }
    return NLPRNN_OK;
}

int nlprnn_translator_set_default(nlprnn_translator *t, nlprnn_translator_opt opt, double v, nlprnn_error *err) {
    if (!t) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: translator is NULL");
    nr_tr_deco d = t->deco;
    if (!nr_tr_deco_set(&d, opt, v))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "translate: option %d is not stored in a model file (only the word reward, the minimum "
                       "length ratio, the source length it starts from and the combination rule are)", (int)opt);
    int rc = nr_translate_opt_check(opt, v, err);
    if (rc) return rc;
    t->deco = d;
    nr_translator_summarize(t);
    return NLPRNN_OK;
}

int nlprnn_translator_get_default(const nlprnn_translator *t, nlprnn_translator_opt opt, double *value,
                                  nlprnn_error *err) {
    if (!t || !value) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: NULL argument");
    const nr_tr_deco *d = &t->deco;
    switch (opt) {
    case NLPRNN_TRANSLATE_BEAM: *value = DEF_BEAM; break;
    case NLPRNN_TRANSLATE_LEN_ALPHA: *value = DEF_ALPHA; break;
    case NLPRNN_TRANSLATE_MAX_RATIO: *value = DEF_RATIO; break;
    case NLPRNN_TRANSLATE_SAMPLE: *value = 0; break;
    case NLPRNN_TRANSLATE_TEMPERATURE: *value = DEF_TEMPERATURE; break;
    case NLPRNN_TRANSLATE_TOP_K: *value = DEF_TOP_K; break;
    case NLPRNN_TRANSLATE_SEED: *value = DEF_SEED; break;
    case NLPRNN_TRANSLATE_WORD_REWARD: *value = d->word_reward; break;
    case NLPRNN_TRANSLATE_MIN_RATIO: *value = d->min_ratio; break;
    case NLPRNN_TRANSLATE_MIN_FROM: *value = d->min_from; break;
    case NLPRNN_TRANSLATE_COMBINE: *value = d->combine >= 0 ? d->combine : DEF_COMBINE; break;
    case NLPRNN_TRANSLATE_BATCH: *value = DEF_ROWS; break;
    default: return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: unknown option %d", (int)opt);
    }
    return NLPRNN_OK;
}

/* A workspace for each member, for Ts source steps and B rows. */
static int reserve_ws(nlprnn_translator_ctx *c, int n, int rows, nlprnn_error *err) {
    if (!c->ws[0] || c->ws_Ts < n || c->ws_B < rows) {
        int Ts = n > c->ws_Ts ? n : c->ws_Ts, B = rows > c->ws_B ? rows : c->ws_B;
        c->ws_Ts = c->ws_B = 0;
        for (int m = 0; m < c->nm; m++) {
            /* a loaded translator never changes: the workspace keeps the decoder's packed
             * weights for the context's life (made by the first decoding, then kept, also when a
             * longer text or a wider beam needs a larger workspace) */
            nr_s2s_ws *w = nr_s2s_ws_create(c->net[m], Ts, 1, B, 0, err);
            if (w) nr_s2s_ws_keep_pack(w, 1);
            if (w && c->ws[m]) nr_s2s_ws_take_packs(w, c->ws[m]);
            nr_s2s_ws_free(c->ws[m]);
            c->ws[m] = w;
            if (!w) return err && err->code ? err->code : NLPRNN_E_NOMEM;
        }
        c->ws_Ts = Ts, c->ws_B = B;
    }
    return NLPRNN_OK;
}

/* The members of c's translator as an ensemble over c's workspaces. */
static nr_s2s_ens ens_of(const nlprnn_translator_ctx *c) {
    return (nr_s2s_ens){c->nm, c->net, c->ws, c->combine, c->reward, c->min_ratio, c->min_from};
}

/* Room for n source tokens, max_len output tokens and the beam. */
static int reserve(nlprnn_translator_ctx *c, size_t n, size_t max_len, nlprnn_error *err) {
    int rc = reserve_ws(c, (int)n, c->beam, err);
    if (rc) return rc;
    if (n > c->cap_src || max_len > c->cap_out) {
        size_t cs = n > c->cap_src ? n : c->cap_src, co = max_len > c->cap_out ? max_len : c->cap_out;
        int *s = nr_realloc_array(c->src, cs, sizeof *s);
        if (s) c->src = s;
        int *o = nr_realloc_array(c->out, co, sizeof *o);
        if (o) c->out = o;
        float *a = nr_realloc_array(c->attn, (co + 1) * cs, sizeof *a);
        if (a) c->attn = a;
        if (!s || !o || !a) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
        c->cap_src = cs, c->cap_out = co;
    }
    return NLPRNN_OK;
}

/* Check and tokenize one text into c->enc; *n its tokens, *max_len the most target tokens. */
static int encode_text(nlprnn_translator_ctx *c, const char *text, size_t len, size_t *n, size_t *max_len,
                       nlprnn_error *err) {
    size_t bad = text ? nr_utf8_check(text, len) : 0;
    if (bad < len) return nr_fail(err, NLPRNN_E_UTF8, -1, (long long)bad, "byte %zu: invalid UTF-8", bad);
    int rc = nlprnn_tokenizer_encode(c->t->tsrc, text ? text : "", len, c->enc, err);
    if (rc) return rc;
    *n = nlprnn_encoding_size(c->enc);
    if (*n > NR_TR_MAX_SRC)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "translate: the text has %zu source tokens (at most %d)", *n,
                       NR_TR_MAX_SRC);
    *max_len = *n ? (size_t)ceil(c->ratio * (double)*n) + 5 : 0;
    return NLPRNN_OK;
}

/* Translate one text into c's single-text results (the batch results are left alone). */
static int translate_single(nlprnn_translator_ctx *c, const char *text, size_t len, nlprnn_error *err) {
    const nlprnn_translator *t = c->t;
    c->src_n = c->out_n = 0;
    c->logp = NAN;
    free(c->text);
    c->text = NULL, c->text_len = 0;
    size_t n = 0, max_len = 0;
    int rc = encode_text(c, text, len, &n, &max_len, err);
    if (rc) return rc;
    if (n) {
        rc = reserve(c, n, max_len, err);
        if (rc) return rc;
        const int32_t *ids = nlprnn_encoding_ids(c->enc);
        for (size_t i = 0; i < n; i++) c->src[i] = ids[i];
        int ol = 0, ml = (int)max_len, sl = (int)n;
        nr_s2s_ens e = ens_of(c);
        if (c->sample.on)
            rc = nr_s2s_ens_decode_batch(&e, c->src, &sl, sl, 1, &ml, &c->sample, c->out, ml, &ol, &c->logp, c->attn,
                                         err);
        else if (c->beam == 1)
            rc = nr_s2s_ens_greedy(&e, c->src, (int)n, (int)max_len, c->out, &ol, c->attn, &c->logp, err);
        else
            rc = nr_s2s_ens_beam(&e, c->src, (int)n, c->beam, (float)c->alpha, (int)max_len, c->out, &ol, c->attn,
                                 &c->logp, err);
        if (rc) return rc;
        c->src_n = n, c->out_n = (size_t)ol;
    } else {
        c->logp = 0;
    }
    int32_t *ids = nr_malloc_array(c->out_n + 1, sizeof *ids);
    if (!ids) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    for (size_t i = 0; i < c->out_n; i++) ids[i] = c->out[i];
    rc = decode_text(t->ttgt, ids, c->out_n, &c->text, &c->text_len, err);
    free(ids);
    return rc;
}

int nlprnn_translate(nlprnn_translator_ctx *c, const char *text, size_t len, nlprnn_error *err) {
    if (!c || (!text && len)) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: NULL argument");
    batch_clear(c);
    return translate_single(c, text, len, err);
}

const char *nlprnn_translate_text(const nlprnn_translator_ctx *c, size_t *len) {
    if (len) *len = c && c->text ? c->text_len : 0;
    return c ? c->text : NULL;
}

double nlprnn_translate_logprob(const nlprnn_translator_ctx *c) { return c ? c->logp : NAN; }
size_t nlprnn_translate_src_len(const nlprnn_translator_ctx *c) { return c ? c->src_n : 0; }
size_t nlprnn_translate_tgt_len(const nlprnn_translator_ctx *c) { return c ? c->out_n : 0; }

const char *nlprnn_translate_piece(const nlprnn_translator_ctx *c, int target, size_t i) {
    if (!c) return NULL;
    if (target) return i < c->out_n ? nlprnn_tokenizer_piece(c->t->ttgt, c->out[i]) : NULL;
    return i < c->src_n ? nlprnn_tokenizer_piece(c->t->tsrc, c->src[i]) : NULL;
}

const float *nlprnn_translate_attention(const nlprnn_translator_ctx *c) {
    return c && c->src_n ? c->attn : NULL;
}

/* ---- batches ---------------------------------------------------------------------------------------
 * The texts are tokenized, ordered by falling source length and decoded as one stream by
 * nr_s2s_ens_decode_stream in c->rows rows (a row that finishes takes the next text, so the rows
 * stay full; sources of like length are encoded together, with little padding); each keeps its
 * own length limit. */

typedef struct bsrc {
    int *ids;
    int n, max_len;
    size_t idx;
} bsrc;

static int by_n_desc(const void *a, const void *b) {
    const bsrc *x = a, *y = b;
    if (x->n != y->n) return x->n > y->n ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Layer 0's projection tables of c's members, with rows for every id of v[0..nv) (made by
 * nr_encoder_project_rows, the bits of the encodes' own product: nr_s2s_ws_set_table). Returns 1
 * when they may be used, 0 when not (nothing to gain, a path without the kernel, no memory: then
 * the encodes compute their projection, and the tables are not tried again but for NOMEM). */
#define NR_TR_TABLE_MAX_BYTES ((size_t)256 << 20)
static int table_fill(nlprnn_translator_ctx *c, const bsrc *v, size_t nv) {
    if (c->tab_state < 0) return 0;
    int Vs = c->net[0]->cfg.Vs;
    for (int m = 1; m < c->nm; m++)
        if (c->net[m]->cfg.Vs != Vs) return c->tab_state = -1, 0; /* the members share the tokenizer */
    size_t total = 0;
    for (size_t i = 0; i < nv; i++) total += (size_t)v[i].n;
    if (!c->have && total < (size_t)Vs / 4) return 0; /* a few texts: not worth the table's pages yet */
    if (!c->have) {
        for (int m = 0; m < c->nm; m++) {
            const nr_encoder *enc = &c->net[m]->enc;
            size_t row = (size_t)enc->dirs * enc->gates * enc->cfg.hidden;
            if ((size_t)Vs * row > NR_TR_TABLE_MAX_BYTES / sizeof(float)) return c->tab_state = -1, 0;
            if (!c->ptab[m] && !(c->ptab[m] = nr_big_alloc((size_t)Vs * row, sizeof(float)))) return 0;
        }
        if (!(c->have = calloc((size_t)Vs, 1))) return 0;
    }
    int *ids = nr_malloc_array((size_t)Vs, sizeof(int)); /* the new ids, each once */
    if (!ids) return 0;
    size_t n = 0;
    for (size_t i = 0; i < nv; i++)
        for (int j = 0; j < v[i].n; j++) {
            int id = v[i].ids[j];
            if (id < 0 || id >= Vs) { /* the embedding's forward reports it */
                for (size_t k = 0; k < n; k++) c->have[ids[k]] = 0;
                free(ids);
                return 0;
            }
            if (!c->have[id]) c->have[id] = 2, ids[n++] = id;
        }
    int ok = 1;
    for (int m = 0; ok && n && m < c->nm; m++) {
        const nr_s2s *net = c->net[m];
        const nr_encoder *enc = &net->enc;
        size_t row = (size_t)enc->dirs * enc->gates * enc->cfg.hidden, E = (size_t)net->E;
        float *x = nr_malloc_array(n * E, sizeof(float)), *rows = nr_malloc_array(n * row, sizeof(float));
        ok = x && rows;
        for (size_t k = 0; ok && k < n; k++) memcpy(x + k * E, net->src.table + (size_t)ids[k] * E, E * sizeof(float));
        if (ok && nr_encoder_project_rows(enc, x, (int)n, rows, NULL)) ok = 0, c->tab_state = -1;
        for (size_t k = 0; ok && k < n; k++) memcpy(c->ptab[m] + (size_t)ids[k] * row, rows + k * row, row * sizeof(float));
        free(x), free(rows);
    }
    for (size_t k = 0; k < n; k++) c->have[ids[k]] = ok ? 1 : 0;
    free(ids);
    return ok;
}

/* Decode the sources v[0..nv) (nv >= 1, longest first) into c's batch results. */
static int decode_stream(nlprnn_translator_ctx *c, const bsrc *v, size_t nv, nlprnn_error *err) {
    const nlprnn_translator *t = c->t;
    if (nv > INT_MAX) return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "translate: %zu texts in one batch", nv);
    int B = (size_t)c->rows < nv ? c->rows : (int)nv, L = 0;
    size_t room = 0;
    for (size_t i = 0; i < nv; i++) L = v[i].max_len > L ? v[i].max_len : L, room += (size_t)v[i].max_len;
    int rc = reserve_ws(c, v[0].n, B, err);
    if (rc) return rc;
    nr_s2s_job *job = nr_malloc_array(nv, sizeof *job);
    int *out = nr_malloc_array(room + 1, sizeof *out);
    int32_t *ids = nr_malloc_array((size_t)L + 1, sizeof *ids);
    if (!job || !out || !ids) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    for (size_t i = 0, o = 0; !rc && i < nv; o += (size_t)v[i].max_len, i++)
        job[i] = (nr_s2s_job){v[i].ids, v[i].n, v[i].max_len, out + o, 0, 0};
    nr_s2s_ens e = ens_of(c);
    int tab = !rc && table_fill(c, v, nv);
    for (int m = 0; tab && m < c->nm; m++) nr_s2s_ws_set_table(c->ws[m], c->ptab[m]);
    if (!rc) rc = nr_s2s_ens_decode_stream(&e, job, (int)nv, B, &c->sample, NULL, err);
    for (int m = 0; tab && m < c->nm; m++) nr_s2s_ws_set_table(c->ws[m], NULL);
    for (size_t i = 0; !rc && i < nv; i++) {
        size_t k = v[i].idx;
        for (int j = 0; j < job[i].out_len; j++) ids[j] = job[i].out[j];
        rc = decode_text(t->ttgt, ids, (size_t)job[i].out_len, &c->btext[k], &c->blen[k], err);
        c->blogp[k] = job[i].logp;
    }
    free(job), free(out), free(ids);
    return rc;
}

int nlprnn_translate_batch(nlprnn_translator_ctx *c, const char *const *texts, const size_t *lens, size_t n,
                           nlprnn_error *err) {
    if (!c || (n && (!texts || !lens)))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: NULL argument");
    batch_clear(c);
    c->src_n = c->out_n = 0;
    c->logp = NAN;
    free(c->text);
    c->text = NULL, c->text_len = 0;
    for (size_t i = 0; i < n; i++)
        if (!texts[i] && lens[i]) return nr_fail(err, NLPRNN_E_INVALID_ARG, (long long)i + 1, -1, "translate: text %zu is NULL", i + 1);
    c->btext = nr_calloc_array(n + 1, sizeof *c->btext);
    c->blen = nr_calloc_array(n + 1, sizeof *c->blen);
    c->blogp = nr_calloc_array(n + 1, sizeof *c->blogp);
    bsrc *v = nr_calloc_array(n + 1, sizeof *v);
    int rc = !c->btext || !c->blen || !c->blogp || !v ? nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory") : 0;
    if (!rc) c->bn = n;
    size_t nv = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (c->beam > 1 && !c->sample.on) { /* beam search: one text at a time */
            rc = translate_single(c, texts[i], lens[i], err);
            if (!rc) {
                c->btext[i] = c->text, c->blen[i] = c->text_len, c->blogp[i] = c->logp;
                c->text = NULL, c->text_len = 0;
            }
        } else {
            size_t k = 0, ml = 0;
            rc = encode_text(c, texts[i], lens[i], &k, &ml, err);
            if (!rc && k == 0) { /* an empty source: an empty translation */
                c->btext[i] = calloc(1, 1);
                if (!c->btext[i]) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
            } else if (!rc) {
                v[nv] = (bsrc){nr_malloc_array(k, sizeof(int)), (int)k, (int)ml, i};
                if (!v[nv].ids) {
                    rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
                } else {
                    const int32_t *tid = nlprnn_encoding_ids(c->enc);
                    for (size_t q = 0; q < k; q++) v[nv].ids[q] = tid[q];
                }
                nv++;
            }
        }
        if (rc && err) err->line = (long long)i + 1;
    }
    if (!rc) qsort(v, nv, sizeof *v, by_n_desc);
    if (!rc && nv) rc = decode_stream(c, v, nv, err);
    for (size_t j = 0; j < nv; j++) free(v[j].ids);
    free(v);
    c->src_n = c->out_n = 0;
    c->logp = NAN;
    if (rc) batch_clear(c);
    return rc;
}

const char *nlprnn_translate_batch_text(const nlprnn_translator_ctx *c, size_t i, size_t *len) {
    int ok = c && i < c->bn && c->btext[i];
    if (len) *len = ok ? c->blen[i] : 0;
    return ok ? c->btext[i] : NULL;
}

double nlprnn_translate_batch_logprob(const nlprnn_translator_ctx *c, size_t i) {
    return c && i < c->bn ? c->blogp[i] : NAN;
}

/* ---- scores ----------------------------------------------------------------------------------- */

static int check_texts(const char *const *hyps, const char *const *refs, size_t n, const char *what,
                       nlprnn_error *err) {
    if ((!hyps || !refs) && n) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: NULL texts", what);
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < 2; s++) {
            const char *x = s ? refs[i] : hyps[i];
            if (!x)
                return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "%s: %s %zu is NULL", what,
                               s ? "reference" : "hypothesis", i + 1);
            size_t l = strlen(x), b = nr_utf8_check(x, l);
            if (b < l)
                return nr_fail(err, NLPRNN_E_UTF8, (long long)i + 1, (long long)b,
                               "%s: %s %zu: byte %zu: invalid UTF-8", what, s ? "reference" : "hypothesis", i + 1, b);
        }
    return NLPRNN_OK;
}

int nlprnn_bleu(const char *const *hyps, const char *const *refs, size_t n, double *score, double *detail,
                nlprnn_error *err) {
    if (!score) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "bleu: score is NULL");
    *score = 0;
    int rc = check_texts(hyps, refs, n, "bleu", err);
    if (rc) return rc;
    nr_bleu_stats st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < n; i++)
        if (nr_bleu_add(&st, hyps[i], refs[i])) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "bleu: out of memory");
    *score = nr_bleu_score(&st, detail);
    return NLPRNN_OK;
}

int nlprnn_chrf(const char *const *hyps, const char *const *refs, size_t n, double *score, nlprnn_error *err) {
    if (!score) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "chrf: score is NULL");
    *score = 0;
    int rc = check_texts(hyps, refs, n, "chrf", err);
    if (rc) return rc;
    nr_chrf_stats st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < n; i++)
        if (nr_chrf_add(&st, hyps[i], refs[i])) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "chrf: out of memory");
    *score = nr_chrf_score(&st);
    return NLPRNN_OK;
}
