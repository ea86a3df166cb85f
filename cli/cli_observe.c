/* cli_observe.c - what an execution shows from outside: its observable
 * outcome, the Wine differences in its trace, and sets of outcomes.
 *
 * The observable outcome is what `validate --conformance` compares between
 * the real backend and the simulator, so it must leave out what legitimately
 * differs between two faithful executions (how TCP split the bytes, how long
 * things took, how many rounds a loop made) and keep what a user of the
 * poller sees (which outcome each step had, error codes included). Built
 * from the MEV_OP_END events only: the same events on both backends.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_real.h"
#include "../lang/scn_ext.h"

#define MAX_TOKENS 8 /* distinct outcomes kept per step; more are folded into "..." */

typedef struct step_seen {
    uint32_t slot;
    uint32_t op;
    char last[32];
    char also[MAX_TOKENS][32];
    uint32_t nalso;
    bool more;
} step_seen;


/* One outcome, abstracted: bytes of reads and writes dropped. */
static void token(const model_event *e, char *buf, size_t n) {
    uint64_t op = e->a[1], v = e->a[3];
    switch (e->a[2]) {
    case MOUT_OK:
        if (op == MOP_POLL) snprintf(buf, n, "ok(%" PRIu64 ")", v);
        else snprintf(buf, n, "ok");
        return;
    case MOUT_EOF: snprintf(buf, n, "eof"); return;
    case MOUT_TIMEOUT: snprintf(buf, n, "timeout"); return;
    case MOUT_CLOSED: snprintf(buf, n, "closed"); return;
    case MOUT_ERROR: snprintf(buf, n, "error(%" PRId64 ")", (int64_t)v); return;
    case MOUT_TRUNC: snprintf(buf, n, "truncated"); return; /* bytes dropped like ok's */
    default: snprintf(buf, n, "?"); return;
    }
}

static int cmp_slot(const void *a, const void *b) {
    const step_seen *x = a, *y = b;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static int cmp_tok(const void *a, const void *b) { return strcmp(a, b); }

/* `tok` becomes the step's last outcome; the previous last joins the set. */
static void push(step_seen *st, const char *tok) {
    if (st->last[0] != 0 && strcmp(st->last, tok) != 0) {
        bool known = false;
        for (uint32_t i = 0; i < st->nalso && !known; i++) known = strcmp(st->also[i], st->last) == 0;
        if (!known && st->nalso < MAX_TOKENS) memcpy(st->also[st->nalso++], st->last, sizeof st->last);
        else if (!known) st->more = true;
    }
    snprintf(st->last, sizeof st->last, "%s", tok);
}

char *cli_observe(const model_trace *t, const scn_scenario *s) {
    uint32_t nslots = scn_step_count(s);
    step_seen *seen = cli_xcalloc(nslots + 1, sizeof *seen);
    const model_event *ev = model_trace_events(t);
    uint32_t n = model_trace_count(t), used = 0;
    for (uint32_t i = 0; i < n; i++) {
        const model_event *e = &ev[i];
        if (e->kind != MEV_OP_END || e->a[0] == 0 || e->a[0] > nslots) continue;
        step_seen *st = NULL;
        for (uint32_t k = 0; k < used && st == NULL; k++)
            if (seen[k].slot == e->a[0]) st = &seen[k];
        if (st == NULL) {
            st = &seen[used++];
            st->slot = (uint32_t)e->a[0];
            st->op = (uint32_t)e->a[1];
        }
        char tok[32];
        token(e, tok, sizeof tok);
        push(st, tok);
    }
    qsort(seen, used, sizeof *seen, cmp_slot);
    /* Per step: "; L<line> <op> <last>" and " (also a, ..., ...)", each token < 32. */
    size_t cap = 64 + (size_t)used * (80 + MAX_TOKENS * 34), len = 0;
    char *out = cli_xmalloc(cap);
    out[0] = 0;
    for (uint32_t k = 0; k < used; k++) {
        step_seen *st = &seen[k];
        /* The set must not depend on the order the outcomes came in. */
        qsort(st->also, st->nalso, sizeof st->also[0], cmp_tok);
        len += (size_t)snprintf(out + len, cap - len, "%sL%u %s %s", k ? "; " : "", scn_step_line(s, st->slot),
                                model_op_name(st->op), st->last);
        for (uint32_t j = 0; j < st->nalso; j++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", j ? ", " : " (also ", st->also[j]);
        if (st->nalso > 0) len += (size_t)snprintf(out + len, cap - len, "%s)", st->more ? ", ..." : "");
    }
    free(seen);
    return out;
}

/* ---- Wine differences (iocp-facts.md §9, §11) ---- */

#define STATUS_HANDLES_CLOSED 0x8000000Au
#define ERROR_HANDLES_CLOSED 676u

static const char *const wine_names[CLI_WINE_DIFFS] = {"wine-handles-closed", "wine-result-676"};
static const char *const wine_whats[CLI_WINE_DIFFS] = {
    "closesocket's packet for a pending operation carries STATUS_HANDLES_CLOSED (Windows: STATUS_CANCELLED), "
    "iocp-facts.md §9.5",
    "WSAGetOverlappedResult of that operation fails with 676, ERROR_HANDLES_CLOSED (Windows: 995), "
    "iocp-facts.md §11",
};

uint32_t cli_observe_wine(const model_trace *t) {
    const model_event *ev = model_trace_events(t);
    uint32_t n = model_trace_count(t), bits = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (ev[i].kind == MEV_DEQUEUE && ev[i].a[3] == STATUS_HANDLES_CLOSED) bits |= CLI_WINE_HANDLES_CLOSED;
        if (ev[i].kind == MEV_GET_RESULT && !ev[i].a[2] && ev[i].a[3] == ERROR_HANDLES_CLOSED)
            bits |= CLI_WINE_RESULT_676;
    }
    return bits;
}

const char *cli_wine_name(uint32_t index) { return index < CLI_WINE_DIFFS ? wine_names[index] : "?"; }
const char *cli_wine_what(uint32_t index) { return index < CLI_WINE_DIFFS ? wine_whats[index] : "?"; }

/* ---- Sets of outcomes: few distinct ones per scenario, so a plain array ---- */

cli_outcome_entry *cli_outcome_set_find(cli_outcome_set *set, const char *text) {
    for (uint32_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i].text, text) == 0) return &set->v[i];
    return NULL;
}

cli_outcome_entry *cli_outcome_set_add(cli_outcome_set *set, char *text) {
    cli_outcome_entry *e = cli_outcome_set_find(set, text);
    if (e != NULL) {
        free(text);
        e->real++;
        return e;
    }
    if (set->n == set->cap) {
        uint32_t cap = set->cap ? set->cap * 2 : 8;
        set->v = cli_xrealloc(set->v, cap * sizeof *set->v);
        set->cap = cap;
    }
    e = &set->v[set->n++];
    memset(e, 0, sizeof *e);
    e->text = text;
    e->real = 1;
    return e;
}

void cli_outcome_set_free(cli_outcome_set *set) {
    for (uint32_t i = 0; i < set->n; i++) free(set->v[i].text);
    free(set->v);
    memset(set, 0, sizeof *set);
}
