/* tasks/translate/file.c: translator model files (kind "TRNS", docs/formats.md).
 *
 * Sections: CONF (every training parameter of the table but those of NOT_STORED below: the
 * checkpoint ones, keep, the files training read and the decoding defaults, which go to DECO;
 * src_vocab_size, tgt_vocab_size, n_params, epochs_run, best_epoch and, when there was
 * validation, valid_loss),
 * TOKS (the source tokenizer, raw), TOKT (the target tokenizer; absent when joint=1), WGHT
 * (the flat block of tasks/translate/seq2seq.h): store=f32 or f16, ONE tensor "params"
 * (n_params) in float32 or float16; store=int8, one tensor per part of the block (nr_s2s_parts,
 * in the block's order): each matrix (rows, cols) int8 with one float32 scale per row, each vector
 * float32 (a file holding an int8 member says format version 2, so older builds refuse it with
 * NLPRNN_E_VERSION instead of misreading it). Every part is read back as float32 into its place
 * in the one block (load: int8 -> float32, as float16 is), so decoding is the same code for all.
 * The loader checks everything before it uses it: the parameters against their ranges, the
 * tokenizers' sizes against CONF, the weight count against the sizes (before allocating), every
 * weight finite.
 *
 * An ensemble of N members (2..NR_S2S_MAX_ENS) in one file: member 1 is the sections above (so a
 * program that does not know ensembles reads member 1 alone), ENSM (config: members=N), and for
 * member k = 2..N its own CFkk (its CONF) and WGkk (its WGHT), kk = k - 1 as two digits: CF01,
 * WG01, CF02, ... The tokenizers are stored once; every member's CONF must give their sizes and the
 * same joint setting.
 *
 * DECO (config; absent when all are neutral, as in files made before it): the decoding defaults
 * (nr_tr_deco) a context of the translator starts with: word-reward and min-ratio (always), min-from
 * (written only when not 0, so files without it stay as they were), and combine (prob or logp;
 * absent: the library's rule). Written after the last member's sections. Keys this build does
 * not know are ignored (a later build may store more defaults; a build before DECO ignores the whole
 * section: the defaults are not the weights, so the format version stays 1); known keys out of range
 * are NLPRNN_E_FORMAT. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "format/params.h"
#include "models/quant.h"
#include "tasks/translate/translate.h"

/* CONF: the rest. The files training read (tokenizers, language models) are not the model's: the
 * tokenizers themselves are stored (TOKS, TOKT). */
static const char *const NOT_STORED[] = {"checkpoint", "checkpoint-every", "keep", "src-tokenizer",
                                         "tgt-tokenizer", "src-lm", "tgt-lm", "word-reward", "min-ratio",
                                         "min-from", NULL}; /* the last three: in DECO */
#define N_NOT_STORED (sizeof NOT_STORED / sizeof *NOT_STORED - 1)

/* Parameters added after the first files were made: a file without them keeps the default
 * (which is what those files were trained with). */
static const char *const ADDED_LATER[] = {"emb-dropout", "out-dropout", "bpe-dropout", "split-seed", "ema", NULL};

enum { STORE_F32 = 0, STORE_F16 = 1, STORE_INT8 = 2 }; /* the choices of the parameter "store" */

/* The weights of t as tensors in b: store f32/f16, the block as one tensor "params"; int8, a
 * tensor per part (matrices int8 with a scale per row, vectors float32). */
static int put_weights(nr_mf_buf *b, const nlprnn_translator *t, int store, nlprnn_error *err) {
    if (store != STORE_INT8) {
        size_t shp = t->net.n_params;
        return nr_tensor_put(b, "params", t->params, 1, &shp, store == STORE_F16 ? NR_DTYPE_F16 : NR_DTYPE_F32, err);
    }
    nr_s2s_part parts[NR_S2S_MAX_PARTS];
    int np = nr_s2s_parts(&t->net, parts), rc = 0;
    for (int i = 0; !rc && i < np; i++) {
        const nr_s2s_part *q = &parts[i];
        size_t shp[2] = {q->rows, q->cols};
        rc = q->rows ? nr_tensor_put(b, q->name, t->params + q->off, 2, shp, NR_DTYPE_I8, err)
                     : nr_tensor_put(b, q->name, t->params + q->off, 1, shp + 1, NR_DTYPE_F32, err);
    }
    return rc;
}

/* Read the weights of member t (its CONF read, t->params bound) from section tag. */
static int get_weights(const nr_mf_reader *r, const char *tag, nlprnn_translator *t, nlprnn_error *err) {
    if (t->p.store != STORE_INT8) {
        size_t shp = t->net.n_params;
        return nr_mf_tensor_read(r, tag, "params", t->params, 1, &shp, err);
    }
    nr_s2s_part parts[NR_S2S_MAX_PARTS];
    int np = nr_s2s_parts(&t->net, parts), rc = 0;
    size_t nt = nr_mf_tensor_count(r, tag);
    if (nt != (size_t)np)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: section %s holds %zu tensors, the int8 layout of these sizes has %d parts", nr_mf_name(r),
                       tag, nt, np);
    for (int i = 0; !rc && i < np; i++) {
        const nr_s2s_part *q = &parts[i];
        size_t shp[2] = {q->rows, q->cols};
        rc = q->rows ? nr_mf_tensor_read(r, tag, q->name, t->params + q->off, 2, shp, err)
                     : nr_mf_tensor_read(r, tag, q->name, t->params + q->off, 1, shp + 1, err);
    }
    return rc;
}

/* Append the sections of one member: its configuration as conf_tag and its weights as wght_tag,
 * stored as `store` (STORE_*; -1: as the member says, t->p.store). */
static int put_member(nr_mf_writer *w, const nlprnn_translator *t, const char *conf_tag, const char *wght_tag,
                      int store, nlprnn_error *err) {
    const nr_param_table *tb = nr_translate_param_table();
    nr_mf_buf conf, tens;
    nr_mf_buf_init(&conf);
    nr_mf_buf_init(&tens);
    struct nlprnn_translator_params p = t->p;
    if (store >= 0) p.store = store;
    /* bpe-dropout, split-seed and ema are written only when they were used, so files trained
     * without them stay as before */
    const char *skip[N_NOT_STORED + 4];
    int ns = 0;
    for (; ns < (int)N_NOT_STORED; ns++) skip[ns] = NOT_STORED[ns];
    if (!(t->p.bpe_dropout > 0)) skip[ns++] = "bpe-dropout";
    if (!t->p.split_seed) skip[ns++] = "split-seed";
    if (!(t->p.ema > 0)) skip[ns++] = "ema";
    skip[ns] = NULL;
    int rc = nr_params_to_conf(&conf, tb, &p, skip, err);
    if (!rc) rc = nr_conf_put_int(&conf, "src_vocab_size", t->cfg.Vs, err);
    if (!rc) rc = nr_conf_put_int(&conf, "tgt_vocab_size", t->cfg.Vt, err);
    if (!rc) rc = nr_conf_put_int(&conf, "n_params", (long long)t->net.n_params, err);
    if (!rc) rc = nr_conf_put_int(&conf, "epochs_run", t->epochs_run, err);
    if (!rc) rc = nr_conf_put_int(&conf, "best_epoch", t->best_epoch, err);
    if (!rc && !isnan(t->valid_loss)) rc = nr_conf_put_float(&conf, "valid_loss", t->valid_loss, err);
    if (!rc) rc = put_weights(&tens, t, p.store, err);
    if (!rc) rc = nr_mf_add(w, conf_tag, NR_MF_CONFIG, conf.data, conf.len, 0, err);
    if (!rc && !strcmp(conf_tag, "CONF")) { /* member 1 carries the tokenizers */
        rc = nr_mf_add_tokenizer(w, "TOKS", t->tsrc, err);
        if (!rc && !t->p.joint) rc = nr_mf_add_tokenizer(w, "TOKT", t->ttgt, err);
    }
    if (!rc) rc = nr_mf_add(w, wght_tag, NR_MF_TENSORS, tens.data, tens.len, 0, err);
    nr_mf_buf_free(&conf);
    nr_mf_buf_free(&tens);
    return rc;
}

static const char *const COMBINE_NAMES[] = {"prob", "logp"}; /* NR_COMBINE_PROB, NR_COMBINE_LOGP */

/* The section DECO of the decoding defaults d. */
static int put_deco(nr_mf_writer *w, const nr_tr_deco *d, nlprnn_error *err) {
    nr_mf_buf b;
    nr_mf_buf_init(&b);
    int rc = nr_conf_put_float(&b, "word-reward", d->word_reward, err);
    if (!rc) rc = nr_conf_put_float(&b, "min-ratio", d->min_ratio, err);
    if (!rc && d->min_from) rc = nr_conf_put_int(&b, "min-from", d->min_from, err);
    if (!rc && d->combine >= 0) rc = nr_conf_put_str(&b, "combine", COMBINE_NAMES[d->combine], err);
    if (!rc) rc = nr_mf_add(w, "DECO", NR_MF_CONFIG, b.data, b.len, 0, err);
    nr_mf_buf_free(&b);
    return rc;
}

/* Read the decoding defaults of r into *d (neutral without a section DECO). */
static int get_deco(const nr_mf_reader *r, nr_tr_deco *d, nlprnn_error *err) {
    *d = NR_TR_DECO_NEUTRAL;
    if (!nr_mf_find(r, "DECO")) return NLPRNN_OK;
    nr_conf c;
    memset(&c, 0, sizeof c);
    int rc = nr_mf_get_conf(r, "DECO", &c, err);
    static const struct {
        const char *key;
        nlprnn_translator_opt opt;
    } keys[] = {{"word-reward", NLPRNN_TRANSLATE_WORD_REWARD}, {"min-ratio", NLPRNN_TRANSLATE_MIN_RATIO},
                {"min-from", NLPRNN_TRANSLATE_MIN_FROM}};
    for (size_t i = 0; !rc && i < sizeof keys / sizeof *keys; i++) {
        double v = 0;
        if (!nr_conf_has(&c, keys[i].key)) continue;
        rc = nr_conf_get_float(&c, keys[i].key, &v, err);
        nlprnn_error e2;
        if (!rc && nr_translate_opt_check(keys[i].opt, v, &e2))
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s", c.where, e2.message);
        if (!rc) nr_tr_deco_set(d, keys[i].opt, v);
    }
    const char *cb = NULL;
    if (!rc && nr_conf_has(&c, "combine")) {
        rc = nr_conf_get_str(&c, "combine", &cb, err);
        for (int k = 0; !rc && k < 2; k++)
            if (!strcmp(cb, COMBINE_NAMES[k])) d->combine = k;
        if (!rc && d->combine < 0)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: combine '%.40s' is not prob or logp", c.where, cb);
    }
    nr_conf_free(&c);
    return rc;
}

int nlprnn_translator_save_stored(const nlprnn_translator *t, const char *path, const char *store,
                                  nlprnn_error *err) {
    if (!t || !path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: NULL argument");
    int st = -1;
    if (store && strcmp(store, "keep")) {
        static const char *const names[3] = {"f32", "f16", "int8"};
        for (int i = 0; i < 3; i++)
            if (!strcmp(store, names[i])) st = i;
        if (st < 0)
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "translate: store '%.40s' is not one of f32, f16, int8, keep", store);
    }
    nr_mf_writer *w = NULL;
    int N = nr_translator_members(t), int8 = 0;
    for (int k = 0; k < N; k++) int8 |= (st < 0 ? nr_translator_member(t, k)->p.store : st) == STORE_INT8;
    int rc = nr_mf_writer_new(&w, NR_KIND_TRANSLATOR, err);
    if (!rc && int8) rc = nr_mf_writer_set_version(w, 2, err); /* older builds would misread it */
    if (!rc) rc = put_member(w, t, "CONF", "WGHT", st, err);
    if (!rc && N > 1) rc = nr_mf_put_members(w, N, err);
    for (int k = 1; !rc && k < N; k++) {
        char ct[8], wt[8];
        nr_mf_member_tags(k, ct, wt);
        rc = put_member(w, nr_translator_member(t, k), ct, wt, st, err);
    }
    if (!rc && nr_tr_deco_stored(&t->deco)) rc = put_deco(w, &t->deco, err);
    if (!rc) rc = nr_mf_writer_save(w, path, err);
    nr_mf_writer_free(w);
    return rc;
}

int nlprnn_translator_save(const nlprnn_translator *t, const char *path, nlprnn_error *err) {
    return nlprnn_translator_save_stored(t, path, NULL, err);
}

static int get_tokenizer(const nr_mf_reader *r, const char *tag, nlprnn_tokenizer **tok, nlprnn_error *err) {
    const nr_mf_section *sec;
    int rc = nr_mf_require(r, tag, &sec, err);
    if (rc) return rc;
    rc = nlprnn_tokenizer_load_memory(sec->data, (size_t)sec->raw_len, tok, err);
    if (rc) nr_fail_prefix(err, NLPRNN_E_FORMAT, NR_KEEP, NR_KEEP, "%.200s: section %s: ", nr_mf_name(r), tag);
    return rc ? NLPRNN_E_FORMAT : 0;
}

void nlprnn_translator_free(nlprnn_translator *t) {
    if (!t) return;
    for (int k = 0; k < t->n_more; k++) nlprnn_translator_free(t->more[k]);
    free(t->more);
    if (!t->shared_tok) {
        if (t->ttgt != t->tsrc) nlprnn_tokenizer_free(t->ttgt);
        nlprnn_tokenizer_free(t->tsrc);
    }
    free(t->params);
    free(t->half);
    free(t->i8);
    free(t);
}

int nr_translator_members(const nlprnn_translator *t) { return t ? 1 + t->n_more : 0; }

const nlprnn_translator *nr_translator_member(const nlprnn_translator *t, int i) {
    return i == 0 ? t : t->more[i - 1];
}

int nlprnn_translator_members(const nlprnn_translator *t) { return nr_translator_members(t); }

int nr_tokenizer_same(const nlprnn_tokenizer *a, const nlprnn_tokenizer *b) {
    if (a == b) return 1;
    void *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int same = -1;
    if (!nlprnn_tokenizer_save_memory(a, &x, &nx, NULL) && !nlprnn_tokenizer_save_memory(b, &y, &ny, NULL))
        same = nx == ny && !memcmp(x, y, nx);
    nlprnn_free(x), nlprnn_free(y);
    return same;
}

const char *nlprnn_translator_column(const nlprnn_translator *t, int target) {
    return t ? (target ? t->p.tgt_col : t->p.src_col) : NULL;
}

const nlprnn_tokenizer *nlprnn_translator_tokenizer(const nlprnn_translator *t, int target) {
    return t ? (target ? t->ttgt : t->tsrc) : NULL;
}

const char *nlprnn_translator_summary(const nlprnn_translator *t) { return t ? t->summary : ""; }

int nlprnn_translator_load(const char *path_or_name, nlprnn_translator **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: out is NULL");
    *out = NULL;
    if (!path_or_name) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: no model named");
    char path[4096];
    int rc = nr_model_resolve(path_or_name, "ko-en", path, sizeof path, err);
    if (rc) return rc;
    nr_mf_reader *r = NULL;
    rc = nr_mf_open_file(&r, path, NR_KIND_TRANSLATOR, err);
    if (rc) return rc;
    rc = nr_translator_load_reader(r, out, err);
    nr_mf_close(r);
    return rc;
}

/* A member read from a float16 file: keep the decoder's W_ih (G*H,X), W_hh (G*H,H), W_c (H,O+H)
 * and W_o (Vt,H) as halves too (t->half; net.h_wih ...), which decoding reads where its products
 * are one-row ones (seq2seq.h): the same bits, half the bytes. They are the file's halves again
 * (each float32 weight was widened from one, so nr_f32_to_f16 gives it back; checked: a weight
 * that does not, or no memory, leaves the copies out and decoding reads the float32 weights). Costs
 * 2 bytes a weight of those matrices: 1,298,432 weights, 2.6 MB, for each of the shipped ko-en's
 * two members (GRU, H 256, E 256, O 512, Vt 2000), beside their 5.2 MB as float32. */
static void keep_halves(nlprnn_translator *t) {
    const nr_s2s *n = &t->net;
    size_t GH = (size_t)n->G * n->H, H = (size_t)n->H;
    size_t off[4] = {n->o_wih, n->o_whh, n->o_wc, n->o_wo};
    size_t cnt[4] = {GH * n->X, GH * H, H * (n->O + H), (size_t)n->cfg.Vt * H};
    size_t total = cnt[0] + cnt[1] + cnt[2] + cnt[3];
    uint16_t *h = nr_calloc_array(total, sizeof *h);
    if (!h) return;
    uint16_t *q = h;
    for (int m = 0; m < 4; m++)
        for (size_t i = 0; i < cnt[m]; i++) {
            float w = t->params[off[m] + i];
            uint16_t v = nr_f32_to_f16(w);
            float back = nr_f16_to_f32(v);
            if (memcmp(&back, &w, sizeof w)) {
                free(h);
                return;
            }
            *q++ = v;
        }
    t->half = h;
    t->net.c_wih.h = h, t->net.c_whh.h = h + cnt[0], t->net.c_wc.h = h + cnt[0] + cnt[1];
    t->net.c_wo.h = h + cnt[0] + cnt[1] + cnt[2];
}

/* A member read from an int8 file (section tag of r): keep the decoder's W_ih (G*H,X), W_hh
 * (G*H,H), W_c (H,O+H) and W_o (Vt,H) as the file stores them too, int8 rows with a float32 scale
 * each (t->i8; net.c_wih.q, .scale ...), which decoding reads where its products are one-row
 * ones (seq2seq.h): the same bits, a quarter of float32's bytes. Each weight of the float32 block
 * was widened from them (fl(q * scale), nr_dequant_i8_row), checked here bit for bit (and every
 * scale finite and >= 0); a weight that differs, a part stored otherwise, or no memory leaves the
 * copies out and decoding reads the float32 weights. Costs 1 byte a weight and 4 a row: 1,298,432
 * weights and 3,792 rows, 1.3 MB, for each of the shipped ko-en's members (GRU, H 256, E 256,
 * O 512, Vt 2000), beside their 5.2 MB as float32. */
static void keep_int8(nlprnn_translator *t, const nr_mf_reader *r, const char *tag) {
    const nr_s2s *n = &t->net;
    size_t GH = (size_t)n->G * n->H, H = (size_t)n->H;
    size_t off[4] = {n->o_wih, n->o_whh, n->o_wc, n->o_wo};
    size_t rows[4] = {GH, GH, H, (size_t)n->cfg.Vt}, cols[4] = {(size_t)n->X, H, (size_t)n->O + H, H};
    size_t nrow = 0, nq = 0;
    for (int m = 0; m < 4; m++) nrow += rows[m], nq += rows[m] * cols[m];
    nr_s2s_part parts[NR_S2S_MAX_PARTS];
    int np = nr_s2s_parts(n, parts);
    float *blk = nr_calloc_array(nrow + (nq + sizeof(float) - 1) / sizeof(float), sizeof(float));
    if (!blk) return;
    float *s = blk;                          /* (nrow) the scales */
    int8_t *q = (int8_t *)(void *)(blk + nrow); /* (nq) the rows */
    nr_wcopy c[4];
    for (int m = 0; m < 4; m++) {
        int i = 0;
        while (i < np && !(parts[i].off == off[m] && parts[i].rows == rows[m] && parts[i].cols == cols[m])) i++;
        nlprnn_error e;
        if (i == np || nr_mf_tensor_read_i8(r, tag, parts[i].name, q, s, 2, (size_t[2]){rows[m], cols[m]}, &e)) {
            free(blk);
            return;
        }
        for (size_t j = 0; j < rows[m]; j++)
            if (!(isfinite(s[j]) && s[j] >= 0) ||
                !nr_dequant_i8_row_same(t->params + off[m] + j * cols[m], q + j * cols[m], s[j], cols[m])) {
                free(blk);
                return;
            }
        c[m] = (nr_wcopy){NULL, q, s};
        s += rows[m], q += rows[m] * cols[m];
    }
    t->i8 = blk;
    t->net.c_wih = c[0], t->net.c_whh = c[1], t->net.c_wc = c[2], t->net.c_wo = c[3];
}

/* Load one member from the sections conf_tag and wght_tag of r. head NULL: member 1, which also
 * reads the tokenizers (TOKS, TOKT); else a further member that shares head's tokenizers. */
static int load_member(const nr_mf_reader *r, const char *conf_tag, const char *wght_tag, const nlprnn_translator *head,
                       nlprnn_translator **out, nlprnn_error *err) {
    *out = NULL;
    nr_conf c;
    memset(&c, 0, sizeof c);
    nlprnn_translator *t = calloc(1, sizeof *t);
    if (!t) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", nr_mf_name(r));
    int rc;
    nr_translate_params_default(&t->p);
    t->valid_loss = NAN;
    t->deco = NR_TR_DECO_NEUTRAL;
    rc = nr_mf_get_conf(r, conf_tag, &c, err);
    if (!rc) rc = nr_params_from_conf(&c, nr_translate_param_table(), &t->p, NOT_STORED, ADDED_LATER, err);
    long long vs = 0, vt = 0, np = 0, ep = 0, be = 0;
    if (!rc) rc = nr_conf_get_int(&c, "src_vocab_size", &vs, err);
    if (!rc) rc = nr_conf_get_int(&c, "tgt_vocab_size", &vt, err);
    if (!rc) rc = nr_conf_get_int(&c, "n_params", &np, err);
    if (!rc) rc = nr_conf_get_int(&c, "epochs_run", &ep, err);
    if (!rc) rc = nr_conf_get_int(&c, "best_epoch", &be, err);
    if (!rc && nr_conf_has(&c, "valid_loss")) rc = nr_conf_get_float(&c, "valid_loss", &t->valid_loss, err);
    if (!rc && t->p.tied && t->p.embed != t->p.hidden)
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: tied=1 with embed %d != hidden %d", c.where, t->p.embed,
                     t->p.hidden);
    if (!rc && head) { /* the tokenizers of member 1 */
        if (t->p.joint != head->p.joint)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: joint=%d, member 1 has joint=%d", c.where, t->p.joint,
                         head->p.joint);
        t->tsrc = head->tsrc, t->ttgt = head->ttgt, t->shared_tok = 1;
    } else if (!rc) {
        rc = get_tokenizer(r, "TOKS", &t->tsrc, err);
        if (!rc && t->p.joint) t->ttgt = t->tsrc;
        else if (!rc) rc = get_tokenizer(r, "TOKT", &t->ttgt, err);
    }
    if (!rc && (vs != nlprnn_tokenizer_vocab_size(t->tsrc) || vt != nlprnn_tokenizer_vocab_size(t->ttgt)))
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                     "%s: vocabulary sizes %lld/%lld, the file's tokenizers have %d/%d", c.where, vs, vt,
                     nlprnn_tokenizer_vocab_size(t->tsrc), nlprnn_tokenizer_vocab_size(t->ttgt));
    if (!rc) {
        nr_translator_cfg(&t->cfg, &t->p, (int)vs, (int)vt);
        size_t need = nr_s2s_param_count(&t->cfg);
        char sizes[200];
        snprintf(sizes, sizeof sizes, "vocab %lld/%lld embed %d hidden %d layers %d", vs, vt, t->p.embed,
                 t->p.hidden, t->p.layers);
        rc = nr_mf_check_weight_count(r, wght_tag, need, sizes, err);
        if (!rc && (long long)need != np)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: n_params %lld, the sizes (%s) need %zu", c.where, np,
                         sizes, need);
    }
    if (!rc) rc = nr_translator_bind(t, err);
    if (!rc) rc = get_weights(r, wght_tag, t, err);
    if (!rc && t->p.store == STORE_F16) keep_halves(t);
    if (!rc && t->p.store == STORE_INT8) keep_int8(t, r, wght_tag);
    if (!rc) {
        t->epochs_run = (int)ep;
        t->best_epoch = (int)be;
        nr_translator_summarize(t);
    }
    nr_conf_free(&c);
    if (rc) {
        nlprnn_translator_free(t);
        return rc;
    }
    *out = t;
    return NLPRNN_OK;
}

/* Append the members of u (all of them; u's own tokenizers freed, its members then share t's)
 * to t; u is consumed. */
static int append_members(nlprnn_translator *t, nlprnn_translator *u, nlprnn_error *err) {
    int nu = nr_translator_members(u);
    if (1 + t->n_more + nu > NR_S2S_MAX_ENS) {
        nlprnn_translator_free(u);
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "translate: more than %d ensemble members", NR_S2S_MAX_ENS);
    }
    nlprnn_translator **m = realloc(t->more, (size_t)(t->n_more + nu) * sizeof *m);
    if (!m) {
        nlprnn_translator_free(u);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
    }
    t->more = m;
    for (int k = 0; k < u->n_more; k++) t->more[t->n_more++] = u->more[k];
    free(u->more);
    u->more = NULL, u->n_more = 0;
    if (!u->shared_tok) {
        if (u->ttgt != u->tsrc) nlprnn_tokenizer_free(u->ttgt);
        nlprnn_tokenizer_free(u->tsrc);
    }
    t->more[t->n_more++] = u;
    for (int k = 0; k < t->n_more; k++)
        t->more[k]->tsrc = t->tsrc, t->more[k]->ttgt = t->ttgt, t->more[k]->shared_tok = 1;
    nr_translator_summarize(t);
    return NLPRNN_OK;
}

int nr_translator_load_reader(const nr_mf_reader *r, nlprnn_translator **out, nlprnn_error *err) {
    *out = NULL;
    nlprnn_translator *t = NULL;
    int rc = load_member(r, "CONF", "WGHT", NULL, &t, err);
    if (!rc) rc = get_deco(r, &t->deco, err);
    if (!rc) nr_translator_summarize(t);
    int N = 1;
    if (!rc) rc = nr_mf_get_members(r, NR_S2S_MAX_ENS, &N, err);
    if (!rc && N == 1) {
        *out = t;
        return NLPRNN_OK;
    }
    if (!rc && !(t->more = calloc((size_t)N - 1, sizeof *t->more)))
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", nr_mf_name(r));
    for (int k = 1; !rc && k < N; k++) {
        char ct[8], wt[8];
        nr_mf_member_tags(k, ct, wt);
        rc = load_member(r, ct, wt, t, &t->more[k - 1], err);
        if (!rc) t->n_more++;
    }
    if (rc) {
        nlprnn_translator_free(t);
        return rc;
    }
    nr_translator_summarize(t);
    *out = t;
    return NLPRNN_OK;
}

int nlprnn_translator_load_ensemble(const char *const *paths, size_t n, nlprnn_translator **out, nlprnn_error *err) {
    if (!out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: out is NULL");
    *out = NULL;
    if (!paths || n < 1) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: no model named");
    if (n > NR_S2S_MAX_ENS)
        return nr_fail(err, NLPRNN_E_LIMIT, -1, -1, "translate: %zu models (at most %d members)", n, NR_S2S_MAX_ENS);
    nlprnn_translator *t = NULL;
    int rc = nlprnn_translator_load(paths[0], &t, err);
    for (size_t i = 1; !rc && i < n; i++) {
        nlprnn_translator *u = NULL;
        rc = nlprnn_translator_load(paths[i], &u, err);
        if (rc) break;
        int same = nr_tokenizer_same(t->tsrc, u->tsrc), tsame = same == 1 ? nr_tokenizer_same(t->ttgt, u->ttgt) : 1;
        if (same < 0 || tsame < 0)
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "translate: out of memory");
        else if (t->p.joint != u->p.joint)
            rc = nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                         "%s: joint=%d, %s has joint=%d: an ensemble's members must share both tokenizers", paths[i],
                         u->p.joint, paths[0], t->p.joint);
        else if (!same || !tsame)
            rc = nr_fail(err, NLPRNN_E_UNSUPPORTED, -1, -1,
                         "%s: its %s tokenizer differs from the one of %s: an ensemble's members must share both "
                         "tokenizers exactly", paths[i], !same ? "source" : "target", paths[0]);
        if (rc) {
            nlprnn_translator_free(u);
            break;
        }
        rc = append_members(t, u, err);
    }
    if (rc) {
        nlprnn_translator_free(t);
        return rc;
    }
    *out = t;
    return NLPRNN_OK;
}
