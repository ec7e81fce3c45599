/* cli/cmd_export.c: `nlprnn export MODEL -o OUT [--format safetensors|vec]` — a classifier's or a
 * language model's weights for other frameworks (nlprnn/interop.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_export(int argc, char **argv);

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn export MODEL -o OUT [--format safetensors|vec] [--kind classifier|lm]\n"
            "                    [--tokenizer-out FILE]\n\n"
            "Write the weights of a classifier or a language model for other frameworks.\n"
            "MODEL is a model file or a shipped model's name (ko, en, ko-lm; a name that is both\n"
            "a classifier and a language model, like ko, is the classifier unless --kind lm).\n\n"
            "options:\n"
            "  -o, --output FILE     the file to write (required; written atomically)\n"
            "  -f, --format FORMAT   safetensors (default): every tensor with PyTorch's names and\n"
            "                        layouts (embedding.weight, rnn.weight_ih_l0, ..., fc.weight,\n"
            "                        fc.bias; a language model: decoder.*, backward.*), float32,\n"
            "                        the configuration in __metadata__ (docs/interop.md)\n"
            "                        vec: the embedding table as word2vec text, one piece a line\n"
            "                        (what `nlprnn train --vectors` reads)\n"
            "  --kind KIND           classifier or lm: which model a shipped name means\n"
            "  --tokenizer-out FILE  also write the model's tokenizer (what `nlprnn import\n"
            "                        --tokenizer` and `nlprnn tokenize -m` read)\n"
            "  -m, --model MODEL     MODEL given as an option\n"
            "  -h, --help            this text\n\n"
            "example: nlprnn export ko -o ko.safetensors\n");
}

int cmd_export(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *tok_out = NULL, *kind = NULL;
    int format = NLPRNN_EXPORT_SAFETENSORS;
    enum { KIND = CLI_LONG, TOK_OUT };
    static const cli_opt options[] = {{"output", 'o', CLI_ARG, NULL},
                                      {"format", 'f', CLI_ARG, NULL},
                                      {"kind", KIND, CLI_ARG, NULL},
                                      {"tokenizer-out", TOK_OUT, CLI_ARG, NULL},
                                      {"model", 'm', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    static const char *const formats[] = {"safetensors", "vec", NULL}, *const kinds[] = {"classifier", "lm", NULL};
    cli_args a;
    int c, k;
    cli_args_init(&a, "export", argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: usage(stdout); return CLI_OK;
        case 'o': out = a.value; break;
        case 'f':
            if ((k = cli_args_choice(&a, formats)) >= 0) format = k ? NLPRNN_EXPORT_VEC : NLPRNN_EXPORT_SAFETENSORS;
            break;
        case KIND:
            if ((k = cli_args_choice(&a, kinds)) >= 0) kind = kinds[k];
            break;
        case TOK_OUT: tok_out = a.value; break;
        case 'm':
        case CLI_POSITIONAL:
            if (model) cli_args_fail(&a, "one MODEL only ('%s' is a second)", a.value);
            model = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (!model) return cli_usage_error("export", "needs a MODEL (a file or a shipped name)");
    if (!out) return cli_usage_error("export", "needs -o OUT, the file to write");

    nlprnn_error err, first;
    nlprnn_classifier *m = NULL;
    nlprnn_lm *lm = NULL;
    int rc = NLPRNN_E_UNSUPPORTED;
    if (!kind || !strcmp(kind, "classifier")) rc = nlprnn_classifier_load(model, &m, &err);
    if (rc && (!kind || !strcmp(kind, "lm"))) {
        /* not a classifier: a language model of that name or file? */
        first = err;
        int rc2 = nlprnn_lm_load(model, &lm, &err);
        if (rc2 && !kind && rc != NLPRNN_E_UNSUPPORTED && rc != NLPRNN_E_IO)
            err = first, rc2 = rc; /* a damaged classifier: its own error */
        rc = rc2;
    }
    if (rc) return cli_report("export", rc, &err);
    const nlprnn_tokenizer *tok = m ? nlprnn_classifier_tokenizer(m) : nlprnn_lm_tokenizer(lm);
    rc = m ? nlprnn_classifier_export(m, out, format, &err) : nlprnn_lm_export(lm, out, format, &err);
    if (!rc && tok_out) rc = nlprnn_tokenizer_save(tok, tok_out, &err);
    int ret = rc ? cli_report("export", rc, &err) : CLI_OK;
    if (!rc) {
        fprintf(stderr, "export: wrote %s (%s of the %s %s)%s%s\n", out,
                format == NLPRNN_EXPORT_VEC ? "the embedding as .vec" : "safetensors",
                m ? "classifier" : "language model", m ? nlprnn_classifier_path(m) : model,
                tok_out ? " and the tokenizer " : "", tok_out ? tok_out : "");
    }
    nlprnn_classifier_free(m);
    nlprnn_lm_free(lm);
    return ret;
}
