/* tasks/classify/classifier.h: the text classifier's internals (not installed), for tests and tools.
 *
 *   ids (T,B) -> embedding (T,B,E) -> encoder (T,B,O) -> pool (B,P) -> dropout -> dense (B,C)
 *   (P = O, or 3 O for concat pooling)
 *
 * All parameters live in one flat block, in this order:
 *   [ embedding (V,E) | encoder (nr_encoder_param_count) | dense W (C,O), b (C) ]
 * Pooling over the real steps t < len[b] of each sequence (padded steps are never looked at):
 *   last: forward half = out[len-1], reverse half (bidirectional) = out[0] (its last step)
 *   mean: (1/len) sum_t out[t]
 *   max:  max_t out[t], elementwise; backward routes the gradient to the arg max step
 *   concat: [last | max | mean] (B,3O) (ULMFiT's concat pooling, Howard & Ruder 2018)
 */
#ifndef NR_TASKS_CLASSIFY_CLASSIFIER_H
#define NR_TASKS_CLASSIFY_CLASSIFIER_H

#include "models/nn.h"
#include "nlprnn/classifier.h"

typedef enum nr_pool { NR_POOL_LAST = 0, NR_POOL_MEAN = 1, NR_POOL_MAX = 2, NR_POOL_CONCAT = 3 } nr_pool;

typedef struct nr_clf_cfg {
    int vocab, embed, cell, layers, bidirectional, hidden, pool, classes, max_tokens;
    float dropout;
} nr_clf_cfg;

typedef struct nr_clf_net {
    nr_clf_cfg cfg;
    size_t n_emb, n_enc, n_head, n_params; /* slices of the flat block */
    int pooled;                            /* P: the head's input size (O, or 3 O for concat) */
    nr_embedding emb;
    nr_encoder enc;
    nr_dense head;
    float *params; /* (n_params), not owned */
    /* (V,E) float16 embedding (little-endian halves, any alignment) that inference gathers rows
     * from, widened on use (the bits of the float32 table), or NULL: the float32 table emb.table.
     * A classifier loaded from a file that stores its embedding as float16 keeps it so (where the
     * file's bytes lie in memory) and leaves emb.table unfilled until a caller asks for the
     * float32 weights (nr_model_net); not owned. */
    const unsigned char *emb16;
} nr_clf_net;

/* Check cfg and bind net to params (n_params floats; call with params NULL to learn n_params). */
int nr_clf_net_bind(nr_clf_net *net, const nr_clf_cfg *cfg, float *params, nlprnn_error *err);

/* Scratch for forward/backward passes (one thread). Grows on demand; training scratch also
 * holds what backward needs. */
typedef struct nr_clf_scratch {
    nr_encoder_ws *ws;
    int max_T, max_B, training;
    int *ids;         /* (T,B) time-major, NLPRNN_ID_PAD after each length */
    int *lengths;     /* (B) */
    float *x;         /* (T,B,E) embedded inputs */
    float *out;       /* (T,B,O) encoder outputs */
    float *pooled;    /* (B,P) */
    int *argmax;      /* (B,O) max pooling: the step of each maximum */
    float *logits;    /* (B,C) */
    /* training only */
    float *mask;      /* (B,P) dropout multipliers (0 or 1/(1-p)) */
    float *dropped;   /* (B,P) pooled * mask: the head's input */
    float *dlogits;   /* (B,C) */
    float *dpooled;   /* (B,P) */
    float *dout;      /* (T,B,O) */
    float *dx;        /* (T,B,E) */
    int *targets;     /* (B) */
    /* inference: layer 0's projection per id (nr_encoder_ws_set_table), holding the rows of every
     * id of the batch, or NULL; nr_clf_forward gathers from it when the encoder's own product
     * would run the kernel the table was made with (nr_encoder_table_ok), else embeds as usual */
    const float *ptab;
} nr_clf_scratch;

#define NR_CLF_INFER_BATCH 64

int nr_clf_scratch_reserve(nr_clf_scratch *s, const nr_clf_net *net, int T, int B, int training,
                           int threads, nlprnn_error *err);
void nr_clf_scratch_free(nr_clf_scratch *s);
/* Copy B documents into s->ids / s->lengths (s must hold T = max length); returns T. */
int nr_clf_fill_batch(nr_clf_scratch *s, const int32_t *const *docs, const int *lens, int B);
int nr_clf_batch_max_T(const int *lens, int B);
/* logits (B,C) for the batch in s; dropout_rng non-NULL = training (dropout on). */
int nr_clf_forward(const nr_clf_net *net, nr_clf_scratch *s, int T, int B, nr_rng *dropout_rng,
                   nlprnn_error *err);
/* grad (n_params) += gradient, given s->dlogits; needs a training forward just before. */
int nr_clf_backward(const nr_clf_net *net, nr_clf_scratch *s, float *grad, int T, int B,
                    nlprnn_error *err);

/* Named tensors of the flat block (model files store each separately). */
typedef struct nr_clf_tensor {
    char name[64];
    size_t offset;
    int ndim;
    size_t shape[2];
} nr_clf_tensor;
int nr_clf_tensors(const nr_clf_net *net, nr_clf_tensor *t, int cap);

struct nr_mf_buf;
struct nr_mf_writer;
struct nr_mf_reader;
struct nr_conf;
struct nr_label_map;
struct nr_dataset;
int nr_clf_put_cfg(struct nr_mf_buf *b, const nr_clf_cfg *c, nlprnn_error *err);
int nr_clf_get_cfg(const struct nr_conf *cf, nr_clf_cfg *c, nlprnn_error *err);
/* Tensors of params (n_params) into section tag; 2-D tensors in dtype, biases in float32. */
int nr_clf_put_weights(struct nr_mf_writer *w, const char *tag, const nr_clf_net *net,
                       const float *params, int dtype, nlprnn_error *err);
int nr_clf_get_weights(const struct nr_mf_reader *r, const char *tag, const nr_clf_net *net,
                       float *params, nlprnn_error *err);
int nr_clf_get_tokenizer(const struct nr_mf_reader *r, nlprnn_tokenizer **tok, nlprnn_error *err);
/* labels.c: save a label map as a model-file section (content type NR_MF_STRINGS, usually tag
 * "LABL"). */
int nr_label_map_save(const struct nr_label_map *m, struct nr_mf_writer *w, const char *tag,
                      nlprnn_error *err);
/* Load from a model-file section; m is initialized here. A missing section is NLPRNN_E_FORMAT. */
int nr_label_map_load(struct nr_label_map *m, const struct nr_mf_reader *r, const char *tag,
                      nlprnn_error *err);

/* CONF + TOKN + LABL of a classifier or checkpoint file. */
int nr_clf_load_parts(const struct nr_mf_reader *r, nr_clf_cfg *cfg, nlprnn_tokenizer **tok,
                      struct nr_label_map *labels, nlprnn_error *err);
/* Inference over a dataset: confusion (C,C) += , *loss_sum += -log p(y), *counted += docs. */
int nr_clf_eval_dataset(const nr_clf_net *net, const nlprnn_tokenizer *tok,
                        const struct nr_dataset *ds, int threads, long long *confusion,
                        double *loss_sum, long long *counted, nlprnn_error *err);
const struct nr_label_map *nr_model_labels(const nlprnn_classifier *m);
/* The display names of the labels (section LNAM), or an empty map (n = 0) when the file has none
 * and the labels are their own names. */
const struct nr_label_map *nr_model_label_names(const nlprnn_classifier *m);
/* Section LNAM of r (optional): names is empty when r has none; a count other than labels->n or
 * a name that is another class's label is NLPRNN_E_FORMAT. */
int nr_clf_load_names(const struct nr_mf_reader *r, const struct nr_label_map *labels,
                      struct nr_label_map *names, nlprnn_error *err);

/* The weights of a loaded model (read-only), for tests. */
const nr_clf_net *nr_model_net(const nlprnn_classifier *m);
/* Tests of the projection table of a context (classifier.c, table_fill): on = 0 makes ctx's batch
 * calls compute layer 0's projection per call as without the table (on = 1: the table again when
 * the kernel path has a kernel for it); the ids whose rows the table holds so far. */
void nr_clf_ctx_table(nlprnn_classifier_ctx *ctx, int on);
size_t nr_clf_ctx_table_rows(const nlprnn_classifier_ctx *ctx);

const char *nr_pool_name(int pool);
int nr_pool_from_name(const char *name);

#endif
