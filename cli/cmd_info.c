/* cli/cmd_info.c: `nlprnn info MODEL` — what is inside a model file (any kind): kind, format
 * version, sections with sizes and CRC32s, configuration, tensors; for a classifier also its
 * tokenizer and label names. A damaged file is refused with the reason (exit 5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
                   "shapes and storage, and for a classifier its tokenizer and label names.\n");
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
