/* tests/test_tokenizer_corpus.c: round trip and offsets over every line of
 * ../shared/corpora/nsmc/test.tsv.gz and sst2/{train,dev}.tsv.gz (the document column), with
 * the nsmc-trained fixture tokenizer (skipped, exit 77, when ../shared is absent):
 *   decode(encode(x)) == normalize(x)             (lines without a blank marker)
 *   0 <= begin <= end <= len(x), begins never decrease
 *   normalize(x[begin:end]) == the piece without "▁"   (for character pieces)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nlprnn.h"
#include "testutil.h"
#include "tokenizer/internal.h"

static nlprnn_tokenizer *tok;
static nlprnn_encoding *enc;
static long lines, markers, pieces_checked;

static void check_line(const char *name, long no, const char *s, size_t n) {
    nlprnn_error err;
    int rc = nlprnn_tokenizer_encode(tok, s, n, enc, &err);
    CHECK_MSG(rc == 0, "%s:%ld: %s", name, no, err.message);
    if (rc) return;
    lines++;
    size_t m = nlprnn_encoding_size(enc);
    const int32_t *ids = nlprnn_encoding_ids(enc);
    const size_t *off = nlprnn_encoding_offsets(enc);
    if (strstr(s, "__") || strstr(s, "[MASK]") || strstr(s, "\xef\xbc\xbf")) {
        markers++;
    } else {
        char *norm = NULL, *dec = NULL;
        CHECK(nlprnn_tokenizer_normalize(tok, s, n, &norm, NULL, &err) == 0);
        CHECK(nlprnn_tokenizer_decode_alloc(tok, ids, m, &dec, NULL, &err) == 0);
        CHECK_MSG(norm && dec && strcmp(norm, dec) == 0, "%s:%ld: round trip\n  norm: %s\n  dec:  %s",
                  name, no, norm, dec);
        nlprnn_free(norm);
        nlprnn_free(dec);
    }
    size_t prev = 0;
    for (size_t i = 0; i < m; i++) {
        size_t b = off[2 * i], e = off[2 * i + 1];
        if (!(b <= e && e <= n && b >= prev)) {
            CHECK_MSG(0, "%s:%ld: piece %zu has offsets %zu:%zu (len %zu, previous begin %zu)",
                      name, no, i, b, e, n, prev);
            break;
        }
        prev = b;
        if (nlprnn_tokenizer_piece_is_byte(tok, ids[i]) || nlprnn_tokenizer_piece_is_special(tok, ids[i]))
            continue;
        const char *p = nlprnn_tokenizer_piece(tok, ids[i]);
        if (!strncmp(p, NLPRNN_WORD_START, 3)) p += 3;
        if (!*p) continue;
        /* a piece inside one normalization chunk maps back exactly; a piece that shares a
         * chunk with its neighbour (e.g. two jamo composed into one syllable) covers more */
        if (i + 1 < m && off[2 * i + 2] < e) continue;
        if (i > 0 && off[2 * i - 1] > b) continue;
        /* the internal normalizer with a reused buffer: no allocation per piece */
        static nr_normbuf nb;
        if (nr_normalize(&tok->norm, 0, s + b, e - b, &nb, 0, &err) == 0) {
            size_t pl = strlen(p);
            CHECK_MSG(nb.len == pl && memcmp(nb.text, p, pl) == 0,
                      "%s:%ld: piece %zu '%s' but text[%zu:%zu] normalizes to '%.*s'", name, no, i,
                      p, b, e, (int)nb.len, nb.text);
            pieces_checked++;
        }
    }
}

static void run_tsv(const char *rel) {
    const char *path = nr_test_shared_path(rel);
    gzFile gz = gzopen(path, "rb");
    CHECK_MSG(gz != NULL, "cannot open %s", path);
    if (!gz) return;
    static char buf[1 << 16];
    long no = 0;
    long before = lines;
    while (gzgets(gz, buf, sizeof buf)) {
        no++;
        if (no == 1) continue; /* header: id, document, label */
        size_t n = strlen(buf);
        if (n && buf[n - 1] == '\n') buf[--n] = '\0';
        char *t1 = strchr(buf, '\t');
        char *t2 = t1 ? strrchr(buf, '\t') : NULL;
        CHECK_MSG(t1 && t2 > t1, "%s:%ld: not id<TAB>document<TAB>label", rel, no);
        if (!t1 || t2 <= t1) continue;
        *t2 = '\0';
        check_line(rel, no, t1 + 1, (size_t)(t2 - t1 - 1));
    }
    gzclose(gz);
    printf("%s: %ld lines\n", rel, lines - before);
    CHECK(lines - before == no - 1);
}

int main(void) {
    const char *nsmc = nr_test_shared_path("corpora/nsmc/test.tsv.gz");
    (void)nsmc;
    nlprnn_error err;
    int rc = nlprnn_tokenizer_load(nr_test_data_path("tokenizer/nsmc8k.tok"), &tok, &err);
    CHECK_MSG(rc == 0, "%s", err.message);
    if (rc) return nr_test_done("test_tokenizer_corpus");
    nlprnn_encoding_create(&enc, NULL);
    run_tsv("corpora/nsmc/test.tsv.gz");
    run_tsv("corpora/sst2/dev.tsv.gz");
    run_tsv("corpora/sst2/train.tsv.gz");
    printf("%ld lines, %ld with blank markers (no round-trip check), %ld pieces mapped back\n",
           lines, markers, pieces_checked);
    CHECK(lines > 100000);
    nlprnn_encoding_free(enc);
    nlprnn_tokenizer_free(tok);
    return nr_test_done("test_tokenizer_corpus");
}
