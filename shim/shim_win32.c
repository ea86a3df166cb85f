/* shim_win32.c - the seam (iocp_shim.h) on the real Win32 API.
 *
 * A thin mapping: every call goes straight to its Win32 namesake, with the
 * seam's types cast to the layout-identical Win32 ones (asserted below) and
 * Winsock's WSAGetLastError copied into GetLastError, so that callers read
 * every failure with get_last_error. Semantics are whatever the OS (or Wine)
 * does: iocp-facts.md describes both; this file adds none of its own.
 *
 * This is the ONLY file in the tree that includes <windows.h>/<winsock2.h>.
 * It is also the only one allowed to read a real clock (QueryPerformanceCounter),
 * see scripts/lint-determinism.
 */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00 /* headers: declare the Vista+ calls (CancelIoEx, GQCSEx, ...) */
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h> /* before windows.h, which would pull in the old winsock.h */
#include <ws2tcpip.h>
#include <mswsock.h> /* AcceptEx, WSAID_CONNECTEX, SIO_UDP_CONNRESET */
#include <windows.h>

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim_win32.h"

#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002 /* §0; older SDK headers lack it */
#endif

/* ---- The seam's Win32-shaped types are the Win32 types ------------------ */

_Static_assert(sizeof(shim_overlapped) == sizeof(OVERLAPPED), "OVERLAPPED size");
_Static_assert(offsetof(shim_overlapped, internal) == offsetof(OVERLAPPED, Internal), "Internal");
_Static_assert(offsetof(shim_overlapped, internal_high) == offsetof(OVERLAPPED, InternalHigh),
               "InternalHigh");
_Static_assert(offsetof(shim_overlapped, u) == offsetof(OVERLAPPED, Pointer), "Offset/Pointer");
_Static_assert(offsetof(shim_overlapped, event) == offsetof(OVERLAPPED, hEvent), "hEvent");

_Static_assert(sizeof(shim_overlapped_entry) == sizeof(OVERLAPPED_ENTRY), "OVERLAPPED_ENTRY size");
_Static_assert(offsetof(shim_overlapped_entry, key) == offsetof(OVERLAPPED_ENTRY, lpCompletionKey),
               "lpCompletionKey");
_Static_assert(offsetof(shim_overlapped_entry, overlapped) ==
                   offsetof(OVERLAPPED_ENTRY, lpOverlapped),
               "lpOverlapped");
_Static_assert(offsetof(shim_overlapped_entry, internal) == offsetof(OVERLAPPED_ENTRY, Internal),
               "Internal");
_Static_assert(offsetof(shim_overlapped_entry, bytes) ==
                   offsetof(OVERLAPPED_ENTRY, dwNumberOfBytesTransferred),
               "dwNumberOfBytesTransferred");

_Static_assert(sizeof(shim_wsabuf) == sizeof(WSABUF), "WSABUF size");
_Static_assert(offsetof(shim_wsabuf, len) == offsetof(WSABUF, len), "WSABUF.len");
_Static_assert(offsetof(shim_wsabuf, buf) == offsetof(WSABUF, buf), "WSABUF.buf");

_Static_assert(sizeof(HANDLE) == sizeof(shim_handle) && sizeof(SOCKET) == sizeof(shim_handle),
               "handles are pointer-sized");
_Static_assert(sizeof(DWORD) == sizeof(uint32_t) && sizeof(LONG) == sizeof(uint32_t),
               "DWORD and LONG are 32 bits");
_Static_assert(sizeof(SRWLOCK) <= sizeof(shim_mutex), "SRWLOCK fits in shim_mutex");
_Static_assert(SHIM_ERROR_IO_PENDING == ERROR_IO_PENDING && SHIM_WAIT_TIMEOUT == WAIT_TIMEOUT &&
                   SHIM_ERROR_OPERATION_ABORTED == ERROR_OPERATION_ABORTED &&
                   SHIM_ERROR_NOT_FOUND == ERROR_NOT_FOUND,
               "the seam's error codes are Win32's");

#define H(x) ((HANDLE)(x))
#define S(x) ((SOCKET)(x))

/* ---- Backend state ------------------------------------------------------ */

/* ntdll's wait completion packet calls (§8): documented in 2023, not in the
 * SDK import libraries, absent from Wine 8, so they are looked up at run time
 * the way Go's runtime does. */
typedef LONG(NTAPI *nt_create_wcp_fn)(HANDLE *packet, ACCESS_MASK access, void *attrs);
typedef LONG(NTAPI *nt_associate_wcp_fn)(HANDLE packet, HANDLE port, HANDLE target, void *key,
                                         void *apc_ctx, LONG status, ULONG_PTR info,
                                         BOOLEAN *already_signaled);
typedef LONG(NTAPI *nt_cancel_wcp_fn)(HANDLE packet, BOOLEAN remove_signaled);

typedef struct win32_ctx {
    shim table;        /* first: shim_win32_destroy gets back from the table to here */
    shim_sync sync;
    shim_harness harness;
    LARGE_INTEGER qpc_freq;
    nt_create_wcp_fn nt_create_wcp;
    nt_associate_wcp_fn nt_associate_wcp;
    nt_cancel_wcp_fn nt_cancel_wcp;
} win32_ctx;

/* GetProcAddress returns FARPROC; going through a generic function pointer
 * type keeps -Wcast-function-type quiet about the real signature. */
typedef void (*generic_fn)(void);
static generic_fn ntdll_proc(const char *name)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll != NULL ? (generic_fn)GetProcAddress(ntdll, name) : NULL;
}

/* Winsock reports through WSAGetLastError; the seam promises GetLastError. */
static void keep_wsa_error(void)
{
    SetLastError((DWORD)WSAGetLastError());
}

/* ---- Completion ports (§1-§5) -------------------------------------------- */

static shim_handle w_create_port(void *ctx, shim_handle file, shim_handle existing, uintptr_t key,
                                 uint32_t concurrency)
{
    (void)ctx;
    return (shim_handle)CreateIoCompletionPort(H(file), H(existing), (ULONG_PTR)key, concurrency);
}

/* The caller's own variables go to Windows: on a timeout it leaves *bytes
 * and *key untouched and sets *ov to NULL (iocp-facts.md §12 W3), which a
 * copy through zeroed locals would hide. */
_Static_assert(sizeof(DWORD) == sizeof(uint32_t), "DWORD is a u32");
_Static_assert(sizeof(ULONG_PTR) == sizeof(uintptr_t), "ULONG_PTR is a uintptr_t");
static bool w_gqcs(void *ctx, shim_handle port, uint32_t *bytes, uintptr_t *key,
                   shim_overlapped **ov, uint32_t timeout_ms)
{
    (void)ctx;
    DWORD n_unused = 0;
    ULONG_PTR k_unused = 0;
    OVERLAPPED *o_unused = NULL;
    BOOL ok = GetQueuedCompletionStatus(H(port), bytes != NULL ? (DWORD *)bytes : &n_unused,
                                        key != NULL ? (ULONG_PTR *)key : &k_unused,
                                        ov != NULL ? (OVERLAPPED **)ov : &o_unused, timeout_ms);
    return ok != FALSE;
}

static bool w_gqcs_ex(void *ctx, shim_handle port, shim_overlapped_entry *entries, uint32_t count,
                      uint32_t *removed, uint32_t timeout_ms, bool alertable)
{
    (void)ctx;
    ULONG n = 0;
    BOOL ok = GetQueuedCompletionStatusEx(H(port), (OVERLAPPED_ENTRY *)entries, count, &n,
                                          timeout_ms, alertable ? TRUE : FALSE);
    if (removed != NULL)
        *removed = (uint32_t)n; /* on failure 0 or 1, unspecified (§3); Wine writes 1 (§11) */
    return ok != FALSE;
}

static bool w_post(void *ctx, shim_handle port, uint32_t bytes, uintptr_t key, shim_overlapped *ov)
{
    (void)ctx;
    return PostQueuedCompletionStatus(H(port), bytes, (ULONG_PTR)key, (OVERLAPPED *)ov) != FALSE;
}

static bool w_close_handle(void *ctx, shim_handle h)
{
    (void)ctx;
    return CloseHandle(H(h)) != FALSE;
}

/* ---- Overlapped socket I/O (§6, §7, §2) ------------------------------------ */

static int w_wsa_recv(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                      uint32_t *flags, shim_overlapped *ov)
{
    (void)ctx;
    DWORD n = 0;
    DWORD f = flags != NULL ? *flags : 0;
    int r = WSARecv(S(s), (WSABUF *)bufs, nbufs, &n, &f, (OVERLAPPED *)ov, NULL);
    if (r == SOCKET_ERROR) {
        keep_wsa_error();
        return SHIM_SOCKET_ERROR;
    }
    if (bytes != NULL)
        *bytes = n;
    if (flags != NULL)
        *flags = f;
    return 0;
}

static int w_wsa_send(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                      uint32_t flags, shim_overlapped *ov)
{
    (void)ctx;
    DWORD n = 0;
    int r = WSASend(S(s), (WSABUF *)bufs, nbufs, &n, flags, (OVERLAPPED *)ov, NULL);
    if (r == SOCKET_ERROR) {
        keep_wsa_error();
        return SHIM_SOCKET_ERROR;
    }
    if (bytes != NULL)
        *bytes = n;
    return 0;
}

static bool w_cancel_io_ex(void *ctx, shim_handle h, shim_overlapped *ov)
{
    (void)ctx;
    return CancelIoEx(H(h), (OVERLAPPED *)ov) != FALSE;
}

static int w_closesocket(void *ctx, shim_handle s)
{
    (void)ctx;
    if (closesocket(S(s)) == SOCKET_ERROR) {
        keep_wsa_error();
        return SHIM_SOCKET_ERROR;
    }
    return 0;
}

static bool w_set_notification_modes(void *ctx, shim_handle h, uint8_t flags)
{
    (void)ctx;
    return SetFileCompletionNotificationModes(H(h), flags) != FALSE;
}

static bool w_socket_is_ifs(void *ctx, shim_handle s)
{
    (void)ctx;
    /* The provider's service flags, as Go reads them: a non-IFS layered
     * provider (XP1_IFS_HANDLES clear) makes skip-on-success ineffective (§6). */
    WSAPROTOCOL_INFOW info;
    int len = (int)sizeof info;
    if (getsockopt(S(s), SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info, &len) == SOCKET_ERROR) {
        keep_wsa_error();
        return false;
    }
    return (info.dwServiceFlags1 & XP1_IFS_HANDLES) != 0;
}

static bool w_wsa_get_overlapped_result(void *ctx, shim_handle s, shim_overlapped *ov,
                                        uint32_t *bytes, bool wait, uint32_t *flags)
{
    (void)ctx;
    DWORD n = bytes != NULL ? *bytes : 0, f = 0;
    if (!WSAGetOverlappedResult(S(s), (OVERLAPPED *)ov, &n, wait ? TRUE : FALSE, &f)) {
        keep_wsa_error();
        /* Whatever the call wrote: nothing on a failure (§6), the bytes
         * copied on a truncated datagram's warning (Wine 8, measured). */
        if (bytes != NULL)
            *bytes = n;
        return false;
    }
    if (bytes != NULL)
        *bytes = n;
    if (flags != NULL)
        *flags = f;
    return true;
}

static uint32_t w_get_last_error(void *ctx)
{
    (void)ctx;
    return GetLastError();
}

static void w_set_last_error(void *ctx, uint32_t err)
{
    (void)ctx;
    SetLastError(err);
}

/* ---- Harness sockets: a real loopback TCP pair ------------------------------ */

static SOCKET overlapped_tcp_socket(void)
{
    /* WSA_FLAG_OVERLAPPED: the sockets take overlapped WSARecv/WSASend and
     * can be associated with a port (§1: a non-overlapped handle cannot). */
    return WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
}

static bool same_endpoint(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static bool w_socket_pair(void *ctx, shim_handle out[2])
{
    (void)ctx;
    SOCKET lst = INVALID_SOCKET, cli = INVALID_SOCKET, srv = INVALID_SOCKET;
    struct sockaddr_in addr, cli_addr, peer_addr;
    int len = (int)sizeof addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0; /* any free port */

    lst = overlapped_tcp_socket();
    if (lst == INVALID_SOCKET || bind(lst, (struct sockaddr *)&addr, len) == SOCKET_ERROR ||
        listen(lst, 1) == SOCKET_ERROR || getsockname(lst, (struct sockaddr *)&addr, &len) != 0)
        goto fail;
    cli = overlapped_tcp_socket();
    if (cli == INVALID_SOCKET || connect(cli, (struct sockaddr *)&addr, len) == SOCKET_ERROR)
        goto fail;
    /* accept inherits WSA_FLAG_OVERLAPPED from the listener. */
    srv = accept(lst, NULL, NULL);
    if (srv == INVALID_SOCKET)
        goto fail;
    /* Someone else could have connected to our ephemeral port first: make
     * sure the accepted end is the peer of ours. */
    len = (int)sizeof cli_addr;
    if (getsockname(cli, (struct sockaddr *)&cli_addr, &len) != 0)
        goto fail;
    len = (int)sizeof peer_addr;
    if (getpeername(srv, (struct sockaddr *)&peer_addr, &len) != 0 ||
        !same_endpoint(&cli_addr, &peer_addr)) {
        WSASetLastError(WSAECONNREFUSED);
        goto fail;
    }
    closesocket(lst);
    /* Scenarios send a few bytes at a time; Nagle would only add latency. */
    BOOL one = TRUE;
    setsockopt(cli, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, (int)sizeof one);
    setsockopt(srv, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, (int)sizeof one);
    out[0] = (shim_handle)cli;
    out[1] = (shim_handle)srv;
    return true;

fail:
    keep_wsa_error();
    DWORD err = GetLastError();
    if (srv != INVALID_SOCKET)
        closesocket(srv);
    if (cli != INVALID_SOCKET)
        closesocket(cli);
    if (lst != INVALID_SOCKET)
        closesocket(lst);
    SetLastError(err);
    return false;
}

static int w_sock_send_sync(void *ctx, shim_handle s, const void *buf, uint32_t len)
{
    (void)ctx;
    const char *p = buf;
    uint32_t done = 0;
    while (done < len) {
        uint32_t chunk = len - done;
        if (chunk > INT_MAX)
            chunk = INT_MAX;
        /* Plain send: blocking, no OVERLAPPED, so no completion packet. */
        int n = send(S(s), p + done, (int)chunk, 0);
        if (n == SOCKET_ERROR) {
            keep_wsa_error();
            return -1;
        }
        done += (uint32_t)n;
    }
    return done > INT_MAX ? INT_MAX : (int)done;
}

static int w_sock_recv_sync(void *ctx, shim_handle s, void *buf, uint32_t len, bool wait)
{
    (void)ctx;
    if (len > INT_MAX)
        len = INT_MAX;
    if (!wait) {
        /* Only what is buffered: a plain recv of at most that never blocks. */
        u_long avail = 0;
        if (ioctlsocket(S(s), FIONREAD, &avail) == SOCKET_ERROR) {
            keep_wsa_error();
            return -1;
        }
        if (avail == 0)
            return 0;
        if (avail < len)
            len = (uint32_t)avail;
    }
    int n = recv(S(s), buf, (int)len, 0);
    if (n == SOCKET_ERROR) {
        keep_wsa_error();
        return -1;
    }
    return n;
}

static bool w_sock_shutdown_send(void *ctx, shim_handle s)
{
    (void)ctx;
    if (shutdown(S(s), SD_SEND) == SOCKET_ERROR) {
        keep_wsa_error();
        return false;
    }
    return true;
}

static bool w_sock_abort(void *ctx, shim_handle s)
{
    (void)ctx;
    /* Linger on with a zero timeout: closesocket sends RST, not FIN. */
    struct linger lg;
    lg.l_onoff = 1;
    lg.l_linger = 0;
    if (setsockopt(S(s), SOL_SOCKET, SO_LINGER, (const char *)&lg, (int)sizeof lg) == SOCKET_ERROR ||
        closesocket(S(s)) == SOCKET_ERROR) {
        keep_wsa_error();
        return false;
    }
    return true;
}

/* ---- Datagram sockets (v3 seam, v2 harness): Winsock's UDP ------------------
 * (socket, bind, getsockname: the stream section below serves both kinds) */

static int w_wsa_recv_from(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                           uint32_t *flags, shim_sockaddr_in *from, int *fromlen, shim_overlapped *ov)
{
    (void)ctx;
    DWORD n = 0;
    DWORD f = flags != NULL ? *flags : 0;
    int r = WSARecvFrom(S(s), (WSABUF *)bufs, nbufs, &n, &f, (struct sockaddr *)from, (INT *)fromlen,
                        (OVERLAPPED *)ov, NULL);
    if (r == SOCKET_ERROR) {
        keep_wsa_error(); /* WSAEMSGSIZE at once leaves *bytes as it was (Wine 8, measured) */
        return SHIM_SOCKET_ERROR;
    }
    if (bytes != NULL)
        *bytes = n;
    if (flags != NULL)
        *flags = f;
    return 0;
}

static int w_wsa_send_to(void *ctx, shim_handle s, shim_wsabuf *bufs, uint32_t nbufs, uint32_t *bytes,
                         uint32_t flags, const shim_sockaddr_in *to, int tolen, shim_overlapped *ov)
{
    (void)ctx;
    DWORD n = 0;
    int r = WSASendTo(S(s), (WSABUF *)bufs, nbufs, &n, flags, (const struct sockaddr *)to, tolen,
                      (OVERLAPPED *)ov, NULL);
    if (r == SOCKET_ERROR) {
        keep_wsa_error();
        return SHIM_SOCKET_ERROR;
    }
    if (bytes != NULL)
        *bytes = n;
    return 0;
}

static int w_sock_sendto_sync(void *ctx, shim_handle s, const void *buf, uint32_t len, const shim_sockaddr_in *to)
{
    (void)ctx;
    if (len > INT_MAX)
        len = INT_MAX;
    int n = sendto(S(s), buf, (int)len, 0, (const struct sockaddr *)to, (int)sizeof *to);
    if (n == SOCKET_ERROR) {
        keep_wsa_error();
        return -1;
    }
    return n;
}

/* ---- Waitable timers and wait completion packets (§8), optional ------------ */

static shim_handle w_create_waitable_timer(void *ctx, bool high_res)
{
    (void)ctx;
    HANDLE t = NULL;
    if (high_res) /* Windows 10 1803+ (§8); Wine accepts and ignores it */
        t = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
                                   TIMER_ALL_ACCESS);
    if (t == NULL) /* older Windows rejects the flag: fall back to a normal timer */
        t = CreateWaitableTimerExW(NULL, NULL, 0, TIMER_ALL_ACCESS);
    return (shim_handle)t;
}

static bool w_set_waitable_timer(void *ctx, shim_handle timer, int64_t due_100ns)
{
    (void)ctx;
    LARGE_INTEGER due;
    due.QuadPart = due_100ns;
    return SetWaitableTimer(H(timer), &due, 0, NULL, NULL, FALSE) != FALSE;
}

static uint32_t w_nt_create_wcp(void *ctx, shim_handle *packet)
{
    win32_ctx *c = ctx;
    HANDLE h = NULL;
    LONG st = c->nt_create_wcp(&h, GENERIC_ALL, NULL);
    *packet = (shim_handle)h;
    return (uint32_t)st;
}

static uint32_t w_nt_associate_wcp(void *ctx, shim_handle packet, shim_handle port,
                                   shim_handle target, uintptr_t key, uintptr_t apc_ctx,
                                   uint32_t status, uintptr_t info, bool *already_signaled)
{
    win32_ctx *c = ctx;
    BOOLEAN sig = FALSE;
    LONG st = c->nt_associate_wcp(H(packet), H(port), H(target), (void *)key, (void *)apc_ctx,
                                  (LONG)status, (ULONG_PTR)info, &sig);
    if (already_signaled != NULL)
        *already_signaled = sig != FALSE;
    return (uint32_t)st;
}

static uint32_t w_nt_cancel_wcp(void *ctx, shim_handle packet, bool remove_signaled)
{
    win32_ctx *c = ctx;
    return (uint32_t)c->nt_cancel_wcp(H(packet), remove_signaled ? TRUE : FALSE);
}

/* ---- Atomics: Interlocked* (full barriers, so seq_cst as the seam asks) ------
 * Interlocked rather than <stdatomic.h>: the seam hands us plain volatile
 * words, and MSVC's C11 atomics are still optional. A load is a CAS that
 * never changes the value. */

#define A32(p) ((volatile LONG *)(p))
#if defined(_WIN64)
#define APTR(p) ((volatile LONG64 *)(p))
#define ICAS_PTR(p, d, e) ((uintptr_t)InterlockedCompareExchange64(APTR(p), (LONG64)(d), (LONG64)(e)))
#define IXCHG_PTR(p, v) ((uintptr_t)InterlockedExchange64(APTR(p), (LONG64)(v)))
#define IADD_PTR(p, d) ((uintptr_t)InterlockedExchangeAdd64(APTR(p), (LONG64)(d)))
#else
#define APTR(p) ((volatile LONG *)(p))
#define ICAS_PTR(p, d, e) ((uintptr_t)InterlockedCompareExchange(APTR(p), (LONG)(d), (LONG)(e)))
#define IXCHG_PTR(p, v) ((uintptr_t)InterlockedExchange(APTR(p), (LONG)(v)))
#define IADD_PTR(p, d) ((uintptr_t)InterlockedExchangeAdd(APTR(p), (LONG)(d)))
#endif

static uint32_t w_load32(void *ctx, volatile uint32_t *p)
{
    (void)ctx;
    return (uint32_t)InterlockedCompareExchange(A32(p), 0, 0);
}

static void w_store32(void *ctx, volatile uint32_t *p, uint32_t v)
{
    (void)ctx;
    InterlockedExchange(A32(p), (LONG)v);
}

static bool w_cas32(void *ctx, volatile uint32_t *p, uint32_t expected, uint32_t desired)
{
    (void)ctx;
    return (uint32_t)InterlockedCompareExchange(A32(p), (LONG)desired, (LONG)expected) == expected;
}

static uint32_t w_swap32(void *ctx, volatile uint32_t *p, uint32_t v)
{
    (void)ctx;
    return (uint32_t)InterlockedExchange(A32(p), (LONG)v);
}

static uint32_t w_add32(void *ctx, volatile uint32_t *p, int32_t d)
{
    (void)ctx;
    /* Unsigned arithmetic: wraps like the simulator's, never signed overflow. */
    return (uint32_t)InterlockedExchangeAdd(A32(p), (LONG)d) + (uint32_t)d;
}

static uintptr_t w_load_ptr(void *ctx, volatile uintptr_t *p)
{
    (void)ctx;
    return ICAS_PTR(p, 0, 0);
}

static void w_store_ptr(void *ctx, volatile uintptr_t *p, uintptr_t v)
{
    (void)ctx;
    (void)IXCHG_PTR(p, v);
}

static bool w_cas_ptr(void *ctx, volatile uintptr_t *p, uintptr_t expected, uintptr_t desired)
{
    (void)ctx;
    return ICAS_PTR(p, desired, expected) == expected;
}

static uintptr_t w_swap_ptr(void *ctx, volatile uintptr_t *p, uintptr_t v)
{
    (void)ctx;
    return IXCHG_PTR(p, v);
}

static uintptr_t w_add_ptr(void *ctx, volatile uintptr_t *p, intptr_t d)
{
    (void)ctx;
    return IADD_PTR(p, d) + (uintptr_t)d;
}

/* ---- Mutex: an SRWLOCK held exclusively --------------------------------- */

#define SRW(m) ((SRWLOCK *)(void *)(m)->opaque)

static void w_mutex_init(void *ctx, shim_mutex *m)
{
    (void)ctx;
    InitializeSRWLock(SRW(m));
}

static void w_mutex_lock(void *ctx, shim_mutex *m)
{
    (void)ctx;
    AcquireSRWLockExclusive(SRW(m));
}

static void w_mutex_unlock(void *ctx, shim_mutex *m)
{
    (void)ctx;
    ReleaseSRWLockExclusive(SRW(m));
}

static void w_mutex_destroy(void *ctx, shim_mutex *m)
{
    (void)ctx;
    (void)m; /* an SRWLOCK owns nothing */
}

/* ---- Semaphore: a Win32 semaphore, its HANDLE in opaque[0] ---------------- */

/* Nanoseconds to a Win32 wait in ms: rounded up, so a wait never ends before
 * it was asked to (the OS may still end it up to a tick early, §3); < 0 is
 * forever, and a finite wait never becomes INFINITE by overflow. */
static DWORD ns_to_ms(int64_t ns)
{
    if (ns < 0)
        return INFINITE;
    int64_t ms = ns / 1000000 + (ns % 1000000 != 0);
    return ms >= (int64_t)INFINITE ? INFINITE - 1 : (DWORD)ms;
}

static void w_sema_init(void *ctx, shim_sema *s, uint32_t count)
{
    (void)ctx;
    HANDLE h = CreateSemaphoreW(NULL, (LONG)count, LONG_MAX, NULL);
    if (h == NULL) {
        /* The seam's init cannot fail: a process out of handles is done. */
        fprintf(stderr, "shim_win32: CreateSemaphoreW failed, error %lu\n", GetLastError());
        abort();
    }
    s->opaque[0] = (uintptr_t)h;
}

static bool w_sema_wait(void *ctx, shim_sema *s, int64_t timeout_ns)
{
    (void)ctx;
    return WaitForSingleObject(H(s->opaque[0]), ns_to_ms(timeout_ns)) == WAIT_OBJECT_0;
}

static void w_sema_post(void *ctx, shim_sema *s)
{
    (void)ctx;
    ReleaseSemaphore(H(s->opaque[0]), 1, NULL);
}

static void w_sema_destroy(void *ctx, shim_sema *s)
{
    (void)ctx;
    CloseHandle(H(s->opaque[0]));
    s->opaque[0] = 0;
}

/* ---- Time -------------------------------------------------------------- */

static int64_t qpc_ns(int64_t freq)
{
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    /* Split so that counter * 1e9 cannot overflow for any uptime. */
    return (t.QuadPart / freq) * 1000000000 + (t.QuadPart % freq) * 1000000000 / freq;
}

static int64_t w_now_ns(void *ctx)
{
    win32_ctx *c = ctx;
    return qpc_ns(c->qpc_freq.QuadPart);
}

int64_t shim_win32_now_ns(void)
{
    /* The frequency is fixed at boot; reading it each time keeps this free of
     * initialization order (it is a plain read of shared user data). */
    DWORD err = GetLastError(); /* as in shim_win32_thread_number: the recorder's clock changes nothing */
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    int64_t ns = qpc_ns(f.QuadPart);
    SetLastError(err);
    return ns;
}

/* Thread numbers: a TLS slot holds (generation << 32 | number + 1); a value
 * from an older generation counts as unnumbered. TlsAlloc, not _Thread_local,
 * so MSVC and MinGW agree and nothing runs at thread exit. */
static INIT_ONCE tls_once = INIT_ONCE_STATIC_INIT;
static DWORD tls_slot = TLS_OUT_OF_INDEXES;
static volatile LONG thread_generation = 1;
static volatile LONG thread_next;

static BOOL CALLBACK tls_init(INIT_ONCE *once, void *param, void **ctx)
{
    (void)once, (void)param, (void)ctx;
    tls_slot = TlsAlloc();
    return tls_slot != TLS_OUT_OF_INDEXES;
}

uint32_t shim_win32_thread_number(void)
{
    /* The recorder calls this between a failed call and the caller's
     * GetLastError, and TlsGetValue clears the last error on success: keep it. */
    DWORD err = GetLastError();
    uint32_t n = 0;
    if (InitOnceExecuteOnce(&tls_once, tls_init, NULL, NULL)) {
        uint64_t gen = (uint32_t)InterlockedCompareExchange(&thread_generation, 0, 0);
        uint64_t v = (uint64_t)(uintptr_t)TlsGetValue(tls_slot);
        if (v != 0 && v >> 32 == gen) {
            n = (uint32_t)(v & 0xffffffffu) - 1;
        } else {
            n = (uint32_t)InterlockedIncrement(&thread_next) - 1;
            TlsSetValue(tls_slot, (void *)(uintptr_t)(gen << 32 | (uint64_t)(n + 1)));
        }
    }
    SetLastError(err);
    return n;
}

void shim_win32_thread_renumber(void)
{
    /* Callers renumber between executions, when no other thread of theirs runs. */
    InterlockedExchange(&thread_next, 0);
    InterlockedIncrement(&thread_generation);
}

int64_t shim_win32_tick_ns(void)
{
    if (strncmp(shim_win32_host(), "wine", 4) == 0)
        return 0; /* Wine's waits are not quantized (§11) */
    DWORD adjustment = 0, increment = 0;
    BOOL disabled = FALSE;
    if (!GetSystemTimeAdjustment(&adjustment, &increment, &disabled) || increment == 0)
        return 15625000;
    return (int64_t)increment * 100; /* 100 ns units */
}

static void w_sleep_ns(void *ctx, int64_t ns)
{
    (void)ctx;
    Sleep(ns <= 0 ? 0 : ns_to_ms(ns)); /* Sleep(0) yields the rest of the slice */
}

/* ---- Threads: CreateThread, the HANDLE in opaque[0] ---------------------- */

struct thread_start {
    shim_thread_fn fn;
    void *arg;
    uint64_t number; /* TLS value of its thread number, given at the spawn */
};

static DWORD WINAPI thread_trampoline(LPVOID p)
{
    struct thread_start st = *(struct thread_start *)p;
    free(p);
    if (st.number != 0)
        TlsSetValue(tls_slot, (void *)(uintptr_t)st.number);
    st.fn(st.arg);
    return 0;
}

static bool w_thread_spawn(void *ctx, shim_thread *t, shim_thread_fn fn, void *arg, const char *name)
{
    (void)ctx;
    (void)name; /* SetThreadDescription is Windows 10 1607+ only; traces name threads themselves */
    struct thread_start *st = malloc(sizeof *st);
    if (st == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return false;
    }
    st->fn = fn;
    st->arg = arg;
    /* Numbered in spawn order, not on first sight: a scenario's threads are
     * 1, 2, ... in the order it declares them, as on the simulator, so a
     * trace can name them (validate --trace-json). */
    st->number = 0;
    if (InitOnceExecuteOnce(&tls_once, tls_init, NULL, NULL)) {
        uint64_t gen = (uint32_t)InterlockedCompareExchange(&thread_generation, 0, 0);
        st->number = gen << 32 | (uint64_t)(uint32_t)InterlockedIncrement(&thread_next);
    }
    HANDLE h = CreateThread(NULL, 0, thread_trampoline, st, 0, NULL);
    if (h == NULL) {
        free(st);
        return false;
    }
    t->opaque[0] = (uintptr_t)h;
    return true;
}

static void w_thread_join(void *ctx, shim_thread *t)
{
    (void)ctx;
    WaitForSingleObject(H(t->opaque[0]), INFINITE);
    CloseHandle(H(t->opaque[0]));
    t->opaque[0] = 0;
}

/* ---- Construction --------------------------------------------------------- */

const char *shim_win32_host(void)
{
    /* Wine's ntdll exports wine_get_version; Windows' does not. */
    typedef const char *(*wine_version_fn)(void);
    wine_version_fn v = (wine_version_fn)ntdll_proc("wine_get_version");
    static char buf[64];
    if (v == NULL)
        return "windows";
    snprintf(buf, sizeof buf, "wine %s", v());
    return buf;
}

/* ---- Sockets (v3): socket, bind, getsockname of both kinds; listen,
 * AcceptEx, ConnectEx, shutdown of streams ---- */

_Static_assert(sizeof(shim_sockaddr_in) == sizeof(struct sockaddr_in), "SOCKADDR_IN size");
_Static_assert(offsetof(shim_sockaddr_in, port) == offsetof(struct sockaddr_in, sin_port), "sin_port");
_Static_assert(offsetof(shim_sockaddr_in, addr) == offsetof(struct sockaddr_in, sin_addr), "sin_addr");
_Static_assert(SHIM_SO_UPDATE_ACCEPT_CONTEXT == SO_UPDATE_ACCEPT_CONTEXT &&
                   SHIM_SO_UPDATE_CONNECT_CONTEXT == SO_UPDATE_CONNECT_CONTEXT && SHIM_SOL_SOCKET == SOL_SOCKET,
               "the seam's socket options are Winsock's");
_Static_assert(SHIM_WSAECONNREFUSED == WSAECONNREFUSED && SHIM_WSAENOTCONN == WSAENOTCONN &&
                   SHIM_ERROR_CONNECTION_REFUSED == ERROR_CONNECTION_REFUSED,
               "the seam's connect errors are Winsock's");

/* ConnectEx is not exported: loaded through WSAIoctl, once per process (as
 * Go's sync.Once), kept where every thread sees it. */
static LPFN_CONNECTEX volatile connectex_fn;

static int wsa_result(int r)
{
    if (r == SOCKET_ERROR) {
        keep_wsa_error();
        return SHIM_SOCKET_ERROR;
    }
    return 0;
}

static shim_handle w_wsa_socket(void *ctx, int af, int type, int protocol)
{
    (void)ctx;
    SOCKET s = WSASocketW(af, type, protocol, NULL, 0, WSA_FLAG_OVERLAPPED);
    if (s == INVALID_SOCKET) {
        keep_wsa_error();
        return SHIM_INVALID_HANDLE;
    }
    if (type == SOCK_DGRAM) {
        /* As Go does (fd_windows.go, KB 263823): an ICMP port unreachable
         * must not fail the next receive. */
        BOOL off = FALSE;
        DWORD ret = 0;
        WSAIoctl(s, SIO_UDP_CONNRESET, &off, sizeof off, NULL, 0, &ret, NULL, NULL);
    }
    return (shim_handle)s;
}

static int w_bind(void *ctx, shim_handle s, const shim_sockaddr_in *addr, int namelen)
{
    (void)ctx;
    return wsa_result(bind(S(s), (const struct sockaddr *)addr, namelen));
}

static int w_getsockname(void *ctx, shim_handle s, shim_sockaddr_in *addr, int *namelen)
{
    (void)ctx;
    return wsa_result(getsockname(S(s), (struct sockaddr *)addr, namelen));
}

static int w_listen(void *ctx, shim_handle s, int backlog)
{
    (void)ctx;
    return wsa_result(listen(S(s), backlog));
}

static bool w_accept_ex(void *ctx, shim_handle l, shim_handle a, void *buf, uint32_t recv_len, uint32_t local_len,
                        uint32_t remote_len, uint32_t *bytes, shim_overlapped *ov)
{
    (void)ctx;
    DWORD n = 0;
    if (!AcceptEx(S(l), S(a), buf, recv_len, local_len, remote_len, &n, (OVERLAPPED *)ov)) {
        keep_wsa_error();
        return false;
    }
    if (bytes != NULL)
        *bytes = n;
    return true;
}

static int w_setsockopt(void *ctx, shim_handle s, int level, int opt, const void *val, int len)
{
    (void)ctx;
    return wsa_result(setsockopt(S(s), level, opt, (const char *)val, len));
}

static int w_ioctl_get_extension(void *ctx, shim_handle s, uint32_t which)
{
    (void)ctx;
    if (which != SHIM_WSAID_CONNECTEX) {
        WSASetLastError(WSAEINVAL);
        keep_wsa_error();
        return SHIM_SOCKET_ERROR;
    }
    GUID guid = WSAID_CONNECTEX;
    LPFN_CONNECTEX fn = NULL;
    DWORD n = 0;
    if (WSAIoctl(S(s), SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof guid, &fn, sizeof fn, &n, NULL, NULL) ==
        SOCKET_ERROR) {
        keep_wsa_error();
        return SHIM_SOCKET_ERROR;
    }
    InterlockedExchangePointer((void *volatile *)&connectex_fn, (void *)fn);
    return 0;
}

static bool w_connect_ex(void *ctx, shim_handle s, const shim_sockaddr_in *to, int namelen, shim_overlapped *ov)
{
    (void)ctx;
    LPFN_CONNECTEX fn = (LPFN_CONNECTEX)InterlockedCompareExchangePointer((void *volatile *)&connectex_fn, NULL, NULL);
    if (fn == NULL) { /* never loaded: the caller skipped WSAIoctl */
        SetLastError(WSAEINVAL);
        return false;
    }
    if (!fn(S(s), (const struct sockaddr *)to, namelen, NULL, 0, NULL, (OVERLAPPED *)ov)) {
        keep_wsa_error();
        return false;
    }
    return true;
}

static int w_shutdown(void *ctx, shim_handle s, int how)
{
    (void)ctx;
    return wsa_result(shutdown(S(s), how));
}

static bool w_sock_connect(void *ctx, const shim_sockaddr_in *to, shim_handle *out)
{
    (void)ctx;
    SOCKET s = overlapped_tcp_socket();
    *out = (shim_handle)s;
    if (s == INVALID_SOCKET || connect(s, (const struct sockaddr *)to, (int)sizeof(struct sockaddr_in)) == SOCKET_ERROR) {
        keep_wsa_error();
        return false;
    }
    BOOL one = TRUE; /* as the pair's ends: a few bytes at a time, no Nagle delay */
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, (int)sizeof one);
    return true;
}

static void fill_sockets(shim *t, shim_harness *h)
{
    t->wsa_socket = w_wsa_socket;
    t->bind = w_bind;
    t->listen = w_listen;
    t->getsockname = w_getsockname;
    t->accept_ex = w_accept_ex;
    t->setsockopt = w_setsockopt;
    t->wsa_ioctl_get_extension = w_ioctl_get_extension;
    t->connect_ex = w_connect_ex;
    t->shutdown = w_shutdown;
    t->wsa_recv_from = w_wsa_recv_from;
    t->wsa_send_to = w_wsa_send_to;
    h->sock_connect = w_sock_connect;
    h->sock_sendto_sync = w_sock_sendto_sync;
}

const shim *shim_win32_create(void)
{
    WSADATA wsa;
    int werr = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (werr != 0) {
        fprintf(stderr, "shim_win32: WSAStartup failed, error %d\n", werr);
        return NULL;
    }
    win32_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        WSACleanup();
        return NULL;
    }
    QueryPerformanceFrequency(&c->qpc_freq);
    shim *t = &c->table;
    t->version = SHIM_VERSION_3;
    t->name = "win32";
    t->ctx = c;
    shim_sync *y = &c->sync;
    y->version = SHIM_VERSION_2;
    y->name = "win32";
    y->ctx = c;
    t->sync = y;
    shim_harness *h = &c->harness;
    h->version = SHIM_HARNESS_VERSION_2;
    h->name = "win32";
    h->ctx = c;

    t->create_io_completion_port = w_create_port;
    t->get_queued_completion_status = w_gqcs;
    t->get_queued_completion_status_ex = w_gqcs_ex;
    t->post_queued_completion_status = w_post;
    t->close_handle = w_close_handle;

    t->wsa_recv = w_wsa_recv;
    t->wsa_send = w_wsa_send;
    t->cancel_io_ex = w_cancel_io_ex;
    t->closesocket = w_closesocket;
    t->set_file_completion_notification_modes = w_set_notification_modes;
    t->socket_is_ifs = w_socket_is_ifs;
    t->wsa_get_overlapped_result = w_wsa_get_overlapped_result;
    t->get_last_error = w_get_last_error;

    h->set_last_error = w_set_last_error;
    h->socket_pair = w_socket_pair;
    h->sock_send_sync = w_sock_send_sync;
    h->sock_shutdown_send = w_sock_shutdown_send;
    h->sock_abort = w_sock_abort;
    h->sock_recv_sync = w_sock_recv_sync;

    /* All three or none (§8): Wine 8 has none, so caps stays 0 there and the
     * poller takes its fallback path, as Go's does. */
    c->nt_create_wcp = (nt_create_wcp_fn)ntdll_proc("NtCreateWaitCompletionPacket");
    c->nt_associate_wcp = (nt_associate_wcp_fn)ntdll_proc("NtAssociateWaitCompletionPacket");
    c->nt_cancel_wcp = (nt_cancel_wcp_fn)ntdll_proc("NtCancelWaitCompletionPacket");
    if (c->nt_create_wcp != NULL && c->nt_associate_wcp != NULL && c->nt_cancel_wcp != NULL) {
        t->caps |= SHIM_CAP_WAIT_PACKETS;
        t->create_waitable_timer = w_create_waitable_timer;
        t->set_waitable_timer = w_set_waitable_timer;
        t->nt_create_wait_completion_packet = w_nt_create_wcp;
        t->nt_associate_wait_completion_packet = w_nt_associate_wcp;
        t->nt_cancel_wait_completion_packet = w_nt_cancel_wcp;
    }

    y->atomic_load32 = w_load32;
    y->atomic_store32 = w_store32;
    y->atomic_cas32 = w_cas32;
    y->atomic_swap32 = w_swap32;
    y->atomic_add32 = w_add32;
    y->atomic_load_ptr = w_load_ptr;
    y->atomic_store_ptr = w_store_ptr;
    y->atomic_cas_ptr = w_cas_ptr;
    y->atomic_swap_ptr = w_swap_ptr;
    y->atomic_add_ptr = w_add_ptr;

    y->mutex_init = w_mutex_init;
    y->mutex_lock = w_mutex_lock;
    y->mutex_unlock = w_mutex_unlock;
    y->mutex_destroy = w_mutex_destroy;
    y->sema_init = w_sema_init;
    y->sema_wait = w_sema_wait;
    y->sema_post = w_sema_post;
    y->sema_destroy = w_sema_destroy;

    y->now_ns = w_now_ns;
    h->sleep_ns = w_sleep_ns;
    h->thread_spawn = w_thread_spawn;
    h->thread_join = w_thread_join;
    fill_sockets(t, h);
    return t;
}

const shim_harness *shim_win32_harness(const shim *s)
{
    if (s == NULL || s->name == NULL || strcmp(s->name, "win32") != 0)
        return NULL;
    win32_ctx *c = s->ctx;
    return &c->table == s ? &c->harness : NULL;
}

void shim_win32_destroy(const shim *s)
{
    if (s == NULL)
        return;
    free(s->ctx); /* the table is the first member of the context */
    WSACleanup();
}

uint32_t shim_win32_open_handles(void)
{
    uint32_t n = 0;
    DWORD flags;
    for (uintptr_t h = 4; h < SHIM_WIN32_HANDLE_PROBE; h += 4) /* handle values are multiples of 4 */
        if (GetHandleInformation((HANDLE)h, &flags))
            n++;
    return n;
}
