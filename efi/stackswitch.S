/*
 * stackswitch.S: run a function on another stack (efi/loader.h).
 *
 *   uint64_t efi_call_on_stack(void *top, uint64_t (*fn)(void *, void *),
 *                              void *a, void *b);
 *
 * The loader calls handoff_exit_and_jump on a stack of its own (EfiLoaderData,
 * allocated before ExitBootServices), so that after the exit nothing it still
 * uses lies in boot-services memory except the firmware's page tables, GDT
 * and IDT, which it reserves in the PMM (efi/transient.c). SysV ABI (gnu-efi
 * calls efi_main with it): rdi = top (16-byte aligned), rsi = fn, rdx = a,
 * rcx = b. If fn returns (a failure before or at ExitBootServices), the old
 * stack is restored and its result returned.
 */
	.text
	.globl efi_call_on_stack
	.type efi_call_on_stack, @function
efi_call_on_stack:
	pushq	%rbp
	movq	%rsp, %rbp
	movq	%rdi, %rsp          /* the new stack: top, 16-byte aligned */
	movq	%rsi, %rax
	movq	%rdx, %rdi
	movq	%rcx, %rsi
	callq	*%rax
	movq	%rbp, %rsp          /* back on the caller's stack */
	popq	%rbp
	retq
	.size efi_call_on_stack, . - efi_call_on_stack
	.section .note.GNU-stack,"",@progbits
