/* cli/cmd_tokenize.c: `nlprnn tokenize`: text, file or stdin -> pieces or ids, one output line
 * per input line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"

int cmd_tokenize(int argc, char **argv);

static void tokenize_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn tokenize [-m TOK|MODEL|NAME] [--target] [--ids] [--offsets]\n"
            "                       [TEXT | -i FILE | -]\n\n"
            "Split text into subword pieces (or ids), one output line per input line.\n"
            "TEXT is tokenized as given; -i FILE reads a file (.gz or plain); '-' (the default\n"
            "when no TEXT is given) reads standard input; a UTF-8 byte order mark at the start\n"
            "of a file or of standard input is skipped (--offsets still count its 3 bytes).\n\n"
            "options:\n"
            "  -m, --model TOK|MODEL|NAME  a tokenizer file, a model file (a classifier's,\n"
            "                        language model's or translator's tokenizer) or a shipped\n"
            "                        model's name (default: $NLPRNN_TOKENIZER, else ko; old\n"
            "                        spelling: --tokenizer)\n"
            "      --target          a translator's target-side tokenizer (default: its source\n"
            "                        side's)\n"
            "  -i, --input FILE      read FILE (old spelling: -f)\n"
            "      --ids             print ids instead of pieces\n"
            "      --offsets         append @BEGIN:END byte offsets (into the input line) to each\n"
            "                        token\n\n"
            "example: nlprnn tokenize -m ko '극장에서 봤어요'\n");
}

typedef struct tok_ctx {
    const nlprnn_tokenizer *tok;
    nlprnn_encoding *enc;
    int ids, offsets, target;
    const char *name;
} tok_ctx;

/* One input line, encoded part by part (nlprnn_tokenizer_encode_part), so a line of any
 * length needs only one part's ids at a time; the output is that of a whole-line encode.
 * --offsets are printed plus off_base: the bytes of the stored line before s (a skipped byte
 * order mark on line 1). */
static int tokenize_line(tok_ctx *c, const char *s, size_t n, long long lineno,
                         long long lineoff, size_t off_base, FILE *out) {
    nlprnn_error err;
    size_t pos = 0, printed = 0;
    do {
        int st = nlprnn_tokenizer_encode_part(c->tok, s, n, &pos, 0, c->enc, &err);
        if (st) {
            nlprnn_error e2 = err;
            if (st == NLPRNN_E_UTF8)
                snprintf(e2.message, sizeof e2.message, "%.200s:%lld: byte %lld: %.250s", c->name,
                         lineno, lineoff + err.offset,
                         strstr(err.message, "invalid UTF-8") ? strstr(err.message, "invalid UTF-8")
                                                              : err.message);
            if (printed) fputc('\n', out); /* end the partial line before the error */
            return cli_report("tokenize", st, &e2);
        }
        size_t m = nlprnn_encoding_size(c->enc);
        const int32_t *ids = nlprnn_encoding_ids(c->enc);
        const size_t *off = nlprnn_encoding_offsets(c->enc);
        for (size_t i = 0; i < m; i++, printed++) {
            if (printed) fputc(' ', out);
            if (c->ids) fprintf(out, "%d", (int)ids[i]);
            else fputs(nlprnn_tokenizer_piece(c->tok, ids[i]), out);
            if (c->offsets)
                fprintf(out, "@%zu:%zu", off_base + off[2 * i], off_base + off[2 * i + 1]);
        }
    } while (pos < n);
    fputc('\n', out);
    return 0;
}

/* The input: a file through zlib (.gz or plain), or standard input read as its bytes arrive
 * (gzread waits for a full buffer from a pipe, and tokenize answers each line before the next one
 * arrives: cli_input_waiting): plain bytes, or, when it starts with gzip's magic 1f 8b, a gzip
 * stream inflated here, member after member, the rest ignored after a last member that is not
 * followed by another (as gzread does). */
typedef struct tok_in {
    gzFile gz;  /* a file; NULL: standard input */
    int gzip;   /* standard input: -1 not known yet, 0 plain, 1 gzip */
    int eof;    /* no more bytes from the descriptor */
    int zerr;   /* standard input: Z_BUF_ERROR (ends early), Z_DATA_ERROR, Z_MEM_ERROR, Z_ERRNO */
    int zdone;  /* the last member ended and no other follows */
    int err;    /* errno of a failed read */
    int wrc;    /* the exit code of a failed write of the lines before */
    const char *cmd;
    z_stream z;
    unsigned char raw[1 << 16];
    size_t have; /* plain mode: raw bytes not yet given out (the first read, at most) */
} tok_in;

/* More raw bytes from standard input after the z.avail_in held: 0 at the end or on an error. */
static size_t tin_fill(tok_in *in) {
    if (in->eof) return 0;
    if (in->z.avail_in && in->z.next_in != in->raw) memmove(in->raw, in->z.next_in, in->z.avail_in);
    in->z.next_in = in->raw;
    /* the lines before are printed before the read waits for more */
    if (!cli_fd_waiting(STDIN_FILENO) && (in->wrc = cli_stdout_check(in->cmd))) {
        in->eof = 1;
        return 0;
    }
    ssize_t r;
    while ((r = read(STDIN_FILENO, in->raw + in->z.avail_in, sizeof in->raw - in->z.avail_in)) < 0 &&
           errno == EINTR) {
    }
    if (r < 0) in->zerr = Z_ERRNO, in->err = errno;
    if (r <= 0) {
        in->eof = 1;
        return 0;
    }
    in->z.avail_in += (unsigned)r;
    return (size_t)r;
}

/* Up to cap bytes of text into buf, as soon as some are there: > 0 bytes, 0 at the end, -1 on an
 * error (gzerror for a file, in->zerr for standard input). */
static int tin_read(tok_in *in, char *buf, size_t cap) {
    if (cap > (1u << 30)) cap = 1u << 30;
    if (in->gz) return gzread(in->gz, buf, (unsigned)cap);
    if (in->gzip < 0) { /* gzip or not: the first two bytes say */
        while (in->z.avail_in < 2 && (in->z.avail_in == 0 || in->raw[0] == 0x1f) && tin_fill(in)) {
        }
        in->gzip = in->z.avail_in >= 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b;
        if (in->gzip && inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK) {
            in->zerr = Z_MEM_ERROR;
            return -1;
        }
    }
    if (!in->gzip) {
        if (!in->z.avail_in && !tin_fill(in)) return in->zerr ? -1 : 0;
        size_t n = in->z.avail_in < cap ? in->z.avail_in : cap;
        memcpy(buf, in->z.next_in, n);
        in->z.next_in += n;
        in->z.avail_in -= (unsigned)n;
        return (int)n;
    }
    while (!in->zerr && !in->zdone && !in->wrc) {
        in->z.next_out = (unsigned char *)buf;
        in->z.avail_out = (unsigned)cap;
        int zr = inflate(&in->z, Z_NO_FLUSH); /* Z_BUF_ERROR: no input to go on with */
        size_t got = cap - in->z.avail_out;
        if (zr == Z_STREAM_END) { /* another member follows, or the end */
            while (in->z.avail_in < 2 && tin_fill(in)) {
            }
            if (in->z.avail_in >= 2 && in->z.next_in[0] == 0x1f && in->z.next_in[1] == 0x8b)
                inflateReset(&in->z);
            else
                in->zdone = 1;
        } else if (zr == Z_DATA_ERROR || zr == Z_MEM_ERROR || zr == Z_NEED_DICT) {
            in->zerr = zr == Z_MEM_ERROR ? Z_MEM_ERROR : Z_DATA_ERROR;
        } else if (!got && !in->z.avail_in && !tin_fill(in) && !in->wrc) {
            in->zerr = in->zerr ? in->zerr : Z_BUF_ERROR; /* the stream ends inside a member */
        }
        if (got) return (int)got;
    }
    return in->zerr ? -1 : 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *cmd = "tokenize";
    const char *tok_path = getenv("NLPRNN_TOKENIZER");
    const char *file = NULL, *text = NULL;
    tok_ctx tc = {0};
    enum { IDS = CLI_LONG, OFFSETS, TARGET };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, "--tokenizer"},
                                      {"input", 'i', CLI_ARG, "-f"},
                                      {"ids", IDS, CLI_NO_ARG, NULL},
                                      {"offsets", OFFSETS, CLI_NO_ARG, NULL},
                                      {"target", TARGET, CLI_NO_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    cli_args a;
    int c;
    cli_args_init(&a, cmd, argc, argv, options, NULL);
    while ((c = cli_args_next(&a)) > CLI_END) {
        switch (c) {
        case CLI_HELP: tokenize_usage(stdout); return CLI_OK;
        case 'm': tok_path = a.value; break;
        case 'i': file = a.value; break;
        case IDS: tc.ids = 1; break;
        case OFFSETS: tc.offsets = 1; break;
        case TARGET: tc.target = 1; break;
        case CLI_POSITIONAL:
            if (!strcmp(a.value, "-")) file = "-";
            else if (text) cli_args_fail(&a, "give one TEXT (quote it)");
            else text = a.value;
            break;
        }
    }
    if (c == CLI_ERROR) return a.rc;
    if (text && file) return cli_usage_error(cmd, "give TEXT or -i FILE, not both");
    if (!tok_path || !*tok_path) tok_path = "ko";
    cli_tokenizer ct;
    int st = cli_tokenizer_load(cmd, tok_path, tc.target, &ct);
    if (st) return st;
    tc.tok = ct.tok;
    nlprnn_encoding_create(&tc.enc, NULL);
    if (!tc.enc) {
        cli_tokenizer_free(&ct);
        return cli_report(cmd, NLPRNN_E_NOMEM, NULL);
    }
    int rc = CLI_OK;
    if (text) {
        tc.name = "TEXT";
        const char *s = text;
        long long no = 1;
        for (;;) {
            const char *nl = strchr(s, '\n');
            size_t n = nl ? (size_t)(nl - s) : strlen(s);
            if ((rc = tokenize_line(&tc, s, n, no, (long long)(s - text), 0, stdout))) break;
            if (ferror(stdout) && (rc = cli_stdout_check(cmd))) break;
            no++;
            if (!nl) break;
            s = nl + 1;
        }
    } else {
        if (!file) file = "-";
        tc.name = strcmp(file, "-") ? file : "<stdin>";
        tok_in *in = calloc(1, sizeof *in);
        if (in) in->gzip = -1, in->cmd = cmd;
        gzFile gz = !in || !strcmp(file, "-") ? NULL : gzopen(file, "rb");
        if (in) in->gz = gz;
        if (!in) {
            rc = cli_report(cmd, NLPRNN_E_NOMEM, NULL);
        } else if (!gz && strcmp(file, "-")) {
            fprintf(stderr, "nlprnn %s: %s: cannot open\n", cmd, tc.name);
            rc = CLI_EXIT_IO;
        } else {
            /* lines of any length, NUL bytes included (the tokenizer rejects them) */
            size_t cap = 1 << 16, len = 0, pos = 0;
            char *buf = malloc(cap);
            long long no = 1, fileoff = 0;
            int eof = 0, bom_checked = 0;
            size_t bom = 0;
            while (buf && !rc) {
                /* a byte order mark or not: 3 bytes, the end, or fewer that do not begin one */
                if (!bom_checked && (len >= 3 || eof || memcmp(buf, "\xEF\xBB\xBF", len))) {
                    /* a UTF-8 byte order mark at the start of the input is not text */
                    bom = cli_bom_length(buf, len);
                    pos = bom;
                    fileoff = (long long)bom;
                    bom_checked = 1;
                }
                char *nl = bom_checked ? memchr(buf + pos, '\n', len - pos) : NULL;
                if (!nl && !eof) { /* need more input: compact, grow, read */
                    memmove(buf, buf + pos, len - pos);
                    len -= pos;
                    pos = 0;
                    if (cap - len < (1 << 15)) {
                        char *t = realloc(buf, cap * 2);
                        if (!t) {
                            free(buf);
                            buf = NULL;
                            break;
                        }
                        buf = t;
                        cap *= 2;
                    }
                    int r = tin_read(in, buf + len, cap - len);
                    if ((rc = in->wrc)) break;
                    if (r <= 0) eof = 1;
                    else len += (size_t)r;
                    continue;
                }
                if (!nl && pos == len) break; /* end of input */
                size_t end = nl ? (size_t)(nl - buf) : len, n = end - pos;
                size_t raw = n + (nl ? 1 : 0);
                if (n && buf[pos + n - 1] == '\r') n--;
                rc = tokenize_line(&tc, buf + pos, n, no, fileoff, no == 1 ? bom : 0, stdout);
                no++;
                if (!rc && ferror(stdout)) rc = cli_stdout_check(cmd); /* e.g. a full disk */
                fileoff += (long long)raw;
                pos = end + (nl ? 1 : 0);
            }
            if (!buf) rc = cli_report(cmd, NLPRNN_E_NOMEM, NULL);
            free(buf);
            int ge = in->zerr;
            const char *gm = gz ? gzerror(gz, &ge)
                             : ge == Z_ERRNO ? strerror(in->err ? in->err : EIO) : ge == Z_MEM_ERROR ? "out of memory" : "";
            if (!rc && (ge == Z_BUF_ERROR || ge == Z_DATA_ERROR)) {
                /* a damaged .gz is bad input data, like a damaged corpus elsewhere */
                fprintf(stderr, "nlprnn %s: %s:%lld: byte %lld: %s (NLPRNN_E_DATA)\n", cmd, tc.name,
                        no, fileoff,
                        ge == Z_BUF_ERROR ? "the gzip stream ends early (truncated file)"
                                          : "corrupt gzip stream");
                rc = CLI_EXIT_DATA;
            } else if (!rc && ge < 0) {
                fprintf(stderr, "nlprnn %s: %s: read error: %s\n", cmd, tc.name, gm);
                rc = CLI_EXIT_IO;
            }
            if (gz) gzclose(gz);
            else if (in->gzip == 1) inflateEnd(&in->z);
        }
        free(in);
    }
    if (!rc) rc = cli_stdout_check(cmd);
    nlprnn_encoding_free(tc.enc);
    cli_tokenizer_free(&ct);
    return rc;
}
