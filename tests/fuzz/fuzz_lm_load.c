/* tests/fuzz/fuzz_lm_load.c: libFuzzer target for the language-model loader
 * (nr_lm_load_reader, what nlprnn_lm_load runs after reading the file) and, when a model loads,
 * for what the program then does with it (score, next word, fill, generation).
 *
 * The input is a model file, re-sealed first (tests/fuzz/reseal.h: every CRC recomputed, so
 * mutations reach the LM loader's parsers, checks and network).
 *
 * Seeds: small LSTM/GRU models (tied and untied, forward and backward, f32/f16/int8, sections
 * stored uncompressed), made by the harness itself:
 *     NLPRNN_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/fuzz_lm_load build-fuzz/tests/fuzz/fuzz_lm_load -runs=0
 *
 * Invariants (a violation aborts): a failed load returns a status with a message and no model;
 * a loaded model gives probabilities in [0, 1], finite scores, or NLPRNN_E_NUMERIC; nothing
 * fails with NLPRNN_E_INVALID_ARG on valid arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tasks/lm/lm.h"
#include "format/modelfile.h"
#include "nlprnn.h"
#include "reseal.h"

static void check(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_lm_load: invariant violated: %s\n", what);
        abort();
    }
}

static void check_choices(int rc, const nlprnn_error *e, const nlprnn_lm_choice *c, size_t n,
                          int k, const char *what) {
    if (rc) {
        check(rc != NLPRNN_E_INVALID_ARG && e->code == rc && e->message[0], what);
        return;
    }
    check(n <= (size_t)k, what);
    for (size_t i = 0; i < n; i++)
        check(c[i].text && c[i].prob >= 0 && c[i].prob <= 1 && isfinite(c[i].score), what);
}

static void exercise(nlprnn_lm *lm) {
    nlprnn_lm_ctx *ctx = NULL;
    if (nlprnn_lm_ctx_create(lm, &ctx, NULL)) return; /* out of memory */
    nlprnn_error e;
    double lp = 0;
    int rc = nlprnn_lm_score(ctx, "the cat", 7, NLPRNN_LM_FORWARD, &lp, NULL, &e);
    check(rc == 0 ? isfinite(lp) && lp <= 1e-6 : rc == NLPRNN_E_NUMERIC, "score");
    if (nlprnn_lm_has_backward(lm)) {
        rc = nlprnn_lm_score(ctx, "a dog", 5, NLPRNN_LM_BACKWARD, &lp, NULL, &e);
        check(rc == 0 ? isfinite(lp) && lp <= 1e-6 : rc == NLPRNN_E_NUMERIC, "backward score");
    }
    nlprnn_lm_choice *c = NULL;
    size_t n = 0;
    rc = nlprnn_lm_next(ctx, "the", 3, 3, &c, &n, &e);
    check_choices(rc, &e, c, n, 3, "next");
    nlprnn_lm_choices_free(c, n);
    c = NULL;
    n = 0;
    rc = nlprnn_lm_fill(ctx, "the ___ sat", 11, NULL, 0, 3, &c, &n, &e);
    check_choices(rc, &e, c, n, 3, "fill");
    if (!rc && n) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += c[i].prob;
        /* softmax over every answer ranked (docs/lm.md): 1 when all came back (fewer than k),
         * at most 1 when the list was cut at k */
        if (n < 3) check(fabs(s - 1) < 1e-6, "all the fill answers: probabilities sum to 1");
        check(s <= 1 + 1e-6, "fill probabilities sum to at most 1");
    }
    nlprnn_lm_choices_free(c, n);
    char *g = NULL;
    rc = nlprnn_lm_generate(ctx, "the", 3, 4, 1.0, 0, 1.0, 1, &g, &e);
    check(rc == 0 ? g != NULL : rc == NLPRNN_E_NUMERIC, "generate");
    nlprnn_free(g);
    nlprnn_lm_ctx_free(ctx);
}

/* ---- seeds --------------------------------------------------------------------------------- */

static nlprnn_tokenizer *seed_tokenizer(void) {
    static const char *texts[] = {"the cat sat on the mat", "a dog ran", "the dog sat",
                                  "a cat ran on the mat"};
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer *tok = NULL;
    nlprnn_error e;
    nlprnn_tokenizer_params_create(&o, &e);
    nlprnn_tokenizer_params_set(o, "model-type", "word", &e);
    nlprnn_tokenizer_params_set(o, "min-count", "1", &e);
    nlprnn_tokenizer_params_set(o, "byte-fallback", "0", &e);
    check(nlprnn_tokenizer_train_texts(o, texts, NULL, 4, &tok, &e) == 0, "seed tokenizer");
    nlprnn_tokenizer_params_free(o);
    return tok;
}

/* Save a small model, then write it again with every section stored (no zlib). */
static void write_seed(const char *dir, const char *name, int cell, int E, int H, int tied,
                       int backward, int dtype) {
    nlprnn_error e;
    nlprnn_tokenizer *tok = seed_tokenizer();
    nr_lm_cfg c = {cell, 1, E, H, nlprnn_tokenizer_vocab_size(tok), tied};
    nr_lm_net net[2];
    nr_rng rng;
    nr_rng_seed(&rng, 11);
    memset(net, 0, sizeof net);
    for (int d = 0; d <= backward; d++)
        check(nr_lm_net_create(&net[d], &c, NLPRNN_ID_PAD, &e) == 0 &&
                  nr_lm_net_init(&net[d], &rng, &e) == 0,
              "seed network");
    nlprnn_lm *lm = NULL;
    check(nr_lm_assemble(&lm, tok, &net[0], &net[1], "f32", &e) == 0, "seed model");
    char tmp[512], path[512];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    check(nr_lm_save(lm, tmp, dtype, NULL, &e) == 0, "seed save");
    nlprnn_lm_free(lm);
    nr_lm_net_free(&net[0]);
    nr_lm_net_free(&net[1]);
    nr_mf_reader *r = NULL;
    nr_mf_writer *w = NULL;
    check(nr_mf_open_file(&r, tmp, NULL, &e) == 0 && nr_mf_writer_new(&w, NR_KIND_LANGMODEL, &e) == 0,
          "seed reopen");
    for (size_t i = 0; i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        check(nr_mf_add(w, s->tag, s->content, s->data, (size_t)s->raw_len, 0, &e) == 0, "seed section");
    }
    check(nr_mf_writer_save(w, path, &e) == 0, "seed write");
    nr_mf_writer_free(w);
    nr_mf_close(r);
    remove(tmp);
    fprintf(stderr, "fuzz_lm_load: wrote seed %s\n", path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *dir = getenv("NLPRNN_FUZZ_WRITE_SEEDS");
    if (dir && *dir) {
        write_seed(dir, "lstm_tied_both_f32.nrm", NR_CELL_LSTM, 4, 4, 1, 1, NR_DTYPE_F32);
        write_seed(dir, "gru_untied_fwd_f16.nrm", NR_CELL_GRU, 4, 3, 0, 0, NR_DTYPE_F16);
        write_seed(dir, "lstm_tied_fwd_int8.nrm", NR_CELL_LSTM, 3, 3, 1, 0, NR_DTYPE_I8);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *copy = NULL;
    nlprnn_error e;
    nr_mf_reader *r = fuzz_open_resealed(data, size, NR_KIND_LANGMODEL, &copy, &e);
    if (r) {
        nlprnn_lm *lm = (nlprnn_lm *)&lm;
        int rc = nr_lm_load_reader(r, &lm, &e);
        if (rc) {
            check(e.code == rc && e.message[0] && lm == NULL, "a failed load has a message");
        } else {
            check(lm != NULL, "a load gives a model");
            exercise(lm);
            nlprnn_lm_free(lm);
        }
        nr_mf_close(r);
    }
    free(copy);
    return 0;
}
