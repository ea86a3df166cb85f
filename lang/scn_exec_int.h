/* scn_exec_int.h - one execution's state, shared by the interpreter's files:
 * scn_exec.c (set up, threads, tear down), scn_ops.c (the steps),
 * scn_expect.c (expectations and failure messages).
 *
 * All of it comes from hooks->alloc (the simulator's arena), sized from the
 * scenario's counts once per execution. Counters read by other threads are
 * C11 atomics: on the simulator only one thread runs at a time, on Win32
 * they are real threads.
 */
#ifndef IOCPCHECK_RUNNER_SCN_EXEC_INT_H
#define IOCPCHECK_RUNNER_SCN_EXEC_INT_H

#include <stdatomic.h>

#include "../poller/netpoll.h"
#include "scn_ast.h"
#include "scn_ext.h"

typedef struct scn_xfd {
    np_fd *fd;            /* NULL until opened */
    shim_handle h[2];     /* h[0] the poller side, h[1] the peer */
    _Atomic uint32_t sent; /* numbered bytes the peer has sent (reserved before each send) */
    uint32_t rd;          /* bytes the poller's reads returned (the reader thread's alone) */
    _Atomic uint32_t lossy; /* a peer send failed: offsets past it are not checked */
    char *stream;         /* a copy of every numbered byte the peer sent, for the order check */
    /* The write direction: bytes the poller's writes reported written, bytes
     * of writes in flight, bytes the peer's reads took; write_lossy once a
     * write ended closed or in error (its bytes may or may not have gone). */
    _Atomic uint64_t wrote_ok, writing, peer_got;
    _Atomic uint32_t write_lossy;
    /* np_fd_open failed for want of memory as the scenario allows (scn__open_fd):
     * the socket is never the poller's, and a thread that comes to use it stops */
    _Atomic uint32_t open_failed;
    uint16_t port;        /* a listener's port */
    /* dgram sockets: both ends' addresses, and each datagram the peer sent
     * (its offset in `stream` and length), published by `ndg` */
    shim_sockaddr_in addr[2];
    uint32_t *dg_off, *dg_len;
    _Atomic uint32_t ndg;
    uint32_t dg_next; /* the first datagram a recvfrom may return (the reader thread's) */
    /* shared stream sockets: which stream bytes a read has returned (each once) */
    _Atomic uint8_t *claimed;
} scn_xfd;

typedef struct scn_xres {
    uint8_t outcome; /* MOUT_*; 0 while unassigned */
    uint64_t value;
    int64_t at_ns;   /* completion time since the start (timed results only) */
    int64_t took_ns; /* from the step's start to its completion (timed results only) */
} scn_xres;

/* The user's own overlapped recv (Go #21172, #58870): an OVERLAPPED the
 * poller does not own, followed by what a careless poller would take for
 * its operation (a pointer to a decoy and a mode). */
typedef struct scn_xforeign {
    shim_overlapped ov;
    void *decoy;
    int32_t mode;
    char pad[64];
    char byte[1];
    int32_t fd; /* socket index, -1 while unused */
} scn_xforeign;

#define SCN_DECOY_BYTES 4096

typedef struct scn_exec_st scn_exec_st;

typedef struct scn_xthread {
    scn_exec_st *x;
    uint32_t idx;
    shim_thread t;
    np_m *m;
    char *buf;
    bool stopped; /* it came to a socket whose open failed: no further step runs */
} scn_xthread;

struct scn_exec_st {
    const scn_scenario *s;
    const shim *sh;
    void *ctx;
    const shim_harness *hn;
    model_trace *tr;
    const scn_hooks *hk;
    scn_exec_opts opts;
    np_poller *p;
    scn_xfd *fds;
    scn_xres *res;
    scn_xthread *th;
    scn_xforeign *fo;
    unsigned char *decoy;
    unsigned char *decoy_hi; /* allocated after the poller's memory: odd foreign steps point here */
    int64_t t0;
    _Atomic uint32_t stop;     /* a failure was reported on a backend whose fail returns */
    _Atomic uint32_t inflight; /* operations begun and not ended */
    _Atomic uint32_t np_live;  /* the poller's allocations not yet freed (no-leak, both backends) */
    _Atomic uint32_t alloc_faults; /* the poller's allocations failed on purpose (knob faults_alloc) */
};

/* scn_ops.c */
void scn__run_step(scn_exec_st *x, scn_xthread *t, const scn_step *st);
int scn__open_fd(scn_exec_st *x, uint32_t k, bool result_named);
void scn__open_listener(scn_exec_st *x, uint32_t k);
/* The error of the latest fault of the "sock" family so far (0: none). */
static inline uint32_t scn__sock_fault(const scn_exec_st *x) {
    return x->opts.sock_fault_err != NULL ? x->opts.sock_fault_err(x->opts.alloc_fails_arg) : 0;
}

/* scn_expect.c */
void scn__check(scn_exec_st *x, const scn_step *st);
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
void scn__fail(scn_exec_st *x, const char *property, const char *fmt, ...);
/* The decoy foreign step i points at (scn_xforeign): the low one, or for odd
 * i the one allocated after the poller's memory. */
unsigned char *scn__decoy_of(scn_exec_st *x, uint32_t i);
int64_t scn__since_start(scn_exec_st *x);

#endif
