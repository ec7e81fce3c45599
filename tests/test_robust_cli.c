/* tests/test_robust_cli.c: documented outcomes of damaged corpora and impossible requests
 * through the nlprnn program (issue 8; exit codes in docs/cli.md):
 *   - a truncated or corrupt .gz corpus is bad input data: exit 3 from train, lm-train,
 *     tokenizer-train and tokenize (it was 5, the code of a damaged model file, or a silent
 *     success), with a message naming the file;
 *   - a damaged tokenizer file is still exit 5;
 *   - tokenizer-train on a corpus too small for --vocab-size warns (requested vs achieved),
 *     and with --strict-vocab fails with exit 3 and writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nlprnn.h"
#include "testutil.h"

static char g_dir[256];
static const char *g_cli;

/* gzip src into dst, then keep the first keep_num/keep_den of it (whole when equal); flip a
 * byte in the middle of the compressed data when flip. */
static void make_gz(const char *src, const char *dst, int keep_num, int keep_den, int flip) {
    FILE *in = fopen(src, "rb");
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.whole", dst);
    gzFile gz = gzopen(tmp, "wb");
    CHECK(in && gz);
    if (!in || !gz) return;
    char buf[8192];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0) gzwrite(gz, buf, (unsigned)k);
    fclose(in);
    gzclose(gz);
    FILE *w = fopen(tmp, "rb");
    fseek(w, 0, SEEK_END);
    long n = ftell(w);
    fseek(w, 0, SEEK_SET);
    char *all = malloc((size_t)n);
    CHECK_INT_EQ(fread(all, 1, (size_t)n, w), n);
    fclose(w);
    remove(tmp);
    long keep = n * keep_num / keep_den;
    if (flip)
        for (long i = n / 2; i < n / 2 + 16; i++) all[i] ^= 0x5A;
    FILE *o = fopen(dst, "wb");
    fwrite(all, 1, (size_t)keep, o);
    fclose(o);
    free(all);
}

int main(void) {
    g_cli = getenv("NLPRNN_CLI");
    if (!g_cli || access(g_cli, X_OK)) {
        fprintf(stderr, "test_robust_cli: NLPRNN_CLI (the nlprnn program) is not set or not executable: skipped\n");
        return 77;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_robust_cli_%d", (int)getpid());
    CHECK_INT_EQ(nr_test_run(NULL, "mkdir -p %s", g_dir), 0);
    char trunc_tsv[512], bad_tsv[512], tiny[512];
    snprintf(trunc_tsv, sizeof trunc_tsv, "%s/trunc.tsv.gz", g_dir);
    snprintf(bad_tsv, sizeof bad_tsv, "%s/corrupt.tsv.gz", g_dir);
    snprintf(tiny, sizeof tiny, "%s/tiny.txt", g_dir);
    make_gz(nr_test_data_path("clf_train.tsv"), trunc_tsv, 1, 2, 0);
    make_gz(nr_test_data_path("clf_train.tsv"), bad_tsv, 1, 1, 1);
    const char *trunc_txt = nr_test_data_path("corpora/truncated.txt.gz");
    char tok[512];
    snprintf(tok, sizeof tok, "%s", nr_test_data_path("tokenizer/nsmc8k.tok"));
    char *o = NULL;

    /* a truncated .gz corpus: exit 3 (bad input data), message naming the file */
    CHECK_INT_EQ(nr_test_run(&o, "%s train %s -o %s/m.nrm --epochs 1 --embed 8 --hidden 8 -q 2>&1",
                     g_cli, trunc_tsv, g_dir), 3);
    CHECK_MSG(o && strstr(o, "trunc.tsv.gz") && strstr(o, "truncated"), "train: %s", o ? o : "");
    free(o);
    CHECK_INT_EQ(nr_test_run(&o, "%s train %s -o %s/m.nrm --epochs 1 --embed 8 --hidden 8 -q 2>&1",
                     g_cli, bad_tsv, g_dir), 3);
    CHECK_MSG(o && strstr(o, "corrupt.tsv.gz"), "train on a corrupt .gz: %s", o ? o : "");
    free(o);
    CHECK_INT_EQ(nr_test_run(&o, "%s lm-train --tokenizer %s --input %s --output %s/lm.nrm --embed 8 "
                     "--hidden 8 --quiet 2>&1", g_cli, tok, trunc_txt, g_dir), 3);
    CHECK_MSG(o && strstr(o, "truncated"), "lm-train: %s", o ? o : "");
    free(o);
    CHECK_INT_EQ(nr_test_run(&o, "%s tokenizer-train --input %s --output %s/t.tok --vocab-size 300 2>&1",
                     g_cli, trunc_txt, g_dir), 3);
    CHECK_MSG(o && strstr(o, "truncated.txt.gz") && strstr(o, "truncated file"),
              "tokenizer-train: %s", o ? o : "");
    free(o);
    CHECK_INT_EQ(nr_test_run(NULL, "test -e %s/t.tok", g_dir), 1);
    CHECK_INT_EQ(nr_test_run(&o, "%s tokenize --tokenizer %s --ids -f %s 2>&1 >/dev/null", g_cli, tok,
                     trunc_txt), 3);
    CHECK_MSG(o && strstr(o, "truncated.txt.gz") && strstr(o, "truncated file"),
              "tokenize: %s", o ? o : "");
    free(o);
    /* a damaged tokenizer file stays exit 5 */
    CHECK_INT_EQ(nr_test_run(NULL, "head -c 2000 %s > %s/cut.tok", tok, g_dir), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "%s tokenize --tokenizer %s/cut.tok abc 2>/dev/null", g_cli, g_dir), 5);

    /* a vocabulary larger than the corpus gives: a warning, or exit 3 with --strict-vocab */
    FILE *fp = fopen(tiny, "w");
    for (int i = 0; i < 50; i++) fprintf(fp, "%d 영화 정말 좋아요\n", i);
    fclose(fp);
    CHECK_INT_EQ(nr_test_run(&o, "%s tokenizer-train --input %s --output %s/big.tok --vocab-size 100000 2>&1",
                     g_cli, tiny, g_dir), 0);
    char *w = o ? strstr(o, "warning: the corpus gives ") : NULL;
    long got = w ? strtol(w + strlen("warning: the corpus gives "), NULL, 10) : 0;
    CHECK_MSG(w && strstr(w, "100000 were asked for") && got > 261 && got < 400,
              "tokenizer-train: %s", o ? o : "");
    free(o);
    CHECK_INT_EQ(nr_test_run(&o, "%s tokenizer-train --input %s --output %s/strict.tok --vocab-size 100000 "
                     "--strict-vocab 2>&1", g_cli, tiny, g_dir), 3);
    CHECK_MSG(o && strstr(o, "error: the corpus gives"), "--strict-vocab: %s", o ? o : "");
    free(o);
    CHECK_INT_EQ(nr_test_run(NULL, "test -e %s/strict.tok", g_dir), 1);
    /* asked for no more than the corpus gives: no warning, --strict-vocab succeeds */
    CHECK_INT_EQ(nr_test_run(&o, "%s tokenizer-train --input %s --output %s/ok.tok --vocab-size 265 "
                     "--strict-vocab 2>&1", g_cli, tiny, g_dir), 0);
    CHECK_MSG(o && !strstr(o, "warning") && strstr(o, "vocab=265"), "exact size: %s", o ? o : "");
    free(o);

    /* train with its own tokenizer: --vocab larger than the corpus gives is a warning, even -q */
    CHECK_INT_EQ(nr_test_run(&o, "%s train %s -o %s/v.nrm --vocab 100000 --epochs 1 --embed 8 --hidden 8 -q 2>&1",
                     g_cli, nr_test_data_path("clf_train.tsv"), g_dir), 0);
    CHECK_MSG(o && strstr(o, "warning: the training text gives a vocabulary of ") &&
                  strstr(o, "100000 were asked for (--vocab)"), "train --vocab 100000: %s", o ? o : "");
    free(o);
    /* a bad --valid-split names the option */
    CHECK_INT_EQ(nr_test_run(&o, "%s train %s -o %s/v.nrm --valid-split 2 2>&1", g_cli,
                     nr_test_data_path("clf_train.tsv"), g_dir), 2);
    CHECK_MSG(o && strstr(o, "--valid-split"), "train --valid-split 2: %s", o ? o : "");
    free(o);

    /* --init-from a language model whose sizes differ from the classifier's: exit 2 naming the
     * sizes to pass; with them, training starts from it */
    char lmpath[4096];
    nlprnn_error e;
    if (nlprnn_model_find("ko-lm", lmpath, sizeof lmpath, &e) == 0) {
        CHECK_INT_EQ(nr_test_run(&o, "%s train %s -o %s/i.nrm --init-from %s --embed 8 --hidden 8 --epochs 1 -q 2>&1",
                         g_cli, nr_test_data_path("clf_train.tsv"), g_dir, lmpath), 2);
        CHECK_MSG(o && strstr(o, "has embeddings of size 192, this model 8: pass --embed 192"),
                  "init-from with other sizes: %s", o ? o : "");
        free(o);
        CHECK_INT_EQ(nr_test_run(&o, "%s train %s -o %s/i.nrm --init-from %s --embed 192 --hidden 192 "
                         "--epochs 1 -q 2>&1", g_cli, nr_test_data_path("clf_train.tsv"), g_dir, lmpath), 0);
        free(o);
    } else {
        CHECK_MSG(0, "shipped ko-lm not found: %s", e.message);
    }

    nr_test_run(NULL, "rm -rf %s", g_dir);
    return nr_test_done("test_robust_cli");
}
