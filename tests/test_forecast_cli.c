/* tests/test_forecast_cli.c: the nlprnn program end to end — `forecast sine|train|eval|predict`
 * and `gradflow` write their figures (SVG through PLplot) and the files are there and non-empty;
 * bad input files give exit code 3 with file:line on stderr. Needs the program ($NLPRNN_CLI). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char dir[256];
static const char *cli;

/* Run a shell command; return its exit status, output in dir/out.txt. */
static int run(const char *fmt, const char *a, const char *b) {
    char cmd[2048], args[1536];
    snprintf(args, sizeof args, fmt, a ? a : "", b ? b : "");
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >out.txt 2>&1", dir, cli, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *output(void) {
    static char buf[8192];
    char p[512];
    snprintf(p, sizeof p, "%s/out.txt", dir);
    FILE *fp = fopen(p, "rb");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp) fclose(fp);
    buf[n] = '\0';
    return buf;
}

/* The file exists, is larger than min bytes, and begins with what an SVG begins with. */
static void check_svg(const char *name, long min) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    int ok = stat(p, &st) == 0;
    CHECK_MSG(ok && st.st_size > min, "%s: missing or only %lld bytes", name, ok ? (long long)st.st_size : -1LL);
    FILE *fp = fopen(p, "rb");
    char head[256] = "";
    if (fp) {
        size_t n = fread(head, 1, sizeof head - 1, fp);
        head[n] = '\0';
        fclose(fp);
    }
    CHECK_MSG(strstr(head, "<svg") || strstr(head, "<?xml"), "%s does not look like SVG: %.60s", name, head);
}

int main(void) {
    cli = getenv("NLPRNN_CLI");
    if (!cli || access(cli, X_OK) != 0) {
        printf("SKIP: the nlprnn program is not built (NLPRNN_CLI=%s)\n", cli ? cli : "unset");
        return 77;
    }
    snprintf(dir, sizeof dir, "/tmp/nlprnn-test-fcli-XXXXXX");
    if (!mkdtemp(dir)) return 1;

    CHECK_INT_EQ(run("forecast sine -o sine.csv --length 400 --period 25 --noise 0.05", NULL, NULL), 0);
    int rc = run("forecast train --csv sine.csv --column value -o sine.nrm --window 12 --hidden 8 "
                 "--epochs 3 --quiet --plots fig", NULL, NULL);
    if (rc != 0 && strstr(output(), "built without PLplot")) {
        printf("SKIP: %s", output());
        return 77;
    }
    CHECK_MSG(rc == 0, "train exit %d: %s", rc, output());
    CHECK_MSG(strstr(output(), "persistence") && strstr(output(), "moving average (12)"), "%s", output());
    check_svg("fig-series.svg", 1000);
    check_svg("fig-windows.svg", 1000);
    check_svg("fig-loss.svg", 1000);
    check_svg("fig-test.svg", 1000);
    rc = run("forecast eval sine.nrm --csv sine.csv --plot eval.svg --out pred.csv", NULL, NULL);
    CHECK_MSG(rc == 0, "eval exit %d: %s", rc, output());
    check_svg("eval.svg", 1000);
    rc = run("forecast predict sine.nrm --csv sine.csv --from 300 --steps 30 --plot predict.svg", NULL, NULL);
    CHECK_MSG(rc == 0, "predict exit %d: %s", rc, output());
    CHECK_MSG(strstr(output(), "RMSE over the 30 steps"), "%s", output());
    check_svg("predict.svg", 1000);
    rc = run("gradflow --length 40 --hidden 8 --batch 4 --plot gradflow.svg --csv gradflow.csv", NULL, NULL);
    CHECK_MSG(rc == 0, "gradflow exit %d: %s", rc, output());
    check_svg("gradflow.svg", 1000);
    rc = run("gradflow --explode --length 30 --hidden 8 --steps 20 --plot explode.svg", NULL, NULL);
    CHECK_MSG(rc == 0, "gradflow --explode exit %d: %s", rc, output());
    check_svg("explode.svg", 1000);
    /* a plot path the program cannot draw to fails */
    rc = run("gradflow --length 10 --hidden 4 --batch 2 --plot out.gif", NULL, NULL);
    CHECK_MSG(rc != 0 && strstr(output(), ".svg or .png"), "exit %d: %s", rc, output());

    /* bad data: exit code 3 and file:line in the message */
    char p[512];
    snprintf(p, sizeof p, "%s/bad.csv", dir);
    FILE *fp = fopen(p, "wb");
    if (fp) {
        fputs("Date,Temp\n1981-01-01,20.7\n1981-01-02,n/a\n", fp);
        fclose(fp);
    }
    rc = run("forecast train --csv bad.csv --column Temp -o bad.nrm", NULL, NULL);
    CHECK_MSG(rc == 3 && strstr(output(), "bad.csv:3: byte 37: column 'Temp': missing value"), "exit %d: %s", rc, output());
    rc = run("forecast train --csv sine.csv --column Value -o x.nrm", NULL, NULL);
    CHECK_MSG(rc == 3 && strstr(output(), "no column 'Value'"), "exit %d: %s", rc, output());
    rc = run("forecast train --csv sine.csv --column value -o x.nrm --cell lstn", NULL, NULL);
    CHECK_MSG(rc == 2, "exit %d: %s", rc, output());

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return nr_test_done("test_forecast_cli");
}
