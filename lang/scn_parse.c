/* scn_parse.c - the scenario parser: text to the flat form of scn_ast.h.
 *
 * One pass over the lines (after a quick pre-scan that collects the names
 * of results, so that "used before it is assigned" and "undeclared" can be
 * told apart). Each error stops the parse with "path:line:col: message";
 * nothing is run. Statement parsing is in this file; steps and expectations
 * are in scn_steps.c. The accessors of scenario.h live at the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/sim.h" /* stored schedules are checked with the simulator's parser */
#include "scn_parse_int.h"

/* ---- Errors and small helpers (used by scn_steps.c too) ---- */

bool scn__err(scn_parser *P, uint32_t col, const char *fmt, ...) {
    if (P->failed) return false;
    P->failed = true;
    int n = snprintf(P->err, P->errlen, "%s:%u:%u: ", P->path, P->line, col);
    if (n < 0 || (size_t)n >= P->errlen) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(P->err + n, P->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

const char *scn__text(scn_parser *P, const scn_tok *t) {
    if (t->kind == SCN_T_END) return "end of line";
    uint32_t n = t->len < sizeof P->tbuf - 1 ? t->len : (uint32_t)sizeof P->tbuf - 1;
    if (t->kind == SCN_T_STR) {
        snprintf(P->tbuf, sizeof P->tbuf, "a string");
        return P->tbuf;
    }
    memcpy(P->tbuf, t->s, n);
    P->tbuf[n] = '\0';
    return P->tbuf;
}

bool scn__end(scn_parser *P, const scn_tok *t) {
    if (t->kind == SCN_T_END) return true;
    return scn__err(P, t->col, "unexpected '%s' at the end of the statement", scn__text(P, t));
}

bool scn__grow(void **arr, uint32_t *cap, uint32_t n, size_t elem) {
    if (n < *cap) return true;
    uint32_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (p == NULL) return false;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return true;
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d == NULL) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

bool scn__tok_eq(const scn_tok *t, const char *s) {
    size_t n = strlen(s);
    return t->len == n && memcmp(t->s, s, n) == 0;
}

bool scn__int(scn_parser *P, const scn_tok *t, int64_t min, int64_t max, const char *what, int64_t *out) {
    if (t->kind != SCN_T_NUM) return scn__err(P, t->col, "expected %s, got '%s'", what, scn__text(P, t));
    int64_t v = 0;
    for (uint32_t i = 0; i < t->len; i++) {
        char c = t->s[i];
        if (c < '0' || c > '9') return scn__err(P, t->col, "bad number '%s' for %s", scn__text(P, t), what);
        if (v > (INT64_MAX - 9) / 10 || v * 10 + (c - '0') > max)
            return scn__err(P, t->col, "bad number '%s' for %s: too large (at most %lld)", scn__text(P, t), what,
                            (long long)max);
        v = v * 10 + (c - '0');
    }
    if (v < min || v > max)
        return scn__err(P, t->col, "%s must be in [%lld, %lld], got %lld", what, (long long)min, (long long)max,
                        (long long)v);
    *out = v;
    return true;
}

/* DUR := digits [ '.' digits ] unit, unit in ns us ms s; a bare 0 is zero. */
bool scn__dur(scn_parser *P, const scn_tok *t, int64_t *out) {
    if (t->kind != SCN_T_NUM) return scn__err(P, t->col, "expected a duration (10ms, 2s, 500us), got '%s'", scn__text(P, t));
    uint32_t i = 0;
    int64_t whole = 0, frac = 0, fden = 1;
    while (i < t->len && t->s[i] >= '0' && t->s[i] <= '9') {
        if (whole > 100000000000LL) goto big;
        whole = whole * 10 + (t->s[i++] - '0');
    }
    if (i < t->len && t->s[i] == '.') {
        i++;
        if (i >= t->len || t->s[i] < '0' || t->s[i] > '9') goto bad;
        while (i < t->len && t->s[i] >= '0' && t->s[i] <= '9') {
            if (fden >= 1000000000LL) goto bad;
            frac = frac * 10 + (t->s[i++] - '0');
            fden *= 10;
        }
    }
    if (i == t->len) {
        if (whole == 0 && frac == 0) {
            *out = 0;
            return true;
        }
        return scn__err(P, t->col, "bad duration '%s': needs a unit (ns, us, ms or s)", scn__text(P, t));
    }
    int64_t unit;
    const char *u = t->s + i;
    uint32_t ul = t->len - i;
    if (ul == 2 && memcmp(u, "ns", 2) == 0) unit = 1;
    else if (ul == 2 && memcmp(u, "us", 2) == 0) unit = 1000;
    else if (ul == 2 && memcmp(u, "ms", 2) == 0) unit = 1000000;
    else if (ul == 1 && u[0] == 's') unit = 1000000000;
    else goto bad;
    if (whole > INT64_MAX / unit / 2) goto big;
    if ((frac * unit) % fden != 0)
        return scn__err(P, t->col, "bad duration '%s': not a whole number of nanoseconds", scn__text(P, t));
    *out = whole * unit + frac * unit / fden;
    return true;
bad:
    return scn__err(P, t->col, "bad duration '%s' (a number and a unit: ns, us, ms or s)", scn__text(P, t));
big: /* the number and unit are fine: the value is not */
    return scn__err(P, t->col, "bad duration '%s': too long (at most 4611686018 s, about 146 years)",
                    scn__text(P, t));
}

bool scn__name_ok(scn_parser *P, const scn_tok *t, const char *what) {
    if (t->kind != SCN_T_IDENT) return scn__err(P, t->col, "expected %s, got '%s'", what, scn__text(P, t));
    if (memchr(t->s, '.', t->len) != NULL)
        return scn__err(P, t->col, "bad %s '%s': no dots in names", what, scn__text(P, t));
    return true;
}

int32_t scn__find_socket(const scn_scenario *s, const char *name, size_t n) {
    for (uint32_t i = 0; i < s->nsockets; i++)
        if (strlen(s->sockets[i].name) == n && memcmp(s->sockets[i].name, name, n) == 0) return (int32_t)i;
    return -1;
}

int32_t scn__find_result(const scn_scenario *s, const char *name, size_t n) {
    for (uint32_t i = 0; i < s->nresults; i++)
        if (strlen(s->results[i].name) == n && memcmp(s->results[i].name, name, n) == 0) return (int32_t)i;
    return -1;
}

static int32_t find_thread(const scn_scenario *s, const char *name, size_t n) {
    for (uint32_t i = 0; i < s->nthreads; i++)
        if (strlen(s->threads[i].name) == n && memcmp(s->threads[i].name, name, n) == 0) return (int32_t)i;
    return -1;
}

bool scn__known_later(const scn_parser *P, const scn_tok *t) {
    for (uint32_t i = 0; i < P->nlater; i++)
        if (strlen(P->later[i]) == t->len && memcmp(P->later[i], t->s, t->len) == 0) return true;
    return false;
}

/* ---- Top-level statements ---- */

static bool st_scenario(scn_parser *P, const scn_tok *t) {
    scn_scenario *s = P->s;
    if (P->name_line != 0) return scn__err(P, t[0].col, "duplicate scenario statement (first at line %u)", P->name_line);
    if (t[1].kind != SCN_T_IDENT) return scn__err(P, t[1].col, "expected the scenario's name, got '%s'", scn__text(P, &t[1]));
    if (!scn__end(P, &t[2])) return false;
    free(s->name);
    s->name = dup_n(t[1].s, t[1].len);
    P->name_line = P->line;
    return s->name != NULL || scn__err(P, 1, "out of memory");
}

static bool st_socket(scn_parser *P, const scn_tok *t) {
    scn_scenario *s = P->s;
    if (!scn__name_ok(P, &t[1], "a socket name")) return false;
    int32_t dup = scn__find_socket(s, t[1].s, t[1].len);
    if (dup >= 0) return scn__err(P, t[1].col, "duplicate socket '%s' (first at line %u)", scn__text(P, &t[1]), s->sockets[dup].line);
    if (s->nsockets == SCN_MAX_SOCKETS) return scn__err(P, t[1].col, "too many sockets (at most %d)", SCN_MAX_SOCKETS);
    if (!scn__grow((void **)&s->sockets, &P->cap_sockets, s->nsockets, sizeof *s->sockets)) return scn__err(P, 1, "out of memory");
    scn_socket *k = &s->sockets[s->nsockets];
    memset(k, 0, sizeof *k);
    k->reader = k->writer = k->sender = k->opener = k->peer_reader = -1;
    k->line = P->line;
    uint32_t i = 2;
    for (; t[i].kind != SCN_T_END; i++) {
        if (scn__tok_eq(&t[i], "skip_sync") && t[i].kind == SCN_T_IDENT) k->skip_sync = true;
        else if (scn__tok_eq(&t[i], "deferred") && t[i].kind == SCN_T_IDENT) k->deferred = true;
        else if (scn__tok_eq(&t[i], "shared") && t[i].kind == SCN_T_IDENT) k->shared = true;
        else if (t[i].kind == SCN_T_IDENT && (scn__tok_eq(&t[i], "listen") || scn__tok_eq(&t[i], "dial") ||
                                              scn__tok_eq(&t[i], "accept") || scn__tok_eq(&t[i], "dgram"))) {
            if (!scn__socket_kind(P, t, &i, k)) return false;
        } else
            return scn__err(P, t[i].col,
                            "unknown socket option '%s' (known: skip_sync, deferred, shared, listen [N], dial L, accept L, dgram)",
                            scn__text(P, &t[i]));
    }
    /* Skip-on-success is never safe for datagrams (sim/kernel/FACTS.md D3): the poller does not take it. */
    if (k->kind == SCN_SOCK_DGRAM && k->skip_sync)
        return scn__err(P, t[1].col, "a dgram socket cannot be skip_sync (the poller never sets it for datagrams)");
    /* The datagram property orders one reader's datagrams: no shared readers. */
    if (k->kind == SCN_SOCK_DGRAM && k->shared)
        return scn__err(P, t[1].col, "a dgram socket cannot be shared (one thread reads it, one writes it)");
    k->name = dup_n(t[1].s, t[1].len);
    if (k->name == NULL) return scn__err(P, 1, "out of memory");
    s->nsockets++;
    return true;
}

static bool st_poller(scn_parser *P, const scn_tok *t) {
    scn_scenario *s = P->s;
    uint32_t i = 1;
    if (t[1].kind == SCN_T_END)
        return scn__err(P, t[1].col, "expected 'procs N', 'fds N' or 'defaults' after 'poller'");
    if (scn__tok_eq(&t[1], "defaults") && t[1].kind == SCN_T_IDENT) {
        if (t[2].kind != SCN_T_END) return scn__err(P, t[2].col, "'poller defaults' takes no setting after it");
        if (s->procs != 0 || s->max_fds != 0)
            return scn__err(P, t[1].col, "'poller defaults' after a 'poller procs/fds' line");
        s->poller_defaults = true;
        return true;
    }
    if (s->poller_defaults) return scn__err(P, t[1].col, "a 'poller' setting after 'poller defaults'");
    while (t[i].kind != SCN_T_END) {
        int64_t v;
        if (scn__tok_eq(&t[i], "procs") && t[i].kind == SCN_T_IDENT) {
            if (!scn__int(P, &t[i + 1], 1, 1024, "procs", &v)) return false;
            s->procs = (uint32_t)v;
        } else if (scn__tok_eq(&t[i], "fds") && t[i].kind == SCN_T_IDENT) {
            if (!scn__int(P, &t[i + 1], 1, 4096, "fds", &v)) return false;
            s->max_fds = (uint32_t)v;
        } else {
            return scn__err(P, t[i].col, "unknown poller setting '%s' (known: procs, fds, defaults)",
                            scn__text(P, &t[i]));
        }
        i += 2;
    }
    return true;
}

static const struct {
    const char *name;
    uint8_t id;
} knob_names[] = {
    {"tick", SCN_KNOB_TICK},
    {"wait_packets", SCN_KNOB_WAIT_PACKETS},
    {"faults", SCN_KNOB_FAULTS},
    {"faults_port", SCN_KNOB_FAULTS_PORT},
    {"faults_post", SCN_KNOB_FAULTS_POST},
    {"faults_sockio", SCN_KNOB_FAULTS_SOCKIO},
    {"faults_waitpkt", SCN_KNOB_FAULTS_WAITPKT},
    {"faults_alloc", SCN_KNOB_FAULTS_ALLOC},
    {"faults_dequeue", SCN_KNOB_FAULTS_DEQUEUE},
    {"faults_cancel", SCN_KNOB_FAULTS_CANCEL},
    {"faults_waitarm", SCN_KNOB_FAULTS_WAITARM},
    {"faults_sock", SCN_KNOB_FAULTS_SOCK},
    {"faults_sock_setup", SCN_KNOB_FAULTS_SOCK_SETUP},
    {"max_steps", SCN_KNOB_MAX_STEPS},
    {"max_decisions", SCN_KNOB_MAX_DECISIONS},
    {"max_objects", SCN_KNOB_MAX_OBJECTS},
    {"time_jumps", SCN_KNOB_TIME_JUMPS},
    {"platform", SCN_KNOB_PLATFORM},
    {"send_buffer", SCN_KNOB_SEND_BUFFER},
    {"recv_window", SCN_KNOB_RECV_WINDOW},
};

static bool st_knob(scn_parser *P, const scn_tok *t) {
    scn_scenario *s = P->s;
    if (t[1].kind != SCN_T_IDENT) return scn__err(P, t[1].col, "expected a knob name, got '%s'", scn__text(P, &t[1]));
    uint8_t id = 0;
    for (size_t i = 0; i < sizeof knob_names / sizeof knob_names[0]; i++)
        if (scn__tok_eq(&t[1], knob_names[i].name)) id = knob_names[i].id;
    /* fail_FAMILY: the family's N-th call fails for certain (a countdown). */
    for (uint32_t f = 0; id == 0 && f < SHIM_FAULT_FAMILIES; f++) {
        const char *fam = shim_fault_family_name(f);
        if (t[1].len == 5 + strlen(fam) && strncmp(t[1].s, "fail_", 5) == 0 && strncmp(t[1].s + 5, fam, strlen(fam)) == 0)
            id = (uint8_t)(SCN_KNOB_FAIL_FIRST + f);
    }
    if (id == 0)
        return scn__err(P, t[1].col,
                        "unknown knob '%s' (known: tick, wait_packets, faults, faults_port, faults_post, "
                        "faults_sockio, faults_waitpkt, faults_alloc, faults_dequeue, faults_cancel, faults_waitarm, faults_sock, "
                        "faults_sock_setup, fail_FAMILY (a family of faults_*), max_steps, max_decisions, max_objects, time_jumps, platform, "
                        "send_buffer, recv_window)",
                        scn__text(P, &t[1]));
    if (t[2].kind == SCN_T_END) return scn__err(P, t[2].col, "knob '%s' needs a value", scn__text(P, &t[1]));
    int64_t v = 0;
    switch (id) {
    case SCN_KNOB_TICK:
        if (!scn__dur(P, &t[2], &v)) return false;
        break;
    case SCN_KNOB_WAIT_PACKETS:
        if (scn__tok_eq(&t[2], "present")) v = SCN_WAITPKT_PRESENT;
        else if (scn__tok_eq(&t[2], "absent")) v = SCN_WAITPKT_ABSENT;
        else if (scn__tok_eq(&t[2], "choice")) v = SCN_WAITPKT_CHOICE;
        else return scn__err(P, t[2].col, "wait_packets is present, absent or choice, not '%s'", scn__text(P, &t[2]));
        break;
    case SCN_KNOB_MAX_STEPS:
    case SCN_KNOB_MAX_DECISIONS:
        if (!scn__int(P, &t[2], 1, 2000000000, "the knob's value", &v)) return false;
        break;
    case SCN_KNOB_SEND_BUFFER:
    case SCN_KNOB_RECV_WINDOW:
        if (!scn__int(P, &t[2], 0, 16777216, "the knob's value (bytes, 0 = unbounded)", &v)) return false;
        break;
    case SCN_KNOB_TIME_JUMPS:
        if (scn__tok_eq(&t[2], "on")) v = 1;
        else if (scn__tok_eq(&t[2], "off")) v = 0;
        else return scn__err(P, t[2].col, "time_jumps is on or off, not '%s'", scn__text(P, &t[2]));
        break;
    case SCN_KNOB_FAULTS_SOCK_SETUP:
        if (scn__tok_eq(&t[2], "on")) v = 1;
        else if (scn__tok_eq(&t[2], "off")) v = 0;
        else return scn__err(P, t[2].col, "faults_sock_setup is on or off, not '%s'", scn__text(P, &t[2]));
        break;
    case SCN_KNOB_PLATFORM:
        if (scn__tok_eq(&t[2], "any")) v = SCN_PLATFORM_ANY;
        else if (scn__tok_eq(&t[2], "real")) v = SCN_PLATFORM_REAL;
        else if (scn__tok_eq(&t[2], "windows")) v = SCN_PLATFORM_WINDOWS;
        else if (scn__tok_eq(&t[2], "wine")) v = SCN_PLATFORM_WINE;
        else return scn__err(P, t[2].col, "platform is windows, wine, real or any, not '%s'", scn__text(P, &t[2]));
        break;
    default:
        if (id >= SCN_KNOB_FAIL_FIRST && id <= SCN_KNOB_FAIL_LAST) {
            if (!scn__int(P, &t[2], 1, 1000000, "the failing call's number (1 = the first)", &v)) return false;
            break;
        }
        if (!scn__int(P, &t[2], 0, 1000000, "the knob's value", &v)) return false;
        break;
    }
    if (!scn__end(P, &t[3])) return false;
    if (!scn__grow((void **)&s->knobs, &P->cap_knobs, s->nknobs, sizeof *s->knobs)) return scn__err(P, 1, "out of memory");
    s->knobs[s->nknobs].id = id;
    s->knobs[s->nknobs].value = v;
    s->nknobs++;
    return true;
}

static bool st_thread(scn_parser *P, const scn_tok *t) {
    scn_scenario *s = P->s;
    if (!scn__name_ok(P, &t[1], "a thread name")) return false;
    int32_t dup = find_thread(s, t[1].s, t[1].len);
    if (dup >= 0) return scn__err(P, t[1].col, "duplicate thread '%s' (first at line %u)", scn__text(P, &t[1]), s->threads[dup].line);
    if (!scn_tok_is(&t[2], ":")) return scn__err(P, t[2].col, "expected ':' after the thread name");
    if (!scn__end(P, &t[3])) return false;
    if (s->nthreads == SCN_MAX_THREADS) return scn__err(P, t[1].col, "too many threads (at most %d)", SCN_MAX_THREADS);
    if (!scn__grow((void **)&s->threads, &P->cap_threads, s->nthreads, sizeof *s->threads)) return scn__err(P, 1, "out of memory");
    scn_thread *th = &s->threads[s->nthreads];
    memset(th, 0, sizeof *th);
    th->name = dup_n(t[1].s, t[1].len);
    if (th->name == NULL) return scn__err(P, 1, "out of memory");
    th->first = s->nsteps;
    th->line = P->line;
    P->cur = (int32_t)s->nthreads;
    P->indent = 0;
    s->nthreads++;
    return true;
}

static const char *const property_names[] = {
    "one-completion", "no-lost-wakeup", "break-delivered", "overlapped-lifetime", "bytes-conserved",
    "deadline", "close", "poll-delay", "foreign-packets", "no-fatal", "expect", "deadlock",
    "livelock", "stack-overflow", "nondeterminism", "limit", "usage", "crash", "no-leak"};
#define NPROPERTY_NAMES (sizeof property_names / sizeof property_names[0])

static bool property_known(const scn_tok *t) {
    for (size_t i = 0; i < NPROPERTY_NAMES; i++)
        if (scn__tok_eq(t, property_names[i])) return true;
    return false;
}

/* Every name `expect fail` takes, for the error message: all of them. */
static const char *property_list(void) {
    static char list[512];
    size_t n = 0;
    for (size_t i = 0; i < NPROPERTY_NAMES && n < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", property_names[i]);
    return list;
}

static bool st_schedule(scn_parser *P, const scn_tok *t) {
    scn_scenario *s = P->s;
    if (t[1].kind != SCN_T_STR) return scn__err(P, t[1].col, "expected a schedule string, e.g. \"t0x3,t1\"");
    char *text = dup_n(t[1].s, t[1].len);
    if (text == NULL) return scn__err(P, 1, "out of memory");
    sim_schedule sch;
    char e[200];
    if (strlen(text) != t[1].len || !sim_schedule_parse(text, &sch, e, sizeof e)) {
        free(text);
        /* sim reports "col N: message", N within the string */
        unsigned c = 1;
        const char *msg = e;
        if (sscanf(e, "col %u:", &c) == 1) {
            msg = strchr(e, ':');
            msg = msg != NULL ? msg + 2 : e;
        }
        return scn__err(P, t[1].col + c, "bad schedule: %s", msg);
    }
    sim_schedule_free(&sch);
    char *expect = NULL;
    uint32_t i = 2;
    if (scn__tok_eq(&t[2], "expect") && t[2].kind == SCN_T_IDENT) {
        if (scn__tok_eq(&t[3], "pass") && t[3].kind == SCN_T_IDENT) {
            expect = dup_n("pass", 4);
            i = 4;
        } else if (scn__tok_eq(&t[3], "fail") && t[3].kind == SCN_T_IDENT) {
            if (t[4].kind != SCN_T_IDENT || !property_known(&t[4])) {
                free(text);
                return scn__err(P, t[4].col, "expected a property after 'fail' (%s), got '%s'", property_list(),
                                scn__text(P, &t[4]));
            }
            expect = dup_n(t[4].s, t[4].len);
            i = 5;
        } else {
            free(text);
            return scn__err(P, t[3].col, "expected 'pass' or 'fail PROPERTY' after 'expect'");
        }
    }
    if (!scn__end(P, &t[i]) || !scn__grow((void **)&s->scheds, &P->cap_scheds, s->nscheds, sizeof *s->scheds)) {
        free(text);
        free(expect);
        return P->failed ? false : scn__err(P, 1, "out of memory");
    }
    s->scheds[s->nscheds].text = text;
    s->scheds[s->nscheds].line = P->line;
    s->scheds[s->nscheds].expect = expect;
    s->nscheds++;
    return true;
}

static bool end_thread(scn_parser *P) {
    if (P->cur < 0) return true;
    scn_thread *th = &P->s->threads[P->cur];
    P->cur = -1;
    th->count = P->s->nsteps - th->first;
    if (th->count == 0) {
        P->line = th->line;
        return scn__err(P, 1, "thread '%s' has no steps (indent them under the thread line)", th->name);
    }
    return true;
}

/* `expect fatal "TEXT"`: the execution must end in the poller's throw. */
static bool st_expect_fatal(scn_parser *P, const scn_tok *t) {
    scn_scenario *s = P->s;
    if (s->fatal != NULL)
        return scn__err(P, t[0].col, "a second 'expect fatal' (the first at line %u)", s->fatal_line);
    if (t[2].len == 0) return scn__err(P, t[2].col, "'expect fatal' needs a non-empty part of the throw's message");
    if (!scn__end(P, &t[3])) return false;
    s->fatal = dup_n(t[2].s, t[2].len);
    if (s->fatal == NULL) return scn__err(P, 1, "out of memory");
    s->fatal_line = P->line;
    return true;
}

static bool top_statement(scn_parser *P, const scn_line *L) {
    const scn_tok *t = L->tok;
    if (t[0].kind != SCN_T_IDENT) return scn__err(P, t[0].col, "expected a statement, got '%s'", scn__text(P, &t[0]));
    if (scn__tok_eq(&t[0], "scenario")) return st_scenario(P, t);
    if (scn__tok_eq(&t[0], "socket")) return st_socket(P, t);
    if (scn__tok_eq(&t[0], "poller")) return st_poller(P, t);
    if (scn__tok_eq(&t[0], "knob")) return st_knob(P, t);
    if (scn__tok_eq(&t[0], "thread")) return st_thread(P, t);
    if (scn__tok_eq(&t[0], "schedule")) return st_schedule(P, t);
    if (scn__tok_eq(&t[0], "expect") && t[1].kind == SCN_T_IDENT && scn__tok_eq(&t[1], "fatal") &&
        t[2].kind == SCN_T_STR)
        return st_expect_fatal(P, t);
    if (scn__tok_eq(&t[0], "expect")) return scn__final_expect(P, t);
    if (scn__step_known(&t[0]) || (t[1].kind == SCN_T_PUNCT && scn__tok_eq(&t[1], "=")))
        return scn__err(P, t[0].col, "step '%s' outside a thread (indent it under `thread NAME:`)", scn__text(P, &t[0]));
    return scn__err(P, t[0].col, "unknown statement '%s'", scn__text(P, &t[0]));
}

/* Pre-scan: names assigned anywhere (`NAME = ...` on an indented line). */
static void prescan(scn_parser *P, const char *text, size_t len, scn_line *L, char *sbuf) {
    size_t pos = 0;
    char e[8];
    while (pos <= len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        if (scn_lex_line(text + pos, end - pos, L, sbuf, e, sizeof e) == 0 && L->indent > 0 && L->ntok >= 2 &&
            L->tok[0].kind == SCN_T_IDENT && scn_tok_is(&L->tok[1], "=") &&
            scn__grow((void **)&P->later, &P->cap_later, P->nlater, sizeof *P->later)) {
            char *n = dup_n(L->tok[0].s, L->tok[0].len);
            if (n != NULL) P->later[P->nlater++] = n;
        }
        pos = end + 1;
    }
}

static bool parse_lines(scn_parser *P, const char *text, size_t len, scn_line *L, char *sbuf) {
    size_t pos = 0;
    P->line = 0;
    while (pos <= len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        P->line++;
        char e[240];
        uint32_t ecol = scn_lex_line(text + pos, end - pos, L, sbuf, e, sizeof e);
        if (ecol != 0) return scn__err(P, ecol, "%s", e);
        pos = end + 1;
        if (L->ntok == 0) continue; /* blank or comment */
        if (L->indent == 0) {
            if (!end_thread(P)) return false;
            if (!top_statement(P, L)) return false;
            continue;
        }
        if (P->cur < 0) return scn__err(P, 1, "bad indentation: only the steps of a thread are indented");
        if (P->indent == 0) P->indent = L->indent;
        if (L->indent != P->indent)
            return scn__err(P, L->indent + 1, "bad indentation: the thread's steps are indented by %u spaces, this line by %u",
                            P->indent, L->indent);
        if (!scn__thread_step(P, L)) return false;
    }
    return end_thread(P);
}

/* After the parse: sizes and flags the interpreter needs. */
static bool finish(scn_parser *P) {
    scn_scenario *s = P->s;
    if (s->nthreads == 0) {
        P->line = 1;
        return scn__err(P, 1, "no threads: a scenario needs at least one `thread NAME:` with steps");
    }
    /* procs stays 0 when not given: np_init's own default (1) applies, so
     * the library exercises the poller's defaulting too. */
    if (s->max_fds == 0) s->max_fds = s->nsockets > 8 ? s->nsockets : 8;
    return true;
}

static void parser_free(scn_parser *P) {
    for (uint32_t i = 0; i < P->nlater; i++) free(P->later[i]);
    free(P->later);
}

scn_scenario *scn_parse(const char *path, const char *text, char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    scn_scenario *s = calloc(1, sizeof *s);
    size_t len = strlen(text);
    scn_line *L = malloc(sizeof *L);
    char *sbuf = malloc(len + 1);
    char dummy[1];
    scn_parser P = {.s = s, .path = path, .err = err != NULL ? err : dummy, .errlen = err != NULL ? errlen : 1, .cur = -1};
    if (s == NULL || L == NULL || sbuf == NULL || (s->path = dup_n(path, strlen(path))) == NULL) {
        snprintf(P.err, P.errlen, "%s: out of memory", path);
        free(L);
        free(sbuf);
        scn_free(s);
        return NULL;
    }
    prescan(&P, text, len, L, sbuf);
    bool ok = parse_lines(&P, text, len, L, sbuf) && finish(&P);
    free(L);
    free(sbuf);
    parser_free(&P);
    if (!ok) {
        scn_free(s);
        return NULL;
    }
    if (s->name == NULL) {
        const char *b = strrchr(path, '/');
        b = b != NULL ? b + 1 : path;
        size_t n = strlen(b);
        if (n > 4 && strcmp(b + n - 4, ".scn") == 0) n -= 4;
        s->name = dup_n(b, n);
        if (s->name == NULL) {
            scn_free(s);
            return NULL;
        }
    }
    return s;
}

scn_scenario *scn_load(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s:1:1: cannot read the file", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) break;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0) break;
        n += got;
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (buf == NULL || bad) {
        free(buf);
        snprintf(err, errlen, "%s:1:1: cannot read the file", path);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        free(buf);
        snprintf(err, errlen, "%s:1:1: the file contains a NUL byte", path);
        return NULL;
    }
    scn_scenario *s = scn_parse(path, buf, err, errlen);
    free(buf);
    return s;
}

void scn_free(scn_scenario *s) {
    if (s == NULL) return;
    for (uint32_t i = 0; i < s->nsockets; i++) free(s->sockets[i].name);
    for (uint32_t i = 0; i < s->nthreads; i++) free(s->threads[i].name);
    for (uint32_t i = 0; i < s->nresults; i++) free(s->results[i].name);
    for (uint32_t i = 0; i < s->nscheds; i++) {
        free(s->scheds[i].text);
        free(s->scheds[i].expect);
    }
    free(s->sockets);
    free(s->threads);
    free(s->results);
    free(s->steps);
    free(s->finals);
    free(s->items);
    free(s->bytes);
    free(s->scheds);
    free(s->knobs);
    free(s->fatal);
    free(s->path);
    free(s->name);
    free(s);
}

/* ---- Accessors ---- */

const char *scn_name(const scn_scenario *s) { return s->name; }
const char *scn_path(const scn_scenario *s) { return s->path; }
uint32_t scn_schedule_count(const scn_scenario *s) { return s->nscheds; }
const char *scn_schedule(const scn_scenario *s, uint32_t i) { return i < s->nscheds ? s->scheds[i].text : NULL; }
uint32_t scn_schedule_line(const scn_scenario *s, uint32_t i) { return i < s->nscheds ? s->scheds[i].line : 0; }
const char *scn_schedule_expect(const scn_scenario *s, uint32_t i) { return i < s->nscheds ? s->scheds[i].expect : NULL; }
const char *scn_expected_fatal(const scn_scenario *s) { return s->fatal; }

scn_knobs scn_get_knobs(const scn_scenario *s) {
    scn_knobs k;
    memset(&k, 0, sizeof k);
    for (uint32_t i = 0; i < s->nknobs; i++) {
        int64_t v = s->knobs[i].value;
        switch (s->knobs[i].id) {
        case SCN_KNOB_TICK:
            k.tick_set = true;
            k.tick_ns = v;
            break;
        case SCN_KNOB_WAIT_PACKETS: k.wait_packets = (scn_wait_packets)v; break;
        case SCN_KNOB_FAULTS: /* the families whose faults the poller survives, not the fatal ones */
            for (uint32_t f = 0; f < SHIM_FAULT_FAMILIES; f++)
                if (f < SHIM_FAULT_DEQUEUE || f > SHIM_FAULT_WAITARM) k.faults[f] = (uint32_t)v;
            break;
        case SCN_KNOB_FAULTS_DEQUEUE: k.faults[SHIM_FAULT_DEQUEUE] = (uint32_t)v; break;
        case SCN_KNOB_FAULTS_CANCEL: k.faults[SHIM_FAULT_CANCEL] = (uint32_t)v; break;
        case SCN_KNOB_FAULTS_WAITARM: k.faults[SHIM_FAULT_WAITARM] = (uint32_t)v; break;
        case SCN_KNOB_FAULTS_PORT: k.faults[SHIM_FAULT_PORT] = (uint32_t)v; break;
        case SCN_KNOB_FAULTS_POST: k.faults[SHIM_FAULT_POST] = (uint32_t)v; break;
        case SCN_KNOB_FAULTS_SOCKIO: k.faults[SHIM_FAULT_SOCKIO] = (uint32_t)v; break;
        case SCN_KNOB_FAULTS_WAITPKT: k.faults[SHIM_FAULT_WAITPKT] = (uint32_t)v; break;
        case SCN_KNOB_FAULTS_ALLOC: k.faults[SHIM_FAULT_ALLOC] = (uint32_t)v; break;
        case SCN_KNOB_FAULTS_SOCK: k.faults[SHIM_FAULT_SOCK] = (uint32_t)v; break;
        case SCN_KNOB_FAULTS_SOCK_SETUP: k.faults_sock_setup = v != 0; break;
        case SCN_KNOB_MAX_STEPS:
            k.max_steps_set = true;
            k.max_steps = (uint64_t)v;
            break;
        case SCN_KNOB_MAX_DECISIONS:
            k.max_decisions_set = true;
            k.max_decisions = (uint32_t)v;
            break;
        case SCN_KNOB_MAX_OBJECTS:
            k.max_objects_set = true;
            k.max_objects = (uint32_t)v;
            break;
        case SCN_KNOB_TIME_JUMPS:
            k.time_jumps_set = true;
            k.time_jumps = v != 0;
            break;
        case SCN_KNOB_PLATFORM: k.platform = (scn_platform)v; break;
        case SCN_KNOB_SEND_BUFFER:
            k.send_buffer_set = true;
            k.send_buffer = (uint32_t)v;
            break;
        case SCN_KNOB_RECV_WINDOW:
            k.recv_window_set = true;
            k.recv_window = (uint32_t)v;
            break;
        default:
            if (s->knobs[i].id >= SCN_KNOB_FAIL_FIRST && s->knobs[i].id <= SCN_KNOB_FAIL_LAST)
                k.fail_at[s->knobs[i].id - SCN_KNOB_FAIL_FIRST] = (uint32_t)v;
            break;
        }
    }
    k.threads = s->nthreads + 1;
    return k;
}

bool scn_knobs_faults(const scn_knobs *k) {
    for (uint32_t f = 0; f < SHIM_FAULT_FAMILIES; f++)
        if (k->faults[f] != 0 || k->fail_at[f] != 0) return true;
    return false;
}
