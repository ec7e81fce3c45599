/* cli/cmd_next.c: `nlprnn next`: the most probable next words after a prefix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_next(int argc, char **argv);

static void next_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn next [--model FILE|NAME] [--top K] \"PREFIX\"\n\n"
            "Print the K most probable next words after PREFIX, WORD<TAB>PROBABILITY, best first.\n"
            "A word is a word-start piece and the pieces glued to it; its probability is the model's\n"
            "(not renormalized) and includes the end of the word.\n\n"
            "options:\n"
            "  --model FILE|NAME   language model (default: the shipped \"ko\")\n"
            "  --top K             words to print, 1..100 (default 5)\n\n"
            "example: nlprnn next \"이 영화 정말\"\n");
}

int cmd_next(int argc, char **argv) {
    const char *cmd = "next";
    const char *model = "ko", *text = NULL;
    int top = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            next_usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--model") || !strcmp(a, "--top")) {
            if (i + 1 >= argc) return cli_usage_error(cmd, "option %s needs a value", a);
            const char *v = argv[++i];
            if (a[2] == 'm') model = v;
            else {
                char *e;
                long k = strtol(v, &e, 10);
                if (*e || k < 1 || k > 100) return cli_usage_error(cmd, "--top must be in 1..100");
                top = (int)k;
            }
        } else if (a[0] == '-' && a[1] == '-') {
            return cli_usage_error(cmd, "unknown option '%s'", a);
        } else {
            if (text) return cli_usage_error(cmd, "give one PREFIX (quote it)");
            text = a;
        }
    }
    if (!text) return cli_usage_error(cmd, "no PREFIX given");
    nlprnn_error err;
    nlprnn_lm *lm = NULL;
    nlprnn_lm_ctx *ctx = NULL;
    nlprnn_lm_choice *ch = NULL;
    size_t n = 0;
    int rc = nlprnn_lm_load(model, &lm, &err);
    if (!rc) {
        ctx = nlprnn_lm_ctx_create(lm);
        if (!ctx) rc = NLPRNN_E_NOMEM;
    }
    if (!rc) rc = nlprnn_lm_next(ctx, text, strlen(text), top, &ch, &n, &err);
    if (!rc)
        for (size_t i = 0; i < n; i++) printf("%s\t%.4f\n", ch[i].text, ch[i].prob);
    nlprnn_lm_choices_free(ch, n);
    nlprnn_lm_ctx_free(ctx);
    nlprnn_lm_free(lm);
    return rc ? cli_report(cmd, rc, &err) : CLI_OK;
}
