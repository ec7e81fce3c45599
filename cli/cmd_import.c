/* cli/cmd_import.c: `nlprnn import FILE.safetensors --tokenizer TOK -o OUT.nrm` — a model trained
 * elsewhere (PyTorch) as an nlprnn classifier or language model (nlprnn/interop.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_import(int argc, char **argv);

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn import FILE.safetensors --tokenizer TOK -o OUT.nrm [--kind classifier|lm]\n"
            "                    [--pool last|mean|max|concat] [--labels NAMES] [--max-tokens N]\n"
            "                    [--storage f32|f16|int8] [--tied 0|1] [--set KEY=VALUE ...]\n\n"
            "Make an nlprnn model file from weights in safetensors (PyTorch, Hugging Face): an\n"
            "nn.Embedding, one nn.RNN/nn.LSTM/nn.GRU (stacked, bidirectional for a classifier) and\n"
            "an nn.Linear (docs/interop.md has the names and a walk-through). The configuration\n"
            "comes from the tensors' shapes and the file's __metadata__; the options below set or\n"
            "override what the tensors cannot say.\n\n"
            "options:\n"
            "  --tokenizer TOK     the tokenizer whose ids index the embedding's rows: a tokenizer\n"
            "                      file, a model file holding one, or a shipped model's name\n"
            "                      (required)\n"
            "  -o, --output FILE   the model file to write (required; written atomically)\n"
            "  --kind KIND         classifier or lm (default: the file's __metadata__ kind, else\n"
            "                      tried as a classifier, then as a language model)\n"
            "  --pool P            classifier: pooling over time, last, mean, max or concat (last,\n"
            "                      max and mean side by side; required when the file's\n"
            "                      __metadata__ has no pool)\n"
            "  --labels NAMES      classifier: the class names in order, separated by commas\n"
            "                      (default: the metadata's labels, else 0, 1, ...)\n"
            "  --max-tokens N      classifier: documents are cut to N tokens (default 512)\n"
            "  --storage S         f32 (default), f16 or int8: how the model file stores matrices\n"
            "  --tied 0|1          lm: the output matrix is the embedding table\n"
            "  --set KEY=VALUE     any import setting (nlprnn/interop.h), e.g. --set layers=2 to\n"
            "                      check that the file has two layers\n"
            "  -h, --help          this text\n\n"
            "example: nlprnn import model.safetensors --tokenizer ko.tok --pool max -o mine.nrm\n");
}

/* TOK: a tokenizer file, else a model file (classifier or language model) or a shipped model's
 * name whose tokenizer to use. */
typedef struct tok_src {
    nlprnn_tokenizer *tok;
    nlprnn_classifier *m;
    nlprnn_lm *lm;
} tok_src;

static const nlprnn_tokenizer *load_tokenizer(const char *spec, tok_src *s, nlprnn_error *err) {
    memset(s, 0, sizeof *s);
    int bare = !strchr(spec, '/') && !strchr(spec, '.');
    nlprnn_error first;
    if (!bare) {
        if (!nlprnn_tokenizer_load(spec, &s->tok, err)) return s->tok;
        if (err->code != NLPRNN_E_MAGIC) return NULL;
    }
    first = *err;
    if (!nlprnn_classifier_load(spec, &s->m, err)) return nlprnn_classifier_tokenizer(s->m);
    if (!nlprnn_lm_load(spec, &s->lm, err)) return nlprnn_lm_tokenizer(s->lm);
    if (!bare) *err = first;
    return NULL;
}

int cmd_import(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *tok_spec = NULL, *kind = NULL;
    const char **set = calloc((size_t)argc + 1, sizeof *set);
    char **own = calloc((size_t)argc + 1, sizeof *own);
    size_t ns = 0, nown = 0;
    int ret = CLI_OK;
    if (!set || !own) {
        free(set);
        free(own);
        return CLI_EXIT_LIMIT;
    }
    /* options that are import settings of their own name (nlprnn/interop.h) */
    enum { TOKENIZER = CLI_LONG, KIND, SET, POOL, LABELS, MAX_TOKENS, STORAGE, TIED };
    static const char *const setting_key[] = {"pool", "labels", "max_tokens", "storage", "tied"};
    static const cli_opt options[] = {{"tokenizer", TOKENIZER, CLI_ARG, NULL},
                                      {"output", 'o', CLI_ARG, NULL},
                                      {"kind", KIND, CLI_ARG, NULL},
                                      {"set", SET, CLI_ARG, NULL},
                                      {"pool", POOL, CLI_ARG, NULL},
                                      {"labels", LABELS, CLI_ARG, NULL},
                                      {"max-tokens", MAX_TOKENS, CLI_ARG, NULL},
                                      {"storage", STORAGE, CLI_ARG, NULL},
                                      {"tied", TIED, CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    static const char *const kinds[] = {"classifier", "lm", NULL};
    cli_args a;
    int c, k;
    cli_args_init(&a, "import", argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP:
            usage(stdout);
            goto done;
        case TOKENIZER: tok_spec = a.value; break;
        case 'o': out = a.value; break;
        case KIND:
            if ((k = cli_args_choice(&a, kinds)) >= 0) kind = kinds[k];
            break;
        case SET:
            if (!strchr(a.value, '=')) cli_args_fail(&a, "--set needs KEY=VALUE, not '%s'", a.value);
            else set[ns++] = a.value;
            break;
        case POOL:
        case LABELS:
        case MAX_TOKENS:
        case STORAGE:
        case TIED: {
            const char *key = setting_key[c - POOL];
            char *kv = malloc(strlen(key) + strlen(a.value) + 2);
            if (!kv) {
                cli_args_fail(&a, "out of memory");
                break;
            }
            sprintf(kv, "%s=%s", key, a.value);
            own[nown++] = kv;
            set[ns++] = kv;
            break;
        }
        case CLI_POSITIONAL:
            if (in) cli_args_fail(&a, "one FILE only ('%s' is a second)", a.value);
            in = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) ret = a.rc;
    if (!ret && !in) ret = cli_usage_error("import", "needs a FILE.safetensors");
    if (!ret && !tok_spec)
        ret = cli_usage_error("import", "needs --tokenizer TOK (the tokenizer whose ids index the "
                                        "embedding)");
    if (!ret && !out) ret = cli_usage_error("import", "needs -o OUT.nrm, the model file to write");
    if (ret) goto done;

    nlprnn_error err;
    tok_src src;
    const nlprnn_tokenizer *tok = load_tokenizer(tok_spec, &src, &err);
    if (!tok) {
        ret = cli_report("import", err.code, &err);
        goto done;
    }
    int rc;
    const char *made = "classifier";
    if (kind && !strcmp(kind, "lm")) {
        rc = nlprnn_lm_import(in, tok, set, ns, out, &err);
        made = "language model";
    } else {
        rc = nlprnn_classifier_import(in, tok, set, ns, out, &err);
        if (rc == NLPRNN_E_FORMAT && !kind) {
            /* not a classifier's tensors: a language model's? */
            nlprnn_error as_clf = err;
            int rc2 = nlprnn_lm_import(in, tok, set, ns, out, &err);
            if (!rc2) {
                rc = 0;
                made = "language model";
            } else if (rc2 == NLPRNN_E_FORMAT) {
                char as_lm[sizeof err.message];
                snprintf(as_lm, sizeof as_lm, "%s", err.message);
                snprintf(err.message, sizeof err.message,
                         "%.220s (as a classifier); %.220s (as a language model)", as_clf.message,
                         as_lm);
            } else {
                err = as_clf; /* e.g. a classifier's setting that a language model has not */
            }
        }
    }
    if (rc) ret = cli_report("import", rc, &err);
    else fprintf(stderr, "import: wrote %s (a %s)\n", out, made);
    nlprnn_tokenizer_free(src.tok);
    nlprnn_classifier_free(src.m);
    nlprnn_lm_free(src.lm);
done:
    for (size_t i = 0; i < nown; i++) free(own[i]);
    free(own);
    free(set);
    return ret;
}
