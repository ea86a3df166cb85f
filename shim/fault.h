/* fault.h - the fault shim: a wrapper over any shim that makes chosen calls
 * fail, in the manner of SQLite's test_vfs.c.
 *
 * Calls are grouped in fault families. Each family has a rule: off, a
 * budget of faults any call may take (the source decides which calls), a
 * countdown (the n-th call fails), or a probability (each call fails with
 * it, within the budget); transient (only the chosen calls fail) or
 * persistent (once one failed, every later call of the family fails the
 * same way, as SQLite's "persist"). A failed call is not passed on: it
 * returns what the real call returns when it fails that way, with the last
 * error set, and has no other effect (fault.c cites the fact for each).
 *
 * Decisions come from a source:
 *  - on the simulator, the decision stream (sim_choose_fault, kind 'f'), so
 *    fuzzing, shrinking, replay and the explorer cover faults as choices;
 *    the source there ignores probabilities (the chooser decides);
 *  - on the real backend, a generator seeded per execution (no source given),
 *    which honours the probabilities.
 * With a model trace, every decision is recorded in it (MEV_FAULT), so a real
 * execution's faults can be read back from its trace.
 *
 * The wrapper makes no seam call of its own except the harness's
 * set_last_error on a fault, so with every rule off an execution is
 * unchanged, schedule and all.
 */
#ifndef IOCPCHECK_SHIM_FAULT_H
#define IOCPCHECK_SHIM_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "../models/trace.h"
#include "harness.h"
#include "iocp_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which calls a rule governs. */
typedef enum shim_fault_family {
    SHIM_FAULT_PORT = 0, /* CreateIoCompletionPort creating a port */
    SHIM_FAULT_POST,     /* PostQueuedCompletionStatus */
    SHIM_FAULT_SOCKIO,   /* WSARecv / WSASend with an OVERLAPPED; AcceptEx, ConnectEx, WSARecvFrom, WSASendTo */
    SHIM_FAULT_WAITPKT,  /* CreateWaitableTimerExW, NtCreateWaitCompletionPacket */
    SHIM_FAULT_ALLOC,    /* the poller's memory (np_config.alloc): not a seam call, asked by the
                          * interpreter's allocator through shim_fault_alloc_fails */
    /* The calls whose failure Go's poller treats as fatal (it throws): a
     * scenario that faults them says `expect fatal` (scenarios/README.md). */
    SHIM_FAULT_DEQUEUE,  /* GetQueuedCompletionStatusEx */
    SHIM_FAULT_CANCEL,   /* CancelIoEx */
    SHIM_FAULT_WAITARM,  /* NtCancelWaitCompletionPacket, SetWaitableTimer, NtAssociateWaitCompletionPacket */
    SHIM_FAULT_SOCK,     /* the socket calls without an OVERLAPPED: WSASocketW, bind, listen,
                          * setsockopt, WSAIoctl, shutdown (getsockname is never failed) */
    SHIM_FAULT_FAMILIES  /* how many families there are */
} shim_fault_family;

/* "port", "post", "sockio", "waitpkt", "alloc", "dequeue", "cancel", "waitarm",
 * "sock" (the scenario knobs' suffixes). */
const char *shim_fault_family_name(uint32_t family);

typedef enum shim_fault_mode {
    SHIM_FAULT_OFF = 0,
    SHIM_FAULT_BUDGET,      /* every call may fail while `budget` lasts: the source decides */
    SHIM_FAULT_COUNTDOWN,   /* call number `countdown` (1 = the next) fails; the source picks the error */
    SHIM_FAULT_PROBABILITY, /* every call fails with `permille`/1000 while `budget` lasts */
} shim_fault_mode;

typedef struct shim_fault_rule {
    shim_fault_mode mode;
    uint32_t budget;    /* BUDGET, PROBABILITY: faults at most per execution */
    uint32_t countdown; /* COUNTDOWN: >= 1 */
    uint32_t permille;  /* PROBABILITY: 0..1000 (the simulator's source ignores it) */
    bool persistent;    /* after the first fault every later call fails too, with no decision */
} shim_fault_rule;

/* A decision: 0 no fault, or k in [1, nerrs] to fail with errs[k-1]. `must`:
 * a fault is certain, only the error is open. `permille`: the rule's
 * probability of a fault, or 0 where the rule has none (BUDGET: a source
 * then makes "no fault" and each error equally likely). */
typedef struct shim_fault_source {
    void *self;
    uint32_t (*decide)(void *self, uint32_t family, const uint32_t *errs, uint32_t nerrs, bool must,
                       uint32_t permille);
} shim_fault_source;

typedef struct shim_fault shim_fault;

/* A fault shim with every rule off. `src.decide` NULL: the built-in seeded
 * generator (shim_fault_reset seeds it). `trace` NULL: decisions are not
 * recorded. NULL when out of memory. Safe for calls from several OS threads
 * at once (the real backend). */
shim_fault *shim_fault_create(shim_fault_source src, model_trace *trace);
void shim_fault_destroy(shim_fault *f);

/* Sets one family's rule for the executions that follow the next reset. */
void shim_fault_set_rule(shim_fault *f, uint32_t family, const shim_fault_rule *rule);
const shim_fault_rule *shim_fault_get_rule(const shim_fault *f, uint32_t family);
/* Whether any rule can inject a fault. */
bool shim_fault_any(const shim_fault *f);

/* A new execution: call counters, budgets and persistent faults back to the
 * rules; the built-in generator reseeded with `seed` (ignored with a source). */
void shim_fault_reset(shim_fault *f, uint64_t seed);

/* The wrapper over `inner` (the same f may wrap another inner after a
 * reset); `hn` is the backend's harness, whose SetLastError a failed call
 * sets. Optional calls stay NULL where the inner has none; the caps are the
 * inner's, the version the lower of the inner's and v2, the sync table the
 * inner's. NULL when `inner` is older than v2 or lacks a call, or `hn` has
 * no set_last_error. Valid until the next wrap or destroy. */
const shim *shim_fault_wrap(shim_fault *f, const shim *inner, const shim_harness *hn);

/* Faults injected in the current execution, per family. */
uint32_t shim_fault_injected(const shim_fault *f, uint32_t family);
/* While a family is held its calls pass untouched, with no decision (a
 * scenario's setup: knob faults_sock_setup). Not changed by a reset. */
void shim_fault_hold(shim_fault *f, uint32_t family, bool held);
/* The error of the family's latest fault in the current execution (0: none). */
uint32_t shim_fault_last(const shim_fault *f, uint32_t family);

/* Whether the poller's next allocation fails (family SHIM_FAULT_ALLOC, by its
 * rule, as a seam call of another family would; recorded as MEV_FAULT with
 * ERROR_NOT_ENOUGH_MEMORY). The caller returns NULL instead of memory:
 * calloc's failure, which np_config.alloc may have. */
bool shim_fault_alloc_fails(shim_fault *f);

#ifdef __cplusplus
}
#endif

#endif
