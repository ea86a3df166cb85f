/* np_internal.h - the poller's private structures, shared by its layers.
 *
 * Memory follows Go's rules where they matter for safety: pollDescs live in
 * one array, are recycled through a free list and never freed before the
 * poller, so a stale pollDesc pointer or slot number is always safe to read
 * (Go: persistentalloc + pollcache). Operations embed their OVERLAPPED
 * first, then the pollDesc pointer and the mode, the layout Go's
 * pollOperation mirrors.
 */
#ifndef IOCPCHECK_NP_INTERNAL_H
#define IOCPCHECK_NP_INTERNAL_H

#include "mutants.h"
#include "netpoll.h"

/* rg/wg values (Go: pdNil, pdReady, pdWait); anything larger is a parked
 * waiter's number. */
#define NP_PD_NIL 0u
#define NP_PD_READY 1u
#define NP_PD_WAIT 2u

/* atomicInfo bits; the low 20 bits hold fdseq. (Go's eventErr bit has no
 * Windows source, so it is not kept.) */
#define NP_INFO_CLOSING (1u << 31)
#define NP_INFO_EXPIRED_READ (1u << 29)
#define NP_INFO_EXPIRED_WRITE (1u << 28)
#define NP_INFO_SEQ_MASK ((1u << 20) - 1)

#define NP_MAX_BATCH 64u

struct np_waiter {
    shim_sema sema;
    np_waiter *next; /* link in a ready list (owned by whoever holds the list) */
    uint32_t id;     /* the value stored in rg/wg while parked */
};

typedef enum np_timer_kind { NP_TIMER_READ = 1, NP_TIMER_WRITE = 2, NP_TIMER_RW = 3 } np_timer_kind;

typedef struct np_timer {
    int64_t when;
    uint32_t seq;   /* the pollDesc sequence it was armed with */
    uint32_t slot;  /* position in the heap + 1; 0: not queued */
    np_timer_kind kind;
    np_pd *pd;
} np_timer;

struct np_pd {
    uint32_t index; /* slot number, >= 1: what completion keys carry */
    np_pd *link;    /* free list */
    np_poller *p;
    shim_handle fd;
    volatile uint32_t fdseq;
    volatile uint32_t info;
    volatile uintptr_t rg, wg;
    shim_mutex lock;
    /* under lock */
    bool closing, rrun, wrun;
    uint32_t rseq, wseq;
    int64_t rd, wd; /* 0: none; > 0 absolute ns; < 0 expired */
    np_timer rt, wt;
    /* the reader's and the writer's waiters (one of each at a time) */
    np_waiter rwaiter, wwaiter;
};

typedef struct np_op {
    shim_overlapped ov; /* first: the packet's overlapped leads back here */
    np_pd *pd;          /* compared with the key's pollDesc before any use */
    int32_t mode;       /* 'r' or 'w' */
    shim_wsabuf buf;
    uint32_t qty, flags;
    /* AcceptEx (fdio_conn.c): the socket it accepts into and the address
     * areas it fills; ConnectEx: where it connects; datagrams (fdio_dgram.c):
     * the sender's (read) or the destination (write) address. */
    shim_handle handle;
    char addrs[2 * SHIM_ACCEPT_ADDR_LEN];
    shim_sockaddr_in sa;
    int salen;
} np_op;

struct np_fd {
    np_poller *p;
    shim_handle sock;
    np_pd *pd;
    bool skip_sync; /* FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is set and trusted */
    np_op rop, wop;
    volatile uint32_t state; /* bit 0: closed; the rest: references << 1 */
    shim_mutex rmu, wmu;     /* one reader and one writer at a time (Go's fdMutex) */
    shim_sema csema;         /* Close waits here for destroy */
};

/* fdio.c, for the stream paths (fdio_conn.c) and the datagram paths
 * (fdio_dgram.c): execIO on one of fd's operations, the locked read/write
 * around it, and the references that keep fd open across it. */
typedef int (*np_submit_fn)(np_fd *fd, np_op *op, uint32_t *qty);
int np__exec_io(np_fd *fd, np_op *op, np_submit_fn submit, uint32_t *n);
int np__rw(np_fd *fd, np_op *op, shim_mutex *mu, np_submit_fn submit, char *buf, uint32_t len,
           const shim_sockaddr_in *to, uint32_t *n);
bool np__fd_incref(np_fd *fd);
void np__fd_decref(np_fd *fd);
bool np__fd_closed(np_fd *fd);

struct np_m {
    shim_handle timer;  /* high-resolution waitable timer */
    shim_handle packet; /* wait completion packet */
};

struct np_poller {
    const shim *sh;
    void *ctx;
    const shim_sync *sy; /* sh->sync, and its own context (a wrapper's differs) */
    void *syctx;
    np_config cfg;
    shim_handle port;
    volatile uint32_t wakesig; /* netpollWakeSig */
    volatile uint32_t waiters; /* netpollWaiters */
    uint32_t batch;
    /* pollcache */
    shim_mutex cache_lock;
    np_pd *pds;
    np_pd *free;
    /* runtime: timers and the poll they bound */
    shim_mutex timer_lock;
    np_timer **heap;
    uint32_t nheap;
    int64_t poll_until;        /* under timer_lock: wake time of the blocked runtime poll, 0: none */
    volatile uint32_t stopped; /* np_stop was called */
};

/* netpoll.c */
void np__fatal(np_poller *p, const char *msg);
uintptr_t np__key(uint32_t source, const np_pd *pd);
bool np__open_port(np_poller *p, np_pd *pd);

/* polldesc.c */
bool np__cache_init(np_poller *p);
void np__cache_destroy(np_poller *p);
np_pd *np__pd_open(np_poller *p, shim_handle fd, int *err);
void np__pd_close(np_pd *pd);
int np__pd_reset(np_pd *pd, int mode);
int np__pd_wait(np_pd *pd, int mode);
void np__pd_wait_canceled(np_pd *pd, int mode);
void np__pd_evict(np_pd *pd);
void np__pd_set_deadline(np_pd *pd, int64_t d_ns, int mode);
int32_t np__pd_ready(np_pd *pd, int mode, np_list *list);
void np__pd_deadline_fired(np_timer *t);
np_pd *np__pd_from_index(np_poller *p, uint32_t index);

/* runtime.c */
void np__timer_modify(np_poller *p, np_timer *t, int64_t when, np_timer_kind kind, np_pd *pd, uint32_t seq);
void np__timer_stop(np_poller *p, np_timer *t);

#endif
