/* trace.h - the event trace that the models check: one format for both backends.
 *
 * An execution's trace is a sequence of model events. Two sources fill it:
 *   - the recording shim (shim/record.c): it wraps any shim (simulated or
 *     Win32) and records every seam call the poller makes that matters to
 *     the properties (ports, packets, socket I/O, cancels, closes), with its
 *     arguments and results;
 *   - the scenario interpreter (lang/): harness events that say what the
 *     scenario did and saw (an operation began or ended with its result, a
 *     deadline was set, the peer sent bytes, the poller threw, ...).
 * Every value is deterministic on the simulator: OVERLAPPED pointers and
 * handles appear as ordinals numbered on first sight, never as addresses;
 * time is the backend's clock (virtual on the simulator, real on Win32).
 *
 * The models (models/props.c) read only this. Nothing here depends on the
 * simulator, so a trace recorded on real Windows or Wine is checked by the
 * same code.
 */
#ifndef IOCPCHECK_MODELS_TRACE_H
#define IOCPCHECK_MODELS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../shim/iocp_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum model_ev_kind {
    /* ---- seam calls, recorded by the recording shim ----
     * h = handle ordinal, ov = OVERLAPPED ordinal (0: NULL), key = the raw
     * completion key (the poller's keys carry slot numbers, not addresses). */
    MEV_PORT_CREATE = 0, /* a0 port h */
    MEV_ASSOCIATE,       /* a0 port h, a1 socket h, a2 key, a3 ok (1/0) */
    MEV_POST,            /* a0 port h, a1 key, a2 ov, a3 bytes, a4 ok */
    MEV_DEQUEUE,         /* one per entry removed: a0 port h, a1 key, a2 ov, a3 status (NTSTATUS), a4 bytes */
    MEV_DEQUEUE_FAIL,    /* a0 port h, a1 error (258 timeout, 735 abandoned, ...), a2 timeout ms */
    MEV_WAIT_BEGIN,      /* a0 port h, a1 timeout ms, a2 batch size asked */
    MEV_SUBMIT,          /* WSARecv/WSASend: a0 socket h, a1 ov, a2 'r' or 'w', a3 result: 0 sync, 997 pending,
                          * else the error (no packet, except the synchronous warnings WSAEMSGSIZE and
                          * ERROR_MORE_DATA, which queue one like a success: iocp-facts §6), a4 bytes when sync */
    MEV_CANCEL,          /* CancelIoEx: a0 handle h, a1 ov, a2 ok, a3 error */
    MEV_GET_RESULT,      /* WSAGetOverlappedResult: a0 socket h, a1 ov, a2 ok, a3 error, a4 bytes */
    MEV_SET_MODES,       /* a0 socket h, a1 flags, a2 ok, a3 provider is IFS (1/0, 2 unknown): the socket's
                          * last socket_is_ifs answer, which the recorder keeps without an event */
    MEV_CLOSESOCKET,     /* a0 socket h, a1 result */
    MEV_CLOSE_HANDLE,    /* a0 handle h, a1 ok */

    /* ---- harness events, from the scenario interpreter ----
     * fd = the scenario socket's index; slot = the step's result slot.
     * One MEV_OP_BEGIN/END pair surrounds one poller call, on the calling
     * thread: the checkers take a thread's submissions between the two as
     * that operation's (the poller's own OVERLAPPEDs). */
    MEV_FD_OPEN,       /* a0 fd, a1 socket h, a2 pollDesc sequence, a3 skip_sync asked (MODEL_SKIP_IFS: and the provider is IFS), a4 1: a datagram socket */
    MEV_OP_BEGIN,      /* a0 slot, a1 op (MOP_*), a2 fd (or -1), a3 argument (length, delay ns) */
    MEV_OP_END,        /* a0 slot, a1 op, a2 outcome (MOUT_*), a3 value (bytes, error code, ready count),
                        * a4 first byte's stream offset for reads (see MEV_PEER_SEND) */
    MEV_DEADLINE,      /* a0 fd, a1 mode ('r', 'w', 'r'+'w'), a2 absolute deadline ns (0 none, -1 past) */
    MEV_PEER_SEND,     /* a0 fd, a1 bytes, a2 stream offset of the first byte (bytes are numbered per fd),
                        * a3 datagram sockets: the datagram's number + 1 (0: a stream send) */
    MEV_PEER_SHUTDOWN, /* a0 fd */
    MEV_PEER_RESET,    /* a0 fd */
    MEV_FOREIGN,       /* a0 fd, a1 ov (the foreign OVERLAPPED's ordinal), a2 decoy intact at the end (1/0) */
    MEV_FATAL,         /* text: the poller's throw message */
    MEV_QUIESCENT,     /* end of the scenario: a0 netpollWaiters, a1 threads still parked in the poller */
    MEV_NOTE,          /* text */
    MEV_DEADLINE_SET,  /* a0 fd, a1 mode: the poller call that the thread's last MEV_DEADLINE announced has
                        * returned. The harness records a deadline (reading the clock) before it calls the
                        * poller, so between the two the poller may still hold the previous deadline. */

    /* ---- fault decisions, from the fault shim (shim/fault.h) ---- */
    MEV_FAULT, /* a0 family (shim_fault_family), a1 error injected (0: none, the call went on), a2 the call's
                * number in its family, a3 the decision's number in the execution (0: a persistent fault,
                * no decision) */
    MEV__COUNT
} model_ev_kind;

/* Operations of MEV_OP_BEGIN/END. */
typedef enum model_op {
    MOP_READ = 1,
    MOP_WRITE,
    MOP_CLOSE,
    MOP_BREAK,
    MOP_POLL,  /* a direct netpoll(delay): a3 of BEGIN is the delay ns */
    MOP_SLEEP,
    MOP_ACCEPT,   /* np_fd_accept: value of OK = the accepted socket's handle ordinal */
    MOP_DIAL,     /* np_fd_dial: a3 of BEGIN is the timeout ns */
    MOP_SHUTDOWN, /* np_fd_shutdown: a3 of BEGIN is how */
    MOP_RECVFROM, /* a datagram read (np_fd_read_from): a3 of BEGIN the buffer's length; END: a4 =
                   * (datagram number + 1) | (its length << 32) as the harness matched the bytes, 0: none */
    MOP_SENDTO,   /* a datagram write (np_fd_write_to) */
} model_op;

/* a4 of a read's MEV_OP_END when its socket's bytes are not numbered
 * (dialed, accepted or shared sockets: their other end is no harness peer,
 * or several threads read): bytes-conserved (a)-(c) skip it. */
#define MODEL_NO_OFFSET UINT64_MAX

/* The operations that submit the poller's own I/O, by direction. Go runs
 * an accept as the listener's read operation (its read lock, its read
 * deadline) and a dial as the new socket's write (ConnectEx on the write
 * operation, under the dial's write deadline); a recvfrom and a sendto are
 * a read and a write of a datagram socket. */
static inline bool model_op_is_read(uint64_t k) { return k == MOP_READ || k == MOP_ACCEPT || k == MOP_RECVFROM; }
static inline bool model_op_is_write(uint64_t k) { return k == MOP_WRITE || k == MOP_DIAL || k == MOP_SENDTO; }
static inline bool model_op_is_rw(uint64_t k) { return model_op_is_read(k) || model_op_is_write(k); }

/* Outcomes of MEV_OP_END (the scenario language names them the same). */
typedef enum model_outcome {
    MOUT_OK = 1,     /* value = bytes (reads/writes), ready waiters (poll), 0 otherwise */
    MOUT_EOF,        /* a read of 0 bytes: the peer shut down */
    MOUT_TIMEOUT,    /* NP_ERR_TIMEOUT */
    MOUT_CLOSED,     /* NP_ERR_CLOSING */
    MOUT_ERROR,      /* value = the Win32 error */
    MOUT_TRUNC,      /* a datagram larger than the buffer (WSAEMSGSIZE / ERROR_MORE_DATA): value = bytes received */
} model_outcome;

typedef struct model_event {
    uint64_t seq;     /* position in the trace */
    int64_t time_ns;  /* the backend's clock */
    uint32_t thread;  /* the backend's thread number (virtual thread id; a small number on Win32) */
    uint32_t kind;    /* model_ev_kind */
    uint64_t a[5];
    const char *text; /* MEV_FATAL, MEV_NOTE: owned by the trace */
} model_event;

typedef struct model_trace model_trace;

/* Where the recorder gets the acting thread and the time without making a
 * seam call (which would be a scheduling point on the simulator). */
typedef struct model_clock {
    void *self;
    uint32_t (*thread)(void *self);
    int64_t (*now_ns)(void *self);
} model_clock;

model_trace *model_trace_create(model_clock clock);
/* Every record will come from one OS thread (the simulator runs all its
 * virtual threads on one): the trace's lock, an atomic exchange at every
 * emit and ordinal, is skipped. The real backend's threads need it. */
void model_trace_single_thread(model_trace *t);
void model_trace_destroy(model_trace *t);
/* Empties the trace and its ordinal tables for the next execution (keeps memory). */
void model_trace_reset(model_trace *t);
uint32_t model_trace_count(const model_trace *t);
const model_event *model_trace_events(const model_trace *t);

/* Appends an event stamped with the clock's thread and time. Appends and
 * ordinal lookups may come from several OS threads at once (real backend). */
void model_emit(model_trace *t, model_ev_kind kind, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);
void model_emit_text(model_trace *t, model_ev_kind kind, const char *text);
/* Ordinals of OVERLAPPEDs and handles, numbered on first sight from 1
 * (0 = NULL / invalid). Lookups only: never iterated in address order. A
 * handle the recording shim saw closed successfully gets a new ordinal when
 * seen again (Win32 reuses handle values for new objects). */
uint64_t model_ov(model_trace *t, const shim_overlapped *ov);
uint64_t model_handle(model_trace *t, shim_handle h);

/* ---- For recorders (shim/record.c) ----
 * A recorder must record a call before making it and fill in its result
 * afterwards (so that on a real backend no effect of a call, e.g. the dequeue
 * of the packet it queued, can land in the trace ahead of the call), and
 * remember per handle what a socket's provider said (socket_is_ifs) until
 * SetFileCompletionNotificationModes is recorded. */
/* Appends an event and returns its index (= its seq), for model_patch. */
uint32_t model_emit_at(model_trace *t, model_ev_kind kind, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                        uint64_t a4);
/* Sets argument `arg` (0..4) of event `index`. */
void model_patch(model_trace *t, uint32_t index, unsigned arg, uint64_t value);
/* Numbers the next sight of `h` as a new handle (after a successful close:
 * Win32 reuses handle values for new objects). */
void model_handle_retire(model_trace *t, shim_handle h);
/* A byte of recorder memory per handle ordinal (0 for a new ordinal, and for
 * ordinal 0, which keeps nothing). */
uint8_t model_handle_aux(model_trace *t, uint64_t ordinal);
void model_handle_set_aux(model_trace *t, uint64_t ordinal, uint8_t v);

/* Recorder state: one per wrapped inner shim, owned by the trace. */
typedef struct model_rec {
    const shim *inner;
    model_trace *trace;
} model_rec;
model_rec *model_rec_slot(model_trace *t, const shim *inner);

/* The recording shim (shim/record.c): a shim whose every call goes to
 * `inner` and is recorded into `t`. `out` is caller storage that must
 * outlive its use. NULL on success; else why `inner` is refused (older than
 * seam version 2, or a call missing), and `out` is left zeroed. */
const char *model_record_wrap(shim *out, const shim *inner, model_trace *t);

/* Names of model_op and model_outcome values, as the scenario language and
 * the reports spell them. */
const char *model_op_name(uint64_t op);
const char *model_event_name(uint32_t kind); /* "dequeue", "op_end", ... (the text trace's names) */
const char *model_outcome_name(uint64_t outcome);

/* Renders one event as text (no newline); snprintf-style length. */
size_t model_event_format(const model_event *e, char *buf, size_t len);
void model_trace_write(const model_trace *t, FILE *out);

#ifdef __cplusplus
}
#endif

/* MEV_FD_OPEN a3: skip_sync asked, and socket_is_ifs said yes (one-completion (e)). */
#define MODEL_SKIP_IFS 2u

#endif

