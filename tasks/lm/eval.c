/* tasks/lm/eval.c: evaluation over a text file (nlprnn_lm_evaluate). */
#include "tasks/lm/lm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "corpora/reader.h"

/* ================================================================================================
 * evaluation
 * ============================================================================================== */

long long nr_lm_utf8_chars(const char *s, size_t n) {
    long long c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

int nlprnn_lm_evaluate(const nlprnn_lm *lm, const char *path, int direction, long long max_lines,
                       nlprnn_lm_eval *res, nlprnn_error *err) {
    if (!lm || !path || !res) return nr_fail(err, NLPRNN_E_INVALID_ARG, -1, -1, "lm evaluate: NULL argument");
    int rc = nr_lm_need_dir(lm, direction, err);
    if (rc) return rc;
    size_t size = res->size ? res->size : sizeof *res;
    nlprnn_lm_eval r;
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    double t0 = nr_now_sec();
    nlprnn_lm_ctx *ctx = nr_lm_ctx_new(lm);
    if (!ctx) return nr_fail(err, NLPRNN_E_NOMEM, -1, -1, "out of memory");
    nr_line_reader *rd = NULL;
    rc = nr_line_reader_open(&rd, path, NULL, err);
    int32_t *seqs[LM_MAX_B];
    int lens[LM_MAX_B], nb = 0;
    double lp[LM_MAX_B];
    nr_line line;
    while (!rc) {
        int got = 0;
        if (max_lines <= 0 || r.lines < max_lines) {
            got = nr_line_reader_next(rd, &line, err);
            if (got < 0) {
                rc = got;
                break;
            }
        }
        if (got) {
            int32_t *s = NULL;
            int n = 0;
            nlprnn_error e2;
            nlprnn_error_clear(&e2);
            rc = nr_lm_encode_dir(ctx, line.text, line.len, direction, &s, &n, &e2);
            if (rc == NLPRNN_E_UTF8) {
                long long at = line.offset + (e2.offset > 0 ? e2.offset : 0);
                rc = nr_fail(err, NLPRNN_E_UTF8, line.lineno, at, "%s:%lld: byte %lld: invalid UTF-8",
                             path, line.lineno, at);
                break;
            }
            if (rc) {
                rc = nr_fail(err, rc, line.lineno, line.offset, "%s:%lld: %s", path, line.lineno, e2.message);
                break;
            }
            if (rc) break;
            if (n <= 2) { /* empty line */
                free(s);
                continue;
            }
            r.lines++;
            r.pieces += n - 1;
            r.chars += nr_lm_utf8_chars(line.text, line.len) + 1;
            seqs[nb] = s;
            lens[nb] = n;
            nb++;
        }
        if (nb == LM_MAX_B || (!got && nb)) {
            rc = nr_lm_score_batch(ctx, direction, (const int32_t *const *)seqs, lens, nb, NULL, lp, err);
            for (int i = 0; i < nb; i++) {
                r.nll -= lp[i];
                free(seqs[i]);
            }
            nb = 0;
        }
        if (!got) break;
    }
    for (int i = 0; i < nb; i++) free(seqs[i]);
    nr_line_reader_close(rd);
    nlprnn_lm_ctx_free(ctx);
    if (rc) return rc;
    if (!r.pieces) return nr_fail(err, NLPRNN_E_EMPTY, -1, -1, "%s: no text to evaluate", path);
    r.ppl = exp(r.nll / (double)r.pieces);
    r.bpc = r.nll / log(2.0) / (double)r.chars;
    if (!isfinite(r.ppl) || !isfinite(r.bpc))
        return nr_fail(err, NLPRNN_E_NUMERIC, -1, -1,
                       "the perplexity of %s is not a finite number (%g nats per piece): the "
                       "language model's weights are out of any trained range",
                       path, r.nll / (double)r.pieces);
    r.seconds = nr_now_sec() - t0;
    memcpy(res, &r, size < sizeof r ? size : sizeof r);
    res->size = size;
    return NLPRNN_OK;
}
