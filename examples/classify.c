/* examples/classify.c: classify lines from standard input with a shipped or trained model.
 *
 *   classify [-t THREADS] [MODEL] < reviews.txt
 *
 * MODEL is a model file or a shipped model's name ("ko", "en"; default "ko"). Each input line is
 * one document; each output line is "LABEL<TAB>PROBABILITY<TAB>TEXT" in input order. A line that
 * cannot be classified (empty, invalid UTF-8) gives "-<TAB>STATUS_NAME<TAB>TEXT" and a message on
 * standard error naming its line, and the program goes on.
 *
 * It shows the thread rule of libnlprnn: ONE model is loaded and shared read-only by every
 * thread; each thread creates its OWN nlprnn_classifier_ctx (scratch) and classifies its share of the
 * lines with nlprnn_classify_batch. Uses only the installed public header. */
#include <nlprnn.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const nlprnn_classifier *model; /* shared, read-only */
    char **lines;
    size_t *lens;
    size_t first, count; /* this thread's lines */
    float *probs;        /* (n, C) for all lines; each thread writes its own rows */
    int *status;         /* (n) */
    int rc;              /* the call's status */
    nlprnn_error err;
} job;

static void *run(void *arg) {
    job *j = arg;
    nlprnn_classifier_ctx *ctx = NULL; /* this thread's scratch */
    nlprnn_classifier_ctx_create(j->model, 1, &ctx, NULL);
    if (!ctx) {
        j->rc = NLPRNN_E_NOMEM;
        return NULL;
    }
    int c = nlprnn_classifier_num_classes(j->model);
    const size_t batch = 64;
    for (size_t i = j->first; i < j->first + j->count && j->rc == 0; i += batch) {
        size_t n = j->first + j->count - i < batch ? j->first + j->count - i : batch;
        j->rc = nlprnn_classify_batch(ctx, (const char *const *)j->lines + i, j->lens + i, n,
                                      j->probs + i * (size_t)c, j->status + i, &j->err);
    }
    nlprnn_classifier_ctx_free(ctx);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = 1;
    const char *model_name = "ko";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s [-t THREADS] [MODEL] < lines\n", argv[0]);
            return 0;
        } else {
            model_name = argv[i];
        }
    }
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "classify: -t takes 1..64\n");
        return 2;
    }

    nlprnn_error err;
    nlprnn_classifier *model = NULL;
    int rc = nlprnn_classifier_load(model_name, &model, &err);
    if (rc != NLPRNN_OK) {
        fprintf(stderr, "classify: %s (%s)\n", err.message, nlprnn_status_name(rc));
        return 1;
    }

    /* Read every line (without its newline). */
    size_t n = 0, cap = 0;
    char **lines = NULL;
    size_t *lens = NULL;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t got;
    while ((got = getline(&line, &line_cap, stdin)) >= 0) {
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            char **nl = realloc(lines, cap * sizeof *nl);
            size_t *ns = realloc(lens, cap * sizeof *ns);
            if (nl) lines = nl;
            if (ns) lens = ns;
            if (!nl || !ns) {
                fprintf(stderr, "classify: out of memory\n");
                return 1;
            }
        }
        lines[n] = malloc(len + 1);
        if (!lines[n]) {
            fprintf(stderr, "classify: out of memory\n");
            return 1;
        }
        memcpy(lines[n], line, len);
        lines[n][len] = '\0';
        lens[n++] = len;
    }
    free(line);

    int c = nlprnn_classifier_num_classes(model);
    float *probs = calloc(n * (size_t)c + 1, sizeof *probs);
    int *status = calloc(n + 1, sizeof *status);
    job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    if (!probs || !status || !jobs || !tid) {
        fprintf(stderr, "classify: out of memory\n");
        return 1;
    }
    size_t per = (n + (size_t)threads - 1) / (size_t)threads;
    for (int t = 0; t < threads; t++) {
        size_t first = (size_t)t * per < n ? (size_t)t * per : n;
        size_t count = first + per <= n ? per : n - first;
        jobs[t] = (job){model, lines, lens, first, count, probs, status, 0, {0}};
        if (pthread_create(&tid[t], NULL, run, &jobs[t]) != 0) {
            fprintf(stderr, "classify: cannot start thread %d\n", t);
            return 1;
        }
    }
    int failed = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        if (jobs[t].rc != NLPRNN_OK) {
            fprintf(stderr, "classify: %s (%s)\n",
                    jobs[t].err.message[0] ? jobs[t].err.message : nlprnn_status_text(jobs[t].rc),
                    nlprnn_status_name(jobs[t].rc));
            failed = 1;
        }
    }

    for (size_t i = 0; i < n && !failed; i++) {
        if (status[i] != NLPRNN_OK) {
            fprintf(stderr, "classify: line %zu: %s\n", i + 1, nlprnn_status_text(status[i]));
            printf("-\t%s\t%s\n", nlprnn_status_name(status[i]), lines[i]);
            continue;
        }
        int best = 0;
        for (int k = 1; k < c; k++)
            if (probs[i * (size_t)c + k] > probs[i * (size_t)c + best]) best = k;
        printf("%s\t%.4f\t%s\n", nlprnn_classifier_label(model, best), probs[i * (size_t)c + best],
               lines[i]);
    }

    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(lines);
    free(lens);
    free(probs);
    free(status);
    free(jobs);
    free(tid);
    nlprnn_classifier_free(model);
    return failed;
}
