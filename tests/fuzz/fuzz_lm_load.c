/* tests/fuzz/fuzz_lm_load.c: libFuzzer target for the language-model loader
 * (nr_lm_load_reader, what nlprnn_lm_load runs after reading the file) and, when a model loads,
 * for what the program then does with it (score, next word, fill, generation).
 *
 * The input is a model file. The container's CRCs would stop almost every mutation before the
 * LM loader sees it, so the harness first re-seals the input: it recomputes every CRC it can
 * find (each section's stored and raw CRC, zlib sections inflated to do so, each section header
 * and the file header, and the tokenizer's own checksum inside the TOKN section). Mutations of
 * the configuration text, the tokenizer bytes and the weights thus reach the parsers, the
 * shape and size checks and the network. Lengths are not re-sealed: the container's own checks
 * (fuzz_modelfile) cover them.
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
#include <zlib.h>

#include "common/common.h"
#include "tasks/lm/lm.h"
#include "format/modelfile.h"
#include "nlprnn.h"

static void check(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_lm_load: invariant violated: %s\n", what);
        abort();
    }
}

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void wr64(unsigned char *p, uint64_t v) {
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t crc(const unsigned char *p, size_t n) {
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* Recompute the CRCs of a model file in place (see the top of the file). */
static void reseal(unsigned char *p, size_t n) {
    if (n < NR_MF_HEADER_SIZE || memcmp(p, NR_MF_MAGIC, 8)) return;
    uint32_t nsec = rd32(p + 16);
    size_t pos = NR_MF_HEADER_SIZE;
    for (uint32_t i = 0; i < nsec && i < NR_MF_MAX_SECTIONS; i++) {
        if (n - pos < NR_MF_SECTION_HEADER_SIZE) break;
        unsigned char *h = p + pos, *d = h + NR_MF_SECTION_HEADER_SIZE;
        uint64_t sl = rd64(h + 8);
        if (sl > n - pos - NR_MF_SECTION_HEADER_SIZE) break;
        int enc = h[4];
        if (enc == NR_MF_STORED) {
            if (!memcmp(h, "TOKN", 4) && sl >= 24 && !memcmp(d, "NLPRNTOK", 8))
                wr32(d + sl - 4, crc(d, (size_t)sl - 4)); /* the tokenizer's own checksum */
            wr64(h + 16, sl);
            wr32(h + 24, crc(d, (size_t)sl));
        } else if (enc == NR_MF_ZLIB) {
            uint64_t raw = rd64(h + 16);
            if (raw <= (1u << 20)) {
                unsigned char *b = malloc(raw ? (size_t)raw : 1);
                uLongf dn = (uLongf)raw;
                uLong sn = (uLong)sl;
                if (b && uncompress2(b, &dn, d, &sn) == Z_OK && dn == raw) wr32(h + 24, crc(b, dn));
                free(b);
            }
        }
        wr32(h + 28, crc(d, (size_t)sl));
        wr32(h + 36, crc(h, 36));
        pos += NR_MF_SECTION_HEADER_SIZE + (size_t)sl + (size_t)((8 - (sl & 7)) & 7);
        if (pos > n) break;
    }
    wr32(p + 36, crc(p, 36));
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
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    reseal(copy, size);
    nr_mf_reader *r = NULL;
    nlprnn_error e;
    if (nr_mf_open_mem(&r, copy, size, "fuzz.nrm", NR_KIND_LANGMODEL, &e) == 0) {
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
