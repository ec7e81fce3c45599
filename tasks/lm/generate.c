/* tasks/lm/generate.c: sampling text (nlprnn_lm_generate). */
#include "tasks/lm/lm.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================================================
 * generation
 * ============================================================================================== */

typedef struct pv {
    float p;
    int v;
} pv;

static int cmp_pv_desc(const void *a, const void *b) {
    float x = ((const pv *)a)->p, y = ((const pv *)b)->p;
    if (x != y) return x < y ? 1 : -1;
    return ((const pv *)a)->v - ((const pv *)b)->v;
}

int nlprnn_lm_generate(nlprnn_lm_ctx *ctx, const char *prompt, size_t len, int max_tokens,
                       double temperature, int top_k, double top_p, uint64_t seed, char **out,
                       nlprnn_error *err) {
    if (out) *out = NULL;
    if (!ctx || !prompt || !out) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm generate: NULL argument");
    if (max_tokens < 0 || max_tokens > 100000)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "max length must be in 0..100000 (got %d)", max_tokens);
    if (!(temperature > 0) || temperature > 100)
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "temperature must be in (0,100] (got %g)", temperature);
    if (top_k < 0) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "top-k must be >= 0 (got %d)", top_k);
    if (!(top_p > 0 && top_p <= 1))
        return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "top-p must be in (0,1] (got %g)", top_p);
    const nlprnn_lm *lm = ctx->lm;
    int V = lm->net[0].cfg.vocab;
    int32_t *s = NULL;
    int m = 0;
    int rc = nr_lm_encode_dir(ctx, prompt, len, NLPRNN_LM_FORWARD, &s, &m, err);
    if (rc) return rc;
    ivec seq = {0};
    float *logp = nr_malloc_array((size_t)V, sizeof(float));
    pv *pool = nr_malloc_array((size_t)V, sizeof(pv));
    if (!logp || !pool) rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    for (int i = 1; i < m - 1 && !rc; i++) rc = nr_lm_ivec_push(&seq, s[i]);
    if (!rc) rc = nr_lm_run_prefix(ctx, NLPRNN_LM_FORWARD, s, m - 1, logp, err);
    nr_rng rng;
    nr_rng_seed(&rng, seed);
    for (int t = 0; t < max_tokens && !rc; t++) {
        /* p ∝ exp(logp / T) over allowed pieces (no <pad> <unk> <bos> <mask>) */
        float mx = -FLT_MAX;
        for (int v = 0; v < V; v++)
            if (v != NLPRNN_ID_PAD && v != NLPRNN_ID_UNK && v != NLPRNN_ID_BOS && v != NLPRNN_ID_MASK &&
                logp[v] > mx)
                mx = logp[v];
        int nc = 0;
        double z = 0;
        for (int v = 0; v < V; v++) {
            if (v == NLPRNN_ID_PAD || v == NLPRNN_ID_UNK || v == NLPRNN_ID_BOS || v == NLPRNN_ID_MASK) continue;
            float p = (float)exp((double)(logp[v] - mx) / temperature);
            pool[nc].p = p;
            pool[nc].v = v;
            z += p;
            nc++;
        }
        if (top_k > 0 || top_p < 1) {
            qsort(pool, (size_t)nc, sizeof(pv), cmp_pv_desc);
            if (top_k > 0 && top_k < nc) nc = top_k;
            double acc = 0, tot = 0;
            for (int i = 0; i < nc; i++) tot += pool[i].p;
            if (top_p < 1) {
                for (int i = 0; i < nc; i++) {
                    acc += pool[i].p;
                    if (acc >= top_p * tot) {
                        nc = i + 1;
                        break;
                    }
                }
            }
            z = 0;
            for (int i = 0; i < nc; i++) z += pool[i].p;
        }
        if (!(z > 0) || !isfinite(z)) {
            rc = nr_lm_not_finite(err, "probability");
            break;
        }
        double u = (double)nr_rng_uniform(&rng) * z, acc = 0;
        int pick = pool[nc - 1].v;
        for (int i = 0; i < nc; i++) {
            acc += pool[i].p;
            if (u < acc) {
                pick = pool[i].v;
                break;
            }
        }
        if (pick == NLPRNN_ID_EOS) break;
        rc = nr_lm_ivec_push(&seq, pick);
        if (rc) {
            rc = nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
            break;
        }
        int one = pick;
        rc = nr_lm_step_rows(ctx, NLPRNN_LM_FORWARD, &one, 1, logp, err);
    }
    if (!rc) rc = nlprnn_tokenizer_decode_alloc(lm->tok, seq.v, seq.n, out, NULL, err);
    free(s);
    free(seq.v);
    free(logp);
    free(pool);
    return rc;
}
