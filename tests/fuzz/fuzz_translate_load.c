/* tests/fuzz/fuzz_translate_load.c: libFuzzer target for the translator loader
 * (nr_translator_load_reader, what nlprnn_translator_load runs after opening the file: CONF
 * through the parameter table, the TOKS/TOKT tokenizers, the weight count and values) and, when
 * a model loads, for translating with it (greedy, beam, sampling, a batch).
 *
 * The input is a model file of kind TRNS, re-sealed first (tests/fuzz/reseal.h: every CRC
 * recomputed, the tokenizers' inner files too), so mutations reach the parsers and checks.
 *
 * Seeds: tiny translators (joint tokenizer, f16; LSTM/general with embedding dropout, GRU/additive
 * tied, the two packed as one ensemble, and the first stored as int8), trained by the harness on a few made-up pairs, saved
 * as the library saves them (the tokenizer zlib-compressed, which keeps a seed within the fuzz
 * runs' 4096 bytes):
 *     NLPRNN_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/fuzz_translate_load build-fuzz/tests/fuzz/fuzz_translate_load -runs=0
 * (NLPRNN_FUZZ_WRITE_ENSEMBLE=DIR instead: only ensemble.nrm, from the two seeds in DIR;
 * NLPRNN_FUZZ_WRITE_INT8=DIR: only lstm_general_int8.nrm, lstm_general.nrm of DIR saved with
 * store=int8 (one tensor per part, format version 2), its sections compressed likewise).
 *
 * Invariants (a violation aborts): a failed load returns a status with a message and no model;
 * a loaded model translates valid UTF-8 text into valid UTF-8 text (or fails with a message, never
 * NLPRNN_E_INVALID_ARG on valid arguments), its attention rows are distributions when finite, a
 * batch translates into valid UTF-8 too and an empty text into an empty text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "nlprnn.h"
#include "reseal.h"
#include "tasks/translate/translate.h"

static void check(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_translate_load: invariant violated: %s\n", what);
        abort();
    }
}

static void check_fail(int rc, const nlprnn_error *e, const char *what) {
    check(rc != NLPRNN_E_INVALID_ARG && e->code == rc && e->message[0], what);
}

static void exercise(const nlprnn_translator *t) {
    nlprnn_translator_ctx *c = NULL;
    if (nlprnn_translator_ctx_create(t, &c, NULL)) return; /* out of memory */
    static const char *texts[] = {"가나 다라", "cat", "", "마바 사아 자차"};
    size_t lens[4];
    for (int i = 0; i < 4; i++) lens[i] = strlen(texts[i]);
    nlprnn_error e;
    for (int i = 0; i < 4; i++) {
        int rc = nlprnn_translate(c, texts[i], lens[i], &e);
        if (rc) {
            check_fail(rc, &e, "translate");
            continue;
        }
        size_t n = 0;
        const char *out = nlprnn_translate_text(c, &n);
        check(out && nr_utf8_check(out, n) == n, "a translation is valid UTF-8");
        size_t S = nlprnn_translate_src_len(c), T = nlprnn_translate_tgt_len(c);
        const float *a = nlprnn_translate_attention(c);
        check(S == 0 || a != NULL, "attention of a non-empty source");
        for (size_t j = 0; a && j <= T; j++) {
            double s = 0;
            for (size_t k = 0; k < S; k++) s += a[j * S + k];
            check(!isfinite(s) || fabs(s - 1) < 1e-3, "an attention row sums to 1");
        }
    }
    int rc = nlprnn_translate_batch(c, texts, lens, 4, &e);
    if (rc) check_fail(rc, &e, "batch");
    for (int i = 0; !rc && i < 4; i++) {
        size_t n = 0;
        const char *out = nlprnn_translate_batch_text(c, (size_t)i, &n);
        check(out != NULL && nr_utf8_check(out, n) == n, "a batch translation is valid UTF-8");
        check(lens[i] || n == 0, "an empty text translates to an empty text");
    }
    nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_BEAM, 3, NULL);
    rc = nlprnn_translate(c, texts[0], lens[0], &e);
    if (rc) check_fail(rc, &e, "beam");
    nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_BEAM, 1, NULL);
    nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_SAMPLE, 1, NULL);
    nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_TOP_K, 3, NULL);
    rc = nlprnn_translate(c, texts[3], lens[3], &e);
    if (rc) check_fail(rc, &e, "sample");
    nlprnn_translator_ctx_free(c);
}

/* ---- seeds --------------------------------------------------------------------------------- */

static void write_seed(const char *dir, const char *name, const char *const *kv) {
    char tsv[512], tmp[512], path[512];
    snprintf(tsv, sizeof tsv, "%s/%s.tsv", dir, name);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(tsv, "w");
    check(fp != NULL, "seed pairs");
    static const char *ko[] = {"가나", "다라", "마바", "사아"}, *en[] = {"cat", "dog", "sun", "red"};
    fprintf(fp, "ko\ten\n");
    for (int i = 0; i < 24; i++)
        fprintf(fp, "%s %s\t%s %s\n", ko[i % 4], ko[(i / 4) % 4], en[i % 4], en[(i / 4) % 4]);
    fclose(fp);
    nlprnn_error e;
    nlprnn_translator_params *p = NULL;
    check(nlprnn_translator_params_create(&p, &e) == 0, "seed params");
    static const char *base[] = {"src-vocab", "262", "tgt-vocab", "262", "embed", "1", "hidden", "1",
                                 "epochs", "1", "valid", "0", "joint", "1", "store", "f16", NULL};
    for (int i = 0; base[i]; i += 2) check(nlprnn_translator_params_set(p, base[i], base[i + 1], &e) == 0, "seed param");
    for (int i = 0; kv[i]; i += 2) check(nlprnn_translator_params_set(p, kv[i], kv[i + 1], &e) == 0, "seed param");
    nlprnn_translator *t = NULL;
    check(nlprnn_translator_train(tsv, p, NULL, NULL, NULL, &t, &e) == 0, "seed training");
    check(nlprnn_translator_save(t, tmp, &e) == 0, "seed save");
    nlprnn_translator_free(t);
    nlprnn_translator_params_free(p);
    check(rename(tmp, path) == 0, "seed rename");
    remove(tmp);
    remove(tsv);
    fprintf(stderr, "fuzz_translate_load: wrote seed %s\n", path);
}

/* ensemble.nrm: the two seeds as one ensemble file (they have the same joint tokenizer): the
 * first's sections, ENSM, and the second's CONF and WGHT as CF01 and WG01, every section zlib-
 * compressed where that is smaller, so the seed stays near the runs' 4096 bytes. */
static void write_ensemble_seed(const char *dir) {
    char pa[512], pb[512], pe[512];
    snprintf(pa, sizeof pa, "%s/lstm_general.nrm", dir);
    snprintf(pb, sizeof pb, "%s/gru_additive_tied.nrm", dir);
    snprintf(pe, sizeof pe, "%s/ensemble.nrm", dir);
    nlprnn_error e;
    nr_mf_reader *ra = NULL, *rb = NULL;
    nr_mf_writer *w = NULL;
    check(nr_mf_open_file(&ra, pa, NR_KIND_TRANSLATOR, &e) == 0 && nr_mf_open_file(&rb, pb, NR_KIND_TRANSLATOR, &e) == 0,
          "seed ensemble: open");
    check(nr_mf_writer_new(&w, NR_KIND_TRANSLATOR, &e) == 0, "seed ensemble: writer");
    for (size_t i = 0; i < nr_mf_section_count(ra); i++) {
        const nr_mf_section *sec = nr_mf_section_at(ra, i);
        check(nr_mf_add(w, sec->tag, sec->content, sec->data, (size_t)sec->raw_len, 1, &e) == 0, "seed ensemble: add");
    }
    static const char ens[] = "members=2\n";
    check(nr_mf_add(w, "ENSM", NR_MF_CONFIG, ens, sizeof ens - 1, 0, &e) == 0, "seed ensemble: ENSM");
    const nr_mf_section *c = nr_mf_find(rb, "CONF"), *wg = nr_mf_find(rb, "WGHT");
    check(c && wg, "seed ensemble: sections");
    check(nr_mf_add(w, "CF01", c->content, c->data, (size_t)c->raw_len, 1, &e) == 0 &&
              nr_mf_add(w, "WG01", wg->content, wg->data, (size_t)wg->raw_len, 1, &e) == 0,
          "seed ensemble: member 2");
    check(nr_mf_writer_save(w, pe, &e) == 0, "seed ensemble: save");
    nr_mf_writer_free(w);
    nr_mf_close(ra);
    nr_mf_close(rb);
    nlprnn_translator *t = NULL;
    check(nlprnn_translator_load(pe, &t, &e) == 0 && nlprnn_translator_members(t) == 2, "seed ensemble: loads");
    nlprnn_translator_free(t);
    fprintf(stderr, "fuzz_translate_load: wrote seed %s\n", pe);
}

/* lstm_general_int8.nrm: lstm_general.nrm saved by the library with store=int8, then its sections
 * zlib-compressed where that is smaller (the same version-2 file otherwise). */
static void write_int8_seed(const char *dir) {
    char pa[512], tmp[512], pe[512];
    snprintf(pa, sizeof pa, "%s/lstm_general.nrm", dir);
    snprintf(tmp, sizeof tmp, "%s/lstm_general_int8.tmp", dir);
    snprintf(pe, sizeof pe, "%s/lstm_general_int8.nrm", dir);
    nlprnn_error e;
    nlprnn_translator *t = NULL;
    check(nlprnn_translator_load(pa, &t, &e) == 0 && nlprnn_translator_save_stored(t, tmp, "int8", &e) == 0,
          "seed int8: save");
    nlprnn_translator_free(t);
    nr_mf_reader *r = NULL;
    nr_mf_writer *w = NULL;
    check(nr_mf_open_file(&r, tmp, NR_KIND_TRANSLATOR, &e) == 0 && nr_mf_version(r) == 2, "seed int8: open");
    check(nr_mf_writer_new(&w, NR_KIND_TRANSLATOR, &e) == 0 && nr_mf_writer_set_version(w, 2, &e) == 0,
          "seed int8: writer");
    for (size_t i = 0; i < nr_mf_section_count(r); i++) {
        const nr_mf_section *sec = nr_mf_section_at(r, i);
        check(nr_mf_add(w, sec->tag, sec->content, sec->data, (size_t)sec->raw_len, 1, &e) == 0, "seed int8: add");
    }
    check(nr_mf_writer_save(w, pe, &e) == 0, "seed int8: write");
    nr_mf_writer_free(w);
    nr_mf_close(r);
    remove(tmp);
    t = NULL;
    check(nlprnn_translator_load(pe, &t, &e) == 0, "seed int8: loads");
    nlprnn_translator_free(t);
    fprintf(stderr, "fuzz_translate_load: wrote seed %s\n", pe);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *dir = getenv("NLPRNN_FUZZ_WRITE_SEEDS");
    if (dir && *dir) {
        static const char *a[] = {"cell", "lstm", "attention", "general", "emb-dropout", "0.1", "tied", "1", NULL};
        static const char *b[] = {"cell", "gru", "attention", "additive", "tied", "1", "bidirectional", "0", NULL};
        write_seed(dir, "lstm_general.nrm", a);
        write_seed(dir, "gru_additive_tied.nrm", b);
        write_ensemble_seed(dir);
        write_int8_seed(dir);
    }
    const char *idir = getenv("NLPRNN_FUZZ_WRITE_INT8"); /* only lstm_general_int8.nrm, from the seed there */
    if (idir && *idir) write_int8_seed(idir);
    const char *edir = getenv("NLPRNN_FUZZ_WRITE_ENSEMBLE"); /* only ensemble.nrm, from the seeds there */
    if (edir && *edir) write_ensemble_seed(edir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *copy = NULL;
    nlprnn_error e;
    nr_mf_reader *r = fuzz_open_resealed(data, size, NR_KIND_TRANSLATOR, &copy, &e);
    if (r) {
        nlprnn_translator *t = (nlprnn_translator *)&t;
        int rc = nr_translator_load_reader(r, &t, &e);
        if (rc) {
            check(e.code == rc && e.message[0] && t == NULL, "a failed load has a message");
        } else {
            check(t != NULL, "a load gives a model");
            exercise(t);
            nlprnn_translator_free(t);
        }
        nr_mf_close(r);
    }
    free(copy);
    return 0;
}
