/* wallclock.h - wall-clock time for the CLI's --time budgets, rates and
 * progress bar. Never used for a decision or in a trace (lint-determinism
 * allows the clock only in wallclock.c). */
#ifndef IOCPCHECK_RUNNER_WALLCLOCK_H
#define IOCPCHECK_RUNNER_WALLCLOCK_H

double wall_seconds(void);

#endif
