/* tasks/tag/tagger.h: the sequence tagger (internal side of nlprnn/tagger.h).
 *
 * Many-to-many, synchronised: one label per input unit.
 *
 *   units (T,B) ids -> embedding (V,E) + hint embedding (3,E) [+ jamo embeddings] -> x (T,B,E)
 *   -> encoder (stacked, bidirectional LSTM/GRU/RNN, masked by lengths) -> out (T,B,O)
 *   -> dense (O -> C) per step -> logits (T*B,C) -> softmax cross-entropy, padded steps ignored
 *
 * Units: for a tagged file (format "tagged", `token<TAB>label` lines) a unit is a token; for
 * spacing (format "spacing") a unit is one Unicode code point of the NFC-normalised text with the
 * white space removed, and its label says whether a space follows it ("space") or not ("none").
 * The hint of a unit is NR_HINT_NONE except in spacing with kept spaces: NR_HINT_SPACE when the
 * input has white space after the unit, NR_HINT_JOIN when it has none. Training makes hints from
 * the true labels with noise (tasks/tag/train.c), so a model learns to use partial spacing.
 *
 * Jamo (spacing models trained with jamo=1; docs/spacing.md "Jamo features"): a Hangul syllable
 * U+AC00..U+D7A3 is s = cp - 0xAC00 = (initial * 21 + medial) * 28 + final (19 initials, 21
 * medials, 28 finals, final 0 = none). Each unit position carries a jamo code (nr_jamo_code, of
 * the character itself, so an unknown syllable keeps its jamo) and x gets three more embedding
 * rows SUMMED into it: Ji[1 + initial] (NR_JAMO_I, E) + Jm[1 + medial] (NR_JAMO_M, E) +
 * Jf[1 + final] (NR_JAMO_F, E); row 0 of each table is "not a Hangul syllable" (so Jf[1] is a
 * syllable without a final and Jf[0] a character that is no syllable).
 *
 * Convolution in front (models trained with conv=K > 0, K odd; docs/spacing.md "Convolution in
 * front"): a 1-D convolution of width K = 2r+1 with F = conv-channels filters over x of each
 * sentence, 'same' padding with zeros outside the sentence (steps t < 0 and t >= len[b] read as
 * 0), bias, ReLU; the encoder reads [x ; c] (E+F per step; x stays as a residual path):
 *   c[t,b,f] = relu(bc[f] + sum_{k<K} sum_{e<E} Wc[f, k E + e] x[t+k-r, b, e])   real steps
 *   c[t,b,:] = 0                                                            padded steps
 * Wc (F, K E) is the flat [filter][offset][input] (filter f's window as one row, offset k = 0 the
 * leftmost step t-r); bc (F).
 *
 * Parameters live in one flat block: [embedding (V,E) | hints (3,E) | jamo (NR_JAMO_ROWS,E), only
 * with jamo=1 | conv Wc (F,K E) then bc (F), only with conv > 0 | encoder (input E+F with conv,
 * else E) | dense]; the embedding comes first so the trainer updates only the rows a batch
 * touched. Id 0 is padding (never updated, looks up as zeros), id 1 the unknown unit.
 *
 * The task's files:
 *   tagger.c  the network (bind, scratch, forward, loss + backward), units of a text, inference
 *   data.c    reading training data (tagged files, well-spaced text) into sentences
 *   train.c   the parameter table and the training task run by the one trainer (train/)
 *   file.c    model files of kind "TAGR", load by name, save
 *   api.c     the public functions of nlprnn/tagger.h (contexts, tag, space)
 */
#ifndef NR_TASKS_TAGGER_H
#define NR_TASKS_TAGGER_H

#include <stddef.h>
#include <stdint.h>

#include "common/params.h"
#include "corpora/dataset.h"
#include "embed/embedding.h"
#include "models/encoder.h"
#include "models/head.h"
#include "nlprnn/tagger.h"

enum { NR_TAG_FORMAT_TAGGED = 0, NR_TAG_FORMAT_SPACING = 1 };
enum { NR_HINT_NONE = 0, NR_HINT_JOIN = 1, NR_HINT_SPACE = 2, NR_HINTS = 3 };
enum { NR_UNIT_PAD = 0, NR_UNIT_UNK = 1 };
enum { NR_SPACE_NONE = 0, NR_SPACE_YES = 1 }; /* the two labels of a spacing model */
/* Jamo tables: rows of the initial, medial and final tables (row 0: not a Hangul syllable). */
enum { NR_JAMO_I = 20, NR_JAMO_M = 22, NR_JAMO_F = 29, NR_JAMO_ROWS = NR_JAMO_I + NR_JAMO_M + NR_JAMO_F };

/* The jamo code of one unit (its UTF-8 bytes): 0 unless s is exactly one code point in
 * U+AC00..U+D7A3; else (ji * NR_JAMO_M + jm) * NR_JAMO_F + jf with ji = 1 + initial, jm = 1 +
 * medial, jf = 1 + final (rows of the three tables). */
uint16_t nr_jamo_code(const char *s, size_t len);
/* The three table rows of a code: 0 0 0 for code 0. */
static inline void nr_jamo_rows(uint16_t code, int *ji, int *jm, int *jf) {
    *jf = code % NR_JAMO_F;
    *jm = (code / NR_JAMO_F) % NR_JAMO_M;
    *ji = code / (NR_JAMO_F * NR_JAMO_M);
}

struct nlprnn_tagger_params {
    int format;              /* NR_TAG_FORMAT_* */
    int cell, embed, hidden, layers;
    double dropout;
    int max_len;             /* units per training sequence (longer ones are cut) and window */
    int min_count, max_vocab;
    int epochs, batch;
    double lr, min_lr, clip, valid, time_limit;
    int patience, keep, threads;
    int store;               /* NR_TAG_STORE_*: how the model file stores the weights */
    double hints, drop, noise; /* spacing: hinted sentences, max drop rate, wrong-space rate */
    uint64_t seed;
    char checkpoint[1024];
    long long checkpoint_every;
    char init_from[1024];    /* "" or a tagger model file: its units, labels, shape and weights */
    double ema;              /* decay of the averaged weights (0: off; train/trainer.h) */
    int jamo;                /* spacing: 1 adds the jamo embeddings of each unit to its input */
    int conv;                /* width K of the convolution in front (odd; 0: none) */
    int conv_channels;       /* its filters F (read only when conv > 0) */
};

/* What sits in front of the encoder (beside the embedding and hints): jamo tables (spacing
 * only), the convolution (width conv odd or 0; channels its filters). */
typedef struct nr_tag_front {
    int jamo, conv, channels;
} nr_tag_front;

/* The network over a bound parameter block. */
typedef struct nr_tag_net {
    int V, E, C;
    nr_embedding emb;   /* (V,E) at params + 0 */
    float *hint;        /* (NR_HINTS,E) */
    int jamo;           /* 1: the jamo tables below are used */
    float *jamo_i, *jamo_m, *jamo_f; /* (NR_JAMO_I,E) (NR_JAMO_M,E) (NR_JAMO_F,E), contiguous; NULL without jamo */
    int K, F;           /* convolution width and filters (0 0: none) */
    float *conv_w;      /* (F, K*E) Wc; NULL without conv */
    float *conv_b;      /* (F) bc */
    int I;              /* encoder input per step: E + F */
    nr_encoder enc;
    nr_dense head;      /* (C, O) */
    size_t n_params, off_hint, off_jamo, off_conv, off_enc, off_head;
} nr_tag_net;

/* Widest convolution accepted (an odd width 1..NR_TAG_MAX_CONV). */
#define NR_TAG_MAX_CONV 31
/* 0 when the front's values are valid (conv 0, or odd in 1..NR_TAG_MAX_CONV with channels
 * 1..4096); else -1. fr NULL: none. */
int nr_tag_front_check(const nr_tag_front *fr);
/* Floats of [embedding | hints | jamo (jamo=1) | conv (conv>0) | encoder | dense] for these sizes
 * (0: invalid). ec->input_size = E, the embedding size (the encoder's input is E + channels with
 * conv). fr NULL: no jamo, no conv. */
size_t nr_tag_param_count(const nr_encoder_cfg *ec, int V, int C, const nr_tag_front *fr);
/* Bind net to params (n_params floats; NULL only to learn n_params). ec->input_size = E. */
int nr_tag_net_bind(nr_tag_net *net, const nr_encoder_cfg *ec, int V, int C, const nr_tag_front *fr,
                    float *params, nlprnn_error *err);
/* Seeded initialisation, drawn in this order: embedding U(-0.05,0.05), hints 0, jamo tables 0 (no
 * draw), encoder and dense as their inits, then (conv) Wc U(-a,a) with a = 1/sqrt(K E) (PyTorch's
 * Conv1d bound for the fan-in K E) and bc 0; the conv drawn last so the draws before it are those
 * of the same seed without conv. */
int nr_tag_net_init(const nr_tag_net *net, nr_rng *rng, nlprnn_error *err);

/* Scratch of one thread for batches of up to max_B sequences of up to max_T units. */
typedef struct nr_tag_scratch {
    nr_encoder_ws *ws;
    int max_T, max_B, training;
    int *ids;      /* (T,B) unit ids, 0 at padding */
    int *hints;    /* (T,B) */
    uint16_t *jam; /* (T,B) jamo codes (nr_jamo_code; read only when the net has jamo) */
    int *tgt;      /* (T*B) labels, -1 at padding */
    int *len;      /* (B) */
    float *x;      /* (T,B,E) */
    float *cv;     /* (T,B,F) conv: c after the forward; dc * relu'(c) after the backward */
    float *u;      /* (T,B,E+F) conv: the encoder's input [x ; c] */
    float *out;    /* (T,B,O) */
    float *logits; /* (T*B,C), probabilities after nr_tag_probs */
    float *dout;   /* (T,B,O) training */
    float *dx;     /* (T,B,E) training */
    float *du;     /* (T,B,E+F) training, conv */
    int *rows;     /* (T*B) training: embedding rows touched */
    unsigned char *seen; /* (V) training */
} nr_tag_scratch;

int nr_tag_scratch_init(nr_tag_scratch *s, const nr_tag_net *net, int max_T, int max_B,
                        int training, int nthreads, nlprnn_error *err);
void nr_tag_scratch_free(nr_tag_scratch *s);
/* Forward of s->ids/hints/len (T,B) (and s->jam with jamo): s->logits (T*B,C). rng: dropout
 * (training), NULL: none. */
int nr_tag_forward(nr_tag_scratch *s, const nr_tag_net *net, int T, int B, nr_rng *rng,
                   nlprnn_error *err);
/* After nr_tag_forward on a training scratch: softmax cross-entropy against s->tgt, backward
 * into grad (n_params, +=) with the loss scaled by `scale` / (counted units); *loss_sum = summed
 * loss, *count = counted units, *correct = argmax right; touched embedding rows into s->rows
 * (*n_rows). */
int nr_tag_backward(nr_tag_scratch *s, const nr_tag_net *net, float *grad, int T, int B,
                    double scale, double *loss_sum, int *count, int *correct, size_t *n_rows,
                    nlprnn_error *err);
/* Softmax of s->logits in place (T*B rows). */
void nr_tag_probs(nr_tag_scratch *s, const nr_tag_net *net, int T, int B);

/* ---- the model ------------------------------------------------------------------------------ */

struct nlprnn_tagger {
    struct nlprnn_tagger_params p; /* the settings it was trained with */
    nr_label_map units;  /* id -> unit text (0 "<pad>", 1 "<unk>") */
    nr_label_map labels; /* id -> label */
    nr_encoder_cfg ec;
    nr_tag_net net;
    float *params;       /* (net.n_params) */
    int epochs_run, best_epoch;
    double best_score;   /* validation accuracy of the kept weights (NaN: none) */
    char *path;          /* the file it was loaded from (NULL: trained in this process) */
    char summary[400];   /* nlprnn_tagger_summary (nr_tagger_summarize) */
    /* An ensemble: members 2..1+n_more (each a whole tagger with the same units and labels, its
     * own settings and weights; their n_more is 0). Inference averages the members' label
     * distributions per unit (tasks/tag/api.c). */
    struct nlprnn_tagger **more;
    int n_more;
};

#define NR_TAG_MAX_ENS 32

/* The tagger's parameter table; defaults as in the table. */
const nr_param_table *nr_tagger_param_table(void);
void nr_tagger_params_default(struct nlprnn_tagger_params *p);

/* Fill t->summary (after training or loading). */
void nr_tagger_summarize(nlprnn_tagger *t);
/* Allocate params and bind the network for t->ec, t->units.n, t->labels.n. zeroed: params are
 * zero (training: the initialisation leaves some rows zero); else not initialised, in huge pages
 * when large (nr_big_alloc: a loader that overwrites them all, one fault per 2 MiB). */
int nr_tagger_bind(nlprnn_tagger *t, int zeroed, nlprnn_error *err);
/* The network's shape from the settings, in one place for training, loading and binding: the
 * encoder (bidirectional, outputs concatenated; cell, layers, sizes, dropout of p) and the front
 * (jamo, conv, conv-channels). Either output may be NULL. */
void nr_tagger_shape(const struct nlprnn_tagger_params *p, nr_encoder_cfg *ec, nr_tag_front *fr);
/* Load a tagger (one model or a packed ensemble) from an open model file of kind TAGR: what
 * nlprnn_tagger_load does after opening the file (the fuzz target tests/fuzz/fuzz_tag_load.c
 * feeds it from memory). Messages name the reader's file (nr_mf_name). */
struct nr_mf_reader;
int nr_tagger_load_reader(const struct nr_mf_reader *r, nlprnn_tagger **out, nlprnn_error *err);

/* ---- units of a text (spacing) ---------------------------------------------------------------- */

/* A text cut into units: the NFC text without white space, unit i being bytes
 * [start[i], start[i+1]) of text; space_after[i] = 1 when the input had white space after unit i
 * (not after the last). */
typedef struct nr_units {
    char *text;          /* NFC, white space removed (len bytes, NUL-terminated) */
    size_t len, n;       /* bytes, units */
    size_t *start;       /* (n+1) */
    unsigned char *space_after; /* (n) */
    size_t cap_text, cap_n;
} nr_units;

void nr_units_free(nr_units *u);
/* Validate UTF-8 (NLPRNN_E_UTF8 with err->offset = the first bad byte in s, and the message
 * "invalid UTF-8" or "a NUL byte": callers say where), normalise to NFC, cut at white space (Unicode Zs, TAB, LF, CR, VT, FF). A
 * NUL byte is NLPRNN_E_UTF8 too. */
int nr_units_of_text(nr_units *u, const char *s, size_t n, nlprnn_error *err);

/* ---- data (data.c) ------------------------------------------------------------------------- */

/* Sentences as units and labels (training side). */
typedef struct nr_tag_data {
    size_t n;            /* sentences */
    size_t *off;         /* (n+1) into ids/lab */
    int *ids;            /* unit ids */
    uint16_t *lab;       /* labels */
    uint16_t *jam;       /* jamo codes of the units (nr_jamo_code; 0 for tagged files) */
    size_t n_units, cap;
} nr_tag_data;

void nr_tag_data_free(nr_tag_data *d);
/* Read training files into units (strings) and labels and the sentences (ids into the maps);
 * spacing files are text lines; tagged files are token<TAB>label lines with blank lines between
 * sentences. Sentences longer than max_len are cut into pieces. Errors name file:line: byte. */
int nr_tag_read(nr_tag_data *d, nr_label_map *units, nr_label_map *labels, int format,
                const char *const *paths, int n_paths, int max_len, nlprnn_error *err);
/* Keep the units seen at least min_count times (at most max_vocab, most frequent first, ties by
 * bytes), renumber d's ids (the others become NR_UNIT_UNK). */
int nr_tag_prune_units(nr_tag_data *d, nr_label_map *units, int min_count, int max_vocab,
                       nlprnn_error *err);
/* Map the data onto another model's maps (fine-tuning, --init-from): units absent from `to_units`
 * become <unk>; a label absent from `to_labels` is NLPRNN_E_DATA naming it. On success *units
 * and *labels are replaced by copies of the given maps. */
int nr_tag_remap(nr_tag_data *d, nr_label_map *units, nr_label_map *labels, const nr_label_map *to_units,
                 const nr_label_map *to_labels, nlprnn_error *err);

#endif
