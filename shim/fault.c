/* fault.c - the fault shim (fault.h): forwards every call to an inner shim,
 * except the calls its rules make fail.
 *
 * The errors each call may fail with are real outcomes of that call on
 * Windows (iocp-facts.md section numbers):
 *  - CreateIoCompletionPort creating a port: NULL with ERROR_NOT_ENOUGH_MEMORY
 *    (8): the port object cannot be allocated (§1: NULL on failure, the
 *    error in GetLastError). Associating with an existing port allocates no
 *    port and is never failed here.
 *  - PostQueuedCompletionStatus: FALSE with ERROR_NO_SYSTEM_RESOURCES (1450):
 *    the packet cannot be allocated (§5: NtSetIoCompletion allocates one per
 *    post; STATUS_INSUFFICIENT_RESOURCES maps to 1450).
 *  - WSARecv / WSASend: SOCKET_ERROR with WSAENOBUFS (10055) or WSAECONNRESET
 *    (10054): §6, any error but WSA_IO_PENDING means "not initiated, no
 *    completion indication": no packet, the OVERLAPPED untouched. Both are
 *    in the documented error lists (WSAECONNRESET for both calls,
 *    WSAENOBUFS for WSASend; for WSARecv it is Winsock's mapping of
 *    STATUS_INSUFFICIENT_RESOURCES, which any AFD request may fail with).
 *  - AcceptEx, ConnectEx, WSARecvFrom, WSASendTo (family sockio too): FALSE
 *    or SOCKET_ERROR with WSAENOBUFS (10055), "not initiated" as above (§6):
 *    ConnectEx and WSASendTo list it, and AcceptEx and WSARecvFrom are AFD
 *    requests as WSARecv is; AcceptEx also with WSAECONNRESET, its page's
 *    "an incoming connection was indicated, but was subsequently terminated
 *    by the remote peer prior to accepting the call" (the error Go's accept
 *    loop retries, sim/kernel/FACTS.md S6).
 *  - family sock, the calls without an OVERLAPPED (Microsoft's page of each
 *    lists the error): WSASocketW INVALID_SOCKET with WSAEMFILE (10024) or
 *    WSAENOBUFS; bind and listen SOCKET_ERROR with WSAENOBUFS (listen also
 *    WSAEMFILE); setsockopt, WSAIoctl and shutdown SOCKET_ERROR with
 *    WSAENETDOWN (10050), the one error every Winsock call lists that
 *    depends on nothing the caller did. getsockname is never failed. A
 *    failed call creates, binds or changes nothing.
 *  - CreateWaitableTimerExW: NULL with ERROR_NOT_ENOUGH_MEMORY (8);
 *    NtCreateWaitCompletionPacket: returns STATUS_NO_MEMORY and no handle
 *    (§8: both allocate a kernel object).
 *  The calls below fail only in a process that is already broken: one of the
 *  poller's own handles (port, socket, timer, wait packet) was closed by
 *  someone else. Go throws on each (go-netpoll.md); they are the faults of
 *  `expect fatal` scenarios.
 *  - GetQueuedCompletionStatusEx: FALSE with ERROR_ABANDONED_WAIT_0 (735):
 *    the port closed under the wait, or ERROR_INVALID_HANDLE (6): the close
 *    beat the wait (§2); the entry count is written 0 (§3: 0 or 1 on failure).
 *  - CancelIoEx: FALSE with ERROR_INVALID_HANDLE (6): the socket handle is no
 *    longer valid (§7 lists TRUE and FALSE/1168; 6 is the Win32 result of any
 *    call on a closed handle, §5 "a bad handle gives error 6" for a post).
 *  - SetWaitableTimer: FALSE with ERROR_INVALID_HANDLE (6);
 *    NtCancelWaitCompletionPacket, NtAssociateWaitCompletionPacket:
 *    STATUS_INVALID_HANDLE (0xC0000008, §0) (§8: their documented results;
 *    an invalid handle is the NT result of any call on a closed one).
 *
 * State is shared by the OS threads of a real execution, so counters are
 * atomics; on the simulator one OS thread runs everything and the atomics
 * cost nothing but are never a scheduling point.
 */
#include "fault.h"
#include "sock_pass.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define ERROR_NO_SYSTEM_RESOURCES 1450u
#define WSAENOBUFS 10055u
#define WSAEMFILE 10024u
#define WSAENETDOWN 10050u
#define STATUS_NO_MEMORY 0xC0000017u
#define STATUS_INVALID_HANDLE 0xC0000008u
#define ERROR_INVALID_HANDLE 6u
#define ERROR_ABANDONED_WAIT_0 735u

struct shim_fault {
    shim out;
    const shim *inner;
    const shim_harness *hn; /* the backend's SetLastError, for a failed call */
    shim_fault_source src;
    model_trace *trace;
    shim_fault_rule rule[SHIM_FAULT_FAMILIES];
    uint64_t seed;
    atomic_uint_fast64_t draws;              /* decisions asked this execution */
    atomic_uint calls[SHIM_FAULT_FAMILIES];  /* calls of the family this execution */
    atomic_uint left[SHIM_FAULT_FAMILIES];   /* budget left */
    atomic_uint sticky[SHIM_FAULT_FAMILIES]; /* persistent: the error every call now fails with */
    atomic_uint injected[SHIM_FAULT_FAMILIES];
    atomic_uint last[SHIM_FAULT_FAMILIES]; /* the latest fault's error */
    atomic_bool held[SHIM_FAULT_FAMILIES];
};

static const char *const family_names[SHIM_FAULT_FAMILIES] = {"port",  "post",    "sockio", "waitpkt",
                                                                     "alloc", "dequeue", "cancel", "waitarm", "sock"};

const char *shim_fault_family_name(uint32_t family) {
    return family < SHIM_FAULT_FAMILIES ? family_names[family] : "family?";
}

shim_fault *shim_fault_create(shim_fault_source src, model_trace *trace) {
    shim_fault *f = calloc(1, sizeof *f);
    if (f == NULL) return NULL;
    f->src = src;
    f->trace = trace;
    shim_fault_reset(f, 0);
    return f;
}

void shim_fault_destroy(shim_fault *f) { free(f); }

void shim_fault_set_rule(shim_fault *f, uint32_t family, const shim_fault_rule *rule) {
    if (family < SHIM_FAULT_FAMILIES) f->rule[family] = *rule;
}

const shim_fault_rule *shim_fault_get_rule(const shim_fault *f, uint32_t family) {
    return family < SHIM_FAULT_FAMILIES ? &f->rule[family] : NULL;
}

static bool rule_live(const shim_fault_rule *r) {
    switch (r->mode) {
    case SHIM_FAULT_BUDGET: return r->budget > 0;
    case SHIM_FAULT_COUNTDOWN: return r->countdown > 0;
    case SHIM_FAULT_PROBABILITY: return r->budget > 0 && r->permille > 0;
    case SHIM_FAULT_OFF: break;
    }
    return false;
}

bool shim_fault_any(const shim_fault *f) {
    for (uint32_t i = 0; i < SHIM_FAULT_FAMILIES; i++)
        if (rule_live(&f->rule[i])) return true;
    return false;
}

void shim_fault_reset(shim_fault *f, uint64_t seed) {
    f->seed = seed;
    atomic_store(&f->draws, 0);
    for (uint32_t i = 0; i < SHIM_FAULT_FAMILIES; i++) {
        atomic_store(&f->calls[i], 0);
        atomic_store(&f->left[i], f->rule[i].budget);
        atomic_store(&f->sticky[i], 0);
        atomic_store(&f->injected[i], 0);
        atomic_store(&f->last[i], 0);
    }
}

uint32_t shim_fault_injected(const shim_fault *f, uint32_t family) {
    return family < SHIM_FAULT_FAMILIES ? atomic_load(&((shim_fault *)f)->injected[family]) : 0;
}

void shim_fault_hold(shim_fault *f, uint32_t family, bool held) {
    if (family < SHIM_FAULT_FAMILIES) atomic_store(&f->held[family], held);
}

uint32_t shim_fault_last(const shim_fault *f, uint32_t family) {
    return family < SHIM_FAULT_FAMILIES ? atomic_load(&((shim_fault *)f)->last[family]) : 0;
}

/* ---- Decisions ---- */

/* The built-in generator: decision `draw` of the execution seeded `seed`,
 * through SplitMix64's finalizer, so concurrent threads never share state. */
static uint32_t seeded(const shim_fault *f, uint64_t draw, uint32_t nerrs, bool must, uint32_t permille) {
    uint64_t z = f->seed + 0x9e3779b97f4a7c15ull * (draw + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    if (must) return 1 + (uint32_t)(z % nerrs);
    if (permille == 0) return (uint32_t)(z % (nerrs + 1)); /* none and each error alike */
    if (z % 1000 >= permille) return 0;
    return 1 + (uint32_t)((z >> 32) % nerrs);
}

/* Takes one unit of the budget; false if another thread took the last. */
static bool take_budget(atomic_uint *left) {
    unsigned l = atomic_load(left);
    while (l > 0 && !atomic_compare_exchange_weak(left, &l, l - 1)) {
    }
    return l > 0;
}

/* 0: pass the call on; else the error to fail it with. */
static uint32_t decide(shim_fault *f, uint32_t fam, const uint32_t *errs, uint32_t nerrs) {
    const shim_fault_rule *r = &f->rule[fam];
    if (r->mode == SHIM_FAULT_OFF || atomic_load(&f->held[fam])) return 0;
    uint32_t call = atomic_fetch_add(&f->calls[fam], 1) + 1;
    uint32_t err = atomic_load(&f->sticky[fam]);
    if (err != 0) { /* persistent: no decision, recorded with draw 0 */
        atomic_fetch_add(&f->injected[fam], 1);
        atomic_store(&f->last[fam], err);
        if (f->trace != NULL) model_emit(f->trace, MEV_FAULT, fam, err, call, 0, 0);
        return err;
    }
    bool must = false;
    uint32_t permille = 0;
    switch (r->mode) {
    case SHIM_FAULT_COUNTDOWN:
        if (call != r->countdown) return 0;
        must = true;
        break;
    case SHIM_FAULT_PROBABILITY:
        if (r->permille == 0) return 0;
        permille = r->permille < 1000 ? r->permille : 1000;
        /* fall through */
    case SHIM_FAULT_BUDGET:
        if (atomic_load(&f->left[fam]) == 0) return 0;
        break;
    case SHIM_FAULT_OFF: return 0;
    }
    uint64_t draw = atomic_fetch_add(&f->draws, 1) + 1;
    uint32_t k = f->src.decide != NULL ? f->src.decide(f->src.self, fam, errs, nerrs, must, permille)
                                       : seeded(f, draw, nerrs, must, permille);
    if (k > nerrs) k = 0; /* a source out of range injects nothing */
    if (k != 0 && r->mode != SHIM_FAULT_COUNTDOWN && !take_budget(&f->left[fam])) k = 0;
    err = k != 0 ? errs[k - 1] : 0;
    if (f->trace != NULL) model_emit(f->trace, MEV_FAULT, fam, err, call, draw, 0);
    if (err == 0) return 0;
    atomic_fetch_add(&f->injected[fam], 1);
    atomic_store(&f->last[fam], err);
    if (r->persistent) atomic_store(&f->sticky[fam], err);
    return err;
}

static inline shim_fault *F(void *ctx) { return ctx; }
static inline const shim *IN(void *ctx) { return F(ctx)->inner; }
static inline void *ICTX(void *ctx) { return F(ctx)->inner->ctx; }

/* A Win32 failure: the last error, as the real call sets it. */
static void fail_with(void *ctx, uint32_t err) { F(ctx)->hn->set_last_error(F(ctx)->hn->ctx, err); }

/* A faulted call's decision: the error it fails with, already its last
 * error, or 0 to pass the call on. */
static uint32_t refuse(void *ctx, uint32_t fam, const uint32_t *errs, uint32_t nerrs) {
    uint32_t err = decide(F(ctx), fam, errs, nerrs);
    if (err != 0) fail_with(ctx, err);
    return err;
}

/* ---- The calls that may fail ---- */

static shim_handle f_create_port(void *ctx, shim_handle file, shim_handle existing, uintptr_t key,
                                 uint32_t concurrency) {
    static const uint32_t errs[] = {SHIM_ERROR_NOT_ENOUGH_MEMORY};
    if (existing == SHIM_NULL_HANDLE) {
        if (refuse(ctx, SHIM_FAULT_PORT, errs, 1) != 0) return SHIM_NULL_HANDLE;
    }
    return IN(ctx)->create_io_completion_port(ICTX(ctx), file, existing, key, concurrency);
}

static bool f_post(void *ctx, shim_handle port, uint32_t bytes, uintptr_t key, shim_overlapped *ov) {
    static const uint32_t errs[] = {ERROR_NO_SYSTEM_RESOURCES};
    if (refuse(ctx, SHIM_FAULT_POST, errs, 1) != 0) return false;
    return IN(ctx)->post_queued_completion_status(ICTX(ctx), port, bytes, key, ov);
}

static const uint32_t sockio_errs[] = {WSAENOBUFS, SHIM_WSAECONNRESET};

static int f_wsa_recv(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes, uint32_t *flags,
                      shim_overlapped *ov) {
    if (ov != NULL && refuse(ctx, SHIM_FAULT_SOCKIO, sockio_errs, 2) != 0) return SHIM_SOCKET_ERROR;
    return IN(ctx)->wsa_recv(ICTX(ctx), s, bufs, nbufs, bytes, flags, ov);
}

static int f_wsa_send(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes, uint32_t flags,
                      shim_overlapped *ov) {
    if (ov != NULL && refuse(ctx, SHIM_FAULT_SOCKIO, sockio_errs, 2) != 0) return SHIM_SOCKET_ERROR;
    return IN(ctx)->wsa_send(ICTX(ctx), s, bufs, nbufs, bytes, flags, ov);
}

/* The overlapped submissions of the v3 calls (family sockio). */
static const uint32_t nobufs_errs[] = {WSAENOBUFS};

static bool f_accept_ex(void *ctx, shim_handle l, shim_handle a, void *buf, uint32_t rl, uint32_t ll, uint32_t ral,
                        uint32_t *bytes, shim_overlapped *ov) {
    static const uint32_t errs[] = {WSAENOBUFS, SHIM_WSAECONNRESET};
    if (refuse(ctx, SHIM_FAULT_SOCKIO, errs, 2) != 0) return false;
    return IN(ctx)->accept_ex(ICTX(ctx), l, a, buf, rl, ll, ral, bytes, ov);
}

static bool f_connect_ex(void *ctx, shim_handle s, const shim_sockaddr_in *to, int len, shim_overlapped *ov) {
    if (refuse(ctx, SHIM_FAULT_SOCKIO, nobufs_errs, 1) != 0) return false;
    return IN(ctx)->connect_ex(ICTX(ctx), s, to, len, ov);
}

static int f_recv_from(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes, uint32_t *flags,
                       shim_sockaddr_in *from, int *fromlen, shim_overlapped *ov) {
    if (ov != NULL && refuse(ctx, SHIM_FAULT_SOCKIO, nobufs_errs, 1) != 0) return SHIM_SOCKET_ERROR;
    return IN(ctx)->wsa_recv_from(ICTX(ctx), s, bufs, nbufs, bytes, flags, from, fromlen, ov);
}

static int f_send_to(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes, uint32_t flags,
                     const shim_sockaddr_in *to, int tolen, shim_overlapped *ov) {
    if (ov != NULL && refuse(ctx, SHIM_FAULT_SOCKIO, nobufs_errs, 1) != 0) return SHIM_SOCKET_ERROR;
    return IN(ctx)->wsa_send_to(ICTX(ctx), s, bufs, nbufs, bytes, flags, to, tolen, ov);
}


static const uint32_t netdown_errs[] = {WSAENETDOWN};

static shim_handle f_socket(void *ctx, int af, int type, int proto) {
    static const uint32_t errs[] = {WSAEMFILE, WSAENOBUFS};
    if (refuse(ctx, SHIM_FAULT_SOCK, errs, 2) != 0) return SHIM_INVALID_HANDLE;
    return IN(ctx)->wsa_socket(ICTX(ctx), af, type, proto);
}

static int f_bind(void *ctx, shim_handle s, const shim_sockaddr_in *a, int len) {
    if (refuse(ctx, SHIM_FAULT_SOCK, nobufs_errs, 1) != 0) return SHIM_SOCKET_ERROR;
    return IN(ctx)->bind(ICTX(ctx), s, a, len);
}

static int f_listen(void *ctx, shim_handle s, int backlog) {
    static const uint32_t errs[] = {WSAEMFILE, WSAENOBUFS};
    if (refuse(ctx, SHIM_FAULT_SOCK, errs, 2) != 0) return SHIM_SOCKET_ERROR;
    return IN(ctx)->listen(ICTX(ctx), s, backlog);
}

static int f_setsockopt(void *ctx, shim_handle s, int level, int opt, const void *v, int len) {
    if (refuse(ctx, SHIM_FAULT_SOCK, netdown_errs, 1) != 0) return SHIM_SOCKET_ERROR;
    return IN(ctx)->setsockopt(ICTX(ctx), s, level, opt, v, len);
}

static int f_ioctl_ext(void *ctx, shim_handle s, uint32_t which) {
    if (refuse(ctx, SHIM_FAULT_SOCK, netdown_errs, 1) != 0) return SHIM_SOCKET_ERROR;
    return IN(ctx)->wsa_ioctl_get_extension(ICTX(ctx), s, which);
}

static int f_shutdown(void *ctx, shim_handle s, int how) {
    if (refuse(ctx, SHIM_FAULT_SOCK, netdown_errs, 1) != 0) return SHIM_SOCKET_ERROR;
    return IN(ctx)->shutdown(ICTX(ctx), s, how);
}

static shim_handle f_create_timer(void *ctx, bool high_res) {
    static const uint32_t errs[] = {SHIM_ERROR_NOT_ENOUGH_MEMORY};
    if (refuse(ctx, SHIM_FAULT_WAITPKT, errs, 1) != 0) return SHIM_NULL_HANDLE;
    return IN(ctx)->create_waitable_timer(ICTX(ctx), high_res);
}

static uint32_t f_create_wp(void *ctx, shim_handle *packet) {
    static const uint32_t errs[] = {STATUS_NO_MEMORY};
    uint32_t st = decide(F(ctx), SHIM_FAULT_WAITPKT, errs, 1);
    if (st != 0) return st; /* an NTSTATUS: no last error */
    return IN(ctx)->nt_create_wait_completion_packet(ICTX(ctx), packet);
}

static bool f_gqcs_ex(void *ctx, shim_handle port, shim_overlapped_entry *e, uint32_t count, uint32_t *removed,
                      uint32_t ms, bool alertable) {
    static const uint32_t errs[] = {ERROR_ABANDONED_WAIT_0, ERROR_INVALID_HANDLE};
    uint32_t err = decide(F(ctx), SHIM_FAULT_DEQUEUE, errs, 2);
    if (err != 0) {
        *removed = 0;
        fail_with(ctx, err);
        return false;
    }
    return IN(ctx)->get_queued_completion_status_ex(ICTX(ctx), port, e, count, removed, ms, alertable);
}

static bool f_cancel(void *ctx, shim_handle h, shim_overlapped *ov) {
    static const uint32_t errs[] = {ERROR_INVALID_HANDLE};
    if (refuse(ctx, SHIM_FAULT_CANCEL, errs, 1) != 0) return false;
    return IN(ctx)->cancel_io_ex(ICTX(ctx), h, ov);
}

static const uint32_t waitarm_status[] = {STATUS_INVALID_HANDLE};

static bool f_set_timer(void *ctx, shim_handle timer, int64_t due) {
    static const uint32_t errs[] = {ERROR_INVALID_HANDLE};
    if (refuse(ctx, SHIM_FAULT_WAITARM, errs, 1) != 0) return false;
    return IN(ctx)->set_waitable_timer(ICTX(ctx), timer, due);
}

static uint32_t f_assoc_wp(void *ctx, shim_handle packet, shim_handle port, shim_handle target, uintptr_t key,
                           uintptr_t apc_ctx, uint32_t status, uintptr_t info, bool *already) {
    uint32_t st = decide(F(ctx), SHIM_FAULT_WAITARM, waitarm_status, 1);
    if (st != 0) return st; /* an NTSTATUS: no last error, `already` untouched */
    return IN(ctx)->nt_associate_wait_completion_packet(ICTX(ctx), packet, port, target, key, apc_ctx, status, info,
                                                        already);
}

static uint32_t f_cancel_wp(void *ctx, shim_handle packet, bool remove) {
    uint32_t st = decide(F(ctx), SHIM_FAULT_WAITARM, waitarm_status, 1);
    if (st != 0) return st;
    return IN(ctx)->nt_cancel_wait_completion_packet(ICTX(ctx), packet, remove);
}

/* The poller's memory: NULL from an allocator is the failure calloc has
 * (C11 7.22.3); the error recorded is the Win32 one for it. */
bool shim_fault_alloc_fails(shim_fault *f) {
    static const uint32_t errs[] = {SHIM_ERROR_NOT_ENOUGH_MEMORY};
    return decide(f, SHIM_FAULT_ALLOC, errs, 1) != 0;
}

/* ---- Pass-through: the rest of the seam ---- */

static bool p_gqcs(void *ctx, shim_handle port, uint32_t *bytes, uintptr_t *key, shim_overlapped **ov, uint32_t ms) {
    return IN(ctx)->get_queued_completion_status(ICTX(ctx), port, bytes, key, ov, ms);
}
static bool p_close_handle(void *ctx, shim_handle h) { return IN(ctx)->close_handle(ICTX(ctx), h); }
static int p_closesocket(void *ctx, shim_handle s) { return IN(ctx)->closesocket(ICTX(ctx), s); }
static bool p_set_modes(void *ctx, shim_handle h, uint8_t flags) {
    return IN(ctx)->set_file_completion_notification_modes(ICTX(ctx), h, flags);
}
static bool p_is_ifs(void *ctx, shim_handle s) { return IN(ctx)->socket_is_ifs(ICTX(ctx), s); }
static bool p_get_result(void *ctx, shim_handle s, shim_overlapped *ov, uint32_t *bytes, bool wait, uint32_t *flags) {
    return IN(ctx)->wsa_get_overlapped_result(ICTX(ctx), s, ov, bytes, wait, flags);
}
static uint32_t p_get_last_error(void *ctx) { return IN(ctx)->get_last_error(ICTX(ctx)); }
/* The v3 socket calls that are never failed (getsockname) keep these. */
SHIM_SOCK_PASS(fp, IN)

/* Set only where the inner has the call: optional calls stay NULL. */
#define WRAP(field, fn) out->field = inner->field != NULL ? fn : NULL

const shim *shim_fault_wrap(shim_fault *f, const shim *inner, const shim_harness *hn) {
    shim *out = &f->out;
    memset(out, 0, sizeof *out);
    /* It knows the v2 layout, and a failed call needs the backend's
     * SetLastError: refuse what it cannot use, report the lower version. */
    if (shim_check(inner, SHIM_VERSION_2) != NULL || hn == NULL || hn->set_last_error == NULL) return NULL;
    f->inner = inner;
    f->hn = hn;
    out->version = inner->version < SHIM_VERSION_3 ? inner->version : SHIM_VERSION_3;
    out->name = "fault";
    out->ctx = f;
    out->caps = inner->caps;
    WRAP(create_io_completion_port, f_create_port);
    WRAP(get_queued_completion_status, p_gqcs);
    WRAP(get_queued_completion_status_ex, f_gqcs_ex);
    WRAP(post_queued_completion_status, f_post);
    WRAP(close_handle, p_close_handle);
    WRAP(wsa_recv, f_wsa_recv);
    WRAP(wsa_send, f_wsa_send);
    WRAP(cancel_io_ex, f_cancel);
    WRAP(closesocket, p_closesocket);
    WRAP(set_file_completion_notification_modes, p_set_modes);
    WRAP(socket_is_ifs, p_is_ifs);
    WRAP(wsa_get_overlapped_result, p_get_result);
    WRAP(get_last_error, p_get_last_error);
    WRAP(create_waitable_timer, f_create_timer);
    WRAP(set_waitable_timer, f_set_timer);
    WRAP(nt_create_wait_completion_packet, f_create_wp);
    WRAP(nt_associate_wait_completion_packet, f_assoc_wp);
    WRAP(nt_cancel_wait_completion_packet, f_cancel_wp);
    SHIM_SOCK_WRAP(out, inner, fp);
    if (inner->version >= SHIM_VERSION_3) { /* the v3 calls a rule may fail */
        out->wsa_socket = f_socket;
        out->bind = f_bind;
        out->listen = f_listen;
        out->accept_ex = f_accept_ex;
        out->setsockopt = f_setsockopt;
        out->wsa_ioctl_get_extension = f_ioctl_ext;
        out->connect_ex = f_connect_ex;
        out->shutdown = f_shutdown;
        out->wsa_recv_from = f_recv_from;
        out->wsa_send_to = f_send_to;
    }
    out->sync = inner->sync; /* no fault is a sync primitive's: shared whole */
    return out;
}
