/* cli/nlprnn.c: the `nlprnn COMMAND [OPTIONS]` dispatcher. One file per command or family of
 * commands (cli/cmd_*.c; cmd_space.c: space, space-train, space-pack, tag, tag-train;
 * cmd_translate.c: translate, translate-train, translate-eval, translate-pack; cmd_lm.c: lm-train,
 * lm-eval). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* COMMANDS: declarations, one line per command (keep alphabetical with the table below). */
int cmd_classify(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_fill(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_gradflow(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_lm_eval(int argc, char **argv);
int cmd_lm_train(int argc, char **argv);
int cmd_next(int argc, char **argv);
int cmd_relabel(int argc, char **argv);
int cmd_space(int argc, char **argv);
int cmd_space_train(int argc, char **argv);
int cmd_space_pack(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_tag_train(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_tokenizer_train(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_translate(int argc, char **argv);
int cmd_translate_eval(int argc, char **argv);
int cmd_translate_train(int argc, char **argv);
int cmd_translate_pack(int argc, char **argv);

static const struct {
    const char *name;
    cli_command_fn fn;
    const char *summary;
} commands[] = {
    /* COMMAND TABLE: { "name", cmd_name, "one-line summary" }, */
    {"classify", cmd_classify, "classify documents (files, lines or stdin) with a classifier: LABEL<TAB>PROBABILITY"},
    {"eval", cmd_eval, "evaluate a classifier on a labelled file: accuracy, P/R/F1, confusion, log loss"},
    {"export", cmd_export, "write a model's weights as safetensors (PyTorch names) or its embedding as .vec"},
    {"fill", cmd_fill, "fill the blank (___) of a sentence with a language model: WORD<TAB>PROBABILITY"},
    {"forecast", cmd_forecast, "forecast a numeric series (CSV) with an RNN/LSTM/GRU: train, eval, predict"},
    {"generate", cmd_generate, "sample text from a language model (temperature, top-k, top-p, seed)"},
    {"gradflow", cmd_gradflow, "vanishing/exploding gradients through time, with and without clipping"},
    {"import", cmd_import, "make a classifier or language model from safetensors weights (PyTorch)"},
    {"info", cmd_info, "describe a model file: kind, version, sections, config, tensors, labels"},
    {"lm-eval", cmd_lm_eval, "perplexity per piece and bits per character of a language model on text files"},
    {"lm-train", cmd_lm_train, "train a forward + backward LSTM/GRU language model on a text file"},
    {"next", cmd_next, "the most probable next words after a prefix, with probabilities"},
    {"relabel", cmd_relabel, "give a classifier's labels display names (0 -> negative), all else kept"},
    {"space", cmd_space, "restore the word spacing of Korean text (one text a line), or --keep-spaces to complete it"},
    {"space-pack", cmd_space_pack, "write several spacing models or taggers (same units) as one ensemble model file"},
    {"space-train", cmd_space_train, "train a spacing model (BiLSTM/GRU tagger) from well-spaced text lines"},
    {"tag", cmd_tag, "tag tokens (one a line, blank line between sentences) with a tagger: TOKEN<TAB>LABEL"},
    {"tag-train", cmd_tag_train, "train a sequence tagger (POS, NER...) from token<TAB>label lines"},
    {"tokenize", cmd_tokenize, "split text into subword pieces or ids, one line per input line"},
    {"tokenizer-train", cmd_tokenizer_train, "train a BPE or word tokenizer on text files (.gz ok)"},
    {"train", cmd_train, "train a text classifier (tokenizer, embedding, RNN/LSTM/GRU, pooling, head)"},
    {"translate", cmd_translate, "translate text (one a line) with an encoder-decoder model: greedy or beam search"},
    {"translate-eval", cmd_translate_eval, "BLEU and chrF (as sacrebleu) of a translator on a TSV file of pairs"},
    {"translate-train", cmd_translate_train, "train an encoder-decoder translator with attention on a TSV file of pairs"},
    {"translate-pack", cmd_translate_pack, "write several translators (same tokenizers) as one ensemble model file"},
    {NULL, NULL, NULL}};

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn COMMAND [OPTIONS] [ARGS]\n"
            "       nlprnn COMMAND --help\n"
            "       nlprnn --version\n\n"
            "Recurrent neural networks on UTF-8 text.\n\ncommands:\n");
    for (int i = 0; commands[i].name; i++)
        fprintf(fp, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp,
            "\noptions: --name VALUE or --name=VALUE; short options bundle (-ql = -q -l); '--' ends\n"
            "         the options; old spellings are still accepted (COMMAND --help names them)\n"
            "\nmodels: a NAME without '/' or '.' (ko, en, ko-lm, ko-space, ko-en, en-ko) is always a\n"
            "        shipped model, never a file in the current folder: write ./NAME for such a file\n"
            "\nexit codes: 0 ok, 1 internal failure, 2 usage, 3 bad input data, 4 I/O error,\n"
            "            5 bad model/tokenizer file, 6 resource limit, 130 interrupted\n");
}

static int run(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("nlprnn %s\n", nlprnn_version_string());
        return CLI_OK;
    }
    for (int i = 0; commands[i].name; i++)
        if (!strcmp(cmd, commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "nlprnn: unknown command '%s'\n", cmd);
    usage(stderr);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv) {
    cli_std_fds_reserve();
    int rc = run(argc, argv);
    /* every command, --help and --version included: output not written whole is exit 4 */
    const char *cmd = NULL;
    for (int i = 0; argc >= 2 && commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name)) cmd = commands[i].name;
    return cli_stdout_finish(cmd, rc);
}
