/* tests/fuzz/fuzz_series_csv.c: libFuzzer target for the CSV series reader and windowing
 * (nlprnn_series_load_csv, nlprnn_window_count, nlprnn_series_windows).
 * Byte 0 picks the columns to read (bits 0-1: how many, 1..3; bits 2-4: which names) and the
 * window (bits 5-7: 1..8); the rest is the file, written to a temporary file because the reader
 * takes a path. Invariants (a violation aborts): a failure returns a documented status with a
 * message naming the file; a success gives length >= 1 rows of exactly the requested columns,
 * and the windows copy the series' own values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"

static char path[64];

static void remove_file(void) { unlink(path); }

static void check(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_series_csv: invariant violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/nlprnn-fuzz-csv-%d.csv", (int)getpid());
        atexit(remove_file); /* libFuzzer ends its runs with exit() */
    }
    unsigned sel = data[0];
    data++;
    size--;
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    if (size && fwrite(data, 1, size, fp) != size) {
        fclose(fp);
        return 0;
    }
    fclose(fp);

    static const char *names[] = {"value", "Temp", "Close", "Open", "Date", "a", "b", "x0"};
    int ncol = 1 + (int)(sel & 3) % 3;
    const char *cols[3];
    for (int j = 0; j < ncol; j++) cols[j] = names[((sel >> 2) + (unsigned)j * 3) & 7];
    int window = 1 + (int)((sel >> 5) & 7);

    nlprnn_series *s = NULL;
    nlprnn_error err;
    int rc = nlprnn_series_load_csv(path, cols, ncol, &s, &err);
    if (rc != NLPRNN_OK) {
        check(s == NULL, "handle set on failure");
        check(rc == NLPRNN_E_DATA || rc == NLPRNN_E_IO || rc == NLPRNN_E_UTF8 ||
                  rc == NLPRNN_E_EMPTY || rc == NLPRNN_E_LIMIT || rc == NLPRNN_E_INVALID_ARG ||
                  rc == NLPRNN_E_NOMEM || rc == NLPRNN_E_FORMAT,
              "undocumented status");
        check(err.code == rc, "err.code differs from the returned status");
        check(strstr(err.message, "nlprnn-fuzz-csv") != NULL, "message does not name the file");
        return 0;
    }
    size_t n = nlprnn_series_length(s);
    check(s != NULL && n >= 1, "empty series on success");
    check(nlprnn_series_features(s) == ncol, "wrong number of columns");
    for (int j = 0; j < ncol; j++) check(nlprnn_series_column(s, j) != NULL, "column name NULL");
    const double *v = nlprnn_series_values(s);
    size_t count = 0;
    rc = nlprnn_window_count(n, window, 1, &count, &err);
    if (rc == NLPRNN_OK) {
        check(count == n - (size_t)window, "window count");
        size_t take = count < 4 ? count : 4;
        double *x = malloc(sizeof(double) * take * (size_t)window * (size_t)ncol + 1);
        double *y = malloc(sizeof(double) * take + 1);
        if (x && y) {
            rc = nlprnn_series_windows(s, 0, window, 1, count - take, take, x, y, &err);
            check(rc == NLPRNN_OK, "windows of a valid range failed");
            for (size_t i = 0; i < take; i++) {
                size_t row = count - take + i + (size_t)window;
                check(memcmp(&y[i], &v[row * (size_t)ncol], sizeof(double)) == 0,
                      "target differs from the series value");
            }
        }
        free(x);
        free(y);
    } else {
        check(rc == NLPRNN_E_DATA && n < (size_t)window + 1, "window count failed for a long series");
    }
    nlprnn_series_free(s);
    return 0;
}
