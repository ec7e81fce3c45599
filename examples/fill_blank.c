/* examples/fill_blank.c: fill the blank of a sentence with a recurrent language model.
 *
 *   fill_blank [-m MODEL] [-k K] "SENTENCE WITH ___" [CANDIDATE ...]
 *   fill_blank [-m MODEL] [-k K] < sentences.txt
 *
 * MODEL is a language-model file or a shipped model's name (default "ko"). The blank is "___"
 * (any run of two or more underscores) or "[MASK]". With CANDIDATEs the program ranks exactly
 * those words; without, the model proposes words itself (forward model for the left context,
 * backward model for the right one). Output: one "ANSWER<TAB>PROBABILITY" line per answer, best
 * first; reading standard input, a blank line separates the answers of successive sentences.
 * Uses only the installed public header. */
#include <nlprnn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fill(nlprnn_lm_ctx *ctx, const char *text, size_t len, const char *const *cand,
                size_t ncand, int k) {
    nlprnn_lm_choice *answers = NULL;
    size_t n = 0;
    nlprnn_error err;
    int rc = nlprnn_lm_fill(ctx, text, len, cand, ncand, k, &answers, &n, &err);
    if (rc != NLPRNN_OK) {
        fprintf(stderr, "fill_blank: %s (%s)\n", err.message, nlprnn_status_name(rc));
        return rc;
    }
    for (size_t i = 0; i < n; i++) printf("%s\t%.4f\n", answers[i].text, answers[i].prob);
    nlprnn_lm_choices_free(answers, n);
    return NLPRNN_OK;
}

int main(int argc, char **argv) {
    const char *model_name = "ko";
    int k = 5, i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc) {
            model_name = argv[++i];
        } else if (!strcmp(argv[i], "-k") && i + 1 < argc) {
            k = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s [-m MODEL] [-k K] [\"SENTENCE WITH ___\" [CANDIDATE ...]]\n",
                   argv[0]);
            return 0;
        } else {
            fprintf(stderr, "fill_blank: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (k < 1 || k > 1000) {
        fprintf(stderr, "fill_blank: -k takes 1..1000\n");
        return 2;
    }

    nlprnn_error err;
    nlprnn_lm *lm = NULL;
    int rc = nlprnn_lm_load(model_name, &lm, &err);
    if (rc != NLPRNN_OK) {
        fprintf(stderr, "fill_blank: %s (%s)\n", err.message, nlprnn_status_name(rc));
        return 1;
    }
    nlprnn_lm_ctx *ctx = NULL;
    if (nlprnn_lm_ctx_create(lm, &ctx, &err) != NLPRNN_OK) { /* this thread's scratch */
        fprintf(stderr, "fill_blank: %s\n", err.message);
        nlprnn_lm_free(lm);
        return 1;
    }

    int failed = 0;
    if (i < argc) { /* one sentence from the command line, candidates after it */
        const char *text = argv[i];
        failed = fill(ctx, text, strlen(text), (const char *const *)argv + i + 1,
                      (size_t)(argc - i - 1), k) != NLPRNN_OK;
    } else { /* one sentence a line */
        char *line = NULL;
        size_t cap = 0;
        ssize_t got;
        int first = 1;
        while ((got = getline(&line, &cap, stdin)) >= 0) {
            size_t len = (size_t)got;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
            if (len == 0) continue;
            if (!first) putchar('\n');
            first = 0;
            if (fill(ctx, line, len, NULL, 0, k) != NLPRNN_OK) failed = 1;
        }
        free(line);
    }
    nlprnn_lm_ctx_free(ctx);
    nlprnn_lm_free(lm);
    return failed ? 3 : 0;
}
