/* cli/cmd_info.c: `nlprnn info MODEL` — what is inside a model file (any kind): kind, format
 * version, sections with sizes and CRC32s, configuration, tensors; for a classifier also its
 * tokenizer and label names. A tokenizer file (its own "NLPRNTOK" format, not the model
 * container) is described too: its settings and vocabulary size. A damaged file is refused with
 * the reason (exit 5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A file that is not a model container may be a tokenizer file: describe it if it loads. Returns
 * 1 when it was one (described, or *rc set to its loader's error when it is a damaged one), 0
 * when it is not a tokenizer file either (the caller reports the model loader's error). */
static int describe_tokenizer(const char *path, int *rc) {
    nlprnn_tokenizer *tok = NULL;
    nlprnn_error err;
    int trc = nlprnn_tokenizer_load(path, &tok, &err);
    if (trc == NLPRNN_E_MAGIC || trc == NLPRNN_E_IO) return 0;
    if (trc) {
        *rc = cli_report("info", trc, &err);
        return 1;
    }
    printf("file:     %s\n"
           "kind:     tokenizer (NLPRNTOK, %s)\n"
           "vocab:    %ld pieces\n"
           "settings: %s\n",
           path, nlprnn_tokenizer_model_name(tok), (long)nlprnn_tokenizer_vocab_size(tok),
           nlprnn_tokenizer_describe(tok));
    nlprnn_tokenizer_free(tok);
    *rc = CLI_OK;
    return 1;
}

int cmd_info(int argc, char **argv) {
    cli_args a;
    const char **models = calloc((size_t)argc + 1, sizeof *models);
    if (!models) return cli_report("info", NLPRNN_E_NOMEM, NULL);
    int c, ret = CLI_OK, n = 0;
    cli_args_init(&a, "info", argc, argv, NULL, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        if (c == CLI_HELP) {
            printf("usage: nlprnn info MODEL ...\n\n"
                   "Describe model files (a path, or a shipped model's name such as ko or en):\n"
                   "kind, format version, sections (sizes, CRC32), configuration, tensors with\n"
                   "shapes and storage, and for a classifier its tokenizer and label names.\n"
                   "A tokenizer file (.tok) gives its settings and vocabulary size.\n");
            free(models);
            return CLI_OK;
        }
        models[n++] = a.value;
    }
    if (c == CLI_ERROR || n < 1) {
        free(models);
        return c == CLI_ERROR ? a.rc : cli_usage_error("info", "needs a MODEL file or name");
    }
    for (int i = 0; i < n; i++) {
        char *text = NULL;
        nlprnn_error err;
        int rc = nlprnn_model_file_describe(models[i], &text, &err);
        if (rc == NLPRNN_E_MAGIC && describe_tokenizer(models[i], &rc)) {
            if (rc) ret = rc;
            if (i + 1 < n) putchar('\n');
            continue;
        }
        if (rc) {
            ret = cli_report("info", rc, &err);
            continue;
        }
        fputs(text, stdout);
        if (i + 1 < n) putchar('\n');
        nlprnn_free(text);
    }
    free(models);
    return ret;
}
