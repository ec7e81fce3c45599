/* cli/mpi.c: the program's side of data-parallel training over MPI.
 *
 * `train` and `lm-train` call cli_dist_begin() once their options are parsed. Built with the MPI
 * component (libnlprnn-mpi, include/nlprnn/dist.h): when the program was started by mpirun (or
 * another MPI launcher) it joins the job there and hands the training call a communicator of
 * every rank; otherwise nothing happens and the program runs as one process. Only rank 0 prints
 * progress. At the end cli_dist_end() reports an error (every rank prints its own message,
 * prefixed with its rank) and leaves MPI. A failure other than an interrupt stops the whole job
 * with MPI_Abort, so that a rank which failed alone does not leave the others waiting in a
 * collective call; the exit status is the usual one.
 *
 * Built without the component, a program started by a launcher with more than one process
 * refuses to train: every copy would train alone and overwrite the same files.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#ifdef NLPRNN_HAVE_MPI
#include "nlprnn/dist.h"
#endif

#ifdef NLPRNN_HAVE_MPI

int cli_dist_begin(const char *cmd, char *name, size_t cap, nlprnn_comm **comm) {
    nlprnn_error err;
    snprintf(name, cap, "%s", cmd);
    *comm = NULL;
    int rc = nlprnn_dist_init(NULL, NULL, &err);
    if (!rc) rc = nlprnn_dist_comm_create(comm, &err);
    if (rc) return cli_report(cmd, rc, &err);
    if (nlprnn_comm_size(*comm) > 1)
        snprintf(name, cap, "%s (rank %d of %d)", cmd, nlprnn_comm_rank(*comm), nlprnn_comm_size(*comm));
    return CLI_OK;
}

int cli_dist_end(const char *name, nlprnn_comm *comm, int status, const nlprnn_error *err) {
    int code = CLI_OK;
    if (status != 0) {
        code = cli_report(name, status, err);
        fflush(stderr);
        if (status != NLPRNN_E_INTERRUPTED) nlprnn_comm_abort(comm, code); /* returns with one rank */
    }
    nlprnn_comm_free(comm);
    nlprnn_dist_finalize();
    return code;
}

#else

int cli_dist_begin(const char *cmd, char *name, size_t cap, nlprnn_comm **comm) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE"};
    snprintf(name, cap, "%s", cmd);
    *comm = NULL;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v && strtol(v, NULL, 10) != 1) {
            fprintf(stderr,
                    "nlprnn %s: started by an MPI launcher (%s=%s) but this nlprnn was built without MPI: "
                    "every copy would train alone and overwrite the same files (install Open MPI and "
                    "rebuild; CMake option NLPRNN_MPI) (NLPRNN_E_UNSUPPORTED)\n",
                    cmd, vars[i], v);
            return cli_exit_code(NLPRNN_E_UNSUPPORTED);
        }
    }
    return CLI_OK;
}

int cli_dist_end(const char *name, nlprnn_comm *comm, int status, const nlprnn_error *err) {
    (void)comm;
    return status ? cli_report(name, status, err) : CLI_OK;
}

#endif
