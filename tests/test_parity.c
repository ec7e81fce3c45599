/* tests/test_parity.c: outputs, final states and every gradient of nlprnn's SimpleRNN, LSTM and GRU
 * match PyTorch's nn.RNN / nn.LSTM / nn.GRU (1 layer; 2 bidirectional layers over packed
 * variable-length sequences) loaded with the same weights. The fixtures in tests/data/parity/ were
 * written by tests/pytorch/make_parity.py (float64 reference); torch is not needed here.
 * Tolerance: |ours - ref| <= 1e-5 * max(|ref|, 1) for every element (relative 1e-5, with an
 * absolute floor of 1e-5 for values below 1). */
#include <stdlib.h>
#include <string.h>

#include "models/nn.h"
#include "testutil.h"

typedef struct {
    char name[32];
    size_t n;
    double *v;
} tensor;

typedef struct {
    char cell[16];
    int layers, bidi, I, H, T, B;
    tensor t[24];
    int nt;
} fixture;

static const tensor *get(const fixture *f, const char *name)
{
    for (int k = 0; k < f->nt; k++)
        if (!strcmp(f->t[k].name, name))
            return &f->t[k];
    return NULL;
}

static int load(fixture *f, const char *path)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    char line[4096];
    int rc = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (!strncmp(line, "config ", 7)) {
            if (sscanf(line, "config cell=%15s layers=%d bidirectional=%d input=%d hidden=%d T=%d B=%d",
                       f->cell, &f->layers, &f->bidi, &f->I, &f->H, &f->T, &f->B) != 7)
                rc = -1;
            continue;
        }
        tensor *t = &f->t[f->nt];
        if (f->nt >= 24 || sscanf(line, "tensor %31s %zu", t->name, &t->n) != 2) {
            rc = -1;
            break;
        }
        t->v = malloc((t->n ? t->n : 1) * sizeof(double));
        for (size_t k = 0; k < t->n; k++)
            if (fscanf(fp, "%lf", &t->v[k]) != 1)
                rc = -1;
        f->nt++;
        int c;
        while ((c = fgetc(fp)) != EOF && c != '\n')
            ;
    }
    fclose(fp);
    if (rc)
        fprintf(stderr, "%s: malformed fixture\n", path);
    return rc;
}

static float *to_float(const tensor *t)
{
    float *b = malloc((t->n ? t->n : 1) * sizeof(float));
    for (size_t k = 0; k < t->n; k++)
        b[k] = (float)t->v[k];
    return b;
}

static void compare(const char *file, const char *what, const float *ours, const tensor *ref,
                    size_t n)
{
    CHECK_MSG(ref && ref->n == n, "%s: %s: size %zu, fixture %zu", file, what, n, ref ? ref->n : 0);
    if (!ref || ref->n != n)
        return;
    double worst = 0.0;
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        double e = fabs(ours[k] - ref->v[k]) / fmax(fabs(ref->v[k]), 1.0);
        if (e > worst) {
            worst = e;
            at = k;
        }
    }
    CHECK_MSG(worst <= 1e-5, "%s: %s: element %zu is %.9g, PyTorch %.9g (rel %.3g)", file, what,
              at, (double)ours[at], ref->v[at], worst);
}

static void run(const char *file, int nthreads)
{
    fixture f;
    if (load(&f, nr_test_data_path(file))) {
        CHECK_MSG(0, "%s: could not load", file);
        return;
    }
    nr_encoder_cfg cfg;
    nr_encoder_cfg_default(&cfg, f.I, f.H);
    cfg.cell = nr_cell_from_name(f.cell);
    cfg.layers = f.layers;
    cfg.bidirectional = f.bidi;
    int lstm = cfg.cell == NR_CELL_LSTM;
    nr_encoder enc;
    size_t np = nr_encoder_param_count(&cfg);
    const tensor *tp = get(&f, "params");
    CHECK_MSG(tp && tp->n == np, "%s: %zu parameters, PyTorch %zu", file, np, tp ? tp->n : 0);
    if (!tp || tp->n != np)
        return;
    float *params = to_float(tp), *grad = calloc(np, sizeof(float));
    CHECK_INT_EQ(nr_encoder_bind(&enc, &cfg, params, NULL), 0);
    int T = f.T, B = f.B, H = f.H, S = f.layers * enc.dirs, O = enc.out_size;
    int lens[64];
    const tensor *tl = get(&f, "lengths");
    for (int b = 0; b < B; b++)
        lens[b] = (int)tl->v[b];
    float *x = to_float(get(&f, "x")), *h0 = to_float(get(&f, "h0")), *c0 = to_float(get(&f, "c0"));
    float *r_out = to_float(get(&f, "r_out")), *r_hn = to_float(get(&f, "r_hn"));
    float *r_cn = lstm ? to_float(get(&f, "r_cn")) : NULL;
    size_t ns = (size_t)S * B * H, nx = (size_t)T * B * f.I, no = (size_t)T * B * O;
    float *out = calloc(no, 4), *hn = calloc(ns, 4), *cn = calloc(ns, 4);
    float *dx = calloc(nx, 4), *dh0 = calloc(ns, 4), *dc0 = calloc(ns, 4);
    nr_encoder_ws *ws = nr_encoder_ws_create(&enc, T, B, 1, nthreads, NULL);
    CHECK_INT_EQ(nr_encoder_forward(&enc, ws, out, hn, cn, x, lens, h0, lstm ? c0 : NULL, T, B,
                                    NULL, NULL),
                 0);
    CHECK_INT_EQ(nr_encoder_backward(&enc, ws, grad, dx, dh0, dc0, r_out, r_hn, r_cn, NULL), 0);
    compare(file, "out", out, get(&f, "out"), no);
    compare(file, "hn", hn, get(&f, "hn"), ns);
    compare(file, "d_params", grad, get(&f, "d_params"), np);
    compare(file, "dx", dx, get(&f, "dx"), nx);
    compare(file, "dh0", dh0, get(&f, "dh0"), ns);
    if (lstm) {
        compare(file, "cn", cn, get(&f, "cn"), ns);
        compare(file, "dc0", dc0, get(&f, "dc0"), ns);
    }
    nr_encoder_ws_free(ws);
    free(params); free(grad); free(x); free(h0); free(c0); free(r_out); free(r_hn); free(r_cn);
    free(out); free(hn); free(cn); free(dx); free(dh0); free(dc0);
    for (int k = 0; k < f.nt; k++)
        free(f.t[k].v);
}

int main(void)
{
    static const char *files[] = {"parity/rnn_l1.txt", "parity/lstm_l1.txt", "parity/gru_l1.txt",
                                  "parity/rnn_l2_bidi_len.txt", "parity/lstm_l2_bidi_len.txt",
                                  "parity/gru_l2_bidi_len.txt"};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        run(files[k], 1);
        run(files[k], 2);
    }
    return nr_test_done("test_parity");
}
