/* fiber.h - machine contexts for virtual threads: create, switch, and the
 * stacks they run on.
 *
 * Two implementations, chosen at build time by the CMake option
 * IOCPCHECK_FIBER (asm | ucontext), which defines IOCPCHECK_FIBER_UCONTEXT=1
 * for the fallback:
 *   fiber_x86_64.S / fiber_aarch64.S  hand-written switch (callee-saved
 *                                     registers + FP control words only)
 *   fiber_ucontext.c                  portable swapcontext fallback
 * Both are always compiled under their own symbol names (sim_fiber_asm_*,
 * sim_fiber_uc_*) where the platform allows, so the benchmark can compare
 * them in one binary (see fiber_bench.h); the sim_fiber_* functions below use
 * the configured one.
 *
 * Stacks come from sim_stack_alloc: mmap'd, with an inaccessible guard page
 * below the usable range, so an overflow faults instead of silently
 * corrupting a neighbour. The simulator's SIGSEGV handler asks
 * sim_stack_guard_hit() whether a fault address is in a guard page.
 *
 * AddressSanitizer must be told about every stack switch, or it reports false
 * stack-buffer errors; sim_fiber_switch does that when built with ASan.
 */
#ifndef IOCPCHECK_SIM_FIBER_H
#define IOCPCHECK_SIM_FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_stack {
    void *base;      /* lowest usable address (just above the guard page) */
    size_t size;     /* usable bytes */
    void *map;       /* the whole mapping, guard included */
    size_t map_size;
} sim_stack;

/* Allocates a stack of at least `size` usable bytes (rounded up to pages)
 * with a guard page below it. Returns false when the mapping fails. */
bool sim_stack_alloc(sim_stack *s, size_t size);
void sim_stack_free(sim_stack *s);
/* True if `addr` lies in the guard page of `s`, or within 64 KiB below the
 * usable range (a large frame can jump over a single page). */
bool sim_stack_guard_hit(const sim_stack *s, const void *addr);

typedef void (*sim_fiber_entry)(void *arg);

typedef struct sim_fiber sim_fiber;

/* A fiber's saved machine state, plus what ASan needs to know of its stack.
 * The main fiber (the OS thread's own stack) needs no sim_fiber_make: the
 * first switch away from it saves its state. */
struct sim_fiber {
    void *sp;                /* asm: saved stack pointer */
    void *uc;                /* ucontext: a ucontext_t, allocated by make/init */
    const void *stack_lo;    /* ASan: bottom of this fiber's stack (main: NULL, or
                                the thread's stack when built with ASan) */
    size_t stack_size;
    void *asan_fake;         /* ASan: fake-stack handle while switched away */
};

/* Prepares `f` to run `entry(arg)` on `stack` at the first switch to it.
 * `entry` must never return: a finished fiber switches away for good.
 * `f` must be zeroed, destroyed, or a fiber made or initialised before (even
 * one still suspended, which is then abandoned): what it holds is reused. */
void sim_fiber_make(sim_fiber *f, const sim_stack *stack, sim_fiber_entry entry, void *arg);
/* Prepares a sim_fiber that stands for the calling OS thread's own stack
 * (same rule for `f` as sim_fiber_make). */
void sim_fiber_init_main(sim_fiber *f);
/* Saves the current state into `from` and resumes `to`. Returns when some
 * fiber switches back to `from`. */
void sim_fiber_switch(sim_fiber *from, sim_fiber *to);
/* Like sim_fiber_switch, for a fiber that will never be resumed (its state
 * is not needed; under ASan its fake stack is released). */
void sim_fiber_switch_final(sim_fiber *from, sim_fiber *to);
/* Releases what make/init allocated (the ucontext_t for the fallback). */
void sim_fiber_destroy(sim_fiber *f);

/* Name of the configured implementation: "asm-x86_64", "asm-aarch64", "ucontext". */
const char *sim_fiber_impl(void);

#endif
