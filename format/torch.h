/* format/torch.h: PyTorch's names and layouts in safetensors files (internal, not installed).
 *
 * nlprnn's encoder stores each (layer l, direction d) as W_ih (G*H, I_l), W_hh (G*H, H), b_ih,
 * b_hh (G*H) with PyTorch's gate order (LSTM i,f,g,o; GRU r,z,n reset-after; docs/math.md), so a
 * PyTorch nn.RNN / nn.LSTM / nn.GRU (batch_first or not, tanh, no projection) maps tensor for
 * tensor, without reordering, to these names under the module's prefix P ("rnn."):
 *
 *   P weight_ih_l{l}[_reverse]   (G*H, I_l)        P bias_ih_l{l}[_reverse]   (G*H)
 *   P weight_hh_l{l}[_reverse]   (G*H, H)          P bias_hh_l{l}[_reverse]   (G*H)
 *
 * G = rows / columns of weight_hh_l0: 1 nn.RNN, 3 nn.GRU, 4 nn.LSTM. nn.Embedding is
 * "E.weight" (V, D) and nn.Linear "F.weight" (out, in) and "F.bias" (out), the layouts of
 * nlprnn's embedding table and dense layer. The models' own files (tasks/classify/interop.c,
 * tasks/lm/interop.c) choose the prefixes and check what is left over.
 */
#ifndef NR_FORMAT_TORCH_H
#define NR_FORMAT_TORCH_H

#include "format/safetensors.h"
#include "embed/embedding.h"
#include "models/encoder.h"
#include "nlprnn/tokenizer.h"

/* PyTorch's name of one tensor of a recurrent module: which = 0 weight_ih, 1 weight_hh,
 * 2 bias_ih, 3 bias_hh. */
void nr_torch_rnn_name(char *buf, size_t cap, const char *prefix, int which, int layer, int dir);

/* Write the encoder's parameters (enc->params) under prefix, F32. */
int nr_torch_put_encoder(nr_st_writer *w, const char *prefix, const nr_encoder *enc,
                         nlprnn_error *err);

/* A recurrent module found in a file. */
typedef struct nr_torch_rnn {
    char prefix[256];   /* e.g. "rnn." or "backward.lstm." */
    int cell;           /* NR_CELL_RNN / LSTM / GRU, from G */
    int layers, dirs, hidden, input;
    int has_bias;       /* 0: bias=False (the biases are zeros) */
} nr_torch_rnn;

/* Find the one recurrent module among the tensors whose names start with `group` and do not
 * start with `exclude` (NULL for none): the P with "P weight_ih_l0". Checks that layers
 * 0..L-1 are all there, the same directions and biases in each, and the shapes a PyTorch module
 * has. NLPRNN_E_FORMAT naming the file and the tensor when not. */
int nr_torch_find_rnn(const nr_st_file *f, const char *group, const char *exclude,
                      nr_torch_rnn *out, nlprnn_error *err);

/* Read the module's tensors into enc->params (enc bound with the module's sizes); marks the
 * tensors read in used (indexed like nr_st_at). Missing biases (bias=False) become zeros. */
int nr_torch_get_encoder(const nr_st_file *f, const nr_torch_rnn *m, const nr_encoder *enc,
                         unsigned char *used, nlprnn_error *err);

/* Read tensor `name` as float32 into out, checking its shape (ndim, shape); marks it used. A
 * missing tensor or another shape is NLPRNN_E_FORMAT naming both. */
int nr_torch_get(const nr_st_file *f, const char *name, float *out, int ndim, const size_t *shape,
                 unsigned char *used, nlprnn_error *err);

/* The index of t in f (for used[]). */
size_t nr_torch_index(const nr_st_file *f, const nr_st_tensor *t);

/* NLPRNN_E_FORMAT naming the first tensor not marked used (what the model has no place for);
 * what: the model's kind for the message. */
int nr_torch_check_all_used(const nr_st_file *f, const unsigned char *used, const char *what,
                            nlprnn_error *err);


/* ---- shared by the models' imports and exports ------------------------------------------------ */

/* Write an embedding table as a .vec file with the tokenizer's pieces as tokens
 * (nr_embedding_save_vec). */
int nr_export_vec(const nr_embedding *emb, const nlprnn_tokenizer *tok, const char *path,
                  nlprnn_error *err);
/* The "storage" setting or metadata as an NR_DTYPE_* (default float32). */
int nr_import_storage(const nr_st_file *f, const char *const *settings, size_t n, int *dtype,
                      nlprnn_error *err);

#endif

/* ---- the configuration of an import --------------------------------------------------------
 * What the tensors do not say (a classifier's pooling, its labels ...) comes from the file's
 * __metadata__ or from the caller's settings ("key=value"; a setting wins over the metadata),
 * and what they do say (sizes, the cell) may be stated there too: it must then agree. */

/* Every setting is "key=value" with key in allowed (NULL-terminated): otherwise
 * NLPRNN_E_INVALID_ARG naming it and the keys. */
int nr_torch_check_settings(const char *const *settings, size_t n, const char *const *allowed,
                            nlprnn_error *err);
/* The value of key: the last setting that names it, else the metadata's, else NULL.
 * *from (optional) receives "setting" or "metadata" for messages. */
const char *nr_torch_value(const nr_st_file *f, const char *const *settings, size_t n,
                           const char *key, const char **from);
/* An integer value in lo..hi; absent: *out unchanged. A bad value is NLPRNN_E_INVALID_ARG (a
 * setting) or NLPRNN_E_FORMAT (the file's metadata), naming the key. */
int nr_torch_int(const nr_st_file *f, const char *const *settings, size_t n, const char *key,
                 long long lo, long long hi, long long *out, nlprnn_error *err);
/* The "kind" stated (if any) must be `kind` ("classifier", "lm"). */
int nr_torch_check_kind(const nr_st_file *f, const char *const *settings, size_t n,
                        const char *kind, nlprnn_error *err);
/* When key is stated, it must equal what the tensors give (`found`, a number or a name). */
int nr_torch_agree(const nr_st_file *f, const char *const *settings, size_t n, const char *key,
                   const char *found, nlprnn_error *err);

/* ---- finding the embedding and the linear layer ----------------------------------------------- */

/* The embedding among the unused tensors of the group (as nr_torch_find_rnn): a 2-D "...weight"
 * with `dim` columns; of several, the one whose name holds "embed", else "GROUPencoder.weight"
 * (PyTorch's word_language_model names it so). NLPRNN_E_FORMAT naming the candidates when it is
 * not one. */
int nr_torch_find_embedding(const nr_st_file *f, const char *group, const char *exclude, int dim,
                            const unsigned char *used, const nr_st_tensor **out, nlprnn_error *err);
/* The linear layer among the unused tensors of the group: the one 2-D "P weight" with `in`
 * columns, and its "P bias" (*bias NULL when the layer has none: bias=False). *weight NULL and
 * NLPRNN_OK when there is no candidate and `optional`; two candidates are NLPRNN_E_FORMAT. */
int nr_torch_find_linear(const nr_st_file *f, const char *group, const char *exclude, int in,
                         const unsigned char *used, int optional, const nr_st_tensor **weight,
                         const nr_st_tensor **bias, nlprnn_error *err);
