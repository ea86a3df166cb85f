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
 *   r  reads-from (as RFF, Wolff et al., ASPLOS 2024, steers by): every
 *      atomic operation as (word, thread, operation, the thread whose write
 *      it read, that write's rank among the writer's operations as a class,
 *      class of the value);
 *   w  a plain store over a value its thread had not seen there (the shape
 *      of a lost update: someone wrote in between its read and its store),
 *      as (word, thread, writer of the value overwritten, class it had
 *      seen, class it overwrote);
 *   g  read-then-write windows: a thread's write to a word after its own
 *      read of it (a load or a failed compare-and-swap), as (word, thread,
 *      the write's operation, how many other threads' operations ran in
 *      between, as 0, 1, 2-3, 4-7, ..., whether the word changed meanwhile).
 *      A lost update needs such a window held open while another thread
 *      writes in it; an execution that stretches a window further than any
 *      before is a step towards one before anyone writes in it (what 'w'
 *      sees only once it has happened).
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

/* Records, for every execution from now on, its conflict points: the
 * positions (in the bytes of fuzz_decisions_expansion) of the decisions that
 * let a thread access a word or a sync object that another thread accessed
 * next, one of the two writing; another answer there reorders the pair
 * (mutator.c, "prefix"). Arms the observer's seam, as any feedback does. */
void fuzz_observe_conflicts(void);
/* The last execution's conflict points, in order (at most 512): the
 * position in the low 20 bits, a hash of the pair's kind (word, the two
 * threads, the two operations) above. */
const uint32_t *fuzz_observe_conflict_points(size_t *n);
#define FUZZ_POINT_POSITION(p) ((p) & 0xfffffu)
/* How often conflicts of point p's kind occurred since the fuzzer started. */
uint32_t fuzz_observe_conflict_count(uint32_t point);

#endif
