/* tests/test_mpi_train.c: data-parallel training over MPI, end to end through the program.
 *
 *   1 process, batch 16 == 2 ranks x batch 8 == 4 ranks x batch 4 == 2 ranks x batch 8 x 2 threads,
 *   and 1 x 15 == 3 ranks x 5 with a validation file (same weights to float tolerance: same
 *   global batches, mean loss over the global batch, validation sums over the shards);
 *   1 process with batch 8 differs by far more than the tolerance (so the check can fail);
 *   a 2-rank run where one rank gets SIGTERM stops on both ranks after the same batch (exit 130,
 *   rank 0 saves the checkpoint), and one process resumes it with batch 16 to the weights of the
 *   uninterrupted run;
 *   a bad corpus row stops every rank with exit status 3 and file:line; a rank killed with
 *   SIGKILL stops the job (non-zero status) and the last checkpoint stays loadable;
 *   lm-train on 2 ranks x batch 8 reaches the perplexity of 1 process x batch 16 within 5 %;
 *   lm-train --bptt (stream mode) over ranks is refused (exit 2).
 * Needs the program ($NLPRNN_CLI) built with MPI and an MPI launcher ($NLPRNN_MPIEXEC, set by
 * tests/CMakeLists.txt when both are found); skips (77) otherwise. Runs as root with
 * OMPI_ALLOW_RUN_AS_ROOT=1 (set here), ranks oversubscribed on a small machine. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tasks/classify/classifier.h"
#include "nlprnn.h"
#include "testutil.h"

static char dir[256];
static const char *cli, *mpiexec;
static char common[2048];

/* Run `[mpirun -np NP] nlprnn ARGS` in dir (np 0: no launcher); return the exit status. */
static int run(int np, const char *args) {
    char cmd[4096], launch[512] = "";
    if (np > 0) snprintf(launch, sizeof launch, "'%s' --oversubscribe -np %d ", mpiexec, np);
    snprintf(cmd, sizeof cmd, "cd '%s' && exec %s'%s' %s >out.txt 2>&1", dir, launch, cli, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *output(void) {
    static char buf[16384];
    char p[512];
    snprintf(p, sizeof p, "%s/out.txt", dir);
    FILE *fp = fopen(p, "rb");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp) fclose(fp);
    buf[n] = '\0';
    return buf;
}

static int exists(const char *name) {
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 && st.st_size > 0;
}

/* Largest |a - b| over the weights of two classifier files (-1 when they do not load or their
 * shapes differ). */
static double max_diff(const char *a, const char *b) {
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    nlprnn_classifier *ma = NULL, *mb = NULL;
    double d = -1;
    if (nlprnn_classifier_load(pa, &ma, NULL) == 0 && nlprnn_classifier_load(pb, &mb, NULL) == 0) {
        const nr_clf_net *na = nr_model_net(ma), *nb = nr_model_net(mb);
        if (na->n_params == nb->n_params) {
            d = 0;
            for (size_t i = 0; i < na->n_params; i++) {
                double x = fabs((double)na->params[i] - (double)nb->params[i]);
                if (!(x <= d)) d = x; /* NaN wins */
            }
        }
    }
    nlprnn_classifier_free(ma);
    nlprnn_classifier_free(mb);
    return d;
}

static void nap(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
    cli = getenv("NLPRNN_CLI");
    mpiexec = getenv("NLPRNN_MPIEXEC");
    if (!cli || access(cli, X_OK) != 0) {
        printf("SKIP: the nlprnn program is not built (NLPRNN_CLI=%s)\n", cli ? cli : "unset");
        return 77;
    }
#ifdef NLPRNN_HAVE_MPI
    const int built_with_mpi = 1;
#else
    const int built_with_mpi = 0;
#endif
    if (!mpiexec || !*mpiexec || !built_with_mpi) {
        printf("SKIP: no MPI (built with the MPI component: %d, NLPRNN_MPIEXEC=%s)\n", built_with_mpi,
               mpiexec ? mpiexec : "unset");
        return 77;
    }
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);
    snprintf(dir, sizeof dir, "/tmp/nlprnn-test-mpi-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    char corpus[600], tok[600];
    snprintf(corpus, sizeof corpus, "%s", nr_test_data_path("clf_train.tsv"));
    snprintf(tok, sizeof tok, "%s", nr_test_data_path("tokenizer/nsmc8k.tok"));
    if (corpus[0] != '/' || tok[0] != '/') { /* run() changes to dir: make them absolute */
        char cwd[256];
        if (!getcwd(cwd, sizeof cwd)) return 1;
        char t[1024];
        snprintf(t, sizeof t, "%s/%.300s", cwd, corpus);
        snprintf(corpus, sizeof corpus, "%.590s", t);
        snprintf(t, sizeof t, "%s/%.300s", cwd, tok);
        snprintf(tok, sizeof tok, "%.590s", t);
    }
    snprintf(common, sizeof common,
             "train '%s' --tokenizer '%s' --embed 16 --hidden 16 --epochs 2 --dropout 0 --seed 3 "
             "--storage f32 --valid-split 0.1 --patience 0 --dist-check-every 5 -q",
             corpus, tok);
    char args[4096];
    const double tol = 1e-5;

    /* ---- equivalence: N ranks x batch B == one process x batch N*B ------------------------- */
    snprintf(args, sizeof args, "%s --threads 1 --batch 16 -o one.nrm", common);
    CHECK_MSG(run(0, args) == 0, "one process: %s", output());
    snprintf(args, sizeof args, "%s --threads 1 --batch 8 -o one8.nrm", common);
    CHECK_MSG(run(0, args) == 0, "one process, batch 8: %s", output());
    snprintf(args, sizeof args, "%s --threads 1 --batch 8 -o two.nrm", common);
    CHECK_MSG(run(2, args) == 0, "2 ranks: %s", output());
    snprintf(args, sizeof args, "%s --threads 2 --batch 8 -o two2.nrm", common);
    CHECK_MSG(run(2, args) == 0, "2 ranks x 2 threads: %s", output());
    snprintf(args, sizeof args, "%s --threads 1 --batch 4 -o four.nrm", common);
    CHECK_MSG(run(4, args) == 0, "4 ranks: %s", output());
    /* 3 ranks (uneven shards) with a separate validation file (evaluated in shards) */
    char vfile[600];
    snprintf(vfile, sizeof vfile, "%s", corpus);
    char *slash = strrchr(vfile, '/');
    if (slash) snprintf(slash + 1, sizeof vfile - (size_t)(slash + 1 - vfile), "clf_test.tsv");
    snprintf(args, sizeof args, "%s --threads 1 --batch 15 --valid '%s' -o one15.nrm", common, vfile);
    CHECK_MSG(run(0, args) == 0, "one process, batch 15, --valid: %s", output());
    snprintf(args, sizeof args, "%s --threads 1 --batch 5 --valid '%s' -o three.nrm", common, vfile);
    CHECK_MSG(run(3, args) == 0, "3 ranks, --valid: %s", output());
    double d3 = max_diff("one15.nrm", "three.nrm");
    printf("max |w1 - w3|: 3 ranks x 5 with --valid vs 1 x 15: %.3g\n", d3);
    CHECK_MSG(d3 >= 0 && d3 <= tol, "3 ranks x 5 vs 1 x 15: max diff %g", d3);

    double d2 = max_diff("one.nrm", "two.nrm"), d22 = max_diff("one.nrm", "two2.nrm"),
           d4 = max_diff("one.nrm", "four.nrm"), d8 = max_diff("one.nrm", "one8.nrm");
    printf("max |w1 - wN|: 2 ranks %.3g, 2 ranks x 2 threads %.3g, 4 ranks %.3g; batch 8 vs 16: "
           "%.3g\n", d2, d22, d4, d8);
    CHECK_MSG(d2 >= 0 && d2 <= tol, "2 ranks x 8 vs 1 x 16: max diff %g", d2);
    CHECK_MSG(d22 >= 0 && d22 <= tol, "2 ranks x 8 x 2 threads vs 1 x 16: max diff %g", d22);
    CHECK_MSG(d4 >= 0 && d4 <= tol, "4 ranks x 4 vs 1 x 16: max diff %g", d4);
    CHECK_MSG(d8 > 100 * tol, "batch 8 vs 16 differ by only %g: the test could not fail", d8);

    /* ---- stop 2 ranks with SIGTERM, resume with one process ------------------------------- */
    snprintf(args, sizeof args, "%s --threads 1 --batch 16 --epochs 3 -o ref.nrm", common);
    CHECK_MSG(run(0, args) == 0, "reference: %s", output());
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && exec '%s' --oversubscribe -np 2 '%s' %s --threads 1 --batch 8 --epochs 3 "
             "--checkpoint-every 1 -o res.nrm >out.txt 2>&1",
             dir, mpiexec, cli, common);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    double t0 = now();
    while (!exists("res.nrm.ckpt") && now() - t0 < 60) nap(5000);
    /* SIGTERM to one rank only (the newest child of mpirun): the ranks agree on the batch to stop
     * after, rank 0 saves the checkpoint, every rank exits 130 */
    char kcmd[128];
    snprintf(kcmd, sizeof kcmd, "pkill -TERM -n -P %d", (int)pid);
    CHECK(system(kcmd) == 0);
    int st = 0;
    waitpid(pid, &st, 0);
    int finished = exists("res.nrm");
    CHECK_MSG(!finished, "the 2-rank run finished before SIGTERM reached it: %s", output());
    CHECK_MSG(strstr(output(), "checkpoint saved") && strstr(output(), "(rank 0 of 2)") &&
                  strstr(output(), "(rank 1 of 2)"),
              "no checkpoint message from both ranks: %s", output());
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 130, "stopped 2-rank run: status %d: %s", st, output());
    snprintf(args, sizeof args, "%s --threads 1 --batch 16 --epochs 3 -o res.nrm --resume", common);
    CHECK_MSG(run(0, args) == 0, "resume with one process: %s", output());
    double dr = max_diff("ref.nrm", "res.nrm");
    printf("2 ranks stopped, resumed by 1 process: max diff %.3g\n", dr);
    CHECK_MSG(dr >= 0 && dr <= tol, "resumed with another number of ranks: max diff %g", dr);

    /* ---- failures stop every rank --------------------------------------------------------- */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.tsv", dir);
    FILE *fp = fopen(bad, "wb");
    if (fp) {
        fputs("id\tdocument\tlabel\n1\tgood movie\t1\n2\tbad \xff movie\t0\n3\tfine\t1\n", fp);
        fclose(fp);
    }
    snprintf(args, sizeof args, "train bad.tsv --tokenizer '%s' -o bad.nrm", tok);
    int rc = run(2, args);
    CHECK_MSG(rc == 3, "bad row: exit %d: %s", rc, output());
    CHECK_MSG(strstr(output(), "bad.tsv:3") && strstr(output(), "(rank 0 of 2)") &&
                  strstr(output(), "(rank 1 of 2)"),
              "bad row: %s", output());
    snprintf(args, sizeof args, "train bad.tsv -o bad.nrm");
    rc = run(2, args);
    CHECK_MSG(rc == 2 && strstr(output(), "needs a tokenizer"), "no tokenizer: exit %d: %s", rc,
              output());

    /* a rank killed: the job stops, the last checkpoint is intact */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && exec '%s' --oversubscribe -np 2 '%s' %s --threads 1 --batch 8 --epochs 50 "
             "--checkpoint-every 3 -o kill.nrm >out.txt 2>&1",
             dir, mpiexec, cli, common);
    pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    t0 = now();
    while (!exists("kill.nrm.ckpt") && now() - t0 < 60) nap(5000);
    nap(100000);
    snprintf(kcmd, sizeof kcmd, "pkill -KILL -n -P %d", (int)pid); /* the newest rank of this job */
    CHECK(system(kcmd) == 0);
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) != 0, "killed rank: mpirun status %d", st);
    CHECK(!exists("kill.nrm"));
    snprintf(args, sizeof args, "%s --threads 1 --batch 16 --epochs 1 -o kill.nrm --resume", common);
    rc = run(0, args);
    CHECK_MSG(rc == 0 && exists("kill.nrm"), "resume after a killed rank: exit %d: %s", rc,
              output());

    /* ---- language model: 2 ranks x batch 8 learn as well as 1 process x batch 16 ------------ */
    /* (not the same weights: each rank batches its own lines; docs/scaling.md) */
    char lmtxt[600];
    snprintf(lmtxt, sizeof lmtxt, "%s/lm.txt", dir);
    FILE *in = fopen(corpus, "rb"), *out = fopen(lmtxt, "wb");
    char line[4096];
    for (int i = 0; in && out && fgets(line, sizeof line, in); i++) {
        char *a = strchr(line, '\t'), *b = a ? strchr(a + 1, '\t') : NULL;
        if (i > 0 && a && b) fprintf(out, "%.*s\n", (int)(b - a - 1), a + 1);
    }
    if (in) fclose(in);
    if (out) fclose(out);
    double ppl[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args,
                 "lm-train --tokenizer '%s' --input lm.txt --embed 16 --hidden 16 --epochs 2 --max-lines 300 "
                 "--softmax full --seed 2 --storage f32 --directions forward --batch %d --quiet "
                 "--output lm%d.nrm",
                 tok, k ? 8 : 16, k + 1);
        rc = run(k ? 2 : 0, args);
        CHECK_MSG(rc == 0, "lm-train (%d ranks): exit %d: %s", k + 1, rc, output());
        snprintf(args, sizeof args, "lm-eval --model lm%d.nrm lm.txt", k + 1);
        rc = run(0, args);
        const char *o = strstr(output(), "lm.txt\t");
        double lines = 0, pieces = 0, chars = 0;
        CHECK_MSG(rc == 0 && o && sscanf(o + 7, "%lf %lf %lf %lf", &lines, &pieces, &chars, &ppl[k]) == 4,
                  "lm-eval: %s", output());
    }
    printf("language model perplexity on its training text: 1 x 16 %.2f, 2 ranks x 8 %.2f\n", ppl[0],
           ppl[1]);
    CHECK_MSG(ppl[0] > 1 && ppl[0] < 400 && fabs(ppl[1] / ppl[0] - 1) < 0.05,
              "perplexities %g (1 process) and %g (2 ranks)", ppl[0], ppl[1]);
    /* stream mode (--bptt) over ranks: refused on every rank, exit 2 naming it */
    snprintf(args, sizeof args,
             "lm-train --tokenizer '%s' --input lm.txt --embed 16 --hidden 16 --max-lines 300 --bptt 5 "
             "--directions forward --batch 8 --quiet --output lmb.nrm",
             tok);
    rc = run(2, args);
    CHECK_MSG(rc == 2 && strstr(output(), "bptt 5") && strstr(output(), "2 MPI ranks") && !exists("lmb.nrm"),
              "lm-train --bptt over 2 ranks: exit %d: %s", rc, output());

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!nr_test_failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return nr_test_done("test_mpi_train");
}
