/* tests/test_threads_embfill.c: the one lazy fill of a shared classifier, from many threads.
 *
 * A model that stores its embedding as float16 (the shipped "ko") keeps it so after loading and
 * fills its float32 table the first time nr_model_net is asked (tasks/classify/classifier.c; the
 * safetensors export asks, nlprnn_classifier_export). That fill writes into a model that threads
 * share, so it is made once, under the model's own lock (struct nlprnn_classifier: the library
 * has no global lock for it). Here two models are loaded, and 4 threads per model, released at
 * once by a barrier, ask for the network while classifying through their own contexts: every
 * thread must see the file's embedding read as float32, bit for bit, and each model's answers
 * must not change. Run under ThreadSanitizer by scripts/tsan.sh, where a fill without the lock
 * (two threads writing the table, or one reading the "filled" flag another writes) is reported
 * as a data race and fails the run (the fill is widened by the portable path's C loop here, whose
 * stores TSan sees). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/modelfile.h"
#include "models/kernels/kernels.h"
#include "tasks/classify/classifier.h"
#include "nlprnn.h"
#include "testutil.h"

#define NMODELS 2
#define PER_MODEL 4
#define NTHREADS (NMODELS * PER_MODEL)

static const char *const text = "정말 재미있는 영화였어요";

typedef struct {
    const nlprnn_classifier *m;
    const float *ref;       /* (V,E) the file's embedding read as float32 */
    const float *ref_probs; /* (C) the model's answer for `text` before any fill */
    pthread_barrier_t *go;
    int f16, table_ok, probs_ok, errors;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    nlprnn_classifier_ctx *ctx = NULL;
    nlprnn_error err;
    float probs[2] = {0, 0};
    if (nlprnn_classifier_ctx_create(w->m, 1, &ctx, &err)) w->errors++;
    pthread_barrier_wait(w->go);
    const nr_clf_net *net = nr_model_net(w->m); /* the fill, by whichever thread comes first */
    w->f16 = net->emb16 != NULL;
    w->table_ok = memcmp(net->emb.table, w->ref, net->n_emb * sizeof(float)) == 0;
    if (ctx && nlprnn_classify(ctx, text, strlen(text), probs, NULL, &err)) w->errors++;
    w->probs_ok = memcmp(probs, w->ref_probs, sizeof probs) == 0;
    nlprnn_classifier_ctx_free(ctx);
    return NULL;
}

int main(void) {
    nlprnn_classifier *m[NMODELS] = {NULL};
    float *ref[NMODELS] = {NULL};
    float ref_probs[NMODELS][2];
    nlprnn_error err;
    /* the portable kernel path: the fill (nr_f16_widen) is then a plain C loop whose stores TSan
     * sees (it does not instrument the stores of vector intrinsics, the AVX2 path's widening) */
    nr_kpath_set(NR_KPATH_PORTABLE);
    for (int k = 0; k < NMODELS; k++) {
        int rc = nlprnn_classifier_load("ko", &m[k], &err);
        CHECK_MSG(rc == 0, "shipped model 'ko': %s", rc ? err.message : "");
        if (rc) return nr_test_done("test_threads_embfill");
        CHECK_INT_EQ(nlprnn_classifier_num_classes(m[k]), 2);
        /* the reference, from the file (asking the model would fill its table now) */
        nr_mf_reader *r = NULL;
        CHECK_INT_EQ(nr_mf_open_file(&r, nlprnn_classifier_path(m[k]), NULL, &err), 0);
        size_t V = 0, E = 0;
        nr_tensor_info ti;
        if (r && nr_mf_tensor_info(r, "WGHT", "embedding", &ti, &err) == 0) {
            CHECK_MSG(ti.dtype == NR_DTYPE_F16 && ti.ndim == 2,
                      "ko.nrm no longer stores its embedding as float16: this test needs such a model");
            V = ti.shape[0];
            E = ti.shape[1];
        }
        CHECK(V > 0 && E > 0);
        size_t shape[2] = {V, E};
        ref[k] = malloc(sizeof(float) * (V && E ? V * E : 1));
        CHECK(ref[k] != NULL);
        if (r && ref[k]) CHECK_INT_EQ(nr_mf_tensor_read(r, "WGHT", "embedding", ref[k], 2, shape, &err), 0);
        nr_mf_close(r);
        nlprnn_classifier_ctx *ctx = NULL;
        CHECK_INT_EQ(nlprnn_classifier_ctx_create(m[k], 1, &ctx, &err), 0);
        CHECK_INT_EQ(nlprnn_classify(ctx, text, strlen(text), ref_probs[k], NULL, &err), 0);
        nlprnn_classifier_ctx_free(ctx);
    }
    if (nr_test_failures) return nr_test_done("test_threads_embfill");

    pthread_barrier_t go;
    CHECK_INT_EQ(pthread_barrier_init(&go, NULL, NTHREADS), 0);
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        int k = t % NMODELS; /* the two models' threads interleaved */
        w[t] = (worker){m[k], ref[k], ref_probs[k], &go, 0, 0, 0, 0};
        CHECK_INT_EQ(pthread_create(&th[t], NULL, work, &w[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK_MSG(w[t].f16, "thread %d: the loaded model keeps no float16 embedding (nothing to fill)", t);
        CHECK_MSG(w[t].table_ok, "thread %d: the float32 embedding is not the file's", t);
        CHECK_MSG(w[t].probs_ok && w[t].errors == 0, "thread %d: another answer (%d errors)", t,
                  w[t].errors);
    }
    pthread_barrier_destroy(&go);
    for (int k = 0; k < NMODELS; k++) {
        nlprnn_classifier_free(m[k]);
        free(ref[k]);
    }
    return nr_test_done("test_threads_embfill");
}
