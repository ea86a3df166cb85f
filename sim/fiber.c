/* fiber.c - guarded stacks for fibers, and the dispatch from the fiber.h API
 * to the configured context switch (fiber_<arch>.S or fiber_ucontext.c),
 * with the AddressSanitizer annotations every stack switch needs.
 *
 * IOCPCHECK_FIBER_UCONTEXT=1 selects the ucontext fallback; otherwise the
 * hand-written switch is used on x86-64 and AArch64, and ucontext anywhere
 * else.
 */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* glibc: MAP_ANONYMOUS, MAP_STACK */
#endif

#include <stdint.h>
#include <string.h>
#if !defined(_WIN32) /* Windows: stacks come from fiber_win32.c */
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "fiber.h"
#include "fiber_bench.h"

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif
#if !defined(MAP_STACK)
#define MAP_STACK 0 /* only a hint where it exists */
#endif

#if defined(__x86_64__) || defined(__aarch64__)
#define FIBER_HAVE_ASM 1
#else
#define FIBER_HAVE_ASM 0
#endif

#if defined(IOCPCHECK_FIBER_UCONTEXT) && (IOCPCHECK_FIBER_UCONTEXT + 0) == 1
#define FIBER_CONFIG_UC 1
#elif FIBER_HAVE_ASM
#define FIBER_CONFIG_UC 0
#else
#define FIBER_CONFIG_UC 1
#endif

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#endif
#if !defined(FIBER_ASAN)
#define FIBER_ASAN 0
#endif

#if FIBER_ASAN
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/asan_interface.h>
#endif

#if defined(__GNUC__)
#define FIBER_INLINE static inline __attribute__((always_inline))
#else
#define FIBER_INLINE static inline
#endif

/* ---- stacks ------------------------------------------------------------ */

/* How far below a stack an overflowing frame may land and still be blamed on
 * the stack: one large frame (a big local array) can skip the guard page. */
#define GUARD_REACH ((size_t)64 * 1024)

#if !defined(_WIN32)
bool sim_stack_alloc(sim_stack *s, size_t size)
{
    memset(s, 0, sizeof *s);
    long page_l = sysconf(_SC_PAGESIZE);
    size_t page = page_l > 0 ? (size_t)page_l : 4096;

    if (size == 0)
        size = page;
    if (size > SIZE_MAX - 2 * page)
        return false;
    size_t usable = (size + page - 1) & ~(page - 1);
    size_t total = usable + page;

    void *map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                     -1, 0);
    if (map == MAP_FAILED)
        return false;
    /* Stacks grow down, so the guard goes at the low end. */
    if (mprotect(map, page, PROT_NONE) != 0) {
        munmap(map, total);
        return false;
    }
    s->map = map;
    s->map_size = total;
    s->base = (char *)map + page;
    s->size = usable;
    return true;
}

void sim_stack_free(sim_stack *s)
{
    if (s->map != NULL)
        munmap(s->map, s->map_size);
    memset(s, 0, sizeof *s);
}
#endif

bool sim_stack_guard_hit(const sim_stack *s, const void *addr)
{
    if (s == NULL || s->base == NULL)
        return false;
    uintptr_t a = (uintptr_t)addr;
    uintptr_t base = (uintptr_t)s->base;
    size_t reach = base - (uintptr_t)s->map; /* the guard page itself... */
    if (reach < GUARD_REACH)
        reach = GUARD_REACH; /* ...or further, whichever is larger */
    return a < base && base - a <= reach;
}

/* ---- AddressSanitizer ---------------------------------------------------- */

#if FIBER_ASAN
/* Under ASan a fiber starts in fiber_asan_start, which completes the switch
 * that started it before calling the real entry. The real entry and argument
 * are kept in this record at the top of the fiber's own stack. */
struct asan_start {
    sim_fiber_entry entry;
    void *arg;
};

static void fiber_asan_start(void *p)
{
    struct asan_start rec = *(struct asan_start *)p;
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL); /* a new fiber has no fake stack yet */
    rec.entry(rec.arg);
    __builtin_trap(); /* entry must not return */
}

/* ASan must be told the bounds of the stack being switched to, including
 * the thread's own stack when switching back to it, or it loses track of
 * the stack (and warns at every noreturn call made there). ASan only hands
 * out the current bounds at the end of a switch, so run an empty switch
 * pair: the first reports the bounds, the second puts them back. */
static void asan_current_stack(const void **lo, size_t *size)
{
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, NULL, 0);
    __sanitizer_finish_switch_fiber(fake, lo, size);
    __sanitizer_start_switch_fiber(&fake, *lo, *size);
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
}

/* A fiber abandoned while suspended (the simulator ends an execution with
 * threads still blocked, then makes new fibers in their place) still holds
 * the fake stack ASan keeps for detect_stack_use_after_return: megabytes
 * per fiber, leaked at every re-make. ASan frees a fake stack only when it
 * is the current one and a switch says "never coming back", so install it
 * with an empty switch, drop it with a second, and take ours back. */
static void asan_drop_fake_stack(sim_fiber *f)
{
    if (f->asan_fake == NULL)
        return;
    void *mine = NULL;
    const void *lo = NULL;
    size_t size = 0;
    __sanitizer_start_switch_fiber(&mine, NULL, 0);
    __sanitizer_finish_switch_fiber(f->asan_fake, &lo, &size);
    __sanitizer_start_switch_fiber(NULL, lo, size);
    __sanitizer_finish_switch_fiber(mine, NULL, NULL);
    f->asan_fake = NULL;
}
#endif

/* ---- dispatch ------------------------------------------------------------ */

FIBER_INLINE int pick_uc(int use_ucontext)
{
    return !FIBER_HAVE_ASM || use_ucontext;
}

bool sim_fiber_has_asm(void)
{
    return FIBER_HAVE_ASM;
}

const char *sim_fiber_impl_name(int use_ucontext)
{
    if (pick_uc(use_ucontext))
        return "ucontext";
#if defined(__x86_64__) && defined(_WIN32)
    return "asm-win64";
#elif defined(__x86_64__)
    return "asm-x86_64";
#else
    return "asm-aarch64";
#endif
}

const char *sim_fiber_impl(void)
{
    return sim_fiber_impl_name(FIBER_CONFIG_UC);
}

void sim_fiber_make_impl(sim_fiber *f, const sim_stack *stack, sim_fiber_entry entry, void *arg,
                         int use_ucontext)
{
#if FIBER_ASAN
    asan_drop_fake_stack(f);
    /* A stack reused after its fiber was abandoned mid-call still carries
     * the poisoned redzones of the frames it had: clear them. */
    __asan_unpoison_memory_region(stack->base, stack->size);
#endif
    f->sp = NULL; /* f->uc is kept: the ucontext backend reuses it */
    f->stack_lo = stack->base;
    f->stack_size = stack->size;
    f->asan_fake = NULL;

    char *top = (char *)stack->base + stack->size;
#if FIBER_ASAN
    struct asan_start *rec =
        (struct asan_start *)(((uintptr_t)top - sizeof(struct asan_start)) & ~(uintptr_t)15);
    rec->entry = entry;
    rec->arg = arg;
    entry = fiber_asan_start;
    arg = rec;
    top = (char *)rec;
#endif

#if FIBER_HAVE_ASM
    if (!pick_uc(use_ucontext)) {
#if defined(_WIN32) && defined(__x86_64__)
        f->sp = sim_fiber_win64_prepare(top, entry, arg, stack->base, stack->map);
#else
        f->sp = sim_fiber_asm_prepare(top, entry, arg);
#endif
        return;
    }
#else
    (void)use_ucontext;
#endif
    sim_fiber_uc_make(f, stack->base, (size_t)(top - (char *)stack->base), entry, arg);
}

void sim_fiber_init_main_impl(sim_fiber *f, int use_ucontext)
{
#if FIBER_ASAN
    asan_drop_fake_stack(f);
#endif
    f->sp = NULL; /* f->uc is kept: the ucontext backend reuses it */
    f->stack_lo = NULL;
    f->stack_size = 0;
    f->asan_fake = NULL;
#if FIBER_ASAN
    asan_current_stack(&f->stack_lo, &f->stack_size);
#endif
    if (pick_uc(use_ucontext))
        sim_fiber_uc_init_main(f);
}

/* Inlined into every switch entry point so that a constant use_ucontext
 * leaves a single direct call (a tail jump without ASan). */
FIBER_INLINE void fiber_switch(sim_fiber *from, sim_fiber *to, int use_ucontext)
{
#if FIBER_ASAN
    __sanitizer_start_switch_fiber(&from->asan_fake, to->stack_lo, to->stack_size);
#endif
#if FIBER_HAVE_ASM
    if (!pick_uc(use_ucontext))
        sim_fiber_asm_switch(&from->sp, to->sp);
    else
#else
    (void)use_ucontext;
#endif
        sim_fiber_uc_switch(from, to);
#if FIBER_ASAN
    /* Back on `from`: whoever switched here named our stack; restore our
     * fake stack. A NULL asan_fake then means "nothing held while away". */
    __sanitizer_finish_switch_fiber(from->asan_fake, NULL, NULL);
    from->asan_fake = NULL;
#endif
}

FIBER_INLINE void fiber_switch_final(sim_fiber *from, sim_fiber *to, int use_ucontext)
{
#if FIBER_ASAN
    /* NULL: `from` is never resumed, so ASan may free its fake stack. */
    __sanitizer_start_switch_fiber(NULL, to->stack_lo, to->stack_size);
#endif
#if FIBER_HAVE_ASM
    if (!pick_uc(use_ucontext))
        sim_fiber_asm_switch(&from->sp, to->sp);
    else
#else
    (void)use_ucontext;
#endif
        sim_fiber_uc_switch_final(to);
    (void)from;
    __builtin_trap(); /* someone resumed a fiber that had finished */
}

void sim_fiber_switch_impl(sim_fiber *from, sim_fiber *to, int use_ucontext)
{
    fiber_switch(from, to, use_ucontext);
}

void sim_fiber_switch_final_impl(sim_fiber *from, sim_fiber *to, int use_ucontext)
{
    fiber_switch_final(from, to, use_ucontext);
}

/* ---- fiber.h API: the configured implementation ------------------------- */

void sim_fiber_make(sim_fiber *f, const sim_stack *stack, sim_fiber_entry entry, void *arg)
{
    sim_fiber_make_impl(f, stack, entry, arg, FIBER_CONFIG_UC);
}

void sim_fiber_init_main(sim_fiber *f)
{
    sim_fiber_init_main_impl(f, FIBER_CONFIG_UC);
}

void sim_fiber_switch(sim_fiber *from, sim_fiber *to)
{
    fiber_switch(from, to, FIBER_CONFIG_UC);
}

void sim_fiber_switch_final(sim_fiber *from, sim_fiber *to)
{
    fiber_switch_final(from, to, FIBER_CONFIG_UC);
}

void sim_fiber_destroy(sim_fiber *f)
{
#if FIBER_ASAN
    asan_drop_fake_stack(f);
#endif
    /* Either implementation: only the ucontext one allocates. */
    sim_fiber_uc_destroy(f);
    f->sp = NULL;
}
