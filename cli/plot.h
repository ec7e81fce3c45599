/* cli/plot.h: line plots and heat maps written through PLplot (SVG by its native driver, PNG by pngcairo).
 * Only the nlprnn program uses this; the library does not depend on PLplot, and neither does the
 * program's binary: the drawing is the plugin nlprnn-plot.so (cli/plot.c), which the program
 * loads the first time it draws (cli/plot_file.c). */
#ifndef NLPRNN_CLI_PLOT_H
#define NLPRNN_CLI_PLOT_H

#include <stddef.h>

enum { PLOT_LINE = 0, PLOT_POINTS = 1, PLOT_LINE_POINTS = 2, PLOT_DASHED = 3 };

/* One curve: n points (x[i], y[i]); x NULL means 0, 1, 2, ...; non-finite y values break the
 * line (and are skipped on a log axis, as are y <= 0). */
typedef struct plot_curve {
    const double *x;
    const double *y;
    size_t n;
    const char *label; /* legend text, or NULL for no legend entry */
    int color;         /* 1..8 from the palette in plot.c */
    int style;         /* PLOT_* */
} plot_curve;

typedef struct plot_spec {
    const char *path;   /* *.svg or *.png */
    const char *title;
    const char *xlabel, *ylabel;
    int logy;           /* 1: log10 y axis */
    const plot_curve *curves;
    int ncurves;
    int legend;         /* PLOT_LEGEND_* (0: inside, top right) */
} plot_spec;

enum { PLOT_LEGEND_TOP_RIGHT = 0, PLOT_LEGEND_BOTTOM_RIGHT = 1, PLOT_LEGEND_OUTSIDE = 2 };

/* Draw one panel. Returns 0, or -1 with a message in errbuf (unknown extension, nothing to
 * draw, the file was not written or is empty). */
int plot_draw(const plot_spec *spec, char *errbuf, size_t cap);

/* Two panels stacked vertically in one file (a[0] on top, a[1] below), same path rules. */
int plot_draw2(const char *path, const plot_spec *top, const plot_spec *bottom, char *errbuf,
               size_t cap);

/* A heat map (e.g. a translation's attention): rows x cols values in [zmin, zmax], row-major,
 * drawn as cells from white (zmin) to dark blue (zmax), row 0 at the top; each row and column is
 * named by its label (left of the rows, under the columns, written across). */
typedef struct plot_heatmap_spec {
    const char *path; /* *.svg or *.png */
    const char *title;
    const char *xlabel, *ylabel;
    const float *values;
    size_t rows, cols;
    const char *const *row_labels, *const *col_labels; /* rows / cols labels, or NULL */
    double zmin, zmax;
} plot_heatmap_spec;

/* Draw one heat map; -1 with a message as plot_draw (also for more than 256 rows or columns). */
int plot_heatmap(const plot_heatmap_spec *spec, char *errbuf, size_t cap);

/* ---- the plugin's interface (cli/plot.c <-> cli/plot_file.c) ----
 * nlprnn-plot.so exports one symbol, PLOT_PLUGIN_SYMBOL, a plot_plugin table. Each function draws
 * one figure into memory: on success 0 with *buf (malloc'd, the caller frees it) and *len bytes
 * of the file; else -1 with a message in errbuf. The program writes the file. PLOT_PLUGIN_ABI
 * changes whenever these types change, and the program refuses a plugin of another ABI. */
#define PLOT_PLUGIN_ABI 1
#define PLOT_PLUGIN_FILE "nlprnn-plot.so"
#define PLOT_PLUGIN_SYMBOL "nlprnn_plot_plugin"

typedef struct plot_plugin {
    int abi; /* PLOT_PLUGIN_ABI */
    int (*draw)(const plot_spec *spec, char **buf, size_t *len, char *errbuf, size_t cap);
    int (*draw2)(const char *path, const plot_spec *top, const plot_spec *bottom, char **buf,
                 size_t *len, char *errbuf, size_t cap);
    int (*heatmap)(const plot_heatmap_spec *spec, char **buf, size_t *len, char *errbuf, size_t cap);
} plot_plugin;

#endif
