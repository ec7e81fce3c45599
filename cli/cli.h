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

/* Standard output (cli/common.c). Every command's results go to stdout through stdio; a write
 * error there (a full disk, /dev/full, a closed pipe with SIGPIPE ignored, a closed stdout `>&-`)
 * must never pass silently. cli_std_fds_reserve() runs first in main(): a closed descriptor 0, 1
 * or 2 is replaced by /dev/null opened in the wrong direction, so no file the program opens can
 * become "standard output" and every write to a closed stdout fails (EBADF) instead of landing in
 * a model file. cli_stdout_check() flushes stdout and tests its error flag: 0 when all is well;
 * otherwise it prints "nlprnn CMD: cannot write to standard output: REASON (NLPRNN_E_IO)" (once)
 * and returns CLI_EXIT_IO; commands that stream results call it as they go and stop on failure.
 * cli_stdout_finish() is main()'s last step: the check plus fclose(stdout); it returns rc, or
 * CLI_EXIT_IO when rc is 0 and the output was not written whole. */
void cli_std_fds_reserve(void);
int cli_stdout_check(const char *cmd);
int cli_stdout_finish(const char *cmd, int rc);

/* A UTF-8 byte order mark (EF BB BF) at the start of a file or of standard input is not text:
 * readers skip it (docs/cli.md). Returns 3 when buf (n bytes) starts with one, else 0. */
size_t cli_bom_length(const void *buf, size_t n);

/* One subcommand: argv[0] is the subcommand's name. */
typedef int (*cli_command_fn)(int argc, char **argv);

#endif
