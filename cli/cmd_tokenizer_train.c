/* cli/cmd_tokenizer_train.c: `nlprnn tokenizer-train`: corpus files -> tokenizer file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cmd_tokenizer_train(int argc, char **argv);

/* The training options: each is the tokenizer parameter of the same name
 * (nlprnn_tokenizer_params_set). */
static const struct {
    const char *name;    /* canonical long name = the parameter's name */
    int key;             /* short letter, or 0 */
    const char *arg;     /* the value's placeholder in --help */
    const char *help;
    const char *aliases; /* old spellings, still accepted (cli_opt.aliases) */
} train_flags[] = {
    {"model-type", 0, "bpe|word", "subword model (bpe; old spelling: --model)", "--model"},
    {"vocab-size", 0, "N", "total ids incl. 5 specials and 256 bytes (8000)", "--vocab"},
    {"min-count", 0, "N", "fewest occurrences of a merge / word (2)", NULL},
    {"normalization", 0, "NF", "nfkc (default) | nfc | nfkc_cf | none", NULL},
    {"control-chars", 0, "HOW", "remove (default) | space | keep", NULL},
    {"hangul-jamo", 0, "0|1", "1: split syllables into jamo (0)", NULL},
    {"invalid-utf8", 0, "HOW", "error (default) | replace", NULL},
    {"pattern", 0, "RE", "PCRE2 pre-tokenization pattern (built-in default)", NULL},
    {"seed", 0, "N", "seed for --sample-lines (0)", NULL},
    {"threads", 't', "N", "threads for normalizing and counting (1)", NULL},
    {"byte-fallback", 0, "0|1", "1 (default): rare chars -> byte pieces", NULL},
    {"char-coverage-ppm", 0, "N", "alphabet coverage (999500)", NULL},
    {"max-piece-chars", 0, "N", "longest piece in characters (16)", NULL},
    {"sample-lines", 0, "N", "train on N random lines (0 = all)", NULL},
};
#define NFLAGS (sizeof train_flags / sizeof train_flags[0])

static void train_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn tokenizer-train -i FILE [-i FILE2 ...] -o TOK [OPTIONS]\n"
            "       nlprnn tokenizer-train -o TOK [OPTIONS] FILE...\n\n"
            "Train a subword tokenizer on text files, one text per line (.gz or plain).\n\n"
            "options:\n"
            "  -i, --input FILE           training text (repeatable; or give the files as FILE...)\n"
            "  -o, --output TOK           tokenizer file to write (atomically)\n");
    for (size_t i = 0; i < NFLAGS; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s %s", train_flags[i].name, train_flags[i].arg);
        if (train_flags[i].key) fprintf(fp, "  -%c, %-22s %s\n", train_flags[i].key, flag, train_flags[i].help);
        else fprintf(fp, "      %-22s %s\n", flag, train_flags[i].help);
    }
    fprintf(fp,
            "      --strict-vocab         fail (exit 3, nothing written) when the corpus gives\n"
            "                             fewer ids than --vocab-size; without it: a warning\n"
            "  -q, --quiet                no message when the tokenizer is written\n");
}

int cmd_tokenizer_train(int argc, char **argv) {
    const char *cmd = "tokenizer-train";
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    size_t ninputs = 0;
    const char *output = NULL;
    nlprnn_tokenizer_params *opts = NULL;
    nlprnn_tokenizer_params_create(&opts, NULL);
    nlprnn_error err;
    nlprnn_error_clear(&err);
    int rc = CLI_OK, strict = 0, quiet = 0;
    enum { STRICT = CLI_LONG, FLAG0 };
    cli_opt options[NFLAGS + 5] = {{"input", 'i', CLI_ARG, NULL},
                                   {"output", 'o', CLI_ARG, NULL},
                                   {"strict-vocab", STRICT, CLI_NO_ARG, NULL},
                                   {"quiet", 'q', CLI_NO_ARG, NULL}};
    for (size_t k = 0; k < NFLAGS; k++)
        options[4 + k] = (cli_opt){train_flags[k].name, train_flags[k].key ? train_flags[k].key : FLAG0 + (int)k,
                                   CLI_ARG, train_flags[k].aliases};
    cli_args a;
    if (!inputs || !opts) {
        rc = cli_report(cmd, NLPRNN_E_NOMEM, NULL);
        goto done;
    }
    int c;
    cli_args_init(&a, cmd, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        size_t k = NFLAGS;
        switch (c) {
        case CLI_HELP: train_usage(stdout); goto done;
        case 'i':
        case CLI_POSITIONAL: inputs[ninputs++] = a.value; break;
        case 'o': output = a.value; break;
        case STRICT: strict = 1; break;
        case 'q': quiet = 1; break;
        default:
            for (k = 0; k < NFLAGS; k++)
                if (c == (train_flags[k].key ? train_flags[k].key : FLAG0 + (int)k)) break;
            break;
        }
        if (k < NFLAGS) {
            int st = nlprnn_tokenizer_params_set(opts, train_flags[k].name, a.value, &err);
            if (st == NLPRNN_E_INVALID_ARG || st == NLPRNN_E_REGEX)
                cli_args_fail(&a, "%s: %s", a.spelled, err.message);
            else if (st)
                a.rc = cli_report(cmd, st, &err); /* cli_args_next returns CLI_ERROR */
        }
    }
    if (c == CLI_ERROR) {
        rc = a.rc;
        goto done;
    }
    if (!ninputs || !output) {
        rc = cli_usage_error(cmd, "--input and --output are required");
        goto done;
    }
    /* before training: the output is writable by the rules and none of the inputs */
    int ck = nlprnn_output_check(output, inputs, ninputs, &err);
    if (ck) {
        rc = cli_report(cmd, ck, &err);
        goto done;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nlprnn_tokenizer *tok = NULL;
    int st = nlprnn_tokenizer_train_files(opts, inputs, ninputs, &tok, &err);
    char asked_text[32];
    if (!st) st = nlprnn_tokenizer_params_get(opts, "vocab-size", asked_text, sizeof asked_text, &err);
    long long asked = st ? 0 : strtoll(asked_text, NULL, 10);
    long long got = st ? 0 : nlprnn_tokenizer_vocab_size(tok);
    if (!st && got < asked) {
        /* the corpus ran out of merges (bpe) or words (word) with --min-count occurrences */
        fprintf(stderr,
                "nlprnn %s: %s: the corpus gives %lld ids, %lld were asked for (--vocab-size); "
                "no further %s occurs at least --min-count times\n",
                cmd, strict ? "error" : "warning", got, asked,
                nlprnn_tokenizer_model_name(tok)[0] == 'w' ? "word" : "merge");
        if (strict) {
            nlprnn_tokenizer_free(tok);
            rc = CLI_EXIT_DATA;
            goto done;
        }
    }
    if (!st) st = nlprnn_tokenizer_save(tok, output, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st) {
        rc = cli_report(cmd, st, &err);
        nlprnn_tokenizer_free(tok);
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "nlprnn %s: wrote %s (%s) in %.1f s\n", cmd, output,
            nlprnn_tokenizer_describe(tok),
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    nlprnn_tokenizer_free(tok);
done:
    nlprnn_tokenizer_params_free(opts);
    free(inputs);
    return rc;
}
