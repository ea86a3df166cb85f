/* sim.h - the deterministic simulation engine: public API.
 *
 * One sim_ctx holds all simulator state. sim_run executes a harness function
 * as virtual thread 0 on a virtual clock; every seam call of every virtual
 * thread is a scheduling point, and every nondeterministic choice (which
 * thread runs, and later which packet, which waiter, which outcome) goes
 * through one function, sim_choose, whose recorded answers are the schedule.
 * The same chooser answers give the same execution, byte for byte.
 *
 * Sections: configuration; choices and choosers; running; harness helpers
 * (callable from inside a virtual thread); schedules; the trace.
 */
#ifndef IOCPCHECK_SIM_H
#define IOCPCHECK_SIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../shim/harness.h"
#include "../shim/iocp_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sim_ctx sim_ctx;

/* ---- Configuration (every limit is named, and reported when hit) ---- */

#define SIM_MAX_THREADS 64 /* runnable set is a 64-bit mask */
#define SIM_MAX_OBJECTS (1u << 24) /* object numbers fit the access log's 24-bit index (SIM_ACC_OBJECT) */

typedef struct sim_config {
    uint32_t max_threads;      /* <= SIM_MAX_THREADS */
    uint64_t max_steps;        /* scheduling points before "livelock" */
    uint32_t max_decisions;    /* recorded choices before "livelock" */
    uint32_t max_objects;      /* mutexes + semaphores + atomic words per execution (<= SIM_MAX_OBJECTS) */
    size_t stack_size;         /* usable bytes per virtual thread */
    bool record_trace;         /* keep events for rendering (the hash is kept unless skip_trace_hash) */
    /* No trace hash (sim_result.trace_hash is 0): for loops that never print
     * a passing execution's hash (fuzz, bench); its serial chain of mixes is
     * 7-11% of a small scenario's time. Off (hashing) by default. */
    bool skip_trace_hash;
    uint32_t max_trace_events; /* events kept when recording; later ones only hashed */
    /* The simulated kernel (sim/kernel/: port.c, sock.c, waitpkt.c). */
    int64_t tick_ns;           /* timer tick for wait timeouts (15.625 ms, §3); 0 = none (Wine) */
    uint8_t wait_packets;      /* SIM_WAITPKT_*: wait completion packets present, absent or a choice (§8) */
    /* Time jumps: at a thread's scheduling point, while some deadline is
     * pending, time may pass to the earliest one (a 'j' choice: 0 no, 1
     * jump). Models a running thread preempted between two calls, or kept
     * waiting (a slow thread start). On by default, at most max_time_jumps
     * per execution, each to a deadline at most max_jump_ns ahead (bounded
     * so executions stay short and a delay stays a preemption's); off: the
     * clock moves only when nothing can run. */
    bool time_jumps;
    /* At the end of an execution that passed, mutexes and semaphores not
     * destroyed and kernel handles not closed fail it as "no-leak" (listed
     * in sim_result.leaks). Set for harnesses that leave them on purpose. */
    bool allow_leaks;
    uint32_t max_time_jumps;   /* per execution (default 2) */
    int64_t max_jump_ns;       /* only to a deadline at most this far ahead (default 1 ms) */
    /* Which alternatives the kernel's choices may take, by where each is
     * seen (SIM_PLATFORM_*; default ANY, see the README's choice table). */
    uint8_t platform;
    /* Flow control: bytes one direction of a socket pair holds (the sender's
     * send buffer plus the peer's receive window) before a send pends until
     * room is made; 0 = unbounded. Default 2,621,440: what Wine 8 took on a
     * loopback pair whose peer never reads (check_win32, send-buffer). */
    uint32_t sock_buffer;
    /* The other direction: bytes a socket holds unread before a blocking
     * (harness) send to it waits for the reader; 0 = unbounded. Default
     * 2,875,392: where 4 KB blocking sends to a loopback socket nobody reads
     * stopped under Wine 8 (check_win32, recv-window). */
    uint32_t recv_window;
} sim_config;

/* sim_config.platform. Every alternative of every choice is labelled with
 * where it is seen (SIM_SEEN_*, sim_choice_seen); a platform keeps the
 * alternatives seen there. */
#define SIM_PLATFORM_ANY 0     /* everything, what-ifs included (default) */
#define SIM_PLATFORM_REAL 1    /* anything observed: Windows, Wine or old Windows */
#define SIM_PLATFORM_WINDOWS 2 /* Windows 10 and later */
#define SIM_PLATFORM_WINE 3    /* Wine 8 */
#define SIM_SEEN_WINDOWS 1u     /* observed on Windows 10+ */
#define SIM_SEEN_WINE 2u        /* observed on Wine 8 (or a newer Wine) */
#define SIM_SEEN_OLD_WINDOWS 4u /* observed on XP/2003 or before Windows 10 */
#define SIM_SEEN_WHATIF 8u      /* allowed by the documented contract or TCP, never observed */
#define SIM_SEEN_ALL 15u
/* SIM_SEEN_* bits of alternative `label` of a choice kind. */
uint32_t sim_choice_seen(int kind, uint32_t label);
/* The SIM_SEEN_* bits a platform keeps; its name; -1 for an unknown name. */
uint32_t sim_platform_seen(uint8_t platform);
const char *sim_platform_name(uint8_t platform);
int sim_platform_from_name(const char *name);

/* sim_config.wait_packets */
#define SIM_WAITPKT_PRESENT 0 /* Windows 10+ (default) */
#define SIM_WAITPKT_ABSENT 1  /* Wine 8: GetProcAddress gives NULL */
#define SIM_WAITPKT_CHOOSE 2  /* an 'a' choice at the start of every execution */

void sim_config_default(sim_config *cfg);

/* ---- Choices ---------------------------------------------------------
 * A choice kind is a letter in the schedule string. Each kind documents its
 * alternatives and their labels (the value written in the schedule). */

typedef enum sim_choice_kind {
    SIM_CHOICE_THREAD = 0, /* 't': which runnable thread runs next; label = thread id, or 64
                            * (written "tk") for the simulated kernel taking one action */
    SIM_CHOICE_USER,       /* 'u': a value the harness asked for; label = index */
    SIM_CHOICE_EVENT,      /* 'e': which enabled kernel action happens (the thread choice picked "k") */
    /* The simulated kernel (iocp-facts.md §10 and the issue). Labels are the
     * outcome numbers below; only outcomes possible at that point are offered. */
    SIM_CHOICE_BATCH,      /* 'b': GQCSEx batch size; label = n in [1, min(count, queued)] (§3) */
    SIM_CHOICE_WAITER,     /* 'w': a posted packet with waiters: 0 LIFO waiter gets it (Windows),
                            * 1 FIFO waiter (older Wine), 2 a waiter is woken but a newcomer may
                            * steal it (pre-Windows-10, older Wine) (§4) */
    SIM_CHOICE_CONCURRENCY,/* 'c': a port's concurrency limit: 0 enforced (Windows), 1 ignored (Wine) (§4) */
    SIM_CHOICE_INTERNAL,   /* 'i': OVERLAPPED.Internal becomes final: 0 at completion (Wine),
                            * 1 at dequeue (Windows, port-bound handles) (§3) */
    SIM_CHOICE_CANCEL,     /* 'x': a cancelled operation that could also complete: 0 ends cancelled
                            * (995), 1 completes normally (too late; an error if the socket failed) (§7) */
    SIM_CHOICE_CLOSE,      /* 'k': socket-close packet status: 0 STATUS_CANCELLED (documented, §2),
                            * 1 STATUS_LOCAL_DISCONNECT (XP), 2 STATUS_HANDLES_CLOSED (Wine 8),
                            * 3 STATUS_CONNECTION_ABORTED (Windows 10+) (§12 W18) */
    SIM_CHOICE_TIMEOUT,    /* 'o': a finite wait expires 0 early (at the tick before its due time),
                            * 1 on time (Wine), 2 late (at the next tick) (§3) */
    SIM_CHOICE_REMOVED,    /* 'n': GQCSEx failure other than a timeout writes *ulNumEntriesRemoved
                            * = 0 or 1 (§3); a timeout writes 1 (§12 K3) */
    SIM_CHOICE_ABANDON,    /* 'l': port closed under waiters: 0 they fail with 735 (Windows),
                            * 1 they keep waiting until their timeout (Wine 8, older Wine) (§2, §11) */
    SIM_CHOICE_SYNC,       /* 's': overlapped recv/send that can finish at once: 0 synchronously,
                            * 1 stays pending (§6) */
    SIM_CHOICE_PARTIAL,    /* 'p': bytes a recv takes of those available: 0 all that fit, 1 one byte,
                            * 2 half, 3 all but one (distinct counts only) */
    SIM_CHOICE_SKIP,       /* 'r': FILE_SKIP_COMPLETION_PORT_ON_SUCCESS on a handle: 0 effective,
                            * 1 ineffective (non-IFS LSP, KB 2568167, Go issues 22149/77448) (§6) */
    SIM_CHOICE_WAITPKT_API,/* 'a': wait-packet APIs 0 present (Windows 10+), 1 absent (Wine 8) (§8) */
    SIM_CHOICE_SIGNAL,     /* 'g': a wait packet on a signaled target 0 consumes the signal (Windows,
                            * per KiWaitSatisfyOther), 1 does not (newer Wine) (§8) */
    SIM_CHOICE_WPCANCEL,   /* 'y': NtCancelWaitCompletionPacket while the packet is being satisfied:
                            * 0 SUCCESS (disarmed first), 1 STATUS_PENDING (it will still be queued) (§8) */
    SIM_CHOICE_FAULT,      /* 'f': an injected fault: 0 none, k >= 1 the k-th error the call allows */
    SIM_CHOICE_JUMP,       /* 'j': at a thread's scheduling point with a deadline pending: 0 time
                            * does not move, 1 it jumps to the earliest deadline (a preemption) */
    SIM_CHOICE_ZEROBUFS,   /* 'z': WSARecv with no buffers: 0 WSAEINVAL (Windows), 1 taken as a
                            * zero-length receive (Wine 8) (§12 W34) */
    SIM_CHOICE_RESETRECV,  /* 'q': WSARecv on a socket the peer reset, nothing buffered: 0 fails
                            * with WSAECONNRESET (Windows), 1 succeeds at once with 0 bytes, as at
                            * EOF (Wine 8, measured) (§12 W11/W12) */
    SIM_CHOICE_SIGNALED,   /* 'v': NtAssociateWaitCompletionPacket on an already-signaled target
                            * (alreadySignaled TRUE): 0 the packet is queued at once (§8, documented),
                            * 1 no packet is queued (go-netpoll.md §1; a what-if) */
    SIM_CHOICE_LOSS,       /* 'd': a datagram on its way: 0 delivered, 1 lost (what-if: UDP promises
                            * nothing; on loopback drops were measured only at a full queue) */
    SIM_CHOICE_MSGSKIP,    /* 'm': a datagram truncated at once on a socket with skip-on-success in
                            * effect: 0 no packet (Wine 8, measured), 1 a packet anyway (Windows as
                            * documented: the flag skips only a request that returns success) */
    SIM_CHOICE_ACCEPTRESET,/* 'h': an AcceptEx takes a connection its client reset before the accept:
                            * 0 STATUS_CONNECTION_RESET (64 / 10054: Windows, per Go's accept loop),
                            * 1 STATUS_CONNECTION_INVALID (59 / 10057: Wine 8, measured) (FACTS.md S6) */
    SIM_CHOICE__COUNT
} sim_choice_kind;

char sim_choice_letter(sim_choice_kind k);
const char *sim_choice_name(sim_choice_kind k);
/* Returns the kind for a schedule letter, or -1. */
int sim_choice_from_letter(char c);

#define SIM_NO_CURRENT UINT32_MAX
#define SIM_KERNEL_LABEL 64u /* the thread-choice label of the simulated kernel ("tk") */
#define SIM_CHOICE_DIVERGED UINT32_MAX

typedef struct sim_choice_point {
    uint32_t position;       /* index of this decision in the stream */
    sim_choice_kind kind;
    uint32_t n;              /* alternatives, always >= 2 (forced choices are not asked) */
    const uint32_t *labels;  /* label of each alternative, ascending */
    uint32_t current;        /* THREAD: index of the running thread if it may go on, else SIM_NO_CURRENT */
} sim_choice_point;

/* One recorded decision. */
typedef struct sim_decision {
    uint8_t kind;    /* sim_choice_kind */
    uint8_t preempt; /* a thread choice that switched away from a runnable thread */
    uint16_t reserved;
    uint32_t n;      /* alternatives offered */
    uint32_t index;  /* chosen alternative, < n */
    uint32_t label;  /* its label: what the schedule string records */
} sim_decision;

/* A chooser answers choice points. Exploration, PCT and byte-driven fuzzing
 * plug in here: replay a prefix (sim_replay), then answer the rest their way;
 * after the run, the recorded stream (sim_result.decisions, with n for every
 * position) tells an explorer which alternatives remain. */
typedef struct sim_chooser {
    void *self;
    const char *name;
    /* Called at the start of each execution (may be NULL). */
    void (*begin)(void *self, sim_ctx *sim);
    /* Returns an index < pt->n, or SIM_CHOICE_DIVERGED after calling
     * sim_report_divergence. */
    uint32_t (*choose)(void *self, sim_ctx *sim, const sim_choice_point *pt);
    /* Called when the execution ended normally (may be NULL); may report a
     * divergence (for example, unused replay decisions). */
    void (*end)(void *self, sim_ctx *sim);
} sim_chooser;

/* Seeded random: xoshiro256** seeded through SplitMix64. Uniform over the
 * alternatives at every point. */
typedef struct sim_random {
    uint64_t seed;
    uint64_t s[4];
} sim_random;
sim_chooser sim_random_chooser(sim_random *r, uint64_t seed);

/* Always the running thread if it may go on, else alternative 0: the
 * non-preemptive default that explorers and shrinkers extend a prefix with. */
sim_chooser sim_first_chooser(void);

/* Replay: answers from a decision list. With `rest` NULL the replay is
 * strict: asking past the end, a kind mismatch, a label that is not among the
 * alternatives, or leftover decisions at the end are nondeterminism. With a
 * `rest` chooser, decisions past the end of the list come from it. */
typedef struct sim_replay {
    const sim_decision *d;
    const uint32_t *col; /* optional: column of each decision in its schedule string */
    uint32_t count;
    uint32_t pos;
    sim_chooser *rest;
} sim_replay;
sim_chooser sim_replay_chooser(sim_replay *r, const sim_decision *d, const uint32_t *col,
                               uint32_t count, sim_chooser *rest);

/* For choosers: record why the execution diverged (ends it as nondeterminism). */
void sim_report_divergence(sim_ctx *sim, const char *fmt, ...);

/* For choosers (the explorer, PCT, swarm), from inside a choose call: one of
 * their own invariants failed. Ends the execution now with SIM_INTERNAL, the
 * message naming the invariant (`what`, the failed condition `cond`) and
 * file:line, followed by the schedule so far. Never returns. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
void sim_report_internal(sim_ctx *sim, const char *what, const char *cond, const char *file, int line);

/* ---- Running ------------------------------------------------------------ */

typedef enum sim_verdict {
    SIM_PASS = 0,        /* every thread finished */
    SIM_FAIL,            /* the harness reported a failed property (sim_fail), or "no-leak" */
    SIM_DEADLOCK,        /* every thread blocked, nothing timed */
    SIM_LIVELOCK,        /* the step or decision limit was reached */
    SIM_STACK_OVERFLOW,  /* a virtual thread hit its guard page */
    SIM_NONDETERMINISM,  /* a replay diverged from its schedule */
    SIM_LIMIT,           /* a resource limit (threads, objects) was exceeded */
    SIM_USAGE,           /* the code under test misused a primitive (e.g. unlock of a free mutex) */
    SIM_CRASH,           /* a virtual thread faulted (SIGSEGV, SIGBUS, SIGFPE, SIGILL) */
    SIM_INTERNAL,        /* an invariant of the simulator or of a chooser (the explorer) failed:
                          * a bug in iocpcheck, not in the code under test (CLI exit 3) */
} sim_verdict;

const char *sim_verdict_name(sim_verdict v);

typedef struct sim_result {
    sim_verdict verdict;
    const char *property;         /* SIM_FAIL: the property; otherwise the verdict name */
    const char *message;          /* a readable report, several lines */
    uint64_t steps;               /* scheduling points taken */
    int64_t virtual_ns;           /* virtual clock at the end */
    uint64_t trace_hash;          /* 64-bit hash of every event (0 with skip_trace_hash) */
    const sim_decision *decisions;
    uint32_t ndecisions;
    uint32_t preemptions;
    uint32_t threads;             /* threads created */
    uint32_t divergence_at;       /* SIM_NONDETERMINISM: the decision position */
    /* Monitors of the simulated kernel, at the end of the execution: packets
     * still queued on a port and overlapped operations never completed. The
     * list (also appended to `message`) names ports as h<n> and OVERLAPPEDs
     * by ordinal (ov<n>). */
    uint32_t leftover_packets;
    uint32_t leftover_ops;
    const char *leftovers;        /* "" when none */
    /* Leaks, checked only when every thread finished: mutexes and semaphores
     * never destroyed (named by creation ordinal, m<n> / s<n>, as in the
     * trace) and kernel handles never closed (h<n>, with the kind's creation
     * number), each with the thread and step that created it. Unless
     * allow_leaks, any of them turns a pass into SIM_FAIL "no-leak". */
    uint32_t leaked_objects;
    uint32_t leaked_handles;
    const char *leaks;            /* "" when none */
} sim_result;

typedef void (*sim_main_fn)(sim_ctx *sim, const shim *sh, void *arg);

/* Creates a simulator (NULL config: defaults). Returns NULL if the stacks
 * cannot be mapped. */
sim_ctx *sim_create(const sim_config *cfg);
void sim_destroy(sim_ctx *sim);
const sim_config *sim_get_config(const sim_ctx *sim);

/* Runs one execution of `main_fn(sim, shim, arg)` as thread 0 ("main"),
 * answering choices with `chooser`. All per-execution state is reset first.
 * The result (and everything it points to) stays valid until the next run. */
const sim_result *sim_run(sim_ctx *sim, sim_chooser *chooser, sim_main_fn main_fn, void *arg);

/* The simulated seam, and the harness calls beside it (threads, sleep, the
 * peer side of sockets). Valid for the life of the sim_ctx. */
const shim *sim_shim(sim_ctx *sim);
const shim_harness *sim_harness(sim_ctx *sim);
/* The harness that goes with `sh` when `sh` is a simulator's own seam (what
 * sim_run hands its main function), else NULL: lets code that was given only
 * the seam reach its simulator's threads and peers. */
const shim_harness *sim_harness_of(const shim *sh);

/* Per-kind choice counters, accumulated over every run since create (or the
 * last reset): outcome[kind][o] counts how often outcome o was taken, where o
 * is the chosen label for every kind but 't' (there: the alternative's index);
 * outcomes >= SIM_STATS_OUTCOMES are counted in the last slot. */
#define SIM_STATS_OUTCOMES 16
typedef struct sim_stats {
    uint64_t asked[SIM_CHOICE__COUNT];
    uint64_t outcome[SIM_CHOICE__COUNT][SIM_STATS_OUTCOMES];
    uint64_t executions;
    uint64_t steps;
} sim_stats;
const sim_stats *sim_get_stats(const sim_ctx *sim);
void sim_reset_stats(sim_ctx *sim);

/* ---- Harness helpers: call only from inside a virtual thread ---------- */

/* Ends the execution now with SIM_FAIL, naming the property. Never returns. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 3, 4)))
#endif
void sim_fail(sim_ctx *sim, const char *property, const char *fmt, ...);

/* Ends the execution now as a pass, with a note in the trace saying why
 * (`fmt`): the code under test ended the process on purpose and the harness
 * expected it (a scenario's `expect fatal`). Threads still live are
 * abandoned as the process's would be, and nothing is checked for leaks.
 * Never returns. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn, format(printf, 2, 3)))
#endif
void sim_end_pass(sim_ctx *sim, const char *fmt, ...);

/* A nondeterministic value in [0, n), through the decision stream (kind 'u').
 * n <= 1 returns 0 without a decision. */
uint32_t sim_choose_user(sim_ctx *sim, uint32_t n);

/* A fault decision for a wrapper of the seam (the fault shim, shim/fault.h),
 * through the decision stream (kind 'f'): returns 0 for no fault, or k in
 * [1, nerrs] to fail with errs[k-1], which the trace records as a fault
 * event (family, error). With `must`, a fault is certain and only the error
 * is chosen (0 is not offered). A single alternative asks no decision. The
 * engine injects nothing itself: what fails, and how, is the caller's. */
uint32_t sim_choose_fault(sim_ctx *sim, uint32_t family, const uint32_t *errs, uint32_t nerrs, bool must);

/* Allocates zeroed memory that lives until the next run. */
void *sim_alloc(sim_ctx *sim, size_t size);

/* Makes both ends of a simulated socket pair message-oriented: each send is
 * one message, and a recv into a smaller buffer takes what fits with
 * STATUS_BUFFER_OVERFLOW (WSAEMSGSIZE), dropping the rest (§6's synchronous
 * warning). No scheduling point. False if `s` is not an open simulated socket. */
bool sim_sock_message_mode(sim_ctx *sim, shim_handle s);

/* Adds a note event to the trace (hashed, rendered verbatim). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
void sim_note(sim_ctx *sim, const char *fmt, ...);

/* The running thread's id (0 = main) and the virtual time, without a
 * scheduling point (for harness bookkeeping, not for code under test). */
uint32_t sim_current_thread(const sim_ctx *sim);
/* Whose step is running: the current thread's id, or SIM_KERNEL_LABEL inside
 * a kernel action (the owner of the accesses it logs). */
uint32_t sim_acting_thread(const sim_ctx *sim);
int64_t sim_now_ns(const sim_ctx *sim);

/* ---- Schedules ------------------------------------------------------------
 * The printed form of a decision stream, compact and editable by hand:
 *
 *   schedule := token { sep token }      sep := ',' or white space
 *   token    := kind label [ 'x' count ] kind := a choice letter (t, u, e, ...)
 *   label    := decimal | 'k'            count := decimal >= 1 (repeat)
 *
 * 'k' is only valid after 't': the kernel (pending I/O, timers) acts next.
 *
 * Example: "t0x3,t1,u2,t0" = thread 0 three times, then thread 1, then the
 * harness value 2, then thread 0. Forced choices (one alternative) are never
 * recorded, so editing one token changes exactly one decision. */

typedef struct sim_schedule {
    sim_decision *d; /* kind and label filled; n and index unknown (0) */
    uint32_t *col;   /* 1-based column in the source string of each decision */
    uint32_t count;
} sim_schedule;

/* Parses `text`. On error returns false and writes "col N: message" into
 * err. The result is malloc'd: free with sim_schedule_free. */
bool sim_schedule_parse(const char *text, sim_schedule *out, char *err, size_t errlen);
void sim_schedule_free(sim_schedule *s);
/* Formats a decision stream; returns the length it needs (snprintf-style). */
size_t sim_schedule_format(const sim_decision *d, uint32_t count, char *buf, size_t buflen);

/* ---- The trace ------------------------------------------------------------ */

typedef enum sim_event_kind {
    SIM_EV_THREAD_START = 0,
    SIM_EV_THREAD_END,
    SIM_EV_SPAWN,
    SIM_EV_JOIN,
    SIM_EV_ATOMIC_LOAD,
    SIM_EV_ATOMIC_STORE,
    SIM_EV_ATOMIC_CAS,
    SIM_EV_ATOMIC_SWAP,
    SIM_EV_ATOMIC_ADD,
    SIM_EV_MUTEX_INIT,
    SIM_EV_MUTEX_LOCK,
    SIM_EV_MUTEX_BLOCK,
    SIM_EV_MUTEX_UNLOCK,
    SIM_EV_SEMA_INIT,
    SIM_EV_SEMA_WAIT,
    SIM_EV_SEMA_BLOCK,
    SIM_EV_SEMA_POST,
    SIM_EV_SLEEP,
    SIM_EV_NOW,
    SIM_EV_TIMEOUT,
    SIM_EV_CHOICE,
    SIM_EV_NOTE,
    SIM_EV_FAIL,
    /* the simulated kernel: handles render as h<n>, OVERLAPPEDs as ov<n> (ordinal) */
    SIM_EV_PORT_CREATE,  /* port, concurrency, limit enforced */
    SIM_EV_PORT_ASSOC,   /* port, file, key, result (0 ok, else error) */
    SIM_EV_PORT_POST,    /* port, key, ov, bytes */
    SIM_EV_PORT_DEQUEUE, /* port, key, ov, status << 32 | bytes */
    SIM_EV_PORT_WAIT,    /* port, timeout ms, effective wait ns (-1 forever) */
    SIM_EV_PORT_FAIL,    /* port, error, entries removed */
    SIM_EV_HANDLE_CLOSE, /* handle, error (0 ok), waiters abandoned */
    SIM_EV_SOCK_PAIR,    /* h0, h1 */
    SIM_EV_SOCK_IO,      /* socket, ov, op (0 recv, 1 send) << 32 | result, bytes */
    SIM_EV_IO_DONE,      /* socket, ov, status, bytes << 1 | packet queued */
    SIM_EV_CANCEL,       /* handle, ov, matched, error */
    SIM_EV_SOCK_PEER,    /* socket, action (0 send, 1 shutdown, 2 abort, 3 close), bytes, pending */
    SIM_EV_SET_MODES,    /* handle, flags, skip effective, error */
    SIM_EV_GET_RESULT,   /* socket, ov, error, bytes */
    SIM_EV_FAULT,        /* family, error */
    SIM_EV_WAITPKT,      /* packet, action (0 create, 1 associate, 2 cancel, 3 queued), a, b */
    SIM_EV_TIMER,        /* timer, action (0 create, 1 set, 2 fire), due ns */
    SIM_EV__COUNT
} sim_event_kind;

typedef struct sim_event {
    uint64_t step;
    int64_t time_ns;
    uint32_t thread;
    uint32_t kind;
    uint64_t arg[4];
} sim_event;

const char *sim_event_name(uint32_t kind);
/* Events kept by the last run (record_trace), in order. */
uint32_t sim_trace_count(const sim_ctx *sim);
const sim_event *sim_trace_events(const sim_ctx *sim);
/* Renders one event as a line without newline; returns snprintf-style length. */
size_t sim_event_format(const sim_ctx *sim, const sim_event *e, char *buf, size_t buflen);
/* Renders the whole kept trace, one event a line. */
void sim_trace_write(const sim_ctx *sim, FILE *out);

/* ---- The access log (for the explorer's partial-order reduction) --------
 * Off by default (one branch per event). When on, every event of a run also
 * logs which shared object it touched and whether it wrote it, so that an
 * explorer can tell dependent steps from independent ones. Objects are
 * numbered per execution, never by address. The simulated kernel is many
 * objects (SIM_ACC_KERNEL, index SIM_ACC_KOBJ(kind, id)): its handle table,
 * each port, each socket pair (a send fills the peer), each waitable timer,
 * each wait packet, ids in creation order per kind; every kernel seam call
 * and kernel action logs the ones it reads or writes (sim/kernel/kernel.h). */

typedef enum sim_access_class {
    SIM_ACC_SYNC = 0, /* a mutex, semaphore or atomic word: creation / first-touch index */
    SIM_ACC_THREAD,   /* one thread, by id: spawn, start, end, join */
    SIM_ACC_THREADS,  /* the thread table: every spawn writes it (ids go in spawn order) */
    SIM_ACC_CLOCK,    /* the virtual clock: read by now and sleep, written by timeouts */
    SIM_ACC_KERNEL,   /* one object of the simulated kernel: SIM_ACC_KOBJ(kind, id) */
} sim_access_class;

#define SIM_ACC_OBJECT(cls, index) (((uint32_t)(cls) << 24) | ((uint32_t)(index) & 0xffffffu))
#define SIM_ACC_CLASS(object) ((uint32_t)(object) >> 24)
#define SIM_ACC_INDEX(object) ((uint32_t)(object) & 0xffffffu)
/* Kernel objects: kind in the top 4 bits of the index, creation-order id below. */
enum { SIM_KOBJ_TABLE = 0, SIM_KOBJ_PORT, SIM_KOBJ_SOCK, SIM_KOBJ_TIMER, SIM_KOBJ_WAITPKT,
       SIM_KOBJ_STATUS, /* an operation's status block while its packet waits (choice 'i'), by operation id */
       SIM_KOBJ_DEADLINE, /* a thread's wait deadline (choice 'o'), by thread id: touched when it fires */
       SIM_KOBJ_SIGNAL, /* a waitable timer's signaled state (choice 'g'), by timer id */
       SIM_KOBJ__COUNT };
#define SIM_ACC_KOBJ(kind, id) SIM_ACC_OBJECT(SIM_ACC_KERNEL, ((uint32_t)(kind) << 20) | ((uint32_t)(id) & 0xfffffu))
#define SIM_ACC_KOBJ_KIND(object) (SIM_ACC_INDEX(object) >> 20)
#define SIM_ACC_KOBJ_ID(object) (SIM_ACC_INDEX(object) & 0xfffffu)

typedef struct sim_access {
    uint32_t pos;    /* decisions recorded before it: it belongs to the step after decision pos-1 */
    uint32_t thread; /* thread id, or SIM_KERNEL_LABEL for a kernel action */
    uint32_t object; /* SIM_ACC_OBJECT(class, index) */
    uint8_t write;   /* 0 only for atomic loads and clock reads */
    uint8_t event;   /* the sim_event_kind that logged it; SIM_ACC_NO_EVENT for a silent one */
    uint16_t reserved;
    uint64_t value;  /* atomic words: the value after the access (else 0) */
} sim_access;

#define SIM_ACC_NO_EVENT 0xffu
/* event of the access logged right after a kernel choice whose alternatives
 * differ only in that object: if nothing accesses it later, no thread can
 * tell the alternatives apart (the explorer then runs only the first). With
 * value = t + 1 (else 0), thread t's own next access of the object does not
 * observe it either: the alternatives leave the object alike for t, and
 * differ only if another actor accesses it first. */
#define SIM_ACC_EFFECT 0xfeu
/* event of an access that says the acting thread's step disabled a kernel
 * action that was enabled before it (the kernel's next step is gone, so no
 * later access of the kernel shows the conflict); object: the action's. */
#define SIM_ACC_DROP 0xfdu
/* event of an access that sets an object whatever it held (a blind write):
 * it does not observe a choice's effect on the object, and ends the watch,
 * since every alternative leaves the object alike after it. */
#define SIM_ACC_OVERWRITE 0xfcu

/* limit > 0 turns the log on, keeping at most `limit` accesses a run (the
 * rest are dropped and the run is marked truncated); 0 turns it off. */
void sim_access_log(sim_ctx *sim, uint32_t limit);
/* The accesses of the current (or last) run, in order; valid until the next run. */
uint32_t sim_access_count(const sim_ctx *sim);
const sim_access *sim_accesses(const sim_ctx *sim);
bool sim_access_truncated(const sim_ctx *sim);

/* ---- Seeded random numbers (xoshiro256**), for choosers ---- */

uint64_t sim_splitmix64(uint64_t *state);
void sim_rng_seed(uint64_t s[4], uint64_t seed);
uint64_t sim_rng_next(uint64_t s[4]);
uint32_t sim_rng_below(uint64_t s[4], uint32_t n); /* uniform in [0, n), n >= 1 */

/* Knobs that may change between executions of one simulator (sim/knobs.c);
 * the rest of the config is fixed at sim_create. */
void sim_set_record_trace(sim_ctx *sim, bool on);
void sim_set_skip_trace_hash(sim_ctx *sim, bool skip);
void sim_set_time_jumps(sim_ctx *sim, bool on);
void sim_set_time_jump_bounds(sim_ctx *sim, uint32_t max_jumps, int64_t max_jump_ns);
/* By default every execution checks (one sigaction) that the fault handler
 * it installed is still SIGSEGV's: a program may have installed its own in
 * between. A driver that installs none between executions (the CLI) may
 * skip the check: then a handler replaced between runs is not reinstated,
 * and a crash of the code under test kills the process (loudly) instead of
 * being reported. The system call was 3.5% of a small scenario's time. */
void sim_set_trust_fault_handler(sim_ctx *sim, bool trust);

/* Measurement only (bench_prefix, the prefix-reuse question): the last
 * execution's result, and a lower bound of what a snapshot of the simulator
 * at its end would copy (sim/footprint.c). */
const sim_result *sim_last_result(const sim_ctx *sim);
typedef struct sim_footprint {
    size_t ctx;    /* the context (threads, counters, the decision stream's head) */
    size_t arena;  /* per-execution arena in use: the poller's and interpreter's memory too */
    size_t stacks; /* the threads' stacks, as deep as any execution has written them */
    size_t tables; /* objects, timers and decisions in use */
} sim_footprint;
void sim_get_footprint(const sim_ctx *sim, sim_footprint *out);

#ifdef __cplusplus
}
#endif

#endif
