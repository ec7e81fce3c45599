/* cli/cmd_train.c: `nlprnn train [OPTIONS] TRAIN_FILE -o MODEL` — train a text classifier.
 *
 * Every training parameter of nlprnn_train_params is an option (--hidden 64 ...). Progress goes to
 * stderr: a one-line bar redrawn in place on a terminal, plain lines every few seconds otherwise.
 * SIGINT/SIGTERM set a flag the library polls: it saves a checkpoint after the current batch and
 * the program exits 130; `--resume` continues from it. (The handler is installed here, in the
 * program; the library never installs one.) A second Ctrl-C kills at once.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char *const param_names[] = {
    "tokenizer", "vocab", "embed", "vectors", "init-from", "cell", "layers", "bidirectional",
    "hidden", "pool", "dropout", "optimizer", "lr", "lr-schedule", "clip", "weight-decay", "epochs",
    "batch", "seed", "threads", "valid", "patience", "max-tokens", "max-examples", "storage",
    "text-column", "label-column", "checkpoint", "checkpoint-every", "skip-bad", "dist-check-every",
    NULL};

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn train [OPTIONS] TRAIN_FILE -o MODEL\n"
            "\n"
            "Train a text classifier on a labelled corpus (TSV/CSV with a header, or fastText\n"
            "__label__ lines; .gz is fine) and save it to MODEL (written atomically).\n"
            "\n"
            "  -o, --output MODEL       the model file to write (required)\n"
            "      --valid FILE         a labelled validation file (default: hold out --valid-split)\n"
            "      --resume             continue from the checkpoint (MODEL.ckpt or --checkpoint)\n"
            "  -q, --quiet              no progress output\n"
            "\n"
            "model:\n"
            "      --tokenizer FILE     reuse a tokenizer file (default: train one on TRAIN_FILE)\n"
            "      --vocab N            vocabulary of a tokenizer trained here (16000)\n"
            "      --embed N            embedding size (128)     --vectors FILE  pretrained .vec\n"
            "      --init-from FILE     start from this model file's tokenizer, embedding, encoder\n"
            "      --cell rnn|lstm|gru  (lstm)   --layers N (1)   --bidirectional 0|1 (1)\n"
            "      --hidden N           (128)    --pool last|mean|max (max)   --dropout P (0.2)\n"
            "      --max-tokens N       documents are cut to N tokens (256)\n"
            "      --storage f32|f16|int8  weight storage in the model file (f16)\n"
            "training:\n"
            "      --optimizer sgd|adam|adamw (adam)   --lr X (0.002)\n"
            "      --lr-schedule constant|linear|cosine (linear)   --clip X (5; 0 = off)\n"
            "      --weight-decay X (0)  --epochs N (5)  --batch N (64)  --seed N (1)\n"
            "      --threads N (cores)   --valid-split F (0.05)  --patience N (2; 0 = never stop)\n"
            "      --max-examples N      use the first N training rows (0 = all)\n"
            "      --text-column NAME    --label-column NAME   --skip-bad 0|1 (0)\n"
            "      --checkpoint FILE     (MODEL.ckpt)   --checkpoint-every N batches (0 = per epoch)\n"
            "      --dist-check-every N  under mpirun: compare the ranks' weights every N steps\n"
            "                           (100; 0 = only at the end)\n"
            "\n"
            "Ctrl-C saves a checkpoint and exits 130; --resume with the same options then gives\n"
            "the same model as an uninterrupted run.\n"
            "\n"
            "Data-parallel training: mpirun -np N nlprnn train --tokenizer FILE ... runs N ranks;\n"
            "each keeps 1/N of the corpus, --batch is per rank (global batch N x batch), gradients\n"
            "are averaged with MPI_Allreduce, rank 0 alone prints and writes the model and\n"
            "checkpoints. --resume works with another N. See docs/scaling.md.\n");
}

static volatile int stop_flag; /* written by the signal handler (int is sig_atomic_t on Linux) */

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

typedef struct view {
    int tty, quiet;
    double last;
} view;

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_time(char *b, size_t n, double s) {
    if (!(s >= 0) || s > 1e7) {
        snprintf(b, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(b, n, "%02ld:%02ld", t / 60, t % 60);
}

static int on_progress(void *user, const nlprnn_train_progress *p) {
    view *v = user;
    if (p->phase == 0 && p->message && !strncmp(p->message, "warning:", 8)) {
        fprintf(stderr, "%snlprnn train: %s\n", v->tty && !v->quiet ? "\r\033[K" : "", p->message);
        return 0;
    }
    if (v->quiet) return 0;
    double now = mono();
    char el[32], eta[32];
    fmt_time(el, sizeof el, p->elapsed);
    fmt_time(eta, sizeof eta, p->eta);
    if (p->phase == 0) {
        if (v->tty) fprintf(stderr, "\r\033[K%s ...", p->message);
        else fprintf(stderr, "train: %s\n", p->message);
        return 0;
    }
    if (p->phase == 2) {
        fprintf(stderr,
                "%sepoch %d/%d: loss %.4f acc %.4f | valid loss %.4f acc %.4f%s | %s elapsed\n",
                v->tty ? "\r\033[K" : "train: ", p->epoch, p->epochs, p->loss, p->accuracy,
                p->valid_loss, p->valid_accuracy, p->improved ? " (best)" : "", el);
        return 0;
    }
    if (v->tty) {
        if (now - v->last < 0.2 && p->batch != p->batches) return 0;
        v->last = now;
        int w = 24, fill = p->batches ? (int)((double)w * (double)p->batch / (double)p->batches) : 0;
        char bar[32];
        for (int i = 0; i < w; i++) bar[i] = i < fill ? '#' : '.';
        bar[w] = 0;
        fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %lld/%lld loss %.4f acc %.4f %.0f tok/s ETA %s",
                p->epoch, p->epochs, bar, p->batch, p->batches, p->loss, p->accuracy,
                p->tokens_per_sec, eta);
    } else {
        if (now - v->last < 10.0) return 0;
        v->last = now;
        fprintf(stderr,
                "train: epoch %d/%d batch %lld/%lld loss %.4f acc %.4f %.0f tok/s ETA %s "
                "elapsed %s\n",
                p->epoch, p->epochs, p->batch, p->batches, p->loss, p->accuracy, p->tokens_per_sec,
                eta, el);
    }
    return 0;
}

int cmd_train(int argc, char **argv) {
    const char *out = NULL, *train = NULL, *valid = NULL;
    int resume = 0;
    view v = {isatty(2), 0, 0};
    nlprnn_error err;
    nlprnn_train_params *p = nlprnn_train_params_new();
    if (!p) return CLI_EXIT_LIMIT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            nlprnn_train_params_free(p);
            return CLI_OK;
        }
        if (!strcmp(a, "--resume")) {
            resume = 1;
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            v.quiet = 1;
            continue;
        }
        if (a[0] == '-' && a[1]) {
            const char *name = a[1] == '-' ? a + 2 : a + 1;
            if (i + 1 >= argc) {
                nlprnn_train_params_free(p);
                return cli_usage_error("train", "%s needs a value", a);
            }
            const char *val = argv[++i];
            if (!strcmp(a, "-o") || !strcmp(name, "output")) {
                out = val;
            } else if (!strcmp(name, "valid")) {
                valid = val;
            } else if (!strcmp(name, "valid-split")) {
                if (nlprnn_train_params_set(p, "valid", val, &err)) {
                    nlprnn_train_params_free(p);
                    return cli_usage_error("train", "bad value '%s' for --valid-split: a fraction in 0..0.9", val);
                }
            } else {
                int known = 0;
                for (int k = 0; param_names[k]; k++) known |= !strcmp(param_names[k], name);
                if (!known) {
                    nlprnn_train_params_free(p);
                    return cli_usage_error("train", "unknown option '%s'", a);
                }
                if (nlprnn_train_params_set(p, name, val, &err)) {
                    nlprnn_train_params_free(p);
                    return cli_usage_error("train", "%s", err.message);
                }
            }
            continue;
        }
        if (train) {
            nlprnn_train_params_free(p);
            return cli_usage_error("train", "one training file only ('%s' and '%s')", train, a);
        }
        train = a;
    }
    if (!train || !out) {
        nlprnn_train_params_free(p);
        return cli_usage_error("train", "needs TRAIN_FILE and -o MODEL");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second signal gets the default action */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char name[64];
    int ec = cli_dist_begin("train", name, sizeof name);
    if (ec) {
        nlprnn_train_params_free(p);
        return ec;
    }
    if (nlprnn_dist_rank() != 0) v.quiet = 1; /* rank 0 alone shows progress */
    double t0 = mono();
    int rc = nlprnn_classifier_train(p, train, valid, out, resume, &stop_flag, on_progress, &v, &err);
    nlprnn_train_params_free(p);
    if (v.tty && !v.quiet) fprintf(stderr, "\r\033[K");
    if (!rc && !v.quiet) fprintf(stderr, "train: saved %s (%.1f s)\n", out, mono() - t0);
    return cli_dist_end(name, rc, &err);
}
