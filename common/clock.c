/* common/clock.c: the monotonic clock (common/clock.h). */
#include "common/clock.h"

#include <time.h>

double nr_now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
