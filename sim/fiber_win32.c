/* fiber_win32.c - the Windows side of the fiber layer: guarded stacks from
 * VirtualAlloc, and stand-ins for the ucontext backend, which Windows lacks
 * (the hand-written switch, fiber_win64.S, is the only one there).
 *
 * Built instead of fiber_ucontext.c, and in place of the mmap stacks of
 * fiber.c, on Windows targets only.
 *
 * Stack overflow on Windows: the guard region is PAGE_NOACCESS, so running
 * into it raises an access violation and, with no handler installed, the
 * process dies with the OS's exception (0xC0000005) instead of corrupting a
 * neighbour. The POSIX build turns the same fault into the verdict
 * `stack-overflow` (sched.c); doing that here needs a vectored exception
 * handler and is not done yet.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fiber.h"
#include "fiber_bench.h"

#if defined(_WIN32)

/* Only shim_win32.c may include <windows.h> (it would also drag the whole
 * Win32 namespace into the simulator), so the three kernel32 calls used
 * here are declared by hand with their documented types:
 * LPVOID = void *, SIZE_T = size_t, DWORD = unsigned long, BOOL = int.
 * WINAPI is __stdcall, which x64 ignores but 32-bit x86 needs. */
#if defined(_MSC_VER) || defined(__MINGW32__)
#define FIBER_WINAPI __stdcall
#else
#define FIBER_WINAPI
#endif
void *FIBER_WINAPI VirtualAlloc(void *address, size_t size, unsigned long type, unsigned long protect);
int FIBER_WINAPI VirtualProtect(void *address, size_t size, unsigned long protect,
                                unsigned long *old_protect);
int FIBER_WINAPI VirtualFree(void *address, size_t size, unsigned long type);

#define FIBER_MEM_COMMIT 0x1000ul
#define FIBER_MEM_RESERVE 0x2000ul
#define FIBER_MEM_RELEASE 0x8000ul
#define FIBER_PAGE_NOACCESS 0x01ul
#define FIBER_PAGE_READWRITE 0x04ul

/* Every Windows target has 4 KiB pages (x64 and ARM64 alike). */
#define FIBER_PAGE ((size_t)4096)
/* The guard is a whole allocation-granularity unit: with the 64 KiB that
 * sim_stack_guard_hit already blames on the stack, a big frame that jumps
 * one page still faults in our guard, not in a neighbour. */
#define FIBER_GUARD ((size_t)64 * 1024)

bool sim_stack_alloc(sim_stack *s, size_t size)
{
    memset(s, 0, sizeof *s);
    if (size == 0)
        size = FIBER_PAGE;
    if (size > SIZE_MAX - FIBER_GUARD - FIBER_PAGE)
        return false;
    size_t usable = (size + FIBER_PAGE - 1) & ~(FIBER_PAGE - 1);
    size_t total = usable + FIBER_GUARD;

    void *map = VirtualAlloc(NULL, total, FIBER_MEM_RESERVE | FIBER_MEM_COMMIT, FIBER_PAGE_READWRITE);
    if (map == NULL)
        return false;
    /* Stacks grow down, so the guard goes at the low end. */
    unsigned long old = 0;
    if (!VirtualProtect(map, FIBER_GUARD, FIBER_PAGE_NOACCESS, &old)) {
        VirtualFree(map, 0, FIBER_MEM_RELEASE);
        return false;
    }
    s->map = map;
    s->map_size = total;
    s->base = (char *)map + FIBER_GUARD;
    s->size = usable;
    return true;
}

void sim_stack_free(sim_stack *s)
{
    if (s->map != NULL)
        VirtualFree(s->map, 0, FIBER_MEM_RELEASE); /* size 0: the whole reservation */
    memset(s, 0, sizeof *s);
}

/* ---- No ucontext on Windows ----
 * fiber.c references the ucontext backend unconditionally and picks it only
 * when asked (IOCPCHECK_FIBER=ucontext, which CMake refuses on Windows) or
 * when there is no hand-written switch. Reaching one of these is a build
 * mistake, so they abort; destroy is called for every fiber and has nothing
 * to free. */

void sim_fiber_uc_make(sim_fiber *f, void *stack_lo, size_t stack_size, sim_fiber_entry entry,
                       void *arg)
{
    (void)f;
    (void)stack_lo;
    (void)stack_size;
    (void)entry;
    (void)arg;
    abort();
}

void sim_fiber_uc_init_main(sim_fiber *f)
{
    (void)f;
    abort();
}

void sim_fiber_uc_switch(sim_fiber *from, sim_fiber *to)
{
    (void)from;
    (void)to;
    abort();
}

void sim_fiber_uc_switch_final(sim_fiber *to)
{
    (void)to;
    abort();
}

void sim_fiber_uc_destroy(sim_fiber *f)
{
    f->uc = NULL; /* never allocated on Windows */
}

#endif /* _WIN32 */
