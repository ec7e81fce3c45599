/* models/encoder_ws.c: the encoder's workspace (nr_encoder_ws: the buffers of one caller's calls,
 * sized once, and its settings) and the packed weights workspaces share (nr_encoder_packs).
 * Interface: models/encoder.h; the struct and the encoder's other files: models/encoder_impl.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/pool.h"
#include "models/encoder_impl.h"
#include "models/kernels/kernels.h"
#include "models/step_split.h"

/* ---- workspace -------------------------------------------------------------------------------- */

/* Hand out the workspace buffers from base (NULL: only count). Returns the floats needed. */
static size_t carve(nr_encoder_ws *ws, const nr_encoder *enc, size_t TB, size_t B, int training,
                    float *base)
{
    int L = enc->cfg.layers, dirs = enc->dirs, G = enc->gates, H = enc->cfg.hidden,
        O = enc->out_size;
    int gru_before = enc->cfg.cell == NR_CELL_GRU && !enc->cfg.gru_reset_after;
    int gru_after = enc->cfg.cell == NR_CELL_GRU && enc->cfg.gru_reset_after;
    size_t off = 0;
    memset(ws, 0, sizeof *ws);
#define TAKE(ptr, n)                                                                               \
    do {                                                                                           \
        (ptr) = base ? base + off : NULL;                                                          \
        off += ((size_t)(n) + 15) & ~(size_t)15; /* 64-byte aligned slices */                     \
    } while (0)
    int nl = training ? L : 1;
    for (int l = 0; l < nl; l++)
        for (int d = 0; d < dirs; d++) {
            TAKE(ws->gates[l][d], TB * G * H);
            if (training) {
                TAKE(ws->hprev[l][d], TB * H);
                if (enc->cfg.cell == NR_CELL_LSTM)
                    TAKE(ws->cprev[l][d], TB * H);
                if (enc->cfg.cell == NR_CELL_GRU)
                    TAKE(ws->hnl[l][d], TB * H);
            }
        }
    for (int l = 0; l + 1 < L; l++) {
        if (training || l < 2)
            TAKE(ws->ybuf[l], TB * O);
        if (training && enc->cfg.dropout > 0.0f)
            TAKE(ws->mask[l], TB * O);
    }
    for (int d = 0; d < dirs; d++) {
        TAKE(ws->hcur[d], B * H);
        TAKE(ws->ccur[d], B * H);
        TAKE(ws->gh[d], B * G * H);
        TAKE(ws->rh[d], B * H);
        TAKE(ws->hnls[d], B * H);
        if (training) {
            TAKE(ws->dgi[d], TB * G * H);
            if (gru_after)
                TAKE(ws->dgh[d], TB * G * H);
            else
                ws->dgh[d] = ws->dgi[d];
            TAKE(ws->dh[d], B * H);
            TAKE(ws->dc[d], B * H);
            TAKE(ws->dgs[d], B * G * H);
            TAKE(ws->tmp[d], B * H);
            TAKE(ws->dhd[d], B * H);
            if (gru_before)
                TAKE(ws->drh[d], B * H);
        }
    }
    if (training && L > 1)
        TAKE(ws->dy, TB * O);
    /* packs, sized for the widest panels of any path: forward op(B) = W_hh[0:K2]^T (H, K2),
     * backward W_hh[0:K2] (K2, H), K2 = G*H (2H for GRU reset-before); W_hn (H, H) */
    size_t kp_main = 0, kp_hn = 0;
    for (int p = 0; p < NR_KPATH_COUNT; p++) {
        size_t a = nr_kpack_floats(p, H, G * H), b = nr_kpack_floats(p, G * H, H);
        size_t c = nr_kpack_floats(p, H, H);
        kp_main = a > kp_main ? a : kp_main;
        kp_main = b > kp_main ? b : kp_main;
        kp_hn = c > kp_hn ? c : kp_hn;
    }
    for (int d = 0; d < dirs; d++) {
        TAKE(ws->kpk[d][0], kp_main);
        if (gru_before)
            TAKE(ws->kpk[d][1], kp_hn);
    }
#undef TAKE
    return off;
}

nr_encoder_ws *nr_encoder_ws_create(const nr_encoder *enc, int max_T, int max_B, int training,
                                    int nthreads, nlprnn_error *err)
{
    if (!enc || max_T < 1 || max_B < 1 || nthreads < 1 || nthreads > NR_MAX_THREADS) {
        nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1,
                "encoder workspace: max_T %d, max_B %d, nthreads %d out of range", max_T, max_B,
                nthreads);
        return NULL;
    }
    int G = enc->gates, H = enc->cfg.hidden, O = enc->out_size;
    size_t TB = (size_t)max_T * max_B, B = (size_t)max_B;
    if (TB > ((size_t)1 << 40) / ((size_t)G * H + O + 1)) {
        nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "encoder workspace: %d x %d x %d too large", max_T,
                max_B, G * H);
        return NULL;
    }
    nr_encoder_ws probe;
    size_t total = carve(&probe, enc, TB, B, training, NULL);
    nr_encoder_ws *ws = calloc(1, sizeof *ws);
    int *len = nr_malloc_array((size_t)max_B, sizeof(int));
    /* zeroed by calloc, 16 floats more to align the start to 64 bytes: a large block is fresh
     * memory from the kernel (mmap, or the heap's top), already zero, so nothing touches its
     * pages until the rows of a call do. A workspace sized for max_T x max_B and used for one
     * short sequence (a one-sentence request: the tagger's is 33 MB) costs what that call
     * touches, not a fault per 4 KiB of the whole block. */
    void *raw = nr_calloc_array((total ? total : 16) + 16, sizeof(float));
    if (!ws || !len || !raw) {
        free(ws);
        free(len);
        free(raw);
        nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "encoder workspace: out of memory (%zu floats)",
                total);
        return NULL;
    }
    float *base = (float *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    carve(ws, enc, TB, B, training, base);
    ws->block = base;
    ws->block_raw = raw;
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 2; i++)
            ws->kpu[d][i] = ws->kpk[d][i];
    ws->len = len;
    ws->cfg = enc->cfg;
    ws->max_T = max_T;
    ws->max_B = max_B;
    ws->training = training ? 1 : 0;
    ws->nthreads = nthreads;
    return ws;
}

int nr_encoder_ws_set_pool_max(const nr_encoder *enc, nr_encoder_ws *ws, float *pooled)
{
    int ok = enc && ws && pooled && !ws->training && (enc->dirs == 1 || enc->cfg.merge == NR_MERGE_CONCAT);
    if (ws)
        ws->pool_max = ok ? pooled : NULL;
    return ok;
}

void nr_encoder_ws_keep_pack(nr_encoder_ws *ws, int on)
{
    on = on && ws && !ws->training; /* a training workspace's weights change at every step */
    if (ws && ws->keep_pack != on) {
        ws->keep_pack = on;
        ws->kp_key = 0;
        nr_encoder_packs_free(ws->kept);
        ws->kept = NULL;
        ws->kp_ran = 0;
    }
}

void nr_encoder_ws_take_packs(nr_encoder_ws *to, nr_encoder_ws *from)
{
    if (!to || !from || !to->keep_pack || !from->keep_pack)
        return;
    struct nr_encoder_packs *t = to->kept;
    int r = to->kp_ran;
    to->kept = from->kept, to->kp_ran = from->kp_ran;
    from->kept = t, from->kp_ran = r;
}

void nr_encoder_ws_set_reset(nr_encoder_ws *ws, const uint8_t *reset)
{
    ws->reset = reset;
}

void nr_encoder_ws_set_table(nr_encoder_ws *ws, const float *table, const int *ids)
{
    ws->ptab = table && ids && !ws->training ? table : NULL;
    ws->ptab_ids = ws->ptab ? ids : NULL;
}

void nr_encoder_ws_split_wait(nr_encoder_ws *ws, int on)
{
    if (ws)
        ws->split_wait = on ? 1 : 0;
}

long nr_encoder_ws_split_products(const nr_encoder_ws *ws)
{
    return ws ? nr_step_split_products(ws->helper) : 0;
}

void nr_encoder_ws_free(nr_encoder_ws *ws)
{
    if (!ws)
        return;
    nr_step_split_free(ws->helper);
    nr_encoder_packs_free(ws->kept);
    free(ws->block_raw);
    free(ws->len);
    free(ws);
}

/* ---- packed weights shared by workspaces (nr_encoder_packs) ----------------------------------- */

typedef struct pk_slot {
    float *buf;
    size_t cap;
    unsigned made; /* the version it was made at (0: never) */
    const float *W;
    int path, trans, K, N;
} pk_slot;

struct nr_encoder_packs {
    pthread_mutex_t mu;
    unsigned version; /* nr_encoder_packs_stale: every copy made before is stale */
    unsigned long made; /* copies made so far (tests) */
    pk_slot slot[NR_ENCODER_MAX_LAYERS][2][PK_KINDS];
};

int nr_encoder_packs_create(nr_encoder_packs **out, nlprnn_error *err)
{
    nr_encoder_packs *pk = calloc(1, sizeof *pk);
    if (!pk || pthread_mutex_init(&pk->mu, NULL)) {
        free(pk);
        *out = NULL;
        return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "encoder: out of memory for shared packs");
    }
    pk->version = 1;
    *out = pk;
    return NLPRNN_OK;
}

void nr_encoder_packs_free(nr_encoder_packs *pk)
{
    if (!pk)
        return;
    for (int l = 0; l < NR_ENCODER_MAX_LAYERS; l++)
        for (int d = 0; d < 2; d++)
            for (int k = 0; k < PK_KINDS; k++)
                free(pk->slot[l][d][k].buf);
    pthread_mutex_destroy(&pk->mu);
    free(pk);
}

void nr_encoder_packs_stale(nr_encoder_packs *pk)
{
    if (pk && ++pk->version == 0)
        pk->version = 1; /* 0 means never made */
}

unsigned long nr_encoder_packs_made(nr_encoder_packs *pk)
{
    pthread_mutex_lock(&pk->mu);
    unsigned long n = pk->made;
    pthread_mutex_unlock(&pk->mu);
    return n;
}

void nr_encoder_ws_share_packs(nr_encoder_ws *ws, nr_encoder_packs *pk)
{
    if (ws)
        ws->shared = pk;
}

const float *nr_enc_shared_pack(nr_encoder_packs *pk, int l, int d, int kind, int p, int trans,
                                int K, int N, const float *W, int ldw)
{
    pthread_mutex_lock(&pk->mu);
    pk_slot *s = &pk->slot[l][d][kind];
    if (s->made != pk->version || s->W != W || s->path != p || s->trans != trans || s->K != K || s->N != N) {
        size_t need = nr_kpack_floats(p, K, N);
        if (need > s->cap) {
            float *nb = nr_malloc_array(need, sizeof(float));
            if (!nb) {
                pthread_mutex_unlock(&pk->mu);
                return NULL;
            }
            free(s->buf);
            s->buf = nb, s->cap = need;
        }
        nr_kpack(p, s->buf, trans, K, N, W, ldw);
        s->made = pk->version, s->W = W, s->path = p, s->trans = trans, s->K = K, s->N = N;
        pk->made++;
    }
    const float *b = s->buf;
    pthread_mutex_unlock(&pk->mu);
    return b;
}
