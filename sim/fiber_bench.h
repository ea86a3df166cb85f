/* fiber_bench.h - both fiber implementations side by side, for the benchmark
 * and the tests; the simulator itself uses fiber.h only.
 *
 * The *_impl functions do what their fiber.h namesakes do (including the
 * ASan bookkeeping) with the implementation picked per call: use_ucontext=0
 * selects the hand-written switch, 1 the swapcontext fallback. Where no
 * hand-written switch exists for the target (sim_fiber_has_asm() is false),
 * 0 falls back to ucontext too. Fibers that switch to each other must use
 * the same implementation; sim_fiber_destroy releases either kind.
 *
 * The raw backends below do no ASan bookkeeping; fiber.c is their only
 * intended caller, and they are declared here so that their definitions
 * are checked against one prototype.
 */
#ifndef IOCPCHECK_SIM_FIBER_BENCH_H
#define IOCPCHECK_SIM_FIBER_BENCH_H

#include "fiber.h"

/* True if this build has a hand-written switch for the target. */
bool sim_fiber_has_asm(void);
/* "asm-x86_64", "asm-aarch64" or "ucontext": what use_ucontext selects here. */
const char *sim_fiber_impl_name(int use_ucontext);

void sim_fiber_make_impl(sim_fiber *f, const sim_stack *stack, sim_fiber_entry entry, void *arg,
                         int use_ucontext);
void sim_fiber_init_main_impl(sim_fiber *f, int use_ucontext);
void sim_fiber_switch_impl(sim_fiber *from, sim_fiber *to, int use_ucontext);
void sim_fiber_switch_final_impl(sim_fiber *from, sim_fiber *to, int use_ucontext);

/* Raw backend: fiber_x86_64.S / fiber_aarch64.S (x86-64 and AArch64 only). */
/* Lays out a first frame below stack_top; returns the value for sim_fiber.sp. */
void *sim_fiber_asm_prepare(void *stack_top, sim_fiber_entry entry, void *arg);
/* Saves the callee-saved state and the stack pointer to *save_sp, resumes load_sp. */
void sim_fiber_asm_switch(void **save_sp, void *load_sp);
/* Windows x64 (fiber_win64.S): the frame also carries the TIB stack fields,
 * so prepare needs the stack's low end and its allocation base too. */
void *sim_fiber_win64_prepare(void *stack_top, sim_fiber_entry entry, void *arg, void *stack_limit,
                              void *dealloc_base);

/* Raw backend: fiber_ucontext.c. make/init_main allocate f->uc, or reuse the
 * one f already has. */
void sim_fiber_uc_make(sim_fiber *f, void *stack_lo, size_t stack_size, sim_fiber_entry entry,
                       void *arg);
void sim_fiber_uc_init_main(sim_fiber *f);
void sim_fiber_uc_switch(sim_fiber *from, sim_fiber *to);
void sim_fiber_uc_switch_final(sim_fiber *to);
void sim_fiber_uc_destroy(sim_fiber *f);

#endif
