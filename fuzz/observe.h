/* observe.h - what fuzz_decisions shows libFuzzer besides code coverage:
 * features of the schedule's state, counted in an extra-counters region.
 *
 * Two sources, each switched by a letter of IOCPCHECK_FUZZ_FEEDBACK
 * (default none, "" or "-": code coverage and value profiles alone, which
 * measured as well or better on the README's hard pairs):
 *   p  pairs of consecutive decisions (kind, label, preemption): the
 *      interleaving as a sequence of choices;
 *   s  the synchronization state the poller builds, seen through its seam:
 *      every atomic operation as (word, thread, class of the value before,
 *      class after), every park and wake (semaphore wait, post, mutex
 *      contention) as (object, thread, which threads are parked), and the
 *      pair of consecutive such events. Words and objects are numbered by
 *      first touch in the execution, values reduced to classes (small
 *      numbers kept, a pointer is "a waiter"), so a feature is a state
 *      transition of a pollDesc, the wake flag or a waiter count, not an
 *      address.
 * Modifiers of s, for measuring what pays (scripts/fuzz-feedback): b a
 * feature counts once however often it occurs, n events without the acting
 * thread, e events alone (no pairs).
 * The observer lives here, outside poller/: the poller is compiled as for
 * every other test.
 */
#ifndef IOCPCHECK_FUZZ_OBSERVE_H
#define IOCPCHECK_FUZZ_OBSERVE_H

#include "decisions.h"

/* Reads IOCPCHECK_FUZZ_FEEDBACK (once) and arms the chosen observers for the
 * executions fuzz_decisions_run makes from now on. */
void fuzz_observe_setup(void);

#endif
