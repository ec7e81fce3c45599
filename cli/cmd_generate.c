/* cli/cmd_generate.c: `nlprnn generate`: sample text from a language model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_generate(int argc, char **argv);

static void generate_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn generate [--model FILE|NAME] [--prompt TEXT] [--max-tokens N]\n"
            "                       [--temperature T] [--top-k K] [--top-p P] [--seed S] [--count N]\n\n"
            "Continue PROMPT one piece at a time, sampling from the forward model, until <eos> or N\n"
            "pieces, and print the prompt with its continuation. The same seed gives the same text.\n\n"
            "options:\n"
            "  --model FILE|NAME   language model (default: the shipped \"ko\")\n"
            "  --prompt TEXT       start of the text (default: empty: a whole text is sampled)\n"
            "  --max-tokens N      at most N new pieces (default 40)\n"
            "  --temperature T     > 0; below 1 sharper, above 1 flatter (default 1)\n"
            "  --top-k K           sample among the K most probable pieces (default 0: all)\n"
            "  --top-p P           nucleus: the smallest set with mass >= P, in (0,1] (default 1)\n"
            "  --seed S            random seed (default 1)\n"
            "  --count N           N samples, seeds S, S+1, ... (default 1)\n\n"
            "example: nlprnn generate --prompt \"이 영화는\" --temperature 0.8 --top-p 0.9 --seed 7\n");
}

int cmd_generate(int argc, char **argv) {
    const char *cmd = "generate";
    const char *model = "ko", *prompt = "";
    long max_tokens = 40, top_k = 0, count = 1;
    double temperature = 1.0, top_p = 1.0;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            generate_usage(stdout);
            return CLI_OK;
        }
        if (strncmp(a, "--", 2)) return cli_usage_error(cmd, "unexpected argument '%s' (use --prompt)", a);
        if (i + 1 >= argc) return cli_usage_error(cmd, "option %s needs a value", a);
        const char *v = argv[++i];
        char *e = NULL;
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--prompt")) prompt = v;
        else if (!strcmp(a, "--max-tokens") || !strcmp(a, "--max-length")) max_tokens = strtol(v, &e, 10);
        else if (!strcmp(a, "--top-k")) top_k = strtol(v, &e, 10);
        else if (!strcmp(a, "--count")) count = strtol(v, &e, 10);
        else if (!strcmp(a, "--temperature")) temperature = strtod(v, &e);
        else if (!strcmp(a, "--top-p")) top_p = strtod(v, &e);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, &e, 10);
        else return cli_usage_error(cmd, "unknown option '%s'", a);
        if (e && (*e || e == v)) return cli_usage_error(cmd, "bad value '%s' for %s", v, a);
    }
    if (max_tokens < 0 || max_tokens > 100000) return cli_usage_error(cmd, "--max-tokens must be in 0..100000");
    if (top_k < 0) return cli_usage_error(cmd, "--top-k must be >= 0");
    if (count < 1 || count > 10000) return cli_usage_error(cmd, "--count must be in 1..10000");
    if (!(temperature > 0)) return cli_usage_error(cmd, "--temperature must be > 0");
    if (!(top_p > 0 && top_p <= 1)) return cli_usage_error(cmd, "--top-p must be in (0,1]");
    nlprnn_error err;
    nlprnn_lm *lm = NULL;
    nlprnn_lm_ctx *ctx = NULL;
    int rc = nlprnn_lm_load(model, &lm, &err);
    if (!rc) {
        ctx = nlprnn_lm_ctx_create(lm);
        if (!ctx) rc = NLPRNN_E_NOMEM;
    }
    for (long c = 0; c < count && !rc; c++) {
        char *out = NULL;
        rc = nlprnn_lm_generate(ctx, prompt, strlen(prompt), (int)max_tokens, temperature, (int)top_k, top_p,
                                (uint64_t)(seed + (unsigned long long)c), &out, &err);
        if (!rc) printf("%s\n", out);
        nlprnn_free(out);
        if (!rc && cli_stdout_check(cmd)) { /* --count N: stop at a full disk */
            nlprnn_lm_ctx_free(ctx);
            nlprnn_lm_free(lm);
            return CLI_EXIT_IO;
        }
    }
    nlprnn_lm_ctx_free(ctx);
    nlprnn_lm_free(lm);
    return rc ? cli_report(cmd, rc, &err) : CLI_OK;
}
