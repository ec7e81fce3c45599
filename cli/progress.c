/* cli/progress.c: progress lines on standard error, the same for every command that trains
 * (declared in cli/cli.h). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_fmt_time(char *b, size_t n, double s) {
    if (!(s >= 0) || s > 1e7) {
        snprintf(b, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(b, n, "%02ld:%02ld", t / 60, t % 60);
}

void cli_fmt_bar(char *b, long long done, long long total) {
    const int w = 24;
    int fill = total > 0 ? (int)((double)w * (double)done / (double)total) : 0;
    for (int i = 0; i < w; i++) b[i] = i < fill ? '#' : '.';
    b[w] = 0;
}

void cli_progress_init(cli_progress *p, const char *prefix, double every, int quiet) {
    p->prefix = prefix ? prefix : "";
    p->tty = isatty(STDERR_FILENO);
    p->quiet = quiet;
    p->shown = 0;
    p->every = every;
    p->last = 0;
}

int cli_progress_due(cli_progress *p, int force) {
    if (p->quiet) return 0;
    double now = cli_now();
    if (!force && now - p->last < (p->tty ? 0.2 : p->every)) return 0;
    p->last = now;
    return 1;
}

/* A status (lasting = 0) or a lasting line: on a terminal it replaces the status line in place,
 * elsewhere it is a plain line with the prefix; a status stays on a terminal's line. */
static void put(cli_progress *p, int lasting, const char *fmt, va_list ap) {
    if (p->quiet) return;
    fputs(p->tty ? "\r\033[K" : p->prefix, stderr);
    vfprintf(stderr, fmt, ap);
    p->shown = p->tty && !lasting;
    if (!p->shown) fputc('\n', stderr);
}

void cli_progress_status(cli_progress *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    put(p, 0, fmt, ap);
    va_end(ap);
}

void cli_progress_line(cli_progress *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    put(p, 1, fmt, ap);
    va_end(ap);
}

void cli_progress_warn(cli_progress *p, const char *fmt, ...) {
    va_list ap;
    if (p->tty && p->shown) fputs("\r\033[K", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    p->shown = 0;
}

void cli_progress_end(cli_progress *p) {
    if (p->tty && p->shown) fputs("\r\033[K", stderr);
    p->shown = 0;
}
