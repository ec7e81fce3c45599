/* cli/cmd_generate.c: `nlprnn generate`: sample text from a language model. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_generate(int argc, char **argv);

static void generate_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn generate [-m FILE|NAME] [-p TEXT] [--max-tokens N] [--temperature T]\n"
            "                       [-k K] [--top-p P] [--seed S] [--count N]\n\n"
            "Continue PROMPT one piece at a time, sampling from the forward model, until <eos> or N\n"
            "pieces, and print the prompt with its continuation. The same seed gives the same text.\n\n"
            "options:\n"
            "  -m, --model FILE|NAME   language model (default: the shipped \"ko\")\n"
            "  -p, --prompt TEXT       start of the text (default: empty: a whole text is sampled)\n"
            "      --max-tokens N      at most N new pieces (default 40; old spelling: --max-length)\n"
            "      --temperature T     > 0; below 1 sharper, above 1 flatter (default 1)\n"
            "  -k, --top-k K           sample among the K most probable pieces (default 0: all)\n"
            "      --top-p P           nucleus: the smallest set with mass >= P, in (0,1] (default 1)\n"
            "      --seed S            random seed (default 1)\n"
            "      --count N           N samples, seeds S, S+1, ... (default 1)\n\n"
            "example: nlprnn generate --prompt \"이 영화는\" --temperature 0.8 --top-p 0.9 --seed 7\n");
}

int cmd_generate(int argc, char **argv) {
    const char *cmd = "generate";
    const char *model = "ko", *prompt = "";
    long long max_tokens = 40, top_k = 0, count = 1;
    double temperature = 1.0, top_p = 1.0;
    unsigned long long seed = 1;
    enum { MAX_TOKENS = CLI_LONG, TEMPERATURE, TOP_P, SEED, COUNT };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, NULL},
                                      {"prompt", 'p', CLI_ARG, NULL},
                                      {"max-tokens", MAX_TOKENS, CLI_ARG, "--max-length"},
                                      {"temperature", TEMPERATURE, CLI_ARG, NULL},
                                      {"top-k", 'k', CLI_ARG, NULL},
                                      {"top-p", TOP_P, CLI_ARG, NULL},
                                      {"seed", SEED, CLI_ARG, NULL},
                                      {"count", COUNT, CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    cli_args a;
    int c;
    cli_args_init(&a, cmd, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: generate_usage(stdout); return CLI_OK;
        case 'm': model = a.value; break;
        case 'p': prompt = a.value; break;
        case MAX_TOKENS: cli_args_int(&a, 0, 100000, &max_tokens); break;
        case TEMPERATURE:
            if (cli_args_double(&a, 0, 1e300, &temperature) && !(temperature > 0))
                cli_args_fail(&a, "--temperature must be > 0");
            break;
        case 'k': cli_args_int(&a, 0, INT_MAX, &top_k); break;
        case TOP_P:
            if (cli_args_double(&a, 0, 1, &top_p) && !(top_p > 0))
                cli_args_fail(&a, "--top-p must be in (0,1]");
            break;
        case SEED: cli_args_u64(&a, &seed); break;
        case COUNT: cli_args_int(&a, 1, 10000, &count); break;
        case CLI_POSITIONAL: cli_args_fail(&a, "unexpected argument '%s' (use --prompt)", a.value); break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    nlprnn_error err;
    nlprnn_lm *lm = NULL;
    nlprnn_lm_ctx *ctx = NULL;
    int rc = nlprnn_lm_load(model, &lm, &err);
    if (!rc) rc = nlprnn_lm_ctx_create(lm, &ctx, &err);
    for (long long k = 0; k < count && !rc; k++) {
        char *out = NULL;
        rc = nlprnn_lm_generate(ctx, prompt, strlen(prompt), (int)max_tokens, temperature, (int)top_k, top_p,
                                (uint64_t)(seed + (unsigned long long)k), &out, &err);
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
