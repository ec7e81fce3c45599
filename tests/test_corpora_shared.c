/* tests/test_corpora_shared.c: the readers over the real corpora in ../shared/corpora (skipped,
 * exit 77, when they are absent): row counts, label sets, empty documents, lines of the LM text. */
#include <string.h>

#include "corpora/dataset.h"
#include "corpora/reader.h"
#include "testutil.h"

int main(void) {
    const char *nsmc = nr_test_shared_path("corpora/nsmc/test.tsv.gz");
    const char *lmv = nr_test_shared_path("corpora/nsmc/lm_valid.txt.gz");
    const char *sst = nr_test_shared_path("corpora/sst2/dev.tsv.gz");
    nlprnn_error err;
    nr_dataset ds;
    nr_record_stats st;
    /* NSMC test: 50,000 rows (README), labels 0/1; empty documents are skipped and counted */
    CHECK_INT_EQ(nr_dataset_load(&ds, nsmc, NULL, &st, &err), 0);
    printf("nsmc/test.tsv.gz: %zu reviews, %lld empty skipped, %lld bad\n", ds.n,
           st.skipped_empty, st.skipped_bad);
    CHECK_INT_EQ((long long)ds.n + st.skipped_empty, 50000);
    CHECK_INT_EQ(st.skipped_bad, 0);
    CHECK_INT_EQ(ds.labels.n, 2);
    CHECK_STR_EQ(nr_label_map_name(&ds.labels, 0), "0");
    CHECK_STR_EQ(nr_label_map_name(&ds.labels, 1), "1");
    long long counts[2];
    nr_dataset_class_counts(&ds, counts);
    printf("  class counts: 0 -> %lld, 1 -> %lld\n", counts[0], counts[1]);
    CHECK(counts[0] > 24000 && counts[1] > 24000);
    int nonempty = 1;
    for (size_t i = 0; i < ds.n; i++) nonempty &= ds.len[i] > 0 && strlen(ds.text[i]) == ds.len[i];
    CHECK(nonempty);
    nr_dataset_free(&ds);

    /* IMDB test: 25,000 long reviews (some over 10 KB) */
    const char *imdb = nr_test_shared_path("corpora/imdb/test.tsv.gz");
    CHECK_INT_EQ(nr_dataset_load(&ds, imdb, NULL, &st, &err), 0);
    CHECK_INT_EQ((long long)ds.n + st.skipped_empty, 25000);
    size_t longest = 0;
    for (size_t i = 0; i < ds.n; i++) longest = ds.len[i] > longest ? ds.len[i] : longest;
    printf("imdb/test.tsv.gz: %zu reviews, longest %zu bytes\n", ds.n, longest);
    CHECK(longest > 10000);
    nr_dataset_free(&ds);

    /* SST-2 dev: 872 sentences */
    CHECK_INT_EQ(nr_dataset_load(&ds, sst, NULL, &st, &err), 0);
    CHECK_INT_EQ((long long)ds.n + st.skipped_empty, 872);
    CHECK_INT_EQ(ds.labels.n, 2);
    nr_dataset_free(&ds);

    /* LM validation text: 10,000 reviews, one a line */
    nr_line_reader *r;
    CHECK_INT_EQ(nr_line_reader_open(&r, lmv, NULL, &err), 0);
    nr_line ln;
    long long lines = 0;
    int rc;
    while ((rc = nr_line_reader_next(r, &ln, &err)) == 1) lines++;
    CHECK_INT_EQ(rc, 0);
    CHECK_INT_EQ(lines, 10000);
    nr_line_reader_close(r);
    return nr_test_done("test_corpora_shared");
}
