/* tests/test_series.c: CSV series reading, the chapter's windowing table, split, scaling, and the
 * errors for bad files (each must name the file and the line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpora/series.h"
#include "nlprnn.h"
#include "testutil.h"

static char tmpdir[256];

static const char *write_tmp(const char *name, const char *text) {
    static char path[8][512];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *fp = fopen(p, "wb");
    if (!fp) {
        perror(p);
        exit(1);
    }
    fwrite(text, 1, strlen(text), fp);
    fclose(fp);
    return p;
}

/* The chapter's table: [16, 8, 32, 9, 23, 11, 19], window 3, horizon 1. */
static void test_chapter_windows(void) {
    const double v[] = {16, 8, 32, 9, 23, 11, 19};
    nlprnn_series *s = NULL;
    CHECK_INT_EQ(nlprnn_series_create(v, 7, 1, NULL, &s, NULL), 0);
    size_t count = 0;
    CHECK_INT_EQ(nlprnn_window_count(7, 3, 1, &count, NULL), 0);
    CHECK_INT_EQ(count, 4);
    double x[12], y[4];
    CHECK_INT_EQ(nlprnn_series_windows(s, 0, 3, 1, 0, 4, x, y, NULL), 0);
    const double ex[12] = {16, 8, 32, 8, 32, 9, 32, 9, 23, 9, 23, 11};
    const double ey[4] = {9, 23, 11, 19};
    for (int i = 0; i < 12; i++) CHECK_MSG(x[i] == ex[i], "x[%d] = %g, expected %g", i, x[i], ex[i]);
    for (int i = 0; i < 4; i++) CHECK_MSG(y[i] == ey[i], "y[%d] = %g, expected %g", i, y[i], ey[i]);

    /* horizon 2: [16,8,32] -> 23, ..., [32,9,23] -> 19 */
    CHECK_INT_EQ(nlprnn_window_count(7, 3, 2, &count, NULL), 0);
    CHECK_INT_EQ(count, 3);
    CHECK_INT_EQ(nlprnn_series_windows(s, 0, 3, 2, 0, 3, x, y, NULL), 0);
    CHECK(y[0] == 23 && y[1] == 11 && y[2] == 19);
    CHECK(x[6] == 32 && x[7] == 9 && x[8] == 23);

    /* out of range and short series */
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_series_windows(s, 0, 3, 1, 2, 3, x, y, &e), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_series_windows(s, 1, 3, 1, 0, 1, x, y, &e), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_series_windows(s, 0, 7, 1, 0, 1, x, y, &e), NLPRNN_E_DATA);
    CHECK_MSG(strstr(e.message, "needs at least 8") != NULL, "%s", e.message);
    CHECK_INT_EQ(nlprnn_window_count(7, 0, 1, &count, &e), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_window_count(7, 6, 1, &count, &e), 0);
    CHECK_INT_EQ(count, 1);

    /* time-major scaled windows with the identity scaler are the same numbers */
    nr_scaler sc;
    CHECK_INT_EQ(nr_scaler_fit(&sc, NR_SCALER_NONE, v, 7, 1, NULL, NULL), 0);
    float xt[12], yt[4], xr[12], yr[4];
    float *z = nr_series_scaled(s, &sc);
    CHECK(z != NULL);
    size_t starts[4] = {0, 1, 2, 3};
    if (z) nr_series_gather(xt, yt, z, 1, 3, 1, 0, 0, starts, 4);
    for (int t = 0; z && t < 3; t++)
        for (int i = 0; i < 4; i++) CHECK(xt[t * 4 + i] == (float)ex[i * 3 + t]);
    for (int i = 0; z && i < 4; i++) CHECK(yt[i] == (float)ey[i]);
    /* relative windows: every value minus the window's last one; windows by any start, in order */
    size_t some[2] = {3, 1};
    if (z) nr_series_gather(xr, yr, z, 1, 3, 1, 0, 1, some, 2);
    for (int t = 0; z && t < 3; t++)
        for (int b = 0; b < 2; b++)
            CHECK(xr[t * 2 + b] == (float)ex[some[b] * 3 + t] - (float)ex[some[b] * 3 + 2]);
    for (int b = 0; z && b < 2; b++) CHECK(yr[b] == (float)ey[some[b]] - (float)ex[some[b] * 3 + 2]);
    free(z);
    nr_scaler_free(&sc);
    nlprnn_series_free(s);
}

static void test_read_csv(void) {
    /* CRLF, quoted header and cells, no final newline (like daily-min-temperatures.csv) */
    const char *p = write_tmp("temps.csv",
                              "\"Date\",\"Temp\"\r\n\"1981-01-01\",20.7\r\n\"1981-01-02\",17.9\r\n"
                              "\"1981-01-03\",\"18.8\"");
    const char *cols[] = {"Temp"};
    nlprnn_series *s = NULL;
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_series_load_csv(p, cols, 1, &s, &e), 0);
    CHECK_INT_EQ(nlprnn_series_length(s), 3);
    CHECK_INT_EQ(nlprnn_series_features(s), 1);
    CHECK_STR_EQ(nlprnn_series_column(s, 0), "Temp");
    const double *v = nlprnn_series_values(s);
    CHECK(v[0] == 20.7 && v[1] == 17.9 && v[2] == 18.8);
    CHECK(s->lines[0] == 2 && s->lines[2] == 4);
    nlprnn_series_free(s);

    /* several columns, in the order asked, LF with a final newline */
    p = write_tmp("ohlc.csv", "Date,Open,High,Low,Close,Volume\n2000-01-04,6000,6110,5660,6110,74195000\n"
                              "2000-01-05,5800,6060,5520,5580,74680000\n");
    const char *cols2[] = {"Close", "Open", "Volume"};
    CHECK_INT_EQ(nlprnn_series_load_csv(p, cols2, 3, &s, &e), 0);
    CHECK_INT_EQ(nlprnn_series_length(s), 2);
    v = nlprnn_series_values(s);
    CHECK(v[0] == 6110 && v[1] == 6000 && v[2] == 74195000 && v[3] == 5580 && v[5] == 74680000);
    nlprnn_series_free(s);

    /* a series from this file shorter than the window names the file and its last line */
    CHECK_INT_EQ(nlprnn_series_load_csv(p, cols2, 3, &s, &e), 0);
    double x[64], y[4];
    CHECK_INT_EQ(nlprnn_series_windows(s, 0, 2, 1, 0, 1, x, y, &e), NLPRNN_E_DATA);
    CHECK_MSG(strstr(e.message, "ohlc.csv:3:") && strstr(e.message, "window 2 + horizon 1"), "%s", e.message);
    CHECK_INT_EQ(e.line, 3);
    nlprnn_series_free(s);
}

/* Each bad file: the code, the line, and pieces that the message must contain. */
static void expect_error(const char *name, const char *text, const char *col, int code,
                         long long line, const char *part1, const char *part2) {
    const char *p = write_tmp(name, text);
    const char *cols[] = {col};
    nlprnn_series *s = (nlprnn_series *)1;
    nlprnn_error e;
    nlprnn_error_clear(&e);
    int rc = nlprnn_series_load_csv(p, cols, 1, &s, &e);
    CHECK_MSG(rc == code, "%s: rc %d, expected %d (%s)", name, rc, code, e.message);
    CHECK(s == NULL);
    CHECK_MSG(e.line == line, "%s: line %lld, expected %lld (%s)", name, e.line, line, e.message);
    CHECK_MSG(strstr(e.message, name) != NULL, "%s: message lacks the file name: %s", name, e.message);
    CHECK_MSG(!part1 || strstr(e.message, part1), "%s: message lacks \"%s\": %s", name, part1, e.message);
    CHECK_MSG(!part2 || strstr(e.message, part2), "%s: message lacks \"%s\": %s", name, part2, e.message);
}

static void test_errors(void) {
    expect_error("empty.csv", "", "Temp", NLPRNN_E_EMPTY, 1, "empty.csv:1:", "empty file");
    expect_error("blank.csv", "\r\n\n", "Temp", NLPRNN_E_EMPTY, 1, "blank.csv:1:", "empty file");
    expect_error("header.csv", "Date,Temp\n", "Temp", NLPRNN_E_EMPTY, 1, "header.csv:1:", "no data rows");
    expect_error("missing.csv", "Date,Temp\n1981-01-01,20.7\n1981-01-02,\n1981-01-03,18.8\n", "Temp",
                 NLPRNN_E_DATA, 3, "missing.csv:3: byte 37:", "column 'Temp': missing value");
    expect_error("na.csv", "Date,Temp\r\n1981-01-01,20.7\r\n1981-01-02,20.1\r\n1981-01-03,NA\r\n", "Temp",
                 NLPRNN_E_DATA, 4, "na.csv:4:", "missing value \"NA\"");
    expect_error("word.csv", "Date,Temp\n1981-01-01,20.7\n1981-01-02,warm\n", "Temp", NLPRNN_E_DATA, 3,
                 "word.csv:3: byte 37:", "not a number: \"warm\"");
    expect_error("unit.csv", "Date,Temp\n1981-01-01,20.7C\n", "Temp", NLPRNN_E_DATA, 2,
                 "unit.csv:2:", "not a number: \"20.7C\"");
    expect_error("hex.csv", "Date,Temp\n1981-01-01,0x10\n", "Temp", NLPRNN_E_DATA, 2, "hex.csv:2:", "not a number");
    expect_error("short.csv", "Date,Open,Close\n2000-01-04,1,2\n2000-01-05,3\n", "Close", NLPRNN_E_DATA, 3,
                 "short.csv:3:", "row has 2 fields, column 'Close' is field 3");
    expect_error("nocol.csv", "Date,Temp\n1981-01-01,20.7\n", "Close", NLPRNN_E_DATA, 1, "nocol.csv:1:",
                 "no column 'Close' in the header (columns: Date, Temp)");
    expect_error("quote.csv", "Date,Temp\n\"1981-01-01,20.7\n", "Temp", NLPRNN_E_DATA, 2, "quote.csv:2:",
                 "not closed");
    {
        /* a NUL byte inside a cell */
        char path[512];
        snprintf(path, sizeof path, "%s/nul.csv", tmpdir);
        FILE *fp = fopen(path, "wb");
        fwrite("v\n1.5\n2\0003\n", 1, 10, fp); /* 10 bytes: no trailing NUL */
        fclose(fp);
        const char *c1[] = {"v"};
        nlprnn_series *s1 = NULL;
        nlprnn_error e1;
        CHECK_INT_EQ(nlprnn_series_load_csv(path, c1, 1, &s1, &e1), NLPRNN_E_DATA);
        CHECK_MSG(strstr(e1.message, "nul.csv:3: byte 7: NUL byte"), "%s", e1.message);
    }
    /* a quoted cell may hold a comma and a doubled quote */
    const char *p = write_tmp("quoted.csv", "\"a,\"\"b\"\"\",v\n\"x,y\",1.5\n");
    const char *cols[] = {"a,\"b\"", "v"};
    nlprnn_series *s = NULL;
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_series_load_csv(p, cols + 1, 1, &s, &e), 0);
    CHECK(s && s->x[0] == 1.5);
    nlprnn_series_free(s);
    CHECK_INT_EQ(nlprnn_series_load_csv(p, cols, 1, &s, &e), NLPRNN_E_DATA); /* "x,y" is text */
    CHECK_MSG(strstr(e.message, "quoted.csv:2: byte 12:"), "%s", e.message);
    CHECK_INT_EQ(nlprnn_series_load_csv(write_tmp("nofile.csv", "x") , NULL, 0, &s, &e), NLPRNN_E_INVALID_ARG);
    char gone[600];
    snprintf(gone, sizeof gone, "%s/does-not-exist.csv", tmpdir);
    CHECK_INT_EQ(nlprnn_series_load_csv(gone, cols + 1, 1, &s, &e), NLPRNN_E_IO);
    const double bad[] = {1, 0.0 / 0.0};
    CHECK_INT_EQ(nlprnn_series_create(bad, 2, 1, NULL, &s, &e), NLPRNN_E_DATA);
}

static void test_split_and_scaling(void) {
    nr_split sp;
    CHECK_INT_EQ(nr_split_rows(&sp, 100, 0.7, 0.15, NULL), 0);
    CHECK(sp.n_train == 70 && sp.n_valid == 15 && sp.n_test == 15);
    CHECK_INT_EQ(nr_split_rows(&sp, 100, 0.9, 0.2, NULL), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nr_split_rows(&sp, 100, 0.7, 0.15, NULL), 0);
    /* window 5, horizon 1: target row = sample + 5 */
    size_t first, count;
    nr_split_samples(&sp, 100, 5, 1, NLPRNN_PART_TRAIN, &first, &count);
    CHECK(first == 0 && count == 65);
    nr_split_samples(&sp, 100, 5, 1, NLPRNN_PART_VALID, &first, &count);
    CHECK(first == 65 && count == 15); /* targets 70..84 */
    nr_split_samples(&sp, 100, 5, 1, NLPRNN_PART_TEST, &first, &count);
    CHECK(first == 80 && count == 15); /* targets 85..99: the last sample is 94 */
    CHECK(first + count == 95);
    nr_split_samples(&sp, 100, 5, 1, NLPRNN_PART_ALL, &first, &count);
    CHECK(first == 0 && count == 95);

    /* scalers fit on the training rows only */
    double x[10 * 2];
    for (int i = 0; i < 10; i++) x[2 * i] = i, x[2 * i + 1] = 7; /* feature 1 is constant */
    nr_scaler sc;
    CHECK_INT_EQ(nr_scaler_fit(&sc, NR_SCALER_MINMAX, x, 5, 2, NULL, NULL), 0);
    CHECK_NEAR(sc.a[0], 0, 0);
    CHECK_NEAR(sc.b[0], 4, 0);
    CHECK_NEAR(sc.b[1], 1, 0);
    CHECK_NEAR(nr_scale(&sc, 0, 9), 2.25, 1e-12); /* test rows go beyond [0,1] */
    CHECK_NEAR(nr_unscale(&sc, 0, nr_scale(&sc, 0, 3.3)), 3.3, 1e-12);
    nr_scaler_free(&sc);
    CHECK_INT_EQ(nr_scaler_fit(&sc, NR_SCALER_STANDARD, x, 5, 2, NULL, NULL), 0);
    CHECK_NEAR(sc.a[0], 2, 1e-12);
    CHECK_NEAR(sc.b[0], sqrt(2.0), 1e-12);
    nr_scaler_free(&sc);
    CHECK_INT_EQ(nr_scaler_kind("standard"), NR_SCALER_STANDARD);
    CHECK_INT_EQ(nr_scaler_kind("zscore"), -1);
}

/* nlprnn_series_create_sine gives the series of 0.1's `nlprnn forecast sine` (values printed by
 * the 0.1 program: forecast sine --length 5 --period 7 --noise 0.5 --seed 42, %.6f), and checks
 * its arguments. */
static void test_sine(void) {
    static const double want[5] = {-0.736800, 0.577727, 2.311575, -0.522930, -1.278958};
    nlprnn_series *s = NULL;
    nlprnn_error e;
    CHECK_INT_EQ(nlprnn_series_create_sine(5, 7, 0.5, 42, &s, &e), 0);
    if (s) {
        CHECK_INT_EQ(nlprnn_series_length(s), 5);
        CHECK_STR_EQ(nlprnn_series_column(s, 0), "value");
        for (int t = 0; t < 5; t++) CHECK_NEAR(nlprnn_series_values(s)[t], want[t], 6e-7);
    }
    nlprnn_series_free(s);
    s = NULL;
    CHECK_INT_EQ(nlprnn_series_create_sine(1, 7, 0.5, 42, &s, &e), NLPRNN_E_INVALID_ARG);
    CHECK(s == NULL && strstr(e.message, "length"));
    CHECK_INT_EQ(nlprnn_series_create_sine(10, 0, 0.5, 42, &s, &e), NLPRNN_E_INVALID_ARG);
    CHECK_INT_EQ(nlprnn_series_create_sine(10, 7, -1, 42, &s, &e), NLPRNN_E_INVALID_ARG);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nlprnn-test-series-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_chapter_windows();
    test_read_csv();
    test_errors();
    test_split_and_scaling();
    test_sine();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return nr_test_done("test_series");
}
