/* cli/args.h: the one command-line grammar of the nlprnn program (cli/args.c), included by
 * cli.h. Kept apart from cli.h, whose enum holds the program's exit codes only. */
#ifndef NLPRNN_CLI_ARGS_H
#define NLPRNN_CLI_ARGS_H

#include <stddef.h>
#include <stdio.h>

/* ---- the command-line grammar (cli/args.c) -------------------------------------------------
 * Every command reads its options with getopt_long through these calls: --opt=value and
 * --opt value, bundled short options (-ql), "--" ending the options, -h/--help everywhere, exact
 * long names only, old spellings as aliases. A usage error (unknown option, missing or bad
 * value) prints "nlprnn CMD: ..." naming the option and sets a->rc to CLI_EXIT_USAGE. */
enum { CLI_NO_ARG = 0, CLI_ARG = 1 };
enum {
    CLI_ERROR = -1,       /* cli_args_next: a usage error was printed; return a->rc */
    CLI_END = 0,          /* no more arguments */
    CLI_POSITIONAL = 1,   /* an argument that is not an option: a->value */
    CLI_HELP = 'h',       /* -h, --help */
    CLI_LONG = 256,       /* keys of long-only options start here */
    CLI_PARAM = 0x10000   /* CLI_PARAM + i: the i-th name of the `params` list, a->value */
};

/* One option of a command. */
typedef struct cli_opt {
    const char *name;    /* canonical long name without "--" ("output"); NULL ends a table */
    int key;             /* its short letter ('o'), or CLI_LONG + n for a long-only option */
    int has_arg;         /* CLI_NO_ARG or CLI_ARG */
    const char *aliases; /* other spellings accepted, space-separated ("--out -f"), or NULL */
} cli_opt;

typedef struct cli_args {
    const char *cmd;     /* the command, for messages */
    const char *value;   /* the value of the option just read, or the argument */
    const char *spelled; /* the option as it was written ("--top", "-k"), for messages */
    int rc;              /* the exit code after CLI_ERROR or a failed cli_args_int/... */
    /* private */
    int argc, rest;
    char **argv;
    const cli_opt *opts;
    const char *const *params;
    void *longopts;
    char *shorts, *names;
    int short_alias[128];
    char spelled_buf[64];
} cli_args;

/* Prepare to read argv[1..argc) (argv[0] is the command) with the options of `opts` and one
 * long option taking a value for each name of `params` (NULL-terminated, may be NULL). Then:
 *
 *     cli_args_init(&a, "train", argc, argv, options, NULL);
 *     while ((c = cli_args_next(&a)) > CLI_END) switch (c) { case 'o': ... }
 *     if (c == CLI_ERROR) return a.rc;
 *
 * (init fails only when out of memory: it reports it and cli_args_next returns CLI_ERROR.)
 * cli_args_next releases what init allocated when it returns CLI_END, CLI_ERROR or CLI_HELP;
 * after a failed cli_args_int/... or cli_args_fail it returns CLI_ERROR. */
int cli_args_init(cli_args *a, const char *cmd, int argc, char **argv, const cli_opt *opts,
                  const char *const *params);
/* The next option's key (the canonical key for an alias), CLI_POSITIONAL, CLI_END, or
 * CLI_ERROR. */
int cli_args_next(cli_args *a);
/* Release the tables (only needed when a command stops reading before CLI_END). */
void cli_args_free(cli_args *a);
/* The option's value as a number in [lo, hi] / a choice: 1 (or the choice's index) when good;
 * otherwise a usage error naming the option and the accepted values (a->rc), and 0 (-1). */
int cli_args_int(cli_args *a, long long lo, long long hi, long long *out);
int cli_args_u64(cli_args *a, unsigned long long *out);
int cli_args_double(cli_args *a, double lo, double hi, double *out);
int cli_args_choice(cli_args *a, const char *const *choices);
/* A usage error found by the command ("one FILE only"): printed now, cli_args_next then returns
 * CLI_ERROR; returns a->rc. */
int cli_args_fail(cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- model lists: -m given several times is an ensemble (translate, space, tag) ------------- */
#define CLI_MAX_MODELS 32
typedef struct cli_models {
    const char *name[CLI_MAX_MODELS];
    int n;
} cli_models;
/* Add the current option's value (or positional) to m; a usage error past CLI_MAX_MODELS. */
void cli_models_add(cli_args *a, cli_models *m);
/* A *-pack command's own options: opts (at most CLI_PACK_MAX_MORE, NULL-terminated; keys other
 * than 'o' and CLI_LONG) and option(a, c, user), called for every option first: 1 when c was
 * one of them (it reads a->value), 0 when not. */
#define CLI_PACK_MAX_MORE 8
typedef struct cli_pack_more {
    const cli_opt *opts;
    int (*option)(cli_args *a, int c, void *user);
    void *user;
} cli_pack_more;
/* The arguments of a *-pack command, `-o OUT [--store S] [MORE...] MODEL...`: *output and models
 * set; --help prints usage(stdout) and sets *help. stores: NULL (no --store option), or the
 * choices of --store (NULL-terminated; *store = the one given, else stores[0]); more: NULL, or
 * the command's own options. Returns 0, or the exit code of a usage error (printed). */
int cli_pack_args(const char *cmd, int argc, char **argv, void (*usage)(FILE *), const char *const *stores,
                  const cli_pack_more *more, const char **store, const char **output, cli_models *models,
                  int *help);

#endif
