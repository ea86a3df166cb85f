/* world.h - the simulated kernel's state, shared by its files.
 *
 * The "world" is everything the simulated Windows kernel owns: the handle
 * table (handles.c), completion ports (port.c), virtual sockets and their
 * overlapped operations (sock.c), waitable timers and wait completion
 * packets (waitpkt.c), fault injection (faults.c) and the glue that plugs it
 * into the engine as sim_world_ops (world.c). One simw_state hangs off
 * sim_ctx.world_state. Object tables are retained across executions and
 * rewound by counters; every object is named by a small index in creation
 * order, and iterated in index order only, never by address.
 */
#ifndef IOCPCHECK_SIM_WORLD_H
#define IOCPCHECK_SIM_WORLD_H

#include "sim_internal.h"

/* ---- Limits (each reported by name when hit) ---- */
#define SIMW_MAX_HANDLES 4096u  /* open handles at once */
#define SIMW_MAX_PORTS 64u      /* ports created per execution */
#define SIMW_MAX_SOCKETS 256u   /* sockets created per execution */
#define SIMW_MAX_OPS 4096u      /* overlapped operations in flight at once */
#define SIMW_MAX_OVS 4096u      /* distinct OVERLAPPEDs per execution */
#define SIMW_MAX_QUEUE (1u << 22) /* packets queued on one port */
#define SIMW_MAX_BUFS 8u        /* WSABUFs per request */
#define SIMW_MAX_SOCKBUF (1u << 24) /* bytes buffered in one socket */
#define SIMW_MAX_TIMERS 64u
#define SIMW_MAX_WAITPKTS 64u
#define SIMW_MAX_ACTIONS 256u   /* kernel actions offered at once (first ones win) */

/* Wait kinds of threads blocked in the world (>= SIM_WAIT_WORLD). */
enum { SIMW_WAIT_GQCS = SIM_WAIT_WORLD, SIMW_WAIT_GQCSEX };

/* ---- Handles ---- */
enum { SIMW_H_FREE = 0, SIMW_H_PORT, SIMW_H_SOCKET, SIMW_H_TIMER, SIMW_H_WAITPKT };

typedef struct simw_handle {
    uint8_t kind;
    uint16_t gen;   /* bumped at close: a stale value never matches again */
    uint32_t obj;   /* index in the kind's table */
    uint32_t next_free;
} simw_handle;

/* ---- Packets and ports ---- */
typedef struct simw_packet {
    uintptr_t key;
    shim_overlapped *ov;
    uintptr_t info;   /* bytes (Information) */
    uint32_t status;  /* NTSTATUS */
    uint32_t op;      /* operation id + 1 whose completion this is, 0 = posted */
    uint32_t ov_ord;  /* ordinal + 1 of ov, 0 = NULL */
    uint32_t wp;      /* wait packet id + 1, 0 = none */
} simw_packet;

typedef struct simw_port {
    shim_handle h;       /* handle value; the handle may be closed while the port lives */
    bool open;           /* its handle is open */
    bool enforce;        /* concurrency limit enforced (choice 'c') */
    uint32_t limit;      /* concurrency; 0 = no limit */
    uint64_t waiters;    /* threads blocked in GQCS(Ex) on it */
    simw_packet *ring;   /* retained; FIFO */
    uint32_t cap, head, count;
} simw_port;

/* ---- Operations ---- */
enum { SIMW_OP_FREE = 0, SIMW_OP_PENDING, SIMW_OP_QUEUED };

typedef struct simw_op {
    uint8_t state;
    uint8_t send;          /* 0 recv, 1 send */
    bool cancel;           /* CancelIoEx requested */
    bool closing;          /* its socket was closed: ends with close_status */
    bool defer_internal;   /* status block written at dequeue (choice 'i') */
    uint32_t close_status;
    uint32_t sock;
    uint32_t ov_ord;       /* + 1 */
    uint64_t seq;          /* submission order, for per-socket FIFO completion */
    shim_overlapped *ov;
    uint32_t nbufs;
    shim_wsabuf bufs[SIMW_MAX_BUFS];
    uint32_t final_status; /* when queued with a deferred status block */
    uint32_t final_bytes;
    uint32_t next_free;
} simw_op;

/* OVERLAPPED address -> ordinal, probed only (like sync.c's atomics). */
typedef struct simw_ovslot {
    uintptr_t addr;
    uint64_t exec;
    uint32_t ord;  /* 0-based */
    uint32_t op;   /* id + 1 of the operation it is in flight for, 0 = none */
} simw_ovslot;

/* ---- Sockets ---- */
typedef struct simw_bytes {
    unsigned char *buf; /* retained ring */
    uint32_t cap, head, len;
} simw_bytes;

typedef struct simw_sock {
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
    simw_bytes rx;
    simw_bytes msgs;   /* message mode: uint32 lengths as bytes */
} simw_sock;

/* ---- Timers and wait packets (§8) ---- */
typedef struct simw_timer {
    shim_handle h;
    bool open, signaled, armed;
    uint32_t gen;      /* world timer generation: stale clock entries are dropped */
} simw_timer;

enum { SIMW_WP_IDLE = 0, SIMW_WP_ARMED, SIMW_WP_FIRING, SIMW_WP_QUEUED };
typedef struct simw_waitpkt {
    shim_handle h;
    bool open;
    uint8_t state;
    uint32_t port, timer; /* ids */
    uintptr_t key, apc, info;
    uint32_t status;
} simw_waitpkt;

/* ---- Kernel actions ---- */
enum { SIMW_ACT_OP = 0, SIMW_ACT_RELEASE, SIMW_ACT_WAITPKT };
typedef struct simw_action {
    uint32_t kind, id;
} simw_action;

/* Per virtual thread. */
typedef struct simw_thread {
    uint32_t bound;      /* port id + 1 it dequeues from (§1 Threads), 0 = none */
    uint64_t wait_seq;   /* arrival order among waiters */
    bool handed;         /* a packet was handed to it while it waited */
    bool abandoned;      /* its port was closed under it (735) */
    bool stolen;         /* woken for a packet a newcomer may take (choice 'w' 2) */
    simw_packet packet;  /* the handed packet */
} simw_thread;

typedef struct simw_state {
    sim_ctx *sim;
    /* handles */
    simw_handle *handles;
    uint32_t nhandles, free_handle; /* free list head + 1 */
    /* objects (per execution counts; storage retained) */
    simw_port ports[SIMW_MAX_PORTS];
    uint32_t nports;
    simw_sock *socks;
    uint32_t nsocks;
    simw_op *ops;
    uint32_t nops, free_op, ops_live;
    uint64_t op_seq;
    simw_ovslot *ovs;
    uint32_t ov_cap, nov;
    simw_timer timers[SIMW_MAX_TIMERS];
    uint32_t ntimers;
    simw_waitpkt wps[SIMW_MAX_WAITPKTS];
    uint32_t nwps;
    simw_thread th[SIM_MAX_THREADS];
    uint64_t wait_seq;
    /* kernel actions, recomputed when dirty */
    simw_action act[SIMW_MAX_ACTIONS];
    uint32_t nact;
    bool dirty;
    bool starved;     /* some port holds packets back for its concurrency limit */
    bool waitpkts;    /* the capability this execution */
    uint32_t faults_left[SIM_FAULT__COUNT];
    uint32_t *labels; /* scratch for choices with many alternatives */
    uint32_t labels_cap;
} simw_state;

static inline simw_state *simw(sim_ctx *s) { return (simw_state *)s->world_state; }

/* world.c */
void simw_attach(sim_ctx *s);
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 3, 4)))
#endif
void simw_limit(sim_ctx *s, const char *what, const char *fmt, ...);
uint32_t simw_ov_ord(sim_ctx *s, shim_overlapped *ov); /* ordinal + 1, 0 for NULL */
simw_ovslot *simw_ov_slot(sim_ctx *s, shim_overlapped *ov);
uint32_t *simw_labels(sim_ctx *s, uint32_t n);
uint32_t simw_nt_to_win32(uint32_t status);
uint32_t simw_nt_to_wsa(uint32_t status);
static inline void simw_set_error(sim_ctx *s, uint32_t e) { s->threads[s->current].last_error = e; }
static inline bool simw_nt_failed(uint32_t status) { return (int32_t)status < 0; }

/* handles.c */
void simw_handles_reset(simw_state *w);
shim_handle simw_handle_new(sim_ctx *s, uint8_t kind, uint32_t obj);
bool simw_handle_get(simw_state *w, shim_handle h, uint8_t kind, uint32_t *obj);
void simw_handle_free(simw_state *w, shim_handle h);
uint8_t simw_handle_kind(simw_state *w, shim_handle h);

/* port.c */
void simw_port_fill(shim *sh);
void simw_port_reset(simw_state *w);
/* Queues a packet on port id (from I/O completion, a post or a wait packet):
 * hands it to a waiter or keeps it in the FIFO. */
void simw_port_queue(sim_ctx *s, uint32_t port, const simw_packet *p);
void simw_port_release(sim_ctx *s, uint32_t port); /* kernel action: the limit allows a waiter */
bool simw_port_starved(sim_ctx *s, uint32_t port);
bool simw_port_close(sim_ctx *s, shim_handle h, uint32_t port);
const char *simw_port_leftovers(sim_ctx *s, uint32_t *count);
bool simw_port_unqueue_wp(sim_ctx *s, uint32_t port, uint32_t wp);
/* Called when a packet carrying an operation is dequeued. */
void simw_op_dequeued(sim_ctx *s, const simw_packet *p);

/* sock.c */
void simw_sock_fill(shim *sh);
void simw_sock_reset(simw_state *w);
bool simw_op_actionable(sim_ctx *s, uint32_t op);
void simw_op_fire(sim_ctx *s, uint32_t op);
const char *simw_op_leftovers(sim_ctx *s, uint32_t *count);
void simw_sock_free_all(simw_state *w);
void simw_sock_close(sim_ctx *s, shim_handle h, uint32_t sid, bool abortive);

/* waitpkt.c */
void simw_waitpkt_fill(shim *sh, bool present);
void simw_waitpkt_reset(simw_state *w);
void simw_waitpkt_fire(sim_ctx *s, uint32_t wp);
void simw_waitpkt_dequeued(sim_ctx *s, uint32_t wp);
void simw_timer_fired(sim_ctx *s, uint32_t id);
bool simw_timer_live(sim_ctx *s, uint32_t id);
bool simw_waitpkt_close(sim_ctx *s, uint8_t kind, uint32_t obj);

/* faults.c */
void simw_faults_reset(sim_ctx *s);
/* 0 = no fault; otherwise the error to fail with (one of errs). */
uint32_t simw_fault(sim_ctx *s, sim_fault_family fam, const uint32_t *errs, uint32_t nerrs);

#endif
