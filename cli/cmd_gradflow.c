/* cli/cmd_gradflow.c: `nlprnn gradflow` — vanishing and exploding gradients, made visible.
 *
 *   nlprnn gradflow [--length 150] ...            ||dL/dh_{T-t}|| for SimpleRNN, LSTM, GRU
 *   nlprnn gradflow --explode [--gain 2] ...      one SGD run without and one with clipping
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

static const char *const GF = "gradflow";

static void usage(FILE *fp) {
    fprintf(fp,
        "usage: nlprnn gradflow [--length N] [--hidden N] [--batch N] [--gain G] [--gate-bias B]\n"
        "                       [--seed N] [--plot FILE.svg|.png] [-o FILE.csv]\n"
        "       nlprnn gradflow --explode [--cell rnn] [--length N] [--hidden N] [--batch N]\n"
        "                       [--gain G] [--lr F] [--clip F] [--steps N] [--seed N]\n"
        "                       [--plot FILE] [-o FILE.csv]\n\n"
        "Without --explode: for SimpleRNN, LSTM and GRU (one layer, fresh seeded weights, the same\n"
        "standard-normal input sequences) the mean norm of d loss(last step) / d h_{T-t} for\n"
        "t = 0 .. length-1, printed every 10 steps and plotted on a log scale. Defaults: length 150,\n"
        "hidden 32, batch 16, gain 1 (recurrent weights orthogonal x gain), seed 1. --gate-bias B\n"
        "sets the input bias of the LSTM's forget gate and the GRU's update gate (init: 1 and 0),\n"
        "the state training reaches when a task needs long memory.\n\n"
        "With --explode: plain SGD on noisy sines of `length` steps (predict the next value), once\n"
        "without clipping and once clipping by global norm to --clip; prints and plots the loss and\n"
        "the gradient norm per step. Defaults: cell rnn, length 100, hidden 32, batch 16, gain 1.8,\n"
        "lr 0.05, clip 1, steps 1000, seed 1.\n\n"
        "-o, --output FILE.csv writes the table of every step (old spelling: --csv).\n");
}

static int norms_run(long length, long hidden, long batch, double gain, double gate_bias,
                     unsigned long long seed, const char *plotp, const char *csvp) {
    static const char *const cells[3] = {"rnn", "lstm", "gru"};
    static const char *const labels[3] = {"SimpleRNN", "LSTM", "GRU"};
    double *norms[3] = {0};
    int rc = 0;
    for (int c = 0; c < 3 && !rc; c++) {
        norms[c] = malloc((size_t)length * sizeof(double));
        if (!norms[c]) return CLI_EXIT_LIMIT;
        nlprnn_error e;
        int lrc = nlprnn_gradflow_norms(cells[c], (int)hidden, (int)length, (int)batch, gain,
                                        gate_bias, seed, norms[c], &e);
        if (lrc) rc = cli_report(GF, lrc, &e);
    }
    if (!rc) {
        printf("# ||d loss(T) / d h_(T-t)||, mean over %ld sequences; hidden %ld, gain %g, "
               "gate bias %s, seed %llu\n", batch, hidden, gain, isfinite(gate_bias) ? "set" : "init", seed);
        if (isfinite(gate_bias)) printf("# LSTM forget-gate and GRU update-gate input bias = %g\n", gate_bias);
        printf("%6s %14s %14s %14s\n", "t", labels[0], labels[1], labels[2]);
        for (long t = 0; t < length; t++)
            if (t % 10 == 0 || t == length - 1)
                printf("%6ld %14.4e %14.4e %14.4e\n", t, norms[0][t], norms[1][t], norms[2][t]);
        for (int c = 0; c < 3; c++) {
            long t = 0;
            while (t < length && norms[c][t] >= norms[c][0] * 1e-3) t++;
            if (t < length) printf("%s: falls below 1/1000 of its t=0 value at t = %ld\n", labels[c], t);
            else printf("%s: stays above 1/1000 of its t=0 value up to t = %ld\n", labels[c], length - 1);
        }
    }
    if (!rc && csvp) { /* atomic: the old file stays until the whole table is written */
        nlprnn_output *o;
        nlprnn_error e;
        int lrc = nlprnn_output_open(csvp, &o, &e);
        if (!lrc) {
            FILE *fp = nlprnn_output_stream(o);
            fprintf(fp, "t,rnn,lstm,gru\n");
            for (long t = 0; t < length; t++)
                fprintf(fp, "%ld,%.9g,%.9g,%.9g\n", t, norms[0][t], norms[1][t], norms[2][t]);
            lrc = nlprnn_output_commit(o, &e);
        }
        if (lrc) rc = cli_report(GF, lrc, &e);
    }
    if (!rc && plotp) {
        plot_curve cv[3];
        for (int c = 0; c < 3; c++) cv[c] = (plot_curve){NULL, norms[c], (size_t)length, labels[c], c + 1, PLOT_LINE};
        char title[160];
        if (isfinite(gate_bias))
            snprintf(title, sizeof title, "gradient back in time (hidden %ld, gain %g, carry-gate bias %g)",
                     hidden, gain, gate_bias);
        else
            snprintf(title, sizeof title, "gradient back in time at initialisation (hidden %ld, gain %g)",
                     hidden, gain);
        plot_spec s = {plotp, title, "t (steps back from the last)", "||dL/dh(T-t)|| (log scale)", 1, cv, 3, 0};
        char msg[512];
        if (plot_draw(&s, msg, sizeof msg)) {
            fprintf(stderr, "nlprnn gradflow: %s\n", msg);
            rc = CLI_EXIT_IO;
        } else {
            fprintf(stderr, "wrote %s\n", plotp);
        }
    }
    for (int c = 0; c < 3; c++) free(norms[c]);
    return rc;
}

static int explode_run(const char *cell, long length, long hidden, long batch, double gain,
                       double lr, double clip, long steps, unsigned long long seed,
                       const char *plotp, const char *csvp) {
    double *loss[2], *gn[2];
    int div[2];
    int rc = 0;
    for (int r = 0; r < 2; r++) {
        loss[r] = malloc((size_t)steps * sizeof(double));
        gn[r] = malloc((size_t)steps * sizeof(double));
        if (!loss[r] || !gn[r]) return CLI_EXIT_LIMIT;
        nlprnn_error e;
        int lrc = nlprnn_gradflow_train(cell, (int)hidden, (int)length, (int)batch, gain, lr,
                                        r == 0 ? 0.0 : clip, (int)steps, seed, loss[r], gn[r],
                                        &div[r], &e);
        if (lrc) {
            rc = cli_report(GF, lrc, &e);
            break;
        }
    }
    if (!rc) {
        printf("# %s, length %ld, hidden %ld, batch %ld, recurrent gain %g, SGD lr %g, seed %llu\n",
               cell, length, hidden, batch, gain, lr, seed);
        printf("%6s %14s %14s %14s %14s\n", "step", "loss(noclip)", "gnorm(noclip)", "loss(clip)", "gnorm(clip)");
        for (long s = 0; s < steps; s++)
            if (s % 25 == 0 || s == steps - 1)
                printf("%6ld %14.4e %14.4e %14.4e %14.4e\n", s, loss[0][s], gn[0][s], loss[1][s], gn[1][s]);
        for (int r = 0; r < 2; r++) {
            double gmax = 0, last = NAN;
            for (long s = 0; s < steps; s++) {
                if (isfinite(gn[r][s]) && gn[r][s] > gmax) gmax = gn[r][s];
                if (isfinite(loss[r][s])) last = loss[r][s];
            }
            double tail = 0;
            long nt = 0;
            for (long s = steps - steps / 10; s < steps; s++)
                if (isfinite(loss[r][s])) tail += loss[r][s], nt++;
            printf("%s: largest gradient norm %.3e; %s; mean loss over the last %ld steps %s",
                   r == 0 ? "without clipping" : "with clipping   ", gmax,
                   div[r] >= 0 ? "DIVERGED" : "finite throughout", steps / 10,
                   nt ? "" : "n/a");
            if (nt) printf("%.4g", tail / (double)nt);
            if (div[r] >= 0) printf(" (non-finite from step %d)", div[r]);
            printf("; last finite loss %.4g\n", last);
        }
    }
    if (!rc && csvp) { /* atomic, as above */
        nlprnn_output *o;
        nlprnn_error e;
        int lrc = nlprnn_output_open(csvp, &o, &e);
        if (!lrc) {
            FILE *fp = nlprnn_output_stream(o);
            fprintf(fp, "step,loss_noclip,gnorm_noclip,loss_clip,gnorm_clip\n");
            for (long s = 0; s < steps; s++)
                fprintf(fp, "%ld,%.9g,%.9g,%.9g,%.9g\n", s, loss[0][s], gn[0][s], loss[1][s], gn[1][s]);
            lrc = nlprnn_output_commit(o, &e);
        }
        if (lrc) rc = cli_report(GF, lrc, &e);
    }
    if (!rc && plotp) {
        char t1[160], t2[160], lab[64];
        snprintf(lab, sizeof lab, "clip by norm %g", clip);
        plot_curve lc[2] = {{NULL, loss[0], (size_t)steps, "no clipping", 4, PLOT_LINE},
                            {NULL, loss[1], (size_t)steps, lab, 3, PLOT_LINE}};
        plot_curve gc[2] = {{NULL, gn[0], (size_t)steps, "no clipping", 4, PLOT_LINE},
                            {NULL, gn[1], (size_t)steps, lab, 3, PLOT_LINE}};
        snprintf(t1, sizeof t1, "%s, %ld steps long, W_hh x %g, SGD lr %g: training loss", cell,
                 length, gain, lr);
        snprintf(t2, sizeof t2, "gradient norm before clipping");
        plot_spec top = {plotp, t1, "SGD step", "MSE (log scale)", 1, lc, 2, 0};
        plot_spec bot = {plotp, t2, "SGD step", "||grad|| (log scale)", 1, gc, 2, 0};
        char msg[512];
        if (plot_draw2(plotp, &top, &bot, msg, sizeof msg)) {
            fprintf(stderr, "nlprnn gradflow: %s\n", msg);
            rc = CLI_EXIT_IO;
        } else {
            fprintf(stderr, "wrote %s\n", plotp);
        }
    }
    for (int r = 0; r < 2; r++) free(loss[r]), free(gn[r]);
    return rc;
}

int cmd_gradflow(int argc, char **argv) {
    int explode = 0;
    long long length = -1, hidden = 32, batch = 16, steps = 1000;
    double gain = -1, lr = 0.05, clip = 1, gate_bias = NAN;
    unsigned long long seed = 1;
    const char *cell = "rnn", *plotp = NULL, *csvp = NULL;
    enum { EXPLODE = CLI_LONG, LENGTH, HIDDEN, BATCH, STEPS, GAIN, LR, CLIP, GATE_BIAS, CELL, PLOT, SEED };
    static const cli_opt options[] = {
        {"explode", EXPLODE, CLI_NO_ARG, NULL}, {"length", LENGTH, CLI_ARG, NULL},
        {"hidden", HIDDEN, CLI_ARG, NULL},      {"batch", BATCH, CLI_ARG, NULL},
        {"steps", STEPS, CLI_ARG, NULL},        {"gain", GAIN, CLI_ARG, NULL},
        {"lr", LR, CLI_ARG, NULL},              {"clip", CLIP, CLI_ARG, NULL},
        {"gate-bias", GATE_BIAS, CLI_ARG, NULL}, {"cell", CELL, CLI_ARG, NULL},
        {"plot", PLOT, CLI_ARG, NULL},          {"output", 'o', CLI_ARG, "--csv"},
        {"seed", SEED, CLI_ARG, NULL},          {NULL, 0, 0, NULL}};
    cli_args a;
    int c;
    cli_args_init(&a, GF, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: usage(stdout); return CLI_OK;
        case EXPLODE: explode = 1; break;
        case LENGTH: cli_args_int(&a, 2, 100000, &length); break;
        case HIDDEN: cli_args_int(&a, 1, 4096, &hidden); break;
        case BATCH: cli_args_int(&a, 1, 4096, &batch); break;
        case STEPS: cli_args_int(&a, 1, 1000000, &steps); break;
        case GAIN: cli_args_double(&a, 0, 100, &gain); break;
        case LR: cli_args_double(&a, 1e-12, 100, &lr); break;
        case CLIP: cli_args_double(&a, 0, 1e30, &clip); break;
        case GATE_BIAS: cli_args_double(&a, -100, 100, &gate_bias); break;
        case CELL: cell = a.value; break;
        case PLOT: plotp = a.value; break;
        case 'o': csvp = a.value; break;
        case SEED: cli_args_u64(&a, &seed); break;
        case CLI_POSITIONAL: cli_args_fail(&a, "unexpected argument '%s'", a.value); break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    /* before the runs: each output may be written and is not the other one */
    const char *outs[2] = {plotp, csvp};
    for (int k = 0; k < 2; k++) {
        nlprnn_error e;
        int lrc = outs[k] ? nlprnn_output_check(outs[k], &outs[1 - k], 1, &e) : 0;
        if (lrc) return cli_report(GF, lrc, &e);
    }
    if (explode)
        return explode_run(cell, length < 0 ? 100 : length, hidden, batch, gain < 0 ? 1.8 : gain,
                           lr, clip, steps, seed, plotp, csvp);
    return norms_run(length < 0 ? 150 : length, hidden, batch, gain < 0 ? 1.0 : gain, gate_bias,
                     seed, plotp, csvp);
}
