/* demo.h - the engine's own demonstration (the main job until the scenario
 * runner exists): small programs with known races, found, replayed and
 * explained by the simulator. */
#ifndef IOCPCHECK_RUNNER_DEMO_H
#define IOCPCHECK_RUNNER_DEMO_H

#include <stdint.h>

/* Runs the demo; returns the process exit code (0: every program behaved as
 * expected, 1: a known race was not found, 3: internal error). */
int demo_main(const char *argv0, uint64_t seed, uint32_t max_seeds, int show_trace);

/* Replays the lost-update program from a schedule string and prints its
 * trace; returns 1 if it fails its property, 2 for a bad or divergent
 * schedule, 0 if it passes. */
int demo_replay_lost_update(const char *schedule);

#endif
