/* tests/test_lm_cli.c: the language-model commands of the nlprnn program (fill, next, generate,
 * lm-eval, lm-train): output format, the documented exit codes, seeded reproducibility.
 * A tiny model is trained here (weekday cycle, as in test_lm.c) through `nlprnn lm-train`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlprnn.h"
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
    /* one meaning of the fill probabilities: softmax over every answer ranked, so --top does
     * not change them, and the library's nlprnn_lm_fill gives the CLI's numbers */
    {
        char *o1 = NULL, *o3 = NULL;
        CHECK_INT_EQ(nr_test_run(&o1, "%s fill --model %s/m.nrm --top 1 --candidates 금,수,일 '월 화 ___ 목'",
                                 g_cli, g_dir), 0);
        CHECK_INT_EQ(nr_test_run(&o3, "%s fill --model %s/m.nrm --top 3 --candidates 금,수,일 '월 화 ___ 목'",
                                 g_cli, g_dir), 0);
        CHECK_MSG(o1 && o3 && strchr(o1, '\n') && !strncmp(o1, o3, (size_t)(strchr(o1, '\n') - o1 + 1)),
                  "--top 1 '%s' is not the first line of --top 3 '%s'", o1 ? o1 : "", o3 ? o3 : "");
        double sum = 0;
        for (char *q = o3; q && (q = strchr(q, '\t')); q++) sum += atof(q + 1);
        CHECK_MSG(sum > 0.9985 && sum < 1.0015, "the 3 candidates' probabilities sum to %f", sum);
        free(o1);
        o1 = NULL;
        CHECK_INT_EQ(nr_test_run(&o1, "%s fill --model %s/m.nrm --top 1 '월 화 ___ 목 금'", g_cli, g_dir), 0);
        free(o3);
        CHECK_INT_EQ(nr_test_run(&o3, "%s fill --model %s/m.nrm --top 5 '월 화 ___ 목 금'", g_cli, g_dir), 0);
        CHECK_MSG(o1 && o3 && strchr(o1, '\n') && !strncmp(o1, o3, (size_t)(strchr(o1, '\n') - o1 + 1)),
                  "open fill: --top 1 '%s' is not the first line of --top 5 '%s'", o1 ? o1 : "", o3 ? o3 : "");
        /* the library: same answer, same probability as the program (4 decimals) */
        nlprnn_error err;
        nlprnn_lm *lm = NULL;
        char mp[600];
        snprintf(mp, sizeof mp, "%s/m.nrm", g_dir);
        CHECK_INT_EQ(nlprnn_lm_load(mp, &lm, &err), 0);
        nlprnn_lm_ctx *ctx = NULL;
        if (lm) nlprnn_lm_ctx_create(lm, &ctx, NULL);
        nlprnn_lm_choice *ch = NULL;
        size_t n = 0;
        const char *q = "월 화 ___ 목 금";
        if (ctx) CHECK_INT_EQ(nlprnn_lm_fill(ctx, q, strlen(q), NULL, 0, 1, &ch, &n, &err), 0);
        if (ch && n == 1 && o1) {
            char line[256];
            snprintf(line, sizeof line, "%s\t%.4f\n", ch[0].text, ch[0].prob);
            CHECK_MSG(!strcmp(line, o1), "library '%s' vs program '%s'", line, o1);
        } else {
            CHECK_MSG(0, "nlprnn_lm_fill gave %zu answers", n);
        }
        nlprnn_lm_choices_free(ch, n);
        /* fill --format json: the schema, the same numbers */
        free(o3);
        CHECK_INT_EQ(nr_test_run(&o3, "%s fill --model %s/m.nrm --top 1 --format json '월 화 ___ 목 금'",
                                 g_cli, g_dir), 0);
        const char *head = "{\"query\":\"월 화 ___ 목 금\",\"calibrate\":0.1,\"answers\":[{\"text\":\"";
        CHECK_MSG(o3 && !strncmp(o3, head, strlen(head)), "fill json: '%s'", o3 ? o3 : "");
        double pj = -1, sj = 1;
        const char *pp = o3 ? strstr(o3, "\"probability\":") : NULL, *sp = o3 ? strstr(o3, "\"score\":") : NULL;
        if (pp) pj = atof(pp + 14);
        if (sp) sj = atof(sp + 8);
        CHECK_MSG(ch == NULL || (o1 && strchr(o1, '\t') && fabs(pj - atof(strchr(o1, '\t') + 1)) < 6e-5),
                  "json probability %f vs tsv '%s'", pj, o1 ? o1 : "");
        CHECK_MSG(sj < 0, "json score %f (a log-probability)", sj);
        CHECK(o3 && strlen(o3) > 3 && !strcmp(o3 + strlen(o3) - 3, "]}\n"));
        free(o3);
        CHECK_INT_EQ(nr_test_run(&o3, "printf '월 ___ 수\\n월 화\\n' | %s fill --model %s/m.nrm --format json --input - 2>/dev/null",
                                 g_cli, g_dir), 3);
        CHECK_MSG(o3 && strstr(o3, "\n{\"query\":\"월 화\",\"error\":\"NLPRNN_E_DATA\",\"message\":\"no blank"),
                  "fill --input json error line: '%s'", o3 ? o3 : "");
        free(o3);
        CHECK_INT_EQ(nr_test_run(&o3, "%s next --model %s/m.nrm --top 2 --format json '화 수'", g_cli, g_dir), 0);
        head = "{\"query\":\"화 수\",\"answers\":[{\"text\":\"목\",\"probability\":";
        CHECK_MSG(o3 && !strncmp(o3, head, strlen(head)), "next json: '%s'", o3 ? o3 : "");
        free(o3);
        CHECK_INT_EQ(nr_test_run(NULL, "%s next --model %s/m.nrm --format xml '화' 2>/dev/null", g_cli, g_dir), 2);
        nlprnn_lm_ctx_free(ctx);
        nlprnn_lm_free(lm);
        free(o1);
    }
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
