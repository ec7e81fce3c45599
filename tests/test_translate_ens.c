/* tests/test_translate_ens.c: ensembles of translators (seq2seq.h "ensembles", nlprnn/translate.h
 * nlprnn_translator_load_ensemble, packed files).
 *
 * Two tiny models A and B (seeds 1 and 2) and C (other words, so other tokenizers) are trained on
 * made-up pairs (as tests/test_translate_api.c does), then:
 *   - an ensemble of one model is the model: the same texts and the same log-probabilities, bit for
 *     bit (greedy, beam, sampling, batch);
 *   - A with itself gives A's translations (greedy and beam, both combination rules), with A's
 *     log-probabilities (within rounding: log(mean(p, p)) = log p);
 *   - A with B differs from A and from B (log-probabilities), so the checks above can fail;
 *   - the combined log-probability and attention of a short output equal what is computed by hand
 *     from each member's own decoder stepped over that output (both rules);
 *   - beam width 1 of an ensemble is its greedy search (tokens, log-probability, attention);
 *   - batches of an ensemble: the texts of one at a time, log-probabilities within rounding;
 *     sampling from an ensemble: reproducible, the same alone or in a batch;
 *   - mismatched tokenizers are refused naming the file; a packed file (nlprnn_translator_save of
 *     an ensemble) loads back with the same translations as the -m A -m B form, a pack of a pack
 *     flattens; truncated, corrupt and inconsistent packed files are refused naming the file and
 *     the section or offset;
 *   - int8 storage: every matrix row of A saved as int8 within scale/2 of A's float32 weights, the
 *     vectors exact, the parts tiling the block; A's translations kept (log-probabilities within
 *     0.05); a pack as int8 (member 1 = A as int8 bit for bit), re-saved within rounding, back to
 *     f16 as version 1; mixed int8/float32 members; int8 files cut, flipped, with a part missing or
 *     misshapen refused naming the file and section; training with store=int8;
 *   - float16 and int8 files: a pack of A and B saved as f16 keeps each member's decoder matrices
 *     as halves, saved as int8 as the file's int8 rows and scales (seq2seq.h c_wih ...), and
 *     decoding reads them (nr_kgemv_f16 / nr_kgemv_i8 counted) with exactly the results of the
 *     same file without them, i.e. of the widened float32 weights (texts, log-probabilities,
 *     attention; greedy, beam, sampling, batches), while a changed row of halves, a changed int8
 *     scale or int8 row changes the log-probabilities (so the copy is what is read);
 *   - the program: translate -m A -m B = translate -m AB.nrm, translate-pack (--store), exit codes.
 * Needs the program ($NLPRNN_CLI) for the last part. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/modelfile.h"
#include "models/kernels/kernels.h"
#include "nlprnn.h"
#include "tasks/translate/seq2seq.h"
#include "tasks/translate/translate.h"
#include "testutil.h"


/* 240 pairs of 2..4 words over the lexicons ko/en (the English words in the same order). */
static void make_pairs(const char *name, const char *const *ko, const char *const *en, unsigned s) {
    FILE *fp = fopen(nr_test_scratch(name), "wb");
    fprintf(fp, "en\tko\n");
    for (int i = 0; i < 240; i++) {
        int n = 2 + (int)((s = s * 1103515245u + 12345u) >> 16) % 3, w[4];
        for (int j = 0; j < n; j++) w[j] = (int)((s = s * 1103515245u + 12345u) >> 16) % 8;
        for (int j = 0; j < n; j++) fprintf(fp, "%s%s", j ? " " : "", en[w[j]]);
        fputc('\t', fp);
        for (int j = 0; j < n; j++) fprintf(fp, "%s%s", j ? " " : "", ko[w[j]]);
        fputc('\n', fp);
    }
    fclose(fp);
}

static nlprnn_translator *train(const char *pairs, const char *seed, const char *out) {
    nlprnn_translator_params *p = NULL;
    nlprnn_translator_params_create(&p, NULL);
    const char *kv[][2] = {{"src-vocab", "290"}, {"tgt-vocab", "300"}, {"embed", "32"}, {"hidden", "32"},
                           {"epochs", "30"},      {"batch", "16"},      {"valid", "0.1"}, {"lr", "0.005"},
                           {"seed", seed}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) CHECK_INT_EQ(nlprnn_translator_params_set(p, kv[i][0], kv[i][1], NULL), 0);
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    CHECK_MSG(nlprnn_translator_train(nr_test_scratch(pairs), p, NULL, NULL, NULL, &t, &err) == 0, "%s", err.message);
    if (t) CHECK_MSG(nlprnn_translator_save(t, nr_test_scratch(out), &err) == 0, "%s", err.message);
    nlprnn_translator_params_free(p);
    return t;
}

static nlprnn_translator *ens(const char *a, const char *b, const char *c) {
    const char *paths[3] = {nr_test_scratch(a), b ? nr_test_scratch(b) : NULL, c ? nr_test_scratch(c) : NULL};
    size_t n = c ? 3 : b ? 2 : 1;
    nlprnn_translator *t = NULL;
    nlprnn_error err;
    CHECK_MSG(nlprnn_translator_load_ensemble(paths, n, &t, &err) == 0, "%s", err.message);
    return t;
}

static const char *const TEXTS[] = {"가나 다라", "마바 사아 자차", "카타", "파하 고노 가나 다라", "다라 다라 마바"};
#define NT (sizeof TEXTS / sizeof *TEXTS)

/* One translation: its text, log-probability, pieces and attention. */
typedef struct result {
    char text[256];
    double logp;
    size_t S, T;
    float attn[64 * 16];
} result;

static void run(nlprnn_translator_ctx *c, const char *text, result *r) {
    nlprnn_error err;
    memset(r, 0, sizeof *r);
    CHECK_MSG(nlprnn_translate(c, text, strlen(text), &err) == 0, "%s", err.message);
    snprintf(r->text, sizeof r->text, "%s", nlprnn_translate_text(c, NULL));
    r->logp = nlprnn_translate_logprob(c);
    r->S = nlprnn_translate_src_len(c), r->T = nlprnn_translate_tgt_len(c);
    const float *a = nlprnn_translate_attention(c);
    if (a && (r->T + 1) * r->S <= sizeof r->attn / sizeof *r->attn) memcpy(r->attn, a, (r->T + 1) * r->S * sizeof(float));
}

static nlprnn_translator_ctx *ctx_of(const nlprnn_translator *t, int beam, int sample, int combine) {
    nlprnn_translator_ctx *c = NULL;
    nlprnn_error err;
    CHECK_INT_EQ(nlprnn_translator_ctx_create(t, &c, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_BEAM, beam, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_SAMPLE, sample, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_COMBINE, combine, &err), 0);
    return c;
}

/* x and y translate every text alike with these options: the same texts, and log-probabilities
 * equal (tol 0) or within tol; *ndiff (may be NULL) counts the texts whose log-probabilities
 * differ by more than 1e-6 instead of checking them. */
static void same_outputs(const nlprnn_translator *x, const nlprnn_translator *y, int beam, int sample, int combine,
                         double tol, int *ndiff, const char *what) {
    nlprnn_translator_ctx *a = ctx_of(x, beam, sample, combine), *b = ctx_of(y, beam, sample, combine);
    static result r1, r2;
    for (size_t i = 0; i < NT; i++) {
        run(a, TEXTS[i], &r1);
        run(b, TEXTS[i], &r2);
        if (ndiff) {
            *ndiff += fabs(r1.logp - r2.logp) > 1e-6;
            continue;
        }
        CHECK_MSG(!strcmp(r1.text, r2.text), "%s (beam %d sample %d combine %d) '%s': '%s' vs '%s'", what, beam,
                  sample, combine, TEXTS[i], r1.text, r2.text);
        if (tol == 0) {
            CHECK_MSG(r1.logp == r2.logp, "%s '%s': logp %.17g vs %.17g", what, TEXTS[i], r1.logp, r2.logp);
            CHECK_MSG(r1.T == r2.T && !memcmp(r1.attn, r2.attn, sizeof r1.attn), "%s '%s': attention", what, TEXTS[i]);
        } else {
            CHECK_MSG(fabs(r1.logp - r2.logp) <= tol * (1 + fabs(r1.logp)), "%s '%s': logp %.17g vs %.17g", what,
                      TEXTS[i], r1.logp, r2.logp);
        }
    }
    nlprnn_translator_ctx_free(a);
    nlprnn_translator_ctx_free(b);
}

static void test_one_and_self(const nlprnn_translator *A) {
    nlprnn_translator *E1 = ens("A.nrm", NULL, NULL), *AA = ens("A.nrm", "A.nrm", NULL);
    if (!E1 || !AA) return;
    CHECK_INT_EQ(nlprnn_translator_members(E1), 1);
    CHECK_INT_EQ(nlprnn_translator_members(AA), 2);
    for (int beam = 1; beam <= 3; beam += 2) {
        same_outputs(A, E1, beam, 0, 0, 0, NULL, "ensemble of one");
        for (int cb = 0; cb < 2; cb++) same_outputs(A, AA, beam, 0, cb, 1e-12, NULL, "A with A");
    }
    same_outputs(A, E1, 1, 1, 0, 0, NULL, "ensemble of one, sampling");
    /* the rule of the mean of log-probabilities gives A's own numbers exactly: (l + l) / 2 = l */
    nlprnn_translator_ctx *a = ctx_of(A, 1, 0, 0), *b = ctx_of(AA, 1, 0, 1);
    static result r1, r2;
    run(a, TEXTS[3], &r1);
    run(b, TEXTS[3], &r2);
    CHECK_MSG(r1.logp == r2.logp, "logp rule, A with A: %.17g vs %.17g", r1.logp, r2.logp);
    nlprnn_translator_ctx_free(a);
    nlprnn_translator_ctx_free(b);
    nlprnn_translator_free(E1);
    nlprnn_translator_free(AA);
}

static void test_differs(const nlprnn_translator *A, const nlprnn_translator *B, const nlprnn_translator *AB) {
    for (int cb = 0; cb < 2; cb++) {
        int da = 0, db = 0;
        same_outputs(A, AB, 1, 0, cb, 0, &da, "A vs AB");
        same_outputs(B, AB, 1, 0, cb, 0, &db, "B vs AB");
        CHECK_MSG(da >= (int)NT - 1 && db >= (int)NT - 1, "combine %d: AB differs from A on %d texts, from B on %d of %zu",
                  cb, da, db, NT);
    }
}

/* The ensemble's log-probability and attention of its greedy output, computed by hand: each
 * member's decoder stepped over the output (teacher forcing), its log-softmax at each token, the
 * rule applied to the chosen token only. */
static void test_by_hand(const nlprnn_translator *AB) {
    nlprnn_error err;
    const char *text = TEXTS[1];
    for (int cb = 0; cb < 2; cb++) {
        nlprnn_translator_ctx *c = ctx_of(AB, 1, 0, cb);
        static result r;
        run(c, text, &r);
        int S = (int)r.S, T = (int)r.T, y[64], src[64];
        CHECK_MSG(S > 0 && S < 64 && T > 0 && T < 63, "'%s' -> '%s': %d/%d tokens", text, r.text, S, T);
        if (!(S > 0 && S < 64 && T < 63)) return;
        for (int j = 0; j < S; j++) src[j] = nlprnn_tokenizer_piece_id(AB->tsrc, nlprnn_translate_piece(c, 0, (size_t)j));
        for (int j = 0; j < T; j++) y[j] = nlprnn_tokenizer_piece_id(AB->ttgt, nlprnn_translate_piece(c, 1, (size_t)j));
        y[T] = NLPRNN_ID_EOS;
        double lpm[2][64]; /* member m's log p of token j */
        float al[2][64][64];
        for (int m = 0; m < 2; m++) {
            const nlprnn_translator *t = nr_translator_member(AB, m);
            nr_s2s_ws *ws = nr_s2s_ws_create(&t->net, S, 1, 1, 0, &err);
            int H = t->net.H, V = t->cfg.Vt, row = 0, prev = NLPRNN_ID_BOS;
            float *h = calloc((size_t)3 * H, sizeof(float)), *z = malloc((size_t)V * sizeof(float));
            CHECK(ws && h && z);
            if (!ws || !h || !z) return;
            nr_s2s_state st = {h, h + H, h + 2 * H};
            CHECK_INT_EQ(nr_s2s_encode(&t->net, ws, src, &S, S, 1, NULL, &err), 0);
            nr_s2s_state_start(&t->net, ws, &st, &row, 1);
            for (int j = 0; j <= T; j++) {
                nr_s2s_step(&t->net, ws, &st, &row, &prev, 1, z, al[m][j]);
                double mx = -INFINITY, s = 0;
                for (int k = 0; k < V; k++) mx = z[k] > mx ? z[k] : mx;
                for (int k = 0; k < V; k++) s += exp((double)z[k] - mx);
                lpm[m][j] = (double)z[y[j]] - mx - log(s);
                prev = y[j];
            }
            free(h), free(z);
            nr_s2s_ws_free(ws);
        }
        double want = 0;
        for (int j = 0; j <= T; j++)
            want += cb == 0 ? log(0.5 * (exp(lpm[0][j]) + exp(lpm[1][j]))) : 0.5 * (lpm[0][j] + lpm[1][j]);
        CHECK_MSG(isfinite(r.logp) && fabs(r.logp - want) < 1e-9 * (1 + fabs(want)), "combine %d: logp %.17g, by hand %.17g",
                  cb, r.logp, want);
        float worst = 0;
        for (int j = 0; j <= T; j++)
            for (int s = 0; s < S; s++) {
                float d = fabsf(r.attn[j * S + s] - 0.5f * (al[0][j][s] + al[1][j][s]));
                worst = d > worst ? d : worst;
            }
        CHECK_MSG(worst < 1e-6f, "combine %d: attention off the members' mean by %g", cb, (double)worst);
        nlprnn_translator_ctx_free(c);
    }
}

static void test_beam1_batch_sample(const nlprnn_translator *AB) {
    nlprnn_error err;
    for (int cb = 0; cb < 2; cb++) {
        /* width 1 is greedy: tokens, log-probability, attention */
        nlprnn_translator_ctx *g = ctx_of(AB, 1, 0, cb);
        static result r1, r2;
        for (size_t i = 0; i < NT; i++) {
            run(g, TEXTS[i], &r1);
            /* beam 1 goes through the greedy path in the API: call the beam itself */
            const nlprnn_translator *m[2] = {nr_translator_member(AB, 0), nr_translator_member(AB, 1)};
            nr_s2s_ws *ws[2] = {nr_s2s_ws_create(&m[0]->net, 64, 1, 4, 0, &err), nr_s2s_ws_create(&m[1]->net, 64, 1, 4, 0, &err)};
            const nr_s2s *nets[2] = {&m[0]->net, &m[1]->net};
            nr_s2s_ens e = {2, nets, ws, cb, 0, 0, 0};
            int src[64], out[128], ol = 0, S = (int)r1.S;
            for (int j = 0; j < S; j++) src[j] = nlprnn_tokenizer_piece_id(AB->tsrc, nlprnn_translate_piece(g, 0, (size_t)j));
            float attn[129 * 64];
            double lp = 0;
            int ml = 3 * S + 5;
            CHECK_INT_EQ(nr_s2s_ens_beam(&e, src, S, 1, 0.7f, ml, out, &ol, attn, &lp, &err), 0);
            CHECK_MSG(ol == (int)r1.T && lp == r1.logp, "combine %d '%s': beam 1 %d tokens logp %.17g, greedy %zu %.17g", cb,
                      TEXTS[i], ol, lp, r1.T, r1.logp);
            for (int j = 0; j < ol && ol == (int)r1.T; j++)
                CHECK(out[j] == nlprnn_tokenizer_piece_id(AB->ttgt, nlprnn_translate_piece(g, 1, (size_t)j)));
            float worst = 0;
            for (int j = 0; ol == (int)r1.T && j < (ol + 1) * S; j++)
                worst = fabsf(attn[j] - r1.attn[j]) > worst ? fabsf(attn[j] - r1.attn[j]) : worst;
            CHECK_MSG(worst == 0, "combine %d '%s': beam 1's attention off greedy's by %g", cb, TEXTS[i], (double)worst);
            nr_s2s_ws_free(ws[0]), nr_s2s_ws_free(ws[1]);
        }
        /* batches: the texts of one at a time; sampling the same alone or in a batch */
        for (int sample = 0; sample < 2; sample++) {
            nlprnn_translator_ctx *c = ctx_of(AB, 1, sample, cb);
            size_t lens[NT];
            for (size_t i = 0; i < NT; i++) lens[i] = strlen(TEXTS[i]);
            CHECK_INT_EQ(nlprnn_translate_batch(c, TEXTS, lens, NT, &err), 0);
            char bt[NT][256];
            double bl[NT];
            for (size_t i = 0; i < NT; i++) {
                snprintf(bt[i], sizeof bt[i], "%s", nlprnn_translate_batch_text(c, i, NULL));
                bl[i] = nlprnn_translate_batch_logprob(c, i);
            }
            for (size_t i = 0; i < NT; i++) {
                run(c, TEXTS[i], &r2);
                CHECK_MSG(!strcmp(bt[i], r2.text), "combine %d sample %d: batch '%s', alone '%s'", cb, sample, bt[i], r2.text);
                CHECK_MSG(fabs(bl[i] - r2.logp) < 1e-4, "batch logp %.9g alone %.9g", bl[i], r2.logp);
                run(c, TEXTS[i], &r1); /* again: reproducible */
                CHECK(!strcmp(r1.text, r2.text) && r1.logp == r2.logp);
            }
            nlprnn_translator_ctx_free(c);
        }
        nlprnn_translator_ctx_free(g);
    }
    nlprnn_translator_ctx *c = NULL;
    CHECK_INT_EQ(nlprnn_translator_ctx_create(AB, &c, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_ctx_set(c, NLPRNN_TRANSLATE_COMBINE, 2, &err), NLPRNN_E_INVALID_ARG);
    nlprnn_translator_ctx_free(c);
}

static void test_mismatch(void) {
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    const char *paths[2] = {nr_test_scratch("A.nrm"), nr_test_scratch("C.nrm")};
    /* C's source tokenizer has A's size, other pieces: compared byte for byte, not by size */
    nlprnn_translator *a = NULL, *c = NULL;
    CHECK_INT_EQ(nlprnn_translator_load(paths[0], &a, &err), 0);
    CHECK_INT_EQ(nlprnn_translator_load(paths[1], &c, &err), 0);
    CHECK(a && c && a->cfg.Vs == c->cfg.Vs && a->cfg.Vt == c->cfg.Vt);
    nlprnn_translator_free(a), nlprnn_translator_free(c);
    int rc = nlprnn_translator_load_ensemble(paths, 2, &t, &err);
    CHECK_MSG(rc == NLPRNN_E_UNSUPPORTED && strstr(err.message, "C.nrm") && strstr(err.message, "source tokenizer"), "%s: %s",
              nlprnn_status_name(rc), err.message);
    CHECK(t == NULL);
    CHECK_INT_EQ(nlprnn_translator_load_ensemble(paths, 0, &t, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_load_ensemble(NULL, 1, &t, &err), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_translator_load_ensemble(paths, 1, NULL, &err), NLPRNN_E_INVALID_ARG);
    const char *missing[2] = {nr_test_scratch("A.nrm"), nr_test_scratch("none.nrm")};
    CHECK_INT_EQ(nlprnn_translator_load_ensemble(missing, 2, &t, &err), NLPRNN_E_IO);
    CHECK(nlprnn_translator_members(NULL) == 0);
}

/* Copy the sections of translator file `from` into `to`, changed as `e` says. */
typedef struct edit {
    int members;          /* > 0: ENSM says this many members */
    const char *drop;     /* a section left out (NULL: none) */
    const char *tag;      /* a tensor section where `tensor` is ... (NULL: none) */
    const char *tensor;   /* ... left out (reshape 0), or has its two dimensions swapped (1) */
    int reshape;
} edit;

/* The tensors of section tag of r into b, as e says. */
static void edit_tensors(nr_mf_buf *b, const nr_mf_reader *r, const char *tag, const edit *e) {
    nlprnn_error err;
    for (size_t k = 0; k < nr_mf_tensor_count(r, tag); k++) {
        nr_tensor_info ti;
        CHECK_INT_EQ(nr_mf_tensor_at(r, tag, k, &ti, &err), 0);
        int hit = !strcmp(ti.name, e->tensor);
        if (hit && !e->reshape) continue;
        float *v = malloc(ti.count * sizeof *v);
        CHECK_INT_EQ(nr_mf_tensor_read(r, tag, ti.name, v, ti.ndim, ti.shape, &err), 0);
        if (hit) { /* the same count, rows and columns swapped */
            size_t rows = ti.shape[0];
            ti.shape[0] = ti.shape[1], ti.shape[1] = rows;
        }
        CHECK_INT_EQ(nr_tensor_put(b, ti.name, v, ti.ndim, ti.shape, ti.dtype, &err), 0);
        free(v);
    }
}

static void rewrite(const char *from, const char *to, edit e) {
    nlprnn_error err;
    nr_mf_reader *r = NULL;
    nr_mf_writer *w = NULL;
    CHECK_INT_EQ(nr_mf_open_file(&r, nr_test_scratch(from), NULL, &err), 0);
    CHECK_INT_EQ(nr_mf_writer_new(&w, NR_KIND_TRANSLATOR, &err), 0);
    if (!r || !w) return;
    CHECK_INT_EQ(nr_mf_writer_set_version(w, nr_mf_version(r), &err), 0);
    for (size_t i = 0; i < nr_mf_section_count(r); i++) {
        const nr_mf_section *s = nr_mf_section_at(r, i);
        if (e.drop && !strcmp(s->tag, e.drop)) continue;
        nr_mf_buf b;
        nr_mf_buf_init(&b);
        if (e.members && !strcmp(s->tag, "ENSM"))
            nr_conf_put_int(&b, "members", e.members, &err);
        else if (e.tag && !strcmp(s->tag, e.tag))
            edit_tensors(&b, r, s->tag, &e);
        else
            nr_mf_buf_put(&b, s->data, (size_t)s->raw_len, &err);
        CHECK_INT_EQ(nr_mf_add(w, s->tag, s->content, b.data, b.len, 0, &err), 0);
        nr_mf_buf_free(&b);
    }
    CHECK_INT_EQ(nr_mf_writer_save(w, nr_test_scratch(to), &err), 0);
    nr_mf_writer_free(w);
    nr_mf_close(r);
}

/* Scratch file `to` = the first n bytes of `from` (cut), or `from` with the byte at off set to v. */
static void cut_file(const char *from, const char *to, long n) {
    CHECK_INT_EQ(nr_test_run(NULL, "head -c %ld %s > %s", n, nr_test_scratch(from), nr_test_scratch(to)), 0);
}
static void set_byte(const char *from, const char *to, long off, int v) {
    CHECK_INT_EQ(nr_test_run(NULL, "cp %s %s && printf '\\%03o' | dd of=%s bs=1 seek=%ld conv=notrunc 2>/dev/null",
                             nr_test_scratch(from), nr_test_scratch(to), v, nr_test_scratch(to), off), 0);
}

/* Loading scratch file `name` fails with `code`, a message naming the file and `must`, and no model. */
static void expect_refused(const char *name, int code, const char *must) {
    nlprnn_error err;
    nlprnn_translator *t = NULL;
    int rc = nlprnn_translator_load(nr_test_scratch(name), &t, &err);
    CHECK_MSG(rc == code && strstr(err.message, name) && strstr(err.message, must), "%s: %s: %s", name,
              nlprnn_status_name(rc), err.message);
    CHECK(t == NULL);
}

static void test_pack(const nlprnn_translator *AB) {
    nlprnn_error err;
    CHECK_MSG(nlprnn_translator_save(AB, nr_test_scratch("AB.nrm"), &err) == 0, "%s", err.message);
    nlprnn_translator *P = NULL;
    CHECK_MSG(nlprnn_translator_load(nr_test_scratch("AB.nrm"), &P, &err) == 0, "%s", err.message);
    if (!P) return;
    CHECK_INT_EQ(nlprnn_translator_members(P), 2);
    CHECK(strstr(nlprnn_translator_summary(P), "ensemble of 2") != NULL);
    for (int beam = 1; beam <= 3; beam += 2)
        for (int cb = 0; cb < 2; cb++) same_outputs(AB, P, beam, 0, cb, 0, NULL, "packed vs -m A -m B");
    /* saved again: the same bytes; a pack of a pack and a model flattens to 3 members */
    CHECK_INT_EQ(nlprnn_translator_save(P, nr_test_scratch("AB2.nrm"), &err), 0);
    nlprnn_translator *Q = ens("AB.nrm", "A.nrm", NULL);
    CHECK(Q && nlprnn_translator_members(Q) == 3);
    nlprnn_translator_free(Q);
    char *o1 = NULL;
    CHECK_INT_EQ(nr_test_run(&o1, "cmp %s %s", nr_test_scratch("AB.nrm"), nr_test_scratch("AB2.nrm")), 0);
    free(o1);
    /* the file is one model's size plus the second member's weights: tokenizers stored once */
    FILE *fa = fopen(nr_test_scratch("A.nrm"), "rb"), *fp = fopen(nr_test_scratch("AB.nrm"), "rb");
    fseek(fa, 0, SEEK_END), fseek(fp, 0, SEEK_END);
    long na = ftell(fa), np = ftell(fp);
    fclose(fa), fclose(fp);
    long weights = (long)nr_translator_member(AB, 1)->net.n_params * 4;
    CHECK_MSG(np < na + weights + 4096, "packed %ld bytes, one model %ld, weights %ld", np, na, weights);
    nlprnn_translator_free(P);

    /* bad packed files: truncated inside the second member, a flipped byte, members beyond the file's
     * sections, a member's configuration missing */
    nlprnn_translator *t = NULL;
    cut_file("AB.nrm", "cut.nrm", np - 200);
    int rc = nlprnn_translator_load(nr_test_scratch("cut.nrm"), &t, &err);
    CHECK_MSG(rc == NLPRNN_E_TRUNCATED && strstr(err.message, "cut.nrm") && strstr(err.message, "WG01") &&
                  strstr(err.message, "byte"),
              "%s: %s", nlprnn_status_name(rc), err.message);
    CHECK(t == NULL);
    set_byte("AB.nrm", "flip.nrm", np - 1000, 0377);
    expect_refused("flip.nrm", NLPRNN_E_CHECKSUM, "flip.nrm");
    rewrite("AB.nrm", "three.nrm", (edit){.members = 3});
    expect_refused("three.nrm", NLPRNN_E_FORMAT, "CF02");
    rewrite("AB.nrm", "many.nrm", (edit){.members = 99});
    expect_refused("many.nrm", NLPRNN_E_FORMAT, "members");
    rewrite("AB.nrm", "noconf.nrm", (edit){.drop = "CF01"});
    expect_refused("noconf.nrm", NLPRNN_E_FORMAT, "CF01");
}

/* The byte at offset 12 of a file: its container format version. */
static int file_version(const char *name) {
    FILE *fp = fopen(nr_test_scratch(name), "rb");
    unsigned char h[16] = {0};
    if (fp) {
        CHECK(fread(h, 1, 16, fp) == 16);
        fclose(fp);
    }
    return h[12];
}

static long file_size(const char *name) {
    FILE *fp = fopen(nr_test_scratch(name), "rb");
    long n = -1;
    if (fp) fseek(fp, 0, SEEK_END), n = ftell(fp), fclose(fp);
    return n;
}

/* int8 storage (docs/formats.md, TRNS): every matrix row within scale/2 of the float32 weights,
 * vectors exact; translations stay A's; packs with --store int8, mixed members; bad files refused. */
static void test_int8(const nlprnn_translator *A, const nlprnn_translator *AB) {
    nlprnn_error err;
    nlprnn_translator *A8 = NULL;
    CHECK_MSG(nlprnn_translator_save_stored(A, nr_test_scratch("A8.nrm"), "int8", &err) == 0, "%s", err.message);
    CHECK_INT_EQ(nlprnn_translator_save_stored(A, nr_test_scratch("x.nrm"), "int4", &err), NLPRNN_E_INVALID_ARG);
    CHECK(strstr(err.message, "int4") != NULL);
    CHECK_INT_EQ(file_version("A8.nrm"), 2);
    CHECK_INT_EQ(file_version("A.nrm"), 1);
    CHECK_MSG(nlprnn_translator_load(nr_test_scratch("A8.nrm"), &A8, &err) == 0, "%s", err.message);
    if (!A8) return;
    CHECK_INT_EQ(A8->p.store, 2);
    /* the parts tile the block; matrices within scale/2 per row, vectors exact */
    nr_s2s_part parts[NR_S2S_MAX_PARTS];
    int np = nr_s2s_parts(&A->net, parts), bad = 0, matrices = 0;
    size_t next = 0;
    for (int i = 0; i < np; i++) {
        const nr_s2s_part *q = &parts[i];
        CHECK_MSG(q->off == next, "part %s at %zu, expected %zu", q->name, q->off, next);
        next = q->off + (q->rows ? q->rows : 1) * q->cols;
        for (size_t r = 0; r < (q->rows ? q->rows : 1); r++) {
            const float *x = A->params + q->off + r * q->cols, *y = A8->params + q->off + r * q->cols;
            float amax = 0;
            for (size_t j = 0; j < q->cols; j++) amax = fmaxf(amax, fabsf(x[j]));
            double tol = q->rows ? amax / 127.0 / 2 * (1 + 1e-5) : 0;
            for (size_t j = 0; j < q->cols; j++) bad += fabs((double)x[j] - y[j]) > tol;
        }
        matrices += q->rows > 0;
    }
    CHECK_MSG(next == A->net.n_params, "the parts cover %zu of %zu", next, A->net.n_params);
    CHECK_INT_EQ(bad, 0);
    CHECK(matrices >= 8);
    nr_mf_reader *r = NULL;
    CHECK_INT_EQ(nr_mf_open_file(&r, nr_test_scratch("A8.nrm"), NR_KIND_TRANSLATOR, &err), 0);
    if (r) {
        nr_tensor_info ti;
        CHECK_INT_EQ((int)nr_mf_tensor_count(r, "WGHT"), np);
        CHECK(nr_mf_tensor_info(r, "WGHT", "dec.W_hh", &ti, NULL) == 0 && ti.dtype == NR_DTYPE_I8 && ti.ndim == 2);
        CHECK(nr_mf_tensor_info(r, "WGHT", "b_o", &ti, NULL) == 0 && ti.dtype == NR_DTYPE_F32 && ti.ndim == 1);
        CHECK(nr_mf_tensor_info(r, "WGHT", "params", &ti, NULL) != 0);
        nr_mf_close(r);
    }
    /* the weights take about a quarter of float32's bytes */
    long n32 = file_size("A.nrm"), n8 = file_size("A8.nrm"), w = (long)A->net.n_params;
    CHECK_MSG(n8 < n32 - 3 * w + w / 4, "int8 file %ld bytes, float32 %ld, %ld weights", n8, n32, w);
    /* translations: the same texts, log-probabilities close (greedy and beam) */
    int ndiff = 0;
    for (int beam = 1; beam <= 3; beam += 2) same_outputs(A, A8, beam, 0, 1, 0.05, NULL, "int8 vs float32");
    same_outputs(A, A8, 1, 0, 1, 0, &ndiff, "int8 vs float32");
    CHECK_MSG(ndiff > 0, "int8 gave the float32 log-probabilities on all %zu texts", NT);

    /* a pack as int8: member 1 is A8 bit for bit; saved again (keep), within rounding of itself */
    CHECK_MSG(nlprnn_translator_save_stored(AB, nr_test_scratch("AB8.nrm"), "int8", &err) == 0, "%s", err.message);
    nlprnn_translator *P = NULL, *Q = NULL;
    CHECK_MSG(nlprnn_translator_load(nr_test_scratch("AB8.nrm"), &P, &err) == 0, "%s", err.message);
    if (P) {
        CHECK_INT_EQ(nlprnn_translator_members(P), 2);
        CHECK(nr_translator_member(P, 1)->p.store == 2);
        CHECK(!memcmp(P->params, A8->params, A->net.n_params * sizeof(float)));
        CHECK_INT_EQ(nlprnn_translator_save_stored(P, nr_test_scratch("AB8k.nrm"), "keep", &err), 0);
        CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("AB8k.nrm"), &Q, &err), 0);
        int far = 0;
        for (int m = 0; Q && m < 2; m++) {
            const nlprnn_translator *x = nr_translator_member(P, m), *y = nr_translator_member(Q, m);
            for (size_t i = 0; i < x->net.n_params; i++)
                far += fabsf(x->params[i] - y->params[i]) > 1e-6f * fmaxf(1.0f, fabsf(x->params[i]));
        }
        CHECK_INT_EQ(far, 0);
        nlprnn_translator_free(Q);
        Q = NULL;
        /* converted back to float16: version 1, read by any build */
        CHECK_INT_EQ(nlprnn_translator_save_stored(P, nr_test_scratch("AB8h.nrm"), "f16", &err), 0);
        CHECK_INT_EQ(file_version("AB8h.nrm"), 1);
    }
    nlprnn_translator_free(P);
    /* mixed members: A8 (int8) with B (float32) kept as they are: the same outputs as -m A8 -m B */
    nlprnn_translator *M = ens("A8.nrm", "B.nrm", NULL);
    CHECK_MSG(M && nlprnn_translator_save(M, nr_test_scratch("mixed.nrm"), &err) == 0, "%s", err.message);
    CHECK_INT_EQ(file_version("mixed.nrm"), 2);
    CHECK_MSG(nlprnn_translator_load(nr_test_scratch("mixed.nrm"), &Q, &err) == 0, "%s", err.message);
    if (M && Q) {
        CHECK(nr_translator_member(Q, 0)->p.store == 2 && nr_translator_member(Q, 1)->p.store == 0);
        CHECK(!memcmp(nr_translator_member(Q, 1)->params, nr_translator_member(M, 1)->params,
                      nr_translator_member(M, 1)->net.n_params * sizeof(float)));
        same_outputs(M, Q, 3, 0, 1, 1e-4, NULL, "mixed pack vs -m A8 -m B");
    }
    nlprnn_translator_free(Q), nlprnn_translator_free(M);

    /* damaged int8 files: cut inside the weights, a flipped byte, a missing part, a part of the
     * wrong shape; each names the file (and the section) */
    nlprnn_translator *t = NULL;
    cut_file("A8.nrm", "cut8.nrm", n8 - 300);
    expect_refused("cut8.nrm", NLPRNN_E_TRUNCATED, "WGHT");
    set_byte("A8.nrm", "flip8.nrm", n8 - 500, 1);
    expect_refused("flip8.nrm", NLPRNN_E_CHECKSUM, "WGHT");
    rewrite("A8.nrm", "drop8.nrm", (edit){.tag = "WGHT", .tensor = "dec.W_hh"});
    expect_refused("drop8.nrm", NLPRNN_E_FORMAT, "WGHT");
    rewrite("A8.nrm", "shape8.nrm", (edit){.tag = "WGHT", .tensor = "W_c", .reshape = 1});
    expect_refused("shape8.nrm", NLPRNN_E_FORMAT, "W_c");
    rewrite("AB8.nrm", "drop8b.nrm", (edit){.tag = "WG01", .tensor = "emb_src"});
    expect_refused("drop8b.nrm", NLPRNN_E_FORMAT, "WG01");
    nlprnn_translator_free(A8);

    /* training with store=int8 writes int8 */
    nlprnn_translator_params *p = NULL;
    nlprnn_translator_params_create(&p, NULL);
    const char *kv[][2] = {{"src-vocab", "290"}, {"tgt-vocab", "300"}, {"embed", "8"}, {"hidden", "8"},
                           {"epochs", "1"},      {"store", "int8"}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) CHECK_INT_EQ(nlprnn_translator_params_set(p, kv[i][0], kv[i][1], NULL), 0);
    CHECK_MSG(nlprnn_translator_train(nr_test_scratch("pairs.tsv"), p, NULL, NULL, NULL, &t, &err) == 0, "%s", err.message);
    if (t) CHECK_MSG(nlprnn_translator_save(t, nr_test_scratch("T8.nrm"), &err) == 0, "%s", err.message);
    nlprnn_translator_free(t);
    nlprnn_translator_params_free(p);
    CHECK_INT_EQ(file_version("T8.nrm"), 2);
    t = NULL;
    CHECK_MSG(nlprnn_translator_load(nr_test_scratch("T8.nrm"), &t, &err) == 0 && t && t->p.store == 2, "%s", err.message);
    nlprnn_translator_free(t);
}

/* t's members without their compact copies (decoding then reads the float32 weights) */
static void drop_copies(nlprnn_translator *t) {
    for (int i = 0; i < nr_translator_members(t); i++) {
        nr_s2s *n = &((nlprnn_translator *)nr_translator_member(t, i))->net;
        n->c_wih = n->c_whh = n->c_wc = n->c_wo = (nr_wcopy){NULL, NULL, NULL};
    }
}

/* a batch of the texts through x and y: the same texts and log-probabilities bit for bit */
static void same_batch(const nlprnn_translator *x, const nlprnn_translator *y, const char *what) {
    nlprnn_translator_ctx *a = ctx_of(x, 1, 0, 0), *b = ctx_of(y, 1, 0, 0);
    size_t lens[NT];
    for (size_t i = 0; i < NT; i++) lens[i] = strlen(TEXTS[i]);
    CHECK_INT_EQ(nlprnn_translate_batch(a, TEXTS, lens, NT, NULL), 0);
    CHECK_INT_EQ(nlprnn_translate_batch(b, TEXTS, lens, NT, NULL), 0);
    for (size_t i = 0; i < NT; i++) {
        const char *s1 = nlprnn_translate_batch_text(a, i, NULL), *s2 = nlprnn_translate_batch_text(b, i, NULL);
        CHECK_MSG(s1 && s2 && !strcmp(s1, s2), "%s: batch text %zu", what, i);
        CHECK_MSG(nlprnn_translate_batch_logprob(a, i) == nlprnn_translate_batch_logprob(b, i), "%s: batch logp %zu",
                  what, i);
    }
    nlprnn_translator_ctx_free(a);
    nlprnn_translator_ctx_free(b);
}

/* AB saved with store "f16" or "int8": each member keeps its decoder matrices as the file stores
 * them (halves; int8 rows and scales), decoding reads them (nr_kgemv_f16 / nr_kgemv_i8 counted)
 * and gives exactly what the same file gives without them (the float32 widening), and a changed
 * row of the copy changes the log-probabilities (so the copy is what is read) */
static void test_copies(const nlprnn_translator *AB, const char *store) {
    nlprnn_error err;
    int i8 = !strcmp(store, "int8");
    char file[32], what[64];
    snprintf(file, sizeof file, "ABc%s.nrm", store);
    CHECK_MSG(nlprnn_translator_save_stored(AB, nr_test_scratch(file), store, &err) == 0, "%s", err.message);
    nlprnn_translator *F = NULL, *G = NULL, *X = NULL;
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch(file), &F, NULL), 0);
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch(file), &G, NULL), 0);
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch(file), &X, NULL), 0);
    if (!F || !G || !X) goto done;
    for (int i = 0; i < 2; i++) {
        const nlprnn_translator *m = nr_translator_member(F, i);
        const nr_s2s *n = &m->net;
        if (i8)
            CHECK_MSG(m->i8 && !m->half && n->c_wih.scale == m->i8 && n->c_wih.q && n->c_whh.q && n->c_wc.q &&
                          n->c_wo.q && n->c_wo.scale && !n->c_wih.h,
                      "member %d of an int8 file keeps no int8 rows", i + 1);
        else
            CHECK_MSG(m->half && !m->i8 && n->c_wih.h == m->half && n->c_whh.h && n->c_wc.h && n->c_wo.h &&
                          !n->c_wih.q,
                      "member %d of an f16 file keeps no halves", i + 1);
    }
    const nlprnn_translator *ab1 = nr_translator_member(AB, 0);
    CHECK(ab1->half == NULL && ab1->i8 == NULL); /* float32 file */
    drop_copies(G);
    int p = nr_kpath();
    long before = i8 ? nr_kgemv_i8_count() : nr_kgemv_f16_count();
    for (int combine = 0; combine < 2; combine++) {
        snprintf(what, sizeof what, "%s copies, greedy", store);
        same_outputs(F, G, 1, 0, combine, 0, NULL, what);
        snprintf(what, sizeof what, "%s copies, beam 3", store);
        same_outputs(F, G, 3, 0, combine, 0, NULL, what);
        snprintf(what, sizeof what, "%s copies, sampling", store);
        same_outputs(F, G, 1, 1, combine, 0, NULL, what);
    }
    snprintf(what, sizeof what, "%s copies", store);
    same_batch(F, G, what);
    /* the decoder's one-row products took the copy's kernel (the portable path too: these
     * products are tiny, so nr_sgemm takes nr_kgemv there) */
    if (i8)
        CHECK_MSG(nr_kgemv_i8_count() > before, "%s: nr_kgemv_i8 never ran", nr_kpath_name(p));
    else if (nr_kgemv_f16_usable(p))
        CHECK_MSG(nr_kgemv_f16_count() > before, "%s: nr_kgemv_f16 never ran", nr_kpath_name(p));
    /* a row of member 1's W_hh changed in its copy only: other log-probabilities, so the copy is
     * what is read (W_hh: the one matrix small enough for nr_kgemv on the portable path); for
     * int8, first the row's scale, then (scale restored) its bytes */
    nlprnn_translator *x1 = (nlprnn_translator *)nr_translator_member(X, 0);
    if (x1->half) {
        uint16_t *whh = (uint16_t *)x1->net.c_whh.h;
        for (int j = 0; j < x1->net.H; j++) whh[j] ^= 0x0400; /* row 0: an exponent bit */
        int nd = 0;
        snprintf(what, sizeof what, "%s copies changed", store);
        same_outputs(X, G, 1, 0, 0, 0, &nd, what);
        CHECK_MSG(nd > 0, "a changed half changed no log-probability");
    }
    if (x1->i8) {
        float *sc = (float *)x1->net.c_whh.scale, s0 = sc[1];
        sc[1] *= 1.5f; /* row 1's scale */
        int nd = 0;
        same_outputs(X, G, 1, 0, 0, 0, &nd, "int8 scale changed");
        CHECK_MSG(nd > 0, "a changed int8 scale changed no log-probability");
        sc[1] = s0;
        same_outputs(X, G, 1, 0, 0, 0, NULL, "int8 scale restored");
        int8_t *q = (int8_t *)x1->net.c_whh.q;
        for (int k = 0; k < x1->net.H; k++) q[2 * x1->net.H + k] = (int8_t)-q[2 * x1->net.H + k]; /* row 2 */
        nd = 0;
        same_outputs(X, G, 1, 0, 0, 0, &nd, "int8 row changed");
        CHECK_MSG(nd > 0, "a changed int8 row changed no log-probability");
    }
done:
    nlprnn_translator_free(F), nlprnn_translator_free(G), nlprnn_translator_free(X);
}

static void test_cli(void) {
    const char *cli = getenv("NLPRNN_CLI");
    if (!cli) {
        printf("test_translate_ens: NLPRNN_CLI not set, the program's part skipped\n");
        return;
    }
    char *o1 = NULL, *o2 = NULL;
    CHECK_INT_EQ(nr_test_run(&o1, "%s translate -m %s -m %s --beam 3 '가나 다라' '마바 사아 자차' 2>&1", cli,
                             nr_test_scratch("A.nrm"), nr_test_scratch("B.nrm")), 0);
    CHECK_INT_EQ(nr_test_run(&o2, "%s translate -m %s --beam 3 '가나 다라' '마바 사아 자차' 2>&1", cli, nr_test_scratch("AB.nrm")), 0);
    CHECK_MSG(o1 && o2 && !strcmp(o1, o2) && strlen(o1) > 2, "-m A -m B: %s; packed: %s", o1, o2);
    free(o1), free(o2);
    /* tokenize with a translator's tokenizers: the source side's by default, --target the other;
     * the shipped ko-en's two sides cut a Korean text differently. --target with anything but a
     * translator is a usage error; a model without a tokenizer (a tagger) says so */
    nr_test_expect(0, MUST("▁"), "%s tokenize -m %s '가나 다라'", cli, nr_test_scratch("AB.nrm"));
    nr_test_expect(0, MUST("▁"), "%s tokenize -m %s --target 'ab cd'", cli, nr_test_scratch("AB.nrm"));
    CHECK_INT_EQ(nr_test_run(&o1, "%s tokenize -m ko-en --ids '이 책은 누구의 것입니까?'", cli), 0);
    CHECK_INT_EQ(nr_test_run(&o2, "%s tokenize -m ko-en --target --ids '이 책은 누구의 것입니까?'", cli), 0);
    CHECK_MSG(o1 && o2 && *o1 && *o2 && strcmp(o1, o2), "ko-en source ids '%s', target ids '%s'", o1 ? o1 : "",
              o2 ? o2 : "");
    free(o1), free(o2);
    nr_test_expect(2, MUST("--target", "not a translator"), "%s tokenize -m ko --target '좋아요'", cli);
    nr_test_expect(5, MUST("holds no tokenizer", "TAGR", "NLPRNN_E_UNSUPPORTED"), "%s tokenize -m ko-space '좋아요'", cli);
    nr_test_expect(0, MUST("ensemble of 2"), "%s translate-pack -o %s %s %s", cli, nr_test_scratch("cli.nrm"), nr_test_scratch("A.nrm"),
                   nr_test_scratch("B.nrm"));
    CHECK_INT_EQ(nr_test_run(NULL, "cmp %s %s", nr_test_scratch("cli.nrm"), nr_test_scratch("AB.nrm")), 0);
    nr_test_expect(5, MUST("C.nrm", "tokenizer", "NLPRNN_E_UNSUPPORTED"), "%s translate-pack -o %s %s %s", cli,
                   nr_test_scratch("bad.nrm"), nr_test_scratch("A.nrm"), nr_test_scratch("C.nrm"));
    CHECK(access(nr_test_scratch("bad.nrm"), F_OK) != 0);
    nr_test_expect(5, MUST("cut.nrm", "truncated"), "%s translate -m %s -m %s x", cli, nr_test_scratch("A.nrm"), nr_test_scratch("cut.nrm"));
    nr_test_expect(2, MUST("--combine"), "%s translate -m %s --combine mean x", cli, nr_test_scratch("A.nrm"));
    nr_test_expect(2, MUST("-o OUT"), "%s translate-pack %s", cli, nr_test_scratch("A.nrm"));
    nr_test_expect(0, MUST("BLEU", "chrF"), "%s translate-eval -m %s -m %s --combine logp %s", cli, nr_test_scratch("A.nrm"),
                   nr_test_scratch("B.nrm"), nr_test_scratch("pairs.tsv"));
    /* --store: the library's bytes; one MODEL converts; a bad choice is a usage error */
    nr_test_expect(0, MUST("ensemble of 2"), "%s translate-pack -o %s --store int8 %s %s", cli, nr_test_scratch("cli8.nrm"),
                   nr_test_scratch("A.nrm"), nr_test_scratch("B.nrm"));
    CHECK_INT_EQ(nr_test_run(NULL, "cmp %s %s", nr_test_scratch("cli8.nrm"), nr_test_scratch("AB8.nrm")), 0);
    nr_test_expect(0, MUST("wrote"), "%s translate-pack --store int8 -o %s %s", cli, nr_test_scratch("one8.nrm"),
                   nr_test_scratch("A.nrm"));
    CHECK_INT_EQ(nr_test_run(NULL, "cmp %s %s", nr_test_scratch("one8.nrm"), nr_test_scratch("A8.nrm")), 0);
    nr_test_expect(0, MUST("ensemble of 2"), "%s translate-pack --store keep -o %s %s %s", cli, nr_test_scratch("keep8.nrm"),
                   nr_test_scratch("A8.nrm"), nr_test_scratch("B.nrm"));
    CHECK_INT_EQ(nr_test_run(NULL, "cmp %s %s", nr_test_scratch("keep8.nrm"), nr_test_scratch("mixed.nrm")), 0);
    nr_test_expect(2, MUST("--store", "int8"), "%s translate-pack --store int4 -o %s %s", cli, nr_test_scratch("bad8.nrm"),
                   nr_test_scratch("A.nrm"));
    nr_test_expect(2, MUST("--store"), "%s space-pack --store int8 -o %s %s", cli, nr_test_scratch("bad8.nrm"),
                   nr_test_scratch("A.nrm"));
    nr_test_expect(0, MUST("int8", "dec.W_hh"), "%s info %s", cli, nr_test_scratch("A8.nrm"));
    nr_test_expect(5, MUST("drop8.nrm", "WGHT"), "%s translate -m %s x", cli, nr_test_scratch("drop8.nrm"));
}

int main(void) {
    nr_test_scratch_make("test_translate_ens");
    static const char *const KO[] = {"가나", "다라", "마바", "사아", "자차", "카타", "파하", "고노"};
    static const char *const EN[] = {"cat", "dog", "tree", "sun", "moon", "red", "big", "run"};
    static const char *const KO2[] = {"너더", "러머", "버서", "어저", "처커", "터퍼", "허노", "도로"};
    make_pairs("pairs.tsv", KO, EN, 7);
    make_pairs("pairs2.tsv", KO2, EN, 7);
    nlprnn_translator_free(train("pairs.tsv", "1", "A.nrm"));
    nlprnn_translator_free(train("pairs.tsv", "2", "B.nrm"));
    nlprnn_translator_free(train("pairs2.tsv", "1", "C.nrm"));
    /* the models as files hold them (float32 here; the same path as a shipped file) */
    nlprnn_translator *A = NULL, *B = NULL;
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("A.nrm"), &A, NULL), 0);
    CHECK_INT_EQ(nlprnn_translator_load(nr_test_scratch("B.nrm"), &B, NULL), 0);
    nlprnn_translator *AB = A && B ? ens("A.nrm", "B.nrm", NULL) : NULL;
    if (A) { /* what the models make of the texts (for the log) */
        nlprnn_translator_ctx *c = ctx_of(A, 1, 0, 0);
        static result r;
        for (size_t i = 0; i < NT; i++) run(c, TEXTS[i], &r), printf("A: %s -> %s (%zu tokens)\n", TEXTS[i], r.text, r.T);
        nlprnn_translator_ctx_free(c);
    }
    if (AB) {
        test_one_and_self(A);
        test_differs(A, B, AB);
        test_by_hand(AB);
        test_beam1_batch_sample(AB);
        test_mismatch();
        test_pack(AB);
        test_int8(A, AB);
        test_copies(AB, "f16");
        test_copies(AB, "int8");
        test_cli();
    }
    nlprnn_translator_free(A), nlprnn_translator_free(B), nlprnn_translator_free(AB);
    nr_test_scratch_remove();
    return nr_test_done("test_translate_ens");
}
