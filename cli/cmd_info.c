/* cli/cmd_info.c: `nlprnn info MODEL` — what is inside a model file (any kind): kind, format
 * version, sections with sizes and CRC32s, configuration, tensors; for a classifier also its
 * tokenizer and label names. A damaged file is refused with the reason (exit 5). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_info(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: nlprnn info MODEL ...\n\n"
               "Describe model files (a path, or a shipped model's name such as ko or en):\n"
               "kind, format version, sections (sizes, CRC32), configuration, tensors with\n"
               "shapes and storage, and for a classifier its tokenizer and label names.\n");
        return CLI_OK;
    }
    if (argc < 2) return cli_usage_error("info", "needs a MODEL file or name");
    int ret = CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) return cli_usage_error("info", "unknown option '%s'", argv[i]);
        char *text = NULL;
        nlprnn_error err;
        int rc = nlprnn_model_file_describe(argv[i], &text, &err);
        if (rc) {
            ret = cli_report("info", rc, &err);
            continue;
        }
        fputs(text, stdout);
        if (i + 1 < argc) putchar('\n');
        nlprnn_free(text);
    }
    return ret;
}
