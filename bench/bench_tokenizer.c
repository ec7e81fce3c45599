/* bench/bench_tokenizer.c: tokenizer throughput through the library, one thread.
 *
 *   bench_tokenizer encode TOK FILE [REPEAT [DROPOUT]]
 *                                              encode every line of FILE (.gz or plain),
 *                                              REPEAT times (default 3); best pass reported;
 *                                              DROPOUT > 0: sampled by BPE dropout
 *                                              (nlprnn_tokenizer_encode_sample, line i of pass r
 *                                              seeded r * 2^32 + i; no cache)
 *   bench_tokenizer train FILE VOCAB [THREADS] train BPE with VOCAB ids on FILE
 *
 * Prints one line of key=value pairs: wall and CPU seconds, MB/s of input text, lines, ids.
 * bench/run_tokenizer.sh runs this beside SentencePiece. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "nlprnn.h"

static double now(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *read_all(const char *path, size_t *n) {
    gzFile gz = gzopen(path, "rb");
    if (!gz) return NULL;
    size_t cap = 1 << 24, len = 0;
    char *buf = malloc(cap);
    int r;
    while (buf && (r = gzread(gz, buf + len, (unsigned)(cap - len))) > 0) {
        len += (size_t)r;
        if (len == cap) {
            char *t = realloc(buf, cap *= 2);
            if (!t) {
                free(buf);
                buf = NULL;
            }
            buf = t;
        }
    }
    gzclose(gz);
    *n = len;
    return buf;
}

static int bench_encode(const char *tokpath, const char *path, int repeat, double dropout) {
    nlprnn_error err;
    nlprnn_tokenizer *tok;
    if (nlprnn_tokenizer_load(tokpath, &tok, &err)) {
        fprintf(stderr, "bench_tokenizer: %s\n", err.message);
        return 1;
    }
    size_t n;
    char *text = read_all(path, &n);
    if (!text) {
        fprintf(stderr, "bench_tokenizer: cannot read %s\n", path);
        return 1;
    }
    nlprnn_encoding *enc = NULL;
    nlprnn_encoding_create(&enc, NULL);
    double best_wall = 1e30, best_cpu = 1e30;
    size_t lines = 0, ids = 0;
    unsigned long long checksum = 0;
    for (int r = 0; r < repeat; r++) {
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        lines = ids = 0;
        checksum = 0;
        size_t b = 0;
        while (b < n) {
            const char *nl = memchr(text + b, '\n', n - b);
            size_t e = nl ? (size_t)(nl - text) : n;
            int rc = dropout > 0 ? nlprnn_tokenizer_encode_sample(tok, text + b, e - b, 0, dropout,
                                                                  ((uint64_t)r << 32) + lines, enc, &err)
                                 : nlprnn_tokenizer_encode(tok, text + b, e - b, enc, &err);
            if (rc) {
                fprintf(stderr, "bench_tokenizer: line %zu: %s\n", lines + 1, err.message);
                return 1;
            }
            size_t m = nlprnn_encoding_size(enc);
            const int32_t *v = nlprnn_encoding_ids(enc);
            for (size_t i = 0; i < m; i++) checksum = checksum * 31 + (unsigned)v[i];
            ids += m;
            lines++;
            b = e + 1;
        }
        double w = now(CLOCK_MONOTONIC) - w0, c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (w < best_wall) best_wall = w;
        if (c < best_cpu) best_cpu = c;
    }
    printf("encode file=%s dropout=%g bytes=%zu lines=%zu ids=%zu wall_s=%.3f cpu_s=%.3f "
           "MB_per_s_wall=%.2f MB_per_s_cpu=%.2f checksum=%llx\n",
           path, dropout, n, lines, ids, best_wall, best_cpu, (double)n / 1e6 / best_wall,
           (double)n / 1e6 / best_cpu, checksum);
    nlprnn_encoding_free(enc);
    free(text);
    nlprnn_tokenizer_free(tok);
    return 0;
}

static int bench_train(const char *path, long vocab, long threads) {
    nlprnn_error err;
    nlprnn_tokenizer_params *o = NULL;
    nlprnn_tokenizer_params_create(&o, NULL);
    char v[32], t[32];
    snprintf(v, sizeof v, "%ld", vocab);
    snprintf(t, sizeof t, "%ld", threads);
    if (nlprnn_tokenizer_params_set(o, "vocab-size", v, &err) ||
        nlprnn_tokenizer_params_set(o, "threads", t, &err)) {
        fprintf(stderr, "bench_tokenizer: %s\n", err.message);
        return 1;
    }
    nlprnn_tokenizer *tok;
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    const char *paths[1] = {path};
    if (nlprnn_tokenizer_train_files(o, paths, 1, &tok, &err)) {
        fprintf(stderr, "bench_tokenizer: %s\n", err.message);
        return 1;
    }
    double w = now(CLOCK_MONOTONIC) - w0, c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("train file=%s vocab=%d threads=%ld wall_s=%.3f cpu_s=%.3f\n", path,
           (int)nlprnn_tokenizer_vocab_size(tok), threads, w, c);
    nlprnn_tokenizer_free(tok);
    nlprnn_tokenizer_params_free(o);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "encode"))
        return bench_encode(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 3, argc > 5 ? atof(argv[5]) : 0.0);
    if (argc >= 4 && !strcmp(argv[1], "train"))
        return bench_train(argv[2], atol(argv[3]), argc > 4 ? atol(argv[4]) : 1);
    fprintf(stderr,
            "usage: bench_tokenizer encode TOK FILE [REPEAT [DROPOUT]]\n"
            "       bench_tokenizer train FILE VOCAB [THREADS]\n");
    return 2;
}
