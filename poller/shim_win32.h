/* shim_win32.h - the real Win32 backend of the seam (poller/shim_win32.c).
 *
 * Deliberately free of <windows.h>: callers (the CLI, the tests) see only the
 * seam types, so nothing but shim_win32.c includes the Windows headers.
 * Built only for Windows targets (MinGW-w64 under Wine, or MSVC).
 */
#ifndef IOCPCHECK_SHIM_WIN32_H
#define IOCPCHECK_SHIM_WIN32_H

#include "iocp_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts Winsock, probes ntdll for wait completion packets (§8) and returns
 * a filled seam, or NULL (with the Win32 error printed to stderr) when
 * Winsock cannot start. Each call returns a new instance. */
const shim *shim_win32_create(void);
/* Releases what create took (Winsock reference, the table). NULL is ignored. */
void shim_win32_destroy(const shim *s);

/* What runs us: "wine <version>" when ntdll exports wine_get_version, else
 * "windows". Tests use it to name which side of a Wine/Windows difference
 * (iocp-facts.md §9, §11) they observed; the poller never looks at it. */
const char *shim_win32_host(void);

#ifdef __cplusplus
}
#endif

#endif
