/* tests/test_series_corpora.c: the chapter's real series read as documented in
 * ../shared/corpora/timeseries/README.md (skipped, exit 77, when the corpora are absent). */
#include <string.h>

#include "corpora/series.h"
#include "nlprnn.h"
#include "testutil.h"

int main(void) {
    const char *temps = nr_test_shared_path("corpora/timeseries/daily-min-temperatures.csv");
    const char *stock = nr_test_shared_path("corpora/timeseries/005930.KS.csv");
    nlprnn_series *s = NULL;
    nlprnn_error e;
    const char *t1[] = {"Temp"};
    int rc = nlprnn_series_load_csv(temps, t1, 1, &s, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        /* 3,650 rows (CRLF, quoted header and dates, no final newline) */
        CHECK_INT_EQ(nlprnn_series_length(s), 3650);
        const double *v = nlprnn_series_values(s);
        CHECK(v[0] == 20.7 && v[1] == 17.9);  /* 1981-01-01, 1981-01-02 */
        CHECK(v[3649] == 13.0);               /* 1990-12-31 */
        CHECK_INT_EQ(s->lines[3649], 3651);
        size_t n;
        CHECK_INT_EQ(nlprnn_window_count(3650, 30, 1, &n, NULL), 0);
        CHECK_INT_EQ(n, 3620);
    }
    nlprnn_series_free(s);

    const char *t2[] = {"Open", "High", "Low", "Close", "Volume"};
    rc = nlprnn_series_load_csv(stock, t2, 5, &s, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        /* 5,604 rows, LF, no final newline; first row 2000-01-04, last 2022-04-26 */
        CHECK_INT_EQ(nlprnn_series_length(s), 5604);
        CHECK_INT_EQ(nlprnn_series_features(s), 5);
        const double *v = nlprnn_series_values(s);
        CHECK(v[0] == 6000 && v[1] == 6110 && v[2] == 5660 && v[3] == 6110 && v[4] == 74195000);
        const double *last = v + 5603 * 5;
        CHECK(last[3] == 66400 && last[4] == 631081);
        /* Close ranges 2,730 .. 91,000 KRW (README) */
        double lo = v[3], hi = v[3];
        for (size_t i = 0; i < 5604; i++) {
            lo = v[i * 5 + 3] < lo ? v[i * 5 + 3] : lo;
            hi = v[i * 5 + 3] > hi ? v[i * 5 + 3] : hi;
        }
        CHECK(lo == 2730 && hi == 91000);
    }
    nlprnn_series_free(s);
    /* a column the file does not have: the message lists the header */
    const char *t3[] = {"Temp"};
    CHECK_INT_EQ(nlprnn_series_load_csv(stock, t3, 1, &s, &e), NLPRNN_E_DATA);
    CHECK_MSG(strstr(e.message, "005930.KS.csv:1: no column 'Temp' in the header (columns: Date, Open, High, Low, Close, Adj Close, Volume)"),
              "%s", e.message);
    return nr_test_done("test_series_corpora");
}
