/* wallclock.c - the CLI's only wall clock (see wallclock.h). */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "wallclock.h"

double wall_seconds(void) {
    struct timespec ts;
#if defined(_WIN32)
    timespec_get(&ts, TIME_UTC); /* MinGW: no CLOCK_MONOTONIC without winpthreads */
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
