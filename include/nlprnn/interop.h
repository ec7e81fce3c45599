/* nlprnn/interop.h: weights in and out — safetensors (PyTorch, Hugging Face) and word vectors.
 *
 *   nlprnn model (.nrm) --export--> model.safetensors  (PyTorch's names and layouts)
 *                       --export--> embedding.vec      (word2vec text, one piece a line)
 *   model.safetensors + a tokenizer --import--> nlprnn model (.nrm)
 *
 * safetensors is an 8-byte little-endian header length, a JSON header (each tensor's dtype,
 * shape and byte range; an optional "__metadata__" map of strings) and the raw little-endian
 * tensors. Files are validated strictly before use: byte ranges inside the file, neither
 * overlapping nor leaving bytes unused, sizes that match dtype and shape, a header of at most
 * 100 MB (docs/formats.md).
 *
 * Names and layouts are PyTorch's (docs/interop.md has the table and a walk-through):
 *
 *   nn.Embedding             embedding.weight                     (V, E)
 *   nn.RNN / LSTM / GRU      rnn.weight_ih_l{k}[_reverse]         (G*H, in)   G: 1, 4 (i,f,g,o), 3 (r,z,n)
 *                            rnn.weight_hh_l{k}[_reverse]         (G*H, H)
 *                            rnn.bias_ih_l{k}[_reverse], rnn.bias_hh_l{k}[_reverse]   (G*H)
 *   nn.Linear (classifier)   fc.weight (C, O), fc.bias (C)        O = H, or 2H bidirectional
 *   nn.Linear (lm)           decoder.weight (V, H), decoder.bias (V)
 *   a language model's backward network: the same names under "backward."
 *
 * nlprnn's gate order is PyTorch's, so no tensor is reordered. Export writes exactly these names
 * (a tied language model writes its table as decoder.weight too, so PyTorch's load_state_dict
 * finds both) and the configuration as "__metadata__" (kind, cell, layers, bidirectional, embed,
 * hidden, vocab, pool, max_tokens, classes, labels, label_names when the model has display
 * names, tied, backward). Import accepts any module
 * prefixes (e.g. "lstm." instead of "rnn.", "encoder.weight" for the embedding): it finds the one
 * recurrent module by its weight_ih_l0, the embedding by its shape (a name with "embed" first)
 * and the linear layer as the remaining weight/bias pair; a tensor left over, a second recurrent
 * module or a shape that does not fit is NLPRNN_E_FORMAT naming the tensor. Token ids are the
 * tokenizer's: the embedding's rows must be in the order of the tokenizer given on import.
 *
 * Import settings ("key=value" strings; each wins over the same key in the file's
 * "__metadata__"):
 *   pool         last | mean | max      classifier: how the outputs are pooled (required)
 *   labels       the C class labels as in the training data, separated by newlines (or by
 *                commas when there is no newline); default "0", "1", ...
 *   label_names  their display names (nlprnn_classifier_label): one per class the same way, or
 *                "DATA=NAME,..." (nlprnn_classifier_relabel's syntax); default: none
 *   max_tokens   classifier: documents are cut to this many tokens (default 512)
 *   tied         lm: 1 = the output matrix is the embedding table (default: 1 when
 *                decoder.weight is missing or equals embedding.weight)
 *   storage      f32 | f16 | int8: how the model file stores the matrices (default f32)
 *   kind, cell, layers, bidirectional, embed, hidden, vocab, classes, backward: when given,
 *                they must agree with the tensors (a check, not a choice).
 *
 * Thread rule: these functions read a shared model and write files; they may run in any thread.
 */
#ifndef NLPRNN_INTEROP_H
#define NLPRNN_INTEROP_H

#include "nlprnn/base.h"
#include "nlprnn/classifier.h"
#include "nlprnn/lm.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Export format: safetensors, float32, PyTorch names, the configuration as "__metadata__". */
#define NLPRNN_EXPORT_SAFETENSORS 1
/** Export format: the embedding table as word2vec text ("V E", then "piece v1 ... vE" per row,
 *  rows in id order; pieces are the tokenizer's, "▁" and all), which `nlprnn train --vectors`
 *  reads back. */
#define NLPRNN_EXPORT_VEC 2

/** Write a classifier's weights to path (atomically) in `format` (NLPRNN_EXPORT_*). */
NLPRNN_API int nlprnn_classifier_export(const nlprnn_classifier *m, const char *path, int format,
                                        nlprnn_error *err);

/** Make a classifier model file (out_path, atomically) from a safetensors file holding an
 *  embedding, one recurrent module and a linear layer, and the tokenizer whose ids index the
 *  embedding (its vocabulary size must equal the embedding's rows). settings (n_settings
 *  "key=value" strings, may be NULL when 0) as listed above. Errors: the file's
 *  (NLPRNN_E_IO, _FORMAT, _TRUNCATED, _MAGIC, _LIMIT, each naming the file and what is wrong),
 *  NLPRNN_E_INVALID_ARG for a bad setting or a tokenizer of another size, NLPRNN_E_UNSUPPORTED
 *  for a dtype other than F32, F16, BF16 or F64. */
NLPRNN_API int nlprnn_classifier_import(const char *path, const nlprnn_tokenizer *tok,
                                        const char *const *settings, size_t n_settings,
                                        const char *out_path, nlprnn_error *err);

/** Write a language model's weights to path (atomically) in `format` (NLPRNN_EXPORT_*; vec: the
 *  forward network's embedding). */
NLPRNN_API int nlprnn_lm_export(const nlprnn_lm *lm, const char *path, int format,
                                nlprnn_error *err);

/** Make a language-model file (out_path) from a safetensors file: an embedding, one LSTM or GRU
 *  (one direction), a linear layer to the vocabulary (decoder), and optionally the same under
 *  "backward." for the right-to-left network. Arguments and errors as
 *  nlprnn_classifier_import. */
NLPRNN_API int nlprnn_lm_import(const char *path, const nlprnn_tokenizer *tok,
                                const char *const *settings, size_t n_settings,
                                const char *out_path, nlprnn_error *err);

#ifdef __cplusplus
}
#endif
#endif
