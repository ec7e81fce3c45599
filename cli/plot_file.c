/* cli/plot_file.c: plot_draw, plot_draw2 and plot_heatmap (cli/plot.h) for the commands: the
 * figure is drawn by the plot plugin nlprnn-plot.so (cli/plot.c, PLplot), loaded here the first
 * time a command draws, and written to its file atomically like every output (a full disk or a
 * link at the path is reported; the file is either the old one or the new one, never half).
 * A program built without PLplot, or one whose plugin is missing, refuses with a message naming
 * the reason (the commands exit with 4, as for any plot that cannot be written). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "plot.h"

/* The plugin's table, or NULL with the reason in msg. Loaded once; the program is one thread
 * where it draws. */
static const plot_plugin *plugin(const char *path, char *msg, size_t cap) {
#ifndef NLPRNN_HAVE_PLPLOT
    snprintf(msg, cap, "%s: this nlprnn was built without PLplot (install libplplot-dev and rebuild)",
             path ? path : "plot");
    return NULL;
#else
    static const plot_plugin *table;
    if (table) return table;
    char why[2048];
    void *h = cli_plugin_open(PLOT_PLUGIN_FILE, "nlprnn", 0, 0, why, sizeof why);
    if (!h) {
        snprintf(msg, cap, "%s: the plot plugin is missing: %s (reinstall nlprnn, or build it with "
                 "PLplot: libplplot-dev)", path ? path : "plot", why);
        return NULL;
    }
    const plot_plugin *t = (const plot_plugin *)dlsym(h, PLOT_PLUGIN_SYMBOL);
    if (!t || t->abi != PLOT_PLUGIN_ABI) {
        snprintf(msg, cap, "%s: %s is not the plot plugin of this nlprnn (%s)", path ? path : "plot",
                 PLOT_PLUGIN_FILE, t ? "another plugin ABI" : "no " PLOT_PLUGIN_SYMBOL);
        dlclose(h);
        return NULL;
    }
    table = t;
    return table;
#endif
}

/* Write the drawn bytes to path atomically; frees buf. */
static int write_plot(const char *path, char *buf, size_t len, char *errbuf, size_t cap) {
    nlprnn_output *o;
    nlprnn_error e;
    int rc = nlprnn_output_open(path, &o, &e);
    if (!rc) {
        fwrite(buf, 1, len, nlprnn_output_stream(o));
        rc = nlprnn_output_commit(o, &e);
    }
    free(buf);
    if (rc) snprintf(errbuf, cap, "%s", e.message);
    return rc ? -1 : 0;
}

int plot_draw(const plot_spec *spec, char *errbuf, size_t cap) {
    const plot_plugin *p = plugin(spec ? spec->path : NULL, errbuf, cap);
    char *buf;
    size_t len;
    if (!p || p->draw(spec, &buf, &len, errbuf, cap)) return -1;
    return write_plot(spec->path, buf, len, errbuf, cap);
}

int plot_draw2(const char *path, const plot_spec *top, const plot_spec *bottom, char *errbuf,
               size_t cap) {
    const plot_plugin *p = plugin(path, errbuf, cap);
    char *buf;
    size_t len;
    if (!p || p->draw2(path, top, bottom, &buf, &len, errbuf, cap)) return -1;
    return write_plot(path, buf, len, errbuf, cap);
}

int plot_heatmap(const plot_heatmap_spec *spec, char *errbuf, size_t cap) {
    const plot_plugin *p = plugin(spec ? spec->path : NULL, errbuf, cap);
    char *buf;
    size_t len;
    if (!p || p->heatmap(spec, &buf, &len, errbuf, cap)) return -1;
    return write_plot(spec->path, buf, len, errbuf, cap);
}
