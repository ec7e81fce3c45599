/* tasks/forecast/forecaster.h: the recurrent forecaster (internal side of nlprnn/forecast.h).
 *
 *   scaled window x (W,B,F) -> encoder (SimpleRNN/LSTM/GRU, L layers) -> h_W of the last layer
 *   (B,H) -> dense (H -> 1) -> prediction (B) ; loss = MSE against the scaled target (B).
 *
 * Parameters live in one flat block: [encoder | dense]. The scaler (corpora/series.h) maps the
 * series' units to the model's and back; it is fitted on the training rows only. Windows are cut
 * by corpora/series.h (nr_series_gather).
 *
 * The task's files:
 *   forecaster.c  the network: bind, scratch, forward/backward, predictions, evaluation
 *   file.c        model files of kind "FCST"
 *   train.c       the parameter table and the training task run by the one trainer (train/)
 */
#ifndef NR_TASKS_FORECASTER_H
#define NR_TASKS_FORECASTER_H

#include <stdint.h>

#include "common/params.h"
#include "corpora/series.h"
#include "models/nn.h"
#include "nlprnn/forecast.h"

struct nlprnn_forecaster_params {
    int cell;         /* nr_cell */
    int hidden, layers;
    int window, horizon, target;
    int scaler;       /* NR_SCALER_* */
    double train, valid;
    int epochs, batch;
    double lr, clip;
    int ma, patience, threads;
    int relative;     /* 1: windows and targets relative to the window's last row */
    uint64_t seed;
    char checkpoint[1024];     /* checkpoint file ("" = none) */
    long long checkpoint_every;
};

struct nlprnn_forecaster {
    struct nlprnn_forecaster_params p; /* the settings it was trained with */
    int nfeat;
    char **names;      /* (nfeat) column names, the target is names[p.target] */
    nr_scaler sc;      /* (nfeat) */
    nr_encoder enc;
    nr_dense head;
    float *params;     /* (n_params) [encoder | dense] */
    size_t n_params, n_enc;
    int epochs;        /* epochs run (length of the history) */
    int best_epoch;    /* 1-based epoch whose weights were kept */
    double *hist_train, *hist_valid; /* (epochs) */
};

/* The forecaster's parameter table (defaults, ranges, help): one row per parameter. */
const nr_param_table *nr_forecast_param_table(void);
/* Defaults as in the table. */
void nr_forecast_params_default(struct nlprnn_forecaster_params *p);
/* A setting of the parameters as text ("ma" is the effective length: window when 0); 1 if known. */
int nr_forecast_params_format(const struct nlprnn_forecaster_params *p, const char *name, char *buf,
                              size_t cap);

/* ---- the network (forecaster.c) ------------------------------------------------------------- */

/* Allocate and bind the parameter block for f->p and f->nfeat (values not initialised). */
struct nr_mf_reader;
int nr_fc_bind(nlprnn_forecaster *f, const struct nr_mf_reader *r, nlprnn_error *err);

/* Scratch for batches of up to max_B windows. */
typedef struct nr_fc_scratch {
    nr_encoder_ws *ws;
    int max_B;
    float *x;    /* (W,B,F) */
    float *out;  /* (W,B,H) */
    float *hn;   /* (L,B,H) */
    float *cn;   /* (L,B,H) */
    float *pred; /* (B) */
    float *y;    /* (B) */
    float *dpred;/* (B) */
    float *dh;   /* (L,B,H): zero except the last layer */
} nr_fc_scratch;

int nr_fc_scratch_init(nr_fc_scratch *s, const nlprnn_forecaster *f, int max_B, int training,
                       nlprnn_error *err);
void nr_fc_scratch_free(nr_fc_scratch *s);
/* Windows idx[0..B) of the scaled series z (n,F) into s->x (W,B,F) and s->y (B). */
void nr_fc_gather(nr_fc_scratch *s, const nlprnn_forecaster *f, const float *z, const size_t *idx,
                  int B);
/* Forward of s->x (W,B,F): s->pred (B) in scaled units. */
int nr_fc_forward(nr_fc_scratch *s, const nlprnn_forecaster *f, int B, nlprnn_error *err);
/* MSE on s->y, backward into grad (n_params) (+=). *loss = the mean over the B windows. */
int nr_fc_backward(nr_fc_scratch *s, const nlprnn_forecaster *f, float *grad, int B, double *loss,
                   nlprnn_error *err);
/* The whole series scaled to float (n,F) (malloc'ed), or NULL when out of memory. */
int nr_fc_scale_series(const nlprnn_forecaster *f, const nlprnn_series *s, float **out,
                       nlprnn_error *err);
/* Predictions (scaled) for samples [first, first+count) into pred (count, may be NULL); mean
 * squared error in *mse if not NULL. */
int nr_fc_predict_range(const nlprnn_forecaster *f, const float *z, size_t first, size_t count,
                        double *pred, double *mse, nlprnn_error *err);
/* The series has the forecaster's columns and at least one window. */
int nr_fc_check_series(const nlprnn_forecaster *f, const nlprnn_series *s, nlprnn_error *err);

#endif
