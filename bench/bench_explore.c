/* bench_explore.c - explorer throughput and partial-order reduction.
 *
 * For each small program (tests/explore_progs.h) and bound, explores the
 * whole bounded space with naive DFS, sleep sets and DPOR, and prints the
 * executions each needed, executions per second, and the reduction ratio
 * against naive DFS (naive executions / reduced executions). Wall time is
 * measured here only (benchmarks are outside the determinism lint).
 *
 * "classes" is the number of distinct Mazurkiewicz classes (ep_class: each
 * word's writes in order, each read with the write it saw) among the naive
 * runs, i.e. the classes that have an execution within the bound: no sound
 * reduction can run fewer executions, so naive / classes is the best ratio
 * any DPOR can reach on that program and bound, and dpor / classes says how
 * far DPOR is from it (1.00 = optimal).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "search/explore.h"
#include "tests/explore_progs.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct row {
    uint64_t execs, partial, classes;
    double secs;
    bool complete, violation;
} row;

/* Distinct class hashes of one exploration (open addressing, 0 = empty). */
#define CLASS_SLOTS (1u << 20)
typedef struct class_set {
    ep_prog *p;
    uint64_t *slot;
    uint64_t n;
} class_set;

static void on_exec(void *user, sim_ctx *sim, const sim_result *r) {
    (void)sim;
    (void)r;
    class_set *cs = user;
    uint64_t h = ep_class(cs->p) | 1;
    uint32_t j = (uint32_t)(ep_mix(0, h) & (CLASS_SLOTS - 1));
    while (cs->slot[j] != 0 && cs->slot[j] != h) j = (j + 1) & (CLASS_SLOTS - 1);
    if (cs->slot[j] == 0 && cs->n + 1 < CLASS_SLOTS / 2) {
        cs->slot[j] = h;
        cs->n++;
    }
}

static row run(sim_ctx *sim, ep_kind k, explore_por por, int32_t bound) {
    ep_prog p = {.kind = k};
    explore_options o;
    explore_options_default(&o);
    o.por = por;
    o.preemption_bound = bound;
    o.stop_on_violation = false;
    o.max_executions = 5000000;
    class_set cs = {&p, calloc(CLASS_SLOTS, sizeof(uint64_t)), 0};
    if (cs.slot == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(3);
    }
    o.on_execution = on_exec;
    o.exec_user = &cs;
    explore_result r;
    double t0 = now_s();
    if (!explore_run(sim, ep_main, &p, &o, &r)) {
        fprintf(stderr, "out of memory\n");
        exit(3);
    }
    row out = {r.stats.executions, r.stats.partial, cs.n, now_s() - t0, r.stats.complete, r.violation.found};
    explore_result_free(&r);
    free(cs.slot);
    return out;
}

int main(void) {
    static const struct {
        ep_kind k;
        const char *name;
    } progs[] = {
        {EP_INDEP2, "indep2"},   {EP_SAME2, "same2"},     {EP_LOST2, "lost2"},     {EP_MUTEX2, "mutex2"},
        {EP_INDEP3, "indep3"},   {EP_READERS3, "readers3"}, {EP_LOST3, "lost3"},   {EP_MUTEX3, "mutex3"},
        {EP_INDEP4, "indep4"},
    };
    static const int32_t bounds[] = {0, 1, 2, -1};
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.record_trace = false;
    cfg.stack_size = 64 * 1024;
    sim_ctx *sim = sim_create(&cfg);
    if (sim == NULL) return 3;
    printf("%-9s %3s %3s | %9s %9s %7s %7s | %9s %7s | %9s %7s %9s | %10s %10s\n", "program", "thr", "K", "naive",
           "exec/s", "classes", "best", "sleep", "ratio", "dpor", "ratio", "dpor/cls", "dpor ex/s", "complete");
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
            int32_t K = bounds[b];
            /* Naive DFS past K = 2 with joins: lost3 takes 293,256 runs, mutex3 and indep4 far more. */
            if (K < 0 && (progs[i].k == EP_MUTEX3 || progs[i].k == EP_INDEP4)) continue;
            row n = run(sim, progs[i].k, EXPLORE_POR_NONE, K);
            row s = run(sim, progs[i].k, EXPLORE_POR_SLEEP, K);
            row d = run(sim, progs[i].k, EXPLORE_POR_DPOR, K);
            char kb[8];
            snprintf(kb, sizeof kb, "%s", K < 0 ? "inf" : K == 0 ? "0" : K == 1 ? "1" : "2");
            printf("%-9s %3u %3s | %9llu %9.0f %7llu %6.1fx | %9llu %6.1fx | %9llu %6.1fx %9.2f | %10.0f %10s\n",
                   progs[i].name, ep_threads(progs[i].k), kb, (unsigned long long)n.execs, (double)n.execs / n.secs,
                   (unsigned long long)n.classes, (double)n.execs / (double)(n.classes ? n.classes : 1),
                   (unsigned long long)s.execs, (double)n.execs / (double)(s.execs ? s.execs : 1),
                   (unsigned long long)d.execs, (double)n.execs / (double)(d.execs ? d.execs : 1),
                   (double)d.execs / (double)(n.classes ? n.classes : 1),
                   (double)(d.execs + d.partial) / d.secs,
                   n.complete && s.complete && d.complete ? "yes" : "no");
        }
    }
    sim_destroy(sim);
    return 0;
}
