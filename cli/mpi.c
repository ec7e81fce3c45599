/* cli/mpi.c: the program's side of data-parallel training over MPI.
 *
 * `train` and `lm-train` call cli_dist_begin() once their options are parsed. When the program
 * was started by mpirun (or another MPI launcher: one of the variables below is set), it loads the
 * MPI component libnlprnn-mpi (include/nlprnn/dist.h) with dlopen, joins the job there and hands
 * the training call a communicator of every rank; otherwise nothing is loaded and the program
 * runs as one process, so that no command started without a launcher pays for loading Open MPI
 * (a dozen libraries and their constructors, ~4 ms; docs/benchmarks.md "Start-up"). Only rank 0
 * prints progress. At the end cli_dist_end() reports an error (every rank prints its own message,
 * prefixed with its rank) and leaves MPI. A failure other than an interrupt stops the whole job
 * with MPI_Abort, so that a rank which failed alone does not leave the others waiting in a
 * collective call; the exit status is the usual one.
 *
 * Under a launcher, a program built without the component, or whose libnlprnn-mpi cannot be
 * loaded, refuses to train when the job has more than one process: every copy would train alone
 * and overwrite the same files. (Exit 5 when built without MPI, 4 when the library is missing.)
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#ifdef NLPRNN_HAVE_MPI
#include <dlfcn.h>
#endif

/* Set by an MPI launcher: Open MPI (mpirun), PMI-1/2 (MPICH hydra, srun --mpi=pmi2), PMIx; the
 * same list as dist/mpi.c. The *_SIZE ones give the job's size. */
static const char *const launcher_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                            "MV2_COMM_WORLD_SIZE", "PMIX_RANK"};
#define N_LAUNCHER_VARS (sizeof launcher_vars / sizeof launcher_vars[0])

/* The first launcher variable set (its value in *val), or NULL: not started by a launcher. */
static const char *launcher(const char **val) {
    for (size_t i = 0; i < N_LAUNCHER_VARS; i++) {
        const char *v = getenv(launcher_vars[i]);
        if (v && *v) {
            *val = v;
            return launcher_vars[i];
        }
    }
    return NULL;
}

/* A launcher started more than one process (a size variable other than 1). */
static int job_of_many(void) {
    for (size_t i = 0; i + 1 < N_LAUNCHER_VARS; i++) { /* the *_SIZE ones */
        const char *v = getenv(launcher_vars[i]);
        if (v && *v && strtol(v, NULL, 10) != 1) return 1;
    }
    return 0;
}

#ifdef NLPRNN_HAVE_MPI
/* libnlprnn-mpi's entry points, once loaded (the types of include/nlprnn/dist.h) */
typedef int (*dist_init_fn)(int *argc, char ***argv, nlprnn_error *err);
typedef int (*dist_comm_create_fn)(nlprnn_comm **out, nlprnn_error *err);
typedef void (*dist_finalize_fn)(void);
static dist_finalize_fn dist_finalize;

#define STR_(x) #x
#define STR(x) STR_(x)
#define MPI_LIB_FILE "libnlprnn-mpi.so." STR(NLPRNN_SOVERSION)

/* Load libnlprnn-mpi; 0, or an exit code after the message. */
static int load_dist(const char *cmd, const char *var, const char *val, dist_init_fn *init,
                     dist_comm_create_fn *create) {
    char why[2048];
    void *h = cli_plugin_open(MPI_LIB_FILE, NULL, 1, 1, why, sizeof why);
    if (h) {
        *init = (dist_init_fn)dlsym(h, "nlprnn_dist_init");
        *create = (dist_comm_create_fn)dlsym(h, "nlprnn_dist_comm_create");
        dist_finalize = (dist_finalize_fn)dlsym(h, "nlprnn_dist_finalize");
        if (*init && *create && dist_finalize) return CLI_OK;
        snprintf(why, sizeof why, "%s lacks the nlprnn_dist_* functions (another version?)", MPI_LIB_FILE);
        dist_finalize = NULL;
    }
    fprintf(stderr,
            "nlprnn %s: started by an MPI launcher (%s=%s) but the MPI component could not be loaded: %s "
            "(NLPRNN_E_IO)\n",
            cmd, var, val, why);
    return CLI_EXIT_IO;
}
#endif

int cli_dist_begin(const char *cmd, char *name, size_t cap, nlprnn_comm **comm) {
    snprintf(name, cap, "%s", cmd);
    *comm = NULL;
    const char *val = NULL, *var = launcher(&val);
    if (!var) return CLI_OK; /* one process, no MPI */
#ifdef NLPRNN_HAVE_MPI
    dist_init_fn init;
    dist_comm_create_fn create;
    int ec = load_dist(cmd, var, val, &init, &create);
    if (ec) return job_of_many() ? ec : CLI_OK;
    nlprnn_error err;
    int rc = init(NULL, NULL, &err);
    if (!rc) rc = create(comm, &err);
    if (rc) return cli_report(cmd, rc, &err);
    if (nlprnn_comm_size(*comm) > 1)
        snprintf(name, cap, "%s (rank %d of %d)", cmd, nlprnn_comm_rank(*comm), nlprnn_comm_size(*comm));
    return CLI_OK;
#else
    if (job_of_many()) {
        fprintf(stderr,
                "nlprnn %s: started by an MPI launcher (%s=%s) but this nlprnn was built without MPI: "
                "every copy would train alone and overwrite the same files (install Open MPI and "
                "rebuild; CMake option NLPRNN_MPI) (NLPRNN_E_UNSUPPORTED)\n",
                cmd, var, val);
        return cli_exit_code(NLPRNN_E_UNSUPPORTED);
    }
    return CLI_OK;
#endif
}

int cli_dist_end(const char *name, nlprnn_comm *comm, int status, const nlprnn_error *err) {
    int code = CLI_OK;
    if (status != 0) {
        code = cli_report(name, status, err);
        fflush(stderr);
        if (status != NLPRNN_E_INTERRUPTED) nlprnn_comm_abort(comm, code); /* returns with one rank */
    }
    nlprnn_comm_free(comm);
#ifdef NLPRNN_HAVE_MPI
    if (dist_finalize) dist_finalize();
#endif
    return code;
}
