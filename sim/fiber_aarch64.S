/* fiber_aarch64.S - fiber context switch for AArch64 (AAPCS64).
 *
 * Only what the procedure call standard says a callee must preserve is
 * saved: x19-x28, the frame pointer x29, the link register x30 (our return
 * address) and the low halves d8-d15 of v8-v15. FPCR is not switched: all
 * fibers of a thread share its rounding mode. The saved state lives on the
 * suspended fiber's own stack; the fiber object only keeps sp.
 *
 * Frame left on a suspended stack (lowest address first, 160 bytes):
 *   +0 x19 x20  +16 x21 x22  +32 x23 x24  +48 x25 x26  +64 x27 x28
 *   +80 x29 x30  +96 d8 d9  +112 d10 d11  +128 d12 d13  +144 d14 d15
 *
 *   void *sim_fiber_asm_prepare(void *stack_top, sim_fiber_entry entry, void *arg);
 *   void  sim_fiber_asm_switch(void **save_sp, void *load_sp);
 *
 * Assembles to nothing on other targets, so a build may list it
 * unconditionally.
 */

#if defined(__aarch64__)

#if defined(__APPLE__)
#  define SYM(name) _##name
#  define HIDDEN(name) .private_extern SYM(name)
#  define FUNC_TYPE(name)
#  define FUNC_SIZE(name)
#else
#  define SYM(name) name
#  define HIDDEN(name) .hidden SYM(name)
#  define FUNC_TYPE(name) .type SYM(name), %function
#  define FUNC_SIZE(name) .size SYM(name), .-SYM(name)
#endif

/* "bti c" is in the hint space: a NOP on cores without BTI, and it lets the
 * exported entry points be called through a pointer when BTI is enforced. */
#define BTI_C hint #34

#define FRAME 160

    .text

/* void *sim_fiber_asm_prepare(void *stack_top x0, sim_fiber_entry entry x1,
 *                             void *arg x2)
 * Builds the frame that sim_fiber_asm_switch pops when it first resumes the
 * fiber, and returns the stack pointer to store in sim_fiber.sp. */
    .globl SYM(sim_fiber_asm_prepare)
    HIDDEN(sim_fiber_asm_prepare)
    FUNC_TYPE(sim_fiber_asm_prepare)
    .p2align 4
SYM(sim_fiber_asm_prepare):
    .cfi_startproc
    BTI_C
    and     x0, x0, #-16            /* sp must always be 16-aligned */
    sub     x0, x0, #FRAME
    stp     x1, x2, [x0, #0]        /* x19 = entry, x20 = arg, for the trampoline */
    stp     xzr, xzr, [x0, #16]
    stp     xzr, xzr, [x0, #32]
    stp     xzr, xzr, [x0, #48]
    stp     xzr, xzr, [x0, #64]
    adr     x9, SYM(sim_fiber_asm_start)
    stp     xzr, x9, [x0, #80]      /* x29 = 0 ends frame walks; x30 = trampoline */
    stp     xzr, xzr, [x0, #96]
    stp     xzr, xzr, [x0, #112]
    stp     xzr, xzr, [x0, #128]
    stp     xzr, xzr, [x0, #144]
    ret
    .cfi_endproc
    FUNC_SIZE(sim_fiber_asm_prepare)

/* void sim_fiber_asm_switch(void **save_sp x0, void *load_sp x1) */
    .globl SYM(sim_fiber_asm_switch)
    HIDDEN(sim_fiber_asm_switch)
    FUNC_TYPE(sim_fiber_asm_switch)
    .p2align 4
SYM(sim_fiber_asm_switch):
    .cfi_startproc
    BTI_C
    sub     sp, sp, #FRAME
    .cfi_def_cfa_offset FRAME
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    .cfi_offset x29, -80
    .cfi_offset x30, -72
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]

    mov     x9, sp
    str     x9, [x0]
    mov     sp, x1
    /* From here on we are on the other stack; its frame has the same
     * layout, so the CFI above still describes it. */

    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #FRAME
    .cfi_def_cfa_offset 0
    .cfi_restore x29
    .cfi_restore x30
    ret
    .cfi_endproc
    FUNC_SIZE(sim_fiber_asm_switch)

/* First code a new fiber runs, reached by the "ret" of sim_fiber_asm_switch
 * (RET is not a BTI-checked branch, so no landing pad is needed). sp is the
 * 16-aligned stack top. entry must not return; if it does, trap (same
 * immediate as __builtin_trap) rather than return into nothing. */
    FUNC_TYPE(sim_fiber_asm_start)
    .p2align 4
SYM(sim_fiber_asm_start):
    .cfi_startproc
    .cfi_undefined x30              /* outermost frame: unwinders stop here */
    mov     x0, x20
    blr     x19
    brk     #0x3e8
    .cfi_endproc
    FUNC_SIZE(sim_fiber_asm_start)

#if defined(__ELF__) && defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
/* Declare BTI compatibility so this object does not switch BTI off for the
 * whole link. */
    .section .note.gnu.property, "a"
    .p2align 3
    .long   4                       /* name size */
    .long   16                      /* descriptor size */
    .long   5                       /* NT_GNU_PROPERTY_TYPE_0 */
    .asciz  "GNU"
    .long   0xc0000000              /* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
    .long   4
    .long   1                       /* GNU_PROPERTY_AARCH64_FEATURE_1_BTI */
    .long   0                       /* pad to 8 bytes */
#endif

#endif /* __aarch64__ */

#if defined(__ELF__)
/* No executable stack needed (also keeps an empty object from asking for one). */
    .section .note.GNU-stack, "", %progbits
#endif
