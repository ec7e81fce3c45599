/* cli/cmd_tokenizer_train.c: `nlprnn tokenizer-train`: corpus files -> tokenizer file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cmd_tokenizer_train(int argc, char **argv);

static const struct {
    const char *flag;
    nlprnn_tokopt opt;
    const char *help;
} train_flags[] = {
    {"--model", NLPRNN_TOKOPT_MODEL, "bpe (default) | word"},
    {"--vocab-size", NLPRNN_TOKOPT_VOCAB_SIZE, "total ids incl. 5 specials and 256 bytes (8000)"},
    {"--min-count", NLPRNN_TOKOPT_MIN_COUNT, "fewest occurrences of a merge / word (2)"},
    {"--normalization", NLPRNN_TOKOPT_NORMALIZATION, "nfkc (default) | nfc | nfkc_cf | none"},
    {"--control-chars", NLPRNN_TOKOPT_CONTROL_CHARS, "remove (default) | space | keep"},
    {"--hangul-jamo", NLPRNN_TOKOPT_HANGUL_JAMO, "1: split syllables into jamo (0)"},
    {"--invalid-utf8", NLPRNN_TOKOPT_INVALID_UTF8, "error (default) | replace"},
    {"--pattern", NLPRNN_TOKOPT_PATTERN, "PCRE2 pre-tokenization pattern (built-in default)"},
    {"--seed", NLPRNN_TOKOPT_SEED, "seed for --sample-lines (0)"},
    {"--threads", NLPRNN_TOKOPT_THREADS, "threads for normalizing and counting (1)"},
    {"--byte-fallback", NLPRNN_TOKOPT_BYTE_FALLBACK, "1 (default): rare chars -> byte pieces"},
    {"--char-coverage-ppm", NLPRNN_TOKOPT_CHAR_COVERAGE_PPM, "alphabet coverage (999500)"},
    {"--max-piece-chars", NLPRNN_TOKOPT_MAX_PIECE_CHARS, "longest piece in characters (16)"},
    {"--sample-lines", NLPRNN_TOKOPT_SAMPLE_LINES, "train on N random lines (0 = all)"},
};
#define NFLAGS (sizeof train_flags / sizeof train_flags[0])

static void train_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn tokenizer-train --input FILE [--input FILE2 ...] --output TOK [OPTIONS]\n\n"
            "Train a subword tokenizer on text files, one text per line (.gz or plain).\n\n"
            "options:\n"
            "  --input FILE              training text (repeatable)\n"
            "  --output TOK              tokenizer file to write (atomically)\n");
    for (size_t i = 0; i < NFLAGS; i++) fprintf(fp, "  %-25s %s\n", train_flags[i].flag, train_flags[i].help);
    fprintf(fp,
            "  --strict-vocab            fail (exit 3, nothing written) when the corpus gives\n"
            "                            fewer ids than --vocab-size; without it: a warning\n"
            "  --help                    this text\n");
}

int cmd_tokenizer_train(int argc, char **argv) {
    const char *cmd = "tokenizer-train";
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    size_t ninputs = 0;
    const char *output = NULL;
    nlprnn_tokenizer_options *opts = nlprnn_tokenizer_options_create();
    nlprnn_error err;
    nlprnn_error_clear(&err);
    int rc = CLI_OK, strict = 0;
    if (!inputs || !opts) {
        rc = cli_report(cmd, NLPRNN_E_NOMEM, NULL);
        goto done;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            train_usage(stdout);
            goto done;
        }
        if (!strcmp(a, "--strict-vocab")) {
            strict = 1;
            continue;
        }
        if (i + 1 >= argc) {
            rc = cli_usage_error(cmd, "option %s needs a value", a);
            goto done;
        }
        if (!strcmp(a, "--input")) {
            inputs[ninputs++] = argv[++i];
            continue;
        }
        if (!strcmp(a, "--output")) {
            output = argv[++i];
            continue;
        }
        size_t k = 0;
        while (k < NFLAGS && strcmp(a, train_flags[k].flag)) k++;
        if (k == NFLAGS) {
            rc = cli_usage_error(cmd, "unknown option '%s'", a);
            goto done;
        }
        int st = nlprnn_tokenizer_options_set_str(opts, train_flags[k].opt, argv[++i], &err);
        if (st) {
            rc = st == NLPRNN_E_INVALID_ARG || st == NLPRNN_E_REGEX ? cli_usage_error(cmd, "%s: %s", a, err.message)
                                            : cli_report(cmd, st, &err);
            goto done;
        }
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
    long long asked = 0;
    if (!st) st = nlprnn_tokenizer_options_get_int(opts, NLPRNN_TOKOPT_VOCAB_SIZE, &asked, &err);
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
    fprintf(stderr, "nlprnn %s: wrote %s (%s) in %.1f s\n", cmd, output,
            nlprnn_tokenizer_describe(tok),
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    nlprnn_tokenizer_free(tok);
done:
    nlprnn_tokenizer_options_free(opts);
    free(inputs);
    return rc;
}
