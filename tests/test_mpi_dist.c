/* tests/test_mpi_dist.c: the communicator (train/comm.c) over the MPI component (dist/mpi.c) on
 * 3 ranks, and the group of one.
 *
 * Started by CTest as one process, it first checks the 1-rank behaviour (what a program without a
 * communicator, or not started by mpirun, gets), then starts itself again under
 * `$NLPRNN_MPIEXEC -np 3` and checks, on every rank: bucketed sums (buckets of 7 floats over 100),
 * double sums, gathers of unequal lengths, the personalized exchange, the broadcast from rank 0,
 * the parameter checksum (equal: fine; one rank's weights changed in one bit: every rank fails
 * with NLPRNN_E_STATE naming that rank), agreement on one rank's failure, and the any-flag.
 * Without the MPI component or a launcher ($NLPRNN_MPIEXEC unset) only the 1-rank part runs. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nlprnn.h"
#include "testutil.h"
#include "train/comm.h"
#ifdef NLPRNN_HAVE_MPI
#include "nlprnn/dist.h"
#endif

static void one_rank(void) {
    nr_comm d;
    nr_comm_copy(&d, NULL);
    CHECK_INT_EQ(d.size, 1);
    CHECK_INT_EQ(d.rank, 0);
    float x[5] = {1, 2, 3, 4, 5};
    nr_comm_pending p = {0};
    CHECK_INT_EQ(nr_comm_isum_f32(&d, &p, x, 5, 2, NULL), 0);
    CHECK_INT_EQ(nr_comm_wait(&d, &p, NULL), 0);
    nr_comm_pending_free(&p);
    CHECK(x[0] == 1 && x[4] == 5);
    int32_t mine[3] = {7, 8, 9}, *all = NULL;
    size_t n = 0, counts[1];
    CHECK_INT_EQ(nr_comm_allgather_i32(&d, mine, 3, &all, &n, counts, NULL), 0);
    CHECK(n == 3 && all && all[2] == 9 && counts[0] == 3);
    free(all);
    CHECK_INT_EQ(nr_comm_agree(&d, NLPRNN_E_DATA, NULL), NLPRNN_E_DATA);
    CHECK_INT_EQ(nr_comm_agree(&d, 0, NULL), 0);
    CHECK_INT_EQ(nr_comm_check_same(&d, x, 5, "x", 1, NULL), 0);
    CHECK(nr_comm_checksum(x, 5) == nr_comm_checksum(x, 5));
    float y[5] = {1, 2, 3, 4, 5.0000005f};
    CHECK(nr_comm_checksum(x, 5) != nr_comm_checksum(y, 5));
}

#ifdef NLPRNN_HAVE_MPI
static int ranks(void) {
    nlprnn_error err;
    int rc = nlprnn_dist_init(NULL, NULL, &err);
    CHECK_MSG(rc == 0, "init: %s", err.message);
    nlprnn_comm *comm = NULL;
    CHECK_INT_EQ(nlprnn_dist_comm_create(&comm, &err), 0);
    nr_comm d;
    nr_comm_copy(&d, comm);
    CHECK_INT_EQ(d.size, 3);
    CHECK_INT_EQ(nlprnn_dist_size(), 3);
    CHECK_INT_EQ(nlprnn_comm_size(comm), 3);
    int r = d.rank;

    /* bucketed sum in place: rank r contributes (r + 1) * i */
    float g[100];
    for (int i = 0; i < 100; i++) g[i] = (float)((r + 1) * i);
    nr_comm_pending p = {0};
    rc = nr_comm_isum_f32(&d, &p, g, 60, 7, &err);
    if (!rc) rc = nr_comm_isum_f32(&d, &p, g + 60, 40, 7, &err);
    CHECK_INT_EQ(p.n, 9 + 6);
    if (!rc) rc = nr_comm_wait(&d, &p, &err);
    nr_comm_pending_free(&p);
    CHECK_MSG(rc == 0, "isum: %s", err.message);
    int ok = 1;
    for (int i = 0; i < 100; i++) ok &= g[i] == (float)(6 * i);
    CHECK(ok);

    double v[2] = {r, 0.5};
    CHECK_INT_EQ(nr_comm_sum_f64(&d, v, 2, &err), 0);
    CHECK(v[0] == 3 && v[1] == 1.5);

    /* gather: rank r sends r + 1 values 10 r + k */
    int32_t mine[3], *all = NULL;
    for (int k = 0; k <= r; k++) mine[k] = 10 * r + k;
    size_t n = 0, counts[3];
    CHECK_INT_EQ(nr_comm_allgather_i32(&d, mine, (size_t)r + 1, &all, &n, counts, &err), 0);
    CHECK(n == 6 && counts[0] == 1 && counts[1] == 2 && counts[2] == 3);
    static const int32_t want[6] = {0, 10, 11, 20, 21, 22};
    CHECK(all && !memcmp(all, want, sizeof want));
    free(all);

    /* exchange: rank r sends to rank s the one value 100 r + s */
    int32_t send[3], recv[3];
    int sc[3] = {1, 1, 1}, sd[3] = {0, 1, 2};
    for (int s = 0; s < 3; s++) send[s] = 100 * r + s;
    CHECK_INT_EQ(nr_comm_alltoall_i32(&d, send, sc, sd, recv, sc, sd, &err), 0);
    for (int s = 0; s < 3; s++) CHECK_INT_EQ(recv[s], 100 * s + r);

    float w[10];
    for (int i = 0; i < 10; i++) w[i] = r == 0 ? (float)i / 3.0f : -1.0f;
    CHECK_INT_EQ(nr_comm_bcast_f32(&d, w, 10, &err), 0);
    CHECK(w[9] == 3.0f && w[1] == 1.0f / 3.0f);
    CHECK_INT_EQ(nr_comm_check_same(&d, w, 10, "the weights", 5, &err), 0);

    /* drift: rank 2 changes the last bit of one weight; every rank must fail */
    if (r == 2) {
        uint32_t b;
        memcpy(&b, &w[4], 4);
        b ^= 1;
        memcpy(&w[4], &b, 4);
    }
    nlprnn_error_clear(&err);
    rc = nr_comm_check_same(&d, w, 10, "the weights", 7, &err);
    CHECK_INT_EQ(rc, NLPRNN_E_STATE);
    CHECK_MSG(strstr(err.message, "the weights differ between ranks after step 7") &&
                  strstr(err.message, "on rank 2"),
              "%s", err.message);

    /* agreement: rank 1 fails alone */
    nlprnn_error_clear(&err);
    rc = nr_comm_agree(&d, r == 1 ? NLPRNN_E_NOMEM : 0, &err);
    CHECK_INT_EQ(rc, NLPRNN_E_NOMEM);
    if (r != 1) CHECK_MSG(strstr(err.message, "rank 1 failed"), "%s", err.message);
    CHECK_INT_EQ(nr_comm_agree(&d, 0, &err), 0);
    CHECK_INT_EQ(nr_comm_any(&d, r == 2, &err), 1);
    CHECK_INT_EQ(nr_comm_any(&d, 0, &err), 0);

    char name[32];
    snprintf(name, sizeof name, "test_mpi_dist rank %d", r);
    int ret = nr_test_done(name);
    nlprnn_comm_free(comm);
    nlprnn_dist_finalize();
    return ret;
}
#endif

int main(int argc, char **argv) {
    (void)argc;
#ifdef NLPRNN_HAVE_MPI
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE")) return ranks();
#endif
    one_rank();
    const char *mpiexec = getenv("NLPRNN_MPIEXEC");
#ifdef NLPRNN_HAVE_MPI
    const int built_with_mpi = 1;
#else
    const int built_with_mpi = 0;
#endif
    if (mpiexec && *mpiexec && built_with_mpi) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 '%s' --oversubscribe "
                 "-np 3 '%s'",
                 mpiexec, argv[0]);
        int st = system(cmd);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "3 ranks: status %d", st);
    } else {
        printf("(no MPI launcher or built without MPI: the 1-rank part only)\n");
    }
    return nr_test_done("test_mpi_dist");
}
