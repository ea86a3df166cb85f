/* check_fiber.c - Check suite for sim/fiber: guarded stacks, and both
 * context-switch implementations (hand-written asm and ucontext) run
 * through the same tests: ping-pong ordering, callee-saved registers and
 * FP control state across switches, stack alignment, stack reuse after a
 * final switch, and a real guard-page fault in a forked child.
 *
 * Runs with CK_NOFORK. A failing ck_assert longjmps, which must not happen
 * on a fiber stack, so fibers only record what they saw and the test body
 * (on the thread's own stack) asserts afterwards.
 */
#define _XOPEN_SOURCE 700 /* fork, sigaction, sigaltstack, setrlimit */

#include <check.h>
#include <fenv.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/fiber.h"
#include "sim/fiber_bench.h"

#define NOINLINE __attribute__((noinline))

/* Roomy enough for ASan's larger frames and for snprintf. */
#define TEST_STACK ((size_t)256 * 1024)

/* In each implementation's TCase, the loop index `_i` is use_ucontext. */
#define IMPL _i

typedef struct {
    sim_stack stack;
    sim_fiber fiber;
} test_fiber;

static void tf_make(test_fiber *t, int uc, size_t size, sim_fiber_entry entry, void *arg)
{
    ck_assert(sim_stack_alloc(&t->stack, size));
    sim_fiber_make_impl(&t->fiber, &t->stack, entry, arg, uc);
}

static void tf_free(test_fiber *t)
{
    sim_fiber_destroy(&t->fiber);
    sim_stack_free(&t->stack);
}

/* ---- stacks ------------------------------------------------------------ */

START_TEST(test_stack_alloc)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    sim_stack s;
    ck_assert(sim_stack_alloc(&s, 1));
    ck_assert_uint_eq(s.size, page); /* rounded up to whole pages */
    ck_assert_uint_eq(s.map_size, s.size + page);
    ck_assert_ptr_eq(s.base, (char *)s.map + page); /* guard below the usable range */
    memset(s.base, 0xa5, s.size);                  /* all of it is writable */
    sim_stack_free(&s);
    ck_assert_ptr_null(s.map);
    ck_assert_ptr_null(s.base);

    ck_assert(sim_stack_alloc(&s, 3 * page + 1));
    ck_assert_uint_eq(s.size, 4 * page);
    sim_stack_free(&s);

    ck_assert(!sim_stack_alloc(&s, SIZE_MAX)); /* fails cleanly... */
    ck_assert_ptr_null(s.map);
    sim_stack_free(&s); /* ...and leaves something safe to free */
}
END_TEST

START_TEST(test_guard_hit_bounds)
{
    sim_stack s;
    ck_assert(sim_stack_alloc(&s, 64 * 1024));
    char *base = s.base;
    ck_assert(sim_stack_guard_hit(&s, base - 1));
    ck_assert(sim_stack_guard_hit(&s, s.map));
    ck_assert(sim_stack_guard_hit(&s, base - 64 * 1024));
    ck_assert(!sim_stack_guard_hit(&s, base - 64 * 1024 - 1));
    ck_assert(!sim_stack_guard_hit(&s, base));
    ck_assert(!sim_stack_guard_hit(&s, base + s.size / 2));
    ck_assert(!sim_stack_guard_hit(&s, base + s.size));
    sim_stack_free(&s);
}
END_TEST

/* ---- ping-pong: main -> f0 -> f1 -> f2 -> main, many rounds ------------- */

#define PP_FIBERS 3
#define PP_ROUNDS 500

struct pingpong;
struct pp_member {
    struct pingpong *pp;
    int id;
};
struct pingpong {
    int uc;
    sim_fiber main;
    test_fiber f[PP_FIBERS];
    struct pp_member member[PP_FIBERS];
    long mailbox; /* each hop checks the value and passes it on, plus one */
    int log[(PP_FIBERS + 1) * PP_ROUNDS];
    int nlog;
    int bad; /* mailbox mismatches seen by fibers */
};

static void pp_entry(void *arg)
{
    struct pp_member *m = arg;
    struct pingpong *pp = m->pp;
    sim_fiber *self = &pp->f[m->id].fiber;
    sim_fiber *next = m->id + 1 < PP_FIBERS ? &pp->f[m->id + 1].fiber : &pp->main;
    for (int r = 0; r < PP_ROUNDS; r++) {
        pp->log[pp->nlog++] = m->id;
        if (pp->mailbox != r * 10L + m->id)
            pp->bad++;
        pp->mailbox++;
        if (r + 1 < PP_ROUNDS)
            sim_fiber_switch_impl(self, next, pp->uc);
    }
    sim_fiber_switch_final_impl(self, next, pp->uc);
}

START_TEST(test_pingpong)
{
    struct pingpong *pp = calloc(1, sizeof *pp);
    ck_assert_ptr_nonnull(pp);
    pp->uc = IMPL;
    sim_fiber_init_main_impl(&pp->main, pp->uc);
    for (int i = 0; i < PP_FIBERS; i++) {
        pp->member[i] = (struct pp_member){pp, i};
        tf_make(&pp->f[i], pp->uc, TEST_STACK, pp_entry, &pp->member[i]);
    }
    int main_bad = 0;
    for (int r = 0; r < PP_ROUNDS; r++) {
        pp->log[pp->nlog++] = 100 + r;
        pp->mailbox = r * 10L;
        sim_fiber_switch_impl(&pp->main, &pp->f[0].fiber, pp->uc);
        main_bad += pp->mailbox != r * 10L + PP_FIBERS;
    }
    ck_assert_int_eq(main_bad, 0);
    ck_assert_int_eq(pp->bad, 0);
    ck_assert_int_eq(pp->nlog, (PP_FIBERS + 1) * PP_ROUNDS);
    for (int k = 0; k < pp->nlog; k++) {
        int slot = k % (PP_FIBERS + 1);
        int want = slot == 0 ? 100 + k / (PP_FIBERS + 1) : slot - 1;
        ck_assert_int_eq(pp->log[k], want);
    }
    for (int i = 0; i < PP_FIBERS; i++)
        tf_free(&pp->f[i]);
    sim_fiber_destroy(&pp->main);
    free(pp);
}
END_TEST

/* ---- callee-saved registers --------------------------------------------- */

/* Overwrite every callee-saved register the compiler may use (not the frame
 * pointer) right before a switch, so a switch that failed to restore the
 * other side's registers would hand it garbage. The clobber list makes the
 * compiler preserve its own values around this statement. */
static inline void clobber_callee_saved(void)
{
#if defined(__x86_64__)
    __asm__ volatile("movq $-1, %%rbx\n\t"
                     "movq $-1, %%r12\n\t"
                     "movq $-1, %%r13\n\t"
                     "movq $-1, %%r14\n\t"
                     "movq $-1, %%r15\n\t" ::
                         : "rbx", "r12", "r13", "r14", "r15");
#elif defined(__aarch64__)
    __asm__ volatile("mov x19, #-1\n\t"
                     "mov x20, #-1\n\t"
                     "mov x21, #-1\n\t"
                     "mov x22, #-1\n\t"
                     "mov x23, #-1\n\t"
                     "mov x24, #-1\n\t"
                     "mov x25, #-1\n\t"
                     "mov x26, #-1\n\t"
                     "mov x27, #-1\n\t"
                     "mov x28, #-1\n\t"
                     "fmov d8, x19\n\t"
                     "fmov d9, x19\n\t"
                     "fmov d10, x19\n\t"
                     "fmov d11, x19\n\t"
                     "fmov d12, x19\n\t"
                     "fmov d13, x19\n\t"
                     "fmov d14, x19\n\t"
                     "fmov d15, x19\n\t" ::
                         : "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
                           "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15");
#endif
}

#define REG_ROUNDS 50

struct regs_ctx {
    int uc;
    sim_fiber main;
    test_fiber f;
    /* volatile inputs: the compiler can neither predict the held values nor
     * derive one from another, so each needs its own register or slot */
    volatile long in[12];
    volatile double din[10];
    int fiber_bad;
};

/* The other side's switch happens with garbage in its callee-saved
 * registers. (Its own values are saved by this function's prologue.) */
static NOINLINE void clobber_and_switch(sim_fiber *self, sim_fiber *other, int uc)
{
    clobber_callee_saved();
    sim_fiber_switch_impl(self, other, uc);
}

/* Keeps 12 integers and 10 doubles live across every switch: more than
 * there are callee-saved registers, so the compiler puts some in each of
 * them. Returns how many values changed. */
static NOINLINE int hold_values_across_switches(struct regs_ctx *c, sim_fiber *self,
                                                sim_fiber *other, bool clobber)
{
    long a0 = c->in[0], a1 = c->in[1], a2 = c->in[2], a3 = c->in[3], a4 = c->in[4];
    long a5 = c->in[5], a6 = c->in[6], a7 = c->in[7], a8 = c->in[8], a9 = c->in[9];
    long a10 = c->in[10], a11 = c->in[11];
    double d0 = c->din[0], d1 = c->din[1], d2 = c->din[2], d3 = c->din[3], d4 = c->din[4];
    double d5 = c->din[5], d6 = c->din[6], d7 = c->din[7], d8 = c->din[8], d9 = c->din[9];
    for (int r = 0; r < REG_ROUNDS; r++) {
        if (clobber)
            clobber_and_switch(self, other, c->uc);
        else
            sim_fiber_switch_impl(self, other, c->uc);
    }
    int bad = 0;
    bad += a0 != c->in[0];
    bad += a1 != c->in[1];
    bad += a2 != c->in[2];
    bad += a3 != c->in[3];
    bad += a4 != c->in[4];
    bad += a5 != c->in[5];
    bad += a6 != c->in[6];
    bad += a7 != c->in[7];
    bad += a8 != c->in[8];
    bad += a9 != c->in[9];
    bad += a10 != c->in[10];
    bad += a11 != c->in[11];
    bad += d0 != c->din[0];
    bad += d1 != c->din[1];
    bad += d2 != c->din[2];
    bad += d3 != c->din[3];
    bad += d4 != c->din[4];
    bad += d5 != c->din[5];
    bad += d6 != c->din[6];
    bad += d7 != c->din[7];
    bad += d8 != c->din[8];
    bad += d9 != c->din[9];
    return bad;
}

static void regs_entry(void *arg)
{
    struct regs_ctx *c = arg;
    c->fiber_bad = hold_values_across_switches(c, &c->f.fiber, &c->main, true);
    sim_fiber_switch_final_impl(&c->f.fiber, &c->main, c->uc);
}

START_TEST(test_callee_saved)
{
    struct regs_ctx c = {.uc = IMPL, .fiber_bad = -1};
    for (int i = 0; i < 12; i++)
        c.in[i] = (1000003L * (i + 1)) ^ 0x5a5a;
    for (int i = 0; i < 10; i++)
        c.din[i] = 0.37 * (i + 1) + 1e3 * i;
    sim_fiber_init_main_impl(&c.main, c.uc);
    tf_make(&c.f, c.uc, TEST_STACK, regs_entry, &c);
    int main_bad = hold_values_across_switches(&c, &c.main, &c.f.fiber, false);
    /* The fiber still waits in its last switch; let it check and finish. */
    sim_fiber_switch_impl(&c.main, &c.f.fiber, c.uc);
    ck_assert_int_eq(main_bad, 0);
    ck_assert_int_eq(c.fiber_bad, 0);
    tf_free(&c.f);
    sim_fiber_destroy(&c.main);
}
END_TEST

/* ---- deep recursion with floating point across switches ----------------- */

#define DEEP 200

struct deep_ctx {
    int uc;
    sim_fiber main;
    test_fiber f;
    volatile double seed;
    double result;
    int bad;
    bool done;
};

static NOINLINE double deep(struct deep_ctx *c, int depth)
{
    double x = depth * 1.5 + c->seed;
    long n = depth * 7L + 3;
    sim_fiber_switch_impl(&c->f.fiber, &c->main, c->uc);
    double below = depth < DEEP ? deep(c, depth + 1) : 0.0;
    sim_fiber_switch_impl(&c->f.fiber, &c->main, c->uc);
    if (x != depth * 1.5 + c->seed || n != depth * 7L + 3)
        c->bad++;
    return below + x * 0.5;
}

static void deep_entry(void *arg)
{
    struct deep_ctx *c = arg;
    c->result = deep(c, 0);
    c->done = true;
    sim_fiber_switch_final_impl(&c->f.fiber, &c->main, c->uc);
}

START_TEST(test_deep_recursion_float)
{
    struct deep_ctx c = {.uc = IMPL, .seed = 0.1};
    sim_fiber_init_main_impl(&c.main, c.uc);
    tf_make(&c.f, c.uc, TEST_STACK, deep_entry, &c);
    /* Main does its own float work between switches, with values live across them. */
    double acc = 0.0, step = c.seed * 3.0;
    int switches = 0;
    while (!c.done) {
        acc += step;
        sim_fiber_switch_impl(&c.main, &c.f.fiber, c.uc);
        switches++;
    }
    ck_assert_int_eq(switches, 2 * (DEEP + 1) + 1);
    ck_assert_int_eq(c.bad, 0);
    double want_acc = 0.0;
    for (int i = 0; i < switches; i++)
        want_acc += c.seed * 3.0;
    ck_assert(acc == want_acc);
    double want = 0.0; /* the same sum, in the order the recursion unwinds */
    for (int d = DEEP; d >= 0; d--)
        want = want + (d * 1.5 + c.seed) * 0.5;
    ck_assert(c.result == want);
    tf_free(&c.f);
    sim_fiber_destroy(&c.main);
}
END_TEST

/* ---- floating-point control state is per fiber ---------------------------- */

struct fenv_ctx {
    int uc;
    sim_fiber main;
    test_fiber f;
    volatile double one, seven;
    int fiber_round_after;   /* fegetround() in the fiber after a round trip */
    double fiber_quotient;   /* 1/7 computed in the fiber (SSE / NEON) */
    long double fiber_lquotient; /* 1/7 in long double (x87 on x86-64) */
};

static void fenv_entry(void *arg)
{
    struct fenv_ctx *c = arg;
    fesetround(FE_UPWARD);
    sim_fiber_switch_impl(&c->f.fiber, &c->main, c->uc);
    c->fiber_round_after = fegetround();
    c->fiber_quotient = c->one / c->seven;
    c->fiber_lquotient = (long double)c->one / (long double)c->seven;
    sim_fiber_switch_final_impl(&c->f.fiber, &c->main, c->uc);
}

START_TEST(test_fp_control_per_fiber)
{
#if defined(__aarch64__)
    if (!IMPL && sim_fiber_has_asm())
        return; /* fiber_aarch64.S does not switch FPCR by design */
#endif
    struct fenv_ctx c = {.uc = IMPL, .one = 1.0, .seven = 7.0};
    ck_assert_int_eq(fegetround(), FE_TONEAREST);
    sim_fiber_init_main_impl(&c.main, c.uc);
    tf_make(&c.f, c.uc, TEST_STACK, fenv_entry, &c);
    sim_fiber_switch_impl(&c.main, &c.f.fiber, c.uc); /* fiber selects FE_UPWARD */
    int main_round = fegetround();
    double q = c.one / c.seven;
    long double lq = (long double)c.one / (long double)c.seven;
    sim_fiber_switch_impl(&c.main, &c.f.fiber, c.uc);
    int main_round_end = fegetround();
    fesetround(FE_TONEAREST); /* whatever happened, leave the thread sane */

    ck_assert_int_eq(main_round, FE_TONEAREST);
    ck_assert_int_eq(main_round_end, FE_TONEAREST);
    ck_assert_int_eq(c.fiber_round_after, FE_UPWARD);
    /* 1/7 rounds down to nearest in both formats, so upward differs */
    ck_assert(c.fiber_quotient > q);
    ck_assert(c.fiber_lquotient > lq);
    tf_free(&c.f);
    sim_fiber_destroy(&c.main);
}
END_TEST

/* ---- stack alignment ---------------------------------------------------- */

struct align_ctx {
    int uc;
    sim_fiber main;
    test_fiber f;
    int misaligned;
    char text[64];
};

static NOINLINE int misaligned_here(void)
{
    alignas(16) volatile unsigned char buf[48];
    buf[0] = 1;
    int bad = 0;
    bad += ((uintptr_t)buf & 15) != 0;
    bad += ((uintptr_t)__builtin_frame_address(0) & 15) != 0;
    return bad;
}

static void align_entry(void *arg)
{
    struct align_ctx *c = arg;
    c->misaligned += ((uintptr_t)__builtin_frame_address(0) & 15) != 0;
    c->misaligned += misaligned_here();
    sim_fiber_switch_impl(&c->f.fiber, &c->main, c->uc);
    c->misaligned += misaligned_here();
    /* glibc's printf of doubles uses aligned SSE stores on x86-64: it would
     * crash on a misaligned stack. */
    snprintf(c->text, sizeof c->text, "%.3f|%Lg", 2.5, (long double)0.25);
    sim_fiber_switch_final_impl(&c->f.fiber, &c->main, c->uc);
}

START_TEST(test_stack_alignment)
{
    struct align_ctx c = {.uc = IMPL};
    sim_fiber_init_main_impl(&c.main, c.uc);
    tf_make(&c.f, c.uc, TEST_STACK, align_entry, &c);
    sim_fiber_switch_impl(&c.main, &c.f.fiber, c.uc);
    sim_fiber_switch_impl(&c.main, &c.f.fiber, c.uc);
    ck_assert_int_eq(c.misaligned, 0);
    ck_assert_str_eq(c.text, "2.500|0.25");
    tf_free(&c.f);
    sim_fiber_destroy(&c.main);
}
END_TEST

/* ---- a finished fiber's stack can carry a new fiber ------------------------ */

struct reuse_ctx {
    int uc;
    sim_fiber main;
    sim_fiber f;
    int runs;
    int value;
};

static void reuse_entry(void *arg)
{
    struct reuse_ctx *c = arg;
    volatile char scratch[1024]; /* dirty the stack so the next fiber starts on used memory */
    memset((char *)scratch, c->runs, sizeof scratch);
    c->value += scratch[10] + 1;
    c->runs++;
    sim_fiber_switch_final_impl(&c->f, &c->main, c->uc);
}

START_TEST(test_final_then_reuse_stack)
{
    struct reuse_ctx c = {.uc = IMPL};
    sim_stack st;
    ck_assert(sim_stack_alloc(&st, TEST_STACK));
    sim_fiber_init_main_impl(&c.main, c.uc);
    for (int i = 0; i < 20; i++) {
        sim_fiber_make_impl(&c.f, &st, reuse_entry, &c, c.uc);
        sim_fiber_switch_impl(&c.main, &c.f, c.uc);
        sim_fiber_destroy(&c.f);
    }
    ck_assert_int_eq(c.runs, 20);
    ck_assert_int_eq(c.value, 20 * 21 / 2); /* sum of (run index + 1) */
    sim_fiber_destroy(&c.main);
    sim_stack_free(&st);
}
END_TEST

/* ---- re-making a fiber that is still suspended ---------------------------- */

/* What the simulator does between executions: threads still blocked when an
 * execution ends are never resumed; the next execution makes new fibers in
 * the same sim_fiber objects and stacks, without destroying them first. The
 * ucontext block is reused (LSan would report a leak otherwise) and, under
 * ASan, the abandoned fiber's fake stack is released. */

struct remake_ctx {
    int uc;
    sim_fiber main;
    sim_fiber f;
    int started;
};

static void remake_entry(void *arg)
{
    struct remake_ctx *c = arg;
    volatile char frame[512]; /* in a fake frame under detect_stack_use_after_return */
    frame[0] = 1;
    c->started += frame[0];
    sim_fiber_switch_impl(&c->f, &c->main, c->uc); /* never resumed */
    __builtin_trap();
}

START_TEST(test_remake_suspended_fiber)
{
    struct remake_ctx c = {.uc = IMPL};
    sim_stack st;
    ck_assert(sim_stack_alloc(&st, TEST_STACK));
    sim_fiber_init_main_impl(&c.main, c.uc);
    for (int i = 0; i < 200; i++) {
        sim_fiber_make_impl(&c.f, &st, remake_entry, &c, c.uc);
        sim_fiber_switch_impl(&c.main, &c.f, c.uc);
    }
    ck_assert_int_eq(c.started, 200);
    sim_fiber_destroy(&c.f);
    sim_fiber_destroy(&c.main);
    sim_stack_free(&st);
}
END_TEST

/* ---- longjmp inside a fiber ---------------------------------------------- */

/* longjmp out of deep frames leaves their ASan redzones poisoned unless ASan
 * unpoisons the stack it is on, which it can only do when it was told the
 * fiber's stack bounds. Stale poison then makes a later, uninstrumented
 * frame at the same addresses (libc's, libcheck's) fail its interceptor
 * checks. Without ASan this just checks that setjmp/longjmp work on a
 * fiber stack. */

struct jmp_ctx {
    int uc;
    sim_fiber main;
    test_fiber f;
    jmp_buf jb;
    int jumped;
    size_t written;
};

static NOINLINE void jump_from_deep(jmp_buf *jb, int depth)
{
    volatile char big[200]; /* with redzones around it under ASan */
    big[0] = (char)depth;
    if (depth > 0)
        jump_from_deep(jb, depth - 1);
    else if (big[0] == 0) /* always true; keeps gcc from calling this infinite recursion */
        longjmp(*jb, 1);
    big[1] = big[0];
}

/* Like a frame of uninstrumented library code: no shadow set up for `buf`,
 * but snprintf's interceptor checks the bytes it writes. */
__attribute__((no_sanitize("address"))) static NOINLINE size_t
uninstrumented_frame_writes(void)
{
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%4000s", "x");
    return n > 0 ? strlen(buf) : 0;
}

static void jmp_entry(void *arg)
{
    struct jmp_ctx *c = arg;
    if (setjmp(c->jb) == 0)
        jump_from_deep(&c->jb, 10);
    else
        c->jumped++;
    sim_fiber_switch_impl(&c->f.fiber, &c->main, c->uc); /* the switch must still work */
    c->written = uninstrumented_frame_writes();
    sim_fiber_switch_final_impl(&c->f.fiber, &c->main, c->uc);
}

START_TEST(test_longjmp_in_fiber)
{
    struct jmp_ctx *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->uc = IMPL;
    sim_fiber_init_main_impl(&c->main, c->uc);
    tf_make(&c->f, c->uc, TEST_STACK, jmp_entry, c);
    sim_fiber_switch_impl(&c->main, &c->f.fiber, c->uc);
    sim_fiber_switch_impl(&c->main, &c->f.fiber, c->uc);
    ck_assert_int_eq(c->jumped, 1);
    ck_assert_uint_eq(c->written, 4000);
    tf_free(&c->f);
    sim_fiber_destroy(&c->main);
    free(c);
}
END_TEST

/* ---- the guard page faults ------------------------------------------------ */

/* The child's SIGSEGV handler has no other way to reach the pipe: a signal
 * handler gets no user argument. Only the forked child writes it. */
static int guard_pipe_fd = -1;

static void guard_segv_handler(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)uctx;
    void *addr = info->si_addr;
    ssize_t n = write(guard_pipe_fd, &addr, sizeof addr);
    (void)n;
    /* SA_RESETHAND restored SIG_DFL: returning re-runs the faulting access,
     * which now kills the child with SIGSEGV. */
}

static NOINLINE unsigned long overflow(volatile unsigned long *stop, unsigned long depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    pad[sizeof pad - 1] = (char)depth;
    if (depth == *stop) /* never true: keeps the recursion unbounded but not provably infinite */
        return depth;
    return overflow(stop, depth + 1) + (unsigned long)pad[0]; /* not a tail call */
}

static void overflow_entry(void *arg)
{
    overflow(arg, 0);
    __builtin_trap(); /* unreachable: would show up as SIGILL/SIGTRAP, not SIGSEGV */
}

START_TEST(test_guard_page_faults)
{
    int uc = IMPL;
    sim_stack st;
    ck_assert(sim_stack_alloc(&st, 16 * 1024));
    ck_assert(sim_stack_guard_hit(&st, (char *)st.base - 1));
    ck_assert(!sim_stack_guard_hit(&st, (char *)st.base + st.size / 2));

    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        guard_pipe_fd = fds[1];
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        /* The handler cannot run on the overflowed stack. */
        stack_t alt = {.ss_sp = malloc(64 * 1024), .ss_size = 64 * 1024, .ss_flags = 0};
        if (alt.ss_sp == NULL || sigaltstack(&alt, NULL) != 0)
            _exit(10);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = guard_segv_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGSEGV, &sa, NULL) != 0)
            _exit(11);
        volatile unsigned long stop = ULONG_MAX;
        sim_fiber m = {0}, f = {0};
        sim_fiber_init_main_impl(&m, uc);
        sim_fiber_make_impl(&f, &st, overflow_entry, (void *)&stop, uc);
        sim_fiber_switch_impl(&m, &f, uc);
        _exit(12); /* the fiber never comes back */
    }
    close(fds[1]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    void *fault = NULL;
    ssize_t got = read(fds[0], &fault, sizeof fault);
    close(fds[0]);

    ck_assert_msg(WIFSIGNALED(status), "child exited with status %d instead of dying",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    ck_assert_int_eq(WTERMSIG(status), SIGSEGV);
    ck_assert_int_eq(got, (ssize_t)sizeof fault);
    ck_assert_msg(sim_stack_guard_hit(&st, fault), "fault at %p, stack base %p", fault, st.base);
    /* With one frame far smaller than a page, the first fault is in the guard page itself. */
    ck_assert_msg((char *)fault >= (char *)st.map && (char *)fault < (char *)st.base,
                  "fault at %p, guard page %p..%p", fault, st.map, st.base);
    sim_stack_free(&st);
}
END_TEST

/* ---- the configured fiber.h API ------------------------------------------ */

START_TEST(test_configured_impl_name)
{
    const char *name = sim_fiber_impl();
#if defined(IOCPCHECK_FIBER_UCONTEXT) && (IOCPCHECK_FIBER_UCONTEXT + 0) == 1
    ck_assert_str_eq(name, "ucontext");
#else
    if (!sim_fiber_has_asm())
        ck_assert_str_eq(name, "ucontext");
#if defined(__x86_64__)
    else
        ck_assert_str_eq(name, "asm-x86_64");
#elif defined(__aarch64__)
    else
        ck_assert_str_eq(name, "asm-aarch64");
#endif
#endif
    ck_assert_str_eq(sim_fiber_impl_name(1), "ucontext");
}
END_TEST

struct plain_ctx {
    sim_fiber main;
    sim_fiber f;
    int steps[4];
    int n;
};

static void plain_entry(void *arg)
{
    struct plain_ctx *c = arg;
    c->steps[c->n++] = 1;
    sim_fiber_switch(&c->f, &c->main);
    c->steps[c->n++] = 3;
    sim_fiber_switch_final(&c->f, &c->main);
}

START_TEST(test_configured_pingpong)
{
    struct plain_ctx c = {.n = 0};
    sim_stack st;
    ck_assert(sim_stack_alloc(&st, TEST_STACK));
    sim_fiber_init_main(&c.main);
    sim_fiber_make(&c.f, &st, plain_entry, &c);
    sim_fiber_switch(&c.main, &c.f);
    c.steps[c.n++] = 2;
    sim_fiber_switch(&c.main, &c.f);
    ck_assert_int_eq(c.n, 3);
    ck_assert_int_eq(c.steps[0], 1);
    ck_assert_int_eq(c.steps[1], 2);
    ck_assert_int_eq(c.steps[2], 3);
    sim_fiber_destroy(&c.f);
    sim_fiber_destroy(&c.main);
    sim_stack_free(&st);
}
END_TEST

/* ---- suite ----------------------------------------------------------------- */

static Suite *fiber_suite(void)
{
    Suite *s = suite_create("fiber");

    TCase *tc = tcase_create("stack");
    tcase_add_test(tc, test_stack_alloc);
    tcase_add_test(tc, test_guard_hit_bounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("configured");
    tcase_add_test(tc, test_configured_impl_name);
    tcase_add_test(tc, test_configured_pingpong);
    suite_add_tcase(s, tc);

    /* The same tests once per implementation; the loop index is use_ucontext. */
    for (int uc = 0; uc <= 1; uc++) {
        tc = tcase_create(uc ? "ucontext" : "asm");
        tcase_add_loop_test(tc, test_pingpong, uc, uc + 1);
        tcase_add_loop_test(tc, test_callee_saved, uc, uc + 1);
        tcase_add_loop_test(tc, test_deep_recursion_float, uc, uc + 1);
        tcase_add_loop_test(tc, test_fp_control_per_fiber, uc, uc + 1);
        tcase_add_loop_test(tc, test_stack_alignment, uc, uc + 1);
        tcase_add_loop_test(tc, test_final_then_reuse_stack, uc, uc + 1);
        tcase_add_loop_test(tc, test_remake_suspended_fiber, uc, uc + 1);
        tcase_add_loop_test(tc, test_longjmp_in_fiber, uc, uc + 1);
        tcase_add_loop_test(tc, test_guard_page_faults, uc, uc + 1);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    if (!sim_fiber_has_asm())
        printf("note: no hand-written switch for this target; \"asm\" runs ucontext\n");
    SRunner *sr = srunner_create(fiber_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
