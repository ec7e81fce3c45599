/* tests/test_cli_plugins.c: the program's optional parts are loaded only when a command needs them.
 *
 *   - the program's start-up libraries (what the dynamic loader maps before main, as ldd lists
 *     them) include neither PLplot nor Open MPI, and the program still draws (gradflow --plot
 *     writes an SVG through the plot plugin) when it is built with PLplot;
 *   - a copy of the program without its plot plugin refuses --plot with exit 4 and a message
 *     naming nlprnn-plot.so, and writes no file (built without PLplot: the "built without PLplot"
 *     message, exit 4);
 *   - a copy without libnlprnn-mpi, started as rank 0 of a 2-process MPI job (the launcher's
 *     variables set by hand), refuses to train with exit 4 naming libnlprnn-mpi.so.N, and writes no
 *     model; as the only process of a job (size 1) it trains alone (exit 0). Built without MPI the
 *     2-process case is exit 5 "built without MPI".
 * (mpirun -np N nlprnn train through the plugin: tests/test_mpi_train.c.) Needs the program
 * ($NLPRNN_CLI). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char dir[256], clidir[1024];
static const char *cli;

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int beside_cli(const char *file) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", clidir, file);
    return exists(p);
}

int main(void) {
    cli = getenv("NLPRNN_CLI");
    if (!cli || access(cli, X_OK) != 0) {
        fprintf(stderr, "test_cli_plugins: SKIP (no program at $NLPRNN_CLI)\n");
        return 77;
    }
    snprintf(clidir, sizeof clidir, "%s", cli);
    char *slash = strrchr(clidir, '/');
    if (slash) *slash = '\0';
    else snprintf(clidir, sizeof clidir, ".");
    snprintf(dir, sizeof dir, "/tmp/nlprnn_plugins_%d", (int)getpid());
    CHECK(mkdir(dir, 0700) == 0);
    const int with_plplot = beside_cli("nlprnn-plot.so");
    char mpilib[64];
    snprintf(mpilib, sizeof mpilib, "libnlprnn-mpi.so.%d", NLPRNN_SOVERSION_TEST);
    const int with_mpi = beside_cli(mpilib);
    char *out = NULL;

    /* 1. start-up libraries: no PLplot, no Open MPI (nor its hwloc, libevent) */
    int rc = nr_test_run(&out, "LD_TRACE_LOADED_OBJECTS=1 '%s'", cli);
    CHECK_MSG(rc == 0 && out && strstr(out, "libc.so"), "ldd of the program: exit %d: %s", rc, out ? out : "");
    static const char *const heavy[] = {"plplot", "libmpi", "open-rte", "open-pal", "hwloc", "libevent", "nlprnn-mpi"};
    for (size_t i = 0; out && i < sizeof heavy / sizeof heavy[0]; i++)
        CHECK_MSG(!strstr(out, heavy[i]), "the program loads %s at start-up:\n%s", heavy[i], out);
    free(out);
    if (with_plplot) {
        rc = nr_test_run(&out, "cd '%s' && '%s' gradflow --length 10 --hidden 4 --batch 2 --plot ok.svg 2>&1", dir, cli);
        char p[512];
        snprintf(p, sizeof p, "%s/ok.svg", dir);
        CHECK_MSG(rc == 0 && exists(p), "gradflow --plot through the plugin: exit %d: %s", rc, out ? out : "");
        free(out);
    }

    /* 2. a copy of the program alone in a folder: no plot plugin beside it */
    CHECK_INT_EQ(nr_test_run(NULL, "cp '%s' '%s/nlprnn'", cli, dir), 0);
    rc = nr_test_run(&out, "cd '%s' && ./nlprnn gradflow --length 10 --hidden 4 --batch 2 --plot g.svg 2>&1", dir);
    const char *want = with_plplot ? "nlprnn-plot.so" : "built without PLplot";
    CHECK_MSG(rc == 4 && out && strstr(out, want), "--plot without the plugin: exit %d (want 4, '%s'): %s", rc,
              want, out ? out : "");
    char g[512];
    snprintf(g, sizeof g, "%s/g.svg", dir);
    CHECK(!exists(g));
    free(out);

    /* 3. the copy as rank 0 of a 2-process job, libnlprnn-mpi not beside it. (Skipped where the
     * dynamic loader finds an installed libnlprnn-mpi by its name alone: the copy would load it.) */
    void *sys = dlopen(mpilib, RTLD_NOW | RTLD_LOCAL);
    if (sys) {
        dlclose(sys);
        fprintf(stderr, "test_cli_plugins: part 3 skipped: %s is installed where the loader finds it\n", mpilib);
    } else {
        const char *train = nr_test_data_path("clf_train.tsv");
        rc = nr_test_run(&out, "cd '%s' && OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 ./nlprnn train '%s' -o m2.nrm "
                               "--vocab 300 --embed 8 --hidden 8 --epochs 1 --threads 1 -q 2>&1", dir, train);
        int code = with_mpi ? 4 : 5;
        const char *w = with_mpi ? mpilib : "built without MPI";
        CHECK_MSG(rc == code && out && strstr(out, w) && strstr(out, "OMPI_COMM_WORLD_SIZE=2"),
                  "a 2-process job without the MPI component: exit %d (want %d, '%s'): %s", rc, code, w, out ? out : "");
        char m[512];
        snprintf(m, sizeof m, "%s/m2.nrm", dir);
        CHECK(!exists(m));
        free(out);
        rc = nr_test_run(&out, "cd '%s' && OMPI_COMM_WORLD_SIZE=1 OMPI_COMM_WORLD_RANK=0 ./nlprnn train '%s' -o m1.nrm "
                               "--vocab 300 --embed 8 --hidden 8 --epochs 1 --threads 1 -q 2>&1", dir, train);
        snprintf(m, sizeof m, "%s/m1.nrm", dir);
        CHECK_MSG(rc == 0 && exists(m), "a 1-process job without the MPI component: exit %d: %s", rc, out ? out : "");
        free(out);
    }
    nr_test_run(NULL, "rm -rf '%s'", dir);
    return nr_test_done("test_cli_plugins");
}
