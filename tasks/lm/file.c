/* tasks/lm/file.c: the model object (nr_lm_assemble, accessors) and its LANG file (save, load,
 * load by name). */
#include "tasks/lm/lm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/modelfile.h"

/* ================================================================================================
 * the model object and its file
 * ============================================================================================== */

int nr_lm_assemble(nlprnn_lm **out, nlprnn_tokenizer *tok, nr_lm_net *fwd, nr_lm_net *bwd,
                   const char *storage, nlprnn_error *err) {
    nlprnn_lm *lm = calloc(1, sizeof *lm);
    int V = fwd->cfg.vocab;
    if (lm) lm->kind = malloc((size_t)V);
    if (!lm || !lm->kind) {
        free(lm);
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory (language model)");
    }
    lm->tok = tok;
    lm->net[0] = *fwd;
    lm->has[0] = 1;
    memset(fwd, 0, sizeof *fwd);
    if (bwd && bwd->params) {
        lm->net[1] = *bwd;
        lm->has[1] = 1;
        memset(bwd, 0, sizeof *bwd);
    }
    for (int i = 0; i < V; i++) {
        if (nlprnn_tokenizer_piece_is_special(tok, i) || nlprnn_tokenizer_piece_is_byte(tok, i))
            lm->kind[i] = NR_PIECE_OTHER;
        else
            lm->kind[i] = nlprnn_tokenizer_piece_is_word_start(tok, i) ? NR_PIECE_START : NR_PIECE_INNER;
    }
    snprintf(lm->storage, sizeof lm->storage, "%s", storage ? storage : "f32");
    const nr_lm_cfg *c = &lm->net[0].cfg;
    snprintf(lm->summary, sizeof lm->summary,
             "cell=%s layers=%d embed=%d hidden=%d tied=%d vocab=%d directions=%d params=%zu storage=%s",
             nr_cell_name(c->cell), c->layers, c->embed, c->hidden, c->tied, c->vocab,
             1 + lm->has[1], lm->net[0].n_params + (lm->has[1] ? lm->net[1].n_params : 0),
             lm->storage);
    *out = lm;
    return NLPRNN_OK;
}

void nlprnn_lm_free(nlprnn_lm *lm) {
    if (!lm) return;
    nlprnn_tokenizer_free(lm->tok);
    nr_lm_net_free(&lm->net[0]);
    nr_lm_net_free(&lm->net[1]);
    free(lm->kind);
    free(lm);
}

const nlprnn_tokenizer *nlprnn_lm_tokenizer(const nlprnn_lm *lm) { return lm ? lm->tok : NULL; }
int nlprnn_lm_has_backward(const nlprnn_lm *lm) { return lm ? lm->has[1] : 0; }
const char *nlprnn_lm_summary(const nlprnn_lm *lm) { return lm ? lm->summary : NULL; }

void nlprnn_lm_dims(const nlprnn_lm *lm, int *vocab, int *embed, int *hidden, int *layers,
                    const char **cell) {
    static const nr_lm_cfg none; /* all 0: what a NULL model reports */
    const nr_lm_cfg *c = lm ? &lm->net[0].cfg : &none;
    if (vocab) *vocab = c->vocab;
    if (embed) *embed = c->embed;
    if (hidden) *hidden = c->hidden;
    if (layers) *layers = c->layers;
    if (cell) *cell = lm ? nr_cell_name(c->cell) : NULL;
}

void nlprnn_lm_forward_weights(const nlprnn_lm *lm, const float **embedding, const float **encoder,
                               size_t *n_encoder) {
    const nr_lm_net *n = lm ? &lm->net[0] : NULL;
    if (embedding) *embedding = n ? n->emb.table : NULL;
    if (encoder) *encoder = n ? n->enc.params : NULL;
    if (n_encoder) *n_encoder = n ? n->enc.n_params : 0;
}

int nlprnn_lm_weights(const nlprnn_lm *lm, int direction, const float **embedding, const float **encoder,
                      size_t *n_encoder, const float **out_w, const float **out_b, nlprnn_error *err) {
    int ok = lm && (direction == NLPRNN_LM_FORWARD || direction == NLPRNN_LM_BACKWARD) && lm->has[direction];
    const nr_lm_net *n = ok ? &lm->net[direction] : NULL;
    if (embedding) *embedding = n ? n->emb.table : NULL;
    if (encoder) *encoder = n ? n->enc.params : NULL;
    if (n_encoder) *n_encoder = n ? n->enc.n_params : 0;
    if (out_w) *out_w = n ? n->out.w : NULL;
    if (out_b) *out_b = n ? n->out.b : NULL;
    if (ok) return NLPRNN_OK;
    if (!lm) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "language model weights: no model");
    if (direction != NLPRNN_LM_FORWARD && direction != NLPRNN_LM_BACKWARD)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "language model weights: direction %d is neither forward (0) nor backward (1)", direction);
    return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                   "language model weights: the model has no backward network (lm-train --directions both)");
}

/* One network's tensors: embedding, output bias (and matrix), per layer W_ih W_hh b_ih b_hh. */
static int put_net(nr_mf_buf *b, const nr_lm_net *n, int dtype, nlprnn_error *err) {
    const nr_lm_cfg *c = &n->cfg;
    size_t sh[2] = {(size_t)c->vocab, (size_t)c->embed};
    int rc = nr_tensor_put(b, "embedding", n->emb.table, 2, sh, dtype, err);
    size_t sv[1] = {(size_t)c->vocab};
    if (!rc) rc = nr_tensor_put(b, "out.bias", n->out.b, 1, sv, NR_DTYPE_F32, err);
    if (!rc && !c->tied) {
        size_t so[2] = {(size_t)c->vocab, (size_t)c->hidden};
        rc = nr_tensor_put(b, "out.weight", n->out.w, 2, so, dtype, err);
    }
    size_t GH = (size_t)n->enc.gates * (size_t)c->hidden;
    for (int l = 0; l < c->layers && !rc; l++) {
        const nr_rnn_slot *s = &n->enc.slot[l][0];
        char name[64];
        size_t s1[2] = {GH, (size_t)s->in}, s2[2] = {GH, (size_t)c->hidden}, s3[1] = {GH};
        snprintf(name, sizeof name, "l%d.w_ih", l);
        rc = nr_tensor_put(b, name, n->enc.params + s->w_ih, 2, s1, dtype, err);
        snprintf(name, sizeof name, "l%d.w_hh", l);
        if (!rc) rc = nr_tensor_put(b, name, n->enc.params + s->w_hh, 2, s2, dtype, err);
        snprintf(name, sizeof name, "l%d.b_ih", l);
        if (!rc) rc = nr_tensor_put(b, name, n->enc.params + s->b_ih, 1, s3, NR_DTYPE_F32, err);
        snprintf(name, sizeof name, "l%d.b_hh", l);
        if (!rc) rc = nr_tensor_put(b, name, n->enc.params + s->b_hh, 1, s3, NR_DTYPE_F32, err);
    }
    return rc;
}

static int get_net(const nr_mf_reader *r, const char *tag, nr_lm_net *n, nlprnn_error *err) {
    const nr_lm_cfg *c = &n->cfg;
    size_t sh[2] = {(size_t)c->vocab, (size_t)c->embed};
    int rc = nr_mf_tensor_read(r, tag, "embedding", n->emb.table, 2, sh, err);
    size_t sv[1] = {(size_t)c->vocab};
    if (!rc) rc = nr_mf_tensor_read(r, tag, "out.bias", n->out.b, 1, sv, err);
    if (!rc && !c->tied) {
        size_t so[2] = {(size_t)c->vocab, (size_t)c->hidden};
        rc = nr_mf_tensor_read(r, tag, "out.weight", n->out.w, 2, so, err);
    }
    size_t GH = (size_t)n->enc.gates * (size_t)c->hidden;
    for (int l = 0; l < c->layers && !rc; l++) {
        const nr_rnn_slot *s = &n->enc.slot[l][0];
        char name[64];
        size_t s1[2] = {GH, (size_t)s->in}, s2[2] = {GH, (size_t)c->hidden}, s3[1] = {GH};
        snprintf(name, sizeof name, "l%d.w_ih", l);
        rc = nr_mf_tensor_read(r, tag, name, n->enc.params + s->w_ih, 2, s1, err);
        snprintf(name, sizeof name, "l%d.w_hh", l);
        if (!rc) rc = nr_mf_tensor_read(r, tag, name, n->enc.params + s->w_hh, 2, s2, err);
        snprintf(name, sizeof name, "l%d.b_ih", l);
        if (!rc) rc = nr_mf_tensor_read(r, tag, name, n->enc.params + s->b_ih, 1, s3, err);
        snprintf(name, sizeof name, "l%d.b_hh", l);
        if (!rc) rc = nr_mf_tensor_read(r, tag, name, n->enc.params + s->b_hh, 1, s3, err);
    }
    return rc;
}

int nr_lm_save(const nlprnn_lm *lm, const char *path, int dtype, const char *extra_conf,
               nlprnn_error *err) {
    nr_mf_writer *w = NULL;
    nr_mf_buf conf, wb;
    nr_mf_buf_init(&conf);
    nr_mf_buf_init(&wb);
    const nr_lm_cfg *c = &lm->net[0].cfg;
    int rc = nr_mf_writer_new(&w, NR_KIND_LANGMODEL, err);
    if (!rc) rc = nr_conf_put_int(&conf, "lm.version", 1, err);
    if (!rc) rc = nr_conf_put_str(&conf, "cell", nr_cell_name(c->cell), err);
    if (!rc) rc = nr_conf_put_int(&conf, "layers", c->layers, err);
    if (!rc) rc = nr_conf_put_int(&conf, "embed", c->embed, err);
    if (!rc) rc = nr_conf_put_int(&conf, "hidden", c->hidden, err);
    if (!rc) rc = nr_conf_put_int(&conf, "vocab", c->vocab, err);
    if (!rc) rc = nr_conf_put_int(&conf, "tied", c->tied, err);
    if (!rc) rc = nr_conf_put_int(&conf, "backward", lm->has[1], err);
    if (!rc) rc = nr_conf_put_str(&conf, "storage", nr_dtype_name(dtype), err);
    if (!rc && extra_conf) rc = nr_mf_buf_put(&conf, extra_conf, strlen(extra_conf), err);
    if (!rc) rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, conf.data, conf.len, 1, err);
    if (!rc) rc = nr_mf_add_tokenizer(w, "TOKN", lm->tok, err);
    for (int d = 0; d < 2 && !rc; d++) {
        if (!lm->has[d]) continue;
        wb.len = 0;
        rc = put_net(&wb, &lm->net[d], dtype, err);
        if (!rc) rc = nr_mf_add(w, d ? "WBWD" : "WFWD", NR_MF_TENSORS, wb.data, wb.len, 0, err);
    }
    if (!rc) rc = nr_mf_writer_save(w, path, err);
    nr_mf_buf_free(&conf);
    nr_mf_buf_free(&wb);
    nr_mf_writer_free(w);
    return rc;
}

int nr_lm_load_reader(const nr_mf_reader *r, nlprnn_lm **out, nlprnn_error *err) {
    *out = NULL;
    const char *path = nr_mf_name(r);
    int rc = NLPRNN_OK;
    nr_conf cf;
    memset(&cf, 0, sizeof cf);
    nlprnn_tokenizer *tok = NULL;
    nr_lm_net net[2];
    memset(net, 0, sizeof net);
    nr_lm_cfg c;
    memset(&c, 0, sizeof c);
    const char *cell = NULL, *storage = "f32";
    int backward = 0;
    rc = nr_mf_get_conf(r, "CONF", &cf, err);
    if (rc) goto done;
    rc = nr_conf_get_str(&cf, "cell", &cell, err);
    if (!rc) {
        c.cell = nr_cell_from_name(cell);
        if (c.cell != NR_CELL_LSTM && c.cell != NR_CELL_GRU)
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: unknown cell '%s'", path, cell);
    }
    if (!rc) rc = nr_conf_get_int_in(&cf, "layers", 1, NR_ENCODER_MAX_LAYERS, &c.layers, err);
    if (!rc) rc = nr_conf_get_int_in(&cf, "embed", 1, NR_MAX_EMBED, &c.embed, err);
    if (!rc) rc = nr_conf_get_int_in(&cf, "hidden", 1, NR_MAX_HIDDEN, &c.hidden, err);
    if (!rc) rc = nr_conf_get_int_in(&cf, "vocab", NLPRNN_NUM_SPECIAL_IDS, NR_MAX_VOCAB, &c.vocab, err);
    if (!rc) rc = nr_conf_get_int_in(&cf, "tied", 0, 1, &c.tied, err);
    if (!rc) rc = nr_conf_get_int_in(&cf, "backward", 0, 1, &backward, err);
    if (!rc && nr_conf_has(&cf, "storage")) rc = nr_conf_get_str(&cf, "storage", &storage, err);
    if (!rc && c.tied && c.embed != c.hidden)
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                     "%s: tied=1 (output layer = embedding) needs embed = hidden, the file says "
                     "embed=%d hidden=%d",
                     path, c.embed, c.hidden);
    for (int d = 0; d <= backward && !rc; d++) { /* sizes the file's tensors cannot hold */
        size_t eo, oo;
        char sizes[160];
        snprintf(sizes, sizeof sizes, "vocab %d embed %d hidden %d layers %d tied %d", c.vocab,
                 c.embed, c.hidden, c.layers, c.tied);
        rc = nr_mf_check_weight_count(r, d ? "WBWD" : "WFWD", nr_lm_layout(&c, &eo, &oo), sizes, err);
    }
    if (rc) goto done;
    const nr_mf_section *ts = NULL;
    rc = nr_mf_require(r, "TOKN", &ts, err);
    if (!rc) {
        rc = nlprnn_tokenizer_load_memory(ts->data, (size_t)ts->raw_len, &tok, err);
        if (rc) nr_fail_prefix(err, rc, NR_KEEP, NR_KEEP, "%.200s: section TOKN: ", path);
    }
    if (rc) goto done;
    if (nlprnn_tokenizer_vocab_size(tok) != c.vocab) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: the tokenizer has %d ids but the model %d",
                     path, (int)nlprnn_tokenizer_vocab_size(tok), c.vocab);
        goto done;
    }
    for (int d = 0; d <= backward && !rc; d++) {
        rc = nr_lm_net_create(&net[d], &c, NLPRNN_ID_PAD, err);
        if (!rc) rc = get_net(r, d ? "WBWD" : "WFWD", &net[d], err);
    }
    if (!rc) {
        rc = nr_lm_assemble(out, tok, &net[0], &net[1], storage, err);
        if (!rc) tok = NULL;
    }
done:
    nr_lm_net_free(&net[0]);
    nr_lm_net_free(&net[1]);
    nlprnn_tokenizer_free(tok);
    nr_conf_free(&cf);
    return rc;
}

static int load_file(const char *path, nlprnn_lm **out, nlprnn_error *err) {
    nr_mf_reader *r = NULL;
    int rc = nr_mf_open_file(&r, path, NR_KIND_LANGMODEL, err);
    if (rc) return rc;
    rc = nr_lm_load_reader(r, out, err);
    nr_mf_close(r);
    return rc;
}

int nlprnn_lm_load(const char *path_or_name, nlprnn_lm **out, nlprnn_error *err) {
    if (out) *out = NULL;
    if (!path_or_name || !*path_or_name || !out)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "no language model path or name given");
    *out = NULL;
    char path[4096];
    int rc = nr_model_resolve(path_or_name, "ko-lm", path, sizeof path, err);
    if (rc) return rc;
    return load_file(path, out, err);
}
