/* cli/cli.h: shared pieces of the nlprnn program. The CLI uses only the public header. */
#ifndef NLPRNN_CLI_H
#define NLPRNN_CLI_H

#include <stdio.h>

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

/* MPI (cli/mpi.c): join the job when started by mpirun; *comm gets the communicator to train over
 * (NULL: one process), name gets "CMD (rank R of N)". Returns 0 or an exit code. cli_dist_end
 * reports status (0 = fine), frees comm, leaves MPI, returns the exit code. */
int cli_dist_begin(const char *cmd, char *name, size_t cap, nlprnn_comm **comm);
int cli_dist_end(const char *name, nlprnn_comm *comm, int status, const nlprnn_error *err);

/* Plugins (cli/plugin.c): the program's optional parts (the plot plugin nlprnn-plot.so, the MPI
 * component libnlprnn-mpi.so.N), loaded when a command needs them so that a plain run loads none
 * of their libraries. cli_plugin_open() dlopen()s FILE from, in order: the install's library
 * folder next to the program (BINDIR/../LIBDIR[/SUBDIR]/FILE, relative to the program's own
 * path), the program's folder (the build tree), and, when search_default is set, the dynamic
 * loader's usual search (FILE alone). Returns the handle, or NULL with a message naming the
 * paths tried and the loader's reason in msg. RTLD_GLOBAL when global (MPI's own components
 * need its symbols). */
void *cli_plugin_open(const char *file, const char *subdir, int search_default, int global, char *msg,
                      size_t cap);

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

/* Lines of a file, or of standard input for "-" (cli/common.c): no "\n", a final "\r" removed, a
 * byte order mark skipped on line 1; `line` counts the lines read, for messages. A file is read
 * through zlib, so a gzip file (.gz or not) gives its text and a plain file its bytes; a gzip
 * stream that ends early is a read error, never a silent end. Standard input is read as it is
 * (plain text), as its bytes arrive (cli_lines_waiting). NUL bytes stay in a line. */
typedef struct cli_lines {
    FILE *fp;         /* standard input; NULL for a file */
    void *gz;         /* a file: zlib's gzFile */
    const char *name; /* the path, or "<stdin>" */
    long long line;
    int first;
    char *buf; /* the line */
    size_t cap;
    char *rb;  /* a file: bytes read ahead, rb[rpos, rlen) */
    size_t rpos, rlen;
    char zmsg[160]; /* a file: zlib's reason for the last read error */
} cli_lines;
/* CLI_OK, or CLI_EXIT_IO after reporting "nlprnn CMD: PATH: reason". */
int cli_lines_open(cli_lines *in, const char *cmd, const char *path);
/* 1 with *s, *len: the line, NUL-terminated in in->buf (valid until the next call); 0 at the end;
 * -1 on a read error (cli_lines_error says why). */
int cli_lines_next(cli_lines *in, char **s, size_t *len);
/* The reason of the last -1 of cli_lines_next: zlib's for a file, else strerror(errno). */
const char *cli_lines_error(const cli_lines *in);
/* 1 when the next cli_lines_next returns at once (a file, buffered bytes, or standard input
 * waiting: cli_input_waiting), 0 when it would wait for a producer. */
int cli_lines_waiting(const cli_lines *in);
/* Frees the buffers; closes the file unless it is standard input. */
void cli_lines_close(cli_lines *in);

/* Streamed input (cli/common.c). A command that reads '-' (or any file) line by line and answers
 * per line may gather lines into batches, but it answers every line it holds before it would wait
 * for more: a producer that writes one line and waits for its answer (a coprocess, a pipeline
 * that talks line by line) gets it. cli_fd_waiting(fd): 1 when a read of fd returns at once (data,
 * end of file, an error; a regular file always does), 0 when it would block (poll, timeout 0).
 * cli_input_waiting(fp): 1 when fp's stdio buffer holds unread bytes or its descriptor is
 * waiting. A command flushes its batch (and stdout) when they return 0; from a file or a fast pipe
 * they keep returning 1, so big batches stay big. */
int cli_fd_waiting(int fd);
int cli_input_waiting(FILE *fp);

/* Install the SIGINT/SIGTERM handler (cli/signals.c) and return the stop flag it sets. */
const volatile int *cli_catch_stop_signals(void);

/* The command-line grammar every command reads its options with: cli/args.h. */
#include "args.h"

/* ---- progress on standard error (cli/progress.c) --------------------------------------------
 * One mechanism for every command that trains: on a terminal the passing status (a training
 * step) is one line redrawn in place, at most 5 times a second; otherwise it is a plain line,
 * prefixed with `prefix`, at most every `every` seconds. Lasting lines (an epoch's result, what
 * is being done) clear the status line first. quiet: only warnings. */
typedef struct cli_progress {
    const char *prefix; /* of plain lines: "train: " */
    int tty, quiet, shown;
    double every, last;
} cli_progress;

void cli_progress_init(cli_progress *p, const char *prefix, double every, int quiet);
/* 1 when a passing status should be drawn now (always when force). */
int cli_progress_due(cli_progress *p, int force);
/* A passing status line (text without a newline). */
void cli_progress_status(cli_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A lasting line (without the newline). */
void cli_progress_line(cli_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning: shown even when quiet. */
void cli_progress_warn(cli_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear a status line left on the terminal. */
void cli_progress_end(cli_progress *p);
/* A bar of 24 characters, '#' for the part done of total, '.' for the rest, into b (>= 25 bytes). */
void cli_fmt_bar(char *b, long long done, long long total);
/* Seconds on the monotonic clock; a duration as mm:ss or h:mm:ss ("--:--" when unknown). */
double cli_now(void);
void cli_fmt_time(char *buf, size_t cap, double seconds);

/* A tokenizer named the way --model names models (cli/common.c): a tokenizer file, a model file
 * (classifier, language model or translator: its tokenizer), or a shipped model's bare name (a
 * classifier, else a language model, else a translator of that name). A translator gives its
 * source side's tokenizer, its target side's with target = 1 (target = 1 and anything else: a
 * usage error). Returns 0 or the exit code after reporting the error. */
typedef struct cli_tokenizer {
    const nlprnn_tokenizer *tok;
    nlprnn_tokenizer *own;
    nlprnn_classifier *model;
    nlprnn_lm *lm;
    nlprnn_translator *tr;
} cli_tokenizer;
int cli_tokenizer_load(const char *cmd, const char *spec, int target, cli_tokenizer *t);
void cli_tokenizer_free(cli_tokenizer *t);

/* JSON output (--format json of classify, eval, fill, next, space, translate): s as a JSON string
 * (quotes, \\, control characters and DEL escaped, \n and \t as such; UTF-8 passes through),
 * the n bytes of s with cli_json_text; a finite number with %.*g precision, or null for NaN and
 * infinities. */
void cli_json_str(FILE *fp, const char *s);
void cli_json_text(FILE *fp, const char *s, size_t n);
void cli_json_num(FILE *fp, double x, int digits);
/* The answers of fill / next as one JSON line: {"query":Q[,"calibrate":A],"answers":[{"text":T,
 * "probability":P,"score":S},...]}; calibrate is left out when it is NaN. */
void cli_json_choices(const char *query, const nlprnn_lm_choice *ch, size_t n, double calibrate);

/* A task's training parameters as options (cli/common.c), from its table: info is the task's
 * *_param_info (nlprnn_classifier_param_info, nlprnn_lm_param_info, nlprnn_forecaster_param_info,
 * nlprnn_tagger_param_info, nlprnn_translator_param_info).
 * `own` pairs a parameter with the option that sets it when that is not --NAME: {"threads",
 * "-t, --threads", "format", NULL (not an option: the command sets it), ..., NULL}.
 * cli_param_usage prints a line a parameter: "  --NAME  help (default D; RANGE)";
 * cli_param_names puts the names of the --NAME options (the rest) into names (cap entries with
 * the final NULL) for cli_args_init. */
typedef int (*cli_param_info_fn)(int i, const char **name, const char **def, const char **help,
                                 char *range, size_t cap, nlprnn_error *err);
void cli_param_usage(FILE *fp, cli_param_info_fn info, const char *const *own);
void cli_param_names(cli_param_info_fn info, const char *const *own, const char **names, size_t cap);

/* One subcommand: argv[0] is the subcommand's name. */
typedef int (*cli_command_fn)(int argc, char **argv);

#endif
