/* netpoll.h - the poller under test: Go's Windows network poller in C.
 *
 * Three layers, as in Go (poller/README.md explains them in a page):
 *   port core   (netpoll.c)  the completion port, break, poll(delay), dispatch
 *   pollDesc    (polldesc.c) per-descriptor readiness (rg/wg), deadlines, close
 *   fd I/O      (fdio.c)     execIO: prepare, submit, wait, cancel; the close protocol
 * and the small runtime loop that plays Go's scheduler (runtime.c): a timer
 * heap for deadlines, poll with the delay it gives, ready the woken waiters.
 *
 * CONTRACT
 *  - Everything goes through the shim given to np_init: the same code runs on
 *    the simulator and on real Win32.
 *  - No address is ever stored in an atomic word, a completion key or any
 *    value the shim sees: keys carry a pollDesc's slot number and waiter words
 *    carry waiter numbers, so traces are identical from run to run. A key's
 *    pollDesc is only compared, never dereferenced, until it matches.
 *  - np_poll never returns an empty list with a non-zero delta; callers ready
 *    the list (np_ready) and then apply the delta (np_adjust_waiters).
 *  - Spurious wakeups are allowed; lost ones are not.
 *  - Impossible states call the fatal hook (Go's throw); the default hook
 *    prints and aborts, tests install one that reports a property failure.
 */
#ifndef IOCPCHECK_NETPOLL_H
#define IOCPCHECK_NETPOLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../shim/iocp_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_poller np_poller;
typedef struct np_pd np_pd;
typedef struct np_fd np_fd;
typedef struct np_m np_m;

/* ---- Completion keys: a public contract ----
 * Traces show the keys the poller associates and posts, and the models
 * decode them, so their layout is part of the API: the source (Go's
 * netpollSourceReady/Break/Timer) in the low NP_KEY_SRC_BITS bits, the
 * pollDesc slot number (>= 1) above them, slot 0 for packets that belong to
 * no descriptor (break, timer). A slot number, never a pointer: keys are the
 * same in every run. */
#define NP_KEY_SRC_BITS 4u
#define NP_SRC_READY 1u /* I/O on a descriptor: the slot is its pollDesc's */
#define NP_SRC_BREAK 2u /* np_break's packet (slot 0) */
#define NP_SRC_TIMER 3u /* the high-resolution timer's wait packet (slot 0) */
#define NP_KEY(src, slot) (((uintptr_t)(slot) << NP_KEY_SRC_BITS) | (uintptr_t)(src))
#define NP_KEY_SRC(k) ((uint32_t)((k) & ((1u << NP_KEY_SRC_BITS) - 1)))
#define NP_KEY_SLOT(k) ((uint64_t)(k) >> NP_KEY_SRC_BITS)
#define NP_BREAK_KEY NP_KEY(NP_SRC_BREAK, 0)

/* np_poll clamps its delay here (Go: 1e15 ns, about 11.5 days), so the
 * millisecond timeout stays below INFINITE. */
#define NP_MAX_DELAY_NS 1000000000000000LL

/* Results of fd operations: 0, one of these, or a positive Win32 error. */
#define NP_OK 0
#define NP_ERR_CLOSING (-1)      /* the descriptor is closed or closing (Go: ErrNetClosing) */
#define NP_ERR_TIMEOUT (-2)      /* the deadline passed (Go: ErrDeadlineExceeded) */
#define NP_ERR_NOT_POLLABLE (-3) /* Go's ErrNotPollable (eventErr); unused on Windows */
#define NP_ERR_NO_MEMORY (-4)    /* the pollDesc cache is exhausted */

/* A message for err; for NP_ERR_CLOSING and NP_ERR_TIMEOUT it is Go's own text
 * ("use of closed network connection", "i/o timeout"), which users match on. */
const char *np_strerror(int err);

/* Called on an impossible state with Go's throw message. Must not return
 * (the simulator's hook ends the execution; the default aborts). */
typedef void (*np_fatal_fn)(void *arg, const char *msg);

typedef struct np_config {
    uint32_t procs;    /* GOMAXPROCS: the batch size is max(8, 64 / procs) */
    uint32_t max_fds;  /* pollDesc cache size (pollDescs are recycled, freed by np_destroy) */
    np_fatal_fn fatal; /* NULL: print and abort */
    void *fatal_arg;
    /* Memory for the poller and its descriptors (zeroed). NULL: calloc/free.
     * The simulator hands out per-execution arena memory, so an execution
     * abandoned mid-way leaks nothing. */
    void *(*alloc)(void *arg, size_t size);
    void (*free)(void *arg, void *ptr);
    void *alloc_arg;
} np_config;

/* NULL when this poller can run on `sh` (seam version 2 or later, every
 * call it makes present), else the reason it refuses it. */
const char *np_check_shim(const shim *sh);
/* netpollinit: creates the completion port (concurrency: unlimited). NULL on
 * failure: a refused shim (np_check_shim says why), no memory, or the port
 * could not be created (the shim's last error says why). */
np_poller *np_init(const shim *sh, const np_config *cfg);
/* Destroys every primitive the poller created, closes the port and frees
 * its memory. Every descriptor must be closed (np_fd_close) and every np_m
 * destroyed first, and no thread may still be inside the poller. */
void np_destroy(np_poller *p);
const shim *np_shim(const np_poller *p);

/* ---- Waiters: a parked goroutine is a thread blocked on its semaphore ---- */

typedef struct np_waiter np_waiter;
typedef struct np_list {
    np_waiter *head;
    uint32_t n;
} np_list;

/* ---- Port core ---- */

/* Per-thread poller state (Go's per-M wait packet and high-resolution timer,
 * used when the shim has SHIM_CAP_WAIT_PACKETS). NULL is allowed: then only
 * the millisecond timeout of GetQueuedCompletionStatusEx is used. */
np_m *np_m_create(np_poller *p);
void np_m_destroy(np_poller *p, np_m *m);

/* netpoll(delay): delay < 0 blocks until something happens, 0 does not block,
 * > 0 blocks at most about `delay` ns (1 ms granularity, clamped to 1e15 ns).
 * Appends the waiters made ready to `ready` and returns the waiter delta. */
int32_t np_poll(np_poller *p, np_m *m, int64_t delay_ns, np_list *ready);
/* netpollBreak: wakes a blocked np_poll; at most one break packet is queued. */
void np_break(np_poller *p);
/* goready for every waiter of the list (empties it). */
void np_ready(np_poller *p, np_list *list);
/* netpollAdjustWaiters. */
void np_adjust_waiters(np_poller *p, int32_t delta);
/* netpollWaiters: threads parked in the poller right now. */
uint32_t np_waiters(np_poller *p);

/* ---- The runtime loop (runtime.c) ---- */

/* Runs the scheduler loop on the calling thread until np_stop: fire due
 * deadline timers, poll with the delay to the next one, ready the waiters. */
void np_run(np_poller *p, np_m *m);
/* Makes np_run return (breaks a blocked poll). */
void np_stop(np_poller *p);
/* Runs the timers that are due now, and returns the time to the next one
 * (-1: none). For a harness that drives polls itself. */
int64_t np_run_timers(np_poller *p);

/* ---- Descriptors (fdio.c) ---- */

/* Opens a socket for polled I/O: allocates a pollDesc, associates the socket
 * with the port, and enables skip-on-success when `try_skip_sync` is set and
 * the provider is known to honour it. NULL with *err set on failure. */
np_fd *np_fd_open(np_poller *p, shim_handle sock, bool try_skip_sync, int *err);
/* Overlapped read/write of up to `len` bytes. Returns NP_OK with *n set, or
 * an error; ERROR_MORE_DATA comes with *n set too. A read whose I/O completed
 * although its wait timed out or was closed returns the bytes. */
int np_fd_read(np_fd *fd, void *buf, uint32_t len, uint32_t *n);
int np_fd_write(np_fd *fd, const void *buf, uint32_t len, uint32_t *n);
/* Deadline relative to now: 0 clears it, < 0 means already expired. mode is
 * 'r', 'w' or 'r'+'w'. */
void np_fd_set_deadline(np_fd *fd, int64_t d_ns, int mode);
/* Close: evict (wake readers and writers with NP_ERR_CLOSING), cancel, wait
 * until every in-flight operation has consumed its packet, then close the
 * pollDesc and the socket and destroy the descriptor's primitives (no call
 * can take them after that: later calls fail with NP_ERR_CLOSING). Returns
 * NP_OK, or NP_ERR_CLOSING if already closed. */
int np_fd_close(np_fd *fd);
/* Frees a closed descriptor. Its memory outlives np_fd_close because a call
 * racing with the close may still read its state to learn it is closed (Go
 * leaves this to the garbage collector): call np_fd_free once, after
 * np_fd_close returned, when no thread can call into `fd` any more.
 * np_fd_free(NULL) does nothing (as free(NULL)). */
void np_fd_free(np_fd *fd);
/* ---- Datagram descriptors (fdio_dgram.c) ----
 * Go's FD.ReadFrom / FD.WriteTo on a bound UDP socket (the shim's v3 calls),
 * with the close and deadline protocol of np_fd_read / np_fd_write. */

/* np_fd_open without skip-on-success (never safe for datagrams: FACTS.md
 * D3). NULL with ERROR_CALL_NOT_IMPLEMENTED when the shim lacks v3. */
np_fd *np_fd_open_dgram(np_poller *p, shim_handle sock, int *err);
/* One datagram into `buf`. NP_OK with *n its length; a larger one is
 * truncated: WSAEMSGSIZE with *n the bytes received (Go #14074). len 0
 * receives nothing and returns NP_OK (as Go). `from` (optional) gets the
 * sender's address when a datagram was taken. Timeout and close as a read. */
int np_fd_read_from(np_fd *fd, void *buf, uint32_t len, uint32_t *n, shim_sockaddr_in *from);
/* One datagram of `len` bytes to `to`. NP_OK with *n = len, or an error
 * (WSAEMSGSIZE over 65,507 bytes). Taken is not delivered: UDP may lose it. */
int np_fd_write_to(np_fd *fd, const void *buf, uint32_t len, const shim_sockaddr_in *to, uint32_t *n);

/* The descriptor's pollDesc sequence (changes when its slot is reused). */
uint32_t np_fd_seq(const np_fd *fd);

/* ---- Stream sockets (fdio_conn.c): Go's listen, accept, dial, shutdown ----
 * They need the shim's v3 socket calls; without them they fail with
 * ERROR_CALL_NOT_IMPLEMENTED. */

/* A listener on 127.0.0.1 at a free port (*port), opened for polled I/O. */
np_fd *np_fd_listen(np_poller *p, int backlog, uint16_t *port, int *err);
/* Accepts one connection (Go's netFD.accept): NP_OK with *out opened for
 * polled I/O, or the error with *out NULL; a connection reset before its accept completed
 * is skipped. Blocks under the listener's read deadline; a close of the
 * listener ends it with NP_ERR_CLOSING. One accept at a time per listener. */
int np_fd_accept(np_fd *listener, bool try_skip_sync, np_fd **out);
/* Connects to 127.0.0.1:port (Go's netFD.connect over ConnectEx): NP_OK
 * with *out (NULL on any failure), NP_ERR_TIMEOUT when `timeout_ns` (> 0; 0: none) passed first,
 * or the error (10061: refused, as WSAGetOverlappedResult maps it). A connect that completed despite its
 * deadline is a connection. */
int np_fd_dial(np_poller *p, uint16_t port, int64_t timeout_ns, bool try_skip_sync, np_fd **out);
/* The socket a descriptor polls (for traces: a dialed or accepted one's). */
shim_handle np_fd_handle(const np_fd *fd);
/* shutdown(how) of the descriptor's own end: SHIM_SD_SEND, _RECEIVE, _BOTH. */
int np_fd_shutdown(np_fd *fd, int how);

#ifdef __cplusplus
}
#endif

#endif
