/* examples/translate.c: translate Korean sentences into English with the shipped translator.
 *
 *   translate [-m MODEL] [FILE]          (no FILE, or "-": standard input)
 *
 * MODEL is a translator file or a shipped model's name (default "ko-en"). Each input line is one
 * sentence; each output line is its translation, in input order, with the options the model file
 * stores (greedy search: the same output as `nlprnn translate -i FILE`). A line that cannot be
 * translated (invalid UTF-8, too long) gives an empty output line and a message on standard error
 * naming the file, the line and the byte, and the program goes on.
 *
 * Exit status: 0 every line translated; 1 a line failed or the model could not be loaded;
 * 2 a usage error or a file that cannot be opened.
 *
 * It shows the translator's two objects: the loaded nlprnn_translator (immutable, shareable) and
 * the per-thread nlprnn_translator_ctx holding the search options and the last result.
 * Uses only the installed public header. */
#include <nlprnn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *model_name = "ko-en", *path = "-";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc) {
            model_name = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s [-m MODEL] [FILE]\n", argv[0]);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "translate: unknown option %s\n", argv[i]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    const char *name = in == stdin ? "<stdin>" : path;
    if (!in) {
        perror(path);
        return 2;
    }

    nlprnn_error err;
    nlprnn_translator *model = NULL;
    int rc = nlprnn_translator_load(model_name, &model, &err);
    if (rc != NLPRNN_OK) {
        fprintf(stderr, "translate: %s (%s)\n", err.message, nlprnn_status_name(rc));
        if (in != stdin) fclose(in);
        return 1;
    }
    nlprnn_translator_ctx *ctx = NULL; /* one per thread; this program has one */
    rc = nlprnn_translator_ctx_create(model, &ctx, &err);
    if (rc != NLPRNN_OK) {
        fprintf(stderr, "translate: %s (%s)\n", err.message, nlprnn_status_name(rc));
        nlprnn_translator_free(model);
        if (in != stdin) fclose(in);
        return 1;
    }

    int failed = 0;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)got;
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        char *text = line;
        if (lineno == 1 && len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) { /* a byte order mark */
            text += 3;
            len -= 3;
        }
        rc = nlprnn_translate(ctx, text, len, &err);
        if (rc != NLPRNN_OK) {
            /* err.offset is the byte in the text (-1 when it has none); count it in the line. */
            long long byte = err.offset >= 0 ? err.offset + (text - line) : -1;
            if (byte >= 0)
                fprintf(stderr, "translate: %s:%zu: byte %lld: %s (%s)\n", name, lineno, byte,
                        nlprnn_status_text(rc), nlprnn_status_name(rc));
            else
                fprintf(stderr, "translate: %s:%zu: %s (%s)\n", name, lineno, err.message,
                        nlprnn_status_name(rc));
            putchar('\n');
            failed = 1;
            continue;
        }
        puts(nlprnn_translate_text(ctx, NULL));
    }
    if (ferror(in)) {
        perror(path);
        failed = 1;
    }
    free(line);
    if (in != stdin) fclose(in);
    nlprnn_translator_ctx_free(ctx);
    nlprnn_translator_free(model);
    return failed;
}
