/* common/clock.h: wall-clock time for speeds, time budgets and records (internal). */
#ifndef NR_COMMON_CLOCK_H
#define NR_COMMON_CLOCK_H

/* Seconds on a monotonic clock (CLOCK_MONOTONIC): only differences mean something. */
double nr_now_sec(void);

#endif
