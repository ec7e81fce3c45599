/* tests/test_tokenizer_nfkc.c: NFC/NFKC conformance of the normalizer on a sample of Unicode's
 * NormalizationTest.txt (tests/data/tokenizer/nfkc_sample.txt, made by make_nfkc_sample.py from
 * Debian's unicode-data 15.0.0). Checked invariants (from the file's header):
 *   c2 == NFC(c1) == NFC(c2) == NFC(c3),  c4 == NFC(c4) == NFC(c5),  c4 == NFKC(c1..c5)
 * The normalizer also trims and collapses whitespace, so cases whose source or result contain
 * whitespace are skipped (and counted). Offsets are checked to stay inside the source. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tokenizer/internal.h"

static int parse_field(const char *s, char *out, size_t *n) {
    /* space-separated hex code points -> UTF-8 */
    *n = 0;
    while (*s && *s != ';') {
        while (*s == ' ') s++;
        if (*s == ';' || !*s) break;
        char *end;
        long cp = strtol(s, &end, 16);
        if (end == s) return -1;
        *n += (size_t)nr_utf8_encode((int32_t)cp, out + *n);
        s = end;
    }
    return 0;
}

static int has_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ') return 1;
    return strstr(s, "\xc2\xa0") || strstr(s, "\xe3\x80\x80") || strstr(s, "\xe2\x80");
}

static nr_normbuf nb;

static int normalize_eq(int form, const char *src, size_t sn, const char *want, size_t wn,
                        long lineno, const char *what) {
    nr_normcfg cfg = {form, NR_CTRL_KEEP, 0, NR_INVALID_ERROR};
    nlprnn_error err;
    int rc = nr_normalize(&cfg, 0, src, sn, &nb, 1, &err);
    CHECK_MSG(rc == 0, "line %ld %s: %s", lineno, what, err.message);
    if (rc) return 0;
    int ok = nb.len == wn && memcmp(nb.text, want, wn) == 0;
    CHECK_MSG(ok, "line %ld: %s gives %.*s (%zu bytes), expected %.*s", lineno, what,
              (int)nb.len, nb.text, nb.len, (int)wn, want);
    for (size_t i = 0; i < nb.len; i++) {
        if (nb.obeg[i] > nb.oend[i] || nb.oend[i] > sn || (i && nb.obeg[i] < nb.obeg[i - 1])) {
            CHECK_MSG(0, "line %ld: %s: bad offset at byte %zu", lineno, what, i);
            break;
        }
    }
    return ok;
}

int main(void) {
    const char *path = nr_test_data_path("tokenizer/nfkc_sample.txt");
    FILE *fp = fopen(path, "r");
    CHECK_MSG(fp != NULL, "cannot open %s", path);
    if (!fp) return nr_test_done("test_tokenizer_nfkc");
    char line[4096];
    long lineno = 0, cases = 0, skipped = 0;
    static char c[5][512];
    size_t cn[5];
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '#' || line[0] == '@' || line[0] == '\n') continue;
        const char *s = line;
        int bad = 0;
        for (int k = 0; k < 5; k++) {
            if (parse_field(s, c[k], &cn[k])) bad = 1;
            c[k][cn[k]] = '\0';
            s = strchr(s, ';');
            if (!s) {
                bad = 1;
                break;
            }
            s++;
        }
        CHECK_MSG(!bad, "line %ld is malformed", lineno);
        if (bad) continue;
        int sp = 0;
        for (int k = 0; k < 5; k++) sp |= has_space(c[k], cn[k]);
        if (sp) {
            skipped++;
            continue;
        }
        cases++;
        normalize_eq(NR_NORM_NFC, c[0], cn[0], c[1], cn[1], lineno, "NFC(c1)");
        normalize_eq(NR_NORM_NFC, c[1], cn[1], c[1], cn[1], lineno, "NFC(c2)");
        normalize_eq(NR_NORM_NFC, c[2], cn[2], c[1], cn[1], lineno, "NFC(c3)");
        normalize_eq(NR_NORM_NFC, c[3], cn[3], c[3], cn[3], lineno, "NFC(c4)");
        normalize_eq(NR_NORM_NFC, c[4], cn[4], c[3], cn[3], lineno, "NFC(c5)");
        for (int k = 0; k < 5; k++)
            normalize_eq(NR_NORM_NFKC, c[k], cn[k], c[3], cn[3], lineno, "NFKC(ck)");
    }
    fclose(fp);
    printf("%ld NormalizationTest cases checked, %ld skipped (whitespace)\n", cases, skipped);
    CHECK(cases > 2000);
    CHECK(skipped < 60);
    nr_normbuf_free(&nb);
    return nr_test_done("test_tokenizer_nfkc");
}
