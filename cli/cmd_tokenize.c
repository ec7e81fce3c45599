/* cli/cmd_tokenize.c: `nlprnn tokenize`: text, file or stdin -> pieces or ids, one output line
 * per input line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"

int cmd_tokenize(int argc, char **argv);

static void tokenize_usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn tokenize [-m TOK|MODEL|NAME] [--ids] [--offsets] [TEXT | -i FILE | -]\n\n"
            "Split text into subword pieces (or ids), one output line per input line.\n"
            "TEXT is tokenized as given; -i FILE reads a file (.gz or plain); '-' (the default\n"
            "when no TEXT is given) reads standard input; a UTF-8 byte order mark at the start\n"
            "of a file or of standard input is skipped (--offsets still count its 3 bytes).\n\n"
            "options:\n"
            "  -m, --model TOK|MODEL|NAME  a tokenizer file, a model file (its tokenizer) or a\n"
            "                        shipped model's name (default: $NLPRNN_TOKENIZER, else ko;\n"
            "                        old spelling: --tokenizer)\n"
            "  -i, --input FILE      read FILE (old spelling: -f)\n"
            "      --ids             print ids instead of pieces\n"
            "      --offsets         append @BEGIN:END byte offsets (into the input line) to each\n"
            "                        token\n\n"
            "example: nlprnn tokenize -m ko '극장에서 봤어요'\n");
}

typedef struct tok_ctx {
    const nlprnn_tokenizer *tok;
    nlprnn_encoding *enc;
    int ids, offsets;
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

int cmd_tokenize(int argc, char **argv) {
    const char *cmd = "tokenize";
    const char *tok_path = getenv("NLPRNN_TOKENIZER");
    const char *file = NULL, *text = NULL;
    tok_ctx tc = {0};
    enum { IDS = CLI_LONG, OFFSETS };
    static const cli_opt options[] = {{"model", 'm', CLI_ARG, "--tokenizer"},
                                      {"input", 'i', CLI_ARG, "-f"},
                                      {"ids", IDS, CLI_NO_ARG, NULL},
                                      {"offsets", OFFSETS, CLI_NO_ARG, NULL},
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
    int st = cli_tokenizer_load(cmd, tok_path, &ct);
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
        tc.name = strcmp(file, "-") ? file : "stdin";
        gzFile gz = strcmp(file, "-") ? gzopen(file, "rb") : gzdopen(dup(STDIN_FILENO), "rb");
        if (!gz) {
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
                if (!bom_checked && (len >= 3 || eof)) {
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
                    int r = gzread(gz, buf + len, (unsigned)(cap - len > (1u << 30) ? (1u << 30) : cap - len));
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
            int ge = 0;
            const char *gm = gzerror(gz, &ge);
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
            gzclose(gz);
        }
    }
    if (!rc) rc = cli_stdout_check(cmd);
    nlprnn_encoding_free(tc.enc);
    cli_tokenizer_free(&ct);
    return rc;
}
