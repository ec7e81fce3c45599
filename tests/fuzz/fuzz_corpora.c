/* tests/fuzz/fuzz_corpora.c: libFuzzer target for the corpus readers.
 * Byte 0 chooses the options: bits 0-2 the format (AUTO..FASTTEXT, others LINES), bit 3
 * skip_bad, bit 4 U+FFFD replacement, bit 5 a tiny line limit (16 bytes), bit 6 keep_empty,
 * bit 7 read through a temporary file with gzopen (so gzip input is decoded too).
 * The rest is the file. Loads a dataset, then makes length-bucketed batches over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "corpora/dataset.h"
#include "corpora/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned sel = data[0];
    data++;
    size--;
    nr_dataset_load_opts o;
    memset(&o, 0, sizeof o);
    nr_record_opts_default(&o.rec);
    int fmt = (int)(sel & 7);
    o.rec.format = fmt <= NR_FORMAT_FASTTEXT ? fmt : NR_FORMAT_LINES;
    if (o.rec.format == NR_FORMAT_AUTO) o.rec.format = NR_FORMAT_TSV;
    o.rec.skip_bad = (sel >> 3) & 1;
    o.rec.line.utf8_mode = (sel >> 4) & 1 ? NR_UTF8_REPLACE : NR_UTF8_STRICT;
    o.rec.line.max_line = (sel >> 5) & 1 ? 16 : 0;
    o.rec.keep_empty = (sel >> 6) & 1;
    nr_dataset ds;
    nr_record_stats st;
    nlprnn_error err;
    int rc;
    if (sel & 0x80) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/fuzz_corpora.%d", (int)getpid());
        FILE *fp = fopen(path, "wb");
        if (!fp) return 0;
        fwrite(data, 1, size, fp);
        fclose(fp);
        rc = nr_dataset_load(&ds, path, &o, &st, &err);
        unlink(path);
    } else {
        rc = nr_dataset_load_mem(&ds, "fuzz", data, size, &o, &st, &err);
    }
    if (rc) {
        if (err.code != rc || !err.message[0]) abort(); /* every error carries its message */
        return 0;
    }
    for (size_t i = 0; i < ds.n; i++) {
        if (strlen(ds.text[i]) > ds.len[i]) abort();
        if (nr_utf8_check(ds.text[i], ds.len[i]) != ds.len[i]) abort(); /* always valid UTF-8 */
        if (ds.label[i] >= ds.labels.n) abort();
    }
    nr_rng rng;
    nr_rng_seed(&rng, size);
    nr_batches b;
    if (nr_batches_make(&b, ds.len, ds.n, 3, 2, &rng, &err) == 0) nr_batches_free(&b);
    nr_dataset valid;
    if (nr_dataset_split(&ds, 0.25, &rng, &valid, &err) == 0) nr_dataset_free(&valid);
    nr_dataset_free(&ds);
    return 0;
}
