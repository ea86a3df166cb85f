/* shim_win32.h - the real Win32 backend of the seam (shim/shim_win32.c).
 *
 * Deliberately free of <windows.h>: callers (the CLI, the tests) see only the
 * seam types, so nothing but shim_win32.c includes the Windows headers.
 * Built only for Windows targets (MinGW-w64 under Wine, or MSVC).
 */
#ifndef IOCPCHECK_SHIM_WIN32_H
#define IOCPCHECK_SHIM_WIN32_H

#include "harness.h"
#include "iocp_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts Winsock, probes ntdll for wait completion packets (§8) and returns
 * a filled seam, or NULL (with the Win32 error printed to stderr) when
 * Winsock cannot start. Each call returns a new instance. */
const shim *shim_win32_create(void);
/* The harness calls (threads, sleep, loopback peers) that go with a seam
 * made by shim_win32_create; NULL for any other shim. */
const shim_harness *shim_win32_harness(const shim *s);
/* Releases what create took (Winsock reference, the table). NULL is ignored. */
void shim_win32_destroy(const shim *s);

/* What runs us: "wine <version>" when ntdll exports wine_get_version, else
 * "windows". Tests use it to name which side of a Wine/Windows difference
 * (iocp-facts.md §9, §11) they observed; the poller never looks at it. */
const char *shim_win32_host(void);

/* For the recording shim's model_clock and the CLI, which must not make seam
 * calls (the recorder stays invisible) and cannot include <windows.h>:
 *  - shim_win32_now_ns: the same clock as the seam's now_ns
 *    (QueryPerformanceCounter), so trace times and the harness's deadlines
 *    compare; callable before any shim_win32_create;
 *  - shim_win32_thread_number: a small number for the calling thread,
 *    given on its first call since the last shim_win32_thread_renumber
 *    (0, 1, 2, ... in that order), so traces name threads like the
 *    simulator's, not by Windows thread ids;
 *  - shim_win32_tick_ns: how the host quantizes timed waits: Windows' clock
 *    interrupt interval (15.625 ms unless raised), 0 under Wine, whose waits
 *    end to the millisecond (iocp-facts.md §9.6, §11). */
int64_t shim_win32_now_ns(void);
uint32_t shim_win32_thread_number(void);
void shim_win32_thread_renumber(void);
int64_t shim_win32_tick_ns(void);

/* The process's open handles with values below SHIM_WIN32_HANDLE_PROBE,
 * counted by probing each (GetProcessHandleCount answers 0 under Wine 8).
 * Both Windows and Wine hand out low values first, so for a test process
 * this is every handle: tests use it to check that a run gives back what it
 * took. Slow under Wine (one wineserver call per probe). */
#define SHIM_WIN32_HANDLE_PROBE 16384u
uint32_t shim_win32_open_handles(void);

#ifdef __cplusplus
}
#endif

#endif
