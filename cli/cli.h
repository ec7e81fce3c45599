/* cli/cli.h: shared pieces of the nlprnn program. The CLI uses only the public header. */
#ifndef NLPRNN_CLI_H
#define NLPRNN_CLI_H

#include "nlprnn.h"

/* Exit codes of the nlprnn program (documented in docs/cli.md and the man page). */
enum {
    CLI_OK = 0,
    CLI_EXIT_FAILURE = 1,     /* an unexpected internal failure */
    CLI_EXIT_USAGE = 2,       /* bad command line: unknown command or option, missing value */
    CLI_EXIT_DATA = 3,        /* bad input data: invalid UTF-8, malformed corpus row, empty text */
    CLI_EXIT_IO = 4,          /* a file could not be read or written */
    CLI_EXIT_MODEL = 5,       /* a model or tokenizer file is corrupt, truncated or of another kind */
    CLI_EXIT_LIMIT = 6,       /* out of memory or a resource limit */
    CLI_EXIT_INTERRUPTED = 130 /* stopped by SIGINT/SIGTERM (after saving a checkpoint) */
};

/* Map a library status to the program's exit code. */
int cli_exit_code(int status);
/* Print "nlprnn CMD: MESSAGE" for a library error to stderr and return its exit code. */
int cli_report(const char *cmd, int status, const nlprnn_error *err);
/* Print "nlprnn CMD: message" plus a hint to run --help, return CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...);

/* MPI (cli/mpi.c): join the job when started by mpirun; name gets "CMD (rank R of N)". Returns
 * 0 or an exit code. cli_dist_end reports status (0 = fine), leaves MPI, returns the exit code. */
int cli_dist_begin(const char *cmd, char *name, size_t cap);
int cli_dist_end(const char *name, int status, const nlprnn_error *err);

/* One subcommand: argv[0] is the subcommand's name. */
typedef int (*cli_command_fn)(int argc, char **argv);

#endif
