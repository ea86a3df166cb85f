/* walk.h - what the trace says happened so far, for the property checkers.
 *
 * The checkers make one pass over the trace. Before each event is applied
 * to the shared state below, every property still holding looks at the
 * event against that state (the state reflects the events before it); then
 * mw_apply updates the state. Properties keep the few fields only they use
 * in the same records, updated by themselves. All tables are dense arrays
 * indexed through probe-only maps (map.h), cleared in O(1) per check, so a
 * check is linear in the trace and allocates nothing in steady state.
 *
 * Attribution, the link most properties need: a submission (MEV_SUBMIT)
 * belongs to a scenario operation when its thread is inside a read or write
 * (between the MEV_OP_BEGIN and MEV_OP_END the harness wrote around one
 * poller call); such OVERLAPPEDs are "the poller's". Submissions outside any
 * operation (the harness's foreign recv), posted OVERLAPPEDs and OVERLAPPEDs
 * never submitted are foreign to the poller.
 * Internal to models/.
 */
#ifndef IOCPCHECK_MODELS_WALK_H
#define IOCPCHECK_MODELS_WALK_H

/* The completion-key layout (NP_KEY_SRC, NP_KEY_SLOT, NP_BREAK_KEY) and the
 * delay clamp (NP_MAX_DELAY_NS) are the poller's public contract: the only
 * thing models/ takes from poller/. */
#include "../poller/netpoll.h"
#include "map.h"
#include "props.h"

#define MW_NO_FD UINT64_MAX
#define MW_NEVER INT64_MAX   /* expiry of "no deadline" */
#define MW_EXPIRED INT64_MIN /* expiry of "past" */

/* Skip-on-success of a socket, from MEV_SET_MODES. */
enum { MW_SKIP_OFF = 0, MW_SKIP_EFFECTIVE, MW_SKIP_INEFFECTIVE, MW_SKIP_UNKNOWN };

typedef struct mw_ov {
    uint64_t sock;      /* socket of its last submission */
    uint64_t sub_at;    /* seq + 1 of its last submission (0: never submitted) */
    uint32_t sub_op;    /* operation of the last submission; 0: none (foreign to the poller) */
    uint32_t sub_mode;  /* 'r' / 'w' */
    uint32_t def;       /* packets certainly coming and not yet dequeued */
    uint32_t maybe;     /* packets that may come (sync completion, skip effectiveness unknown) */
    uint32_t def_op;    /* of `def`: queued by operations' submissions */
    uint64_t def_seq;   /* seq of the event that queued the newest of `def` */
    bool done;          /* the last submission's completion is known: sync, failed, or its packet dequeued */
    uint32_t status;    /* ... its NTSTATUS (failed submissions: STATUS_UNSUCCESSFUL) */
    uint32_t bytes;
    uint64_t done_seq;
    uint64_t deq_at;    /* seq + 1 of the last dequeue of a packet with this OVERLAPPED (0: none) */
} mw_ov;

typedef struct mw_sock {
    uint8_t skip;
    uint64_t fd;              /* scenario fd using it (MW_NO_FD) */
    uint32_t out_op;          /* operations' packets not yet dequeued */
    uint64_t op_ov[2];        /* OVERLAPPED of its latest read / write submission by an operation */
    uint64_t foreign_deq_at;  /* seq + 1 of the last dequeue, with its key, of a packet foreign to the poller */
    uint64_t slot;            /* pollDesc slot + 1 of its latest successful association, 0 none */
} mw_sock;

typedef struct mw_slot {
    uint64_t sock;      /* socket associated with this pollDesc slot's key, most recently */
    uint64_t assoc_seq;
    uint64_t fdseq;     /* np_fd_seq of the slot's latest descriptor (MEV_FD_OPEN a2) */
    uint64_t fd_at;     /* seq + 1 of that MEV_FD_OPEN, 0 none yet */
} mw_slot;

typedef struct mw_op {
    uint64_t slot;
    uint32_t kind;       /* MOP_* */
    uint32_t thread;
    uint64_t fd;         /* MW_NO_FD if none */
    int64_t arg;
    uint64_t begin_seq;
    int64_t begin_time;
    bool ended;
    uint64_t last_ov;    /* OVERLAPPED of its last submission, 0 none */
    uint64_t last_sub_seq;
    /* deadline */
    int64_t min_exp;     /* earliest expiry in force for its fd and mode while it ran */
    uint64_t min_exp_seq;
    bool exp_untracked;  /* too many operations open on its fd to follow (then vacuous) */
    bool past_own;       /* began with its mode's deadline "past", set by its own thread */
    uint64_t past_seq;   /* ... by that MEV_DEADLINE */
    uint64_t closed_before_at; /* seq + 1 of a close of its fd that had returned before it began (0: none) */
    uint32_t fault_err;  /* call-result: the first socket call its thread saw fail by a fault (0: none) */
    uint64_t fault_seq;
} mw_op;

typedef struct mw_thread {
    uint32_t op;         /* open operation, 0 none */
    bool waiting;        /* inside a dequeue call that has not returned */
    uint64_t wait_seq;
    int64_t wait_time;
    uint64_t wait_timeout;
    uint64_t wait_port;
    bool brk_handling;   /* break-delivered: took a break packet in a blocking wait, has not waited again */
} mw_thread;

#define MW_FD_OPEN_OPS 8

typedef struct mw_fd {
    uint64_t sock;
    int64_t exp[2];        /* read, write: expiry in force (MW_NEVER / MW_EXPIRED / absolute ns) */
    uint64_t exp_seq[2];
    uint32_t exp_thread[2]; /* the thread that set it */
    /* A deadline takes effect when its np_fd_set_deadline runs, somewhere
     * between its MEV_DEADLINE (the harness's note) and its MEV_DEADLINE_SET.
     * Sets whose windows overlap form a group; once all have returned the
     * poller holds one of the group's deadlines, whichever call ran last.
     *   exp_unsettled: notes whose call has not returned;
     *   grp_min: the earliest deadline of the current (or last) group;
     *   grp_alone: that group is one note;
     *   held_min: the earliest the poller may hold before the group's calls
     *             (the previous group's grp_min). */
    uint32_t exp_unsettled[2];
    int64_t grp_min[2], held_min[2];
    uint64_t grp_min_seq[2], held_min_seq[2];
    bool grp_alone[2];
    uint64_t close_begin_at, close_end_at; /* seq + 1 of its first close's begin / end since opened (0: none) */
    uint32_t closes;       /* closes begun since opened */
    uint32_t open_ops[MW_FD_OPEN_OPS];
    uint32_t nopen;
    /* bytes-conserved */
    uint64_t sent, next;   /* bytes the peer sent; bytes the reads returned */
    uint64_t last_read_at, eof_at; /* seq + 1 (0: none) */
    uint64_t send_seq;
    bool reset;
    /* datagram */
    uint64_t dgrams;       /* datagrams the peer announced (their numbers + 1 go up to this) */
    uint64_t dg_last;      /* number + 1 of the last datagram a recvfrom returned */
    uint64_t dg_last_seq;
} mw_fd;

typedef struct mw_port {
    uint32_t breaks;       /* break packets posted and not yet dequeued */
    uint64_t break_seq;    /* the latest such post */
} mw_port;

/* A table: map from key to dense index + the records. */
#define MW_TABLE(T) \
    struct {        \
        model_map map; \
        T *v;       \
        uint32_t cap; \
    }

typedef struct mw {
    const model_options *opt;
    const model_event *ev;
    uint32_t n;
    MW_TABLE(mw_ov) ovs;
    MW_TABLE(mw_sock) socks;
    MW_TABLE(mw_slot) slots;
    MW_TABLE(mw_thread) threads;
    MW_TABLE(mw_fd) fds;
    MW_TABLE(mw_port) ports;
    MW_TABLE(mw_op) ops;   /* keyed by MEV_OP_BEGIN slot: the latest operation of each slot */
    uint32_t open_ops;     /* operations begun and not ended */
    uint32_t out_op;       /* operations' packets not yet dequeued, all sockets */
    bool quiescent;        /* a MEV_QUIESCENT was seen */
    /* The latest event's thread and time, and the time of the latest event of
     * another thread than that one (for "the last time another thread acted"). */
    uint32_t last_thread;
    int64_t last_time, other_time;
    /* break-delivered */
    uint32_t brk_open;     /* break operations owed a blocking poll's return */
    uint32_t brk_handlers; /* threads with brk_handling */
    bool brk_ended;
    int64_t brk_end_time;
    uint64_t brk_end_seq;
    uint64_t brk_port;     /* the port breaks are posted to (0 unknown) */
    bool brk_ports_many;
    /* the first violation per property */
    uint32_t failed;       /* bit i: property i failed */
    uint32_t want;         /* bit i: property i is checked */
    model_violation v[MODEL_PROPERTIES];
} mw;

/* Record lookups; `_get` creates a zeroed record on first sight. */
mw_ov *mw_ov_get(mw *w, uint64_t ov);
mw_sock *mw_sock_get(mw *w, uint64_t sock);
mw_slot *mw_slot_get(mw *w, uint64_t slot);
mw_thread *mw_thread_get(mw *w, uint32_t thread);
mw_fd *mw_fd_get(mw *w, uint64_t fd);
mw_port *mw_port_get(mw *w, uint64_t port);
mw_op *mw_op_at(mw *w, uint32_t index); /* index >= 1 */
/* The latest operation begun with this slot number (0: none). */
uint32_t mw_op_of_slot(const mw *w, uint64_t slot);

/* The time of the latest event before `e` made by another thread than e's. */
static inline int64_t mw_other_time(const mw *w, const model_event *e) {
    return e->thread != w->last_thread ? w->last_time : w->other_time;
}

/* Applies one event to the shared state. */
void mw_apply(mw *w, const model_event *e);

/* Records a violation of property `p` (its first only): a message in words
 * and the seqs of up to four events involved (MW_SEQS builds the pair). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 5, 6)))
#endif
void mw_fail(mw *w, uint32_t p, uint32_t nseq, const uint64_t *seqs, const char *fmt, ...);

#define MW_SEQS(...) (uint32_t)(sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)), (const uint64_t[]){__VA_ARGS__}

/* Virtual or backend time as "12.500000ms", for messages. */
const char *mw_ms(int64_t ns, char buf[32]);

/* Property indexes (the order of model_property_names). */
enum {
    MP_ONE_COMPLETION = 0,
    MP_NO_LOST_WAKEUP,
    MP_BREAK_DELIVERED,
    MP_OVERLAPPED_LIFETIME,
    MP_BYTES_CONSERVED,
    MP_DEADLINE,
    MP_CLOSE,
    MP_POLL_DELAY,
    MP_FOREIGN_PACKETS,
    MP_NO_FATAL,
    MP_DATAGRAM,
    MP_CALL_RESULT,
};

/* Each property: called for each event before it is applied, and once at
 * the end with e == NULL. */
typedef void (*mw_prop_fn)(mw *w, const model_event *e);
void mp_one_completion(mw *w, const model_event *e);
void mp_no_lost_wakeup(mw *w, const model_event *e);
void mp_break_delivered(mw *w, const model_event *e);
void mp_overlapped_lifetime(mw *w, const model_event *e);
void mp_bytes_conserved(mw *w, const model_event *e);
void mp_deadline(mw *w, const model_event *e);
void mp_close(mw *w, const model_event *e);
void mp_poll_delay(mw *w, const model_event *e);
void mp_foreign_packets(mw *w, const model_event *e);
void mp_no_fatal(mw *w, const model_event *e);
void mp_datagram(mw *w, const model_event *e);
void mp_call_result(mw *w, const model_event *e);

/* Helpers shared by the properties. */
static inline bool mw_live(const mw *w, uint32_t p) { return (w->want & ~w->failed) & (1u << p); }
/* A completion status that delivered its bytes (success or a warning). */
static inline bool mw_status_ok(uint32_t st) { return st < 0xC0000000u; }

#endif
