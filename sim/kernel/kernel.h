/* kernel.h - the simulated kernel's state, shared by its files.
 *
 * The kernel is everything the simulated Windows kernel owns: the handle
 * table (handles.c), completion ports (port.c), virtual sockets and their
 * overlapped operations (sock.c), waitable timers and wait completion
 * packets (waitpkt.c) and the glue that plugs it into the engine as
 * sim_kernel_ops (kernel.c). Injected faults are not the kernel's: the
 * fault shim (shim/fault.c) wraps the seam. One kern_state hangs off
 * sim_ctx.kernel_state. Object tables are retained across executions and
 * rewound by counters; every object is named by a small index in creation
 * order, and iterated in index order only, never by address.
 */
#ifndef IOCPCHECK_SIM_KERNEL_H
#define IOCPCHECK_SIM_KERNEL_H

#include "../sim_internal.h"

/* ---- Limits (each reported by name when hit) ---- */
#define KERN_MAX_HANDLES 4096u  /* open handles at once (a slot is the low 16 bits of a value) */
#define KERN_MAX_HANDLE_GEN 0xFFFFu /* closes of one handle slot per execution (16-bit generation) */
#define KERN_MAX_PORTS 64u      /* ports created per execution */
#define KERN_MAX_SOCKETS 256u   /* sockets created per execution */
#define KERN_MAX_OPS 4096u      /* overlapped operations in flight at once */
#define KERN_MAX_OVS 4096u      /* distinct OVERLAPPEDs per execution */
#define KERN_MAX_QUEUE (1u << 22) /* packets queued on one port */
#define KERN_LEFTOVERS_LISTED 32u /* leftover packets / operations listed one by one; the rest are counted */
#define KERN_QUEUE_INITIAL 256u /* a port's first ring (grows by doubling to KERN_MAX_QUEUE) */
#define KERN_MAX_BUFS 8u        /* WSABUFs per request */
#define KERN_MAX_SOCKBUF (1u << 24) /* bytes buffered in one socket */
#define KERN_MAX_TIMERS 64u
#define KERN_MAX_TIMER_SETS 0xFFFFu /* SetWaitableTimer calls on one timer (16-bit generation in clock entries) */
#define KERN_MAX_WAITPKTS 64u
#define KERN_MAX_ACTIONS 256u   /* kernel actions enabled at once */
#define KERN_MAX_BACKLOG 8u     /* established connections a listener holds (listen's backlog is clamped here) */
#define KERN_EPHEMERAL_FIRST 49152u /* the first ephemeral port handed out, in bind order (sockname.c) */
/* Bytes of datagrams one socket queues before it drops the next one: Wine 8's
 * SO_RCVBUF (212,992, measured; the most it held was 96,000 bytes of 8,000-byte
 * datagrams). Drops before that bound are the loss choice 'd' (FACTS.md D4). */
#define KERN_DGRAM_QUEUE 212992u
#define KERN_DGRAM_MAX 65507u   /* the largest UDP datagram over IPv4: larger sends fail with 10040 */

/* Wait kinds of threads blocked in the kernel (>= SIM_WAIT_KERNEL). */
enum { KERN_WAIT_GQCS = SIM_WAIT_KERNEL, KERN_WAIT_GQCSEX, KERN_WAIT_PEER_RECV, KERN_WAIT_PEER_SEND };

/* ---- Handles ---- */
enum { KERN_H_FREE = 0, KERN_H_PORT, KERN_H_SOCKET, KERN_H_TIMER, KERN_H_WAITPKT };

typedef struct kern_handle {
    uint8_t kind;
    uint16_t gen;   /* bumped at close: a stale value never matches again */
    uint32_t obj;   /* index in the kind's table */
    uint32_t next_free;
    uint32_t creator; /* thread that opened it, and at which step: the leak report */
    uint64_t step;
} kern_handle;

/* ---- Packets and ports ---- */
typedef struct kern_packet {
    uintptr_t key;
    shim_overlapped *ov;
    uintptr_t info;   /* bytes (Information) */
    uint32_t status;  /* NTSTATUS */
    uint32_t op;      /* operation id + 1 whose completion this is, 0 = posted */
    uint32_t ov_ord;  /* ordinal + 1 of ov, 0 = NULL */
    uint32_t wp;      /* wait packet id + 1, 0 = none */
} kern_packet;

typedef struct kern_port {
    shim_handle h;       /* handle value; the handle may be closed while the port lives */
    bool open;           /* its handle is open */
    bool enforce;        /* concurrency limit enforced (choice 'c') */
    uint32_t limit;      /* concurrency; 0 = no limit */
    uint64_t waiters;    /* threads blocked in GQCS(Ex) on it */
    kern_packet *ring;   /* retained; FIFO */
    uint32_t cap, head, count;
} kern_port;

/* ---- Operations ---- */
enum { KERN_OP_FREE = 0, KERN_OP_PENDING, KERN_OP_QUEUED };

/* Operation kinds (listener.c): the direction `send` says which FIFO they
 * complete in, as Go's read and write operations: AcceptEx reads, ConnectEx writes. */
enum { KERN_OPK_IO = 0, KERN_OPK_ACCEPT, KERN_OPK_CONNECT };

typedef struct kern_op {
    uint8_t state;
    uint8_t send;          /* 0 recv, 1 send */
    uint8_t kind;          /* KERN_OPK_*: WSARecv/WSASend, AcceptEx, ConnectEx */
    uint32_t other;        /* AcceptEx: the accept socket's id; ConnectEx: the port it connects to */
    bool cancel;           /* CancelIoEx requested */
    bool closing;          /* its socket was closed: ends with close_status */
    bool defer_internal;   /* status block written at dequeue (choice 'i') */
    uint32_t close_status;
    uint32_t sock;
    uint32_t ov_ord;       /* + 1 */
    uint64_t seq;          /* submission order, for per-socket FIFO completion */
    shim_overlapped *ov;
    uint32_t nbufs;
    shim_wsabuf bufs[KERN_MAX_BUFS];
    uint32_t final_status; /* when queued with a deferred status block */
    uint32_t final_bytes;
    uint32_t next_free;
    shim_sockaddr_in *from; /* WSARecvFrom: where the sender's address goes, or NULL */
    int *fromlen;
    shim_sockaddr_in to;    /* WSASendTo: the destination */
} kern_op;

/* OVERLAPPED address -> ordinal, probed only (like sync.c's atomics). */
typedef struct kern_ovslot {
    uintptr_t addr;
    uint64_t exec;
    uint32_t ord;  /* 0-based */
    uint32_t op;   /* id + 1 of the operation it is in flight for, 0 = none */
    uint32_t pair; /* socket pair (access log) + 1 it was last used on, 0 = none */
} kern_ovslot;

/* ---- Sockets ---- */
typedef struct kern_bytes {
    unsigned char *buf; /* retained ring */
    uint32_t cap, head, len;
} kern_bytes;

typedef struct kern_sock {
    shim_handle h;
    bool open;
    bool eof;          /* the peer shut down sending: reads give 0 after the data */
    bool reset;        /* the peer aborted: reads fail */
    bool shut_send;    /* this end shut down sending */
    bool msg;          /* message-oriented */
    bool skip;         /* FILE_SKIP_COMPLETION_PORT_ON_SUCCESS set */
    bool skip_works;   /* the provider is IFS: skip is effective (choice 'r') */
    bool ifs_known;    /* skip_works has been decided */
    uint32_t peer;
    uint32_t port;     /* port id + 1, 0 = none */
    uintptr_t key;
    uint32_t pending;  /* operations not yet completed */
    uint32_t recv_waiter; /* thread + 1 blocked in a peer recv on this end, 0 = none */
    uint32_t send_waiter; /* thread + 1 blocked in a peer send from this end (the window is full) */
    kern_bytes rx;
    kern_bytes msgs;   /* message mode: uint32 lengths as bytes; datagrams: length and sender port */
    /* Sockets made by the seam's socket call (sockname.c); a pair from the
     * harness is KERN_ROLE_PAIR from the start. */
    uint8_t role;      /* KERN_ROLE_* */
    bool shut_recv;    /* shutdown(SD_RECEIVE) on this end */
    bool ctx_updated;  /* SO_UPDATE_ACCEPT_CONTEXT / SO_UPDATE_CONNECT_CONTEXT done */
    uint16_t lport;    /* bound port (host order), 0 = unbound */
    uint32_t backlog;  /* listener: connections it holds */
    uint32_t nq;       /* listener: established connections not yet accepted */
    uint32_t q[KERN_MAX_BACKLOG]; /* listener: their server ends (embryos), oldest first */
    uint32_t dgram_bytes; /* datagram socket: bytes of the datagrams queued (KERN_DGRAM_QUEUE) */
} kern_sock;

/* A socket's place in connection setup (DGRAM: a datagram socket, which
 * has none). PAIR is connected (a harness pair,
 * or a connect or accept that completed); an EMBRYO is the server end of an
 * established connection waiting in a backlog, with no handle, until an
 * AcceptEx moves it into the accept socket. */
enum { KERN_ROLE_PAIR = 0, KERN_ROLE_FRESH, KERN_ROLE_LISTEN, KERN_ROLE_CONNECTING, KERN_ROLE_EMBRYO, KERN_ROLE_DEAD,
       KERN_ROLE_DGRAM };
/* A datagram socket (dgram.c): no connection setup, its `peer` is itself. */
static inline bool kern_is_dgram(const kern_sock *so) { return so->role == KERN_ROLE_DGRAM; }

/* ---- Timers and wait packets (§8) ---- */
typedef struct kern_timer {
    shim_handle h;
    bool open, signaled, armed;
    uint32_t gen;      /* kernel timer generation: stale clock entries are dropped */
} kern_timer;

enum { KERN_WP_IDLE = 0, KERN_WP_ARMED, KERN_WP_FIRING, KERN_WP_QUEUED };
typedef struct kern_waitpkt {
    shim_handle h;
    bool open;
    uint8_t state;
    uint32_t port, timer; /* ids */
    uintptr_t key, apc, info;
    uint32_t status;
} kern_waitpkt;

/* ---- Kernel actions ---- */
enum { KERN_ACT_OP = 0, KERN_ACT_RELEASE, KERN_ACT_WAITPKT };
typedef struct kern_action {
    uint32_t kind, id;
} kern_action;

/* Per virtual thread. */
typedef struct kern_thread {
    uint32_t bound;      /* port id + 1 it dequeues from (§1 Threads), 0 = none */
    uint64_t wait_seq;   /* arrival order among waiters */
    bool handed;         /* a packet was handed to it while it waited */
    bool abandoned;      /* its port was closed under it (735) */
    bool stolen;         /* woken for a packet a newcomer may take (choice 'w' 2) */
    kern_packet packet;  /* the handed packet */
} kern_thread;

typedef struct kern_state {
    sim_ctx *sim;
    /* handles */
    kern_handle *handles;
    uint32_t nhandles, free_handle; /* free list head + 1 */
    /* objects (per execution counts; storage retained) */
    kern_port ports[KERN_MAX_PORTS];
    uint32_t nports;
    kern_sock *socks;
    uint32_t nsocks;
    kern_op *ops;
    uint32_t nops, free_op, ops_live;
    uint64_t op_seq;
    kern_ovslot *ovs;
    uint32_t ov_cap, nov;
    kern_timer timers[KERN_MAX_TIMERS];
    uint32_t ntimers;
    kern_waitpkt wps[KERN_MAX_WAITPKTS];
    uint32_t nwps;
    kern_thread th[SIM_MAX_THREADS];
    uint32_t th_used; /* th[0 .. th_used - 1] may have been written this execution: an entry is first written by its
                       * own thread's dequeue (port.c), which raises this; the reset clears only those */
    uint64_t wait_seq;
    /* kernel actions, recomputed when dirty */
    kern_action act[KERN_MAX_ACTIONS];
    uint32_t nact;
    bool fired; /* an action fired since the list was built (kernel.c, dropped) */
    bool dirty;
    bool starved;     /* some port holds packets back for its concurrency limit */
    bool waitpkts;    /* the capability this execution */
    uint32_t *labels; /* scratch for choices with many alternatives */
    uint32_t next_port; /* the next ephemeral port bind hands out (sockname.c) */
    bool connectex_loaded; /* WSAIoctl loaded ConnectEx this execution */
    uint32_t labels_cap;
} kern_state;

static inline kern_state *kern(sim_ctx *s) { return (kern_state *)s->kernel_state; }

/* ---- What a step touches, for the explorer's access log (sim.h) ----
 * Every seam call and kernel action logs each kernel object whose state it
 * reads or changes, as a write (a lookup that finds nothing reads the handle
 * table). The handle table is written by every create and close: handle
 * values are what a program sees, and they go in creation order. A socket
 * pair is one object (a send fills the peer, a close resets it). Not
 * objects, because nothing a program sees depends on their order: operation
 * ids and OVERLAPPED ordinals (they only order the kernel's actions, which
 * the explorer takes as free choices, and name things in the trace). The
 * concurrency limit reads every thread's state (§4); the log does not say
 * so, as it does not for sync objects: a port with an enforced limit makes
 * the reduction trust thread states it does not track. */
static inline void kern_touch(sim_ctx *s, uint32_t kind, uint32_t id, bool write) {
    sim__access(s, SIM_ACC_KOBJ(kind, id), write);
}
static inline uint32_t kern_pair(const kern_state *w, uint32_t sid) {
    uint32_t peer = w->socks[sid].peer;
    return peer < sid ? peer : sid;
}
static inline void kern_touch_sock(sim_ctx *s, uint32_t sid) { kern_touch(s, SIM_KOBJ_SOCK, kern_pair(kern(s), sid), true); }
static inline void kern_touch_port(sim_ctx *s, uint32_t pid) { kern_touch(s, SIM_KOBJ_PORT, pid, true); }
static inline void kern_touch_timer(sim_ctx *s, uint32_t tid) { kern_touch(s, SIM_KOBJ_TIMER, tid, true); }
static inline void kern_touch_waitpkt(sim_ctx *s, uint32_t wp) { kern_touch(s, SIM_KOBJ_WAITPKT, wp, true); }
/* Reads of the clock (a deadline computed from now). */
static inline void kern_touch_clock(sim_ctx *s) { sim__access(s, SIM_ACC_OBJECT(SIM_ACC_CLOCK, 0), false); }

_Static_assert(KERN_MAX_HANDLES < 0x10000u, "handle slots fit the low 16 bits of a handle value");
_Static_assert((KERN_MAX_OVS & (KERN_MAX_OVS - 1)) == 0, "the OVERLAPPED table (2 x KERN_MAX_OVS) is a power of two");

/* kernel.c */
void kern_attach(sim_ctx *s);
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 3, 4)))
#endif
void kern_limit(sim_ctx *s, const char *what, const char *fmt, ...);
/* WSARecv/WSASend flags: only 0 is modelled; any other ends the execution
 * with a limit (FACTS.md, "flags other than 0"). */
void kern_flags_modelled(sim_ctx *s, const char *call, uint32_t flags);
uint32_t kern_ov_ord(sim_ctx *s, shim_overlapped *ov); /* ordinal + 1, 0 for NULL */
kern_ovslot *kern_ov_slot(sim_ctx *s, shim_overlapped *ov);
uint32_t *kern_labels(sim_ctx *s, uint32_t n);
uint32_t kern_nt_to_win32(uint32_t status);
uint32_t kern_nt_to_wsa(uint32_t status);
static inline void kern_set_error(sim_ctx *s, uint32_t e) { s->threads[s->current].last_error = e; }
static inline bool kern_nt_failed(uint32_t status) { return (int32_t)status < 0; }

/* handles.c */
void kern_handles_reset(kern_state *w);
shim_handle kern_handle_new(sim_ctx *s, uint8_t kind, uint32_t obj);
bool kern_handle_get(kern_state *w, shim_handle h, uint8_t kind, uint32_t *obj);
void kern_handle_free(kern_state *w, shim_handle h);
uint8_t kern_handle_kind(kern_state *w, shim_handle h);
/* Handles still open, one line each ("" when none), with their count. */
const char *kern_handle_leaks(sim_ctx *s, uint32_t *count);

/* port.c */
void kern_port_fill(shim *sh);
void kern_port_reset(kern_state *w);
/* Queues a packet on port id (from I/O completion, a post or a wait packet):
 * hands it to a waiter or keeps it in the FIFO. */
void kern_port_queue(sim_ctx *s, uint32_t port, const kern_packet *p);
void kern_port_release(sim_ctx *s, uint32_t port); /* kernel action: the limit allows a waiter */
bool kern_port_starved(sim_ctx *s, uint32_t port);
bool kern_port_close(sim_ctx *s, shim_handle h, uint32_t port);
const char *kern_port_leftovers(sim_ctx *s, uint32_t *count);
bool kern_port_unqueue_wp(sim_ctx *s, uint32_t port, uint32_t wp);
/* Called when a packet carrying an operation is dequeued. */
void kern_op_dequeued(sim_ctx *s, const kern_packet *p);

/* sock.c */
void kern_sock_fill(shim *sh, shim_harness *hn);
void kern_sock_reset(kern_state *w);
bool kern_op_actionable(sim_ctx *s, uint32_t op);
void kern_op_fire(sim_ctx *s, uint32_t op);
const char *kern_op_leftovers(sim_ctx *s, uint32_t *count);
void kern_sock_free_all(kern_state *w);
void kern_sock_close(sim_ctx *s, shim_handle h, uint32_t sid, bool abortive);
/* For sockname.c, listener.c and dgram.c: the shared socket machinery of
 * sock.c. A new socket (with a handle unless `embryo`); the start of an
 * overlapped WSARecv-shaped operation (kern_op_start: buffers and the
 * checks of WSARecv/WSASend) or of an operation of `kind` on socket sid
 * (kern_op_begin: the OVERLAPPED monitor included; UINT32_MAX with the last
 * error set on a bad OVERLAPPED); whether it completes now or pends
 * (kern_op_finish, choice 's'); its completion (`pending`: it had returned
 * 997; true if a packet was queued). kern_sock_call: a scheduling point,
 * then the socket or WSAENOTSOCK. */
uint32_t kern_sock_new(sim_ctx *s, bool embryo);
bool kern_sock_call(sim_ctx *s, shim_handle h, uint32_t *sid);
uint32_t kern_op_start(sim_ctx *s, shim_handle h, shim_wsabuf *bufs, uint32_t nbufs, shim_overlapped *ov, bool send);
uint32_t kern_op_begin(sim_ctx *s, uint32_t sid, shim_overlapped *ov, uint8_t kind, bool send);
int kern_op_finish(sim_ctx *s, uint32_t id, bool can_now, bool must, uint32_t *bytes, shim_handle h);
bool kern_op_complete(sim_ctx *s, uint32_t id, uint32_t status, uint32_t bytes, bool pending);
void kern_bytes_push(sim_ctx *s, kern_bytes *b, const void *data, uint32_t n);
void kern_bytes_pop(sim_ctx *s, kern_bytes *b, void *out, uint32_t n);
void kern_sock_wake_reader(sim_ctx *s, kern_sock *so);

/* sockname.c: socket, bind and getsockname of both kinds; the per-type
 * port namespace (a lookup reads the handle table, a bind writes it). */
void kern_names_fill(shim *sh);
void kern_names_reset(kern_state *w);
uint32_t kern_port_owner(sim_ctx *s, uint16_t port, bool dgram);
void kern_bind_ephemeral(sim_ctx *s, uint32_t sid);
void kern_sockaddr(shim_sockaddr_in *a, uint16_t port); /* 127.0.0.1:port */

/* listener.c: the stream calls of the seam, and the kernel's side of
 * AcceptEx and ConnectEx. */
void kern_listener_fill(shim *sh);
void kern_listener_harness_fill(shim_harness *hn);
void kern_listener_reset(kern_state *w);
bool kern_conn_actionable(sim_ctx *s, uint32_t op);
void kern_conn_fire(sim_ctx *s, uint32_t op);
/* Called by kern_sock_close before the socket's pending operations are
 * marked: true when it handled the close (a listener, a connecting or
 * fresh socket: no peer to tell), with *status the status its pending
 * operations end with. */
bool kern_conn_close(sim_ctx *s, uint32_t sid, uint32_t *status);

/* dgram.c */
void kern_dgram_fill(shim *sh, shim_harness *hn);
bool kern_dgram_ready(const kern_sock *so);
uint32_t kern_dgram_recv(sim_ctx *s, uint32_t id, uint32_t *bytes);
uint32_t kern_dgram_send(sim_ctx *s, uint32_t id, uint32_t *bytes);
/* A synchronous truncation on a socket with skip-on-success in effect:
 * whether a packet is queued anyway (choice 'm'). */
bool kern_dgram_overflow_packet(sim_ctx *s);
int kern_dgram_recv_sync(sim_ctx *s, shim_handle h, uint32_t sid, void *buf, uint32_t len, bool wait);

/* waitpkt.c */
void kern_waitpkt_fill(shim *sh, bool present);
void kern_waitpkt_reset(kern_state *w);
void kern_waitpkt_fire(sim_ctx *s, uint32_t wp);
void kern_waitpkt_dequeued(sim_ctx *s, uint32_t wp);
void kern_timer_fired(sim_ctx *s, uint32_t id);
bool kern_timer_live(sim_ctx *s, uint32_t id);
bool kern_waitpkt_close(sim_ctx *s, uint8_t kind, uint32_t obj);

#endif
