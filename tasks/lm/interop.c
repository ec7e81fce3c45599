/* tasks/lm/interop.c: a language model's weights in and out (nlprnn/interop.h).
 *
 * Each network (forward, and backward under "backward.") maps to PyTorch's word-language-model
 * shape: embedding.weight (V,E) = the table, rnn.* = the encoder (PyTorch's layout), decoder.weight
 * (V,H) and decoder.bias (V) = the output layer. A tied network's output matrix is its table: it
 * is written as decoder.weight as well, and on import a decoder.weight equal to the table (or
 * none) makes a tied network again.
 */
#include <stdlib.h>
#include <string.h>

#include "format/torch.h"
#include "tasks/lm/lm.h"
#include "format/modelfile.h"
#include "nlprnn/interop.h"

static int meta_int(nr_st_writer *w, const char *key, long long v, nlprnn_error *err) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return nr_st_put_meta(w, key, buf, err);
}

int nlprnn_lm_export(const nlprnn_lm *lm, const char *path, int format, nlprnn_error *err) {
    if (!lm || !path)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "nlprnn_lm_export: NULL argument");
    if (format == NLPRNN_EXPORT_VEC) return nr_export_vec(&lm->net[0].emb, lm->tok, path, err);
    if (format != NLPRNN_EXPORT_SAFETENSORS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "export format %d is not %d (safetensors) "
                       "or %d (vec)", format, NLPRNN_EXPORT_SAFETENSORS, NLPRNN_EXPORT_VEC);
    const nr_lm_cfg *c = &lm->net[0].cfg;
    nr_st_writer *w = NULL;
    int rc = nr_st_writer_new(&w, err);
    if (!rc) rc = nr_st_put_meta(w, "format", "pt", err);
    if (!rc) rc = nr_st_put_meta(w, "kind", "lm", err);
    if (!rc) rc = nr_st_put_meta(w, "cell", nr_cell_name(c->cell), err);
    if (!rc) rc = meta_int(w, "layers", c->layers, err);
    if (!rc) rc = meta_int(w, "embed", c->embed, err);
    if (!rc) rc = meta_int(w, "hidden", c->hidden, err);
    if (!rc) rc = meta_int(w, "vocab", c->vocab, err);
    if (!rc) rc = meta_int(w, "tied", c->tied, err);
    if (!rc) rc = meta_int(w, "backward", lm->has[1], err);
    if (!rc) rc = nr_st_put_meta(w, "tokenizer", nlprnn_tokenizer_describe(lm->tok), err);
    if (!rc) rc = nr_st_put_meta(w, "nlprnn", nlprnn_version_string(), err);
    for (int d = 0; d < 2 && !rc; d++) {
        if (!lm->has[d]) continue;
        const nr_lm_net *n = &lm->net[d];
        const char *g = d ? "backward." : "";
        char name[64];
        size_t se[2] = {(size_t)c->vocab, (size_t)c->embed};
        size_t so[2] = {(size_t)c->vocab, (size_t)c->hidden}, sb[1] = {(size_t)c->vocab};
        snprintf(name, sizeof name, "%sembedding.weight", g);
        rc = nr_st_put_f32(w, name, n->emb.table, 2, se, NR_ST_F32, err);
        snprintf(name, sizeof name, "%srnn.", g);
        if (!rc) rc = nr_torch_put_encoder(w, name, &n->enc, err);
        snprintf(name, sizeof name, "%sdecoder.weight", g);
        if (!rc) rc = nr_st_put_f32(w, name, n->out.w, 2, so, NR_ST_F32, err);
        snprintf(name, sizeof name, "%sdecoder.bias", g);
        if (!rc) rc = nr_st_put_f32(w, name, n->out.b, 1, sb, NR_ST_F32, err);
    }
    if (!rc) rc = nr_st_writer_save(w, path, err);
    nr_st_writer_free(w);
    return rc;
}

/* ---- import ------------------------------------------------------------------------------------ */

/* One network's tensors, found in group ("" or "backward."). */
typedef struct lm_found {
    nr_torch_rnn rnn;
    const nr_st_tensor *emb, *dw, *db;
    nr_lm_cfg cfg;
} lm_found;

static int same_values(const nr_st_file *f, const nr_st_tensor *a, const nr_st_tensor *b) {
    (void)f;
    return a->dtype == b->dtype && a->end - a->begin == b->end - b->begin &&
           !memcmp(a->data, b->data, (size_t)(a->end - a->begin));
}

static int find_net(const nr_st_file *f, const char *group, const char *exclude,
                    unsigned char *used, long long tied_setting, lm_found *o, nlprnn_error *err) {
    memset(o, 0, sizeof *o);
    int rc = nr_torch_find_rnn(f, group, exclude, &o->rnn, err);
    if (rc) return rc;
    if ((o->rnn.cell != NR_CELL_LSTM && o->rnn.cell != NR_CELL_GRU) || o->rnn.dirs != 1)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: '%sweight_ih_l0': a language model's network is one LSTM or GRU reading "
                       "one direction (this one is %s%s)",
                       nr_st_name(f), o->rnn.prefix, nr_cell_name(o->rnn.cell),
                       o->rnn.dirs == 2 ? ", bidirectional" : "");
    rc = nr_torch_find_embedding(f, group, exclude, o->rnn.input, used, &o->emb, err);
    if (rc) return rc;
    used[nr_torch_index(f, o->emb)] = 1;
    rc = nr_torch_find_linear(f, group, exclude, o->rnn.hidden, used, 1, &o->dw, &o->db, err);
    used[nr_torch_index(f, o->emb)] = 0;
    if (rc) return rc;
    nr_lm_cfg *c = &o->cfg;
    c->cell = o->rnn.cell;
    c->layers = o->rnn.layers;
    c->embed = o->rnn.input;
    c->hidden = o->rnn.hidden;
    c->vocab = o->emb->shape[0] > (1u << 24) ? -1 : (int)o->emb->shape[0];
    if (o->dw && o->dw->shape[0] != o->emb->shape[0])
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: '%s' has %zu rows but the embedding '%s' %zu: a language model "
                       "predicts the embedding's vocabulary",
                       nr_st_name(f), o->dw->name, o->dw->shape[0], o->emb->name, o->emb->shape[0]);
    if (!o->db) {
        /* a bias without its matrix: the output layer of a tied network */
        char name[320];
        snprintf(name, sizeof name, "%sdecoder.bias", group);
        const nr_st_tensor *b = nr_st_find(f, name);
        if (b && b->ndim == 1 && b->shape[0] == o->emb->shape[0]) o->db = b;
    }
    if (tied_setting >= 0) c->tied = (int)tied_setting;
    else c->tied = !o->dw || (c->embed == c->hidden && same_values(f, o->dw, o->emb));
    if (c->tied && c->embed != c->hidden)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: tied output layer (%s) needs embed == hidden, the tensors give %d and %d",
                       nr_st_name(f), o->dw ? "tied=1" : "no decoder.weight", c->embed, c->hidden);
    if (c->tied && o->dw && !same_values(f, o->dw, o->emb))
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: tied=1 but '%s' differs from the embedding '%s'", nr_st_name(f),
                       o->dw->name, o->emb->name);
    if (!c->tied && !o->dw)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: tied=0 but there is no %sdecoder.weight (%d, %d)", nr_st_name(f), group,
                       c->vocab, c->hidden);
    return NLPRNN_OK;
}

static int read_net(const nr_st_file *f, const lm_found *o, nr_lm_net *net, unsigned char *used,
                    nlprnn_error *err) {
    const nr_lm_cfg *c = &o->cfg;
    size_t se[2] = {(size_t)c->vocab, (size_t)c->embed};
    size_t so[2] = {(size_t)c->vocab, (size_t)c->hidden}, sb[1] = {(size_t)c->vocab};
    int rc = nr_torch_get_encoder(f, &o->rnn, &net->enc, used, err);
    if (!rc) rc = nr_torch_get(f, o->emb->name, net->emb.table, 2, se, used, err);
    if (!rc && o->dw) {
        if (c->tied) used[nr_torch_index(f, o->dw)] = 1; /* the same values as the table */
        else rc = nr_torch_get(f, o->dw->name, net->out.w, 2, so, used, err);
    }
    if (!rc && o->db) rc = nr_torch_get(f, o->db->name, net->out.b, 1, sb, used, err);
    return rc;
}

static const char *const lm_settings[] = {"tied", "storage", "kind", "cell", "layers", "embed",
                                          "hidden", "vocab", "backward", NULL};

int nlprnn_lm_import(const char *path, const nlprnn_tokenizer *tok, const char *const *settings,
                     size_t n_settings, const char *out_path, nlprnn_error *err) {
    if (!path || !tok || !out_path || (n_settings && !settings))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "nlprnn_lm_import: a file, a tokenizer and an output path are needed");
    int rc = nr_torch_check_settings(settings, n_settings, lm_settings, err);
    if (rc) return rc;
    nr_st_file *f = NULL;
    rc = nr_st_open_file(&f, path, err);
    if (rc) return rc;
    unsigned char *used = calloc(nr_st_count(f) + 1, 1);
    nr_lm_net net[2];
    memset(net, 0, sizeof net);
    nlprnn_tokenizer *own = NULL;
    nlprnn_lm *lm = NULL;
    nr_mf_buf extra;
    nr_mf_buf_init(&extra);
    void *tokbuf = NULL;
    lm_found found[2];
    int dirs = 1;
    if (!used) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
        goto done;
    }
    rc = nr_torch_check_kind(f, settings, n_settings, "lm", err);
    long long tied = -1;
    if (!rc) rc = nr_torch_int(f, settings, n_settings, "tied", 0, 1, &tied, err);
    for (size_t i = 0; i < nr_st_count(f); i++)
        if (!strncmp(nr_st_at(f, i)->name, "backward.", 9)) dirs = 2;
    for (int d = 0; d < dirs && !rc; d++)
        rc = find_net(f, d ? "backward." : "", d ? NULL : "backward.", used, tied, &found[d], err);
    if (rc) goto done;
    const nr_lm_cfg *c = &found[0].cfg;
    if (dirs == 2 && memcmp(&found[1].cfg, c, sizeof *c)) {
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                     "%s: the backward network (backward.*) has other sizes or another cell than "
                     "the forward one",
                     path);
        goto done;
    }
    char num[7][24];
    const char *keys[7] = {"cell", "layers", "embed", "hidden", "vocab", "backward", "tied"};
    snprintf(num[0], sizeof num[0], "%s", nr_cell_name(c->cell));
    snprintf(num[1], sizeof num[1], "%d", c->layers);
    snprintf(num[2], sizeof num[2], "%d", c->embed);
    snprintf(num[3], sizeof num[3], "%d", c->hidden);
    snprintf(num[4], sizeof num[4], "%d", c->vocab);
    snprintf(num[5], sizeof num[5], "%d", dirs - 1);
    snprintf(num[6], sizeof num[6], "%d", c->tied);
    for (int k = 0; k < 7 && !rc; k++) rc = nr_torch_agree(f, settings, n_settings, keys[k], num[k], err);
    if (rc) goto done;
    if (c->vocab != nlprnn_tokenizer_vocab_size(tok)) {
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                     "%s: the embedding '%s' has %d rows but the tokenizer has %d ids (the rows "
                     "must be the tokenizer's ids)",
                     path, found[0].emb->name, c->vocab, (int)nlprnn_tokenizer_vocab_size(tok));
        goto done;
    }
    int dtype;
    rc = nr_import_storage(f, settings, n_settings, &dtype, err);
    for (int d = 0; d < dirs && !rc; d++) {
        rc = nr_lm_net_create(&net[d], c, NLPRNN_ID_PAD, err);
        if (rc) {
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err ? err->message : "");
            rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s", path, why);
            break;
        }
        rc = read_net(f, &found[d], &net[d], used, err);
    }
    if (!rc) rc = nr_torch_check_all_used(f, used, "language model", err);
    /* the model keeps its own tokenizer: a copy of the caller's */
    size_t tokn = 0;
    if (!rc) rc = nlprnn_tokenizer_save_memory(tok, &tokbuf, &tokn, err);
    if (!rc) rc = nlprnn_tokenizer_load_memory(tokbuf, tokn, &own, err);
    if (!rc) {
        const char *bn = strrchr(path, '/');
        rc = nr_conf_put_str(&extra, "import.file", bn ? bn + 1 : path, err);
    }
    if (!rc) rc = nr_mf_buf_put(&extra, "", 1, err);
    const char *storage = dtype == NR_DTYPE_F32 ? "f32" : dtype == NR_DTYPE_F16 ? "f16" : "int8";
    if (!rc) rc = nr_lm_assemble(&lm, own, &net[0], &net[1], storage, err);
    if (!rc) own = NULL;
    if (!rc) rc = nr_lm_save(lm, out_path, dtype, (const char *)extra.data, err);
done:
    nlprnn_lm_free(lm);
    nlprnn_tokenizer_free(own);
    nlprnn_free(tokbuf);
    nr_mf_buf_free(&extra);
    nr_lm_net_free(&net[0]);
    nr_lm_net_free(&net[1]);
    free(used);
    nr_st_close(f);
    return rc;
}
