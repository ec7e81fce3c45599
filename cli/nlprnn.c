/* cli/nlprnn.c: the `nlprnn COMMAND [OPTIONS]` dispatcher. One file per command (cli/cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* COMMANDS: declarations, one line per command (keep alphabetical with the table below). */
int cmd_forecast(int argc, char **argv);
int cmd_gradflow(int argc, char **argv);

static const struct {
    const char *name;
    cli_command_fn fn;
    const char *summary;
} commands[] = {
    /* COMMAND TABLE: { "name", cmd_name, "one-line summary" }, */
    {"forecast", cmd_forecast, "forecast a numeric series (CSV) with an RNN/LSTM/GRU: train, eval, predict"},
    {"gradflow", cmd_gradflow, "vanishing/exploding gradients through time, with and without clipping"},
    {NULL, NULL, NULL}};

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn COMMAND [OPTIONS] [ARGS]\n"
            "       nlprnn COMMAND --help\n"
            "       nlprnn --version\n\n"
            "Recurrent neural networks on UTF-8 text.\n\ncommands:\n");
    for (int i = 0; commands[i].name; i++)
        fprintf(fp, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp,
            "\nexit codes: 0 ok, 1 internal failure, 2 usage, 3 bad input data, 4 I/O error,\n"
            "            5 bad model/tokenizer file, 6 resource limit, 130 interrupted\n");
}

int main(int argc, char **argv) {
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
