/* tests/test_translate_plot.c: `nlprnn translate --plot FILE` draws the attention of the first
 * text as a heat map (PLplot): an SVG with one filled cell per (target piece or end, source
 * piece) — the counts come from `translate --format json` for the same text — with the pieces
 * as labels; an unknown extension fails with exit 4 and leaves the old file; a text without
 * source pieces fails with exit 3. Needs the program ($NLPRNN_CLI) and the shipped ko-en. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char dir[256];
static const char *cli;

/* Run `nlprnn ARGS` in dir: its exit status; *out (caller frees) its stdout and stderr. */
static int run(char **out, const char *args) {
    return nr_test_run(out, "cd '%s' && '%s' %s 2>&1", dir, cli, args);
}

/* The whole of dir/name (NUL-terminated; caller frees), or NULL. */
static char *slurp(const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = b ? fread(b, 1, (size_t)n, fp) : 0;
    fclose(fp);
    if (b) b[got] = '\0';
    return b;
}

/* Entries of the JSON array after key ("\"src\":[") in s: strings with escapes respected. */
static int count_array(const char *s, const char *key) {
    const char *p = s ? strstr(s, key) : NULL;
    if (!p) return -1;
    p += strlen(key);
    int n = 0, in_str = 0, any = 0;
    for (; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_str = 0;
        } else if (*p == '"') {
            in_str = 1, any = 1;
        } else if (*p == ',') {
            n++;
        } else if (*p == ']') {
            return any ? n + 1 : 0;
        }
    }
    return -1;
}

/* Occurrences of needle in s. */
static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

int main(void) {
    cli = getenv("NLPRNN_CLI");
    if (!cli || access(cli, X_OK) != 0) {
        printf("SKIP: the nlprnn program is not built (NLPRNN_CLI=%s)\n", cli ? cli : "unset");
        return 77;
    }
    snprintf(dir, sizeof dir, "/tmp/nlprnn-test-tplot-XXXXXX");
    if (!mkdtemp(dir)) return 1;

    const char *text = "'나는 행복한 삶을 살고 싶어요.'";
    char args[512];
    snprintf(args, sizeof args, "translate --plot att.svg %s '세상이 싫어요.'", text);
    char *out = NULL;
    int rc = run(&out, args);
    if (rc != 0 && out && strstr(out, "built without PLplot")) {
        printf("SKIP: %s", out);
        free(out);
        return 77;
    }
    CHECK_MSG(rc == 0 && out && count(out, "\n") == 2, "translate --plot: exit %d: %s", rc, out ? out : "");
    free(out);

    snprintf(args, sizeof args, "translate --format json %s", text);
    char *json = NULL;
    CHECK_INT_EQ(run(&json, args), 0);
    int S = count_array(json, "\"src\":["), T = count_array(json, "\"tgt\":[");
    CHECK_MSG(S > 0 && T > 0, "pieces in %s", json ? json : "(none)");
    free(json);

    char *svg = slurp("att.svg");
    CHECK_MSG(svg && (strstr(svg, "<svg") || strstr(svg, "<?xml")), "att.svg is not an SVG");
    /* one filled square per cell (the frame's lines have fill="none"); each source piece and
     * target piece written as a label: 나 (U+B098) and 싶 (U+C2F6) of the first text — the
     * second text is not plotted: 싫 (U+C2EB) is not there; the end row's label */
    int filled = count(svg, "<polyline") - count(svg, "fill=\"none\"");
    CHECK_MSG(filled == (T + 1) * S, "%d filled cells, expected (%d + 1) x %d", filled, T, S);
    CHECK_MSG(svg && strstr(svg, "&#xb098;") && strstr(svg, "&#xc2f6;") && !strstr(svg, "&#xc2eb;"),
              "source piece labels");
    CHECK_MSG(svg && strstr(svg, "&#x28;&#x65;&#x6e;&#x64;&#x29;"), "the end row (PLplot writes \"(end)\" as character references)");
    free(svg);

    /* a path PLplot cannot draw to: exit 4 naming it, the file already there is kept */
    char p[512];
    snprintf(p, sizeof p, "%s/att.gif", dir);
    FILE *fp = fopen(p, "wb");
    if (fp) {
        fputs("old", fp);
        fclose(fp);
    }
    rc = run(&out, "translate --plot att.gif '세상이 싫어요.'");
    CHECK_MSG(rc == 4 && out && strstr(out, "att.gif") && strstr(out, ".svg or .png"), "exit %d: %s", rc,
              out ? out : "");
    free(out);
    char *old = slurp("att.gif");
    CHECK_MSG(old && !strcmp(old, "old"), "att.gif was changed");
    free(old);

    /* nothing to plot: an empty text (exit 3, no file) */
    rc = run(&out, "translate --plot empty.svg ''");
    CHECK_MSG(rc == 3 && out && strstr(out, "no source pieces"), "empty text: exit %d: %s", rc, out ? out : "");
    free(out);
    snprintf(p, sizeof p, "%s/empty.svg", dir);
    CHECK_MSG(access(p, F_OK) != 0, "a plot of an empty text was written");

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return nr_test_done("test_translate_plot");
}
