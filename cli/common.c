/* cli/common.c: exit codes, error reporting and checked standard output for the nlprnn program. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"

int cli_exit_code(int status) {
    switch (status) {
    case NLPRNN_OK: return CLI_OK;
    case NLPRNN_E_INVALID_ARG:
    case NLPRNN_E_REGEX: return CLI_EXIT_USAGE; /* a pattern given on the command line */
    case NLPRNN_E_UTF8:
    case NLPRNN_E_DATA:
    case NLPRNN_E_EMPTY:
    case NLPRNN_E_NUMERIC: return CLI_EXIT_DATA; /* training diverged on this data and these
                                                    parameters (a NaN or infinite loss) */
    case NLPRNN_E_IO: return CLI_EXIT_IO;
    case NLPRNN_E_FORMAT:
    case NLPRNN_E_VERSION:
    case NLPRNN_E_CHECKSUM:
    case NLPRNN_E_TRUNCATED:
    case NLPRNN_E_MAGIC:
    case NLPRNN_E_UNSUPPORTED: return CLI_EXIT_MODEL;
    case NLPRNN_E_NOMEM:
    case NLPRNN_E_LIMIT: return CLI_EXIT_LIMIT;
    case NLPRNN_E_INTERRUPTED: return CLI_EXIT_INTERRUPTED;
    default: return CLI_EXIT_FAILURE;
    }
}

int cli_report(const char *cmd, int status, const nlprnn_error *err) {
    const char *msg = err && err->code == status && err->message[0] ? err->message
                                                                      : nlprnn_status_text(status);
    fprintf(stderr, "nlprnn %s: %s (%s)\n", cmd, msg, nlprnn_status_name(status));
    return cli_exit_code(status);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "nlprnn %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'nlprnn %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

void cli_std_fds_reserve(void) {
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        /* the wrong direction on purpose: reads of a closed stdin and writes to a closed
         * stdout/stderr keep failing (EBADF), as they would have without this */
        int nfd = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
        if (nfd >= 0 && nfd != fd) {
            dup2(nfd, fd);
            close(nfd);
        }
    }
}

static int stdout_failed; /* the write error was reported */

static int stdout_error(const char *cmd, int e) {
    if (!stdout_failed)
        fprintf(stderr, "nlprnn%s%s: cannot write to standard output: %s (NLPRNN_E_IO)\n",
                cmd ? " " : "", cmd ? cmd : "", e ? strerror(e) : "write error");
    stdout_failed = 1;
    return CLI_EXIT_IO;
}

int cli_stdout_check(const char *cmd) {
    if (stdout_failed) return CLI_EXIT_IO;
    errno = 0;
    int bad = fflush(stdout) != 0;
    int e = errno;
    if (bad || ferror(stdout)) return stdout_error(cmd, bad ? e : 0);
    return CLI_OK;
}

int cli_stdout_finish(const char *cmd, int rc) {
    int w = cli_stdout_check(cmd);
    errno = 0;
    if (fclose(stdout) != 0 && !w) w = stdout_error(cmd, errno);
    return rc ? rc : w;
}

size_t cli_bom_length(const void *buf, size_t n) {
    return n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

static int is_bare_name(const char *s) { return *s && !strchr(s, '/') && !strchr(s, '.'); }

/* The kind line of a model file's description ("TAGR (tagger)"), or "model" when there is none. */
static void model_kind(const char *path, char *buf, size_t cap) {
    char *text = NULL;
    snprintf(buf, cap, "model");
    if (nlprnn_model_file_describe(path, &text, NULL)) return;
    const char *k = strstr(text, "\nkind:");
    if (k) {
        k += strlen("\nkind:");
        k += strspn(k, " ");
        size_t n = strcspn(k, "\n");
        snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), k);
    }
    nlprnn_free(text);
}

/* A model of a kind without a tokenizer: a tagger (it reads characters), a forecaster (numbers)
 * or a checkpoint. Reports it, returns the exit code. */
static int no_tokenizer(const char *cmd, const char *spec) {
    nlprnn_error err = {.code = NLPRNN_E_UNSUPPORTED};
    char kind[64];
    model_kind(spec, kind, sizeof kind);
    snprintf(err.message, sizeof err.message,
             "%s: a %s file holds no tokenizer; give a tokenizer file, or a classifier, language "
             "model or translator", spec, kind);
    return cli_report(cmd, NLPRNN_E_UNSUPPORTED, &err);
}

/* The last try of cli_tokenizer_load: a translator of that path or name (its source or target
 * side). 0 when it loaded; else its loader's status, err set. */
static int translator_tokenizer(const char *spec, int target, cli_tokenizer *t, nlprnn_error *err) {
    int rc = nlprnn_translator_load(spec, &t->tr, err);
    if (!rc) t->tok = nlprnn_translator_tokenizer(t->tr, target);
    return rc;
}

static int tokenizer_load(const char *cmd, const char *spec, int target, cli_tokenizer *t) {
    nlprnn_error err, first;
    memset(t, 0, sizeof *t);
    int rc;
    if (is_bare_name(spec)) {
        /* a shipped model's tokenizer: a classifier, else a language model, else a translator
         * of that name */
        rc = nlprnn_classifier_load(spec, &t->model, &err);
        if (!rc) {
            t->tok = nlprnn_classifier_tokenizer(t->model);
            return CLI_OK;
        }
        first = err;
        int rc2 = nlprnn_lm_load(spec, &t->lm, &err);
        if (!rc2) {
            t->tok = nlprnn_lm_tokenizer(t->lm);
            return CLI_OK;
        }
        nlprnn_error terr;
        int rc3 = translator_tokenizer(spec, target, t, &terr);
        if (!rc3) return CLI_OK;
        if (rc == NLPRNN_E_UNSUPPORTED && rc3 == NLPRNN_E_UNSUPPORTED) return no_tokenizer(cmd, spec);
        return rc == NLPRNN_E_IO ? cli_report(cmd, rc2, &err) : cli_report(cmd, rc, &first);
    }
    /* a path: a tokenizer file, or a model file holding one */
    rc = nlprnn_tokenizer_load(spec, &t->own, &err);
    if (!rc) {
        t->tok = t->own;
        return CLI_OK;
    }
    if (rc != NLPRNN_E_MAGIC) return cli_report(cmd, rc, &err);
    first = err;
    int rc2 = nlprnn_classifier_load(spec, &t->model, &err);
    if (!rc2) {
        t->tok = nlprnn_classifier_tokenizer(t->model);
        return CLI_OK;
    }
    if (rc2 == NLPRNN_E_UNSUPPORTED) { /* a model of another kind: a language model? */
        rc2 = nlprnn_lm_load(spec, &t->lm, &err);
        if (!rc2) {
            t->tok = nlprnn_lm_tokenizer(t->lm);
            return CLI_OK;
        }
        if (rc2 != NLPRNN_E_UNSUPPORTED) return cli_report(cmd, rc2, &err);
        rc2 = translator_tokenizer(spec, target, t, &err); /* a translator? */
        if (!rc2) return CLI_OK;
        if (rc2 != NLPRNN_E_UNSUPPORTED) return cli_report(cmd, rc2, &err);
        return no_tokenizer(cmd, spec);
    }
    /* neither a tokenizer nor a model file: the tokenizer loader's message */
    return rc2 == NLPRNN_E_MAGIC ? cli_report(cmd, rc, &first) : cli_report(cmd, rc2, &err);
}

int cli_tokenizer_load(const char *cmd, const char *spec, int target, cli_tokenizer *t) {
    int rc = tokenizer_load(cmd, spec, target, t);
    if (!rc && target && !t->tr) {
        cli_tokenizer_free(t);
        return cli_usage_error(cmd, "--target: %s is not a translator (only a translator has a "
                               "target side)", spec);
    }
    return rc;
}

void cli_tokenizer_free(cli_tokenizer *t) {
    nlprnn_tokenizer_free(t->own);
    nlprnn_classifier_free(t->model);
    nlprnn_lm_free(t->lm);
    nlprnn_translator_free(t->tr);
    memset(t, 0, sizeof *t);
}

void cli_json_text(FILE *fp, const char *s, size_t n) {
    fputc('"', fp);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(fp, "\\%c", c);
        else if (c == '\n') fputs("\\n", fp);
        else if (c == '\t') fputs("\\t", fp);
        else if (c < 0x20 || c == 0x7f) fprintf(fp, "\\u%04x", c);
        else fputc(c, fp);
    }
    fputc('"', fp);
}

void cli_json_str(FILE *fp, const char *s) { cli_json_text(fp, s, strlen(s)); }

void cli_json_num(FILE *fp, double x, int digits) {
    if (x != x || x > 1.7976931348623157e308 || x < -1.7976931348623157e308) fputs("null", fp);
    else fprintf(fp, "%.*g", digits, x);
}

void cli_json_choices(const char *query, const nlprnn_lm_choice *ch, size_t n, double calibrate) {
    printf("{\"query\":");
    cli_json_str(stdout, query);
    if (calibrate == calibrate) {
        printf(",\"calibrate\":");
        cli_json_num(stdout, calibrate, 6);
    }
    printf(",\"answers\":[");
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"text\":", i ? "," : "");
        cli_json_str(stdout, ch[i].text);
        printf(",\"probability\":");
        cli_json_num(stdout, ch[i].prob, 6);
        printf(",\"score\":");
        cli_json_num(stdout, ch[i].score, 9);
        putchar('}');
    }
    printf("]}\n");
}

/* ---- lines of a file or of standard input (cli.h) ---------------------------------------------- */

/* Next line in in->buf (no "\n", a final "\r" removed, a BOM skipped on line 1): 1 with *s, *len;
 * 0 at the end; -1 on a read error (errno). */
#define CLI_LINES_READ (64 * 1024) /* bytes a file is read ahead by */

/* The next line of a file (through zlib) into in->buf with its "\n" if any: its length, 0 at the
 * end, -1 on an error (in->zmsg). */
static ssize_t gz_getline(cli_lines *in) {
    gzFile gz = in->gz;
    size_t l = 0;
    for (;;) {
        if (in->rpos == in->rlen) {
            int got = gzread(gz, in->rb, CLI_LINES_READ);
            int code = Z_OK;
            const char *msg = got <= 0 ? gzerror(gz, &code) : NULL;
            if (got < 0 || (got == 0 && code != Z_OK)) {
                /* Z_BUF_ERROR at the end: the gzip stream stops inside a member */
                snprintf(in->zmsg, sizeof in->zmsg, "%s",
                         code == Z_BUF_ERROR ? "the gzip stream ends early (truncated file)"
                                             : msg && *msg ? msg : "read error");
                return -1;
            }
            if (got == 0) return (ssize_t)l; /* the end (l > 0: a last line without "\n") */
            in->rpos = 0, in->rlen = (size_t)got;
        }
        const char *start = in->rb + in->rpos, *nl = memchr(start, '\n', in->rlen - in->rpos);
        size_t take = nl ? (size_t)(nl - start) + 1 : in->rlen - in->rpos;
        if (l + take + 1 > in->cap) {
            size_t cap = in->cap ? in->cap : 256;
            while (cap < l + take + 1) cap *= 2;
            char *b = realloc(in->buf, cap);
            if (!b) {
                snprintf(in->zmsg, sizeof in->zmsg, "%s", strerror(ENOMEM));
                return -1;
            }
            in->buf = b, in->cap = cap;
        }
        memcpy(in->buf + l, start, take);
        l += take;
        in->rpos += take;
        if (nl) return (ssize_t)l;
    }
}

int cli_lines_next(cli_lines *in, char **s, size_t *len) {
    errno = 0;
    in->zmsg[0] = 0;
    ssize_t n = in->gz ? gz_getline(in) : getline(&in->buf, &in->cap, in->fp);
    if (n < 0) return in->gz || ferror(in->fp) ? -1 : 0;
    if (n == 0) return 0; /* gz_getline's end */
    in->line++;
    size_t l = (size_t)n;
    if (l && in->buf[l - 1] == '\n') l--;
    if (l && in->buf[l - 1] == '\r') l--;
    in->buf[l] = 0;
    size_t skip = in->first ? cli_bom_length(in->buf, l) : 0;
    in->first = 0;
    *s = in->buf + skip;
    *len = l - skip;
    return 1;
}

int cli_lines_open(cli_lines *in, const char *cmd, const char *path) {
    memset(in, 0, sizeof *in);
    in->name = strcmp(path, "-") ? path : "<stdin>";
    in->first = 1;
    if (!strcmp(path, "-")) {
        in->fp = stdin;
        return CLI_OK;
    }
    errno = 0;
    in->gz = gzopen(path, "rb");
    in->rb = in->gz ? malloc(CLI_LINES_READ) : NULL;
    if (!in->gz || !in->rb) {
        fprintf(stderr, "nlprnn %s: %s: %s (NLPRNN_E_IO)\n", cmd, path, strerror(errno ? errno : ENOMEM));
        cli_lines_close(in);
        return CLI_EXIT_IO;
    }
    return CLI_OK;
}

const char *cli_lines_error(const cli_lines *in) {
    return in->zmsg[0] ? in->zmsg : strerror(errno ? errno : EIO);
}

int cli_lines_waiting(const cli_lines *in) {
    return in->gz || in->rpos < in->rlen || cli_input_waiting(in->fp);
}

void cli_lines_close(cli_lines *in) {
    free(in->buf);
    free(in->rb);
    if (in->gz) gzclose(in->gz);
    if (in->fp && in->fp != stdin) fclose(in->fp);
    in->buf = in->rb = NULL, in->gz = NULL, in->fp = NULL;
}

/* ---- streamed input (cli.h) ---------------------------------------------------------------------- */

int cli_fd_waiting(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    int r;
    while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR) {
    }
    /* an error of poll itself: say "waiting", the read that follows reports the real error */
    return r != 0;
}

int cli_input_waiting(FILE *fp) {
#if defined(__GLIBC__)
    /* bytes read into the stdio buffer and not yet taken (glibc's FILE is public; gnulib's
     * freadahead reads the same two fields) */
    if (fp->_IO_read_ptr < fp->_IO_read_end) return 1;
#endif
    /* elsewhere the buffer is not looked at: a batch may then be flushed early (smaller batches,
     * the same output), never late */
    if (feof(fp) || ferror(fp)) return 1;
    return cli_fd_waiting(fileno(fp));
}

/* ---- training parameters as options --------------------------------------------------------- */

/* The option that sets parameter name: "--NAME", own's spelling, or NULL (not an option). */
static const char *param_option(const char *name, const char *const *own, char *buf, size_t cap) {
    for (size_t i = 0; own && own[i]; i += 2)
        if (!strcmp(own[i], name)) return own[i + 1];
    snprintf(buf, cap, "--%s", name);
    return buf;
}

void cli_param_usage(FILE *fp, cli_param_info_fn info, const char *const *own) {
    for (int i = 0;; i++) {
        const char *name, *def, *help;
        char range[200], opt[80];
        if (info(i, &name, &def, &help, range, sizeof range, NULL)) break;
        const char *spelled = param_option(name, own, opt, sizeof opt);
        if (spelled) fprintf(fp, "  %-19s %s (default %s; %s)\n", spelled, help, def[0] ? def : "\"\"", range);
    }
}

void cli_param_names(cli_param_info_fn info, const char *const *own, const char **names, size_t cap) {
    size_t n = 0;
    for (int i = 0; n + 1 < cap; i++) {
        const char *name;
        char opt[80];
        if (info(i, &name, NULL, NULL, NULL, 0, NULL)) break;
        const char *spelled = param_option(name, own, opt, sizeof opt);
        if (spelled && spelled == opt) names[n++] = name;
    }
    names[n] = NULL;
}
