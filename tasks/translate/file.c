/* tasks/translate/file.c: translator model files (kind "TRNS", docs/formats.md).
 *
 * Sections: CONF (every training parameter of the table but the checkpoint ones; src_vocab_size,
 * tgt_vocab_size, n_params, epochs_run, best_epoch and, when there was validation, valid_loss),
 * TOKS (the source tokenizer, raw), TOKT (the target tokenizer; absent when joint=1), WGHT
 * (tensor "params" (n_params), float32 or float16: the flat block of tasks/translate/seq2seq.h).
 * The loader checks everything before it uses it: the parameters against their ranges, the
 * tokenizers' sizes against CONF, the weight count against the sizes (before allocating), every
 * weight finite. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "format/params.h"
#include "tasks/translate/translate.h"

static const char *const NOT_STORED[] = {"checkpoint", "checkpoint-every", "keep", NULL}; /* CONF: the rest */

/* Parameters added after the first files were made: a file without them keeps the default
 * (which is what those files were trained with). */
static const char *const ADDED_LATER[] = {"emb-dropout", "out-dropout", "bpe-dropout", "split-seed", NULL};

int nlprnn_translator_save(const nlprnn_translator *t, const char *path, nlprnn_error *err) {
    if (!t || !path) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "translate: NULL argument");
    const nr_param_table *tb = nr_translate_param_table();
    nr_mf_writer *w = NULL;
    nr_mf_buf conf, tens;
    nr_mf_buf_init(&conf);
    nr_mf_buf_init(&tens);
    int rc = nr_mf_writer_new(&w, NR_KIND_TRANSLATOR, err);
    /* bpe-dropout and split-seed are written only when they were used, so files trained without
     * them stay as before */
    const char *skip[6] = {NOT_STORED[0], NOT_STORED[1], NOT_STORED[2], NULL, NULL, NULL};
    int ns = 3;
    if (!(t->p.bpe_dropout > 0)) skip[ns++] = "bpe-dropout";
    if (!t->p.split_seed) skip[ns++] = "split-seed";
    if (!rc) rc = nr_params_to_conf(&conf, tb, &t->p, skip, err);
    if (!rc) rc = nr_conf_put_int(&conf, "src_vocab_size", t->cfg.Vs, err);
    if (!rc) rc = nr_conf_put_int(&conf, "tgt_vocab_size", t->cfg.Vt, err);
    if (!rc) rc = nr_conf_put_int(&conf, "n_params", (long long)t->net.n_params, err);
    if (!rc) rc = nr_conf_put_int(&conf, "epochs_run", t->epochs_run, err);
    if (!rc) rc = nr_conf_put_int(&conf, "best_epoch", t->best_epoch, err);
    if (!rc && !isnan(t->valid_loss)) rc = nr_conf_put_float(&conf, "valid_loss", t->valid_loss, err);
    size_t shp = t->net.n_params;
    if (!rc) rc = nr_tensor_put(&tens, "params", t->params, 1, &shp, t->p.store == 1 ? NR_DTYPE_F16 : NR_DTYPE_F32, err);
    if (!rc) rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, conf.data, conf.len, 0, err);
    if (!rc) rc = nr_mf_add_tokenizer(w, "TOKS", t->tsrc, err);
    if (!rc && !t->p.joint) rc = nr_mf_add_tokenizer(w, "TOKT", t->ttgt, err);
    if (!rc) rc = nr_mf_add(w, "WGHT", NR_MF_TENSORS, tens.data, tens.len, 0, err);
    if (!rc) rc = nr_mf_writer_save(w, path, err);
    nr_mf_writer_free(w);
    nr_mf_buf_free(&conf);
    nr_mf_buf_free(&tens);
    return rc;
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
    if (t->ttgt != t->tsrc) nlprnn_tokenizer_free(t->ttgt);
    nlprnn_tokenizer_free(t->tsrc);
    free(t->params);
    free(t);
}

const char *nlprnn_translator_column(const nlprnn_translator *t, int target) {
    return t ? (target ? t->p.tgt_col : t->p.src_col) : NULL;
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

int nr_translator_load_reader(const nr_mf_reader *r, nlprnn_translator **out, nlprnn_error *err) {
    *out = NULL;
    nr_conf c;
    memset(&c, 0, sizeof c);
    nlprnn_translator *t = calloc(1, sizeof *t);
    if (!t) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", nr_mf_name(r));
    int rc;
    nr_translate_params_default(&t->p);
    t->valid_loss = NAN;
    rc = nr_mf_get_conf(r, "CONF", &c, err);
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
    if (!rc) rc = get_tokenizer(r, "TOKS", &t->tsrc, err);
    if (!rc && t->p.joint) t->ttgt = t->tsrc;
    else if (!rc) rc = get_tokenizer(r, "TOKT", &t->ttgt, err);
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
        rc = nr_mf_check_weight_count(r, "WGHT", need, sizes, err);
        if (!rc && (long long)need != np)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: n_params %lld, the sizes (%s) need %zu", c.where, np,
                         sizes, need);
    }
    if (!rc) rc = nr_translator_bind(t, err);
    if (!rc) {
        size_t shp = t->net.n_params;
        rc = nr_mf_tensor_read(r, "WGHT", "params", t->params, 1, &shp, err);
    }
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
