/* tests/fuzz/fuzz_tag_load.c: libFuzzer target for the tagger loader (nr_tagger_load_reader, what
 * nlprnn_tagger_load runs after opening the file: CONF through the parameter table, the UNIT and
 * LABL strings, the weight count and values, and for a packed ensemble ENSM and each member's
 * CFkk/WGkk) and, when a model loads, for spacing (one text, a batch, --keep-spaces hints, text
 * longer than a window, bad UTF-8) or tagging tokens with it.
 *
 * The input is a model file of kind TAGR, re-sealed first (tests/fuzz/reseal.h: every CRC
 * recomputed), so mutations reach the parsers and checks.
 *
 * Seeds: tiny taggers trained by the harness on made-up data, saved as the library saves them:
 * a spacing model, a token tagger, and two spacing models of the same text packed as one
 * ensemble (nlprnn_tagger_load_ensemble + nlprnn_tagger_save, what `nlprnn space-pack` does), and
 * conv.nrm, a spacing model with the convolution in front packed with the plain one:
 *     NLPRNN_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/fuzz_tag_load build-fuzz/tests/fuzz/fuzz_tag_load -runs=0
 *
 * Invariants (a violation aborts): a failed load returns a status with a message and no model;
 * a loaded model has 1..32 members and a summary; a spacing model respaces valid UTF-8 into
 * valid UTF-8 that is the input without its white space plus single spaces (with hints: every
 * input space kept), the per-unit space flags agree with the text, finite probabilities lie in
 * [0, 1], a batch gives the same texts' status, invalid UTF-8 is NLPRNN_E_UTF8; a token tagger
 * gives label ids in range. Any other failure must carry a message and never be
 * NLPRNN_E_INVALID_ARG on valid arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "format/modelfile.h"
#include "nlprnn.h"
#include "reseal.h"
#include "tasks/tag/tagger.h"

static void check(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_tag_load: invariant violated: %s\n", what);
        abort();
    }
}

static void check_fail(int rc, const nlprnn_error *e, const char *what) {
    check(rc != NLPRNN_E_INVALID_ARG && e->code == rc && e->message[0], what);
}

/* in without its white space (' ', '\t') equals out without its spaces; out has no double,
 * leading or trailing space; keep: every space of in (single spaces) is in out. */
static void check_respaced(const char *in, size_t n_in, const char *out, size_t n_out, int keep) {
    char *a = malloc(n_in + 1), *b = malloc(n_out + 1);
    check(a && b, "memory");
    size_t na = 0, nb = 0, spaces_in = 0, spaces_out = 0;
    for (size_t i = 0; i < n_in; i++)
        if (in[i] != ' ' && in[i] != '\t') a[na++] = in[i];
        else spaces_in++;
    for (size_t i = 0; i < n_out; i++) {
        if (out[i] != ' ') {
            b[nb++] = out[i];
            continue;
        }
        spaces_out++;
        check(i > 0 && i + 1 < n_out && out[i + 1] != ' ', "single spaces between characters");
    }
    check(na == nb && !memcmp(a, b, na), "the respaced text is the input's characters");
    if (keep) check(spaces_out >= spaces_in, "hints: the input's spaces are kept");
    free(a);
    free(b);
}

/* Text i of the last call: the unit flags agree with the text, probabilities in [0, 1]. */
static void check_units(const nlprnn_tagger_ctx *c, size_t i, const char *out, size_t n_out) {
    size_t U = nlprnn_space_units(c, i), spaces = 0, prev = 0;
    for (size_t k = 0; k < n_out; k++) spaces += out[k] == ' ';
    size_t flagged = 0;
    for (size_t j = 0; j < U; j++) {
        size_t end = 0;
        float p = 0;
        int sp = 0;
        nlprnn_error e;
        check(nlprnn_space_unit(c, i, j, &end, &p, &sp, &e) == 0, "space_unit in range");
        check(end > prev && end <= n_out, "unit ends increase within the text");
        check(!isfinite(p) || (p >= 0 && p <= 1), "a probability of a space lies in [0, 1]");
        check(!sp || (end < n_out && out[end] == ' '), "a flagged space is in the text");
        check(j + 1 < U || !sp, "no space after the last unit");
        flagged += sp != 0;
        prev = end;
    }
    check(flagged == spaces, "the flags count the text's spaces");
    nlprnn_error e;
    size_t end;
    float p;
    int sp;
    check(nlprnn_space_unit(c, i, U, &end, &p, &sp, &e) == NLPRNN_E_INVALID_ARG, "unit U is out of range");
}

static void exercise_space(nlprnn_tagger_ctx *c) {
    char longer[700];
    size_t m = 0;
    static const char chunk[] = "가나다 ";
    while (m + sizeof chunk < sizeof longer) { /* over 128 units: several windows of the default max-len */
        memcpy(longer + m, chunk, sizeof chunk - 1);
        m += sizeof chunk - 1;
    }
    longer[m - 1] = 0; /* no trailing space */
    const char *texts[] = {"가나다라마바사", "가나 다라\t마바", "", "the cat 가나", longer};
    size_t lens[5];
    for (int i = 0; i < 5; i++) lens[i] = strlen(texts[i]);
    nlprnn_error e;
    for (int keep = 0; keep <= 1; keep++) {
        unsigned flags = keep ? NLPRNN_SPACE_KEEP : 0;
        for (int i = 0; i < 5; i++) {
            int rc = nlprnn_space(c, texts[i], lens[i], flags, &e);
            if (rc) {
                check_fail(rc, &e, "space");
                continue;
            }
            size_t n = 0;
            const char *out = nlprnn_space_text(c, 0, &n);
            check(out && nr_utf8_check(out, n) == n && strlen(out) == n, "the respaced text is valid UTF-8");
            check_respaced(texts[i], lens[i], out, n, keep);
            check_units(c, 0, out, n);
        }
        int status[5];
        int rc = nlprnn_space_batch(c, texts, lens, 5, flags, status, &e);
        if (rc) {
            check_fail(rc, &e, "batch");
            continue;
        }
        for (size_t i = 0; i < 5; i++) {
            check(status[i] == 0, "a batch of valid texts");
            size_t n = 0;
            const char *out = nlprnn_space_text(c, i, &n);
            check(out && nr_utf8_check(out, n) == n, "a batch text is valid UTF-8");
            check_respaced(texts[i], lens[i], out, n, keep);
            check_units(c, i, out, n);
        }
    }
    static const char bad[] = "가나\xff다";
    int rc = nlprnn_space(c, bad, sizeof bad - 1, 0, &e);
    check(rc == NLPRNN_E_UTF8 && e.code == rc && e.message[0], "invalid UTF-8 is NLPRNN_E_UTF8");
}

static void exercise_tag(nlprnn_tagger_ctx *c, int n_labels) {
    static const char *tokens[] = {"the", "cat", "가나", "never-seen", ""};
    int labels[5];
    float probs[5];
    nlprnn_error e;
    int rc = nlprnn_tag(c, tokens, 5, labels, probs, &e);
    if (rc) {
        check_fail(rc, &e, "tag");
        return;
    }
    for (int i = 0; i < 5; i++) {
        check(labels[i] >= 0 && labels[i] < n_labels, "a label id in range");
        check(!isfinite(probs[i]) || (probs[i] >= 0 && probs[i] <= 1 + 1e-6), "a label probability in [0, 1]");
    }
}

static void exercise(const nlprnn_tagger *t) {
    int members = nlprnn_tagger_members(t);
    check(members >= 1 && members <= NR_TAG_MAX_ENS, "1..32 members");
    check(nlprnn_tagger_summary(t)[0] != 0, "a summary");
    int L = nlprnn_tagger_num_labels(t);
    check(L >= 2 && nlprnn_tagger_label(t, 0) && !nlprnn_tagger_label(t, L), "labels");
    nlprnn_tagger_ctx *c = NULL;
    nlprnn_error e;
    int rc = nlprnn_tagger_ctx_create(t, 1, &c, &e);
    if (rc) { /* out of memory, or a resource limit: never a bad argument */
        check_fail(rc, &e, "context");
        return;
    }
    if (nlprnn_tagger_is_spacing(t)) exercise_space(c);
    else exercise_tag(c, L);
    nlprnn_tagger_ctx_free(c);
}

/* ---- seeds --------------------------------------------------------------------------------- */

/* A tiny tagger of `format` trained with `seed` on made-up data drawn from data_seed, with the
 * convolution of width `conv` ("0": none) in front, saved as dir/name. */
static void write_seed(const char *dir, const char *name, const char *format, const char *seed, int data_seed,
                       const char *conv) {
    char data[512], path[512];
    snprintf(data, sizeof data, "%s/%s.txt", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(data, "w");
    check(fp != NULL, "seed data");
    static const char *lex[] = {"가나", "다라요", "마바", "사고"}, *words[] = {"the", "cat", "sees", "a"};
    unsigned r = (unsigned)data_seed;
    for (int k = 0; k < 40; k++) {
        int n = 2 + (int)((r = r * 1103515245u + 12345u) >> 16) % 4;
        for (int i = 0; i < n; i++) {
            int w = (int)((r = r * 1103515245u + 12345u) >> 16) % 4;
            if (!strcmp(format, "spacing")) fprintf(fp, "%s%s", i ? " " : "", lex[w]);
            else fprintf(fp, "%s\t%s\n", words[w], w == 1 ? "N" : "X");
        }
        fputc('\n', fp);
    }
    fclose(fp);
    nlprnn_error e;
    nlprnn_tagger_params *p = NULL;
    check(nlprnn_tagger_params_create(&p, &e) == 0, "seed params");
    const char *set[][2] = {{"format", format}, {"embed", "3"},     {"hidden", "3"},  {"layers", "1"},
                            {"epochs", "1"},    {"batch", "8"},     {"valid", "0"},   {"min-count", "1"},
                            {"max-len", "16"},  {"hints", "0.5"},   {"seed", seed},   {"conv", conv},
                            {"conv-channels", "2"}};
    for (size_t i = 0; i < sizeof set / sizeof *set; i++)
        check(nlprnn_tagger_params_set(p, set[i][0], set[i][1], &e) == 0, "seed param");
    nlprnn_tagger *t = NULL;
    const char *paths[] = {data};
    check(nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &t, &e) == 0, "seed training");
    check(nlprnn_tagger_save(t, path, &e) == 0, "seed save");
    nlprnn_tagger_free(t);
    nlprnn_tagger_params_free(p);
    remove(data);
    fprintf(stderr, "fuzz_tag_load: wrote seed %s\n", path);
}

/* ensemble.nrm: two spacing seeds of the same text (so the same units) packed as one file. */
static void write_ensemble_seed(const char *dir) {
    char pa[512], pb[512], pe[512];
    snprintf(pa, sizeof pa, "%s/spacing.nrm", dir);
    snprintf(pb, sizeof pb, "%s/spacing2.nrm", dir);
    snprintf(pe, sizeof pe, "%s/ensemble.nrm", dir);
    write_seed(dir, "spacing2.nrm", "spacing", "2", 1, "0");
    const char *paths[] = {pa, pb};
    nlprnn_tagger *t = NULL;
    nlprnn_error e;
    check(nlprnn_tagger_load_ensemble(paths, 2, &t, &e) == 0, "seed ensemble: load");
    check(nlprnn_tagger_save(t, pe, &e) == 0, "seed ensemble: save");
    nlprnn_tagger_free(t);
    remove(pb);
    check(nlprnn_tagger_load(pe, &t, &e) == 0 && nlprnn_tagger_members(t) == 2, "seed ensemble: loads");
    nlprnn_tagger_free(t);
    fprintf(stderr, "fuzz_tag_load: wrote seed %s\n", pe);
}

/* conv.nrm: a spacing model with the convolution in front (width 3, 2 filters; CONF keys conv and
 * conv-channels, Wc and bc in WGHT), packed with the plain spacing.nrm as a 2-member ensemble so
 * that a member with and one without the convolution load from one file. */
static void write_conv_seed(const char *dir) {
    char pa[512], pc[512], pe[512];
    snprintf(pa, sizeof pa, "%s/spacing.nrm", dir);
    snprintf(pc, sizeof pc, "%s/conv1.nrm", dir);
    snprintf(pe, sizeof pe, "%s/conv.nrm", dir);
    write_seed(dir, "conv1.nrm", "spacing", "3", 1, "3");
    const char *paths[] = {pc, pa};
    nlprnn_tagger *t = NULL;
    nlprnn_error e;
    check(nlprnn_tagger_load_ensemble(paths, 2, &t, &e) == 0, "seed conv: load");
    check(strstr(nlprnn_tagger_summary(t), "+ conv 3 x 2") != NULL, "seed conv: summary");
    check(nlprnn_tagger_save(t, pe, &e) == 0, "seed conv: save");
    nlprnn_tagger_free(t);
    remove(pc);
    fprintf(stderr, "fuzz_tag_load: wrote seed %s\n", pe);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *dir = getenv("NLPRNN_FUZZ_WRITE_SEEDS");
    if (dir && *dir) {
        write_seed(dir, "spacing.nrm", "spacing", "1", 1, "0");
        write_seed(dir, "tagged.nrm", "tagged", "1", 2, "0");
        write_ensemble_seed(dir);
        write_conv_seed(dir);
        char pa[512], ph[512]; /* spacing16.nrm: spacing.nrm with its weights stored as float16 */
        snprintf(pa, sizeof pa, "%s/spacing.nrm", dir);
        snprintf(ph, sizeof ph, "%s/spacing16.nrm", dir);
        nlprnn_tagger *t = NULL;
        nlprnn_error e;
        check(nlprnn_tagger_load(pa, &t, &e) == 0 && nlprnn_tagger_save_stored(t, ph, "f16", &e) == 0, "seed f16");
        nlprnn_tagger_free(t);
        fprintf(stderr, "fuzz_tag_load: wrote seed %s\n", ph);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *copy = NULL;
    nlprnn_error e;
    nr_mf_reader *r = fuzz_open_resealed(data, size, NR_KIND_TAGGER, &copy, &e);
    if (r) {
        nlprnn_tagger *t = (nlprnn_tagger *)&t;
        int rc = nr_tagger_load_reader(r, &t, &e);
        if (rc) {
            check(e.code == rc && e.message[0] && t == NULL, "a failed load has a message");
        } else {
            check(t != NULL, "a load gives a model");
            exercise(t);
            nlprnn_tagger_free(t);
        }
        nr_mf_close(r);
    }
    free(copy);
    return 0;
}
