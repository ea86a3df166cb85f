/* scn_ast.h - the parsed form of a scenario, shared by the parser and the
 * interpreter (internal to lang/scn_*.c).
 *
 * Everything is flat arrays indexed by small numbers (sockets, threads,
 * results, steps, expectation items), so the interpreter sizes its
 * per-execution state once from the counts and never allocates per step.
 * The scenario owns every array and string (malloc'd at parse time, freed
 * by scn_free); nothing is global.
 */
#ifndef IOCPCHECK_RUNNER_SCN_AST_H
#define IOCPCHECK_RUNNER_SCN_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"

/* Limits, named so that error messages can quote them. */
#define SCN_MAX_SOCKETS 80   /* a cache of 64 pollDescs and one more (defaults-full) */
#define SCN_MAX_THREADS 48   /* + the main thread, under SIM_MAX_THREADS */
#define SCN_MAX_STEPS 4096
#define SCN_MAX_LEN 65536    /* bytes of one read, write or send */
#define SCN_MAX_STREAM (1u << 20) /* bytes the peer sends one socket in total */
#define SCN_MAX_REPEAT 10000
#define SCN_MAX_ITEMS 16     /* outcomes in one `expect R in {...}` */
/* The outcome `nomem`: error NP_ERR_NO_MEMORY of poller/netpoll.h (the language
 * has no negative numbers; lang does not include the poller's header). */
#define SCN_NOMEM (-4)

typedef enum scn_opcode {
    /* The steps, in the order of the step table (scn_steps.c), which gives
     * each one's name and how it is written. */
    SCN_READ = 1,
    SCN_READ_EXACT, /* reads until N bytes, EOF or an error */
    SCN_READ_ALL,   /* reads to EOF, checks conservation */
    SCN_WRITE,
    SCN_DEADLINE,
    SCN_SEND,
    SCN_SHUTDOWN,
    SCN_RESET,
    SCN_CLOSE,
    SCN_OPEN, /* a `deferred` socket */
    SCN_BREAK,
    SCN_SLEEP,
    SCN_POLL,
    SCN_FOREIGN, /* arg 1: `pending`, no byte follows */
    SCN_RUN_POLLER,
    SCN_PEER_RECV, /* recv SOCK.peer LEN: the peer reads, waiting for a byte */
    SCN_DRAIN,     /* drain SOCK.peer: the peer reads what is buffered now */
    /* Stream sockets (scn_socket.kind): listeners, accepted and dialed sockets. */
    SCN_ACCEPT,       /* accept A: np_fd_accept from A's listener into A */
    SCN_DIAL,         /* dial C [DUR]: np_fd_dial to C's listener; arg: the timeout (0 none) */
    SCN_CONNECT,      /* connect L.peer: the harness's client connects to listener L */
    SCN_SHUTDOWN_OWN, /* shutdown S read|write|both: np_fd_shutdown of the poller's end; mode 'r', 'w', 'r'+'w' */
    SCN_RECVFROM,  /* recvfrom SOCK LEN: one datagram (a `dgram` socket) */
    SCN_SENDTO,    /* sendto SOCK "data"|LEN: one datagram to the peer (`sendto SOCK.peer` is the peer's send) */
    /* The expectations (scn_steps.c parses them apart: they are no steps). */
    SCN_EXPECT_IN,  /* expect R in {...} */
    SCN_EXPECT_AT,  /* expect R at <=|>= DUR */
    SCN_EXPECT_ELAPSED, /* expect elapsed <=|>= DUR */
    SCN_EXPECT_TOOK,    /* expect R took <=|>= DUR */
} scn_opcode;

/* One outcome of an `expect R in {...}` set. */
typedef struct scn_item {
    uint8_t outcome; /* MOUT_* of models/trace.h */
    bool has_value;  /* ok(N), error(N) */
    uint64_t value;
} scn_item;

typedef struct scn_step {
    uint8_t op;        /* scn_opcode */
    uint8_t mode;      /* deadline: 'r', 'w' or 'r'+'w'; expect at/elapsed: '<' (<=) or '>' (>=) */
    bool maybe;        /* runs only if the harness choice says so */
    bool timed;        /* the result's start and end times are needed by an `at` or `took` expectation */
    uint32_t repeat;   /* >= 1: repeated until a result other than ok */
    int32_t sock;      /* socket index, -1 if none */
    int32_t result;    /* result index assigned (or expected), -1 if none */
    uint32_t slot;     /* 1-based step number: the slot of MEV_OP_BEGIN/END */
    uint32_t line, col;
    int64_t arg;       /* length, duration ns, poll delay (-1 forever), deadline (0 none, -1 past) */
    uint32_t data;     /* write/send bytes: offset into the scenario's byte pool; foreign: its index */
    uint32_t len;      /* ... and their length */
    uint32_t items;    /* expect in: first item index */
    uint32_t nitems;
} scn_step;

/* The steps of the language, one row each (scn_steps.c): the parser reads
 * their arguments with `parse`, the interpreter records `mop` around them,
 * and the error messages list the names and quote the shape. The parser's
 * state and tokens are scn_parse_int.h's. */
struct scn_parser;
struct scn_tok;
typedef struct scn_step_def {
    const char *name;
    const char *shape; /* the step as written: "read SOCK LEN" */
    uint8_t op;        /* scn_opcode */
    uint8_t mop;       /* the model operation its events record (MOP_*), 0 for none */
    bool result;       /* it may assign a result */
    /* Reads the arguments after t[0] (the name) into st (op and the
     * modifiers already set); *used: the tokens taken, name included. */
    bool (*parse)(struct scn_parser *P, const struct scn_tok *t, scn_step *st, uint32_t *used);
} scn_step_def;
/* The row of a step's opcode; NULL for the expectations. */
const scn_step_def *scn__step_def(uint8_t op);

/* What a scenario socket is (`socket NAME ...` options). */
enum { SCN_SOCK_PAIR = 0, SCN_SOCK_LISTEN, SCN_SOCK_DIAL, SCN_SOCK_ACCEPT, SCN_SOCK_DGRAM };

typedef struct scn_socket {
    char *name;
    uint8_t kind;     /* SCN_SOCK_*: a connected pair (default), a listener, a socket dialed to / accepted from one,
                       * or a datagram (UDP) socket and a UDP peer, both bound to 127.0.0.1 */
    int32_t listener; /* SCN_SOCK_DIAL, _ACCEPT: the listener's index */
    uint32_t backlog; /* SCN_SOCK_LISTEN */
    bool shared;      /* several threads may read it and several write it; stream offsets are not checked */
    bool skip_sync; /* ask for skip-on-success (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) */
    bool deferred;  /* np_fd_open at its `open` step, not before the threads start */
    uint32_t dgrams;  /* SCN_SOCK_DGRAM: datagrams the peer sends in total (upper bound) */
    int32_t reader, writer, sender; /* the one thread that reads / writes / drives the peer, or -1 */
    int32_t peer_reader;            /* the one thread that reads on the peer side, or -1 */
    int32_t opener;                 /* deferred: the thread that opens it */
    uint32_t stream;                /* bytes the peer sends in total (upper bound), foreign bytes included */
    uint32_t line;
    uint32_t pending_line; /* a `foreign NAME pending` step (its peer may not send) */
    uint32_t send_line;    /* the first `send NAME.peer` */
} scn_socket;

typedef struct scn_thread {
    char *name;
    uint32_t first, count; /* its steps */
    bool polls;            /* has a `poll` or `run_poller` step: gets its own np_m */
    bool runs_poller;      /* ends with run_poller: stopped when the others finish */
    uint32_t buf_len;      /* largest read of this thread */
    uint32_t line;
} scn_thread;

typedef struct scn_result {
    char *name;
    int32_t thread; /* the thread that assigns it */
    uint32_t step;  /* the step that assigns it */
    bool timed;
} scn_result;

typedef struct scn_sched {
    char *text;
    uint32_t line;
    char *expect; /* NULL: no expectation; "pass"; or the property that must fail */
} scn_sched;

/* A knob as written; read in file order by scn_get_knobs. */
typedef enum scn_knob_id {
    SCN_KNOB_TICK = 1,
    SCN_KNOB_WAIT_PACKETS,
    SCN_KNOB_FAULTS,        /* every family */
    SCN_KNOB_FAULTS_PORT,
    SCN_KNOB_FAULTS_POST,
    SCN_KNOB_FAULTS_SOCKIO,
    SCN_KNOB_FAULTS_WAITPKT,
    SCN_KNOB_MAX_STEPS,
    SCN_KNOB_MAX_DECISIONS,
    SCN_KNOB_MAX_OBJECTS,
    SCN_KNOB_TIME_JUMPS,
    SCN_KNOB_PLATFORM,
    SCN_KNOB_SEND_BUFFER,
    SCN_KNOB_RECV_WINDOW,
    SCN_KNOB_FAULTS_ALLOC,  /* the poller's allocations (fault family "alloc") */
    SCN_KNOB_FAULTS_SOCK,   /* the socket calls without an OVERLAPPED (fault family "sock") */
    SCN_KNOB_FAULTS_SOCK_SETUP, /* on: that family fails the setup's calls too */
    SCN_KNOB_FAULTS_DEQUEUE,
    SCN_KNOB_FAULTS_CANCEL,
    SCN_KNOB_FAULTS_WAITARM,
    SCN_KNOB_FAIL_FIRST, /* `fail_FAMILY N`: SCN_KNOB_FAIL_FIRST + the family (shim_fault_family) */
    SCN_KNOB_FAIL_LAST = SCN_KNOB_FAIL_FIRST + SHIM_FAULT_FAMILIES - 1,
} scn_knob_id;

typedef struct scn_knob {
    uint8_t id;
    int64_t value;
} scn_knob;

struct scn_scenario {
    char *path;
    char *name;
    uint32_t procs, max_fds;
    bool poller_defaults; /* `poller defaults`: procs and max_fds 0, the poller's own defaults */
    scn_socket *sockets;
    uint32_t nsockets;
    scn_thread *threads;
    uint32_t nthreads;
    scn_step *steps; /* thread steps, each thread's contiguous, in file order */
    uint32_t nsteps;
    scn_step *finals; /* top-level expectations, checked after every thread ended */
    uint32_t nfinals;
    scn_result *results;
    uint32_t nresults;
    scn_item *items;
    uint32_t nitems;
    char *bytes; /* write/send data */
    uint32_t nbytes;
    scn_sched *scheds;
    uint32_t nscheds;
    scn_knob *knobs;
    uint32_t nknobs;
    uint32_t nforeign; /* foreign steps (each has its own OVERLAPPED, index in scn_step.data) */
    char *fatal;         /* `expect fatal "TEXT"`: every execution ends in the poller's throw, its
                          * message containing TEXT; NULL: a throw fails as no-fatal */
    uint32_t fatal_line;
    bool timed;   /* some expectation needs times: the clock is read at the start */
    bool chooses; /* some step is `maybe` */
};

#endif
