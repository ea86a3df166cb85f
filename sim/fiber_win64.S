/* fiber_win64.S - fiber context switch for x86-64 Windows (Microsoft x64 ABI),
 * GNU assembler syntax (MinGW-w64; MSVC needs a MASM twin, not written yet).
 *
 * The Win64 ABI makes more registers callee-saved than System V: rbx, rbp,
 * rdi, rsi, r12-r15 and xmm6-xmm15, plus the MXCSR control bits and the x87
 * control word. A fiber also owns three fields of the thread information
 * block (TIB, at %gs): StackBase (gs:0x08), StackLimit (gs:0x10) and
 * DeallocationStack (gs:0x1478). The OS (and Wine) check stack addresses
 * against them when dispatching exceptions, probing stack pages and handling
 * stack faults, so they must describe whichever stack is running; they are
 * saved and restored with the registers.
 *
 * Frame left on a suspended stack (lowest address first, 272 bytes; a new
 * fiber's frame sits 16 bytes below its stack top):
 *   +0    MXCSR (4 bytes), x87 control word (2 bytes), 10 unused
 *   +16   xmm6 ... +160 xmm15        (16-byte aligned: movaps)
 *   +176  StackBase   +184 StackLimit   +192 DeallocationStack
 *   +200  r15  +208 r14  +216 r13  +224 r12  +232 rsi  +240 rdi  +248 rbx  +256 rbp
 *   +264  return address
 *
 *   void *sim_fiber_win64_prepare(void *stack_top, sim_fiber_entry entry, void *arg,
 *                                 void *stack_limit, void *dealloc_base);
 *   void  sim_fiber_asm_switch(void **save_sp, void *load_sp);
 *
 * Assembles to nothing on other targets, so a build may list it unconditionally.
 */

#if defined(__x86_64__) && defined(_WIN32)

#define FRAME 264 /* the frame above, without the return address */

    .text

/* void *sim_fiber_win64_prepare(void *stack_top %rcx, sim_fiber_entry entry %rdx,
 *                               void *arg %r8, void *stack_limit %r9,
 *                               void *dealloc_base 40(%rsp))
 * Builds the frame that sim_fiber_asm_switch pops when it first resumes the
 * fiber; returns the stack pointer to store in sim_fiber.sp. The fiber gets
 * the caller's FP control state and zeroed xmm6-xmm15. */
    .globl  sim_fiber_win64_prepare
    .def    sim_fiber_win64_prepare; .scl 2; .type 32; .endef
    .p2align 4
sim_fiber_win64_prepare:
    andq    $-16, %rcx
    movq    $0, -8(%rcx)
    movq    $0, -16(%rcx)           /* the trampoline's zero "return address" */
    leaq    -(FRAME + 8 + 16)(%rcx), %rax
    movq    $0, (%rax)
    movq    $0, 8(%rax)
    stmxcsr (%rax)
    fnstcw  4(%rax)
    pxor    %xmm0, %xmm0            /* xmm0 is volatile: free to use */
    movaps  %xmm0, 16(%rax)
    movaps  %xmm0, 32(%rax)
    movaps  %xmm0, 48(%rax)
    movaps  %xmm0, 64(%rax)
    movaps  %xmm0, 80(%rax)
    movaps  %xmm0, 96(%rax)
    movaps  %xmm0, 112(%rax)
    movaps  %xmm0, 128(%rax)
    movaps  %xmm0, 144(%rax)
    movaps  %xmm0, 160(%rax)
    movq    %rcx, 176(%rax)         /* StackBase: the top of the fiber's stack */
    movq    %r9, 184(%rax)          /* StackLimit: its lowest usable byte */
    movq    40(%rsp), %r10
    movq    %r10, 192(%rax)         /* DeallocationStack: the allocation, guard included */
    movq    $0, 200(%rax)           /* r15 */
    movq    $0, 208(%rax)           /* r14 */
    movq    %r8, 216(%rax)          /* r13: arg for the trampoline */
    movq    %rdx, 224(%rax)         /* r12: entry for the trampoline */
    movq    $0, 232(%rax)           /* rsi */
    movq    $0, 240(%rax)           /* rdi */
    movq    $0, 248(%rax)           /* rbx */
    movq    $0, 256(%rax)           /* rbp */
    leaq    sim_fiber_win64_start(%rip), %r10
    movq    %r10, 264(%rax)         /* the first "return" enters the trampoline */
    ret

/* void sim_fiber_asm_switch(void **save_sp %rcx, void *load_sp %rdx)
 * On entry %rsp is 8 mod 16; minus FRAME (264) it is 0 mod 16, so the xmm
 * slots are aligned on both stacks. */
    .globl  sim_fiber_asm_switch
    .def    sim_fiber_asm_switch; .scl 2; .type 32; .endef
    .p2align 4
sim_fiber_asm_switch:
    subq    $FRAME, %rsp
    movq    %rbp, 256(%rsp)
    movq    %rbx, 248(%rsp)
    movq    %rdi, 240(%rsp)
    movq    %rsi, 232(%rsp)
    movq    %r12, 224(%rsp)
    movq    %r13, 216(%rsp)
    movq    %r14, 208(%rsp)
    movq    %r15, 200(%rsp)
    movq    %gs:0x1478, %rax
    movq    %rax, 192(%rsp)
    movq    %gs:0x10, %rax
    movq    %rax, 184(%rsp)
    movq    %gs:0x08, %rax
    movq    %rax, 176(%rsp)
    movaps  %xmm6, 16(%rsp)
    movaps  %xmm7, 32(%rsp)
    movaps  %xmm8, 48(%rsp)
    movaps  %xmm9, 64(%rsp)
    movaps  %xmm10, 80(%rsp)
    movaps  %xmm11, 96(%rsp)
    movaps  %xmm12, 112(%rsp)
    movaps  %xmm13, 128(%rsp)
    movaps  %xmm14, 144(%rsp)
    movaps  %xmm15, 160(%rsp)
    stmxcsr (%rsp)
    fnstcw  4(%rsp)

    movq    %rsp, (%rcx)
    movq    %rdx, %rsp
    /* From here on we are on the other stack, with the same frame layout. */

    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    movaps  16(%rsp), %xmm6
    movaps  32(%rsp), %xmm7
    movaps  48(%rsp), %xmm8
    movaps  64(%rsp), %xmm9
    movaps  80(%rsp), %xmm10
    movaps  96(%rsp), %xmm11
    movaps  112(%rsp), %xmm12
    movaps  128(%rsp), %xmm13
    movaps  144(%rsp), %xmm14
    movaps  160(%rsp), %xmm15
    movq    176(%rsp), %rax
    movq    %rax, %gs:0x08
    movq    184(%rsp), %rax
    movq    %rax, %gs:0x10
    movq    192(%rsp), %rax
    movq    %rax, %gs:0x1478
    movq    200(%rsp), %r15
    movq    208(%rsp), %r14
    movq    216(%rsp), %r13
    movq    224(%rsp), %r12
    movq    232(%rsp), %rsi
    movq    240(%rsp), %rdi
    movq    248(%rsp), %rbx
    movq    256(%rsp), %rbp
    addq    $FRAME, %rsp
    ret

/* First code a new fiber runs, reached by the "ret" of sim_fiber_asm_switch
 * with %rsp = top - 16 (16-aligned), pointing at a zero that prepare stored.
 * The unwind info says "48 bytes allocated", so an unwinder reads that zero
 * as the return address and stops here. The lowest 32 bytes of the
 * allocation are the shadow space the ABI gives every callee, and the call
 * site is 16-aligned, so entry starts at 8 mod 16 as the ABI wants. entry
 * must not return; if it does, trap rather than run off the stack top. */
    .def    sim_fiber_win64_start; .scl 3; .type 32; .endef
    .p2align 4
    .seh_proc sim_fiber_win64_start
sim_fiber_win64_start:
    subq    $48, %rsp
    .seh_stackalloc 48
    .seh_endprologue
    movq    %r13, %rcx
    callq   *%r12
    ud2
    .seh_endproc

#endif /* __x86_64__ && _WIN32 */
