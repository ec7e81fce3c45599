/* cli/mpi.c: the program's side of data-parallel training over MPI (include/nlprnn/dist.h).
 *
 * `train` and `lm-train` call cli_dist_begin() once their options are parsed: when the program was
 * started by mpirun (or another MPI launcher) it joins the job there; otherwise nothing happens
 * and the program runs as one process. Only rank 0 prints progress. At the end cli_dist_end()
 * reports an error (every rank prints its own message, prefixed with its rank) and leaves MPI. A
 * failure other than an interrupt stops the whole job with MPI_Abort, so that a rank which failed
 * alone does not leave the others waiting in a collective call; the exit status is the usual one.
 */
#include <stdio.h>

#include "cli.h"

int cli_dist_begin(const char *cmd, char *name, size_t cap) {
    nlprnn_error err;
    snprintf(name, cap, "%s", cmd);
    int rc = nlprnn_dist_init(NULL, NULL, &err);
    if (rc) return cli_report(cmd, rc, &err);
    if (nlprnn_dist_size() > 1)
        snprintf(name, cap, "%s (rank %d of %d)", cmd, nlprnn_dist_rank(), nlprnn_dist_size());
    return CLI_OK;
}

int cli_dist_end(const char *name, int status, const nlprnn_error *err) {
    if (status == 0) {
        nlprnn_dist_finalize();
        return CLI_OK;
    }
    int code = cli_report(name, status, err);
    fflush(stderr);
    if (status != NLPRNN_E_INTERRUPTED) nlprnn_dist_abort(code); /* returns with one rank */
    nlprnn_dist_finalize();
    return code;
}
