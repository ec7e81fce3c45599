/* tasks/translate/translate.h: the translator object, its parameters and pairs (internal side of
 * nlprnn/translate.h). The network is seq2seq.h. */
#ifndef NR_TASKS_TRANSLATE_H
#define NR_TASKS_TRANSLATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/params.h"
#include "nlprnn/tokenizer.h"
#include "nlprnn/translate.h"
#include "tasks/translate/seq2seq.h"

#define NR_TR_MAX_SRC 1024 /* source tokens translated at once (NLPRNN_E_LIMIT beyond) */

struct nlprnn_translator_params {
    char src_col[64], tgt_col[64];
    int joint, src_vocab, tgt_vocab;
    char src_tokenizer[1024], tgt_tokenizer[1024]; /* given tokenizer files ("": trained) */
    char src_lm[1024], tgt_lm[1024];               /* language models to initialise from ("": none) */
    int cell, attention, embed, hidden, layers, bidirectional;
    double dropout, emb_dropout, out_dropout, bpe_dropout;
    int tied;
    double smoothing;
    int max_len;
    int epochs, batch;
    double lr, min_lr, clip, valid, time_limit;
    int patience, keep, threads, store;
    uint64_t seed, split_seed; /* split_seed 0: the held-out split is drawn from seed */
    char checkpoint[1024];
    long long checkpoint_every;
    double ema;                /* decay of the averaged weights (0: off; train/trainer.h) */
    double word_reward, min_ratio; /* decoding defaults stored in the model file (nr_tr_deco) */
    int min_from;                  /* (the same) */
};

/* The decoding defaults a model file stores (section DECO, tasks/translate/file.c): what a context
 * of the translator starts with (nlprnn_translator_ctx_create) before options override them.
 * Neutral (a file without DECO): word_reward 0, min_ratio 0, combine -1 (not stored: the
 * library's NR_COMBINE_LOGP), min_from 0 (the minimum length for every source). */
typedef struct nr_tr_deco {
    double word_reward, min_ratio;
    int combine;  /* NR_COMBINE_*, or -1 */
    int min_from; /* the minimum length only for sources of at least min_from tokens (0: all) */
} nr_tr_deco;
#define NR_TR_DECO_NEUTRAL ((nr_tr_deco){0, 0, -1, 0})
/* 1 when d holds something other than the neutral defaults (then the file has a DECO section). */
int nr_tr_deco_stored(const nr_tr_deco *d);
/* Store value v of option opt in d and return 1 when opt is one of the stored defaults (word
 * reward, min-ratio, min-from, combine); 0 (d unchanged) for any other option. v is not checked
 * (nr_translate_opt_check). */
int nr_tr_deco_set(nr_tr_deco *d, nlprnn_translator_opt opt, double v);
/* Check value v of search option opt against its range: NLPRNN_E_INVALID_ARG naming it (the
 * ranges of nlprnn_translator_ctx_set, nlprnn_translator_set_default and the DECO section). */
int nr_translate_opt_check(nlprnn_translator_opt opt, double v, nlprnn_error *err);

struct nlprnn_translator {
    struct nlprnn_translator_params p;
    nlprnn_tokenizer *tsrc, *ttgt; /* ttgt == tsrc when joint (freed once) */
    nr_s2s_cfg cfg;
    nr_s2s net;
    float *params;                 /* (net.n_params) */
    uint16_t *half;                /* NULL, or read from a float16 file: the decoder's W_ih, W_hh,
                                    * W_c, W_o as halves, one block (net.c_wih.h ... point into it) */
    float *i8;                     /* NULL, or read from an int8 file: those four as the file's
                                    * scales (their rows') then int8 rows, one block (net.c_wih.q,
                                    * .scale ... point into it) */
    int epochs_run, best_epoch;
    double valid_loss;             /* per target token of the kept weights (NaN: none) */
    nr_tr_deco deco;               /* the decoding defaults (member 1's are the file's; the others'
                                    * are not used) */
    char summary[720];
    /* An ensemble (seq2seq.h, ensembles): this translator is member 1, more[0..n_more) the others,
     * each with its own p, cfg, net and params; their tsrc/ttgt are this one's (shared_tok = 1:
     * not owned). n_more = 0: one model. */
    int n_more;
    struct nlprnn_translator **more;
    int shared_tok;
};

/* Member i (0 = t itself) of t's members (nr_translator_members of them). */
int nr_translator_members(const nlprnn_translator *t);
const nlprnn_translator *nr_translator_member(const nlprnn_translator *t, int i);
/* Do two tokenizers serialize to the same bytes (1), or not (0); -1 when out of memory. */
int nr_tokenizer_same(const nlprnn_tokenizer *a, const nlprnn_tokenizer *b);

const nr_param_table *nr_translate_param_table(void);
void nr_translate_params_default(struct nlprnn_translator_params *p);
/* The network's config from the parameters and the tokenizers' sizes. */
void nr_translator_cfg(nr_s2s_cfg *cfg, const struct nlprnn_translator_params *p, int Vs, int Vt);
/* Allocate and bind t->params for t->cfg. */
int nr_translator_bind(nlprnn_translator *t, nlprnn_error *err);
/* t->summary: its sizes and training; for an ensemble (n_more > 0) "ensemble of N translators;
 * member 1: ..."; then the stored decoding defaults, when there are any. */
void nr_translator_summarize(nlprnn_translator *t);
/* With t bound and initialised (nr_s2s_init), its tokenizers set: copy into t->params what the
 * language models of the parameters src-lm and tgt-lm give (none when both are ""); the rules,
 * checks and messages are written above the code in train.c. Training calls it after the seeded
 * initialisation (a resume then loads the checkpoint's weights over them; the checks still
 * apply). */
int nr_translator_init_from_lms(nlprnn_translator *t, nlprnn_error *err);
/* Load a translator from an open model file of kind TRNS (what nlprnn_translator_load does after
 * opening the file; the fuzz target tests/fuzz/fuzz_translate_load.c feeds it from memory). */
struct nr_mf_reader;
int nr_translator_load_reader(const struct nr_mf_reader *r, nlprnn_translator **out, nlprnn_error *err);

/* Pairs read from a TSV file and encoded: pair i has source ids src[soff[i]..soff[i+1]) and target
 * ids tgt[toff[i]..toff[i+1]) (no <bos>/<eos>). */
typedef struct nr_tr_pairs {
    size_t n;
    int32_t *src, *tgt;
    size_t *soff, *toff;
    char **stext, **ttext; /* (n) the raw texts (for tokenizer training and BPE dropout) */
    size_t skipped;        /* pairs longer than max-len tokens on a side, or with an empty side */
    size_t scap, tcap;     /* capacities of src and tgt (nr_tr_sample reuses them) */
} nr_tr_pairs;

/* Read the columns src_col and tgt_col of a TSV file with a header line (texts only). */
int nr_tr_read_tsv(nr_tr_pairs *d, const char *path, const char *src_col, const char *tgt_col,
                   nlprnn_error *err);
/* Encode the texts with the tokenizers, dropping pairs with an empty side or more than max_len
 * tokens on a side. keep_text: the texts of the kept pairs stay (for nr_tr_sample), else they are
 * freed. */
int nr_tr_encode(nr_tr_pairs *d, const nlprnn_tokenizer *ts, const nlprnn_tokenizer *tt,
                 int max_len, int keep_text, nlprnn_error *err);
/* BPE dropout for one epoch: e receives all d->n pairs of d (encoded with their texts kept) as
 * sampled encodings (nlprnn_tokenizer_encode_sample with dropout p); side s of pair i is drawn
 * from (seed, epoch, i, s) alone, so any epoch can be made again (a resume). A side whose sample
 * has more than max_len tokens keeps d's plain encoding. e's arrays are reused from call to
 * call (free with nr_tr_pairs_free; e holds no texts). */
int nr_tr_sample(nr_tr_pairs *e, const nr_tr_pairs *d, const nlprnn_tokenizer *ts,
                 const nlprnn_tokenizer *tt, double p, uint64_t seed, int epoch, int max_len,
                 nlprnn_error *err);
void nr_tr_pairs_free(nr_tr_pairs *d);
/* 1 when training holds out pair i (0-based, among the encoded pairs) for validation: the first
 * uniform draw from nr_seed_mix(S ^ 0x76616c6964, i, 0) is below `valid`, where S is split_seed,
 * or seed when split_seed is 0 (scripts/translate-heldout.py repeats it). */
int nr_tr_held_out(uint64_t seed, uint64_t split_seed, double valid, size_t i);

#endif
