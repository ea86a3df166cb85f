/* scn_expect.c - checks the scenario's expectations and reports failures.
 *
 * A failure goes to hooks->fail with the property's name; the message
 * starts with the file:line of the expectation and ends with what actually
 * happened. On the simulator fail does not return. On a backend where it
 * returns, the execution is wound down: threads skip their remaining steps
 * and every open descriptor is closed, which wakes whoever still waits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scn_exec_int.h"

int64_t scn__since_start(scn_exec_st *x) { return x->sh->sync->now_ns(x->sh->sync->ctx) - x->t0; }

void scn__fail(scn_exec_st *x, const char *property, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    x->hk->fail(x->hk->arg, property, msg);
    if (atomic_exchange(&x->stop, 1) != 0) return;
    for (uint32_t k = 0; k < x->s->nsockets; k++)
        if (x->fds[k].fd != NULL) np_fd_close(x->fds[k].fd);
}

/* Durations as written in scenarios: the largest unit that divides them. */
static int fmt_dur(char *b, size_t n, int64_t ns) {
    if (ns != 0 && ns % 1000000000 == 0) return snprintf(b, n, "%llds", (long long)(ns / 1000000000));
    if (ns != 0 && ns % 1000000 == 0) return snprintf(b, n, "%lldms", (long long)(ns / 1000000));
    if (ns != 0 && ns % 1000 == 0) return snprintf(b, n, "%lldus", (long long)(ns / 1000));
    return snprintf(b, n, "%lldns", (long long)ns);
}


static int fmt_outcome(char *b, size_t n, uint8_t o, bool has_value, uint64_t v) {
    if (!has_value) return snprintf(b, n, "%s", model_outcome_name(o));
    if (o == MOUT_ERROR && (int64_t)v == SCN_NOMEM) return snprintf(b, n, "nomem");
    if (o == MOUT_ERROR && (int64_t)v < 0) return snprintf(b, n, "error(%lld)", (long long)(int64_t)v);
    return snprintf(b, n, "%s(%llu)", model_outcome_name(o), (unsigned long long)v);
}

static bool item_matches(const scn_item *it, const scn_xres *r) {
    return it->outcome == r->outcome && (!it->has_value || it->value == r->value);
}

static void check_in(scn_exec_st *x, const scn_step *st) {
    const scn_scenario *s = x->s;
    const scn_xres *r = &x->res[st->result];
    for (uint32_t i = 0; i < st->nitems; i++)
        if (item_matches(&s->items[st->items + i], r)) return;
    char set[300];
    size_t used = 0;
    for (uint32_t i = 0; i < st->nitems && used < sizeof set; i++) {
        const scn_item *it = &s->items[st->items + i];
        if (i > 0) used += (size_t)snprintf(set + used, sizeof set - used, ", ");
        if (used < sizeof set) used += (size_t)fmt_outcome(set + used, sizeof set - used, it->outcome, it->has_value, it->value);
    }
    char got[40];
    bool valued = r->outcome == MOUT_OK || r->outcome == MOUT_ERROR || r->outcome == MOUT_TRUNC;
    fmt_outcome(got, sizeof got, r->outcome, valued, r->value);
    scn__fail(x, "expect", "%s:%u: expect %s in {%s}: got %s", s->path, st->line, s->results[st->result].name, set, got);
}

/* `what` is the result's name (NULL: elapsed) and `how` what of it is
 * bounded: named only when the bound fails, formatting it every time was 1.5%
 * of a small scenario's execution. */
static void check_bound(scn_exec_st *x, const scn_step *st, const char *name, const char *how, int64_t actual) {
    int64_t tol = st->mode == '<' ? x->opts.late_ns : x->opts.early_ns;
    bool ok = st->mode == '<' ? actual <= st->arg + tol : actual >= st->arg - tol;
    if (ok) return;
    char what[80];
    snprintf(what, sizeof what, "%s%s%s", name != NULL ? name : "", name != NULL ? " " : "", how);
    char want[32], got[32], slack[48] = "";
    fmt_dur(want, sizeof want, st->arg);
    fmt_dur(got, sizeof got, actual);
    if (tol != 0) {
        int n = snprintf(slack, sizeof slack, " (tolerance ");
        fmt_dur(slack + n, sizeof slack - (size_t)n - 1, tol);
        strcat(slack, ")");
    }
    scn__fail(x, "expect", "%s:%u: expect %s %s %s%s: it was %s", x->s->path, st->line, what,
              st->mode == '<' ? "<=" : ">=", want, slack, got);
}

void scn__check(scn_exec_st *x, const scn_step *st) {
    const scn_scenario *s = x->s;
    if (st->op == SCN_EXPECT_ELAPSED) {
        check_bound(x, st, NULL, "elapsed", scn__since_start(x));
        return;
    }
    const scn_xres *r = &x->res[st->result];
    if (r->outcome == 0) {
        /* Only possible at the top level, when a failure stopped its thread early. */
        scn__fail(x, "expect", "%s:%u: expect %s: the step that assigns it did not run", s->path, st->line,
                  s->results[st->result].name);
        return;
    }
    if (st->op == SCN_EXPECT_IN) {
        check_in(x, st);
        return;
    }
    bool took = st->op == SCN_EXPECT_TOOK;
    check_bound(x, st, s->results[st->result].name, took ? "took" : "at", took ? r->took_ns : r->at_ns);
}
