/* tests/test_translate_lm.c: a translator's tokenizers given as files and its initialisation from
 * language models (translate parameters src-tokenizer, tgt-tokenizer, src-lm, tgt-lm).
 *
 *   - tokenizers: `translate-train` with src-tokenizer/tgt-tokenizer made beforehand by
 *     nlprnn_tokenizer_train_files (the defaults and the same vocab-size, one column a file) writes
 *     the same model file as the run that trains its own; with joint=1, tgt-tokenizer is refused;
 *   - the copy: a bound, initialised translator initialised from a source LM (forward + backward,
 *     GRU, hidden = the encoder's units per direction) and a target LM (forward, GRU, untied, and
 *     tied into a tied translator) holds exactly the LMs' floats, bit for bit, where the rules say
 *     (source embedding but <pad>, encoder layer 0 both directions, target embedding, decoder
 *     W_hh, biases and the embedding's columns of W_ih, the output layer), and its seeded
 *     initialisation everywhere else (the input feeding's columns of W_ih, the bridge, attention);
 *   - nlprnn_lm_weights, the public accessor the copy reads through: the networks' weights, the
 *     documented encoder layout, NLPRNN_E_INVALID_ARG for a missing network or direction;
 *   - refusals (NLPRNN_E_INVALID_ARG naming the parameter, the file and what differs): another
 *     tokenizer, another cell, other hidden units, another embedding size, no backward network;
 *     a file that is not a language model (the loader's error, prefixed);
 *   - training: a run with both LMs differs from one without; a run stopped after its first epoch
 *     and resumed from its checkpoint with the same options writes the same file as an
 *     uninterrupted run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
#include "tasks/lm/lm.h"
#include "tasks/translate/translate.h"
#include "testutil.h"

static const char *const KO[] = {"가나", "다라", "마바", "사아", "자차", "카타", "파하", "고노"};
static const char *const EN[] = {"cat", "dog", "tree", "sun", "moon", "red", "big", "run"};

/* pairs.tsv (200 pairs of 2..4 words), ko.txt and en.txt (its columns, one text a line). */
static void make_data(void) {
    FILE *fp = fopen(nr_test_scratch("pairs.tsv"), "wb"), *fk = fopen(nr_test_scratch("ko.txt"), "wb"),
         *fe = fopen(nr_test_scratch("en.txt"), "wb");
    fprintf(fp, "en\tko\n");
    unsigned s = 11;
    for (int i = 0; i < 200; i++) {
        int n = 2 + (int)((s = s * 1103515245u + 12345u) >> 16) % 3, w[4];
        for (int j = 0; j < n; j++) w[j] = (int)((s = s * 1103515245u + 12345u) >> 16) % 8;
        for (int j = 0; j < n; j++) fprintf(fp, "%s%s", j ? " " : "", EN[w[j]]), fprintf(fe, "%s%s", j ? " " : "", EN[w[j]]);
        fputc('\t', fp);
        for (int j = 0; j < n; j++) fprintf(fp, "%s%s", j ? " " : "", KO[w[j]]), fprintf(fk, "%s%s", j ? " " : "", KO[w[j]]);
        fputc('\n', fp), fputc('\n', fk), fputc('\n', fe);
    }
    fclose(fp), fclose(fk), fclose(fe);
}

static void make_tokenizer(const char *text, const char *out) {
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer *tok = NULL;
    nlprnn_error e;
    const char *paths[1] = {nr_test_scratch(text)};
    CHECK_INT_EQ(nlprnn_tokenizer_params_create(&o, &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_params_set(o, "vocab-size", "300", &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_train_files(o, paths, 1, &tok, &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_save(tok, nr_test_scratch(out), &e), 0);
    nlprnn_tokenizer_free(tok);
    nlprnn_tokenizer_params_free(o);
}

/* A language model on text with tokenizer tok: "k=v" settings separated by spaces. */
static void make_lm(const char *text, const char *tok, const char *out, const char *settings) {
    nlprnn_lm_params *p = NULL;
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_lm_params_create(&p, &e), 0);
    char buf[512];
    snprintf(buf, sizeof buf, "tokenizer=%s epochs=1 batch=16 softmax=full storage=f32 %s", nr_test_scratch(tok), settings);
    for (char *kv = strtok(buf, " "); kv; kv = strtok(NULL, " ")) {
        char *eq = strchr(kv, '=');
        *eq = 0;
        CHECK_MSG(nlprnn_lm_params_set(p, kv, eq + 1, &e) == 0, "%s: %s", kv, e.message);
    }
    CHECK_MSG(nlprnn_lm_train(p, nr_test_scratch(text), NULL, nr_test_scratch(out), NULL, NULL, NULL, &e) == 0, "%s",
              e.message);
    nlprnn_lm_params_free(p);
}

static nlprnn_translator_params *params(const char *extra) {
    nlprnn_translator_params *p = NULL;
    nlprnn_translator_params_create(&p, NULL);
    char buf[1024];
    snprintf(buf, sizeof buf, "src-vocab=300 tgt-vocab=300 cell=gru embed=16 hidden=16 epochs=2 batch=16 valid=0.1 "
             "lr=0.01 emb-dropout=0.1 %s", extra);
    for (char *kv = strtok(buf, " "); kv; kv = strtok(NULL, " ")) {
        char *eq = strchr(kv, '=');
        *eq = 0;
        const char *v = eq + 1;
        if (strstr(kv, "-lm") || strstr(kv, "-tokenizer") || !strcmp(kv, "checkpoint")) v = nr_test_scratch(v);
        CHECK_MSG(nlprnn_translator_params_set(p, kv, v, NULL) == 0, "%s", kv);
    }
    return p;
}

/* Train on pairs.tsv with p and save to out (0) or return the error code (err filled). */
static int train_to(const nlprnn_translator_params *p, const nlprnn_train_ctl *ctl, const char *out, nlprnn_error *err) {
    nlprnn_translator *t = NULL;
    int rc = nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, ctl, NULL, NULL, &t, err);
    if (!rc) rc = nlprnn_translator_save(t, nr_test_scratch(out), err);
    nlprnn_translator_free(t);
    return rc;
}

static void test_tokenizer_files(void) {
    nlprnn_error e;
    nlprnn_translator_params *a = params(""), *b = params("src-tokenizer=ko.tok tgt-tokenizer=en.tok");
    CHECK_MSG(train_to(a, NULL, "own.nrm", &e) == 0, "%s", e.message);
    CHECK_MSG(train_to(b, NULL, "given.nrm", &e) == 0, "%s", e.message);
    CHECK_MSG(nr_test_same_file(nr_test_scratch("own.nrm"), nr_test_scratch("given.nrm")),
              "the tokenizers made by tokenizer-train with the same settings are not translate-train's");
    nlprnn_translator_params_free(b);
    b = params("joint=1 tgt-tokenizer=en.tok");
    CHECK_INT_EQ(train_to(b, NULL, "x.nrm", &e), NLPRNN_E_INVALID_ARG);
    CHECK_MSG(strstr(e.message, "tgt-tokenizer") && strstr(e.message, "joint=1"), "%s", e.message);
    nlprnn_translator_params_free(b);
    b = params("src-tokenizer=missing.tok");
    CHECK(train_to(b, NULL, "x.nrm", &e) != 0);
    CHECK_MSG(strstr(e.message, "src-tokenizer") && strstr(e.message, "missing.tok"), "%s", e.message);
    nlprnn_translator_params_free(b);
    nlprnn_translator_params_free(a);
}

/* A translator for p, tokenizers loaded, bound and initialised as training does. */
static nlprnn_translator *fresh(const nlprnn_translator_params *p) {
    nlprnn_translator *t = calloc(1, sizeof *t);
    nlprnn_error e;
    t->p = *p;
    CHECK_INT_EQ(nlprnn_tokenizer_load(nr_test_scratch("ko.tok"), &t->tsrc, &e), 0);
    CHECK_INT_EQ(nlprnn_tokenizer_load(nr_test_scratch("en.tok"), &t->ttgt, &e), 0);
    nr_translator_cfg(&t->cfg, p, nlprnn_tokenizer_vocab_size(t->tsrc), nlprnn_tokenizer_vocab_size(t->ttgt));
    CHECK_INT_EQ(nr_translator_bind(t, &e), 0);
    nr_rng rng;
    nr_rng_seed(&rng, p->seed);
    CHECK_INT_EQ(nr_s2s_init(&t->net, &rng, &e), 0);
    return t;
}

static int same_floats(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

/* rows x cols of a (stride sa) and b (stride sb) bit for bit. */
static int same_block(const float *a, size_t sa, const float *b, size_t sb, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++)
        if (!same_floats(a + r * sa, b + r * sb, cols)) return 0;
    return 1;
}

static void test_copy(int tied) {
    nlprnn_error e;
    nlprnn_translator_params *p =
        params(tied ? "src-lm=src.nrm tgt-lm=tgt-tied.nrm tied=1" : "src-lm=src.nrm tgt-lm=tgt.nrm");
    nlprnn_translator *t = fresh(p), *u = fresh(p); /* u: the same initialisation, no LM */
    CHECK_MSG(nr_translator_init_from_lms(t, &e) == 0, "%s", e.message);
    nlprnn_lm *ls = NULL, *lt = NULL;
    CHECK_INT_EQ(nlprnn_lm_load(nr_test_scratch("src.nrm"), &ls, &e), 0);
    CHECK_INT_EQ(nlprnn_lm_load(nr_test_scratch(tied ? "tgt-tied.nrm" : "tgt.nrm"), &lt, &e), 0);
    const nr_s2s *n = &t->net;
    size_t E = 16, Hd = 8, H = 16, G = 3, V = (size_t)t->cfg.Vs, Vt = (size_t)t->cfg.Vt, X = (size_t)n->X;
    /* source embedding: the forward LM's rows but <pad>, which stays 0 */
    const float *f_tab = ls->net[0].emb.table;
    CHECK(same_floats(n->src.table + E, f_tab + E, (V - 1) * E));
    for (size_t j = 0; j < E; j++) CHECK(n->src.table[j] == 0.0f);
    /* encoder layer 0: direction d from LM network d */
    for (int d = 0; d < 2; d++) {
        const nr_encoder *le = &ls->net[d].enc;
        const nr_rnn_slot *a = &n->enc.slot[0][d], *b = &le->slot[0][0];
        CHECK(same_floats(n->enc.params + a->w_ih, le->params + b->w_ih, G * Hd * E));
        CHECK(same_floats(n->enc.params + a->w_hh, le->params + b->w_hh, G * Hd * Hd));
        CHECK(same_floats(n->enc.params + a->b_ih, le->params + b->b_ih, G * Hd));
        CHECK(same_floats(n->enc.params + a->b_hh, le->params + b->b_hh, G * Hd));
    }
    /* decoder */
    const nr_lm_net *f = &lt->net[0];
    const nr_rnn_slot *b = &f->enc.slot[0][0];
    CHECK(same_floats(n->tgt.table + E, f->emb.table + E, (Vt - 1) * E));
    CHECK(same_block(n->params + n->o_wih, X, f->enc.params + b->w_ih, E, G * H, E));
    CHECK(same_block(n->params + n->o_wih + E, X, u->params + u->net.o_wih + E, X, G * H, X - E)); /* a_{t-1}'s */
    CHECK(same_floats(n->params + n->o_whh, f->enc.params + b->w_hh, G * H * H));
    CHECK(same_floats(n->params + n->o_bih, f->enc.params + b->b_ih, G * H));
    CHECK(same_floats(n->params + n->o_bhh, f->enc.params + b->b_hh, G * H));
    if (!tied) CHECK(same_floats(n->params + n->o_wo, f->out.w, Vt * H));
    CHECK(same_floats(n->params + n->o_bo, f->out.b, Vt));
    /* the rest as initialised: bridge .. attention .. W_c, b_c */
    CHECK(same_floats(n->params + n->o_wb, u->params + u->net.o_wb, n->o_wih - n->o_wb));
    CHECK(same_floats(n->params + n->o_wa, u->params + u->net.o_wa, n->o_bc + H - n->o_wa));
    /* and what the LM gave differs from the initialisation (the copy did something) */
    CHECK(!same_floats(n->params + n->o_whh, u->params + u->net.o_whh, G * H * H));
    nlprnn_lm_free(ls), nlprnn_lm_free(lt);
    nlprnn_translator_free(t), nlprnn_translator_free(u);
    nlprnn_translator_params_free(p);
}

/* nlprnn_lm_weights (the public accessor the translator reads LMs through): each network's
 * embedding, encoder block, output matrix (the table when tied) and bias; a missing backward
 * network and a bad direction are NLPRNN_E_INVALID_ARG with NULL outputs. */
static void test_public_weights(void) {
    nlprnn_error e;
    const char *files[3] = {"src.nrm", "src-fwd.nrm", "tgt-tied.nrm"};
    for (int i = 0; i < 3; i++) {
        nlprnn_lm *lm = NULL;
        CHECK_INT_EQ(nlprnn_lm_load(nr_test_scratch(files[i]), &lm, &e), 0);
        if (!lm) continue;
        for (int d = 0; d < 2; d++) {
            const float *emb = NULL, *enc = NULL, *ow = NULL, *ob = NULL;
            size_t ne = 0;
            int rc = nlprnn_lm_weights(lm, d, &emb, &enc, &ne, &ow, &ob, &e);
            if (lm->has[d]) {
                const nr_lm_net *n = &lm->net[d];
                CHECK_INT_EQ(rc, 0);
                CHECK(emb == n->emb.table && enc == n->enc.params && ne == n->enc.n_params);
                CHECK(ow == n->out.w && ob == n->out.b);
                if (n->cfg.tied) CHECK(ow == emb);
                /* the documented layout: layer 0's W_ih, W_hh, b_ih, b_hh one after the other */
                const nr_rnn_slot *sl = &n->enc.slot[0][0];
                size_t GH = (size_t)n->enc.gates * (size_t)n->cfg.hidden, E = (size_t)n->cfg.embed;
                CHECK(sl->w_ih == 0 && sl->w_hh == GH * E && sl->b_ih == GH * (E + (size_t)n->cfg.hidden) &&
                      sl->b_hh == sl->b_ih + GH);
            } else {
                CHECK_INT_EQ(rc, NLPRNN_E_INVALID_ARG);
                CHECK(!emb && !enc && !ne && !ow && !ob);
                CHECK(strstr(e.message, "no backward network") != NULL);
            }
        }
        CHECK_INT_EQ(nlprnn_lm_weights(lm, 2, NULL, NULL, NULL, NULL, NULL, &e), NLPRNN_E_INVALID_ARG);
        CHECK(strstr(e.message, "direction 2") != NULL);
        nlprnn_lm_free(lm);
    }
    CHECK_INT_EQ(nlprnn_lm_weights(NULL, 0, NULL, NULL, NULL, NULL, NULL, &e), NLPRNN_E_INVALID_ARG);
}

static void refused(const char *extra, const char *const *must) {
    nlprnn_error e;
    nlprnn_translator_params *p = params(extra);
    int rc = train_to(p, NULL, "x.nrm", &e);
    CHECK_MSG(rc != 0, "%s: accepted", extra);
    for (int i = 0; must[i]; i++) CHECK_MSG(strstr(e.message, must[i]) != NULL, "%s: '%s' not in: %s", extra, must[i], e.message);
    nlprnn_translator_params_free(p);
}
#define REFUSED(extra, ...) refused(extra, (const char *const[]){__VA_ARGS__, NULL})

static void test_refusals(void) {
    REFUSED("src-lm=tgt.nrm", "src-lm", "tgt.nrm", "tokenizer", "not the translator's src");
    REFUSED("tgt-lm=src.nrm", "tgt-lm", "src.nrm", "tokenizer");
    REFUSED("src-lm=src.nrm cell=lstm", "src-lm", "cell is gru, the translator's lstm");
    REFUSED("src-lm=src.nrm bidirectional=0", "src-lm", "hidden units 8, the translator needs 16");
    REFUSED("tgt-lm=tgt.nrm hidden=32", "tgt-lm", "hidden units 16, the translator needs 32");
    REFUSED("src-lm=src.nrm embed=24", "src-lm", "embedding size 16, the translator needs 24");
    REFUSED("src-lm=src-fwd.nrm", "src-lm", "src-fwd.nrm", "no backward network");
    REFUSED("tgt-lm=ko.tok", "tgt-lm", "ko.tok");
    REFUSED("src-lm=missing.nrm", "src-lm", "missing.nrm");
    /* unidirectional: the forward network alone, of the decoder's size */
    nlprnn_error e;
    nlprnn_translator_params *p = params("src-lm=src-fwd16.nrm bidirectional=0 epochs=1");
    CHECK_MSG(train_to(p, NULL, "uni.nrm", &e) == 0, "%s", e.message);
    nlprnn_translator_params_free(p);
}

static int stop_first_epoch(void *user, int epoch, double loss, double valid) {
    (void)user, (void)loss, (void)valid;
    return epoch >= 1;
}

static void test_train_resume(void) {
    nlprnn_error e;
    nlprnn_translator_params *a = params(""), *b = params("src-lm=src.nrm tgt-lm=tgt.nrm"),
                            *c = params("src-lm=src.nrm tgt-lm=tgt.nrm checkpoint=ck.nrm");
    CHECK_MSG(train_to(a, NULL, "plain.nrm", &e) == 0, "%s", e.message);
    CHECK_MSG(train_to(b, NULL, "lm.nrm", &e) == 0, "%s", e.message);
    CHECK(!nr_test_same_file(nr_test_scratch("plain.nrm"), nr_test_scratch("lm.nrm")));
    nlprnn_train_ctl *ctl = NULL;
    CHECK_INT_EQ(nlprnn_train_ctl_create(&ctl, &e), 0);
    nlprnn_translator *t = NULL;
    int rc = nlprnn_translator_train(nr_test_scratch("pairs.tsv"), c, ctl, stop_first_epoch, NULL, &t, &e);
    CHECK_INT_EQ(rc, NLPRNN_E_INTERRUPTED);
    CHECK(access(nr_test_scratch("ck.nrm"), F_OK) == 0);
    nlprnn_train_ctl_set_resume(ctl, 1);
    CHECK_MSG(train_to(c, ctl, "resumed.nrm", &e) == 0, "%s", e.message);
    CHECK_MSG(nr_test_same_file(nr_test_scratch("lm.nrm"), nr_test_scratch("resumed.nrm")),
              "a resumed run with src-lm and tgt-lm wrote another file than the uninterrupted run");
    nlprnn_train_ctl_free(ctl);
    nlprnn_translator_params_free(a), nlprnn_translator_params_free(b), nlprnn_translator_params_free(c);
}

int main(void) {
    nr_test_scratch_make("test_translate_lm");
    make_data();
    make_tokenizer("ko.txt", "ko.tok");
    make_tokenizer("en.txt", "en.tok");
    make_lm("ko.txt", "ko.tok", "src.nrm", "cell=gru embed=16 hidden=8 tied=0 directions=both");
    make_lm("ko.txt", "ko.tok", "src-fwd.nrm", "cell=gru embed=16 hidden=8 tied=0 directions=forward");
    make_lm("ko.txt", "ko.tok", "src-fwd16.nrm", "cell=gru embed=16 hidden=16 tied=0 directions=forward");
    make_lm("en.txt", "en.tok", "tgt.nrm", "cell=gru embed=16 hidden=16 tied=0 directions=forward");
    make_lm("en.txt", "en.tok", "tgt-tied.nrm", "cell=gru embed=16 hidden=16 tied=1 directions=forward");
    test_tokenizer_files();
    test_copy(0);
    test_copy(1);
    test_public_weights();
    test_refusals();
    test_train_resume();
    nr_test_scratch_remove();
    return nr_test_done("test_translate_lm");
}
