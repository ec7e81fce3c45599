/* cli/plot.c: the plot plugin nlprnn-plot.so: line plots and heat maps through PLplot, drawn into
 * memory. SVG uses PLplot's own "svg" driver (libplplot17), PNG the "pngcairo" driver (Debian
 * package plplot-driver-cairo).
 *
 * Built as its own module (CMake target nlprnn_plot, installed as LIBDIR/nlprnn/nlprnn-plot.so) so
 * that the program loads PLplot and its dozen libraries only when a --plot option asks for a
 * figure (cli/plot_file.c loads it and writes the bytes to the file). Its one exported symbol is
 * the table nlprnn_plot_plugin (cli/plot.h); it uses PLplot and libc, not the nlprnn library. */
#include "plot.h"

#include <stdio.h>
#include <math.h>
#include <plplot.h>
#include <stdlib.h>
#include <string.h>

/* Palette (colour map 0): 0 background, 1 axes and text, 2.. curves. */
static const int palette[][3] = {
    {255, 255, 255}, {0, 0, 0},     {31, 119, 180}, {255, 127, 14}, {44, 160, 44},
    {214, 39, 40},   {148, 103, 189}, {140, 86, 75}, {127, 127, 127}, {23, 190, 207}};
#define NPAL ((int)(sizeof palette / sizeof *palette))

static const char *device_for(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot) return NULL;
    if (!strcmp(dot, ".svg")) return "svg";
    if (!strcmp(dot, ".png")) return "pngcairo";
    return NULL;
}

static int usable(double y, int logy) { return isfinite(y) && (!logy || y > 0); }

/* Data range of all curves; 0 if there is no usable point. */
static int ranges(const plot_spec *s, double *x0, double *x1, double *y0, double *y1) {
    int any = 0;
    for (int c = 0; c < s->ncurves; c++) {
        const plot_curve *cv = &s->curves[c];
        for (size_t i = 0; i < cv->n; i++) {
            double x = cv->x ? cv->x[i] : (double)i, y = cv->y[i];
            if (!usable(y, s->logy) || !isfinite(x)) continue;
            if (s->logy) y = log10(y);
            if (!any) *x0 = *x1 = x, *y0 = *y1 = y, any = 1;
            if (x < *x0) *x0 = x;
            if (x > *x1) *x1 = x;
            if (y < *y0) *y0 = y;
            if (y > *y1) *y1 = y;
        }
    }
    return any;
}

static void draw_curve(const plot_curve *cv, int logy, PLFLT *bx, PLFLT *by) {
    int col = 2 + (cv->color - 1 + 8) % 8;
    plcol0(col);
    plwidth(cv->style == PLOT_POINTS ? 1.0 : 1.6);
    pllsty(cv->style == PLOT_DASHED ? 2 : 1);
    size_t run = 0;
    for (size_t i = 0; i <= cv->n; i++) {
        int ok = i < cv->n && usable(cv->y[i], logy);
        if (ok) {
            bx[run] = cv->x ? cv->x[i] : (double)i;
            by[run] = logy ? log10(cv->y[i]) : cv->y[i];
            run++;
        }
        if ((!ok || i == cv->n) && run > 0) {
            if (cv->style != PLOT_POINTS) {
                if (run > 1) plline((PLINT)run, bx, by);
            }
            if (cv->style == PLOT_POINTS || cv->style == PLOT_LINE_POINTS || run == 1) {
                plssym(0, cv->style == PLOT_POINTS ? 2.0 : 1.0); /* lone points (targets) larger */
                plpoin((PLINT)run, bx, by, 17);
                plssym(0, 1.0);
            }
            run = 0;
        }
    }
    pllsty(1);
}

static void draw_legend(const plot_spec *s) {
    int n = 0;
    for (int c = 0; c < s->ncurves; c++) n += s->curves[c].label != NULL;
    if (!n) return;
    PLINT opt[16], tcol[16], lcol[16], lsty[16], scol[16], snum[16];
    PLFLT lw[16], sscale[16];
    const char *text[16], *sym[16];
    int k = 0;
    for (int c = 0; c < s->ncurves && k < 16; c++) {
        const plot_curve *cv = &s->curves[c];
        if (!cv->label) continue;
        int col = 2 + (cv->color - 1 + 8) % 8;
        opt[k] = cv->style == PLOT_POINTS ? PL_LEGEND_SYMBOL
                 : cv->style == PLOT_LINE_POINTS ? (PL_LEGEND_LINE | PL_LEGEND_SYMBOL)
                                                 : PL_LEGEND_LINE;
        tcol[k] = 1, lcol[k] = col, scol[k] = col;
        lsty[k] = cv->style == PLOT_DASHED ? 2 : 1;
        lw[k] = 1.6, sscale[k] = 1.0, snum[k] = 2;
        text[k] = cv->label, sym[k] = "•";
        k++;
    }
    PLFLT w, h;
    plscol0a(15, 255, 255, 255, 0.85);
    PLINT pos = s->legend == PLOT_LEGEND_OUTSIDE ? (PL_POSITION_RIGHT | PL_POSITION_OUTSIDE)
              : s->legend == PLOT_LEGEND_BOTTOM_RIGHT ? (PL_POSITION_BOTTOM | PL_POSITION_RIGHT | PL_POSITION_INSIDE)
                                                      : (PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE);
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, pos,
             0.01, 0.01, 0.08, 15, 1, 1, 0, 0, k, opt, 0.8, 0.7, 2.0, 0.0, tcol, text, NULL, NULL,
             NULL, NULL, lcol, lsty, lw, scol, sscale, snum, sym);
}

/* Tick labels of a log10 axis: 10^k. */
static void decade_label(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data) {
    (void)axis, (void)data;
    snprintf(label, (size_t)length, "10#u%d#d", (int)lround(value));
}

/* Tick labels of a short log10 axis: the value 10^v itself. */
static void value_label(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data) {
    (void)axis, (void)data;
    snprintf(label, (size_t)length, "%.2g", pow(10.0, value));
}

static int panel(const plot_spec *s, char *errbuf, size_t cap) {
    double x0, x1, y0, y1;
    if (!ranges(s, &x0, &x1, &y0, &y1)) {
        snprintf(errbuf, cap, "%s: nothing to draw in '%s'", s->path, s->title ? s->title : "");
        return -1;
    }
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y1 = y0 + (fabs(y0) > 0 ? fabs(y0) * 0.1 : 1);
    double pad = 0.05 * (y1 - y0);
    pladv(0);
    plvpor(0.115, s->legend == PLOT_LEGEND_OUTSIDE ? 0.8 : 0.96, 0.13, 0.9);
    double xpad = 0.015 * (x1 - x0);
    plwind(x0 - xpad, x1 + xpad, y0 - pad, y1 + 2 * pad);
    plcol0(1);
    plwidth(1.0);
    plschr(0, 0.9);
    if (s->logy) {
        /* a linear axis over log10(y) with whole-decade ticks labelled 10^k (PLplot's own log
         * axis labels every decade, which is unreadable over 30 decades) */
        double span = y1 + 2 * pad - (y0 - pad), step = span > 8 ? ceil(span / 8) : 1;
        if (span > 3) {
            plslabelfunc(decade_label, NULL);
            plbox("bcnst", 0, 0, "bcnstvo", step, span > 8 ? 1 : 0);
        } else { /* less than ~3 decades: PLplot's own ticks, labelled with the values */
            plslabelfunc(value_label, NULL);
            plbox("bcnst", 0, 0, "bcnstvo", 0, 0);
        }
        plslabelfunc(NULL, NULL);
    } else {
        plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    }
    pllab(s->xlabel ? s->xlabel : "", "", s->title ? s->title : "");
    plmtex("l", 5.2, 0.5, 0.5, s->ylabel ? s->ylabel : ""); /* clear of wide tick labels */
    size_t maxn = 1;
    for (int c = 0; c < s->ncurves; c++)
        if (s->curves[c].n > maxn) maxn = s->curves[c].n;
    PLFLT *bx = malloc(maxn * sizeof *bx), *by = malloc(maxn * sizeof *by);
    if (!bx || !by) {
        free(bx);
        free(by);
        snprintf(errbuf, cap, "%s: out of memory", s->path);
        return -1;
    }
    for (int c = 0; c < s->ncurves; c++) draw_curve(&s->curves[c], s->logy, bx, by);
    free(bx);
    free(by);
    draw_legend(s);
    return 0;
}

/* Heat map panel: cells from colour map 1 (white -> dark blue), labels written per row and column
 * with plmtex (PLplot's tick labels are numbers). */
static int heat_panel(const void *spec, char *errbuf, size_t cap) {
    const plot_heatmap_spec *s = spec;
    size_t R = s->rows, C = s->cols;
    PLFLT r[2] = {1.0, 0.03}, g[2] = {1.0, 0.19}, b[2] = {1.0, 0.42}, pos[2] = {0, 1};
    plscmap1l(1, 2, pos, r, g, b, NULL);
    pladv(0);
    /* room for the labels: left for the rows, bottom for the columns (written across) */
    plvpor(0.16, 0.97, 0.26, 0.9);
    plwind(0, (PLFLT)C, 0, (PLFLT)R);
    /* one filled square per cell: cell (j, i) spans x in [i, i+1], y in [R-1-j, R-j] */
    double span = s->zmax > s->zmin ? s->zmax - s->zmin : 1;
    for (size_t j = 0; j < R; j++) {
        for (size_t i = 0; i < C; i++) {
            double v = (s->values[j * C + i] - s->zmin) / span;
            PLFLT x[4] = {(PLFLT)i, (PLFLT)i + 1, (PLFLT)i + 1, (PLFLT)i};
            PLFLT y[4] = {(PLFLT)(R - 1 - j), (PLFLT)(R - 1 - j), (PLFLT)(R - j), (PLFLT)(R - j)};
            plcol1(v < 0 ? 0 : v > 1 ? 1 : v);
            plfill(4, x, y);
        }
    }
    plcol0(1);
    plwidth(1.0);
    plschr(0, C > 30 || R > 30 ? 0.6 : 0.85);
    plbox("bc", 0, 0, "bc", 0, 0);
    for (size_t i = 0; s->col_labels && i < C; i++)
        plmtex("bv", 0.6, ((double)i + 0.5) / (double)C, 1.0, s->col_labels[i]);
    for (size_t j = 0; s->row_labels && j < R; j++)
        plmtex("lv", 0.6, 1.0 - ((double)j + 0.5) / (double)R, 1.0, s->row_labels[j]);
    plschr(0, 0.9);
    plmtex("t", 1.5, 0.5, 0.5, s->title ? s->title : "");
    plmtex("b", 8.0, 0.5, 0.5, s->xlabel ? s->xlabel : "");
    plmtex("l", 7.5, 0.5, 0.5, s->ylabel ? s->ylabel : "");
    return 0;
}

typedef int (*panel_fn)(const void *spec, char *errbuf, size_t cap);

static int line_panel(const void *spec, char *errbuf, size_t cap) { return panel(spec, errbuf, cap); }

static int draw(const char *path, panel_fn fn, const void *const *panels, int npanels, int height,
                char **out, size_t *outlen, char *errbuf, size_t cap) {
    *out = NULL;
    *outlen = 0;
    const char *dev = path ? device_for(path) : NULL;
    if (!dev) {
        snprintf(errbuf, cap, "%s: plot files must end in .svg or .png", path ? path : "(null)");
        return -1;
    }
    /* PLplot draws into memory (it closes the stream it is given, in plend); the program writes
     * the bytes to the file atomically (cli/plot_file.c) */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        snprintf(errbuf, cap, "%s: out of memory", path);
        return -1;
    }
    plsdev(dev);
    plsfile(mem);
    plspage(0, 0, 960, height, 0, 0);
    for (int i = 0; i < NPAL; i++) plscol0(i, palette[i][0], palette[i][1], palette[i][2]);
    plssub(1, npanels);
    plinit();
    int rc = 0;
    for (int i = 0; i < npanels && !rc; i++) rc = fn(panels[i], errbuf, cap);
    plend(); /* closes mem: buf and len now hold the file */
    if (!rc && len == 0) {
        snprintf(errbuf, cap, "%s: PLplot (%s driver) wrote no output", path, dev);
        rc = -1;
    }
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

static int render(const plot_spec *spec, char **buf, size_t *len, char *errbuf, size_t cap) {
    const void *p[1] = {spec};
    return draw(spec->path, line_panel, p, 1, 540, buf, len, errbuf, cap);
}

static int render2(const char *path, const plot_spec *top, const plot_spec *bottom, char **buf,
                   size_t *len, char *errbuf, size_t cap) {
    const void *p[2] = {top, bottom};
    return draw(path, line_panel, p, 2, 900, buf, len, errbuf, cap);
}

static int render_heatmap(const plot_heatmap_spec *spec, char **buf, size_t *len, char *errbuf,
                          size_t cap) {
    *buf = NULL;
    *len = 0;
    if (!spec->rows || !spec->cols || !spec->values) {
        snprintf(errbuf, cap, "%s: nothing to draw in '%s'", spec->path, spec->title ? spec->title : "");
        return -1;
    }
    if (spec->rows > 256 || spec->cols > 256) {
        snprintf(errbuf, cap, "%s: %zu x %zu cells: a heat map is drawn for at most 256 x 256",
                 spec->path, spec->rows, spec->cols);
        return -1;
    }
    const void *p[1] = {spec};
    /* about square cells: 960 wide, the height follows the rows (at least 360, at most 1400) */
    double h = 960.0 * 0.68 / (double)spec->cols * (double)spec->rows / 0.68 + 260;
    int height = h < 360 ? 360 : h > 1400 ? 1400 : (int)h;
    return draw(spec->path, heat_panel, p, 1, height, buf, len, errbuf, cap);
}

/* the plugin's one exported symbol (the module is built with hidden visibility) */
__attribute__((visibility("default"))) const plot_plugin nlprnn_plot_plugin = {
    PLOT_PLUGIN_ABI, render, render2, render_heatmap};
