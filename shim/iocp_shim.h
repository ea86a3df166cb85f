/* iocp_shim.h - THE seam between the poller and the operating system.
 *
 * The poller under test (poller/) sees the OS only through a `shim`: a
 * versioned struct of function pointers plus an opaque context, in the shape
 * of SQLite's sqlite3_vfs, holding exactly what the poller calls: completion
 * ports, overlapped sockets, wait packets, and (in a table of their own,
 * `shim_sync`) the atomics, locks, semaphores and clock. What only a harness
 * calls (peer sockets, threads, sleep) is a separate struct, shim/harness.h,
 * so wrappers of the poller's seam never carry it. Backends are peers that
 * fill these structs:
 *   sim/kernel/shim_sim.c        the deterministic simulator (virtual threads, clock, port)
 *   shim/shim_win32.c   the real Win32 API (Windows, and Linux under Wine)
 * Because it is a struct, shims compose: a recording shim wraps any shim and
 * writes the event trace; a fault shim wraps any shim and fails chosen calls.
 * A wrapper passes `sync` through untouched unless it has something to say
 * about synchronization, so it carries no pass-through stubs for it.
 *
 * CONTRACT (what every backend provides; each call restates its own part):
 *  - Names, shapes and numeric error codes mirror Win32, so poller code reads
 *    as Win32 code. Facts are cited as iocp-facts.md section numbers (§n).
 *  - Every call that can fail sets the backend's per-thread last error, read
 *    back with get_last_error, exactly as Win32's GetLastError.
 *  - In the simulator every call is a scheduling point: another virtual thread
 *    may run between any two calls. Code above the seam must therefore make
 *    no assumption about atomicity beyond what each call documents.
 *  - No call reveals an address or a wall-clock time to a decision: handles are
 *    small integers in the simulator, time is the backend's monotonic clock.
 *  - Optional capabilities (wait completion packets) are NULL function
 *    pointers when absent; callers probe, as Go probes Wine (§8).
 *  - The struct only grows by appending; `version` says how far it goes.
 *    Every consumer checks it: shim_check() below refuses a shim older than
 *    the caller needs, or one missing a call the caller needs, with a message;
 *    a wrapper reports the lower of its own version and its inner shim's.
 *
 * Nothing here includes <windows.h>: only shim_win32.c may.
 */
#ifndef IOCPCHECK_IOCP_SHIM_H
#define IOCPCHECK_IOCP_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* v1: one flat struct of 45 calls (harness calls included).
 * v2: the poller's calls only, with the sync primitives in `sync`; the
 *     harness's calls in shim_harness (shim/harness.h). */
#define SHIM_VERSION_1 1
#define SHIM_VERSION_2 2
/* v3: sockets, appended after `sync` in two groups that come together:
 *     the stream group (socket, bind, listen, getsockname, AcceptEx, the
 *     context updates, ConnectEx loaded through WSAIoctl, shutdown) and the
 *     datagram group (WSARecvFrom, WSASendTo). A v3 shim has every call of
 *     both: shim_check() refuses one that lacks any, naming the group. */
#define SHIM_VERSION_3 3
#define SHIM_VERSION SHIM_VERSION_3

/* ---- Handles ---------------------------------------------------------- */

/* HANDLE and SOCKET alike: an opaque pointer-sized value. */
typedef uintptr_t shim_handle;
#define SHIM_INVALID_HANDLE ((shim_handle)~(uintptr_t)0) /* INVALID_HANDLE_VALUE, INVALID_SOCKET */
#define SHIM_NULL_HANDLE ((shim_handle)0)

/* ---- Error codes (Win32 numeric values, §0) --------------------------- */

#define SHIM_ERROR_SUCCESS 0u
#define SHIM_ERROR_INVALID_FUNCTION 1u
#define SHIM_ERROR_INVALID_HANDLE 6u
#define SHIM_ERROR_NOT_ENOUGH_MEMORY 8u
#define SHIM_ERROR_NETNAME_DELETED 64u
#define SHIM_ERROR_INVALID_PARAMETER 87u
#define SHIM_ERROR_BROKEN_PIPE 109u
#define SHIM_ERROR_CALL_NOT_IMPLEMENTED 120u
#define SHIM_ERROR_MORE_DATA 234u
#define SHIM_WAIT_TIMEOUT 258u
#define SHIM_ERROR_HANDLES_CLOSED 676u
#define SHIM_ERROR_ABANDONED_WAIT_0 735u
#define SHIM_WAIT_IO_COMPLETION 192u
#define SHIM_ERROR_OPERATION_ABORTED 995u /* = WSA_OPERATION_ABORTED */
#define SHIM_ERROR_IO_INCOMPLETE 996u     /* = WSA_IO_INCOMPLETE */
#define SHIM_ERROR_IO_PENDING 997u        /* = WSA_IO_PENDING */
#define SHIM_ERROR_NOT_FOUND 1168u
#define SHIM_ERROR_CONNECTION_ABORTED 1236u
#define SHIM_WSAEINVAL 10022u
#define SHIM_WSAENOTSOCK 10038u
#define SHIM_WSAEMSGSIZE 10040u
#define SHIM_WSAECONNABORTED 10053u
#define SHIM_WSAECONNRESET 10054u
#define SHIM_WSAESHUTDOWN 10058u
/* Sockets (v3): stream and datagram calls. */
#define SHIM_WSAEFAULT 10014u
#define SHIM_WSAEWOULDBLOCK 10035u
#define SHIM_WSAEDESTADDRREQ 10039u
#define SHIM_WSAENOPROTOOPT 10042u
#define SHIM_WSAEPROTONOSUPPORT 10043u
#define SHIM_WSAESOCKTNOSUPPORT 10044u
#define SHIM_WSAEAFNOSUPPORT 10047u
#define SHIM_WSAEADDRINUSE 10048u
#define SHIM_WSAEADDRNOTAVAIL 10049u
#define SHIM_WSAEISCONN 10056u
#define SHIM_WSAENOTCONN 10057u
#define SHIM_WSAECONNREFUSED 10061u
#define SHIM_ERROR_CONNECTION_REFUSED 1225u
#define SHIM_ERROR_UNEXP_NET_ERR 59u

/* NTSTATUS values seen in OVERLAPPED.Internal and OVERLAPPED_ENTRY.Internal. */
#define SHIM_STATUS_SUCCESS 0x00000000u
#define SHIM_STATUS_ABANDONED_WAIT_0 0x00000080u
#define SHIM_STATUS_USER_APC 0x000000C0u
#define SHIM_STATUS_TIMEOUT 0x00000102u
#define SHIM_STATUS_PENDING 0x00000103u
#define SHIM_STATUS_BUFFER_OVERFLOW 0x80000005u /* warning: ERROR_MORE_DATA */
#define SHIM_STATUS_HANDLES_CLOSED 0x8000000Au  /* warning: Wine's socket close */
#define SHIM_STATUS_INVALID_HANDLE 0xC0000008u
#define SHIM_STATUS_INVALID_PARAMETER 0xC000000Du
#define SHIM_STATUS_INVALID_PARAMETER_1 0xC00000EFu
#define SHIM_STATUS_INVALID_PARAMETER_3 0xC00000F1u
#define SHIM_STATUS_CANCELLED 0xC0000120u
#define SHIM_STATUS_PIPE_BROKEN 0xC000014Bu
#define SHIM_STATUS_CONNECTION_RESET 0xC000020Du
#define SHIM_STATUS_LOCAL_DISCONNECT 0xC000013Bu /* maps to ERROR_NETNAME_DELETED (64) */
#define SHIM_STATUS_NOT_FOUND 0xC0000225u
#define SHIM_STATUS_CONNECTION_ABORTED 0xC0000241u /* Windows 10+ socket close (§12 W18): 1236, WSA 10053 */
#define SHIM_STATUS_CONNECTION_REFUSED 0xC0000236u /* ConnectEx to no listener: 1225, WSA 10061 */
#define SHIM_STATUS_CONNECTION_INVALID 0xC0000140u /* Wine 8: AcceptEx of a reset connection: 59, WSA 10057 */

#define SHIM_INFINITE 0xFFFFFFFFu /* timeout in ms: wait forever */
#define SHIM_SOCKET_ERROR (-1)

/* SetFileCompletionNotificationModes flags (§0). */
#define SHIM_FILE_SKIP_COMPLETION_PORT_ON_SUCCESS 0x1u
#define SHIM_FILE_SKIP_SET_EVENT_ON_HANDLE 0x2u
#define SHIM_FILE_SKIP_SET_USER_EVENT_ON_FAST_IO 0x4u /* accepted, no effect on packets (§12 N11) */

/* ---- Win32-shaped structures ------------------------------------------ */

/* Layout-compatible with OVERLAPPED: shim_win32.c asserts size and offsets.
 * `internal` holds the NTSTATUS (STATUS_PENDING while in flight, §3) and
 * `internal_high` the byte count. Poller operations embed this first, so a
 * completion's overlapped pointer leads back to the operation. */
typedef struct shim_overlapped {
    uintptr_t internal;
    uintptr_t internal_high;
    union {
        struct {
            uint32_t offset;
            uint32_t offset_high;
        } s;
        void *pointer;
    } u;
    shim_handle event;
} shim_overlapped;

/* Layout-compatible with OVERLAPPED_ENTRY (= FILE_IO_COMPLETION_INFORMATION):
 * `internal` is the packet's NTSTATUS (documented as reserved, §3). */
typedef struct shim_overlapped_entry {
    uintptr_t key;
    shim_overlapped *overlapped;
    uintptr_t internal;
    uint32_t bytes;
} shim_overlapped_entry;

/* Layout-compatible with WSABUF. */
typedef struct shim_wsabuf {
    uint32_t len;
    char *buf;
} shim_wsabuf;

/* Layout-compatible with SOCKADDR_IN (16 bytes, IPv4 only): port and
 * address in network byte order, as Winsock has them. */
typedef struct shim_sockaddr_in {
    uint16_t family; /* SHIM_AF_INET */
    uint16_t port;   /* network order */
    uint32_t addr;   /* network order */
    uint8_t zero[8];
} shim_sockaddr_in;
#define SHIM_AF_INET 2
#define SHIM_SOCK_STREAM 1
#define SHIM_SOCK_DGRAM 2
#define SHIM_IPPROTO_TCP 6
#define SHIM_IPPROTO_UDP 17
#define SHIM_INADDR_LOOPBACK 0x7F000001u /* host order */
/* Host-order helpers: the seam carries what Winsock carries. */
static inline uint16_t shim_htons(uint16_t v) {
    const uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    uint16_t r;
    __builtin_memcpy(&r, b, 2);
    return r;
}
static inline uint32_t shim_htonl(uint32_t v) {
    const uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    uint32_t r;
    __builtin_memcpy(&r, b, 4);
    return r;
}
static inline uint16_t shim_ntohs(uint16_t v) { return shim_htons(v); }
static inline uint32_t shim_ntohl(uint32_t v) { return shim_htonl(v); }
/* An IPv4 address from host-order parts (0 = INADDR_ANY, port 0 = any). */
static inline shim_sockaddr_in shim_addr_in(uint32_t host_addr, uint16_t host_port) {
    shim_sockaddr_in a = {SHIM_AF_INET, shim_htons(host_port), shim_htonl(host_addr), {0}};
    return a;
}

/* setsockopt levels and options the stream calls take (Win32 values). */
#define SHIM_SOL_SOCKET 0xFFFF
#define SHIM_SO_UPDATE_ACCEPT_CONTEXT 0x700B
#define SHIM_SO_UPDATE_CONNECT_CONTEXT 0x7010
/* shutdown's how. */
#define SHIM_SD_RECEIVE 0
#define SHIM_SD_SEND 1
#define SHIM_SD_BOTH 2
/* What wsa_ioctl_get_extension can load (SIO_GET_EXTENSION_FUNCTION_POINTER). */
#define SHIM_WSAID_CONNECTEX 1u
/* AcceptEx's address areas: sizeof(sockaddr_in) + 16 each, as the docs require. */
#define SHIM_ACCEPT_ADDR_LEN 32u

/* Caller-owned storage for the sync primitives. The backend keeps its own
 * state inside (an SRWLOCK, a HANDLE, or the simulator's object index); the
 * caller never looks inside and never copies one after init. */
typedef struct shim_mutex {
    uintptr_t opaque[2];
} shim_mutex;
typedef struct shim_sema {
    uintptr_t opaque[2];
} shim_sema;
typedef struct shim_thread {
    uintptr_t opaque[2];
} shim_thread;

/* Capability bits in shim.caps. */
#define SHIM_CAP_WAIT_PACKETS 0x1u /* wait completion packets + waitable timers (§8) */

/* ---- Synchronization and time: the `sync` table of a shim --------------
 * In the simulator each call is a scheduling point and the memory order is
 * sequentially consistent; on Win32 these are C11 seq_cst atomics, SRWLOCKs
 * and semaphores. Its own struct so that wrappers pass it through whole. */
typedef struct shim_sync {
    int version;      /* SHIM_VERSION_n of the shim it belongs to */
    const char *name;
    void *ctx;        /* passed back as the first argument of every call */

    uint32_t (*atomic_load32)(void *ctx, volatile uint32_t *p);
    void (*atomic_store32)(void *ctx, volatile uint32_t *p, uint32_t v);
    /* Compare-and-swap: stores `desired` iff *p == expected; returns whether it did. */
    bool (*atomic_cas32)(void *ctx, volatile uint32_t *p, uint32_t expected, uint32_t desired);
    uint32_t (*atomic_swap32)(void *ctx, volatile uint32_t *p, uint32_t v); /* returns the old value */
    uint32_t (*atomic_add32)(void *ctx, volatile uint32_t *p, int32_t d);   /* returns the new value */
    uintptr_t (*atomic_load_ptr)(void *ctx, volatile uintptr_t *p);
    void (*atomic_store_ptr)(void *ctx, volatile uintptr_t *p, uintptr_t v);
    bool (*atomic_cas_ptr)(void *ctx, volatile uintptr_t *p, uintptr_t expected, uintptr_t desired);
    uintptr_t (*atomic_swap_ptr)(void *ctx, volatile uintptr_t *p, uintptr_t v);
    uintptr_t (*atomic_add_ptr)(void *ctx, volatile uintptr_t *p, intptr_t d);

    /* A non-recursive mutex (SRWLOCK exclusive). Unlocking a mutex the caller
     * does not hold is a fatal usage error in the simulator. */
    void (*mutex_init)(void *ctx, shim_mutex *m);
    void (*mutex_lock)(void *ctx, shim_mutex *m);
    void (*mutex_unlock)(void *ctx, shim_mutex *m);
    void (*mutex_destroy)(void *ctx, shim_mutex *m); /* by its last user: not a scheduling point */

    /* A counting semaphore: the park/unpark of waiters. sema_wait returns
     * true when it took a unit, false when `timeout_ns` (< 0: forever, 0: poll)
     * passed first. */
    void (*sema_init)(void *ctx, shim_sema *s, uint32_t count);
    bool (*sema_wait)(void *ctx, shim_sema *s, int64_t timeout_ns);
    void (*sema_post)(void *ctx, shim_sema *s);
    void (*sema_destroy)(void *ctx, shim_sema *s); /* by its last user: not a scheduling point */

    /* Monotonic time in nanoseconds since an arbitrary origin (virtual in the
     * simulator, QueryPerformanceCounter on Win32). */
    int64_t (*now_ns)(void *ctx);
} shim_sync;

/* ---- The seam ----------------------------------------------------------- */

typedef struct shim shim;
struct shim {
    int version;      /* SHIM_VERSION_n: how many groups below are present */
    const char *name; /* "sim", "win32", or a wrapper's name */
    void *ctx;        /* passed back as the first argument of every call */
    uint32_t caps;    /* SHIM_CAP_* */

    /* == completion ports (§1, §2, §3, §4, §5) == */

    /* CreateIoCompletionPort (§1).
     * - file == INVALID, existing == NULL: a new port (key ignored);
     *   `concurrency` 0 means the number of CPUs; the limit counts runnable
     *   threads bound to the port (§4; Wine ignores it).
     * - file valid, existing == port: associates the file with `key`, returns
     *   `existing`. A second association of the same file fails with 87
     *   (Wine 8 leaves the last error at 0, §11). The association lasts
     *   until the file is closed.
     * - file valid, existing == NULL: creates and associates at once.
     * - existing valid, file INVALID: NULL with 87.
     * Returns NULL (0) on failure. */
    shim_handle (*create_io_completion_port)(void *ctx, shim_handle file, shim_handle existing,
                                             uintptr_t key, uint32_t concurrency);

    /* GetQueuedCompletionStatus (§3). TRUE: a packet with its bytes, key and
     * overlapped (which may be NULL for a posted packet: test the return,
     * not the pointer). FALSE with *ov != NULL: a failed I/O packet, last
     * error = the status mapped to Win32. FALSE with *ov == NULL: 258 on
     * timeout, 735 if the port was closed under the wait, 6 if the close won.
     * timeout_ms == SHIM_INFINITE waits forever; timeouts are quantized to
     * the clock tick and may end up to one tick early (§3). */
    bool (*get_queued_completion_status)(void *ctx, shim_handle port, uint32_t *bytes,
                                         uintptr_t *key, shim_overlapped **ov, uint32_t timeout_ms);

    /* GetQueuedCompletionStatusEx (§3). TRUE when n >= 1 entries were removed
     * (n in [1, min(count, queued)]: Windows says "up to", Wine returns 1
     * after blocking); each entry's `internal` carries its status and must be
     * checked. FALSE: 258 timeout, 192 APC (alertable), 735 port closed, 87
     * for count == 0; *removed is then 0 or 1, unspecified. Waiters are
     * released LIFO on Windows, FIFO on older Wine (§4). */
    bool (*get_queued_completion_status_ex)(void *ctx, shim_handle port,
                                            shim_overlapped_entry *entries, uint32_t count,
                                            uint32_t *removed, uint32_t timeout_ms, bool alertable);

    /* PostQueuedCompletionStatus (§5): bytes, key and overlapped are never
     * validated (NULL and foreign pointers allowed); ignores the concurrency
     * limit; no queue cap. FALSE with 6 on a bad handle. */
    bool (*post_queued_completion_status)(void *ctx, shim_handle port, uint32_t bytes,
                                          uintptr_t key, shim_overlapped *ov);

    /* CloseHandle: ports, waitable timers, wait packets. Closing a port with
     * waiters: they fail with 735 (Windows), or keep waiting (Wine, §2, §11).
     * FALSE with 6 on a closed or unknown handle. */
    bool (*close_handle)(void *ctx, shim_handle h);

    /* == v1: overlapped socket I/O (§6, §7, §2) == */

    /* WSARecv / WSASend with an OVERLAPPED (§6). 0: completed at once (a
     * packet is still queued unless skip-on-success is set and effective);
     * SOCKET_ERROR with 997: pending, a packet will come; any other error:
     * not started, no packet. A synchronous warning (WSAEMSGSIZE) still
     * queues a packet. `*bytes` is set only on a synchronous return. */
    int (*wsa_recv)(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                    uint32_t *flags, shim_overlapped *ov);
    int (*wsa_send)(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                    uint32_t flags, shim_overlapped *ov);

    /* CancelIoEx (§7): TRUE means a cancel was requested; the operation then
     * ends as cancelled (995), completes normally anyway, or fails otherwise,
     * and its packet is still queued. FALSE with 1168 when nothing matched
     * (including an operation that finished but whose packet is not yet
     * dequeued). ov == NULL cancels every request on the handle. Does not wait. */
    bool (*cancel_io_ex)(void *ctx, shim_handle h, shim_overlapped *ov);

    /* closesocket (§2): pending operations are cancelled, their packets are
     * still queued (995, a 64-class status, or Wine's STATUS_HANDLES_CLOSED),
     * possibly after closesocket has returned. 0 or SOCKET_ERROR (6 / 10038). */
    int (*closesocket)(void *ctx, shim_handle s);

    /* SetFileCompletionNotificationModes (§6): flags can only be added. With
     * SKIP_COMPLETION_PORT_ON_SUCCESS a synchronous success queues no packet,
     * unless a non-IFS provider makes the flag ineffective (KB 2568167). */
    bool (*set_file_completion_notification_modes)(void *ctx, shim_handle h, uint8_t flags);

    /* Whether the socket's protocol provider is an IFS provider
     * (XP1_IFS_HANDLES). Only then does skip-on-success work: a non-IFS
     * layered provider leaves the flag set but ineffective (§6, KB 2568167;
     * Go checks this per socket since #77448). */
    bool (*socket_is_ifs)(void *ctx, shim_handle s);

    /* WSAGetOverlappedResult (§6) with fWait = FALSE: TRUE with the bytes
     * when done; FALSE with 996 while pending; on failure the status mapped to
     * a Win32/WSA code (STATUS_CANCELLED -> 995) and *bytes not updated. */
    bool (*wsa_get_overlapped_result)(void *ctx, shim_handle s, shim_overlapped *ov,
                                      uint32_t *bytes, bool wait, uint32_t *flags);

    /* GetLastError: per calling thread (SetLastError is the harness's). */
    uint32_t (*get_last_error)(void *ctx);

    /* == wait completion packets and waitable timers (§8), optional ==
     * All NULL unless caps has SHIM_CAP_WAIT_PACKETS (absent on Wine 8). */

    /* CreateWaitableTimerExW; high_res asks for CREATE_WAITABLE_TIMER_HIGH_RESOLUTION. */
    shim_handle (*create_waitable_timer)(void *ctx, bool high_res);
    /* SetWaitableTimer: due in 100 ns units, negative = relative. */
    bool (*set_waitable_timer)(void *ctx, shim_handle timer, int64_t due_100ns);
    /* NtCreateWaitCompletionPacket: returns an NTSTATUS. */
    uint32_t (*nt_create_wait_completion_packet)(void *ctx, shim_handle *packet);
    /* NtAssociateWaitCompletionPacket: when `target` is signaled, queue one
     * packet {key, status, info} to `port`; if already signaled, sets
     * *already_signaled and queues at once. A packet in use: INVALID_PARAMETER_1. */
    uint32_t (*nt_associate_wait_completion_packet)(void *ctx, shim_handle packet,
                                                    shim_handle port, shim_handle target,
                                                    uintptr_t key, uintptr_t apc_ctx,
                                                    uint32_t status, uintptr_t info,
                                                    bool *already_signaled);
    /* NtCancelWaitCompletionPacket: SUCCESS (disarmed, or removed from the
     * port with remove_signaled), CANCELLED (already delivered or never
     * associated), PENDING (being satisfied now; cannot be reused yet). */
    uint32_t (*nt_cancel_wait_completion_packet)(void *ctx, shim_handle packet,
                                                 bool remove_signaled);

    /* == synchronization and time (the table above), never NULL == */
    const shim_sync *sync;

    /* == v3: sockets. Contracts from Microsoft's page of each call and
     * iocp-facts.md §2 (closing under pending operations), §6 (return
     * paths), §7 (cancel); what Wine 8 does, measured by tests/facts_stream.h
     * and tests/facts_dgram.h under Wine, is in sim/kernel/FACTS.md (rows
     * S1.. for streams, D1.. for datagrams). The socket, bind and
     * getsockname calls serve both kinds: Go's net package makes and binds
     * its sockets, and the poll layer's accept and dial do it too. == */

    /* WSASocketW(af, type, protocol, NULL, 0, WSA_FLAG_OVERLAPPED): an
     * unbound overlapped socket (§1: only an overlapped handle can be
     * associated). AF_INET with SOCK_STREAM (IPPROTO_TCP or 0) or SOCK_DGRAM
     * (IPPROTO_UDP or 0); SHIM_INVALID_HANDLE with 10047 (WSAEAFNOSUPPORT)
     * for another family. A datagram socket has SIO_UDP_CONNRESET off, as
     * Go sets it (FACTS.md D5). */
    shim_handle (*wsa_socket)(void *ctx, int af, int type, int protocol);
    /* bind to 127.0.0.1 or INADDR_ANY; port 0 picks a free (ephemeral) port,
     * which getsockname reads back. 0, or SOCKET_ERROR with 10048 (port in
     * use by a socket of the same type), 10049 (not a local address), 10022
     * (already bound, or connected), 10014 (namelen < 16), 10038. */
    int (*bind)(void *ctx, shim_handle s, const shim_sockaddr_in *addr, int namelen);
    /* listen: 0 or SOCKET_ERROR (10022 not bound). Connections beyond the
     * backlog are refused (or retried by the connecting side: loopback). */
    int (*listen)(void *ctx, shim_handle s, int backlog);
    /* getsockname: the bound address. 10022 while unbound, 10014 when
     * *namelen < 16; *namelen is set to 16. */
    int (*getsockname)(void *ctx, shim_handle s, shim_sockaddr_in *addr, int *namelen);

    /* AcceptEx(listener, accept_socket, buf, recv_len, local_len,
     * remote_len, &bytes, ov), BOOL as in Win32. `accept_socket` is an
     * unbound, unconnected socket. TRUE: a connection was taken at once
     * (its packet is queued unless skip-on-success applies, §6); FALSE with
     * 997: pending, a packet will come; any other error: nothing started,
     * no packet. Closing the listener under a pending AcceptEx completes it
     * with STATUS_CANCELLED (995) (§2, Wine [WC]: "accept, connect and poll
     * requests complete with STATUS_CANCELLED"); a connection reset before
     * the accept completed may end it with a reset status (Go retries on
     * ERROR_NETNAME_DELETED and WSAECONNRESET). With recv_len 0 it does not
     * wait for data. Until setsockopt(SO_UPDATE_ACCEPT_CONTEXT) the accepted
     * socket lacks its listener's properties (Microsoft's AcceptEx page); no
     * difference was observed under Wine 8, and the simulator models none. */
    bool (*accept_ex)(void *ctx, shim_handle listener, shim_handle accept_socket, void *buf, uint32_t recv_len,
                      uint32_t local_len, uint32_t remote_len, uint32_t *bytes, shim_overlapped *ov);
    /* setsockopt(SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, &listener) or
     * (SO_UPDATE_CONNECT_CONTEXT, NULL): 0 or SOCKET_ERROR (10057 when the
     * socket is not connected, 10042 for an option not listed above). */
    int (*setsockopt)(void *ctx, shim_handle s, int level, int opt, const void *val, int len);
    /* WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) for `which`
     * (SHIM_WSAID_CONNECTEX): 0 when connect_ex below may be called on
     * sockets of this provider, SOCKET_ERROR otherwise. ConnectEx is not
     * exported by ws2_32: code that calls it without loading it first is
     * wrong (the simulator fails such a call with 10022). */
    int (*wsa_ioctl_get_extension)(void *ctx, shim_handle s, uint32_t which);
    /* ConnectEx(s, to, namelen, NULL, 0, NULL, ov), BOOL as in Win32. `s`
     * must be bound (10022 otherwise; Go binds the wildcard address first).
     * TRUE: connected at once; FALSE with 997: pending; the packet ends with
     * success, STATUS_CONNECTION_REFUSED (1225, WSA 10061) when nothing
     * listens or the backlog is full, or STATUS_CANCELLED when the socket
     * is closed or the request cancelled (§2, §7). After success the caller
     * sets SO_UPDATE_CONNECT_CONTEXT. */
    bool (*connect_ex)(void *ctx, shim_handle s, const shim_sockaddr_in *to, int namelen, shim_overlapped *ov);
    /* shutdown(s, how): 0 or SOCKET_ERROR (10057 not connected). SD_SEND:
     * the peer reads EOF after the data, later sends fail with 10058;
     * SD_RECEIVE: later receives on this end fail or read 0. Queues no
     * packet (§12 W35). */
    int (*shutdown)(void *ctx, shim_handle s, int how);

    /* WSARecvFrom with an OVERLAPPED on a datagram socket (§6): the return
     * paths of WSARecv. One call takes one datagram, whole (message
     * boundaries are kept). A datagram larger than the buffers is truncated:
     * the buffers hold its head, the tail is dropped, and the call ends with
     * STATUS_BUFFER_OVERFLOW, a warning: at once it is SOCKET_ERROR with
     * WSAEMSGSIZE (10040) and still queues a packet unless skip-on-success
     * is in effect (§6: the synchronous warning; Wine 8 measured, and with
     * the flag set none); pending, its packet carries ERROR_MORE_DATA (234)
     * with the truncated byte count, and WSAGetOverlappedResult gives FALSE,
     * 10040 and that count. Wine 8 leaves `*bytes` unwritten on the
     * synchronous warning: read the count from the packet. `from`
     * (optional, with `*fromlen` >= 16) gets the sender's address when the
     * datagram is taken. */
    int (*wsa_recv_from)(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                         uint32_t *flags, shim_sockaddr_in *from, int *fromlen, shim_overlapped *ov);
    /* WSASendTo with an OVERLAPPED on a datagram socket (§6): one datagram
     * of all the buffers' bytes to `to`. On loopback it completes at once
     * (Wine 8 measured: 0 and a success packet); the datagram may still be
     * lost on its way (UDP promises nothing; a full receive queue drops it).
     * 10022 (WSAEINVAL) without an address on an unconnected socket, 10040
     * for a datagram over 65,507 bytes (measured): not started, no packet. */
    int (*wsa_send_to)(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                       uint32_t flags, const shim_sockaddr_in *to, int tolen, shim_overlapped *ov);
};

/* Whether `sh` has the v3 socket calls (after shim_check, which refuses a v3
 * shim that lacks one). */
static inline bool shim_has_sockets(const shim *sh) { return sh != NULL && sh->version >= SHIM_VERSION_3; }

/* A socket of `type` (SHIM_SOCK_STREAM, SHIM_SOCK_DGRAM) bound to 127.0.0.1
 * on a free port, its address in *addr: what Go's net package does before
 * the poll layer sees a listener or a UDP socket. SHIM_INVALID_HANDLE with
 * the last error on failure (the socket closed again). */
static inline shim_handle shim_loopback_socket(const shim *sh, int type, shim_sockaddr_in *addr) {
    shim_handle s = sh->wsa_socket(sh->ctx, SHIM_AF_INET, type, 0);
    if (s == SHIM_INVALID_HANDLE) return s;
    shim_sockaddr_in a = shim_addr_in(SHIM_INADDR_LOOPBACK, 0);
    int len = (int)sizeof a;
    if (sh->bind(sh->ctx, s, &a, len) != 0 || sh->getsockname(sh->ctx, s, addr, &len) != 0) {
        sh->closesocket(sh->ctx, s); /* a successful close sets no error: the failed call's stays */
        return SHIM_INVALID_HANDLE;
    }
    return s;
}

/* What a consumer needs of a shim: at least `min_version`, and every call
 * of `sh` and of its sync table set, and the wait-packet calls when caps
 * says it has them. Returns NULL when `sh`
 * is fine, else a static message naming what is wrong. Header-only so that
 * the poller, which links nothing but its own code, can use it. */
static inline const char *shim_check(const shim *sh, int min_version) {
    if (sh == NULL) return "no shim";
    if (sh->version < min_version) return "shim version too old for this consumer";
    if (sh->create_io_completion_port == NULL || sh->get_queued_completion_status == NULL ||
        sh->get_queued_completion_status_ex == NULL || sh->post_queued_completion_status == NULL ||
        sh->close_handle == NULL || sh->wsa_recv == NULL || sh->wsa_send == NULL || sh->cancel_io_ex == NULL ||
        sh->closesocket == NULL || sh->set_file_completion_notification_modes == NULL ||
        sh->socket_is_ifs == NULL || sh->wsa_get_overlapped_result == NULL || sh->get_last_error == NULL)
        return "shim lacks a completion-port or socket call";
    if (sh->version >= SHIM_VERSION_3) { /* a table says what it has: all of v3 */
        if (sh->wsa_socket == NULL || sh->bind == NULL || sh->listen == NULL || sh->getsockname == NULL ||
            sh->accept_ex == NULL || sh->setsockopt == NULL || sh->wsa_ioctl_get_extension == NULL ||
            sh->connect_ex == NULL || sh->shutdown == NULL)
            return "shim lacks a stream-socket call (v3)";
        if (sh->wsa_recv_from == NULL || sh->wsa_send_to == NULL) return "shim lacks a datagram call (v3)";
    }
    if ((sh->caps & SHIM_CAP_WAIT_PACKETS) != 0 &&
        (sh->create_waitable_timer == NULL || sh->set_waitable_timer == NULL ||
         sh->nt_create_wait_completion_packet == NULL || sh->nt_associate_wait_completion_packet == NULL ||
         sh->nt_cancel_wait_completion_packet == NULL))
        return "shim says it has wait packets but lacks a wait-packet call";
    const shim_sync *y = sh->sync;
    if (y == NULL) return "shim has no sync table";
    if (y->version < min_version) return "shim's sync table version too old for this consumer";
    if (y->atomic_load32 == NULL || y->atomic_store32 == NULL || y->atomic_cas32 == NULL || y->atomic_swap32 == NULL ||
        y->atomic_add32 == NULL || y->atomic_load_ptr == NULL || y->atomic_store_ptr == NULL ||
        y->atomic_cas_ptr == NULL || y->atomic_swap_ptr == NULL || y->atomic_add_ptr == NULL ||
        y->mutex_init == NULL || y->mutex_lock == NULL || y->mutex_unlock == NULL || y->mutex_destroy == NULL ||
        y->sema_init == NULL || y->sema_wait == NULL || y->sema_post == NULL || y->sema_destroy == NULL ||
        y->now_ns == NULL)
        return "shim's sync table lacks a call";
    return NULL;
}

#ifdef __cplusplus
}
#endif

#endif
