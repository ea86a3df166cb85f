/* fiber_x86_64.S - fiber context switch for x86-64 (System V ABI).
 *
 * Only what the ABI says a callee must preserve is saved: rbx, rbp, r12-r15,
 * the MXCSR control bits and the x87 control word. Everything else is
 * caller-saved, so the C caller of sim_fiber_asm_switch has already dealt
 * with it. The saved state lives on the suspended fiber's own stack; the
 * fiber object only keeps the stack pointer.
 *
 * Frame left on a suspended stack (lowest address first, 64 bytes):
 *   +0  MXCSR (4 bytes), x87 control word (2 bytes), 2 unused
 *   +8  r15   +16 r14   +24 r13   +32 r12   +40 rbx   +48 rbp
 *   +56 return address
 *
 *   void *sim_fiber_asm_prepare(void *stack_top, sim_fiber_entry entry, void *arg);
 *   void  sim_fiber_asm_switch(void **save_sp, void *load_sp);
 *
 * Assembles to nothing on other targets, so a build may list it
 * unconditionally.
 */

#if defined(__x86_64__)

#if defined(__APPLE__)
#  define SYM(name) _##name
#  define HIDDEN(name) .private_extern SYM(name)
#  define FUNC_TYPE(name)
#  define FUNC_SIZE(name)
#else
#  define SYM(name) name
#  define HIDDEN(name) .hidden SYM(name)
#  define FUNC_TYPE(name) .type SYM(name), @function
#  define FUNC_SIZE(name) .size SYM(name), .-SYM(name)
#endif

/* endbr64 is a NOP on CPUs without CET, so the exported entry points always
 * carry it: they are legal indirect-call targets under IBT either way. */
#define ENDBR .byte 0xf3, 0x0f, 0x1e, 0xfa

    .text

/* void *sim_fiber_asm_prepare(void *stack_top %rdi, sim_fiber_entry entry %rsi,
 *                             void *arg %rdx)
 * Builds the frame that sim_fiber_asm_switch pops when it first resumes the
 * fiber, and returns the stack pointer to store in sim_fiber.sp. The fiber
 * inherits the caller's FP control state, as a new thread would (C11 7.6). */
    .globl SYM(sim_fiber_asm_prepare)
    HIDDEN(sim_fiber_asm_prepare)
    FUNC_TYPE(sim_fiber_asm_prepare)
    .p2align 4
SYM(sim_fiber_asm_prepare):
    .cfi_startproc
    ENDBR
    andq    $-16, %rdi              /* the trampoline must start 16-aligned */
    leaq    -64(%rdi), %rax
    movq    $0, (%rax)              /* defined bytes in the FP-control slot */
    stmxcsr (%rax)
    fnstcw  4(%rax)
    movq    $0, 8(%rax)             /* r15 */
    movq    $0, 16(%rax)            /* r14 */
    movq    %rdx, 24(%rax)          /* r13: arg for the trampoline */
    movq    %rsi, 32(%rax)          /* r12: entry for the trampoline */
    movq    $0, 40(%rax)            /* rbx */
    movq    $0, 48(%rax)            /* rbp: 0 ends frame-pointer walks */
    leaq    SYM(sim_fiber_asm_start)(%rip), %rcx
    movq    %rcx, 56(%rax)          /* the first "return" enters the trampoline */
    ret
    .cfi_endproc
    FUNC_SIZE(sim_fiber_asm_prepare)

/* void sim_fiber_asm_switch(void **save_sp %rdi, void *load_sp %rsi)
 * Pushes the callee-saved state, stores %rsp to *save_sp, switches to
 * load_sp and pops the state that was pushed there. On entry %rsp is 8 mod
 * 16; six pushes and the 8-byte control slot leave it 0 mod 16. */
    .globl SYM(sim_fiber_asm_switch)
    HIDDEN(sim_fiber_asm_switch)
    FUNC_TYPE(sim_fiber_asm_switch)
    .p2align 4
SYM(sim_fiber_asm_switch):
    .cfi_startproc
    ENDBR
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbp, 0
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbx, 0
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r12, 0
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r13, 0
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r14, 0
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r15, 0
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw  4(%rsp)

    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    /* From here on we are on the other stack; its frame has the same
     * layout, so the CFI above still describes it. */

    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq    %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r15
    popq    %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r14
    popq    %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r13
    popq    %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r12
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbx
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbp
    ret
    .cfi_endproc
    FUNC_SIZE(sim_fiber_asm_switch)

/* First code a new fiber runs, reached by the "ret" of sim_fiber_asm_switch
 * (never called, so no endbr64 is needed). %rsp is 16-aligned here, so the
 * call gives entry the ABI's entry alignment (8 mod 16). entry must not
 * return; if it does, trap rather than run off the top of the stack. */
    FUNC_TYPE(sim_fiber_asm_start)
    .p2align 4
SYM(sim_fiber_asm_start):
    .cfi_startproc
    .cfi_undefined %rip             /* outermost frame: unwinders stop here */
    movq    %r13, %rdi
    callq   *%r12
    ud2
    .cfi_endproc
    FUNC_SIZE(sim_fiber_asm_start)

#if defined(__ELF__) && defined(__CET__) && (__CET__ & 1)
/* Declare IBT compatibility (every indirect-branch target above starts with
 * endbr64) so this object does not switch IBT off for the whole link. Shadow
 * stacks are deliberately not claimed: a stack switch returns to addresses
 * that were never called from the current shadow stack. */
    .section .note.gnu.property, "a"
    .p2align 3
    .long   4                       /* name size */
    .long   16                      /* descriptor size */
    .long   5                       /* NT_GNU_PROPERTY_TYPE_0 */
    .asciz  "GNU"
    .long   0xc0000002              /* GNU_PROPERTY_X86_FEATURE_1_AND */
    .long   4
    .long   1                       /* GNU_PROPERTY_X86_FEATURE_1_IBT */
    .long   0                       /* pad to 8 bytes */
#endif

#endif /* __x86_64__ */

#if defined(__ELF__)
/* No executable stack needed (also keeps an empty object from asking for one). */
    .section .note.GNU-stack, "", %progbits
#endif
