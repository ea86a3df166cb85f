/* fiber_ucontext.c - portable fiber fallback on getcontext / makecontext /
 * swapcontext, for targets without a hand-written switch and as a reference
 * for the benchmark. Slower than the asm switch (glibc's swapcontext also
 * saves and restores the signal mask with a system call), but needs nothing
 * but POSIX.1-2001 ucontext.
 *
 * No ASan bookkeeping here: fiber.c does it for both implementations.
 */
#if !defined(_XOPEN_SOURCE)
#define _XOPEN_SOURCE 700 /* glibc and macOS only declare ucontext with XSI */
#endif

#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>

#include "fiber_bench.h"

#if defined(__APPLE__)
/* macOS marks the ucontext API deprecated; it still works, and this is the fallback. */
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
#endif

/* What f->uc points to. The entry and argument ride along with the context
 * so that the trampoline can find them without any global. */
struct uc_fiber {
    ucontext_t ctx;
    sim_fiber_entry entry;
    void *arg;
};

/* makecontext can only pass int arguments, so the trampoline gets the
 * uc_fiber pointer as two 32-bit halves (the high half is 0 on 32-bit
 * targets). Unsigned arithmetic keeps the split and the join well defined. */
static void uc_start(int hi, int lo)
{
    uint64_t bits = ((uint64_t)(uint32_t)hi << 32) | (uint32_t)lo;
    struct uc_fiber *u = (struct uc_fiber *)(uintptr_t)bits;
    u->entry(u->arg);
    /* entry must not return: with uc_link NULL the thread would silently exit. */
    __builtin_trap();
}

/* Reuses the block a fiber already has: the simulator re-makes the same
 * fibers for every execution, and a malloc per thread per run is waste. */
static struct uc_fiber *uc_get(sim_fiber *f)
{
    struct uc_fiber *u = f->uc;
    if (u == NULL)
        u = calloc(1, sizeof *u);
    if (u == NULL)
        abort(); /* make/init cannot report failure; a fiber without a context is useless */
    return u;
}

/* getcontext returns twice in principle, so gcc warns about caller locals
 * living across it (-Wclobbered); in its own function there are none. The
 * context it saves is only a template for makecontext, never resumed as it
 * stands, so this frame being gone later does not matter. */
static void uc_template(ucontext_t *ctx)
{
    if (getcontext(ctx) != 0)
        abort();
}

void sim_fiber_uc_make(sim_fiber *f, void *stack_lo, size_t stack_size, sim_fiber_entry entry,
                       void *arg)
{
    struct uc_fiber *u = uc_get(f);
    uc_template(&u->ctx); /* makecontext needs an initialised context */
    u->ctx.uc_stack.ss_sp = stack_lo;
    u->ctx.uc_stack.ss_size = stack_size;
    u->ctx.uc_stack.ss_flags = 0;
    u->ctx.uc_link = NULL;
    u->entry = entry;
    u->arg = arg;

    uint64_t bits = (uint64_t)(uintptr_t)u;
    /* The cast to void (*)(void) is the type makecontext wants; the real
     * argument list is given by the count (2) and the int arguments. */
    makecontext(&u->ctx, (void (*)(void))uc_start, 2, (int)(uint32_t)(bits >> 32),
                (int)(uint32_t)bits);
    f->uc = u;
}

void sim_fiber_uc_init_main(sim_fiber *f)
{
    /* Filled in by the first swapcontext away from the thread's own stack. */
    f->uc = uc_get(f);
}

void sim_fiber_uc_switch(sim_fiber *from, sim_fiber *to)
{
    struct uc_fiber *src = from->uc;
    struct uc_fiber *dst = to->uc;
    if (swapcontext(&src->ctx, &dst->ctx) != 0)
        abort();
}

void sim_fiber_uc_switch_final(sim_fiber *to)
{
    /* The caller's state is never needed again, so skip saving it. */
    struct uc_fiber *dst = to->uc;
    setcontext(&dst->ctx);
    abort(); /* setcontext only returns on failure */
}

void sim_fiber_uc_destroy(sim_fiber *f)
{
    free(f->uc);
    f->uc = NULL;
}
