/* train/trainer.h: the one training loop every task uses (internal, not installed).
 *
 * The loop owns what every task needs and none should write twice:
 *
 *   for epoch e (from the checkpoint's position on resume):
 *       task.begin_epoch(e) -> B batches (the same count on every rank)
 *       for batch b:
 *           task.prepare(e, b)                  this rank's share of the batch (may exchange data)
 *           task.step(w of W) on each worker    forward + backward of the worker's part, += grad
 *           sum the workers' gradients (dense part in worker order; the sparse rows they touched)
 *           over ranks: sum the step's statistics and stop flags, then the gradients (comm)
 *           clip by global norm (the dense part and the touched rows of the sparse block)
 *           lr = schedule(step) (or of elapsed time); optimizer update (sparse rows: lazy),
 *           per parameter group when the task has groups (rate lr * scale; frozen groups skipped)
 *           progress; stop (flag, progress callback, time limit) -> checkpoint, NLPRNN_E_INTERRUPTED
 *           every checkpoint_every batches: checkpoint
 *           time budget spent -> checkpoint with nothing left to do (the epoch is not validated)
 *       task.validate() -> keep the best weights; patience; progress; checkpoint
 *   result in task.params: the best validated weights (also when the time budget or the patience
 *   ended the run); the last weights with cfg.keep_last, for a task without validation (or
 *   validation data), or when the budget ran out before the first epoch was validated
 *
 * What a task provides (nr_task): its flat parameter block, its batch source (begin_epoch,
 * prepare), its step, its validation, its part of the checkpoint (config, weights as it stores
 * them, whatever else it needs to resume: tokenizer, labels, random state) and, to be bit-exact on
 * resume, random draws that are a function of what it saves. docs/architecture.md walks through
 * the forecaster as the example.
 *
 * Checkpoints (kind "CKPT", written atomically by rank 0): section CONF holds the task's keys,
 * "checkpoint.of" = task name, the trainer's "state.*" (position, best-so-far record, running
 * sums of the epoch, optimizer step) and "param.*" (every parameter of the task's table that a
 * resumed run may not change); sections WGHT and BEST hold the current and best weights (written
 * by the task), OPTM the optimizer's moments; the task adds its own. A resumed run with the same
 * data and parameters repeats exactly what the uninterrupted run would have done.
 *
 * Averaged weights (cfg.ema = d > 0; Polyak averaging, TensorFlow's ExponentialMovingAverage with
 * num_updates): a second block a of n_params floats, a = the initial weights at the start, and
 * after optimizer step t (1-based, the optimizer's step count, so a resumed run continues it)
 *     d_t = min(d, (1 + t) / (10 + t)) ;  a = d_t a + (1 - d_t) w     (as a += (1 - d_t)(w - a))
 * (the warm-up keeps the first weights from dominating the average while d_t < d). Training
 * updates w as always; validation, the best weights and the result are of a (validate() runs with
 * a in task.params, w put back afterwards). Checkpoints add section EMAW (a, as the task stores
 * weights); BEST holds the best validated a. With d = 0 nothing of this runs: bit-identical to a
 * trainer without it.
 *
 * Data parallelism is explicit: cfg.comm is a communicator the caller made (NULL or a group of
 * one: this process alone). Every rank runs the same loop; the task's prepare() gives each rank
 * its share of the global batch.
 */
#ifndef NR_TRAIN_TRAINER_H
#define NR_TRAIN_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "common/params.h"
#include "models/optim.h"
#include "train/comm.h"

struct nr_mf_writer;
struct nr_mf_reader;
struct nr_mf_buf;
struct nr_conf;

#define NR_TRAIN_MAX_WORKERS 16

/* What a step reports; the trainer sums it over workers and ranks. */
typedef struct nr_step_stats {
    double loss;    /* sum of the loss over the examples (or targets) of the step */
    double count;   /* examples (or targets) that sum is over */
    double correct; /* examples predicted right (classification; 0 otherwise) */
    double tokens;  /* input tokens (or time steps) processed, for the speed */
} nr_step_stats;

/* What a validation reports. */
typedef struct nr_valid {
    int has;      /* 0: no validation data (every epoch counts as the best so far) */
    double score; /* higher is better (accuracy); NaN when the task ranks by loss alone */
    double loss;  /* lower is better */
} nr_valid;

/* The one progress record (the public progress structs are filled from it). */
enum { NR_TP_MESSAGE = 0, NR_TP_STEP = 1, NR_TP_EPOCH = 2 };
typedef struct nr_train_progress {
    int phase;            /* NR_TP_* */
    const char *message;  /* NR_TP_MESSAGE: what is being done */
    int epoch, epochs;    /* 1-based epoch */
    long long batch;      /* 1-based batch in the epoch */
    long long batches;    /* batches in the epoch */
    long long step;       /* optimizer steps so far (over all epochs) */
    nr_step_stats last;   /* this step's statistics (summed over workers and ranks) */
    double loss;          /* running mean training loss of the epoch */
    double accuracy;      /* running training accuracy of the epoch */
    double tokens_per_sec;
    double elapsed;       /* seconds since the (re)start */
    double eta;           /* estimated seconds left in the epoch */
    double lr;            /* the learning rate of this step */
    nr_valid valid;       /* NR_TP_EPOCH: this epoch's validation */
    int best_epoch;       /* 1-based epoch of the best validation so far (0: none) */
    int improved;         /* NR_TP_EPOCH: this epoch is the best so far */
} nr_train_progress;

/* Return non-zero to stop (like the stop flag). */
typedef int (*nr_train_progress_fn)(void *user, const nr_train_progress *p);

/* The fields the tagger's and the translator's public progress records (nlprnn_tagger_progress,
 * nlprnn_translator_progress) share by name, filled from the trainer's record q in one place so
 * the two cannot drift: size, phase and message, the position (epoch(s), batch(es), steps), the
 * running loss, lr, elapsed; eta 0 and the epoch's validation loss, best epoch and improved flag
 * only at an epoch's end (phase NR_TP_EPOCH; NaN / 0 otherwise). The task fills the rest.
 * Uses memset and NAN (<string.h>, <math.h>). */
#define NR_PROGRESS_FILL_COMMON(pr, q)                                                            \
    do {                                                                                          \
        int done_ = (q)->phase == NR_TP_EPOCH;                                                    \
        memset(&(pr), 0, sizeof(pr));                                                             \
        (pr).size = sizeof(pr);                                                                   \
        (pr).phase = (q)->phase;                                                                  \
        (pr).message = (q)->phase == NR_TP_MESSAGE ? (q)->message : NULL;                         \
        (pr).epoch = (q)->epoch, (pr).epochs = (q)->epochs;                                       \
        (pr).batch = (q)->batch, (pr).batches = (q)->batches, (pr).steps = (q)->step;             \
        (pr).loss = (q)->loss, (pr).lr = (q)->lr, (pr).elapsed = (q)->elapsed;                    \
        (pr).eta = done_ ? 0 : (q)->eta;                                                          \
        (pr).valid_loss = done_ && (q)->valid.has ? (q)->valid.loss : NAN;                        \
        (pr).best_epoch = (q)->best_epoch;                                                        \
        (pr).improved = done_ ? (q)->improved : 0;                                                \
    } while (0)

/* A range of the parameter block trained at its own rate (discriminative rates, gradual
 * unfreezing): params [begin, end) are updated at lr * lr_scale from the 0-based epoch first_epoch
 * on; before that they are frozen. */
typedef struct nr_param_group {
    size_t begin, end;
    float lr_scale;
    int first_epoch;
} nr_param_group;

typedef struct nr_task {
    void *self;
    const char *name;     /* "classifier": checkpoint.of, and messages */
    float *params;        /* (n_params) the weights the trainer updates, initialised by the task */
    size_t n_params;
    /* A sparse block at the start of params (an embedding table): sparse_rows rows of
     * sparse_dim floats. Only the rows a batch touched are clipped and updated ("lazy" Adam);
     * the rest of the block is dense. 0 rows: all dense. sparse_skip: a row never updated
     * (the padding id), or -1. */
    size_t sparse_rows;
    int sparse_dim, sparse_skip;

    /* Epoch e begins: *batches = the number of batches (the same on every rank). Called again for
     * the epoch a resumed run continues in, after load_state. */
    int (*begin_epoch)(void *self, int epoch, long long *batches, nlprnn_error *err);
    /* Batch b of epoch e: make this rank's share (*n = examples in it, split over workers by the
     * task); may exchange data with other ranks. Called on the calling thread. */
    int (*prepare)(void *self, int epoch, long long batch, int *n, nlprnn_error *err);
    /* Worker w of W (W <= the examples of prepare): forward and backward of its part, adding the
     * gradient of (its part's summed loss) / (the batch's global count) into grad (n_params), or
     * with NR_TASK_LOCAL_MEAN of (its part's summed loss) / (this rank's count); stats for its
     * part; the sparse rows it touched into *rows and *n_rows (any order, repeats allowed; valid
     * until the next step). Workers run at the same time, each with its own grad block. */
    int (*step)(void *self, int epoch, long long batch, int w, int W, float *grad,
                nr_step_stats *st, const int **rows, size_t *n_rows, nlprnn_error *err);
    /* Validation of the current weights (NULL: none; the weights of the last step are kept). */
    int (*validate)(void *self, nr_valid *v, nlprnn_error *err);
    /* Checkpoint: write the task's config keys into conf and its sections (tokenizer, labels...)
     * into w; (epoch, batch) is where a resumed run continues (begin_epoch(epoch) has been called
     * already when batch > 0, not yet when batch == 0): the task's random state must let it
     * repeat that epoch's batches from there. write_weights puts a parameter block as the task
     * stores it under tag (WGHT, BEST), read_weights reads it back; both NULL: one float32
     * tensor "params" of n_params. save may be NULL. */
    int (*save)(void *self, struct nr_mf_writer *w, struct nr_mf_buf *conf, int epoch,
                long long batch, nlprnn_error *err);
    int (*write_weights)(void *self, struct nr_mf_writer *w, const char *tag, const float *params,
                         nlprnn_error *err);
    int (*read_weights)(void *self, const struct nr_mf_reader *r, const char *tag, float *params,
                        nlprnn_error *err);
    /* Resume: check that the checkpoint belongs to this run (its config and data) and restore
     * the task's own state (random streams, history). May be NULL. */
    int (*load)(void *self, const struct nr_mf_reader *r, const struct nr_conf *conf,
                nlprnn_error *err);
    /* Record the epoch's losses (for a history); may be NULL. */
    void (*epoch_done)(void *self, int epoch, double train_loss, const nr_valid *v);
    unsigned flags;       /* NR_TASK_* */
    /* Parameter groups, or NULL (n_groups 0): everything at the schedule's rate. Contiguous,
     * in order, covering [0, n_params); a sparse block lies inside group 0. A frozen group
     * (epoch < first_epoch) gets no update and no change to its optimizer state, and its
     * gradient is not part of the clipping norm. */
    const nr_param_group *groups;
    int n_groups;
} nr_task;

enum {
    NR_TASK_LOCAL_MEAN = 1 /* step's gradient is the mean over this rank's count: over ranks the
                              trainer weights each rank by its share of the global count */
};

typedef struct nr_train_cfg {
    int epochs;
    nr_optim_cfg optim;
    nr_lr_schedule lr;           /* total: steps (0: epochs x the batches of the first epoch) */
    double time_limit;           /* seconds (0: none): training ends there, without error */
    int lr_follows_time;         /* with time_limit: the schedule's progress is the larger of
                                    step / total and elapsed / time_limit */
    double clip;                 /* clip by global norm (0: off) */
    int patience;                /* stop after this many epochs without improvement (0: never) */
    int keep_last;               /* the result is the last weights, not the best validated ones */
    double ema;                  /* decay d of an exponential moving average of the weights (0: off;
                                    else in (0, 1)): see "Averaged weights" above */
    int workers;                 /* data-parallel workers per batch (1..NR_TRAIN_MAX_WORKERS) */
    const char *checkpoint;      /* checkpoint file, or NULL/"" for none */
    long long checkpoint_every;  /* also every N batches (0: at epoch ends and on stop only) */
    long long check_every;       /* over ranks: compare the weights every N steps (0: at the end) */
    const volatile int *stop;    /* may be NULL */
    nr_train_progress_fn progress;
    void *user;
    const nr_comm *comm;         /* NULL: this process alone */
    /* the task's parameters: recorded in checkpoints and checked on resume (may be NULL) */
    const nr_param_table *params;
    const void *params_obj;
    /* resume from this open checkpoint (NULL: a fresh run); see nr_ckpt_open */
    const struct nr_mf_reader *resume;
    struct nr_mf_reader *opened; /* the checkpoint nr_train_cfg_std opened (train/ctl.h) */
} nr_train_cfg;

/* What happened. */
typedef struct nr_train_result {
    int epochs_run;        /* epochs completed (in this run and before a resume) */
    int best_epoch;        /* 1-based (0 without validation) */
    double best_score, best_loss;
    int stopped_early;     /* patience ran out */
    int timed_out;         /* time_limit reached */
    int kept_best;         /* task.params holds the best epoch's weights (else the last ones) */
    long long steps;       /* optimizer steps */
    double seconds;        /* of this run */
    double last_loss;      /* mean training loss of the last (possibly partial) epoch */
} nr_train_result;

/* Train. On success task->params holds the result. NLPRNN_E_INTERRUPTED (after writing the
 * checkpoint, when one is configured) when stopped by the flag or the progress callback. */
int nr_train(const nr_train_cfg *cfg, const nr_task *task, nr_train_result *res,
             nlprnn_error *err);

/* A message to fn (when not NULL) before nr_train runs (reading data, making tokenizers):
 * phase NR_TP_MESSAGE, epoch 0 of `epochs`, the figures NaN or 0. Its return value is ignored. */
void nr_train_message(nr_train_progress_fn fn, void *user, int epochs, const char *msg);

/* Open a checkpoint for resuming: kind CKPT, made by task `of` (its "checkpoint.of"); *conf gets
 * its CONF section. */
int nr_ckpt_open(const char *path, const char *of, struct nr_mf_reader **r, struct nr_conf *conf,
                 nlprnn_error *err);
/* Before a fresh run: a file already at the checkpoint's path must be a checkpoint (the run
 * overwrites it and deletes it at the end; it is no place for another file). */
int nr_ckpt_check_path(const char *path, nlprnn_error *err);
/* The parameters of a run in a checkpoint's config: "param.NAME" for every row of t that a resumed
 * run may not change (no NR_PARAM_RESUME_OK), its value as text made valid UTF-8 (a file name that
 * is not UTF-8 has its bad bytes written as \xHH). The trainer records cfg.params so; a task that
 * checks them itself, before it reads its data (the classifier, the language model), calls these.
 * check: a value that differs is `code`: "<where>: the checkpoint was made with NAME=A, this run
 * has NAME=B (resume needs the same parameters)"; a missing key NLPRNN_E_FORMAT, unless this run
 * has the row's default there (a parameter added after the checkpoint was written: its run had
 * the default, as with ema). */
int nr_ckpt_put_params(struct nr_mf_buf *conf, const nr_param_table *t, const void *obj, nlprnn_error *err);
int nr_ckpt_check_params(const struct nr_conf *c, const nr_param_table *t, const void *obj, int code,
                         nlprnn_error *err);
/* After the final model is saved: remove the checkpoint (rank 0). */
void nr_ckpt_remove(const nr_train_cfg *cfg);

/* Mix three 64-bit values into a seed (for (seed, epoch, batch) streams). */
uint64_t nr_seed_mix(uint64_t a, uint64_t b, uint64_t c);

/* Save / restore an RNG state in a checkpoint's config (key.0 .. key.3). */
int nr_ckpt_put_rng(struct nr_mf_buf *conf, const char *key, const nr_rng *r, nlprnn_error *err);
int nr_ckpt_get_rng(const struct nr_conf *conf, const char *key, nr_rng *r, nlprnn_error *err);

#endif
