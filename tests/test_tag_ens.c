/* tests/test_tag_ens.c: ensembles of taggers (nlprnn/tagger.h nlprnn_tagger_load_ensemble, packed
 * files, nlprnn space -m A -m B, space-pack).
 *
 * Two tiny spacing models A and B (seeds 1 and 2, the same text so the same units), C (another
 * lexicon, so other units) and two tiny token taggers TA and TB (seeds 1 and 2) are trained here:
 *   - an ensemble of one model is the model: the same texts and probabilities, bit for bit, with
 *     and without --keep-spaces hints, over texts longer than a window;
 *   - A with itself is A (the mean of p and p is p);
 *   - A with B: every probability is the mean of A's and B's computed separately (within 1e-6), a
 *     space exactly where that mean is above 0.5 (or a kept space), and A and B do differ (so the
 *     checks above can fail);
 *   - TA with TB (nlprnn_tag): label = argmax of the mean of the two label distributions, each
 *     computed here from the network alone, and probability = that mean (within 1e-6);
 *   - other units (C) and another kind (a token tagger with a spacing model) are refused naming
 *     the file;
 *   - a packed file (nlprnn_tagger_save of an ensemble) loads back with the -m A -m B results bit
 *     for bit, a pack of a pack flattens; truncated, corrupt and inconsistent packed files are
 *     refused naming the file and the section or byte;
 *   - float16 storage (nlprnn_tagger_save_stored, the parameter store): every weight of A saved as
 *     f16 within float16 rounding (relative 2^-11) of A's, the probabilities within 0.01, the file
 *     smaller; training with store=f16 writes that file byte for byte; keep keeps f16, f32 widens;
 *     a mixed pack (f16 A, f32 B) keeps each member's storage; int8 is refused;
 *   - ema (averaged weights, train/trainer.h): A trained with ema 0.9 is another model, with "ema"
 *     in its CONF (A, without it, has no such key); 1 and NaN refused;
 *   - the program: space -m A -m B = space -m AB.nrm, space-pack (--store f16|keep|int8), tag -m
 *     TA -m TB, exit codes.
 * Needs the program ($NLPRNN_CLI) for the last part. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
#include "tasks/tag/tagger.h"
#include "testutil.h"


static const char *const LEX[] = {"가나다", "라마요", "바사고", "아자차다", "카타요", "파하고", "나라다", "마바사요"};
static const char *const LEX2[] = {"너더러", "머버요", "서어고", "저처커다", "터퍼요", "허노고", "도로다", "모보소요"};
static const char *const WORDS[] = {"the", "cat", "dog", "runs", "sees", "a", "big", "red"};

/* 300 spaced sentences of 2..7 words of lex. */
static void write_spaced(const char *name, const char *const *lex, uint64_t seed) {
    FILE *fp = fopen(nr_test_scratch(name), "w");
    nr_rng r;
    nr_rng_seed(&r, seed);
    for (int k = 0; k < 300; k++) {
        int n = 2 + (int)nr_rng_below(&r, 6);
        for (int i = 0; i < n; i++) fprintf(fp, "%s%s", i ? " " : "", lex[nr_rng_below(&r, 8)]);
        fputc('\n', fp);
    }
    fclose(fp);
}

/* token<TAB>label sentences: a label that needs the next token. */
static void write_tagged(const char *name, uint64_t seed) {
    FILE *fp = fopen(nr_test_scratch(name), "w");
    nr_rng r;
    nr_rng_seed(&r, seed);
    for (int k = 0; k < 300; k++) {
        int s[10], n = 3 + (int)nr_rng_below(&r, 7);
        for (int i = 0; i < n; i++) s[i] = (int)nr_rng_below(&r, 8);
        for (int i = 0; i < n; i++)
            fprintf(fp, "%s\t%s\n", WORDS[s[i]], s[i] == 1 || s[i] == 2 ? "N" : i + 1 < n && s[i + 1] < 3 ? "D" : "X");
        fputc('\n', fp);
    }
    fclose(fp);
}

static const char *g_store = "f32"; /* the parameter store of train() */
static const char *g_ema = "0";     /* the ema of train() */

static void train(const char *data, const char *format, const char *seed, const char *out) {
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    nlprnn_error err;
    const char *set[][2] = {{"format", format}, {"embed", "16"}, {"hidden", "16"}, {"layers", "1"},
                            {"epochs", "3"},    {"batch", "16"}, {"lr", "0.01"},   {"min-lr", "0.001"},
                            {"min-count", "1"}, {"max-len", "24"}, {"hints", "0.5"}, {"dropout", "0"},
                            {"seed", seed}, {"store", g_store}, {"ema", g_ema}};
    for (size_t i = 0; i < sizeof set / sizeof *set; i++) CHECK(nlprnn_tagger_params_set(p, set[i][0], set[i][1], &err) == 0);
    nlprnn_tagger *t = NULL;
    const char *paths[] = {nr_test_scratch(data)};
    int rc = nlprnn_tagger_train(paths, 1, p, NULL, NULL, NULL, &t, &err);
    CHECK_MSG(rc == 0, "train: %s", err.message);
    if (!rc) CHECK_MSG(nlprnn_tagger_save(t, nr_test_scratch(out), &err) == 0, "%s", err.message);
    nlprnn_tagger_free(t);
    nlprnn_tagger_params_free(p);
}

static nlprnn_tagger *load(const char *a, const char *b, const char *c) {
    const char *paths[3] = {nr_test_scratch(a), b ? nr_test_scratch(b) : NULL, c ? nr_test_scratch(c) : NULL};
    size_t n = c ? 3 : b ? 2 : 1;
    nlprnn_tagger *t = NULL;
    nlprnn_error err;
    CHECK_MSG(nlprnn_tagger_load_ensemble(paths, n, &t, &err) == 0, "%s", err.message);
    return t;
}

/* Texts: short ones, one without spaces longer than two windows, partly spaced ones. */
#define NT 5
static const char *const TEXTS[NT] = {
    "가나다라마요", "바사고아자차다카타요파하고나라다마바사요가나다라마요바사고아자차다카타요파하고나라다마바사요가나다",
    "가나다 라마요바사고", "아자차다카타요 파하고나라다", "나"};

typedef struct spaced {
    char text[NT][600];
    float p[NT][200];
    int sp[NT][200];
    size_t n[NT];
} spaced;

static void space_all(const nlprnn_tagger *t, unsigned flags, spaced *o) {
    nlprnn_tagger_ctx *c = NULL;
    nlprnn_error err;
    memset(o, 0, sizeof *o);
    CHECK_MSG(nlprnn_tagger_ctx_create(t, 1, &c, &err) == 0, "%s", err.message);
    size_t lens[NT];
    int st[NT];
    for (int i = 0; i < NT; i++) lens[i] = strlen(TEXTS[i]);
    CHECK_MSG(c && nlprnn_space_batch(c, TEXTS, lens, NT, flags, st, &err) == 0, "%s", err.message);
    for (int i = 0; c && i < NT; i++) {
        CHECK_INT_EQ(st[i], 0);
        snprintf(o->text[i], sizeof o->text[i], "%s", nlprnn_space_text(c, (size_t)i, NULL));
        o->n[i] = nlprnn_space_units(c, (size_t)i);
        for (size_t j = 0; j < o->n[i] && j < 200; j++)
            nlprnn_space_unit(c, (size_t)i, j, NULL, &o->p[i][j], &o->sp[i][j], NULL);
    }
    nlprnn_tagger_ctx_free(c);
}

static int same_bits(const spaced *a, const spaced *b) {
    for (int i = 0; i < NT; i++)
        if (strcmp(a->text[i], b->text[i]) || a->n[i] != b->n[i] || memcmp(a->p[i], b->p[i], sizeof a->p[i]))
            return 0;
    return 1;
}

static void test_spacing(void) {
    nlprnn_tagger *A = load("A.nrm", NULL, NULL), *B = load("B.nrm", NULL, NULL), *AA = load("A.nrm", "A.nrm", NULL),
                  *AB = load("A.nrm", "B.nrm", NULL), *A1 = NULL;
    nlprnn_error err;
    CHECK_INT_EQ(nlprnn_tagger_load(nr_test_scratch("A.nrm"), &A1, &err), 0);
    if (!A || !B || !AA || !AB || !A1) goto done;
    CHECK_INT_EQ(nlprnn_tagger_members(A), 1);
    CHECK_INT_EQ(nlprnn_tagger_members(AB), 2);
    CHECK(strstr(nlprnn_tagger_summary(AB), "ensemble of 2") != NULL);
    CHECK(strstr(nlprnn_tagger_summary(A), "ensemble") == NULL);
    static spaced a, b, aa, ab, a1;
    for (unsigned flags = 0; flags <= NLPRNN_SPACE_KEEP; flags++) {
        space_all(A1, flags, &a1);
        space_all(A, flags, &a);
        space_all(B, flags, &b);
        space_all(AA, flags, &aa);
        space_all(AB, flags, &ab);
        CHECK_MSG(same_bits(&a, &a1), "flags %u: an ensemble of one differs from the model", flags);
        CHECK_MSG(same_bits(&aa, &a), "flags %u: A with A differs from A", flags);
        CHECK(a.n[1] > 48); /* more than two windows of 24 */
        double dmax = 0, emax = 0;
        int wrong = 0;
        for (int i = 0; i < NT; i++) {
            CHECK_INT_EQ((int)ab.n[i], (int)a.n[i]);
            for (size_t j = 0; j < ab.n[i]; j++) {
                double mean = ((double)a.p[i][j] + (double)b.p[i][j]) / 2;
                dmax = fmax(dmax, fabs((double)a.p[i][j] - (double)b.p[i][j]));
                emax = fmax(emax, fabs((double)ab.p[i][j] - mean));
                int hint = 0; /* a kept space of the input after unit j */
                if (flags) {
                    const char *s = TEXTS[i];
                    size_t u = 0;
                    for (size_t k = 0; s[k]; k++) {
                        if (s[k] == ' ') continue;
                        if (((unsigned char)s[k] & 0xC0) != 0x80 && u++ == j) {
                            size_t e = k + 1;
                            while (((unsigned char)s[e] & 0xC0) == 0x80) e++;
                            hint = s[e] == ' ';
                            break;
                        }
                    }
                }
                int want = j + 1 < ab.n[i] && (ab.p[i][j] > 0.5f || hint);
                wrong += ab.sp[i][j] != want;
            }
        }
        printf("flags %u: A and B differ by up to %.4f, the ensemble is their mean within %.2g; %d decisions "
               "off the rule\n", flags, dmax, emax, wrong);
        CHECK_MSG(dmax > 1e-3, "A and B are the same (%g): the test cannot fail", dmax);
        CHECK_MSG(emax <= 1e-6, "the ensemble's probabilities are not the mean: off by %g", emax);
        CHECK_INT_EQ(wrong, 0);
    }
    /* the packed file: one model's size plus the second member's weights (units stored once) */
    CHECK_MSG(nlprnn_tagger_save(AB, nr_test_scratch("AB.nrm"), &err) == 0, "%s", err.message);
    nlprnn_tagger *P = NULL;
    CHECK_MSG(nlprnn_tagger_load(nr_test_scratch("AB.nrm"), &P, &err) == 0, "%s", err.message);
    if (P) {
        CHECK_INT_EQ(nlprnn_tagger_members(P), 2);
        static spaced p;
        for (unsigned flags = 0; flags <= NLPRNN_SPACE_KEEP; flags++) {
            space_all(AB, flags, &ab);
            space_all(P, flags, &p);
            CHECK_MSG(same_bits(&p, &ab), "flags %u: the packed file differs from -m A -m B", flags);
        }
        nlprnn_tagger_free(P);
    }
    nlprnn_tagger *F = load("AB.nrm", "A.nrm", NULL);
    if (F) CHECK_INT_EQ(nlprnn_tagger_members(F), 3);
    nlprnn_tagger_free(F);
    FILE *fa = fopen(nr_test_scratch("A.nrm"), "rb"), *fp = fopen(nr_test_scratch("AB.nrm"), "rb");
    fseek(fa, 0, SEEK_END), fseek(fp, 0, SEEK_END);
    long na = ftell(fa), np = ftell(fp);
    fclose(fa), fclose(fp);
    long weights = (long)B->net.n_params * 4;
    CHECK_MSG(np < na + weights + 1024, "packed %ld bytes, one model %ld, weights %ld", np, na, weights);

    /* bad packed files */
    nlprnn_tagger *t = NULL;
    CHECK_INT_EQ(nr_test_run(NULL, "head -c %ld %s > %s", np - 200, nr_test_scratch("AB.nrm"), nr_test_scratch("cut.nrm")), 0);
    int rc = nlprnn_tagger_load(nr_test_scratch("cut.nrm"), &t, &err);
    CHECK_MSG(rc == NLPRNN_E_TRUNCATED && strstr(err.message, "cut.nrm") && strstr(err.message, "WG01") &&
                  strstr(err.message, "byte"),
              "%s: %s", nlprnn_status_name(rc), err.message);
    CHECK(t == NULL);
    CHECK_INT_EQ(nr_test_run(NULL, "cp %s %s && printf '\\377' | dd of=%s bs=1 seek=%ld conv=notrunc 2>/dev/null",
                             nr_test_scratch("AB.nrm"), nr_test_scratch("flip.nrm"), nr_test_scratch("flip.nrm"), np - 1000), 0);
    rc = nlprnn_tagger_load(nr_test_scratch("flip.nrm"), &t, &err);
    CHECK_MSG(rc == NLPRNN_E_CHECKSUM && strstr(err.message, "flip.nrm"), "%s: %s", nlprnn_status_name(rc), err.message);
    CHECK(t == NULL);
done:
    nlprnn_tagger_free(A), nlprnn_tagger_free(B), nlprnn_tagger_free(AA), nlprnn_tagger_free(AB),
        nlprnn_tagger_free(A1);
}

/* The label distributions of one tagger for tokens (n < its max-len), from the network itself. */
static void dists(const nlprnn_tagger *t, const char *const *tok, int n, float *out /* (n, C) */) {
    nr_tag_scratch sc;
    CHECK_INT_EQ(nr_tag_scratch_init(&sc, &t->net, n, 1, 0, 1, NULL), 0);
    for (int i = 0; i < n; i++) {
        int id = nr_label_map_find(&t->units, tok[i], strlen(tok[i]));
        sc.ids[i] = id < 0 ? NR_UNIT_UNK : id;
        sc.hints[i] = NR_HINT_NONE;
    }
    sc.len[0] = n;
    CHECK_INT_EQ(nr_tag_forward(&sc, &t->net, n, 1, NULL, NULL), 0);
    nr_tag_probs(&sc, &t->net, n, 1);
    memcpy(out, sc.logits, (size_t)n * (size_t)t->net.C * sizeof *out);
    nr_tag_scratch_free(&sc);
}

static void test_tag(void) {
    nlprnn_tagger *A = load("TA.nrm", NULL, NULL), *B = load("TB.nrm", NULL, NULL), *AB = load("TA.nrm", "TB.nrm", NULL);
    nlprnn_tagger_ctx *c = NULL;
    if (!A || !B || !AB || nlprnn_tagger_ctx_create(AB, 1, &c, NULL)) goto done;
    static const char *const tok[] = {"the", "big", "cat", "sees", "a", "red", "dog", "zebra", "runs"};
    enum { N = 9 };
    int C = A->net.C, lab[N];
    float pa[N * 8], pb[N * 8], pr[N];
    CHECK(C <= 8);
    dists(A, tok, N, pa);
    dists(B, tok, N, pb);
    nlprnn_error err;
    CHECK_MSG(nlprnn_tag(c, tok, N, lab, pr, &err) == 0, "%s", err.message);
    double emax = 0, dmax = 0;
    int wrong = 0;
    for (int i = 0; i < N; i++) {
        int best = 0;
        float m[8];
        for (int k = 0; k < C; k++) {
            m[k] = (pa[i * C + k] + pb[i * C + k]) / 2;
            dmax = fmax(dmax, fabs((double)pa[i * C + k] - (double)pb[i * C + k]));
            if (m[k] > m[best]) best = k;
        }
        wrong += lab[i] != best;
        emax = fmax(emax, fabs((double)pr[i] - (double)m[best]));
    }
    printf("tag: TA and TB differ by up to %.4f; the ensemble's probability is the mean within %.2g, %d labels "
           "not the mean's argmax\n", dmax, emax, wrong);
    CHECK(dmax > 1e-3);
    CHECK(emax <= 1e-6);
    CHECK_INT_EQ(wrong, 0);
done:
    nlprnn_tagger_ctx_free(c);
    nlprnn_tagger_free(A), nlprnn_tagger_free(B), nlprnn_tagger_free(AB);
}

static void test_mismatch(void) {
    nlprnn_tagger *t = NULL;
    nlprnn_error err;
    const char *ac[] = {nr_test_scratch("A.nrm"), nr_test_scratch("C.nrm")};
    int rc = nlprnn_tagger_load_ensemble(ac, 2, &t, &err);
    CHECK_MSG(rc == NLPRNN_E_UNSUPPORTED && strstr(err.message, "C.nrm") && strstr(err.message, "units"), "%s: %s",
              nlprnn_status_name(rc), err.message);
    CHECK(t == NULL);
    const char *at[] = {nr_test_scratch("A.nrm"), nr_test_scratch("TA.nrm")};
    rc = nlprnn_tagger_load_ensemble(at, 2, &t, &err);
    CHECK_MSG(rc == NLPRNN_E_UNSUPPORTED && strstr(err.message, "TA.nrm"), "%s: %s", nlprnn_status_name(rc),
              err.message);
    CHECK(t == NULL);
    const char *missing[] = {nr_test_scratch("A.nrm"), nr_test_scratch("nothere.nrm")};
    rc = nlprnn_tagger_load_ensemble(missing, 2, &t, &err);
    CHECK_MSG(rc != 0 && strstr(err.message, "nothere.nrm"), "%s: %s", nlprnn_status_name(rc), err.message);
    CHECK_INT_EQ(nlprnn_tagger_load_ensemble(missing, 0, &t, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_tagger_members(NULL), 0);
}

static long file_size(const char *name) {
    FILE *fp = fopen(nr_test_scratch(name), "rb");
    long n = -1;
    if (fp && fseek(fp, 0, SEEK_END) == 0) n = ftell(fp);
    if (fp) fclose(fp);
    return n;
}

/* 1 when the scratch files a and b have the same bytes. */
static int same_file(const char *a, const char *b) {
    char pa[1024];
    snprintf(pa, sizeof pa, "%s", nr_test_scratch(a));
    return nr_test_run(NULL, "cmp -s %s %s", pa, nr_test_scratch(b)) == 0;
}

static void save_stored(const nlprnn_tagger *t, const char *name, const char *store) {
    nlprnn_error err;
    CHECK_MSG(nlprnn_tagger_save_stored(t, nr_test_scratch(name), store, &err) == 0, "%s: %s", name, err.message);
}

static void test_ema(void) {
    write_spaced("spaced-ema.txt", LEX, 11);
    train("spaced-ema.txt", "spacing", "1", "noema.nrm");
    g_ema = "0.9";
    train("spaced-ema.txt", "spacing", "1", "ema.nrm");
    g_ema = "0";
    CHECK(!same_file("noema.nrm", "ema.nrm"));
    char *d = NULL;
    nlprnn_error err;
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("ema.nrm"), &d, &err), 0);
    CHECK_MSG(d && strstr(d, "ema = 0.9"), "%.500s", d ? d : err.message);
    nlprnn_free(d);
    CHECK_INT_EQ(nlprnn_model_file_describe(nr_test_scratch("noema.nrm"), &d, &err), 0);
    CHECK(d && !strstr(d, "ema ="));
    nlprnn_free(d);
    nlprnn_tagger *t = load("ema.nrm", NULL, NULL);
    CHECK(t != NULL);
    nlprnn_tagger_free(t);
    nlprnn_tagger_params *p = NULL;
    nlprnn_tagger_params_create(&p, NULL);
    CHECK_INT_EQ(nlprnn_tagger_params_set(p, "ema", "1", &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_tagger_params_set(p, "ema", "nan", &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_tagger_params_set(p, "ema", "0.999", &err), 0);
    nlprnn_tagger_params_free(p);
}

static void test_f16(void) {
    nlprnn_tagger *A = load("A.nrm", NULL, NULL), *A16 = NULL, *AB = NULL, *M = NULL, *W = NULL;
    nlprnn_error err;
    if (!A) return;
    save_stored(A, "A16.nrm", "f16");
    A16 = load("A16.nrm", NULL, NULL);
    if (!A16) goto done;
    CHECK_INT_EQ(A16->p.store, 1);
    CHECK_INT_EQ(A->p.store, 0);
    /* every weight within float16 rounding (round to nearest: half an ulp, relative 2^-11; below
     * 2^-14 float16 is subnormal with steps of 2^-24) */
    CHECK(A16->net.n_params == A->net.n_params);
    size_t bad = 0, changed = 0;
    for (size_t i = 0; i < A->net.n_params; i++) {
        double a = A->params[i], d = fabs((double)A16->params[i] - a);
        bad += d > fabs(a) * ldexp(1, -11) + ldexp(1, -25);
        changed += d > 0;
    }
    CHECK_MSG(bad == 0 && changed > 0, "%zu of %zu weights beyond float16 rounding, %zu changed", bad,
              A->net.n_params, changed);
    long s32 = file_size("A.nrm"), s16 = file_size("A16.nrm");
    CHECK_MSG(s16 > 0 && s16 < s32 && s32 - s16 >= (long)A->net.n_params * 2 - 64, "f32 %ld bytes, f16 %ld bytes",
              s32, s16);
    spaced *o32 = calloc(2, sizeof *o32), *o16 = o32 + 1;
    for (int k = 0; o32 && k < 2; k++) {
        unsigned flags = k ? NLPRNN_SPACE_KEEP : 0;
        space_all(A, flags, o32);
        space_all(A16, flags, o16);
        double worst = 0;
        for (int i = 0; i < NT; i++) {
            CHECK(o32->n[i] == o16->n[i]);
            for (size_t j = 0; j < o32->n[i] && j < 200; j++) worst = fmax(worst, fabs(o32->p[i][j] - o16->p[i][j]));
        }
        CHECK_MSG(worst < 0.01, "flags %u: probabilities differ by %g", flags, worst);
        CHECK_MSG(worst > 0 || k, "f16 gives the f32 probabilities bit for bit: the weights were not rounded?");
    }
    free(o32);
    /* training with store=f16 writes that file (the weights trained in float32, rounded on save) */
    CHECK_MSG(same_file("A16.nrm", "A16t.nrm"), "store=f16 training and an f16 save of the f32 model differ");
    /* keep keeps each member's storage; f32 widens (the rounded values, exactly); f32 and keep of
     * a float32 model are nlprnn_tagger_save's file (no "store" written) */
    save_stored(A16, "A16k.nrm", "keep");
    save_stored(A16, "A16n.nrm", NULL);
    CHECK(same_file("A16.nrm", "A16k.nrm") && same_file("A16.nrm", "A16n.nrm"));
    save_stored(A, "A32k.nrm", "keep");
    save_stored(A, "A32f.nrm", "f32");
    CHECK(same_file("A.nrm", "A32k.nrm") && same_file("A.nrm", "A32f.nrm"));
    save_stored(A16, "A16w.nrm", "f32");
    CHECK_INT_EQ((int)file_size("A16w.nrm"), (int)s32);
    if ((W = load("A16w.nrm", NULL, NULL))) {
        CHECK_INT_EQ(W->p.store, 0);
        CHECK(!memcmp(W->params, A16->params, A->net.n_params * sizeof(float)));
    }
    /* a mixed pack: member 1 f16, member 2 f32, each kept; it spaces as -m A16 -m B */
    AB = load("A16.nrm", "B.nrm", NULL);
    if (AB) save_stored(AB, "mixed.nrm", "keep");
    M = load("mixed.nrm", NULL, NULL);
    if (AB && M) {
        CHECK_INT_EQ(nlprnn_tagger_members(M), 2);
        CHECK_INT_EQ(M->p.store, 1);
        CHECK_INT_EQ(M->more[0]->p.store, 0);
        spaced *x = calloc(2, sizeof *x);
        if (x) {
            space_all(AB, NLPRNN_SPACE_KEEP, x);
            space_all(M, NLPRNN_SPACE_KEEP, x + 1);
            CHECK_MSG(same_bits(x, x + 1), "the mixed pack spaces otherwise than -m A16 -m B");
        }
        free(x);
        long sm = file_size("mixed.nrm"), sb = file_size("B.nrm");
        CHECK_MSG(sm > s16 && sm < s32 + sb, "mixed pack %ld bytes", sm);
    }
    /* int8 is the translator's alone; a bad name is refused */
    int rc = nlprnn_tagger_save_stored(A, nr_test_scratch("A8.nrm"), "int8", &err);
    CHECK_MSG(rc == NLPRNN_E_INVALID_ARG && strstr(err.message, "int8"), "%s: %s", nlprnn_status_name(rc), err.message);
    CHECK(access(nr_test_scratch("A8.nrm"), F_OK) != 0);
    nlprnn_tagger_params *p = NULL;
    char v[16] = "";
    CHECK_INT_EQ(nlprnn_tagger_params_create(&p, &err), 0);
    CHECK_INT_EQ(nlprnn_tagger_params_get(p, "store", v, sizeof v, &err), 0);
    CHECK_STR_EQ(v, "f32");
    CHECK_INT_EQ(nlprnn_tagger_params_set(p, "store", "int8", &err), NLPRNN_E_INVALID_ARG);
    nlprnn_tagger_params_free(p);
done:
    nlprnn_tagger_free(A);
    nlprnn_tagger_free(A16);
    nlprnn_tagger_free(AB);
    nlprnn_tagger_free(M);
    nlprnn_tagger_free(W);
}

static void test_cli(void) {
    const char *cli = getenv("NLPRNN_CLI");
    if (!cli) {
        printf("test_tag_ens: NLPRNN_CLI not set, the program's part skipped\n");
        return;
    }
    char *o1 = NULL, *o2 = NULL;
    for (int k = 0; k < 2; k++) {
        const char *opt = k ? "-k --format json" : "--format json";
        CHECK_INT_EQ(nr_test_run(&o1, "%s space %s -m %s -m %s '%s' '%s' 2>&1", cli, opt, nr_test_scratch("A.nrm"),
                                 nr_test_scratch("B.nrm"), TEXTS[1], TEXTS[3]), 0);
        CHECK_INT_EQ(nr_test_run(&o2, "%s space %s -m %s '%s' '%s' 2>&1", cli, opt, nr_test_scratch("AB.nrm"), TEXTS[1],
                                 TEXTS[3]), 0);
        CHECK_MSG(o1 && o2 && !strcmp(o1, o2) && strstr(o1, "\"p\""), "-m A -m B: %s; packed: %s", o1, o2);
        free(o1), free(o2);
    }
    nr_test_expect(0, MUST("ensemble of 2"), "%s space-pack -o %s %s %s", cli, nr_test_scratch("cli.nrm"), nr_test_scratch("A.nrm"),
                   nr_test_scratch("B.nrm"));
    CHECK_INT_EQ(nr_test_run(NULL, "cmp %s %s", nr_test_scratch("cli.nrm"), nr_test_scratch("AB.nrm")), 0);
    nr_test_expect(5, MUST("C.nrm", "units", "NLPRNN_E_UNSUPPORTED"), "%s space-pack -o %s %s %s", cli,
                   nr_test_scratch("bad.nrm"), nr_test_scratch("A.nrm"), nr_test_scratch("C.nrm"));
    CHECK(access(nr_test_scratch("bad.nrm"), F_OK) != 0);
    nr_test_expect(5, MUST("C.nrm", "units"), "%s space -m %s -m %s 가나다", cli, nr_test_scratch("A.nrm"), nr_test_scratch("C.nrm"));
    nr_test_expect(5, MUST("cut.nrm", "truncated"), "%s space -m %s -m %s x", cli, nr_test_scratch("A.nrm"), nr_test_scratch("cut.nrm"));
    nr_test_expect(2, MUST("-o OUT"), "%s space-pack %s", cli, nr_test_scratch("A.nrm"));
    nr_test_expect(0, MUST("space-pack: wrote"), "%s space-pack --store f16 -o %s %s", cli, nr_test_scratch("cli16.nrm"),
                   nr_test_scratch("A.nrm"));
    CHECK(same_file("cli16.nrm", "A16.nrm"));
    nr_test_expect(0, MUST("space-pack: wrote"), "%s space-pack --store keep -o %s %s", cli, nr_test_scratch("clik.nrm"),
                   nr_test_scratch("A16.nrm"));
    CHECK(same_file("clik.nrm", "A16.nrm"));
    nr_test_expect(0, MUST("ensemble of 2"), "%s space-pack -o %s %s %s", cli, nr_test_scratch("climix.nrm"),
                   nr_test_scratch("A16.nrm"), nr_test_scratch("B.nrm"));
    CHECK(same_file("climix.nrm", "mixed.nrm"));
    nr_test_expect(2, MUST("--store", "int8", "keep, f32, f16"), "%s space-pack --store int8 -o %s %s", cli,
                   nr_test_scratch("cli8.nrm"), nr_test_scratch("A.nrm"));
    CHECK(access(nr_test_scratch("cli8.nrm"), F_OK) != 0);
    CHECK_INT_EQ(nr_test_run(&o1, "printf 'the\\ncat\\nruns\\n' | %s tag -m %s -m %s", cli, nr_test_scratch("TA.nrm"),
                             nr_test_scratch("TB.nrm")), 0);
    CHECK_MSG(o1 && strstr(o1, "cat\t") && strstr(o1, "runs\t"), "tag -m TA -m TB: %s", o1);
    free(o1);
}

int main(void) {
    nr_test_scratch_make("test_tag_ens");
    write_spaced("spaced.txt", LEX, 5);
    write_spaced("spaced2.txt", LEX2, 5);
    write_tagged("tagged.tsv", 11);
    train("spaced.txt", "spacing", "1", "A.nrm");
    train("spaced.txt", "spacing", "2", "B.nrm");
    train("spaced2.txt", "spacing", "1", "C.nrm");
    train("tagged.tsv", "tagged", "1", "TA.nrm");
    train("tagged.tsv", "tagged", "2", "TB.nrm");
    g_store = "f16";
    train("spaced.txt", "spacing", "1", "A16t.nrm");
    g_store = "f32";
    test_spacing();
    test_tag();
    test_mismatch();
    test_f16();
    test_ema();
    test_cli();
    nr_test_scratch_remove();
    return nr_test_done("test_tag_ens");
}
