/* format/torch.c: PyTorch's tensor names for recurrent modules, embeddings and dense layers in
 * safetensors files (see torch.h). */
#include "format/torch.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"

static const char *const rnn_what[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};

void nr_torch_rnn_name(char *buf, size_t cap, const char *prefix, int which, int layer, int dir) {
    snprintf(buf, cap, "%s%s_l%d%s", prefix, rnn_what[which], layer, dir ? "_reverse" : "");
}

int nr_torch_put_encoder(nr_st_writer *w, const char *prefix, const nr_encoder *enc,
                         nlprnn_error *err) {
    size_t GH = (size_t)enc->gates * (size_t)enc->cfg.hidden;
    for (int l = 0; l < enc->cfg.layers; l++)
        for (int d = 0; d < enc->dirs; d++) {
            const nr_rnn_slot *s = &enc->slot[l][d];
            size_t off[4] = {s->w_ih, s->w_hh, s->b_ih, s->b_hh};
            size_t shape[4][2] = {{GH, (size_t)s->in}, {GH, (size_t)enc->cfg.hidden}, {GH, 0}, {GH, 0}};
            for (int k = 0; k < 4; k++) {
                char name[320];
                nr_torch_rnn_name(name, sizeof name, prefix, k, l, d);
                int rc = nr_st_put_f32(w, name, enc->params + off[k], k < 2 ? 2 : 1, shape[k],
                                       NR_ST_F32, err);
                if (rc) return rc;
            }
        }
    return NLPRNN_OK;
}

size_t nr_torch_index(const nr_st_file *f, const nr_st_tensor *t) {
    return (size_t)(t - nr_st_at(f, 0));
}

static int in_group(const char *name, const char *group, const char *exclude) {
    return !strncmp(name, group, strlen(group)) &&
           !(exclude && *exclude && !strncmp(name, exclude, strlen(exclude)));
}

static int shape_is(const nr_st_tensor *t, int ndim, size_t d0, size_t d1) {
    return t->ndim == ndim && t->shape[0] == d0 && (ndim < 2 || t->shape[1] == d1);
}

static void shape_text(char *buf, size_t cap, const nr_st_tensor *t) {
    size_t n = 0;
    n += (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < t->ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%zu", i ? ", " : "", t->shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, ")");
}

int nr_torch_find_rnn(const nr_st_file *f, const char *group, const char *exclude,
                      nr_torch_rnn *out, nlprnn_error *err) {
    memset(out, 0, sizeof *out);
    const char *key = "weight_ih_l0";
    size_t kl = strlen(key);
    const nr_st_tensor *w0 = NULL;
    for (size_t i = 0; i < nr_st_count(f); i++) {
        const nr_st_tensor *t = nr_st_at(f, i);
        size_t n = strlen(t->name);
        if (!in_group(t->name, group, exclude) || n < kl || strcmp(t->name + n - kl, key)) continue;
        if (w0)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                           "%s: two recurrent modules ('%.200s' and '%.200s'); nlprnn's models have "
                           "one (a stack of layers is one module with num_layers)",
                           nr_st_name(f), w0->name, t->name);
        w0 = t;
    }
    if (!w0)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: no recurrent module: no tensor named %s...weight_ih_l0 (PyTorch's "
                       "nn.RNN, nn.LSTM or nn.GRU)",
                       nr_st_name(f), group);
    size_t pl = strlen(w0->name) - kl;
    if (pl >= sizeof out->prefix)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: tensor name '%.200s' is too long",
                       nr_st_name(f), w0->name);
    memcpy(out->prefix, w0->name, pl);
    out->prefix[pl] = 0;
    char name[320];
    nr_torch_rnn_name(name, sizeof name, out->prefix, 1, 0, 0);
    const nr_st_tensor *h0 = nr_st_find(f, name);
    if (!h0 || h0->ndim != 2 || h0->shape[1] == 0 || h0->shape[0] % h0->shape[1])
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: '%s' is missing or not a (G*H, H) matrix", nr_st_name(f), name);
    size_t H = h0->shape[1], G = h0->shape[0] / H;
    if (G != 1 && G != 3 && G != 4)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: '%s' has %zu rows for hidden size %zu: %zu gate blocks, but nn.RNN has "
                       "1, nn.GRU 3 and nn.LSTM 4",
                       nr_st_name(f), name, h0->shape[0], H, G);
    if (H > 65536 || w0->ndim != 2 || w0->shape[0] != G * H || w0->shape[1] < 1 ||
        w0->shape[1] > 65536)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: '%s' is not a (%zu, input) matrix",
                       nr_st_name(f), w0->name, G * H);
    out->cell = G == 1 ? NR_CELL_RNN : G == 3 ? NR_CELL_GRU : NR_CELL_LSTM;
    out->hidden = (int)H;
    out->input = (int)w0->shape[1];
    nr_torch_rnn_name(name, sizeof name, out->prefix, 0, 0, 1);
    out->dirs = nr_st_find(f, name) ? 2 : 1;
    nr_torch_rnn_name(name, sizeof name, out->prefix, 2, 0, 0);
    out->has_bias = nr_st_find(f, name) != NULL;
    for (int l = 0;; l++) {
        nr_torch_rnn_name(name, sizeof name, out->prefix, 0, l, 0);
        if (!nr_st_find(f, name)) break;
        if (l >= NR_ENCODER_MAX_LAYERS)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: more than %d recurrent layers",
                           nr_st_name(f), NR_ENCODER_MAX_LAYERS);
        out->layers = l + 1;
    }
    /* every tensor of every (layer, direction), with its shape */
    for (int l = 0; l < out->layers; l++)
        for (int d = 0; d < out->dirs; d++) {
            size_t in = l == 0 ? (size_t)out->input : H * (size_t)out->dirs;
            size_t d0[4] = {G * H, G * H, G * H, G * H}, d1[4] = {in, H, 0, 0};
            for (int k = 0; k < 4; k++) {
                if (k >= 2 && !out->has_bias) continue;
                nr_torch_rnn_name(name, sizeof name, out->prefix, k, l, d);
                const nr_st_tensor *t = nr_st_find(f, name);
                if (!t)
                    return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                                   "%s: '%s' is missing (%d layers, %s)", nr_st_name(f), name,
                                   out->layers, out->dirs == 2 ? "bidirectional" : "one direction");
                if (!shape_is(t, k < 2 ? 2 : 1, d0[k], d1[k])) {
                    char sh[96];
                    shape_text(sh, sizeof sh, t);
                    return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                                   "%s: '%s' has shape %s, the module needs (%zu%s%.0zu)",
                                   nr_st_name(f), name, sh, d0[k], k < 2 ? ", " : "",
                                   k < 2 ? d1[k] : 0);
                }
            }
        }
    return NLPRNN_OK;
}

int nr_torch_get(const nr_st_file *f, const char *name, float *out, int ndim, const size_t *shape,
                 unsigned char *used, nlprnn_error *err) {
    const nr_st_tensor *t = nr_st_find(f, name);
    if (!t)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: tensor '%.200s' is missing", nr_st_name(f),
                       name);
    if (!shape_is(t, ndim, shape[0], ndim > 1 ? shape[1] : 0)) {
        char sh[96];
        shape_text(sh, sizeof sh, t);
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: tensor '%.200s' has shape %s, the model needs (%zu%s%.0zu)",
                       nr_st_name(f), name, sh, shape[0], ndim > 1 ? ", " : "",
                       ndim > 1 ? shape[1] : 0);
    }
    int rc = nr_st_read_f32(f, t, out, err);
    if (!rc && used) used[nr_torch_index(f, t)] = 1;
    return rc;
}

int nr_torch_get_encoder(const nr_st_file *f, const nr_torch_rnn *m, const nr_encoder *enc,
                         unsigned char *used, nlprnn_error *err) {
    size_t GH = (size_t)enc->gates * (size_t)enc->cfg.hidden;
    for (int l = 0; l < enc->cfg.layers; l++)
        for (int d = 0; d < enc->dirs; d++) {
            const nr_rnn_slot *s = &enc->slot[l][d];
            size_t off[4] = {s->w_ih, s->w_hh, s->b_ih, s->b_hh};
            size_t shape[4][2] = {{GH, (size_t)s->in}, {GH, (size_t)enc->cfg.hidden}, {GH, 0}, {GH, 0}};
            for (int k = 0; k < 4; k++) {
                if (k >= 2 && !m->has_bias) {
                    memset(enc->params + off[k], 0, GH * sizeof(float));
                    continue;
                }
                char name[320];
                nr_torch_rnn_name(name, sizeof name, m->prefix, k, l, d);
                int rc = nr_torch_get(f, name, enc->params + off[k], k < 2 ? 2 : 1, shape[k], used,
                                      err);
                if (rc) return rc;
            }
        }
    return NLPRNN_OK;
}

int nr_torch_check_all_used(const nr_st_file *f, const unsigned char *used, const char *what,
                            nlprnn_error *err) {
    for (size_t i = 0; i < nr_st_count(f); i++)
        if (!used[i]) {
            char sh[96];
            shape_text(sh, sizeof sh, nr_st_at(f, i));
            return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                           "%s: tensor '%.200s' %s has no place in nlprnn's %s (embedding, one "
                           "recurrent module, one linear layer: docs/interop.md)",
                           nr_st_name(f), nr_st_at(f, i)->name, sh, what);
        }
    return NLPRNN_OK;
}

/* ---- the configuration of an import ---------------------------------------------------------- */

int nr_torch_check_settings(const char *const *settings, size_t n, const char *const *allowed,
                            nlprnn_error *err) {
    for (size_t i = 0; i < n; i++) {
        const char *s = settings[i], *eq = s ? strchr(s, '=') : NULL;
        int ok = 0;
        for (int k = 0; eq && allowed[k] && !ok; k++)
            ok = strlen(allowed[k]) == (size_t)(eq - s) && !strncmp(s, allowed[k], (size_t)(eq - s));
        if (!ok) {
            char keys[400] = "";
            size_t at = 0;
            for (int k = 0; allowed[k] && at < sizeof keys; k++)
                at += (size_t)snprintf(keys + at, sizeof keys - at, "%s%s", k ? ", " : "", allowed[k]);
            return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                           "import setting '%.100s': %s (settings are KEY=VALUE with KEY one of %s)",
                           s ? s : "(null)", eq ? "unknown key" : "no '='", keys);
        }
    }
    return NLPRNN_OK;
}

const char *nr_torch_value(const nr_st_file *f, const char *const *settings, size_t n,
                           const char *key, const char **from) {
    size_t kl = strlen(key);
    for (size_t i = n; i-- > 0;)
        if (!strncmp(settings[i], key, kl) && settings[i][kl] == '=') {
            if (from) *from = "setting";
            return settings[i] + kl + 1;
        }
    if (from) *from = "metadata";
    return nr_st_meta(f, key);
}

int nr_torch_int(const nr_st_file *f, const char *const *settings, size_t n, const char *key,
                 long long lo, long long hi, long long *out, nlprnn_error *err) {
    const char *from, *v = nr_torch_value(f, settings, n, key, &from);
    if (!v) return NLPRNN_OK;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || x < lo || x > hi) {
        int setting = !strcmp(from, "setting");
        return nr_fail(err, setting ? NLPRNN_E_INVALID_ARG : NLPRNN_E_FORMAT, -1, -1,
                       "%s%s%s=%.60s: an integer in %lld..%lld is needed", setting ? "" : nr_st_name(f),
                       setting ? "import setting " : ": __metadata__ ", key, v, lo, hi);
    }
    *out = x;
    return NLPRNN_OK;
}

int nr_torch_check_kind(const nr_st_file *f, const char *const *settings, size_t n,
                        const char *kind, nlprnn_error *err) {
    const char *from, *v = nr_torch_value(f, settings, n, "kind", &from);
    if (!v || !strcmp(v, kind)) return NLPRNN_OK;
    int setting = !strcmp(from, "setting");
    return nr_fail(err, setting ? NLPRNN_E_INVALID_ARG : NLPRNN_E_FORMAT, -1, -1,
                   "%s: %s says kind=%.40s, not %s", nr_st_name(f),
                   setting ? "the import setting" : "the file's __metadata__", v, kind);
}

int nr_torch_agree(const nr_st_file *f, const char *const *settings, size_t n, const char *key,
                   const char *found, nlprnn_error *err) {
    const char *from, *v = nr_torch_value(f, settings, n, key, &from);
    if (!v || !strcmp(v, found)) return NLPRNN_OK;
    int setting = !strcmp(from, "setting");
    return nr_fail(err, setting ? NLPRNN_E_INVALID_ARG : NLPRNN_E_FORMAT, -1, -1,
                   "%s: %s says %s=%.60s but the tensors give %s", nr_st_name(f),
                   setting ? "the import setting" : "__metadata__", key, v, found);
}

/* ---- finding the embedding and the linear layer ------------------------------------------------- */

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int nr_torch_find_embedding(const nr_st_file *f, const char *group, const char *exclude, int dim,
                            const unsigned char *used, const nr_st_tensor **out, nlprnn_error *err) {
    *out = NULL;
    const nr_st_tensor *best = NULL, *second = NULL;
    int best_rank = -1;
    char enc_name[320];
    snprintf(enc_name, sizeof enc_name, "%sencoder.weight", group);
    for (size_t i = 0; i < nr_st_count(f); i++) {
        const nr_st_tensor *t = nr_st_at(f, i);
        if (used[i] || !in_group(t->name, group, exclude) || t->ndim != 2 ||
            t->shape[1] != (size_t)dim || !ends_with(t->name, "weight"))
            continue;
        int rank = strstr(t->name + strlen(group), "embed") ? 2 : !strcmp(t->name, enc_name) ? 1 : 0;
        if (rank > best_rank) {
            second = NULL;
            best = t;
            best_rank = rank;
        } else if (rank == best_rank) {
            second = t;
        }
    }
    if (!best)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: no embedding: no %s...weight matrix with %d columns (the recurrent "
                       "module's input size)",
                       nr_st_name(f), group, dim);
    if (second)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: two tensors could be the embedding, '%.200s' and '%.200s' (name it "
                       "...embedding.weight)",
                       nr_st_name(f), best->name, second->name);
    *out = best;
    return NLPRNN_OK;
}

int nr_torch_find_linear(const nr_st_file *f, const char *group, const char *exclude, int in,
                         const unsigned char *used, int optional, const nr_st_tensor **weight,
                         const nr_st_tensor **bias, nlprnn_error *err) {
    *weight = *bias = NULL;
    for (size_t i = 0; i < nr_st_count(f); i++) {
        const nr_st_tensor *t = nr_st_at(f, i);
        if (used[i] || !in_group(t->name, group, exclude) || t->ndim != 2 ||
            t->shape[1] != (size_t)in || !ends_with(t->name, "weight"))
            continue;
        if (*weight)
            return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                           "%s: two linear layers take the recurrent output (%d features): "
                           "'%.200s' and '%.200s'; nlprnn's models have one",
                           nr_st_name(f), in, (*weight)->name, t->name);
        *weight = t;
    }
    if (!*weight) {
        if (optional) return NLPRNN_OK;
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1,
                       "%s: no linear layer: no %s...weight matrix with %d columns (the recurrent "
                       "output's size)",
                       nr_st_name(f), group, in);
    }
    char name[NR_ST_MAX_NAME + 8];
    size_t pl = strlen((*weight)->name) - strlen("weight");
    snprintf(name, sizeof name, "%.*sbias", (int)pl, (*weight)->name);
    const nr_st_tensor *b = nr_st_find(f, name);
    if (b && !used[nr_torch_index(f, b)]) {
        if (b->ndim != 1 || b->shape[0] != (*weight)->shape[0])
            return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: '%.200s' is not a vector of %zu",
                           nr_st_name(f), b->name, (*weight)->shape[0]);
        *bias = b;
    }
    return NLPRNN_OK;
}

/* ---- shared by the models' imports and exports --------------------------------------------------- */

/* The tokenizer's pieces as an array (pointers into tok), for .vec files. */
static int piece_list(const nlprnn_tokenizer *tok, int V, const char ***out, nlprnn_error *err) {
    const char **p = nr_malloc_array((size_t)V, sizeof *p);
    if (!p) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    for (int i = 0; i < V; i++) p[i] = nlprnn_tokenizer_piece(tok, i);
    *out = p;
    return NLPRNN_OK;
}

int nr_export_vec(const nr_embedding *emb, const nlprnn_tokenizer *tok, const char *path,
                  nlprnn_error *err) {
    if (nlprnn_tokenizer_vocab_size(tok) != emb->vocab)
        return nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: the tokenizer has %d ids, the table %d rows",
                       path, (int)nlprnn_tokenizer_vocab_size(tok), emb->vocab);
    const char **pieces = NULL;
    int rc = piece_list(tok, emb->vocab, &pieces, err);
    if (!rc) rc = nr_embedding_save_vec(emb, path, pieces, err);
    free(pieces);
    return rc;
}

int nr_import_storage(const nr_st_file *f, const char *const *settings, size_t n, int *dtype,
                      nlprnn_error *err) {
    const char *from, *v = nr_torch_value(f, settings, n, "storage", &from);
    *dtype = NR_DTYPE_F32;
    if (!v || !strcmp(v, "f32")) return NLPRNN_OK;
    if (!strcmp(v, "f16")) *dtype = NR_DTYPE_F16;
    else if (!strcmp(v, "int8")) *dtype = NR_DTYPE_I8;
    else
        return nr_fail(err, !strcmp(from, "setting") ? NLPRNN_E_INVALID_ARG : NLPRNN_E_FORMAT, -1, -1,
                       "%s: storage=%.40s: f32, f16 or int8", nr_st_name(f), v);
    return NLPRNN_OK;
}

