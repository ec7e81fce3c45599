/* tasks/lm/net.c: the networks: one flat block bound to embedding -> encoder -> dense (layout
 * in lm.h), seeded initialisation. */
#include "tasks/lm/lm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================================================
 * networks
 * ============================================================================================== */

static void encoder_cfg(nr_encoder_cfg *ec, const nr_lm_cfg *cfg) {
    nr_encoder_cfg_default(ec, cfg->embed, cfg->hidden);
    ec->cell = cfg->cell;
    ec->layers = cfg->layers;
}

/* The parameter block of one network: embedding (vocab, embed), then (tied) the output bias
 * (vocab) and the encoder, or (untied) the encoder and the output layer (vocab, hidden) + bias.
 * Returns the floats in all (0 for a configuration the encoder refuses). */
size_t nr_lm_layout(const nr_lm_cfg *cfg, size_t *enc_off, size_t *out_off) {
    nr_encoder_cfg ec;
    encoder_cfg(&ec, cfg);
    size_t ne = nr_embedding_param_count(cfg->vocab, cfg->embed);
    size_t nenc = nr_encoder_param_count(&ec);
    size_t nd = nr_dense_param_count(cfg->hidden, cfg->vocab);
    if (!nenc) return 0;
    if (cfg->tied) {
        *out_off = 0;
        *enc_off = ne + (size_t)cfg->vocab;
        return *enc_off + nenc;
    }
    *enc_off = ne;
    *out_off = ne + nenc;
    return *out_off + nd;
}

int nr_lm_net_create(nr_lm_net *net, const nr_lm_cfg *cfg, int padding_id, nlprnn_error *err) {
    memset(net, 0, sizeof *net);
    if (cfg->cell != NR_CELL_LSTM && cfg->cell != NR_CELL_GRU)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "language model cell must be lstm or gru");
    if (cfg->vocab < NLPRNN_NUM_SPECIAL_IDS || cfg->embed < 1 || cfg->hidden < 1 || cfg->layers < 1 ||
        cfg->layers > NR_ENCODER_MAX_LAYERS)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "bad language model sizes: vocab %d embed %d hidden %d layers %d", cfg->vocab,
                       cfg->embed, cfg->hidden, cfg->layers);
    if (cfg->tied && cfg->embed != cfg->hidden)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                       "tied embeddings need embed == hidden (got %d and %d)", cfg->embed,
                       cfg->hidden);
    nr_encoder_cfg ec;
    encoder_cfg(&ec, cfg);
    net->n_params = nr_lm_layout(cfg, &net->enc_off, &net->out_off);
    if (!net->n_params) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "bad encoder configuration");
    net->cfg = *cfg;
    net->params = nr_big_alloc(net->n_params, sizeof(float));
    if (!net->params) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory (language model)");
    memset(net->params, 0, net->n_params * sizeof(float));
    int rc = nr_embedding_bind(&net->emb, cfg->vocab, cfg->embed, padding_id, net->params, err);
    if (!rc) rc = nr_encoder_bind(&net->enc, &ec, net->params + net->enc_off, err);
    if (rc) {
        nr_lm_net_free(net);
        return rc;
    }
    nr_dense_bind(&net->out, cfg->hidden, cfg->vocab, net->params + net->out_off);
    return NLPRNN_OK;
}

void nr_lm_net_free(nr_lm_net *net) {
    if (!net) return;
    free(net->params);
    memset(net, 0, sizeof *net);
}

int nr_lm_net_init(nr_lm_net *net, nr_rng *rng, nlprnn_error *err) {
    nr_embedding_init(&net->emb, 0.05f, rng);
    int rc = nr_encoder_init(&net->enc, rng, err);
    if (rc) return rc;
    if (!net->cfg.tied) nr_dense_init(&net->out, rng);
    memset(net->out.b, 0, (size_t)net->cfg.vocab * sizeof(float));
    return NLPRNN_OK;
}
