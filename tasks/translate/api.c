/* tasks/translate/api.c: the public functions of nlprnn/translate.h that use a translator
 * (contexts and translation) and the corpus scores. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tasks/translate/score.h"
#include "tasks/translate/translate.h"

struct nlprnn_translate_ctx {
    const nlprnn_translator *t;
    nr_s2s_ws *ws;
    int ws_Ts, ws_B;       /* the workspace's capacity */
    int beam;
    double alpha, ratio;
    nlprnn_encoding *enc;
    int *src, *out;        /* (cap_src), (cap_out) */
    float *attn;           /* ((cap_out+1) * cap_src) */
    size_t cap_src, cap_out;
    size_t src_n, out_n;
    char *text;
    size_t text_len;
    double logp;
};

int nlprnn_translate_ctx_create(const nlprnn_translator *t, nlprnn_translate_ctx **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: out is NULL");
    *out = NULL;
    if (!t) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: translator is NULL");
    nlprnn_translate_ctx *c = calloc(1, sizeof *c);
    if (!c || nlprnn_encoding_create(&c->enc, NULL)) {
        free(c);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    }
    c->t = t, c->beam = 1, c->alpha = 1.0, c->ratio = 3.0, c->logp = NAN;
    *out = c;
    return NLPRNN_OK;
}

void nlprnn_translate_ctx_free(nlprnn_translate_ctx *c) {
    if (!c) return;
    nr_s2s_ws_free(c->ws);
    nlprnn_encoding_free(c->enc);
    free(c->src), free(c->out), free(c->attn), free(c->text);
    free(c);
}

int nlprnn_translate_ctx_set(nlprnn_translate_ctx *c, nlprnn_translate_opt opt, double v, nlprnn_error *err) {
    if (!c) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: context is NULL");
    switch (opt) {
    case NLPRNN_TRANSLATE_BEAM:
        if (!(v >= 1 && v <= 64) || v != floor(v))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: beam %g (1..64)", v);
        c->beam = (int)v;
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_LEN_ALPHA:
        if (!(v >= 0 && v <= 5)) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: len-alpha %g (0..5)", v);
        c->alpha = v;
        return NLPRNN_OK;
    case NLPRNN_TRANSLATE_MAX_RATIO:
        if (!(v >= 0.1 && v <= 100))
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: max-ratio %g (0.1..100)", v);
        c->ratio = v;
        return NLPRNN_OK;
    }
    return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: unknown option %d", (int)opt);
}

/* Room for n source tokens, max_len output tokens and the beam. */
static int reserve(nlprnn_translate_ctx *c, size_t n, size_t max_len, nlprnn_error *err) {
    if (!c->ws || c->ws_Ts < (int)n || c->ws_B < c->beam) {
        nr_s2s_ws_free(c->ws);
        int Ts = (int)n > c->ws_Ts ? (int)n : c->ws_Ts, B = c->beam > c->ws_B ? c->beam : c->ws_B;
        c->ws = nr_s2s_ws_create(&c->t->net, Ts, 1, B, 0, err);
        if (!c->ws) {
            c->ws_Ts = c->ws_B = 0;
            return err && err->code ? err->code : NLPRNN_E_NOMEM;
        }
        c->ws_Ts = Ts, c->ws_B = B;
    }
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

int nlprnn_translate(nlprnn_translate_ctx *c, const char *text, size_t len, nlprnn_error *err) {
    if (!c || (!text && len)) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: NULL argument");
    const nlprnn_translator *t = c->t;
    c->src_n = c->out_n = 0;
    c->logp = NAN;
    free(c->text);
    c->text = NULL, c->text_len = 0;
    size_t bad = text ? nr_utf8_check(text, len) : 0;
    if (bad < len) return nr_fail(err, NLPRNN_E_UTF8, -1, (long long)bad, "byte %zu: invalid UTF-8", bad);
    int rc = nlprnn_tokenizer_encode(t->tsrc, text ? text : "", len, c->enc, err);
    if (rc) return rc;
    size_t n = nlprnn_encoding_size(c->enc);
    if (n > NR_TR_MAX_SRC)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "translate: the text has %zu source tokens (at most %d)", n,
                       NR_TR_MAX_SRC);
    size_t max_len = n ? (size_t)ceil(c->ratio * (double)n) + 5 : 0;
    if (n) {
        rc = reserve(c, n, max_len, err);
        if (rc) return rc;
        const int32_t *ids = nlprnn_encoding_ids(c->enc);
        for (size_t i = 0; i < n; i++) c->src[i] = ids[i];
        int ol = 0;
        if (c->beam == 1)
            rc = nr_s2s_greedy(&t->net, c->ws, c->src, (int)n, (int)max_len, c->out, &ol, c->attn, &c->logp, err);
        else
            rc = nr_s2s_beam(&t->net, c->ws, c->src, (int)n, c->beam, (float)c->alpha, (int)max_len, c->out, &ol,
                             c->attn, &c->logp, err);
        if (rc) return rc;
        c->src_n = n, c->out_n = (size_t)ol;
    } else {
        c->logp = 0;
    }
    int32_t *ids = nr_malloc_array(c->out_n + 1, sizeof *ids);
    if (!ids) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    for (size_t i = 0; i < c->out_n; i++) ids[i] = c->out[i];
    rc = nlprnn_tokenizer_decode_alloc(t->ttgt, ids, c->out_n, &c->text, &c->text_len, err);
    free(ids);
    return rc;
}

const char *nlprnn_translate_text(const nlprnn_translate_ctx *c, size_t *len) {
    if (len) *len = c && c->text ? c->text_len : 0;
    return c ? c->text : NULL;
}

double nlprnn_translate_logprob(const nlprnn_translate_ctx *c) { return c ? c->logp : NAN; }
size_t nlprnn_translate_src_len(const nlprnn_translate_ctx *c) { return c ? c->src_n : 0; }
size_t nlprnn_translate_tgt_len(const nlprnn_translate_ctx *c) { return c ? c->out_n : 0; }

const char *nlprnn_translate_piece(const nlprnn_translate_ctx *c, int target, size_t i) {
    if (!c) return NULL;
    if (target) return i < c->out_n ? nlprnn_tokenizer_piece(c->t->ttgt, c->out[i]) : NULL;
    return i < c->src_n ? nlprnn_tokenizer_piece(c->t->tsrc, c->src[i]) : NULL;
}

const float *nlprnn_translate_attention(const nlprnn_translate_ctx *c) {
    return c && c->src_n ? c->attn : NULL;
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
