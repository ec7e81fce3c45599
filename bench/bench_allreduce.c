/* bench/bench_allreduce.c: time of the gradient sums of data-parallel training on this machine.
 *
 *   mpirun -np N build/bench/bench_allreduce [REPEATS]
 *
 * For the sizes one training step exchanges (docs/scaling.md): the classifier's dense part
 * (264,706 floats for the shape of pretrained/ko.nrm and en.nrm), the same plus the embedding rows
 * of a 64-review batch (~600 rows x 128), a whole language-model direction (2,196,096 floats,
 * pretrained/ko-lm.nrm), and the 4-double status sum of every step: the mean milliseconds of
 * nr_comm_sum_grad (bucketed MPI_Iallreduce, train/comm.c over dist/mpi.c) and nr_comm_sum_f64,
 * printed by rank 0. Started without mpirun it has one rank and measures nothing (prints so).
 * Built only with the MPI component (libnlprnn-mpi).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nlprnn.h"
#include "nlprnn/dist.h"
#include "train/comm.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    nlprnn_error err;
    if (nlprnn_dist_init(&argc, &argv, &err)) {
        fprintf(stderr, "bench_allreduce: %s\n", err.message);
        return 1;
    }
    nlprnn_comm *comm = NULL;
    if (nlprnn_dist_comm_create(&comm, &err)) {
        fprintf(stderr, "bench_allreduce: %s\n", err.message);
        return 1;
    }
    nr_comm d;
    nr_comm_copy(&d, comm);
    int reps = argc > 1 ? atoi(argv[1]) : 50;
    if (reps < 1) reps = 1;
    if (d.size < 2) {
        printf("bench_allreduce: one rank (start it with mpirun -np N): nothing to measure\n");
        nlprnn_comm_free(comm);
        nlprnn_dist_finalize();
        return 0;
    }
    static const struct {
        const char *what;
        size_t n;
    } sizes[] = {{"classifier dense part", 264706},
                 {"classifier dense + 600 embedding rows", 264706 + 600 * 128},
                 {"language model, one direction", 2196096}};
    float *g = calloc(2196096, sizeof(float));
    if (!g) return 1;
    int rc = 0;
    if (d.rank == 0) printf("| what | floats | MB | ms per sum (%d ranks, mean of %d) |\n|---|---|---|---|\n", d.size, reps);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0] && !rc; k++) {
        for (int i = 0; i < 3 && !rc; i++) rc = nr_comm_sum_grad(&d, g, sizes[k].n, 1.0f, &err);
        double t0 = now();
        for (int i = 0; i < reps && !rc; i++) rc = nr_comm_sum_grad(&d, g, sizes[k].n, 1.0f, &err);
        double ms = (now() - t0) / reps * 1e3;
        if (d.rank == 0 && !rc)
            printf("| %s | %zu | %.2f | %.2f |\n", sizes[k].what, sizes[k].n, (double)sizes[k].n * 4 / 1e6, ms);
    }
    double v[4] = {1, 2, 3, 4};
    double t0 = now();
    for (int i = 0; i < reps && !rc; i++) rc = nr_comm_sum_f64(&d, v, 4, &err);
    if (d.rank == 0 && !rc) printf("| step status (4 doubles) | - | 0.00 | %.3f |\n", (now() - t0) / reps * 1e3);
    if (rc) fprintf(stderr, "bench_allreduce: %s\n", err.message);
    free(g);
    nlprnn_comm_free(comm);
    nlprnn_dist_finalize();
    return rc ? 1 : 0;
}
