/* tests/test_lm_cli.c: the language-model commands of the nlprnn program (fill, next, generate,
 * lm-eval, lm-train): output format, the documented exit codes, seeded reproducibility.
 * A tiny model is trained here (weekday cycle, as in test_lm.c) through `nlprnn lm-train`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static const char *DAYS[7] = {"월", "화", "수", "목", "금", "토", "일"};
static char g_dir[256];
static const char *g_cli;

int main(void) {
    g_cli = getenv("NLPRNN_CLI");
    if (!g_cli || access(g_cli, X_OK)) {
        fprintf(stderr, "test_lm_cli: NLPRNN_CLI (the nlprnn program) is not set or not executable: skipped\n");
        return 77;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/nlprnn_test_lm_cli_%d", (int)getpid());
    char *o = NULL;
    CHECK_INT_EQ(nr_test_run(NULL, "mkdir -p %s", g_dir), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/train.txt", g_dir);
    FILE *fp = fopen(path, "w");
    unsigned s = 12345;
    for (int i = 0; i < 400; i++) {
        s = s * 1103515245u + 12345u;
        int st = (int)((s >> 16) % 7), len = 3 + (int)((s >> 8) % 5);
        for (int j = 0; j < len; j++) fprintf(fp, "%s%s", j ? " " : "", DAYS[(st + j) % 7]);
        fputc('\n', fp);
    }
    fclose(fp);
    CHECK_INT_EQ(nr_test_run(NULL, "%s tokenizer-train --input %s --output %s/tok.nrt --model word --vocab-size 300 "
                     "--min-count 1 2>/dev/null >/dev/null", g_cli, path, g_dir), 0);
    CHECK_INT_EQ(nr_test_run(NULL, "%s lm-train --tokenizer %s/tok.nrt --input %s --output %s/m.nrm --embed 32 "
                     "--hidden 32 --epochs 40 --batch 16 --lr 0.01 --softmax full --storage f32 --seed 3 "
                     "--quiet 2>&1", g_cli, g_dir, path, g_dir), 0);

    /* fill: WORD<TAB>PROBABILITY lines, planted answer first */
    CHECK_INT_EQ(nr_test_run(&o, "%s fill --model %s/m.nrm --top 3 '월 화 ___ 목 금'", g_cli, g_dir), 0);
    CHECK_MSG(o && !strncmp(o, "수\t", strlen("수\t")), "fill output: '%s'", o ? o : "");
    int lines = 0;
    for (char *q = o; q && *q; q++) lines += *q == '\n';
    CHECK(lines >= 1 && lines <= 3);
    free(o);
    CHECK_INT_EQ(nr_test_run(&o, "%s fill --model %s/m.nrm --candidates 금,수,일 '월 화 ___ 목'", g_cli, g_dir), 0);
    CHECK_MSG(o && !strncmp(o, "수\t", strlen("수\t")), "fill --candidates output: '%s'", o ? o : "");
    lines = 0;
    for (char *q = o; q && *q; q++) lines += *q == '\n';
    CHECK_INT_EQ(lines, 3);
    free(o);
    /* no blank, two blanks: exit 3 (bad input data) with a message; bad option: exit 2 */
    CHECK_INT_EQ(nr_test_run(NULL, "%s fill --model %s/m.nrm '월 화 수' 2>/dev/null", g_cli, g_dir), 3);
    CHECK_INT_EQ(nr_test_run(&o, "%s fill --model %s/m.nrm '___ 화 ___' 2>&1", g_cli, g_dir), 3);
    CHECK(o && strstr(o, "2 blanks"));
    free(o);
    CHECK_INT_EQ(nr_test_run(NULL, "%s fill --model %s/m.nrm --top 0 '월 ___' 2>/dev/null", g_cli, g_dir), 2);
    CHECK_INT_EQ(nr_test_run(NULL, "%s fill --bogus x '월 ___' 2>/dev/null", g_cli), 2);
    /* a file that is not a language model: exit 5 */
    CHECK_INT_EQ(nr_test_run(NULL, "%s fill --model %s/tok.nrt '월 ___' 2>/dev/null", g_cli, g_dir), 5);

    /* next */
    CHECK_INT_EQ(nr_test_run(&o, "%s next --model %s/m.nrm --top 2 '화 수'", g_cli, g_dir), 0);
    CHECK_MSG(o && !strncmp(o, "목\t", strlen("목\t")), "next output: '%s'", o ? o : "");
    free(o);

    /* generate: same seed, same text; --count gives one line per sample */
    char *g1 = NULL, *g2 = NULL;
    CHECK_INT_EQ(nr_test_run(&g1, "%s generate --model %s/m.nrm --prompt 월 --seed 9 --count 3", g_cli, g_dir), 0);
    CHECK_INT_EQ(nr_test_run(&g2, "%s generate --model %s/m.nrm --prompt 월 --seed 9 --count 3", g_cli, g_dir), 0);
    CHECK(g1 && g2 && !strcmp(g1, g2));
    lines = 0;
    for (char *q = g1; q && *q; q++) lines += *q == '\n';
    CHECK_INT_EQ(lines, 3);
    free(g1);
    free(g2);
    CHECK_INT_EQ(nr_test_run(NULL, "%s generate --model %s/m.nrm --top-p 2 2>/dev/null", g_cli, g_dir), 2);

    /* lm-eval: header + one row per file */
    CHECK_INT_EQ(nr_test_run(&o, "%s lm-eval --model %s/m.nrm %s", g_cli, g_dir, path), 0);
    CHECK(o && !strncmp(o, "file\tlines\tpieces\tchars\tppl\tbpc", 31));
    CHECK(o && strstr(o, "\t400\t"));
    free(o);
    CHECK_INT_EQ(nr_test_run(NULL, "%s lm-eval --model %s/m.nrm %s/missing.txt 2>/dev/null", g_cli, g_dir, g_dir), 4);

    nr_test_run(NULL, "rm -rf %s", g_dir);
    return nr_test_done("test_lm_cli");
}
