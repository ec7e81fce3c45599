/* cli/cmd_forecast.c: `nlprnn forecast sine|train|eval|predict` — numeric series forecasting. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

static const char *const FC = "forecast";

/* The forecaster's parameters that have options of their own (the rest are --NAME VALUE); "target"
 * is --target NAME (a column name, turned into its index). */
static const char *const FC_OWN[] = {"target", NULL, "train", "--train-split", "valid", "--valid-split",
                                     "threads", "-t, --threads", NULL};

static void usage(FILE *fp) {
    fprintf(fp,
        "usage: nlprnn forecast sine -o FILE.csv [--length N] [--period P] [--noise S] [--seed N]\n"
        "       nlprnn forecast windows -i FILE.csv --column NAME [--window N] [--horizon N]\n"
        "                               [--limit N] [--plot FILE.svg]\n"
        "       nlprnn forecast train -i FILE.csv --column NAME[,NAME...] -o MODEL.nrm [OPTIONS]\n"
        "       nlprnn forecast eval MODEL.nrm -i FILE.csv [--part test|valid|train|all]\n"
        "                                      [--plot FILE.svg] [-o PRED.csv]\n"
        "       nlprnn forecast predict MODEL.nrm -i FILE.csv [--from ROW] [--steps N]\n"
        "                                         [--plot FILE.svg]\n\n"
        "A many-to-one recurrent regressor: a window of `window` rows of the columns (the first\n"
        "column, or --target NAME, is predicted `horizon` rows after the window). Splits are\n"
        "chronological (train | valid | test); the scaler is fitted on the training rows only.\n"
        "Metrics (RMSE, MAE, MAPE) are printed beside persistence (the last value) and a moving\n"
        "average of the last `ma` values. -i, --input FILE.csv names the series (old spelling:\n"
        "--csv); MODEL (a file, or a shipped model's name) may also be given as -m MODEL; eval's\n"
        "-o, --output was --out.\n\n"
        "train options:\n"
        "  --target NAME (the column to predict; default: the first)  -q, --quiet\n"
        "  --plots PREFIX (writes PREFIX-series.svg, PREFIX-windows.svg, PREFIX-loss.svg,\n"
        "  PREFIX-test.svg; .png with --png)\n"
        "  --resume (continue from the checkpoint: the same model as an uninterrupted run)\n"
        "  Ctrl-C writes the checkpoint after the current batch and exits 130.\n"
        "train parameters (--NAME VALUE or --NAME=VALUE; default, range; old spellings of\n"
        "--train-split, --valid-split: --train, --valid):\n");
    cli_param_usage(fp, nlprnn_forecaster_param_info, FC_OWN);
    fprintf(fp,
        "predict: uses rows [0, ROW) as history (default: all rows) and feeds predictions back for\n"
        "  --steps N > 1 (single-column models with horizon 1); where rows ROW.. exist they are\n"
        "  printed (and plotted) as the truth.\n");
}

/* ---- small helpers ------------------------------------------------------------------------ */

/* Split "a,b,c" into at most max names (pointers into a copy kept in *store). */
static int split_names(const char *s, char **store, const char **names, int max) {
    *store = strdup(s);
    if (!*store) return -1;
    int n = 0;
    for (char *tok = strtok(*store, ","); tok && n < max; tok = strtok(NULL, ",")) names[n++] = tok;
    return n;
}

/* The metrics table of an evaluation; cell and ma are the forecaster's settings as text. */
static void print_metrics(const char *label, const double *m, const char *cell, const char *ma) {
    static const char *const rows[] = {"model", "persistence", "moving average"};
    printf("%-28s %12s %12s %10s\n", label, "RMSE", "MAE", "MAPE%");
    for (int r = 0; r < NLPRNN_FORECAST_METHODS; r++) {
        char name[64];
        if (r == NLPRNN_FORECAST_MODEL) snprintf(name, sizeof name, "model (%s)", cell);
        else if (r == NLPRNN_FORECAST_MOVING_AVERAGE) snprintf(name, sizeof name, "moving average (%s)", ma);
        else snprintf(name, sizeof name, "%s", rows[r]);
        const double *v = m + r * NLPRNN_METRICS;
        printf("  %-26s %12.4f %12.4f %10.3f\n", name, v[NLPRNN_METRIC_RMSE], v[NLPRNN_METRIC_MAE],
               v[NLPRNN_METRIC_MAPE]);
    }
    const double *mo = m, *pe = m + NLPRNN_FORECAST_PERSISTENCE * NLPRNN_METRICS;
    printf("  model vs persistence: RMSE %+.1f%%, MAE %+.1f%% (%s)\n",
           100.0 * (mo[0] / pe[0] - 1), 100.0 * (mo[1] / pe[1] - 1),
           mo[0] < pe[0] ? "the model beats persistence on RMSE"
                         : "the model does NOT beat persistence on RMSE");
}

/* A setting of f as text, for display (nlprnn_forecaster_get: "lstm", "30"). */
static int get_setting(const nlprnn_forecaster *f, const char *name, char *buf, size_t cap) {
    nlprnn_error e;
    return nlprnn_forecaster_get(f, name, buf, cap, &e);
}

/* Before any work: path (if given) may be written and is none of others (inputs and the other
 * outputs of the command); else the message and the exit code. */
static int check_output(const char *path, const char *const *others, size_t n) {
    nlprnn_error e;
    int rc = path ? nlprnn_output_check(path, others, n, &e) : 0;
    return rc ? cli_report(FC, rc, &e) : 0;
}

static int plot_or_warn(const plot_spec *s) {
    char msg[512];
    if (plot_draw(s, msg, sizeof msg)) {
        fprintf(stderr, "nlprnn forecast: %s\n", msg);
        return CLI_EXIT_IO;
    }
    fprintf(stderr, "wrote %s\n", s->path);
    return 0;
}

/* Test-part (or any part) figure: truth, model and persistence against the row index. */
static int plot_part(const char *path, const char *title, const char *ylabel, const double *pred,
                     const double *truth, size_t n, size_t first_row, int horizon) {
    double *x = malloc(n * sizeof *x), *pers = malloc(n * sizeof *pers);
    if (!x || !pers) {
        free(x);
        free(pers);
        return CLI_EXIT_LIMIT;
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)(first_row + i);
        /* persistence for the target at row r is the value at row r - horizon */
        pers[i] = i >= (size_t)horizon ? truth[i - (size_t)horizon] : NAN;
    }
    plot_curve c[3] = {{x, truth, n, "truth", 1, PLOT_LINE},
                       {x, pred, n, "model", 4, PLOT_LINE},
                       {x, pers, n, "persistence", 3, PLOT_DASHED}};
    plot_spec s = {path, title, "row (time step)", ylabel, 0, c, 3, 0};
    int rc;
    if (n > 200) { /* long parts: the whole part on top, its last 100 steps below */
        size_t z = n - 100;
        plot_curve cz[3] = {{x + z, truth + z, 100, "truth", 1, PLOT_LINE_POINTS},
                            {x + z, pred + z, 100, "model", 4, PLOT_LINE_POINTS},
                            {x + z, pers + z, 100, "persistence", 3, PLOT_DASHED}};
        plot_spec sz = {path, "the last 100 steps", "row (time step)", ylabel, 0, cz, 3, 0};
        char msg[512];
        rc = plot_draw2(path, &s, &sz, msg, sizeof msg) ? CLI_EXIT_IO : 0;
        if (rc) fprintf(stderr, "nlprnn forecast: %s\n", msg);
        else fprintf(stderr, "wrote %s\n", path);
    } else {
        rc = plot_or_warn(&s);
    }
    free(x);
    free(pers);
    return rc;
}

/* The first `show` windows: the series on top, then window k (inputs as a line, its target as a
 * point `horizon` steps after the window) on the series' own values shifted down by k * spread. */
static int plot_windows(const char *path, const double *y, size_t n, int window, int horizon,
                        const char *col, size_t show) {
    size_t avail;
    if (nlprnn_window_count(n, window, horizon, &avail, NULL) != 0) return 0;
    if (avail < show) show = avail;
    if (show > 8) show = 8;
    size_t W = (size_t)window, span = W + (size_t)horizon + show - 1;
    double lo = y[0], hi = y[0];
    for (size_t i = 0; i < span; i++) lo = y[i] < lo ? y[i] : lo, hi = y[i] > hi ? y[i] : hi;
    double spread = (hi - lo) * 1.25 + 1e-9;
    double *x = malloc(span * sizeof *x), *wx = malloc(show * (W + 1) * sizeof *wx),
           *wy = malloc(show * (W + 1) * sizeof *wy);
    int rc = CLI_EXIT_LIMIT;
    if (x && wx && wy) {
        plot_curve wc[17];
        char labels[8][64];
        int nc = 0;
        for (size_t i = 0; i < span; i++) x[i] = (double)i;
        wc[nc++] = (plot_curve){x, y, span, "series", 8, PLOT_LINE_POINTS};
        for (size_t k = 0; k < show; k++) {
            double *px = wx + k * (W + 1), *py = wy + k * (W + 1);
            for (size_t t = 0; t < W; t++) px[t] = (double)(k + t), py[t] = y[k + t] - (double)(k + 1) * spread;
            px[W] = (double)(k + W - 1 + (size_t)horizon);
            py[W] = y[k + W - 1 + (size_t)horizon] - (double)(k + 1) * spread;
            snprintf(labels[k], sizeof labels[k], "window %zu", k + 1);
            wc[nc++] = (plot_curve){px, py, W, labels[k], (int)k + 1, PLOT_LINE_POINTS};
            wc[nc++] = (plot_curve){px + W, py + W, 1, NULL, (int)k + 1, PLOT_POINTS};
        }
        char title[256];
        snprintf(title, sizeof title, "%s: windows of %d steps, target %d step%s later (the lone "
                 "dot; each window shifted down)", col, window, horizon, horizon == 1 ? "" : "s");
        plot_spec ws = {path, title, "row (time step)", col, 0, wc, nc, PLOT_LEGEND_OUTSIDE};
        rc = plot_or_warn(&ws);
    }
    free(x), free(wx), free(wy);
    return rc;
}

static int read_series(nlprnn_series **s, const char *csv, const char *columns);

/* ---- sine --------------------------------------------------------------------------------- */

static int cmd_sine(int argc, char **argv) {
    const char *out = NULL;
    long long length = 1000;
    double period = 50, noise = 0.1;
    unsigned long long seed = 1;
    enum { LENGTH = CLI_LONG, PERIOD, NOISE, SEED };
    static const cli_opt options[] = {{"output", 'o', CLI_ARG, NULL},
                                      {"length", LENGTH, CLI_ARG, NULL},
                                      {"period", PERIOD, CLI_ARG, NULL},
                                      {"noise", NOISE, CLI_ARG, NULL},
                                      {"seed", SEED, CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    cli_args a;
    int c;
    cli_args_init(&a, FC, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: usage(stdout); return CLI_OK;
        case 'o': out = a.value; break;
        case LENGTH: cli_args_int(&a, 2, 100000000, &length); break;
        case PERIOD:
            if (cli_args_double(&a, 0, 1e300, &period) && !(period > 0)) cli_args_fail(&a, "--period must be > 0");
            break;
        case NOISE: cli_args_double(&a, 0, 1e300, &noise); break;
        case SEED: cli_args_u64(&a, &seed); break;
        case CLI_POSITIONAL: cli_args_fail(&a, "unexpected argument '%s' for sine", a.value); break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!out) return cli_usage_error(FC, "sine needs -o FILE.csv");
    nlprnn_series *s = NULL;
    nlprnn_error e;
    int lrc = nlprnn_series_create_sine((size_t)length, period, noise, seed, &s, &e);
    if (lrc) return cli_report(FC, lrc, &e);
    nlprnn_output *o;
    lrc = nlprnn_output_open(out, &o, &e); /* atomic: the old file stays until the end */
    if (lrc) {
        nlprnn_series_free(s);
        return cli_report(FC, lrc, &e);
    }
    FILE *fp = nlprnn_output_stream(o);
    const double *v = nlprnn_series_values(s);
    fprintf(fp, "t,value\n");
    for (long long t = 0; t < length; t++) fprintf(fp, "%lld,%.6f\n", t, v[t]);
    nlprnn_series_free(s);
    lrc = nlprnn_output_commit(o, &e);
    if (lrc) return cli_report(FC, lrc, &e);
    fprintf(stderr, "wrote %s (%lld rows, period %g, noise %g)\n", out, length, period, noise);
    return CLI_OK;
}

/* ---- windows ------------------------------------------------------------------------------ */

static int cmd_windows(int argc, char **argv) {
    const char *csv = NULL, *column = NULL, *plotp = NULL;
    long long window = 3, horizon = 1, limit = 10;
    enum { COLUMN = CLI_LONG, PLOT, WINDOW, HORIZON, LIMIT };
    static const cli_opt options[] = {{"input", 'i', CLI_ARG, "--csv"},
                                      {"column", COLUMN, CLI_ARG, "--columns"},
                                      {"plot", PLOT, CLI_ARG, NULL},
                                      {"window", WINDOW, CLI_ARG, NULL},
                                      {"horizon", HORIZON, CLI_ARG, NULL},
                                      {"limit", LIMIT, CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    cli_args a;
    int c;
    cli_args_init(&a, FC, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: usage(stdout); return CLI_OK;
        case 'i': csv = a.value; break;
        case COLUMN: column = a.value; break;
        case PLOT: plotp = a.value; break;
        case WINDOW: cli_args_int(&a, 1, 100000, &window); break;
        case HORIZON: cli_args_int(&a, 1, 100000, &horizon); break;
        case LIMIT: cli_args_int(&a, 1, LLONG_MAX, &limit); break;
        case CLI_POSITIONAL: cli_args_fail(&a, "unexpected argument '%s' for windows", a.value); break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!csv || !column) return cli_usage_error(FC, "windows needs --input FILE and --column NAME");
    int rc = check_output(plotp, &csv, 1);
    if (rc) return rc;
    nlprnn_series *s = NULL;
    rc = read_series(&s, csv, column);
    if (rc) return rc;
    size_t n = nlprnn_series_length(s), count = 0;
    nlprnn_error e;
    int lrc = nlprnn_series_windows(s, 0, (int)window, (int)horizon, 0, 0, NULL, NULL, &e);
    if (!lrc) lrc = nlprnn_window_count(n, (int)window, (int)horizon, &count, &e);
    if (lrc) {
        rc = cli_report(FC, lrc, &e);
    } else {
        size_t show = count < (size_t)limit ? count : (size_t)limit;
        double *x = malloc(show * (size_t)window * sizeof *x), *y = malloc(show * sizeof *y);
        if (!x || !y) rc = CLI_EXIT_LIMIT;
        else if ((lrc = nlprnn_series_windows(s, 0, (int)window, (int)horizon, 0, show, x, y, &e)))
            rc = cli_report(FC, lrc, &e);
        else {
            printf("%zu rows, window %lld, horizon %lld: %zu samples%s\n", n, window, horizon, count,
                   show < count ? " (the first ones:)" : "");
            for (size_t i = 0; i < show; i++) {
                printf("[");
                for (long long t = 0; t < window; t++) printf("%s%g", t ? ", " : "", x[i * (size_t)window + (size_t)t]);
                printf("] -> %g\n", y[i]);
            }
            if (plotp) rc = plot_windows(plotp, nlprnn_series_values(s), n, (int)window, (int)horizon,
                                         nlprnn_series_column(s, 0), show < 4 ? show : 4);
        }
        free(x), free(y);
    }
    nlprnn_series_free(s);
    return rc;
}

/* ---- train -------------------------------------------------------------------------------- */

static int on_epoch(void *user, int epoch, double tl, double vl) {
    cli_progress_line(user, "epoch %3d  train loss %.6f  valid loss %.6f", epoch, tl, vl);
    return 0;
}

static int read_series(nlprnn_series **s, const char *csv, const char *columns) {
    char *store = NULL;
    const char *names[256];
    int n = split_names(columns, &store, names, 256);
    if (n < 1) {
        free(store);
        return cli_usage_error(FC, "--column needs at least one name");
    }
    nlprnn_error e;
    int rc = nlprnn_series_load_csv(csv, names, n, s, &e);
    free(store);
    if (rc) return cli_report(FC, rc, &e);
    return 0;
}

static int train_plots(const char *prefix, const char *ext, const nlprnn_series *s,
                       const nlprnn_forecaster *f) {
    char path[1024], title[256];
    int window, horizon, target;
    nlprnn_forecaster_dims(f, &window, &horizon, &target, NULL);
    size_t n = nlprnn_series_length(s), F = (size_t)nlprnn_series_features(s);
    size_t r0, ntr, nva;
    nlprnn_error e;
    int lrc = nlprnn_forecaster_split(f, n, NLPRNN_PART_TRAIN, &r0, &ntr, &e);
    if (!lrc) lrc = nlprnn_forecaster_split(f, n, NLPRNN_PART_VALID, &r0, &nva, &e);
    if (lrc) return cli_report(FC, lrc, &e);
    const double *v = nlprnn_series_values(s);
    const char *col = nlprnn_series_column(s, target);
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        return CLI_EXIT_LIMIT;
    }
    for (size_t i = 0; i < n; i++) x[i] = (double)i, y[i] = v[i * F + (size_t)target];
    int rc = 0;

    /* 1. the series, coloured by part */
    plot_curve c[3] = {{x, y, ntr, "train", 1, PLOT_LINE},
                       {x + ntr, y + ntr, nva, "valid", 2, PLOT_LINE},
                       {x + ntr + nva, y + ntr + nva, n - ntr - nva, "test", 3, PLOT_LINE}};
    snprintf(path, sizeof path, "%s-series.%s", prefix, ext);
    snprintf(title, sizeof title, "%s: %zu rows (train %zu | valid %zu | test %zu)", col, n, ntr,
             nva, n - ntr - nva);
    plot_spec sp = {path, title, "row (time step)", col, 0, c, 3, 0};
    rc = plot_or_warn(&sp);

    /* 2. the first windows */
    if (!rc) {
        snprintf(path, sizeof path, "%s-windows.%s", prefix, ext);
        rc = plot_windows(path, y, n, window, horizon, col, 4);
    }

    /* 3. loss curves */
    int ep;
    const double *tl, *vl;
    nlprnn_forecaster_history(f, &ep, &tl, &vl);
    if (!rc && ep > 0) {
        double *ex = malloc((size_t)ep * sizeof *ex);
        if (ex) {
            for (int i = 0; i < ep; i++) ex[i] = i + 1;
            plot_curve lc[2] = {{ex, tl, (size_t)ep, "train", 1, PLOT_LINE_POINTS},
                                {ex, vl, (size_t)ep, "valid", 2, PLOT_LINE_POINTS}};
            snprintf(path, sizeof path, "%s-loss.%s", prefix, ext);
            plot_spec ls = {path, "training and validation loss (MSE, scaled units)", "epoch",
                            "loss (log scale)", 1, lc, 2, 0};
            rc = plot_or_warn(&ls);
            free(ex);
        }
    }

    /* 4. predictions against the truth on the test part */
    if (!rc) {
        nlprnn_forecaster_eval ev = {.size = sizeof ev};
        lrc = nlprnn_forecaster_evaluate(f, s, NLPRNN_PART_TEST, &ev, &e);
        if (lrc) {
            rc = cli_report(FC, lrc, &e);
        } else {
            snprintf(path, sizeof path, "%s-test.%s", prefix, ext);
            snprintf(title, sizeof title, "test part: RMSE model %.4g, persistence %.4g",
                     ev.metrics[NLPRNN_FORECAST_MODEL][NLPRNN_METRIC_RMSE],
                     ev.metrics[NLPRNN_FORECAST_PERSISTENCE][NLPRNN_METRIC_RMSE]);
            rc = plot_part(path, title, col, ev.pred, ev.truth, ev.count, ev.first_row, horizon);
        }
        nlprnn_free(ev.pred);
        nlprnn_free(ev.truth);
    }
    free(x), free(y);
    return rc;
}


static int cmd_train(int argc, char **argv) {
    const char *csv = NULL, *columns = NULL, *out = NULL, *plots = NULL, *target = NULL;
    const char *ext = "svg";
    int quiet = 0, resume = 0;
    nlprnn_forecaster_params *p = NULL;
    nlprnn_error e;
    int prc = nlprnn_forecaster_params_create(&p, &e);
    if (prc) return cli_report(FC, prc, &e);
    enum { COLUMN = CLI_LONG, PLOTS, TARGET, PNG, RESUME, TRAIN_SPLIT, VALID_SPLIT };
    static const cli_opt options[] = {{"input", 'i', CLI_ARG, "--csv"},
                                      {"column", COLUMN, CLI_ARG, "--columns"},
                                      {"output", 'o', CLI_ARG, NULL},
                                      {"plots", PLOTS, CLI_ARG, NULL},
                                      {"target", TARGET, CLI_ARG, NULL},
                                      {"quiet", 'q', CLI_NO_ARG, NULL},
                                      {"png", PNG, CLI_NO_ARG, NULL},
                                      {"resume", RESUME, CLI_NO_ARG, NULL},
                                      {"train-split", TRAIN_SPLIT, CLI_ARG, "--train"},
                                      {"valid-split", VALID_SPLIT, CLI_ARG, "--valid"},
                                      {"threads", 't', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    const char *fc_param_names[64]; /* forecaster parameters given as --NAME VALUE */
    cli_param_names(nlprnn_forecaster_param_info, FC_OWN, fc_param_names, sizeof fc_param_names / sizeof *fc_param_names);
    cli_args a;
    int c, rc = 0;
    cli_args_init(&a, FC, argc, argv, options, fc_param_names);
    while ((c = cli_args_next(&a)) > CLI_END) {
        const char *name = NULL;
        switch (c) {
        case CLI_HELP:
            usage(stdout);
            nlprnn_forecaster_params_free(p);
            return CLI_OK;
        case 'i': csv = a.value; break;
        case COLUMN: columns = a.value; break;
        case 'o': out = a.value; break;
        case PLOTS: plots = a.value; break;
        case TARGET: target = a.value; break;
        case 'q': quiet = 1; break;
        case PNG: ext = "png"; break;
        case RESUME: resume = 1; break;
        case TRAIN_SPLIT: name = "train"; break;
        case VALID_SPLIT: name = "valid"; break;
        case 't': name = "threads"; break;
        case CLI_POSITIONAL: cli_args_fail(&a, "unexpected argument '%s'", a.value); break;
        default: name = fc_param_names[c - CLI_PARAM]; break;
        }
        if (name && nlprnn_forecaster_params_set(p, name, a.value, &e)) cli_args_fail(&a, "%s", e.message);
    }
    if (c == CLI_ERROR || !csv || !columns || !out) {
        nlprnn_forecaster_params_free(p);
        return c == CLI_ERROR ? a.rc
               : cli_usage_error(FC, "train needs --input FILE, --column NAME[,NAME...] and -o MODEL");
    }
    if (!rc) { /* the model and the plots: none of them is the series or another of them */
        char plot_paths[4][1024];
        const char *files[6] = {csv, out};
        static const char *const kinds[4] = {"series", "windows", "loss", "test"};
        for (int k = 0; k < 4 && plots; k++) {
            snprintf(plot_paths[k], sizeof plot_paths[k], "%s-%s.%s", plots, kinds[k], ext);
            files[2 + k] = plot_paths[k];
        }
        for (int k = 1; k < (plots ? 6 : 2) && !rc; k++) {
            const char *others[6];
            int n = 0;
            for (int j = 0; j < (plots ? 6 : 2); j++)
                if (j != k) others[n++] = files[j];
            rc = check_output(files[k], others, (size_t)n);
        }
    }
    nlprnn_series *s = NULL;
    nlprnn_forecaster *f = NULL;
    if (!rc) rc = read_series(&s, csv, columns);
    if (!rc && target) {
        int t = -1;
        for (int j = 0; j < nlprnn_series_features(s); j++)
            if (!strcmp(nlprnn_series_column(s, j), target)) t = j;
        if (t < 0) rc = cli_usage_error(FC, "--target %s is not one of --column %s", target, columns);
        else {
            char tb[16];
            snprintf(tb, sizeof tb, "%d", t);
            nlprnn_forecaster_params_set(p, "target", tb, NULL);
        }
    }
    char ckpt[1100];
    ckpt[0] = 0;
    if (!rc && nlprnn_forecaster_params_get(p, "checkpoint", ckpt, sizeof ckpt, &e) == 0 && !ckpt[0]) {
        snprintf(ckpt, sizeof ckpt, "%s.ckpt", out);
        if (nlprnn_forecaster_params_set(p, "checkpoint", ckpt, &e)) rc = cli_usage_error(FC, "%s", e.message);
    }
    if (!rc) {
        cli_progress pr;
        cli_progress_init(&pr, "", 0, quiet);
        nlprnn_train_ctl *ctl = NULL;
        int lrc = nlprnn_train_ctl_create(&ctl, &e);
        if (!lrc) {
            nlprnn_train_ctl_set_stop(ctl, cli_catch_stop_signals());
            nlprnn_train_ctl_set_resume(ctl, resume);
            lrc = nlprnn_forecaster_train_ctl(s, p, ctl, on_epoch, &pr, &f, &e);
        }
        nlprnn_train_ctl_free(ctl);
        if (lrc) rc = cli_report(FC, lrc, &e);
    }
    if (!rc) {
        int lrc = nlprnn_forecaster_save(f, out, &e);
        if (lrc) rc = cli_report(FC, lrc, &e);
        else {
            fprintf(stderr, "wrote %s\n", out);
            remove(ckpt); /* the run is complete: the model replaces the checkpoint */
        }
    }
    if (!rc) {
        char cell[16], ma[16], best[16];
        get_setting(f, "cell", cell, sizeof cell);
        get_setting(f, "ma", ma, sizeof ma);
        get_setting(f, "best_epoch", best, sizeof best);
        printf("kept the weights of epoch %s (lowest validation loss)\n", best);
        nlprnn_forecaster_eval ev = {.size = sizeof ev};
        int lrc = nlprnn_forecaster_evaluate(f, s, NLPRNN_PART_TEST, &ev, &e);
        if (lrc) {
            rc = cli_report(FC, lrc, &e);
        } else {
            char label[64];
            snprintf(label, sizeof label, "test: %zu samples", ev.count);
            print_metrics(label, &ev.metrics[0][0], cell, ma);
        }
        nlprnn_free(ev.pred);
        nlprnn_free(ev.truth);
    }
    if (!rc && plots) rc = train_plots(plots, ext, s, f);
    nlprnn_forecaster_free(f);
    nlprnn_series_free(s);
    nlprnn_forecaster_params_free(p);
    return rc;
}

/* ---- eval / predict ----------------------------------------------------------------------- */

static int load_model_and_series(const char *model, const char *csv, const char *columns,
                                 nlprnn_forecaster **f, nlprnn_series **s) {
    nlprnn_error e;
    int lrc = nlprnn_forecaster_load(model, f, &e);
    if (lrc) return cli_report(FC, lrc, &e);
    char cols[4096];
    if (!columns) {
        if (get_setting(*f, "columns", cols, sizeof cols)) return cli_usage_error(FC, "name the columns with --column");
        columns = cols;
    }
    return read_series(s, csv, columns);
}

static int cmd_eval(int argc, char **argv) {
    const char *model = NULL, *csv = NULL, *columns = NULL, *plotp = NULL, *outp = NULL;
    int part = NLPRNN_PART_TEST;
    enum { COLUMN = CLI_LONG, PLOT, PART };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, "--csv"},
                                      {"column", COLUMN, CLI_ARG, "--columns"},
                                      {"plot", PLOT, CLI_ARG, NULL},
                                      {"output", 'o', CLI_ARG, "--out"},
                                      {"part", PART, CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    static const char *const parts[] = {"train", "valid", "test", "all", NULL}; /* NLPRNN_PART_* */
    cli_args a;
    int c;
    cli_args_init(&a, FC, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: usage(stdout); return CLI_OK;
        case 'i': csv = a.value; break;
        case COLUMN: columns = a.value; break;
        case PLOT: plotp = a.value; break;
        case 'o': outp = a.value; break;
        case PART: part = cli_args_choice(&a, parts); break;
        case 'm':
        case CLI_POSITIONAL:
            if (model) cli_args_fail(&a, "one MODEL only ('%s' and '%s')", model, a.value);
            model = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!model || !csv) return cli_usage_error(FC, "eval needs MODEL and --input FILE");
    const char *for_out[] = {model, csv, plotp}, *for_plot[] = {model, csv, outp};
    int rc = check_output(outp, for_out, 3);
    if (!rc) rc = check_output(plotp, for_plot, 3);
    if (rc) return rc;
    nlprnn_forecaster *f = NULL;
    nlprnn_series *s = NULL;
    rc = load_model_and_series(model, csv, columns, &f, &s);
    nlprnn_forecaster_eval ev = {.size = sizeof ev};
    if (!rc) {
        nlprnn_error e;
        int lrc = nlprnn_forecaster_evaluate(f, s, part, &ev, &e);
        if (lrc) rc = cli_report(FC, lrc, &e);
    }
    const double *pred = ev.pred, *truth = ev.truth;
    size_t cnt = ev.count, first = ev.first_row;
    if (!rc) {
        static const char *const pn[] = {"train", "valid", "test", "all"};
        char cell[16], ma[16], label[96];
        int horizon, target;
        nlprnn_forecaster_dims(f, NULL, &horizon, &target, NULL);
        get_setting(f, "cell", cell, sizeof cell);
        get_setting(f, "ma", ma, sizeof ma);
        snprintf(label, sizeof label, "%s: %zu samples (rows %zu..%zu)", pn[part], cnt, first, first + cnt - 1);
        print_metrics(label, &ev.metrics[0][0], cell, ma);
        const char *col = nlprnn_series_column(s, target);
        if (outp) { /* atomic: the old file stays until the whole table is written */
            nlprnn_output *o;
            nlprnn_error e;
            int lrc = nlprnn_output_open(outp, &o, &e);
            if (!lrc) {
                FILE *fp = nlprnn_output_stream(o);
                fprintf(fp, "row,truth,model\n");
                for (size_t i = 0; i < cnt; i++) fprintf(fp, "%zu,%.9g,%.9g\n", first + i, truth[i], pred[i]);
                lrc = nlprnn_output_commit(o, &e);
            }
            if (lrc) rc = cli_report(FC, lrc, &e);
        }
        if (!rc && plotp) {
            char title[160];
            snprintf(title, sizeof title, "%s part: RMSE model %.4g, persistence %.4g", pn[part],
                     ev.metrics[NLPRNN_FORECAST_MODEL][NLPRNN_METRIC_RMSE],
                     ev.metrics[NLPRNN_FORECAST_PERSISTENCE][NLPRNN_METRIC_RMSE]);
            rc = plot_part(plotp, title, col, pred, truth, cnt, first, horizon);
        }
    }
    nlprnn_free(ev.pred);
    nlprnn_free(ev.truth);
    nlprnn_series_free(s);
    nlprnn_forecaster_free(f);
    return rc;
}

static int cmd_predict(int argc, char **argv) {
    const char *model = NULL, *csv = NULL, *columns = NULL, *plotp = NULL;
    long long from = -1, steps = 1;
    enum { COLUMN = CLI_LONG, PLOT, FROM, STEPS };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, "--csv"},
                                      {"column", COLUMN, CLI_ARG, "--columns"},
                                      {"plot", PLOT, CLI_ARG, NULL},
                                      {"from", FROM, CLI_ARG, NULL},
                                      {"steps", STEPS, CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    cli_args a;
    int c;
    cli_args_init(&a, FC, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: usage(stdout); return CLI_OK;
        case 'i': csv = a.value; break;
        case COLUMN: columns = a.value; break;
        case PLOT: plotp = a.value; break;
        case FROM: cli_args_int(&a, 1, LLONG_MAX, &from); break;
        case STEPS: cli_args_int(&a, 1, 1000000, &steps); break;
        case 'm':
        case CLI_POSITIONAL:
            if (model) cli_args_fail(&a, "one MODEL only ('%s' and '%s')", model, a.value);
            model = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!model || !csv) return cli_usage_error(FC, "predict needs MODEL and --input FILE");
    const char *inputs[] = {model, csv};
    int rc = check_output(plotp, inputs, 2);
    if (rc) return rc;
    nlprnn_forecaster *f = NULL;
    nlprnn_series *s = NULL;
    rc = load_model_and_series(model, csv, columns, &f, &s);
    double *out = NULL;
    if (!rc) {
        size_t n = nlprnn_series_length(s), F = (size_t)nlprnn_series_features(s);
        if (from < 0 || (size_t)from > n) from = (long)n;
        out = malloc((size_t)steps * sizeof *out);
        nlprnn_error e;
        int lrc = out ? nlprnn_forecaster_predict(f, nlprnn_series_values(s), (size_t)from, (int)steps, out, &e)
                      : NLPRNN_E_NOMEM;
        if (lrc) rc = cli_report(FC, lrc, &e);
        if (!rc) {
            int window, horizon, target;
            nlprnn_forecaster_dims(f, &window, &horizon, &target, NULL);
            size_t tgt = (size_t)target, h = (size_t)horizon;
            const double *v = nlprnn_series_values(s);
            double se = 0;
            size_t nt = 0;
            printf("row,prediction,truth\n");
            for (long k = 0; k < steps; k++) {
                size_t row = (size_t)from - 1 + h + (size_t)k;
                if (row < n) {
                    double t = v[row * F + tgt];
                    printf("%zu,%.6g,%.6g\n", row, out[k], t);
                    se += (out[k] - t) * (out[k] - t), nt++;
                } else {
                    printf("%zu,%.6g,\n", row, out[k]);
                }
            }
            if (nt) fprintf(stderr, "RMSE over the %zu steps with a known truth: %.4f\n", nt, sqrt(se / (double)nt));
            if (plotp) {
                /* history tail (3 windows' worth), the predictions, and the truth where known */
                size_t tail = 3 * (size_t)window;
                if (tail > (size_t)from) tail = (size_t)from;
                size_t h0 = (size_t)from - tail, nv = (size_t)steps;
                double *hx = malloc((tail + nv) * sizeof *hx), *hy = malloc((tail + nv) * sizeof *hy);
                double *px = malloc(nv * sizeof *px), *ty = malloc(nv * sizeof *ty);
                if (hx && hy && px && ty) {
                    for (size_t i = 0; i < tail; i++) hx[i] = (double)(h0 + i), hy[i] = v[(h0 + i) * F + tgt];
                    for (size_t k = 0; k < nv; k++) {
                        size_t row = (size_t)from - 1 + h + k;
                        px[k] = (double)row;
                        ty[k] = row < n ? v[row * F + tgt] : NAN;
                    }
                    plot_curve cv[3] = {{hx, hy, tail, "history", 1, PLOT_LINE},
                                       {px, ty, nv, "truth", 8, PLOT_LINE},
                                       {px, out, nv, "prediction (fed back)", 4, PLOT_LINE}};
                    char title[160];
                    if (nt) snprintf(title, sizeof title, "%lld steps from row %lld, RMSE %.4g", steps, from, sqrt(se / (double)nt));
                    else snprintf(title, sizeof title, "%lld steps from row %lld", steps, from);
                    plot_spec sp = {plotp, title, "row (time step)", nlprnn_series_column(s, (int)tgt), 0, cv, 3, 0};
                    rc = plot_or_warn(&sp);
                }
                free(hx), free(hy), free(px), free(ty);
            }
        }
    }
    free(out);
    nlprnn_series_free(s);
    nlprnn_forecaster_free(f);
    return rc;
}

int cmd_forecast(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_OK;
    }
    const char *sub = argv[1]; /* `nlprnn forecast SUB --help` prints this same help */
    if (!strcmp(sub, "sine")) return cmd_sine(argc - 1, argv + 1);
    if (!strcmp(sub, "windows")) return cmd_windows(argc - 1, argv + 1);
    if (!strcmp(sub, "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(sub, "eval")) return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(sub, "predict")) return cmd_predict(argc - 1, argv + 1);
    return cli_usage_error(FC, "unknown subcommand '%s' (sine, windows, train, eval, predict)", sub);
}
