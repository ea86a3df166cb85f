/* mutants.h - compile-time switches that put known bugs of Go's poller back.
 *
 * Build with -DNP_MUTANT=<number> (CMake: IOCPCHECK_MUTANTS=ON builds one
 * iocpcheck-mutant-<name> binary per switch); 0 is the correct poller. Each
 * switch is a minimal change at one place, marked NP_MUTANT_IS(NAME) in the
 * code. poller/README.md has the table: the Go issue each comes from and the
 * property that should catch it. Rows refer to go-netpoll.md section 4.
 */
#ifndef IOCPCHECK_MUTANTS_H
#define IOCPCHECK_MUTANTS_H

#ifndef NP_MUTANT
#define NP_MUTANT 0
#endif

/* X(number, NAME, name, go-netpoll.md row; 0: a slip of this C port, no Go row) */
#define NP_MUTANT_LIST(X)                                                                                     \
    X(1, FOREIGN_CAST, foreign-cast, 1)               /* #21172: every non-NULL overlapped taken as ours */  \
    X(2, NO_KEY_MATCH, no-key-match, 2)               /* #58870: pd from the overlapped not compared */      \
    X(3, NO_BREAK_FORWARD, no-break-forward, 3)       /* #42237: a non-blocking poll eats the break */       \
    X(4, BREAK_NO_CAS, break-no-cas, 4)               /* PR 36294 (a): every break posts a packet */         \
    X(5, BREAK_NEVER_CLEAR, break-never-clear, 4)     /* (b): the wake flag is never cleared */              \
    X(6, BREAK_EPOLL_RULE, break-epoll-rule, 4)       /* (c): cleared only when delay != 0 */                \
    X(7, TIMER_IGNORE_SIGNALED, timer-ignore-signaled, 7) /* already-signaled timer not noticed */           \
    X(8, TIMER_PENDING_OK, timer-pending-ok, 7)       /* cancel PENDING taken as success */                  \
    X(9, TIMER_INFINITE, timer-infinite, 7)           /* INFINITE ms timeout while the timer is armed */     \
    X(10, CANCEL_NO_RESULT, cancel-no-result, 8)      /* timeout returned without reading the result */      \
    X(11, CANCEL_SKIP_WAIT, cancel-skip-wait, 8)      /* no waitCanceled after NOT_FOUND */                  \
    X(12, SKIP_NO_IFS_CHECK, skip-no-ifs-check, 9)    /* #22149/#77448: skip-on-success trusted blindly */   \
    X(13, PREPARE_AFTER_SUBMIT, prepare-after-submit, 10) /* pollReset after the submit */                   \
    X(14, WAITERS_NO_DELTA, waiters-no-delta, 11)     /* #33624: the waiter delta dropped */                 \
    X(15, WAITERS_DOUBLE_DELTA, waiters-double-delta, 11) /* #60782: the delta applied twice */              \
    X(16, DEADLINE_NO_SEQ, deadline-no-seq, 12)       /* stale deadline timers not invalidated */            \
    X(17, PUBLISH_AFTER_UNBLOCK, publish-after-unblock, 13) /* evict unblocks before publishing */           \
    X(18, NO_RECHECK, no-recheck, 13)                 /* no error recheck after pdWait */                    \
    X(19, FINAL_STORE, final-store, 13)               /* the final swap replaced by load + store */          \
    X(20, CLOSE_NO_WAIT, close-no-wait, 14)           /* close frees before in-flight ops drain (#59545) */  \
    X(21, NO_DELAY_CLAMP, no-delay-clamp, 17)         /* huge delays not clamped at 1e15 ns */               \
    X(22, SUBMS_ZERO, subms-zero, 17)                 /* sub-millisecond delays truncated to 0 ms */         \
    X(23, FD_LEAK, fd-leak, 0)                        /* close never destroys the fd's mutexes and sema */   \
    X(24, FD_NO_FREE, fd-no-free, 0)                  /* np_fd_free frees nothing */                         \
    X(25, ACCEPT_NO_RETRY, accept-no-retry, 0)        /* #10785: a reset before AcceptEx fails the accept */ \
    X(26, DIAL_DEADLINE_KEPT, dial-deadline-kept, 0)  /* the dial's write deadline left on the connection */ \
    X(27, DGRAM_MSGSIZE_ZERO_N, dgram-msgsize-zero-n, 0) /* #14074: a truncated datagram reads as 0 bytes */  \
    X(28, DGRAM_MSGSIZE_NO_WAIT, dgram-msgsize-no-wait, 0) /* sync WSAEMSGSIZE taken as "not started" */ \
    X(29, CLOSE_RETURNS_EARLY, close-returns-early, 0) /* #21856: Close returns before the socket is closed */

#define NP_MUTANT_ENUM(num, NAME, name, row) NP_MUT_##NAME = num,
enum { NP_MUT_NONE = 0, NP_MUTANT_LIST(NP_MUTANT_ENUM) NP_MUT__COUNT };
#undef NP_MUTANT_ENUM

#define NP_MUTANT_IS(NAME) (NP_MUTANT == NP_MUT_##NAME)

/* The name of the mutant this poller was built with ("none" for the correct one). */
const char *np_mutant_name(void);

#endif
