/* cli/cmd_train.c: `nlprnn train [OPTIONS] TRAIN_FILE -o MODEL` — train a text classifier.
 *
 * Every training parameter of nlprnn_classifier_params is an option (--hidden 64 ...), listed by
 * --help from the library's table (nlprnn_classifier_param_info). Progress goes to
 * stderr: a one-line bar redrawn in place on a terminal, plain lines every few seconds otherwise.
 * SIGINT/SIGTERM set a flag the library polls: it saves a checkpoint after the current batch and
 * the program exits 130; `--resume` continues from it. (The handler is installed here, in the
 * program; the library never installs one.) A second Ctrl-C kills at once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The classifier's parameters that have options of their own (the rest are --NAME VALUE). */
static const char *const CLF_OWN[] = {"vocab", "--vocab-size", "threads", "-t, --threads", "valid", "--valid-split", NULL};

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: nlprnn train [OPTIONS] TRAIN_FILE -o MODEL\n"
            "\n"
            "Train a text classifier on a labelled corpus (TSV/CSV with a header, or fastText\n"
            "__label__ lines; .gz is fine) and save it to MODEL (written atomically).\n"
            "\n"
            "  -o, --output MODEL       the model file to write (required)\n"
            "  -i, --input FILE         the training file (or give it as TRAIN_FILE)\n"
            "      --valid FILE         a labelled validation file (default: hold out --valid-split)\n"
            "      --resume             continue from the checkpoint (MODEL.ckpt or --checkpoint)\n"
            "  -q, --quiet              no progress output\n"
            "\n"
            "parameters (--NAME VALUE or --NAME=VALUE; default, range; old spelling of --vocab-size:\n"
            "--vocab):\n");
    cli_param_usage(fp, nlprnn_classifier_param_info, CLF_OWN);
    fprintf(fp,
            "\n"
            "Ctrl-C saves a checkpoint and exits 130; --resume with the same options then gives\n"
            "the same model as an uninterrupted run.\n"
            "\n"
            "Data-parallel training: mpirun -np N nlprnn train --tokenizer FILE ... runs N ranks;\n"
            "each keeps 1/N of the corpus, --batch is per rank (global batch N x batch), gradients\n"
            "are averaged with MPI_Allreduce, rank 0 alone prints and writes the model and\n"
            "checkpoints. --resume works with another N. See docs/scaling.md.\n");
}

static int on_progress(void *user, const nlprnn_classifier_progress *p) {
    cli_progress *pr = user;
    if (p->phase == 0 && p->message && !strncmp(p->message, "warning:", 8)) {
        cli_progress_warn(pr, "nlprnn train: %s", p->message);
        return 0;
    }
    char el[32], eta[32];
    cli_fmt_time(el, sizeof el, p->elapsed);
    cli_fmt_time(eta, sizeof eta, p->eta);
    if (p->phase == 0) {
        if (pr->tty) cli_progress_status(pr, "%s ...", p->message);
        else cli_progress_line(pr, "%s", p->message);
    } else if (p->phase == 2) {
        cli_progress_line(pr, "epoch %d/%d: loss %.4f acc %.4f | valid loss %.4f acc %.4f%s | %s elapsed",
                          p->epoch, p->epochs, p->loss, p->accuracy, p->valid_loss,
                          p->valid_accuracy, p->improved ? " (best)" : "", el);
    } else if (cli_progress_due(pr, p->batch == p->batches && pr->tty)) {
        if (pr->tty) {
            char bar[32];
            cli_fmt_bar(bar, p->batch, p->batches);
            cli_progress_status(pr, "epoch %d/%d [%s] %lld/%lld loss %.4f acc %.4f %.0f tok/s ETA %s",
                                p->epoch, p->epochs, bar, p->batch, p->batches, p->loss,
                                p->accuracy, p->tokens_per_sec, eta);
        } else {
            cli_progress_status(pr, "epoch %d/%d batch %lld/%lld loss %.4f acc %.4f %.0f tok/s ETA %s elapsed %s",
                                p->epoch, p->epochs, p->batch, p->batches, p->loss, p->accuracy,
                                p->tokens_per_sec, eta, el);
        }
    }
    return 0;
}

int cmd_train(int argc, char **argv) {
    const char *out = NULL, *train = NULL, *valid = NULL;
    int resume = 0, quiet = 0;
    nlprnn_error err;
    nlprnn_classifier_params *p = NULL;
    int prc = nlprnn_classifier_params_create(&p, &err);
    if (prc) return cli_report("train", prc, &err);
    enum { VALID = CLI_LONG, VALID_SPLIT, RESUME, VOCAB };
    static const cli_opt options[] = {{"output", 'o', CLI_ARG, NULL},
                                      {"input", 'i', CLI_ARG, NULL},
                                      {"valid", VALID, CLI_ARG, NULL},
                                      {"valid-split", VALID_SPLIT, CLI_ARG, NULL},
                                      {"resume", RESUME, CLI_NO_ARG, NULL},
                                      {"quiet", 'q', CLI_NO_ARG, NULL},
                                      {"vocab-size", VOCAB, CLI_ARG, "--vocab"},
                                      {"threads", 't', CLI_ARG, NULL},
                                      {NULL, 0, 0, NULL}};
    const char *param_names[64];
    cli_param_names(nlprnn_classifier_param_info, CLF_OWN, param_names, sizeof param_names / sizeof *param_names);
    cli_args a;
    int c;
    cli_args_init(&a, "train", argc, argv, options, param_names);
    while ((c = cli_args_next(&a)) > CLI_END) {
        const char *name = NULL; /* a training parameter to set */
        switch (c) {
        case CLI_HELP:
            usage(stdout);
            nlprnn_classifier_params_free(p);
            return CLI_OK;
        case 'o': out = a.value; break;
        case VALID: valid = a.value; break;
        case VALID_SPLIT:
            if (nlprnn_classifier_params_set(p, "valid", a.value, &err))
                cli_args_fail(&a, "bad value '%s' for --valid-split: a fraction in 0..0.9", a.value);
            break;
        case RESUME: resume = 1; break;
        case 'q': quiet = 1; break;
        case VOCAB: name = "vocab"; break;
        case 't': name = "threads"; break;
        case 'i':
        case CLI_POSITIONAL:
            if (train) cli_args_fail(&a, "one training file only ('%s' and '%s')", train, a.value);
            train = a.value;
            break;
        default: name = param_names[c - CLI_PARAM]; break;
        }
        if (name && nlprnn_classifier_params_set(p, name, a.value, &err)) cli_args_fail(&a, "%s", err.message);
    }
    if (c == CLI_ERROR) {
        nlprnn_classifier_params_free(p);
        return a.rc;
    }
    if (!train || !out) {
        nlprnn_classifier_params_free(p);
        return cli_usage_error("train", "needs TRAIN_FILE and -o MODEL");
    }
    const volatile int *stop = cli_catch_stop_signals();
    char name[64];
    nlprnn_comm *comm = NULL;
    int ec = cli_dist_begin("train", name, sizeof name, &comm);
    if (ec) {
        nlprnn_classifier_params_free(p);
        return ec;
    }
    cli_progress pr;
    cli_progress_init(&pr, "train: ", 10.0, quiet || nlprnn_comm_rank(comm) != 0); /* rank 0 alone shows progress */
    double t0 = cli_now();
    nlprnn_train_ctl *ctl = NULL;
    int rc = nlprnn_train_ctl_create(&ctl, &err);
    if (!rc) {
        nlprnn_train_ctl_set_stop(ctl, stop);
        nlprnn_train_ctl_set_resume(ctl, resume);
        nlprnn_train_ctl_set_comm(ctl, comm);
        rc = nlprnn_classifier_train_ctl(p, train, valid, out, ctl, on_progress, &pr, &err);
    }
    nlprnn_train_ctl_free(ctl);
    nlprnn_classifier_params_free(p);
    cli_progress_end(&pr);
    if (!rc && !pr.quiet) fprintf(stderr, "train: saved %s (%.1f s)\n", out, cli_now() - t0);
    return cli_dist_end(name, comm, rc, &err);
}
