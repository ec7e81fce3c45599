/* cli/cmd_fill.c: `nlprnn fill`: fill the blank of a sentence with a language model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_fill(int argc, char **argv);

static void fill_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn fill [-m FILE|NAME] [-k K] [--calibrate ALPHA] [-c w1,w2,...]\n"
            "                   [-f tsv|json] \"TEXT WITH ___\"\n"
            "       nlprnn fill [-m FILE|NAME] [-k K] [--calibrate ALPHA] [-f tsv|json] -i FILE\n\n"
            "Fill the blank of TEXT (\"___\", two or more underscores, or \"[MASK]\"; anywhere, also glued\n"
            "to a particle as in \"___에\") and print up to K answers, best first, one per line:\n"
            "WORD<TAB>PROBABILITY. A probability is softmax(score) over every answer ranked (all the\n"
            "candidates, or all the proposals), so it does not change with --top-k; the lines shown\n"
            "sum to 1 only when they are all of them. The library's nlprnn_lm_fill gives the same\n"
            "numbers (same default ALPHA).\n"
            "Each candidate sentence is scored by the forward and the backward model (mean of the two\n"
            "log-probabilities), minus ALPHA times the answer's prior: the log-probability of the blank's\n"
            "local frame alone (the word before it and its own word, \"동네의 ___에\") with the answer in\n"
            "it, so that frequent generic words lose their advantage. Without --candidates, answers of\n"
            "1-4 pieces are proposed by a beam search over pieces from the left context (forward model)\n"
            "and the right context (backward), and one-piece answers that fit both sides (p(w|left)\n"
            "p(w|right) / p(w)); text glued after the blank (\"___에\") is proposed with the answer\n"
            "(\"극장에\"); ALPHA changes their ranking, not the proposals.\n\n"
            "options:\n"
            "  -m, --model FILE|NAME   language model (default: the shipped \"ko\")\n"
            "  -k, --top-k K           answers to print, 1..1000 (default 5; with --candidates: all\n"
            "                          of them; old spelling: --top)\n"
            "  -c, --candidates LIST   comma-separated words to rank (exactly those)\n"
            "      --calibrate ALPHA   weight of the prior correction, 0..2 (default %g; 0: plain\n"
            "                          sentence probability)\n"
            "  -f, --format tsv|json   json: one object per query, {\"query\":TEXT,\"calibrate\":ALPHA,\n"
            "                          \"answers\":[{\"text\":W,\"probability\":P,\"score\":S},...]},\n"
            "                          S the ranking score (natural log); a bad --input query gives\n"
            "                          {\"query\":TEXT,\"error\":CODE,\"message\":M}\n"
            "  -i, --input FILE        one query a line: TEXT, or TEXT<TAB>w1,w2,... (its\n"
            "                          candidates; a UTF-8 byte order mark at the start of FILE is\n"
            "                          skipped); prints one line per query:\n"
            "                          WORD<TAB>PROB<TAB>WORD<TAB>PROB... (an empty line, and the\n"
            "                          error on stderr, for a bad query)\n\n"
            "exit status 3 (bad input data) when TEXT has no blank or more than one.\n\n"
            "example: nlprnn fill \"난 주말이면 영화를 보기 위해 우리 동네의 ___에 간다.\"\n",
            NLPRNN_LM_FILL_ALPHA);
}

/* Split "a,b,c" in place into list (capacity >= strlen + 1); returns the count. */
static size_t split_list(char *s, const char **list) {
    size_t n = 0;
    for (;;) {
        char *c = strchr(s, ',');
        if (c) *c = 0;
        if (*s) list[n++] = s;
        if (!c) break;
        s = c + 1;
    }
    return n;
}

/* One query's answers: tsv (one per line, or one line with --input) or one JSON object. */
static void print_answers(const char *query, const nlprnn_lm_choice *ch, size_t n, double alpha,
                          int json, int one_line) {
    if (json) {
        cli_json_choices(query, ch, n, alpha);
    } else if (one_line) {
        for (size_t i = 0; i < n; i++) printf("%s%s\t%.6f", i ? "\t" : "", ch[i].text, ch[i].prob);
        putchar('\n');
    } else {
        for (size_t i = 0; i < n; i++) printf("%s\t%.4f\n", ch[i].text, ch[i].prob);
    }
}

/* --input: one query a line. */
static int fill_file(const char *model, const char *path, int top, double alpha, int json) {
    const char *cmd = "fill";
    FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!fp) {
        fprintf(stderr, "nlprnn fill: %s: %s (NLPRNN_E_IO)\n", path, strerror(errno));
        return CLI_EXIT_IO;
    }
    nlprnn_error err;
    nlprnn_lm *lm = NULL;
    int rc = nlprnn_lm_load(model, &lm, &err);
    if (rc) {
        if (fp != stdin) fclose(fp);
        return cli_report(cmd, rc, &err);
    }
    nlprnn_lm_ctx *ctx = NULL;
    rc = nlprnn_lm_ctx_create(lm, &ctx, &err);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long long lineno = 0;
    int bad = 0;
    while (ctx && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        size_t bom = lineno == 1 ? cli_bom_length(line, (size_t)len) : 0; /* not text */
        if (bom) memmove(line, line + bom, (size_t)len - bom + 1);
        char *tab = strchr(line, '\t');
        const char **list = NULL;
        size_t nl = 0;
        if (tab) {
            *tab = 0;
            list = calloc(strlen(tab + 1) + 1, sizeof *list);
            if (list) nl = split_list(tab + 1, list);
        }
        nlprnn_lm_choice *ch = NULL;
        size_t n = 0;
        int k = nl ? (int)nl : top;
        int st = nlprnn_lm_fill_calibrated(ctx, line, strlen(line), nl ? list : NULL, nl, k, alpha, &ch, &n,
                                           &err);
        if (st) {
            fprintf(stderr, "nlprnn fill: %s:%lld: %s\n", path, lineno, err.message);
            bad++;
        }
        if (st && json) {
            printf("{\"query\":");
            cli_json_str(stdout, line);
            printf(",\"error\":\"%s\",\"message\":", nlprnn_status_name(st));
            cli_json_str(stdout, err.message);
            printf("}\n");
        } else {
            print_answers(line, ch, n, alpha, json, 1);
        }
        nlprnn_lm_choices_free(ch, n);
        free(list);
        if ((rc = cli_stdout_check(cmd))) break; /* one line a query: stop at a full disk */
    }
    int e = errno;
    free(line);
    if (!rc && ferror(fp)) {
        fprintf(stderr, "nlprnn fill: %s: read error after line %lld: %s (NLPRNN_E_IO)\n", path,
                lineno, strerror(e));
        rc = CLI_EXIT_IO;
    }
    if (fp != stdin) fclose(fp);
    if (!ctx) rc = cli_report(cmd, NLPRNN_E_NOMEM, &err);
    nlprnn_lm_ctx_free(ctx);
    nlprnn_lm_free(lm);
    return rc ? rc : bad ? CLI_EXIT_DATA : CLI_OK;
}

int cmd_fill(int argc, char **argv) {
    const char *cmd = "fill";
    const char *model = "ko", *cands = NULL, *text = NULL, *input = NULL;
    int top = 0, json = 0;
    double alpha = NLPRNN_LM_FILL_ALPHA;
    enum { CALIBRATE = CLI_LONG };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"top-k", 'k', CLI_ARG, "--top"},
                                      {"candidates", 'c', CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, NULL},
                                      {"calibrate", CALIBRATE, CLI_ARG, NULL},
                                      {"format", 'f', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    static const char *const formats[] = {"tsv", "json", NULL};
    cli_args a;
    long long v = 0;
    int c;
    cli_args_init(&a, cmd, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: fill_usage(stdout); return CLI_OK;
        case 'm': model = a.value; break;
        case 'k': top = cli_args_int(&a, 1, 1000, &v) ? (int)v : 0; break;
        case 'c': cands = a.value; break;
        case 'i': input = a.value; break;
        case 'f': json = cli_args_choice(&a, formats) == 1; break;
        case CALIBRATE: cli_args_double(&a, 0, 2, &alpha); break;
        case CLI_POSITIONAL:
            if (text) cli_args_fail(&a, "give one TEXT (quote it)");
            text = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (input) {
        if (text || cands) return cli_usage_error(cmd, "--input takes no TEXT and no --candidates");
        return fill_file(model, input, top ? top : 5, alpha, json);
    }
    if (!text) return cli_usage_error(cmd, "no TEXT given");
    /* split the candidate list */
    char *buf = NULL;
    const char **list = NULL;
    size_t nl = 0;
    if (cands) {
        buf = strdup(cands);
        list = calloc(strlen(cands) + 1, sizeof *list);
        if (!buf || !list) {
            free(buf);
            free(list);
            return cli_report(cmd, NLPRNN_E_NOMEM, NULL);
        }
        nl = split_list(buf, list);
        if (!nl) {
            free(buf);
            free(list);
            return cli_usage_error(cmd, "--candidates is empty");
        }
    }
    if (!top) top = nl ? (int)(nl < 1000 ? nl : 1000) : 5;
    nlprnn_error err;
    nlprnn_lm *lm = NULL;
    nlprnn_lm_ctx *ctx = NULL;
    nlprnn_lm_choice *ch = NULL;
    size_t n = 0;
    int rc = nlprnn_lm_load(model, &lm, &err);
    if (!rc) rc = nlprnn_lm_ctx_create(lm, &ctx, &err);
    if (!rc) rc = nlprnn_lm_fill_calibrated(ctx, text, strlen(text), list, nl, top, alpha, &ch, &n, &err);
    if (!rc) print_answers(text, ch, n, alpha, json, 0);
    nlprnn_lm_choices_free(ch, n);
    nlprnn_lm_ctx_free(ctx);
    nlprnn_lm_free(lm);
    free(buf);
    free(list);
    return rc ? cli_report(cmd, rc, &err) : CLI_OK;
}
