/* bench_fiber.c - measures fiber switch cost: the hand-written asm switch
 * against the ucontext fallback (both through fiber_bench.h), and the
 * configured sim_fiber_switch that the simulator actually calls.
 *
 * One round trip is main -> fiber -> main (two one-way switches). Each row
 * is the median of 5 timed runs after a warm-up run.
 *
 * usage: bench_fiber [round_trips [ucontext_round_trips]]
 *   defaults: 10000000, and 1000000 for ucontext (it makes system calls,
 *   so 10 million round trips would take tens of seconds)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/fiber.h"
#include "sim/fiber_bench.h"

#define RUNS 5

enum mode { MODE_ASM, MODE_UCONTEXT, MODE_CONFIGURED };

struct bench {
    enum mode mode;
    sim_fiber main;
    sim_fiber fiber;
    volatile bool stop;
};

/* Each mode gets its own loop so the measured loop holds nothing but the
 * switch call (and the fiber side one flag test). */
#define SWITCH(b, from, to, mode)                                                                 \
    ((mode) == MODE_CONFIGURED ? sim_fiber_switch((from), (to))                                   \
                               : sim_fiber_switch_impl((from), (to), (mode) == MODE_UCONTEXT))

static void bench_entry(void *arg)
{
    struct bench *b = arg;
    switch (b->mode) {
    case MODE_ASM:
        do
            SWITCH(b, &b->fiber, &b->main, MODE_ASM);
        while (!b->stop);
        break;
    case MODE_UCONTEXT:
        do
            SWITCH(b, &b->fiber, &b->main, MODE_UCONTEXT);
        while (!b->stop);
        break;
    case MODE_CONFIGURED:
        do
            SWITCH(b, &b->fiber, &b->main, MODE_CONFIGURED);
        while (!b->stop);
        break;
    }
    if (b->mode == MODE_CONFIGURED)
        sim_fiber_switch_final(&b->fiber, &b->main);
    else
        sim_fiber_switch_final_impl(&b->fiber, &b->main, b->mode == MODE_UCONTEXT);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Returns the elapsed nanoseconds for n round trips. */
static uint64_t timed_round_trips(struct bench *b, uint64_t n)
{
    uint64_t t0 = now_ns();
    switch (b->mode) {
    case MODE_ASM:
        for (uint64_t i = 0; i < n; i++)
            SWITCH(b, &b->main, &b->fiber, MODE_ASM);
        break;
    case MODE_UCONTEXT:
        for (uint64_t i = 0; i < n; i++)
            SWITCH(b, &b->main, &b->fiber, MODE_UCONTEXT);
        break;
    case MODE_CONFIGURED:
        for (uint64_t i = 0; i < n; i++)
            SWITCH(b, &b->main, &b->fiber, MODE_CONFIGURED);
        break;
    }
    return now_ns() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static bool bench_row(enum mode mode, const char *label, uint64_t n)
{
    sim_stack stack;
    if (!sim_stack_alloc(&stack, 64 * 1024)) {
        fprintf(stderr, "bench_fiber: cannot allocate a stack\n");
        return false;
    }
    struct bench *b = calloc(1, sizeof *b);
    if (b == NULL) {
        sim_stack_free(&stack);
        return false;
    }
    b->mode = mode;
    int use_uc = mode == MODE_UCONTEXT;
    if (mode == MODE_CONFIGURED) {
        sim_fiber_init_main(&b->main);
        sim_fiber_make(&b->fiber, &stack, bench_entry, b);
    } else {
        sim_fiber_init_main_impl(&b->main, use_uc);
        sim_fiber_make_impl(&b->fiber, &stack, bench_entry, b, use_uc);
    }

    timed_round_trips(b, n / 10 + 1); /* warm-up: caches, branch predictors, page faults */
    uint64_t ns[RUNS];
    for (int r = 0; r < RUNS; r++)
        ns[r] = timed_round_trips(b, n);
    qsort(ns, RUNS, sizeof ns[0], cmp_u64);
    double per_rt = (double)ns[RUNS / 2] / (double)n;
    printf("%-34s %12llu %16.2f %14.2f\n", label, (unsigned long long)n, per_rt, per_rt / 2);

    b->stop = true; /* let the fiber leave its loop and finish */
    if (mode == MODE_CONFIGURED)
        sim_fiber_switch(&b->main, &b->fiber);
    else
        sim_fiber_switch_impl(&b->main, &b->fiber, use_uc);
    sim_fiber_destroy(&b->fiber);
    sim_fiber_destroy(&b->main);
    free(b);
    sim_stack_free(&stack);
    return true;
}

static uint64_t parse_count(const char *s, uint64_t fallback)
{
    if (s == NULL)
        return fallback;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || v == 0) {
        fprintf(stderr, "bench_fiber: bad round-trip count '%s'\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    uint64_t n = parse_count(argc > 1 ? argv[1] : NULL, 10000000);
    uint64_t n_uc = parse_count(argc > 2 ? argv[2] : NULL, n < 1000000 ? n : 1000000);

    char configured[64];
    snprintf(configured, sizeof configured, "sim_fiber_switch (%s)", sim_fiber_impl());

    printf("%-34s %12s %16s %14s\n", "implementation", "round trips", "ns/round trip",
           "ns/switch");
    bool ok = true;
    if (sim_fiber_has_asm())
        ok &= bench_row(MODE_ASM, sim_fiber_impl_name(0), n);
    ok &= bench_row(MODE_UCONTEXT, sim_fiber_impl_name(1), n_uc);
    ok &= bench_row(MODE_CONFIGURED, configured,
                    strcmp(sim_fiber_impl(), "ucontext") != 0 ? n : n_uc);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
