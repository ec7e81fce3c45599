/* cli/cmd_next.c: `nlprnn next`: the most probable next words after a prefix. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_next(int argc, char **argv);

static void next_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn next [-m FILE|NAME] [-k K] [-f tsv|json] \"PREFIX\"\n\n"
            "Print the K most probable next words after PREFIX, WORD<TAB>PROBABILITY, best first.\n"
            "A word is a word-start piece and the pieces glued to it; its probability is the model's\n"
            "(not renormalized) and includes the end of the word.\n\n"
            "options:\n"
            "  -m, --model FILE|NAME   language model (default: the shipped \"ko\")\n"
            "  -k, --top-k K           words to print, 1..100 (default 5; old spelling: --top)\n"
            "  -f, --format tsv|json   json: one object, {\"query\":PREFIX,\"answers\":[{\"text\":W,\n"
            "                          \"probability\":P,\"score\":S},...]}, S = log P (natural log)\n\n"
            "example: nlprnn next \"이 영화 정말\"\n");
}

int cmd_next(int argc, char **argv) {
    const char *cmd = "next";
    const char *model = "ko", *text = NULL;
    int top = 5, json = 0;
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"top-k", 'k', CLI_ARG, "--top"},
                                      {"format", 'f', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    static const char *const formats[] = {"tsv", "json", NULL};
    cli_args a;
    long long v = 0;
    int c;
    cli_args_init(&a, cmd, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: next_usage(stdout); return CLI_OK;
        case 'm': model = a.value; break;
        case 'f': json = cli_args_choice(&a, formats) == 1; break;
        case 'k': top = cli_args_int(&a, 1, 100, &v) ? (int)v : 0; break;
        case CLI_POSITIONAL:
            if (text) cli_args_fail(&a, "give one PREFIX (quote it)");
            text = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!text) return cli_usage_error(cmd, "no PREFIX given");
    nlprnn_error err;
    nlprnn_lm *lm = NULL;
    nlprnn_lm_ctx *ctx = NULL;
    nlprnn_lm_choice *ch = NULL;
    size_t n = 0;
    int rc = nlprnn_lm_load(model, &lm, &err);
    if (!rc) rc = nlprnn_lm_ctx_create(lm, &ctx, &err);
    if (!rc) rc = nlprnn_lm_next(ctx, text, strlen(text), top, &ch, &n, &err);
    if (!rc && json) {
        cli_json_choices(text, ch, n, NAN);
    } else if (!rc) {
        for (size_t i = 0; i < n; i++) printf("%s\t%.4f\n", ch[i].text, ch[i].prob);
    }
    nlprnn_lm_choices_free(ch, n);
    nlprnn_lm_ctx_free(ctx);
    nlprnn_lm_free(lm);
    return rc ? cli_report(cmd, rc, &err) : CLI_OK;
}
