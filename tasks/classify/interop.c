/* tasks/classify/interop.c: a classifier's weights in and out (nlprnn/interop.h).
 *
 *   export: WGHT tensors -> safetensors with PyTorch's names (format/torch.h), or the embedding as
 *           a .vec file
 *   import: safetensors (+ a tokenizer) -> a CLSF model file
 *
 * The flat block [ embedding (V,E) | encoder | dense W (C,O), b (C) ] maps one to one:
 *   embedding.weight = the table; rnn.* = the encoder (PyTorch's layout, no reordering);
 *   fc.weight = W, fc.bias = b.
 */
#include <stdlib.h>
#include <string.h>

#include "corpora/dataset.h"
#include "format/torch.h"
#include "tasks/classify/classifier.h"
#include "format/modelfile.h"
#include "nlprnn/interop.h"

static int meta_int(nr_st_writer *w, const char *key, long long v, nlprnn_error *err) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return nr_st_put_meta(w, key, buf, err);
}

int nlprnn_classifier_export(const nlprnn_classifier *m, const char *path, int format,
                             nlprnn_error *err) {
    if (!m || !path)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "nlprnn_classifier_export: NULL argument");
    const nr_clf_net *net = nr_model_net(m);
    if (format == NLPRNN_EXPORT_VEC) return nr_export_vec(&net->emb, nlprnn_classifier_tokenizer(m), path, err);
    if (format != NLPRNN_EXPORT_SAFETENSORS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "export format %d is not %d (safetensors) "
                       "or %d (vec)", format, NLPRNN_EXPORT_SAFETENSORS, NLPRNN_EXPORT_VEC);
    const nr_clf_cfg *c = &net->cfg;
    nr_st_writer *w = NULL;
    int rc = nr_st_writer_new(&w, err);
    /* the configuration, as text: what PyTorch code needs to rebuild the module */
    if (!rc) rc = nr_st_put_meta(w, "format", "pt", err);
    if (!rc) rc = nr_st_put_meta(w, "kind", "classifier", err);
    if (!rc) rc = nr_st_put_meta(w, "cell", nr_cell_name(c->cell), err);
    if (!rc) rc = meta_int(w, "layers", c->layers, err);
    if (!rc) rc = meta_int(w, "bidirectional", c->bidirectional, err);
    if (!rc) rc = meta_int(w, "embed", c->embed, err);
    if (!rc) rc = meta_int(w, "hidden", c->hidden, err);
    if (!rc) rc = meta_int(w, "vocab", c->vocab, err);
    if (!rc) rc = meta_int(w, "classes", c->classes, err);
    if (!rc) rc = nr_st_put_meta(w, "pool", nr_pool_name(c->pool), err);
    if (!rc) rc = meta_int(w, "max_tokens", c->max_tokens, err);
    if (!rc) {
        size_t n = 1;
        for (int i = 0; i < c->classes; i++) n += strlen(nlprnn_classifier_data_label(m, i)) + 1;
        char *labels = malloc(n);
        if (!labels) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        else {
            size_t at = 0;
            for (int i = 0; i < c->classes; i++)
                at += (size_t)sprintf(labels + at, "%s%s", i ? "\n" : "", nlprnn_classifier_data_label(m, i));
            rc = nr_st_put_meta(w, "labels", labels, err);
            free(labels);
        }
    }
    if (!rc && nr_model_label_names(m)->n) { /* the display names, one per class */
        char *names = nr_label_names_join(nr_model_label_names(m));
        rc = names ? nr_st_put_meta(w, "label_names", names, err)
                   : nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
        free(names);
    }
    if (!rc) rc = nr_st_put_meta(w, "tokenizer", nlprnn_tokenizer_describe(nlprnn_classifier_tokenizer(m)), err);
    if (!rc) rc = nr_st_put_meta(w, "nlprnn", nlprnn_version_string(), err);
    /* the tensors, in the flat block's order */
    size_t se[2] = {(size_t)c->vocab, (size_t)c->embed};
    if (!rc) rc = nr_st_put_f32(w, "embedding.weight", net->emb.table, 2, se, NR_ST_F32, err);
    if (!rc) rc = nr_torch_put_encoder(w, "rnn.", &net->enc, err);
    size_t sw[2] = {(size_t)c->classes, (size_t)net->pooled}, sb[1] = {(size_t)c->classes};
    if (!rc) rc = nr_st_put_f32(w, "fc.weight", net->head.w, 2, sw, NR_ST_F32, err);
    if (!rc) rc = nr_st_put_f32(w, "fc.bias", net->head.b, 1, sb, NR_ST_F32, err);
    if (!rc) rc = nr_st_writer_save(w, path, err);
    nr_st_writer_free(w);
    return rc;
}

/* ---- import ------------------------------------------------------------------------------------ */

/* Labels from "a\nb\n..." (or "a,b,..." without a newline), C of them; default "0".."C-1". */
static int import_labels(const nr_st_file *f, const char *const *settings, size_t n, int C,
                         nr_label_map *labels, nlprnn_error *err) {
    const char *from, *v = nr_torch_value(f, settings, n, "labels", &from);
    int code = v && !strcmp(from, "setting") ? NLPRNN_E_INVALID_ARG : NLPRNN_E_FORMAT;
    nr_label_map_init(labels);
    char sep = v && strchr(v, '\n') ? '\n' : ',';
    for (int i = 0; i < C; i++) {
        char num[16];
        const char *s = num;
        size_t len;
        if (v) {
            const char *e = strchr(v, sep);
            if (!e) e = v + strlen(v);
            s = v;
            len = (size_t)(e - v);
            v = *e ? e + 1 : NULL;
            if (!v && i + 1 < C) break;
        } else {
            len = (size_t)snprintf(num, sizeof num, "%d", i);
        }
        if (nr_label_map_find(labels, s, len) >= 0) {
            nr_label_map_free(labels);
            return nr_fail(err, code, -1, -1, "%s: labels: \"%.*s\" appears twice", nr_st_name(f),
                           (int)(len > 64 ? 64 : len), s);
        }
        nlprnn_error e1;
        int rc = nr_label_map_add(labels, s, len, &e1);
        if (rc < 0) {
            nr_label_map_free(labels);
            return nr_fail(err, rc == NLPRNN_E_DATA ? code : rc, -1, -1, "%s: labels: %s",
                           nr_st_name(f), e1.message);
        }
    }
    if (labels->n != C || v) {
        int got = labels->n;
        nr_label_map_free(labels);
        return nr_fail(err, code, -1, -1, "%s: labels: %s names for %d classes (fc.weight's rows)",
                       nr_st_name(f), got < C ? "fewer" : "more", C);
    }
    return NLPRNN_OK;
}

static const char *const clf_settings[] = {"pool", "labels", "label_names", "max_tokens", "storage", "kind",
                                           "cell", "layers", "bidirectional", "embed", "hidden",
                                           "vocab", "classes", NULL};

int nlprnn_classifier_import(const char *path, const nlprnn_tokenizer *tok,
                             const char *const *settings, size_t n_settings, const char *out_path,
                             nlprnn_error *err) {
    if (!path || !tok || !out_path || (n_settings && !settings))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "nlprnn_classifier_import: a file, a tokenizer and an output path are needed");
    int rc = nr_torch_check_settings(settings, n_settings, clf_settings, err);
    if (rc) return rc;
    nr_st_file *f = NULL;
    rc = nr_st_open_file(&f, path, err);
    if (rc) return rc;
    unsigned char *used = calloc(nr_st_count(f) + 1, 1);
    float *params = NULL;
    nr_label_map labels, names;
    nr_label_map_init(&labels);
    nr_label_map_init(&names);
    nr_mf_writer *w = NULL;
    nr_mf_buf conf;
    nr_mf_buf_init(&conf);
    if (!used) {
        rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
        goto done;
    }
    rc = nr_torch_check_kind(f, settings, n_settings, "classifier", err);
    nr_torch_rnn rnn;
    if (!rc) rc = nr_torch_find_rnn(f, "", NULL, &rnn, err);
    if (rc) goto done;
    const nr_st_tensor *emb = NULL, *fw = NULL, *fb = NULL;
    const char *from, *pool = nr_torch_value(f, settings, n_settings, "pool", &from);
    if (!pool) {
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                     "%s: the pooling over time is not in the file's __metadata__: give "
                     "pool=last|mean|max|concat",
                     path);
        goto done;
    }
    int pool_kind = nr_pool_from_name(pool);
    if (pool_kind < 0) {
        rc = nr_fail(err, !strcmp(from, "setting") ? NLPRNN_E_INVALID_ARG : NLPRNN_E_FORMAT, -1, -1,
                     "%s: pool=%.40s: last, mean, max or concat", path, pool);
        goto done;
    }
    /* the head reads O features (3 O for concat pooling) */
    int O = rnn.hidden * rnn.dirs * (pool_kind == NR_POOL_CONCAT ? 3 : 1);
    /* the recurrent module first (its tensors are then used), then the embedding and the head */
    rc = nr_torch_find_embedding(f, "", NULL, rnn.input, used, &emb, err);
    if (!rc) used[nr_torch_index(f, emb)] = 1;
    if (!rc) rc = nr_torch_find_linear(f, "", NULL, O, used, 0, &fw, &fb, err);
    if (!rc) used[nr_torch_index(f, emb)] = 0;
    if (rc) goto done;
    nr_clf_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab = emb->shape[0] > (1u << 24) ? -1 : (int)emb->shape[0];
    cfg.embed = rnn.input;
    cfg.cell = rnn.cell;
    cfg.layers = rnn.layers;
    cfg.bidirectional = rnn.dirs == 2;
    cfg.hidden = rnn.hidden;
    cfg.classes = fw->shape[0] > NR_MAX_LABELS ? -1 : (int)fw->shape[0];
    cfg.max_tokens = NLPRNN_CLASSIFY_MAX_TOKENS;
    cfg.dropout = 0.0f;
    cfg.pool = pool_kind;
    /* what the file or the caller states must agree with the tensors */
    char num[7][24];
    const char *keys[7] = {"cell", "layers", "bidirectional", "embed", "hidden", "vocab", "classes"};
    snprintf(num[0], sizeof num[0], "%s", nr_cell_name(cfg.cell));
    snprintf(num[1], sizeof num[1], "%d", cfg.layers);
    snprintf(num[2], sizeof num[2], "%d", cfg.bidirectional);
    snprintf(num[3], sizeof num[3], "%d", cfg.embed);
    snprintf(num[4], sizeof num[4], "%d", cfg.hidden);
    snprintf(num[5], sizeof num[5], "%d", cfg.vocab);
    snprintf(num[6], sizeof num[6], "%d", cfg.classes);
    for (int k = 0; k < 7 && !rc; k++) rc = nr_torch_agree(f, settings, n_settings, keys[k], num[k], err);
    if (rc) goto done;
    if (cfg.vocab != nlprnn_tokenizer_vocab_size(tok)) {
        rc = nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                     "%s: the embedding '%s' has %zu rows but the tokenizer has %d ids (the rows "
                     "must be the tokenizer's ids)",
                     path, emb->name, emb->shape[0], (int)nlprnn_tokenizer_vocab_size(tok));
        goto done;
    }
    long long mt = cfg.max_tokens;
    rc = nr_torch_int(f, settings, n_settings, "max_tokens", 1, 1 << 20, &mt, err);
    cfg.max_tokens = (int)mt;
    int dtype;
    if (!rc) rc = nr_import_storage(f, settings, n_settings, &dtype, err);
    if (!rc) rc = import_labels(f, settings, n_settings, cfg.classes, &labels, err);
    if (!rc) {
        const char *nfrom, *spec = nr_torch_value(f, settings, n_settings, "label_names", &nfrom);
        rc = nr_label_names_parse(&labels, spec, &names, err);
        if (rc == NLPRNN_E_INVALID_ARG) {
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err ? err->message : "");
            rc = nr_fail(err, !strcmp(nfrom, "setting") ? NLPRNN_E_INVALID_ARG : NLPRNN_E_FORMAT,
                         -1, -1, "%s: %s", path, why);
        }
    }
    if (rc) goto done;
    nr_clf_net net;
    rc = nr_clf_net_bind(&net, &cfg, NULL, err);
    if (!rc) {
        params = nr_calloc_array(net.n_params, sizeof(float));
        if (!params) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "%s: out of memory", path);
    }
    if (!rc) rc = nr_clf_net_bind(&net, &cfg, params, err);
    if (rc) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err ? err->message : "");
        rc = nr_fail(err, NLPRNN_E_FORMAT, -1, -1, "%s: %s", path, why);
        goto done;
    }
    size_t se[2] = {(size_t)cfg.vocab, (size_t)cfg.embed};
    size_t sw[2] = {(size_t)cfg.classes, (size_t)O}, sb[1] = {(size_t)cfg.classes};
    rc = nr_torch_get_encoder(f, &rnn, &net.enc, used, err);
    if (!rc) rc = nr_torch_get(f, emb->name, net.emb.table, 2, se, used, err);
    if (!rc) rc = nr_torch_get(f, fw->name, net.head.w, 2, sw, used, err);
    if (!rc && fb) rc = nr_torch_get(f, fb->name, net.head.b, 1, sb, used, err);
    if (!rc) rc = nr_torch_check_all_used(f, used, "classifier", err);
    /* the model file: what training writes, with the source named */
    if (!rc) rc = nr_mf_writer_new(&w, NR_KIND_CLASSIFIER, err);
    if (!rc) rc = nr_clf_put_cfg(&conf, &cfg, err);
    if (!rc) rc = nr_conf_put_str(&conf, "storage", dtype == NR_DTYPE_F32 ? "f32"
                                                    : dtype == NR_DTYPE_F16 ? "f16" : "int8", err);
    if (!rc) {
        const char *bn = strrchr(path, '/');
        rc = nr_conf_put_str(&conf, "import.file", bn ? bn + 1 : path, err);
    }
    if (!rc) rc = nr_mf_add(w, "CONF", NR_MF_CONFIG, conf.data, conf.len, 0, err);
    if (!rc) rc = nr_mf_add_tokenizer(w, "TOKN", tok, err);
    if (!rc) rc = nr_label_map_save(&labels, w, "LABL", err);
    if (!rc && names.n) rc = nr_label_map_save(&names, w, "LNAM", err);
    if (!rc) rc = nr_clf_put_weights(w, "WGHT", &net, params, dtype, err);
    if (!rc) rc = nr_mf_writer_save(w, out_path, err);
done:
    nr_mf_buf_free(&conf);
    nr_mf_writer_free(w);
    nr_label_map_free(&labels);
    nr_label_map_free(&names);
    free(params);
    free(used);
    nr_st_close(f);
    return rc;
}
