/*
 * entry.S: the kernel stage's first instructions.
 *
 * The loader's trampoline jumps here with the boot-info contract of
 * include/mmboot/bootinfo.h: EAX = BOOTINFO_ENTRY_MAGIC, EBX = boot-info
 * virtual address, ECX = its physical address, ESP = top of the kernel
 * stack the loader mapped (guard page below), paging on, interrupts off.
 * We keep that stack (an overflow hits the guard page and ends in the
 * double-fault task), clear the frame pointer so backtraces stop here,
 * clear EFLAGS (IF, DF, NT) and call
 *     kmain(uint32_t magic, uint32_t bi_va, uint32_t bi_pa)
 * which never returns. If ESP is 0 (a broken loader) there is no stack to
 * use: halt.
 */
	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	testl	%esp, %esp
	jz	2f
	xorl	%ebp, %ebp
	pushl	$0
	popfl
	pushl	%ecx
	pushl	%ebx
	pushl	%eax
	call	kmain
2:	cli
	hlt
	jmp	2b

	.section .note.GNU-stack,"",@progbits
