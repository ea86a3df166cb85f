/* wallclock.c - the CLI's only wall clock (see wallclock.h). */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "wallclock.h"

#if defined(_WIN32)
/* Windows: the real backend's QueryPerformanceCounter. MinGW's msvcrt has
 * neither timespec_get nor (without winpthreads) clock_gettime, and the CLI
 * links the real backend on Windows anyway. */
#include "../shim/shim_win32.h"

double wall_seconds(void) { return (double)shim_win32_now_ns() * 1e-9; }
#else
double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#endif
