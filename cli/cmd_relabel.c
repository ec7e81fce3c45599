/* cli/cmd_relabel.c: `nlprnn relabel MODEL --label-names SPEC -o OUT` — give a classifier's labels
 * display names ("0" -> "negative") without touching anything else (nlprnn_classifier_relabel). */
#include <stdio.h>

#include "cli.h"

int cmd_relabel(int argc, char **argv);

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn relabel MODEL --label-names SPEC -o OUT\n\n"
            "Copy a classifier model file with display names for its labels: classify, eval and\n"
            "the library print the names; evaluation files may still use the data's labels.\n"
            "Configuration, tokenizer and weights are copied byte for byte, so the copy gives the\n"
            "same probabilities (the tokenizer section is written uncompressed, as new models\n"
            "are: it loads faster). MODEL is a model file or a shipped model's name.\n\n"
            "options:\n"
            "  -n, --label-names SPEC  DATA=NAME,DATA=NAME,... (e.g. 0=negative,1=positive;\n"
            "                          labels not named keep their own) or one NAME per class in\n"
            "                          class order (negative,positive); \"\" removes the names\n"
            "  -o, --output FILE       the file to write (required; written atomically; may be\n"
            "                          MODEL itself)\n"
            "  -h, --help              this text\n\n"
            "errors: a bad SPEC exits 2 naming the item; a bad model file 5; writing 4.\n"
            "example: nlprnn relabel nsmc.nrm --label-names 0=negative,1=positive -o nsmc.nrm\n");
}

int cmd_relabel(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *spec = NULL;
    static const cli_opt options[] = {{"output", 'o', CLI_ARG, NULL},
                                      {"label-names", 'n', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    cli_args a;
    int c;
    cli_args_init(&a, "relabel", argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: usage(stdout); return CLI_OK;
        case 'o': out = a.value; break;
        case 'n': spec = a.value; break;
        case CLI_POSITIONAL:
            if (model) cli_args_fail(&a, "one MODEL only ('%s' is a second)", a.value);
            else model = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!model) return cli_usage_error("relabel", "needs a MODEL (a file or a shipped name)");
    if (!spec) return cli_usage_error("relabel", "needs --label-names SPEC");
    if (!out) return cli_usage_error("relabel", "needs -o OUT, the file to write");
    nlprnn_error err;
    int rc = nlprnn_classifier_relabel(model, spec, out, &err);
    if (rc) return cli_report("relabel", rc, &err);
    return CLI_OK;
}
