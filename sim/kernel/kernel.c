/* kernel.c - plugs the simulated kernel into the engine (sim_kernel_ops).
 *
 * Owns the kern_state: creation, per-execution reset, the list of kernel
 * actions the scheduler may take ("tk", then an 'e' choice picks one), the
 * wait descriptions of deadlock reports, the end-of-execution monitors
 * (packets never dequeued, operations never completed, handles never
 * closed), the OVERLAPPED
 * ordinal table and the NTSTATUS -> Win32/WSA mappings.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

void kern_limit(sim_ctx *s, const char *what, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = sim_arena_vprintf(&s->arena, fmt, ap);
    va_end(ap);
    sim__end(s, SIM_LIMIT, what, msg);
}

/* MSG_OOB, MSG_PEEK, MSG_WAITALL, MSG_PARTIAL and MSG_PUSH_IMMEDIATE each
 * change what the call does ([D] WSARecv, WSASend; Wine honours OOB and PEEK
 * and only warns about other bits), and the model has none of them: answering
 * as if the flags were 0 would be a behaviour neither system has. */
void kern_flags_modelled(sim_ctx *s, const char *call, uint32_t flags) {
    if (flags != 0) kern_limit(s, "flags-limit", "limit: %s with flags %#x (only 0 is modelled)", call, flags);
}

/* ---- OVERLAPPED ordinals: numbered on first use, looked up by probing ---- */

kern_ovslot *kern_ov_slot(sim_ctx *s, shim_overlapped *ov) {
    kern_state *w = kern(s);
    uintptr_t addr = (uintptr_t)ov;
    uint64_t h = (uint64_t)addr * 0x9E3779B97F4A7C15ull;
    uint32_t mask = w->ov_cap - 1;
    /* The limit below is half the table: a probe always finds a free slot. */
    SIM_CHECK(s, w->nov <= KERN_MAX_OVS && KERN_MAX_OVS < w->ov_cap, "the OVERLAPPED table has a free slot");
    for (uint32_t i = (uint32_t)(h >> 40) & mask;; i = (i + 1) & mask) {
        kern_ovslot *slot = &w->ovs[i];
        if (slot->exec != s->exec) {
            if (w->nov >= KERN_MAX_OVS)
                kern_limit(s, "overlapped-limit", "limit: more than %u distinct OVERLAPPEDs (KERN_MAX_OVS)",
                           KERN_MAX_OVS);
            slot->exec = s->exec;
            slot->addr = addr;
            slot->ord = w->nov++;
            slot->op = 0;
            slot->pair = 0;
            return slot;
        }
        if (slot->addr == addr) return slot;
    }
}

uint32_t kern_ov_ord(sim_ctx *s, shim_overlapped *ov) { return ov == NULL ? 0 : kern_ov_slot(s, ov)->ord + 1; }

/* ---- Status mappings (§0; RtlNtStatusToDosError and Winsock's own) ---- */

uint32_t kern_nt_to_win32(uint32_t st) {
    switch (st) {
    case SHIM_STATUS_SUCCESS: return SHIM_ERROR_SUCCESS;
    case SHIM_STATUS_ABANDONED_WAIT_0: return SHIM_ERROR_ABANDONED_WAIT_0;
    case SHIM_STATUS_USER_APC: return SHIM_WAIT_IO_COMPLETION;
    case SHIM_STATUS_TIMEOUT: return SHIM_WAIT_TIMEOUT;
    case SHIM_STATUS_PENDING: return SHIM_ERROR_IO_PENDING;
    case SHIM_STATUS_BUFFER_OVERFLOW: return SHIM_ERROR_MORE_DATA;
    case SHIM_STATUS_HANDLES_CLOSED: return SHIM_ERROR_HANDLES_CLOSED; /* §11: 676 */
    case SHIM_STATUS_INVALID_HANDLE: return SHIM_ERROR_INVALID_HANDLE;
    case SHIM_STATUS_INVALID_PARAMETER:
    case SHIM_STATUS_INVALID_PARAMETER_1:
    case SHIM_STATUS_INVALID_PARAMETER_3: return SHIM_ERROR_INVALID_PARAMETER;
    case SHIM_STATUS_CANCELLED: return SHIM_ERROR_OPERATION_ABORTED;
    case SHIM_STATUS_PIPE_BROKEN: return SHIM_ERROR_BROKEN_PIPE;
    case SHIM_STATUS_CONNECTION_RESET: /* §2: a peer reset reads as 64 through GQCS */
    case SHIM_STATUS_LOCAL_DISCONNECT: return SHIM_ERROR_NETNAME_DELETED;
    case SHIM_STATUS_NOT_FOUND: return SHIM_ERROR_NOT_FOUND;
    case SHIM_STATUS_CONNECTION_ABORTED: return SHIM_ERROR_CONNECTION_ABORTED; /* §12 W18: 1236 */
    case SHIM_STATUS_CONNECTION_REFUSED: return SHIM_ERROR_CONNECTION_REFUSED; /* FACTS.md S8 */
    case SHIM_STATUS_CONNECTION_INVALID: return SHIM_ERROR_UNEXP_NET_ERR; /* FACTS.md S6 */
    default: return 317; /* ERROR_MR_MID_NOT_FOUND: no mapping */
    }
}

uint32_t kern_nt_to_wsa(uint32_t st) {
    switch (st) {
    case SHIM_STATUS_PENDING: return SHIM_ERROR_IO_INCOMPLETE;
    case SHIM_STATUS_CONNECTION_RESET: return SHIM_WSAECONNRESET; /* §2: WSARecv gives WSAECONNRESET */
    case SHIM_STATUS_LOCAL_DISCONNECT: /* §12 W28 */
    case SHIM_STATUS_CONNECTION_ABORTED: return SHIM_WSAECONNABORTED;
    case SHIM_STATUS_HANDLES_CLOSED: return SHIM_WSAEINVAL;     /* §12 W28, not 676 */
    case SHIM_STATUS_INVALID_HANDLE: return SHIM_WSAENOTSOCK;   /* §12 W28, not 6 */
    case SHIM_STATUS_BUFFER_OVERFLOW: return SHIM_WSAEMSGSIZE;
    case SHIM_STATUS_CONNECTION_REFUSED: return SHIM_WSAECONNREFUSED; /* FACTS.md S8 */
    case SHIM_STATUS_CONNECTION_INVALID: return SHIM_WSAENOTCONN;     /* FACTS.md S6, measured on Wine 8 */
    default: return kern_nt_to_win32(st); /* 995 for STATUS_CANCELLED (§6) */
    }
}

/* ---- Kernel actions ---- */

/* Appends an enabled action. Past the table the execution ends, naming the
 * limit: offering only the first ones would prune the tree silently, and an
 * explorer would call a pruned tree complete. */
static void add_action(sim_ctx *s, uint32_t *n, uint32_t kind, uint32_t id) {
    if (*n >= KERN_MAX_ACTIONS)
        kern_limit(s, "action-limit", "limit: more than %u kernel actions enabled at once (KERN_MAX_ACTIONS)",
                   KERN_MAX_ACTIONS);
    kern(s)->act[(*n)++] = (kern_action){kind, id};
}

/* Out of line: the engine asks at every scheduling point, and the list is
 * usually still fresh, so the question must cost no more than a test. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static void dropped(sim_ctx *s, const kern_action *old, uint32_t nold);

static void rebuild(sim_ctx *s) {
    kern_state *w = kern(s);
    /* The explorer is told of actions a thread's step disabled (below). */
    kern_action old[KERN_MAX_ACTIONS];
    uint32_t nold = s->acc_limit != 0 && !w->fired ? w->nact : 0;
    if (nold != 0) memcpy(old, w->act, nold * sizeof *old);
    w->fired = false;
    uint32_t n = 0;
    bool starved = false;
    for (uint32_t i = 0; i < w->nops; i++)
        if (w->ops[i].state == KERN_OP_PENDING && kern_op_actionable(s, i)) add_action(s, &n, KERN_ACT_OP, i);
    for (uint32_t i = 0; i < w->nports; i++) {
        const kern_port *p = &w->ports[i];
        if (!p->enforce || p->count == 0 || p->waiters == 0) continue;
        starved = true; /* depends on thread states: recheck at every point */
        if (kern_port_starved(s, i)) add_action(s, &n, KERN_ACT_RELEASE, i);
    }
    for (uint32_t i = 0; i < w->nwps; i++)
        if (w->wps[i].state == KERN_WP_FIRING) add_action(s, &n, KERN_ACT_WAITPKT, i);
    w->nact = n;
    w->starved = starved;
    w->dirty = false;
    if (nold != 0) dropped(s, old, nold);
}

/* The object an action works on, as the access log names it. */
static uint32_t action_object(const kern_state *w, const kern_action *a) {
    switch (a->kind) {
    case KERN_ACT_OP: return SIM_ACC_KOBJ(SIM_KOBJ_SOCK, kern_pair(w, w->ops[a->id].sock));
    case KERN_ACT_RELEASE: return SIM_ACC_KOBJ(SIM_KOBJ_PORT, a->id);
    default: return SIM_ACC_KOBJ(SIM_KOBJ_WAITPKT, a->id);
    }
}

/* Actions offered at the last point and gone now, with no action fired in
 * between (a fire is followed at once by the next rebuild, with no thread
 * step in between): the step that ran since disabled them, e.g. a cancel
 * of a wait packet being satisfied (choice 'y' 0). DPOR must then try the
 * kernel before that step (explore_race.c): the action that never runs
 * leaves no access to race with. Logged as the acting thread's access. */
static void dropped(sim_ctx *s, const kern_action *old, uint32_t nold) {
    kern_state *w = kern(s);
    bool acc_kernel = s->acc_kernel;
    for (uint32_t i = 0; i < nold; i++) {
        bool kept = false;
        for (uint32_t j = 0; j < w->nact && !kept; j++) kept = w->act[j].kind == old[i].kind && w->act[j].id == old[i].id;
        if (!kept) sim__access_log(s, action_object(w, &old[i]), true, SIM_ACC_DROP, 0);
    }
    s->acc_kernel = acc_kernel; /* not a touch of the call under way */
}

static uint32_t kernel_pending(sim_ctx *s) {
    kern_state *w = kern(s);
    if (w->dirty || w->starved) rebuild(s);
    return w->nact;
}

static void kernel_fire(sim_ctx *s, uint32_t index) {
    kern_state *w = kern(s);
    /* The engine fires right after asking what is pending: the list is fresh. */
    SIM_CHECK(s, index < w->nact && !w->dirty, "a fired kernel action is one just offered");
    kern_action a = w->act[index];
    w->fired = true;
    SIM_CHECK(s, a.kind == KERN_ACT_OP       ? a.id < w->nops && w->ops[a.id].state == KERN_OP_PENDING
                 : a.kind == KERN_ACT_RELEASE ? a.id < w->nports
                                              : a.kind == KERN_ACT_WAITPKT && a.id < w->nwps,
              "a kernel action names a live object");
    w->dirty = true;
    switch (a.kind) {
    case KERN_ACT_OP: kern_op_fire(s, a.id); break;
    case KERN_ACT_RELEASE: kern_port_release(s, a.id); break;
    default: kern_waitpkt_fire(s, a.id); break;
    }
    w->dirty = true;
}

static bool kernel_timer_live(sim_ctx *s, uint32_t id) { return kern_timer_live(s, id); }
static void kernel_timer_fired(sim_ctx *s, uint32_t id) {
    kern_timer_fired(s, id);
    kern(s)->dirty = true;
}

static const char *kernel_describe(sim_ctx *s, const sim_thread *t) {
    kern_state *w = kern(s);
    if (t->wait_kind == (sim_wait_kind)KERN_WAIT_PEER_RECV || t->wait_kind == (sim_wait_kind)KERN_WAIT_PEER_SEND) {
        SIM_CHECK(s, t->wait_obj < w->nsocks, "a peer waits on a socket");
        const kern_sock *so = &w->socks[t->wait_obj];
        if (t->wait_kind == (sim_wait_kind)KERN_WAIT_PEER_RECV)
            return sim_arena_printf(&s->arena, "waits in recv on socket h%llu (nothing buffered)", (unsigned long long)so->h);
        return sim_arena_printf(&s->arena, "waits in send on socket h%llu (the receive window of h%llu is full: %u bytes)",
                                (unsigned long long)so->h, (unsigned long long)w->socks[so->peer].h,
                                w->socks[so->peer].rx.len);
    }
    SIM_CHECK(s, t->wait_kind == (sim_wait_kind)KERN_WAIT_GQCS || t->wait_kind == (sim_wait_kind)KERN_WAIT_GQCSEX,
              "a thread blocked in the kernel waits in GQCS(Ex) or a peer's recv or send");
    const char *call = t->wait_kind == (sim_wait_kind)KERN_WAIT_GQCSEX ? "GetQueuedCompletionStatusEx" : "GetQueuedCompletionStatus";
    if (t->wait_obj < w->nports) {
        const kern_port *p = &w->ports[t->wait_obj];
        return sim_arena_printf(&s->arena, "waits in %s on port h%llu%s (%u queued)", call,
                                (unsigned long long)p->h, p->open ? "" : " (handle closed)", p->count);
    }
    return sim_arena_printf(&s->arena, "waits in %s", call);
}

static void kernel_reset(sim_ctx *s) {
    kern_state *w = kern(s);
    kern_handles_reset(w);
    kern_port_reset(w);
    kern_sock_reset(w);
    kern_names_reset(w);
    kern_listener_reset(w);
    kern_waitpkt_reset(w);
    w->nov = 0;
    memset(w->th, 0, w->th_used * sizeof w->th[0]); /* a 64-entry memset was 1% of a small scenario */
    w->th_used = 0;
    w->wait_seq = 0;
    w->nact = 0;
    w->fired = false;
    w->dirty = true;
    w->starved = false;
    /* §8: the wait-packet capability, fixed for the whole execution. */
    bool present = s->cfg.wait_packets == SIM_WAITPKT_PRESENT;
    if (s->cfg.wait_packets == SIM_WAITPKT_CHOOSE) {
        s->in_kernel = true;
        present = sim__choose(s, SIM_CHOICE_WAITPKT_API, 2, NULL, SIM_NO_CURRENT) == 0;
        s->in_kernel = false;
    }
    w->waitpkts = present;
    kern_waitpkt_fill(&s->shim, present);
}

static void kernel_finish(sim_ctx *s) {
    /* Handles left open, for the engine's leak check (after a pass only). */
    if (s->result.verdict == SIM_PASS) s->result.leaks = kern_handle_leaks(s, &s->result.leaked_handles);
    uint32_t npk = 0, nops = 0;
    const char *pk = kern_port_leftovers(s, &npk);
    const char *ops = kern_op_leftovers(s, &nops);
    s->result.leftover_packets = npk;
    s->result.leftover_ops = nops;
    if (npk == 0 && nops == 0) {
        s->result.leftovers = "";
        return;
    }
    s->result.leftovers = sim_arena_printf(&s->arena, "%s%s", pk, ops);
    const char *msg = s->result.message != NULL ? s->result.message : "";
    s->result.message = sim_arena_printf(&s->arena, "%s%sat the end: %u packet(s) never dequeued, %u operation(s) "
                                                    "never completed\n%s",
                                         msg, (*msg && msg[strlen(msg) - 1] != '\n') ? "\n" : "", npk, nops,
                                         s->result.leftovers);
}

static void kernel_destroy(sim_ctx *s) {
    kern_state *w = kern(s);
    if (w == NULL) return;
    for (uint32_t i = 0; i < KERN_MAX_PORTS; i++) free(w->ports[i].ring);
    kern_sock_free_all(w);
    free(w->handles);
    free(w->ops);
    free(w->ovs);
    free(w->labels);
    free(w);
    s->kernel_state = NULL;
}

static const sim_kernel_ops ops = {
    kernel_reset, kernel_pending, kernel_fire, kernel_timer_live, kernel_timer_fired, kernel_describe, kernel_finish,
    kernel_destroy,
};

void kern_attach(sim_ctx *s) {
    kern_state *w = calloc(1, sizeof *w);
    if (w == NULL) abort();
    w->sim = s;
    w->handles = calloc(KERN_MAX_HANDLES, sizeof *w->handles);
    w->socks = calloc(KERN_MAX_SOCKETS, sizeof *w->socks);
    w->ops = calloc(KERN_MAX_OPS, sizeof *w->ops);
    w->ov_cap = 2 * KERN_MAX_OVS;
    w->ovs = calloc(w->ov_cap, sizeof *w->ovs);
    if (w->handles == NULL || w->socks == NULL || w->ops == NULL || w->ovs == NULL) abort();
    s->kernel_state = w;
    s->kernel = &ops;
    kern_port_fill(&s->shim);
    kern_sock_fill(&s->shim, &s->harness);
    kern_names_fill(&s->shim);
    kern_listener_fill(&s->shim);
    kern_listener_harness_fill(&s->harness);
    kern_waitpkt_fill(&s->shim, s->cfg.wait_packets != SIM_WAITPKT_ABSENT);
}

/* A scratch label array for choices with many alternatives (batch sizes). */
uint32_t *kern_labels(sim_ctx *s, uint32_t n) {
    kern_state *w = kern(s);
    if (n > w->labels_cap) {
        uint32_t cap = w->labels_cap ? w->labels_cap : 64;
        while (cap < n) cap *= 2;
        uint32_t *l = realloc(w->labels, cap * sizeof *l);
        if (l == NULL) sim__end(s, SIM_LIMIT, "memory-limit", "limit: out of memory for choice labels");
        w->labels = l;
        w->labels_cap = cap;
    }
    return w->labels;
}
